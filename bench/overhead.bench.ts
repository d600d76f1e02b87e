/**
 * drover's overhead over raw Docker: a service of scale 20 on 3 lab hosts until the API shows
 * 20 active instances, against raw dockerode creating and starting the same 20 containers on
 * the same hosts in the same run.
 *
 * Setup: a lab of 3 hosts (test/lab), a private Redis on [gateway, 127.0.0.1], `drover server`
 * as a child process listening on the lab gateway (agents get redis://<gateway>:<port>), and
 * the real agent (`drover agent`) inside every host, on that host's own dockerd.
 *
 * Raw: the same create options the agent builds (agent/docker/container-config.ts
 * createOptions; only `io.drover.managed` is "false" so no agent ever touches them), 7/7/6
 * over the hosts as drover's spread places them, with the agent's concurrency: the agent
 * applies its actions one after another (agent/reconcile.ts), hosts work in parallel. Time
 * from the first create until the last start returns.
 *
 * drover: POST the service, then GET instances?serviceId=&state=active every 20 ms until 20.
 * After each round the containers are removed (raw: force remove; drover: DELETE the service
 * and wait until no container of it is left on any host). 3 rounds of each, alternating which
 * goes first, after one small warm-up of each; value and baseline are medians.
 */
import Docker from "dockerode";
import { randomBytes } from "crypto";
import * as fs from "fs";
import { join } from "path";
import { performance } from "perf_hooks";
import { createOptions } from "../agent/docker/container-config";
import type { DesiredInstance } from "../runtime/protocol/model";
import { Lab } from "../test/lab";
import { freePort } from "../test/support/free-port";
import { startPrivateRedis, type PrivateRedis } from "../test/support/redis-server";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { createEnvironment, EnvHandle, waitForOk } from "./support/http";
import { Child, droverBin, median, procCpuSeconds, spawnServer, wrap } from "./support/procs";

const HOSTS = 3;
const SCALE = 20;
const ROUNDS = 3;
const GOAL = 1.15;
const IMAGE = "local/busybox";
const COMMAND = ["sleep", "3600"];
/** API poll period while waiting for drover (OVERHEAD_POLL_MS overrides it, to see what the polling itself costs). */
const POLL_MS = Number(process.env.OVERHEAD_POLL_MS ?? 20);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How drover's spread puts `total` instances on `hosts` hosts: as even as possible, first hosts first. */
function spread(total: number, hosts: number): number[] {
  return Array.from({ length: hosts }, (_, k) => Math.floor(total / hosts) + (k < total % hosts ? 1 : 0));
}

/** The create options the agent would use for instance `name` (not marked as drover's). */
function rawOptions(name: string, serviceId: string): Docker.ContainerCreateOptions {
  const instance: DesiredInstance = {
    id: `i${randomBytes(6).toString("hex")}`, name, serviceId, stackId: "1stbench",
    spec: {
      image: IMAGE, command: COMMAND, env: {}, ports: [],
      labels: { "io.rancher.stack.name": "bench", "io.rancher.stack_service.name": `bench/${serviceId}`, "io.rancher.container.name": name },
      restartPolicy: { name: "always" },
    },
  };
  const options = createOptions(instance, { envId: "raw-bench", hostId: "raw-bench" });
  options.Labels = { ...options.Labels, "io.drover.managed": "false" };
  return options;
}

interface OpTimes { create: number[]; start: number[] }

/** Creates and starts counts[k] containers on host k, one after another per host, hosts in parallel. */
async function rawRound(dockers: Docker[], counts: number[], tag: string, ops?: OpTimes): Promise<{ ms: number; ids: string[][] }> {
  const ids: string[][] = dockers.map(() => []);
  const t0 = performance.now();
  await Promise.all(dockers.map(async (docker, k) => {
    for (let j = 0; j < counts[k]; j++) {
      const a = performance.now();
      const c = await docker.createContainer(rawOptions(`rawbench-${tag}-h${k + 1}-${j + 1}`, `raw${tag}`));
      ids[k].push(c.id);
      const b = performance.now();
      await c.start();
      ops?.create.push(b - a);
      ops?.start.push(performance.now() - b);
    }
  }));
  return { ms: performance.now() - t0, ids };
}

