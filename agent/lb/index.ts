/**
 * The agent's load balancers: one HAProxy per load balancer instance this host runs
 * (instance.ts says why one each, and how each is kept in step). The agent hands it the
 * desired instances (`apply`, level-triggered) and every new directory (`setDirectory`,
 * membership through HAProxy's runtime API only), and reports `status()`.
 */
import { EventEmitter } from "events";
import * as fs from "fs";
import * as path from "path";
import type { DnsDirectory } from "../../runtime/protocol/dns";
import type { DesiredLoadBalancer, HostNetworkSpec, LoadBalancerInstanceStatus } from "../../runtime/protocol/model";
import { errorMessage, Logger } from "../log";
import { DEFAULT_HAPROXY, HaproxyMaster } from "./haproxy-process";
import { LbInstance } from "./instance";
import { lbPaths, lbRoot } from "./paths";

export interface LoadBalancersOptions {
  /** The agent's state dir; each instance lives in `<stateDir>/lb/<instanceId>/`. */
  stateDir: string;
  log: Logger;
  /** Default /usr/sbin/haproxy (Debian's 2.6). */
  haproxyBin?: string;
}

/** Emits "change" whenever `status()` would report something different. */
export class LoadBalancers extends EventEmitter {
  private readonly instances = new Map<string, LbInstance>();
  private directory?: DnsDirectory;
  private lastStatus = "{}";
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly log: Logger;
  private readonly bin: string;

  constructor(private readonly opts: LoadBalancersOptions) {
    super();
    this.log = opts.log.child({ component: "lb" });
    this.bin = opts.haproxyBin ?? DEFAULT_HAPROXY;
  }

  /**
   * Makes this host run exactly these load balancer instances: starts, adopts, reloads or
   * stops HAProxies. Resolves once every instance has finished its pass. Never throws:
   * problems show in `status()` and the log.
   */
  apply(lbs: DesiredLoadBalancer[], network?: HostNetworkSpec): Promise<void> {
    // Only the bookkeeping is serialized (so the last call's list wins); waiting for the
    // instances is not, so calls in a burst fold into the instances' next passes.
    return this.serialized(() => this.applyNow(lbs, network)).then(() => this.settled());
  }

  /** A new directory document: backend membership follows it through the runtime API (no reload). */
  setDirectory(directory: DnsDirectory): void {
    this.directory = directory;
    for (const inst of this.instances.values()) inst.setDirectory(directory);
  }

  status(): Record<string, LoadBalancerInstanceStatus> {
    const out: Record<string, LoadBalancerInstanceStatus> = {};
    for (const [id, inst] of [...this.instances].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[id] = inst.status();
    return out;
  }

  /** The master pid of an instance's HAProxy (undefined while none runs). */
  masterPid(instanceId: string): number | undefined {
    return this.instances.get(instanceId)?.masterPid();
  }

  /** Agent stopping: supervision ends, every HAProxy keeps serving, and the next agent adopts it. */
  stop(): Promise<void> {
    return this.serialized(async () => {
      this.closed = true;
      await Promise.all([...this.instances.values()].map((i) => i.detach()));
    });
  }

  /** Host removed: every HAProxy stopped (ours and any a previous agent left), their files removed. */
  teardown(): Promise<void> {
    return this.serialized(async () => {
      this.closed = true;
      await Promise.all([...this.instances.values()].map((i) => i.destroy().catch((err) => this.log.error("could not remove a load balancer instance", { lbInstance: i.id, reason: errorMessage(err) }))));
      this.instances.clear();
      await this.removeLeftovers(new Set());
      fs.rmSync(lbRoot(this.opts.stateDir), { recursive: true, force: true });
      this.emitIfChanged();
    });
  }

  private async applyNow(lbs: DesiredLoadBalancer[], network?: HostNetworkSpec): Promise<void> {
    if (this.closed) return;
    const wanted = new Map<string, DesiredLoadBalancer>();
    for (const lb of lbs) {
      try {
        lbPaths(this.opts.stateDir, lb.id); // a bad id or a too-long state dir: say so, serve the others
      } catch (err) {
        this.log.error("load balancer instance cannot run here", { lbInstance: lb.id, reason: errorMessage(err) });
        continue;
      }
      if (wanted.has(lb.id)) this.log.warn("load balancer instance listed twice; the last one counts", { lbInstance: lb.id });
      wanted.set(lb.id, lb);
    }
    for (const [id, inst] of [...this.instances]) {
      if (wanted.has(id)) continue;
      this.instances.delete(id);
      await inst.destroy().catch((err) => this.log.error("could not remove a load balancer instance", { lbInstance: id, reason: errorMessage(err) }));
    }
    await this.removeLeftovers(new Set(wanted.keys()));
    for (const [id, lb] of wanted) {
      const inst = this.instances.get(id);
      if (inst) inst.update(lb, network);
      else {
        const created = new LbInstance(lb, network, this.directory, {
          stateDir: this.opts.stateDir, bin: this.bin, log: this.log, changed: () => this.emitIfChanged(),
        });
        this.instances.set(id, created);
        created.update(lb, network);
      }
    }
  }

  private async settled(): Promise<void> {
    await Promise.all([...this.instances.values()].map((i) => i.settle()));
    this.emitIfChanged();
  }

  /** Instances a previous agent ran that nobody wants any more: stop their HAProxy, remove their files. */
  private async removeLeftovers(keep: Set<string>): Promise<void> {
    let names: string[];
    try {
      names = fs.readdirSync(lbRoot(this.opts.stateDir));
    } catch {
      return;
    }
    for (const name of names) {
      if (keep.has(name) || this.instances.has(name)) continue;
      try {
        const paths = lbPaths(this.opts.stateDir, name);
        const m = HaproxyMaster.find(paths);
        if (m) {
          await m.stop();
          this.log.info("stopped the haproxy of a load balancer instance no longer on this host", { lbInstance: name, pid: m.pid });
        }
      } catch (err) {
        this.log.warn("could not check a leftover load balancer directory", { dir: name, reason: errorMessage(err) });
      }
      fs.rmSync(path.join(lbRoot(this.opts.stateDir), name), { recursive: true, force: true });
    }
  }

  private emitIfChanged(): void {
    const now = JSON.stringify(this.status());
    if (now === this.lastStatus) return;
    this.lastStatus = now;
    this.emit("change");
  }

  private serialized(job: () => Promise<void>): Promise<void> {
    const run = this.queue.then(job).catch((err) => this.log.error("load balancers: unexpected failure", { reason: errorMessage(err) }));
    this.queue = run;
    return run;
  }
}

export type { DesiredLoadBalancer, LoadBalancerInstanceStatus };
