import t from "tap";
import { desiredDigest, planDesiredDocs } from "../../../runtime/reconcile/desired-docs";
import { host, instance } from "./fixtures";

t.test("the digest a pass takes from the records is the digest of the document it writes", async (t) => {
  const hosts = [host("h1"), host("h2")];
  const instances = [
    instance("i3", "web", "h1", 3, { ip: "10.42.1.4" }), instance("i1", "web", "h1", 1, { ip: "10.42.1.2" }),
    instance("i2", "web", "h2", 2), // no address: no ip in the document
  ];
  const network = { subnet: "10.42.1.0/24", gateway: "10.42.1.1", peers: [] } as never;
  const checks = new Map([["h1", [{ instanceId: "i3", ip: "10.42.1.4", check: { port: 80 } }, { instanceId: "i1", ip: "10.42.1.2", check: { port: 80 } }] as never]]);
  const first = planDesiredDocs({ hosts, instances, stored: {}, networks: new Map([["h1", network]]), checks });
  t.equal(first.changed.length, 2, "nothing stored: both written");
  for (const doc of first.changed) t.equal(first.digests.get(doc.hostId), desiredDigest(doc), `${doc.hostId}: same digest`);
  const h1 = first.changed.find((d) => d.hostId === "h1")!;
  t.same(h1.instances.map((i) => i.id), ["i1", "i3"], "instances by id");
  t.same(h1.checks!.map((c) => c.instanceId), ["i1", "i3"], "checks by instance id");
  t.notOk("ip" in first.changed.find((d) => d.hostId === "h2")!.instances[0], "no address, no ip field");

  // The same records with the digests known: nothing to write; one instance moved: that host only.
  const again = planDesiredDocs({ hosts, instances, stored: {}, networks: new Map([["h1", network]]), checks, storedDigests: first.digests });
  t.same(again.changed, [], "digests known and unchanged: no document");
  t.same(again.digests, first.digests);
  const moved = instances.map((i) => (i.id === "i2" ? { ...i, ip: "10.42.2.9" } : i));
  const third = planDesiredDocs({ hosts, instances: moved, stored: {}, networks: new Map([["h1", network]]), checks, storedDigests: first.digests });
  t.same(third.changed.map((d) => d.hostId), ["h2"]);
  t.equal(third.changed[0].instances[0].ip, "10.42.2.9");
});
