import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";

// scripts/steps.sh, which setup.sh runs its steps with: one line per step, the output in the
// log; a failing step stops the set-up with its exit code and shows the log's tail; verbose
// shows everything. Run in a pipe, as CI runs it.
const steps = path.resolve(__dirname, "../../../../scripts/steps.sh");

function run(body: string, verbose = false) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-steps-"));
  const log = path.join(dir, "setup.log");
  const script = `set -euo pipefail\nDROVER_STATE=${dir}\nSTEPS_LOG=${log}\nSTEPS_VERBOSE=${verbose ? 1 : 0}\n. ${steps}\nsteps_begin "test setup"\n${body}\nsteps_end "test setup: ready"\n`;
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  const out = { code: r.status, stderr: r.stderr, stdout: r.stdout, log: fs.readFileSync(log, "utf8") };
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...out, logPath: log };
}

t.test("quiet steps: a line each, output in the log", async (t) => {
  const r = run(`quiet() { echo "lots of output"; echo "more" >&2; note "did 2 things"; }\nstep "first thing" quiet\nstep "second thing" true`);
  t.equal(r.code, 0);
  t.same(r.stderr.trimEnd().split("\n").map((l) => l.replace(/\d+\.\ds/g, "T")), [
    `test setup: full log in ${r.logPath}`,
    `  ${"first thing".padEnd(34)} ✓ T (did 2 things)`,
    `  ${"second thing".padEnd(34)} ✓ T`,
    "test setup: ready in T",
  ], "one line per step, with its time and note");
  t.match(r.log, /=== first thing .*\nlots of output\nmore\n=== second thing/, "the steps' output is in the log");
});

t.test("a failing step stops the set-up, with the log's tail and its exit code", async (t) => {
  const r = run(`bad() { echo "apt: E: unable to locate package"; false; echo "never"; }\nstep "packages" bad\nstep "after" true`);
  t.equal(r.code, 1, "the step's exit code");
  t.match(r.stderr, /^  packages +✗ \d+\.\ds failed \(exit 1\)$/m);
  t.match(r.stderr, /--- last 40 lines of .*setup\.log:\n(.*\n)*apt: E: unable to locate package\n--- \(full log: /, "the tail of the log is shown");
  t.notMatch(r.stderr + r.log, /never|after/, "set -e holds inside the step, and later steps do not run");
});

t.test("verbose shows the output as it comes", async (t) => {
  const r = run(`chatty() { echo "line one"; echo "line two"; }\nstep "chatty" chatty`, true);
  t.equal(r.code, 0);
  t.match(r.stderr, /--- chatty\n(.*\n)?line one\nline two\n  chatty +✓ /);
});
