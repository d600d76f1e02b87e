import { fork } from "child_process";
import { join } from "path";
import t from "tap";
import { ANSWER_DELAY_MS } from "./support/slow-answer-server";
import { earlyId, fastCheck, target, watchedChecker } from "./support/checker";
import { waitFor } from "../../support/wait";

// A stalled agent (GC pause, busy host) must not turn answers into timeouts: when the late
// timer finally fires, the answer is already waiting in the kernel, so deadlines are judged
// after the loop's I/O phase. The server is a child process that tells us when a request
// arrives and answers 20 ms later; we block our event loop right then for longer than the
// response timeout, so the answer lands during the stall and the deadline has passed by the
// time the loop runs again (timers come before I/O in a loop iteration).
const HOST = "127.0.0.25";
const TIMEOUT = 100;
const STALL = TIMEOUT * 3;

function busyWait(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) { /* the stall itself */ }
}

t.test("a check answered during an event-loop stall is a pass, not a timeout", async (t) => {
  const child = fork(join(__dirname, "support", "slow-answer-server.js"), [HOST], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  t.teardown(() => { child.kill(); });
  let stalls = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.on("message", (m) => {
      if (typeof m === "object" && m !== null && "port" in m) resolve((m as { port: number }).port);
      else if (m === "request" && stalls < 3) { stalls++; busyWait(STALL); }
    });
    child.once("exit", (code) => reject(new Error(`answer server exited with ${code}`)));
  });
  t.ok(STALL > TIMEOUT + ANSWER_DELAY_MS, "the stall outlasts the deadline and the answer's delay");

  const w = watchedChecker(t);
  const id = earlyId("stall", 400, 20);
  w.checker.setTargets([target(id, HOST, fastCheck(port, {
    interval: 400, responseTimeout: TIMEOUT, healthyThreshold: 1, unhealthyThreshold: 1, requestLine: "GET / HTTP/1.0",
  }))]);
  await waitFor(() => stalls >= 3 && w.checker.stats().checks >= 3, { what: "three checks, each behind a stall" });
  t.equal(w.checker.stats().failed, 0, "no check failed");
  t.equal(w.checker.verdicts()[id].state, "passing");
  t.equal(w.checker.verdicts()[id].reason, undefined, "no timeout reason recorded");
});
