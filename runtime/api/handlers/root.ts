/** GET /v1 (the API root, Rancher's entry point), GET /healthz and GET /v1/ca (no key needed). */
import type { AuthedContext, RequestContext } from "../context";
import type { Reply } from "../respond";
import { DroverError } from "../../protocol/errors";

export async function apiRoot(ctx: AuthedContext): Promise<Reply> {
  const links: Record<string, string> = {
    self: ctx.urls.to([]).replace(/\/$/, ""),
    environments: ctx.urls.to(["environments"]),
  };
  if (ctx.principal.kind === "env") links.environment = ctx.urls.env(ctx.principal.envId);
  // Registration is a POST (an agent with a token): an action, not a link a client could GET.
  return { status: 200, body: { id: "v1", type: "apiRoot", links, actions: { register: ctx.urls.to(["register"]) } } };
}

export async function health(_ctx: RequestContext): Promise<Reply> {
  return { status: 200, body: { type: "health", ok: true } };
}

/**
 * GET /v1/ca: the server's CA certificate, for agents and the provider to pin: they fetch it
 * without verification, compare its SHA-256 fingerprint with the one they were given out of
 * band, and only then trust TLS connections signed by it. Public by nature; 404 without TLS.
 */
export async function caCertificate(ctx: RequestContext): Promise<Reply> {
  const tls = ctx.api.tls;
  if (!tls) throw new DroverError("NotFound", "this server has no CA: it serves plain HTTP on loopback only");
  return { status: 200, body: { type: "certificateAuthority", fingerprint: tls.caFingerprint, cert: tls.caCert } };
}
