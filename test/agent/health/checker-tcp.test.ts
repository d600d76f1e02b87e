import t from "tap";
import { tcpListener, closedPort } from "./support/listeners";
import { fastCheck, statesOf, target, watchedChecker } from "./support/checker";
import { waitFor } from "../../support/wait";

// TCP checks against a real listener on 127.0.0.21 that the test opens and closes.
const HOST = "127.0.0.21";

t.test("a TCP listener makes the verdict passing; closing it makes it failing; reopening passes again", async (t) => {
  const w = watchedChecker(t);
  let l = await tcpListener(HOST);
  const port = l.port;
  w.checker.setTargets([target("web-1", HOST, fastCheck(port))]);
  t.equal(w.checker.verdicts()["web-1"].state, "pending", "a new target starts pending");
  t.equal(w.changes.length, 1, "setting the targets is a change");

  const up = await w.until("web-1", (v) => v.state === "passing", "passing");
  t.equal(up.startedAt, "2024-05-01T10:00:00.000Z", "the verdict is about the target's container start");
  t.equal(up.reason, undefined);
  const changesWhenUp = w.changes.length;
  const checksWhenUp = w.checker.stats().checks;
  await waitFor(() => w.checker.stats().checks >= checksWhenUp + 5, { what: "five more checks" });
  t.equal(w.changes.length, changesWhenUp, "checks that change nothing emit nothing");

  await l.close();
  const down = await w.until("web-1", (v) => v.state === "failing", "failing after the listener closed");
  t.equal(down.reason, "connection refused");
  t.ok(Date.parse(down.since) >= Date.parse(up.since), "since moved with the state");

  l = await tcpListener(HOST, port); // the same address and port the target names
  t.teardown(() => l.close());
  const again = await w.until("web-1", (v) => v.state === "passing", "passing after the listener came back");
  t.equal(again.reason, undefined, "a passing verdict carries no stale reason");

  t.same(statesOf(w.changes, "web-1"), ["pending", "passing", "failing", "passing"], "one change per transition, no more");
});

t.test("a closed port is refused and fails after the unhealthy threshold", async (t) => {
  const w = watchedChecker(t);
  const port = await closedPort(HOST);
  w.checker.setTargets([target("db-1", HOST, fastCheck(port, { unhealthyThreshold: 3 }))]);
  const v = await w.until("db-1", (v) => v.state === "failing", "failing");
  t.equal(v.reason, "connection refused");
  t.ok(w.checker.stats().failed >= 3, "three failures were needed");
  t.same(statesOf(w.changes, "db-1"), ["pending", "failing"]);
});

t.test("verdict times come from the injected clock", async (t) => {
  let clock = Date.parse("2030-01-01T00:00:00.000Z");
  const w = watchedChecker(t, () => clock);
  const l = await tcpListener(HOST);
  t.teardown(() => l.close());
  w.checker.setTargets([target("c-1", HOST, fastCheck(l.port))]);
  t.equal(w.checker.verdicts()["c-1"].since, "2030-01-01T00:00:00.000Z");
  clock += 5000;
  const v = await w.until("c-1", (v) => v.state === "passing", "passing");
  t.equal(v.since, "2030-01-01T00:00:05.000Z");
});

t.test("a TCP check opens one connection per check and closes it at once", async (t) => {
  const w = watchedChecker(t);
  const l = await tcpListener(HOST);
  t.teardown(() => l.close());
  w.checker.setTargets([target("x-1", HOST, fastCheck(l.port))]);
  await waitFor(() => l.accepted() >= 5, { what: "five checks" });
  await waitFor(() => l.open() <= 1, { what: "the server to see the check connections closed" });
  t.ok(w.checker.stats().openSockets <= 1, "at most the check in flight is open");
});
