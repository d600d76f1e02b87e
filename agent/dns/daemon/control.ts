import * as path from "path";
import type { EnvDnsDocument } from "../directory";

/**
 * The control protocol between an agent and its host's DNS daemon (agent/dns/daemon/main.ts):
 * one JSON object a line over a Unix socket in the agent's state directory (0700, so only root
 * on the host can feed it names). Each request carries an id its reply repeats.
 *
 * The protocol number changes only when a message changes meaning: an agent of another release
 * with the same number adopts the running daemon as it is, so an upgrade of the agent does not
 * touch DNS at all; with another number the old daemon hands its sockets to a new one.
 */
export const DNS_CONTROL_PROTOCOL = 1;

export type ControlRequest =
  | { id: number; op: "hello" }
  | { id: number; op: "directory"; document: EnvDnsDocument }
  | { id: number; op: "stats" }
  /** Stop serving and exit (host teardown). */
  | { id: number; op: "stop" }
  /** Start `script` with `config`, give it the bound sockets, exit once it serves (protocol change). */
  | { id: number; op: "handover"; script: string; config: DnsDaemonConfig };

export type ControlReplyBody =
  | { ok: true; hello?: DaemonHello; stats?: unknown }
  | { ok: false; error: string };
export type ControlReply = ControlReplyBody & { id: number };

export interface DaemonHello {
  pid: number;
  protocol: number;
  /** drover's version of the daemon's code (for logs: an adopted daemon may be older than the agent). */
  codeVersion: string;
  /** The UDP (and TCP) port it serves on. */
  port: number;
  /** The version of the document it serves, if any. */
  documentVersion?: number;
}

/** What the agent starts a daemon with (JSON in argv[2]). */
export interface DnsDaemonConfig {
  /** The daemon's directory (control socket, last document, pid, log), inside the agent's state dir. */
  dir: string;
  address: string;
  port: number;
  upstreams: string[];
  ttlSeconds?: number;
  upstreamTimeoutMs?: number;
}

/** The files of a daemon's directory. */
export function daemonPaths(dir: string): { socket: string; document: string; pid: string; log: string } {
  return {
    socket: path.join(dir, "control.sock"),
    document: path.join(dir, "document.json"),
    pid: path.join(dir, "daemon.pid"),
    log: path.join(dir, "daemon.log"),
  };
}

/** Unix socket paths are limited to 107 bytes (sun_path). */
export const MAX_SOCKET_PATH = 107;

/** Splits a byte stream into lines and parses each as JSON; a malformed line is handed to `onBad`. */
export function jsonLines<T>(onMessage: (msg: T) => void, onBad: (line: string) => void): (chunk: Buffer) => void {
  let pending = "";
  return (chunk) => {
    pending += chunk.toString("utf8");
    // A peer that never sends a newline must not grow this without bound.
    if (pending.length > 64 * 1024 * 1024) {
      onBad(pending.slice(0, 100));
      pending = "";
      return;
    }
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: T;
      try {
        msg = JSON.parse(line) as T;
      } catch {
        onBad(line.slice(0, 100));
        continue;
      }
      onMessage(msg);
    }
  };
}
