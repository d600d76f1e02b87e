import { isIP } from "net";

export interface Upstream {
  host: string;
  port: number;
  family: 4 | 6;
}

/**
 * "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353", "fe80::1%eth0" → host, port (53 by
 * default), family. Throws on anything else: a bad upstream is a configuration error.
 */
export function parseUpstream(spec: string): Upstream {
  let host = spec;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  const v4WithPort = /^([\d.]+):(\d+)$/.exec(spec);
  if (bracketed) {
    host = bracketed[1];
    if (bracketed[2]) port = Number(bracketed[2]);
  } else if (v4WithPort) {
    host = v4WithPort[1];
    port = Number(v4WithPort[2]);
  }
  const family = isIP(host.split("%")[0]);
  if (family === 0 || !(port > 0 && port < 65536)) throw new Error(`not an upstream DNS server address: "${spec}"`);
  return { host, port, family: family as 4 | 6 };
}

/**
 * dgram's `lookup` for a socket that only ever sends to IP literals of its own family
 * (client addresses from the kernel, upstreams checked by parseUpstream): answers at once,
 * where the default dns.lookup() costs a process.nextTick and a resolver call per datagram.
 */
export function literalLookup(family: 4 | 6) {
  return (address: string, _options: unknown, callback: (err: null, address: string, family: number) => void): void =>
    callback(null, address, family);
}
