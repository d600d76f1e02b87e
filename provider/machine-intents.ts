/**
 * Machine intents, the provider's side (the server's: runtime/store/machine-intents.ts).
 * A cloud Host's create records its intent (driver, tag, sealed credentials) with the server
 * before its first cloud call and clears it when the create ends, in success or in a failure
 * it cleaned up after. Only a killed create leaves one: Pulumi then has no resource to delete,
 * so the Environment's delete sweeps each remaining intent's machine by its tag.
 *
 * The credentials are sealed here with a key derived from the environment's API key (which
 * the provider holds and the server keeps only as a hash): the server stores an opaque value
 * and nothing in Redis, the API or the Pulumi state holds the token in the clear.
 */
import { hkdfSync } from "crypto";
import { seal, unseal, type DataKey } from "../runtime/protocol/seal";
import { callApi, describeFailure } from "./client";
import { doApi } from "./drivers/digitalocean/api";
import { sweepTag } from "./drivers/digitalocean/driver";
import type { MachineIntentSpec } from "./drivers/types";
import type { Connection } from "./settings";

/** Each driver's sweep of what carries a tag; a new cloud driver adds its own. */
const SWEEPERS: Record<string, (secret: Record<string, string>, tag: string) => Promise<string[]>> = {
  digitalocean: (secret, tag) => sweepTag(doApi(secret.token), tag),
};

function intentKey(apiKey: string, envId: string): DataKey {
  return { id: "mi1", key: Buffer.from(hkdfSync("sha256", Buffer.from(apiKey, "utf8"), Buffer.from(envId, "utf8"), "drover machine intent v1", 32)) };
}

const context = (envId: string, name: string) => `machineIntent/${envId}/${name}`;
const intentPath = (envId: string, name?: string) =>
  `/v1/environments/${encodeURIComponent(envId)}/machineintents${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;

export async function recordMachineIntent(conn: Connection, envId: string, apiKey: string, name: string, spec: MachineIntentSpec): Promise<void> {
  const sealed = seal(intentKey(apiKey, envId), context(envId, name), JSON.stringify(spec.secret));
  const reply = await callApi(conn, "PUT", intentPath(envId, name), { driver: spec.driver, tag: spec.tag, sealed });
  if (reply.status >= 300) throw new Error(describeFailure("PUT", conn.endpoint + intentPath(envId, name), reply));
}

export async function clearMachineIntent(conn: Connection, envId: string, name: string): Promise<void> {
  const reply = await callApi(conn, "DELETE", intentPath(envId, name));
  if (reply.status >= 300 && reply.status !== 404) throw new Error(describeFailure("DELETE", conn.endpoint + intentPath(envId, name), reply));
}

/**
 * Removes every machine a killed create left in the environment (found by its intent's tag),
 * then the intent; returns what it removed. An intent whose driver is unknown here stays.
 */
export async function sweepMachineIntents(conn: Connection, envId: string, apiKey: string): Promise<string[]> {
  const reply = await callApi(conn, "GET", intentPath(envId));
  if (reply.status === 404) return [];
  if (reply.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + intentPath(envId), reply));
  const removed: string[] = [];
  for (const intent of reply.body.data as Array<{ name: string; driver: string; tag: string; sealed: string }>) {
    const sweeper = SWEEPERS[intent.driver];
    if (!sweeper) continue;
    const secret = JSON.parse(unseal(intentKey(apiKey, envId), context(envId, intent.name), intent.sealed)) as Record<string, string>;
    for (const what of await sweeper(secret, intent.tag)) removed.push(`${intent.name}: ${what}`);
    await clearMachineIntent(conn, envId, intent.name);
  }
  return removed;
}
