/** Clients for the load balancer tests: HTTP(S) requests, a TLS or TCP line exchange. */
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as tls from "tls";

export interface Answer {
  status: number;
  /** The backend's name (from its JSON body), or undefined for a non-backend answer (HAProxy's 503). */
  name?: string;
  headers: http.IncomingHttpHeaders;
  /** What the backend saw as request headers. */
  seen?: Record<string, string>;
  /** The address the backend saw the connection come from. */
  remote?: string;
  /** https: SHA-256 fingerprint of the certificate HAProxy presented (AB:CD:... form). */
  certFingerprint?: string;
}

export interface RequestOptions {
  host?: string;
  path?: string;
  headers?: Record<string, string>;
  /** https with this SNI name (undefined: none sent). */
  tls?: { servername?: string };
  agent?: http.Agent;
  timeoutMs?: number;
}

/** One request to the load balancer on 127.0.0.1:`port`; a new connection unless `agent` says otherwise. */
export function request(port: number, opts: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const base = {
      host: "127.0.0.1", port, path: opts.path ?? "/", method: "GET",
      headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
      agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 10_000,
    };
    const req = opts.tls
      ? https.request({ ...base, servername: opts.tls.servername ?? "", rejectUnauthorized: false })
      : http.request(base);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let parsed: { name?: string; headers?: Record<string, string>; remote?: string } = {};
        try { parsed = JSON.parse(body); } catch { /* HAProxy's own error page */ }
        const cert = opts.tls ? (res.socket as tls.TLSSocket).getPeerCertificate?.() : undefined;
        resolve({ status: res.statusCode ?? 0, name: parsed.name, headers: res.headers, seen: parsed.headers, remote: parsed.remote, certFingerprint: cert?.fingerprint256 });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`request to :${port}${base.path} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

/** Opens a TCP (or TLS, with `servername`) connection, sends one line, reads until the server closes. */
export function exchangeLine(port: number, opts: { tls?: { servername?: string }; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock: net.Socket = opts.tls
      ? tls.connect({ host: "127.0.0.1", port, servername: opts.tls.servername, rejectUnauthorized: false })
      : net.connect(port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer on :${port} within ${opts.timeoutMs ?? 10_000} ms`)); }, opts.timeoutMs ?? 10_000);
    sock.once(opts.tls ? "secureConnect" : "connect", () => sock.write("hi\n"));
    sock.on("data", (d) => { out += d.toString("utf8"); });
    sock.on("error", (err) => { clearTimeout(timer); reject(err); });
    sock.on("close", () => { clearTimeout(timer); resolve(out.trim()); });
  });
}

/** SHA-256 fingerprint as Node prints it (AB:CD:...) from lower-case hex. */
export function colonHex(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(":");
}
