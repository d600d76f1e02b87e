/**
 * drover's side of the lab benchmarks that compare with Docker Swarm: the control plane of
 * the lab tests (test/support/control-plane.ts: a private Redis, `drover server` on the lab
 * gateway, the real agent inside each chosen host) and one environment whose hosts are
 * exactly `hosts` (the lab's other hosts stay free for the baseline).
 */
import Docker from "dockerode";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import type { Lab, LabHost } from "../../test/lab";
import { ControlPlane, type EnvAccess } from "../../test/support/control-plane";
import { waitFor } from "../../test/support/wait";

/** An instance as GET /instances shows it (the fields the benchmarks read). */
export interface ApiInstance {
  id: string;
  name: string;
  hostId: string;
  index: number;
  specVersion: number;
  ip?: string;
  state: string;
  healthState?: string;
  healthChangedAt?: string;
  createdAt: string;
  stopping?: { reason: string; stopAt: string };
  status?: { state: string; containerId?: string; startedAt?: string };
}

export interface DroverLab {
  cp: ControlPlane;
  env: EnvAccess;
  /** drover host id → lab host. */
  hostOf: Map<string, LabHost>;
  /** dockerode per lab host name. */
  dockerOf: Map<string, Docker>;
}

/**
 * Starts the control plane and one agent per host of `hosts`; resolves once all are active.
 * `onControlPlane` learns of the control plane as soon as its Redis runs, so a caller that is
 * interrupted meanwhile can still stop it.
 */
export async function startDrover(lab: Lab, hosts: LabHost[], envName: string, onControlPlane?: (cp: ControlPlane) => void): Promise<DroverLab> {
  const cp = await ControlPlane.start(lab, { graceMs: 30_000 });
  onControlPlane?.(cp);
  try {
    await cp.startServer("s1");
    const env = await cp.createEnvironment(envName);
    for (const h of hosts) cp.startAgent(h, env);
    const hostOf = new Map<string, LabHost>();
    await waitFor(async () => {
      const list = (await env.api.ok("GET", `${env.base}/hosts`)).data as { id: string; name: string; state: string }[];
      if (list.length !== hosts.length || !list.every((h) => h.state === "active")) return false;
      for (const h of list) hostOf.set(h.id, hosts.find((l) => l.name === h.name)!);
      return true;
    }, { what: `${hosts.length} drover host(s) active`, timeoutMs: 60_000, maxIntervalMs: 200 });
    const dockerOf = new Map(hosts.map((h) => [h.name, new Docker({ socketPath: h.dockerSocket })]));
    return { cp, env, hostOf, dockerOf };
  } catch (err) {
    await cp.stop().catch(() => undefined);
    throw err;
  }
}

export async function instancesOf(env: EnvAccess, serviceId: string): Promise<ApiInstance[]> {
  return (await env.api.ok("GET", `${env.base}/instances?serviceId=${serviceId}&limit=1000`)).data as ApiInstance[];
}

/** Running, healthy, and not being stopped: what DNS hands out. */
export function isServingInstance(i: ApiInstance): boolean {
  return i.status?.state === "running" && i.healthState === "healthy" && !i.stopping && !!i.ip;
}

/** The container id of an instance on its host (by the agent's instance label). */
export async function containerOfInstance(docker: Docker, instanceId: string): Promise<string | undefined> {
  const [c] = await docker.listContainers({ all: true, filters: { label: [`${containerLabels.instance}=${instanceId}`] } });
  return c?.Id;
}
