import type { TunnelStatus } from "../../runtime/protocol/model";
import { peerOfConn } from "./ipsec-config";
import type { ViciMessage } from "./vici/wire";

/**
 * Tunnel state per peer from charon's `list-sas` events, pure. A peer is `up` when one of
 * its IKE SAs is ESTABLISHED with an INSTALLED child SA, `connecting` while one is being
 * negotiated (or established without a child yet), `down` otherwise. Several SAs per peer are
 * normal: both ends initiate, and a rekey briefly overlaps the old SA with the new.
 */
export type TunnelState = TunnelStatus["state"];

export function tunnelStates(listSaEvents: ViciMessage[]): Map<string, TunnelState> {
  const out = new Map<string, TunnelState>();
  for (const event of listSaEvents) {
    for (const [name, value] of Object.entries(event)) {
      const peer = peerOfConn(name);
      if (!peer || typeof value !== "object" || Array.isArray(value)) continue;
      const state = saState(value);
      out.set(peer, better(out.get(peer), state));
    }
  }
  return out;
}

function saState(sa: ViciMessage): TunnelState {
  const ike = sa.state;
  if (ike === "ESTABLISHED") {
    const children = sa["child-sas"];
    if (children && typeof children === "object" && !Array.isArray(children)) {
      for (const child of Object.values(children)) {
        if (typeof child === "object" && !Array.isArray(child) && child.state === "INSTALLED") return "up";
      }
    }
    return "connecting";
  }
  if (ike === "CONNECTING" || ike === "CREATED" || ike === "REKEYING" || ike === "REKEYED" || ike === "PASSIVE") return "connecting";
  return "down";
}

const rank: Record<TunnelState, number> = { down: 0, connecting: 1, up: 2 };

function better(a: TunnelState | undefined, b: TunnelState): TunnelState {
  return a === undefined || rank[b] > rank[a] ? b : a;
}

/**
 * The reported tunnels: one per expected peer, `since` kept while the state stays the same.
 * `error` explains a down tunnel when the cause is known (charon not running).
 */
export function nextTunnels(
  peers: string[], seen: Map<string, TunnelState>, previous: Record<string, TunnelStatus>, now: Date, downReason?: string,
): Record<string, TunnelStatus> {
  const out: Record<string, TunnelStatus> = {};
  for (const peer of [...peers].sort()) {
    const state = seen.get(peer) ?? "down";
    const error = state === "down" ? downReason : undefined;
    const prev = previous[peer];
    const since = prev && prev.state === state ? prev.since : now.toISOString();
    out[peer] = { state, since, ...(error ? { error } : {}) };
  }
  return out;
}
