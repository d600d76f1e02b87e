import t from "tap";
import { forEachLimited } from "../../agent/limited";

t.test("forEachLimited runs every item, never more than the limit at once", async (t) => {
  let running = 0;
  let peak = 0;
  const done: number[] = [];
  await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setImmediate(resolve));
    done.push(n);
    running--;
  });
  t.same(done.sort(), [1, 2, 3, 4, 5, 6, 7]);
  t.equal(peak, 3);
  await forEachLimited([], 3, async () => { t.fail("no item, no call"); });
});
