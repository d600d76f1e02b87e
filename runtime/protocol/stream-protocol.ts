/**
 * Logs and exec streams between a client and the agent of a container's host, through the
 * server (the client never reaches a host's Docker socket, and hosts take no inbound port):
 *
 *   client ──POST …/instances/:id?action=logs|execute (env key)──▶ server: a token, bound to
 *            the instance and the action, single use, short-lived
 *   client ──websocket /v1/streams/<action>/<instanceId>?token=…──▶ server
 *   server ──nudge {type: stream, session} on the host's Redis stream──▶ agent
 *   agent  ──websocket /v1/agentstreams/<session>, signed by the host's identity key──▶ server
 *   server: sends the parameters to the agent as one text frame, then relays frames both ways.
 *
 * Frames after that, the same on both legs (the server relays them as they are):
 * - binary: first byte the channel (0 stdin, 1 stdout, 2 stderr), then the bytes;
 * - text: one JSON control message (StreamControl).
 */
import { sign, verify, type KeyObject } from "crypto";

export type StreamAction = "logs" | "exec";

/** The API action name that mints a token for each stream action (Rancher calls exec `execute`). */
export const mintActionFor: Record<StreamAction, string> = { logs: "logs", exec: "execute" };

export interface LogsParams {
  /** Keep the stream open and send new lines as they are written. */
  follow: boolean;
  /** Lines from the end to start with; absent = all. */
  tail?: number;
  /** Only lines written at or after this time (Unix seconds, fractions allowed). */
  since?: number;
  /** Prefix each line with Docker's RFC 3339 timestamp. */
  timestamps: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface ExecParams {
  /** argv of the command (not a shell string). */
  command: string[];
  /** Allocate a TTY (stdout and stderr arrive merged on channel 1). */
  tty: boolean;
  /** Keep stdin open. */
  stdin: boolean;
  /** Initial window size (TTY only). */
  cols?: number;
  rows?: number;
}

/** What the server sends the agent as the first frame of a session. */
export type StreamRequest =
  | { action: "logs"; envId: string; instanceId: string; params: LogsParams }
  | { action: "exec"; envId: string; instanceId: string; params: ExecParams };

/** Text frames: client → agent (resize, stdin closed), agent → client (exit, error). */
export type StreamControl =
  | { type: "resize"; cols: number; rows: number }
  | { type: "stdin-end" }
  | { type: "exit"; code: number }
  | { type: "error"; code: string; message: string };

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2 } as const;

/** Path prefixes of the websocket endpoints (the server's upgrade handler takes only these). */
export const CLIENT_STREAM_PREFIX = "/v1/streams/";
export const AGENT_STREAM_PREFIX = "/v1/agentstreams/";

/** Headers an agent dials in with. */
export const AGENT_HEADERS = { host: "x-drover-host", env: "x-drover-env", signedAt: "x-drover-signed-at", signature: "x-drover-signature" } as const;

/** How far an agent's dial-in signature may be from the server's clock. */
export const AGENT_DIAL_SKEW_MS = 5 * 60_000;

export function agentDialText(envId: string, hostId: string, sessionId: string, signedAt: string): Buffer {
  return Buffer.from(`drover-stream-v1\n${envId}\n${hostId}\n${sessionId}\n${signedAt}`, "utf8");
}

/** The agent's side: proves the dial-in comes from the host the session is for (base64 RSA-SHA256). */
export function signAgentDial(envId: string, hostId: string, sessionId: string, signedAt: string, privateKey: KeyObject | string): string {
  return sign("sha256", agentDialText(envId, hostId, sessionId, signedAt), privateKey).toString("base64");
}

export function verifyAgentDial(envId: string, hostId: string, sessionId: string, signedAt: string, signature: string, publicKeyPem: string, now: number): boolean {
  const at = Date.parse(signedAt);
  if (!Number.isFinite(at) || Math.abs(at - now) > AGENT_DIAL_SKEW_MS) return false;
  try {
    return verify("sha256", agentDialText(envId, hostId, sessionId, signedAt), publicKeyPem, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/** A binary frame on `channel`. */
export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = channel;
  body.copy(out, 1);
  return out;
}

/** A text frame's control message, or undefined when it is not one. */
export function parseControl(text: string): StreamControl | undefined {
  try {
    const value = JSON.parse(text) as StreamControl;
    return value && typeof value === "object" && typeof value.type === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A command as it may be shown in an event or a log: arguments that look like credentials
 * (`--password=x`, `-pSECRET`, `TOKEN=x`, the word after `--password`) are masked, so an
 * exec event tells who ran what without handing out a secret typed on a command line.
 */
export function maskCommand(command: string[]): string[] {
  const secretName = /pass(word)?|secret|token|key|credential|auth/i;
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const arg = command[i];
    const eq = arg.indexOf("=");
    if (eq > 0 && secretName.test(arg.slice(0, eq))) out.push(`${arg.slice(0, eq)}=***`);
    else if (/^-p.+/.test(arg) && !arg.startsWith("--")) out.push("-p***");
    else out.push(arg);
    if (/^--?[A-Za-z-]+$/.test(arg) && secretName.test(arg) && i + 1 < command.length) {
      out.push("***");
      i++;
    }
  }
  return out;
}
