/**
 * The stats sampler on this machine's real /proc and a real container's cgroup files:
 * host figures are sane, a busy container shows CPU, and the parsers read what the kernel writes.
 */
import { execFileSync } from "child_process";
import t from "tap";
import { cgroupFiles, parseCpuUsage } from "../../agent/stats/cgroup-reader";
import { parseDiskstats, parseMeminfo, parseNetDev, parseProcStat } from "../../agent/stats/host-reader";
import { StatsSampler } from "../../agent/stats/sampler";
import { waitFor } from "../support/wait";

t.test("parsers", async (t) => {
  t.same(parseProcStat("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1\ncpu1 1\n"), { busy: 150, total: 1000, cpus: 2 });
  t.same(parseMeminfo("MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable:  400 kB\n"), { total: 1024000, available: 409600 });
  t.same(parseNetDev("h1\nh2\n    lo: 5 0 0 0 0 0 0 0 5 0\n  eth0: 100 1 0 0 0 0 0 0 200 2\n"), { rx: 100, tx: 200 });
  t.same(parseDiskstats("   8       0 sda 10 0 4 0 5 0 8 0 0 0 0\n   8       1 sda1 10 0 4 0 5 0 8 0 0 0 0\n", new Set(["sda"])), { read: 2048, write: 4096 });
  t.equal(parseCpuUsage("usage_usec 1500\nuser_usec 1000\n", "v2"), 1_500_000);
  t.equal(parseCpuUsage("123456\n", "v1"), 123456);
  const v2 = await cgroupFiles("0::/system.slice/docker-abc.scope\n", "/nonexistent");
  t.match(v2, { cpu: { kind: "v2" }, mem: /memory\.current$/ }, "v2 line → cpu.stat and memory.current");
});

t.test("host and a busy container, from real files", async (t) => {
  const name = `stats-test-${process.pid}`;
  const id = execFileSync("docker", ["run", "-d", "--rm", "--name", name, "local/busybox", "sh", "-c", "while :; do :; done"], { encoding: "utf8" }).trim();
  t.teardown(() => { try { execFileSync("docker", ["rm", "-f", id]); } catch { /* gone */ } });
  const pid = Number(execFileSync("docker", ["inspect", "-f", "{{.State.Pid}}", id], { encoding: "utf8" }).trim());
  const sampler = new StatsSampler({ list: async () => [{ id, name }], pid: async () => pid });
  const first = await sampler.sample();
  t.ok(first.host.memTotalBytes > 0 && first.host.memUsedBytes > 0, "memory figures");
  t.ok(first.host.cpus >= 1, "cpus counted");
  t.equal(first.containers.length, 1, "the container is sampled");
  const busy = await waitFor(async () => {
    const s = await sampler.sample();
    return s.containers[0] && s.containers[0].cpu > 0.2 ? s : undefined;
  }, { what: "the busy loop to show CPU", timeoutMs: 10_000, intervalMs: 300 });
  t.ok(busy.host.cpu > 0, `host cpu ${busy.host.cpu.toFixed(2)}`);
  t.ok(busy.containers[0].memBytes > 0, "container memory");
});
