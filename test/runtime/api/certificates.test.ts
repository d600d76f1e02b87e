/**
 * /v1/environments/:envId/certificates: create, list (filters), get, PUT (rotation), DELETE
 * (refused while a load balancer lists it). No answer, event or stream entry ever shows the
 * private key; every bad body is refused naming the field with Redis left as it was.
 */
import { request } from "http";
import t from "tap";
import { isSealed, unseal } from "../../../runtime/protocol/seal";
import { secretContext } from "../../../runtime/protocol/secret-contexts";
import { leaksKey, makeCert, makeChain, makeEcCert } from "../../support/certs";
import { waitFor } from "../../support/wait";
import { apiFixture, seedEnv } from "./api-fixture";
import { removeOnceRemoving } from "./lb-removal-stand-in";

const { root, intermediate, leaf } = makeChain("www.example.com", ["www.example.com", "*.example.com"]);
const chain = intermediate.cert + root.cert;

t.test("certificates: create, list, get, rotate, delete; the key is never shown", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  const base = `/v1/environments/${env.id}`;
  const call = (method: string, path: string, body?: unknown) => f.call(method, base + path, { key: env.apiKey, body });
  const keysSeen: string[] = [leaf.key];

  const created = await call("POST", "/certificates", { name: "www", description: "front door", cert: leaf.cert, chain, key: leaf.key });
  t.equal(created.status, 201, created.text);
  t.match(created.body, {
    type: "certificate", id: /^1ce/, name: "www", description: "front door", state: "active",
    commonName: "www.example.com", subjectAlternativeNames: ["www.example.com", "*.example.com"],
    issuer: "CN=drover test intermediate, O=drover", fingerprint: /^[0-9a-f]{64}$/, cert: /BEGIN CERTIFICATE/, chain: /BEGIN CERTIFICATE/,
    links: { self: `${f.url}${base}/certificates/${created.body.id}`, environment: `${f.url}${base}` },
  });
  t.same(Object.keys(created.body).sort(), ["actions", "cert", "chain", "commonName", "createdAt", "description", "fingerprint", "id", "issuer",
    "links", "name", "notAfter", "notBefore", "state", "subjectAlternativeNames", "type"].sort(), "exactly the allow-listed fields");
  const id = created.body.id;
  const stored = await f.store.get(env.id, "certificate", id);
  t.ok(isSealed(stored?.key), "the key is stored sealed");
  const opened = unseal(await f.keyring.envKey(env.id), secretContext.certificateKey(id), stored!.key);
  t.equal(opened.trim(), leaf.key.trim(), "it opens with the environment's key, for agents");
  t.ok(leaksKey(JSON.stringify({ ...stored, key: opened }), leaf.key), "(the leak check finds a key in JSON where there is one)");
  t.notOk(leaksKey(JSON.stringify(await f.dump()), leaf.key), "Redis holds the key nowhere in the clear");

  const ec = makeEcCert("ec.example.com");
  keysSeen.push(ec.key);
  t.equal((await call("POST", "/certificates", { name: "ec", ...ec })).status, 201, "an EC certificate");
  const list = await call("GET", "/certificates");
  t.same(list.body.data.map((c: any) => c.name), ["www", "ec"], "list in creation order");
  t.same((await call("GET", "/certificates?commonName=ec.example.com")).body.data.map((c: any) => c.name), ["ec"], "filter by commonName");
  t.same((await call("GET", "/certificates?issuer_like=%25intermediate%25")).body.data.map((c: any) => c.name), ["www"], "filter by issuer_like");
  const one = await call("GET", `/certificates/${id}`);
  t.same(one.body, created.body, "GET shows what create answered");
  const envBody = await f.call("GET", base, { key: env.apiKey });
  t.equal(envBody.body.links.certificates, `${f.url}${base}/certificates`, "the environment links its certificates");

  // Rotation: same id, new material; a load balancer that lists it keeps listing it.
  const lb = await call("POST", "/loadbalancers", {
    stackId: stack.id, name: "edge", certificateIds: [id], defaultCertificateId: id,
    portRules: [{ sourcePort: 443, protocol: "https", hostname: "www.example.com", targetServiceId: service.id, targetPort: 80 }],
  });
  t.equal(lb.status, 201, lb.text);
  const renewed = makeCert({ cn: "www.example.com", sans: ["www.example.com"], issuer: intermediate });
  keysSeen.push(renewed.key);
  const rotated = await call("PUT", `/certificates/${id}`, { cert: renewed.cert, key: renewed.key, chain });
  t.equal(rotated.status, 200, rotated.text);
  t.equal(rotated.body.id, id, "same id");
  t.not(rotated.body.fingerprint, created.body.fingerprint, "new fingerprint");
  t.equal(rotated.body.description, undefined, "PUT replaces: a description left out is removed");
  t.equal(unseal(await f.keyring.envKey(env.id), secretContext.certificateKey(id), (await f.store.get(env.id, "certificate", id))!.key).trim(), renewed.key.trim(), "the new key is stored (sealed)");
  const renamed = await call("PUT", `/certificates/${id}`, { name: "other", cert: renewed.cert, key: renewed.key });
  t.same([renamed.status, renamed.body.fieldName], [422, "name"], "the name cannot change");

  // In use: refused, naming the load balancer.
  const refused = await call("DELETE", `/certificates/${id}`);
  t.same([refused.status, refused.body.code], [409, "Conflict"], "DELETE refused while a load balancer lists it");
  t.match(refused.body.message, new RegExp(`used by load balancer web/edge \\(${lb.body.id}\\)`));
  t.same(refused.body.detail, { loadBalancerIds: [lb.body.id] });
  t.equal((await call("DELETE", `/loadbalancers/${lb.body.id}`)).status, 202);
  const whileRemoving = await call("DELETE", `/certificates/${id}`);
  t.equal(whileRemoving.status, 409, "still refused while the load balancer is being removed (its HAProxy may still serve it)");
  t.match(whileRemoving.body.message, /being removed/);
  await removeOnceRemoving(f.store, env.id, lb.body.id);
  const del = await call("DELETE", `/certificates/${id}`);
  t.same([del.status, del.body.state], [200, "removed"], "DELETE once unused removes it");
  t.equal((await call("GET", `/certificates/${id}`)).status, 404, "then it is gone");
  t.equal((await call("DELETE", `/certificates/${id}`)).status, 404, "a second DELETE is a 404");
  t.equal((await call("POST", "/certificates", { name: "www", cert: leaf.cert, key: leaf.key })).status, 201, "its name is free again");

  // The key in no answer, no stream entry, no event.
  const answers = [created, list, one, rotated, refused, del, await call("GET", "/certificates")].map((r) => r.text).join("\n");
  t.notOk(keysSeen.some((k) => leaksKey(answers, k)), "no answer holds a key");
  const stream = JSON.stringify(await f.redis.xrange(f.store.keys.env(env.id).events, "-", "+"));
  t.match(stream, /certificate/, "the store's stream has the certificate changes");
  t.notOk(keysSeen.some((k) => leaksKey(stream, k)), "the store's event stream holds ids, no key");
  const events = await readEvents(f.url, env.id, env.apiKey, (text) => (text.match(/event: certificate\./g) ?? []).length >= 4);
  t.match(events, /event: certificate\.created/, "the API's event stream shows certificate events");
  t.match(events, /"resource":\{"id":"1ce/, "with the presented certificate");
  t.notOk(keysSeen.some((k) => leaksKey(events, k)), "no event carries a key");
});

t.test("bad certificate bodies name the field and write nothing", async (t) => {
  const f = await apiFixture(t);
  const { env } = await seedEnv(f);
  const base = `/v1/environments/${env.id}/certificates`;
  const other = makeCert({ cn: "other.example.com" });
  const expired = makeCert({ cn: "old.example.com", fromDays: -90, toDays: -2 });
  const existing = await f.call("POST", base, { key: env.apiKey, body: { name: "existing", cert: leaf.cert, key: leaf.key } });
  t.equal(existing.status, 201, existing.text);
  const ok = { name: "new", cert: leaf.cert, key: leaf.key };
  const cases: Array<{ what: string; method?: string; path?: string; body: unknown; status: number; code: string; field: string; message?: RegExp }> = [
    { what: "another certificate's key", body: { ...ok, key: other.key }, status: 422, code: "InvalidField", field: "key", message: /does not match the certificate's public key/ },
    { what: "expired", body: { ...ok, cert: expired.cert, key: expired.key }, status: 422, code: "InvalidField", field: "cert", message: /expired on .* \(valid from .* to .*\)/ },
    { what: "garbage PEM", body: { ...ok, cert: "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----" }, status: 422, code: "InvalidField", field: "cert", message: /expected a PEM certificate/ },
    { what: "not PEM", body: { ...ok, cert: "just text" }, status: 422, code: "InvalidField", field: "cert" },
    { what: "chain in the wrong order", body: { ...ok, chain: root.cert + intermediate.cert }, status: 422, code: "InvalidField", field: "chain[0]", message: /does not sign the certificate/ },
    { what: "no key", body: { name: "new", cert: leaf.cert }, status: 422, code: "MissingField", field: "key" },
    { what: "name taken", body: { ...ok, name: "existing" }, status: 409, code: "Conflict", field: "name" },
    { what: "unknown field", body: { ...ok, password: "x" }, status: 422, code: "UnknownField", field: "password" },
    { what: "PUT with another key", method: "PUT", path: `/${existing.body.id}`, body: { cert: leaf.cert, key: other.key }, status: 422, code: "InvalidField", field: "key" },
    { what: "PUT of an unknown id", method: "PUT", path: "/1cenothere", body: ok, status: 404, code: "NotFound", field: "" },
  ];
  await f.unchanged([env.id], "bad certificate bodies", async () => {
    for (const c of cases) {
      const r = await f.call(c.method ?? "POST", base + (c.path ?? ""), { key: env.apiKey, body: c.body });
      t.equal(r.status, c.status, `${c.what}: status (${r.text.slice(0, 300)})`);
      t.equal(r.body?.code, c.code, `${c.what}: code`);
      if (c.field) t.equal(r.body?.fieldName, c.field, `${c.what}: field`);
      if (c.message) t.match(r.body?.message, c.message, `${c.what}: message`);
      t.notOk(leaksKey(r.text, leaf.key) || leaksKey(r.text, other.key), `${c.what}: the answer holds no key`);
    }
  });
  t.equal(await f.redis.hlen(f.store.keys.env(env.id).certificates), 1, "only the first certificate is stored");
  const stranger = await f.createEnv();
  t.equal((await f.call("GET", `${base}/${existing.body.id}`, { key: stranger.apiKey })).status, 404, "another environment's key: 404");
  t.equal((await f.call("DELETE", `${base}/${existing.body.id}`, { key: stranger.apiKey })).status, 404, "nor can it delete");
});

/** The environment's SSE stream from its first entry, read until `enough(text)` (with a deadline). */
async function readEvents(url: string, envId: string, key: string, enough: (text: string) => boolean): Promise<string> {
  let text = "";
  const req = request(`${url}/v1/environments/${envId}/events`, { headers: { authorization: `Bearer ${key}`, "last-event-id": "0-0" } }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => (text += chunk));
    res.on("error", () => {});
  });
  req.on("error", () => {});
  req.end();
  try {
    await waitFor(() => enough(text), { what: "the certificate events on the API's stream", timeoutMs: 10_000 });
  } finally {
    req.destroy();
  }
  return text;
}
