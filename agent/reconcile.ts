import type { ContainerInspectInfo } from "dockerode";
import { containerLabels } from "../runtime/protocol/agent-protocol";
import type { HostDesiredState, HostNetworkSpec, HostObservedState } from "../runtime/protocol/model";
import type { HostKeys } from "../runtime/protocol/keys";
import { parseDesired } from "./desired";
import type { HostSecrets } from "./host-secrets";
import { dockerConcurrency } from "./docker/concurrency";
import type { DockerContainers } from "./docker/containers";
import { forEachLimited } from "./limited";
import type { NetworkManager } from "./network/manager";
import { errorMessage, Logger } from "./log";
import { buildObserved } from "./observed";
import { ManagedContainer, PlanAction, planHost } from "./plan";
import { SIDEKICK_ID_SEPARATOR, isSidekickId, isSidekickInstance } from "./sidekicks";
import { RedisLink, redisReason } from "./redis-link";
import type { Reports } from "./reports";

/** The coalescer reason for "only a status part changed" (overlay, health verdicts, load balancers). */
export const statusReason = "status";

/**
 * A component that follows the desired document beside the containers and reports a part of
 * the observed one: health checks (agent/health), load balancers (agent/lb).
 */
export interface ObservedPart {
  /** Called with every desired document the agent works from; never throws. */
  apply(desired: HostDesiredState): Promise<void> | void;
  /** Adds this part's current status to an observed document. */
  addTo(observed: HostObservedState): void;
}

/** Plan/apply passes per reconcile: a second one only follows an adoption. */
const maxPasses = 3;

/**
 * One level-triggered reconcile: read the desired document (or keep the last one seen when
 * Redis is away), plan against this host's drover containers, apply, then report observed.
 */
export class Reconciler {
  private lastDesired?: HostDesiredState;
  private lastDesiredText?: string;
  private waitingLogged = false;
  /** The last observed document written, so a network status change can be reported without a Docker pass. */
  private lastObserved?: HostObservedState;
  /** networkKey of the spec last applied without an error: its bridge exists. */
  private settledNetwork?: string;

  constructor(
    private readonly link: RedisLink,
    private readonly keys: HostKeys,
    private readonly hostId: string,
    private readonly containers: DockerContainers,
    private readonly reports: Reports,
    private readonly log: Logger,
    private readonly network?: Pick<NetworkManager, "apply" | "status">,
    private readonly parts: ObservedPart[] = [],
    private readonly onDockerDown?: (reason: string) => void,
    /** Opens what the server sealed for this host (certificate keys, the PSK); absent in tests without secrets. */
    private readonly secrets?: HostSecrets,
  ) {}

  /**
   * A container of an instance died (a Docker event): the last report says so at once, ahead
   * of the next full pass, which may not come while dockerd itself is stopping.
   */
  containerDied(instanceId: string, exitCode: number | undefined): boolean {
    const status = this.lastObserved?.instances[instanceId];
    if (!this.lastObserved || !status || status.state !== "running") return false;
    this.lastObserved = {
      ...this.lastObserved,
      instances: { ...this.lastObserved.instances, [instanceId]: { ...status, state: "exited", ...(exitCode !== undefined ? { exitCode } : {}) } },
    };
    return true;
  }

  /** The desired document the agent is working from (for tests and logs). */
  get desired(): HostDesiredState | undefined {
    return this.lastDesired;
  }

