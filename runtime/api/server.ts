/**
 * createApi() builds the request listener (routing, auth, error mapping);
 * startApiServer() puts it on a node http server.
 */
import { createServer, IncomingMessage, RequestListener, Server, ServerResponse } from "http";
import { createServer as createHttpsServer } from "https";
import type { AddressInfo } from "net";
import { DroverError } from "../protocol/errors";
import { authenticate } from "./auth";
import type { RequestContext } from "./context";
import { errorResponse } from "./http-errors";
import { ApiContext, ApiOptions, resolveOptions } from "./options";
import { guardedQuery, methodNotAllowed } from "./request-guards";
import { sendJson } from "./respond";
import { Router, buildRouter } from "./routes";
import { baseUrl, makeUrls } from "./urls";
import { RedisStore } from "../store/redis-store";
import { attachStreams } from "../streams/stream-upgrade";
import { upgradeRouterOf } from "./upgrade-router";

/** The request listener; `close()` ends its event streams' shared Redis readers. */
export function createApi(opts: ApiOptions): RequestListener & { close(): void } {
  const api = resolveOptions(opts);
  const router = buildRouter();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(api, router, req, res);
  };
  return Object.assign(listener, { close: () => api.events.close() });
}

async function handle(api: ApiContext, router: Router, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const url = new URL(rawUrl, "http://drover.invalid");
    const match = router.find(method, url.pathname);
    if (!match) {
      const allowed = router.methodsFor(url.pathname);
      if (allowed.length) throw methodNotAllowed(method, url.pathname, allowed);
      throw new DroverError("NotFound", `no route for ${method} ${url.pathname}`);
    }
    const query = guardedQuery(method, url.searchParams);
    const base = baseUrl(req);
    const ctx: RequestContext = {
      api, req, res,
      params: match.params,
      query,
      urls: makeUrls(base),
      selfUrl: `${base}${url.pathname}${url.search}`,
    };
    const reply = match.route.auth
      ? await match.route.handler({ ...ctx, principal: await authenticate(api, req) })
      : await match.route.handler(ctx);
    if (reply) sendJson(res, reply);
  } catch (err) {
    if (res.headersSent) {
      // A stream already under way (SSE) cannot turn into an error response.
      api.log("api: error after the response started", err);
      res.destroy();
      return;
    }
    const { status, body, headers } = errorResponse(err, api.log);
    sendJson(res, { status, body, headers });
  }
}

export interface ApiServer {
  /** http(s)://host:port of the listening server. */
  url: string;
  /** The node server, for websocket endpoints (they register their paths with upgradeRouterOf). */
  httpServer: Server;
  close(): Promise<void>;
}

/**
 * `https`: the API's key and certificate chain (PEM): the server speaks only TLS then
 * (TLS 1.2 or later). Without it, plain HTTP (the server config allows that on loopback only).
 */
export function startApiServer(opts: ApiOptions, listen: { host: string; port: number }, https?: { key: string; cert: string }): Promise<ApiServer> {
  const listener = createApi(opts);
  const server = https ? createHttpsServer({ key: https.key, cert: https.cert, minVersion: "TLSv1.2" }, listener) : createServer(listener);
  // Logs and exec websockets ride the same server (and so the same TLS); their handler takes only its own paths.
  const streams = opts.store instanceof RedisStore
    ? attachStreams(server, { redis: opts.store.redis, keys: opts.store.keys, store: opts.store, log: opts.log ?? ((m, e) => console.error(m, e)) })
    : undefined;
  // Every websocket upgrade goes through one router: unknown paths get 404 even with no endpoint registered.
  upgradeRouterOf(server);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // A fleet of agents registering at once (a rack powering up) opens a thousand connections
    // together: with Node's default backlog of 511 the rest wait for SYN retransmits (1 s, 3 s, ...).
    server.listen({ port: listen.port, host: listen.host, backlog: 4096 }, () => {
      server.off("error", reject);
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(":") ? `[${address}]` : address;
      // A server listening on one address names it in stream nudges, so an agent registered with
      // another server of the installation dials this one for the sessions waiting here. On every
      // address (0.0.0.0, ::) it cannot tell which one agents reach: they dial their registered URL.
      const wildcard = address === "0.0.0.0" || address === "::";
      streams?.advertise(opts.streamsUrl ?? (wildcard ? undefined : `${https ? "https" : "http"}://${host}:${port}`));
      resolve({
        url: `${https ? "https" : "http"}://${host}:${port}`,
        httpServer: server,
        close: () => new Promise<void>((done, fail) => {
          listener.close();
          streams?.close();
          server.close((err) => (err ? fail(err) : done()));
          // Event streams and idle keep-alive sockets would otherwise hold close() open.
          server.closeAllConnections();
        }),
      });
    });
  });
}
