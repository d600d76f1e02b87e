import * as net from "net";

/**
 * Ports this process has handed out. The kernel may hand the same free port out twice in a
 * row, and a caller that starts its listener later (a child process) then finds it taken by
 * the next one's: a `scale` run lost server 0 to EADDRINUSE, server 1 holding its port and
 * answering its health checks.
 */
const handedOut = new Set<number>();

/**
 * A TCP port free right now on `host` (the kernel picks it), never one this process was given
 * before. A race with other processes remains, acceptable in tests.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (;;) {
    const port = await kernelPort(host);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
