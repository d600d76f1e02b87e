import t from "tap";
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { checkRedis } from "../../../runtime/cli/smoke-redis";
import { freePort } from "../../support/free-port";

/**
 * `drover smoke`'s Redis check on the suite's Redis and on addresses where nothing listens
 * (the cluster cases on a real TLS cluster: test/runtime/store/redis-cluster-tls.test.ts).
 */
const noDir = join(tmpdir(), "drover-smoke-no-ca-here");

t.test("one Redis answers", async (t) => {
  const lines = await checkRedis("redis://127.0.0.1:6379", noDir);
  t.match(lines[0], /^redis   redis:\/\/127\.0\.0\.1:6379: PONG, version \d+\./);
});

t.test("a URL it cannot read names --redis and the schemes it takes", async (t) => {
  await t.rejects(checkRedis("http://127.0.0.1:6379", noDir), /^--redis: .*redis\+cluster:\/\/host:port/);
  await t.rejects(checkRedis("redis+cluster://127.0.0.1:7000/2", noDir), /^--redis: .*takes no \/path/);
});

t.test("a rediss URL without drover's CA says where it looked", async (t) => {
  const dir = fs.mkdtempSync(join(tmpdir(), "drover-smoke-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  await t.rejects(checkRedis("rediss+cluster://127.0.0.1:7000", dir), new RegExp(`^--tls-dir: no drover CA in ${dir}`));
  t.same(fs.readdirSync(dir), [], "and makes no CA there");
});

t.test("a cluster nobody serves: cannot connect, with the reason, at once", async (t) => {
  const port = await freePort();
  const started = Date.now();
  await t.rejects(checkRedis(`redis+cluster://127.0.0.1:${port}`, noDir), new RegExp(`^redis redis\\+cluster://127\\.0\\.0\\.1:${port}: cannot connect`));
  t.ok(Date.now() - started < 10_000, `gave up in ${Date.now() - started} ms`);
});
