import type { StackRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, resource } from "./resource";

export function presentStack(stack: StackRecord, urls: Urls): ResourceJson {
  return resource("stack", { ...stack, stackWideDiscovery: stack.stackWideDiscovery === true }, {
    self: urls.env(stack.envId, "stacks", stack.id),
    environment: urls.env(stack.envId),
    services: urls.to(["environments", stack.envId, "services"], { stackId: stack.id }),
    instances: urls.to(["environments", stack.envId, "instances"], { stackId: stack.id }),
  }, {});
}
