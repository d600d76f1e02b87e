import t from "tap";
import { checkStreamToken, mintStreamToken } from "../../../runtime/dashboard/stream-token";

const admin = "admin-key-0123456789abcdef";

t.test("a stream token names its environment and expires", async (t) => {
  const now = 1_800_000_000_000;
  const { token, expiresAt } = mintStreamToken(admin, "1aenv", now, 30_000);
  t.equal(expiresAt, new Date(now + 30_000).toISOString());
  t.same(checkStreamToken(admin, token, now + 29_999), { ok: true, grant: { envId: "1aenv", exp: now + 30_000 } });
  t.same(checkStreamToken(admin, token, now + 30_000), { ok: false, reason: "expired" });
  t.same(checkStreamToken("other-admin-key-0123456789", token, now), { ok: false, reason: "bad signature" });
  t.same(checkStreamToken(admin, "x.y", now), { ok: false, reason: "malformed" });
  t.not(mintStreamToken(admin, "1aenv", now).token, token, "every token differs");
  t.notMatch(token, admin, "the admin key is not in the token");
});
