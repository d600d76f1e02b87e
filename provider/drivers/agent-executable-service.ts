/**
 * The shell side of the single-executable agent (provider/agent-executable.ts) on a machine
 * with no node ≥ 20: plain sh and coreutils (sha256sum, gzip) only, until the executable is
 * there; from then on it runs the same `-e` scripts node would (agent-service.ts).
 */
import { shellQuote as q } from "./ssh-runner";

/** Prints key=value lines: node=<path> and nodeVersion=<v> when a node is on PATH; machine=<uname -m>. */
export function runtimeProbeScript(): string {
  return [
    "if NODE=$(command -v node 2>/dev/null); then echo \"node=$NODE\"; echo \"nodeVersion=$(\"$NODE\" --version 2>/dev/null)\"; fi",
    "echo \"machine=$(uname -m)\"",
  ].join("\n");
}

export interface RuntimeProbe { node?: string; nodeVersion?: string; machine: string }

export function parseRuntimeProbe(out: string): RuntimeProbe {
  const kv = new Map(out.split("\n").map((l) => l.trim()).filter((l) => l.includes("="))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]));
  return { node: kv.get("node") || undefined, nodeVersion: kv.get("nodeVersion") || undefined, machine: kv.get("machine") ?? "" };
}

/** True when `version` (v20.1.0) is a node the agent can run on. */
export const nodeIsUsable = (version?: string): boolean => Number(/^v(\d+)/.exec(version ?? "")?.[1]) >= 20;

/** Prints sha=<sha256 of the uploaded gz, if any> and unpacked=yes|no. */
export function executablePreflightScript(gz: string, dir: string): string {
  return [
    `if [ -f ${q(gz)} ]; then echo "sha=$(sha256sum ${q(gz)} | cut -d' ' -f1)"; fi`,
    `if [ -f ${q(dir + "/.complete")} ]; then echo unpacked=yes; else echo unpacked=no; fi`,
  ].join("\n");
}

/** Checks the uploaded gz and unpacks it into <dir>/drover-agent once (marker `.complete`). */
export function executableInstallScript(o: { upload: string; gz: string; sha256: string; installDir: string; dir: string; exeName: string }): string {
  return [
    "set -e",
    `mkdir -p ${q(o.installDir)}`,
    `if [ ${q(o.upload)} != ${q(o.gz)} ] && [ -f ${q(o.upload)} ]; then mv -f ${q(o.upload)} ${q(o.gz)}; fi`,
    `got=$(sha256sum ${q(o.gz)} | cut -d' ' -f1)`,
    `[ "$got" = ${q(o.sha256)} ] || { echo "agent executable ${o.gz}: sha256 $got, expected ${o.sha256}" >&2; exit 3; }`,
    `if [ ! -f ${q(o.dir + "/.complete")} ]; then`,
    `  rm -rf ${q(o.dir + ".tmp")} && mkdir -p ${q(o.dir + ".tmp")}`,
    `  gzip -dc ${q(o.gz)} > ${q(`${o.dir}.tmp/${o.exeName}`)}`,
    `  chmod 755 ${q(`${o.dir}.tmp/${o.exeName}`)}`,
    `  rm -rf ${q(o.dir)} && mv ${q(o.dir + ".tmp")} ${q(o.dir)}`,
    `  touch ${q(o.dir + "/.complete")}`,
    "fi",
  ].join("\n");
}

/** Prints the path of the newest unpacked executable in installDir (for a launch-file rewrite), or nothing. */
export function installedExecutableScript(installDir: string, exeName: string): string {
  return `ls -1t ${q(installDir)}/drover-agent-exe-*/.complete 2>/dev/null | head -n 1 | sed 's#/.complete$#/${exeName}#'; true`;
}
