/** GET /v1/environments/:envId/events: server-sent events for changes, resumable, cleaned up. */
import { onSseBlocks } from "../../../runtime/protocol/sse-blocks";
import { ClientRequest, IncomingMessage, request } from "http";
import t from "tap";
import { ApiFixture, apiFixture, pollUntil } from "./api-fixture";

interface SseEvent {
  id?: string;
  event?: string;
  data?: any;
  comment?: string;
}

/** An open event stream: events parsed as they come, `next(pred)` waits for one with a deadline. */
interface Stream {
  res: IncomingMessage;
  events: SseEvent[];
  next(what: string, pred: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

function openStream(f: ApiFixture, envId: string, key: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(`${f.url}/v1/environments/${envId}/events`, {
      headers: { authorization: `Bearer ${key}`, accept: "text/event-stream", ...headers },
    }, (res) => {
      const events: SseEvent[] = [];
      const waiters: Array<() => void> = [];
      onSseBlocks(res, (block) => {
        const e: SseEvent = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) e.comment = line.slice(1).trim();
          else if (line.startsWith("id: ")) e.id = line.slice(4);
          else if (line.startsWith("event: ")) e.event = line.slice(7);
          else if (line.startsWith("data: ")) e.data = JSON.parse(line.slice(6));
        }
        events.push(e);
        for (const w of waiters.splice(0)) w();
      });
      res.on("error", () => {});
      resolve({
        res,
        events,
        async next(what, pred, timeoutMs = 5000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const found = events.find(pred);
            if (found) return found;
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no ${what} event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
            await new Promise<void>((wake) => {
              const timer = setTimeout(wake, left);
              waiters.push(() => {
                clearTimeout(timer);
                wake();
              });
            });
          }
        },
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
    req.end();
  });
}

async function readerConnections(f: ApiFixture): Promise<number> {
  const list = (await f.redis.call("CLIENT", "LIST")) as string;
  return list.split("\n").filter((line) => line.includes(` name=${f.prefix} `)).length;
}

t.test("a change arrives as an event with the record, within a deadline", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const connectionsBefore = await readerConnections(f);
  const stream = await openStream(f, env.id, env.apiKey);
  t.equal(stream.res.statusCode, 200);
  t.match(stream.res.headers["content-type"], /^text\/event-stream/);

  const created = await f.call("POST", `/v1/environments/${env.id}/stacks`, { key: env.apiKey, body: { name: "web" } });
  const event = await stream.next("stack.created", (e) => e.event === "stack.created");
  t.match(event.id, /^\d+-\d+$/);
  t.match(event.data, { type: "stack", action: "created", id: created.body.id, envId: env.id, rev: created.body.rev });
  t.match(event.data.resource, { type: "stack", name: "web", links: { self: created.body.links.self } });
  t.notOk(stream.events.some((e) => e.event === "environment.created"), "only changes after subscribing, without Last-Event-ID");

  t.equal(await readerConnections(f), connectionsBefore + 1, "one reader connection for the subscriber");
  stream.close();
  await pollUntil("the reader connection to close", async () => (await readerConnections(f)) === connectionsBefore);
  t.pass("the Redis reader closed when the client went away");
});

t.test("Last-Event-ID resumes after the given event; keep-alives flow while idle", async (t) => {
  const f = await apiFixture(t, { eventsBlockMs: 100 });
  const env = await f.createEnv();
  const base = `/v1/environments/${env.id}/stacks`;
  const first = await openStream(f, env.id, env.apiKey);
  const stack = await f.call("POST", base, { key: env.apiKey, body: { name: "web" } });
  const created = await first.next("stack.created", (e) => e.event === "stack.created");
  await first.next("keep-alive", (e) => e.comment === "keep-alive");
  first.close();

  await f.call("PATCH", `${base}/${stack.body.id}`, { key: env.apiKey, body: { description: "while away" } });
  const resumed = await openStream(f, env.id, env.apiKey, { "last-event-id": created.id! });
  const updated = await resumed.next("stack.updated", (e) => e.event === "stack.updated");
  t.equal(updated.data.id, stack.body.id);
  t.equal(updated.data.resource.description, "while away");
  t.notOk(resumed.events.some((e) => e.id === created.id), "the acknowledged event is not sent again");
  resumed.close();

  const everything = await openStream(f, env.id, f.adminKey, { "last-event-id": "0-0" });
  await everything.next("environment.created", (e) => e.event === "environment.created");
  everything.close();

  const bad = await f.call("GET", `/v1/environments/${env.id}/events`, { key: env.apiKey, headers: { "last-event-id": "yesterday" } });
  t.equal(bad.status, 422);
  t.equal(bad.body.fieldName, "Last-Event-ID");
});

