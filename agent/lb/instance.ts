/**
 * One load balancer instance's HAProxy, kept in step with its desired document and the
 * directory. Everything it does runs in one loop (a Coalescer), so a start, a reload and a
 * membership sync never interleave; triggers arriving meanwhile fold into one more pass.
 *
 * A pass: (1) adopt the HAProxy a previous agent left, or start one (config checked first);
 * (2) if rules, certificates, timeouts or slot counts changed, check the new config with
 * `haproxy -c` and reload seamlessly, at most once per RELOAD_GAP_MS; a config HAProxy
 * refuses is reported as the error and the running one keeps serving; (3) bring backend
 * servers in line with the directory through the runtime API only, and read their states
 * back for the status.
 *
 * Supervision: a master that exits is started again after a growing back-off. `detach()`
 * (agent stopping) leaves HAProxy running; `destroy()` stops it and removes its files.
 */
import * as fs from "fs";
import type { DnsDirectory } from "../../runtime/protocol/dns";
import type { DesiredLoadBalancer, HostNetworkSpec, LoadBalancerInstanceStatus } from "../../runtime/protocol/model";
import { delay } from "../backoff";
import { Coalescer } from "../coalescer";
import { errorMessage, Logger } from "../log";
import { alerts, checkConfig, HaproxyMaster, ReloadFailed } from "./haproxy-process";
import { buildConfig, BuiltConfig } from "./instance-config";
import {
  capLog, ensureDirs, fileSize, logSince, pruneCertificates, readApplied, readIfExists, writeApplied, writeAtomic, writeCertificates,
} from "./instance-files";
import { lbPaths, LbPaths } from "./paths";
import type { RoutingPlan } from "./routing";
import { readServers, slotsOf, syncServers } from "./server-sync";
import type { SlotState } from "./slots";
import { Supervisor } from "./supervisor";
import { LbSpecError } from "./spec-error";

/** At most one reload per this many ms: a burst of rule changes becomes one reload. */
export const RELOAD_GAP_MS = 100;
/** A reload HAProxy failed (not a config it refused) is tried again after this long. */
const RELOAD_RETRY_MS = 10_000;
const SYNC_RETRY_MS = 1000;

export interface InstanceDeps {
  stateDir: string;
  bin: string;
  log: Logger;
  /** Called whenever this instance's status may have changed. */
  changed: () => void;
}

export class LbInstance {
  readonly paths: LbPaths;
  private readonly log: Logger;
  private desired: DesiredLoadBalancer;
  private network?: HostNetworkSpec;
  private directory?: DnsDirectory;
  private master?: HaproxyMaster;
  private triedAdopt = false;
  /** What the running HAProxy serves; undefined when unknown (adopted with a structure we cannot rebuild). */
  private running?: BuiltConfig;
  private runningStructure?: string;
  private slotCounts: Record<string, number> = {};
  /** Backend → its slots as HAProxy last reported them. */
  private slots: Record<string, SlotState[]> = {};
  /** A structure not to try again: refused by `haproxy -c` (until it changes), or a failed reload (for a while). */
  private refused?: { structure: string; until: number };
  private state: LoadBalancerInstanceStatus["state"] = "starting";
  private error?: string;
  private since = new Date().toISOString();
  private reloads = 0;
  private backends: LoadBalancerInstanceStatus["backends"] = {};
  private lastReloadAt = 0;
  private retryTimer?: NodeJS.Timeout;
  private readonly supervisor: Supervisor;
  private detached = false;
  private readonly loop: Coalescer;

  constructor(desired: DesiredLoadBalancer, network: HostNetworkSpec | undefined, directory: DnsDirectory | undefined, private readonly deps: InstanceDeps) {
    this.paths = lbPaths(deps.stateDir, desired.id);
    this.desired = desired;
    this.network = network;
    this.directory = directory;
    this.log = deps.log.child({ lbInstance: desired.id, lb: desired.name });
    this.loop = new Coalescer(() => this.converge());
    this.supervisor = new Supervisor((m) => this.masterGone(m), () => this.loop.trigger("restart"));
  }

  get id(): string {
    return this.desired.id;
  }

  update(desired: DesiredLoadBalancer, network: HostNetworkSpec | undefined): void {
    this.desired = desired;
    this.network = network;
    this.loop.trigger("apply");
  }

  setDirectory(directory: DnsDirectory): void {
    this.directory = directory;
    this.loop.trigger("directory");
  }

  /** Resolves when no pass is running or pending (a back-off restart may still be scheduled). */
  settle(): Promise<void> {
    return this.loop.idle();
  }

  status(): LoadBalancerInstanceStatus {
    return {
      state: this.state,
      ...(this.error !== undefined ? { error: this.error } : {}),
      reloads: this.reloads,
      backends: this.backends,
      since: this.since,
    };
  }

  /** The master's pid, for tests and logs (undefined while none runs). */
  masterPid(): number | undefined {
    return this.master?.alive() ? this.master.pid : undefined;
  }

