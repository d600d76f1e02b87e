/**
 * A child process holding many simulated agents (sim-agent.ts SimHost: the real protocol,
 * each host its own ACL user and two Redis connections), driven over IPC. Benchmarks with
 * thousands of hosts split them over several fleets, so no single event loop serves all
 * the connections and the parent's measuring stays out of their way.
 */
import { IpcChild, serveRequests } from "./ipc-child";
import { performance } from "perf_hooks";
import { mapLimit } from "./procs";
import { newSimStats, registerSimHost, SimHost, simRegisterRequest, type SimStats } from "./sim-agent";

/** One host to register: the server URL it registers with, its environment's token, its name. */
export interface FleetHost { url: string; token: string; name: string; ca?: string }

export interface FleetStats extends SimStats {
  hosts: number;
  /** Instances the hosts last reported running (the sum over the last desired document each answered). */
  running: number;
  /** "<interval>/<ttl> ms" → hosts beating at that cadence now. */
  cadences: Record<string, number>;
}

/** Host id → the instance ids of the last desired document it answered. */
export type FleetPlacements = Array<{ envId: string; hostId: string; instanceIds: string[] }>;

type FleetRequest =
  | { op: "register"; hosts: FleetHost[]; concurrency: number }
  | { op: "stats" }
  | { op: "placements" }
  | { op: "stop" };

function fleetMain(): void {
  const hosts: SimHost[] = [];
  const stats: SimStats = newSimStats();
  const handle = async (req: FleetRequest): Promise<unknown> => {
    switch (req.op) {
      case "register": {
        const t0 = performance.now();
        let retries = 0;
        // Summed over hosts: the API's registration, and the agent's Redis clients connecting (+ first heartbeat).
        let apiMs = 0;
        let startMs = 0;
        await mapLimit(req.hosts, req.concurrency, async (spec) => {
          const registeredAt = new Date().toISOString();
          const a0 = performance.now();
          const r = await registerSimHost(spec.url, simRegisterRequest(spec.token, spec.name), spec.ca);
          apiMs += performance.now() - a0;
          retries += r.retries;
          const host = new SimHost(r.response, registeredAt, stats, { reportObserved: true });
          hosts.push(host);
          // Heartbeating at once, so the reconciler never sees a registered host without one.
          const s0 = performance.now();
          await host.start();
          startMs += performance.now() - s0;
        });
        return { ms: performance.now() - t0, retries, hosts: hosts.length, apiMs, startMs };
      }
      case "stats": {
        const running = hosts.reduce((n, h) => n + (h.lastDesired?.instances.length ?? 0), 0);
        const cadences: Record<string, number> = {};
        for (const h of hosts) {
          const c = `${h.heartbeatCadence.intervalMs}/${h.heartbeatCadence.ttlMs} ms`;
          cadences[c] = (cadences[c] ?? 0) + 1;
        }
        return { ...stats, hosts: hosts.length, running, cadences } satisfies FleetStats;
      }
      case "placements":
        return hosts.map((h) => ({ envId: h.response.envId, hostId: h.hostId, instanceIds: (h.lastDesired?.instances ?? []).map((i) => i.id) })) satisfies FleetPlacements;
      case "stop":
        for (const h of hosts) h.stop();
        return { stopped: hosts.length };
    }
  };
  serveRequests(handle);
}

/** The parent's handle on one fleet process. */
export class SimFleet extends IpcChild<FleetRequest> {
  constructor(logFile: string) {
    super(__filename, ["--sim-fleet"], logFile);
  }

  /** `apiMs`, `startMs`: summed over the hosts (the API's answer; the agent's clients connecting and its first heartbeat). */
  register(hosts: FleetHost[], concurrency: number): Promise<{ ms: number; retries: number; hosts: number; apiMs: number; startMs: number }> {
    return this.call({ op: "register", hosts, concurrency });
  }

  stats(): Promise<FleetStats> { return this.call({ op: "stats" }); }

  placements(): Promise<FleetPlacements> { return this.call({ op: "placements" }); }
}

if (require.main === module && process.argv[2] === "--sim-fleet") fleetMain();
