import t from "tap";
import { withObservedStatus } from "../../../runtime/reconcile/instance-state";
import { instance } from "./fixtures";

t.test("withObservedStatus: a copy only when the state or the status changed", async (t) => {
  const status = { state: "running" as const, containerId: "c1", startedAt: "2026-01-01T00:00:00.000Z", restartCount: 0 };
  const running = instance("i1", "web", "h1", 1, { state: "active", status });
  t.equal(withObservedStatus(running, { ...status }), undefined, "the same status again: nothing to write");
  t.equal(withObservedStatus(running, { restartCount: 0, startedAt: status.startedAt, containerId: "c1", state: "running" }), undefined, "the same status in another key order: nothing to write");
  t.equal(withObservedStatus(running, { ...status, error: undefined }), undefined, "a field holding undefined counts as absent (as in JSON)");
  const restarted = withObservedStatus(running, { ...status, restartCount: 1 });
  t.match(restarted, { state: "active", status: { restartCount: 1 } }, "a restart is recorded");
  t.not(restarted, running, "as a copy");
  t.equal(running.status!.restartCount, 0, "the record read is left as it was");
  t.match(withObservedStatus(running, { state: "exited", exitCode: 1, restartCount: 0 }), { state: "stopped", status: { state: "exited", exitCode: 1 } });
  const unreported = instance("i2", "web", "h1", 2, { state: "activating" });
  t.equal(withObservedStatus(unreported, undefined), undefined, "still unreported: nothing to write");
  const gone = withObservedStatus(running, undefined)!;
  t.equal(gone.state, "activating");
  t.notOk("status" in gone, "a status no longer reported goes");
});
