/**
 * Commands and file copies on a machine over ssh (ssh2; key only, never a password). The
 * host key is checked against the pinned one (`driver.hostKey`) when given; otherwise
 * against the one recorded in the Pulumi state at the first connection (trust on first
 * use, like OpenSSH's known_hosts): a changed key is refused, both fingerprints shown.
 * Non-root users run scripts through `sudo -n`. One connection per provider call, closed at its end.
 */
import * as crypto from "crypto";
import type { Runner, SshDriverInputs } from "./types";
import { DEFAULTS } from "./types";
import { stepFailure, type StepFailure } from "./step-error";

const CONNECT_TIMEOUT_MS = 20_000;
const RUN_TIMEOUT_MS = 120_000;

/** "SHA256:…" as OpenSSH prints it, for a raw public key blob. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${crypto.createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** Whether the server's key blob matches the pinned key (a fingerprint or an OpenSSH public key line). */
export function hostKeyMatches(pinned: string, keyBlob: Buffer): boolean {
  const text = pinned.trim();
  if (text.startsWith("SHA256:")) return text.replace(/=+$/, "") === fingerprintOf(keyBlob);
  const blob = text.split(/\s+/)[1];
  return blob !== undefined && Buffer.from(blob, "base64").equals(keyBlob);
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Which step an ssh2 connection error belongs to, and which input to look at. */
export function classifyConnectError(err: any, o: { user: string; port: number; keyMismatch?: string }): StepFailure {
  if (o.keyMismatch) return stepFailure("host key check", o.keyMismatch, "driver.hostKey");
  if (err?.level === "client-authentication") {
    return stepFailure("authentication", `the server refused the key for user ${o.user} (${err.message})`, "driver.privateKey");
  }
  if (err?.level === "client-timeout") return stepFailure("connect", `no ssh handshake within ${CONNECT_TIMEOUT_MS / 1000} s`, "driver.address");
  if (err?.code === "ECONNREFUSED") return stepFailure("connect", `connection refused on port ${o.port}`, o.port === DEFAULTS.sshPort ? "driver.address" : "driver.port");
  if (err?.code === "ENOTFOUND" || err?.code === "EAI_AGAIN") return stepFailure("connect", `the name does not resolve (${err.code})`, "driver.address");
  return stepFailure("connect", err?.message ?? String(err), "driver.address");
}

/**
 * Whether to accept the server's key: the pinned key when there is one, else the fingerprint
 * recorded at the first connection, else (the first connection) any key. Returns the
 * refusal's reason, or undefined to accept.
 */
export function hostKeyRefusal(keyBlob: Buffer, pinned: string | undefined, recorded: string | undefined): string | undefined {
  const seen = fingerprintOf(keyBlob);
  if (pinned) return hostKeyMatches(pinned, keyBlob) ? undefined : `the server's host key ${seen} does not match driver.hostKey`;
  if (recorded && recorded.replace(/=+$/, "") !== seen) {
    return `the server's host key ${seen} differs from ${recorded}, the key recorded in the Pulumi state when drover first connected ` +
      "(trust on first use): someone may be answering in the machine's place; if the machine was reinstalled, pin its new key in driver.hostKey";
  }
  return undefined;
}

/** `recordedHostKey`: the fingerprint the Pulumi state recorded at the first connection (see hostKeyRefusal). */
export async function connectSsh(d: SshDriverInputs, recordedHostKey?: string): Promise<Runner> {
  const { Client } = require("ssh2");
  const port = d.port ?? DEFAULTS.sshPort;
  const user = d.user ?? DEFAULTS.sshUser;
  const describe = `ssh ${user}@${d.address}:${port}`;
  const client = new Client();
  let keyMismatch: string | undefined;
  let seenHostKey = "";
  await new Promise<void>((resolve, reject) => {
    client.once("ready", () => resolve());
    // `on`, not `once`: ssh2 may emit a second error (the socket closing after a failed
    // handshake), and an error event with no listener would crash the provider process.
    client.on("error", (err: Error) => {
      reject(classifyConnectError(err, { user, port, keyMismatch }));
      client.end();
    });
    client.connect({
      host: d.address,
      port,
      username: user,
      privateKey: d.privateKey,
      readyTimeout: CONNECT_TIMEOUT_MS,
      keepaliveInterval: 10_000,
      // Key only: ssh2 would try nothing else without a password, agent or keyboard handler.
      hostVerifier: (key: Buffer) => {
        seenHostKey = fingerprintOf(key);
        keyMismatch = hostKeyRefusal(key, d.hostKey, recordedHostKey);
        return keyMismatch === undefined;
      },
    });
  });
  const asRoot = (script: string) => (user === "root" ? script : `sudo -n sh -c ${shellQuote(script)}`);

  return {
    describe,
    hostKey: seenHostKey,
    run(script, opts = {}) {
      return new Promise((resolve, reject) => {
        client.exec(asRoot(script), (err: Error | undefined, stream: any) => {
          if (err) return reject(new Error(`could not run a command: ${err.message}`));
          let stdout = "";
          let stderr = "";
          const timeoutMs = opts.timeoutMs ?? RUN_TIMEOUT_MS;
          const timer = setTimeout(() => {
            stream.close();
            reject(new Error(`a command did not finish within ${timeoutMs / 1000} s (output so far: ${(stdout + stderr).slice(-500)})`));
          }, timeoutMs);
          stream.on("data", (b: Buffer) => (stdout += b));
          stream.stderr.on("data", (b: Buffer) => (stderr += b));
          stream.on("close", (code: number | null, signal?: string) => {
            clearTimeout(timer);
            resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
          });
          stream.end(opts.stdin ?? "");
        });
      });
    },
    upload(localFile, remotePath) {
      return new Promise((resolve, reject) => {
        client.sftp((err: Error | undefined, sftp: any) => {
          if (err) return reject(stepFailure("upload", `sftp: ${err.message}`));
          sftp.fastPut(localFile, remotePath, (putErr: Error | undefined) => {
            sftp.end();
            if (putErr) reject(stepFailure("upload", `${remotePath}: ${putErr.message}`, "driver.installDir"));
            else resolve();
          });
        });
      });
    },
    close() {
      client.end();
    },
  };
}
