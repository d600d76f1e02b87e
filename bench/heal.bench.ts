/**
 * heal: the time from a container turning sick (its health endpoint removed) to a healthy
 * replacement answering HTTP, drover against Docker Swarm mode replacing a task with the
 * same health check, on the same machine in the same run (issue 9).
 *
 * Setup: a lab of 2 hosts (test/lab). drover: a private Redis, `drover server` and the real
 * agent on h1 only, an environment of that one host (HEAL_DROVER_HOSTS=3 puts drover on three
 * hosts instead, its second checker on another host; Swarm then gets a fourth). Swarm:
 * `docker swarm init --advertise-addr <underlay IP>` on the last lab host's own dockerd.
 * One node each, one replica each, the same dockerd build, image and command (busybox httpd
 * serving /www with a /healthz file), so what differs is the orchestration.
 *
 * The check, Rancher's fields → Docker's HEALTHCHECK (bench/support/docker-healthcheck.ts):
 * interval 1000 ms → --health-interval, responseTimeout 1000 ms → --health-timeout,
 * unhealthyThreshold 2 → --health-retries 2, healthyThreshold 1 (Docker is healthy after one
 * pass, so drover gets 1 too), requestLine `GET /healthz HTTP/1.0` → --health-cmd `wget -q -O
 * /dev/null http://127.0.0.1:80/healthz` (inside the container: an IP literal, since
 * busybox-static's wget crashes resolving names), strategy recreate ↔ Swarm's restart
 * condition `any`. Swarm's replacement knobs are set to what drover does: drover force-removes
 * a sick container (no stop grace) and starts the first replacement of a slot at once (its
 * back-off starts at the second), so Swarm gets `--stop-grace-period 0s --restart-delay 0s`.
 * Swarm's defaults (10 s grace, which busybox httpd as PID 1 always uses up since it ignores
 * SIGTERM, and a 5 s restart delay) are measured once more at the end, for information
 * (`extra.swarmDefaultsMs`), not in the ratio.
 *
 * A round: `rm /www/healthz` in the serving container (docker exec through the host's socket);
 * t0 when it returned; then poll every ~20–50 ms until a different container is healthy
 * (drover: the API shows a new instance running and `healthy`; Swarm: dockerd shows a new
 * task container `(healthy)`, which Swarm also requires before it calls the task running)
 * and its address answers GET /healthz with 200 from inside its host (curl). Rounds alternate
 * which side goes first; value and baseline are medians.
 *
 * The split (medians, ms; see `Split`): detect = t0 → unhealthy (drover: the server's
 * healthChangedAt from the event stream; Swarm: dockerd's `health_status: unhealthy` event);
 * react = unhealthy → dockerd's `kill` of the sick container (for drover also cut in two: plan,
 * the server's pass that creates the replacement's record, and agent, from there to the
 * agent's remove); replace = kill → the new container's `start` event; ready = start → healthy
 * (drover: the new instance's healthChangedAt; Swarm: `health_status: healthy`); answer =
 * healthy → HTTP 200 seen (mostly the poll's own granularity). dockerd's events are recorded
 * live (support/docker-events.ts), drover's from its event stream (support/env-events.ts).
 */
import type Docker from "dockerode";
import { randomBytes } from "crypto";
import type { HealthCheckSpec } from "../runtime/protocol/model";
import { Lab, type LabHost } from "../test/lab";
import type { ControlPlane } from "../test/support/control-plane";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { ContainerEventRecorder, firstEvent } from "./support/docker-events";
import { execOk } from "./support/docker-exec";
import { dockerHealthFlags } from "./support/docker-healthcheck";
import { containerOfInstance, instancesOf, isServingInstance, startDrover, type ApiInstance, type DroverLab } from "./support/drover-lab";
import { EnvEventLog } from "./support/env-events";
import { keepLogs } from "./support/keep-logs";
import { cleanupOnSignal } from "./support/on-signal";
import { httpStatusFrom } from "./support/http-probe";
import { median } from "./support/procs";
import { isHealthyStatus, leaveSwarm, SwarmNode } from "./support/swarm";

