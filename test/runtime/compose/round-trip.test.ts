/**
 * Property: for generated stacks, writing them out as compose files and reading those back
 * gives the same stack (import → export → import changes nothing).
 */
import t from "tap";
import { readCompose, writeCompose, type ComposeStack } from "../../../runtime/compose";
import type { HealthCheckSpec, LoadBalancerSpec, PortSpec, ServiceSpec, SidekickSpec } from "../../../runtime/protocol/model";

/** A small seeded PRNG (mulberry32): a failure names its seed and replays. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[int(0, xs.length - 1)];
  const chance = (p: number) => next() < p;
  return { int, pick, chance };
}

const WORDS = ["alpha", "beta", "db", "web", "api", "cache", "worker", "queue", "front", "search"];
const TRICKY = ["plain", "two words", "quote'd", 'say "hi"', "back\\slash", "$HOME", "a: b", "#hash", "", "yes", "no", "123", "0x1f", "on", "null", "~"];

type Rng = ReturnType<typeof rng>;

/** Docker options, each given or not. */
function options(r: Rng): Record<string, unknown> {
  return {
    ...(r.chance(0.3) ? { volumes: r.chance(0.5) ? ["data:/var/lib/data"] : ["data:/var/lib/data", "/srv/conf:/etc/conf:ro"] } : {}),
    ...(r.chance(0.2) ? { privileged: r.chance(0.5) } : {}),
    ...(r.chance(0.2) ? { capAdd: ["NET_ADMIN"] } : {}),
    ...(r.chance(0.2) ? { capDrop: ["ALL"] } : {}),
    ...(r.chance(0.2) ? { tty: r.chance(0.5) } : {}),
    ...(r.chance(0.2) ? { stdinOpen: r.chance(0.5) } : {}),
    ...(r.chance(0.2) ? { dnsSearch: ["example.com"] } : {}),
  };
}

