import t from "tap";
import { afterOwnWrite, quietStateOf, stillQuiet } from "../../../runtime/reconcile/quiet";
import { env, host, input } from "./fixtures";

t.test("a quiet environment stays quiet only while nothing a pass reads changes", async (t) => {
  const snap = input({ hosts: [host("h1"), host("h2")] }).snapshot;
  const quiet = quietStateOf({ ...snap, rev: 7 }, { h1: 3000, h2: 3000 })!;
  t.ok(stillQuiet(quiet, 7, { h1: 1200, h2: 900 }), "same revision, same heartbeats present: skip");
  t.notOk(stillQuiet(quiet, 8, { h1: 1200, h2: 900 }), "a record changed");
  t.notOk(stillQuiet(quiet, 7, { h1: 1200, h2: undefined }), "a heartbeat vanished");
  t.notOk(stillQuiet(quiet, 7, { h1: 1200, h2: 900, h3: 100 }), "a host appeared");
  const counting = quietStateOf({ ...snap, hosts: [host("h1", {}, { state: "reconnecting" })] }, { h1: undefined })!;
  t.notOk(stillQuiet(counting, snap.rev, { h1: undefined }), "a reconnecting host changes with time alone");
  t.equal(quietStateOf({ ...snap, env: env("removing") }, {}), undefined, "an environment being torn down is never quiet");
});

t.test("the leader's own incremental write keeps a quiet environment quiet, another write does not", async (t) => {
  const snap = input({ hosts: [host("h1")] }).snapshot;
  const quiet = quietStateOf({ ...snap, rev: 7 }, { h1: 3000 })!;
  const after = afterOwnWrite(quiet, 8);
  t.ok(stillQuiet(after, 8, { h1: 2000 }), "its write moved the revision by one: still quiet");
  t.notOk(stillQuiet(afterOwnWrite(quiet, 9), 9, { h1: 2000 }), "another write came first: a pass");
  t.notOk(stillQuiet(after, 8, { h1: undefined }), "a heartbeat vanishing still counts");
});
