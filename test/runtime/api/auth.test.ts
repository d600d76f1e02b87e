/**
 * Keys and isolation: 401 without a (known) key; only the admin key creates environments
 * (an environment key gets 403 there, by choice: it may know the collection exists); an
 * environment key addressing another environment gets 404 on every path, never its data.
 */
import t from "tap";
import { routeTable } from "../../../runtime/api";
import { apiFixture, seedEnv } from "./api-fixture";

t.test("no key or an unknown key → 401 with a Bearer challenge", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  for (const key of [undefined, "not-a-key", `${f.adminKey}x`]) {
    const r = await f.call("GET", `/v1/environments/${env.id}/stacks`, { key });
    t.equal(r.status, 401, `key ${key}`);
    t.equal(r.body.code, "Unauthorized");
    t.equal(r.body.type, "error");
    t.match(r.headers["www-authenticate"], /^Bearer/);
  }
  const basic = await f.call("GET", "/v1/environments", { headers: { authorization: `Basic ${f.adminKey}` } });
  t.equal(basic.status, 401, "only Bearer is accepted");
  const health = await f.call("GET", "/healthz");
  t.equal(health.status, 200, "health needs no key");
});

t.test("admin creates an environment: key and token shown once, stored only hashed", async (t) => {
  const f = await apiFixture(t);
  const r = await f.call("POST", "/v1/environments", { key: f.adminKey, body: { name: "prod", description: "the real one" } });
  t.equal(r.status, 201);
  t.equal(r.body.type, "environment");
  t.equal(r.body.name, "prod");
  t.equal(r.body.state, "active");
  t.same(r.body.network, { cidr: "10.42.0.0/16", hostSubnetPrefix: 24 });
  t.match(r.body.apiKey, /^drk_[A-Za-z0-9_-]{43}$/);
  t.match(r.body.registrationToken, /^drt_[A-Za-z0-9_-]{43}$/);
  t.equal(r.body.links.self, `${f.url}/v1/environments/${r.body.id}`);
  t.equal(r.body.links.stacks, `${f.url}/v1/environments/${r.body.id}/stacks`);
  t.ok(r.body.actions.teardown, "the admin may tear it down");

  const again = await f.call("GET", `/v1/environments/${r.body.id}`, { key: f.adminKey });
  t.equal(again.status, 200);
  t.notOk("apiKey" in again.body, "the key is never shown again");
  t.notOk("registrationToken" in again.body);
  const everything = JSON.stringify(await f.dump());
  t.notOk(everything.includes(r.body.apiKey), "the API key is not in Redis in clear");
  t.notOk(everything.includes(r.body.registrationToken), "nor the token");

  const mine = await f.call("GET", "/v1/environments", { key: r.body.apiKey });
  t.equal(mine.status, 200, "the new key works");
  t.same(mine.body.data.map((e: { id: string }) => e.id), [r.body.id]);
  t.same(mine.body.data[0].actions, {}, "an env key may not tear its environment down");

  const dup = await f.call("POST", "/v1/environments", { key: f.adminKey, body: { name: "prod" } });
  t.equal(dup.status, 409);
  t.equal(dup.body.code, "Conflict");
  t.equal(dup.body.fieldName, "name");
});

t.test("an environment key cannot create environments (403) or tear one down", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  await f.unchanged([env.id], "env key creating an environment", async () => {
    const r = await f.call("POST", "/v1/environments", { key: env.apiKey, body: { name: "sneaky" } });
    t.equal(r.status, 403);
    t.equal(r.body.code, "Forbidden");
    const down = await f.call("POST", `/v1/environments/${env.id}?action=teardown`, { key: env.apiKey });
    t.equal(down.status, 403);
  });
  const all = await f.call("GET", "/v1/environments", { key: f.adminKey });
  t.equal(all.body.data.length, 1);
});

t.test("an environment key gets 404 for every path of another environment", async (t) => {
  const f = await apiFixture(t);
  const mine = await f.createEnv("mine");
  const other = await seedEnv(f, "other");
  const otherIds: Record<string, string> = {
    hosts: "1hnothere", stacks: other.stack.id, services: other.service.id, instances: "1inothere",
  };
  const envPaths = routeTable.filter(([, path]) => path.startsWith("/v1/environments/:envId"));
  t.ok(envPaths.length >= 20, "every environment route is tried");
  const secret = JSON.stringify([other.env.id, other.stack.id, other.service.id, "other"]);
  await f.unchanged([mine.id, other.env.id], "cross-environment requests", async () => {
    for (const [method, pattern] of envPaths) {
      const collection = pattern.split("/")[4];
      const path = pattern.replace(":envId", other.env.id).replace(":id", otherIds[collection] ?? "x");
      const query = method === "POST" && pattern.endsWith(":id") ? "?action=deactivate" : pattern.endsWith(":envId") && method === "POST" ? "?action=teardown" : "";
      const body = method === "GET" || method === "DELETE" ? undefined : { name: "x", image: "busybox", stackId: other.stack.id };
      const r = await f.call(method, path + query, { key: mine.apiKey, body });
      t.equal(r.status, 404, `${method} ${pattern} → 404`);
      t.equal(r.body?.code, "NotFound");
      t.notOk(JSON.parse(secret).slice(1).some((s: string) => r.text.includes(s)), `${method} ${pattern} leaks nothing`);
    }
  });
  const list = await f.call("GET", "/v1/environments", { key: mine.apiKey });
  t.same(list.body.data.map((e: { id: string }) => e.id), [mine.id], "the list shows only its own environment");
  const admin = await f.call("GET", `/v1/environments/${other.env.id}/services/${other.service.id}`, { key: f.adminKey });
  t.equal(admin.status, 200, "the admin sees every environment");
});

t.test("links are absolute URLs built from the Host header", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const r = await f.call("GET", `/v1/environments/${env.id}`, {
    key: env.apiKey, headers: { host: "drover.example:8443", "x-forwarded-proto": "https" },
  });
  t.equal(r.body.links.self, `https://drover.example:8443/v1/environments/${env.id}`);
  const odd = await f.call("GET", `/v1/environments/${env.id}`, { key: env.apiKey, headers: { host: "evil/../x" } });
  t.match(odd.body.links.self, /^http:\/\/127\.0\.0\.1:\d+\/v1\//, "a malformed Host falls back to the local address");
});

t.test("a wrong method is 405 with Allow; an unknown path 404", async (t) => {
  const f = await apiFixture(t);
  const r = await f.call("PUT", "/v1/environments", { key: f.adminKey, body: {} });
  t.equal(r.status, 405);
  t.equal(r.headers.allow, "GET, POST");
  t.match(r.body.message, /takes GET, POST/);
  const none = await f.call("GET", "/v2/nothing", { key: f.adminKey });
  t.equal(none.status, 404);
  const root = await f.call("GET", "/v1", { key: f.adminKey });
  t.equal(root.status, 200);
  t.equal(root.body.links.environments, `${f.url}/v1/environments`);
});
