import t from "tap";
import { resolveServerConfig } from "../../../runtime/server/config";

// --heartbeats-per-second: how many beats an environment's hosts send together before each
// beats less often (runtime/protocol/heartbeat-cadence.ts).
t.test("the heartbeat budget: 1,000 a second by default, from the flag or DROVER_HEARTBEATS_PER_SECOND, a whole number", async (t) => {
  t.equal(resolveServerConfig({}, {}).heartbeatsPerSecond, 1000, "default");
  t.equal(resolveServerConfig({ "heartbeats-per-second": "250" }, {}).heartbeatsPerSecond, 250, "flag");
  t.equal(resolveServerConfig({}, { DROVER_HEARTBEATS_PER_SECOND: "5000" }).heartbeatsPerSecond, 5000, "environment");
  t.equal(resolveServerConfig({ "heartbeats-per-second": "10" }, { DROVER_HEARTBEATS_PER_SECOND: "20" }).heartbeatsPerSecond, 10, "the flag wins");
  for (const bad of ["0", "-5", "1.5", "many", ""]) {
    t.throws(() => resolveServerConfig({ "heartbeats-per-second": bad }, {}), /--heartbeats-per-second: expected a whole number of beats per second \(1 or more\), got/, JSON.stringify(bad));
  }
});
