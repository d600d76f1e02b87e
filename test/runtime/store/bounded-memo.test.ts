import t from "tap";
import { BoundedMemo } from "../../../runtime/store/bounded-memo";

t.test("a value is made once per key, and the memo never holds more than its limit", async (t) => {
  const memo = new BoundedMemo<string, number>(3);
  let made = 0;
  const make = (v: number) => () => { made++; return v; };
  t.equal(memo.get("a", make(1)), 1);
  t.equal(memo.get("a", make(9)), 1, "the first value is kept");
  t.equal(made, 1, "made once");
  memo.get("b", make(2));
  memo.get("c", make(3));
  t.equal(memo.size, 3);
  t.equal(memo.get("d", make(4)), 4, "a fourth key is made");
  t.ok(memo.size <= 3, `at most three entries (${memo.size})`);
  t.equal(memo.get("d", make(0)), 4, "and kept");
});
