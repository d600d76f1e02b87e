/**
 * HAProxy's life under the module: seamless reloads for rule changes (no failed request
 * under load, bursts coalesced), a config HAProxy refuses leaving the old one serving,
 * supervision after a SIGKILL, adoption by the next agent, teardown leaving nothing.
 */
import t from "tap";
import * as fs from "fs";
import * as net from "net";
import { lbPaths } from "../../../agent/lb/paths";
import { procStartTime, sendSignal } from "../../../agent/lb/proc-info";
import type { LoadBalancerInstanceStatus } from "../../../runtime/protocol/model";
import { freePort } from "../../support/free-port";
import { waitFor } from "../../support/wait";
import { startService } from "./support/backends";
import { selfSigned } from "./support/certs";
import { request } from "./support/clients";
import { desiredLb, directory, inst, rule } from "./support/fixtures";
import { haproxiesUnder, harness } from "./support/harness";

/** `parallel` clients sending requests, each on a new connection, until stopped. */
function clientLoop(port: number, parallel: number) {
  let stop = false;
  const result = { ok: 0, failed: [] as string[] };
  const loops = Array.from({ length: parallel }, async () => {
    while (!stop) {
      try {
        const a = await request(port, { path: "/loop" });
        if (a.status === 200) result.ok++;
        else result.failed.push(`HTTP ${a.status}`);
      } catch (err) {
        result.failed.push((err as Error).message);
      }
    }
  });
  return { result, stop: async () => { stop = true; await Promise.all(loops); return result; } };
}

async function namesOf(port: number, n: number): Promise<string[]> {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) out.add((await request(port)).name ?? "none");
  return [...out].sort();
}

