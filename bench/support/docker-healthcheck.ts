/**
 * Rancher's health check (drover's HealthCheckSpec) as Docker's HEALTHCHECK flags, for the
 * Swarm baselines of the heal and upgrade benchmarks (pure). The two differ in kind, so only
 * checks with a faithful Docker equivalent are mapped; anything else is refused, naming the
 * field, rather than compared against something else:
 *
 * | Rancher / drover            | Docker                                                         |
 * |-----------------------------|----------------------------------------------------------------|
 * | interval                    | --health-interval                                              |
 * | responseTimeout             | --health-timeout                                               |
 * | unhealthyThreshold          | --health-retries (consecutive failures that make it unhealthy) |
 * | healthyThreshold            | none: Docker is healthy after one pass, so only 1 maps         |
 * | requestLine `GET <path>`    | --health-cmd `wget -q -O /dev/null http://127.0.0.1:<port><path>` |
 * | initializingTimeout         | none (Docker's start period only ignores early failures); not mapped |
 * | strategy recreate           | Swarm always replaces an unhealthy task; other strategies refused |
 *
 * The check runs inside the container (`docker exec` of busybox's wget, which exits non-zero
 * on a 4xx/5xx answer or no answer) where drover's agents connect from outside over the
 * overlay. The address is the IP literal 127.0.0.1: busybox-static's wget crashes resolving
 * names, and `wget -T` crashes too, so Docker's own --health-timeout bounds the probe.
 */
import type { HealthCheckSpec } from "../../runtime/protocol/model";
import { parseRequestLine } from "../../runtime/protocol/request-line";

/** Docker's duration syntax for whole milliseconds ("1500ms"). */
function ms(n: number): string {
  return `${n}ms`;
}

/** The `docker service create` flags for `check`; throws naming the field when Docker has no equivalent. */
export function dockerHealthFlags(check: HealthCheckSpec): string[] {
  const field = (name: string) => `healthCheck.${name}`;
  if (!check.requestLine) {
    throw new Error(`${field("requestLine")}: expected an HTTP GET request line (the Swarm baseline maps only HTTP checks), got a TCP check`);
  }
  const line = parseRequestLine(check.requestLine);
  if ("expected" in line) throw new Error(`${field("requestLine")}: expected ${line.expected}`);
  if (line.method !== "GET") throw new Error(`${field("requestLine")}: expected a GET request (busybox wget only sends GET), got ${line.method}`);
  if (!line.path.startsWith("/")) throw new Error(`${field("requestLine")}: expected a path starting with "/", got ${JSON.stringify(line.path)}`);
  if (check.healthyThreshold !== 1) {
    throw new Error(`${field("healthyThreshold")}: expected 1 (Docker marks a container healthy after one passing check), got ${check.healthyThreshold}`);
  }
  if (check.strategy !== "recreate") {
    throw new Error(`${field("strategy")}: expected "recreate" (Swarm replaces every unhealthy task), got ${JSON.stringify(check.strategy)}`);
  }
  for (const name of ["interval", "responseTimeout", "unhealthyThreshold"] as const) {
    if (!Number.isInteger(check[name]) || check[name] < 1) throw new Error(`${field(name)}: expected a positive integer, got ${check[name]}`);
  }
  return [
    "--health-cmd", `wget -q -O /dev/null http://127.0.0.1:${check.port}${line.path}`,
    "--health-interval", ms(check.interval),
    "--health-timeout", ms(check.responseTimeout),
    "--health-retries", String(check.unhealthyThreshold),
    "--health-start-period", "0s",
  ];
}
