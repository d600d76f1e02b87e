import t from "tap";
import { certificateProvider, environmentProvider, loadBalancerProvider, serviceProvider, stackProvider, UNKNOWN } from "../../provider";
import { leaksKey, makeCert, makeChain } from "../support/certs";
import { serverForTest } from "./server-fixture";

// drover:Certificate's provider methods called directly: check (the server's validator run
// locally, naming the field, never quoting the key; unknowns tolerated), diff (name replaces,
// material updates in place), then create/read/update/delete against a real server.
const conn = { endpoint: "http://127.0.0.1:1", apiKey: "drk_test", envId: "env1" };
const { root, intermediate, leaf } = makeChain("www.example.com");
const good = { ...conn, name: "www", cert: leaf.cert, chain: intermediate.cert + root.cert, key: leaf.key };
const failures = async (news: any) => (await certificateProvider.check({}, news)).failures;
/** The field each failure is about: its property, or for the PEM fields (reported without one) the reason's first word. */
const props = async (news: any) => (await failures(news)).map((f: any) => f.property || f.reason.split(":")[0]).sort();

t.test("check fails the preview naming the field", async (t) => {
  const other = makeCert({ cn: "other.example.com" });
  const expired = makeCert({ cn: "old.example.com", fromDays: -30, toDays: -1 });
  t.same(await props(good), [], "a good certificate with its chain");
  t.same(await props({ ...good, key: other.key }), ["key"], "another certificate's key");
  t.same(await props({ ...good, cert: expired.cert, key: expired.key, chain: undefined }), ["cert"], "expired");
  t.same(await props({ ...good, cert: "garbage" }), ["cert"], "not PEM");
  t.same(await props({ ...good, chain: root.cert + intermediate.cert }), ["chain[0]"], "chain in the wrong order");
  t.same(await props({ ...good, name: "WWW", envId: undefined }), ["envId", "name"]);
  const all = await failures({ ...good, key: other.key });
  t.same(all, [{ property: "", reason: "key: does not match the certificate's public key" }],
    "a PEM field's failure names no property, so the engine prints no value beside it (it would print the key)");
  t.notOk(all.some((f: any) => leaksKey(f.reason, other.key)), "the reason holds no key");
  t.same(await props({ ...good, cert: UNKNOWN }), [], "an unknown cert (from another resource) is not judged");
  t.same(await props({ ...good, key: UNKNOWN, chain: UNKNOWN }), [], "nor an unknown key or chain");
});

t.test("diff: the name replaces, cert, key and chain update in place", async (t) => {
  const old = { ...good, certificateId: "1ce1", commonName: "www.example.com", notAfter: "x", fingerprint: "f" };
  t.equal((await certificateProvider.diff("1ce1", old, good)).changes, false, "computed outputs are not compared");
  const renewed = makeCert({ cn: "www.example.com", issuer: intermediate });
  const rotation = await certificateProvider.diff("1ce1", old, { ...good, cert: renewed.cert, key: renewed.key });
  t.same([rotation.changes, rotation.replaces], [true, []], "rotation updates in place");
  const renamed = await certificateProvider.diff("1ce1", old, { ...good, name: "web" });
  t.same([renamed.replaces, renamed.deleteBeforeReplace], [["name"], false], "a new name replaces (create first: the names differ)");
  const unknown = await certificateProvider.diff("1ce1", old, { ...good, key: UNKNOWN });
  t.same([unknown.changes, unknown.replaces], [true, []], "an unknown key is an update");
});

t.test("create, read, rotate and delete against a server", async (t) => {
  const server = await serverForTest(t);
  const env = await environmentProvider.create({ endpoint: server.url, adminKey: server.adminKey, name: `cert-${server.prefix}` });
  t.teardown(() => environmentProvider.delete(env.id, env.outs));
  const c = { endpoint: server.url, apiKey: env.outs.apiKey, envId: env.id };
  const inputs = { ...c, name: "www", cert: leaf.cert, chain: intermediate.cert + root.cert, key: leaf.key };

  const created = await certificateProvider.create(inputs);
  t.match(created.outs, { ...inputs, certificateId: created.id, commonName: "www.example.com", fingerprint: /^[0-9a-f]{64}$/ });
  t.ok(Date.parse(created.outs.notAfter) > Date.now(), "notAfter is an ISO time ahead");
  const read = await certificateProvider.read(created.id, created.outs);
  t.same(read.props, created.outs, "read after create: no drift (the key kept from the state: the server never shows it)");
  t.equal((await certificateProvider.diff(created.id, read.props, inputs)).changes, false, "no diff after refresh");

  const renewed = makeCert({ cn: "www.example.com", sans: ["www.example.com"], issuer: intermediate });
  const updated = await certificateProvider.update(created.id, created.outs, { ...inputs, cert: renewed.cert, key: renewed.key });
  t.not(updated.outs.fingerprint, created.outs.fingerprint, "rotated: new fingerprint, same id");

  // Rotated by hand with the old pair: read shows cert drift, the next diff puts the program's back.
  await fetch(`${server.url}/v1/environments/${env.id}/certificates/${created.id}`, {
    method: "PUT", headers: { authorization: `Bearer ${c.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ cert: leaf.cert, key: leaf.key }),
  });
  const drifted = await certificateProvider.read(created.id, updated.outs);
  t.equal(drifted.props.fingerprint, created.outs.fingerprint, "read shows the server's certificate");
  t.equal(drifted.props.key, renewed.key, "and keeps the key from the state");
  const repair = await certificateProvider.diff(created.id, drifted.props, { ...inputs, cert: renewed.cert, key: renewed.key });
  t.same([repair.changes, repair.replaces], [true, []], "repaired in place");

  // In use by a load balancer: delete fails with the server's reason.
  const stack = await stackProvider.create({ ...c, name: "demo" });
  const web = await serviceProvider.create({ ...c, stackId: stack.id, name: "web", image: "local/busybox", scale: 0 });
  const lb = await loadBalancerProvider.create({ ...c, stackId: stack.id, name: "edge", certificateIds: [created.id], portRules: [{ sourcePort: 443, protocol: "https", targetServiceId: web.id, targetPort: 80 }] });
  const refused = await certificateProvider.delete(created.id, updated.outs).catch((e: Error) => e);
  t.match((refused as Error).message, new RegExp(`409 Conflict: certificate www .* used by load balancer demo/edge \\(${lb.id}\\)`));

  const taken = await certificateProvider.create(inputs).catch((e: Error) => e);
  t.match((taken as Error).message, /409 Conflict: .*name/, "a taken name fails with the server's message");
  const bad = await certificateProvider.create({ ...inputs, name: "bad", key: makeCert({ cn: "x" }).key }).catch((e: Error) => e);
  t.match((bad as Error).message, /422 InvalidField: key: does not match/, "the server refuses what check would have");
});
