/**
 * The churn of the lb-churn benchmark: actions on one drover service behind a load
 * balancer, each run to completion before the next: scale steps, a container removed by
 * hand (`docker rm -f`), a host deactivated and activated again (its instances move), and
 * rolling upgrades. Each action is a Phase, from the moment it is asked for until drover
 * has settled: the service converged, every instance running and healthy, and HAProxy
 * serving exactly those instances (as BackendWatch reads it from HAProxy itself).
 */
import Docker from "dockerode";
import type { LabHost } from "../../test/lab";
import type { EnvAccess } from "../../test/support/control-plane";
import { waitFor } from "../../test/support/wait";
import type { BackendWatch } from "./backend-watch";
import type { Phase, PhaseKind } from "./churn-report";

interface InstanceJson {
  id: string; hostId: string; ip?: string; state: string; healthState?: string;
  status?: { state: string; containerId?: string }; stopping?: unknown;
}

export interface ChurnDriverOptions {
  env: EnvAccess;
  serviceId: string;
  /** The service's scale when the churn starts. */
  scale: number;
  /** The service's target port (HAProxy's servers are `ip:port`). */
  targetPort: number;
  watch: BackendWatch;
  /** HAProxy's backend for the service. */
  backend: string;
  /** Lab hosts by drover host id. */
  hosts: Map<string, LabHost>;
  /** The service's command for upgrade number `n`. */
  commandFor: (version: number) => string[];
  /** How long one action may take to settle. */
  settleTimeoutMs: number;
  /** Random choices (which instance to kill). */
  random: () => number;
}

export class ChurnStuck extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChurnStuck";
  }
}

export class ChurnDriver {
  readonly phases: Phase[] = [];
  scale: number;
  private version = 1;

  constructor(private readonly o: ChurnDriverOptions) {
    this.scale = o.scale;
  }

  /** Membership changes HAProxy made over every phase so far. */
  get changes(): number {
    return this.phases.reduce((n, p) => n + p.changes, 0);
  }

  async scaleTo(n: number): Promise<Phase> {
    const from = this.scale;
    return this.phase(n > from ? "scale-up" : "scale-down", `scale ${from} → ${n}`, async (p) => {
      if (n > from) p.mayLeave = [];
      await this.o.env.api.ok("POST", `${this.base}?action=scale`, { scale: n });
      this.scale = n;
      await this.settled(`scale ${n}`);
    });
  }

  /** `docker rm -f` of one serving instance's container, on its host, behind drover's back. */
  async kill(): Promise<Phase> {
    const live = await this.live();
    const victim = live[Math.floor(this.o.random() * live.length)];
    const host = this.o.hosts.get(victim.hostId);
    if (!host) throw new ChurnStuck(`instance ${victim.id} is on host ${victim.hostId}, which is not a lab host`);
    const docker = new Docker({ socketPath: host.dockerSocket });
    const [c] = await docker.listContainers({ all: true, filters: { label: [`io.drover.instance=${victim.id}`] } });
    if (!c) throw new ChurnStuck(`no container for instance ${victim.id} on ${host.name}`);
    const victimServer = `${victim.ip}:${this.o.targetPort}`;
    return this.phase("kill", `docker rm -f ${victim.id} (${victim.ip}) on ${host.name}`, async (p) => {
      p.victim = victimServer;
      p.mayLeave = [victimServer];
      await docker.getContainer(c.Id).remove({ force: true });
      // Settled once the instance runs again in a new container (the agent recreates it),
      // or a replacement took its place.
      await this.settled(`instance ${victim.id} back after its container was removed`, (list) => {
        const same = list.find((i) => i.id === victim.id);
        const cid = same?.status?.containerId;
        return !same || (cid !== undefined && !c.Id.startsWith(cid) && !cid.startsWith(c.Id));
      });
    });
  }

