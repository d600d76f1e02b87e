/**
 * lb-churn (issue 10): failed requests through a drover load balancer while its target
 * service goes through membership churn, and the HAProxy reloads that churn caused.
 *
 * Lab of 4 hosts, a private Redis, `drover server`, one agent per host:
 *   h1 (role=edge)              the load balancer's HAProxy (port 8080 → web, 8081 → static)
 *   h2 (role=app, static=yes)   web instances, and the 4 instances of `static`
 *   h3, h4 (role=app)           web instances; deactivated in turn (moves)
 * Both services are busybox httpd with an HTTP health check on /healthz.
 *
 * Load: an open-loop client in its own process (support/load-client.ts) sends RATE requests/s
 * to each port from outside every host (h1's underlay address), each on a new connection,
 * for the whole run; a request fails on anything but a 200 with the expected body, or no
 * answer within TIMEOUT_MS.
 *
 * Churn (support/churn-driver.ts), one action at a time, each until drover has settled
 * (converged, healthy, HAProxy serving exactly the live instances), in rounds:
 * scale LOW → HIGH, a rolling upgrade (the first UPGRADES rounds: batch BATCH, startFirst),
 * a move (h3 or h4 deactivated until its instances have moved, then activated), one
 * container removed by hand with `docker rm -f`, scale HIGH → LOW; until CHANGES membership
 * changes or BUDGET_S seconds. A membership change is a server entering or leaving the web
 * backend's serving set, as read from HAProxy's runtime socket every 50 ms
 * (support/backend-watch.ts): what HAProxy did, not what drover meant it to do.
 *
 * value = failed requests to web; baseline = failed requests to `static` (the same load over
 * the same time through the same HAProxy, to a backend set that never changes);
 * ratio = value / max(baseline, 1) (0 when both are 0). Reloads: the API's
 * instances[].haproxy.reloads during the churn, cross-checked with the worker pids HAProxy's
 * master showed. Each failure is put down to an action (churn-report.ts phaseOf: a timeout to
 * the action under way when it was sent, a request cut short to the latest action begun
 * while it was in flight), and counted apart when the static side failed within 2 s too (the
 * machine stalled, not the churn). Servers that left HAProxy's rotation though no action
 * meant to take them out are listed with what drover's event stream said of their instance
 * then (support/event-journal.ts). The run's records, timeline, journal and drover's logs
 * are kept in $DROVER_STATE/bench/lb-churn-<time>/.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lbPaths } from "../agent/lb/paths";
import { Lab, type LabHost } from "../test/lab";
import { ControlPlane, type EnvAccess } from "../test/support/control-plane";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { BackendWatch } from "./support/backend-watch";
import { ChurnDriver, ChurnStuck, seededRandom } from "./support/churn-driver";
import {
  type Phase, countFailures, failureBursts, failureRatio, killExposure, latencyPercentiles, phaseTotals, sharedWithBaseline, slowIn, unplannedLeaves,
} from "./support/churn-report";
import { EventJournal } from "./support/event-journal";
import { LoadClient, LoadRecord } from "./support/load-client";

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}: expected a number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Knobs (LB_CHURN_* override them, to explore; the defaults are the run). */
function settings() {
  const high = envNumber("LB_CHURN_HIGH", 16, 2);
  const low = envNumber("LB_CHURN_LOW", 2, 1);
  if (low >= high) throw new Error(`LB_CHURN_LOW (${low}) must be below LB_CHURN_HIGH (${high})`);
  return {
    changes: envNumber("LB_CHURN_CHANGES", 1000, 1),
    upgrades: envNumber("LB_CHURN_UPGRADES", 10, 0),
    budgetMs: envNumber("LB_CHURN_BUDGET_S", 540, 10) * 1000,
    low, high,
    batch: envNumber("LB_CHURN_BATCH", Math.ceil(high / 2), 1),
    rate: envNumber("LB_CHURN_RATE", 40, 1),
    timeoutMs: envNumber("LB_CHURN_TIMEOUT_MS", 10_000, 100),
    seed: envNumber("LB_CHURN_SEED", 1, 0),
    settleTimeoutMs: envNumber("LB_CHURN_SETTLE_S", 120, 5) * 1000,
  };
}

