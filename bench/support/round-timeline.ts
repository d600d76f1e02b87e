/**
 * Where a drover round's time goes, from POST to the API showing every instance active: marks
 * taken from the agents' JSON logs and the Redis stream entry ids (Redis's own clock, in ms:
 * the API's and the server's writes on the environment's streams, the desired nudges, the
 * agents' reports), put on one timeline in ms after the POST. Parsing and the timeline are
 * pure; the caller reads the files and streams.
 */

/** What one host's agent did in a round (epoch ms). */
export interface HostMarks {
  /** The first desired document written for the round (its nudge's stream id). */
  desiredAt?: number;
  /** The agent's reconcile that acted: first "created container", last "started container", its "reconciled" line. */
  firstCreatedAt?: number;
  lastStartedAt?: number;
  reconciledAt?: number;
  /** The first observed report after the last start (its stream id). */
  observedAt?: number;
  /** Observed reports written during the round, and instance reports (one per Docker start event). */
  observedReports: number;
  instanceReports: number;
}

/** A drover round (epoch ms): the bench's own marks, the server's, and every host's. */
export interface RoundMarks {
  postedAt: number;
  answeredAt: number;
  doneAt: number;
  /** The API's write on the environment's reconcile stream. */
  apiWriteAt?: number;
  /** The server's writes of instance records (the environment's event stream), in order. */
  instanceWrites: { at: number; action?: string }[];
  hosts: HostMarks[];
}

export interface Step {
  what: string;
  /** ms after the POST was sent; undefined when the mark was not found. */
  atMs?: number;
}

/** The agent's log lines about containers named `namePrefix`* and its reconciles acting on them. */
export function agentMarks(logText: string, namePrefix: string, since: number): Pick<HostMarks, "firstCreatedAt" | "lastStartedAt" | "reconciledAt"> {
  const out: Pick<HostMarks, "firstCreatedAt" | "lastStartedAt" | "reconciledAt"> = {};
  for (const line of logText.split("\n")) {
    if (!line.startsWith("{")) continue;
    let l: { time?: string; msg?: string; name?: string; actions?: number };
    try { l = JSON.parse(line); } catch { continue; }
    const t = Date.parse(l.time ?? "");
    if (!Number.isFinite(t) || t < since) continue;
    if (l.msg === "created container" && l.name?.startsWith(namePrefix)) out.firstCreatedAt ??= t;
    else if (l.msg === "started container" && l.name?.startsWith(namePrefix)) out.lastStartedAt = t;
    // The reconcile that made the round's containers logs "reconciled" once its actions are applied.
    else if (l.msg === "reconciled" && (l.actions ?? 0) > 0 && out.lastStartedAt !== undefined && out.reconciledAt === undefined) out.reconciledAt = t;
  }
  return out;
}

/** The ms part of a Redis stream entry id (`<ms>-<seq>`). */
export function streamIdMs(id: string): number {
  const ms = Number(id.split("-")[0]);
  if (!Number.isSafeInteger(ms)) throw new Error(`stream id ${JSON.stringify(id)}: expected <ms>-<seq>`);
  return ms;
}

/** A field of a stream entry (entries are flat [field, value, ...] lists). */
export function entryField(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

const min = (xs: (number | undefined)[]) => {
  const ok = xs.filter((x): x is number => x !== undefined);
  return ok.length ? Math.min(...ok) : undefined;
};
const max = (xs: (number | undefined)[]) => {
  const ok = xs.filter((x): x is number => x !== undefined);
  // A host without the mark holds the whole round up: the step is unknown, not the other hosts' figure.
  return ok.length === xs.length && ok.length ? Math.max(...ok) : undefined;
};

/** The round's steps in order, each as ms after the POST; the critical path is the slowest host's. */
export function timeline(r: RoundMarks): Step[] {
  const at = (t: number | undefined) => (t === undefined ? undefined : t - r.postedAt);
  const placedAt = r.instanceWrites.find((w) => w.action === "created")?.at;
  const lastObserved = max(r.hosts.map((h) => h.observedAt));
  // The write the poll saw last: the last instance update before it saw them all active.
  const activeAt = r.instanceWrites.filter((w) => w.action === "updated" && w.at <= r.doneAt).at(-1)?.at;
  return [
    { what: "API answered the POST", atMs: at(r.answeredAt) },
    { what: "API write on the reconcile stream", atMs: at(r.apiWriteAt) },
    { what: "server wrote the instances", atMs: at(placedAt) },
    { what: "desired documents written (last host)", atMs: at(max(r.hosts.map((h) => h.desiredAt))) },
    { what: "first container created", atMs: at(min(r.hosts.map((h) => h.firstCreatedAt))) },
    { what: "last container started", atMs: at(max(r.hosts.map((h) => h.lastStartedAt))) },
    { what: "agents' reconciles logged (last host)", atMs: at(max(r.hosts.map((h) => h.reconciledAt))) },
    { what: "observed reports written (last host)", atMs: at(lastObserved) },
    { what: "server wrote the last one active", atMs: at(activeAt) },
    { what: "poll saw every instance active", atMs: at(r.doneAt) },
  ];
}

/** Per host, the agent's own stretches in ms: nudge → first create, creates/starts, last start → observed. */
export function hostStretches(h: HostMarks): { toFirstCreate?: number; docker?: number; toObserved?: number } {
  const d = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : b - a);
  return { toFirstCreate: d(h.desiredAt, h.firstCreatedAt), docker: d(h.firstCreatedAt, h.lastStartedAt), toObserved: d(h.lastStartedAt, h.observedAt) };
}
