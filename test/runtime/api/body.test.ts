/** Request body limits: over 1 MiB is 413 BodyTooLarge, with nothing written. */
import t from "tap";
import { MAX_BODY_BYTES } from "../../../runtime/api";
import { apiFixture, seedEnv } from "./api-fixture";

t.test("a 1.5 MiB body → 413, Redis unchanged", async (t) => {
  const f = await apiFixture(t);
  const { env, stack } = await seedEnv(f);
  const big = JSON.stringify({ stackId: stack.id, name: "big", image: "busybox", env: { BLOB: "x".repeat(1.5 * 1024 * 1024) } });
  t.ok(big.length > 1.5 * 1024 * 1024);
  await f.unchanged([env.id], "oversized bodies", async () => {
    const r = await f.call("POST", `/v1/environments/${env.id}/services`, { key: env.apiKey, raw: big });
    t.equal(r.status, 413);
    t.equal(r.body.code, "BodyTooLarge");
    // Without a Content-Length the limit applies while reading.
    const chunked = await f.call("POST", `/v1/environments/${env.id}/services`, {
      key: env.apiKey, raw: big, headers: { "transfer-encoding": "chunked" },
    });
    t.equal(chunked.status, 413, "chunked too");
  });
  // 40 variables of 25,000 characters: about 1,000,000 bytes, under the limit of 1,048,576.
  const blobs = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`BLOB_${i}`, "x".repeat(25_000)]));
  const fits = JSON.stringify({ stackId: stack.id, name: "fits", image: "busybox", env: blobs });
  t.ok(fits.length < MAX_BODY_BYTES && fits.length > 0.95 * MAX_BODY_BYTES);
  const ok = await f.call("POST", `/v1/environments/${env.id}/services`, { key: env.apiKey, raw: fits });
  t.equal(ok.status, 201, "just under 1 MiB is fine");
});

t.test("unexpected errors are 500 Internal without a stack trace", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  // Break the store underneath the API: the next read fails in a way no handler expects.
  const original = f.store.list.bind(f.store);
  f.store.list = async () => { throw new TypeError("boom at store.list"); };
  t.teardown(() => { f.store.list = original; });
  const r = await f.call("GET", `/v1/environments/${env.id}/stacks`, { key: env.apiKey });
  t.equal(r.status, 500);
  t.same(r.body, { type: "error", status: 500, code: "Internal", message: "internal error; see the server log", retryable: false });
  t.notOk(r.text.includes("boom"), "no detail of the failure leaks");
});
