import Docker from "dockerode";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { Client } from "ssh2";
import t from "tap";
import { waitFor } from "../support/wait";
import { spawn } from "child_process";
import { Lab, labForTest, LabLeftoverError, LabSsh, TEST_IMAGE } from "./index";
import { cmdline, isAlive, ProcRef, procRef, run, runOk } from "./proc";
import { reclaimAbandonedRuns } from "./abandoned";
import { readState, writeState } from "./state-file";
import { teardownRun } from "./teardown";
import { stopWatchdog } from "./watchdog";

// The multi-host lab itself: three hosts with their own dockerd on one underlay, reached
// from this process, from each other, over ssh; dockerd restart; cable cut; clean teardown.

const repoRoot = path.resolve(__dirname, "../../..");

function httpGet(url: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

function sshExec(ssh: LabSsh, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on("error", reject);
    client.on("ready", () => {
      client.exec(command, (err, stream) => {
        if (err) { client.end(); reject(err); return; }
        let stdout = "";
        let stderr = "";
        stream.on("data", (d: Buffer) => (stdout += d));
        stream.stderr.on("data", (d: Buffer) => (stderr += d));
        stream.on("close", (code: number) => { client.end(); resolve({ code, stdout, stderr }); });
      });
    });
    client.connect({
      host: ssh.host, port: ssh.port, username: ssh.username, privateKey: ssh.privateKey, readyTimeout: 10_000,
      // Accept only the lab host's own key.
      hostVerifier: (key: Buffer) => key.toString("base64") === ssh.hostPublicKey.split(" ")[1],
    });
  });
}

/** Independent check, not using the lab's own leftover finder. */
async function traceOfRun(runId: string, runDir: string): Promise<string[]> {
  const found: string[] = [];
  const prefix = `drv-${runId}-`;
  for (const l of (await runOk(["ip", "netns", "list"])).stdout.split("\n")) if (l.startsWith(prefix)) found.push(`netns ${l}`);
  for (const l of (await runOk(["ip", "-o", "link", "show"])).stdout.split("\n")) if (l.includes(prefix)) found.push(`link ${l}`);
  for (const p of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(runDir)) found.push(`process ${p}`);
    } catch { /* exited */ }
  }
  if (fs.readFileSync("/proc/self/mountinfo", "utf8").includes(runDir)) found.push("mount");
  if (fs.existsSync(runDir)) found.push("run dir");
  return found;
}

