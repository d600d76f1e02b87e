/**
 * Docker Swarm mode on one lab host, the baseline of the heal and upgrade benchmarks:
 * docker.io's own `docker swarm init` on that host's dockerd (advertising its underlay
 * address), driven with the docker CLI inside the host (`host.exec`) as a user would, and
 * read through dockerode on the host's socket. `leave()` (`docker swarm leave --force`)
 * undoes it and is safe to call whatever state the node is in.
 */
import Docker from "dockerode";
import type { LabHost } from "../../test/lab";

/** What the benchmarks read of a task (GET /tasks). */
export interface SwarmTask {
  id: string;
  /** The task's slot (replica number). */
  slot: number;
  desiredState: string;
  /** new, pending, assigned, accepted, preparing, starting, running, complete, shutdown, failed, rejected, ... */
  state: string;
  containerId?: string;
  env: string[];
  createdAt: number;
  error?: string;
}

interface RawTask {
  ID: string;
  Slot?: number;
  DesiredState?: string;
  CreatedAt?: string;
  Spec?: { ContainerSpec?: { Env?: string[] } };
  Status?: { State?: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
}

export class SwarmNode {
  readonly docker: Docker;
  private active = false;

  private constructor(readonly host: LabHost) {
    this.docker = new Docker({ socketPath: host.dockerSocket });
  }

  /** `docker swarm init --advertise-addr <underlay IP>` on `host`; throws with dockerd's words if it cannot. */
  static async init(host: LabHost): Promise<SwarmNode> {
    const node = new SwarmNode(host);
    await node.cli(["swarm", "init", "--advertise-addr", host.underlayIp], 60_000);
    node.active = true;
    return node;
  }

  /** Runs `docker <args>` inside the host; stdout, or an error quoting stderr. */
  async cli(args: string[], timeoutMs = 120_000): Promise<string> {
    const r = await this.host.exec(["docker", ...args], { timeoutMs });
    if (r.code !== 0) {
      throw new Error(`docker ${args.slice(0, 3).join(" ")} on ${this.host.name}: exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
    }
    return r.stdout;
  }

  /** The service's tasks, any state (GET /tasks?filters={"service":[name]}). */
  async tasks(service: string): Promise<SwarmTask[]> {
    const raw = (await this.docker.listTasks({ filters: { service: [service] } })) as RawTask[];
    return raw.map((t) => ({
      id: t.ID,
      slot: t.Slot ?? 0,
      desiredState: t.DesiredState ?? "",
      state: t.Status?.State ?? "",
      containerId: t.Status?.ContainerStatus?.ContainerID || undefined,
      env: t.Spec?.ContainerSpec?.Env ?? [],
      createdAt: t.CreatedAt ? Date.parse(t.CreatedAt) : 0,
      ...(t.Status?.Err ? { error: t.Status.Err } : {}),
    }));
  }

  /** `docker service update` state of a service: "updating", "completed", "paused", ... or "" before any update. */
  async updateState(service: string): Promise<string> {
    const info = await this.docker.getService(service).inspect();
    return info.UpdateStatus?.State ?? "";
  }

  async leave(): Promise<void> {
    await leaveSwarm(this.host);
    this.active = false;
  }

  get joined(): boolean { return this.active; }
}

/**
 * `docker swarm leave --force` on `host`; a node that is not (or no longer) in a swarm is
 * fine. Called at the end of a benchmark whatever happened, also when `init` failed halfway.
 */
export async function leaveSwarm(host: LabHost): Promise<void> {
  const r = await host.exec(["docker", "swarm", "leave", "--force"], { timeoutMs: 60_000 });
  if (r.code !== 0 && !/not part of a swarm/i.test(r.stderr)) {
    throw new Error(`docker swarm leave --force on ${host.name}: exit ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
  }
}

/** Whether a container's list entry says it is up and healthy ("Up 3 seconds (healthy)"). */
export function isHealthyStatus(status: string | undefined): boolean {
  return !!status && status.startsWith("Up") && status.includes("(healthy)");
}