  /** Agent stopping: no more passes, no supervision; HAProxy keeps serving for the next agent. */
  async detach(): Promise<void> {
    this.detached = true;
    this.clearTimers();
    await this.loop.stop();
  }

  /** The instance is gone from this host: stop its HAProxy and remove its files. */
  async destroy(): Promise<void> {
    await this.detach();
    const m = this.master ?? HaproxyMaster.find(this.paths);
    await m?.stop();
    this.master = undefined;
    fs.rmSync(this.paths.dir, { recursive: true, force: true });
    this.setState("stopped", undefined);
    this.log.info("load balancer instance removed");
  }

  // ------------------------------------------------------------------ the pass

  private async converge(): Promise<void> {
    if (this.detached) return;
    try {
      if (capLog(this.paths.log)) this.log.info("haproxy log passed 1 MiB and was emptied");
      if (!this.master?.alive()) {
        if (this.supervisor.pending()) return;
        await this.startOrAdopt();
        if (!this.master) return;
      }
      await this.reloadIfNeeded();
      await this.syncMembership();
    } catch (err) {
      const m = this.master;
      if (m && !m.alive()) this.masterGone(m);
      else if (!m) this.scheduleRestart(errorMessage(err));
      else {
        // HAProxy runs but did not answer as expected: try the pass again shortly.
        this.log.warn("load balancer pass failed; retrying", { reason: errorMessage(err) });
        this.retryLater();
      }
    } finally {
      this.deps.changed();
    }
  }

  private build(): BuiltConfig {
    return buildConfig({
      lb: this.desired, network: this.network, paths: this.paths, directory: this.directory,
      slotCounts: this.slotCounts, slots: this.slots,
    });
  }

  /** A build of the desired state, or undefined (state error) when the spec cannot be rendered. */
  private tryBuild(): BuiltConfig | undefined {
    try {
      return this.build();
    } catch (err) {
      if (!(err instanceof LbSpecError)) throw err;
      if (this.error !== err.message) this.log.warn("load balancer spec cannot be rendered", { reason: err.message });
      this.setState("error", err.message);
      return undefined;
    }
  }

  private async startOrAdopt(): Promise<void> {
    ensureDirs(this.paths);
    if (!this.triedAdopt) {
      this.triedAdopt = true;
      const found = HaproxyMaster.find(this.paths);
      if (found && (await found.answers())) return this.adopt(found);
      if (found) {
        // Alive but not answering (or without a worker): a second HAProxy beside it would
        // share its ports (SO_REUSEPORT), so it goes first.
        this.log.warn("stopping an haproxy that does not answer on its master socket", { pid: found.pid });
        await found.stop();
      }
    }
    const build = this.tryBuild();
    if (!build) return;
    if (this.isRefused(build.structure)) return;
    this.setState("starting", this.error);
    if (!(await this.checkCandidate(build))) return;
    fs.renameSync(this.paths.candidate, this.paths.config);
    const logOffset = fileSize(this.paths.log);
    const m = HaproxyMaster.spawn(this.deps.bin, this.paths);
    try {
      // Not watched yet: a master dying while it starts is this failure (with HAProxy's reason), not a crash.
      await m.waitReady();
    } catch (err) {
      await m.stop();
      const why = alerts(logSince(this.paths.log, logOffset));
      throw new Error(`haproxy did not start: ${why || errorMessage(err)}`);
    }
    this.watch(m);
    this.reloads = 0;
    this.acceptRunning(build);
    this.setState("running", undefined);
    this.log.info("haproxy started", { pid: m.pid });
  }

  private async adopt(m: HaproxyMaster): Promise<void> {
    this.watch(m);
    const applied = readApplied(this.paths);
    this.slotCounts = applied?.slotCounts ?? {};
    this.runningStructure = applied?.structure;
    this.slots = slotsOf(await readServers(this.paths.runtimeSocket));
    const build = (() => { try { return this.build(); } catch { return undefined; } })();
    if (build && build.structure === this.runningStructure) this.running = build;
    this.reloads = applied?.reloads ?? 0;
    this.setState("running", undefined);
    this.log.info("adopted running haproxy", { pid: m.pid });
  }

