import t from "tap";
import type { HostObservedState } from "../../../runtime/protocol/model";
import { observedFingerprint } from "../../../runtime/reconcile/observed-fingerprint";

// The digest the reconcile manager compares to skip a pass for a report that repeats the last.
const doc = (over: Partial<HostObservedState> = {}): HostObservedState => ({
  hostId: "h1", appliedGeneration: 3, reportedAt: "2026-12-01T00:00:00.000Z",
  instances: { i1: { state: "running", containerId: "c1", startedAt: "2026-12-01T00:00:00.000Z", restartCount: 0 } },
  ...over,
});

t.test("only the write time is left out", async (t) => {
  t.equal(observedFingerprint(doc()), observedFingerprint(doc({ reportedAt: "2026-12-02T10:00:00.000Z" })), "a new reportedAt: same digest");
  const reordered = doc({ instances: {} });
  reordered.instances = { i1: { restartCount: 0, startedAt: "2026-12-01T00:00:00.000Z", containerId: "c1", state: "running" } };
  t.equal(observedFingerprint(reordered), observedFingerprint(doc()), "key order does not matter");
  t.not(observedFingerprint(doc({ appliedGeneration: 4 })), observedFingerprint(doc()), "a generation applied");
  t.not(observedFingerprint(doc({ instances: { i1: { state: "exited", exitCode: 1, containerId: "c1", restartCount: 0 } } })), observedFingerprint(doc()), "an instance exited");
  t.not(observedFingerprint(doc({ health: { i1: { state: "failing", startedAt: "x", since: "y" } } })), observedFingerprint(doc()), "a health verdict");
  t.not(observedFingerprint(doc({ docker: { state: "down", since: "z" } })), observedFingerprint(doc()), "dockerd down");
  t.equal(observedFingerprint(undefined), "", "no document");
});
