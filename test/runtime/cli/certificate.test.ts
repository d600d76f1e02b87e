/**
 * `drover certificate ls|add|rm` as a user runs it (bin/drover.js in a child process) against
 * a real API server: connection from flags or DROVER_URL/DROVER_API_KEY, the environment from
 * the key when --env is not given, the server's refusals as one line and exit 1, usage
 * mistakes as exit 2; no output ever holds a private key.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { leaksKey, makeCert, makeChain } from "../../support/certs";
import { runNode } from "../../support/run-node";
import { apiFixture, seedEnv } from "../api/api-fixture";

const bin = path.resolve(__dirname, "../../../../bin/drover.js");

t.test("drover certificate against a server", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-cert-cli-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { root, intermediate, leaf } = makeChain("www.example.com", ["www.example.com", "api.example.com"]);
  const other = makeCert({ cn: "other.example.com" });
  const file = (name: string, text: string) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };
  const files = { cert: file("cert.pem", leaf.cert), key: file("key.pem", leaf.key), chain: file("chain.pem", intermediate.cert + root.cert), otherKey: file("other.pem", other.key) };
  const noEnv = { ...process.env, DROVER_URL: "", DROVER_API_KEY: "", DROVER_ENV: "" };
  const viaEnv = { ...noEnv, DROVER_URL: f.url, DROVER_API_KEY: env.apiKey };
  const drover = (args: string[], environment: NodeJS.ProcessEnv = viaEnv) => runNode([bin, "certificate", ...args], { env: environment });
  const outputs: string[] = [];
  const run = async (args: string[], environment?: NodeJS.ProcessEnv) => {
    const r = await drover(args, environment);
    outputs.push(r.out, r.err);
    return r;
  };

  const added = await run(["add", "--name", "www", "--cert", files.cert, "--key", files.key, "--chain", files.chain, "--description", "front"]);
  t.equal(added.code, 0, `add exits 0 (${added.err})`);
  const id = /added: (1ce\w+)/.exec(added.out)?.[1];
  t.ok(id, "add prints the new id");
  t.match(added.out, /common name www\.example\.com, names www\.example\.com, api\.example\.com/);
  t.match(added.out, /issuer CN=drover test intermediate, O=drover, valid \S+ to \S+/);
  const stored = await f.store.get(env.id, "certificate", id!);
  t.match(stored, { name: "www", description: "front", commonName: "www.example.com" }, "stored in the key's own environment (no --env given)");

  const ls = await run(["ls", "--url", f.url, "--api-key", env.apiKey, "--env", env.id], noEnv);
  t.equal(ls.code, 0, `ls with flags exits 0 (${ls.err})`);
  t.match(ls.out, /^ID\s+NAME\s+COMMON NAME\s+NOT AFTER\s+FINGERPRINT\n/);
  t.match(ls.out, new RegExp(`${id}\\s+www\\s+www\\.example\\.com\\s+\\S+Z\\s+${stored!.fingerprint.slice(0, 16)}\\n`), "one line per certificate");

  const mismatch = await run(["add", "--name", "bad", "--cert", files.cert, "--key", files.otherKey]);
  t.equal(mismatch.code, 1, "the server's refusal exits 1");
  t.equal(mismatch.err.trim(), "drover certificate add: POST /v1/environments/" + env.id + "/certificates: 422 key: does not match the certificate's public key", "as one line naming the field");

  const lb = await f.call("POST", `/v1/environments/${env.id}/loadbalancers`, { key: env.apiKey, body: {
    stackId: stack.id, name: "edge", certificateIds: [id], portRules: [{ sourcePort: 443, protocol: "https", targetServiceId: service.id, targetPort: 80 }],
  } });
  t.equal(lb.status, 201, lb.text);
  const inUse = await run(["rm", id!]);
  t.equal(inUse.code, 1, "rm of a certificate in use exits 1");
  t.match(inUse.err, new RegExp(`409 certificate www \\(${id}\\) is used by load balancer web/edge \\(${lb.body.id}\\)`));
  await f.call("PATCH", `/v1/environments/${env.id}/loadbalancers/${lb.body.id}`, { key: env.apiKey, body: { certificateIds: [], portRules: [{ sourcePort: 80, targetServiceId: service.id, targetPort: 80 }] } });
  const rm = await run(["rm", id!]);
  t.same([rm.code, rm.out.trim()], [0, `certificate www (${id}) removed`], "rm once unused");
  t.equal((await run(["ls"])).out.trim().split("\n").length, 1, "ls: only the header left");

  // Usage mistakes: exit 2 with the usage; a bad connection is said before anything is sent.
  const noKey = await run(["add", "--name", "x", "--cert", files.cert]);
  t.same([noKey.code, /--key is required/.test(noKey.err), /usage: drover certificate/.test(noKey.err)], [2, true, true], "add without --key");
  t.same((await run(["rm"])).code, 2, "rm without an id");
  t.same((await run(["renew"])).code, 2, "an unknown subcommand");
  t.same((await run(["ls", "--cert", files.cert])).code, 2, "an add option on ls");
  const noUrl = await run(["ls"], noEnv);
  t.same([noUrl.code, /no server: give --url, set DROVER_URL/.test(noUrl.err)], [2, true], "no server given");
  const unreadable = await run(["add", "--name", "x", "--cert", path.join(dir, "missing.pem"), "--key", files.key]);
  t.same([unreadable.code, /--cert: cannot read .*missing\.pem: ENOENT/.test(unreadable.err)], [2, true], "a missing file");
  const wrongKey = await run(["ls"], { ...viaEnv, DROVER_API_KEY: "drk_wrong" });
  t.same([wrongKey.code, /401|not accepted|unauthori[sz]ed/i.test(wrongKey.err)], [4, true], "a wrong API key: the server's 401, exit 4 (not authorized)");

  t.notOk(outputs.some((text) => leaksKey(text, leaf.key) || leaksKey(text, other.key)), "no output holds a private key");
});