const PORT_WEB = 8080;
const PORT_STATIC = 8081;
const TARGET_PORT = 80;
/** The baseline's backends: 4 on h2, so a burst spreads over as many servers as web has at its low end and more. */
const STATIC_SCALE = 4;
/** busybox httpd answering "<tag> <version> <hostname>", with the /healthz the check asks for. */
const httpd = (tag: string, version: number) =>
  ["sh", "-c", `mkdir -p /www && echo ok > /www/healthz && echo "${tag} v${version} $(hostname)" > /www/index.html && exec httpd -f -p ${TARGET_PORT} -h /www`];
const CHECK = { port: TARGET_PORT, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 1000, healthyThreshold: 2, unhealthyThreshold: 3, initializingTimeout: 30_000 };

interface Setup { env: EnvAccess; hostById: Map<string, LabHost>; idByName: Map<string, string>; webId: string; lbId: string; lbInstanceId: string; backends: { web: string; static: string } }

async function setUp(lab: Lab, cp: ControlPlane, s: ReturnType<typeof settings>): Promise<Setup> {
  await cp.startServer("s1");
  const env = await cp.createEnvironment("lb-churn");
  const [h1, h2, h3, h4] = lab.hosts;
  cp.startAgent(h1, env, { role: "edge" });
  cp.startAgent(h2, env, { role: "app", static: "yes" });
  cp.startAgent(h3, env, { role: "app" });
  cp.startAgent(h4, env, { role: "app" });
  const hostById = new Map<string, LabHost>();
  const idByName = new Map<string, string>();
  await waitFor(async () => {
    const hosts = (await env.api.ok("GET", `${env.base}/hosts`)).data as { id: string; name: string; state: string }[];
    if (hosts.length !== 4 || !hosts.every((h) => h.state === "active")) return false;
    for (const h of hosts) {
      hostById.set(h.id, lab.hosts.find((l) => l.name === h.name)!);
      idByName.set(h.name, h.id);
    }
    return true;
  }, { what: "4 active hosts", timeoutMs: 60_000 });

  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  // web starts at the top of its range, so the load balancer is made for the biggest set it will serve.
  const web = await env.api.ok("POST", `${env.base}/services`, {
    name: "web", stackId: stack.id, image: "local/busybox", command: httpd("web", 1), scale: s.high, healthCheck: CHECK,
    labels: { "io.rancher.scheduler.affinity:host_label": "role=app" },
    upgradeStrategy: { batchSize: s.batch, intervalMillis: 0, startFirst: true },
  });
  const stat = await env.api.ok("POST", `${env.base}/services`, {
    name: "static", stackId: stack.id, image: "local/busybox", command: httpd("static", 1), scale: STATIC_SCALE, healthCheck: CHECK,
    labels: { "io.rancher.scheduler.affinity:host_label": "static=yes" },
  });
  const healthy = async (id: string, n: number) => waitFor(async () => {
    const list = (await env.api.ok("GET", `${env.base}/instances?serviceId=${id}&limit=1000`)).data as { healthState?: string; status?: { state: string } }[];
    return list.length === n && list.every((i) => i.healthState === "healthy" && i.status?.state === "running");
  }, { what: `${n} healthy instances of ${id}`, timeoutMs: 180_000 });
  await healthy(web.id, s.high);
  await healthy(stat.id, STATIC_SCALE);

  const lb = await env.api.ok("POST", `${env.base}/loadbalancers`, {
    stackId: stack.id, name: "edge", scale: 1, labels: { "io.rancher.scheduler.affinity:host_label": "role=edge" },
    drainTimeoutMillis: 1000,
    portRules: [
      { sourcePort: PORT_WEB, protocol: "http", targetServiceId: web.id, targetPort: TARGET_PORT },
      { sourcePort: PORT_STATIC, protocol: "http", targetServiceId: stat.id, targetPort: TARGET_PORT },
    ],
  });
  // Served, with both backends holding their instances (the backend names come from the agent's status).
  const served = await waitFor(async () => {
    const got = await env.api.ok("GET", `${env.base}/loadbalancers/${lb.id}`);
    if (got.served !== true || got.transitioning !== "no" || got.instances?.length !== 1) return false;
    const backends = Object.entries(got.instances[0].haproxy?.backends ?? {}) as [string, Record<string, string>][];
    const webIds = new Set(((await env.api.ok("GET", `${env.base}/instances?serviceId=${web.id}&limit=1000`)).data as { id: string }[]).map((i) => i.id));
    const statIds = new Set(((await env.api.ok("GET", `${env.base}/instances?serviceId=${stat.id}&limit=1000`)).data as { id: string }[]).map((i) => i.id));
    const webBe = backends.find(([, m]) => Object.keys(m).some((id) => webIds.has(id)) && Object.values(m).filter((v) => v === "up").length === s.high);
    const statBe = backends.find(([, m]) => Object.keys(m).some((id) => statIds.has(id)) && Object.values(m).filter((v) => v === "up").length === STATIC_SCALE);
    return webBe && statBe && { instanceId: got.instances[0].id as string, hostId: got.instances[0].hostId as string, web: webBe[0], static: statBe[0] };
  }, { what: "the load balancer serving both services", timeoutMs: 120_000 });
  if (hostById.get(served.hostId) !== h1) throw new Error(`the load balancer runs on ${hostById.get(served.hostId)?.name}, not on the edge host ${h1.name}`);
  return { env, hostById, idByName, webId: web.id, lbId: lb.id, lbInstanceId: served.instanceId, backends: { web: served.web, static: served.static } };
}

