import t from "tap";
import { resolveServerConfig } from "../../../runtime/server/config";

// --lease-ttl: the reconciler lease's TTL, raised where passes over very large environments
// would otherwise outlast it (bench scale).
t.test("the lease TTL: 5 s by default, from the flag or DROVER_LEASE_TTL, at least 1 s", async (t) => {
  t.equal(resolveServerConfig({}, {}).leaseTtlMs, 5000, "default");
  t.equal(resolveServerConfig({ "lease-ttl": "30s" }, {}).leaseTtlMs, 30_000, "flag");
  t.equal(resolveServerConfig({}, { DROVER_LEASE_TTL: "1500ms" }).leaseTtlMs, 1500, "environment");
  t.equal(resolveServerConfig({ "lease-ttl": "2m" }, { DROVER_LEASE_TTL: "10s" }).leaseTtlMs, 120_000, "the flag wins");
  t.throws(() => resolveServerConfig({ "lease-ttl": "500ms" }, {}), /--lease-ttl: expected at least 1s .* got "500ms"/);
  t.throws(() => resolveServerConfig({ "lease-ttl": "soon" }, {}), /--lease-ttl: expected a duration like 30s/);
});
