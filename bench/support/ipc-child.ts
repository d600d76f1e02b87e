/**
 * A benchmark's helper process spoken to by request and answer over Node's IPC channel: the
 * simulated agents run in children of their own (bench/support/sim-fleet.ts, control-plane
 * bench) so the server under test does not share their event loop with the measurement.
 */
import { type ChildProcess, fork } from "child_process";
import * as fs from "fs";

/** The child's side: answers each request with `handle`'s result (or its error); exits when the parent goes. */
export function serveRequests<Req>(handle: (req: Req) => Promise<unknown>): void {
  process.on("message", (msg: { id: number; req: Req }) => {
    handle(msg.req).then(
      (result) => process.send!({ id: msg.id, result }),
      (err) => process.send!({ id: msg.id, error: (err as Error).stack ?? String(err) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}

/** The parent's handle: `script` forked with `args`, its output appended to `logFile`. */
export class IpcChild<Req extends { op: string }> {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  readonly proc: ChildProcess;

  constructor(script: string, args: string[], logFile: string) {
    const out = fs.openSync(logFile, "a");
    // DROVER_BENCH_CHILD_NODE_ARGS: extra node flags for these children (e.g. --cpu-prof), to look into a run.
    const execArgv = (process.env.DROVER_BENCH_CHILD_NODE_ARGS ?? "").split(" ").filter(Boolean);
    this.proc = fork(script, args, { stdio: ["ignore", out, out, "ipc"], execArgv });
    fs.closeSync(out);
    this.proc.on("message", (m: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.reject(new Error(`simulated hosts: ${m.error}`));
      else w.resolve(m.result);
    });
    this.proc.on("exit", (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`simulated hosts exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  get pid(): number { return this.proc.pid!; }

  call<T>(req: Req): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.send({ id, req });
    });
  }

  /** Asks the child to stop (`{op: "stop"}`), disconnects, and kills it if it is not gone within 5 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    await this.call({ op: "stop" } as Req).catch(() => undefined);
    this.proc.disconnect();
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
