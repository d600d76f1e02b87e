/**
 * The provider's side of `drover:caFingerprint`: the server's CA fetched once per provider
 * process and endpoint, checked against the pin (runtime/protocol/pinned-https.ts), and an
 * https agent that trusts that CA alone and keeps connections alive. Loaded only when a pin
 * is set, so plain-HTTP providers pay nothing for TLS.
 */
import * as https from "https";
import { fetchPinnedCa } from "../runtime/protocol/pinned-https";
import type { Connection } from "./settings";

const agents = new Map<string, Promise<https.Agent>>();

/** An https agent trusting only the CA whose fingerprint `conn.caFingerprint` is; rejects naming both fingerprints otherwise. */
export function pinnedAgent(conn: Connection & { caFingerprint: string }, timeoutMs: number): Promise<https.Agent> {
  const id = `${conn.endpoint} ${conn.caFingerprint}`;
  let agent = agents.get(id);
  if (!agent) {
    agent = fetchPinnedCa(conn.endpoint, conn.caFingerprint, { timeoutMs })
      .then((ca) => new https.Agent({ ca, keepAlive: true, minVersion: "TLSv1.2" }));
    agents.set(id, agent);
    // A failed fetch is not remembered: the next call tries again (the server may have been down).
    agent.catch(() => agents.delete(id));
  }
  return agent;
}