function generate(seed: number): ComposeStack {
  const r = rng(seed);
  const names = [...new Set(Array.from({ length: r.int(1, 5) }, () => r.pick(WORDS)))];
  const usedHostPorts = new Set<number>();
  const services = names.map((name, i): { name: string; spec: ServiceSpec } => {
    const exposed: PortSpec[] = r.chance(0.4) ? [{ containerPort: r.int(1, 65535), protocol: r.pick(["tcp", "udp"] as const) }] : [];
    const published: PortSpec[] = [];
    for (let n = r.int(0, 2); n > 0; n--) {
      const hostPort = r.int(1, 65535);
      if (usedHostPorts.has(hostPort)) continue;
      usedHostPorts.add(hostPort);
      published.push({ containerPort: r.int(1, 65535), protocol: r.pick(["tcp", "udp"] as const), hostPort, ...(r.chance(0.2) ? { hostIp: "127.0.0.1" } : {}) });
    }
    const links: Record<string, string> = {};
    for (const other of names.slice(0, i)) if (r.chance(0.5)) links[r.chance(0.5) ? other : `${other}-alias`] = other;
    if (r.chance(0.2)) links.ext = "shared/postgres";
    const env: Record<string, string> = {};
    for (let n = r.int(0, 3); n > 0; n--) env[`VAR_${n}`] = r.pick(TRICKY);
    const labels: Record<string, string> = {};
    if (r.chance(0.3)) labels["io.rancher.scheduler.affinity:host_label"] = "zone=a";
    if (r.chance(0.3)) labels["com.example.note"] = r.pick(TRICKY);
    const sidekicks: SidekickSpec[] = r.chance(0.25) ? [{
      name: `${name}-log`, image: "busybox", ...(r.chance(0.5) ? { command: ["tail", "-F", "/var/log/x"] } : {}),
      env: r.chance(0.5) ? { LEVEL: r.pick(TRICKY) } : ({} as Record<string, string>), labels: {}, ...(r.chance(0.5) ? { volumesFromPrimary: true } : {}), ...options(r),
    }] : [];
    if (sidekicks.length) labels["io.rancher.sidekicks"] = sidekicks.map((k) => k.name).join(",");
    const global = r.chance(0.15);
    if (global && r.chance(0.5)) labels["io.rancher.scheduler.global"] = "true";
    const health: HealthCheckSpec | undefined = r.chance(0.4) ? {
      port: r.int(1, 65535), interval: 2000, responseTimeout: r.int(1, 2000), healthyThreshold: r.int(1, 5), unhealthyThreshold: r.int(1, 5),
      ...(r.chance(0.5) ? { requestLine: "GET /healthz HTTP/1.0" } : {}), initializingTimeout: r.int(1, 90000), reinitializingTimeout: 60000,
      ...(r.chance(0.3) ? { strategy: "recreateOnQuorum" as const, quorum: r.int(1, 3) } : { strategy: r.pick(["none", "recreate"] as const) }),
    } : undefined;
    return {
      name,
      spec: {
        image: r.pick(["busybox", "nginx:1.25", "registry.example.com:5000/team/app@sha256:" + "a".repeat(64)]),
        ...(r.chance(0.5) ? { command: Array.from({ length: r.int(0, 3) }, () => r.pick(TRICKY)) } : {}),
        ...(r.chance(0.3) ? { entrypoint: [r.pick(TRICKY)] } : {}),
        env,
        ports: [...exposed, ...published],
        scale: r.int(0, 5),
        global,
        links,
        labels,
        restartPolicy: r.pick([{ name: "always" }, { name: "no" }, { name: "unless-stopped" }, { name: "on-failure" }, { name: "on-failure", maximumRetryCount: 3 }] as const),
        ...(health ? { healthCheck: health } : {}),
        ...(r.chance(0.3) ? { upgradeStrategy: { batchSize: r.int(1, 4), intervalMillis: r.int(0, 9000), startFirst: r.chance(0.5) } } : {}),
        ...options(r),
        ...(sidekicks.length ? { sidekicks } : {}),
      },
    };
  });
  const loadBalancers = r.chance(0.5) ? [{
    name: "lb",
    spec: {
      portRules: [
        { sourcePort: 80, protocol: "http", ...(r.chance(0.5) ? { hostname: "www.example.com" } : {}), ...(r.chance(0.5) ? { path: "/x" } : {}), targetServiceId: names[0], targetPort: 8080, ...(r.chance(0.5) ? { priority: 1 } : {}) },
        ...(r.chance(0.5) ? [{ sourcePort: 443, protocol: "https" as const, targetServiceId: "shared/postgres", targetPort: 443 }] : []),
      ],
      certificateIds: ["example-com"],
      ...(r.chance(0.5) ? { defaultCertificateId: "example-com" } : {}),
      scale: r.int(1, 3),
      global: false,
      labels: {},
      drainTimeoutMillis: 2000,
      ...(r.chance(0.5) ? { stickiness: { cookie: "SRV" } } : {}),
    } as LoadBalancerSpec,
  }].filter((lb) => !names.includes(lb.name)) : [];
  return { services, loadBalancers, warnings: [] };
}

t.test("read(write(stack)) is the stack, for 300 generated stacks", async (t) => {
  let failures = 0;
  for (let seed = 1; seed <= 300 && failures < 3; seed++) {
    const stack = generate(seed);
    const files = writeCompose(stack);
    let back: ComposeStack;
    try {
      back = readCompose(files);
    } catch (err) {
      failures++;
      t.fail(`seed ${seed}: ${(err as Error).message}\n${files.dockerCompose}\n${files.rancherCompose}`);
      continue;
    }
    const same = JSON.stringify(canonical(back.services)) === JSON.stringify(canonical(stack.services))
      && JSON.stringify(canonical(back.loadBalancers)) === JSON.stringify(canonical(stack.loadBalancers));
    if (!same) {
      failures++;
      t.same(canonical(back), canonical({ ...stack, warnings: back.warnings }), `seed ${seed}`);
    }
    // A value with a $ is warned about (no interpolation), and read back as written.
    const unexpected = back.warnings.filter((w) => !w.message.includes("does not interpolate"));
    if (unexpected.length) {
      failures++;
      t.same(unexpected, [], `seed ${seed}: an exported stack reads back without warnings`);
    }
  }
  t.equal(failures, 0, "every generated stack round-trips");
});

/** JSON with object keys sorted. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  return value;
}
