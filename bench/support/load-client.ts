/**
 * A bounded HTTP load for benchmarks: an open-loop client that sends each target a fixed
 * number of requests per second, each on a new connection (no keep-alive, so every request
 * is routed afresh by the load balancer), and records every request's outcome with its
 * start time, so failures can be lined up with what happened meanwhile.
 *
 * Open loop: a request is sent when it is due, whether or not earlier ones have answered, so
 * a stalled backend cannot slow the load down and hide its own failures. It runs as a child
 * process of the benchmark (its own event loop, undisturbed by the benchmark's API calls and
 * docker commands); the parent starts it with `LoadClient.start` and gets the records back
 * from `stop()`.
 */
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { Child, spawnLogged } from "./procs";

export interface LoadTarget {
  /** A short name for reports ("churned", "static"). */
  name: string;
  url: string;
  /** A 200 whose body starts with this counts as a success. */
  expectBodyPrefix: string;
}

export interface LoadClientOptions {
  targets: LoadTarget[];
  /** Requests per second sent to each target. */
  ratePerTarget: number;
  /** A request not answered within this (connection to last byte) fails as "timeout". */
  timeoutMs: number;
}

/** One request's outcome. */
export interface LoadRecord {
  target: string;
  /** Epoch ms when it was sent. */
  t: number;
  /** Duration until it completed or failed. */
  ms: number;
  ok: boolean;
  /** HTTP status; 0 when no response came. */
  status: number;
  /** Why it failed without a response: a Node error code (ECONNRESET, ...) or "timeout". */
  error?: string;
  /** The start of the body (which backend answered, for successes and error pages alike). */
  body?: string;
}

/** What a request's line in the output file holds: [target index, t, ms, ok 1/0, status, error, body]. */
type RecordLine = [number, number, number, 0 | 1, number, string, string];

const BODY_KEEP = 80;

export class LoadClient {
  private constructor(private readonly child: Child, private readonly outFile: string, private readonly opts: LoadClientOptions) {}

  /** Starts the client process; `workDir` receives its config, its output and its log. */
  static start(opts: LoadClientOptions, workDir: string): LoadClient {
    validateOptions(opts);
    fs.mkdirSync(workDir, { recursive: true });
    const configFile = path.join(workDir, "load-client.json");
    const outFile = path.join(workDir, "load-records.jsonl");
    fs.writeFileSync(configFile, JSON.stringify({ ...opts, out: outFile }));
    fs.rmSync(outFile, { force: true });
    const child = spawnLogged([process.execPath, __filename, configFile], path.join(workDir, "load-client.log"));
    // On a busy machine a descheduled client would send its backlog in bursts: a little
    // priority keeps the load at the rate it claims (it uses a few % of one core).
    try { os.setPriority(child.pid, -5); } catch { /* not permitted: the load is just burstier */ }
    return new LoadClient(child, outFile, opts);
  }

  alive(): boolean {
    return this.child.alive();
  }

  /** Stops sending, lets the requests in flight finish (at most the timeout), returns every record. */
  async stop(): Promise<LoadRecord[]> {
    await this.child.stop("SIGTERM", this.opts.timeoutMs + 5000);
    return readRecords(this.outFile, this.opts.targets);
  }
}

function validateOptions(opts: LoadClientOptions): void {
  if (!Array.isArray(opts.targets) || opts.targets.length === 0) throw new Error("load client targets: expected at least one target");
  for (const [i, t] of opts.targets.entries()) {
    if (!/^https?:\/\//.test(String(t.url))) throw new Error(`load client targets[${i}].url: expected an http:// URL, got ${JSON.stringify(t.url)}`);
  }
  if (!(opts.ratePerTarget > 0 && opts.ratePerTarget <= 5000)) throw new Error(`load client ratePerTarget: expected requests/s in (0, 5000], got ${opts.ratePerTarget}`);
  if (!(opts.timeoutMs >= 100)) throw new Error(`load client timeoutMs: expected at least 100 ms, got ${opts.timeoutMs}`);
}

export function readRecords(file: string, targets: LoadTarget[]): LoadRecord[] {
  if (!fs.existsSync(file)) return [];
  const out: LoadRecord[] = [];
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    const [ti, t, ms, ok, status, error, body] = JSON.parse(line) as RecordLine;
    out.push({ target: targets[ti].name, t, ms, ok: ok === 1, status, ...(error ? { error } : {}), ...(body ? { body } : {}) });
  }
  return out;
}

// ---------------------------------------------------------------- the child process

function runChild(configFile: string): void {
  const cfg = JSON.parse(fs.readFileSync(configFile, "utf8")) as LoadClientOptions & { out: string };
  validateOptions(cfg);
  const out = fs.createWriteStream(cfg.out, { flags: "a" });
  const pending: string[] = [];
  const flush = () => { if (pending.length) out.write(pending.splice(0).join("")); };
  const flushTimer = setInterval(flush, 500);

  const start = Date.now();
  const sent = cfg.targets.map(() => 0);
  let inFlight = 0;
  let stopping = false;

  const send = (ti: number) => {
    const target = cfg.targets[ti];
    const t0 = Date.now();
    inFlight++;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (status: number, error: string, body: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      inFlight--;
      const ok = status === 200 && body.startsWith(target.expectBodyPrefix) ? 1 : 0;
      const line: RecordLine = [ti, t0, Date.now() - t0, ok, status, error, body.slice(0, BODY_KEEP).trim()];
      pending.push(JSON.stringify(line) + "\n");
      if (stopping && inFlight === 0) exit();
    };
    const req = http.get(target.url, { agent: false, headers: { connection: "close" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => { if (body.length < BODY_KEEP) body += d; });
      res.on("end", () => finish(res.statusCode ?? 0, "", body));
      res.on("error", (err: NodeJS.ErrnoException) => finish(res.statusCode ?? 0, err.code ?? err.message, body));
    });
    req.on("error", (err: NodeJS.ErrnoException) => finish(0, (err as Error).message === "timeout" ? "timeout" : err.code ?? err.message, ""));
    // The whole exchange, not just an idle socket, must fit in the timeout.
    timer = setTimeout(() => {
      req.destroy(new Error("timeout"));
      finish(0, "timeout", "");
    }, cfg.timeoutMs);
  };

  // Each target's requests are due at start + k / rate; a tick sends whatever is due, so a
  // late timer does not lower the rate (open loop).
  const tick = setInterval(() => {
    const elapsed = Date.now() - start;
    cfg.targets.forEach((_, ti) => {
      const due = Math.floor((elapsed * cfg.ratePerTarget) / 1000) + 1;
      while (sent[ti] < due) { sent[ti]++; send(ti); }
    });
  }, 2);

  const exit = () => {
    clearInterval(flushTimer);
    flush();
    out.end(() => process.exit(0));
  };
  process.on("SIGTERM", () => {
    if (stopping) return;
    stopping = true;
    clearInterval(tick);
    if (inFlight === 0) exit();
  });
}

if (require.main === module) runChild(process.argv[2]);