t.test("removed records arrive without a resource", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const stream = await openStream(f, env.id, env.apiKey);
  await f.call("POST", `/v1/environments/${env.id}?action=teardown`, { key: f.adminKey });
  const e = await stream.next("environment.updated", (ev) => ev.event === "environment.updated");
  t.equal(e.data.resource.state, "removing");
  stream.close();
});

t.test("subscribers of one environment share one Redis reader", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const connectionsBefore = await readerConnections(f);
  const streams = [];
  for (let i = 0; i < 6; i++) streams.push(await openStream(f, env.id, i % 2 ? env.apiKey : f.adminKey));
  t.equal(await readerConnections(f), connectionsBefore + 1, "six subscribers, one reader connection");
  const created = await f.call("POST", `/v1/environments/${env.id}/stacks`, { key: env.apiKey, body: { name: "web" } });
  for (const s of streams) {
    const e = await s.next("stack.created", (ev) => ev.event === "stack.created");
    t.equal(e.data.id, created.body.id);
  }
  for (const s of streams) s.close();
  await pollUntil("the shared reader to close with its last subscriber", async () => (await readerConnections(f)) === connectionsBefore);
  t.pass("closed with the last subscriber");
});

t.test("one key's open streams are capped: one more is 429, other keys are not affected", async (t) => {
  const f = await apiFixture(t, { eventStreamsPerKey: 3 });
  const env = await f.createEnv();
  const mine = [await openStream(f, env.id, env.apiKey), await openStream(f, env.id, env.apiKey), await openStream(f, env.id, env.apiKey)];
  const refused = await f.call("GET", `/v1/environments/${env.id}/events`, { key: env.apiKey });
  t.equal(refused.status, 429);
  t.equal(refused.headers["retry-after"], "5");
  t.match(refused.body, { code: "TooManyRequests", message: /already has 3 event streams open \(at most 3 per key\)/, retryable: true });
  const admins = await openStream(f, env.id, f.adminKey);
  t.equal(admins.res.statusCode, 200, "another key still gets a stream");
  mine[0].close();
  await pollUntil("a slot to free up", async () => {
    const s = await openStream(f, env.id, env.apiKey);
    const ok = s.res.statusCode === 200;
    if (ok) mine.push(s); else s.close();
    return ok;
  });
  for (const s of [...mine, admins]) s.close();
});

t.test("a resumed subscriber gets its backlog then live events, once each, beside a live one", async (t) => {
  const f = await apiFixture(t, { eventsBlockMs: 200 });
  const env = await f.createEnv();
  const base = `/v1/environments/${env.id}/stacks`;
  const live = await openStream(f, env.id, env.apiKey);
  const first = await f.call("POST", base, { key: env.apiKey, body: { name: "s0" } });
  const mark = await live.next("s0 created", (e) => e.event === "stack.created" && e.data.id === first.body.id);
  // 150 changes (more than one backlog page) while the second subscriber is away.
  for (let i = 1; i <= 150; i++) await f.call("PATCH", `${base}/${first.body.id}`, { key: env.apiKey, body: { description: `d${i}` } });
  const resumed = await openStream(f, env.id, env.apiKey, { "last-event-id": mark.id! });
  await f.call("POST", base, { key: env.apiKey, body: { name: "after" } });
  await resumed.next("the live event after the backlog", (e) => e.event === "stack.created" && e.data.resource?.name === "after");
  const ids = resumed.events.filter((e) => e.id).map((e) => e.id!);
  t.equal(new Set(ids).size, ids.length, "no event twice");
  t.equal(resumed.events.filter((e) => e.event === "stack.updated").length, 150, "every change made while away");
  t.notOk(ids.includes(mark.id!), "nothing at or before Last-Event-ID");
  live.close();
  resumed.close();
});
