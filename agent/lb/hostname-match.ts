import { LbSpecError } from "./spec-error";

/**
 * How a rule's hostname matches a Host header (http/https) or an SNI name (tls), always
 * case-insensitively: `www.example.com` exactly; `*.example.com` any name ending in
 * `.example.com` (not `example.com` itself, as in Rancher); `example.*` any name starting
 * with `example.`.
 */
export interface HostMatch {
  kind: "exact" | "suffix" | "prefix";
  /** Lower case; for suffix the leading dot is kept (`.example.com`), for prefix the trailing one (`example.`). */
  value: string;
}

const LABEL = "[a-z0-9]([a-z0-9-]*[a-z0-9])?";
const HOSTNAME = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*(\\.\\*)?$`);

export function hostMatch(hostname: string, field: string): HostMatch {
  const lower = hostname.toLowerCase();
  if (lower.length > 253 || !HOSTNAME.test(lower) || (lower.startsWith("*.") && lower.endsWith(".*"))) {
    throw new LbSpecError(field, 'a hostname such as "www.example.com", "*.example.com" or "example.*"', hostname);
  }
  if (lower.startsWith("*.")) return { kind: "suffix", value: lower.slice(1) };
  if (lower.endsWith(".*")) return { kind: "prefix", value: lower.slice(0, -1) };
  return { kind: "exact", value: lower };
}

/** HAProxy's match flag for it: `-m str`, `-m end` or `-m beg`. */
export function matchFlag(m: HostMatch): string {
  return m.kind === "exact" ? "-m str" : m.kind === "suffix" ? "-m end" : "-m beg";
}
