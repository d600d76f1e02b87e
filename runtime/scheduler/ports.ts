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
    const byIp = this.byPort.get(portKey(p));
    if (!byIp) return false;
    const ip = normalizeIp(p.ip);
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
