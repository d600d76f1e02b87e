/**
 * The Swarm baselines of the heal and upgrade benchmarks: Rancher's health check mapped to
 * Docker's HEALTHCHECK flags (bench/support/docker-healthcheck.ts), what cannot be mapped
 * refused with the field named, and both benchmarks registered with the runner.
 */
import { execFile } from "child_process";
import * as path from "path";
import t from "tap";
import { promisify } from "util";
import { countRequests } from "../../bench/support/client-loop";
import { dockerHealthFlags } from "../../bench/support/docker-healthcheck";
import type { HealthCheckSpec } from "../../runtime/protocol/model";

const run = promisify(execFile);
const index = path.resolve(__dirname, "../../bench/index.js");

const CHECK: HealthCheckSpec = {
  port: 8080, requestLine: "GET /healthz HTTP/1.0", interval: 1000, responseTimeout: 750, healthyThreshold: 1, unhealthyThreshold: 3,
  initializingTimeout: 30_000, reinitializingTimeout: 30_000, strategy: "recreate",
};

const flag = (flags: string[], name: string) => flags[flags.indexOf(name) + 1];

t.test("Rancher's fields become Docker's health flags", async (t) => {
  const flags = dockerHealthFlags(CHECK);
  t.equal(flag(flags, "--health-cmd"), "wget -q -O /dev/null http://127.0.0.1:8080/healthz", "an HTTP GET by IP literal inside the container");
  t.equal(flag(flags, "--health-interval"), "1000ms");
  t.equal(flag(flags, "--health-timeout"), "750ms");
  t.equal(flag(flags, "--health-retries"), "3", "unhealthyThreshold is Docker's retries");
  t.equal(flag(flags, "--health-start-period"), "0s");
});

t.test("Rancher's quoted request line maps the same", async (t) => {
  const flags = dockerHealthFlags({ ...CHECK, requestLine: 'GET "/ready?x=1" "HTTP/1.1"' });
  t.equal(flag(flags, "--health-cmd"), "wget -q -O /dev/null http://127.0.0.1:8080/ready?x=1");
});

t.test("what Docker cannot express is refused, naming the field", async (t) => {
  t.throws(() => dockerHealthFlags({ ...CHECK, healthyThreshold: 2 }), /healthCheck\.healthyThreshold: expected 1 .*got 2/);
  t.throws(() => dockerHealthFlags({ ...CHECK, requestLine: undefined }), /healthCheck\.requestLine: expected an HTTP GET request line/);
  t.throws(() => dockerHealthFlags({ ...CHECK, requestLine: "HEAD /healthz HTTP/1.0" }), /healthCheck\.requestLine: expected a GET request .*got HEAD/);
  t.throws(() => dockerHealthFlags({ ...CHECK, requestLine: "GET /a\r\nX: y" }), /healthCheck\.requestLine: expected one line/);
  t.throws(() => dockerHealthFlags({ ...CHECK, strategy: "none" }), /healthCheck\.strategy: expected "recreate"/);
  t.throws(() => dockerHealthFlags({ ...CHECK, interval: 0 }), /healthCheck\.interval: expected a positive integer, got 0/);
});

t.test("the client loop's log is counted per line", async (t) => {
  const c = countRequests(["ok v1 a 10.42.0.2", "fail 10.42.0.3 ", "ok v2 b 10.42.0.4", "fail  "]);
  t.same(c, { requests: 4, failed: 2, firstFailures: ["fail 10.42.0.3 ", "fail  "] });
});

t.test("the runner lists heal and upgrade", async (t) => {
  const { stdout } = await run(process.execPath, [index]);
  t.match(stdout, /^\s+heal\s+.*Swarm/m);
  t.match(stdout, /^\s+upgrade\s+.*Swarm/m);
});
