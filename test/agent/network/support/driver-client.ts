import type { ChildProcess } from "child_process";
import * as path from "path";
import * as readline from "readline";
import type { LabHost } from "../../../lab";
import type { HostNetworkSpec, HostNetworkStatus } from "../../../../runtime/protocol/model";
import { waitFor } from "../../../support/wait";

const driverJs = path.join(__dirname, "manager-driver.js");

/** A NetworkManager running inside a lab host (see manager-driver.ts), driven over its stdio. */
export class ManagerDriver {
  status?: HostNetworkStatus;
  readonly statuses: HostNetworkStatus[] = [];
  readonly stderr: string[] = [];
  private waiting: { what: string; resolve: (o: any) => void }[] = [];
  readonly proc: ChildProcess;

  constructor(readonly host: LabHost, readonly stateDir: string) {
    this.proc = host.spawn([process.execPath, driverJs, stateDir], { stdio: ["pipe", "pipe", "pipe"] });
    readline.createInterface({ input: this.proc.stdout! }).on("line", (line) => this.onLine(line));
    readline.createInterface({ input: this.proc.stderr! }).on("line", (line) => this.stderr.push(line));
  }

  private onLine(line: string): void {
    let o: any;
    try { o = JSON.parse(line); } catch { return; }
    if (o.status && !o.done) { this.status = o.status; this.statuses.push(o.status); }
    if (o.status && o.done) this.status = o.status;
    if (o.error) this.stderr.push(`driver error: ${o.error}`);
    if (o.done) {
      const i = this.waiting.findIndex((w) => w.what === o.done);
      if (i >= 0) this.waiting.splice(i, 1)[0].resolve(o);
    }
  }

  private send(cmd: object, what: string): Promise<any> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ what, resolve });
      this.proc.stdin!.write(JSON.stringify(cmd) + "\n");
      this.proc.once("exit", (code) => reject(new Error(`driver on ${this.host.name} exited (${code}) before ${what}: ${this.stderr.slice(-5).join("\n")}`)));
    });
  }

  apply(spec: HostNetworkSpec): Promise<{ status: HostNetworkStatus }> { return this.send({ apply: spec }, "apply"); }
  sas(): Promise<{ sas: any[]; pid?: number }> { return this.send({ sas: true }, "sas"); }
  teardown(): Promise<unknown> { return this.send({ teardown: true }, "teardown"); }
  stop(): Promise<unknown> { return this.send({ stop: true }, "stop"); }

  /** Waits until every listed peer's tunnel is up (and charon running). */
  tunnelsUp(peers: string[], timeoutMs = 15_000): Promise<HostNetworkStatus> {
    return waitFor(() => {
      const s = this.status;
      return s && s.charon === "running" && peers.every((p) => s.tunnels[p]?.state === "up") ? s : false;
    }, { what: `tunnels from ${this.host.name} to ${peers.join(", ")} up`, timeoutMs });
  }
}

/** The overlay spec of lab host `index` (1-based) among `members`, as the server would write it. */
export function labSpec(hosts: LabHost[], index: number, members: number[], psk = { pskId: "psk-1", psk: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0" }): HostNetworkSpec {
  const me = hosts[index - 1];
  return {
    cidr: "10.42.0.0/16", subnet: `10.42.${index}.0/24`, gateway: `10.42.${index}.1`, underlayIp: me.underlayIp,
    peers: members.filter((m) => m !== index).map((m) => ({ hostId: `h${m}`, name: hosts[m - 1].name, underlayIp: hosts[m - 1].underlayIp, subnet: `10.42.${m}.0/24` })),
    ipsec: psk,
  };
}
