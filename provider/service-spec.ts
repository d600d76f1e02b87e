/**
 * A Service's inputs as the API sees them: the create body, the validation the server runs
 * (with stand-in references, because checking that the stack and linked services exist is
 * the server's job), and the normalized spec used to spot drift.
 */
import type { ServiceSpec } from "../runtime/protocol/model";
import { validateServiceCreate } from "../runtime/protocol/validate/service";
import { bodyOf } from "./check";

export const SPEC_FIELDS = [
  "image", "command", "entrypoint", "env", "secrets", "ports", "scale", "global", "links", "labels", "scheduling", "restartPolicy", "healthCheck", "upgradeStrategy",
  "volumes", "privileged", "capAdd", "capDrop", "tty", "stdinOpen", "dnsSearch", "sidekicks",
] as const;
export const BODY_FIELDS = ["stackId", "name", ...SPEC_FIELDS] as const;

export function serviceBody(inputs: Record<string, any>): Record<string, unknown> {
  return bodyOf(inputs, BODY_FIELDS);
}

/** Throws the API's DroverError when the inputs are invalid; the normalized spec otherwise. */
export function normalizeServiceInputs(inputs: Record<string, any>): ServiceSpec {
  const body = serviceBody(inputs);
  const stackId = typeof body.stackId === "string" ? body.stackId : "stack";
  const links = typeof body.links === "object" && body.links !== null ? Object.values(body.links) : [];
  const refs = {
    stacks: [{ id: stackId, envId: "", name: "stack", state: "active" as const, createdAt: "", rev: 0 }],
    services: links.filter((id): id is string => typeof id === "string").map((id) => ({
      id, envId: "", stackId: "", name: "", spec: {} as ServiceSpec, specVersion: 0, state: "active" as const,
      transitioning: "no" as const, createdAt: "", rev: 0,
    })),
  };
  return validateServiceCreate(body, refs).spec;
}
