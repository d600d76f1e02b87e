/**
 * The bootstrap steps every driver shares once it can run commands on the machine: check
 * node and Docker, make sure the agent code is there, start the service, read the log.
 */
import {
  disarmScript, envFile, installScript, logTailScript, preflightScript, startScript, uninstallScript, type AgentPaths,
} from "./agent-service";
import type { AgentLaunch, BootstrapReport, Runner } from "./types";

export interface MachineFacts {
  node: string;
  nodeVersion: string;
  dockerVersion: string;
  systemd: boolean;
  /** sha256 of the bundle copy already on the machine, if any. */
  bundleSha?: string;
  unpacked: boolean;
}

/** Runs a script that must succeed; the error says what was being done and what the machine said. */
export async function mustRun(r: Runner, script: string, doing: string, opts: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
  const res = await r.run(script, opts);
  if (res.code !== 0) throw new Error(`${r.describe}: ${doing} failed (exit ${res.code}): ${(res.stderr || res.stdout).trim().slice(-1500)}`);
  return res.stdout;
}

/** Node ≥ 20 and a Docker engine answering on the socket, or an error naming what is missing. */
export async function preflight(r: Runner, dockerSocket: string, tarball?: string, appDir?: string): Promise<MachineFacts> {
  const out = (await mustRun(r, preflightScript(dockerSocket, tarball, appDir), "checking node and Docker")).trim().split("\n").pop() ?? "";
  let facts: any;
  try { facts = JSON.parse(out); } catch { throw new Error(`${r.describe}: checking node and Docker: unexpected answer ${JSON.stringify(out.slice(0, 300))}`); }
  if (facts.missing === "node") throw new Error(`driver: ${r.describe}: node (version 20 or later) is not installed or not on PATH`);
  const major = Number(/^v(\d+)/.exec(String(facts.nodeVersion))?.[1]);
  if (!(major >= 20)) throw new Error(`driver: ${r.describe}: node ${facts.nodeVersion} at ${facts.node} is too old: the agent needs node 20 or later`);
  if (!facts.dockerVersion) throw new Error(`driver.dockerSocket: ${r.describe}: Docker does not answer on ${dockerSocket}: ${facts.dockerError ?? "no version"}`);
  return facts as MachineFacts;
}

/** Unpacks a bundle that is on the machine already (sha256 checked again before use). */
export async function install(r: Runner, o: { facts: MachineFacts; upload: string; tarball: string; sha256: string; installDir: string; name: string }): Promise<void> {
  await mustRun(r, installScript({ node: o.facts.node, ...o }), "installing the agent bundle");
}

/** Writes the env file (token via stdin only) and starts the agent under systemd or the supervisor. */
export async function startAgent(r: Runner, launch: AgentLaunch, paths: AgentPaths, facts: MachineFacts, uploaded: boolean): Promise<BootstrapReport> {
  const out = await mustRun(r, startScript(launch, paths, facts.systemd), "starting the agent", { stdin: envFile(launch) });
  return {
    service: /service=systemd/.test(out) ? "systemd" : "supervisor",
    uploaded,
    nodeVersion: facts.nodeVersion,
    dockerVersion: facts.dockerVersion,
  };
}

export async function disarmAgent(r: Runner, stateDir: string): Promise<void> {
  await mustRun(r, disarmScript(stateDir), "removing the registration token");
}

export async function uninstallAgent(r: Runner, hostname: string, stateDir: string): Promise<void> {
  await mustRun(r, uninstallScript(hostname, stateDir), "stopping and uninstalling the agent");
}

export async function agentLogTail(r: Runner, hostname: string, stateDir: string, lines: number): Promise<string> {
  return (await r.run(logTailScript(hostname, stateDir, lines))).stdout.trim();
}
