/** The shared shape of every GET collection handler: filter, sort, page, present. */
import type { RequestContext } from "../context";
import { FilterSpec, applyListQuery, parseListQuery } from "../filters";
import { presentCollection } from "../present/collection";
import type { Reply } from "../respond";

export function listReply<T extends { id: string }>(ctx: RequestContext, opts: {
  resourceType: string;
  records: T[];
  spec: FilterSpec<T>;
  present: (record: T) => unknown;
  createTypes?: Record<string, string>;
}): Reply {
  const query = parseListQuery(ctx.query, opts.spec);
  const page = applyListQuery(opts.records, query, opts.spec);
  return {
    status: 200,
    body: presentCollection({
      resourceType: opts.resourceType,
      selfUrl: ctx.selfUrl,
      query,
      spec: opts.spec,
      page: { ...page, data: page.data.map(opts.present) },
      createTypes: opts.createTypes,
    }),
  };
}

/** Filter fields most resources share. */
export function commonFields<T extends { id: string; name: string; state: string; createdAt: string }>(): FilterSpec<T>["fields"] {
  return { id: (r) => r.id, name: (r) => r.name, state: (r) => r.state, createdAt: (r) => r.createdAt };
}
