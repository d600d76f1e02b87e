import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { stopScript, systemdUnit, uninstallScript } from "../../provider/drivers/agent-service";
import { waitFor } from "../support/wait";

// The agent's DNS daemon, HAProxy masters and charon outlive agent restarts by design (the next
// agent adopts them). Under systemd the unit's default KillMode=control-group killed them on
// every `systemctl restart` and crash; the unit now says KillMode=process (its effect under a
// real systemd is agent-systemd.test.ts; here, without one, its text is checked). What ends
// them instead is checked for real: a stop (what a restart does first) leaves
// them running, an uninstall stops each by its own pid file, and only if that pid runs that
// program.
t.test("the unit signals the agent only; stop leaves the adopted daemons, uninstall ends them", async (t) => {
  const launch = { url: "http://10.0.0.1:8080", registrationToken: "drt_x", hostname: "h1", labels: {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-daemons-"));
  const procs: ChildProcess[] = [];
  t.teardown(() => { for (const p of procs) p.kill("SIGKILL"); fs.rmSync(dir, { recursive: true, force: true }); });
  const unit = systemdUnit(launch, { node: process.execPath, appDir: "/opt/drover/a", stateDir: dir, dockerSocket: "/var/run/docker.sock" });
  t.match(unit, /^KillMode=process$/m, "KillMode=process: systemctl stop/restart signals the agent's process only");

  const agentDir = path.join(dir, "agent");
  // Stand-ins with the programs' command lines: a node script at .../dns/daemon/main.js, and
  // processes whose argv[0] is haproxy and charon.
  const dnsScript = path.join(dir, "app", "agent", "dns", "daemon", "main.js");
  fs.mkdirSync(path.dirname(dnsScript), { recursive: true });
  fs.writeFileSync(dnsScript, "setInterval(() => undefined, 60_000);\n");
  const named = (argv0: string) => spawn("bash", ["-c", `exec -a ${argv0} sleep 300`], { stdio: "ignore" });
  const dns = spawn(process.execPath, [dnsScript], { stdio: "ignore" });
  const haproxy = named("/usr/sbin/haproxy");
  const charon = named("/usr/lib/ipsec/charon");
  const decoy = named("sleep-decoy"); // a recorded pid now held by another program
  procs.push(dns, haproxy, charon, decoy);
  for (const sub of ["dns", "lb/lb-1", "lb/lb-2", "ipsec"]) fs.mkdirSync(path.join(agentDir, sub), { recursive: true });
  fs.writeFileSync(path.join(agentDir, "dns", "daemon.pid"), `${dns.pid}\n`);
  fs.writeFileSync(path.join(agentDir, "lb", "lb-1", "haproxy.pid"), `${haproxy.pid}\n`);
  fs.writeFileSync(path.join(agentDir, "lb", "lb-2", "haproxy.pid"), `${decoy.pid}\n`);
  fs.writeFileSync(path.join(agentDir, "ipsec", "charon.pid"), JSON.stringify({ pid: charon.pid, start: 1 }) + "\n");
  const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;
  await waitFor(() => [haproxy, charon, decoy].every((p) => fs.readFileSync(`/proc/${p.pid}/cmdline`, "utf8").split("\0")[1] === "300"),
    { what: "the stand-ins exec'd", timeoutMs: 5_000 });

  const stop = spawnSync("sh", ["-c", stopScript(launch.hostname, dir)], { encoding: "utf8" });
  t.equal(stop.status, 0, `stop script ran (${stop.stderr.trim()})`);
  t.ok([dns, haproxy, charon, decoy].every(alive), "a stop (what a restart does) leaves the DNS daemon, HAProxy and charon running");

  const un = spawnSync("sh", ["-c", uninstallScript(launch.hostname, dir)], { encoding: "utf8" });
  t.equal(un.status, 0, `uninstall script ran (${un.stderr.trim()})`);
  await waitFor(() => !alive(dns) && !alive(haproxy) && !alive(charon), { what: "the adopted daemons to exit", timeoutMs: 5_000 });
  t.same([dns.signalCode, haproxy.signalCode, charon.signalCode], ["SIGTERM", "SIGTERM", "SIGTERM"], "uninstall ends each with SIGTERM");
  t.ok(alive(decoy), "a pid file naming another program's process is left alone");
});