  async reconcile(reasons: string[]): Promise<void> {
    // Only a status changed (overlay, verdicts, HAProxy): write it into the last report, no Docker pass needed.
    if (reasons.every((r) => r === statusReason) && this.lastObserved) {
      await this.write(this.withParts({ ...this.lastObserved, reportedAt: new Date().toISOString() }));
      return;
    }
    const desired = await this.readDesired(reasons);
    if (!desired) return;
    // The bridge network must exist before containers join it. Once it was made for this very
    // spec, a later apply only re-verifies bridge, rules and routes (a dozen iptables and ip
    // processes: 0.2-2 s on a busy host, the largest part of drover's time before its first
    // container in bench/overhead.bench.ts): that runs beside the containers, not before them.
    const settled = this.settledNetwork !== undefined && networkKey(desired.network) === this.settledNetwork;
    const verifying = settled ? this.applyNetwork(desired.network) : undefined;
    if (!verifying) await this.applyNetwork(desired.network);
    for (const part of this.parts) {
      try {
        await part.apply(desired);
      } catch (err) {
        this.log.error("applying the desired state to a component failed", { reason: errorMessage(err) });
      }
    }
    const errors = new Map<string, string>();
    let acted = 0;
    try {
      acted = await this.converge(desired, errors);
      if (verifying) {
        await verifying;
        // An action that failed while the network was being verified (its bridge removed behind
        // the agent's back and made again just now, say) gets one more try.
        if (errors.size > 0) {
          errors.clear();
          acted += await this.converge(desired, errors);
        }
      }
    } catch (err) {
      await verifying; // never rejects; the next reconcile must not overlap it
      // Docker unreachable or similar: the next trigger (or resync) tries again. The parts'
      // statuses (Docker down, containers that died) still go out with the last report.
      this.log.error("reconcile failed", { generation: desired.generation, reason: errorMessage(err) });
      if (isDockerDown(err)) this.onDockerDown?.(errorMessage(err));
      if (this.lastObserved) await this.write(this.withParts({ ...this.lastObserved, reportedAt: new Date().toISOString() }));
      return;
    }
    const summary = { generation: desired.generation, actions: acted, errors: errors.size, reasons };
    if (acted > 0) this.log.info("reconciled", summary);
    else this.log.debug("reconciled", summary);
    await this.report(desired, errors);
  }

  /** Network apply (never throws); remembers the spec once applied without error. */
  private async applyNetwork(spec: HostNetworkSpec | undefined): Promise<void> {
    if (!this.network) return;
    await this.network.apply(spec);
    this.settledNetwork = spec && !this.network.status()?.error ? networkKey(spec) : undefined;
  }

  /** Plan/apply passes until nothing is left to do (or maxPasses); returns the actions taken. Throws when Docker is down. */
  private async converge(desired: HostDesiredState, errors: Map<string, string>): Promise<number> {
    let acted = 0;
    for (let pass = 0; pass < maxPasses; pass++) {
      const actions = planHost(desired, await this.containers.list());
      if (actions.length === 0) break;
      acted += actions.length;
      let adopted = false;
      // Removals first (they free names and host ports), then the rest side by side: a
      // container's start is mostly dockerd's own wait, so a few at once fill the host.
      const removals: PlanAction[] = actions.filter((a) => a.kind === "remove");
      const rest: PlanAction[] = actions.filter((a) => a.kind !== "remove");
      // Sidekicks join their primary's namespace: they go once the primaries of this pass are up.
      const primaries = rest.filter((a) => a.kind === "remove" || !isSidekickInstance(a.instance));
      const sidekicks = rest.filter((a) => a.kind !== "remove" && isSidekickInstance(a.instance));
      for (const group of [removals, primaries, sidekicks]) {
        await forEachLimited(group, dockerConcurrency, async (action) => { adopted = (await this.apply(action, errors)) || adopted; });
      }
      if (!adopted) break;
    }
    return acted;
  }

  /** The desired document from Redis, else the last one seen; undefined (logged) when there is none yet. */
  private async readDesired(reasons: string[]): Promise<HostDesiredState | undefined> {
    let text: string | null;
    try {
      text = await this.link.cmd.get(this.keys.desired);
    } catch (err) {
      this.link.noteError(err);
      if (this.lastDesired) this.log.warn("redis unavailable: applying the last desired state seen", { generation: this.lastDesired.generation, reason: redisReason(err) });
      // Before the first connection this is the normal start-up order, not news.
      else if (this.link.everReady) this.log.info("redis unavailable and no desired state seen yet: leaving containers as they are", { reasons, reason: redisReason(err) });
      return this.lastDesired;
    }
    if (text === null) {
      // Never treated as "no instances": a missing key must not remove every container.
      if (!this.lastDesired && !this.waitingLogged) this.log.info("no desired state yet: leaving containers as they are", { reasons });
      this.waitingLogged = true;
      return this.lastDesired;
    }
    if (text === this.lastDesiredText) return this.lastDesired;
    try {
      const parsed = parseDesired(text, this.hostId);
      this.lastDesired = this.secrets ? this.secrets.openDesired(parsed) : parsed;
      this.lastDesiredText = text;
    } catch (err) {
      this.log.error("ignoring invalid desired state", { reason: errorMessage(err), keptGeneration: this.lastDesired?.generation });
    }
    return this.lastDesired;
  }

