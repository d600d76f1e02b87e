import t from "tap";
import { desiredJson, jsonWithout } from "../../../runtime/store/record-json";
import { knowJsonText } from "../../../runtime/store/json-text";

t.test("jsonWithout leaves the one field out and keeps the rest in order", async (t) => {
  const record = { id: "i1", envId: "e1", spec: { image: "x", env: { rev: "kept: nested" } }, rev: 7, createdAt: "2026-01-01T00:00:00.000Z" };
  t.equal(jsonWithout(record, "rev"), '{"id":"i1","envId":"e1","spec":{"image":"x","env":{"rev":"kept: nested"}},"createdAt":"2026-01-01T00:00:00.000Z"}');
  t.equal(record.rev, 7, "the record itself is untouched");
  t.equal(jsonWithout({ a: 1 }, "rev"), '{"a":1}', "a record without the field: its plain JSON");
  t.equal(jsonWithout({ generation: 3, hostId: "h1" }, "generation"), '{"hostId":"h1"}');
});

t.test("a spec's known text is used as is, and the text is what JSON.stringify gives", async (t) => {
  const spec = { image: "x", labels: { a: "b" } };
  knowJsonText(spec, JSON.stringify(spec));
  const record = { id: "i1", envId: "e1", spec, ip: "10.42.1.2", rev: 3 };
  t.equal(jsonWithout(record, "rev"), '{"id":"i1","envId":"e1","spec":{"image":"x","labels":{"a":"b"}},"ip":"10.42.1.2"}');
  // The text known is taken, not made again: a (wrong) known text shows through.
  const other = { image: "y" };
  knowJsonText(other, '{"image":"known"}');
  t.equal(jsonWithout({ id: "i2", spec: other, rev: 1 }, "rev"), '{"id":"i2","spec":{"image":"known"}}');
  // A value holding the placeholder's words (with a NUL): found twice, so stringified in full.
  const clash = { id: "i3", spec, note: { spec: "\u0000drover-known-json\u0000" }, rev: 1 };
  t.equal(jsonWithout(clash, "rev"), JSON.stringify({ ...clash, rev: undefined }));
});

t.test("desiredJson: the document's JSON without generation, instances with known and unknown spec texts", async (t) => {
  const known = { image: "x", env: { K: "v\"q" } };
  knowJsonText(known, JSON.stringify(known));
  const doc = {
    hostId: "h1", generation: 9,
    instances: [{ id: "i1", name: "app-web-1", serviceId: "web", stackId: "s1", spec: known, ip: "10.42.1.2" }, { id: "i2", name: "app-web-2", serviceId: "web", stackId: "s1", spec: { image: "unknown" } }],
    network: { subnet: "10.42.1.0/24" },
  };
  t.equal(desiredJson(doc), JSON.stringify({ ...doc, generation: undefined }));
  t.equal(desiredJson({ hostId: "h2", generation: 1, instances: [] }), '{"hostId":"h2","instances":[]}');
});
