/**
 * The `local` driver: the machine running the Pulumi program. The agent runs from this
 * drover package (no bundle to install) as a detached process under the same supervisor
 * loop the ssh driver uses without systemd (pid files in the state dir), so it outlives
 * `pulumi up`. It never writes systemd units on the user's own machine.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { droverRoot } from "../agent-bundle";
import { agentLogTail, disarmAgent, preflight, rewriteLaunch, startAgent, uninstallAgent } from "./bootstrap";
import { hostStepMessage, oneLineError } from "./step-error";
import { DEFAULTS, type HostDriver, type LocalDriverInputs, type Runner } from "./types";

export function localRunner(): Runner {
  return {
    describe: "local",
    run(script, opts = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        const timeoutMs = opts.timeoutMs ?? 120_000;
        const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`a command did not finish within ${timeoutMs / 1000} s`)); }, timeoutMs);
        child.stdout.on("data", (b) => (stdout += b));
        child.stderr.on("data", (b) => (stderr += b));
        child.on("error", (err) => { clearTimeout(timer); reject(err); });
        child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
        // A script that exits before reading its input makes the write fail (EPIPE): its exit
        // code says how it went. Unhandled, that error ended the whole provider process, with no
        // answer (host-local.test: a delete that printed nothing and left the host behind).
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.stdin ?? "");
      });
    },
    async upload(localFile, remotePath) {
      fs.copyFileSync(localFile, remotePath);
    },
    close() { /* nothing held */ },
  };
}

export function localDriver(d: LocalDriverInputs, hostname: string): HostDriver {
  const stateDir = d.stateDir ?? `${DEFAULTS.stateBase}/${hostname}`;
  const dockerSocket = d.dockerSocket ?? DEFAULTS.dockerSocket;
  const r = localRunner();
  /** Any failure becomes one line naming the host and the step. */
  const named = <T>(work: () => Promise<T>) => work().catch((err: unknown) => { throw oneLineError(hostStepMessage(hostname, "local", err)); });
  return {
    describe: "local",
    bootstrap: (launch) => named(async () => {
      const facts = await preflight(r, dockerSocket);
      // This very node and drover package, whatever is on PATH.
      const paths = { node: process.execPath, appDir: droverRoot(), stateDir, dockerSocket };
      return startAgent(r, { ...launch, underlayIp: launch.underlayIp ?? d.underlayIp }, paths, { ...facts, systemd: false }, false);
    }),
    updateLaunch: (launch) => named(() => rewriteLaunch(r, launch, stateDir, process.execPath)),
    disarm: () => named(() => disarmAgent(r, stateDir)),
    uninstall: () => named(() => uninstallAgent(r, hostname, stateDir)),
    logTail: (lines) => named(() => agentLogTail(r, hostname, stateDir, lines)),
  };
}