  /** Deactivates `host` (its instances go elsewhere), waits for that, activates it again. */
  async move(host: LabHost, hostId: string): Promise<Phase> {
    const onHost = (await this.live()).filter((i) => i.hostId === hostId).map((i) => `${i.ip}:${this.o.targetPort}`);
    return this.phase("move", `deactivate ${host.name}, then activate it`, async (p) => {
      p.mayLeave = onHost;
      await this.o.env.api.ok("POST", `${this.o.env.base}/hosts/${hostId}?action=deactivate`);
      await this.settled(`instances off ${host.name}`, (list) => list.every((i) => i.hostId !== hostId));
      await this.o.env.api.ok("POST", `${this.o.env.base}/hosts/${hostId}?action=activate`);
      await waitFor(async () => {
        const h = await this.o.env.api.ok("GET", `${this.o.env.base}/hosts/${hostId}`);
        return h.deactivated === false && h.state === "active";
      }, { what: `${host.name} active again`, timeoutMs: this.o.settleTimeoutMs });
    });
  }

  /**
   * A rolling upgrade to the next version of the command. One that drover rolls back by
   * itself (a new instance failed its check) is churn too: the phase ends once the old
   * version runs everywhere again, marked `rolledBack` with drover's reason.
   */
  async upgrade(): Promise<Phase> {
    const from = this.version;
    const next = from + 1;
    return this.phase("upgrade", `rolling upgrade v${from} → v${next} at scale ${this.scale}`, async (p) => {
      await this.o.env.api.ok("PATCH", this.base, { command: this.o.commandFor(next) });
      this.version = next;
      const end = await waitFor(async () => {
        const s = await this.o.env.api.ok("GET", this.base);
        return (s.upgrade?.state === "upgraded" || s.upgrade?.state === "rolled-back") && s.upgrade;
      }, { what: `the upgrade to v${next} to finish`, timeoutMs: this.o.settleTimeoutMs }).catch(rethrowStuck);
      if (end.state === "rolled-back") {
        p.rolledBack = end.reason ?? "no reason given";
        p.label += " (rolled back)";
      }
      await this.settled(end.state === "upgraded" ? `v${next} everywhere` : `v${from} everywhere again`);
    });
  }

  /** Upgrades that ended on their new version. */
  get upgradesDone(): number {
    return this.phases.filter((p) => p.kind === "upgrade" && !p.rolledBack && !p.error).length;
  }

  private get base(): string {
    return `${this.o.env.base}/services/${this.o.serviceId}`;
  }

  private async phase(kind: PhaseKind, label: string, body: (p: Phase) => Promise<void>): Promise<Phase> {
    const start = Date.now();
    const p: Phase = { kind, label, start, end: start, changes: 0 };
    this.phases.push(p);
    try {
      await body(p);
    } catch (err) {
      p.error = (err as Error).message;
      throw err instanceof ChurnStuck ? err : new ChurnStuck(`${label}: ${p.error}`);
    } finally {
      p.end = Date.now();
      p.changes = this.o.watch.changes(this.o.backend, p.start, p.end + 1);
    }
    return p;
  }

  /** The service's instances that are not on their way out. */
  private async live(): Promise<InstanceJson[]> {
    const list = (await this.o.env.api.ok("GET", `${this.o.env.base}/instances?serviceId=${this.o.serviceId}&limit=1000`)).data as InstanceJson[];
    return list.filter((i) => i.state !== "removing" && i.state !== "removed");
  }

  /**
   * Waits until the service has converged on `this.scale` running, healthy instances, none
   * draining, HAProxy serves exactly their addresses, and `extra` holds.
   */
  private async settled(what: string, extra?: (live: InstanceJson[]) => boolean): Promise<void> {
    await waitFor(async () => {
      const s = await this.o.env.api.ok("GET", this.base);
      if (s.transitioning !== "no") return false;
      const live = await this.live();
      if (live.length !== this.scale) return false;
      if (!live.every((i) => i.status?.state === "running" && i.healthState === "healthy" && !i.stopping && i.ip)) return false;
      const servingNow = this.o.watch.servingNow(this.o.backend);
      if (servingNow.size !== this.scale || !live.every((i) => servingNow.has(`${i.ip}:${this.o.targetPort}`))) return false;
      return extra ? extra(live) : true;
    }, { what, timeoutMs: this.o.settleTimeoutMs, maxIntervalMs: 100 }).catch(rethrowStuck);
  }
}

function rethrowStuck(err: unknown): never {
  throw err instanceof ChurnStuck ? err : new ChurnStuck((err as Error).message);
}

/** A small seeded generator (mulberry32): the same seed kills the same sequence of instances. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
