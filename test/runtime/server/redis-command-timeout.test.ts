import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { resolveServerConfig } from "../../../runtime/server/config";
import { freePort } from "../../support/free-port";
import { startPrivateRedis, type PrivateRedis } from "../../support/redis-server";
import { waitFor } from "../../support/wait";

// --redis-command-timeout: no API call waits on Redis for ever. Redis frozen with SIGSTOP keeps
// its connections open and answers nothing, as a command lost in a dropped connection does
// (redis/ioredis#800): the call fails as 503 (retryable) once the bound passes, and the server
// works again when Redis does.
const droverBin = path.resolve(__dirname, "../../../../bin/drover.js");

t.test("the bound: 30 s by default, from the flag or DROVER_REDIS_COMMAND_TIMEOUT, at least 2 s", async (t) => {
  t.equal(resolveServerConfig({}, {}).redisCommandTimeoutMs, 30_000, "default");
  t.equal(resolveServerConfig({ "redis-command-timeout": "5s" }, {}).redisCommandTimeoutMs, 5000, "flag");
  t.equal(resolveServerConfig({}, { DROVER_REDIS_COMMAND_TIMEOUT: "2500ms" }).redisCommandTimeoutMs, 2500, "environment");
  t.equal(resolveServerConfig({ "redis-command-timeout": "1m" }, { DROVER_REDIS_COMMAND_TIMEOUT: "9s" }).redisCommandTimeoutMs, 60_000, "the flag wins");
  t.throws(() => resolveServerConfig({ "redis-command-timeout": "1s" }, {}), /--redis-command-timeout: expected at least 2s/, "1s refused");
  t.throws(() => resolveServerConfig({ "redis-command-timeout": "soon" }, {}), /--redis-command-timeout: expected a duration like 30s/, "not a duration");
});

t.test("Redis answering nothing: an API write fails with 503 after the bound, and works again after", async (t) => {
  const redis: PrivateRedis = await startPrivateRedis();
  t.teardown(() => redis.stop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-cmd-timeout-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const adminKey = "admin-timeout-0123456789abcdef";
  fs.writeFileSync(path.join(dir, "admin-key"), adminKey, { mode: 0o600 });
  const port = await freePort("127.0.0.1");
  const proc: ChildProcess = spawn(process.execPath, [droverBin, "server", "--redis", redis.url, "--listen", `127.0.0.1:${port}`,
    "--admin-key-file", path.join(dir, "admin-key"), "--master-key-file", path.join(dir, "master-key"), "--tls-dir", path.join(dir, "tls"),
    "--key-prefix", `cmdto${port}`, "--api-tls", "off", "--redis-command-timeout", "2s"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL"); });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`)).status === 200, { what: "the server to answer", timeoutMs: 15_000 });
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(url + p, {
      method, headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: await res.json() as { id?: string; message?: string; code?: string } };
  };
  const env = await call("POST", "/v1/environments", { name: "frozen" });
  t.equal(env.status, 201, "environment created");
  const base = `/v1/environments/${env.body.id}`;
  t.equal((await call("POST", `${base}/stacks`, { name: "before" })).status, 201, "a write before the freeze");

  const redisPid = Number((await redis.client().info("server")).match(/process_id:(\d+)/)![1]);
  process.kill(redisPid, "SIGSTOP");
  let frozen = true;
  t.teardown(() => { if (frozen) process.kill(redisPid, "SIGCONT"); });
  const started = Date.now();
  const during = await call("POST", `${base}/stacks`, { name: "during" });
  const ms = Date.now() - started;
  process.kill(redisPid, "SIGCONT");
  frozen = false;
  t.equal(during.status, 503, `answered ${during.status} ${JSON.stringify(during.body).slice(0, 200)}`);
  t.match(during.body.message, /Redis is unavailable: Command timed out; a change sent before this may still be applied: read it back before trying again/,
    "the answer says Redis did not answer, and that the write may still land");
  t.ok(ms >= 1900 && ms < 10_000, `after the bound, not for ever: ${ms} ms (bound 2,000 ms)`);

  // Redis back: writes go through again, on the same server process.
  await waitFor(async () => (await call("POST", `${base}/stacks`, { name: `after-${Date.now()}` })).status === 201,
    { what: "a write to go through after Redis is back", timeoutMs: 15_000 });
  t.equal(proc.exitCode, null, `the server kept running (stderr: ${stderr.slice(-300)})`);
});
