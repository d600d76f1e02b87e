import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import t from "tap";
import WebSocket from "ws";
import { labForTest } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { freePort } from "../support/free-port";
import { makeKeys } from "../../runtime/protocol/keys";
import { waitFor } from "../support/wait";

// Issue 17, day two through the server: `drover logs -f` of a scale-3 service, `drover exec
// -it` under tmux on a container of another host, and what refuses a stream token.

const droverBin = path.resolve(__dirname, "../../../bin/drover.js");

t.test("logs and exec through the server", async (t) => {
  const lab = await labForTest(t, { hosts: 2 });
  // TLS on: the streams ride the HTTPS API, the agents pin its CA, the CLI pins it at login.
  const cp = await ControlPlane.start(lab, { graceMs: 3000, tls: true });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const env = await cp.createEnvironment("day-two");
  for (const h of lab.hosts) cp.startAgent(h, env);
  const hostById = await cp.activeHosts(env, lab.hosts.length);
  const cliEnv = { ...process.env, DROVER_CONFIG: path.join(lab.runDir, "cli.json") };
  const cli = (args: string[]) => spawnSync(process.execPath, [droverBin, ...args], { env: cliEnv, encoding: "utf8", timeout: 30_000 });
  const login = cli(["login", "--url", cp.url, "--access-key", env.apiKey, "--ca-fingerprint", cp.ca!.fingerprint]);
  t.equal(login.status, 0, `drover login pins the CA: ${login.stdout.trim()} ${login.stderr.trim()}`);
  t.equal(fs.statSync(cliEnv.DROVER_CONFIG).mode & 0o777, 0o600, "the config file is 0600");

  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const talk = await env.api.ok("POST", `${env.base}/services`, {
    name: "talk", stackId: stack.id, image: "local/busybox", scale: 3,
    command: ["sh", "-c", "i=0; while true; do echo \"line $i from $(hostname)\"; i=$((i+1)); sleep 0.2; done"],
  });
  const instances = await waitFor(async () => {
    const list = (await env.api.ok("GET", `${env.base}/instances?serviceId=${talk.id}`)).data as any[];
    return list.length === 3 && list.every((i) => i.state === "active") ? list : false;
  }, { what: "3 active talk instances", timeoutMs: 60_000 });

  const ps = JSON.parse(cli(["ps", "talk", "--json"]).stdout) as any[];
  t.same(ps.map((i) => i.id).sort(), instances.map((i) => i.id).sort(), "drover ps shows the service's 3 instances");
  t.ok(ps.every((i) => /^10\.42\./.test(i.ip) && i.host), "with their overlay IPs and hosts");
  const hosts = await waitFor(() => {
    const list = JSON.parse(cli(["hosts", "--json"]).stdout) as any[];
    return list.length === 2 && list.every((h) => h.state === "active" && h.tunnels.up === 1 && h.tunnels.total === 1) ? list : false;
  }, { what: "drover hosts: 2 active hosts with their tunnel up", timeoutMs: 30_000 });
  t.ok(hosts.every((h) => h.agentVersion), "drover hosts shows agent versions and tunnels up/total");
  t.same(JSON.parse(cli(["env", "ls", "--json"]).stdout).map((e: any) => e.id), [env.id], "drover env ls: the key's own environment");
  const inspected = JSON.parse(cli(["inspect", instances[0].id]).stdout);
  t.match(inspected, { id: instances[0].id, type: "instance", links: { self: String }, actions: { execute: String, logs: String } }, "drover inspect shows the API's JSON");

  await t.test("logs -f interleaves the 3 containers as they write, and follows a replacement", async (t) => {
    const proc = spawn(process.execPath, [droverBin, "logs", "-f", "--tail", "1", "--json", "talk"], { env: cliEnv, stdio: ["ignore", "pipe", "pipe"] });
    t.teardown(() => { proc.kill(); });
    const lines: any[] = [];
    let partial = "";
    proc.stdout.on("data", (c: Buffer) => {
      const parts = (partial + c.toString()).split("\n");
      partial = parts.pop()!;
      for (const p of parts) lines.push(JSON.parse(p));
    });
    const countFrom = (instanceId: string) => lines.filter((l) => l.instanceId === instanceId).length;
    // --tail 1 gives one line each; more lines per instance are ones written while following.
    await waitFor(() => instances.every((i) => countFrom(i.id) >= 4), { what: "new lines from all 3 instances", timeoutMs: 20_000 });
    const hostnames = new Set(lines.map((l) => /from (\S+)/.exec(l.line)?.[1]));
    t.equal(hostnames.size, 3, "lines come from 3 containers");

    const victim = instances[0];
    const victimHost = hostById.get(victim.hostId)!;
    const before = new Set(hostnames);
    await victimHost.exec(["docker", "rm", "-f", victim.name]);
    const fresh = await waitFor(() => lines.map((l) => /from (\S+)/.exec(l.line)?.[1]).find((h) => h && !before.has(h)),
      { what: "lines from the container that replaced the removed one", timeoutMs: 30_000 });
    t.ok(fresh, `the replacement's lines follow (container ${fresh})`);
  });

  // An instance on the second host: the CLI runs outside both, so the shell is on "another host".
  const remote = instances.find((i) => hostById.get(i.hostId)!.index === 2) ?? instances[0];

  await t.test("exec -it under tmux: an interactive shell, a resize, the exit code", async (t) => {
    const socket = `drover-day-two-${process.pid}`;
    const exitFile = path.join(lab.runDir, "exec-exit");
    const tmux = (...args: string[]) => spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
    t.teardown(() => { tmux("kill-server"); });
    const envArgs = `DROVER_CONFIG='${cliEnv.DROVER_CONFIG}'`;
    const started = tmux("new-session", "-d", "-s", "x", "-x", "100", "-y", "30",
      `env ${envArgs} ${process.execPath} ${droverBin} exec -it ${remote.name} -- sh; echo $? > ${exitFile}`);
    t.equal(started.status, 0, `tmux started ${started.stderr}`);
    const screen = () => tmux("capture-pane", "-p", "-t", "x").stdout;
    await waitFor(() => /\/ #/.test(screen()), { what: "the shell's prompt", timeoutMs: 20_000 });
    tmux("send-keys", "-t", "x", "hostname; stty size", "Enter");
    await waitFor(() => /^30 100$/m.test(screen()), { what: "stty size 30 100", timeoutMs: 10_000 });
    tmux("resize-window", "-t", "x", "-x", "90", "-y", "25");
    // The resize reaches dockerd as its own API call while typed keys go straight down the exec's
    // stream, so a `stty size` typed at once may run before it: ask again until the new size shows.
    await waitFor(() => {
      if (/^25 90$/m.test(screen())) return true;
      tmux("send-keys", "-t", "x", "clear; stty size", "Enter");
      return false;
    }, { what: "stty size after the resize", timeoutMs: 10_000, intervalMs: 300, maxIntervalMs: 600 });
    tmux("send-keys", "-t", "x", "exit 7", "Enter");
    const code = await waitFor(() => fs.existsSync(exitFile) && fs.readFileSync(exitFile, "utf8").trim(), { what: "drover exec to end", timeoutMs: 10_000 });
    t.equal(code, "7", "drover exec returned the shell's exit code");

    const plain = cli(["exec", remote.id, "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    t.same([plain.status, plain.stdout, plain.stderr], [3, "out\n", "err\n"], "plain exec: stdout and stderr apart, exit code");
    const piped = spawnSync(process.execPath, [droverBin, "exec", "-i", remote.name, "--", "wc", "-l"], { env: cliEnv, encoding: "utf8", timeout: 30_000, input: "a\nb\nc\n" });
    t.same([piped.status, piped.stdout.trim()], [0, "3"], "exec -i: stdin reaches the command and its end ends it");

    const events = cli(["events", "--json"]).stdout.trim().split("\n").map((l) => JSON.parse(l));
    const execs = events.filter((e) => e.action === "exec" && e.id === remote.id);
    t.ok(execs.some((e) => e.command === JSON.stringify(["sh"]) && e.tty === "true" && /^apikey:/.test(e.by)), "the interactive exec is an event: who, which instance, the command");
  });

  await t.test("a second server: streams opened there reach an agent registered with the first", async (t) => {
    // The agents registered with s1; the client talks to s2 only (two servers behind one address).
    const s2 = await cp.startServer("s2", await freePort(lab.gatewayIp));
    t.teardown(() => cp.stopServer("s2"));
    const s2Env = { ...process.env, DROVER_CONFIG: path.join(lab.runDir, "cli-s2.json") };
    const viaS2 = (args: string[]) => spawnSync(process.execPath, [droverBin, ...args], { env: s2Env, encoding: "utf8", timeout: 30_000 });
    t.equal(viaS2(["login", "--url", s2, "--access-key", env.apiKey, "--ca-fingerprint", cp.ca!.fingerprint]).status, 0, "drover login to s2");
    for (const instance of instances.slice(0, 2)) {
      const run = viaS2(["exec", instance.id, "--", "sh", "-c", "hostname; exit 4"]);
      t.same([run.status, run.stderr], [4, ""], `exec through s2 on ${instance.name} (host ${hostById.get(instance.hostId)!.name}): the exit code`);
    }
    const logs = viaS2(["logs", "--tail", "2", "--json", instances[0].id]);
    t.equal(logs.status, 0, `logs through s2: ${logs.stderr.trim()}`);
    t.equal(logs.stdout.trim().split("\n").filter((l) => JSON.parse(l).line.startsWith("line ")).length, 2, "logs --tail 2 through s2: two lines");
  });

  await t.test("stream tokens are bound to one instance, expire, and stay in their environment", async (t) => {
    const [a, b] = instances.filter((i) => i.id !== instances[0].id);
    const mint = (instanceId: string, body: unknown, api = env.api) => api.call("POST", `${env.base}/instances/${instanceId}?action=logs`, body);
    const refusedStatus = (url: string, headers: Record<string, string> = {}) => new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(url, { ca: cp.ca!.cert, headers });
      ws.once("open", () => { ws.close(); reject(new Error("accepted")); });
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("error", reject);
    });
    const bearer = (grant: { token: string }) => ({ authorization: `Bearer ${grant.token}` });
    const forA = (await mint(a.id, {})).body;
    t.notOk(forA.url.includes(forA.token), "the stream URL does not carry the token");
    t.equal(await refusedStatus(forA.url.replace(`/logs/${a.id}`, `/logs/${b.id}`), bearer(forA)), 401, "a token for one instance is refused for another");
    const inUrl = (await mint(a.id, {})).body;
    t.equal(await refusedStatus(`${inUrl.url}?token=${encodeURIComponent(inUrl.token)}`), 422, "a token in the URL is refused");
    t.equal(await refusedStatus(inUrl.url, bearer(inUrl)), 401, "and spent: the same token in the header is refused afterwards");
    const short = (await mint(a.id, { ttl: 1 })).body;
    await waitFor(() => Date.now() > Date.parse(short.expiresAt) + 50, { what: "the token's expiry", timeoutMs: 5_000 });
    t.equal(await refusedStatus(short.url, bearer(short)), 401, "an expired token is refused");
    t.equal((await mint(a.id, { ttl: 61 })).status, 422, "ttl beyond 60 s refused");

    // Only the host's agent may answer a session: with one agent stopped its session stays open; dial in as someone else.
    const victim = instances.find((i) => hostById.get(i.hostId)!.index === 1)!;
    await cp.killAgent(hostById.get(victim.hostId)!);
    const redis = cp.redis.client();
    const nudges = makeKeys(cp.keyPrefix).host(env.id, victim.hostId).nudges;
    const before = (await redis.xrevrange(nudges, "+", "-", "COUNT", 1))[0]?.[0] ?? "0-0";
    const victimGrant = (await mint(victim.id, {})).body;
    const client = new WebSocket(victimGrant.url, { ca: cp.ca!.cert, headers: bearer(victimGrant) });
    t.teardown(() => client.terminate());
    const session = await waitFor(async () => {
      for (const [, f] of await redis.xrange(nudges, `(${before}`, "+")) {
        const i = f.indexOf("session");
        if (i >= 0) return f[i + 1];
      }
      return undefined;
    }, { what: "the stream nudge for the stopped agent's host", timeoutMs: 5_000 });
    const agentUrl = `${cp.url.replace(/^http/, "ws")}/v1/agentstreams/${session}`;
    const dialIn = (headers: Record<string, string>) => refusedStatus(agentUrl, headers);
    const signedAt = new Date().toISOString();
    t.equal(await dialIn({ "x-drover-host": victim.hostId, "x-drover-env": env.id, "x-drover-signed-at": signedAt, "x-drover-signature": "AAAA" }), 401,
      "a dial-in not signed by the host's key is refused");
    t.equal(await dialIn({ "x-drover-host": "1hother", "x-drover-env": env.id }), 403, "a dial-in for another host is refused");
    client.terminate();
    redis.disconnect();

    const other = await cp.createEnvironment("day-two-other");
    t.equal((await mint(a.id, {}, other.api)).status, 404, "another environment's key gets 404");
    const ps = cli(["ps", "--env", env.id, "--access-key", other.apiKey]);
    t.ok(/^wss:/.test(forA.url), "streams are wss:// on an HTTPS API");
    t.equal(ps.status, 3, `drover ps with another environment's key exits 3 (not found): ${ps.stderr.trim()}`);
  });
});
