/**
 * The `ssh` driver: an existing machine reached over ssh with a key. Bootstrap uploads the
 * agent bundle over SFTP only when the machine's copy has another sha256, unpacks it under
 * installDir, and starts the agent (systemd unit, or the supervisor where there is no systemd).
 */
import { randomBytes } from "crypto";
import { isIP } from "net";
import { agentBundle } from "../agent-bundle";
import { agentLogTail, disarmAgent, install, mustRun, preflight, rewriteLaunch, startAgent, uninstallAgent } from "./bootstrap";
import { connectSsh } from "./ssh-runner";
import { hostStepMessage, oneLineError, stepFailure } from "./step-error";
import { DEFAULTS, type HostDriver, type Runner, type SshDriverInputs } from "./types";

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

  return {
    describe,
    async bootstrap(launch) {
      let bundle: ReturnType<typeof agentBundle>;
      try {
        bundle = agentBundle();
      } catch (err: any) {
        throw oneLineError(hostStepMessage(hostname, describe, stepFailure("agent bundle", err?.message ?? String(err))));
      }
      return withRunner(async (r) => {
        const tarball = `${installDir}/${bundle.name}.tar.gz`;
        const appDir = `${installDir}/${bundle.name}`;
        const facts = await preflight(r, dockerSocket, tarball, appDir);
        const uploaded = facts.bundleSha !== bundle.sha256;
        let upload = tarball;
        if (uploaded) {
          // Beside the target (root) or in the user's home (sudo moves it): a cut upload never looks complete.
          const tag = randomBytes(4).toString("hex");
          upload = user === "root" ? `${tarball}.part-${tag}` : `${bundle.name}.${tag}.part.tar.gz`;
          if (user === "root") await r.run(`mkdir -p '${installDir}'`);
          await r.upload(bundle.file, upload);
        }
        if (uploaded || !facts.unpacked) await install(r, { facts, upload, tarball, sha256: bundle.sha256, installDir, name: bundle.name });
        // Peers reach the host where we do, unless told otherwise.
        const underlayIp = launch.underlayIp ?? d.underlayIp ?? (isIP(d.address) ? d.address : undefined);
        const launchFull = { ...launch, underlayIp };
        const report = await startAgent(r, launchFull, { node: facts.node, appDir, stateDir, dockerSocket }, facts, uploaded);
        return { ...report, ...(r.hostKey ? { hostKey: r.hostKey } : {}) };
      });
    },
    // Connecting is the check (host key, then the key); the command proves sudo works too.
    verify: () => withRunner(async (r) => { await mustRun(r, "true", "credential check", { field: "driver.user" }); }),
    // The node preflight finds is the one the agent was started with.
    updateLaunch: (launch) => withRunner(async (r) => rewriteLaunch(r, launch, stateDir, (await preflight(r, dockerSocket)).node)),
    disarm: () => withRunner((r) => disarmAgent(r, stateDir)),
    uninstall: () => withRunner((r) => uninstallAgent(r, hostname, stateDir)),
    logTail: (lines) => withRunner((r) => agentLogTail(r, hostname, stateDir, lines)),
  };
}
