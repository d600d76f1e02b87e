import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { errorMessage, Logger } from "../../log";
import type { EnvDnsDocument } from "../directory";
import type { DnsServerStats } from "../server";
import { ControlReply, ControlRequest, DaemonHello, daemonPaths, DNS_CONTROL_PROTOCOL, DnsDaemonConfig, jsonLines, MAX_SOCKET_PATH } from "./control";

/** The daemon's entry point, next to this file (src or dist alike). */
export const daemonScript = path.join(__dirname, "main.js");

/** The daemon answered and refused (a document it could not index): it keeps serving the one before. */
export class DaemonRefused extends Error {}

type Pending = { resolve: (r: ControlReply) => void; reject: (e: Error) => void };
type Request = ControlRequest extends infer R ? R extends { id: number } ? Omit<R, "id"> : never : never;

/**
 * The agent's end of its host's DNS daemon (agent/dns/daemon/main.ts): adopts the daemon a
 * previous agent left running, starts one when there is none, and feeds it documents. Closing
 * the link leaves the daemon serving; `shutdown` (host teardown) stops it.
 */
export class DaemonLink {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private lostListeners: (() => void)[] = [];
  private closing = false;

  /** What the daemon said of itself when the link was made. */
  hello!: DaemonHello;

  private constructor(private readonly conn: net.Socket) {}

  /** Adopts or starts the daemon for `config.dir`; `script`: where its code is (tests may point elsewhere). */
  static async open(config: DnsDaemonConfig, log: Logger, script = daemonScript): Promise<DaemonLink> {
    const paths = daemonPaths(config.dir);
    if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
      throw new Error(`dns daemon socket path ${paths.socket} is longer than ${MAX_SOCKET_PATH} bytes: use a shorter --state-dir`);
    }
    fs.mkdirSync(config.dir, { recursive: true, mode: 0o700 });
    const running = await DaemonLink.connect(paths.socket).catch(() => undefined);
    if (running) {
      if (running.hello.protocol === DNS_CONTROL_PROTOCOL) {
        log.info("dns daemon adopted", { pid: running.hello.pid, codeVersion: running.hello.codeVersion, documentVersion: running.hello.documentVersion });
        return running;
      }
      // Another protocol: the running daemon hands its bound sockets to one of this release.
      log.info("dns daemon speaks another protocol: handing its sockets to a new one", { pid: running.hello.pid, protocol: running.hello.protocol });
      await running.request({ op: "handover", script, config });
      running.close();
      const next = await DaemonLink.connect(paths.socket);
      log.info("dns daemon replaced without closing its sockets", { pid: next.hello.pid, previous: running.hello.pid });
      return next;
    }
    stopStale(paths.pid, log);
    const out = fs.openSync(paths.log, "a", 0o600);
    // Detached, in its own session: a signal to the agent's process group does not reach it.
    const child = spawn(process.execPath, [script, JSON.stringify(config)], { detached: true, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    child.unref();
    let exited: string | undefined;
    child.once("exit", (code, sig) => { exited = `exited ${code ?? sig}`; });
    const deadline = Date.now() + 10_000;
    for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
      const link = await DaemonLink.connect(paths.socket).catch(() => undefined);
      if (link) {
        log.info("dns daemon started", { pid: link.hello.pid, port: link.hello.port });
        return link;
      }
      if (exited || Date.now() > deadline) {
        if (!exited) child.kill("SIGKILL");
        throw new Error(`dns daemon did not start (${exited ?? "no answer within 10 s"}): ${tail(paths.log)}`);
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private static connect(socketPath: string): Promise<DaemonLink> {
    return new Promise((resolve, reject) => {
      const conn = net.createConnection(socketPath);
      const fail = (err: Error) => { conn.destroy(); reject(err); };
      conn.once("error", fail);
      conn.setTimeout(2_000, () => fail(new Error("dns daemon did not answer within 2 s")));
      conn.once("connect", () => {
        const link = new DaemonLink(conn);
        link.request({ op: "hello" }).then((r) => {
          conn.off("error", fail);
          conn.setTimeout(0);
          if (!r.ok || !r.hello) return fail(new Error("dns daemon answered hello without its facts"));
          link.hello = r.hello;
          resolve(link);
        }, fail);
      });
      conn.on("data", jsonLines<ControlReply>((reply) => {
        // The link is created on connect; replies before that cannot come (nothing was asked).
        linkOf.get(conn)?.settle(reply);
      }, () => { /* a daemon's malformed line: its request times out */ }));
      conn.on("close", () => linkOf.get(conn)?.lost());
    });
  }

  /** Serves `document` from now on; rejects if the daemon refuses it (the old one keeps serving). */
  async setDocument(document: EnvDnsDocument): Promise<void> {
    const r = await this.request({ op: "directory", document });
    if (!r.ok) throw new DaemonRefused(r.error);
  }

  async stats(): Promise<DnsServerStats | undefined> {
    const r = await this.request({ op: "stats" });
    return r.ok ? (r.stats as DnsServerStats) : undefined;
  }

  /** Called once if the daemon goes away while the link is open (it crashed or was killed). */
  onLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  /** Leaves the daemon serving. */
  close(): void {
    this.closing = true;
    this.conn.end();
    this.conn.destroy();
  }

  /** Stops the daemon (host teardown): its sockets close, the address is the caller's to remove. */
  async shutdown(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.conn.once("close", () => resolve()));
    await this.request({ op: "stop" }).catch(() => undefined);
    this.closing = true;
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
    this.conn.destroy();
  }

  request(req: Request): Promise<ControlReply> {
    linkOf.set(this.conn, this);
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      if (this.conn.destroyed) return reject(new Error("dns daemon connection closed"));
      this.pending.set(id, { resolve, reject });
      this.conn.write(JSON.stringify({ ...req, id }) + "\n");
    });
  }

  private settle(reply: ControlReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    p.resolve(reply);
  }

  private lost(): void {
    for (const p of this.pending.values()) p.reject(new Error("dns daemon connection closed"));
    this.pending.clear();
    if (this.closing) return;
    const listeners = this.lostListeners;
    this.lostListeners = [];
    for (const l of listeners) l();
  }
}

const linkOf = new WeakMap<net.Socket, DaemonLink>();

/** A daemon that holds its pid file but does not answer (hung) would keep the port: it goes. */
function stopStale(pidFile: string, log: Logger): void {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, "utf8").trim());
  } catch {
    return;
  }
  if (!Number.isSafeInteger(pid) || pid <= 1) return;
  let cmdline = "";
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // gone
  }
  // The pid may have been reused by something else since: only a DNS daemon is stopped.
  if (!cmdline.includes(path.join("dns", "daemon", "main.js"))) return;
  log.warn("stopping a dns daemon that does not answer on its control socket", { pid });
  try {
    process.kill(pid, "SIGKILL");
  } catch (err) {
    log.warn("could not stop the unanswering dns daemon", { pid, reason: errorMessage(err) });
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").trim().split("\n").slice(-3).join(" | ");
  } catch {
    return "(no log)";
  }
}
