/**
 * From a load balancer's port rules to HAProxy's shape: one frontend per source port, one
 * backend per distinct (source port, hostname, path), routes in the order HAProxy must try
 * them. Pure; the renderer turns it into config text.
 *
 * Order of routes on a port (first match wins):
 *  1. rules with an explicit `priority`, lowest number first;
 *  2. then the rest in Rancher's order: hostname+path, hostname only, path only;
 *  ties: an exact hostname before a wildcard one, a longer path before a shorter one (so
 *  `/api/v2` is tried before `/api`), then the order the rules were given.
 * A rule without hostname and path is the port's default backend (whatever its priority).
 * Rules with the same port, hostname and path share one backend holding the servers of all
 * their targets (Rancher did the same).
 */
import { createHash } from "crypto";
import type { LoadBalancerSpec, PortRuleSpec } from "../../runtime/protocol/model";
import { hostMatch, HostMatch } from "./hostname-match";
import { LbSpecError } from "./spec-error";

export type Protocol = PortRuleSpec["protocol"];
export type ProxyMode = "http" | "tcp";

export interface BackendTarget {
  serviceId: string;
  port: number;
}

export interface BackendPlan {
  name: string;
  mode: ProxyMode;
  /** Services (and their ports) whose instances this backend's servers point at. */
  targets: BackendTarget[];
  /** tcp/tls: a PROXY protocol v1 header on every connection to a server. */
  proxyProtocol: boolean;
  /** http/https with `spec.stickiness`: the cookie HAProxy inserts. */
  cookie?: string;
}

export interface RoutePlan {
  backend: string;
  host?: HostMatch;
  /** Path prefix (http/https). */
  path?: string;
}

export interface FrontendPlan {
  name: string;
  port: number;
  protocol: Protocol;
  mode: ProxyMode;
  /** Tried in this order; the first whose hostname and path both match wins. */
  routes: RoutePlan[];
  defaultBackend?: string;
}

export interface RoutingPlan {
  frontends: FrontendPlan[];
  backends: BackendPlan[];
}

const PROTOCOLS: Protocol[] = ["http", "https", "tcp", "tls"];
/** Printable ASCII without space; HAProxy sees it quoted (see quote.ts). */
const PATH = /^\/[\x21-\x7e]{0,1023}$/;
const COOKIE = /^[A-Za-z0-9_.-]{1,64}$/;

interface Group {
  key: string;
  port: number;
  protocol: Protocol;
  host?: HostMatch;
  hostname?: string;
  path?: string;
  priority?: number;
  firstIndex: number;
  targets: BackendTarget[];
  proxyProtocol: boolean;
}

export function planRouting(spec: LoadBalancerSpec): RoutingPlan {
  if (!Array.isArray(spec.portRules) || spec.portRules.length === 0) {
    throw new LbSpecError("portRules", "at least one port rule");
  }
  const cookie = spec.stickiness?.cookie;
  if (cookie !== undefined && !COOKIE.test(cookie)) {
    throw new LbSpecError("stickiness.cookie", "a cookie name of letters, digits, _ . - (at most 64)", cookie);
  }
  const groups = new Map<string, Group>();
  const protocolOfPort = new Map<number, { protocol: Protocol; index: number }>();
  spec.portRules.forEach((rule, i) => {
    const at = `portRules[${i}]`;
    checkRule(rule, at);
    const first = protocolOfPort.get(rule.sourcePort);
    if (!first) protocolOfPort.set(rule.sourcePort, { protocol: rule.protocol, index: i });
    else if (first.protocol !== rule.protocol) {
      throw new LbSpecError(`${at}.protocol`, `"${first.protocol}" like portRules[${first.index}] on source port ${rule.sourcePort}`, rule.protocol);
    }
    const host = rule.hostname === undefined ? undefined : hostMatch(rule.hostname, `${at}.hostname`);
    const key = `${rule.sourcePort}|${host ? `${host.kind}:${host.value}` : ""}|${rule.path ?? ""}`;
    const proxyProtocol = rule.proxyProtocol === true;
    let g = groups.get(key);
    if (!g) {
      g = { key, port: rule.sourcePort, protocol: rule.protocol, host, hostname: rule.hostname?.toLowerCase(), path: rule.path, firstIndex: i, targets: [], proxyProtocol };
      groups.set(key, g);
    } else if (g.proxyProtocol !== proxyProtocol) {
      throw new LbSpecError(`${at}.proxyProtocol`, `${g.proxyProtocol} like portRules[${g.firstIndex}] (same source port, hostname and path)`, rule.proxyProtocol);
    }
    if (rule.priority !== undefined) g.priority = g.priority === undefined ? rule.priority : Math.min(g.priority, rule.priority);
    if (!g.targets.some((t) => t.serviceId === rule.targetServiceId && t.port === rule.targetPort)) {
      g.targets.push({ serviceId: rule.targetServiceId, port: rule.targetPort });
    }
  });

  const backends: BackendPlan[] = [];
  const frontends: FrontendPlan[] = [];
  const ports = [...protocolOfPort.keys()].sort((a, b) => a - b);
  for (const port of ports) {
    const protocol = protocolOfPort.get(port)!.protocol;
    const mode: ProxyMode = protocol === "http" || protocol === "https" ? "http" : "tcp";
    const portGroups = [...groups.values()].filter((g) => g.port === port);
    const fe: FrontendPlan = { name: `fe_${port}`, port, protocol, mode, routes: [] };
    for (const g of portGroups.sort(compareGroups)) {
      const name = backendName(g);
      backends.push({
        name, mode, targets: g.targets, proxyProtocol: g.proxyProtocol,
        ...(cookie !== undefined && mode === "http" ? { cookie } : {}),
      });
      if (!g.host && g.path === undefined) fe.defaultBackend = name;
      else fe.routes.push({ backend: name, ...(g.host ? { host: g.host } : {}), ...(g.path !== undefined ? { path: g.path } : {}) });
    }
    frontends.push(fe);
  }
  return { frontends, backends };
}

