/**
 * A load balancer's port rules, one by one: what each protocol allows (http/https route by
 * Host header and path; tls by the SNI name alone; tcp by nothing) and that each target is a
 * live service of the environment. Rules across the whole spec are load-balancer.ts's.
 */
import type { PortRuleSpec, ServiceRecord } from "../../protocol/model";
import { Problems } from "./problems";
import { ObjectReader, indexPath } from "./reader";
import { ID } from "./rules";

const RULE_FIELDS = ["sourcePort", "protocol", "hostname", "path", "targetServiceId", "targetPort", "priority", "proxyProtocol"];
export const PROTOCOLS = ["http", "tcp", "https", "tls"] as const;
const MAX_RULES = 100;

/** A Host header or SNI name to match: a DNS name, optionally `*.` in front or `.*` at the end (HAProxy's wildcards). */
const RULE_HOSTNAME = {
  expected: 'a hostname such as "www.example.com", "*.example.com" or "example.*", at most 253 characters',
  pattern: /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(\.\*)?$/,
  maxLength: 253,
};
const RULE_PATH = { expected: 'a path that starts with "/" and has no spaces, at most 1024 characters', pattern: /^\/[\x21-\x7e]*$/, maxLength: 1024 };

/** Why a field is refused on a protocol (undefined: allowed). */
const NOT_ON: Record<"hostname" | "path" | "proxyProtocol", Partial<Record<PortRuleSpec["protocol"], string>>> = {
  // HAProxy sees no Host header, path or SNI name in a plain TCP stream.
  hostname: { tcp: 'no hostname on a tcp rule (only with protocol "http", "https" or "tls")' },
  // TLS passed through stays encrypted: the SNI name is all HAProxy sees.
  path: {
    tcp: 'no path on a tcp rule (only with protocol "http" or "https")',
    tls: 'no path on a tls rule (TLS is passed through: only the SNI name in hostname can route; use "https" to route by path)',
  },
  // http/https backends get the client's address in X-Forwarded-For instead.
  proxyProtocol: {
    http: 'proxyProtocol only on a tcp or tls rule (http backends get the client address in X-Forwarded-For)',
    https: 'proxyProtocol only on a tcp or tls rule (https backends get the client address in X-Forwarded-For)',
  },
};

export function validatePortRules(p: Problems, value: unknown, services: ServiceRecord[]): PortRuleSpec[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RULES) {
    p.invalid("portRules", `a list of 1 to ${MAX_RULES} port rules`, value);
    return undefined;
  }
  const before = p.list.length;
  const rules = value.map((item, i) => validatePortRule(p, item, indexPath("portRules", i), services));
  return p.list.length === before ? (rules as PortRuleSpec[]) : undefined;
}

function validatePortRule(p: Problems, value: unknown, path: string, services: ServiceRecord[]): PortRuleSpec | undefined {
  const r = new ObjectReader(p, value, path, RULE_FIELDS);
  const sourcePort = r.integer("sourcePort", 1, 65535, true);
  const protocol = (r.string("protocol", { expected: `one of ${PROTOCOLS.join(", ")}`, oneOf: PROTOCOLS }) ?? "http") as PortRuleSpec["protocol"];
  const hostname = r.string("hostname", RULE_HOSTNAME);
  const rulePath = r.string("path", RULE_PATH);
  const proxyProtocol = r.boolean("proxyProtocol");
  if (hostname !== undefined && NOT_ON.hostname[protocol]) p.invalid(r.at("hostname"), NOT_ON.hostname[protocol]!, hostname);
  if (rulePath !== undefined && NOT_ON.path[protocol]) p.invalid(r.at("path"), NOT_ON.path[protocol]!, rulePath);
  if (proxyProtocol === true && NOT_ON.proxyProtocol[protocol]) p.invalid(r.at("proxyProtocol"), NOT_ON.proxyProtocol[protocol]!, proxyProtocol);
  const targetServiceId = r.string("targetServiceId", { ...ID, expected: "the id of a service in this environment", required: true });
  if (targetServiceId !== undefined) {
    const target = services.find((s) => s.id === targetServiceId);
    if (!target) p.invalid(r.at("targetServiceId"), "the id of a service in this environment", targetServiceId);
    else if (target.state === "removing" || target.state === "removed") {
      p.invalid(r.at("targetServiceId"), `a service that is not being removed (${target.id} is ${target.state})`, targetServiceId);
    }
  }
  const targetPort = r.integer("targetPort", 1, 65535, true);
  const priority = r.integer("priority", 1, 1000);
  if (!r.valid || sourcePort === undefined || targetServiceId === undefined || targetPort === undefined) return undefined;
  return {
    sourcePort, protocol,
    ...(hostname !== undefined ? { hostname } : {}),
    ...(rulePath !== undefined ? { path: rulePath } : {}),
    targetServiceId, targetPort,
    ...(priority !== undefined ? { priority } : {}),
    ...(proxyProtocol !== undefined ? { proxyProtocol } : {}),
  };
}
