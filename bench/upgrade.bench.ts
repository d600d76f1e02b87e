/**
 * upgrade: a rolling upgrade of a scale-10 service with a health check, 2 at a time, starting
 * the new ones first, drover against Docker Swarm's `docker service update
 * --update-parallelism 2 --update-order start-first` with the same check, on the same machine
 * in the same run (issue 9). A client loop in another container resolves and fetches the
 * service by name all along; its failed requests during drover's upgrade are `extra.failed`
 * (goal 0), and the same count is taken for Swarm.
 *
 * Setup: a lab of 2 hosts. drover: private Redis, `drover server`, the real agent on h1 only
 * (an environment of one host); Swarm: `docker swarm init` on h2's own dockerd. One node a
 * side, ten replicas each, the same image and command (busybox httpd serving "$VERSION
 * $(hostname)" with a /healthz file), the same check as the heal benchmark (interval 1 s,
 * timeout 1 s, unhealthy after 2, healthy after 1; mapping in support/docker-healthcheck.ts).
 *
 * Like for like:
 * - the change is a new env value VERSION=vN on both sides (drover: PATCH env, an upgrade
 *   like any spec change; Swarm: `service update --env-add`);
 * - batch 2 ↔ --update-parallelism 2; startFirst ↔ --update-order start-first; intervalMillis 0
 *   ↔ --update-delay 0s. On failure they differ: drover rolls a failed batch back (the round
 *   then fails, loudly), while Swarm gets --update-failure-action continue. Docker's check is
 *   an exec inside every container every second, which on a loaded 2-core machine overruns
 *   its 1 s timeout now and then: Swarm then kills and replaces the task, and with `rollback`
 *   (or the default `pause`) the round would end without a figure. Those replacements are
 *   counted instead (extra.swarmExtraCreates, swarmUnhealthyEvents), and drover's likewise;
 * - drover drains an old instance for 1 s (out of DNS, then removed, runtime/reconcile/drain.ts);
 *   Swarm gets --stop-grace-period 1s (busybox httpd ignores SIGTERM, so the old task keeps
 *   serving its grace out after it left Swarm's DNS);
 * - service discovery by DNS on both: drover's DNS hands out healthy instances' addresses;
 *   Swarm's service uses --endpoint-mode dnsrr on an attachable overlay network, so its
 *   embedded DNS hands out the tasks' addresses (no IPVS virtual IP in between). The client
 *   is a linked drover service on h1, and a plain container on that overlay network on h2.
 *
 * A round: start the client loop, wait for its first answer, send the update (t0), poll every
 * ~50–100 ms until all 10 instances run the new spec and are healthy (drover: the API shows
 * the upgrade `upgraded` and 10 serving instances of the new specVersion; Swarm: 10 tasks of
 * the new spec `running`, which Swarm reaches only once the container is healthy, and dockerd
 * shows them `(healthy)`): that time is the figure. Then wait until no old container runs any
 * more (`oldGoneMs`) and a few more requests passed; the failed requests counted are those from
 * t0 to then. Rounds alternate which side goes first (v1→v2, v2→v3, ...); value and baseline
 * are medians.
 */
