/**
 * drover's overhead over raw Docker: a service of scale 20 on 3 lab hosts until the API shows
 * 20 active instances, against raw dockerode creating and starting the same 20 containers on
 * the same hosts in the same run.
 *
 * Setup: a lab of 3 hosts (test/lab), a private Redis on [gateway, 127.0.0.1], `drover server`
 * as a child process listening on the lab gateway (agents get redis://<gateway>:<port>), and
 * the real agent (`drover agent`) inside every host, on that host's own dockerd.
 *
 * Raw, like for like (bench/support/raw-docker.ts): the create options the agent builds
 * (agent/docker/container-config.ts createOptions) for an instance drover itself placed (read
 * from the warm-up's desired documents): on the host's `drover` bridge network at a static
 * overlay address, with drover's DNS. The network is the one each agent made from its first
 * desired document, reused (same bridge, same iptables plumbing); raw addresses come from the
 * top of the host's subnet, where IPAM never gets to here. Only `io.drover.managed` is "false",
 * so no agent ever touches them. 7/7/6 over the hosts as drover's spread places them, with the
 * agent's parallelism (agent/docker/concurrency.ts, the constant the agent uses): at most that
 * many create+start at once per host, hosts in parallel. Time from the first create until the
 * last start returns.
 *
 * drover: POST the service, then GET instances?serviceId=&state=active every 20 ms until 20.
 * After each round the containers are removed (raw: force remove; drover: DELETE the service
 * and wait until no container of it is left on any host). 3 rounds of each, alternating which
 * goes first, after one small warm-up of each; value and baseline are medians.
 *
 * Where drover's time goes (bench/support/round-timeline.ts): every drover round's marks from
 * the agents' logs and the Redis streams' entry ids, printed on stderr as a timeline (ms after
 * the POST) and summarized in `extra` as medians.
 */
import Docker from "dockerode";
import { randomBytes } from "crypto";
import * as fs from "fs";
import type Redis from "ioredis";
import { join } from "path";
import { performance } from "perf_hooks";
import { dockerConcurrency } from "../agent/docker/concurrency";
import { overlayNetworkName } from "../agent/network/bridge";
import { makeKeys, type Keys } from "../runtime/protocol/keys";
import type { DesiredInstance, HostDesiredState } from "../runtime/protocol/model";
import { Lab } from "../test/lab";
import { freePort } from "../test/support/free-port";
import { startPrivateRedis, type PrivateRedis } from "../test/support/redis-server";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { createEnvironment, EnvHandle, waitForOk } from "./support/http";
import { Child, droverBin, median, procCpuSeconds, spawnServer, wrap } from "./support/procs";
import { createAndStartAll, OpTimes, rawCreateOptions, topAddresses } from "./support/raw-docker";
import { agentMarks, entryField, HostMarks, hostStretches, RoundMarks, Step, streamIdMs, timeline } from "./support/round-timeline";

