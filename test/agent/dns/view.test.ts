import t, { Test } from "tap";
import type { DnsDirectory } from "../../../agent/dns/directory";
import { resolve, Resolution } from "../../../agent/dns/view";
import { ip, sampleDirectory } from "./support/directory";

// The view model is pure: each row is (who asks, what, which type) → what they get.
type Row = [what: string, source: string, qname: string, qtype: string, expected: Resolution];
const A = (...ips: string[]): Resolution => ({ kind: "answer", ips });
const NODATA: Resolution = { kind: "answer", ips: [] };
const NX: Resolution = { kind: "nxdomain" };
const FWD: Resolution = { kind: "forward" };

function table(t: Test, dir: DnsDirectory, rows: Row[]): void {
  for (const [what, source, qname, qtype, expected] of rows) {
    const got = resolve(dir, source, qname, qtype);
    const sorted = got.kind === "answer" ? { kind: "answer", ips: [...got.ips].sort() } : got;
    t.same(sorted, expected, `${what}: ${source} asks ${qname} ${qtype}`);
  }
}

const dir = sampleDirectory();

t.test("a container sees its own service by name, svc.stack and FQDN", async (t) => {
  table(t, dir, [
    ["own name", ip.fe1, "frontend", "A", A(ip.fe1, ip.fe2)],
    ["own svc.stack", ip.fe2, "frontend.web", "A", A(ip.fe1, ip.fe2)],
    ["own FQDN", ip.fe1, "frontend.web.drover.internal", "A", A(ip.fe1, ip.fe2)],
  ]);
});

t.test("link aliases resolve to the linked service, as do its svc.stack and FQDN", async (t) => {
  table(t, dir, [
    ["alias", ip.fe1, "api", "A", A(ip.api1)],
    ["alias to another name", ip.fe1, "cache", "A", A(ip.redis1)],
    ["linked svc.stack", ip.fe1, "api.backend", "A", A(ip.api1)],
    ["linked FQDN", ip.fe1, "api.backend.drover.internal", "A", A(ip.api1)],
    ["linked svc.stack by its real name", ip.fe1, "redis.backend", "A", A(ip.redis1)],
    ["a linked service of another stack: its bare name is not an alias", ip.fe1, "redis", "A", NX],
  ]);
});

t.test("a linked service of the same stack also answers to its bare name", async (t) => {
  const linked: DnsDirectory = {
    ...dir,
    services: dir.services.map((s) => (s.id === "sv-fe" ? { ...s, links: { ...s.links, w: "sv-worker" } } : s)),
    instances: dir.instances.map((i) => (i.id === "worker1" ? { ...i, running: true } : i)),
  };
  table(t, linked, [
    ["alias", ip.fe1, "w", "A", A(ip.worker1)],
    ["bare name, same stack", ip.fe1, "worker", "A", A(ip.worker1)],
    ["svc.stack", ip.fe1, "worker.web", "A", A(ip.worker1)],
    ["FQDN", ip.fe1, "worker.web.drover.internal", "A", A(ip.worker1)],
    ["the link goes one way", ip.worker1, "frontend", "A", NX],
  ]);
});

t.test("unlinked services are NXDOMAIN, never forwarded", async (t) => {
  table(t, dir, [
    ["unlinked, other stack", ip.fe1, "db", "A", NX],
    ["unlinked svc.stack", ip.fe1, "db.backend", "A", NX],
    ["unlinked FQDN", ip.fe1, "db.backend.drover.internal", "A", NX],
    ["same stack without stack-wide discovery", ip.fe1, "worker", "A", NX],
    ["same stack FQDN without stack-wide discovery", ip.fe1, "worker.web.drover.internal", "A", NX],
    ["invented name in drover's domain", ip.fe1, "nope.web.drover.internal", "A", NX],
    ["a stack name alone", ip.worker1, "backend", "A", NX],
  ]);
});

t.test("stack-wide discovery shows every service of the stack, and only of that stack", async (t) => {
  table(t, dir, [
    ["sibling by name", ip.api1, "db", "A", A(ip.db1)],
    ["sibling svc.stack", ip.api1, "redis.backend", "A", A(ip.redis1)],
    ["sibling FQDN", ip.redis1, "api.backend.drover.internal", "A", A(ip.api1)],
    ["own name", ip.db1, "db", "A", A(ip.db1)],
    ["other stack", ip.api1, "frontend", "A", NX],
    ["other stack FQDN", ip.api1, "frontend.web.drover.internal", "A", NX],
  ]);
});

