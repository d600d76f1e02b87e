import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { freePort } from "../../support/free-port";
import { startPrivateRedis, type PrivateRedis } from "../../support/redis-server";
import { waitFor } from "../../support/wait";

// `drover server` stops on SIGTERM: quickly while an event stream is open, within its deadline
// (DROVER_STOP_DEADLINE_MS) when a step hangs (Redis frozen with SIGSTOP), naming the step,
// and at once on a second signal. A lab server once ignored SIGTERM after a killed run.
const droverBin = path.resolve(__dirname, "../../../../bin/drover.js");
const DEADLINE_MS = 1500;
let redis: PrivateRedis;
t.before(async () => { redis = await startPrivateRedis(); });
t.teardown(() => redis?.stop());

async function startServer(t: { teardown(fn: () => unknown): void }): Promise<{ proc: ChildProcess; url: string; adminKey: string; stderr: () => string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-stop-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const adminKey = "admin-stop-0123456789abcdef";
  fs.writeFileSync(path.join(dir, "admin-key"), adminKey, { mode: 0o600 });
  const port = await freePort("127.0.0.1");
  const proc = spawn(process.execPath, [droverBin, "server", "--redis", redis.url, "--listen", `127.0.0.1:${port}`,
    "--admin-key-file", path.join(dir, "admin-key"), "--master-key-file", path.join(dir, "master-key"), "--tls-dir", path.join(dir, "tls"),
    "--key-prefix", `stop${port}`, "--api-tls", "off"],
  { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, DROVER_STOP_DEADLINE_MS: String(DEADLINE_MS) } });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL"); });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, { what: "the server to answer", timeoutMs: 15_000 });
  return { proc, url, adminKey, stderr: () => stderr };
}

function exited(proc: ChildProcess): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => proc.once("exit", (code) => resolve({ code, ms: Date.now() - t0 })));
}

/** An environment's event stream held open (an SSE response that never ends by itself). */
async function openEventStream(url: string, adminKey: string): Promise<http.ClientRequest> {
  const env = await (await fetch(`${url}/v1/environments`, { method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: JSON.stringify({ name: "stop" }) })).json() as { id: string };
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/v1/environments/${env.id}/events`, { headers: { authorization: `Bearer ${adminKey}` } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`events: ${res.statusCode}`));
      res.on("error", () => undefined);
      res.resume();
      resolve(req);
    });
    req.on("error", () => undefined);
  });
}

t.test("SIGTERM with an event stream open: a quick, clean stop", async (t) => {
  const s = await startServer(t);
  await openEventStream(s.url, s.adminKey);
  const done = exited(s.proc);
  s.proc.kill("SIGTERM");
  const { code, ms } = await done;
  t.equal(code, 0, "exit 0");
  t.ok(ms < DEADLINE_MS, `stopped in ${ms} ms, before the deadline`);
});

t.test("SIGTERM while Redis is frozen: out by the deadline, naming the step", async (t) => {
  const s = await startServer(t);
  await openEventStream(s.url, s.adminKey);
  const redisPid = Number((await redis.client().info("server")).match(/process_id:(\d+)/)![1]);
  process.kill(redisPid, "SIGSTOP");
  t.teardown(() => process.kill(redisPid, "SIGCONT"));
  const done = exited(s.proc);
  s.proc.kill("SIGTERM");
  const { code, ms } = await done;
  process.kill(redisPid, "SIGCONT");
  t.ok(ms < DEADLINE_MS + 2000, `gone ${ms} ms after SIGTERM (deadline ${DEADLINE_MS} ms)`);
  if (code === 0) t.pass("every step finished without Redis");
  else t.match(s.stderr(), /while stopping (the|after)/, `exit ${code} says which step it was in: ${s.stderr().match(/while stopping ([^;]*)/)?.[1]} (holding: ${s.stderr().match(/"holding":(\[[^\]]*\])/)?.[1]})`);
});

t.test("a second SIGTERM ends a stop at once", async (t) => {
  const s = await startServer(t);
  const redisPid = Number((await redis.client().info("server")).match(/process_id:(\d+)/)![1]);
  process.kill(redisPid, "SIGSTOP");
  t.teardown(() => process.kill(redisPid, "SIGCONT"));
  const done = exited(s.proc);
  s.proc.kill("SIGTERM");
  // Two signals sent back to back may merge into one: the second goes once the server says it is stopping.
  await waitFor(() => s.stderr().includes("stopping on SIGTERM"), { what: "the server to say it is stopping" });
  s.proc.kill("SIGTERM");
  const { ms } = await done;
  process.kill(redisPid, "SIGCONT");
  t.ok(ms < DEADLINE_MS, `gone ${ms} ms after two signals, before the deadline`);
});
