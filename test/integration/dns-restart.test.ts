import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { labForTest } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { waitFor } from "../support/wait";
import { DnsProbe } from "./support/dns-probe-client";

// Issue 15: an agent restart never silences DNS. The responder is a daemon of its own
// (agent/dns/daemon) that the agent starts once and every later agent adopts, so a container
// asking 169.254.169.250 all the while an agent is stopped (SIGTERM) or killed (SIGKILL) and
// started again gets every answer. A graceful stop is also quick (no ioredis disconnect timer).

const ROUNDS = 5; // per signal; each round waits for the new agent to adopt the daemon

t.test("DNS answers go on while the agent restarts", async (t) => {
  const lab = await labForTest(t, { hosts: 1 });
  const { cp, env } = await ControlPlane.forTest(t, lab, { graceMs: 3000, envName: "dns-restart" });
  const host = lab.hosts[0];
  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const svc = await env.api.ok("POST", `${env.base}/services`, { name: "web", stackId: stack.id, image: "local/busybox", command: ["sleep", "3600"], scale: 1 });
  const inst = await waitFor(async () => {
    const list = ((await env.api.ok("GET", `${env.base}/instances?limit=100`)).data as { id: string; serviceId: string; ip?: string; status?: { state: string } }[])
      .filter((i) => i.serviceId === svc.id && i.status?.state === "running" && i.ip);
    return list.length === 1 && list[0];
  }, { what: "web running", timeoutMs: 60_000 });
  const docker = new Docker({ socketPath: host.dockerSocket });
  const pid = await waitFor(async () => {
    const [c] = await docker.listContainers({ filters: { label: [`io.drover.instance=${inst.id}`] } });
    return c ? (await docker.getContainer(c.Id).inspect()).State.Pid : false;
  }, { what: "the container's pid" });
  const probe = DnsProbe.start(pid);
  t.teardown(() => probe.stop());
  await waitFor(async () => (await probe.ask("web")).ips[0] === inst.ip, { what: "web resolves from its container" });

  const agentLog = path.join(cp.logDir, `agent-${host.index}.log`);
  const adoptions = () => fs.readFileSync(agentLog, "utf8").split("\n").filter((l) => l.includes("dns daemon adopted")).length;
  const daemonPids = () => new Set(fs.readFileSync(agentLog, "utf8").split("\n")
    .filter((l) => l.includes("dns daemon adopted") || l.includes("dns daemon started"))
    .map((l) => (JSON.parse(l) as { pid: number }).pid));

  // A client asking all the time, one question after another (each waits up to 2 s).
  let asked = 0, unanswered = 0, wrong = 0, running = true;
  const errors: string[] = [];
  const client = (async () => {
    while (running) {
      asked++;
      try {
        const a = await probe.ask("web");
        if (a.ips[0] !== inst.ip) wrong++;
      } catch (err) {
        unanswered++;
        errors.push((err as Error).message);
      }
    }
  })();

  const exitMs: number[] = [];
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    for (let round = 0; round < ROUNDS; round++) {
      const proc = cp.agents.get(host.name)!;
      const before = adoptions();
      const sent = Date.now();
      const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
      proc.kill(signal);
      await exited;
      if (signal === "SIGTERM") exitMs.push(Date.now() - sent);
      const askedWhileDown = asked;
      cp.agents.delete(host.name);
      cp.startAgent(host, env);
      await waitFor(() => adoptions() > before, { what: `the new agent to adopt the daemon (${signal} round ${round + 1})`, timeoutMs: 30_000 });
      t.ok(asked > askedWhileDown, `${signal} round ${round + 1}: questions asked across the restart`);
    }
  }
  const settle = asked;
  await waitFor(() => asked > settle + 5, { what: "a few more answers" });
  running = false;
  await client;

  const stopMs = fs.readFileSync(agentLog, "utf8").split("\n").filter((l) => l.includes('"agent stopped"')).map((l) => (JSON.parse(l) as { afterSignalMs: number }).afterSignalMs);
  t.comment(`agent's own stop (signal → everything closed): ${stopMs.join(", ")} ms`);
  t.comment(`${asked} questions over ${ROUNDS} SIGTERM and ${ROUNDS} SIGKILL restarts; graceful exit took ${exitMs.join(", ")} ms`);
  t.equal(unanswered, 0, `no question unanswered${errors.length ? ` (${[...new Set(errors)].join("; ")})` : ""}`);
  t.equal(wrong, 0, "every answer had web's address");
  t.equal(daemonPids().size, 1, "one daemon served throughout");
  // About 100 ms alone (median of 5: 99 and 114 ms); in the whole suite, beside other labs,
  // medians of 94-308 ms were seen (a stop waits for a reconcile in flight), so the bounds
  // leave room for that and still catch the old stop: ioredis's disconnect timer alone held
  // every one for 2 s.
  const sorted = [...exitMs].sort((a, b) => a - b);
  t.ok(sorted[Math.floor(sorted.length / 2)] < 500, `a graceful stop ends the agent in under 500 ms (median ${sorted[Math.floor(sorted.length / 2)]} ms)`);
  t.ok(sorted[sorted.length - 1] < 1000, `and never near the old 2 s (slowest ${sorted[sorted.length - 1]} ms)`);
});
