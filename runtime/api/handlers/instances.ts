/** /v1/environments/:envId/instances: read-only; the reconciler and agents write them. */
import type { InstanceRecord } from "../../protocol/model";
import { visibleEnv } from "../auth";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { presentInstance } from "../present/instance";
import type { Reply } from "../respond";
import { commonFields, listReply } from "./list";
import { visibleRecord } from "./records";

const filterSpec: FilterSpec<InstanceRecord> = {
  fields: {
    ...commonFields<InstanceRecord>(),
    serviceId: (i) => i.serviceId,
    stackId: (i) => i.stackId,
    hostId: (i) => i.hostId,
    ip: (i) => i.ip,
    specVersion: (i) => String(i.specVersion),
    kind: (i) => i.kind ?? "container",
    healthState: (i) => i.healthState,
  },
  labels: (i) => i.spec.labels,
};

export async function listInstances(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  return listReply(ctx, {
    resourceType: "instance",
    records: await ctx.api.store.list(env.id, "instance"),
    spec: filterSpec,
    present: (i) => presentInstance(i, ctx.urls),
  });
}

export async function getInstance(ctx: AuthedContext): Promise<Reply> {
  return { status: 200, body: presentInstance(await visibleRecord(ctx, "instance"), ctx.urls) };
}
