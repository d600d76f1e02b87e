import t from "tap";
import { httpListener, tcpListener, OK_200 } from "./support/listeners";
import { earlyId, fastCheck, statesOf, target, watchedChecker, STARTED } from "./support/checker";
import { waitFor } from "../../support/wait";

// How targets come and go: unchanged targets keep their verdict, a restarted container or a
// changed check starts over, removed targets and stop() leave no socket or timer behind.
const HOST = "127.0.0.23";
const RESTARTED = "2024-05-01T10:07:00.000Z";

t.test("the same targets again change nothing; a new startedAt starts over at pending", async (t) => {
  const l = await tcpListener(HOST);
  t.teardown(() => l.close());
  const w = watchedChecker(t);
  const check = fastCheck(l.port);
  w.checker.setTargets([target("a-1", HOST, check)]);
  const up = await w.until("a-1", (v) => v.state === "passing", "passing");

  const before = w.changes.length;
  w.checker.setTargets([{ ...target("a-1", HOST, { ...check }), local: false }]); // equal content, new objects
  t.equal(w.changes.length, before, "no change emitted");
  t.same(w.checker.verdicts()["a-1"], up, "verdict and since kept");

  w.checker.setTargets([target("a-1", HOST, check, RESTARTED)]);
  t.equal(w.changes.length, before + 1, "the restart is a change, emitted at once");
  const reset = w.checker.verdicts()["a-1"];
  t.equal(reset.state, "pending");
  t.equal(reset.startedAt, RESTARTED);
  const again = await w.until("a-1", (v) => v.state === "passing", "passing for the new start");
  t.equal(again.startedAt, RESTARTED);
  t.same(statesOf(w.changes, "a-1"), ["pending", "passing", "pending", "passing"]);
});

t.test("a changed check or address starts over; strategy changes do not", async (t) => {
  const l = await tcpListener(HOST);
  t.teardown(() => l.close());
  const w = watchedChecker(t);
  w.checker.setTargets([target("b-1", HOST, fastCheck(l.port))]);
  await w.until("b-1", (v) => v.state === "passing", "passing");
  w.checker.setTargets([target("b-1", HOST, fastCheck(l.port, { strategy: "recreate", initializingTimeout: 5000 }))]);
  t.equal(w.checker.verdicts()["b-1"].state, "passing", "server-side fields: kept");
  w.checker.setTargets([target("b-1", HOST, fastCheck(l.port, { healthyThreshold: 3 }))]);
  t.equal(w.checker.verdicts()["b-1"].state, "pending", "a threshold change: over again");
  await w.until("b-1", (v) => v.state === "passing", "passing");
  w.checker.setTargets([target("b-1", "127.0.0.24", fastCheck(l.port, { healthyThreshold: 3 }))]);
  t.equal(w.checker.verdicts()["b-1"].state, "pending", "an address change: over again");
});

t.test("other targets are untouched when one is added or removed", async (t) => {
  const l = await tcpListener(HOST);
  t.teardown(() => l.close());
  const w = watchedChecker(t);
  w.checker.setTargets([target("k-1", HOST, fastCheck(l.port)), target("k-2", HOST, fastCheck(l.port))]);
  const k1 = await w.until("k-1", (v) => v.state === "passing", "passing");
  await w.until("k-2", (v) => v.state === "passing", "passing");
  w.checker.setTargets([target("k-1", HOST, fastCheck(l.port)), target("k-3", HOST, fastCheck(l.port))]);
  t.same(Object.keys(w.checker.verdicts()).sort(), ["k-1", "k-3"]);
  t.same(w.checker.verdicts()["k-1"], k1, "k-1 kept its verdict");
  t.equal(w.checker.verdicts()["k-3"].state, "pending");
  t.equal(w.checker.stats().targets, 2);
});

t.test("a removed target's check in flight is closed at once", async (t) => {
  const l = await httpListener(HOST, () => "silent");
  t.teardown(() => l.close());
  const w = watchedChecker(t);
  // A long timeout, so only the removal can close the socket within the test's deadline.
  const id = earlyId("slow", 10_000, 50);
  w.checker.setTargets([target(id, HOST, fastCheck(l.port, { interval: 10_000, responseTimeout: 10_000, requestLine: "GET / HTTP/1.0" }))]);
  await waitFor(() => l.requests.length === 1 && l.open() === 1, { what: "the check to be in flight", timeoutMs: 3000 });
  t.equal(w.checker.stats().inFlight, 1);
  const changes = w.changes.length;
  w.checker.setTargets([]);
  t.equal(w.changes.length, changes + 1, "removal is a change");
  t.same(w.checker.verdicts(), {}, "no verdict for a removed target");
  t.equal(w.checker.stats().inFlight, 0);
  await waitFor(() => l.open() === 0, { what: "the server to see the socket closed", timeoutMs: 2000 });
  await waitFor(() => w.checker.stats().openSockets === 0, { what: "the checker's socket to close", timeoutMs: 2000 });
  t.equal(l.accepted(), 1, "no check after removal");
});

