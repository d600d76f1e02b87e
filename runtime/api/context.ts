/** What a route handler gets for one request. */
import type { IncomingMessage, ServerResponse } from "http";
import type { Principal } from "./auth";
import type { ApiContext } from "./options";
import type { Reply } from "./respond";
import type { Urls } from "./urls";

export interface RequestContext {
  api: ApiContext;
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  urls: Urls;
  /** The URL of this request, as the client sent it (for collection self/next links). */
  selfUrl: string;
}

export interface AuthedContext extends RequestContext {
  principal: Principal;
}

/** A handler returns a reply, or undefined when it wrote the response itself (SSE). */
export type Handler<C extends RequestContext> = (ctx: C) => Promise<Reply | undefined>;
