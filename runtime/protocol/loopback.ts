/** Whether a host name or address (IPv6 in brackets or not) stays on this machine: no network hop, so no TLS needed. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\./.test(h);
}