const ROUNDS = Number(process.env.HEAL_ROUNDS ?? 7);
const DROVER_HOSTS = Number(process.env.HEAL_DROVER_HOSTS ?? 1);
const IMAGE = "local/busybox";
const HTTPD = ["sh", "-c", "mkdir -p /www && echo ok > /www/healthz && hostname > /www/index.html && exec httpd -f -p 80 -h /www"];
const CHECK: HealthCheckSpec = {
  port: 80, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 1000, healthyThreshold: 1, unhealthyThreshold: 2,
  initializingTimeout: 30_000, reinitializingTimeout: 30_000, strategy: "recreate",
};
/** The fallback baseline when Swarm cannot run: the time the check itself needs to call a container sick. */
const DETECTION_BUDGET_MS = CHECK.interval * CHECK.unhealthyThreshold;
/** A round that has not healed by then failed (a loaded 2-core machine is slow, not this slow). */
const ROUND_TIMEOUT_MS = 120_000;
const POLL = { intervalMs: 20, maxIntervalMs: 50 };

/** One healing, as seen by the benchmark: epoch ms of each step (NaN when not seen). */
interface Healing {
  totalMs: number;
  /** The health file was removed (the exec returned). */
  t0: number;
  /** Declared unhealthy: drover's server (healthChangedAt), Swarm's dockerd (health_status event). */
  unhealthyAt: number;
  /** drover only: the server's pass that planned the replacement (its `instance.created` event). */
  plannedAt: number;
  /** dockerd's `kill` of the sick container (drover's agent force-removing it; Swarm shutting the task down). */
  oldKilledAt: number;
  newStartedAt: number;
  healthyAt: number;
  answeredAt: number;
}

/**
 * detect: t0 → unhealthy (the checks); react: unhealthy → the old container's kill (drover:
 * plan = the server's pass that plans the replacement, agent = desired document → the agent's
 * remove); replace: kill → the new container's start (dockerd: kill, remove, create, start);
 * ready: start → healthy (the new container's first passing check); answer: healthy → HTTP 200
 * seen by the benchmark's poll.
 */
type Split = { detect: number; react: number; plan: number; agent: number; replace: number; ready: number; answer: number };

function split(h: Healing): Split {
  return {
    detect: h.unhealthyAt - h.t0,
    react: h.oldKilledAt - h.unhealthyAt,
    plan: h.plannedAt - h.unhealthyAt,
    agent: h.oldKilledAt - h.plannedAt,
    replace: h.newStartedAt - h.oldKilledAt,
    ready: h.healthyAt - h.newStartedAt,
    answer: h.answeredAt - h.healthyAt,
  };
}

// ---- drover ----

async function droverServing(d: DroverLab, serviceId: string): Promise<ApiInstance> {
  return waitFor(async () => {
    const list = await instancesOf(d.env, serviceId);
    return list.length === 1 && isServingInstance(list[0]) && list[0];
  }, { what: "one serving drover instance", timeoutMs: ROUND_TIMEOUT_MS, maxIntervalMs: 100 });
}

/** When the server called `old` unhealthy: its healthChangedAt if an event still showed it, else the id time of its last update before removal. */
function droverUnhealthyAt(events: EnvEventLog, oldId: string, t0: number): number {
  const about = events.about(oldId).filter((e) => e.at >= t0 - 5);
  const shown = about.find((e) => e.resource?.healthState === "unhealthy" && e.resource.healthChangedAt);
  if (shown) return Date.parse(shown.resource!.healthChangedAt);
  const removedAt = about.find((e) => e.name === "instance.removed")?.at;
  const updates = about.filter((e) => e.name === "instance.updated" && (removedAt === undefined || e.at <= removedAt));
  return updates.length ? updates[updates.length - 1].at : NaN;
}

