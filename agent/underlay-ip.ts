import * as dgram from "dgram";
import * as dns from "dns/promises";
import * as net from "net";

/**
 * The address this machine uses to reach the server: the source address the kernel picks
 * for a route to it (a connected UDP socket sends nothing). Peers on the same underlay reach
 * the host there, which is what Rancher's agent does with the IP of its route to the server.
 * Undefined when it cannot be told (a loopback server, no route), so `--underlay-ip` is needed.
 */
export async function detectUnderlayIp(serverUrl: string): Promise<string | undefined> {
  let host: string;
  let port: number;
  try {
    const u = new URL(serverUrl);
    host = u.hostname.replace(/^\[|\]$/g, "");
    port = Number(u.port) || (u.protocol === "https:" ? 443 : 80);
  } catch {
    return undefined;
  }
  const address = net.isIP(host) ? host : await dns.lookup(host, { family: 4 }).then((r) => r.address, () => undefined);
  if (!address || net.isIPv4(address) === false) return undefined;
  if (address.startsWith("127.")) return undefined;
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    const done = (ip: string | undefined) => { socket.close(); resolve(ip); };
    socket.on("error", () => done(undefined));
    socket.connect(port, address, () => {
      const local = socket.address().address;
      done(local && local !== "0.0.0.0" ? local : undefined);
    });
  });
}
