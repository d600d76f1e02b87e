/**
 * A client can crawl the API: from /v1, follow every advertised link (GET) and try every
 * advertised action and create (POST with an empty body), with an environment's key and with
 * the admin key. No advertised link is 404 and nothing is 5xx. Then the generic guards: a wrong
 * method is 405 with Allow, a repeated parameter (query or body field) is refused with
 * nothing changed, and a number out of range says so.
 */
import { request } from "http";
import t, { type Test } from "tap";
import { signedRegistration } from "../../support/host-identity";
import { apiFixture, type ApiFixture } from "./api-fixture";

interface Got { status: number; type: string; body: any }

/** One request; an event stream is judged by its status and content type, then dropped. */
function fetchOnce(url: string, method: string, key: string): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { authorization: `Bearer ${key}`, ...(method === "POST" ? { "content-length": "0" } : {}) } }, (res) => {
      const type = String(res.headers["content-type"] ?? "");
      if (type.startsWith("text/event-stream")) {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, type, body: undefined });
        return;
      }
      let text = "";
      res.setEncoding("utf8").on("data", (d) => { text += d; }).on("end", () => {
        let body: any;
        try { body = JSON.parse(text); } catch { body = text; }
        resolve({ status: res.statusCode ?? 0, type, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** Every URL a resource or collection advertises: links (GET), actions and createTypes (POST). */
function advertised(body: any, into: { gets: Set<string>; posts: Set<string> }): void {
  if (!body || typeof body !== "object") return;
  if (Array.isArray(body)) { for (const item of body) advertised(item, into); return; }
  for (const [k, v] of Object.entries(body)) {
    const urls = v && typeof v === "object" ? Object.values(v).filter((u): u is string => typeof u === "string") : [];
    if (k === "links" || k === "sortLinks") urls.forEach((u) => into.gets.add(u));
    else if (k === "actions" || k === "createTypes") urls.forEach((u) => into.posts.add(u));
    else if (k === "next" && typeof v === "string") into.gets.add(v);
    else advertised(v, into);
  }
}

async function crawl(t: Test, f: ApiFixture, key: string, who: string, skipPosts: (url: string) => boolean): Promise<{ gets: number; posts: number; urls: string[] }> {
  const seen = { gets: new Set<string>(), posts: new Set<string>() };
  const queue = [`${f.url}/v1`];
  seen.gets.add(queue[0]);
  const bad: string[] = [];
  while (queue.length) {
    const url = queue.shift()!;
    const got = await fetchOnce(url, "GET", key);
    if (got.status === 404 || got.status >= 500) bad.push(`GET ${url} → ${got.status} ${JSON.stringify(got.body).slice(0, 200)}`);
    const found = { gets: new Set<string>(), posts: new Set<string>() };
    advertised(got.body, found);
    for (const u of found.gets) {
      if (!u.startsWith(f.url)) bad.push(`${url} links outside the API: ${u}`);
      else if (!seen.gets.has(u)) { seen.gets.add(u); queue.push(u); }
    }
    for (const u of found.posts) seen.posts.add(u);
  }
  let posts = 0;
  for (const u of [...seen.posts].sort()) {
    if (skipPosts(u)) continue;
    posts++;
    const got = await fetchOnce(u, "POST", key);
    if (got.status === 404 || got.status >= 500) bad.push(`POST ${u} → ${got.status} ${JSON.stringify(got.body).slice(0, 200)}`);
  }
  t.same(bad, [], `${who}: ${seen.gets.size} links followed and ${posts} actions tried, no 404 and no 5xx`);
  return { gets: seen.gets.size, posts, urls: [...seen.gets] };
}

async function populate(f: ApiFixture) {
  const env = await f.createEnv("crawl");
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await f.call(method, `/v1/environments/${env.id}${path}`, { key: env.apiKey, body });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  };
  const reg = await f.call("POST", "/v1/register", { body: signedRegistration({
    token: env.registrationToken, machineId: "machine-crawl", hostname: "crawl-a", labels: { zone: "a" },
    agentVersion: "0.1.0", dockerVersion: "20.10.24", kernelVersion: "6.1.0", underlayIp: "198.18.0.11",
  }) });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.text}`);
  const stack = await call("POST", "/stacks", { name: "web" });
  const service = await call("POST", "/services", { stackId: stack.id, name: "nginx", image: "busybox", scale: 1 });
  await call("POST", "/loadbalancers", { stackId: stack.id, name: "lb", portRules: [{ sourcePort: 80, targetServiceId: service.id, targetPort: 80 }] });
  await call("POST", "/registrationtokens", { description: "second" });
  return { env, stack, service, hostId: reg.body.hostId as string };
}

t.test("a crawler from /v1 finds no dead link and no 5xx", async (t) => {
  const f = await apiFixture(t);
  const { env } = await populate(f);
  // Tearing the environment down or rotating its key first would only make later writes 409:
  // both are tried, last, by the admin crawl.
  const envKey = await crawl(t, f, env.apiKey, "environment key", (u) => /action=(teardown|rotateipseckey)$/.test(u));
  t.ok(envKey.gets > 40 && envKey.posts >= 8, `a real crawl (${envKey.gets} links, ${envKey.posts} posts)`);
  const paths = new Set(envKey.urls.map((u) => new URL(u).pathname.replace(env.id, "ENV").replace(/\/(1[a-z]{1,2}[0-9a-f]{6,})$/, "/ID")));
  for (const c of ["hosts", "stacks", "services", "loadbalancers", "certificates", "instances", "registrationtokens", "events"]) {
    t.ok(paths.has(`/v1/environments/ENV/${c}`), `${c}: reachable by links from /v1`);
  }
  for (const one of ["hosts", "stacks", "services", "loadbalancers", "registrationtokens"]) {
    t.ok(paths.has(`/v1/environments/ENV/${one}/ID`), `a member of ${one} too`);
  }
  const other = await f.createEnv("other");
  const admin = await crawl(t, f, f.adminKey, "admin key", () => false);
  t.ok(admin.gets > envKey.gets, "the admin sees more (two environments)");
  t.ok(other.id);
});

t.test("wrong method, repeated parameters, numbers out of range", async (t) => {
  const f = await apiFixture(t);
  const { env, service } = await populate(f);
  const base = `/v1/environments/${env.id}`;

  for (const [method, path, allow] of [
    ["DELETE", `${base}/instances`, "GET"], ["PUT", "/v1", "GET"], ["GET", "/v1/register", "POST"],
    ["POST", `${base}/events`, "GET"], ["PATCH", `${base}/services/${service.id}`, undefined], ["DELETE", `${base}/registrationtokens`, "GET, POST"],
  ] as const) {
    const r = await f.call(method, path, { key: env.apiKey });
    if (method === "PATCH") { t.not(r.status, 405, "PATCH of a service is a route"); continue; }
    t.equal(r.status, 405, `${method} ${path}: 405`);
    t.equal(r.headers.allow, allow, `Allow: ${allow}`);
    t.match(r.body, { code: "MethodNotAllowed", message: new RegExp(`^${method} is not allowed on .*: it takes ${allow}$`) });
  }
  t.equal((await f.call("GET", `${base}/nothing`, { key: env.apiKey })).status, 404, "a path that is not there is still 404");

  await f.unchanged([env.id], "an action named twice", async () => {
    const r = await f.call("POST", `${base}/services/${service.id}?action=deactivate&action=restart`, { key: env.apiKey });
    t.equal(r.status, 422);
    t.match(r.body, { code: "InvalidField", fieldName: "action", message: 'action: given 2 times ("deactivate" and "restart"); give it once' });
    const same = await f.call("POST", `${base}/services/${service.id}?action=scale&action=scale`, { key: env.apiKey, body: { scale: 3 } });
    t.equal(same.status, 422, "even the same action twice");
    const scale = await f.call("POST", `${base}/services/${service.id}?action=scale`, { key: env.apiKey, raw: '{"scale": 1e400}', headers: { "content-type": "application/json" } });
    t.equal(scale.status, 422);
    t.match(scale.body.message, /^scale: expected an integer from 0 to \d+, got a number out of range/, "out of range, not null");
    const twice = await f.call("POST", `${base}/services/${service.id}?action=scale`, { key: env.apiKey, raw: '{"scale": 2, "scale": 50}', headers: { "content-type": "application/json" } });
    t.match([twice.status, twice.body.fieldName, twice.body.message], [422, "scale", "scale: given twice in the request body; give it once"], "a body field given twice");
    const nested = await f.call("PATCH", `${base}/services/${service.id}`, { key: env.apiKey, raw: '{"labels": {"a": "1", "b": "2", "a": "3"}}', headers: { "content-type": "application/json" } });
    t.match([nested.status, nested.body.fieldName], [422, "labels.a"], "also inside an object, named by its path");
  });
  const limit = await f.call("GET", `${base}/services?limit=1&limit=1000`, { key: env.apiKey });
  t.match([limit.status, limit.body.fieldName], [422, "limit"], "a paging parameter twice");
  const one = await f.call("GET", `${base}/services/${service.id}?x=1&x=2`, { key: env.apiKey });
  t.equal(one.status, 200, "a GET that reads no parameter ignores them, repeated or not");
  const events = await f.call("GET", `${base}/events?lastEventId=1-0&lastEventId=2-0`, { key: env.apiKey });
  t.match([events.status, events.body.fieldName], [422, "lastEventId"], "a GET parameter read as one value, given twice");
  const either = await f.call("GET", `${base}/services?name=nginx&name=other`, { key: env.apiKey });
  t.same([either.status, either.body.data?.map((s: any) => s.name)], [200, ["nginx"]], "a filter twice is a list of values (either)");

  // Registration tokens have self links that answer.
  const tokens = await f.call("GET", `${base}/registrationtokens`, { key: env.apiKey });
  t.equal(tokens.body.data.length, 2);
  for (const tok of tokens.body.data) {
    const one = await f.call("GET", new URL(tok.links.self).pathname, { key: env.apiKey });
    t.same([one.status, one.body.id, one.body.token], [200, tok.id, undefined], `token ${tok.id}: self answers, without the secret`);
  }
  const otherEnv = await f.createEnv("other");
  t.equal((await f.call("GET", new URL(tokens.body.data[0].links.self).pathname, { key: otherEnv.apiKey })).status, 404, "another environment's key: 404");
});
