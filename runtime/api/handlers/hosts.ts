/**
 * /v1/environments/:envId/hosts. Hosts are created by registration; here they are listed,
 * deactivated (no new instances; the reconciler evacuates), activated, and deleted once
 * they are deactivated or gone (`removing`; the reconciler finishes the removal).
 */
import { DroverError } from "../../protocol/errors";
import type { HostNetworkStatus, HostRecord } from "../../protocol/model";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { hostRemovable, presentHost } from "../present/host";
import type { Reply } from "../respond";
import { actionName, validateNoInput } from "../../protocol/validate/actions";
import { isSystemHostLabel, validateHostUpdate } from "../../protocol/validate/host";
import { updateHostInEnv } from "../write";
import { commonFields, listReply } from "./list";
import { findIn, visibleRecord } from "./records";

const filterSpec: FilterSpec<HostRecord> = {
  fields: {
    ...commonFields<HostRecord>(),
    deactivated: (h) => String(h.deactivated),
    underlayIp: (h) => h.underlayIp,
    agentVersion: (h) => h.agentVersion,
  },
  labels: (h) => h.labels,
};

export async function listHosts(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const hosts = await ctx.api.store.list(env.id, "host");
  const network = await networkStatuses(ctx, env.id, hosts);
  const names = Object.fromEntries(hosts.map((h) => [h.id, h.name]));
  return listReply(ctx, { resourceType: "host", records: hosts, spec: filterSpec, present: (h) => presentHost(h, ctx.urls, network[h.id], names) });
}

export async function getHost(ctx: AuthedContext): Promise<Reply> {
  const host = await visibleRecord(ctx, "host");
  const network = await networkStatuses(ctx, host.envId, [host]);
  const hosts = await ctx.api.store.list(host.envId, "host");
  return { status: 200, body: presentHost(host, ctx.urls, network[host.id], Object.fromEntries(hosts.map((h) => [h.id, h.name]))) };
}

/** Each host's overlay status from its agent's observed document. */
async function networkStatuses(ctx: AuthedContext, envId: string, hosts: HostRecord[]): Promise<Record<string, HostNetworkStatus | undefined>> {
  const observed = await Promise.all(hosts.map((h) => ctx.api.store.getObserved(envId, h.id)));
  return Object.fromEntries(hosts.map((h, i) => [h.id, observed[i]?.network]));
}

export async function hostAction(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const action = actionName(ctx.query, ["deactivate", "activate"]);
  validateNoInput(await readJsonBody(ctx.req));
  const host = await updateHostInEnv(ctx.api, env.id, (snap) => {
    const current = findIn(snap.hosts, "host", ctx.params.id);
    if (current.state === "removing" || current.state === "removed") {
      throw new DroverError("Conflict", `host ${current.id} is ${current.state}`);
    }
    const deactivated = action === "deactivate";
    if (current.deactivated === deactivated) return { result: current };
    const next: HostRecord = { ...current, deactivated };
    return { batch: { put: [{ kind: "host", record: next }] }, result: next };
  });
  return { status: 202, body: presentHost(host, ctx.urls) };
}

/**
 * PATCH: the host's labels, changed in place (Rancher, `docker node update --label-add` and
 * Nomad do the same): the scheduler uses them from the next pass on, and instances whose
 * hard host-label rules no longer hold move where another host can take them.
 */
export async function updateHost(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const { labels } = validateHostUpdate(await readJsonBody(ctx.req));
  const host = await updateHostInEnv(ctx.api, env.id, (snap) => {
    const current = findIn(snap.hosts, "host", ctx.params.id);
    if (current.state === "removing" || current.state === "removed") {
      throw new DroverError("Conflict", `host ${current.id} is ${current.state}`);
    }
    const system = Object.fromEntries(Object.entries(current.labels).filter(([k]) => isSystemHostLabel(k)));
    const next: HostRecord = { ...current, labels: { ...labels, ...system } };
    if (JSON.stringify(next.labels) === JSON.stringify(current.labels)) return { result: current };
    return { batch: { put: [{ kind: "host", record: next }] }, result: next };
  });
  return { status: 200, body: presentHost(host, ctx.urls) };
}

export async function deleteHost(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const host = await updateHostInEnv(ctx.api, env.id, (snap) => {
    const current = findIn(snap.hosts, "host", ctx.params.id);
    if (current.state === "removing" || current.state === "removed") return { result: current };
    if (!hostRemovable(current)) {
      throw new DroverError("Conflict", `host ${current.id} is active; deactivate it first (?action=deactivate)`);
    }
    const next: HostRecord = { ...current, state: "removing" };
    return { batch: { put: [{ kind: "host", record: next }] }, result: next };
  });
  return { status: 202, body: presentHost(host, ctx.urls) };
}