async function droverRound(d: DroverLab, events: EnvEventLog, serviceId: string): Promise<Healing> {
  const before = await droverServing(d, serviceId);
  const host = d.hostOf.get(before.hostId)!;
  const docker = d.dockerOf.get(host.name)!;
  const containerId = await waitFor(() => containerOfInstance(docker, before.id), { what: `container of ${before.name}` });
  // Every drover host's engine: with several, the replacement may go elsewhere.
  const recorders = new Map<Docker, ContainerEventRecorder>();
  for (const dk of d.dockerOf.values()) recorders.set(dk, await ContainerEventRecorder.start(dk));
  try {
    await execOk(docker, containerId, ["rm", "/www/healthz"]);
    const t0 = Date.now();
    const replacement = await waitFor(async () => {
      const repl = (await instancesOf(d.env, serviceId)).find((i) => i.id !== before.id && isServingInstance(i));
      if (!repl) return false;
      const on = d.hostOf.get(repl.hostId)!;
      return (await httpStatusFrom(on, `http://${repl.ip}:${CHECK.port}/healthz`)) === 200 && repl;
    }, { what: "drover's healthy replacement answering", timeoutMs: ROUND_TIMEOUT_MS, ...POLL });
    const answeredAt = Date.now();
    const newDocker = d.dockerOf.get(d.hostOf.get(replacement.hostId)!.name)!;
    const newContainer = await containerOfInstance(newDocker, replacement.id);
    const oldEvents = recorders.get(docker)!.seen;
    const newEvents = recorders.get(newDocker)!.seen;
    return {
      totalMs: answeredAt - t0,
      t0,
      unhealthyAt: droverUnhealthyAt(events, before.id, t0),
      plannedAt: events.about(replacement.id).find((e) => e.name === "instance.created")?.at ?? NaN,
      oldKilledAt: firstEvent(oldEvents, containerId, "kill", t0)?.at ?? NaN,
      newStartedAt: (newContainer ? firstEvent(newEvents, newContainer, "start", t0)?.at : undefined) ??
        (replacement.status?.startedAt ? Date.parse(replacement.status.startedAt) : NaN),
      healthyAt: replacement.healthChangedAt ? Date.parse(replacement.healthChangedAt) : NaN,
      answeredAt,
    };
  } finally {
    for (const r of recorders.values()) r.stop();
  }
}

// ---- Swarm ----

interface SwarmContainer { id: string; ip: string }

async function swarmContainers(node: SwarmNode, service: string): Promise<Docker.ContainerInfo[]> {
  return node.docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`] } });
}

function bridgeIp(c: Docker.ContainerInfo): string | undefined {
  return Object.values(c.NetworkSettings?.Networks ?? {}).map((n) => n.IPAddress).find(Boolean);
}

async function swarmServing(node: SwarmNode, service: string): Promise<SwarmContainer> {
  return waitFor(async () => {
    const running = await swarmContainers(node, service);
    const ip = running.length === 1 && isHealthyStatus(running[0].Status) ? bridgeIp(running[0]) : undefined;
    return ip ? { id: running[0].Id, ip } : false;
  }, { what: `one healthy Swarm task of ${service}`, timeoutMs: ROUND_TIMEOUT_MS, maxIntervalMs: 100 });
}

async function swarmRound(node: SwarmNode, service: string): Promise<Healing> {
  const before = await swarmServing(node, service);
  const recorder = await ContainerEventRecorder.start(node.docker);
  try {
    await execOk(node.docker, before.id, ["rm", "/www/healthz"]);
    const t0 = Date.now();
    const replacement = await waitFor(async () => {
      const repl = (await swarmContainers(node, service)).find((c) => c.Id !== before.id && isHealthyStatus(c.Status) && bridgeIp(c));
      if (!repl) return false;
      return (await httpStatusFrom(node.host, `http://${bridgeIp(repl)}:${CHECK.port}/healthz`)) === 200 && repl;
    }, { what: "Swarm's healthy replacement answering", timeoutMs: ROUND_TIMEOUT_MS, ...POLL });
    const answeredAt = Date.now();
    const ev = recorder.seen;
    const newStart = firstEvent(ev, replacement.Id, "start", t0)?.at ?? NaN;
    return {
      totalMs: answeredAt - t0,
      t0,
      unhealthyAt: firstEvent(ev, before.id, "health_status: unhealthy", t0)?.at ?? NaN,
      plannedAt: NaN,
      oldKilledAt: firstEvent(ev, before.id, "kill", t0)?.at ?? NaN,
      newStartedAt: newStart,
      healthyAt: firstEvent(ev, replacement.Id, "health_status: healthy", newStart)?.at ?? NaN,
      answeredAt,
    };
  } finally {
    recorder.stop();
  }
}

