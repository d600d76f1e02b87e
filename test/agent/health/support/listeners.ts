/**
 * Real local listeners for the checker's tests: a TCP server and a raw HTTP server whose
 * behaviour can be switched between checks. Both count their open connections, so a test
 * can see the checker close its sockets from the other end.
 */
import { AddressInfo, Server, Socket, createServer } from "net";

export type HttpMode =
  | { answer: string } // written verbatim after the request's blank line, then the connection is closed
  | "silent" // reads the request and never answers
  | "close" // closes without a byte
  | "reset"; // answers the request with a RST

export interface Listener {
  host: string;
  port: number;
  /** Connections accepted and not yet closed. */
  open(): number;
  accepted(): number;
  /** The bytes of the first request the server read (HTTP listeners). */
  requests: string[];
  close(): Promise<void>;
}

function track(server: Server, host: string, requests: string[], port = 0): Promise<Listener> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on("connection", (s) => {
    accepted++;
    sockets.add(s);
    s.on("error", () => undefined); // the checker ends its checks with a RST
    s.on("close", () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      resolve({
        host,
        port: (server.address() as AddressInfo).port,
        open: () => sockets.size,
        accepted: () => accepted,
        requests,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

/** A TCP server on `host` (any free port unless `port` is given) that only accepts. */
export function tcpListener(host: string, port = 0): Promise<Listener> {
  return track(createServer(), host, [], port);
}

export const OK_200 = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/** An HTTP/1.x server that reads one request head and does what `mode()` says at that moment. */
export function httpListener(host: string, mode: () => HttpMode): Promise<Listener> {
  const requests: string[] = [];
  const server = createServer((s) => {
    let got = "";
    s.on("data", (d) => {
      got += d.toString("latin1");
      if (!got.includes("\r\n\r\n")) return;
      if (requests.length < 20) requests.push(got);
      const m = mode();
      if (m === "silent") return;
      if (m === "close") s.end();
      else if (m === "reset") s.resetAndDestroy();
      else s.end(m.answer);
    });
  });
  return track(server, host, requests);
}

/** A port on `host` with nothing listening (opened, then closed). */
export async function closedPort(host: string): Promise<number> {
  const l = await tcpListener(host);
  await l.close();
  return l.port;
}
