import t from "tap";
import { parseEnvDnsDocument } from "../../../agent/dns/document";
import { sampleDirectory } from "./support/directory";

// The document an agent reads from Redis: accepted as the server writes it, refused whole with
// the offending field named otherwise.
const good = () => JSON.parse(JSON.stringify({ version: 7, directory: sampleDirectory() }));

t.test("a document as the server writes it round-trips", async (t) => {
  const doc = good();
  t.same(parseEnvDnsDocument(JSON.stringify(doc)), doc);
});

t.test("bad documents name the field", async (t) => {
  const cases: [string, (d: any) => unknown, RegExp][] = [
    ["version missing", (d) => { delete d.version; }, /^version$/],
    ["version negative", (d) => { d.version = -1; }, /^version$/],
    ["directory not an object", (d) => { d.directory = []; }, /^directory$/],
    ["instances not an array", (d) => { d.directory.instances = {}; }, /^directory\.instances$/],
    ["instance ip not IPv4", (d) => { d.directory.instances[2].ip = "fe80::1"; }, /^directory\.instances\[2\]\.ip$/],
    ["instance running not boolean", (d) => { d.directory.instances[0].running = "yes"; }, /^directory\.instances\[0\]\.running$/],
    ["instance healthy not boolean", (d) => { d.directory.instances[0].healthy = 1; }, /^directory\.instances\[0\]\.healthy$/],
    ["service name empty", (d) => { d.directory.services[1].name = ""; }, /^directory\.services\[1\]\.name$/],
    ["link target not a string", (d) => { d.directory.services[0].links.api = 5; }, /^directory\.services\[0\]\.links\.api$/],
    ["stack flag missing", (d) => { delete d.directory.stacks[1].stackWideDiscovery; }, /^directory\.stacks\[1\]\.stackWideDiscovery$/],
  ];
  for (const [what, spoil, field] of cases) {
    const d = good();
    spoil(d);
    let err: any;
    try { parseEnvDnsDocument(JSON.stringify(d)); } catch (e) { err = e; }
    t.equal(err?.code, "InvalidField", `${what}: InvalidField`);
    t.match(err?.field, field, `${what}: names ${err?.field}`);
  }
  t.throws(() => parseEnvDnsDocument("{"), { code: "InvalidJson" }, "not JSON");
  t.throws(() => parseEnvDnsDocument("null"), { code: "InvalidField", field: "dns document" }, "JSON null");
});
