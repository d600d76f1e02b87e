import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import t from "tap";
import { startScript, systemdUnit, uninstallScript, unitName, launchPayload, type AgentPaths } from "../../provider/drivers/agent-service";
import { ensureSystemdImage, systemdImageUnavailable, systemdVersion } from "../support/systemd-image";
import { waitFor } from "../support/wait";

// The agent's unit under a real systemd (PID 1 of a container booted from this machine's own
// systemd package, test/support/systemd-image.ts): the ssh driver's real install script writes
// and starts the unit, with a stand-in for the agent that starts the DNS daemon, an HAProxy and
// charon detached the first time (pid files where the agent keeps them) and adopts them when
// they run. KillMode=process must let them outlive `systemctl restart` and an agent crash; stop
// leaves them too, uninstall ends them by their pid files and removes the unit. A control unit
// with systemd's default KillMode (control-group) shows the check can fail: there a restart
// kills them. Skipped only where there is no Docker daemon or no systemd to build the image from.

const why = systemdImageUnavailable();
const STATE = "/var/lib/drover";
const HOST = "sdtest";
const UNIT = unitName(HOST);

/** Stand-in for `drover agent` (argv as the unit gives it): adopts running daemons, starts the missing ones. */
const STANDIN = `#!/bin/bash
S=
while [ $# -gt 0 ]; do [ "$1" = --state-dir ] && S=$2; shift; done
runs() { [ -n "$1" ] && grep -qa "$2" "/proc/$1/cmdline" 2>/dev/null; }
start() { setsid bash -c "exec -a $1 sleep infinity" </dev/null >/dev/null 2>&1 & echo $!; }
mkdir -p "$S/dns" "$S/lb/lb-1" "$S/ipsec"
d=$(cat "$S/dns/daemon.pid" 2>/dev/null); runs "$d" dns/daemon/main.js || start /opt/drover/app/agent/dns/daemon/main.js > "$S/dns/daemon.pid"
h=$(cat "$S/lb/lb-1/haproxy.pid" 2>/dev/null); runs "$h" haproxy || start /usr/sbin/haproxy > "$S/lb/lb-1/haproxy.pid"
c=$(sed -e 's/.*"pid"://' -e 's/[^0-9].*//' "$S/ipsec/charon.pid" 2>/dev/null); runs "$c" charon || echo "{\\"pid\\":$(start /usr/lib/ipsec/charon),\\"start\\":1}" > "$S/ipsec/charon.pid"
trap 'kill $w 2>/dev/null; exit 0' TERM
sleep infinity & w=$!
wait $w
`;

