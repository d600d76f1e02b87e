/** Collection filters, sorting and marker paging, over HTTP and as pure functions. */
import t from "tap";
import { applyListQuery, likePattern, parseListQuery } from "../../../runtime/api/filters";
import { apiFixture } from "./api-fixture";

t.test("name=, name_like=, state=, state_ne=, labels.<k>= over HTTP", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const key = env.apiKey;
  const base = `/v1/environments/${env.id}`;
  const stack = (await f.call("POST", `${base}/stacks`, { key, body: { name: "s" } })).body;
  const names = ["web-1", "web-2", "api", "worker", "web-admin"];
  const ids: Record<string, string> = {};
  for (const name of names) {
    const labels = name.startsWith("web") ? { tier: "front" } : { tier: "back" };
    const r = await f.call("POST", `${base}/services`, { key, body: { stackId: stack.id, name, image: "busybox", labels } });
    ids[name] = r.body.id;
  }
  await f.call("POST", `${base}/services/${ids.worker}?action=deactivate`, { key });
  const namesOf = async (query: string) => {
    const r = await f.call("GET", `${base}/services?${query}`, { key });
    t.equal(r.status, 200, `${query}: ${r.text.slice(0, 200)}`);
    return r.body.data.map((s: { name: string }) => s.name).sort();
  };
  t.same(await namesOf("name=api"), ["api"]);
  t.same(await namesOf("name=api&name=worker"), ["api", "worker"], "repeated values are alternatives");
  t.same(await namesOf("name_like=web%25"), ["web-1", "web-2", "web-admin"]);
  t.same(await namesOf("name_like=web-_"), ["web-1", "web-2"], "_ is one character");
  t.same(await namesOf("name_notlike=web%25"), ["api", "worker"]);
  t.same(await namesOf("state=inactive"), ["worker"]);
  t.same(await namesOf("state_ne=inactive"), ["api", "web-1", "web-2", "web-admin"]);
  t.same(await namesOf("labels.tier=back"), ["api", "worker"]);
  t.same(await namesOf("labels.tier=back&state_ne=inactive"), ["api"], "filters combine");
  t.same(await namesOf("labels.nope=x"), []);

  const r = await f.call("GET", `${base}/services?name_like=web%25&state_ne=inactive`, { key });
  t.match(r.body, {
    type: "collection", resourceType: "service",
    filters: { name: [{ modifier: "like", value: "web%" }], state: [{ modifier: "ne", value: "inactive" }], stackId: null },
    createTypes: { service: `${f.url}${base}/services` },
    pagination: { limit: 100, total: 3, partial: false },
  });
  t.equal(r.body.links.self, `${f.url}${base}/services?name_like=web%25&state_ne=inactive`);
  t.match(r.body.sortLinks.name, /sort=name/);

  const typo = await f.call("GET", `${base}/services?nmae=api`, { key });
  t.equal(typo.status, 422, "an unknown filter is an error, not a silent match-all");
  t.equal(typo.body.code, "UnknownField");
  t.equal(typo.body.fieldName, "nmae");
});

t.test("limit and marker page through a collection without gaps or repeats", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const key = env.apiKey;
  const base = `/v1/environments/${env.id}/stacks`;
  for (let i = 0; i < 7; i++) await f.call("POST", base, { key, body: { name: `s${i}` } });
  const seen: string[] = [];
  let next: string | undefined = `${base}?limit=3&sort=name`;
  let pages = 0;
  while (next) {
    const r = await f.call("GET", next, { key });
    t.equal(r.status, 200);
    t.equal(r.body.pagination.total, 7);
    t.ok(r.body.data.length <= 3);
    seen.push(...r.body.data.map((s: { name: string }) => s.name));
    next = r.body.pagination.next;
    pages++;
  }
  t.equal(pages, 3);
  t.same(seen, ["s0", "s1", "s2", "s3", "s4", "s5", "s6"], "every stack once, in name order");
  const desc = await f.call("GET", `${base}?sort=name&order=desc&limit=2`, { key });
  t.same(desc.body.data.map((s: { name: string }) => s.name), ["s6", "s5"]);

  for (const [query, field] of [["limit=0", "limit"], ["limit=1001", "limit"], ["limit=x", "limit"], ["marker=garbage", "marker"], ["sort=image", "sort"]]) {
    const r = await f.call("GET", `${base}?${query}`, { key });
    t.equal(r.status, 422, query);
    t.equal(r.body.fieldName, field, `${query} names ${field}`);
  }
  const max = await f.call("GET", `${base}?limit=1000`, { key });
  t.equal(max.status, 200, "1000 is allowed");
});

t.test("pure: LIKE patterns and default limits", async (t) => {
  t.ok(likePattern("a%c").test("abbbc"));
  t.notOk(likePattern("a.c").test("abc"), "regex characters are literal");
  t.ok(likePattern("a.c").test("a.c"));
  const spec = { fields: { name: (r: { id: string; name: string }) => r.name } };
  const q = parseListQuery(new URLSearchParams(""), spec);
  t.equal(q.limit, 100, "the default limit is 100");
  const records = Array.from({ length: 150 }, (_, i) => ({ id: `id${String(i).padStart(3, "0")}`, name: `n${i}` }));
  const page = applyListQuery(records, q, spec);
  t.equal(page.data.length, 100);
  t.equal(page.total, 150);
  t.ok(page.next);
});
