import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { readLaunchFile, readTokenFile } from "../../agent/launch-file";
import {
  disarmScript, installScript, LAUNCH_FILE, launchPayload, startScript, stopScript, supervisorScript, systemdUnit, systemdWord, TOKEN_FILE,
  uninstallScript, writeLaunchFilesCommand,
} from "../../provider/drivers/agent-service";

// The files and scripts the Host drivers put on a machine: the systemd unit passes
// systemd-analyze (no systemd runs in the lab, so the unit is not exercised there), every
// script parses as POSIX sh, and no value (URL, token, labels) ever reaches a shell or
// systemd's parser: they travel as data into files the agent reads itself.
const MARK = path.join(os.tmpdir(), `drover-pwned-${process.pid}`);
const hostile = `'"$(touch ${MARK})\`touch ${MARK}\`;touch ${MARK}\n%h$HOME\\`;
const launch = {
  url: `http://10.0.0.1:8080/${hostile}`, registrationToken: `drt_abc-123${hostile}`, hostname: "web-1.example",
  labels: { zone: "a", "io.x/y": `b c${hostile}` }, underlayIp: "10.0.0.5", caFingerprint: "sha256:00ff",
};

t.test("service files", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-unit-"));
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }); fs.rmSync(MARK, { force: true }); });
  const paths = { node: process.execPath, appDir: "/opt/drover/drover-agent-0.1.0-abc", stateDir: dir, dockerSocket: "/var/run/docker.sock" };

  const unit = systemdUnit(launch, paths);
  t.match(unit, /^Restart=always$/m, "Restart=always");
  t.notOk(unit.includes("EnvironmentFile"), "no environment file for systemd to parse");
  const unitFile = path.join(dir, "drover-agent-web-1.example.service");
  fs.writeFileSync(unitFile, unit);
  const analyze = spawnSync("systemd-analyze", ["verify", unitFile], { encoding: "utf8" });
  if (analyze.error) t.comment("systemd-analyze is not installed: unit syntax not verified");
  else t.same([analyze.status, analyze.stderr.trim()], [0, ""], "systemd-analyze verify: no problem");
  t.equal(systemdWord(`a"b\\c%d$e`), `"a\\"b\\\\c%%d$$e"`, "ExecStart words escape systemd's specials");

  const scripts: Record<string, string> = {
    supervisor: supervisorScript(launch, paths),
    start: startScript(launch, paths, false),
    startSystemd: startScript(launch, paths, true),
    stop: stopScript(launch.hostname, dir),
    uninstall: uninstallScript(launch.hostname, dir),
    disarm: disarmScript(dir),
    install: installScript({ node: process.execPath, upload: "/x.part", tarball: "/x.tar.gz", sha256: "00", installDir: "/opt/d", name: "n" }),
  };
  for (const [name, text] of Object.entries(scripts)) {
    const res = spawnSync("sh", ["-n"], { input: text, encoding: "utf8" });
    t.same([res.status, res.stderr], [0, ""], `${name}: valid sh`);
    for (const value of [launch.url, launch.registrationToken, launch.labels["io.x/y"], hostile]) {
      t.notOk(text.includes(value) || unit.includes(value), `${name}: holds no value, only paths`);
    }
  }
});

t.test("the launch files give the agent the exact values, whatever they hold, and nothing runs them", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-launch-"));
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }); fs.rmSync(MARK, { force: true }); });
  const wrote = spawnSync("sh", ["-c", `umask 077; ${writeLaunchFilesCommand(process.execPath, dir)}`], { input: launchPayload(launch), encoding: "utf8" });
  t.same([wrote.status, wrote.stderr], [0, ""], "written from stdin");
  for (const f of [LAUNCH_FILE, TOKEN_FILE]) t.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, `${f} is 0600`);
  t.same(readLaunchFile(path.join(dir, LAUNCH_FILE)), { url: launch.url, labels: launch.labels, caFingerprint: launch.caFingerprint });
  t.equal(readTokenFile(path.join(dir, TOKEN_FILE)), launch.registrationToken.trim());

  // The supervisor runs "node" (here a stand-in that records its argv and exits 0): the values
  // stay in the files; nothing in them is executed.
  const fakeNode = path.join(dir, "fake-node");
  fs.writeFileSync(fakeNode, `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/argv\nexit 0\n`, { mode: 0o755 });
  const supervise = spawnSync("sh", ["-c", supervisorScript(launch, { node: fakeNode, appDir: "/opt/app", stateDir: dir, dockerSocket: "/var/run/docker.sock" })], { encoding: "utf8", timeout: 20_000 });
  t.equal(supervise.status, 0, "the supervisor ran the agent once (it exited 0)");
  const argv = fs.readFileSync(path.join(dir, "argv"), "utf8").split("\n");
  t.ok(argv.includes("--launch-file") && argv.includes(path.join(dir, LAUNCH_FILE)), "the agent is pointed at the launch file");
  t.ok(argv.includes("--token-file") && argv.includes(path.join(dir, TOKEN_FILE)), "and at the token file");
  t.notOk(fs.existsSync(MARK), "no value was run as shell");

  // disarm removes the token; the launch file stays.
  t.equal(spawnSync("sh", ["-c", disarmScript(dir)]).status, 0);
  t.notOk(fs.existsSync(path.join(dir, TOKEN_FILE)), "token file removed");
  t.equal(readTokenFile(path.join(dir, TOKEN_FILE)), undefined, "a missing token file is no token");
  t.ok(fs.existsSync(path.join(dir, LAUNCH_FILE)), "launch file kept");
});