async function reloadsNow(env: EnvAccess, lbId: string): Promise<number> {
  const got = await env.api.ok("GET", `${env.base}/loadbalancers/${lbId}`);
  return (got.instances as { haproxy?: { reloads?: number } }[]).reduce((n, i) => n + (i.haproxy?.reloads ?? 0), 0);
}

/** Copies what a reader needs to follow a failure up: drover's logs and HAProxy's own. */
function keepLogs(lab: Lab, lbDir: string, keepDir: string): void {
  const cpDir = path.join(lab.runDir, "control-plane");
  for (const f of fs.existsSync(cpDir) ? fs.readdirSync(cpDir) : []) {
    if (f.endsWith(".log")) fs.copyFileSync(path.join(cpDir, f), path.join(keepDir, f));
  }
  for (const f of lbDir ? ["haproxy.log", "haproxy.cfg"] : []) {
    if (fs.existsSync(path.join(lbDir, f))) fs.copyFileSync(path.join(lbDir, f), path.join(keepDir, `lb-${f}`));
  }
}

export const benchmark: Benchmark = {
  name: "lb-churn",
  summary: "failed requests through a drover load balancer over 1,000 membership changes and 10 rolling upgrades (goal 0), and HAProxy reloads (goal 0)",
  async run(): Promise<BenchResult> {
    const s = settings();
    const loadStart = os.loadavg()[0];
    const keepDir = path.join(process.env.DROVER_STATE ?? "/var/lib/drover", "bench", `lb-churn-${new Date().toISOString().replace(/[:.]/g, "-")}`);
    fs.mkdirSync(keepDir, { recursive: true });
    console.error(`lb-churn: records and logs go to ${keepDir}`);
    const lab = await Lab.up({ hosts: 4, name: "bench-lb-churn", watchdog: true });
    let cp: ControlPlane | undefined;
    let load: LoadClient | undefined;
    let watch: BackendWatch | undefined;
    let journal: EventJournal | undefined;
    let lbDir = "";
    let result: BenchResult | undefined;
    try {
      cp = await ControlPlane.start(lab, { graceMs: 30_000 });
      const t0 = Date.now();
      const setup = await setUp(lab, cp, s);
      const { env } = setup;
      console.error(`lb-churn: lab, services and load balancer ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      const [h1, , h3, h4] = lab.hosts;
      const paths = lbPaths(path.join(h1.dir, "drover-agent"), setup.lbInstanceId);
      lbDir = paths.dir;
      journal = await EventJournal.start(cp.url, env.base, env.apiKey);
      watch = new BackendWatch({ runtimeSocket: paths.runtimeSocket, masterSocket: paths.masterSocket, backends: [setup.backends.web, setup.backends.static] });
      await watch.start();

      load = LoadClient.start({
        targets: [
          { name: "web", url: `http://${h1.underlayIp}:${PORT_WEB}/`, expectBodyPrefix: "web v" },
          { name: "static", url: `http://${h1.underlayIp}:${PORT_STATIC}/`, expectBodyPrefix: "static v" },
        ],
        ratePerTarget: s.rate, timeoutMs: s.timeoutMs,
      }, keepDir);
      const loadFrom = Date.now();
      // The load runs a moment before the churn starts: both sides must be answering.
      await waitFor(async () => {
        if (!load!.alive()) throw new Error("the load client exited");
        return fs.existsSync(path.join(keepDir, "load-records.jsonl")) && fs.statSync(path.join(keepDir, "load-records.jsonl")).size > 0;
      }, { what: "the load client's first answers", timeoutMs: 15_000 });

      const reloadsBefore = await reloadsNow(env, setup.lbId);
      const driver = new ChurnDriver({
        env, serviceId: setup.webId, scale: s.high, targetPort: TARGET_PORT, watch, backend: setup.backends.web, hosts: setup.hostById,
        commandFor: (v) => httpd("web", v), settleTimeoutMs: s.settleTimeoutMs, random: seededRandom(s.seed),
      });
      const movable = [h3, h4];
      const churnFrom = Date.now();
      let churnError: string | undefined;
      const done = () => driver.changes >= s.changes || Date.now() - churnFrom >= s.budgetMs;
      const step = async (action: () => Promise<Phase>) => {
        if (done()) return;
        const p = await action();
        console.error(`lb-churn: ${((p.start - churnFrom) / 1000).toFixed(1).padStart(6)} s  ${p.label}: ${p.changes} changes in ${p.end - p.start} ms (total ${driver.changes})`);
      };
      try {
        await step(() => driver.scaleTo(s.low));
        for (let r = 0; !done(); r++) {
          await step(() => driver.scaleTo(s.high));
          if (driver.upgradesDone < s.upgrades) await step(() => driver.upgrade());
          const host = movable[r % movable.length];
          await step(() => driver.move(host, setup.idByName.get(host.name)!));
          await step(() => driver.kill());
          await step(() => driver.scaleTo(s.low));
        }
      } catch (err) {
        if (!(err instanceof ChurnStuck)) throw err;
        churnError = err.message;
        console.error(`lb-churn: churn stopped: ${churnError}`);
      }
      const churnTo = Date.now();
      // A short tail of load after the churn, so requests sent during the last action have ended.
      await new Promise((r) => setTimeout(r, 2000));
      const records: LoadRecord[] = await load.stop();
      load = undefined;
      const loadTo = Date.now();
      await watch.stop();
      journal.stop();
      const reloadsAfter = await reloadsNow(env, setup.lbId);

      const web = records.filter((r) => r.target === "web");
      const stat = records.filter((r) => r.target === "static");
      const failures = countFailures(web, driver.phases);
      const baseFailures = countFailures(stat, driver.phases);
      const totals = phaseTotals(driver.phases);
      const webEvents = watch.events.filter((e) => e.backend === setup.backends.web);
      // Servers out of rotation that no action meant to take out, each with what drover's events said of its instance then.
      const unplanned = unplannedLeaves(driver.phases, webEvents).map((u) => {
        const ip = u.server.split(":")[0];
        const around = journal!.entries.filter((e) => e.ip === ip && e.t >= u.t - 3000 && e.t <= u.t + (u.outMs ?? 0) + 1000);
        return { ...u, at: new Date(u.t).toISOString(), journal: around.slice(0, 20).map((e) => ({ ...e, at: new Date(e.t).toISOString() })) };
      });
      for (const u of unplanned.slice(0, 10)) {
        console.error(`lb-churn: unplanned leave of ${u.server} at ${u.at} during ${u.during}, back after ${u.outMs ?? "never"} ms`);
      }
      const outs = unplanned.map((u) => u.outMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
      const exposure = killExposure(driver.phases, webEvents);
      const exposed = exposure.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
      // While a killed server was still in rotation, requests routed to it wait for HAProxy's connect retry.
      const killWindows = driver.phases.filter((p) => p.kind === "kill" && p.victim).map((p, i): [number, number] => [p.start, p.start + (exposure[i] ?? p.end - p.start)]);
      const webSlowInKills = slowIn(web, killWindows);
      const statSlowInKills = slowIn(stat, killWindows);
      const webLat = latencyPercentiles(web);
      const statLat = latencyPercentiles(stat);
      const reloads = reloadsAfter - reloadsBefore;
      const changes = driver.changes;
      const upgrades = driver.upgradesDone;
      const rolledBack = driver.phases.filter((p) => p.rolledBack);
      fs.writeFileSync(path.join(keepDir, "timeline.json"), JSON.stringify({
        settings: s, churnFrom, churnTo, loadFrom, loadTo, phases: driver.phases, membership: watch.events,
        failureBursts: { web: failureBursts(web, driver.phases), static: failureBursts(stat, driver.phases) },
        failed: records.filter((r) => !r.ok), unplannedLeaves: unplanned, journal: journal.entries,
      }, null, 1));
      for (const b of failureBursts(web, driver.phases)) {
        console.error(`lb-churn: web failures ${new Date(b.from).toISOString()} (+${((b.from - churnFrom) / 1000).toFixed(1)} s) ×${b.count} over ${b.to - b.from} ms during ${b.phase ?? "no action"}: ${b.signatures}`);
      }
      const planned = failures.byPhase["scale-up"] + failures.byPhase["scale-down"] + failures.byPhase.move + failures.byPhase.upgrade;
      const value = failures.total;
      const baseline = baseFailures.total;
      const fitted = changes >= s.changes && upgrades >= s.upgrades;
      result = {
        name: "lb-churn",
        unit: "failed requests",
        value,
        baseline,
        ratio: round(failureRatio(value, baseline), 3),
        goal: `0 failed requests over ${s.changes} membership changes and ${s.upgrades} rolling upgrades, and 0 HAProxy reloads; ratio = value / max(baseline, 1), so 0 when both are 0 (baseline: the same load to a static backend set through the same HAProxy at the same time)`,
        ok: value === 0 && reloads === 0 && fitted && !churnError,
        extra: {
          totalRequests: web.length,
          baselineRequests: stat.length,
          reloads,
          reloadsTotal: reloadsAfter,
          haproxyWorkersSeen: watch.workerPids.size,
          haproxyMasterReloads: watch.masterReloads ? watch.masterReloads.last - watch.masterReloads.first : "unread",
          membershipChanges: changes,
          baselineMembershipChanges: watch.changes(setup.backends.static, loadFrom),
          changesGoal: s.changes,
          ...(fitted ? {} : { note: `only ${changes} membership changes and ${upgrades} upgrades fitted in ${s.budgetMs / 1000} s of churn (nothing extrapolated)` }),
          ...(churnError ? { churnError } : {}),
          changesScale: totals["scale-up"].changes + totals["scale-down"].changes,
          changesKill: totals.kill.changes,
          changesMove: totals.move.changes,
          changesUpgrade: totals.upgrade.changes,
          scaleSteps: totals["scale-up"].phases + totals["scale-down"].phases,
          kills: totals.kill.phases,
          moves: totals.move.phases,
          upgrades,
          ...(rolledBack.length ? { upgradesRolledBack: rolledBack.length, rollbackReasons: [...new Set(rolledBack.map((p) => p.rolledBack))].join("; ") } : {}),
          failedFromKills: failures.byPhase.kill,
          failedFromPlanned: planned,
          failedOutsideActions: failures.byPhase.none,
          failedAlongsideBaseline: sharedWithBaseline(web, stat),
          failedScale: failures.byPhase["scale-up"] + failures.byPhase["scale-down"],
          failedMove: failures.byPhase.move,
          failedUpgrade: failures.byPhase.upgrade,
          failureKinds: Object.entries(failures.bySignature).map(([k, n]) => `${k}×${n}`).join(", ") || "none",
          baselineFailureKinds: Object.entries(baseFailures.bySignature).map(([k, n]) => `${k}×${n}`).join(", ") || "none",
          killedServedMsMedian: exposed.length ? exposed[Math.floor((exposed.length - 1) / 2)] : "n/a",
          killedServedMsMax: exposed.length ? exposed[exposed.length - 1] : "n/a",
          killsNeverOutOfRotation: exposure.filter((x) => x === undefined).length,
          slowOrFailedWhileKilledInRotation: `${webSlowInKills.slow} of ${webSlowInKills.sent} (static: ${statSlowInKills.slow} of ${statSlowInKills.sent}), over 1 s`,
          unplannedLeaves: unplanned.length,
          unplannedOutMsMedian: outs.length ? outs[Math.floor((outs.length - 1) / 2)] : "n/a",
          unplannedOutMsMax: outs.length ? outs[outs.length - 1] : "n/a",
          p50Ms: round(webLat.p50, 1), p99Ms: round(webLat.p99, 1), maxMs: round(webLat.max, 1), over1s: webLat.over1s,
          baselineP50Ms: round(statLat.p50, 1), baselineP99Ms: round(statLat.p99, 1), baselineMaxMs: round(statLat.max, 1),
          ratePerTarget: s.rate,
          clientTimeoutMs: s.timeoutMs,
          churnSeconds: round((churnTo - churnFrom) / 1000, 1),
          loadSeconds: round((loadTo - loadFrom) / 1000, 1),
          scaleRange: `${s.low}-${s.high}`,
          upgradeBatch: s.batch,
          slots: watch.slotCount(setup.backends.web),
          watchPolls: watch.polls,
          watchMaxGapMs: watch.maxPollGapMs,
          watchErrors: watch.pollErrors,
          loadAverageStart: round(loadStart, 2),
          loadAverage: round(os.loadavg()[0], 2),
          artifacts: keepDir,
        },
      };
      return result;
    } finally {
      if (load) await load.stop().catch(() => undefined);
      await watch?.stop().catch(() => undefined);
      journal?.stop();
      await cp?.stop().catch(() => undefined);
      try { keepLogs(lab, lbDir, keepDir); } catch (err) { console.error("lb-churn: could not keep the logs:", err); }
      try {
        await lab.down();
      } catch (err) {
        // The figures stand whatever the teardown found; what it found is said, not lost.
        const why = (err as Error).message.split("\n").slice(0, 4).join(" | ");
        console.error(`lb-churn: lab teardown: ${(err as Error).message}`);
        if (result) result.extra = { ...result.extra, labTeardown: why.slice(0, 400) };
      }
    }
  },
};
