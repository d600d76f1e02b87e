/**
 * Host port bookkeeping. Two instances clash on a host when they publish the same port and
 * protocol on the same address, or when either of them binds every address.
 */
import type { HostPort } from "./types";

/** "" stands for every address (no ip, 0.0.0.0 or ::). */
export function normalizeIp(ip: string | undefined): string {
  if (ip === undefined) return "";
  const t = ip.trim();
  return t === "0.0.0.0" || t === "::" || t === "[::]" ? "" : t;
}

export function portKey(p: HostPort): string {
  return `${p.port}/${p.protocol ?? "tcp"}`;
}

/** `80/tcp`, or `10.0.0.5:80/tcp` when bound to one address. */
export function describePort(p: HostPort): string {
  const ip = normalizeIp(p.ip);
  return ip === "" ? portKey(p) : `${ip}:${portKey(p)}`;
}

/** Counts of published ports on one host: "80/tcp" → address → count. */
export class PortUsage {
  private readonly byPort = new Map<string, Map<string, number>>();

  add(p: HostPort): void {
    const key = portKey(p);
    let byIp = this.byPort.get(key);
    if (!byIp) this.byPort.set(key, (byIp = new Map()));
    const ip = normalizeIp(p.ip);
    byIp.set(ip, (byIp.get(ip) ?? 0) + 1);
  }

  remove(p: HostPort): void {
    const key = portKey(p);
    const byIp = this.byPort.get(key);
    if (!byIp) return;
    const ip = normalizeIp(p.ip);
    const n = (byIp.get(ip) ?? 0) - 1;
    if (n > 0) byIp.set(ip, n);
    else byIp.delete(ip);
    if (byIp.size === 0) this.byPort.delete(key);
  }

  /** Whether publishing `p` here would clash with a port already published. */
  conflicts(p: HostPort): boolean {
    return this.conflictsAt(portKey(p), normalizeIp(p.ip));
  }

  /** conflicts() with the key and address worked out once by the caller (it runs per host). */
  conflictsAt(key: string, ip: string): boolean {
    const byIp = this.byPort.get(key);
    if (!byIp) return false;
    return ip === "" || byIp.has("") || byIp.has(ip);
  }
}

/** Whether two published ports clash (for finding the instance to name in a reason). */
export function portsClash(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || (a.protocol ?? "tcp") !== (b.protocol ?? "tcp")) return false;
  const ia = normalizeIp(a.ip);
  const ib = normalizeIp(b.ip);
  return ia === "" || ib === "" || ia === ib;
}

/**
 * The host ports among a service's port specs (the protocol model's shape: `hostPort`,
 * `hostIp`); ports without a host port publish nothing and cannot clash.
 */
export function hostPortsOf<P extends { hostPort?: number; protocol: "tcp" | "udp"; hostIp?: string }>(specs: readonly P[]): HostPort[] {
  return specs
    .filter((s) => s.hostPort !== undefined)
    .map((s) => (s.hostIp === undefined ? { port: s.hostPort!, protocol: s.protocol } : { port: s.hostPort!, protocol: s.protocol, ip: s.hostIp }));
}
