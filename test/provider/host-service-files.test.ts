import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { envFile, installScript, startScript, stopScript, supervisorScript, systemdUnit, uninstallScript } from "../../provider/drivers/agent-service";

// The files and scripts the Host drivers put on a machine: the systemd unit passes
// systemd-analyze (no systemd runs in the lab, so the unit is not exercised there), every
// script parses as POSIX sh, and the env file gives sh the exact values.
const launch = { url: "http://10.0.0.1:8080", registrationToken: "drt_abc-123", hostname: "web-1.example", labels: { zone: "a", "io.x/y": "b c" }, underlayIp: "10.0.0.5" };

t.test("service files", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-unit-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const paths = { node: process.execPath, appDir: "/opt/drover/drover-agent-0.1.0-abc", stateDir: dir, dockerSocket: "/var/run/docker.sock" };
  fs.writeFileSync(path.join(dir, "agent.env"), envFile(launch), { mode: 0o600 });

  const unit = systemdUnit(launch, paths);
  t.match(unit, /^Restart=always$/m, "Restart=always");
  t.notOk(unit.includes(launch.registrationToken), "no token in the unit");
  const unitFile = path.join(dir, "drover-agent-web-1.example.service");
  fs.writeFileSync(unitFile, unit);
  const analyze = spawnSync("systemd-analyze", ["verify", unitFile], { encoding: "utf8" });
  if (analyze.error) t.comment("systemd-analyze is not installed: unit syntax not verified");
  else t.same([analyze.status, analyze.stderr.trim()], [0, ""], "systemd-analyze verify: no problem");

  const scripts: Record<string, string> = {
    supervisor: supervisorScript(launch, paths),
    start: startScript(launch, paths, false),
    startSystemd: startScript(launch, paths, true),
    stop: stopScript(launch.hostname, dir),
    uninstall: uninstallScript(launch.hostname, dir),
    install: installScript({ node: process.execPath, upload: "/x.part", tarball: "/x.tar.gz", sha256: "00", installDir: "/opt/d", name: "n" }),
  };
  for (const [name, text] of Object.entries(scripts)) {
    const res = spawnSync("sh", ["-n"], { input: text, encoding: "utf8" });
    t.same([res.status, res.stderr], [0, ""], `${name}: valid sh`);
    t.notOk(text.includes(launch.registrationToken), `${name}: no token inside`);
  }

  const sourced = spawnSync("sh", ["-c", `set -a; . ${dir}/agent.env; printf '%s\\n' "$DROVER_URL" "$DROVER_TOKEN" "$DROVER_HOST_LABELS"`], { encoding: "utf8" });
  t.same(sourced.stdout.split("\n").slice(0, 3), [launch.url, launch.registrationToken, "zone=a,io.x/y=b c"], "the env file gives sh the exact values");
});
