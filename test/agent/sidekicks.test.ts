/** Sidekicks on the agent (pure): planned after and beside their primary, in its namespace, replaced with it, removed with it. */
import t from "tap";
import type { DesiredInstance } from "../../runtime/protocol/model";
import { createOptions, instanceLabels } from "../../agent/docker/container-config";
import { ManagedContainer, planHost } from "../../agent/plan";
import { withSidekicks } from "../../agent/sidekicks";
import { spec } from "./support/docker-fixture";

const ctx = { envId: "e1", hostId: "h1" };
const doc = (instances: DesiredInstance[]) => ({ hostId: ctx.hostId, generation: 1, instances });
const primary = (image = "local/busybox"): DesiredInstance => ({
  id: "i1", name: "shop-web-2", serviceId: "svc", stackId: "stk", ip: "10.42.1.5",
  spec: { ...spec({ image }), volumes: ["data:/data"], sidekicks: [{ name: "log", image: "local/busybox", command: ["sleep", "1"], env: {}, labels: {}, volumesFromPrimary: true, capAdd: ["NET_ADMIN"] }] },
});
const running = (i: DesiredInstance): ManagedContainer => ({ id: `c-${i.id}`, name: i.name, state: "running", labels: instanceLabels(i, ctx) });

t.test("a primary with a sidekick: two containers, the sidekick in the primary's namespace", async (t) => {
  const p = primary();
  const actions = planHost(doc([p]), []);
  t.same(actions.map((a) => a.kind === "remove" ? a.name : `${a.kind} ${a.instance.name}`), ["create shop-web-2", "create shop-web-log-2"]);
  const [, sidekick] = withSidekicks([p]);
  t.equal(sidekick.id, "i1~log");
  const opts = createOptions(sidekick, ctx);
  t.equal(opts.HostConfig?.NetworkMode, "container:shop-web-2", "joins the primary's network namespace");
  t.same(opts.HostConfig?.VolumesFrom, ["shop-web-2"], "and mounts its volumes");
  t.same(opts.HostConfig?.CapAdd, ["NET_ADMIN"]);
  t.notOk(opts.NetworkingConfig, "no overlay address of its own");
  t.notOk(opts.HostConfig?.Dns, "no DNS setting of its own (the primary's resolv.conf is shared)");
  const main = createOptions(p, ctx);
  t.same(main.HostConfig?.Binds, ["data:/data"], "a named volume on the primary");
});

t.test("a new primary container means a new sidekick; no primary, no sidekick", async (t) => {
  const before = withSidekicks([primary()]);
  const containers = before.map(running);
  t.same(planHost(doc([primary()]), containers), [], "nothing to do when both run");
  const upgraded = planHost(doc([primary("local/busybox:v2")]), containers);
  t.same(upgraded.map((a) => `${a.kind} ${a.kind === "remove" ? a.name : a.instance.name}`), ["recreate shop-web-2", "recreate shop-web-log-2"], "replaced together");
  const gone = planHost(doc([]), containers);
  t.same(gone.map((a) => `${a.kind} ${a.kind === "remove" ? a.name : ""}`), ["remove shop-web-2", "remove shop-web-log-2"]);
});
