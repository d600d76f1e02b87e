import type { StackRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, pick, resource } from "./resource";

/** The fields a stack shows (an allow-list: a field added to the record later stays internal until listed here). */
const FIELDS = ["envId", "name", "description", "state", "createdAt", "rev"] as const;

export function presentStack(stack: StackRecord, urls: Urls): ResourceJson {
  return resource("stack", { id: stack.id, ...pick(stack, FIELDS), stackWideDiscovery: stack.stackWideDiscovery === true }, {
    self: urls.env(stack.envId, "stacks", stack.id),
    environment: urls.env(stack.envId),
    services: urls.to(["environments", stack.envId, "services"], { stackId: stack.id }),
    instances: urls.to(["environments", stack.envId, "instances"], { stackId: stack.id }),
  }, {});
}
