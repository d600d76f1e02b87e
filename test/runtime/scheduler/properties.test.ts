/**
 * Property test: random snapshots and requests from a seeded generator, checked against a
 * naive reference model written separately from the scheduler (plain scans, no indexes).
 * Invariants: no hard rule broken, no port clash, right placement count, every host chosen
 * was a best one at the time, unplaceable only when no host could take one more, and the
 * same answer twice.
 */
import { prng } from "../../support/prng";
import t from "tap";
import {
  AFFINITY_VARIANTS,
  ClusterSnapshot,
  HostPort,
  HostSnapshot,
  InstanceSnapshot,
  ScheduleRequest,
  affinityLabelKey,
  newInstanceLabels,
  schedule,
  validateSchedulingLabels,
} from "../../../runtime/scheduler";


const webService = { id: "svc-web", name: "web", stackName: "shop", labels: {} as Record<string, string>, ports: [] as HostPort[] };

function generate(caseSeed: number): { snapshot: ClusterSnapshot; request: ScheduleRequest } {
  const rnd = prng(caseSeed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number) => rnd() < p;
  const port = (): HostPort => {
    const p: HostPort = { port: pick([80, 81]), protocol: pick(["tcp", "udp"] as const) };
    if (chance(0.3)) p.ip = pick(["10.0.0.1", "10.0.0.2", "0.0.0.0"]);
    return p;
  };
  const names: string[] = [];
  const hosts: HostSnapshot[] = [];
  const hostCount = Math.floor(rnd() * 8);
  for (let h = 0; h < hostCount; h++) {
    const labels: Record<string, string> = {};
    if (chance(0.8)) labels.zone = pick(["a", "b", "c"]);
    if (chance(0.6)) labels.disk = pick(["ssd", "hdd"]);
    const instances: InstanceSnapshot[] = [];
    const n = Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) {
      const name = `c${h}-${k}`;
      names.push(name);
      const serviceId = pick(["svc-web", "svc-db", undefined]);
      const labels2: Record<string, string> = serviceId === "svc-web" ? newInstanceLabels(webService) : {};
      labels2.app = pick(["web", "db", "cache"]);
      instances.push({ id: `id-${name}`, name, serviceId, labels: labels2, ports: chance(0.3) ? [port()] : [] });
    }
    hosts.push({ id: `id-h${h}`, name: `h${h}`, labels, state: chance(0.8) ? "active" : pick(["reconnecting", "disconnected"]), instances });
  }

  const labels: Record<string, string> = {};
  const ruleCount = Math.floor(rnd() * 4);
  for (let r = 0; r < ruleCount; r++) {
    const variant = pick(AFFINITY_VARIANTS);
    const items: string[] = [];
    const itemCount = 1 + Math.floor(rnd() * 2);
    for (let i = 0; i < itemCount; i++) {
      if (variant.kind === "host_label") items.push(pick(["zone=a", "zone=b", "zone=c", "disk=ssd", "disk=hdd"]));
      else if (variant.kind === "container_label") {
        items.push(pick(["app=web", "app=db", "app=cache", "io.drover.service=svc-web", "io.rancher.stack_service.name=${stack_name}/${service_name}"]));
      } else items.push(names.length > 0 && chance(0.8) ? pick(names) : "ghost-1");
    }
    labels[affinityLabelKey(variant)] = items.join(",");
  }
  // Contradictory hard rules are rejected by validation; drop them so the case stays valid.
  for (const error of validateSchedulingLabels(labels)) delete labels[error.labelKey];

  const ports = chance(0.4) ? [port()] : [];
  const count = chance(0.15) ? ("global" as const) : Math.floor(rnd() * 10);
  return { snapshot: { hosts }, request: { service: { ...webService, labels, ports }, count } };
}

// ---- the reference model: scans, no indexes ----

type ModelHost = { snapshot: HostSnapshot; instances: InstanceSnapshot[] };
const lc = (s: string) => s.toLowerCase();
const expand = (s: string) => s.replace(/\$\{stack_name\}/g, "shop").replace(/\$\{service_name\}/g, "web");

function itemMatches(host: ModelHost, kind: string, item: string): boolean {
  if (kind === "container") return host.instances.some((i) => lc(i.name) === lc(item) || lc(i.id) === lc(item));
  const eq = item.indexOf("=");
  const [k, v] = [lc(item.slice(0, eq)), lc(expand(item.slice(eq + 1)))];
  if (kind === "host_label") return Object.entries(host.snapshot.labels).some(([hk, hv]) => lc(hk) === k && lc(hv) === v);
  return host.instances.some((i) => Object.entries(i.labels).some(([ik, iv]) => lc(ik) === k && lc(iv) === v));
}

function clash(a: HostPort, b: HostPort): boolean {
  const ip = (p: HostPort) => (p.ip === undefined || p.ip === "0.0.0.0" ? "" : p.ip);
  return a.port === b.port && a.protocol === b.protocol && (ip(a) === "" || ip(b) === "" || ip(a) === ip(b));
}

function rulesOf(labels: Record<string, string>) {
  return Object.entries(labels).map(([key, value]) => {
    const suffix = key.slice("io.rancher.scheduler.affinity:".length);
    const kind = suffix.replace(/_soft|_ne/g, "");
    return { kind, soft: suffix.includes("_soft"), negate: suffix.endsWith("_ne"), items: value.split(",") };
  });
}

