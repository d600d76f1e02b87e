/**
 * The bootstrap steps every driver shares once it can run commands on the machine: check
 * node and Docker, make sure the agent code is there, start the service, read the log.
 */
import {
  disarmScript, installScript, launchPayload, launchRewriteScript, logTailScript, preflightScript, startScript, uninstallScript, type AgentPaths,
} from "./agent-service";
import { stepFailure, type HostStep } from "./step-error";
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

/** Runs a script that must succeed; a failure is the step's, with the exit code and what the machine said. */
export async function mustRun(r: Runner, script: string, step: HostStep, opts: { stdin?: string; timeoutMs?: number; field?: string } = {}): Promise<string> {
  let res;
  try {
    res = await r.run(script, opts);
  } catch (err: any) {
    throw stepFailure(step, err?.message ?? String(err), opts.field);
  }
  if (res.code !== 0) throw stepFailure(step, `exit ${res.code}: ${(res.stderr || res.stdout).trim().slice(-1500) || "no output"}`, opts.field);
  return res.stdout;
}

/** Node ≥ 20 and a Docker engine answering on the socket, or the step that found what is missing. */
export async function preflight(r: Runner, dockerSocket: string, tarball?: string, appDir?: string, node?: string): Promise<MachineFacts> {
  const out = (await mustRun(r, preflightScript(dockerSocket, tarball, appDir, node), "node check")).trim().split("\n").pop() ?? "";
  let facts: any;
  try { facts = JSON.parse(out); } catch { throw stepFailure("node check", `unexpected answer ${JSON.stringify(out.slice(0, 300))}`); }
  if (facts.missing === "node") throw stepFailure("node check", "node (version 20 or later) is not installed or not on PATH", "driver");
  const major = Number(/^v(\d+)/.exec(String(facts.nodeVersion))?.[1]);
  if (!(major >= 20)) throw stepFailure("node check", `node ${facts.nodeVersion} at ${facts.node} is too old: the agent needs node 20 or later`, "driver");
  if (!facts.dockerVersion) throw stepFailure("Docker check", `Docker does not answer on ${dockerSocket}: ${facts.dockerError ?? "no version"}`, "driver.dockerSocket");
  return facts as MachineFacts;
}

/** Unpacks a bundle that is on the machine already (sha256 checked again before use). */
export async function install(r: Runner, o: { facts: MachineFacts; upload: string; tarball: string; sha256: string; installDir: string; name: string }): Promise<void> {
  await mustRun(r, installScript({ node: o.facts.node, ...o }), "unpack", { field: "driver.installDir" });
}

/** Writes the launch and token files (via stdin only) and starts the agent under systemd or the supervisor. */
export async function startAgent(r: Runner, launch: AgentLaunch, paths: AgentPaths, facts: MachineFacts, uploaded: boolean): Promise<BootstrapReport> {
  const out = await mustRun(r, startScript(launch, paths, facts.systemd), "service start", { stdin: launchPayload(launch), field: "driver.stateDir" });
  return {
    service: /service=systemd/.test(out) ? "systemd" : "supervisor",
    uploaded,
    nodeVersion: facts.nodeVersion,
    dockerVersion: facts.dockerVersion,
  };
}

/** The launch and token files rewritten in place (values via stdin only); the running agent is left alone. */
export async function rewriteLaunch(r: Runner, launch: AgentLaunch, stateDir: string, node: string): Promise<void> {
  await mustRun(r, launchRewriteScript(node, stateDir), "launch file update", { stdin: launchPayload(launch), field: "driver.stateDir" });
}

export async function disarmAgent(r: Runner, stateDir: string): Promise<void> {
  await mustRun(r, disarmScript(stateDir), "token removal");
}

export async function uninstallAgent(r: Runner, hostname: string, stateDir: string): Promise<void> {
  await mustRun(r, uninstallScript(hostname, stateDir), "uninstall");
}

export async function agentLogTail(r: Runner, hostname: string, stateDir: string, lines: number): Promise<string> {
  return (await mustRun(r, logTailScript(hostname, stateDir, lines), "log read")).trim();
}
