/**
 * `provision`: ten digitalocean Hosts in one `pulumi up`, against the fake DigitalOcean API
 * (test/digitalocean/fake-api.ts) whose droplets are lab hosts with sshd, 5% of all API
 * requests answered 429 (one-second `ratelimit-reset`).
 *
 * drover: the wall time of the one `pulumi up` that creates the ten hosts (each: key pair,
 * key registered, droplet created and active, SSH, agent uploaded and started, host active).
 * baseline: the slowest of SINGLES `pulumi up`s that each create one such host alone (same
 * program, same engine, same fake API and 429 rate, on otherwise idle lab hosts), in the
 * same run, after one untimed warm-up; each is destroyed again before the next (untimed).
 * The ten-host up runs with `--parallel 10` (Pulumi's default is 4 × CPUs: 8 on this machine).
 * ratio = ten-host up / slowest single-host up; goal ≤ 1.5 (hosts bootstrap in parallel, a
 * 429 costs only its wait). `extra` has every single time, Pulumi's own per-Host create
 * times in the ten-host up, and how many requests were answered 429.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { Lab } from "../test/lab";
import { ControlPlane } from "../test/support/control-plane";
import { PulumiWorkspace } from "../test/support/pulumi-cli";
import { FakeDigitalOcean } from "../test/digitalocean/fake-api";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { repoRoot } from "./support/procs";

const HOSTS = Number(process.env.DROVER_BENCH_PROVISION_HOSTS) || 10;
const SINGLES = 3;
const RATE_429 = 0.05;
const GOAL = 1.5;
const CPU_MARK = "drover-bench-cpu:";
const TOKEN = `dop_v1_${"bench".repeat(12)}`;

/** CPU seconds the whole machine spent busy so far (/proc/stat: everything but idle and iowait). */
function machineBusyS(): number {
  const [, ...ticks] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const n = ticks.map(Number);
  return (n.reduce((a, b) => a + b, 0) - n[3] - n[4]) / 100;
}

export const benchmark: Benchmark = {
  name: "provision",
  summary: `\`pulumi up\` of ${HOSTS} digitalocean Hosts (fake API, 5% 429s, droplets are lab hosts) vs the slowest single-host up alone`,
  async run(): Promise<BenchResult> {
    const lab = await Lab.up({ hosts: HOSTS, sshd: true, name: "bench-provision", watchdog: true });
    let cp: ControlPlane | undefined;
    let fake: FakeDigitalOcean | undefined;
    let ws: PulumiWorkspace | undefined;
    try {
      cp = await ControlPlane.start(lab, { graceMs: 3000 });
      await cp.startServer("s1");
      fake = await new FakeDigitalOcean(TOKEN, lab.hosts, 20).start();
      // Under /usr/bin/time: the CPU of pulumi's whole process tree (engine, provider), i.e. drover's side, not the hosts'.
      const underTime = fs.existsSync("/usr/bin/time") ? (argv: string[]) => ["/usr/bin/time", "-f", `${CPU_MARK} %e %U %S`, ...argv] : undefined;
      ws = new PulumiWorkspace(path.join(repoRoot, "test", "fixtures", "pulumi-drover-do"), `provision-${process.pid}`, { DIGITALOCEAN_API_URL: fake.url }, underTime);
      const hostsConfig = (names: string[]) => JSON.stringify(names.map((name) => ({ name, labels: { bench: "yes" }, installDir: path.join(lab.runDir, "do", name, "opt") })));
      await ws.init({ "drover:endpoint": cp.url, envName: "bench-provision", hosts: hostsConfig([]) });
      await ws.ok(["config", "set", "--secret", "drover:adminKey", cp.adminKey]);
      await ws.ok(["config", "set", "--secret", "doToken", TOKEN]);
      await ws.ok(["up", "--yes", "--skip-preview"], 300_000); // the Environment alone, untimed
      fake.rate429 = RATE_429;

      const upMs = async (names: string[]) => {
        await ws!.ok(["config", "set", "hosts", hostsConfig(names)]);
        const cpu0 = machineBusyS();
        const t0 = performance.now();
        // Pulumi runs at most 4 × CPUs operations at once by default (8 here): every host at once, as a user would ask.
        const res = await ws!.ok(["up", "--yes", "--skip-preview", "--parallel", String(HOSTS)], 900_000);
        const tree = new RegExp(`${CPU_MARK} ([\\d.]+) ([\\d.]+) ([\\d.]+)`).exec(res.stderr);
        return { ms: performance.now() - t0, cpuS: machineBusyS() - cpu0, pulumiCpuS: tree ? Number(tree[2]) + Number(tree[3]) : NaN, stdout: res.stdout };
      };
      const singles: number[] = [];
      const singleCpu: number[] = [];
      // i = 0 is the warm-up (the agent bundle built, the engine's plugins cached), not counted.
      for (let i = 0; i <= SINGLES; i++) {
        const single = await upMs([`single${i}`]);
        if (i > 0) { singles.push(single.ms); singleCpu.push(single.cpuS); }
        await ws.ok(["config", "set", "hosts", hostsConfig([])]);
        await ws.ok(["up", "--yes", "--skip-preview"], 300_000); // destroys it, untimed
        await fake.settled();
      }
      const before = fake.requests.length;
      const names = Array.from({ length: HOSTS }, (_, i) => `drop${i + 1}`);
      const all = await upMs(names);
      const requests = fake.requests.slice(before);
      const perHost = [...all.stdout.matchAll(/drover:Host (drop\d+) created \((\d+(?:\.\d+)?)s\)/g)].map((m) => Number(m[2]));
      const slowest = Math.max(...singles);
      const ratio = all.ms / slowest;
      return {
        name: "provision",
        unit: "ms",
        value: round(all.ms, 0),
        baseline: round(slowest, 0),
        ratio: round(ratio, 3),
        goal: `ratio ≤ ${GOAL}: pulumi up of ${HOSTS} digitalocean hosts / the slowest single-host up alone (5% of API requests 429)`,
        ok: ratio <= GOAL,
        extra: {
          hosts: HOSTS, singleUpMs: singles.map((x) => Math.round(x)).join(" "),
          hostCreateS: perHost.join(" ") || "not printed", slowestHostCreateS: perHost.length ? Math.max(...perHost) : "not printed",
          requests: requests.length, answered429: requests.filter((r) => r.status === 429).length,
          // Every "droplet" is a lab host on this machine: the ten bootstraps share its cores. These
          // say how much of the wall time that alone explains (machine-wide, other users' load included).
          cores: os.cpus().length, singleUpCpuS: singleCpu.map((x) => round(x, 1)).join(" "), allHostsUpCpuS: round(all.cpuS, 1),
          cpuFloorMs: Math.round((all.cpuS / os.cpus().length) * 1000),
          // drover's own side (pulumi engine + provider: API calls, key pairs, ssh2): what stays on this machine with real droplets.
          allHostsPulumiCpuS: round(all.pulumiCpuS, 1),
        },
      };
    } finally {
      if (ws) {
        if (fake) fake.rate429 = 0;
        await ws.ok(["destroy", "--yes", "--skip-preview"], 900_000).catch((err) => console.error("bench cleanup:", err.message));
        ws.cleanup();
      }
      if (fake) await fake.stop();
      if (cp) await cp.stop().catch(() => undefined);
      await lab.down();
    }
  },
};
