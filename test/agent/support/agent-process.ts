import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { waitFor } from "../../support/wait";

/** The CLI shim; from dist/test/agent/support back to the checkout. */
const droverBin = path.resolve(__dirname, "../../../../bin/drover.js");

export interface AgentLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/**
 * `node bin/drover.js agent ...` as a child process, its JSON log lines collected. Killed by
 * its own pid only.
 */
export class AgentProcess {
  readonly lines: AgentLine[] = [];
  readonly raw: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [droverBin, "agent", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      // These agents run in the machine's own namespace: no DNS listener on its lo (lab agents have one).
      env: { ...process.env, DROVER_DNS_LISTEN: "off", ...env },
    });
    let buffered = "";
    this.proc.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.raw.push(line);
        try {
          this.lines.push(JSON.parse(line) as AgentLine);
        } catch {
          // not a log line
        }
      }
    });
    this.proc.stderr!.on("data", (chunk: Buffer) => this.raw.push(`stderr: ${chunk.toString()}`));
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves with the first log line matching, waiting up to timeoutMs. */
  waitForLine(what: string, match: (line: AgentLine) => boolean, timeoutMs = 20_000, from = 0): Promise<AgentLine> {
    return waitFor(() => {
      if (!this.running && !this.lines.slice(from).some(match)) throw new Error(`agent exited; last output:\n${this.raw.slice(-15).join("\n")}`);
      return this.lines.slice(from).find(match);
    }, { what, timeoutMs });
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.running) return;
    this.proc.kill(signal);
    await this.exited;
  }

  /** The last lines of output, for assertion diagnostics. */
  tail(n = 20): string {
    return this.raw.slice(-n).join("\n");
  }
}
