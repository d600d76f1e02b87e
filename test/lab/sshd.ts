import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { waitFor, WaitAbort } from "../support/wait";
import { adoptArgv, enterArgv, spawnDetached } from "./host-namespace";
import { HostNames, RunNames } from "./names";
import { isAlive, ProcRef, procRef, runOk, tailFile } from "./proc";

/**
 * An sshd per host, for testing SSH bootstrap: port 22 on the host's own address, its own
 * host key, key-only root login with a client key pair generated per run. UsePAM no (no
 * PAM session machinery in a namespace); StrictModes stays on: every key file and dir is
 * root-owned and not group/world writable.
 */
export const SSH_PORT = 22;

/** The run's client key pair (ed25519, OpenSSH format), made once per run. */
export async function ensureClientKey(run: RunNames): Promise<{ privateKeyFile: string; publicKey: string }> {
  const file = path.join(run.runDir, "client_ed25519");
  if (!fs.existsSync(file)) {
    await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `drover-lab-${run.runId}`, "-f", file]);
  }
  return { privateKeyFile: file, publicKey: fs.readFileSync(`${file}.pub`, "utf8").trim() };
}

function sshdConfig(dir: string): string {
  return [
    `Port ${SSH_PORT}`,
    "ListenAddress 0.0.0.0",
    `HostKey ${path.join(dir, "host_ed25519")}`,
    `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
    "PidFile /run/sshd.pid",
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes yes",
    "PrintMotd no",
    "Subsystem sftp internal-sftp",
    "",
  ].join("\n");
}

/** Writes the host's key, config and authorized_keys; returns the config path. */
export async function prepareSshd(host: HostNames, clientPublicKey: string): Promise<{ config: string; hostPublicKeyFile: string }> {
  const dir = path.join(host.dir, "ssh");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostKey = path.join(dir, "host_ed25519");
  if (!fs.existsSync(hostKey)) await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host.name, "-f", hostKey]);
  fs.writeFileSync(path.join(dir, "authorized_keys"), `${clientPublicKey}\n`, { mode: 0o600 });
  const config = path.join(dir, "sshd_config");
  fs.writeFileSync(config, sshdConfig(dir), { mode: 0o600 });
  return { config, hostPublicKeyFile: `${hostKey}.pub` };
}

/** Resolves true once something at addr:port greets with an SSH banner. */
function sshBanner(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port, timeout: 1000 });
    sock.once("data", (d) => { sock.destroy(); resolve(d.toString().startsWith("SSH-")); });
    sock.once("timeout", () => { sock.destroy(); resolve(false); });
    sock.once("error", () => resolve(false));
  });
}

export async function startSshd(host: HostNames, holder: ProcRef, cgroupProcs: string, config: string, address: string): Promise<ProcRef> {
  const log = path.join(host.dir, "logs", "sshd.log");
  // sshd re-executes itself, so it must be started by absolute path; -D stays in the foreground.
  const child = spawnDetached(adoptArgv(cgroupProcs, enterArgv(holder, ["/usr/sbin/sshd", "-D", "-e", "-f", config])), log);
  const ref = child.pid ? procRef(child.pid) : undefined;
  if (!ref) throw new Error(`sshd on ${host.name} did not start: ${tailFile(log)}`);
  await waitFor(async () => {
    if (!isAlive(ref)) throw new WaitAbort(`sshd on ${host.name} exited:\n${tailFile(log)}`);
    return sshBanner(address, SSH_PORT);
  }, { what: `sshd on ${host.name} (${address}:${SSH_PORT})`, timeoutMs: 10_000 });
  return ref;
}