t.test("stop() closes every socket and leaves no timer behind", async (t) => {
  const silent = await httpListener(HOST, () => "silent");
  const ok = await httpListener(HOST, () => ({ answer: OK_200 }));
  t.teardown(() => Promise.all([silent.close(), ok.close()]));
  const count = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;
  const timersBefore = count("Timeout");

  const w = watchedChecker(t);
  const slow = { interval: 10_000, responseTimeout: 10_000, requestLine: "GET / HTTP/1.0" };
  const targets = [];
  for (let i = 0; i < 5; i++) targets.push(target(earlyId(`hang${i}`, 10_000, 100), HOST, fastCheck(silent.port, slow)));
  for (let i = 0; i < 300; i++) targets.push(target(`many-${i}`, HOST, fastCheck(ok.port, { interval: 1000, responseTimeout: 1000, requestLine: "GET / HTTP/1.0" })));
  w.checker.setTargets(targets);
  t.ok(count("Timeout") <= timersBefore + 1, "one timer for 305 targets");
  await waitFor(() => silent.open() === 5, { what: "five hanging checks in flight", timeoutMs: 3000 });
  await waitFor(() => ok.accepted() >= 50, { what: "fifty passing checks" });

  await w.checker.stop();
  t.equal(w.checker.stats().openSockets, 0, "every socket closed when stop() resolves");
  t.equal(w.checker.stats().inFlight, 0);
  t.equal(count("Timeout"), timersBefore, "no timer left");
  await waitFor(() => silent.open() === 0 && ok.open() === 0, { what: "the servers to see every connection closed", timeoutMs: 2000 });
  const accepted = ok.accepted();
  await silent.close();
  await ok.close();
  // A closed handle leaves the list a loop turn after its "close" event.
  await waitFor(() => count("TCPSocketWrap") === 0 && count("TCPServerWrap") === 0, { what: "no socket handle left in the process", timeoutMs: 2000 });
  t.equal(ok.accepted(), accepted, "no check after stop");

  w.checker.setTargets([target("late", HOST, fastCheck(ok.port))]);
  t.same(w.checker.stats().targets, 305, "targets handed over after stop are ignored");
});

t.test("churn leaves nothing behind: one schedule entry per target, no stray sockets", async (t) => {
  const hanging = await httpListener(HOST, () => "silent");
  t.teardown(() => hanging.close());
  const w = watchedChecker(t);
  const set = (round: number) =>
    w.checker.setTargets(Array.from({ length: 50 }, (_, i) =>
      target(`churn-${i}`, HOST, fastCheck(hanging.port, { interval: 20, responseTimeout: 20, requestLine: "GET / HTTP/1.0" }), `2024-05-01T10:${String(round % 60).padStart(2, "0")}:00.000Z`)));
  for (let round = 0; round < 40; round++) {
    set(round); // every target restarted: all replaced
    await waitFor(() => hanging.accepted() >= round * 5, { what: `checks in flight in round ${round}` });
    const s = w.checker.stats();
    if (s.targets !== 50 || s.scheduled > 50 || s.inFlight > 50) t.fail(`round ${round}: ${JSON.stringify(s)}`);
  }
  w.checker.setTargets([]);
  t.same(w.checker.stats().scheduled, 0, "an empty set leaves an empty schedule");
  await waitFor(() => w.checker.stats().openSockets === 0 && hanging.open() === 0, { what: "every socket closed", timeoutMs: 3000 });
  t.pass("no socket left after 40 rounds of replacing 50 targets");
});

t.test("invalid targets are refused whole: the running checks stay", async (t) => {
  const l = await tcpListener(HOST);
  t.teardown(() => l.close());
  const w = watchedChecker(t);
  w.checker.setTargets([target("g-1", HOST, fastCheck(l.port))]);
  t.throws(() => w.checker.setTargets([target("g-2", HOST, fastCheck(l.port)), target("g-3", "not-an-ip", fastCheck(l.port))]),
    { code: "InvalidField", field: "checks[1].ip" });
  t.same(Object.keys(w.checker.verdicts()), ["g-1"], "the old set is still the one checked");
  t.equal(w.checker.verdicts()["g-1"].startedAt, STARTED);
});
