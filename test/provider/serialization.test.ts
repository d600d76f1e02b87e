import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import t from "tap";
import Redis from "ioredis";
import { runNode } from "../support/run-node";
import { certificateResourceProvider, environmentResourceProvider, loadBalancerResourceProvider, serviceResourceProvider, stackResourceProvider } from "../../provider";
import { makeKeys } from "../../runtime/protocol/keys";
import { RedisStore } from "../../runtime/store/redis-store";
import { makeCert } from "../support/certs";
import { removeRemovingLoadBalancers } from "../runtime/api/lb-removal-stand-in";
import { redisUrl, serverForTest } from "./server-fixture";

// Each resource's provider serialized exactly as the SDK does (the forwarding provider of forward.ts), linted, then loaded in a fresh Node
// process (cwd = the project, as the engine's dynamic-provider host runs) and driven
// against a real server: check, create, read, delete.
const repoRoot = path.resolve(__dirname, "../../..");
const SIZE_BUDGET = 8_000; // the forwarding provider is about 3 KB; the implementation is loaded, not copied

async function serialize(provider: object): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

/** The child: loads each serialized text like @pulumi/pulumi/cmd/dynamic-provider does and runs a lifecycle. */
const childScript = `
const requireFromString = require("require-from-string");
const fs = require("fs");
const load = (f) => requireFromString(fs.readFileSync(f, "utf8")).handler();
(async () => {
  const [envP, stackP, svcP, lbP, certP] = ["env", "stack", "svc", "lb", "cert"].map((n) => load(process.env.DIR + "/" + n + ".js"));
  const url = process.env.URL, adminKey = process.env.ADMIN_KEY;
  const envIn = { endpoint: url, adminKey, name: process.env.ENV_NAME };
  const checked = await envP.check({}, envIn);
  if (checked.failures.length) throw new Error("check: " + JSON.stringify(checked.failures));
  const bad = await svcP.check({}, { endpoint: url, apiKey: "k", envId: "e", stackId: "s", name: "Web", image: "x" });
  const env = await envP.create(envIn);
  const conn = { endpoint: url, apiKey: env.outs.apiKey, envId: env.id };
  const stack = await stackP.create({ ...conn, name: "demo" });
  const svcIn = { ...conn, stackId: stack.id, name: "web", image: "local/busybox", scale: 0, scheduling: { hostLabels: { zone: "a" } } };
  const svc = await svcP.create(svcIn);
  const read = await svcP.read(svc.id, svc.outs);
  const diff = await svcP.diff(svc.id, read.props, svcIn);
  const certIn = { ...conn, name: "www", cert: process.env.CERT, key: process.env.KEY };
  const certBad = await certP.check({}, { ...certIn, cert: "garbage" });
  const cert = await certP.create(certIn);
  const certRead = await certP.read(cert.id, cert.outs);
  const lbIn = { ...conn, stackId: stack.id, name: "edge", certificateIds: [cert.id], portRules: [{ sourcePort: 80, targetServiceId: svc.id, targetPort: 80 }] };
  const lbBad = await lbP.check({}, { ...lbIn, portRules: [{ sourcePort: 0, targetServiceId: svc.id, targetPort: 80 }] });
  const lb = await lbP.create(lbIn);
  const lbRead = await lbP.read(lb.id, lb.outs);
  await lbP.delete(lb.id, lb.outs);
  const lbGone = await lbP.read(lb.id, lb.outs);
  await certP.delete(cert.id, cert.outs);
  const certGone = await certP.read(cert.id, cert.outs);
  await svcP.delete(svc.id, svc.outs);
  await stackP.delete(stack.id, stack.outs);
  await envP.delete(env.id, env.outs);
  const gone = await envP.read(env.id, env.outs);
  console.log(JSON.stringify({ badFields: bad.failures.map((f) => f.property), svcState: svc.outs.state, readSame: JSON.stringify(read.props) === JSON.stringify(svc.outs), diffChanges: diff.changes, gone: gone.id === undefined,
    lbBadFields: lbBad.failures.map((f) => f.property), lbServed: lb.outs.served, lbReadSame: JSON.stringify(lbRead.props) === JSON.stringify(lb.outs), lbGone: lbGone.id === undefined,
    certBadFields: certBad.failures.map((f) => f.property + " " + f.reason.split(":")[0]), certReadSame: JSON.stringify(certRead.props) === JSON.stringify(cert.outs), certGone: certGone.id === undefined }));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
`;

function runChild(env: Record<string, string>) {
  return runNode(["-e", childScript], { cwd: repoRoot, env: { ...process.env, ...env } });
}

t.test("serialized providers are lean, portable and work in a fresh process", async (t) => {
  const server = await serverForTest(t);
  const texts: Record<string, string> = {
    env: await serialize(environmentResourceProvider), stack: await serialize(stackResourceProvider), svc: await serialize(serviceResourceProvider),
    lb: await serialize(loadBalancerResourceProvider), cert: await serialize(certificateResourceProvider),
  };
  for (const [name, text] of Object.entries(texts)) {
    t.ok(text.length < SIZE_BUDGET, `${name}: ${text.length} bytes, within ${SIZE_BUDGET}`);
    t.notOk(text.includes(repoRoot) || /\/(work|home|root|tmp)\//.test(text), `${name}: no absolute paths`);
    const requires = [...text.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
    t.same(requires.filter((r) => r.startsWith(".") || r.startsWith("/")), [], `${name}: only bare-name requires (${[...new Set(requires)].join(", ") || "none"})`);
    t.notOk(text.includes(server.adminKey), `${name}: no admin key inside`);
    t.notMatch(text, /drk_[A-Za-z0-9]|drt_[A-Za-z0-9]/, `${name}: no environment key or token inside`);
    fs.writeFileSync(path.join(server.dir, `${name}.js`), text);
  }
  const cert = makeCert({ cn: "www.example.com" });
  // The child's load balancer delete waits for the reconciler's removal, which this stands in for.
  const redis = new Redis(redisUrl);
  t.teardown(() => redis.disconnect());
  const standIn = removeRemovingLoadBalancers(new RedisStore(redis, makeKeys(server.prefix)));
  const res = await runChild({ DIR: server.dir, URL: server.url, ADMIN_KEY: server.adminKey, ENV_NAME: `ser-${server.prefix}`, CERT: cert.cert, KEY: cert.key });
  await standIn.stop();
  t.equal(res.code, 0, "child ran the lifecycle", { stderr: res.err });
  const result = JSON.parse(res.out.trim().split("\n").pop() || "{}");
  t.same(result, {
    badFields: ["name"], svcState: "active", readSame: true, diffChanges: false, gone: true,
    lbBadFields: ["portRules[0].sourcePort"], lbServed: false, lbReadSame: true, lbGone: true,
    certBadFields: [" cert"], certReadSame: true, certGone: true,
  }, "check, create, read, diff and delete behave as in-process");
});
