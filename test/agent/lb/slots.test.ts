/** The pure membership planner: directory members into fixed server slots, as runtime API commands. */
import t from "tap";
import { membersOf } from "../../../agent/lb/membership";
import { freeSlots, planSlots, slotCountFor, SlotState } from "../../../agent/lb/slots";
import { directory, inst } from "./support/fixtures";

const be = { targets: [{ serviceId: "web", port: 8080 }] };
const slot = (name: string, addr: string, admin: SlotState["admin"], port = 8080): SlotState => ({ name, addr, port, admin });

t.test("slot counts: next power of two >= max(8, 2 x members)", async (t) => {
  t.same([0, 1, 4, 5, 8, 9, 16, 17, 33].map(slotCountFor), [8, 8, 8, 16, 16, 32, 32, 64, 128]);
});

t.test("directory to members: ready, drain, maint; other services and non-IPv4 addresses left out", async (t) => {
  const members = membersOf(be, directory([
    inst("a", "web", "10.42.1.2"),
    inst("b", "web", "10.42.1.3", { draining: true }),
    inst("c", "web", "10.42.1.4", { healthy: false }),
    inst("d", "web", "10.42.1.5", { running: false }),
    inst("e", "web", "10.42.1.6", { healthy: true }),
    inst("f", "other", "10.42.1.7"),
    inst("g", "web", "fe80::1"),
  ]));
  t.same(members.map((m) => [m.instanceId, m.want]), [["a", "ready"], ["b", "drain"], ["c", "maint"], ["d", "maint"], ["e", "ready"]]);
  t.same(membersOf(be, undefined), [], "no directory yet: no members");
});

t.test("new members fill free slots, lowest first", async (t) => {
  const plan = planSlots("be", freeSlots(4, 8080), [
    { instanceId: "a", addr: "10.0.0.1", port: 8080, want: "ready" },
    { instanceId: "b", addr: "10.0.0.2", port: 8081, want: "ready" },
  ]);
  t.same(plan.commands, [
    "set server be/s1 addr 10.0.0.1 port 8080", "set server be/s1 state ready",
    "set server be/s2 addr 10.0.0.2 port 8081", "set server be/s2 state ready",
  ]);
  t.same(plan.slots.map((s) => s.instanceId), ["a", "b", undefined, undefined]);
  t.same(plan.unplaced, []);
});

t.test("members keep their slots; leaving ones go to maint, draining ones to drain; nothing to do twice", async (t) => {
  const current = [slot("s1", "10.0.0.1", "ready"), slot("s2", "10.0.0.2", "ready"), slot("s3", "10.0.0.3", "ready"), slot("s4", "0.0.0.0", "maint")];
  const members = [
    { instanceId: "c", addr: "10.0.0.3", port: 8080, want: "drain" as const },
    { instanceId: "a", addr: "10.0.0.1", port: 8080, want: "ready" as const },
    { instanceId: "n", addr: "10.0.0.9", port: 8080, want: "ready" as const },
  ];
  const plan = planSlots("be", current, members);
  t.same(plan.commands, [
    "set server be/s3 state drain",
    "set server be/s4 addr 10.0.0.9 port 8080", "set server be/s4 state ready",
    "set server be/s2 state maint",
  ], "b left the directory: maint; n takes the never-used slot, not b's");
  t.same(plan.slots.map((s) => s.instanceId), ["a", undefined, "c", "n"]);
  t.same(planSlots("be", plan.slots, members).commands, [], "applying the plan's result again changes nothing");
});

t.test("an unhealthy member keeps its slot in maint and comes back to the same slot", async (t) => {
  const current = [slot("s1", "10.0.0.1", "ready"), slot("s2", "10.0.0.2", "ready")];
  const sick = planSlots("be", current, [{ instanceId: "a", addr: "10.0.0.1", port: 8080, want: "maint" }, { instanceId: "b", addr: "10.0.0.2", port: 8080, want: "ready" }]);
  t.same(sick.commands, ["set server be/s1 state maint"]);
  t.equal(sick.slots[0].instanceId, "a");
  const well = planSlots("be", sick.slots, [{ instanceId: "a", addr: "10.0.0.1", port: 8080, want: "ready" }, { instanceId: "b", addr: "10.0.0.2", port: 8080, want: "ready" }]);
  t.same(well.commands, ["set server be/s1 state ready"]);
});

t.test("a vacated slot is reused when no never-used one is left; members without one are reported", async (t) => {
  const current = [slot("s1", "10.0.0.1", "maint"), slot("s2", "10.0.0.2", "ready")];
  const plan = planSlots("be", current, [
    { instanceId: "b", addr: "10.0.0.2", port: 8080, want: "ready" },
    { instanceId: "x", addr: "10.0.0.7", port: 8080, want: "ready" },
    { instanceId: "y", addr: "10.0.0.8", port: 8080, want: "ready" },
    { instanceId: "z", addr: "10.0.0.9", port: 8080, want: "drain" },
  ]);
  t.same(plan.commands, ["set server be/s1 addr 10.0.0.7 port 8080", "set server be/s1 state ready"]);
  t.same(plan.unplaced.map((m) => m.instanceId), ["y"], "a draining member without a slot needs none");
});
