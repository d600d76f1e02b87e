import * as fs from "fs";
import * as path from "path";
import Redis from "ioredis";
import t from "tap";
import { makeKeys } from "../../runtime/protocol/keys";
import { RedisStore } from "../../runtime/store/redis-store";
import { leaksKey, makeCert } from "../support/certs";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { removeRemovingLoadBalancers } from "../runtime/api/lb-removal-stand-in";
import { redisUrl, serverForTest } from "./server-fixture";

// The real engine, offline, on a Certificate and a load balancer whose https rule uses it:
// a key that does not match fails the preview naming the field (and quoting no key); up
// stores the key only encrypted; a rotation is an in-place update; destroy removes it all.
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-certificate");

t.test("Certificate through the Pulumi engine", async (t) => {
  t.setTimeout(600_000);
  const server = await serverForTest(t);
  const first = makeCert({ cn: "www.example.com", sans: ["www.example.com"] });
  const other = makeCert({ cn: "other.example.com" });
  const renewed = makeCert({ cn: "www.example.com", sans: ["www.example.com"] });
  const file = (name: string, text: string) => {
    const p = path.join(server.dir, name);
    fs.writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  const files = {
    cert: file("cert.pem", first.cert), key: file("key.pem", first.key), otherKey: file("other-key.pem", other.key),
    renewedCert: file("renewed.pem", renewed.cert), renewedKey: file("renewed-key.pem", renewed.key),
  };
  const keys = [first.key, other.key, renewed.key];
  const ws = new PulumiWorkspace(programDir, `cert-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": server.url, envName: `crt-${server.prefix}`, certFile: files.cert, keyFile: files.otherKey });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", server.adminKey]);

  const refused = await ws.run(["preview"]);
  const output = refused.stdout + refused.stderr;
  t.not(refused.code, 0, "preview fails with another certificate's key");
  t.match(output, /key: does not match the certificate's public key/, "naming the field", { output });
  t.notOk(keys.some((k) => leaksKey(output, k)), "the preview's output quotes no key");

  await ws.ok(["config", "set", "keyFile", files.key]);
  const preview = JSON.parse((await ws.ok(["preview", "--json"])).stdout);
  const ops = (preview.steps ?? []).filter((s: any) => s.urn.includes("drover:")).map((s: any) => `${s.op} ${s.urn.split("::").pop()}`).sort();
  t.same(ops, ["create edge", "create env", "create demo", "create web", "create www"].sort(), "five creates (certificateIds unknown until the certificate exists)");

  await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  const fingerprint = (await ws.ok(["stack", "output", "fingerprint"])).stdout.trim();
  t.match(fingerprint, /^[0-9a-f]{64}$/, "the fingerprint is an output");
  const state = (await ws.ok(["stack", "export"])).stdout;
  t.notOk(keys.some((k) => leaksKey(state, k)), "the key is not in plaintext in the state");
  t.ok(state.includes(fingerprint), "(the state does hold the certificate's outputs)");
  const same = await ws.run(["preview", "--expect-no-changes"]);
  t.equal(same.code, 0, "no changes right after up", { output: same.stdout + same.stderr });

  await ws.ok(["config", "set", "certFile", files.renewedCert]);
  await ws.ok(["config", "set", "keyFile", files.renewedKey]);
  const rotation = JSON.parse((await ws.ok(["preview", "--json"])).stdout);
  const changes = (rotation.steps ?? []).filter((s: any) => s.urn.includes("drover:") && s.op !== "same").map((s: any) => `${s.op} ${s.urn.split("::").pop()}`);
  // The load balancer shows as an update too: a dynamic provider's outputs are unknown while
  // preview updates it, so certificateIds looks changed; up finds it unchanged.
  t.same(changes.filter((c: string) => !c.startsWith("update ")), [], "a rotation replaces and deletes nothing");
  t.ok(changes.includes("update www"), "it updates the certificate in place");
  const up = await ws.ok(["up", "--yes", "--skip-preview"], 300_000);
  t.match(up.stdout, /~ 1 updated/, "up updates only the certificate", { output: up.stdout });
  t.not((await ws.ok(["stack", "output", "fingerprint"])).stdout.trim(), fingerprint, "the new certificate is in place");
  const rotated = (await ws.ok(["stack", "export"])).stdout;
  t.notOk(keys.some((k) => leaksKey(rotated, k)), "nor after the rotation");

  // The load balancer's delete waits for the reconciler's removal, which this stands in for.
  const redis = new Redis(redisUrl);
  t.teardown(() => redis.disconnect());
  const standIn = removeRemovingLoadBalancers(new RedisStore(redis, makeKeys(server.prefix)));
  try {
    await ws.ok(["destroy", "--yes", "--skip-preview"], 300_000);
  } finally {
    await standIn.stop();
  }
  const left = await fetch(`${server.url}/v1/environments`, { headers: { authorization: `Bearer ${server.adminKey}` } });
  t.same((await left.json() as any).data, [], "destroy removed everything");
  await ws.ok(["stack", "rm", "--yes"]);
});
