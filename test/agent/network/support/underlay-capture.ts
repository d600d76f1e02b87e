import { ChildProcess, spawn } from "child_process";
import * as readline from "readline";
import type { Lab } from "../../../lab";
import { RunNames } from "../../../lab/names";
import { waitFor } from "../../../support/wait";

/**
 * tcpdump on the lab's underlay bridge (in the switch namespace), so a test sees every
 * packet between hosts. `leaks()` are IP packets whose outer header has an overlay address:
 * exactly what must never be seen.
 */
export class UnderlayCapture {
  readonly lines: string[] = [];
  private readonly proc: ChildProcess;
  private listening = false;

  private constructor(lab: Lab, private readonly overlayPrefix: string) {
    const names = new RunNames(lab.runId);
    this.proc = spawn("nsenter", [`--net=/run/netns/${names.switchNs}`, "--", "tcpdump", "-i", names.bridge, "-n", "-l", "-q", "ip"], { stdio: ["ignore", "pipe", "pipe"] });
    readline.createInterface({ input: this.proc.stdout! }).on("line", (l) => this.lines.push(l));
    readline.createInterface({ input: this.proc.stderr! }).on("line", (l) => { if (/listening on/.test(l)) this.listening = true; });
  }

  static async start(lab: Lab, overlayPrefix = "10.42."): Promise<UnderlayCapture> {
    const c = new UnderlayCapture(lab, overlayPrefix);
    await waitFor(() => c.listening || c.proc.exitCode !== null, { what: "tcpdump listening on the underlay", timeoutMs: 10_000 });
    if (!c.listening) throw new Error("tcpdump exited before listening");
    return c;
  }

  /** Stops tcpdump (SIGINT, by its pid) and waits for its last lines. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.kill("SIGINT");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  }

  /** Packets with an overlay address in the clear (outer source or destination). */
  leaks(): string[] {
    const p = this.overlayPrefix.replace(/\./g, "\\.");
    const re = new RegExp(`IP (${p}\\S+ > |\\S+ > ${p})`);
    return this.lines.filter((l) => re.test(l));
  }

  /** Packets of the IPsec wire format: UDP 500 and 4500 between underlay addresses. */
  ipsecPackets(): string[] {
    return this.lines.filter((l) => /\.(500|4500) > \S+\.(500|4500):/.test(l));
  }

  /** Everything else seen (ARP is filtered out by the capture already). */
  otherPackets(): string[] {
    const ipsec = new Set(this.ipsecPackets());
    return this.lines.filter((l) => !ipsec.has(l));
  }
}