const HOSTS = 3;
const SCALE = 20;
/** A positive whole number from the environment, or `fallback` when unset. */
function envCount(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${JSON.stringify(text)}: expected a whole number >= 1`);
  return n;
}

/** Rounds of each side (OVERHEAD_ROUNDS overrides it, to look into a noisy machine; the goal is judged at 3). */
const ROUNDS = envCount("OVERHEAD_ROUNDS", 3);
const GOAL = 1.15;
const IMAGE = "local/busybox";
const COMMAND = ["sleep", "3600"];
/** API poll period while waiting for drover (OVERHEAD_POLL_MS overrides it, to see what the polling itself costs). */
const POLL_MS = envCount("OVERHEAD_POLL_MS", 20);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How drover's spread puts `total` instances on `hosts` hosts: as even as possible, first hosts first. */
function spread(total: number, hosts: number): number[] {
  return Array.from({ length: hosts }, (_, k) => Math.floor(total / hosts) + (k < total % hosts ? 1 : 0));
}

/** What the raw side copies from drover, per lab host: a placed instance and the host's subnet. */
interface RawHost {
  docker: Docker;
  hostId: string;
  template: DesiredInstance;
  subnet: string;
}

/** Creates and starts counts[k] containers on host k as its agent would, hosts in parallel. */
async function rawRound(hosts: RawHost[], counts: number[], tag: string, ops?: OpTimes): Promise<{ ms: number; ids: string[][] }> {
  const options = hosts.map((h, k) => topAddresses(h.subnet, counts[k]).map((ip, j) =>
    rawCreateOptions(h.template, h.hostId, { name: `rawbench-${tag}-h${k + 1}-${j + 1}`, ip })));
  const t0 = performance.now();
  const ids = await Promise.all(hosts.map((h, k) => createAndStartAll(h.docker, options[k], ops)));
  return { ms: performance.now() - t0, ids };
}

/**
 * The agents' own view of a drover round, from their JSON logs: per container, create (previous
 * action's end or the reconcile's start → "created container") and start ("created" →
 * "started"), in log order. With several containers in flight these are spans between
 * neighbouring log lines, not single calls: a figure to compare across runs, not with raw's.
 */
function agentOps(logFiles: string[], namePrefix: string, ops: OpTimes): void {
  for (const file of logFiles) {
    let prevEnd: number | undefined;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      if (!line.includes(namePrefix)) continue;
      let l: { time: string; msg: string; name?: string };
      try { l = JSON.parse(line); } catch { continue; }
      if (!l.name?.startsWith(namePrefix)) continue;
      const t = Date.parse(l.time);
      if (l.msg === "created container") {
        if (prevEnd !== undefined) ops.create.push(t - prevEnd);
        prevEnd = t;
      } else if (l.msg === "started container" && prevEnd !== undefined) {
        ops.start.push(t - prevEnd);
        prevEnd = t;
      }
    }
  }
}

async function removeRaw(hosts: RawHost[], ids: string[][]): Promise<void> {
  await Promise.all(hosts.map(async (h, k) => {
    for (const id of ids[k]) await h.docker.getContainer(id).remove({ force: true }).catch(() => undefined);
  }));
}

async function containersOf(dockers: Docker[], label: string): Promise<number[]> {
  return Promise.all(dockers.map(async (d) => (await d.listContainers({ all: true, filters: { label: [label] } })).length));
}

/** POST a service of `scale`, poll until that many instances are active; returns the time and where they went. */
async function droverRound(env: EnvHandle, stackId: string, name: string, scale: number, hostIds: string[]): Promise<{ ms: number; serviceId: string; perHost: number[]; postedAt: number; answeredAt: number; doneAt: number }> {
  const postedAt = Date.now();
  const t0 = performance.now();
  const svc = await env.api.ok("POST", `${env.base}/services`, { stackId, name, image: IMAGE, command: COMMAND, scale });
  const answeredAt = Date.now();
  for (;;) {
    if ((await env.api.total(`${env.base}/instances?serviceId=${svc.id}&state=active`)) === scale) break;
    if (performance.now() - t0 > 120_000) throw new Error(`service ${name}: not ${scale} active instances after 120 s`);
    await sleep(POLL_MS);
  }
  const ms = performance.now() - t0;
  const doneAt = Date.now();
  const perHost = await Promise.all(hostIds.map((h) => env.api.total(`${env.base}/instances?serviceId=${svc.id}&hostId=${h}`)));
  return { ms, serviceId: svc.id, perHost, postedAt, answeredAt, doneAt };
}

async function removeService(env: EnvHandle, dockers: Docker[], serviceId: string): Promise<void> {
  await env.api.ok("DELETE", `${env.base}/services/${serviceId}`);
  await waitFor(async () => (await containersOf(dockers, `io.drover.service=${serviceId}`)).every((n) => n === 0),
    { what: `containers of ${serviceId} removed`, timeoutMs: 60_000, maxIntervalMs: 100 });
  await waitFor(async () => (await env.api.call("GET", `${env.base}/services/${serviceId}`)).status === 404,
    { what: `service ${serviceId} gone`, timeoutMs: 30_000, maxIntervalMs: 100 });
}

/** A host's desired document, as the server wrote it (it holds the environment's PSK: never print it). */
async function desiredOf(redis: Redis, keys: Keys, envId: string, hostId: string): Promise<HostDesiredState> {
  const text = await redis.get(keys.host(envId, hostId).desired);
  if (!text) throw new Error(`host ${hostId}: no desired document`);
  return JSON.parse(text) as HostDesiredState;
}

/** The subnet of the `drover` network the host's agent made, once it exists. */
async function overlaySubnet(docker: Docker): Promise<string | false> {
  try {
    return (await docker.getNetwork(overlayNetworkName).inspect()).IPAM?.Config?.[0]?.Subnet ?? false;
  } catch {
    return false;
  }
}

/** Stream entries from `since` (epoch ms) on: when (Redis's clock), type and action. */
async function entriesSince(redis: Redis, key: string, since: number): Promise<{ at: number; type?: string; action?: string }[]> {
  const entries = await redis.xrange(key, `${since}-0`, "+");
  return entries.map(([id, fields]) => ({ at: streamIdMs(id), type: entryField(fields, "type"), action: entryField(fields, "action") }));
}

/** A drover round's marks (see bench/support/round-timeline.ts). */
async function roundMarks(redis: Redis, keys: Keys, envId: string, hostIds: string[], agentLogs: string[],
  namePrefix: string, res: { postedAt: number; answeredAt: number; doneAt: number }): Promise<RoundMarks> {
  const since = res.postedAt;
  const apiWrites = await entriesSince(redis, keys.env(envId).reconcile, since);
  const instanceWrites = (await entriesSince(redis, keys.env(envId).events, since)).filter((e) => e.type === "instance");
  const hosts: HostMarks[] = [];
  for (let k = 0; k < hostIds.length; k++) {
    const hk = keys.host(envId, hostIds[k]);
    const nudges = await entriesSince(redis, hk.nudges, since);
    const reports = (await entriesSince(redis, hk.reports, since)).filter((e) => e.at <= res.doneAt);
    const agent = agentMarks(fs.readFileSync(agentLogs[k], "utf8"), namePrefix, since);
    const observed = reports.filter((e) => e.type === "observed");
    hosts.push({
      ...agent,
      desiredAt: nudges.find((e) => e.type === "desired")?.at,
      observedAt: agent.lastStartedAt === undefined ? undefined : observed.find((e) => e.at >= agent.lastStartedAt!)?.at,
      observedReports: observed.length,
      instanceReports: reports.filter((e) => e.type === "instance").length,
    });
  }
  return { ...res, apiWriteAt: apiWrites[0]?.at, instanceWrites, hosts };
}

/** One round's timeline for stderr: a line per step with the ms since the POST and since the step before. */
function formatTimeline(label: string, steps: Step[], marks: RoundMarks): string {
  const lines = [`overhead: ${label}, ms after the POST`];
  let prev = 0;
  for (const s of steps) {
    const at = s.atMs === undefined ? "?" : String(Math.round(s.atMs));
    const delta = s.atMs === undefined ? "" : `(+${Math.round(s.atMs - prev)})`;
    if (s.atMs !== undefined) prev = s.atMs;
    lines.push(`  ${at.padStart(6)} ${delta.padStart(8)}  ${s.what}`);
  }
  marks.hosts.forEach((h, k) => {
    const s = hostStretches(h);
    lines.push(`  host ${k + 1}: desired→first created ${s.toFirstCreate ?? "?"} ms, first created→last started ${s.docker ?? "?"} ms, last started→observed ${s.toObserved ?? "?"} ms; ${h.observedReports} observed and ${h.instanceReports} instance reports`);
  });
  return lines.join("\n");
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
      const keyPrefix = `ov${randomBytes(3).toString("hex")}`;
      const keys = makeKeys(keyPrefix);
      const serverLog = join(logDir, "server.log");
      server = spawnServer({
        listen: `${lab.gatewayIp}:${port}`, redis: `redis://127.0.0.1:${redis.port}`, agentRedis: `redis://${lab.gatewayIp}:${redis.port}`,
        adminKeyFile, keyPrefix, disconnectGrace: "30s", logFile: serverLog,
        // The plain hop, as the lab tests run it: this measures the network and the agent, not TLS (control-plane-tls does).
        extraArgs: ["--api-tls", "off"],
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
      // The raw side joins the `drover` network each agent makes from its first desired document.
      const subnets = await Promise.all(dockers.map((d, k) => waitFor(() => overlaySubnet(d),
        { what: `the ${overlayNetworkName} network on host ${k + 1}`, timeoutMs: 30_000, maxIntervalMs: 100 })));
      const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "bench" });
      const rc = redis.client();

      // Warm-up, not counted: one container per host each way. drover's goes first: its
      // instances, as the server placed them, are the raw side's templates.
      const warm = await droverRound(env, stack.id, "warm", HOSTS, hostIds);
      const rawHosts: RawHost[] = [];
      for (let k = 0; k < HOSTS; k++) {
        const template = (await desiredOf(rc, keys, env.id, hostIds[k])).instances.find((i) => i.serviceId === warm.serviceId);
        if (!template) throw new Error(`host ${k + 1}: no instance of the warm-up service in its desired document (placed ${warm.perHost.join("/")})`);
        rawHosts.push({ docker: dockers[k], hostId: hostIds[k], template, subnet: subnets[k] });
      }
      await removeService(env, dockers, warm.serviceId);
      const warmRaw = await rawRound(rawHosts, spread(HOSTS, HOSTS), "warm");
      await removeRaw(rawHosts, warmRaw.ids);

      const raw: number[] = [];
      const drover: number[] = [];
      const rawOps: OpTimes = { create: [], start: [] };
      const agentOpTimes: OpTimes = { create: [], start: [] };
      const timelines: Step[][] = [];
      const hostMarks: HostMarks[] = [];
      const agentLogs = lab.hosts.map((h) => join(logDir, `agent-${h.index}.log`));
      // CPU seconds used during a round by drover's processes (server, agents, Redis) and by
      // this process (dockerode, or the 20 ms API polling): taken from the 2 vCPUs Docker needs too.
      const redisPid = Number((await rc.info("server")).match(/process_id:(\d+)/)![1]);
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
          const res = await rawRound(rawHosts, counts, `r${r}`, rawOps);
          benchCpuRaw.push(cpuNow().bench - c0.bench);
          raw.push(res.ms);
          await removeRaw(rawHosts, res.ids);
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
          agentOps(agentLogs, `bench-web${r}-`, agentOpTimes);
          const marks = await roundMarks(rc, keys, env.id, hostIds, agentLogs, `bench-web${r}-`, res);
          const steps = timeline(marks);
          timelines.push(steps);
          hostMarks.push(...marks.hosts);
          console.error(formatTimeline(`drover round ${r + 1} (${round(res.ms, 0)} ms; raw rounds so far ${raw.map((x) => round(x, 0)).join(" ") || "none"})`, steps, marks));
          await removeService(env, dockers, res.serviceId);
        };
        if (r % 2 === 0) { await doRaw(); await doDrover(); } else { await doDrover(); await doRaw(); }
      }
      // Each step's median over the rounds, ms after the POST ("?" where a mark was missing).
      const stepMedians = timelines[0].map((s, i) => {
        const xs = timelines.map((t) => t[i].atMs).filter((x): x is number => x !== undefined);
        return `${s.what}: ${xs.length === timelines.length ? round(median(xs), 0) : "?"}`;
      }).join("; ");
      const stretch = (pick: (h: ReturnType<typeof hostStretches>) => number | undefined) => {
        const xs = hostMarks.map((h) => pick(hostStretches(h))).filter((x): x is number => x !== undefined);
        return xs.length ? round(median(xs), 0) : "?";
      };

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
          // Where drover's extra time goes (medians over rounds; per round on stderr): the
          // timeline in ms after the POST, and per host the agent's stretches (nudge → first
          // create, first create → last start, last start → observed report).
          timelineMsP50: stepMedians,
          hostNudgeToFirstCreateMsP50: stretch((h) => h.toFirstCreate),
          hostDockerMsP50: stretch((h) => h.docker),
          hostLastStartToObservedMsP50: stretch((h) => h.toObserved),
          dockerConcurrency,
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