t.test("rule changes reload seamlessly: no failed request under a client loop", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.63.1", 10, 2);
  const api = await startService("api", "127.63.2", 10, 1);
  t.teardown(() => Promise.all([...web, ...api].map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "life-reload";
  h.lbs.setDirectory(directory([...web.map((b, i) => inst(`w${i}`, "web", b.ip)), inst("a0", "api", api[0].ip)]));
  const base = [rule(port, "web", web[0].port)];
  await h.lbs.apply([desiredLb(id, base)]);
  const before = await h.procs(id);

  const loop = clientLoop(port, 4);
  await waitFor(() => loop.result.ok >= 20, { what: "the client loop to get going" });
  for (let i = 1; i <= 5; i++) {
    const okBefore = loop.result.ok;
    await h.lbs.apply([desiredLb(id, [...base, rule(port, "api", api[0].port, { path: `/api${i}` })], { timeouts: { client: 50_000 + i } })]);
    t.equal(h.lbs.status()[id].reloads, i, `reload ${i} counted`);
    await waitFor(() => loop.result.ok >= okBefore + 10, { what: `requests to flow after reload ${i}` });
  }
  const r = await loop.stop();
  t.same(r.failed, [], `no failed request among ${r.ok + r.failed.length}`);
  t.ok(r.ok > 50, `the loop really ran (${r.ok} requests)`);
  t.equal((await request(port, { path: "/api5/x" })).name, "api-1", "the new rule serves");
  t.equal((await request(port, { path: "/api1/x" })).name?.startsWith("web"), true, "the old one is gone");
  const after = await h.procs(id);
  t.equal(after.masterPid, before.masterPid, "the same master reloaded");
  t.not(after.workers[0], before.workers[0], "with a new worker");
  t.equal(h.lbs.status()[id].state, "running");
});

t.test("a burst of rule changes is one or two reloads, and the last one wins", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.63.3", 10, 1);
  const api = await startService("api", "127.63.4", 10, 1);
  t.teardown(() => Promise.all([...web, ...api].map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "life-burst";
  h.lbs.setDirectory(directory([inst("w", "web", web[0].ip), inst("a", "api", api[0].ip)]));
  const spec = (n: number) => desiredLb(id, [rule(port, "web", web[0].port), rule(port, "api", api[0].port, { path: `/v${n}` })]);
  await h.lbs.apply([spec(0)]);
  const changes: Promise<void>[] = [];
  for (let n = 1; n <= 8; n++) changes.push(h.lbs.apply([spec(n)]));
  await Promise.all(changes);
  const reloads = h.lbs.status()[id].reloads;
  t.ok(reloads >= 1 && reloads <= 2, `8 changes in a burst: ${reloads} reload(s)`);
  t.equal((await request(port, { path: "/v8" })).name, "api-1", "the last change serves");
  t.equal((await request(port, { path: "/v3" })).name, "web-1");
});

t.test("a config HAProxy refuses: the old one keeps serving, the status says why; a good one recovers", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.63.5", 10, 1);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const [port, tlsPort] = [await freePort("0.0.0.0"), await freePort("0.0.0.0")];
  const id = "life-refused";
  h.lbs.setDirectory(directory([inst("w", "web", web[0].ip)]));
  const good = desiredLb(id, [rule(port, "web", web[0].port)]);
  await h.lbs.apply([good]);
  const before = await h.procs(id);

  // A key that does not belong to the certificate: well-formed PEM, refused by haproxy -c.
  const a = selfSigned("a.example.com"), other = selfSigned("other.example.com");
  const bad = desiredLb(id, [rule(port, "web", web[0].port), rule(tlsPort, "web", web[0].port, { protocol: "https" })],
    { certificateIds: ["cbad"] }, { cbad: { cert: a.cert, key: other.key } });
  const events: LoadBalancerInstanceStatus[] = [];
  h.lbs.on("change", () => events.push(h.lbs.status()[id]));
  await h.lbs.apply([bad]);
  const st = h.lbs.status()[id];
  t.equal(st.state, "error");
  t.match(st.error, /^haproxy refused the config: .*certificate cbad/, "the error names the certificate by id, not by file");
  t.notOk(st.error!.includes("PRIVATE KEY"), "and shows no key");
  t.ok(events.some((e) => e?.state === "error"), "a change event announced it");
  t.equal((await request(port)).name, "web-1", "the old config keeps serving");
  await t.rejects(request(tlsPort, { tls: { servername: "a.example.com" }, timeoutMs: 2000 }), "the refused https port was never opened");
  const during = await h.procs(id);
  t.same(during.workers, before.workers, "no reload happened");
  t.equal(st.reloads, 0);
  t.notOk(fs.existsSync(lbPaths(h.stateDir, id).candidate), "the refused candidate is not left behind");
  t.notOk(fs.readFileSync(lbPaths(h.stateDir, id).config, "utf8").includes(String(tlsPort)), "haproxy.cfg is still the good config");

  h.lbs.setDirectory(directory([inst("w", "web", web[0].ip)])); // a membership pass does not retry the refused config
  await h.lbs.apply([bad]);
  t.equal(h.lbs.status()[id].reloads, 0);

  await h.lbs.apply([desiredLb(id, [rule(port, "web", web[0].port), rule(tlsPort, "web", web[0].port, { protocol: "https" })],
    { certificateIds: ["cgood"] }, { cgood: a })]);
  const fixed = h.lbs.status()[id];
  t.equal(fixed.state, "running");
  t.equal(fixed.error, undefined);
  t.equal(fixed.reloads, 1);
  t.equal((await request(tlsPort, { tls: { servername: "a.example.com" } })).name, "web-1");
});

t.test("HAProxy killed comes back by itself", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.63.6", 10, 2);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "life-kill";
  h.lbs.setDirectory(directory(web.map((b, i) => inst(`w${i}`, "web", b.ip, { draining: i === 1 }))));
  await h.lbs.apply([desiredLb(id, [rule(port, "web", web[0].port)])]);
  const first = h.lbs.masterPid(id)!;
  const states: string[] = [];
  h.lbs.on("change", () => states.push(`${h.lbs.status()[id].state} ${h.lbs.status()[id].error ?? ""}`));
  sendSignal(first, "SIGKILL");
  await waitFor(() => {
    const pid = h.lbs.masterPid(id);
    return pid !== undefined && pid !== first && h.lbs.status()[id].state === "running";
  }, { what: "a new HAProxy master", timeoutMs: 20_000 });
  t.ok(states.some((s) => /^error haproxy \(pid \d+\) killed by SIGKILL; starting again in \d+ ms/.test(s)), `the status said so: ${states.join(" | ")}`);
  await waitFor(async () => (await request(port)).status === 200, { what: "the new HAProxy to serve" });
  // A new process has nothing in flight on a draining instance, so it gives it no server at all.
  t.same(h.lbs.status()[id].backends[`be_${port}_default`], { w0: "up" }, "it started with the current membership");
  t.same(await namesOf(port, 4), ["web-1"]);
});

t.test("agent restart: stop() leaves HAProxy serving, a new module adopts it without a new process", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.63.7", 10, 3);
  const api = await startService("api", "127.63.8", 10, 1);
  t.teardown(() => Promise.all([...web, ...api].map((b) => b.close())));
  const port = await freePort("0.0.0.0");
  const id = "life-adopt";
  const dir = directory([inst("w0", "web", web[0].ip), inst("w1", "web", web[1].ip), inst("a0", "api", api[0].ip)]);
  const lb = desiredLb(id, [rule(port, "web", web[0].port)], { timeouts: { server: 40_000 } });
  h.lbs.setDirectory(dir);
  await h.lbs.apply([desiredLb(id, [rule(port, "web", web[0].port)])]);
  await h.lbs.apply([lb]);
  t.equal(h.lbs.status()[id].reloads, 1);
  const before = await h.procs(id);

  await h.lbs.stop();
  t.equal((await request(port)).status, 200, "serving with no agent");

  const next = h.another();
  next.setDirectory(dir);
  await next.apply([lb]);
  const adopted = await h.procs(id);
  t.equal(next.masterPid(id), before.masterPid, "the same master");
  t.same(adopted.workers, before.workers, "the same worker: no reload for an unchanged config");
  t.equal(next.status()[id].state, "running");
  t.equal(next.status()[id].reloads, 1, "the reload count carries on");
  t.same(next.status()[id].backends[`be_${port}_default`], { w0: "up", w1: "up" });
  t.ok(h.logLines.some((l) => l.includes("adopted running haproxy")));

  next.setDirectory(directory([inst("w0", "web", web[0].ip), inst("w2", "web", web[2].ip), inst("a0", "api", api[0].ip)]));
  await waitFor(() => JSON.stringify(next.status()[id].backends[`be_${port}_default`]) === JSON.stringify({ w0: "up", w2: "up" }), { what: "the adopting module to move members" });
  t.same((await h.procs(id)).workers, before.workers, "membership still without a reload");

  await next.apply([desiredLb(id, [rule(port, "web", web[0].port), rule(port, "api", api[0].port, { path: "/api" })])]);
  t.equal((await request(port, { path: "/api" })).name, "api-1", "and a rule change reloads the adopted HAProxy");
  t.equal(next.status()[id].reloads, 2);
  t.equal((await h.procs(id)).masterPid, before.masterPid);
});

