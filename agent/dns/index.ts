/** drover's DNS responder: per-container views of the environment, forwarding for the rest. */
export type { DnsDirectory, DnsInstance, DnsService, DnsStack } from "./directory";
export { DROVER_DOMAIN } from "./directory";
export { resolve, indexFor, Resolution } from "./view";
export { buildDnsIndex } from "./view-index";
export { startDnsServer, DnsServer, DnsServerOptions, DnsServerStats } from "./server";
export { parseResolvConf, readHostUpstreams, upstreamsFromResolvConf } from "./resolv-conf";
export { HostDns, HostDnsOptions, dnsListenFromEnv } from "./host-dns";
export { parseEnvDnsDocument } from "./document";