  private async reloadIfNeeded(): Promise<void> {
    let build = this.tryBuild();
    if (!build) return;
    if (build.structure === this.runningStructure) {
      this.refused = undefined;
      if (this.state !== "running") this.setState("running", undefined);
      return;
    }
    const wait = this.lastReloadAt + RELOAD_GAP_MS - Date.now();
    if (wait > 0) {
      await delay(wait);
      // Whatever arrived meanwhile goes into this one reload.
      build = this.tryBuild();
      if (!build || build.structure === this.runningStructure) return;
    }
    if (this.isRefused(build.structure)) return;
    if (!(await this.checkCandidate(build))) return;
    const m = this.master!;
    const previous = readIfExists(this.paths.config);
    fs.renameSync(this.paths.candidate, this.paths.config);
    const logOffset = fileSize(this.paths.log);
    try {
      await m.reload();
    } catch (err) {
      // The master keeps the old worker; keep the old config on disk too, for the next reload or restart.
      if (previous !== undefined) writeAtomic(this.paths.config, previous);
      if (!(err instanceof ReloadFailed)) throw err;
      const why = alerts(logSince(this.paths.log, logOffset)) || err.message;
      this.refused = { structure: build.structure, until: Date.now() + RELOAD_RETRY_MS };
      this.log.warn("haproxy reload failed; the previous config keeps serving", { reason: why });
      this.setState("error", `reload failed: ${why}`);
      // What made it fail (a port another process holds) may pass: try again later.
      this.retryLater(RELOAD_RETRY_MS + 10);
      return;
    }
    this.lastReloadAt = Date.now();
    if (build.grown.length) this.log.warn("backend server slots ran out: reloaded with more", { backends: build.grown, slotCounts: build.slotCounts });
    this.reloads++;
    this.acceptRunning(build);
    this.setState("running", undefined);
    this.log.info("haproxy reloaded", { reloads: this.reloads, slotsGrown: build.grown.length > 0 });
  }

  /** Writes the candidate (and its certificates) and asks `haproxy -c`; false (state error) when refused. */
  private async checkCandidate(build: BuiltConfig): Promise<boolean> {
    writeCertificates(build.certificates);
    writeAtomic(this.paths.candidate, build.text);
    const check = await checkConfig(this.deps.bin, this.paths.candidate);
    if (check.ok) return true;
    fs.rmSync(this.paths.candidate, { force: true });
    const message = `haproxy refused the config: ${this.nameCertificates(check.message, build)}`;
    this.refused = { structure: build.structure, until: Infinity };
    this.log.warn("haproxy refused the new config; the running one keeps serving", { reason: message });
    this.setState("error", message);
    return false;
  }

  private isRefused(structure: string): boolean {
    if (!this.refused) return false;
    if (this.refused.structure === structure && Date.now() < this.refused.until) return true;
    this.refused = undefined;
    return false;
  }

  private acceptRunning(build: BuiltConfig): void {
    this.running = build;
    this.runningStructure = build.structure;
    this.slotCounts = build.slotCounts;
    this.refused = undefined;
    // Counted here, not read from HAProxy: its master counts a failed reload's fallback re-exec as a reload too.
    writeApplied(this.paths, { structure: build.structure, slotCounts: build.slotCounts, reloads: this.reloads });
    pruneCertificates(this.paths, [build.certificates]);
  }

  /** HAProxy names files by path: say which certificate (by id) instead, and just "haproxy.cfg" for the candidate. */
  private nameCertificates(message: string, build: BuiltConfig): string {
    let out = message.split(this.paths.candidate).join("haproxy.cfg");
    for (const f of build.certificates?.files ?? []) {
      if (f.certificateId) out = out.split(f.path).join(`certificate ${f.certificateId}`);
    }
    return out;
  }

  // ------------------------------------------------------------------ membership

  /** Moves servers in and out of slots through the runtime API (never a reload), then reads their states back. */
  private async syncMembership(): Promise<void> {
    const result = await syncServers(this.paths.runtimeSocket, this.routingForSync(), this.directory, this.log);
    this.slots = result.slots;
    this.backends = result.backends;
    // The config on disk carries the membership too, so a restart or reload starts right.
    if (this.running) {
      const text = this.running.withSlots(this.slots);
      if (text !== readIfExists(this.paths.config)) writeAtomic(this.paths.config, text);
    }
    if (result.unplaced > 0) this.loop.trigger("slots"); // the next pass builds more slots (a reload)
  }

  /** The desired routing when it renders, else the running one. */
  private routingForSync(): RoutingPlan | undefined {
    try {
      return this.build().routing;
    } catch {
      return this.running?.routing;
    }
  }

  // ------------------------------------------------------------------ supervision

  private watch(m: HaproxyMaster): void {
    this.master = m;
    this.supervisor.watch(m);
  }

  private masterGone(m: HaproxyMaster): void {
    if (this.detached || this.master !== m) return;
    this.master = undefined;
    this.backends = {};
    this.log.warn("haproxy exited", { pid: m.pid, reason: m.exitReason() });
    this.scheduleRestart(`haproxy (pid ${m.pid}) ${m.exitReason()}`);
  }

  private scheduleRestart(reason: string): void {
    if (this.detached) return;
    const wait = this.supervisor.scheduleRestart();
    if (wait === undefined) return;
    this.setState("error", `${reason}; starting again in ${wait} ms`);
    this.deps.changed();
  }

  private retryLater(ms = SYNC_RETRY_MS): void {
    if (this.retryTimer || this.detached) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.loop.trigger("retry");
    }, ms);
    this.retryTimer.unref();
  }

  private clearTimers(): void {
    this.supervisor.stop();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private setState(state: LoadBalancerInstanceStatus["state"], error: string | undefined): void {
    if (state !== this.state) this.since = new Date().toISOString();
    this.state = state;
    this.error = error;
  }
}
