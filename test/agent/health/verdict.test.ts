import t from "tap";
import { afterCheck, freshTally, toVerdict, type Tally, type Thresholds } from "../../../agent/health/verdict";

// The verdict machine, table-driven: each row is a sequence of check outcomes ("P" pass,
// "F" fail) from a fresh tally, and the state after every check.
const th: Thresholds = { healthyThreshold: 2, unhealthyThreshold: 3 };

interface Row {
  name: string;
  thresholds?: Thresholds;
  checks: string;
  states: string;
}

const rows: Row[] = [
  { name: "passes reach the healthy threshold", checks: "PP", states: "pending passing" },
  { name: "one pass is not enough", checks: "P", states: "pending" },
  { name: "failures reach the unhealthy threshold from pending", checks: "FFF", states: "pending pending failing" },
  { name: "a pass breaks a failure streak", checks: "FFPFF", states: "pending pending pending pending pending" },
  { name: "hysteresis: passing survives failures below the threshold", checks: "PPFFP", states: "pending passing passing passing passing" },
  { name: "passing → failing after three failures in a row", checks: "PPFFF", states: "pending passing passing passing failing" },
  { name: "hysteresis: failing survives one pass", checks: "FFFPF", states: "pending pending failing failing failing" },
  { name: "failing → passing after two passes in a row", checks: "FFFPP", states: "pending pending failing failing passing" },
  { name: "alternating outcomes never leave pending", checks: "PFPFPF", states: "pending pending pending pending pending pending" },
  { name: "thresholds of one follow every check", thresholds: { healthyThreshold: 1, unhealthyThreshold: 1 }, checks: "PFPF", states: "passing failing passing failing" },
  { name: "passes beyond the threshold keep passing", checks: "PPPPP", states: "pending passing passing passing passing" },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    let tally = freshTally(0);
    const seen: string[] = [];
    [...row.checks].forEach((c, i) => {
      tally = afterCheck(tally, c === "P" ? undefined : "connection refused", row.thresholds ?? th, i + 1);
      seen.push(tally.state);
    });
    t.equal(seen.join(" "), row.states);
  });
}

t.test("since moves only when the state changes", async (t) => {
  let tally: Tally = freshTally(100);
  tally = afterCheck(tally, undefined, th, 200);
  t.equal(tally.since, 100, "still pending: since unchanged");
  tally = afterCheck(tally, undefined, th, 300);
  t.equal(tally.since, 300, "became passing at 300");
  tally = afterCheck(tally, "HTTP 503", th, 400);
  t.equal(tally.since, 300, "a failure below the threshold keeps since");
});

t.test("reason: the last failure's, cleared on becoming passing", async (t) => {
  let tally = freshTally(0);
  tally = afterCheck(tally, "connection refused", th, 1);
  t.equal(tally.reason, "connection refused", "a failure while pending records its reason");
  tally = afterCheck(tally, "timeout after 2000 ms", th, 2);
  t.equal(tally.reason, "timeout after 2000 ms", "the latest reason wins");
  tally = afterCheck(tally, undefined, th, 3);
  t.equal(tally.reason, "timeout after 2000 ms", "a pass below the threshold keeps the reason");
  tally = afterCheck(tally, undefined, th, 4);
  t.equal(tally.state, "passing");
  t.equal(tally.reason, undefined, "passing carries no stale reason");
});

t.test("afterCheck is pure: the old tally is untouched", async (t) => {
  const before = freshTally(5);
  const copy = { ...before };
  afterCheck(before, "HTTP 500", th, 6);
  afterCheck(before, undefined, th, 7);
  t.same(before, copy);
});

t.test("toVerdict: ISO since, the target's startedAt, reason only when there is one", async (t) => {
  const start = "2024-05-01T10:00:00.000Z";
  t.same(toVerdict(freshTally(Date.parse(start)), "S1"), { state: "pending", startedAt: "S1", since: start });
  const failing = afterCheck(afterCheck(afterCheck(freshTally(0), "HTTP 503", th, 0), "HTTP 503", th, 0), "HTTP 503", th, Date.parse(start));
  t.same(toVerdict(failing, "S1"), { state: "failing", startedAt: "S1", since: start, reason: "HTTP 503" });
});
