import { spawn } from "child_process";
import type * as dgram from "dgram";
import * as fs from "fs";
import * as net from "net";
import { createLogger, errorMessage, Logger } from "../../log";
import { agentVersion } from "../../version";
import type { EnvDnsDocument } from "../directory";
import { parseEnvDnsDocument } from "../document";
import { DnsServer, DnsSockets, startDnsServer } from "../server";
import { setUdpReading } from "./udp-reading";
import { ControlReply, ControlReplyBody, ControlRequest, daemonPaths, DNS_CONTROL_PROTOCOL, DnsDaemonConfig, jsonLines } from "./control";

/**
 * The host's DNS daemon: a process of its own, started detached by the agent, that owns the
 * DNS sockets on 169.254.169.250:53 and the last directory the agent gave it. It outlives the
 * agent (SIGTERM, SIGKILL, crash, upgrade), so containers keep their answers while the agent
 * restarts; the next agent adopts it through the control socket. It keeps the last document on
 * disk, so a daemon started afresh (after a crash of its own) serves it before any agent is up.
 *
 * Started by a predecessor with an IPC channel (a protocol change), it is handed that
 * predecessor's bound sockets instead of binding: both serve the same port for a moment and
 * no datagram finds it closed.
 */
async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as DnsDaemonConfig;
  const paths = daemonPaths(config.dir);
  const log = createLogger(undefined, undefined, { component: "dns-daemon", pid: process.pid });
  const handed = process.send ? await receiveSockets() : undefined;
  let document = loadDocument(paths.document, log);
  const server = await startDnsServer({
    address: config.address, port: config.port, upstreams: config.upstreams, log, adopt: handed?.sockets,
    ...(config.ttlSeconds !== undefined ? { ttlSeconds: config.ttlSeconds } : {}),
    ...(config.upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs: config.upstreamTimeoutMs } : {}),
    ...(document ? { directory: document.directory } : {}),
  });
  handed?.replay();
  const codeVersion = agentVersion();
  let stopping = false;

  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info("dns daemon stopping", { why });
    control.close();
    await server.close();
    process.exit(0);
  };

  const handle = async (req: ControlRequest): Promise<ControlReplyBody> => {
    switch (req.op) {
      case "hello":
        return { ok: true, hello: { pid: process.pid, protocol: DNS_CONTROL_PROTOCOL, codeVersion, port: server.port, documentVersion: document?.version } };
      case "directory": {
        // The agent parsed it already; parsing again keeps a bad line from reaching the index.
        const doc = parseEnvDnsDocument(JSON.stringify(req.document));
        server.setDirectory(doc.directory);
        document = doc;
        writeAtomic(paths.document, JSON.stringify(doc));
        return { ok: true };
      }
      case "stats":
        return { ok: true, stats: server.stats() };
      case "stop":
        setImmediate(() => void stop("asked by the agent"));
        return { ok: true };
      case "handover":
        await handOver(server, control, req.script, req.config, log);
        stopping = true;
        setImmediate(() => void retire(server).then(() => process.exit(0)));
        return { ok: true };
      default:
        return { ok: false, error: `unknown op ${JSON.stringify((req as { op?: unknown }).op)}` };
    }
  };

  const control = net.createServer((conn) => {
    conn.on("error", () => conn.destroy());
    // One request at a time per connection, in order.
    let queue = Promise.resolve();
    conn.on("data", jsonLines<ControlRequest>((req) => {
      queue = queue.then(async () => {
        let reply: ControlReply;
        try {
          reply = { id: req.id, ...(await handle(req)) };
        } catch (err) {
          reply = { id: req.id, ok: false, error: errorMessage(err) };
          log.warn("control request refused", { op: req.op, reason: errorMessage(err) });
        }
        if (!conn.destroyed) conn.write(JSON.stringify(reply) + "\n");
      });
    }, (line) => {
      log.warn("malformed control line dropped", { line });
    }));
  });
  await listenControl(control, paths.socket);
  fs.writeFileSync(paths.pid, `${process.pid}\n`, { mode: 0o600 });
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  log.info("dns daemon serving", { address: config.address, port: server.port, documentVersion: document?.version, handedOver: handed !== undefined, codeVersion });
  if (handed) {
    process.send!({ op: "serving" });
    process.disconnect();
  }
}

/**
 * The predecessor's sockets, sent over the IPC channel one per message ("udp", then "tcp" if
 * any, then "done"). A handed UDP socket reads from the moment it arrives: reading is stopped
 * at once and restarted when this daemon serves (the predecessor answers meanwhile); what came
 * before the stop, and TCP connections, are held and replayed, so nothing is dropped.
 */