t.test("three hosts: containers, underlay, dockerd restart, ssh, teardown", async (t) => {
  const lab = await labForTest(t, { hosts: 3, sshd: true, name: "lab.test: three hosts" });
  const { runId, runDir } = lab;
  t.match(runId, /^[0-9a-f]{6}$/, "run id");
  t.equal(lab.hosts.length, 3, "three hosts");
  t.match(lab.subnet, /^198\.1[89]\.\d+\.0\/24$/, "underlay /24 from 198.18.0.0/15");
  const dockers = lab.hosts.map((h) => new Docker({ socketPath: h.dockerSocket }));

  await t.test("each host has its own dockerd, engine id and the test image", async (t) => {
    const infos = await Promise.all(dockers.map((d) => d.info() as Promise<{ Name: string; ID: string }>));
    t.same(infos.map((i) => i.Name), lab.hosts.map((h) => h.name), "engine name is the host name");
    t.equal(new Set(infos.map((i) => i.ID)).size, 3, "three distinct engine ids");
    for (const d of dockers) await d.getImage(TEST_IMAGE).inspect();
    t.pass(`${TEST_IMAGE} present on every host`);
  });

  const containers: Docker.Container[] = [];
  await t.test("a container on each host, reachable from the test process over the underlay", async (t) => {
    for (const d of dockers) {
      const c = await d.createContainer({
        Image: TEST_IMAGE, name: "web",
        // dockerd stops each container with its own StopTimeout (default 10 s), not --shutdown-timeout.
        StopTimeout: 1,
        // /tmp/boots counts starts: proves the container's data survives a dockerd restart.
        Cmd: ["sh", "-c", "date >> /tmp/boots; exec httpd -f -p 8080 -h /www"],
        ExposedPorts: { "8080/tcp": {} },
        HostConfig: { PortBindings: { "8080/tcp": [{ HostPort: "8080" }] }, RestartPolicy: { Name: "unless-stopped" } },
      });
      await c.start();
      containers.push(c);
    }
    for (const h of lab.hosts) {
      const body = await waitFor(() => httpGet(`http://${h.underlayIp}:8080/`), { what: `httpd on ${h.name}`, timeoutMs: 10_000 });
      t.match(body, /drover test page/, `GET ${h.underlayIp}:8080 from the root namespace`);
    }
  });

  await t.test("hosts reach each other and the gateway over the underlay", async (t) => {
    for (const from of lab.hosts) {
      for (const to of lab.hosts) {
        if (from === to) continue;
        // No `wget -T`: busybox 1.35's wget segfaults with it.
        const res = await from.exec(["busybox", "wget", "-q", "-O", "-", `http://${to.underlayIp}:8080/`], { timeoutMs: 5000 });
        t.equal(res.code, 0, `${from.name} -> ${to.name}:8080 ${res.stderr.trim()}`);
        t.match(res.stdout, /drover test page/);
      }
    }
    const server = http.createServer((req, res) => res.end(`gateway says hi to ${req.socket.remoteAddress}`));
    await new Promise<void>((resolve) => server.listen(0, lab.gatewayIp, resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    for (const h of lab.hosts) {
      const res = await h.exec(["busybox", "wget", "-q", "-O", "-", `http://${lab.gatewayIp}:${port}/`], { timeoutMs: 5000 });
      t.equal(res.stdout, `gateway says hi to ${h.underlayIp}`, `${h.name} reaches ${lab.gatewayIp} with its own source address`);
    }
  });

  await t.test("dockerd stops and restarts, keeping its container", async (t) => {
    const h = lab.hosts[1];
    const before = await containers[1].inspect();
    let ms = Date.now();
    await h.stopDockerd();
    t.comment(`stopDockerd with one running container: ${Date.now() - ms} ms`);
    t.notOk(h.dockerdRunning(), "dockerd is stopped");
    await t.rejects(dockers[1].ping(), "socket no longer answers");
    ms = Date.now();
    await h.startDockerd();
    t.comment(`startDockerd: ${Date.now() - ms} ms`);
    t.ok(h.dockerdRunning(), "dockerd runs again");
    t.equal(String(await dockers[1].ping()), "OK", "dockerd answers");
    const after = await waitFor(async () => {
      const i = await containers[1].inspect();
      return i.State.Running ? i : undefined;
    }, { what: "the container to be restarted by its policy" });
    t.equal(after.Id, before.Id, "same container");
    const boots = await h.exec(["docker", "exec", "web", "cat", "/tmp/boots"]);
    t.equal(boots.stdout.trim().split("\n").length, 2, `its filesystem kept the first start's line (${boots.stderr.trim()})`);
    const body = await waitFor(() => httpGet(`http://${h.underlayIp}:8080/`), { what: `httpd on ${h.name} after restart` });
    t.match(body, /drover test page/, "serves again");
  });

  await t.test("cutUnderlay makes a host unreachable, restoreUnderlay brings it back", async (t) => {
    const h = lab.hosts[2];
    await h.cutUnderlay();
    await waitFor(() => httpGet(`http://${h.underlayIp}:8080/`, 300).then(() => false, () => true), { what: `${h.name} to become unreachable` });
    const peer = await lab.hosts[0].exec(["busybox", "ping", "-c", "1", "-W", "1", h.underlayIp]);
    t.not(peer.code, 0, "a peer cannot reach it either");
    await h.restoreUnderlay();
    const body = await waitFor(() => httpGet(`http://${h.underlayIp}:8080/`, 1000), { what: `${h.name} to be reachable again` });
    t.match(body, /drover test page/, "reachable again");
  });

  await t.test("an ssh session reaches the host's dockerd", async (t) => {
    const h = lab.hosts[0];
    const ssh = h.ssh;
    if (!ssh) { t.fail("no ssh details"); return; }
    t.equal(ssh.username, "root");
    t.equal(ssh.host, h.underlayIp);
    t.match(ssh.privateKey, /BEGIN OPENSSH PRIVATE KEY/);
    const res = await sshExec(ssh, "hostname; docker info --format '{{.Name}}'; docker ps --format '{{.Names}}'");
    t.equal(res.code, 0, `ssh command succeeded ${res.stderr}`);
    t.same(res.stdout.trim().split("\n"), [h.name, h.name, "web"], "hostname, dockerd name and its container");
  });

  // A long-running process started through the lab: teardown must kill it.
  const sleeper = lab.hosts[2].spawn(["sleep", "3600"], { stdio: "ignore" });
  const sleeperRef: ProcRef = { pid: sleeper.pid!, start: lab.hosts[2].state.spawned[0]?.start ?? -1 };
  t.ok(isAlive(sleeperRef), "spawned process runs and is tracked");

  const ms = Date.now();
  await lab.down();
  t.comment(`3 hosts: up ${lab.timings.upMs} ms, down ${Date.now() - ms} ms ${JSON.stringify(lab.timings.downPhases)}`);
  t.notOk(isAlive(sleeperRef), "spawned process was killed");
  t.same(await traceOfRun(runId, runDir), [], "no namespace, link, process, mount or dir of the run is left");
});

t.test("CLI: up leaves detached daemons, a fresh process execs in a host and tears the run down", async (t) => {
  const cli = (args: string[]) => run([process.execPath, path.join(repoRoot, "bin/drover.js"), "lab", ...args], { timeoutMs: 120_000 });
  let runId = "";
  t.teardown(async () => { if (runId) await teardownRun(runId); });
  const up = await cli(["up", "1", "--name", "lab.test: cli", "--json"]);
  t.equal(up.code, 0, `lab up exits 0 ${up.stderr}`);
  const desc = JSON.parse(up.stdout) as { runId: string; runDir: string; hosts: Array<{ name: string; dockerSocket: string }> };
  runId = desc.runId;
  t.comment(`cli lab ${runId} up`);
  t.equal(String(await new Docker({ socketPath: desc.hosts[0].dockerSocket }).ping()), "OK", "dockerd outlived the CLI process");

  const ls = await cli(["ls", "--json"]);
  t.ok((JSON.parse(ls.stdout) as Array<{ runId: string; status: string }>).some((r) => r.runId === runId && r.status === "up"), "ls lists the run as up");

  const ex = await cli(["exec", "--run", runId, "h1", "--", "docker", "info", "--format", "{{.Name}}"]);
  t.equal(ex.stdout.trim(), desc.hosts[0].name, "exec runs in the host and reaches its dockerd");
  const code = await cli(["exec", "--run", runId, "1", "--", "sh", "-c", "exit 7"]);
  t.equal(code.code, 7, "exec returns the command's exit code");

  const down = await cli(["down", runId]);
  t.equal(down.code, 0, `lab down exits 0 ${down.stdout}${down.stderr}`);
  t.match(down.stdout, /nothing left/);
  t.same(await traceOfRun(runId, desc.runDir), [], "nothing of the run is left");
});

t.test("labForTest registers its teardown first, and that teardown removes the run", async (t) => {
  let teardown: (() => unknown) | undefined;
  const fake = { teardown: (fn: () => unknown) => { teardown = fn; } };
  const lab = await labForTest(fake, { hosts: 1, image: false });
  t.ok(teardown, "teardown registered");
  const { runId, runDir } = lab;
  const pid = lab.hosts[0].state.dockerd!;
  t.ok(isAlive(pid));
  await teardown!();
  t.notOk(isAlive(pid), "dockerd stopped");
  t.same(await traceOfRun(runId, runDir), [], "nothing left");
});

t.test("down reports what it could not remove and never kills what the lab did not start", async (t) => {
  const lab = await Lab.up({ hosts: 1, image: false, name: "lab.test: leftover" });
  const { runId, runDir } = lab;
  // A process started outside the lab, inside the host's network namespace.
  const intruder = spawn("ip", ["netns", "exec", lab.hosts[0].netns, "sleep", "600"], { stdio: "ignore" });
  const ref = await waitFor(() => (cmdline(intruder.pid!).startsWith("sleep") ? procRef(intruder.pid!) : undefined), { what: "the intruder to start" });
  t.teardown(async () => { intruder.kill("SIGKILL"); await teardownRun(runId); });

  const err = await lab.down().then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof LabLeftoverError, "down throws LabLeftoverError");
  const leftovers = (err as LabLeftoverError).leftovers ?? [];
  t.ok(leftovers.some((l) => l.startsWith(`process ${ref.pid} (in a network namespace of the run)`)), `lists the intruder: ${leftovers.join("; ")}`);
  t.ok(isAlive(ref), "the intruder was not killed");

  intruder.kill("SIGKILL");
  await waitFor(() => !isAlive(ref), { what: "the intruder to exit" });
  await teardownRun(runId);
  t.pass("a second teardown succeeds once it is gone");
  t.same(await traceOfRun(runId, runDir), [], "nothing left");
});

t.test("a watched run whose owner and watchdog both died is reclaimed; a run without a watchdog stays", async (t) => {
  const watched = await Lab.up({ hosts: 1, image: false, name: "lab.test: abandoned", watchdog: true });
  const unwatched = await Lab.up({ hosts: 1, image: false, name: "lab.test: unwatched" });
  t.teardown(async () => {
    await teardownRun(watched.runId).catch(() => undefined);
    await unwatched.down();
  });
  // What a killed session leaves behind: the owner is gone, and its watchdog with it.
  const owner = spawn("true", { stdio: "ignore" });
  await new Promise((resolve) => owner.on("exit", resolve));
  const watchedState = readState(watched.runId)!;
  t.ok(watchedState.watchdog, "the watched run has a watchdog");
  stopWatchdog(watchedState.watchdog);
  await waitFor(() => !isAlive(watchedState.watchdog!), { what: "the watchdog to exit" });
  writeState({ ...watchedState, ownerPid: owner.pid! });
  writeState({ ...readState(unwatched.runId)!, ownerPid: owner.pid! });

  const reclaimed = await reclaimAbandonedRuns(() => undefined);
  t.ok(reclaimed.includes(watched.runId), `the abandoned run is reclaimed (${reclaimed.join(", ")})`);
  t.same(await traceOfRun(watched.runId, watched.runDir), [], "nothing of it left");
  t.notOk(reclaimed.includes(unwatched.runId), "a run without a watchdog is its user's");
  t.ok(readState(unwatched.runId), "and its state is still there");
});