import type Docker from "dockerode";
import { randomBytes } from "crypto";
import { containerLabels } from "../runtime/protocol/agent-protocol";
import type { HealthCheckSpec } from "../runtime/protocol/model";
import { Lab, type LabHost } from "../test/lab";
import type { ControlPlane } from "../test/support/control-plane";
import { WaitAbort, waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { ClientLoop, countRequests } from "./support/client-loop";
import { ContainerEventRecorder, type ContainerEvent } from "./support/docker-events";
import { dockerHealthFlags } from "./support/docker-healthcheck";
import { containerOfInstance, instancesOf, isServingInstance, startDrover, type DroverLab } from "./support/drover-lab";
import { keepLogs } from "./support/keep-logs";
import { cleanupOnSignal } from "./support/on-signal";
import { median } from "./support/procs";
import { isHealthyStatus, leaveSwarm, SwarmNode } from "./support/swarm";

const ROUNDS = Number(process.env.UPGRADE_ROUNDS ?? 3);
const SCALE = 10;
const BATCH = 2;
const IMAGE = "local/busybox";
const HTTPD = ["sh", "-c", 'mkdir -p /www && echo ok > /www/healthz && echo "$VERSION $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'];
const CHECK: HealthCheckSpec = {
  port: 80, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 1000, healthyThreshold: 1, unhealthyThreshold: 2,
  initializingTimeout: 30_000, reinitializingTimeout: 30_000, strategy: "recreate",
};
const STRATEGY = { batchSize: BATCH, intervalMillis: 0, startFirst: true };
/** drover's DNS drain before an old instance is removed (runtime/reconcile/drain.ts DNS_DRAIN_MS), given to Swarm as its stop grace. */
const DRAIN = "1s";
const ROUND_TIMEOUT_MS = 300_000;
const POLL = { intervalMs: 50, maxIntervalMs: 100 };
/** Requests the client must make after the last old container went, so the tail of the rollout is in the count. */
const TAIL_REQUESTS = 5;

interface Upgrade {
  /** Epoch ms of the update request. */
  t0: number;
  /** Update request → all 10 on the new spec and healthy. */
  ms: number;
  /** Update request → no container of the old spec running. */
  oldGoneMs: number;
  /** Update request → the first new container started (dockerd's event). */
  firstStartMs: number;
  /** Containers created beyond the SCALE new ones (replacements during the rollout). */
  extraCreates: number;
  /** Docker `health_status: unhealthy` events (Swarm's side only: drover's checks are not Docker's). */
  unhealthy: number;
  requests: number;
  failed: number;
  firstFailures: string[];
}

async function countAfter(client: ClientLoop, from: number, tail: number): Promise<string[]> {
  const lines = await waitFor(async () => {
    const all = await client.lines();
    return all.length >= tail && all;
  }, { what: "the client's requests after the rollout", timeoutMs: 60_000, maxIntervalMs: 200 });
  return lines.slice(from);
}

/**
 * From dockerd's events over a round (container events carry the container's labels): when the
 * first container of the service started, and how many were created beyond the SCALE a
 * rollout needs (replacements of containers that turned unhealthy: churn).
 */
function rolloutEvents(events: ContainerEvent[], label: string, value: string, t0: number): { firstStartMs: number; extraCreates: number; unhealthy: number } {
  const own = events.filter((e) => e.attributes[label] === value && e.at >= t0);
  const start = own.find((e) => e.action === "start");
  return {
    firstStartMs: start ? start.at - t0 : NaN,
    extraCreates: own.filter((e) => e.action === "create").length - SCALE,
    unhealthy: own.filter((e) => e.action === "health_status: unhealthy").length,
  };
}

// ---- drover ----

interface DroverSide { d: DroverLab; serviceId: string; client: ClientLoop; docker: Docker; host: LabHost }

async function droverSetup(d: DroverLab): Promise<DroverSide> {
  const { env } = d;
  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "bench" });
  const web = await env.api.ok("POST", `${env.base}/services`, {
    name: "web", stackId: stack.id, image: IMAGE, command: HTTPD, env: { VERSION: "v1" }, scale: SCALE, healthCheck: CHECK, upgradeStrategy: STRATEGY,
  });
  const client = await env.api.ok("POST", `${env.base}/services`, { name: "client", stackId: stack.id, image: IMAGE, command: ["sleep", "36000"], links: { web: web.id } });
  await waitFor(async () => (await instancesOf(env, web.id)).filter(isServingInstance).length === SCALE,
    { what: `${SCALE} healthy drover instances`, timeoutMs: ROUND_TIMEOUT_MS, maxIntervalMs: 250 });
  const [inst] = await waitFor(async () => {
    const list = (await instancesOf(env, client.id)).filter((i) => i.status?.state === "running");
    return list.length === 1 && list;
  }, { what: "drover's client running", timeoutMs: 60_000 });
  const host = d.hostOf.get(inst.hostId)!;
  const docker = d.dockerOf.get(host.name)!;
  const containerId = await waitFor(() => containerOfInstance(docker, inst.id), { what: "drover's client container" });
  return { d, serviceId: web.id, client: new ClientLoop(docker, containerId, "web"), docker, host };
}

