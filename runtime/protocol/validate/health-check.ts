/**
 * A service's `healthCheck` and `upgradeStrategy` bodies, with Rancher's defaults. Shared by
 * the API and the Pulumi provider's check(), so both refuse the same input with the same words.
 */
import type { HealthCheckSpec, UpgradeStrategySpec } from "../model";
import { Problems } from "./problems";
import { ObjectReader } from "./reader";
import { parseRequestLine } from "../request-line";

const HEALTH_FIELDS = [
  "port", "interval", "responseTimeout", "healthyThreshold", "unhealthyThreshold", "requestLine",
  "initializingTimeout", "reinitializingTimeout", "strategy", "quorum",
] as const;
const STRATEGIES = ["none", "recreate", "recreateOnQuorum"] as const;
const UPGRADE_FIELDS = ["batchSize", "intervalMillis", "startFirst"] as const;

/** Rancher's defaults (its UI and rancher-compose use the same ones). */
export const HEALTH_CHECK_DEFAULTS = {
  interval: 2000,
  responseTimeout: 2000,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  initializingTimeout: 60000,
  reinitializingTimeout: 60000,
  strategy: "recreate",
} as const;

export const UPGRADE_STRATEGY_DEFAULTS: UpgradeStrategySpec = { batchSize: 1, intervalMillis: 2000, startFirst: false };

const DAY_MS = 86_400_000;

export function validateHealthCheck(p: Problems, value: unknown, path: string): HealthCheckSpec | undefined {
  const r = new ObjectReader(p, value, path, HEALTH_FIELDS);
  if (!r.valid) return undefined;
  const before = p.list.length;
  const port = r.integer("port", 1, 65535, true);
  const interval = r.integer("interval", 100, DAY_MS) ?? HEALTH_CHECK_DEFAULTS.interval;
  const responseTimeout = r.integer("responseTimeout", 1, DAY_MS) ?? Math.min(HEALTH_CHECK_DEFAULTS.responseTimeout, interval);
  const healthyThreshold = r.integer("healthyThreshold", 1, 1000) ?? HEALTH_CHECK_DEFAULTS.healthyThreshold;
  const unhealthyThreshold = r.integer("unhealthyThreshold", 1, 1000) ?? HEALTH_CHECK_DEFAULTS.unhealthyThreshold;
  const requestLine = r.string("requestLine", {
    expected: 'an HTTP request line such as "GET /healthz HTTP/1.0", or "" for a TCP connect', maxLength: 1024, minLength: 0,
  });
  if (requestLine !== undefined && requestLine !== "") {
    const parsed = parseRequestLine(requestLine);
    if ("expected" in parsed) p.invalid(r.at("requestLine"), `an HTTP request line: ${parsed.expected}`, requestLine);
  }
  const initializingTimeout = r.integer("initializingTimeout", 1, DAY_MS) ?? HEALTH_CHECK_DEFAULTS.initializingTimeout;
  const reinitializingTimeout = r.integer("reinitializingTimeout", 1, DAY_MS) ?? HEALTH_CHECK_DEFAULTS.reinitializingTimeout;
  const strategy = (r.string("strategy", { expected: `one of ${STRATEGIES.join(", ")}`, oneOf: STRATEGIES }) ?? HEALTH_CHECK_DEFAULTS.strategy) as HealthCheckSpec["strategy"];
  const quorum = r.integer("quorum", 1, 10000);

  if (r.has("responseTimeout") && responseTimeout > interval) {
    p.invalid(r.at("responseTimeout"), `at most the interval (${interval} ms): a check must end before the next one starts`, responseTimeout);
  }
  if (strategy === "recreateOnQuorum" && quorum === undefined && r.has("strategy")) {
    p.missing(r.at("quorum"), 'the number of healthy instances that must remain (strategy "recreateOnQuorum")');
  }
  if (quorum !== undefined && strategy !== "recreateOnQuorum") {
    p.invalid(r.at("quorum"), 'to be given only with strategy "recreateOnQuorum"', quorum);
  }
  if (p.list.length !== before || port === undefined) return undefined;
  return {
    port, interval, responseTimeout, healthyThreshold, unhealthyThreshold,
    ...(requestLine ? { requestLine } : {}),
    initializingTimeout, reinitializingTimeout, strategy,
    ...(quorum !== undefined ? { quorum } : {}),
  };
}

export function validateUpgradeStrategy(p: Problems, value: unknown, path: string): UpgradeStrategySpec | undefined {
  const r = new ObjectReader(p, value, path, UPGRADE_FIELDS);
  if (!r.valid) return undefined;
  const before = p.list.length;
  const batchSize = r.integer("batchSize", 1, 1000) ?? UPGRADE_STRATEGY_DEFAULTS.batchSize;
  const intervalMillis = r.integer("intervalMillis", 0, DAY_MS) ?? UPGRADE_STRATEGY_DEFAULTS.intervalMillis;
  const startFirst = r.boolean("startFirst") ?? UPGRADE_STRATEGY_DEFAULTS.startFirst;
  if (p.list.length !== before) return undefined;
  return { batchSize, intervalMillis, startFirst };
}
