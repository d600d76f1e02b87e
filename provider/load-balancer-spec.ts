/**
 * A LoadBalancer's inputs as the API sees them: the create body, the server's own
 * validation run locally (with stand-in references: whether the stack and target services
 * exist is the server's to say), and the normalized spec used to spot drift.
 */
import type { LoadBalancerSpec, ServiceSpec } from "../runtime/protocol/model";
import { validateLoadBalancerCreate } from "../runtime/protocol/validate/load-balancer";
import { bodyOf } from "./check";

export const LB_SPEC_FIELDS = ["portRules", "certificateIds", "defaultCertificateId", "scale", "global", "labels", "scheduling"] as const;
export const LB_BODY_FIELDS = ["stackId", "name", ...LB_SPEC_FIELDS] as const;

export function loadBalancerBody(inputs: Record<string, any>): Record<string, unknown> {
  return bodyOf(inputs, LB_BODY_FIELDS);
}

/** Throws the API's DroverError when the inputs are invalid; the normalized spec otherwise. */
export function normalizeLoadBalancerInputs(inputs: Record<string, any>): LoadBalancerSpec {
  const body = loadBalancerBody(inputs);
  const stackId = typeof body.stackId === "string" ? body.stackId : "stack";
  const rules = Array.isArray(body.portRules) ? body.portRules : [];
  const targets = rules.map((r: any) => r?.targetServiceId).filter((id: unknown): id is string => typeof id === "string");
  const refs = {
    stacks: [{ id: stackId, envId: "", name: "stack", state: "active" as const, createdAt: "", rev: 0 }],
    services: targets.map((id: string) => ({
      id, envId: "", stackId: "", name: "", spec: {} as ServiceSpec, specVersion: 0, state: "active" as const,
      transitioning: "no" as const, createdAt: "", rev: 0,
    })),
  };
  return validateLoadBalancerCreate(body, refs).spec;
}
