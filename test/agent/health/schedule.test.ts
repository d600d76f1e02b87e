import t from "tap";
import { DueHeap, type DueItem } from "../../../agent/health/due-heap";
import { phaseOffset } from "../../../agent/health/phase";
import { httpStatusReason, socketErrorReason, timeoutReason } from "../../../agent/health/fail-reason";
import { prng } from "../../support/prng";

interface Item extends DueItem { id: number }
const item = (id: number, due: number): Item => ({ id, due, heapIndex: -1 });

t.test("the heap gives items back by due time, with removals anywhere", async (t) => {
  const rand = prng(42);
  const heap = new DueHeap<Item>();
  const live = new Set<Item>();
  for (let step = 0; step < 5000; step++) {
    const r = rand();
    if (r < 0.5 || live.size === 0) {
      const it = item(step, Math.floor(rand() * 1000));
      heap.push(it);
      live.add(it);
    } else if (r < 0.75) {
      const popped = heap.pop()!;
      const min = Math.min(...[...live].map((x) => x.due));
      if (popped.due !== min) t.fail(`popped ${popped.due}, the minimum is ${min}`);
      live.delete(popped);
      if (popped.heapIndex !== -1) t.fail("a popped item keeps no index");
    } else {
      const victim = [...live][Math.floor(rand() * live.size)];
      heap.remove(victim);
      live.delete(victim);
      if (victim.heapIndex !== -1) t.fail("a removed item keeps no index");
    }
    if (heap.size !== live.size) t.fail(`size ${heap.size}, want ${live.size}`);
  }
  const rest: number[] = [];
  for (let x = heap.pop(); x; x = heap.pop()) rest.push(x.due);
  t.same(rest, [...rest].sort((a, b) => a - b), "drains in order");
  t.equal(heap.size, 0);
});

t.test("removing an item not queued is a no-op; pushing one twice is refused", async (t) => {
  const heap = new DueHeap<Item>();
  const a = item(1, 5);
  heap.remove(a);
  heap.push(a);
  t.throws(() => heap.push(a), /already queued/);
  heap.remove(a);
  heap.remove(a);
  t.equal(heap.size, 0);
  t.equal(heap.peek(), undefined);
});

t.test("1,000 targets' first checks are spread over the interval, the same each time", async (t) => {
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 1000; i++) {
    const off = phaseOffset(`inst-${i}`, 1000);
    if (off < 0 || off >= 1000) t.fail(`offset ${off} outside the interval`);
    buckets[Math.floor(off / 100)]++;
  }
  t.ok(Math.max(...buckets) <= 140 && Math.min(...buckets) >= 60, `100 ms buckets hold 60-140 each: ${buckets.join(" ")}`);
  t.equal(phaseOffset("inst-7", 1000), phaseOffset("inst-7", 1000), "deterministic");
});

t.test("fail reasons are short and stable", async (t) => {
  const err = (code: string) => Object.assign(new Error(`connect ${code} 10.42.1.5:80`), { code });
  t.equal(socketErrorReason(err("ECONNREFUSED")), "connection refused");
  t.equal(socketErrorReason(err("ECONNRESET")), "connection reset");
  t.equal(socketErrorReason(err("EHOSTUNREACH")), "no route to host");
  t.equal(socketErrorReason(err("ENETUNREACH")), "network unreachable");
  t.equal(socketErrorReason(err("EWHATEVER")), "socket error EWHATEVER", "unknown codes keep the code, never the address");
  t.equal(socketErrorReason(new Error("x")), "socket error");
  t.equal(timeoutReason(2000), "timeout after 2000 ms");
  t.equal(timeoutReason(2000), timeoutReason(2000), "one string per timeout value");
  t.equal(httpStatusReason(503), "HTTP 503");
});
