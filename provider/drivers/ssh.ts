/**
 * The `ssh` driver: an existing machine reached over ssh with a key. Bootstrap uploads the
 * agent over SFTP only when the machine's copy has another sha256, unpacks it under
 * installDir, and starts the agent (systemd unit, or the supervisor where there is no systemd).
 * What it uploads: the agent bundle (a tarball run by the machine's node) where node ≥ 20 is
 * installed, else the single executable (agent-executable.ts), so a machine needs only Docker.
 */
import { randomBytes } from "crypto";
import { isIP } from "net";
import { agentBundle } from "../agent-bundle";
import { agentExecutable, EXECUTABLE_NAME, type AgentExecutable } from "../agent-executable";
import {
  executableInstallScript, executablePreflightScript, installedExecutableScript, nodeIsUsable, parseRuntimeProbe, runtimeProbeScript, type RuntimeProbe,
} from "./agent-executable-service";
import type { AgentPaths } from "./agent-service";
import { agentLogTail, disarmAgent, install, mustRun, preflight, rewriteLaunch, startAgent, uninstallAgent, type MachineFacts } from "./bootstrap";
import { connectSsh } from "./ssh-runner";
import { hostStepMessage, oneLineError, stepFailure } from "./step-error";
import { DEFAULTS, type HostDriver, type Runner, type SshDriverInputs } from "./types";

interface Placed { facts: MachineFacts; uploaded: boolean; paths: AgentPaths }