  /** Applies one action; returns true when an existing container was adopted (re-plan needed). */
  private async apply(action: PlanAction, errors: Map<string, string>): Promise<boolean> {
    try {
      switch (action.kind) {
        case "remove":
          await this.containers.remove(action.containerId, { name: action.name, instance: action.instanceId, reason: action.reason });
          return false;
        case "recreate":
          this.log.info("recreating container", { instance: action.instance.id, name: action.instance.name, reason: action.reason });
          await this.containers.remove(action.containerId, { name: action.instance.name, instance: action.instance.id, reason: action.reason });
          return (await this.containers.createAndStart(action.instance)).adopted;
        case "create":
          return (await this.containers.createAndStart(action.instance)).adopted;
        case "start":
          await this.containers.start(action.containerId, action.instance);
          return false;
      }
    } catch (err) {
      const id = action.kind === "remove" ? action.instanceId : action.instance.id;
      this.log.error(`${action.kind} failed`, { instance: id, containerId: "containerId" in action ? action.containerId : undefined, reason: errorMessage(err) });
      // A sidekick's failure is reported on its primary (the server knows only primaries).
      if (id) errors.set(id.split(SIDEKICK_ID_SEPARATOR)[0], isSidekickId(id) ? `sidekick ${id.split(SIDEKICK_ID_SEPARATOR)[1]}: ${errorMessage(err)}` : errorMessage(err));
      if (isDockerDown(err)) throw err;
      return false;
    }
  }

  private async report(desired: HostDesiredState, errors: Map<string, string>): Promise<void> {
    let observed;
    try {
      const inspected = new Map<string, ContainerInspectInfo>();
      // Instances side by side (one inspect each, a few ms of dockerd's time), not one after
      // another: the report is the last step before the server can show them active.
      await forEachLimited(inspectionOrder(desired, await this.containers.list()), dockerConcurrency, async ({ instanceId, containerIds }) => {
        for (const id of containerIds) {
          const info = await this.containers.inspect(id);
          if (info) { inspected.set(instanceId, info); return; }
        }
      });
      observed = this.withParts(buildObserved(desired, inspected, errors, new Date(), this.network?.status()));
    } catch (err) {
      this.log.error("could not inspect containers for the observed report", { reason: errorMessage(err) });
      return;
    }
    await this.write(observed);
  }

  /** The document with the overlay's and every part's current status. */
  private withParts(observed: HostObservedState): HostObservedState {
    const out: HostObservedState = { ...observed };
    const network = this.network?.status();
    if (network) out.network = network;
    else delete out.network;
    for (const part of this.parts) part.addTo(out);
    return out;
  }

  private async write(observed: HostObservedState): Promise<void> {
    this.lastObserved = observed;
    try {
      await this.reports.observed(observed);
    } catch (err) {
      this.link.noteError(err);
      this.log.warn("observed state not written (redis unavailable); will write after the next reconcile", { generation: observed.appliedGeneration, reason: redisReason(err) });
    }
  }
}

/**
 * What a network spec's bridge and rules depend on (the fields NetworkManager re-verifies
 * for); undefined without a spec (pure).
 */
export function networkKey(spec: HostNetworkSpec | undefined): string | undefined {
  return spec ? JSON.stringify([spec.cidr, spec.subnet, spec.gateway]) : undefined;
}

/**
 * Which containers to inspect for each instance's status, in order of preference (pure): the
 * one with the instance's desired name first, then the others in list order; the first that
 * still exists is the instance's. Containers of no desired instance (being removed, or
 * without the label) are left out: the observed document reports desired instances only.
 */
export function inspectionOrder(desired: Pick<HostDesiredState, "instances">, listed: ManagedContainer[]): { instanceId: string; containerIds: string[] }[] {
  const names = new Map(desired.instances.map((i) => [i.id, i.name]));
  const byInstance = new Map<string, ManagedContainer[]>();
  for (const c of listed) {
    const id = c.labels[containerLabels.instance];
    if (!id || !names.has(id)) continue;
    byInstance.set(id, [...(byInstance.get(id) ?? []), c]);
  }
  return [...byInstance].map(([instanceId, containers]) => {
    const named = containers.filter((c) => c.name === names.get(instanceId));
    const others = containers.filter((c) => c.name !== names.get(instanceId));
    return { instanceId, containerIds: [...named, ...others].map((c) => c.id) };
  });
}

function isDockerDown(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === "ECONNREFUSED" || code === "ENOENT" || code === "EPIPE" || code === "ECONNRESET";
}
