import t from "tap";
import { jsonWithout } from "../../../runtime/store/record-json";

t.test("jsonWithout leaves the one field out and keeps the rest in order", async (t) => {
  const record = { id: "i1", envId: "e1", spec: { image: "x", env: { rev: "kept: nested" } }, rev: 7, createdAt: "2026-01-01T00:00:00.000Z" };
  t.equal(jsonWithout(record, "rev"), '{"id":"i1","envId":"e1","spec":{"image":"x","env":{"rev":"kept: nested"}},"createdAt":"2026-01-01T00:00:00.000Z"}');
  t.equal(record.rev, 7, "the record itself is untouched");
  t.equal(jsonWithout({ a: 1 }, "rev"), '{"a":1}', "a record without the field: its plain JSON");
  t.equal(jsonWithout({ generation: 3, hostId: "h1" }, "generation"), '{"hostId":"h1"}');
});
