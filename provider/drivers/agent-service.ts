/**
 * The shell side of running the agent on a machine, as scripts for a Runner: check the
 * machine, unpack the bundle, write the token to a 0600 env file (never argv), start the
 * agent as a service that survives reboots and crashes, stop and uninstall it.
 *
 * Service: a systemd unit where systemd runs (/run/systemd/system exists), else a small
 * supervisor loop under setsid with pid files in the state dir. Both restart the agent when
 * it crashes or is killed, and not when it exits 0: the agent exits 0 only when told to stop
 * or when its host was removed, and a restart then would register a new host.
 */
import type { AgentLaunch } from "./types";
import { shellQuote as q } from "./ssh-runner";

export interface AgentPaths {
  /** Absolute path of node on the machine. */
  node: string;
  /** The unpacked bundle (or the drover checkout for the local driver): holds bin/drover.js. */
  appDir: string;
  stateDir: string;
  dockerSocket: string;
}

export const unitName = (hostname: string) => `drover-agent-${hostname}.service`;

/** Prints one JSON line: node version, Docker version (or why not), systemd, the bundle copy's sha256. */
export function preflightScript(dockerSocket: string, tarball?: string, appDir?: string): string {
  const js = [
    "const fs=require(\"fs\"),http=require(\"http\"),crypto=require(\"crypto\");",
    "const [sock,tarball,app]=process.argv.slice(1);",
    "const out={node:process.execPath,nodeVersion:process.version,systemd:fs.existsSync(\"/run/systemd/system\")};",
    "try{if(tarball)out.bundleSha=crypto.createHash(\"sha256\").update(fs.readFileSync(tarball)).digest(\"hex\")}catch(e){}",
    "out.unpacked=!!app&&fs.existsSync(app+\"/.complete\");",
    "const req=http.get({socketPath:sock,path:\"/version\",timeout:10000},(res)=>{let b=\"\";res.on(\"data\",(d)=>b+=d);res.on(\"end\",()=>{",
    "try{out.dockerVersion=JSON.parse(b).Version}catch(e){out.dockerError=\"HTTP \"+res.statusCode+\" \"+b.slice(0,200)}",
    "console.log(JSON.stringify(out))})});",
    "req.on(\"timeout\",()=>req.destroy(new Error(\"no answer within 10 s\")));",
    "req.on(\"error\",(e)=>{out.dockerError=e.message;console.log(JSON.stringify(out))});",
  ].join("");
  return [
    "NODE=$(command -v node 2>/dev/null) || { echo '{\"missing\":\"node\"}'; exit 0; }",
    `"$NODE" -e ${q(js)} ${q(dockerSocket)} ${q(tarball ?? "")} ${q(appDir ?? "")}`,
  ].join("\n");
}

/** Checks the uploaded tarball and unpacks it into installDir/<name> once (marker `.complete`). */
export function installScript(o: { node: string; upload: string; tarball: string; sha256: string; installDir: string; name: string }): string {
  const app = `${o.installDir}/${o.name}`;
  const sha = `"$(${q(o.node)} -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' ${q(o.tarball)})"`;
  return [
    "set -e",
    `mkdir -p ${q(o.installDir)}`,
    `if [ ${q(o.upload)} != ${q(o.tarball)} ] && [ -f ${q(o.upload)} ]; then mv -f ${q(o.upload)} ${q(o.tarball)}; fi`,
    `got=${sha}`,
    `[ "$got" = ${q(o.sha256)} ] || { echo "bundle ${o.tarball}: sha256 $got, expected ${o.sha256}" >&2; exit 3; }`,
    `if [ ! -f ${q(app + "/.complete")} ]; then`,
    `  rm -rf ${q(app + ".tmp")} && mkdir -p ${q(app + ".tmp")}`,
    `  tar -xzf ${q(o.tarball)} -C ${q(app + ".tmp")}`,
    `  rm -rf ${q(app)} && mv ${q(app + ".tmp/" + o.name)} ${q(app)} && rmdir ${q(app + ".tmp")}`,
    `  touch ${q(app + "/.complete")}`,
    "fi",
  ].join("\n");
}

/** The env file: sourced by the supervisor, EnvironmentFile= for systemd. Values never hold a quote (check() makes sure). */
export function envFile(launch: AgentLaunch): string {
  const labels = Object.entries(launch.labels).map(([k, v]) => `${k}=${v}`).join(",");
  return [`DROVER_URL='${launch.url}'`, `DROVER_TOKEN='${launch.registrationToken}'`, `DROVER_HOST_LABELS='${labels}'`, ""].join("\n");
}

function agentArgs(launch: AgentLaunch, p: AgentPaths): string[] {
  return [p.node, `${p.appDir}/bin/drover.js`, "agent", "--state-dir", `${p.stateDir}/agent`, "--docker-socket", p.dockerSocket,
    "--hostname", launch.hostname, ...(launch.underlayIp ? ["--underlay-ip", launch.underlayIp] : [])];
}

/** The restart loop for machines without systemd; it forwards TERM to the agent. */
export function supervisorScript(launch: AgentLaunch, p: AgentPaths): string {
  const s = q(p.stateDir);
  return `#!/bin/sh
# drover agent ${launch.hostname}: restarts the agent when it crashes or is killed (exit 0 = stopped on purpose).
S=${s}
echo $$ > "$S/supervisor.pid"
child=
stop() { [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"; rm -f "$S/supervisor.pid" "$S/agent.pid"; exit 0; }
trap stop TERM INT HUP
delay=1
while :; do
  started=$(date +%s)
  # The env file is read at every start: once the token is removed from it, a restart cannot register.
  (set -a; . "$S/agent.env"; set +a; exec ${agentArgs(launch, p).map(q).join(" ")}) >>"$S/agent.log" 2>&1 &
  child=$!
  echo "$child" > "$S/agent.pid"
  wait "$child"; rc=$?
  child=
  [ "$rc" -eq 0 ] && break
  [ $(( $(date +%s) - started )) -gt 30 ] && delay=1
  echo "$(date -u +%FT%TZ) agent exited with status $rc; restarting in $delay s" >>"$S/supervisor.log"
  sleep "$delay" & wait $!   # in the background: a TERM is handled at once, not after the sleep
  delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
done
rm -f "$S/supervisor.pid" "$S/agent.pid"
`;
}

