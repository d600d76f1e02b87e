import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { nextTunnels, tunnelStates } from "../../../agent/network/tunnel-status";

// Tunnel state per peer from real list-sa events (captured from charon 5.9.8 over vici).
const fixture = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../../../../test/agent/network/fixtures/list-sas.json"), "utf8"));

t.test("established IKE SAs with installed children are up; several per peer collapse to one", async (t) => {
  t.ok(fixture.established.length > 1, "the capture holds duplicate SAs (both ends initiate)");
  t.same([...tunnelStates(fixture.established)], [["h2", "up"]]);
});

t.test("an IKE SA still being negotiated is connecting", async (t) => {
  t.same([...tunnelStates(fixture.connecting)], [["h3", "connecting"]]);
});

t.test("the best state of a peer wins; unknown connections are ignored", async (t) => {
  const states = tunnelStates([...fixture.connecting, ...fixture.established, { "someone-else": { state: "ESTABLISHED" } }]);
  t.same(Object.fromEntries(states), { h2: "up", h3: "connecting" });
  const noChild = JSON.parse(JSON.stringify(fixture.established[0]));
  noChild["peer-h2"]["child-sas"] = {};
  t.same(Object.fromEntries(tunnelStates([noChild])), { h2: "connecting" }, "IKE up without a child SA is not up yet");
  t.same(Object.fromEntries(tunnelStates([{ "peer-h4": { state: "DELETING" } }])), { h4: "down" });
});

t.test("every expected peer is reported; since is kept while the state holds", async (t) => {
  const t0 = new Date("2026-01-01T00:00:00Z"), t1 = new Date("2026-01-01T00:00:05Z");
  const first = nextTunnels(["h3", "h2"], new Map([["h2", "connecting"]]), {}, t0, "charon not running");
  t.same(first, { h2: { state: "connecting", since: t0.toISOString() }, h3: { state: "down", since: t0.toISOString(), error: "charon not running" } });
  const second = nextTunnels(["h2", "h3"], new Map([["h2", "up"], ["h3", "down"]]), first, t1);
  t.same(second, { h2: { state: "up", since: t1.toISOString() }, h3: { state: "down", since: t0.toISOString() } });
  t.same(Object.keys(nextTunnels(["h2"], new Map(), second, t1)), ["h2"], "a removed peer is no longer reported");
});
