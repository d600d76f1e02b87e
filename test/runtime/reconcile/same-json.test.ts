import t from "tap";
import { canonical } from "../../../runtime/reconcile/desired-docs";
import { sameJson } from "../../../runtime/reconcile/same-json";

// sameJson must agree with comparing canonical JSON strings, which it replaced in passes.
const cases: Array<[unknown, unknown]> = [
  [{ a: 1, b: { c: [1, 2, { d: "x" }] } }, { b: { c: [1, 2, { d: "x" }] }, a: 1 }],
  [{ a: 1, b: undefined }, { a: 1 }],
  [{ a: 1 }, { a: 1, b: undefined }],
  [{ a: 1 }, { a: 1, b: null }],
  [{ a: [1, 2] }, { a: [2, 1] }],
  [{ a: [1, undefined] }, { a: [1, null] }],
  [{ a: "1" }, { a: 1 }],
  [[], {}],
  [{}, []],
  [null, {}],
  [null, null],
  [{ a: { b: {} } }, { a: { b: { c: undefined } } }],
  [{ a: { b: {} } }, { a: { b: { c: 0 } } }],
  [{ x: true, y: false }, { y: false, x: true }],
  [{ x: true }, { x: false }],
];

t.test("agrees with canonical JSON on every case", async (t) => {
  for (const [a, b] of cases) {
    const want = canonical(a) === canonical(b);
    t.equal(sameJson(a, b), want, `${JSON.stringify(a) ?? "undefined"} vs ${JSON.stringify(b) ?? "undefined"}: ${want ? "same" : "different"}`);
    t.equal(sameJson(b, a), want, "either way round");
  }
});

t.test("agrees on random documents with shuffled keys and one change", async (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const make = (depth: number): unknown => {
    const r = rnd();
    if (depth === 0 || r < 0.3) return [1, "s", true, null][Math.floor(rnd() * 4)];
    if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => make(depth - 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, k) => [`k${k}`, make(depth - 1)]));
  };
  const shuffled = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(shuffled);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, shuffled(x)]));
    return v;
  };
  let differing = 0;
  for (let n = 0; n < 300; n++) {
    const a = make(4);
    const b = n % 2 ? shuffled(a) : shuffled(make(4));
    const want = canonical(a) === canonical(b);
    if (!want) differing++;
    if (sameJson(a, b) !== want) t.fail(`disagrees on ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  t.ok(differing > 50, `both outcomes exercised (${differing} differing pairs of 300)`);
});

// canonical used to be JSON.stringify with a replacer; the one-walk version must give the same text.
t.test("canonical gives exactly the text of the replacer it replaced", async (t) => {
  const before = (value: unknown) => JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v);
  const values: unknown[] = [
    null, 0, -0, 1.5e300, NaN, Infinity, "", "é\u2028\"\\\n", true, false, [], {}, [undefined, () => 1, null],
    { b: 1, a: { d: [1, { z: undefined, y: "x" }], c: null }, f: () => 1, u: undefined },
    { date: new Date(0), nested: { toJSON: () => ({ b: 2, a: 1 }) } },
    { 10: "x", 2: "y", a: "z", B: "w", _: 1, "01": 0, 4294967295: 1 },
    new String("ab"), new Number(3),
    { hostId: "h1", appliedGeneration: 3, instances: { i2: { state: "running", restartCount: 0, containerId: "c" }, i1: { state: "exited", exitCode: 1, restartCount: 2 } } },
  ];
  values.forEach((v, k) => t.equal(canonical(v), before(v), `value ${k}`));
  t.equal(canonical(undefined), undefined);
  t.throws(() => canonical({ a: 1n }), TypeError, "BigInt throws, as JSON.stringify does");
});