function hardOk(host: ModelHost, request: ScheduleRequest): boolean {
  if (host.snapshot.state !== "active") return false;
  for (const r of rulesOf(request.service.labels)) {
    if (r.soft) continue;
    for (const item of r.items) if (itemMatches(host, r.kind, item) === r.negate) return false;
  }
  return !request.service.ports.some((p) => host.instances.some((i) => i.ports.some((q) => clash(p, q))));
}

function soft(host: ModelHost, request: ScheduleRequest): number {
  let score = 0;
  for (const r of rulesOf(request.service.labels)) {
    if (!r.soft) continue;
    for (const item of r.items) if (itemMatches(host, r.kind, item) !== r.negate) score++;
  }
  return score;
}

/** (soft desc, this service asc, total asc): the ranking the scheduler must respect. */
function rank(host: ModelHost, request: ScheduleRequest): [number, number, number] {
  return [-soft(host, request), host.instances.filter((i) => i.serviceId === request.service.id).length, host.instances.length];
}

function lessOrEqual(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return true;
}

function check(caseSeed: number): string[] {
  const { snapshot, request } = generate(caseSeed);
  const frozen = JSON.stringify(snapshot);
  const result = schedule(snapshot, request, caseSeed);
  const problems: string[] = [];
  const fail = (what: string) => problems.push(`case ${caseSeed}: ${what}`);

  if (JSON.stringify(schedule(snapshot, request, caseSeed)) !== JSON.stringify(result)) fail("not deterministic");
  if (JSON.stringify(snapshot) !== frozen) fail("snapshot modified");

  const model: ModelHost[] = snapshot.hosts.map((h) => ({ snapshot: h, instances: [...h.instances] }));
  const byId = new Map(model.map((m) => [m.snapshot.id, m]));
  const hostsHadService = new Set(model.filter((m) => m.instances.some((i) => i.serviceId === request.service.id)).map((m) => m.snapshot.name));

  for (const p of result.placements) {
    const host = byId.get(p.hostId);
    if (!host) { fail(`placed on unknown host ${p.hostId}`); continue; }
    if (!hardOk(host, request)) fail(`placement on ${p.hostName} breaks a hard rule or port`);
    if (request.count !== "global") {
      const mine = rank(host, request);
      const better = model.find((m) => m !== host && hardOk(m, request) && !lessOrEqual(mine, rank(m, request)));
      if (better) fail(`chose ${p.hostName} ${mine} while ${better.snapshot.name} ${rank(better, request)} was better`);
    }
    host.instances.push(p.instance);
  }

  if (request.count === "global") {
    const placed = result.placements.map((p) => p.hostName);
    if (new Set(placed).size !== placed.length) fail("global placed twice on a host");
    const expected = snapshot.hosts.filter((h) => !hostsHadService.has(h.name) && hardOk({ snapshot: h, instances: h.instances }, request)).map((h) => h.name);
    if (JSON.stringify(placed) !== JSON.stringify(expected)) fail(`global placed ${placed}, expected ${expected}`);
    const skipped = Object.keys(result.skipped ?? {});
    const expectedSkipped = snapshot.hosts.filter((h) => !hostsHadService.has(h.name) && !expected.includes(h.name)).map((h) => h.name);
    if (JSON.stringify(skipped) !== JSON.stringify(expectedSkipped)) fail(`global skipped ${skipped}, expected ${expectedSkipped}`);
    if (!result.ok || result.unplaceable) fail("global reported unplaceable");
    return problems;
  }

  const missing = result.unplaceable?.count ?? 0;
  if (result.placements.length + missing !== request.count) fail(`placed ${result.placements.length} + unplaceable ${missing} != ${request.count}`);
  if (result.ok !== (missing === 0)) fail("ok disagrees with unplaceable");
  if (missing > 0) {
    const stillFits = model.find((m) => hardOk(m, request));
    if (stillFits) fail(`gave up while ${stillFits.snapshot.name} could take one more`);
    for (const h of snapshot.hosts) if (!(result.unplaceable!.reasons[h.name]?.length > 0)) fail(`no reason for ${h.name}`);
  }
  return problems;
}

const CASES_PER_BATCH = 250;
for (let batch = 0; batch < 4; batch++) {
  t.test(`random snapshots and requests, cases ${batch * CASES_PER_BATCH}..${(batch + 1) * CASES_PER_BATCH - 1}`, async (t) => {
    const problems: string[] = [];
    for (let c = batch * CASES_PER_BATCH; c < (batch + 1) * CASES_PER_BATCH; c++) problems.push(...check(c));
    t.same(problems, []);
  });
}

t.test("the generator covers what it should", async (t) => {
  let unplaceable = 0, global = 0, withRules = 0, withPorts = 0;
  for (let c = 0; c < 1000; c++) {
    const { snapshot, request } = generate(c);
    const result = schedule(snapshot, request, c);
    if (result.unplaceable) unplaceable++;
    if (request.count === "global") global++;
    if (Object.keys(request.service.labels).length > 0) withRules++;
    if (request.service.ports.length > 0) withPorts++;
  }
  t.ok(unplaceable > 50, `unplaceable cases: ${unplaceable}`);
  t.ok(global > 50, `global cases: ${global}`);
  t.ok(withRules > 500, `cases with rules: ${withRules}`);
  t.ok(withPorts > 200, `cases with ports: ${withPorts}`);
});
