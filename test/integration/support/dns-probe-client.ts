import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as readline from "readline";

export interface ProbeAnswer { rcode?: string; ips: string[]; tc: boolean }

/**
 * dns-probe.js running in a container's network namespace (entered by the container's pid,
 * which the lab shares with the test). Stopped by its own pid.
 */
export class DnsProbe {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (a: ProbeAnswer) => void; reject: (e: Error) => void }>();

  private constructor(private readonly proc: ChildProcess) {
    readline.createInterface({ input: proc.stdout! }).on("line", (line) => {
      let msg: { seq: number; error?: string } & ProbeAnswer;
      try { msg = JSON.parse(line); } catch { return; }
      const w = this.waiting.get(msg.seq);
      if (!w) return;
      this.waiting.delete(msg.seq);
      if (msg.error) w.reject(new Error(msg.error));
      else w.resolve({ rcode: msg.rcode, ips: msg.ips, tc: msg.tc });
    });
    proc.once("exit", () => {
      for (const w of this.waiting.values()) w.reject(new Error("dns probe exited"));
      this.waiting.clear();
    });
  }

  static start(containerPid: number): DnsProbe {
    const script = path.join(__dirname, "dns-probe.js");
    const proc = spawn("nsenter", [`--net=/proc/${containerPid}/ns/net`, process.execPath, script],
      { stdio: ["pipe", "pipe", "inherit"] });
    return new DnsProbe(proc);
  }

  ask(name: string, opts: { type?: string; tcp?: boolean } = {}): Promise<ProbeAnswer> {
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.proc.stdin!.write(JSON.stringify({ seq, name, ...opts }) + "\n");
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGTERM");
    await exited;
  }
}
