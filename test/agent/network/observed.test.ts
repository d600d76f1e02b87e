import t from "tap";
import { buildObserved } from "../../../agent/observed";
import type { HostNetworkStatus } from "../../../runtime/protocol/model";

// The observed document carries the overlay status when the agent has one, and nothing otherwise.
const desired = { hostId: "h1", generation: 4, instances: [] };

t.test("network status goes into the observed document", async (t) => {
  const network: HostNetworkStatus = { ipsecMode: "libipsec", charon: "running", pskId: "psk-1", tunnels: { h2: { state: "up", since: "2026-01-01T00:00:00.000Z" } } };
  const o = buildObserved(desired, new Map(), new Map(), new Date(0), network);
  t.same(o.network, network);
  t.notOk("network" in buildObserved(desired, new Map(), new Map(), new Date(0)), "absent before the host had a network spec");
});
