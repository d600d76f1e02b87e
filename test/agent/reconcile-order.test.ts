import t from "tap";
import type { ManagedContainer } from "../../agent/plan";
import { inspectionOrder } from "../../agent/reconcile";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { DesiredInstance } from "../../runtime/protocol/model";

// The order of a reconcile's steps: inspects for the report side by side.

t.test("inspectionOrder: one entry per desired instance, its desired-named container first", async (t) => {
  const c = (id: string, name: string, instanceId?: string): ManagedContainer =>
    ({ id, name, state: "running", labels: instanceId ? { [containerLabels.instance]: instanceId } : {} });
  const desired = { instances: [{ id: "a", name: "stk-web-1" }, { id: "b", name: "stk-web-2" }] as DesiredInstance[] };
  const order = inspectionOrder(desired, [
    c("c1", "old-name", "a"), c("c2", "stk-web-1", "a"), c("c3", "stk-web-2", "b"),
    c("c4", "stk-gone-1", "gone"), c("c5", "unlabelled"),
  ]);
  t.same(order, [{ instanceId: "a", containerIds: ["c2", "c1"] }, { instanceId: "b", containerIds: ["c3"] }]);
  t.same(inspectionOrder(desired, []), [], "nothing listed, nothing to inspect");
});