async function createSwarmService(node: SwarmNode, name: string, knobs: string[]): Promise<void> {
  await node.cli(["service", "create", "--detach", "--quiet", "--name", name, "--replicas", "1",
    ...dockerHealthFlags(CHECK), "--restart-condition", "any", ...knobs, IMAGE, ...HTTPD]);
}

// ---- figures ----

/** One line per round on stderr (the last stdout line stays the result): when it ran, to find it in the logs. */
function note(side: string, h: Healing): Healing {
  console.error(`heal: ${side} from ${new Date(h.t0).toISOString()}: ${h.totalMs} ms (${splitText(split(h))})`);
  return h;
}

const ms0 = (xs: number[]) => xs.map((x) => (Number.isFinite(x) ? String(Math.round(x)) : "?")).join(" ");
const med = (xs: number[]) => {
  const seen = xs.filter(Number.isFinite);
  return seen.length ? round(median(seen), 0) : "n/a";
};
const splitText = (x: Split) => `${ms0([x.detect])}/${ms0([x.react])}/${ms0([x.replace])}/${ms0([x.ready])}/${ms0([x.answer])}`;

function splitExtra(prefix: string, rounds: Healing[], withPlan: boolean): Record<string, number | string> {
  const s = rounds.map(split);
  return {
    [`${prefix}DetectMs`]: med(s.map((x) => x.detect)),
    [`${prefix}ReactMs`]: med(s.map((x) => x.react)),
    ...(withPlan ? { [`${prefix}PlanMs`]: med(s.map((x) => x.plan)), [`${prefix}AgentMs`]: med(s.map((x) => x.agent)) } : {}),
    [`${prefix}ReplaceMs`]: med(s.map((x) => x.replace)),
    [`${prefix}ReadyMs`]: med(s.map((x) => x.ready)),
    [`${prefix}AnswerMs`]: med(s.map((x) => x.answer)),
    [`${prefix}Split`]: s.map(splitText).join(" "),
  };
}

