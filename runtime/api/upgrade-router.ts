/**
 * One `upgrade` listener per HTTP server, routing each websocket upgrade by path to the
 * endpoint that registered it (stats socket, logs/exec streams, agents' dial-ins). A path no
 * endpoint registered is answered 404 at once: without an answer the client would hang until
 * it gave up. Endpoints register their own patterns, so none is hard-coded here.
 */
import type { IncomingMessage, Server } from "http";
import type { Duplex } from "stream";

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, pathname: string) => void;

/** `exact` matches one path; `prefix` every path that starts with it (and is longer). */
export type UpgradePattern = { exact: string } | { prefix: string };

interface Route { pattern: UpgradePattern; handler: UpgradeHandler }

export class UpgradeRouter {
  private readonly routes: Route[] = [];

  constructor(server: Server) {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.dispatch(req, socket, head));
  }

  /** Takes upgrades whose path matches `pattern`; returns the function that unregisters it. */
  register(pattern: UpgradePattern, handler: UpgradeHandler): () => void {
    const overlap = this.routes.find((r) => describe(r.pattern) === describe(pattern));
    if (overlap) throw new Error(`upgrade path ${describe(pattern)} is registered already`);
    const route = { pattern, handler };
    this.routes.push(route);
    return () => {
      const i = this.routes.indexOf(route);
      if (i >= 0) this.routes.splice(i, 1);
    };
  }

  /** The handler that takes `pathname`, if any (an exact path before a prefix). */
  match(pathname: string): UpgradeHandler | undefined {
    const exact = this.routes.find((r) => "exact" in r.pattern && r.pattern.exact === pathname);
    if (exact) return exact.handler;
    return this.routes.find((r) => "prefix" in r.pattern && pathname.length > r.pattern.prefix.length && pathname.startsWith(r.pattern.prefix))?.handler;
  }

  private dispatch(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? "/", "http://drover.invalid").pathname;
    } catch {
      pathname = "";
    }
    const handler = pathname ? this.match(pathname) : undefined;
    if (handler) return handler(req, socket, head, pathname);
    socket.on("error", () => socket.destroy());
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  }
}

const routers = new WeakMap<Server, UpgradeRouter>();

/** The server's router, made (and its one listener attached) on first use. */
export function upgradeRouterOf(server: Server): UpgradeRouter {
  let router = routers.get(server);
  if (!router) {
    router = new UpgradeRouter(server);
    routers.set(server, router);
  }
  return router;
}

function describe(p: UpgradePattern): string {
  return "exact" in p ? p.exact : `${p.prefix}*`;
}