t.test("instances no longer wanted are stopped, leftovers of a previous agent too; teardown leaves no process", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.63.9", 10, 1);
  t.teardown(() => Promise.all(web.map((b) => b.close())));
  const [p1, p2] = [await freePort("0.0.0.0"), await freePort("0.0.0.0")];
  h.lbs.setDirectory(directory([inst("w", "web", web[0].ip)]));
  await h.lbs.apply([desiredLb("life-one", [rule(p1, "web", web[0].port)]), desiredLb("life-two", [rule(p2, "web", web[0].port)])]);
  const one = await h.procs("life-one"), two = await h.procs("life-two");
  t.equal(h.lbs.status()["life-two"].state, "running");

  // An agent restart during which life-one went away: the new agent stops what the old one left.
  await h.lbs.stop();
  const next = h.another();
  next.setDirectory(directory([inst("w", "web", web[0].ip)]));
  await next.apply([desiredLb("life-two", [rule(p2, "web", web[0].port)])]);
  for (const pid of [one.masterPid, ...one.workers]) await waitFor(() => procStartTime(pid) === undefined, { what: `life-one's process ${pid} to stop` });
  t.notOk(fs.existsSync(lbPaths(h.stateDir, "life-one").dir), "its files are gone");
  t.same(Object.keys(next.status()), ["life-two"]);
  t.equal(next.masterPid("life-two"), two.masterPid, "life-two was adopted, not restarted");

  await next.teardown();
  for (const pid of [two.masterPid, ...two.workers]) t.equal(procStartTime(pid), undefined, `process ${pid} stopped`);
  t.same(haproxiesUnder(h.stateDir), [], "no HAProxy left from this state dir");
  t.notOk(fs.existsSync(lbPaths(h.stateDir, "life-two").dir), "state removed");
  t.same(next.status(), {});
});

t.test("a port another process holds: HAProxy's reason in the status, the old worker keeps serving, retries succeed once it is free", async (t) => {
  const h = harness(t);
  const web = await startService("web", "127.63.10", 10, 1);
  const [p1, p2, p3] = [await freePort("0.0.0.0"), await freePort("0.0.0.0"), await freePort("0.0.0.0")];
  const blockers = await Promise.all([p2, p3].map((p) => new Promise<net.Server>((resolve) => { const s = net.createServer().listen(p, "0.0.0.0", () => resolve(s)); })));
  const closeBlockers = () => Promise.all(blockers.map((b) => new Promise((r) => b.close(r))));
  t.teardown(async () => { await closeBlockers().catch(() => undefined); await Promise.all(web.map((b) => b.close())); });
  h.lbs.setDirectory(directory([inst("w", "web", web[0].ip)]));
  await h.lbs.apply([desiredLb("life-busy", [rule(p1, "web", web[0].port)])]);
  const before = await h.procs("life-busy");

  await h.lbs.apply([
    desiredLb("life-busy", [rule(p1, "web", web[0].port), rule(p2, "web", web[0].port)]),
    desiredLb("life-busy2", [rule(p3, "web", web[0].port)]),
  ]);
  const st = h.lbs.status();
  t.equal(st["life-busy"].state, "error");
  t.match(st["life-busy"].error, new RegExp(`^reload failed: .*cannot bind socket.*0\\.0\\.0\\.0:${p2}`));
  t.equal((await request(p1)).name, "web-1", "the old worker keeps serving");
  t.same((await h.procs("life-busy")).workers, before.workers);
  // Its back-off restarts keep failing meanwhile: between two tries it is "error", during one "starting".
  t.match(st["life-busy2"].state, /^(error|starting)$/);
  t.match(st["life-busy2"].error, new RegExp(`^haproxy did not start: .*cannot bind socket.*0\\.0\\.0\\.0:${p3}.*; starting again in \\d+ ms$`));

  await closeBlockers();
  await waitFor(() => h.lbs.status()["life-busy2"].state === "running", { what: "life-busy2 to start once its port is free", timeoutMs: 30_000 });
  t.equal((await request(p3)).name, "web-1");
  await waitFor(() => h.lbs.status()["life-busy"].state === "running", { what: "life-busy to retry its reload", timeoutMs: 30_000 });
  t.equal(h.lbs.status()["life-busy"].reloads, 1);
  t.equal((await request(p2)).name, "web-1");
});
