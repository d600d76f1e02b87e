/**
 * Backend membership follows the directory through HAProxy's runtime API: instances added,
 * removed, drained, turned unhealthy, with the same worker process (no reload), requests in
 * flight finishing; only running out of server slots reloads (once, counted).
 */
import t from "tap";
import type { DnsInstance } from "../../../runtime/protocol/dns";
import { freePort } from "../../support/free-port";
import { waitFor } from "../../support/wait";
import { Backend, startService } from "./support/backends";
import { request } from "./support/clients";
import { desiredLb, directory, inst, rule } from "./support/fixtures";
import { harness, Harness } from "./support/harness";

async function namesOf(port: number, n: number): Promise<string[]> {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) {
    const a = await request(port);
    if (a.status !== 200) throw new Error(`status ${a.status}`);
    out.add(a.name!);
  }
  return [...out].sort();
}

function backendOf(h: Harness, id: string, port: number): Record<string, string> | undefined {
  return h.lbs.status()[id]?.backends[`be_${port}_default`];
}

t.test("add, unhealthy, remove: runtime API only, the worker keeps running, no reload", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.62.1", 10, 4);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "mem-basic";
  const entry = (i: number, more: Partial<DnsInstance> = {}) => inst(`w${i}`, "web", web[i].ip, more);
  h.lbs.setDirectory(directory([entry(0), entry(1)]));
  await h.lbs.apply([desiredLb(id, [rule(port, "web", web[0].port)])]);
  t.same(backendOf(h, id, port), { w0: "up", w1: "up" });
  const before = await h.procs(id);
  t.same(await namesOf(port, 4), ["web-1", "web-2"]);

  h.lbs.setDirectory(directory([entry(0), entry(1), entry(2), entry(3, { healthy: true })]));
  await waitFor(() => backendOf(h, id, port)?.w3 === "up", { what: "w2 and w3 to join" });
  t.same(await namesOf(port, 8), ["web-1", "web-2", "web-3", "web-4"], "new instances take requests");

  h.lbs.setDirectory(directory([entry(0, { healthy: false }), entry(1), entry(2, { running: false }), entry(3)]));
  await waitFor(() => backendOf(h, id, port)?.w0 === "maint" && backendOf(h, id, port)?.w2 === "maint", { what: "w0 (unhealthy) and w2 (not running) to go to maint" });
  t.same(await namesOf(port, 8), ["web-2", "web-4"], "unhealthy and stopped instances get nothing");

  h.lbs.setDirectory(directory([entry(0), entry(3)]));
  await waitFor(() => JSON.stringify(backendOf(h, id, port)) === JSON.stringify({ w0: "up", w3: "up" }), { what: "w1 and w2 to leave, w0 to come back" });
  t.same(await namesOf(port, 6), ["web-1", "web-4"]);

  const after = await h.procs(id);
  t.equal(after.masterPid, before.masterPid, "same master");
  t.same(after.workers, before.workers, "same worker: nothing reloaded");
  t.equal(after.reloads, 0, "HAProxy counted no reload");
  t.equal(h.lbs.status()[id].reloads, 0);
  t.notOk(h.logLines.some((l) => l.includes("haproxy reloaded")), "no reload logged");
});

t.test("a draining instance finishes its request in flight and takes no new ones", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.62.2", 10, 2);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "mem-drain";
  const [a, b] = web;
  h.lbs.setDirectory(directory([inst("a", "web", a.ip)]));
  await h.lbs.apply([desiredLb(id, [rule(port, "web", a.port)])]);
  const worker = (await h.procs(id)).workers;

  const inFlight = request(port, { path: "/hold" });
  await waitFor(() => a.held() === 1, { what: "the request to wait on instance a" });
  h.lbs.setDirectory(directory([inst("a", "web", a.ip, { draining: true }), inst("b", "web", b.ip)]));
  await waitFor(() => backendOf(h, id, port)?.a === "draining" && backendOf(h, id, port)?.b === "up", { what: "a to drain, b to join" });
  t.same(await namesOf(port, 5), ["web-2"], "new requests go to b only");
  a.release();
  const done = await inFlight;
  t.equal(done.status, 200, "the request in flight on the draining instance completed");
  t.equal(done.name, "web-1");

  // Gone from the directory (maint): established requests still finish.
  const second = request(port, { path: "/hold" });
  await waitFor(() => b.held() === 1, { what: "a request to wait on instance b" });
  h.lbs.setDirectory(directory([inst("a", "web", a.ip)]));
  await waitFor(() => JSON.stringify(backendOf(h, id, port)) === JSON.stringify({ a: "up" }), { what: "b to leave, a to be back" });
  t.same(await namesOf(port, 4), ["web-1"]);
  b.release();
  t.equal((await second).name, "web-2", "a request in flight survives its server leaving");
  t.same((await h.procs(id)).workers, worker, "still the same worker");
});

t.test("slots running out: one counted, logged reload; then every member serves", async (t) => {
  const h = harness(t);
  const web: Backend[] = await startService("web", "127.62.3", 10, 17);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "mem-slots";
  const entries = web.map((b, i) => inst(`w${String(i).padStart(2, "0")}`, "web", b.ip));
  h.lbs.setDirectory(directory(entries.slice(0, 8)));
  await h.lbs.apply([desiredLb(id, [rule(port, "web", web[0].port)])]);
  t.equal(h.lbs.status()[id].reloads, 0);
  const worker = (await h.procs(id)).workers[0];

  h.lbs.setDirectory(directory(entries.slice(0, 16)));
  await waitFor(() => Object.keys(backendOf(h, id, port) ?? {}).length === 16, { what: "16 members in 16 slots" });
  t.equal((await h.procs(id)).workers[0], worker, "16 members still fit: no reload");

  h.lbs.setDirectory(directory(entries));
  await waitFor(() => h.lbs.status()[id].reloads === 1 && Object.keys(backendOf(h, id, port) ?? {}).length === 17, { what: "a reload with more slots", timeoutMs: 20_000 });
  t.not((await h.procs(id)).workers[0], worker, "a new worker after the reload");
  t.ok(h.logLines.some((l) => l.includes("slots ran out")), "the reload is logged with its reason");
  t.equal((await namesOf(port, 34)).length, 17, "all 17 instances serve");
});
