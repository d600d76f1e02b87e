/**
 * The I/O side of waiting for a Service: read the service, its instances and (when needed)
 * the environment's hosts from the API, and let service-status.ts judge them.
 */
import { callApi, describeFailure } from "./client";
import { judgeService, type Expectation } from "./service-status";
import type { Connection } from "./settings";
import type { Probe } from "./wait";

export interface ServiceView {
  svc: any;
  instances: any[];
}

const envPath = (envId: string) => `/v1/environments/${encodeURIComponent(envId)}`;

/** The service and its instances; undefined when the service does not exist. */
export async function fetchServiceView(conn: Connection, envId: string, id: string): Promise<ServiceView | undefined> {
  const base = envPath(envId);
  const [svcReply, instReply] = await Promise.all([
    callApi(conn, "GET", `${base}/services/${encodeURIComponent(id)}`),
    callApi(conn, "GET", `${base}/instances?serviceId=${encodeURIComponent(id)}&limit=1000`),
  ]);
  if (svcReply.status === 404) return undefined;
  if (svcReply.status !== 200) throw new Error(describeFailure("GET", `${conn.endpoint}${base}/services/${id}`, svcReply));
  if (instReply.status !== 200) throw new Error(describeFailure("GET", `${conn.endpoint}${base}/instances`, instReply));
  return { svc: svcReply.body, instances: instReply.body.data as any[] };
}

/** Host id → name for the environment's hosts (for outputs that name hosts). */
export async function hostNames(conn: Connection, envId: string): Promise<Record<string, string>> {
  const path = `${envPath(envId)}/hosts?limit=1000`;
  const reply = await callApi(conn, "GET", path);
  if (reply.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, reply));
  return Object.fromEntries((reply.body.data as any[]).map((h) => [h.id, h.name]));
}

async function hasActiveHost(conn: Connection, envId: string): Promise<boolean> {
  const path = `${envPath(envId)}/hosts?state=active&deactivated=false&limit=1`;
  const reply = await callApi(conn, "GET", path);
  if (reply.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, reply));
  return (reply.body.data as any[]).length > 0;
}

/** One look at the service: done (with the view), pending (with what is missing), or failed (with why). */
export async function probeService(conn: Connection, envId: string, id: string, expect: Expectation): Promise<Probe<ServiceView>> {
  const view = await fetchServiceView(conn, envId, id);
  if (!view) return { done: false, pending: "", failure: `service ${id} no longer exists` };
  // Only a stuck service needs the hosts: none active may mean they are still registering.
  const active = view.svc.transitioning === "error" ? await hasActiveHost(conn, envId) : true;
  const verdict = judgeService(view.svc, view.instances, expect, active);
  return { done: verdict.done, pending: verdict.pending, failure: verdict.failure, value: view };
}
