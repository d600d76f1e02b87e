/**
 * What the checker accepts from HostDesiredState.checks, and when a target is "the same" as
 * before. Validation runs on the whole list before anything changes, so a bad document
 * leaves the running checks alone and the error names the field (`checks[3].check.port`).
 */
import { isIP } from "net";
import type { HealthCheckSpec, HealthCheckTarget } from "../../runtime/protocol/model";
import { Problems } from "../../runtime/protocol/validate/problems";
import { parseRequestLine, type RequestLine } from "./http-request";

/** A target as the checker runs it: validated, with its request line parsed. */
export interface CheckPlan {
  target: HealthCheckTarget;
  /** Undefined: a TCP connect is the check. */
  request?: RequestLine;
  /** Equal keys: same container start, same address, same way of checking (the streak carries over). */
  key: string;
}

const positiveInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;

/**
 * The fields that decide what a checker measures. Strategy, quorum and the initializing
 * timeouts are the server's business: changing them does not void what was observed.
 */
export function checkKey(t: HealthCheckTarget): string {
  const c = t.check;
  return [t.ip, t.startedAt, c.port, c.interval, c.responseTimeout, c.healthyThreshold, c.unhealthyThreshold, c.requestLine ?? ""].join("\u0000");
}

/** Validates every target; throws a DroverError (InvalidField, first problem; all in detail.errors). */
export function planChecks(targets: readonly HealthCheckTarget[], field = "checks"): CheckPlan[] {
  const problems = new Problems();
  if (!Array.isArray(targets)) {
    problems.invalid(field, "a list of health check targets", targets);
    problems.throwIfAny();
  }
  const seen = new Set<string>();
  const plans: CheckPlan[] = [];
  targets.forEach((t, i) => {
    const at = `${field}[${i}]`;
    if (t === null || typeof t !== "object") {
      problems.invalid(at, "a health check target object", t);
      return;
    }
    if (typeof t.instanceId !== "string" || t.instanceId === "") problems.invalid(`${at}.instanceId`, "a non-empty string", t.instanceId);
    else if (seen.has(t.instanceId)) problems.invalid(`${at}.instanceId`, "each instance once", t.instanceId);
    else seen.add(t.instanceId);
    if (typeof t.ip !== "string" || isIP(t.ip) === 0) problems.invalid(`${at}.ip`, "an IPv4 or IPv6 address", t.ip);
    if (typeof t.startedAt !== "string" || t.startedAt === "") problems.invalid(`${at}.startedAt`, "the container start time (a non-empty string)", t.startedAt);
    const request = checkSpecProblems(t.check, `${at}.check`, problems);
    plans.push({ target: t, request, key: "" });
  });
  problems.throwIfAny();
  for (const p of plans) p.key = checkKey(p.target);
  return plans;
}

/** Adds the spec's problems; returns the parsed request line when there is one. */
function checkSpecProblems(c: HealthCheckSpec | undefined, at: string, problems: Problems): RequestLine | undefined {
  if (c === null || typeof c !== "object") {
    problems.invalid(at, "a health check spec object", c);
    return undefined;
  }
  if (!positiveInt(c.port) || c.port > 65535) problems.invalid(`${at}.port`, "an integer port from 1 to 65535", c.port);
  if (!positiveInt(c.interval)) problems.invalid(`${at}.interval`, "a positive integer of milliseconds", c.interval);
  if (!positiveInt(c.responseTimeout)) problems.invalid(`${at}.responseTimeout`, "a positive integer of milliseconds", c.responseTimeout);
  else if (positiveInt(c.interval) && c.responseTimeout > c.interval) {
    problems.invalid(`${at}.responseTimeout`, `at most the interval (${c.interval} ms)`, c.responseTimeout);
  }
  if (!positiveInt(c.healthyThreshold)) problems.invalid(`${at}.healthyThreshold`, "a positive integer", c.healthyThreshold);
  if (!positiveInt(c.unhealthyThreshold)) problems.invalid(`${at}.unhealthyThreshold`, "a positive integer", c.unhealthyThreshold);
  if (c.requestLine === undefined || c.requestLine === "") return undefined;
  if (typeof c.requestLine !== "string") {
    problems.invalid(`${at}.requestLine`, "a string such as \"GET /healthz HTTP/1.0\" (or empty for a TCP check)", c.requestLine);
    return undefined;
  }
  const parsed = parseRequestLine(c.requestLine);
  if ("expected" in parsed) {
    problems.invalid(`${at}.requestLine`, parsed.expected);
    return undefined;
  }
  return parsed;
}