export function systemdUnit(launch: AgentLaunch, p: AgentPaths): string {
  return `[Unit]
Description=drover agent ${launch.hostname}
After=network-online.target docker.service
Wants=network-online.target

[Service]
EnvironmentFile=${p.stateDir}/agent.env
ExecStart=${agentArgs(launch, p).map((a) => `"${a}"`).join(" ")}
Restart=always
RestartSec=2
# Exit 0 means stopped on purpose or host removed: restarting would register a new host.
RestartPreventExitStatus=0

[Install]
WantedBy=multi-user.target
`;
}

/** Stops whichever service runs the agent for this state dir (and the agent), then waits for it to exit. */
export function stopScript(hostname: string, stateDir: string): string {
  const s = q(stateDir);
  const unit = q(`/etc/systemd/system/${unitName(hostname)}`);
  return `S=${s}
if [ -f ${unit} ] && command -v systemctl >/dev/null 2>&1; then systemctl stop ${q(unitName(hostname))} 2>/dev/null || true; fi
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && grep -q "$2" "/proc/$1/cmdline" 2>/dev/null; }
sup=$(cat "$S/supervisor.pid" 2>/dev/null || true); agent=$(cat "$S/agent.pid" 2>/dev/null || true)
if alive "$sup" supervise.sh; then kill -TERM "$sup"; elif alive "$agent" drover.js; then kill -TERM "$agent"; fi
i=0; while { alive "$sup" supervise.sh || alive "$agent" drover.js; } && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done
if alive "$agent" drover.js; then kill -KILL "$agent"; fi
if alive "$sup" supervise.sh; then kill -KILL "$sup"; fi
rm -f "$S/supervisor.pid" "$S/agent.pid"
true`;
}

/** Writes the env file (from stdin) and the service, then starts it; prints the service kind. */
export function startScript(launch: AgentLaunch, p: AgentPaths, systemd: boolean): string {
  const s = q(p.stateDir);
  const lines = [
    "set -e",
    "umask 077",
    `mkdir -p ${s} ${q(p.stateDir + "/agent")}`,
    `cat > ${q(p.stateDir + "/agent.env.tmp")} && mv -f ${q(p.stateDir + "/agent.env.tmp")} ${q(p.stateDir + "/agent.env")}`,
    stopScript(launch.hostname, p.stateDir),
  ];
  if (systemd) {
    const unit = unitName(launch.hostname);
    lines.push(
      `cat > ${q(`/etc/systemd/system/${unit}`)} <<'DROVER_UNIT_EOF'\n${systemdUnit(launch, p)}DROVER_UNIT_EOF`,
      "systemctl daemon-reload",
      `systemctl enable --now ${q(unit)}`,
      `systemctl is-active -q ${q(unit)} || systemctl start ${q(unit)}`,
      "echo service=systemd",
    );
  } else {
    lines.push(
      `cat > ${q(p.stateDir + "/supervise.sh")} <<'DROVER_SUPERVISOR_EOF'\n${supervisorScript(launch, p)}DROVER_SUPERVISOR_EOF`,
      `chmod 700 ${q(p.stateDir + "/supervise.sh")}`,
      `setsid sh ${q(p.stateDir + "/supervise.sh")} </dev/null >>${q(p.stateDir + "/supervisor.log")} 2>&1 &`,
      `i=0; while [ ! -s ${q(p.stateDir + "/agent.pid")} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done`,
      `[ -s ${q(p.stateDir + "/agent.pid")} ] || { echo "the supervisor did not start the agent:" >&2; tail -n 20 ${q(p.stateDir + "/supervisor.log")} >&2; exit 4; }`,
      "echo service=supervisor",
    );
  }
  return lines.join("\n");
}

/** Stops and removes the service and the secrets (env file, saved identity); keeps logs, machine id and bundles. */
export function uninstallScript(hostname: string, stateDir: string): string {
  const unit = unitName(hostname);
  return [
    stopScript(hostname, stateDir),
    `if [ -f ${q(`/etc/systemd/system/${unit}`)} ]; then systemctl disable ${q(unit)} 2>/dev/null || true; rm -f ${q(`/etc/systemd/system/${unit}`)}; systemctl daemon-reload 2>/dev/null || true; fi`,
    `rm -f ${["agent.env", "agent.env.tmp", "supervise.sh", "agent/identity.json", "agent/nudge-cursor"].map((f) => q(`${stateDir}/${f}`)).join(" ")}`,
    "true",
  ].join("\n");
}

/** Drops the token from the env file (the running agent keeps its saved identity). */
export function disarmScript(stateDir: string): string {
  const f = q(`${stateDir}/agent.env`);
  return `if [ -f ${f} ]; then sed -i '/^DROVER_TOKEN=/d' ${f}; fi; true`;
}

export function logTailScript(hostname: string, stateDir: string, lines: number): string {
  return `if [ -f ${q(`${stateDir}/agent.log`)} ]; then tail -n ${lines} ${q(`${stateDir}/agent.log`)}; ` +
    `elif command -v journalctl >/dev/null 2>&1; then journalctl -u ${q(unitName(hostname))} -n ${lines} --no-pager 2>/dev/null; fi; true`;
}