t.test("only running instances, and only healthy ones where health is known", async (t) => {
  table(t, dir, [
    ["api: api1 healthy, api2 unhealthy, api3 stopped", ip.db1, "api", "A", A(ip.api1)],
    ["no health flag: running suffices", ip.api1, "db", "A", A(ip.db1)],
    ["a service with nothing running: NODATA, not NXDOMAIN", ip.worker1, "worker", "A", NODATA],
    ["a stopped container still has its view", ip.api3, "db", "A", A(ip.db1)],
    ["an unhealthy container still has its view", ip.api2, "redis", "A", A(ip.redis1)],
  ]);
});

t.test("names are case-insensitive and may end with a dot", async (t) => {
  table(t, dir, [
    ["upper case", ip.fe1, "API", "A", A(ip.api1)],
    ["mixed-case FQDN, absolute", ip.fe1, "Api.BackEnd.Drover.Internal.", "A", A(ip.api1)],
    ["qtype in lower case", ip.fe1, "api", "a", A(ip.api1)],
  ]);
});

t.test("an unknown source sees no drover name but can still forward", async (t) => {
  const stranger = "10.9.9.9";
  table(t, dir, [
    ["service name", stranger, "api", "A", NX],
    ["svc.stack", stranger, "api.backend", "A", NX],
    ["FQDN", stranger, "api.backend.drover.internal", "A", NX],
    ["the zone itself", stranger, "drover.internal", "A", NX],
    ["an outside name", stranger, "example.com", "A", FWD],
    ["an unclaimed single label", stranger, "printer", "A", FWD],
  ]);
});

t.test("other names go upstream; drover-shaped ones that do not exist are not claimed", async (t) => {
  table(t, dir, [
    ["outside name", ip.fe1, "example.com", "A", FWD],
    ["outside name AAAA", ip.fe1, "example.com", "AAAA", FWD],
    ["x.stack where x is no service of the stack (a stack named like a TLD must not hijack it)", ip.fe1, "nothing.backend", "A", FWD],
    ["root", ip.fe1, ".", "A", FWD],
  ]);
});

t.test("types other than A on a visible name are NODATA; parents of visible names exist", async (t) => {
  table(t, dir, [
    ["AAAA", ip.fe1, "api", "AAAA", NODATA],
    ["MX on an FQDN", ip.fe1, "api.backend.drover.internal", "MX", NODATA],
    ["ANY gets the A records", ip.fe1, "api", "ANY", A(ip.api1)],
    ["AAAA on an unlinked name stays NXDOMAIN", ip.fe1, "db", "AAAA", NX],
    ["stack node above a visible FQDN", ip.fe1, "backend.drover.internal", "A", NODATA],
    ["the zone apex", ip.fe1, "drover.internal", "A", NODATA],
    ["stack node above nothing visible", ip.fe1, "nowhere.drover.internal", "A", NX],
  ]);
});

t.test("a link alias wins over a stack-wide name it collides with", async (t) => {
  const d: DnsDirectory = {
    ...dir,
    services: dir.services.map((s) => (s.id === "sv-api" ? { ...s, links: { db: "sv-redis" } } : s)),
  };
  table(t, d, [
    ["alias db → redis beats stack-wide db", ip.api1, "db", "A", A(ip.redis1)],
    ["the real db is still reachable by svc.stack", ip.api1, "db.backend", "A", A(ip.db1)],
    ["a sibling without the link gets the real db", ip.redis1, "db", "A", A(ip.db1)],
  ]);
});

t.test("a link to a service that no longer exists resolves to nothing", async (t) => {
  const d: DnsDirectory = {
    ...dir,
    services: dir.services.map((s) => (s.id === "sv-fe" ? { ...s, links: { gone: "sv-deleted" } } : s)),
  };
  table(t, d, [["dangling alias", ip.fe1, "gone", "A", NX]]);
});

t.test("a new directory gives new answers; the old one keeps its own", async (t) => {
  const moved: DnsDirectory = {
    ...dir,
    instances: dir.instances.map((i) => (i.id === "api1" ? { ...i, ip: "10.42.1.99" } : i)),
  };
  t.same(resolve(dir, ip.fe1, "api", "A"), A(ip.api1));
  t.same(resolve(moved, ip.fe1, "api", "A"), A("10.42.1.99"));
  t.same(resolve(dir, ip.fe1, "api", "A"), A(ip.api1), "directories are values: the first is unchanged");
});

t.test("the answer lists are shared and frozen: callers must copy before shuffling", async (t) => {
  const got = resolve(dir, ip.fe1, "frontend", "A");
  t.equal(got.kind, "answer");
  if (got.kind === "answer") t.ok(Object.isFrozen(got.ips));
});
