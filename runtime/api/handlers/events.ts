/**
 * GET /v1/environments/:envId/events: the environment's change stream as server-sent
 * events, one per store event, id = the stream entry id. A client resumes with
 * `Last-Event-ID`; without it the stream starts at the newest entry (only new changes).
 * Subscribers of one environment share one Redis reader (runtime/api/event-hub.ts); a key
 * holding too many streams already gets 429.
 */
import { DroverError } from "../../protocol/errors";
import type { StoreEvent } from "../../store/store";
import { visibleEnv } from "../auth";
import type { AuthedContext } from "../context";
import { presentCertificate } from "../present/certificate";
import { presentEnvironment } from "../present/environment";
import { presentHost } from "../present/host";
import { presentInstance } from "../present/instance";
import { presentLoadBalancer } from "../present/load-balancer";
import { presentService } from "../present/service";
import { presentStack } from "../present/stack";
import { sseComment, sseEvent, startSse, writeSse } from "../sse";

const STREAM_ID = /^\d+-\d+$/;

export async function streamEvents(ctx: AuthedContext): Promise<undefined> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const resumeFrom = lastEventId(ctx);
  const { api, res } = ctx;
  // Positioned before the headers go out, so a change made once the client sees 200 is never missed.
  const sub = await api.events.subscribe(env.id, ctx.principal.keyId, resumeFrom);
  res.on("close", () => sub.close());
  startSse(res);
  try {
    for (;;) {
      const delivery = await sub.next();
      if (delivery === undefined || res.destroyed) break;
      if ("keepAlive" in delivery) {
        await writeSse(res, sseComment("keep-alive"));
        continue;
      }
      for (const event of delivery.events) {
        await writeSse(res, sseEvent(event.id, eventName(event), await eventData(ctx, env.id, event)));
      }
    }
  } catch (err) {
    if (!res.destroyed) api.log("api: an event stream ended", err);
  } finally {
    sub.close();
  }
  if (!res.writableEnded) res.end();
  return undefined;
}

function lastEventId(ctx: AuthedContext): string | undefined {
  const header = ctx.req.headers["last-event-id"];
  const value = (Array.isArray(header) ? header[0] : header) ?? ctx.query.get("lastEventId") ?? undefined;
  if (value === undefined || value === "") return undefined;
  if (!STREAM_ID.test(value)) {
    throw new DroverError("InvalidField", `Last-Event-ID: expected an event id such as "1700000000000-0", got ${JSON.stringify(value)}`, { field: "Last-Event-ID" });
  }
  return value;
}

/** The SSE event name: `<kind>.<action>` (e.g. `service.updated`). */
function eventName(event: StoreEvent): string {
  const { type, action } = event.fields;
  return type && action ? `${type}.${action}` : type ?? "change";
}

/**
 * The entry's fields (type, action, id, rev) plus `resource`: the record as GET shows it.
 * Stream entries carry no record, so it is read at send time and may be newer than `rev`.
 */
async function eventData(ctx: AuthedContext, envId: string, event: StoreEvent): Promise<Record<string, unknown>> {
  const { type, action, id, rev, ...rest } = event.fields;
  const data: Record<string, unknown> = { ...rest, type, action, id, envId };
  if (rev !== undefined) data.rev = Number(rev);
  if (action === "removed" || id === undefined) return data;
  const resource = await presentedRecord(ctx, envId, type, id);
  if (resource !== undefined) data.resource = resource;
  return data;
}

async function presentedRecord(ctx: AuthedContext, envId: string, type: string | undefined, id: string): Promise<unknown> {
  const { store } = ctx.api;
  switch (type) {
    case "environment": {
      const env = await store.getEnvironment(envId);
      return env && presentEnvironment(env, ctx.urls, ctx.principal.kind === "admin");
    }
    case "host": {
      const host = await store.get(envId, "host", id);
      return host && presentHost(host, ctx.urls);
    }
    case "stack": {
      const stack = await store.get(envId, "stack", id);
      return stack && presentStack(stack, ctx.urls);
    }
    case "service": {
      const service = await store.get(envId, "service", id);
      return service && presentService(service, ctx.urls);
    }
    case "instance": {
      const instance = await store.get(envId, "instance", id);
      return instance && presentInstance(instance, ctx.urls);
    }
    case "loadBalancer": {
      const lb = await store.get(envId, "loadBalancer", id);
      return lb && presentLoadBalancer(lb, ctx.urls);
    }
    case "certificate": {
      // The presenter's allow-list leaves the private key out.
      const cert = await store.get(envId, "certificate", id);
      return cert && presentCertificate(cert, ctx.urls);
    }
    default:
      return undefined;
  }
}
