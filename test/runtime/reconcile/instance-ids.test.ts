import t from "tap";
import { instanceIdSource } from "../../../runtime/reconcile/instance-ids";

t.test("instance ids: i + 48 random bits in hex, distinct across draws and sources", async (t) => {
  const a = instanceIdSource(), b = instanceIdSource();
  const seen = new Set<string>();
  // More than one buffer's worth from each source, so refills are crossed.
  for (let k = 0; k < 3000; k++) for (const id of [a(), b()]) {
    if (!/^i[0-9a-f]{12}$/.test(id)) t.fail(`malformed id ${id}`);
    seen.add(id);
  }
  t.equal(seen.size, 6000, "no id repeats (two sources do not share a stream)");
  // Every hex digit position varies: the bits come from the random buffer, not a counter.
  const digits = Array.from({ length: 12 }, (_, p) => new Set([...seen].map((id) => id[1 + p])).size);
  t.ok(digits.every((n) => n === 16), `each of the 12 digits takes all 16 values (${digits.join(",")})`);
});