/**
 * The agents' own view of a drover round, from their JSON logs: per container, create (previous
 * action's end or the reconcile's start → "created container") and start ("created" →
 * "started"); and per host, the first create's begin and the last start's end (epoch ms).
 */
function agentOps(logFiles: string[], namePrefix: string, ops: OpTimes): { firstCreatedAt: number; lastStartedAt: number } {
  let firstCreatedAt = Infinity;
  let lastStartedAt = 0;
  for (const file of logFiles) {
    let prevEnd: number | undefined;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      if (!line.includes(namePrefix)) continue;
      let l: { time: string; msg: string; name?: string };
      try { l = JSON.parse(line); } catch { continue; }
      if (!l.name?.startsWith(namePrefix)) continue;
      const t = Date.parse(l.time);
      if (l.msg === "created container") {
        firstCreatedAt = Math.min(firstCreatedAt, t);
        if (prevEnd !== undefined) ops.create.push(t - prevEnd);
        prevEnd = t;
      } else if (l.msg === "started container" && prevEnd !== undefined) {
        ops.start.push(t - prevEnd);
        lastStartedAt = Math.max(lastStartedAt, t);
        prevEnd = t;
      }
    }
  }
  return { firstCreatedAt, lastStartedAt };
}

async function removeRaw(dockers: Docker[], ids: string[][]): Promise<void> {
  await Promise.all(dockers.map(async (docker, k) => {
    for (const id of ids[k]) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
  }));
}

async function containersOf(dockers: Docker[], label: string): Promise<number[]> {
  return Promise.all(dockers.map(async (d) => (await d.listContainers({ all: true, filters: { label: [label] } })).length));
}

/** POST a service of `scale`, poll until that many instances are active; returns the time and where they went. */
async function droverRound(env: EnvHandle, stackId: string, name: string, scale: number, hostIds: string[]): Promise<{ ms: number; serviceId: string; perHost: number[]; postedAt: number; doneAt: number }> {
  const postedAt = Date.now();
  const t0 = performance.now();
  const svc = await env.api.ok("POST", `${env.base}/services`, { stackId, name, image: IMAGE, command: COMMAND, scale });
  for (;;) {
    if ((await env.api.total(`${env.base}/instances?serviceId=${svc.id}&state=active`)) === scale) break;
    if (performance.now() - t0 > 120_000) throw new Error(`service ${name}: not ${scale} active instances after 120 s`);
    await sleep(POLL_MS);
  }
  const ms = performance.now() - t0;
  const doneAt = Date.now();
  const perHost = await Promise.all(hostIds.map((h) => env.api.total(`${env.base}/instances?serviceId=${svc.id}&hostId=${h}`)));
  return { ms, serviceId: svc.id, perHost, postedAt, doneAt };
}

async function removeService(env: EnvHandle, dockers: Docker[], serviceId: string): Promise<void> {
  await env.api.ok("DELETE", `${env.base}/services/${serviceId}`);
  await waitFor(async () => (await containersOf(dockers, `io.drover.service=${serviceId}`)).every((n) => n === 0),
    { what: `containers of ${serviceId} removed`, timeoutMs: 60_000, maxIntervalMs: 100 });
  await waitFor(async () => (await env.api.call("GET", `${env.base}/services/${serviceId}`)).status === 404,
    { what: `service ${serviceId} gone`, timeoutMs: 30_000, maxIntervalMs: 100 });
}

