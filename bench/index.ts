import type { Benchmark, BenchResult } from "./result";

/** Benchmarks by name; each module is loaded only when it runs. */
const benchmarks: Record<string, () => Benchmark> = {
  "dns": () => require("./dns.bench").benchmark,
  "scheduler": () => require("./scheduler.bench").benchmark,
  "scheduler-5k": () => require("./scheduler.bench").benchmarkLarge,
  "report-pass": () => require("./report-pass.bench").benchmark,
  "server-start": () => require("./server-start.bench").benchmark,
  "control-plane": () => require("./control-plane.bench").benchmark,
  "control-plane-tls": () => require("./control-plane-tls.bench").benchmark,
  "overhead": () => require("./overhead.bench").benchmark,
  "preview": () => require("./preview.bench").benchmark,
  "up": () => require("./up.bench").benchmark,
  "plan": () => require("./plan.bench").benchmark,
  "overlay": () => require("./overlay.bench").benchmark,
  "mesh-ready": () => require("./mesh-ready.bench").benchmark,
  "health-cost": () => require("./health-cost.bench").benchmark,
  "lb-latency": () => require("./lb-latency.bench").benchmark,
  "lb-churn": () => require("./lb-churn.bench").benchmark,
  "heal": () => require("./heal.bench").benchmark,
  "upgrade": () => require("./upgrade.bench").benchmark,
  "stats-cost": () => require("./stats-cost.bench").benchmark,
  "dashboard": () => require("./dashboard.bench").benchmark,
  "provision": () => require("./provision.bench").benchmark,
  "logs": () => require("./logs.bench").benchmark,
  "exec": () => require("./exec.bench").benchmark,
  "register": () => require("./register.bench").benchmark,
  "failover": () => require("./failover.bench").benchmark,
  "scale": () => require("./scale.bench").benchmark,
  "cluster-floor": () => require("./cluster-floor.bench").benchmark,
};

async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (!name) {
    console.log("usage: npm run bench -- <name>\n\nbenchmarks:");
    for (const [n, load] of Object.entries(benchmarks)) console.log(`  ${n.padEnd(16)} ${load().summary}`);
    return 0;
  }
  const load = benchmarks[name];
  if (!load) {
    console.error(`unknown benchmark "${name}"; run \`npm run bench\` for the list`);
    return 2;
  }
  const result: BenchResult = await load().run();
  console.log(JSON.stringify(result));
  return result.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => { console.error(err); process.exit(1); },
);
