/**
 * A pass-by-pass simulation of the planner with agents that do what they are told at once:
 * each step plans, applies the plan to the records, then every host "runs" the containers
 * of its desired document and its checker answers with the verdicts the test decides. Time
 * moves by `stepMs` (or to the plan's wakeAt when sooner). No I/O: it exercises the real
 * planEnvironment with everything around it faked as simply as possible.
 */
import type {
  HealthVerdict, HostDesiredState, HostObservedState, InstanceRecord, LoadBalancerRecord, ServiceRecord,
} from "../../../runtime/protocol/model";
import { buildDnsDirectory } from "../../../runtime/reconcile/dns-directory";
import { planEnvironment } from "../../../runtime/reconcile/plan";
import type { Plan, PlanInput } from "../../../runtime/reconcile/plan-types";

export interface SimOptions {
  /** The verdict a checker on `checkerHost` gives `instance` (default: passing). */
  verdict?: (instance: InstanceRecord, checkerHost: string, now: number) => HealthVerdict["state"];
  /** Whether the agent on this host starts this instance's container (default yes); false = it fails to start. */
  starts?: (instance: InstanceRecord) => boolean;
  stepMs?: number;
}

export class Sim {
  now: number;
  generation = 0;
  plans: Plan[] = [];
  private n = 0;
  /** Container start time per instance id, as the fake agents report it. */
  private readonly started = new Map<string, string>();
  /** Verdict state and since, per checker host and instance. */
  private readonly verdicts = new Map<string, HealthVerdict>();

  constructor(readonly input: PlanInput, private readonly opts: SimOptions = {}) {
    this.now = input.now;
  }

  get services(): ServiceRecord[] { return this.input.snapshot.services; }
  get instances(): InstanceRecord[] { return this.input.snapshot.instances; }
  get loadBalancers(): LoadBalancerRecord[] { return this.input.snapshot.loadBalancers ?? []; }
  service(id: string): ServiceRecord { return this.services.find((s) => s.id === id)!; }

  /** One pass: plan, apply, let the agents act, move the clock. */
  step(): Plan {
    this.input.now = this.now;
    this.input.newId = () => `s${this.plans.length}-${++this.n}`;
    const plan = planEnvironment(this.input);
    this.plans.push(plan);
    this.apply(plan);
    this.agents();
    const next = this.now + (this.opts.stepMs ?? 500);
    this.now = plan.wakeAt !== undefined && plan.wakeAt > this.now ? Math.min(plan.wakeAt, next) : next;
    return plan;
  }

  /** Steps until `done` holds (checked after each step), at most `max` steps. */
  until(done: (sim: Sim) => boolean, max = 400): number {
    for (let i = 0; i < max; i++) {
      this.step();
      if (done(this)) return i + 1;
    }
    throw new Error(`not done after ${max} steps; services: ${JSON.stringify(this.services.map((s) => ({ id: s.id, v: s.specVersion, t: s.transitioning, m: s.transitioningMessage, u: s.upgrade?.state })))}`);
  }

  /** Instances that DNS would hand out now (running, healthy where checked, not draining). */
  serving(serviceId: string): InstanceRecord[] {
    const dir = buildDnsDirectory(this.input.snapshot.stacks, this.services, this.instances);
    const ids = new Set(dir.instances.filter((i) => i.running && i.healthy !== false && !i.draining).map((i) => i.id));
    return this.instances.filter((i) => i.serviceId === serviceId && ids.has(i.id));
  }

  private apply(plan: Plan): void {
    const s = this.input.snapshot;
    const gone = (kind: string) => new Set(plan.batch.remove.filter((r) => r.kind === kind).map((r) => r.id));
    const merge = <T extends { id: string }>(list: T[], kind: string): T[] => {
      const removed = gone(kind);
      const byId = new Map(list.filter((r) => !removed.has(r.id)).map((r) => [r.id, r]));
      for (const p of plan.batch.put) if (p.kind === kind) byId.set(p.record.id, p.record as unknown as T);
      return [...byId.values()];
    };
    s.hosts = merge(s.hosts, "host");
    s.services = merge(s.services, "service");
    s.instances = merge(s.instances, "instance");
    s.loadBalancers = merge(s.loadBalancers ?? [], "loadBalancer");
    s.stacks = merge(s.stacks, "stack");
    s.rev++;
    for (const doc of plan.desired) this.input.desired[doc.hostId] = { ...doc, generation: ++this.generation } as HostDesiredState;
    if (plan.dns) this.input.dns = { version: (this.input.dns?.version ?? 0) + 1, directory: plan.dns };
  }

  private agents(): void {
    const iso = new Date(this.now).toISOString();
    for (const [hostId, desired] of Object.entries(this.input.desired)) {
      if (!desired || !(this.input.heartbeats[hostId] ?? 0)) continue;
      const observed: HostObservedState = { hostId, appliedGeneration: desired.generation, instances: {}, reportedAt: iso, health: {}, loadBalancers: {} };
      for (const d of desired.instances) {
        const record = this.instances.find((i) => i.id === d.id);
        if (record && this.opts.starts && !this.opts.starts(record)) {
          observed.instances[d.id] = { state: "error", error: "image not found", restartCount: 0 };
          continue;
        }
        if (!this.started.has(d.id)) this.started.set(d.id, iso);
        observed.instances[d.id] = { state: "running", startedAt: this.started.get(d.id), restartCount: 0, containerId: `c-${d.id}` };
      }
      for (const lb of desired.loadBalancers ?? []) {
        observed.loadBalancers![lb.id] = { state: "running", reloads: 0, backends: {}, since: iso };
      }
      for (const target of desired.checks ?? []) {
        const record = this.instances.find((i) => i.id === target.instanceId);
        if (!record) continue;
        const state = (this.opts.verdict ?? (() => "passing"))(record, hostId, this.now);
        const key = `${hostId}/${target.instanceId}/${target.startedAt}`;
        const prev = this.verdicts.get(key);
        const v: HealthVerdict = prev && prev.state === state ? prev : { state, startedAt: target.startedAt, since: iso, ...(state === "failing" ? { reason: "connection refused" } : {}) };
        this.verdicts.set(key, v);
        observed.health![target.instanceId] = v;
      }
      this.input.observed[hostId] = observed;
    }
  }
}
