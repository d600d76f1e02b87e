import t from "tap";
import { isSealed, newDataKey, seal, sealedKeyId, unseal } from "../../../runtime/protocol/seal";
import { SecretMask } from "../../../agent/secret-mask";

t.test("sealed values open with their key in their context only", async (t) => {
  const k = newDataKey("e1");
  const sealed = seal(k, "service:s1:secret:DB", "hunter2-very-secret");
  t.ok(isSealed(sealed));
  t.equal(sealedKeyId(sealed), "e1");
  t.notOk(sealed.includes("hunter2"), "nothing of the plaintext shows");
  t.equal(unseal(k, "service:s1:secret:DB", sealed), "hunter2-very-secret");
  t.throws(() => unseal(k, "service:s2:secret:DB", sealed), { message: /does not open/ }, "another context: refused");
  t.throws(() => unseal({ ...newDataKey("e1") }, "service:s1:secret:DB", sealed), { message: /does not open/ }, "another key with the same id: refused");
  t.throws(() => unseal(newDataKey("e2"), "service:s1:secret:DB", sealed), { message: /sealed with key e1, not e2/ });
  const raw = Buffer.from(sealed.split(".")[2], "base64url");
  raw[14] ^= 1;
  t.throws(() => unseal(k, "service:s1:secret:DB", `drs1.e1.${raw.toString("base64url")}`), { message: /altered/ }, "a flipped bit: refused");
});

t.test("sealing is deterministic per key, context and plaintext", async (t) => {
  const k = newDataKey("e1");
  t.equal(seal(k, "c", "v"), seal(k, "c", "v"), "same in, same out: an unchanged secret leaves a record unchanged");
  t.not(seal(k, "c", "v"), seal(k, "c", "w"));
  t.not(seal(k, "c", "v"), seal(k, "d", "v"), "the context changes the IV too");
});

t.test("the agent's mask hides opened values, raw and JSON-escaped", async (t) => {
  const mask = new SecretMask();
  mask.add('pa"ss\nword');
  mask.add("abc"); // too short to mask
  t.equal(mask.apply(JSON.stringify({ msg: 'x pa"ss\nword y' })), '{"msg":"x *** y"}');
  t.equal(mask.apply('raw pa"ss\nword'), "raw ***");
  t.equal(mask.apply("abc"), "abc");
});

t.test("the agent's logger applies its mask to every line", async (t) => {
  const { createLogger } = await import("../../../agent/log");
  const mask = new SecretMask();
  const lines: string[] = [];
  const log = createLogger((l) => lines.push(l), "debug", {}, mask).child({ component: "x" });
  mask.add("opened-secret-value");
  log.error("docker said: opened-secret-value is bad", { reason: "env opened-secret-value" });
  t.equal(lines.length, 1);
  t.notOk(lines[0].includes("opened-secret-value"), lines[0]);
  t.match(JSON.parse(lines[0]), { msg: "docker said: *** is bad", reason: "env ***", component: "x" });
});
