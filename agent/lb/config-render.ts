/**
 * Renders one load balancer instance's haproxy.cfg. Pure: same input, same text.
 *
 * - one frontend per source port, binding every IPv4 address of the host (`bind :port`), as a
 *   published port would; http/https in mode http, tcp/tls in mode tcp;
 * - http/https route on the Host header without its port (lower-cased) and a path prefix;
 *   tls on the SNI name of the ClientHello (HAProxy waits for it, then passes TLS through);
 * - https ends TLS with a crt-list (default certificate first, SNI picks the others);
 * - http adds X-Forwarded-For/-Proto/-Port; tcp/tls servers may get a PROXY v1 header;
 * - every backend has a fixed number of server slots carrying the current membership (so a
 *   start or reload begins right); the runtime API changes them afterwards (slots.ts).
 */
import type { LoadBalancerSpec } from "../../runtime/protocol/model";
import type { HostMatch } from "./hostname-match";
import { matchFlag } from "./hostname-match";
import { quoteArg } from "./quote";
import type { BackendPlan, FrontendPlan, RoutePlan, RoutingPlan } from "./routing";
import type { SlotState } from "./slots";
import { freeSlots } from "./slots";
import { LbSpecError } from "./spec-error";

export const DEFAULT_TIMEOUTS = { connect: 5000, client: 50000, server: 50000 };
/** How long a tls frontend waits for the ClientHello before giving up on SNI routing. */
const SNI_INSPECT_DELAY = "5s";

export interface RenderInput {
  /** Instance id and name, for the header comment. */
  id: string;
  name: string;
  spec: Pick<LoadBalancerSpec, "timeouts">;
  routing: RoutingPlan;
  pidFile: string;
  runtimeSocket: string;
  /** The crt-list https binds use (certificates.ts); required when an https frontend exists. */
  crtList?: string;
  /** The host's overlay gateway (HostNetworkSpec.gateway): connections to servers leave from it, so replies come back over the overlay. */
  sourceAddress?: string;
  /** Backend name → its slots with the current membership; a backend missing here gets `slotCounts[name]` (or 8) free slots. */
  slots?: Record<string, SlotState[]>;
  slotCounts?: Record<string, number>;
}

export function renderConfig(input: RenderInput): string {
  const t = timeouts(input.spec);
  const lines: string[] = [
    `# haproxy.cfg of load balancer ${oneLine(input.name)} (instance ${oneLine(input.id)}).`,
    "# Written by the drover agent (agent/lb); edits are overwritten.",
    "global",
    `  pidfile ${quoteArg(input.pidFile)}`,
    // expose-fd listeners: a new process can take over the listening sockets (the master
    // passes them to each new worker on reload, so no connection is refused meanwhile).
    `  stats socket ${quoteArg(input.runtimeSocket)} mode 600 level admin expose-fd listeners`,
    "  stats timeout 30s",
    // Old workers finish their connections after a reload; one still busy after this many
    // more reloads is stopped, so long-lived connections cannot pile up old processes forever.
    "  mworker-max-reloads 50",
    "",
    "defaults",
    `  timeout connect ${t.connect}ms`,
    `  timeout client ${t.client}ms`,
    `  timeout server ${t.server}ms`,
    // A server that refuses a connection (an instance that just died, before health says so)
    // costs a retry on another server, not an error for the client.
    "  retries 3",
    "  option redispatch",
  ];
  for (const fe of input.routing.frontends) lines.push("", ...frontend(fe, input));
  for (const be of input.routing.backends) lines.push("", ...backend(be, input));
  return lines.join("\n") + "\n";
}

function frontend(fe: FrontendPlan, input: RenderInput): string[] {
  const out = [`frontend ${fe.name}`, `  mode ${fe.mode}`];
  if (fe.protocol === "https") {
    if (!input.crtList) throw new LbSpecError("certificateIds", `a certificate for the https rules on port ${fe.port}`);
    out.push(`  bind :${fe.port} ssl crt-list ${quoteArg(input.crtList)}`);
  } else {
    out.push(`  bind :${fe.port}`);
  }
  if (fe.mode === "http") {
    out.push(
      "  option forwardfor",
      `  http-request set-header X-Forwarded-Proto ${fe.protocol === "https" ? "https" : "http"}`,
      // The frontend has one port: a literal costs less per request than a sample fetch.
      `  http-request set-header X-Forwarded-Port ${fe.port}`,
    );
    if (fe.routes.some((r) => r.host)) out.push("  http-request set-var(txn.host) req.hdr(host),field(1,:),lower");
  } else if (fe.protocol === "tls" && fe.routes.length > 0) {
    out.push(`  tcp-request inspect-delay ${SNI_INSPECT_DELAY}`, "  tcp-request content accept if { req_ssl_hello_type 1 }");
  }
  for (const r of fe.routes) out.push(`  use_backend ${r.backend} if ${conditions(r, fe)}`);
  if (fe.defaultBackend) out.push(`  default_backend ${fe.defaultBackend}`);
  return out;
}

function conditions(r: RoutePlan, fe: FrontendPlan): string {
  const parts: string[] = [];
  if (r.host) parts.push(`{ ${fe.protocol === "tls" ? "req_ssl_sni" : "var(txn.host)"} -i ${hostAcl(r.host)} }`);
  if (r.path !== undefined) parts.push(`{ path -m beg ${quoteArg(r.path)} }`);
  return parts.join(" ");
}

function hostAcl(h: HostMatch): string {
  return `${matchFlag(h)} ${quoteArg(h.value)}`;
}

function backend(be: BackendPlan, input: RenderInput): string[] {
  const out = [`backend ${be.name}`, `  mode ${be.mode}`, "  balance roundrobin"];
  // `indirect`: the server never sees the cookie; `nocache`: caches do not store a response carrying it.
  if (be.cookie) out.push(`  cookie ${be.cookie} insert indirect nocache`);
  if (be.mode === "http") {
    // A server that dies mid-request (a container killed by hand, a host lost) answers
    // nothing: GET and HEAD go to another server instead of the client getting a 502. Other
    // methods are never replayed (they may have had an effect).
    out.push("  retry-on conn-failure empty-response junk-response", "  http-request disable-l7-retry if !METH_GET !METH_HEAD");
  }
  if (input.sourceAddress) out.push(`  source ${quoteArg(input.sourceAddress)}`);
  const slots = input.slots?.[be.name] ?? freeSlots(input.slotCounts?.[be.name] ?? 8, be.targets[0].port);
  for (const s of slots) {
    const opts: string[] = [];
    // The cookie value belongs to the slot: an instance keeps its slot for its whole life (slots.ts).
    if (be.cookie) opts.push(`cookie ${s.name}`);
    if (be.proxyProtocol) opts.push("send-proxy");
    // A draining server starts a new process in maint too: that process has no requests to finish on it.
    if (s.admin !== "ready") opts.push("disabled");
    out.push(`  server ${s.name} ${s.addr}:${s.port}${opts.length ? " " + opts.join(" ") : ""}`);
  }
  return out;
}

function timeouts(spec: Pick<LoadBalancerSpec, "timeouts">): typeof DEFAULT_TIMEOUTS {
  const out = { ...DEFAULT_TIMEOUTS };
  for (const k of ["connect", "client", "server"] as const) {
    const v = spec.timeouts?.[k];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1 || v > 86_400_000) throw new LbSpecError(`timeouts.${k}`, "milliseconds from 1 to 86400000", v);
    out[k] = v;
  }
  return out;
}

function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, " ");
}
