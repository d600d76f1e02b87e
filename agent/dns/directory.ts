/** The DNS directory types live with the protocol (the server writes them, the agent reads them). */
export type { DnsDirectory, DnsInstance, DnsService, DnsStack, EnvDnsDocument } from "../../runtime/protocol/dns";
export { DROVER_DOMAIN } from "../../runtime/protocol/dns";
