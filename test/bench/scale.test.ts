import t from "tap";
import { runScale } from "../../bench/support/scale-run";

// The scale benchmark at CI size (bench/scale.bench.ts runs it at 5,000 agents / 100,000
// instances): 500 simulated agents on the real protocol, each its own ACL user registered
// through the API, 4 environments led by 3 server processes on one Redis, 10,000 instances
// placed at once. Asserts correctness only (figures come from the bench): every instance
// placed exactly once, each held by exactly one agent, every environment led.
t.test("500 agents, 10,000 instances, 3 servers: every instance placed once", async (t) => {
  const r = await runScale({
    agents: 500, instances: 10_000, environments: 4, servicesPerEnvironment: 5, servers: 3, fleets: 2,
    redis: "single", timeoutMs: 90_000, log: (line) => t.comment(line),
  });
  t.equal(r.records, 10_000, "10,000 instance records");
  t.equal(r.distinctIds, 10_000, "no id twice");
  t.equal(r.distinctSlots, 10_000, "no service slot (index) twice");
  t.ok(r.perServiceOk, "every service holds exactly its scale");
  t.equal(r.agentHeld, 10_000, "the agents' desired documents name 10,000 instances");
  t.equal(r.agentDuplicates, 0, "none on two hosts");
  t.equal(r.agentErrors, 0, "the agents saw no error");
  t.same(r.envsPerServer, [2, 1, 1], "every server leads its environments");
  t.comment(`placements/s ${Math.round(r.placementsPerSec)} (floor ${Math.round(r.floorPlacementsPerSec)}), converged ${Math.round(r.convergedMs)} ms, peak RSS ${r.serverPeakRssMb.map(Math.round).join(" ")} MB`);
});
