import * as path from "path";
import t from "tap";
import { PulumiWorkspace } from "../support/pulumi-cli";
import Redis from "ioredis";
import { makeKeys } from "../../runtime/protocol/keys";
import { unseal } from "../../runtime/protocol/seal";
import { secretContext } from "../../runtime/protocol/secret-contexts";
import { Keyring } from "../../runtime/secrets/keyring";
import { loadOrCreateMasterKey } from "../../runtime/secrets/master-key";
import { RedisStore } from "../../runtime/store/redis-store";
import { redisUrl, serverForTest } from "./server-fixture";

// A Service's `secrets` through the real engine: whether the program gives them as plain
// strings or as pulumi.secret, the state holds them only encrypted, the server shows only
// their names, and changing one is an in-place update (a new version of the containers).
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-secrets");
const PLAIN = "plain-in-program-4e1d0b77";
const SECRET = "secret-in-config-9c2a51f3";

t.test("Service secrets stay secret in the Pulumi state", async (t) => {
  t.setTimeout(600_000);
  const server = await serverForTest(t);
  const ws = new PulumiWorkspace(programDir, `sec-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": server.url, envName: `sec-${server.prefix}` });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", server.adminKey]);
  await ws.ok(["config", "set", "--secret", "apiToken", SECRET]);

  const up = await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  t.notOk(up.stdout.includes(PLAIN) || up.stdout.includes(SECRET), "the engine's output shows no secret");
  const state = (await ws.ok(["stack", "export"])).stdout;
  t.notOk(state.includes(PLAIN), "a secret given as a plain string is not in the state in the clear", { where: state.split("\n").filter((l) => l.includes(PLAIN)).join("\n").slice(0, 2000) });
  t.ok(state.includes("4dabf18193072939515e22adb298388d"), "(the state marks secrets as such)");
  t.notOk(state.includes(SECRET), "a pulumi.secret is not in the state in the clear");

  const envId = (await ws.ok(["stack", "output", "envId"])).stdout.trim();
  const apiKey = (await ws.ok(["stack", "output", "apiKey", "--show-secrets"])).stdout.trim();
  const serviceId = (await ws.ok(["stack", "output", "serviceId"])).stdout.trim();
  const svc = await (await fetch(`${server.url}/v1/environments/${envId}/services/${serviceId}`, { headers: { authorization: `Bearer ${apiKey}` } })).json() as any;
  t.same(svc.spec.secretNames, ["API_TOKEN", "DB_PASSWORD"], "the server shows the names");
  t.notOk(JSON.stringify(svc).includes(PLAIN) || JSON.stringify(svc).includes(SECRET), "and no value");

  const same = await ws.run(["preview", "--expect-no-changes"]);
  t.equal(same.code, 0, "no changes right after up", { output: same.stdout + same.stderr });

  await ws.ok(["config", "set", "rotated", "yes"]);
  const preview = await ws.ok(["preview", "--diff"]);
  t.match(preview.stdout, /~ .*drover:Service/, "a changed secret previews as an update in place");
  t.notOk(preview.stdout.includes(`${PLAIN}-rotated`), "without showing the value");
  await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  // On the server: the new value, sealed at rest (opened here with the server's master key).
  const redis = new Redis(redisUrl);
  t.teardown(() => redis.disconnect());
  const keys = makeKeys(server.prefix);
  const store = new RedisStore(redis, keys);
  const stored = (await store.get(envId, "service", serviceId))!;
  const keyring = new Keyring(redis, keys, loadOrCreateMasterKey(path.join(server.dir, "master-key")));
  // A new secret is a new version of the containers. (Without hosts, the planner rolls a
  // scale-0 service's upgrade back as "cannot be placed"; what matters here is that version 2
  // held the new value.)
  t.equal(stored.maxSpecVersion, 2, "the update made version 2", { upgrade: stored.upgrade });
  const envKey = await keyring.envKey(envId);
  const versions = [stored.spec, ...(stored.upgrade ? [stored.upgrade.fromSpec] : [])];
  const opened = versions.map((spec) => unseal(envKey, secretContext.service(serviceId, "DB_PASSWORD"), spec.secrets!.DB_PASSWORD));
  t.ok(opened.includes(PLAIN), "the records hold the value, sealed", { opened: opened.map((v) => v.length) });
  t.notOk(JSON.stringify(await redis.hgetall(keys.env(envId).services)).includes(PLAIN), "which stores it sealed");

  await ws.ok(["destroy", "--yes", "--skip-preview"], 300_000);
  await ws.ok(["stack", "rm", "--yes"]);
});