function checkRule(rule: PortRuleSpec, at: string): void {
  if (!Number.isInteger(rule.sourcePort) || rule.sourcePort < 1 || rule.sourcePort > 65535) {
    throw new LbSpecError(`${at}.sourcePort`, "a port number from 1 to 65535", rule.sourcePort);
  }
  if (!Number.isInteger(rule.targetPort) || rule.targetPort < 1 || rule.targetPort > 65535) {
    throw new LbSpecError(`${at}.targetPort`, "a port number from 1 to 65535", rule.targetPort);
  }
  if (!PROTOCOLS.includes(rule.protocol)) throw new LbSpecError(`${at}.protocol`, `one of ${PROTOCOLS.join(", ")}`, rule.protocol);
  if (typeof rule.targetServiceId !== "string" || rule.targetServiceId === "") {
    throw new LbSpecError(`${at}.targetServiceId`, "a service id", rule.targetServiceId);
  }
  if (rule.priority !== undefined && !Number.isInteger(rule.priority)) throw new LbSpecError(`${at}.priority`, "an integer", rule.priority);
  if (rule.path !== undefined) {
    if (rule.protocol === "tcp" || rule.protocol === "tls") {
      throw new LbSpecError(`${at}.path`, `no path on a ${rule.protocol} rule (only with protocol "http" or "https")`, rule.path);
    }
    if (typeof rule.path !== "string" || !PATH.test(rule.path)) {
      throw new LbSpecError(`${at}.path`, 'a path that starts with "/" and has no spaces or control characters, at most 1024 characters', rule.path);
    }
  }
  if (rule.hostname !== undefined && rule.protocol === "tcp") {
    throw new LbSpecError(`${at}.hostname`, 'no hostname on a tcp rule (use "tls" to route TLS by SNI)', rule.hostname);
  }
  if (rule.proxyProtocol && (rule.protocol === "http" || rule.protocol === "https")) {
    throw new LbSpecError(`${at}.proxyProtocol`, 'PROXY protocol only on "tcp" or "tls" rules (http gets X-Forwarded-For)', rule.proxyProtocol);
  }
}

/** Rancher's categories: hostname+path, hostname, path, then none (the default). */
function category(g: Group): number {
  if (g.host && g.path !== undefined) return 0;
  if (g.host) return 1;
  if (g.path !== undefined) return 2;
  return 3;
}

function compareGroups(a: Group, b: Group): number {
  const pa = a.priority ?? Infinity, pb = b.priority ?? Infinity;
  if (pa !== pb) return pa < pb ? -1 : 1;
  const ca = category(a), cb = category(b);
  if (ca !== cb) return ca - cb;
  const wa = a.host && a.host.kind !== "exact" ? 1 : 0, wb = b.host && b.host.kind !== "exact" ? 1 : 0;
  if (wa !== wb) return wa - wb;
  const la = a.path?.length ?? 0, lb = b.path?.length ?? 0;
  if (la !== lb) return lb - la;
  return a.firstIndex - b.firstIndex;
}

/**
 * A readable backend name that stays the same while the rule's port, hostname and path do
 * (status reports servers by backend name): `be_80_www.example.com`, `be_80_default`; a
 * short hash is added when the hostname or path had to be changed to fit HAProxy's names.
 */
function backendName(g: Group): string {
  if (!g.hostname && g.path === undefined) return `be_${g.port}_default`;
  const parts = [g.hostname ?? "any", ...(g.path !== undefined ? [g.path] : [])];
  const safeParts = parts.map((p) => p.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, ""));
  const safe = safeParts.join("_").slice(0, 80);
  const lossy = safeParts.some((p, i) => p !== parts[i]) || safe.length < safeParts.join("_").length;
  return `be_${g.port}_${safe}${lossy ? `_${createHash("sha256").update(g.key).digest("hex").slice(0, 6)}` : ""}`;
}
