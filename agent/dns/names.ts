import { DROVER_DOMAIN } from "./directory";

/** DNS names compare case-insensitively; a trailing dot (absolute form) means the same name. */
export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length > 1 && lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

const suffix = "." + DROVER_DOMAIN;

/** `drover.internal` or anything under it (expects a normalized name). */
export function inDroverDomain(name: string): boolean {
  return name === DROVER_DOMAIN || name.endsWith(suffix);
}

export function fqdn(service: string, stack: string): string {
  return `${service}.${stack}.${DROVER_DOMAIN}`;
}
