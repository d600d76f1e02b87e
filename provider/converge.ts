/**
 * When a Service has converged: the server says it is done (`transitioning: "no"`) and every
 * live instance is active and built from the current spec, as many as the scale asks for.
 * Otherwise a sentence on what is pending, with the scheduler's reasons.
 */
import { callApi, describeFailure, type ApiReply } from "./client";
import type { Connection } from "./settings";
import type { Probe } from "./wait";

export async function probeService(conn: Connection, envId: string, id: string): Promise<Probe<any>> {
  const base = `/v1/environments/${encodeURIComponent(envId)}`;
  const svcReply: ApiReply = await callApi(conn, "GET", `${base}/services/${encodeURIComponent(id)}`);
  if (svcReply.status === 404) return { done: false, failed: true, pending: `service ${id} no longer exists` };
  if (svcReply.status !== 200) throw new Error(describeFailure("GET", `${conn.endpoint}${base}/services/${id}`, svcReply));
  const svc = svcReply.body;
  if (svc.state === "removing" || svc.state === "removed") return { done: false, failed: true, pending: `service ${svc.name} is ${svc.state}` };
  const instReply = await callApi(conn, "GET", `${base}/instances?serviceId=${encodeURIComponent(id)}&limit=1000`);
  if (instReply.status !== 200) throw new Error(describeFailure("GET", `${conn.endpoint}${base}/instances`, instReply));
  const live = (instReply.body.data as any[]).filter((i) => i.state !== "removed" && i.state !== "removing");
  const current = live.filter((i) => i.specVersion === svc.specVersion && i.state === "active");
  const wanted = svc.spec.global ? undefined : svc.spec.scale;
  const countOk = wanted === undefined ? current.length === live.length : current.length === wanted && live.length === wanted;
  if (svc.transitioning === "no" && svc.state !== "inactive" && countOk) return { done: true, pending: "", value: svc };
  const byState: Record<string, number> = {};
  for (const i of live) byState[i.state] = (byState[i.state] ?? 0) + 1;
  const states = Object.entries(byState).map(([s, n]) => `${n} ${s}`).join(", ") || "none";
  const want = wanted === undefined ? "one per eligible host" : `${wanted}`;
  const why = svc.transitioningMessage ? `; ${svc.transitioningMessage}` : "";
  return { done: false, pending: `service ${svc.name}: ${current.length} of ${want} instances active and current (instances: ${states}), transitioning=${svc.transitioning}${why}` };
}
