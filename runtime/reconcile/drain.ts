/**
 * How long an instance stopped on purpose keeps running after DNS and load balancers stop
 * sending it new work: long enough for a client that resolved it a moment ago to connect,
 * and for every load balancer in front of it to drain its connections (pure).
 */
import type { LoadBalancerRecord, ServiceRecord } from "../protocol/model";

/** drover's DNS answers live 1 s (agent/dns/server.ts): a client that cached one lets go within this. */
export const DNS_DRAIN_MS = 1_000;
/** LoadBalancerSpec.drainTimeoutMillis when not given. */
export const LB_DRAIN_DEFAULT_MS = 2_000;

export function drainMsFor(service: ServiceRecord, loadBalancers: LoadBalancerRecord[]): number {
  let ms = DNS_DRAIN_MS;
  for (const lb of loadBalancers) {
    if (lb.state !== "active" || !lb.spec.portRules.some((r) => r.targetServiceId === service.id)) continue;
    ms = Math.max(ms, lb.spec.drainTimeoutMillis ?? LB_DRAIN_DEFAULT_MS);
  }
  return ms;
}
