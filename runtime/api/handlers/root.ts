/** GET /v1 (the API root, Rancher's entry point) and GET /healthz (no key needed). */
import type { AuthedContext, RequestContext } from "../context";
import type { Reply } from "../respond";

export async function apiRoot(ctx: AuthedContext): Promise<Reply> {
  const links: Record<string, string> = {
    self: ctx.urls.to([]).replace(/\/$/, ""),
    environments: ctx.urls.to(["environments"]),
    register: ctx.urls.to(["register"]),
  };
  if (ctx.principal.kind === "env") links.environment = ctx.urls.env(ctx.principal.envId);
  return { status: 200, body: { id: "v1", type: "apiRoot", links, actions: {} } };
}

export async function health(_ctx: RequestContext): Promise<Reply> {
  return { status: 200, body: { type: "health", ok: true } };
}
