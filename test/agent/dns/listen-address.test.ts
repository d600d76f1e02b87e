import t from "tap";
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { DNS_IP } from "../../../runtime/protocol/model";

// The responder on the real address, in a network namespace of its own (unshare -n: gone when
// the process exits, so nothing is left behind): it adds 169.254.169.250/32 to lo when missing,
// removes only what it added, and answers there over UDP.
const run = promisify(execFile);

t.test("HostDns on 169.254.169.250:53 in a fresh network namespace", async (t) => {
  const script = path.join(__dirname, "support", "netns-scenario.js");
  const { stdout } = await run("unshare", ["-n", process.execPath, script], { timeout: 30_000 }).catch((err) => ({ stdout: String(err.stdout ?? err) }));
  const r = JSON.parse(stdout.trim().split("\n").pop()!);
  t.notOk(r.error, r.error ?? "the scenario ran");
  t.equal(r.before, false, `a fresh namespace has no ${DNS_IP}`);
  t.same(r.missing, { servedApi: ["10.42.1.2"], hadAddressWhileRunning: true, afterStop: false },
    "missing: added to lo, served there, removed again at stop");
  t.same(r.present, { servedApi: ["10.42.1.2"], hadAddressWhileRunning: true, afterStop: true },
    "already present: used, and left in place at stop (someone else's)");
  t.same(r.ensureTwice, [true, false], "ensureLocalAddress is idempotent and says when it added");
});