t.test("the agent's systemd unit under a real systemd: restart and crash keep the adopted daemons, uninstall ends them", { skip: why ? `${why}; runs wherever Docker answers and systemd and dpkg are installed (issue 15: CI has them; install them to bring it back)` : false }, async (t) => {
  const tag = ensureSystemdImage((line) => t.comment(line));
  const name = `drover-systemd-${process.pid}-${randomBytes(3).toString("hex")}`;
  const booted = Date.now();
  const run = spawnSync("docker", ["run", "-d", "--name", name, "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined", "--cgroupns=private",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp", "--network", "none", tag], { encoding: "utf8" });
  t.teardown(() => { spawnSync("docker", ["rm", "-f", name], { stdio: "ignore" }); });
  t.equal(run.status, 0, `container started (${run.stderr.trim()})`);

  const sh = (script: string, input?: string) => {
    const r = spawnSync("docker", ["exec", "-i", name, "sh", "-c", script], { encoding: "utf8", input: input ?? "" });
    return { code: r.status, out: (r.stdout ?? "").trim(), err: (r.stderr ?? "").trim() };
  };
  let state = "";
  try {
    await waitFor(() => { state = sh("systemctl is-system-running").out; return state === "running" || state === "degraded"; },
      { what: "systemd in the container to finish booting", timeoutMs: 30_000 });
  } catch (err) {
    // Verified on cgroup v1 (this project's machines); what systemd said helps on another setup.
    const logs = spawnSync("docker", ["logs", "--tail", "30", name], { encoding: "utf8" });
    throw new Error(`${(err as Error).message} (state ${JSON.stringify(state)}); container log:\n${logs.stdout}${logs.stderr}`);
  }
  // "degraded" (some unit of the image failed, e.g. one that needs hardware) still runs units.
  t.ok(state === "running" || state === "degraded", `systemd ${systemdVersion()} is PID 1 and booted: ${state} (${sh("systemctl --failed --no-legend").out || "no failed units"})`);
  t.equal(sh("cat /proc/1/comm").out, "systemd");
  t.comment(`systemd booted in ${Date.now() - booted} ms`);

  t.equal(sh(`mkdir -p /opt/drover && cat > /opt/drover/standin-agent && chmod 755 /opt/drover/standin-agent`, STANDIN).code, 0);
  const launch = { url: "http://10.0.0.1:8080", registrationToken: "drt_standin", hostname: HOST, labels: {} };
  const paths: AgentPaths = { node: "/usr/bin/node", appDir: "/opt/drover/app", command: ["/opt/drover/standin-agent"], stateDir: STATE, dockerSocket: "/var/run/docker.sock" };
  const install = sh(startScript(launch, paths, true), launchPayload(launch));
  t.equal(install.code, 0, `the ssh driver's install script ran (${install.err})`);
  t.match(install.out, /service=systemd$/);

  const mainPid = () => Number(sh(`systemctl show -p MainPID --value ${UNIT}`).out);
  const daemonPids = (dir: string) => {
    const out = sh(`cat ${dir}/dns/daemon.pid ${dir}/lb/lb-1/haproxy.pid 2>/dev/null; sed -e 's/.*"pid"://' -e 's/[^0-9].*//' ${dir}/ipsec/charon.pid 2>/dev/null`).out;
    return out.split(/\s+/).filter(Boolean).map(Number);
  };
  const running = (pid: number) => sh(`tr '\\0' ' ' < /proc/${pid}/cmdline`).out;
  const allRun = (pids: number[]) => pids.length === 3 && pids.every((p) => /dns\/daemon\/main\.js|haproxy|charon/.test(running(p)));

  let first = 0;
  let daemons: number[] = [];
  await waitFor(() => { first = mainPid(); daemons = daemonPids(`${STATE}/agent`); return first > 0 && allRun(daemons); },
    { what: "the unit active with its agent and the three daemons it started", timeoutMs: 15_000 });
  t.equal(sh(`systemctl is-active ${UNIT}`).out, "active");
  t.equal(sh(`systemctl is-enabled ${UNIT}`).out, "enabled", "enabled: it comes back after a reboot");
  t.match(sh(`cat /proc/${daemons[0]}/cgroup`).out, new RegExp(UNIT.replace(/\./g, "\\.")), "the daemons sit in the unit's cgroup, where control-group would kill them");

  // systemctl restart: the agent is stopped and started again; the daemons are left alone.
  t.equal(sh(`systemctl restart ${UNIT}`).code, 0);
  let second = 0;
  await waitFor(() => { second = mainPid(); return second > 0 && second !== first; }, { what: "a new agent after the restart", timeoutMs: 15_000 });
  t.ok(allRun(daemons), "after systemctl restart the DNS daemon, HAProxy and charon still run, same pids");
  t.same(daemonPids(`${STATE}/agent`), daemons, "and the new agent adopted them (the pid files still name them)");

  // An agent crash: systemd restarts it (Restart=always, RestartSec=2); the daemons stay.
  sh(`kill -KILL ${second}`);
  let third = 0;
  await waitFor(() => { third = mainPid(); return third > 0 && third !== second; }, { what: "systemd to restart the killed agent", timeoutMs: 15_000 });
  t.ok(allRun(daemons), "after the agent was SIGKILLed and restarted by systemd the daemons still run, same pids");
  t.same(daemonPids(`${STATE}/agent`), daemons);

  // systemctl stop: the agent goes, the daemons stay (the next start adopts them).
  t.equal(sh(`systemctl stop ${UNIT}`).code, 0);
  t.equal(sh(`systemctl is-active ${UNIT}`).out, "inactive");
  t.ok(allRun(daemons), "systemctl stop leaves the daemons running");

  // Uninstall (the Host resource's delete): unit gone, daemons ended by their pid files.
  const un = sh(uninstallScript(HOST, STATE));
  t.equal(un.code, 0, `uninstall ran (${un.err})`);
  t.equal(sh(`systemctl show -p LoadState --value ${UNIT}`).out, "not-found", "the unit is gone from systemd");
  t.equal(sh(`test -e /etc/systemd/system/${UNIT}`).code, 1, "and from /etc/systemd/system");
  await waitFor(() => daemons.every((p) => running(p) === ""), { what: "the daemons to exit after uninstall", timeoutMs: 10_000 });
  t.equal(sh(`ls ${STATE}/agent-launch.json ${STATE}/agent.token 2>/dev/null`).out, "", "the launch and token files are removed");

  // Control: the same unit with systemd's default KillMode kills them on a restart.
  const control = "drover-agent-control.service";
  const controlPaths = { ...paths, stateDir: "/var/lib/drover-control" };
  const controlUnit = systemdUnit({ ...launch, hostname: "control" }, controlPaths).replace(/^KillMode=process$/m, "KillMode=control-group");
  t.equal(sh(`mkdir -p /var/lib/drover-control && cat > /etc/systemd/system/${control} && systemctl daemon-reload && systemctl start ${control}`, controlUnit).code, 0);
  let controlDaemons: number[] = [];
  await waitFor(() => { controlDaemons = daemonPids("/var/lib/drover-control/agent"); return allRun(controlDaemons); }, { what: "the control unit's daemons", timeoutMs: 15_000 });
  t.equal(sh(`systemctl restart ${control}`).code, 0);
  await waitFor(() => controlDaemons.every((p) => running(p) === ""), { what: "the control unit's daemons to die on restart", timeoutMs: 10_000 });
  t.pass("with KillMode=control-group a restart kills the daemons: the check above can fail");
});
