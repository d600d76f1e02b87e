/**
 * The shell side of running the agent on a machine, as scripts for a Runner: check the
 * machine, unpack the bundle, write the agent's settings and token to 0600 files (never
 * argv), start the agent as a service that survives reboots and crashes, stop and uninstall it.
 *
 * No value the user or the server chose ever passes through a shell or systemd's parser:
 * the settings (server URL, labels, CA fingerprint) are a JSON file and the token a file of
 * its own, both written by node from stdin and read by the agent itself (--launch-file,
 * --token-file). The scripts, the unit and the supervisor only hold paths and the host name.
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
  /** The argv before `agent`: [node, appDir/bin/drover.js] unless given (the single executable: [its path]). */
  command?: string[];
  stateDir: string;
  dockerSocket: string;
}

export const unitName = (hostname: string) => `drover-agent-${hostname}.service`;

/**
 * Prints one JSON line: node version, Docker version (or why not), systemd, the bundle copy's sha256.
 * `node`: what runs the check, when not the node on PATH (the single-executable agent runs `-e` too).
 */
export function preflightScript(dockerSocket: string, tarball?: string, appDir?: string, node?: string): string {
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
    node ? `NODE=${q(node)}` : "NODE=$(command -v node 2>/dev/null) || { echo '{\"missing\":\"node\"}'; exit 0; }",
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

/** The agent's settings file and token file in the state dir (both 0600). */
export const LAUNCH_FILE = "agent-launch.json";
export const TOKEN_FILE = "agent.token";
/** Written by versions before the launch file; sourced by their supervisor. Removed on start, disarm and uninstall. */
const LEGACY_ENV_FILE = "agent.env";

/** The agent's settings as its --launch-file holds them (agent/launch-file.ts reads it). */
export function launchSettings(launch: AgentLaunch): Record<string, unknown> {
  return { url: launch.url, labels: launch.labels, ...(launch.caFingerprint ? { caFingerprint: launch.caFingerprint } : {}) };
}

/** What startScript reads on stdin: the launch file and the token, as one JSON document. */
export function launchPayload(launch: AgentLaunch): string {
  return JSON.stringify({ launch: launchSettings(launch), token: launch.registrationToken });
}

/** Node code that writes the two files from the stdin payload (fixed text: the values arrive as data). */
const writeLaunchFilesJs = [
  "const fs=require(\"fs\"),path=require(\"path\");const dir=process.argv[1];let s=\"\";",
  "process.stdin.setEncoding(\"utf8\").on(\"data\",(d)=>s+=d).on(\"end\",()=>{const v=JSON.parse(s);",
  `for(const [name,text] of [[${JSON.stringify(LAUNCH_FILE)},JSON.stringify(v.launch)+\"\\n\"],[${JSON.stringify(TOKEN_FILE)},v.token==null?\"\":String(v.token)]]){`,
  "const f=path.join(dir,name);fs.writeFileSync(f+\".tmp\",text,{mode:0o600});fs.chmodSync(f+\".tmp\",0o600);fs.renameSync(f+\".tmp\",f)}})",
].join("");

/** The command that writes the launch and token files into `stateDir` from stdin (launchPayload). */
export function writeLaunchFilesCommand(node: string, stateDir: string): string {
  return `${q(node)} -e ${q(writeLaunchFilesJs)} ${q(stateDir)}`;
}

/**
 * Rewrites a running agent's launch and token files (from stdin, launchPayload). The agent
 * reads them only when it starts (and registers with them only when it has no identity, or
 * Redis refused its saved one), so a label or token changed in place is written here for that
 * next registration: an agent re-registering with the old labels would undo a label update.
 * Refused where the agent was never installed.
 */
export function launchRewriteScript(node: string, stateDir: string): string {
  const s = q(stateDir);
  return [
    "set -e",
    "umask 077",
    `[ -f ${q(`${stateDir}/${LAUNCH_FILE}`)} ] || { echo "no agent launch file in "${s}": the agent is not installed there" >&2; exit 3; }`,
    writeLaunchFilesCommand(node, stateDir),
  ].join("\n");
}

function agentArgs(launch: AgentLaunch, p: AgentPaths): string[] {
  return [...(p.command ?? [p.node, `${p.appDir}/bin/drover.js`]), "agent", "--state-dir", `${p.stateDir}/agent`, "--docker-socket", p.dockerSocket,
    "--launch-file", `${p.stateDir}/${LAUNCH_FILE}`, "--token-file", `${p.stateDir}/${TOKEN_FILE}`,
    "--hostname", launch.hostname, ...(launch.underlayIp ? ["--underlay-ip", launch.underlayIp] : [])];
}

/** One ExecStart= word: quoted, with systemd's own specials (`%` specifiers, `$` variables, `\\`, `"`) escaped. */
export function systemdWord(arg: string): string {
  return `"${arg.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
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
  # The agent reads its token file at every start: once it is removed, a restart cannot register.
  exec_agent() { exec ${agentArgs(launch, p).map(q).join(" ")}; }
  (exec_agent) >>"$S/agent.log" 2>&1 &
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
ExecStart=${agentArgs(launch, p).map(systemdWord).join(" ")}
Restart=always
RestartSec=2
# Exit 0 means stopped on purpose or host removed: restarting would register a new host.
RestartPreventExitStatus=0
# Stop and restart signal the agent only. The DNS daemon, HAProxy and charon it started stay in
# this cgroup but outlive it by design (the next agent adopts them: DNS keeps answering, load
# balancers keep serving, tunnels stay up); the default (control-group) killed them on every
# restart and crash. The agent stops them itself when its host is removed; uninstall stops them.
KillMode=process

[Install]
WantedBy=multi-user.target
`;
}

/** Stops whichever service runs the agent for this state dir (and the agent), then waits for it to exit. */
export function stopScript(hostname: string, stateDir: string): string {
  const s = q(stateDir);
  const unit = q(`/etc/systemd/system/${unitName(hostname)}`);
  // The agent's command line: bin/drover.js of a bundle, or the single executable.
  return `S=${s}
AGENT_RE='drover\\.js|/drover-agent'
if [ -f ${unit} ] && command -v systemctl >/dev/null 2>&1; then systemctl stop ${q(unitName(hostname))} 2>/dev/null || true; fi
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && grep -qaE "$2" "/proc/$1/cmdline" 2>/dev/null; }
sup=$(cat "$S/supervisor.pid" 2>/dev/null || true); agent=$(cat "$S/agent.pid" 2>/dev/null || true)
if alive "$sup" supervise.sh; then kill -TERM "$sup"; elif alive "$agent" "$AGENT_RE"; then kill -TERM "$agent"; fi
i=0; while { alive "$sup" supervise.sh || alive "$agent" "$AGENT_RE"; } && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done
if alive "$agent" "$AGENT_RE"; then kill -KILL "$agent"; fi
if alive "$sup" supervise.sh; then kill -KILL "$sup"; fi
rm -f "$S/supervisor.pid" "$S/agent.pid"
true`;
}

/** Writes the launch and token files (from stdin, launchPayload) and the service, then starts it; prints the service kind. */
export function startScript(launch: AgentLaunch, p: AgentPaths, systemd: boolean): string {
  const s = q(p.stateDir);
  const lines = [
    "set -e",
    "umask 077",
    `mkdir -p ${s} ${q(p.stateDir + "/agent")}`,
    writeLaunchFilesCommand(p.node, p.stateDir),
    `rm -f ${q(`${p.stateDir}/${LEGACY_ENV_FILE}`)}`,
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

/** Stops and removes the service and the secrets (launch and token files, saved identity); keeps logs, machine id and bundles. */
export function uninstallScript(hostname: string, stateDir: string): string {
  const unit = unitName(hostname);
  return [
    stopScript(hostname, stateDir),
    stopAdoptedDaemonsScript(stateDir),
    `if [ -f ${q(`/etc/systemd/system/${unit}`)} ]; then systemctl disable ${q(unit)} 2>/dev/null || true; rm -f ${q(`/etc/systemd/system/${unit}`)}; systemctl daemon-reload 2>/dev/null || true; fi`,
    `rm -f ${[LAUNCH_FILE, TOKEN_FILE, `${LAUNCH_FILE}.tmp`, `${TOKEN_FILE}.tmp`, LEGACY_ENV_FILE, "agent.env.tmp", "supervise.sh", "agent/identity.json", "agent/host-key.pem", "agent/nudge-cursor"].map((f) => q(`${stateDir}/${f}`)).join(" ")}`,
    "true",
  ].join("\n");
}

/**
 * Ends what outlives agent stops by design (KillMode=process, the supervisor's setsid): the
 * DNS daemon, each load balancer's HAProxy master (its workers follow it) and charon, each by
 * the pid its own file records and only if that pid still runs that program.
 */
export function stopAdoptedDaemonsScript(stateDir: string): string {
  const a = `${stateDir}/agent`;
  return [
    `runs() { [ -n "$1" ] && grep -qa "$2" "/proc/$1/cmdline" 2>/dev/null; }`,
    `d=$(cat ${q(`${a}/dns/daemon.pid`)} 2>/dev/null || true); if runs "$d" dns/daemon/main.js; then kill -TERM "$d"; fi`,
    `for f in ${q(`${a}/lb`)}/*/haproxy.pid; do [ -f "$f" ] || continue; h=$(cat "$f" 2>/dev/null || true); if runs "$h" haproxy; then kill -TERM "$h"; fi; done`,
    // charon.pid is JSON: {"pid":N,"start":...}
    `c=$(sed -e 's/.*"pid"://' -e 's/[^0-9].*//' ${q(`${a}/ipsec/charon.pid`)} 2>/dev/null || true); if runs "$c" charon; then kill -TERM "$c"; fi`,
    "true",
  ].join("\n");
}

/** Removes the token file (the running agent keeps its saved identity); also the token line of a legacy env file. */
export function disarmScript(stateDir: string): string {
  const legacy = q(`${stateDir}/${LEGACY_ENV_FILE}`);
  return `rm -f ${q(`${stateDir}/${TOKEN_FILE}`)}; if [ -f ${legacy} ]; then sed -i '/^DROVER_TOKEN=/d' ${legacy}; fi; true`;
}

export function logTailScript(hostname: string, stateDir: string, lines: number): string {
  return `if [ -f ${q(`${stateDir}/agent.log`)} ]; then tail -n ${lines} ${q(`${stateDir}/agent.log`)}; ` +
    `elif command -v journalctl >/dev/null 2>&1; then journalctl -u ${q(unitName(hostname))} -n ${lines} --no-pager 2>/dev/null; fi; true`;
}
