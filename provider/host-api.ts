/**
 * The server side of a Host: find the record the agent registered, wait until it is active
 * with a subnet, and remove it (deactivate, DELETE, then wait until the agent has removed
 * its containers and the server has dropped the record).
 */
import { callApi, describeFailure } from "./client";
import type { Connection } from "./settings";
import { stepFailure } from "./drivers/step-error";
import { pollUntil, type Probe } from "./wait";

export const hostsPath = (envId: string, id?: string) =>
  `/v1/environments/${encodeURIComponent(envId)}/hosts${id === undefined ? "" : `/${encodeURIComponent(id)}`}`;

/** The live host record named `name`, if any (names are unique in an environment). */
export async function hostNamed(conn: Connection, envId: string, name: string): Promise<any | undefined> {
  const path = `${hostsPath(envId)}?name=${encodeURIComponent(name)}&limit=1000`;
  const reply = await callApi(conn, "GET", path);
  if (reply.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, reply));
  return (reply.body.data as any[]).find((h) => h.name === name && h.state !== "removed");
}

/** Polls until the host is active and has its subnet; on timeout the message says what was pending (and the agent's log). */
export async function waitHostActive(conn: Connection, envId: string, name: string, timeoutMs: number, logTail: () => Promise<string>): Promise<any> {
  let seen: any;
  const probe = async (): Promise<Probe<any>> => {
    const host = await hostNamed(conn, envId, name);
    seen = host;
    if (!host) return { done: false, pending: `host ${name} has not registered yet` };
    if (host.state === "removing") return { done: false, failed: true, pending: `host ${name} (${host.id}) is being removed` };
    if (host.state !== "active") return { done: false, pending: `host ${name} (${host.id}) registered but is ${host.state}` };
    if (!host.subnet) return { done: false, pending: `host ${name} (${host.id}) is active but has no subnet yet` };
    return { done: true, pending: "", value: host };
  };
  try {
    return await pollUntil(probe, { what: `host ${name} to become active`, timeoutMs });
  } catch (err: any) {
    const tail = seen ? "" : await logTail().catch((e: any) => `(could not read the agent log: ${e?.message ?? e})`);
    // An agent that never registered says why in its log: a refused token is the token's fault.
    const field = /registration refused/.test(tail) ? "registrationToken" : undefined;
    const wrapped: any = stepFailure("registration wait", `${err?.message ?? err}${tail ? `; last lines of the agent log: ${tail}` : ""}`, field);
    wrapped.host = seen;
    throw wrapped;
  }
}

/** Deactivates and deletes the host, then waits until the record is gone; a missing host is success. */
export async function removeHost(conn: Connection, envId: string, id: string, timeoutMs: number): Promise<void> {
  const path = hostsPath(envId, id);
  const current = await callApi(conn, "GET", path);
  if (current.status === 404) return;
  if (current.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, current));
  if (current.body.state !== "removing" && current.body.state !== "removed") {
    if (!current.body.deactivated) {
      const r = await callApi(conn, "POST", `${path}?action=deactivate`, {});
      if (r.status >= 300 && r.status !== 404) throw new Error(describeFailure("POST", `${conn.endpoint}${path}?action=deactivate`, r));
    }
    const del = await callApi(conn, "DELETE", path);
    if (del.status >= 300 && del.status !== 404) throw new Error(describeFailure("DELETE", conn.endpoint + path, del));
  }
  // A 404 above (removed meanwhile) is not taken on trust: delete returns once a read shows it gone.
  // The server sends the agent a teardown: it removes the host's containers, then the record goes.
  await pollUntil(async () => {
    const r = await callApi(conn, "GET", path);
    if (r.status === 404) return { done: true, pending: "" };
    if (r.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, r));
    return { done: false, pending: `host ${r.body.name} (${id}) is ${r.body.state}: its agent has not reported its containers removed yet` };
  }, { what: `host ${id} to be removed`, timeoutMs });
}