async function droverUpgrade(s: DroverSide, version: string): Promise<Upgrade> {
  await s.client.start();
  const recorder = await ContainerEventRecorder.start(s.docker);
  try {
    return await droverRollout(s, version, recorder);
  } finally {
    recorder.stop();
  }
}

async function droverRollout(s: DroverSide, version: string, recorder: ContainerEventRecorder): Promise<Upgrade> {
  const { env } = s.d;
  const from = (await s.client.lines()).length;
  const t0 = Date.now();
  const up = await env.api.ok("PATCH", `${env.base}/services/${s.serviceId}`, { env: { VERSION: version } });
  const target: number = up.specVersion;
  if (up.upgrade?.state !== "upgrading") throw new Error(`drover: PATCH did not start an upgrade: ${JSON.stringify(up.upgrade ?? null)}`);
  let fresh = new Set<string>();
  await waitFor(async () => {
    const svc = await env.api.ok("GET", `${env.base}/services/${s.serviceId}`);
    if (svc.upgrade?.state === "rolled-back" || svc.upgrade?.state === "rolling-back") throw new WaitAbort(`drover rolled back: ${svc.upgrade.reason}`);
    if (svc.upgrade?.state !== "upgraded") return false;
    const list = (await instancesOf(env, s.serviceId)).filter((i) => i.specVersion === target && isServingInstance(i));
    fresh = new Set(list.map((i) => i.id));
    return list.length === SCALE;
  }, { what: `drover's upgrade to ${version}`, timeoutMs: ROUND_TIMEOUT_MS, ...POLL });
  const ms = Date.now() - t0;
  // Old containers: any container of the service whose instance is not one of the new ten.
  await waitFor(async () => {
    const running = await s.docker.listContainers({ filters: { label: [`${containerLabels.service}=${s.serviceId}`] } });
    return running.every((c) => fresh.has(c.Labels[containerLabels.instance]));
  }, { what: "drover's old containers gone", timeoutMs: 60_000, ...POLL });
  const oldGoneMs = Date.now() - t0;
  const tail = (await s.client.lines()).length + TAIL_REQUESTS;
  const counted = countRequests(await countAfter(s.client, from, tail));
  await s.client.stop();
  return { t0, ms, oldGoneMs, ...rolloutEvents(recorder.seen, containerLabels.service, s.serviceId, t0), ...counted };
}

// ---- Swarm ----

interface SwarmSide { node: SwarmNode; service: string; client: ClientLoop }

async function swarmSetup(node: SwarmNode): Promise<SwarmSide> {
  const tag = randomBytes(3).toString("hex");
  const network = `bench-${tag}`;
  const service = `web-${tag}`;
  await node.cli(["network", "create", "--driver", "overlay", "--attachable", network]);
  await node.cli(["service", "create", "--detach", "--quiet", "--name", service, "--replicas", String(SCALE),
    "--network", network, "--endpoint-mode", "dnsrr", "--env", "VERSION=v1",
    ...dockerHealthFlags(CHECK), "--restart-condition", "any", "--stop-grace-period", DRAIN,
    "--update-parallelism", String(BATCH), "--update-order", "start-first", "--update-delay", "0s", "--update-failure-action", "continue",
    IMAGE, ...HTTPD]);
  await waitFor(async () => (await swarmNewTasks(node, service, "v1")).length === SCALE,
    { what: `${SCALE} healthy Swarm tasks`, timeoutMs: ROUND_TIMEOUT_MS, maxIntervalMs: 250 });
  const clientName = `client-${tag}`;
  const id = (await node.cli(["run", "-d", "--name", clientName, "--network", network, IMAGE, "sleep", "36000"])).trim();
  return { node, service, client: new ClientLoop(node.docker, id, service) };
}

