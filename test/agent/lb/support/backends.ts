/**
 * Backend servers for the load balancer tests, each answering with its own name so a test
 * can tell where a request went: HTTP (with a `/hold` path whose answer waits until the
 * test releases it), plain TCP (reading a PROXY protocol header when there is one) and TLS.
 * They listen on loopback addresses (127.x.y.z, all on `lo`), so several "instances" of a
 * service share one port on different addresses, as containers on the overlay would.
 */
import * as http from "http";
import * as net from "net";
import * as tls from "tls";
import type { CertificateMaterial } from "../../../../runtime/protocol/model";

export interface Backend {
  name: string;
  ip: string;
  port: number;
  /** Requests (HTTP) or connections (TCP/TLS) this backend has served. */
  hits: number;
  /** HTTP: requests to /hold waiting for `release()`. */
  held(): number;
  release(): void;
  /** TCP: the PROXY protocol header lines received. */
  proxyHeaders: string[];
  close(): Promise<void>;
}

type Kind = { kind: "http" } | { kind: "tcp" } | { kind: "tls"; cert: CertificateMaterial };

/** Starts one backend on `ip:port` (port 0: any). */
export async function startBackend(name: string, ip: string, port: number, kind: Kind = { kind: "http" }): Promise<Backend> {
  const holds: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const b: Backend = {
    name, ip, port, hits: 0, proxyHeaders: [],
    held: () => holds.length,
    release: () => { for (const h of holds.splice(0)) h(); },
    close: () => new Promise((resolve) => {
      b.release();
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  let server: net.Server;
  if (kind.kind === "http") {
    server = http.createServer((req, res) => {
      b.hits++;
      const answer = () => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ name, url: req.url, headers: req.headers, remote: req.socket.remoteAddress }));
      };
      if (req.url?.startsWith("/hold")) holds.push(answer);
      else answer();
    });
    (server as http.Server).keepAliveTimeout = 60_000;
  } else if (kind.kind === "tcp") {
    server = net.createServer((sock) => {
      b.hits++;
      // The client sends one line; a PROXY v1 header (ending in CRLF) may come before it.
      let buf = "";
      let header = "";
      sock.on("data", (d) => {
        buf += d.toString("latin1");
        if (!header && buf.startsWith("PROXY ") && buf.includes("\r\n")) {
          header = buf.slice(0, buf.indexOf("\r\n"));
          b.proxyHeaders.push(header);
          buf = buf.slice(header.length + 2);
        }
        if (buf.includes("\n") && !buf.startsWith("PROXY ")) {
          sock.end(header ? `${name} ${header}\n` : `${name}\n`);
          buf = "";
        }
      });
      sock.on("error", () => undefined);
    });
  } else {
    server = tls.createServer({ cert: kind.cert.cert, key: kind.cert.key }, (sock) => {
      b.hits++;
      sock.end(`${name} sni=${(sock as tls.TLSSocket & { servername?: string }).servername ?? ""}\n`);
      sock.on("error", () => undefined);
    });
  }
  server.on("connection", (s: net.Socket) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, ip, () => resolve());
  });
  b.port = (server.address() as net.AddressInfo).port;
  return b;
}

/** `count` instances of one service: the same port on consecutive addresses `<prefix>.<first + i>`. */
export async function startService(service: string, prefix: string, first: number, count: number, kind: Kind = { kind: "http" }): Promise<Backend[]> {
  const out: Backend[] = [];
  for (let i = 0; i < count; i++) out.push(await startBackend(`${service}-${i + 1}`, `${prefix}.${first + i}`, out[0]?.port ?? 0, kind));
  return out;
}
