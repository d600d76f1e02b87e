/** One line of CLUSTER NODES, as drover needs it. */
export interface ClusterNodeLine {
  /** host:port a client dials: the announced hostname when there is one, else the address. */
  address: string;
  primary: boolean;
  /** Flagged fail, or without an address (noaddr, handshake, or ":port"). */
  unusable: boolean;
}

/**
 * Reads CLUSTER NODES. Redis 7 writes a node's address as `ip:port@busport[,hostname]`; with
 * `cluster-announce-hostname` the hostname is what clients are told to dial (CLUSTER SLOTS
 * with `cluster-preferred-endpoint-type hostname`), and what a TLS certificate may name
 * instead of the address, so it is preferred.
 */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text.split("\n").filter(Boolean).map((line) => {
    const [, addr, flags] = line.split(" ");
    const [ipPort, hostname] = addr.split(",");
    const ipAndPort = ipPort.split("@")[0];
    const port = ipAndPort.slice(ipAndPort.lastIndexOf(":") + 1);
    const address = hostname ? `${hostname}:${port}` : ipAndPort;
    return { address, primary: /\bmaster\b/.test(flags), unusable: /\bfail\b|noaddr|handshake/.test(flags) || ipAndPort.startsWith(":") };
  });
}