function receiveSockets(): Promise<{ sockets: DnsSockets; replay: () => void }> {
  return new Promise((resolve, reject) => {
    let udp: dgram.Socket | undefined;
    let tcp: net.Server | undefined;
    const datagrams: [Buffer, dgram.RemoteInfo][] = [];
    const connections: net.Socket[] = [];
    const holdDatagram = (msg: Buffer, rinfo: dgram.RemoteInfo) => { datagrams.push([msg, rinfo]); };
    const holdConnection = (conn: net.Socket) => { connections.push(conn); };
    const replay = () => {
      if (udp) setUdpReading(udp, true);
      udp?.off("message", holdDatagram);
      tcp?.off("connection", holdConnection);
      for (const [msg, rinfo] of datagrams.splice(0)) udp?.emit("message", msg, rinfo);
      for (const conn of connections.splice(0)) tcp?.emit("connection", conn);
    };
    const timer = setTimeout(() => reject(new Error("no sockets handed over within 10 s")), 10_000);
    process.on("message", (msg: { op?: string }, handle: unknown) => {
      if (msg.op === "udp") {
        udp = handle as dgram.Socket;
        udp.on("message", holdDatagram);
        // Not read until this daemon serves: meanwhile the predecessor answers what comes (a
        // successor slow to start under load held questions past their client's timeout).
        setUdpReading(udp, false);
      } else if (msg.op === "tcp") {
        tcp = handle as net.Server;
        tcp.on("connection", holdConnection);
      } else if (msg.op === "done") {
        clearTimeout(timer);
        if (!udp) reject(new Error("handover without a UDP socket"));
        else resolve({ sockets: { udp, ...(tcp ? { tcp } : {}) }, replay });
      }
    });
  });
}

/**
 * Starts the successor with an IPC channel, hands it the bound sockets and the control socket
 * path, and resolves once it serves. Until then this daemon keeps answering too.
 */
async function handOver(server: DnsServer, control: net.Server, script: string, config: DnsDaemonConfig, log: Logger): Promise<void> {
  const paths = daemonPaths(config.dir);
  const out = fs.openSync(paths.log, "a", 0o600);
  // The control socket is the successor's to listen on: stop accepting here (libuv unlinks the
  // path at once; open connections, the asking agent's among them, stay).
  control.close();
  const child = spawn(process.execPath, [script, JSON.stringify(config)], { detached: true, stdio: ["ignore", out, out, "ipc"] });
  fs.closeSync(out);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the successor did not serve within 10 s")), 10_000);
      child.once("exit", (code, sig) => { clearTimeout(timer); reject(new Error(`the successor exited (${code ?? sig}) before serving`)); });
      child.on("message", (msg: { op?: string }) => {
        if (msg.op === "serving") { clearTimeout(timer); resolve(); }
      });
      const sockets = server.sockets();
      child.send({ op: "udp" }, sockets.udp);
      if (sockets.tcp) child.send({ op: "tcp" }, sockets.tcp);
      child.send({ op: "done" });
    });
  } catch (err) {
    child.kill("SIGKILL");
    await listenControl(control, paths.socket); // keep serving as before
    throw err;
  }
  child.unref();
  child.disconnect?.();
  log.info("dns sockets handed over", { successor: child.pid });
}

/**
 * After a handover: stop reading the shared UDP socket (the successor reads every datagram
 * from now on), let the answers already on their way go out, then close. A plain close would
 * cancel an answer still in the send queue: a question lost in the handover.
 */
async function retire(server: DnsServer): Promise<void> {
  const udp = server.sockets().udp;
  // Where this Node cannot stop reading, the wait below still lets answers in flight go out.
  setUdpReading(udp, false);
  // Answers still to come: forwarded questions wait up to the upstream timeout (1 s by default).
  await new Promise((r) => setTimeout(r, 1_100));
  const deadline = Date.now() + 2_000;
  while (udp.getSendQueueCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await server.close();
}

async function listenControl(control: net.Server, socketPath: string): Promise<void> {
  // Whoever started this daemon made sure nothing answers on the path: a file there is stale.
  fs.rmSync(socketPath, { force: true });
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      control.once("error", reject);
      control.listen(socketPath, () => { control.off("error", reject); resolve(); });
    });
  } finally {
    process.umask(old);
  }
}

function loadDocument(file: string, log: Logger): EnvDnsDocument | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    return parseEnvDnsDocument(raw);
  } catch (err) {
    log.warn("saved dns document refused: serving none until the agent sends one", { reason: errorMessage(err) });
    return undefined;
  }
}

function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

main().catch((err) => {
  process.stderr.write(`dns daemon failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
