import t from "tap";
import { checkKey, planChecks } from "../../../agent/health/targets";
import { DroverError } from "../../../runtime/protocol/errors";
import type { HealthCheckSpec, HealthCheckTarget } from "../../../runtime/protocol/model";

const check = (over: Partial<HealthCheckSpec> = {}): HealthCheckSpec => ({
  port: 80, interval: 2000, responseTimeout: 2000, healthyThreshold: 2, unhealthyThreshold: 3,
  initializingTimeout: 60000, reinitializingTimeout: 60000, strategy: "recreate", ...over,
});
const target = (over: Partial<HealthCheckTarget> = {}): HealthCheckTarget => ({
  instanceId: "i1", ip: "10.42.1.5", startedAt: "2024-05-01T10:00:00.000Z", local: true, check: check(), ...over,
});

function refusal(targets: unknown): DroverError {
  try {
    planChecks(targets as HealthCheckTarget[]);
  } catch (err) {
    if (err instanceof DroverError) return err;
    throw err;
  }
  throw new Error("planChecks accepted bad input");
}

t.test("a TCP and an HTTP target are planned", async (t) => {
  const plans = planChecks([target(), target({ instanceId: "i2", check: check({ requestLine: "GET /healthz HTTP/1.1" }) })]);
  t.equal(plans.length, 2);
  t.equal(plans[0].request, undefined, "no request line: TCP");
  t.same(plans[1].request, { method: "GET", path: "/healthz", version: "HTTP/1.1" });
  t.equal(planChecks([target({ check: check({ requestLine: "" }) })])[0].request, undefined, "empty request line: TCP");
});

t.test("bad fields are named, with what was expected", async (t) => {
  const cases: [unknown, string, RegExp][] = [
    [[target({ check: check({ port: 0 }) })], "checks[0].check.port", /integer port from 1 to 65535, got 0/],
    [[target({ check: check({ port: 70000 }) })], "checks[0].check.port", /1 to 65535/],
    [[target(), target({ instanceId: "i2", ip: "10.42.1.300" })], "checks[1].ip", /IPv4 or IPv6 address, got "10.42.1.300"/],
    [[target({ instanceId: "" })], "checks[0].instanceId", /non-empty string/],
    [[target(), target()], "checks[1].instanceId", /each instance once, got "i1"/],
    [[target({ startedAt: "" })], "checks[0].startedAt", /container start time/],
    [[target({ check: check({ interval: 0 }) })], "checks[0].check.interval", /positive integer of milliseconds/],
    [[target({ check: check({ interval: 1000, responseTimeout: 1500 }) })], "checks[0].check.responseTimeout", /at most the interval \(1000 ms\), got 1500/],
    [[target({ check: check({ healthyThreshold: 0 }) })], "checks[0].check.healthyThreshold", /positive integer/],
    [[target({ check: check({ unhealthyThreshold: 1.5 }) })], "checks[0].check.unhealthyThreshold", /positive integer/],
    [[target({ check: check({ requestLine: "GET /\r\nHost: x" }) })], "checks[0].check.requestLine", /one line/],
    [[target({ check: undefined as unknown as HealthCheckSpec })], "checks[0].check", /health check spec object/],
    [[null], "checks[0]", /target object/],
    [{}, "checks", /a list/],
  ];
  for (const [input, field, message] of cases) {
    const err = refusal(input);
    t.equal(err.code, "InvalidField", field);
    t.equal(err.field, field);
    t.match(err.message, message, field);
  }
});

t.test("every problem is listed, not only the first", async (t) => {
  const err = refusal([target({ ip: "nope", check: check({ port: -1 }) })]);
  t.same((err.detail?.errors as { field: string }[]).map((e) => e.field), ["checks[0].ip", "checks[0].check.port"]);
});

t.test("the key changes with what the checker measures, not with the server's fields", async (t) => {
  const base = checkKey(target());
  t.equal(checkKey(target({ local: false })), base, "local");
  t.equal(checkKey(target({ check: check({ strategy: "none", initializingTimeout: 1, quorum: 2 }) })), base, "strategy, quorum, timeouts");
  for (const changed of [
    target({ startedAt: "2024-05-01T10:05:00.000Z" }), target({ ip: "10.42.1.6" }), target({ check: check({ port: 81 }) }),
    target({ check: check({ interval: 1000, responseTimeout: 1000 }) }), target({ check: check({ healthyThreshold: 3 }) }),
    target({ check: check({ unhealthyThreshold: 2 }) }), target({ check: check({ requestLine: "GET / HTTP/1.0" }) }),
  ]) t.not(checkKey(changed), base, JSON.stringify(changed));
});
