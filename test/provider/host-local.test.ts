import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { labForTest } from "../lab";
import { ControlPlane } from "../support/control-plane";

// The Host provider's local driver, run inside a lab host (so "this machine" is the lab
// host, with its own dockerd, and nothing touches the test machine's own Docker): the agent
// starts detached from this drover checkout, outlives the process that created it, and is
// stopped by delete.
const repoRoot = path.resolve(__dirname, "../../..");
const alive = (pid: number) => {
  if (!(pid > 0)) return false;
  try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); } catch { return false; }
};
const readPid = (file: string) => { try { return Number(fs.readFileSync(file, "utf8").trim()) || 0; } catch { return 0; } };

/** Runs one provider call in a process of its own inside the host; the call's JSON result on stdout. */
const callScript = `
const { hostProvider } = require(${JSON.stringify(path.join(repoRoot, "dist/provider"))});
let input = ""; process.stdin.on("data", (d) => (input += d)).on("end", async () => {
  const { method, args } = JSON.parse(input);
  try { console.log(JSON.stringify((await hostProvider[method](...args)) ?? null)); }
  catch (e) { console.log(JSON.stringify({ error: e.message })); }
});`;

t.test("Host with the local driver", async (t) => {
  t.setTimeout(300_000);
  const lab = await labForTest(t, { hosts: 1, name: "host-local" });
  const cp = await ControlPlane.start(lab, { graceMs: 3000 });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const env = await cp.createEnvironment("host-local");
  const [h] = lab.hosts;
  const stateDir = path.join(lab.runDir, "local-state");
  const script = path.join(lab.runDir, "call.js");
  fs.writeFileSync(script, callScript);
  const call = async (method: string, ...args: unknown[]) => {
    const res = await h.exec([process.execPath, script], { input: JSON.stringify({ method, args }), cwd: repoRoot, timeoutMs: 120_000 });
    // A call that died (killed, or crashed outside the try) printed nothing: not to be read as "no error".
    if (res.code !== 0 || !res.stdout.trim()) return { error: `${method} exited ${res.code}: ${res.stderr.trim().slice(-2000) || "(no stderr)"}; stdout: ${res.stdout.trim().slice(-500)}` };
    return JSON.parse(res.stdout.trim().split("\n").pop()!);
  };
  const inputs = {
    endpoint: cp.url, apiKey: env.apiKey, envId: env.id, registrationToken: env.registrationToken, name: "local-1",
    labels: { zone: "here" }, waitTimeoutSeconds: 60, driver: { type: "local", stateDir, underlayIp: h.underlayIp },
  };
  t.same((await call("check", {}, inputs)).failures, [], "inputs pass check");
  const created = await call("create", inputs);
  t.match(created, { id: String, outs: { state: "active", agentService: "supervisor", underlayIp: h.underlayIp, subnet: /^10\.42\./ } }, "active", { created });

  // The process that created it has exited; the agent runs on, from this checkout.
  const agentPid = readPid(path.join(stateDir, "agent.pid"));
  t.ok(alive(agentPid), `agent ${agentPid} outlives the creating process`);
  t.match(fs.readFileSync(`/proc/${agentPid}/cmdline`, "utf8").replace(/\0/g, " "), `${repoRoot}/bin/drover.js agent`, "runs from the drover package itself");
  const onServer = await env.api.ok("GET", `${env.base}/hosts/${created.id}`);
  t.match(onServer, { state: "active", labels: { zone: "here" } }, "the server sees it active with its labels");

  // The call's error, if any, comes back as { error }: shown here (it failed once in a suite run with the host still there).
  const deleted = await call("delete", created.id, created.outs);
  t.same(deleted, null, `delete returned without an error: ${JSON.stringify(deleted)}`);
  t.equal((await env.api.call("GET", `${env.base}/hosts/${created.id}`)).status, 404, "delete removed the host");
  t.notOk(alive(agentPid), "and stopped the agent");
  t.same(await call("delete", created.id, created.outs), null, "deleting again succeeds");
});