function parseKv(out: string): Map<string, string> {
  return new Map(out.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")).trim(), l.slice(l.indexOf("=") + 1).trim()] as [string, string]));
}

/** `recordedHostKey`: the host key fingerprint the Pulumi state recorded at the first connection (trust on first use). */
export function sshDriver(d: SshDriverInputs, hostname: string, recordedHostKey?: string): HostDriver {
  const user = d.user ?? DEFAULTS.sshUser;
  const installDir = d.installDir ?? DEFAULTS.installDir;
  const stateDir = d.stateDir ?? `${DEFAULTS.stateBase}/${hostname}`;
  const dockerSocket = d.dockerSocket ?? DEFAULTS.dockerSocket;
  const describe = `ssh ${user}@${d.address}:${d.port ?? DEFAULTS.sshPort}`;
  /** Connects, runs `fn`, closes; any failure becomes one line naming the host and the step. */
  async function withRunner<T>(fn: (r: Runner) => Promise<T>): Promise<T> {
    try {
      const r = await connectSsh(d, recordedHostKey);
      try { return await fn(r); } finally { r.close(); }
    } catch (err) {
      throw oneLineError(hostStepMessage(hostname, describe, err));
    }
  }

  /** Uploads `local` to `target` unless `same`; a cut upload never looks complete. Returns the uploaded path. */
  async function uploadBeside(r: Runner, local: string, target: string, baseName: string): Promise<string> {
    // Beside the target (root) or in the user's home (sudo moves it).
    const tag = randomBytes(4).toString("hex");
    const upload = user === "root" ? `${target}.part-${tag}` : `${baseName}.${tag}.part`;
    if (user === "root") await r.run(`mkdir -p '${installDir}'`);
    await r.upload(local, upload);
    return upload;
  }

  /** The tarball bundle, run by the machine's node. */
  async function placeBundle(r: Runner): Promise<Placed> {
    let bundle: ReturnType<typeof agentBundle>;
    try {
      bundle = agentBundle();
    } catch (err: any) {
      throw stepFailure("agent bundle", err?.message ?? String(err));
    }
    const tarball = `${installDir}/${bundle.name}.tar.gz`;
    const appDir = `${installDir}/${bundle.name}`;
    const facts = await preflight(r, dockerSocket, tarball, appDir);
    const uploaded = facts.bundleSha !== bundle.sha256;
    const upload = uploaded ? await uploadBeside(r, bundle.file, tarball, `${bundle.name}.tar.gz`) : tarball;
    if (uploaded || !facts.unpacked) await install(r, { facts, upload, tarball, sha256: bundle.sha256, installDir, name: bundle.name });
    return { facts, uploaded, paths: { node: facts.node, appDir, stateDir, dockerSocket } };
  }

  /** The single executable (node and the agent in one file), for a machine without node ≥ 20. */
  async function placeExecutable(r: Runner, probe: RuntimeProbe): Promise<Placed> {
    let exe: AgentExecutable;
    try {
      exe = await agentExecutable();
    } catch (err: any) {
      throw stepFailure("agent executable", err?.message ?? String(err));
    }
    const found = probe.node ? `node ${probe.nodeVersion ?? "(no version)"} at ${probe.node} is too old` : "node is not installed";
    if (probe.machine !== exe.machine) {
      throw stepFailure("node check", `${found}, and the agent executable built here is for ${exe.machine} while the machine is ${probe.machine || "unknown"}: install node 20 or later there, or run the provider on a ${probe.machine} machine`, "driver");
    }
    const gz = `${installDir}/${exe.name}.gz`;
    const dir = `${installDir}/${exe.name}`;
    const kv = parseKv(await mustRun(r, executablePreflightScript(gz, dir), "node check"));
    const uploaded = kv.get("sha") !== exe.sha256;
    const upload = uploaded ? await uploadBeside(r, exe.file, gz, `${exe.name}.gz`) : gz;
    if (uploaded || kv.get("unpacked") !== "yes") {
      await mustRun(r, executableInstallScript({ upload, gz, sha256: exe.sha256, installDir, dir, exeName: EXECUTABLE_NAME }), "unpack", { field: "driver.installDir" });
    }
    const path = `${dir}/${EXECUTABLE_NAME}`;
    // The executable runs the same Docker check node would.
    const facts = await preflight(r, dockerSocket, undefined, undefined, path);
    return { facts, uploaded, paths: { node: path, command: [path], appDir: dir, stateDir, dockerSocket } };
  }

  return {
    describe,
    async bootstrap(launch) {
      return withRunner(async (r) => {
        // A usable node: the tarball bundle (a few MB). None: the single executable (node inside).
        const probe = parseRuntimeProbe(await mustRun(r, runtimeProbeScript(), "node check"));
        const placed = nodeIsUsable(probe.nodeVersion) ? await placeBundle(r) : await placeExecutable(r, probe);
        // Peers reach the host where we do, unless told otherwise.
        const underlayIp = launch.underlayIp ?? d.underlayIp ?? (isIP(d.address) ? d.address : undefined);
        const launchFull = { ...launch, underlayIp };
        const report = await startAgent(r, launchFull, placed.paths, placed.facts, placed.uploaded);
        return { ...report, ...(r.hostKey ? { hostKey: r.hostKey } : {}) };
      });
    },
    // Connecting is the check (host key, then the key); the command proves sudo works too.
    verify: () => withRunner(async (r) => { await mustRun(r, "true", "credential check", { field: "driver.user" }); }),
    // The node preflight finds is the one the agent was started with; without one, the installed executable runs the rewrite.
    updateLaunch: (launch) => withRunner(async (r) => {
      const probe = parseRuntimeProbe(await mustRun(r, runtimeProbeScript(), "node check"));
      if (nodeIsUsable(probe.nodeVersion)) return rewriteLaunch(r, launch, stateDir, (await preflight(r, dockerSocket)).node);
      const exe = (await mustRun(r, installedExecutableScript(installDir, EXECUTABLE_NAME), "launch file update")).trim();
      if (!exe) throw stepFailure("node check", `no node 20 or later on PATH and no agent executable under ${installDir}`, "driver");
      return rewriteLaunch(r, launch, stateDir, exe);
    }),
    disarm: () => withRunner((r) => disarmAgent(r, stateDir)),
    uninstall: () => withRunner((r) => uninstallAgent(r, hostname, stateDir)),
    logTail: (lines) => withRunner((r) => agentLogTail(r, hostname, stateDir, lines)),
  };
}
