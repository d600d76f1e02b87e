/**
 * A LoadBalancer's inputs as the API sees them: the create body, the server's own
 * validation run locally (with stand-in references: whether the stack, the target services
 * and the certificates exist, and whether the source ports are free, is the server's to
 * say), and the normalized spec used to spot drift.
 */
import type { CertificateRecord, LoadBalancerSpec, ServiceSpec } from "../runtime/protocol/model";
import { validateLoadBalancerCreate } from "../runtime/protocol/validate/load-balancer";
import { bodyOf } from "./check";

export const LB_SPEC_FIELDS = [
  "portRules", "certificateIds", "defaultCertificateId", "scale", "global", "labels", "scheduling", "stickiness", "timeouts", "drainTimeoutMillis",
] as const;
/** The spec fields a refresh compares with the server's (scheduling lives in labels there). */
export const LB_DRIFT_FIELDS = ["portRules", "certificateIds", "defaultCertificateId", "scale", "global", "labels", "stickiness", "timeouts", "drainTimeoutMillis"] as const;
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
  const certIds = Array.isArray(body.certificateIds) ? body.certificateIds.filter((id: unknown): id is string => typeof id === "string") : [];
  const refs = {
    stacks: [{ id: stackId, envId: "", name: "stack", state: "active" as const, createdAt: "", rev: 0 }],
    certificates: certIds.map((id: string) => ({ id, state: "active" }) as CertificateRecord),
    services: targets.map((id: string) => ({
      id, envId: "", stackId: "", name: "", spec: {} as ServiceSpec, specVersion: 0, state: "active" as const,
      transitioning: "no" as const, createdAt: "", rev: 0,
    })),
  };
  return validateLoadBalancerCreate(body, refs).spec;
}