/** The service's tasks of `version` that run with a healthy container. */
async function swarmNewTasks(node: SwarmNode, service: string, version: string): Promise<string[]> {
  const [tasks, containers] = await Promise.all([
    node.tasks(service),
    node.docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`] } }),
  ]);
  const healthy = new Set(containers.filter((c) => isHealthyStatus(c.Status)).map((c) => c.Id));
  return tasks
    .filter((t) => t.state === "running" && t.env.includes(`VERSION=${version}`) && t.containerId && healthy.has(t.containerId))
    .map((t) => t.containerId!);
}

async function swarmUpgrade(s: SwarmSide, version: string): Promise<Upgrade> {
  await s.client.start();
  const recorder = await ContainerEventRecorder.start(s.node.docker);
  try {
    return await swarmRollout(s, version, recorder);
  } finally {
    recorder.stop();
  }
}

async function swarmRollout(s: SwarmSide, version: string, recorder: ContainerEventRecorder): Promise<Upgrade> {
  const { node, service } = s;
  const from = (await s.client.lines()).length;
  const t0 = Date.now();
  await node.cli(["service", "update", "--detach", "--quiet", "--env-add", `VERSION=${version}`, service]);
  await waitFor(async () => {
    const state = await node.updateState(service);
    if (state.startsWith("rollback") || state === "paused") throw new WaitAbort(`Swarm's update is ${state}`);
    return (await swarmNewTasks(node, service, version)).length === SCALE;
  }, { what: `Swarm's update to ${version}`, timeoutMs: ROUND_TIMEOUT_MS, ...POLL });
  const ms = Date.now() - t0;
  await waitFor(async () => (await node.tasks(service)).every((t) => t.env.includes(`VERSION=${version}`) || !["running", "starting"].includes(t.state)),
    { what: "Swarm's old tasks gone", timeoutMs: 60_000, ...POLL });
  const oldGoneMs = Date.now() - t0;
  const tail = (await s.client.lines()).length + TAIL_REQUESTS;
  const counted = countRequests(await countAfter(s.client, from, tail));
  await s.client.stop();
  return { t0, ms, oldGoneMs, ...rolloutEvents(recorder.seen, "com.docker.swarm.service.name", service, t0), ...counted };
}

// ---- figures ----

/** One line per round on stderr (the last stdout line stays the result): when it ran, to find it in the logs. */
function note(side: string, version: string, u: Upgrade): Upgrade {
  console.error(`upgrade: ${side} to ${version} from ${new Date(u.t0).toISOString()}: ${u.ms} ms, old gone ${u.oldGoneMs} ms, ${u.failed}/${u.requests} failed`);
  return u;
}

