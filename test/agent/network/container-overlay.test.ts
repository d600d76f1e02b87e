import t from "tap";
import { createOptions, instanceHash } from "../../../agent/docker/container-config";
import { planHost } from "../../../agent/plan";
import { specHash } from "../../../agent/spec-hash";
import type { DesiredInstance } from "../../../runtime/protocol/model";
import { instanceLabels } from "../../../agent/docker/container-config";
import { spec } from "../support/docker-fixture";

// Containers with an overlay address: attached to the drover network at that address, DNS
// from 169.254.169.250, and the address in the spec hash.
const ctx = { envId: "e1", hostId: "h1" };
const base: DesiredInstance = { id: "i1", name: "app-web-1", serviceId: "s", stackId: "st", spec: spec() };

t.test("an instance with an ip joins the drover network at that address", async (t) => {
  const opts = createOptions({ ...base, ip: "10.42.1.7" }, ctx);
  t.equal(opts.HostConfig?.NetworkMode, "drover");
  t.same(opts.HostConfig?.Dns, ["169.254.169.250"]);
  t.same(opts.NetworkingConfig, { EndpointsConfig: { drover: { IPAMConfig: { IPv4Address: "10.42.1.7" } } } });
});

t.test("an instance without an ip keeps today's options and hash", async (t) => {
  const opts = createOptions(base, ctx);
  t.equal(opts.HostConfig?.NetworkMode, undefined);
  t.equal(opts.HostConfig?.Dns, undefined);
  t.equal(opts.NetworkingConfig, undefined);
  t.equal(instanceHash(base), specHash(base.spec), "existing containers are not recreated by the upgrade");
});

t.test("a changed ip recreates the container", async (t) => {
  const a = { ...base, ip: "10.42.1.7" };
  const b = { ...base, ip: "10.42.1.8" };
  t.not(instanceHash(a), instanceHash(b));
  t.not(instanceHash(a), instanceHash(base));
  const running = { id: "c1", name: base.name, state: "running", labels: instanceLabels(a, ctx) };
  t.same(planHost({ hostId: "h1", generation: 2, instances: [a] }, [running]), [], "same ip: nothing to do");
  t.same(planHost({ hostId: "h1", generation: 3, instances: [b] }, [running]).map((x) => [x.kind, "reason" in x ? x.reason : ""]), [["recreate", "spec-changed"]]);
});

t.test("the overlay network matches only its own subnet, gateway and bridge name", async (t) => {
  const { networkCreateOptions, networkMatches } = await import("../../../agent/network/bridge");
  const spec = { subnet: "10.42.1.0/24", gateway: "10.42.1.1" };
  const opts = networkCreateOptions(spec);
  t.equal(opts.Name, "drover");
  t.equal(opts.Options?.["com.docker.network.bridge.name"], "drover0");
  const info = { Driver: "bridge", IPAM: { Config: [{ Subnet: "10.42.1.0/24", Gateway: "10.42.1.1" }] }, Options: { "com.docker.network.bridge.name": "drover0" } } as any;
  t.ok(networkMatches(info, spec));
  t.notOk(networkMatches(info, { subnet: "10.42.2.0/24", gateway: "10.42.2.1" }), "another subnet: recreate");
  t.notOk(networkMatches({ ...info, Options: {} }, spec), "another bridge device: recreate");
});
