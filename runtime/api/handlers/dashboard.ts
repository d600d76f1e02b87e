/**
 * GET / and GET /dashboard/*: the read-only web dashboard (runtime/dashboard/assets.ts). No
 * key is needed to load the page; it signs in with a key the user types, kept in the tab's
 * sessionStorage and sent as a bearer header to the API, as any API client does.
 */
import { DashboardAssets } from "../../dashboard/assets";
import { DroverError } from "../../protocol/errors";
import type { RequestContext } from "../context";

const assets = new DashboardAssets();

// Scripts and styles only from this server; the API and the stats socket on the same origin.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function serve(ctx: RequestContext, name: string): undefined {
  const asset = assets.get(name);
  if (!asset) throw new DroverError("NotFound", `no dashboard file ${name}`);
  ctx.res.writeHead(200, {
    "content-type": asset.contentType,
    "content-length": asset.body.length,
    "cache-control": "no-cache",
    "content-security-policy": csp,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  ctx.res.end(ctx.req.method === "HEAD" ? undefined : asset.body);
  return undefined;
}

export async function dashboardPage(ctx: RequestContext): Promise<undefined> {
  return serve(ctx, "");
}

export async function dashboardAsset(ctx: RequestContext): Promise<undefined> {
  return serve(ctx, ctx.params["*"] ?? "");
}