export const benchmark: Benchmark = {
  name: "overhead",
  summary: "ms until a scale-20 service runs on 3 lab hosts, drover vs raw dockerode starting the same containers",
  async run(): Promise<BenchResult> {
    let lab: Lab | undefined;
    let redis: PrivateRedis | undefined;
    let server: Child | undefined;
    const agents: Child[] = [];
    try {
      const tUp = performance.now();
      lab = await Lab.up({ hosts: HOSTS, name: "bench-overhead", watchdog: true });
      const labUpMs = performance.now() - tUp;
      const logDir = join(lab.runDir, "bench");
      fs.mkdirSync(logDir, { recursive: true });
      const adminKey = `admin-${randomBytes(12).toString("hex")}`;
      const adminKeyFile = join(logDir, "admin-key");
      fs.writeFileSync(adminKeyFile, adminKey + "\n", { mode: 0o600 });

      redis = await startPrivateRedis([lab.gatewayIp, "127.0.0.1"]);
      const port = await freePort(lab.gatewayIp);
      const serverUrl = `http://${lab.gatewayIp}:${port}`;
      server = spawnServer({
        listen: `${lab.gatewayIp}:${port}`, redis: `redis://127.0.0.1:${redis.port}`, agentRedis: `redis://${lab.gatewayIp}:${redis.port}`,
        adminKeyFile, keyPrefix: `ov${randomBytes(3).toString("hex")}`, disconnectGrace: "30s", logFile: join(logDir, "server.log"),
      });
      await waitForOk(`${serverUrl}/healthz`, { alive: server.alive, intervalMs: 10 });
      const env = await createEnvironment(serverUrl, adminKey, "overhead");

      for (const h of lab.hosts) {
        const out = fs.openSync(join(logDir, `agent-${h.index}.log`), "a");
        const proc = h.spawn([process.execPath, droverBin, "agent", "--url", serverUrl, "--token", env.registrationToken,
          "--state-dir", join(h.dir, "agent"), "--docker-socket", "/var/run/docker.sock"], { stdio: ["ignore", out, out] });
        fs.closeSync(out);
        agents.push(wrap(proc));
      }
      const hosts = await waitFor(async () => {
        const list = (await env.api.ok("GET", `${env.base}/hosts`)).data as { id: string; name: string; state: string }[];
        return list.length === HOSTS && list.every((h) => h.state === "active") ? list : false;
      }, { what: `${HOSTS} hosts active`, timeoutMs: 60_000, maxIntervalMs: 200 });
      // Host k of the lab ↔ its host record, so raw containers go where drover's would.
      const hostIds = lab.hosts.map((lh) => hosts.find((h) => h.name === lh.name)!.id);
      const dockers = lab.hosts.map((h) => new Docker({ socketPath: h.dockerSocket }));
      const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "bench" });

      // Warm-up, not counted: one container per host each way.
      const warmRaw = await rawRound(dockers, spread(HOSTS, HOSTS), "warm");
      await removeRaw(dockers, warmRaw.ids);
      const warm = await droverRound(env, stack.id, "warm", HOSTS, hostIds);
      await removeService(env, dockers, warm.serviceId);

      const raw: number[] = [];
      const drover: number[] = [];
      const rawOps: OpTimes = { create: [], start: [] };
      const agentOpTimes: OpTimes = { create: [], start: [] };
      const beforeFirstCreate: number[] = [];
      const afterLastStart: number[] = [];
      const agentLogs = lab.hosts.map((h) => join(logDir, `agent-${h.index}.log`));
      // CPU seconds used during a round by drover's processes (server, agents, Redis) and by
      // this process (dockerode, or the 20 ms API polling): taken from the 2 vCPUs Docker needs too.
      const redisPid = Number((await redis.client().info("server")).match(/process_id:(\d+)/)![1]);
      const serverPid = server.pid;
      const cpuNow = () => ({
        server: procCpuSeconds(serverPid),
        agents: agents.reduce((n, a) => n + procCpuSeconds(a.pid), 0),
        redis: procCpuSeconds(redisPid),
        bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
      });
      const droverCpu: { server: number; agents: number; redis: number }[] = [];
      const benchCpuDrover: number[] = [];
      const benchCpuRaw: number[] = [];
      const placements: string[] = [];
      const counts = spread(SCALE, HOSTS);
      for (let r = 0; r < ROUNDS; r++) {
        const doRaw = async () => {
          const c0 = cpuNow();
          const res = await rawRound(dockers, counts, `r${r}`, rawOps);
          benchCpuRaw.push(cpuNow().bench - c0.bench);
          raw.push(res.ms);
          await removeRaw(dockers, res.ids);
        };
        const doDrover = async () => {
          const c0 = cpuNow();
          const res = await droverRound(env, stack.id, `web${r}`, SCALE, hostIds);
          const c1 = cpuNow();
          droverCpu.push({ server: c1.server - c0.server, agents: c1.agents - c0.agents, redis: c1.redis - c0.redis });
          benchCpuDrover.push(c1.bench - c0.bench);
          drover.push(res.ms);
          placements.push(res.perHost.join("/"));
          // The stack is "bench": containers are bench-web<r>-<index>.
          const seen = agentOps(agentLogs, `bench-web${r}-`, agentOpTimes);
          beforeFirstCreate.push(seen.firstCreatedAt - res.postedAt);
          afterLastStart.push(res.doneAt - seen.lastStartedAt);
          await removeService(env, dockers, res.serviceId);
        };
        if (r % 2 === 0) { await doRaw(); await doDrover(); } else { await doDrover(); await doRaw(); }
      }

      const value = median(drover);
      const baseline = median(raw);
      const ratio = value / baseline;
      return {
        name: "overhead",
        unit: "ms",
        value: round(value, 0),
        baseline: round(baseline, 0),
        ratio: round(ratio, 3),
        goal: `drover's time to ${SCALE} active instances on ${HOSTS} hosts <= ${GOAL} x raw dockerode's time to start the same containers`,
        ok: ratio <= GOAL,
        extra: {
          rounds: ROUNDS,
          droverRoundsMs: drover.map((x) => round(x, 0)).join(" "),
          rawRoundsMs: raw.map((x) => round(x, 0)).join(" "),
          pairRatios: drover.map((d, i) => round(d / raw[i], 3)).join(" "),
          perHostRaw: counts.join("/"),
          perHostDrover: placements.join(" "),
          droverMinusRawMs: round(value - baseline, 0),
          // Where drover's extra time goes: control plane before the first container and after
          // the last one (agent log clocks, ms resolution), and Docker's own calls in each way.
          postToFirstCreatedMs: beforeFirstCreate.map((x) => round(x, 0)).join(" "),
          lastStartedToActiveSeenMs: afterLastStart.map((x) => round(x, 0)).join(" "),
          agentCreateMsP50: round(median(agentOpTimes.create), 0),
          agentStartMsP50: round(median(agentOpTimes.start), 0),
          rawCreateMsP50: round(median(rawOps.create), 0),
          rawStartMsP50: round(median(rawOps.start), 0),
          serverCpuS: droverCpu.map((x) => round(x.server, 2)).join(" "),
          agentsCpuS: droverCpu.map((x) => round(x.agents, 2)).join(" "),
          redisCpuS: droverCpu.map((x) => round(x.redis, 2)).join(" "),
          benchCpuSDroverRounds: benchCpuDrover.map((x) => round(x, 2)).join(" "),
          benchCpuSRawRounds: benchCpuRaw.map((x) => round(x, 2)).join(" "),
          pollMs: POLL_MS,
          labUpMs: round(labUpMs, 0),
        },
      };
    } finally {
      for (const a of agents) await a.stop("SIGTERM", 5000);
      await server?.stop();
      await redis?.stop();
      if (lab && process.env.DROVER_BENCH_KEEP) {
        const keep = fs.mkdtempSync("/tmp/drover-overhead-logs-");
        fs.cpSync(join(lab.runDir, "bench"), keep, { recursive: true });
        console.error(`kept logs in ${keep}`);
      }
      if (lab) await lab.down();
    }
  },
};
