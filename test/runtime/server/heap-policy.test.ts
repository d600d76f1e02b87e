import t from "tap";
import { applyHeapPolicy, DEFAULT_HEAP_GROWTH_PERCENT } from "../../../runtime/server/heap-policy";

t.test("DROVER_HEAP_GROWTH_PERCENT: a whole percent, refused otherwise with the variable's name", async (t) => {
  t.equal(applyHeapPolicy({}), DEFAULT_HEAP_GROWTH_PERCENT, "the default");
  t.equal(applyHeapPolicy({ DROVER_HEAP_GROWTH_PERCENT: "50" }), 50);
  t.equal(applyHeapPolicy({ DROVER_HEAP_GROWTH_PERCENT: "0" }), 0, "0 leaves V8's own growth");
  for (const bad of ["", "-5", "2.5", "30%", "5000"]) {
    t.throws(() => applyHeapPolicy({ DROVER_HEAP_GROWTH_PERCENT: bad }), /DROVER_HEAP_GROWTH_PERCENT: expected a whole number of percent from 0 to 1000/, JSON.stringify(bad));
  }
});
