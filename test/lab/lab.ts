import * as fs from "fs";
import { reclaimAbandonedRuns } from "./abandoned";
import { LabHost } from "./host";
import { labRoot, newRunId, RunNames } from "./names";
import { ensureClientKey } from "./sshd";
import { LabState, listRunIds, readState, writeState } from "./state-file";
import { allocateSubnet } from "./subnet";
import { teardownRun, TeardownResult } from "./teardown";
import { createSwitch, gatewayIp, hostIp } from "./underlay";
import { startWatchdog } from "./watchdog";

export interface LabOptions {
  /** Number of hosts (1..50). */
  hosts: number;
  /** Start an sshd in every host (key-only root login). */
  sshd?: boolean;
  /** A label for `drover lab ls` (e.g. the test's name); names derive from the run id only. */
  name?: string;
  /** Import local/busybox into every host's dockerd (default true). */
  image?: boolean;
  /**
   * Tear the run down from a detached watcher if this process dies without doing it (killed
   * test). Default false: `drover lab up` exits on purpose and leaves the run. labForTest sets it.
   */
  watchdog?: boolean;
}

/**
 * N test hosts on this machine: each a network namespace on a private underlay /24, with
 * its own dockerd. `Lab.up()` brings them up; `down()` removes everything and asserts that
 * nothing is left. The daemons do not depend on this process: a fresh process can
 * `Lab.attach(runId)` from the state file, e.g. `drover lab down`.
 *
 *   const lab = await Lab.up({ hosts: 3 });
 *   new Docker({ socketPath: lab.hosts[0].dockerSocket });
 *   await lab.down();
 */
export class Lab {
  private state?: LabState;
  private _hosts: LabHost[] = [];
  private downPromise?: Promise<void>;
  /** Milliseconds taken by start() and down(). */
  readonly timings: { upMs?: number; downMs?: number; downPhases?: TeardownResult["phases"] } = {};

  constructor(readonly options: LabOptions) {}

  /** Creates and starts a lab; a failed start is torn down before the error is rethrown. */
  static async up(options: LabOptions): Promise<Lab> {
    const lab = new Lab(options);
    try {
      await lab.start();
    } catch (err) {
      await lab.down().catch((downErr: Error) => { (err as Error).message += `\n(teardown after the failed up also failed: ${downErr.message})`; });
      throw err;
    }
    return lab;
  }

  /** A lab brought up by another process, from its state file. */
  static attach(runId: string): Lab {
    const state = readState(runId);
    if (!state) throw new Error(`no lab run ${runId} (no ${new RunNames(runId).stateFile})`);
    const lab = new Lab({ hosts: state.hosts.length, sshd: state.sshd, name: state.name });
    lab.adopt(state);
    return lab;
  }

  /** Run ids with state, newest first. */
  static runIds(): string[] {
    return listRunIds();
  }

  private adopt(state: LabState): void {
    this.state = state;
    const names = new RunNames(state.runId);
    this._hosts = state.hosts.map((h) => new LabHost(names, h, () => this.save()));
  }

  private save(): void {
    if (this.state && !this.downPromise) writeState(this.state);
  }

  private get st(): LabState {
    if (!this.state) throw new Error("lab not started");
    return this.state;
  }

  get runId(): string { return this.st.runId; }
  get runDir(): string { return new RunNames(this.runId).runDir; }
  /** "198.18.N.0/24" */
  get subnet(): string { return this.st.subnet!; }
  /** <subnet>.1, on the root-namespace leg: listen here (Redis, drover server) to be reachable from hosts. */
  get gatewayIp(): string { return this.st.gatewayIp!; }
  get hosts(): LabHost[] { return this._hosts; }

  /** A host by full name, short name ("h2"), 1-based number ("2" or 2). */
  host(ref: string | number): LabHost {
    const s = String(ref);
    const found = this._hosts.find((h) => h.name === s || `h${h.index}` === s || String(h.index) === s);
    if (!found) throw new Error(`lab ${this.runId} has no host "${s}" (hosts: ${this._hosts.map((h) => h.name).join(", ")})`);
    return found;
  }

  /**
   * Brings the hosts up. The run id, run dir and state file exist before the first await,
   * so a down() registered beforehand always finds what to clean.
   */
  async start(): Promise<void> {
    if (this.state) throw new Error("lab already started");
    const { hosts: count } = this.options;
    if (!Number.isInteger(count) || count < 1 || count > 50) throw new Error(`lab hosts must be 1..50, got ${count}`);
    const started = Date.now();
    fs.mkdirSync(labRoot(), { recursive: true });
    if (this.options.watchdog) await reclaimAbandonedRuns();
    let names: RunNames;
    for (;;) {
      names = new RunNames(newRunId());
      try {
        fs.mkdirSync(names.runDir); // claims the run id: fails if another run has it
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
    this.adopt({
      version: 1, runId: names.runId, name: this.options.name, createdAt: new Date().toISOString(),
      ownerPid: process.pid, sshd: !!this.options.sshd, hosts: [],
    });
    if (this.options.watchdog) this.st.watchdog = startWatchdog(names.runId, process.pid);
    this.save();

    const subnet = await allocateSubnet(names.runId);
    Object.assign(this.st, { subnet: subnet.cidr, subnetBase: subnet.base, gatewayIp: gatewayIp(subnet.base) });
    this.st.hosts = Array.from({ length: count }, (_, i) => ({
      index: i + 1, name: names.host(i + 1).name, underlayIp: hostIp(subnet.base, i + 1), spawned: [],
    }));
    this.adopt(this.st);
    this.save();

    await createSwitch(names, subnet.base);
    const key = this.options.sshd ? await ensureClientKey(names) : undefined;
    // allSettled: on a failure, let the other hosts finish their step before teardown runs.
    const results = await Promise.allSettled(this._hosts.map((h) => h.create({
      base: subnet.base, image: this.options.image ?? true,
      clientPublicKey: key?.publicKey, clientKeyFile: key?.privateKeyFile,
    })));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    this.st.ready = true;
    this.save();
    this.timings.upMs = Date.now() - started;
  }

  /**
   * Stops every process the lab started (by pid), removes cgroups, namespaces, the root leg
   * and the run dir, then throws LabLeftoverError if anything of the run is left.
   * Idempotent; a lab that never started is a no-op.
   */
  down(): Promise<void> {
    if (!this.state) return Promise.resolve();
    if (!this.downPromise) {
      const state = this.state;
      this.downPromise = teardownRun(state.runId, state).then((r) => {
        this.timings.downMs = r.ms;
        this.timings.downPhases = r.phases;
      });
    }
    return this.downPromise;
  }
}