const list = (xs: number[]) => xs.map((x) => (Number.isFinite(x) ? String(Math.round(x)) : "?")).join(" ");
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export const benchmark: Benchmark = {
  name: "upgrade",
  summary: "ms for a rolling upgrade of 10 (batch 2, start-first, health-checked), drover vs Docker Swarm; failed client requests",
  async run(): Promise<BenchResult> {
    let lab: Lab | undefined;
    let drover: DroverLab | undefined;
    /** Known as soon as it exists, so an interrupted start still stops its server and Redis. */
    let cp: ControlPlane | undefined;
    let swarmHost: LabHost | undefined;
    const cleanup = cleanupOnSignal(async () => {
      if (swarmHost) await leaveSwarm(swarmHost).catch((err) => console.error("upgrade: swarm leave:", err));
      if (cp) {
        await cp.stop().catch((err) => console.error("upgrade: control plane stop:", err));
        const kept = keepLogs(cp.logDir, "upgrade");
        if (kept) console.error(`upgrade: server and agent logs in ${kept}`);
      }
      if (lab) await lab.down();
    });
    try {
      lab = await Lab.up({ hosts: 2, name: "bench-upgrade", watchdog: true });
      swarmHost = lab.hosts[1];
      const node = await SwarmNode.init(swarmHost);
      const swarm = await swarmSetup(node);
      drover = await startDrover(lab, [lab.hosts[0]], "bench-upgrade", (c) => { cp = c; });
      const side = await droverSetup(drover);

      const droverRounds: Upgrade[] = [];
      const swarmRounds: Upgrade[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const version = `v${r + 2}`;
        const doDrover = async () => { droverRounds.push(note("drover", version, await droverUpgrade(side, version))); };
        const doSwarm = async () => { swarmRounds.push(note("swarm", version, await swarmUpgrade(swarm, version))); };
        if (r % 2 === 0) { await doDrover(); await doSwarm(); } else { await doSwarm(); await doDrover(); }
      }

      const value = median(droverRounds.map((u) => u.ms));
      const baseline = median(swarmRounds.map((u) => u.ms));
      const ratio = value / baseline;
      const failed = sum(droverRounds.map((u) => u.failed));
      const batches = Math.ceil(SCALE / BATCH);
      return {
        name: "upgrade",
        unit: "ms",
        value: round(value, 0),
        baseline: round(baseline, 0),
        ratio: round(ratio, 3),
        goal: "ratio <= 1.0; extra.failed = 0 (failed client requests during drover's upgrades)",
        ok: ratio <= 1.0 && failed === 0,
        extra: {
          rounds: ROUNDS,
          scale: SCALE,
          batch: BATCH,
          baselineIs: `docker swarm, 1 node: --update-parallelism ${BATCH} --update-order start-first --update-delay 0s, --stop-grace-period ${DRAIN}, --endpoint-mode dnsrr`,
          failed,
          requests: sum(droverRounds.map((u) => u.requests)),
          swarmFailed: sum(swarmRounds.map((u) => u.failed)),
          swarmRequests: sum(swarmRounds.map((u) => u.requests)),
          droverRoundsMs: list(droverRounds.map((u) => u.ms)),
          swarmRoundsMs: list(swarmRounds.map((u) => u.ms)),
          pairRatios: droverRounds.map((d, i) => String(round(d.ms / swarmRounds[i].ms, 3))).join(" "),
          droverMsPerBatch: round(value / batches, 0),
          swarmMsPerBatch: round(baseline / batches, 0),
          droverFirstStartMs: list(droverRounds.map((u) => u.firstStartMs)),
          swarmFirstStartMs: list(swarmRounds.map((u) => u.firstStartMs)),
          droverExtraCreates: list(droverRounds.map((u) => u.extraCreates)),
          swarmExtraCreates: list(swarmRounds.map((u) => u.extraCreates)),
          swarmUnhealthyEvents: list(swarmRounds.map((u) => u.unhealthy)),
          droverOldGoneMs: list(droverRounds.map((u) => u.oldGoneMs)),
          swarmOldGoneMs: list(swarmRounds.map((u) => u.oldGoneMs)),
          droverFailedPerRound: droverRounds.map((u) => `${u.failed}/${u.requests}`).join(" "),
          swarmFailedPerRound: swarmRounds.map((u) => `${u.failed}/${u.requests}`).join(" "),
          ...(failed ? { droverFirstFailures: droverRounds.flatMap((u) => u.firstFailures).slice(0, 3).join(" | ") } : {}),
          ...(sum(swarmRounds.map((u) => u.failed)) ? { swarmFirstFailures: swarmRounds.flatMap((u) => u.firstFailures).slice(0, 3).join(" | ") } : {}),
        },
      };
    } finally {
      await cleanup.run();
    }
  },
};