export const benchmark: Benchmark = {
  name: "heal",
  summary: "ms from a container turning sick to a healthy replacement answering, drover vs Docker Swarm with the same check",
  async run(): Promise<BenchResult> {
    let lab: Lab | undefined;
    let drover: DroverLab | undefined;
    /** Known as soon as it exists, so an interrupted start still stops its server and Redis. */
    let cp: ControlPlane | undefined;
    let events: EnvEventLog | undefined;
    let swarmHost: LabHost | undefined;
    const cleanup = cleanupOnSignal(async () => {
      events?.close();
      if (swarmHost) await leaveSwarm(swarmHost).catch((err) => console.error("heal: swarm leave:", err));
      if (cp) {
        await cp.stop().catch((err) => console.error("heal: control plane stop:", err));
        const kept = keepLogs(cp.logDir, "heal");
        if (kept) console.error(`heal: server and agent logs in ${kept}`);
      }
      if (lab) await lab.down();
    });
    try {
      lab = await Lab.up({ hosts: DROVER_HOSTS + 1, name: "bench-heal", watchdog: true });
      swarmHost = lab.hosts[DROVER_HOSTS];
      const droverHosts = lab.hosts.slice(0, DROVER_HOSTS);

      // Swarm first: if it cannot run here, say why and fall back to the detection budget.
      let swarm: SwarmNode | undefined;
      let swarmError: string | undefined;
      const swarmName = `heal-${randomBytes(3).toString("hex")}`;
      try {
        swarm = await SwarmNode.init(swarmHost);
        await createSwarmService(swarm, swarmName, ["--stop-grace-period", "0s", "--restart-delay", "0s"]);
        await swarmServing(swarm, swarmName);
      } catch (err) {
        swarmError = (err as Error).message;
        swarm = undefined;
      }

      drover = await startDrover(lab, droverHosts, "bench-heal", (c) => { cp = c; });
      const { env } = drover;
      events = await EnvEventLog.open(drover.cp.url, env.id, env.apiKey);
      const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "bench" });
      const svc = await env.api.ok("POST", `${env.base}/services`, {
        name: "web", stackId: stack.id, image: IMAGE, command: HTTPD, scale: 1, healthCheck: CHECK,
      });
      await droverServing(drover, svc.id);

      const droverRounds: Healing[] = [];
      const swarmRounds: Healing[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const doDrover = async () => { droverRounds.push(note("drover", await droverRound(drover!, events!, svc.id))); };
        const doSwarm = async () => { if (swarm) swarmRounds.push(note("swarm", await swarmRound(swarm, swarmName))); };
        if (r % 2 === 0) { await doDrover(); await doSwarm(); } else { await doSwarm(); await doDrover(); }
      }

      // Swarm as it comes out of the box, once, for information.
      let swarmDefaults: Healing | undefined;
      if (swarm) {
        await swarm.cli(["service", "update", "--detach", "--quiet", "--stop-grace-period", "10s", "--restart-delay", "5s", swarmName]);
        await waitFor(async () => (await swarm!.updateState(swarmName)) === "completed", { what: "Swarm's update to its default knobs", timeoutMs: ROUND_TIMEOUT_MS, maxIntervalMs: 200 });
        swarmDefaults = note("swarm (defaults)", await swarmRound(swarm, swarmName));
      }

      const value = median(droverRounds.map((h) => h.totalMs));
      const baseline = swarm ? median(swarmRounds.map((h) => h.totalMs)) : DETECTION_BUDGET_MS;
      const ratio = value / baseline;
      return {
        name: "heal",
        unit: "ms",
        value: round(value, 0),
        baseline: round(baseline, 0),
        ratio: round(ratio, 3),
        goal: swarm
          ? "ratio <= 1.0: drover heals a sick container no slower than Docker Swarm with the same health check"
          : `ratio <= 1.0 against the detection budget (interval x unhealthyThreshold = ${DETECTION_BUDGET_MS} ms): Swarm could not run here`,
        ok: ratio <= 1.0,
        extra: {
          rounds: ROUNDS,
          droverHosts: DROVER_HOSTS,
          baselineIs: swarm ? "docker swarm, 1 node, --stop-grace-period 0s --restart-delay 0s" : "detection budget",
          ...(swarmError ? { swarmError: swarmError.slice(0, 500) } : {}),
          check: `interval ${CHECK.interval} ms, timeout ${CHECK.responseTimeout} ms, unhealthy after ${CHECK.unhealthyThreshold}, healthy after ${CHECK.healthyThreshold}`,
          droverRoundsMs: ms0(droverRounds.map((h) => h.totalMs)),
          swarmRoundsMs: ms0(swarmRounds.map((h) => h.totalMs)),
          pairRatios: droverRounds.map((d, i) => (swarmRounds[i] ? String(round(d.totalMs / swarmRounds[i].totalMs, 3)) : "?")).join(" "),
          splitLegend: "detect/react/replace/ready/answer ms per round: t0→unhealthy, →old container killed (drover: plan = server's pass, agent = desired→kill), →new container started, →healthy, →HTTP 200 seen",
          ...splitExtra("drover", droverRounds, true),
          ...splitExtra("swarm", swarmRounds, false),
          ...(swarmDefaults ? { swarmDefaultsMs: round(swarmDefaults.totalMs, 0), swarmDefaultsSplit: splitText(split(swarmDefaults)) } : {}),
        },
      };
    } finally {
      await cleanup.run();
    }
  },
};
