import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import t from "tap";
import { runNode } from "../support/run-node";
import * as providers from "../../provider";
import { hostProvider, hostResourceProvider } from "../../provider";

// The Host provider serialized exactly as the SDK does: lean, no secrets or absolute paths,
// only bare-name requires (ssh2 required inside methods), and working in a fresh process
// whose working dir is the project, as the engine's dynamic-provider host runs it. Its
// create/delete through the engine are covered by engine-lab.test.ts.
const repoRoot = path.resolve(__dirname, "../../..");
const SIZE_BUDGET = 8_000; // the forwarding provider is about 3 KB; the implementation is loaded, not copied
const { utils } = require("ssh2");

const childScript = `
const requireFromString = require("require-from-string");
const fs = require("fs");
const p = requireFromString(fs.readFileSync(process.env.FILE, "utf8")).handler();
(async () => {
  const base = { endpoint: "http://127.0.0.1:1", apiKey: "k", envId: "e1", registrationToken: "t", name: "h1",
    driver: { type: "ssh", address: "10.0.0.5", privateKey: process.env.KEY } };
  const good = await p.check({}, base);
  const bad = await p.check({}, { ...base, driver: { ...base.driver, port: 70000 } });
  const relabel = await p.diff("x", { ...base, hostId: "x" }, { ...base, labels: { zone: "b" } });
  const rename = await p.diff("x", { ...base, hostId: "x" }, { ...base, name: "h2" });
  console.log(JSON.stringify({
    good: good.failures,
    // The driver holds the private key: its failures name no property, the reason names the field.
    bad: bad.failures.map((f) => [f.property, /driver\.port/.test(f.reason)]),
    replaces: [relabel.replaces, rename.replaces],
  }));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
`;

t.test("the serialized Host provider is lean, portable and works in a fresh process", async (t) => {
  const key: string = utils.generateKeyPairSync("ed25519").private;
  // Use the provider first, as a program would, so anything it wrongly kept would show.
  await hostProvider.check({}, { endpoint: "http://127.0.0.1:1", apiKey: "drk_secretkey", envId: "e", registrationToken: "drt_secrettoken", name: "h", driver: { type: "ssh", address: "h", privateKey: key } });
  const text = (await pulumi.runtime.serializeFunction(() => hostResourceProvider, { allowSecrets: true })).text;
  t.ok(text.length < SIZE_BUDGET, `${text.length} bytes, within ${SIZE_BUDGET}`);
  t.notOk(text.includes(repoRoot) || /\/(work|home|root|tmp)\//.test(text), "no absolute paths");
  const requires = [...new Set([...text.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]))];
  t.same(requires.filter((r) => r.startsWith(".") || r.startsWith("/")), [], `only bare-name requires (${requires.join(", ")})`);
  t.same(requires, ["drover/dist/provider/host.js"], "the implementation is required by package name, inside a method");
  t.notOk(text.includes(key.split("\n")[2]), "no private key inside");
  t.notMatch(text, /drk_[A-Za-z0-9]|drt_[A-Za-z0-9]/, "no environment key or token inside");

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-hostser-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "host.js"), text);
  const res = await runNode(["-e", childScript], { cwd: repoRoot, env: { ...process.env, FILE: path.join(dir, "host.js"), KEY: key } });

  t.equal(res.code, 0, "the child ran", { stderr: res.err });
  t.same(JSON.parse(res.out.trim().split("\n").pop() || "{}"), { good: [], bad: [["", true]], replaces: [[], ["name"]] }, "check and diff behave as in-process");
});

t.test("no provider captures a module-level Set or Map (the serializer keeps only their methods)", async (t) => {
  for (const [name, provider] of Object.entries(providers).filter(([k]) => k.endsWith("Provider"))) {
    const text = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
    t.notMatch(text, /global\.(Set|Map|WeakMap|WeakSet)\.prototype/, `${name}: no Set or Map captured by value`);
  }
});
