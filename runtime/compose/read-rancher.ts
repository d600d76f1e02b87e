/**
 * One rancher-compose.yml service entry: scale, health_check, upgrade_strategy, lb_config,
 * retain_ip, start_on_create, in Rancher 1.6's spelling, turned into the API's field names.
 */
import type { ReadContext } from "./context";
import type { YamlPath } from "./yaml-source";

export interface RancherEntry {
  scale?: number;
  healthCheck?: Record<string, unknown>;
  upgradeStrategy?: Record<string, unknown>;
  lb?: LbConfigBody;
}

/** A load balancer body as POST /loadbalancers takes it, targets and certificates by name. */
export interface LbConfigBody {
  portRules: Record<string, unknown>[];
  certificateIds?: string[];
  defaultCertificateId?: string;
  stickiness?: { cookie: string };
  /** Where each rule's `service` was written, to point at a missing target. */
  targetPaths: YamlPath[];
}

const HEALTH_KEYS: Record<string, string> = {
  port: "port", interval: "interval", response_timeout: "responseTimeout", healthy_threshold: "healthyThreshold",
  unhealthy_threshold: "unhealthyThreshold", request_line: "requestLine", initializing_timeout: "initializingTimeout",
  reinitializing_timeout: "reinitializingTimeout", strategy: "strategy",
};
const UPGRADE_KEYS: Record<string, string> = { batch_size: "batchSize", interval_millis: "intervalMillis", start_first: "startFirst" };
const RULE_KEYS: Record<string, string> = {
  source_port: "sourcePort", target_port: "targetPort", protocol: "protocol", hostname: "hostname", path: "path",
  priority: "priority", service: "targetServiceId",
};

export function readRancherEntry(ctx: ReadContext, raw: unknown, base: YamlPath): RancherEntry {
  const out: RancherEntry = {};
  for (const [key, value] of Object.entries(ctx.map(raw ?? {}, base))) {
    const path = [...base, key];
    switch (key) {
      case "scale": out.scale = ctx.integer(value, path, 0, 10000); break;
      case "health_check": out.healthCheck = readHealthCheck(ctx, value, path); break;
      case "upgrade_strategy": out.upgradeStrategy = renamed(ctx, value, path, UPGRADE_KEYS); break;
      case "lb_config": out.lb = readLbConfig(ctx, value, path); break;
      case "retain_ip":
        if (ctx.boolean(value, path)) ctx.warn(path, "not supported: a replacement container gets a new overlay address (DNS follows it); left out");
        break;
      case "start_on_create":
        if (!ctx.boolean(value, path)) ctx.warn(path, "not supported: drover starts a service's containers as soon as it exists; left out");
        break;
      default:
        ctx.warn(path, "not supported by drover; left out");
    }
  }
  return out;
}

/** Keys renamed to the API's; numbers written as strings are numbers, unknown keys warned about. */
function renamed(ctx: ReadContext, value: unknown, path: YamlPath, names: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ctx.map(value, path))) {
    if (names[k] === undefined) ctx.warn([...path, k], `not supported (expected one of ${Object.keys(names).join(", ")}); left out`);
    else out[names[k]] = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  }
  return out;
}

function readHealthCheck(ctx: ReadContext, value: unknown, path: YamlPath): Record<string, unknown> {
  const map = ctx.map(value, path);
  const { recreate_on_quorum_strategy_config: quorumConfig, ...rest } = map;
  const out = renamed(ctx, rest, path, HEALTH_KEYS);
  if (quorumConfig !== undefined) {
    const q = ctx.map(quorumConfig, [...path, "recreate_on_quorum_strategy_config"]);
    if (q.quorum !== undefined) out.quorum = ctx.integer(q.quorum, [...path, "recreate_on_quorum_strategy_config", "quorum"], 1, 10000);
  }
  return out;
}

function readLbConfig(ctx: ReadContext, value: unknown, path: YamlPath): LbConfigBody {
  const out: LbConfigBody = { portRules: [], targetPaths: [] };
  for (const [key, v] of Object.entries(ctx.map(value, path))) {
    const here = [...path, key];
    if (key === "port_rules") {
      if (!Array.isArray(v)) ctx.fail(here, "expected a list of port rules");
      v.forEach((rule, i) => {
        const r = renamed(ctx, rule, [...here, i], RULE_KEYS);
        out.portRules.push(r);
        out.targetPaths.push([...here, i, "service"]);
      });
    } else if (key === "certs") out.certificateIds = ctx.stringList(v, here);
    else if (key === "default_cert") out.defaultCertificateId = ctx.string(v, here, "a certificate name");
    else if (key === "stickiness_policy") {
      const policy = ctx.map(v, here);
      for (const k of Object.keys(policy)) if (k !== "cookie" && k !== "mode") ctx.warn([...here, k], "not supported: drover's stickiness is an inserted cookie; left out");
      if (policy.mode !== undefined && policy.mode !== "insert") ctx.warn([...here, "mode"], `only "insert" is supported (HAProxy inserts the cookie); read as insert`);
      out.stickiness = { cookie: policy.cookie === undefined ? "lb" : ctx.string(policy.cookie, [...here, "cookie"]) };
    } else ctx.warn(here, key === "config" ? "custom HAProxy configuration is not supported; left out" : "not supported by drover; left out");
  }
  return out;
}
