import type Docker from "dockerode";
import * as path from "path";
import { makeKeys } from "../runtime/protocol/keys";
import { backoffMs, delay } from "./backoff";
import { Coalescer } from "./coalescer";
import { dnsListenFromEnv, HostDns } from "./dns/host-dns";
import { DockerContainers } from "./docker/containers";
import { DockerState } from "./docker/docker-state";
import { LoadBalancers } from "./lb";
import { LoadBalancerPart } from "./lb/observed-part";
import { ContainerEvent, DockerEventWatcher } from "./docker/events";
import { HealthChecker } from "./health/checker";
import { HealthPart } from "./health/observed-part";
import { Heartbeat, HeartbeatPart } from "./heartbeat";
import type { SavedIdentity, StateDir } from "./identity";
import { errorMessage, Logger } from "./log";
import { initialCursor, Nudge, NudgeReader } from "./nudges";
import { NetworkManager } from "./network/manager";
import { statusReason, Reconciler } from "./reconcile";
import { RedisLink, whenReady } from "./redis-link";
import { Reports } from "./reports";
import { HostSecrets } from "./host-secrets";
import { SecretMask } from "./secret-mask";
import { dockerStatsSources } from "./docker/stats-containers";
import { StatsPublisher } from "./stats/publisher";
import { StatsSampler } from "./stats/sampler";
import { StreamDialer } from "./streams/stream-dialer";

/** How a session ended: asked to stop, torn down by the server, or its credentials refused. */
export type SessionOutcome = "stopped" | "teardown" | "rejected";

/**
 * Everything the agent runs for one registered identity: Redis link, heartbeat, reconcile
 * triggers (start, nudges, Docker events, periodic resync) and teardown. Stopping a session
 * never touches containers; only a teardown nudge removes them.
 */
export class HostSession {
  private finish!: (outcome: SessionOutcome) => void;
  private readonly finished = new Promise<SessionOutcome>((resolve) => { this.finish = resolve; });
  /** The host's DNS responder (absent with DROVER_DNS_LISTEN=off). */
  private dns?: HostDns;
  private reconciler?: Reconciler;
  /** Logs and exec streams, dialled out on `stream` nudges. */
  private streams?: StreamDialer;

  constructor(
    private readonly identity: SavedIdentity,
    private readonly docker: Docker,
    private readonly state: StateDir,
    private readonly agentVersion: string,
    private readonly log: Logger,
    private readonly mask: SecretMask = new SecretMask(),
  ) {}

  /** Ends the session without touching containers (SIGTERM, SIGINT). */
  stop(): void {
    this.finish("stopped");
  }

  async run(): Promise<SessionOutcome> {
    const r = this.identity.response;
    const keys = makeKeys(r.redis.keyPrefix).host(r.envId, r.hostId);
    const log = this.log;
    const link = new RedisLink(r.redis, r.hostId, log);
    const secretsKey = r.secretsKey ? { id: r.secretsKey.id, key: Buffer.from(r.secretsKey.key, "base64") } : undefined;
    const secrets = new HostSecrets(secretsKey, this.mask);
    const reports = new Reports(link, keys, this.mask);
    const containers = new DockerContainers(this.docker, { envId: r.envId, hostId: r.hostId, openSecret: (context, value) => secrets.open(context, value) }, log);
    const network = new NetworkManager(this.docker, this.state.dir, log);
    const checker = new HealthChecker({ log: log.child({ component: "health" }) });
    const dockerState = new DockerState();
    const lbs = new LoadBalancers({ stateDir: this.state.dir, log: log.child({ component: "lb" }) });
    const heartbeat = new Heartbeat(link, keys.heartbeat, { intervalMs: r.heartbeatIntervalMs, ttlMs: r.heartbeatTtlMs }, this.agentVersion, log);
    const reconciler = new Reconciler(link, keys, r.hostId, containers, reports, log, network,
      [new HealthPart(checker, log), new LoadBalancerPart(lbs), dockerState, new HeartbeatPart(heartbeat)], (reason) => dockerState.down(reason), secrets);
    this.reconciler = reconciler;
    const coalescer = new Coalescer((reasons) => reconciler.reconcile(reasons));
    network.on("change", () => coalescer.trigger(statusReason));
    checker.on("change", () => coalescer.trigger(statusReason));
    dockerState.on("change", () => coalescer.trigger(statusReason));
    lbs.on("change", () => coalescer.trigger(statusReason));
    const events = new DockerEventWatcher(this.docker, r.hostId, log, (e) => this.onContainerEvent(e, reports, link, coalescer),
      () => { dockerState.up(); coalescer.trigger("docker-events-connected"); },
      (reason) => dockerState.down(reason));
    const cursor = this.state.loadCursor(r.hostId) ?? initialCursor(this.identity.registeredAt);
    const nudges = new NudgeReader(link, keys.nudges, cursor, (id) => this.state.saveCursor(r.hostId, id), (n) => this.onNudge(n, coalescer), log);

    // The environment's directory feeds DNS answers and the load balancers' backends alike;
    // with DROVER_DNS_LISTEN=off it is still followed, for the load balancers.
    this.streams = new StreamDialer({
      url: this.identity.url, ca: this.identity.serverCa, envId: r.envId, hostId: r.hostId,
      privateKey: this.state.hostKey().privateKey, docker: this.docker, log: log.child({ component: "streams" }),
    });
    const dnsListen = dnsListenFromEnv();
    this.dns = new HostDns({
      source: link.cmd, key: makeKeys(r.redis.keyPrefix).env(r.envId).dns, log: log.child({ component: "dns" }),
      ...(dnsListen === "off" ? { address: "127.0.0.1", port: 0, listen: false } : dnsListen), ensureAddress: dnsListen !== "off",
      onDirectory: (directory) => lbs.setDirectory(directory),
      // A daemon of its own serves DNS, so containers keep their answers while the agent restarts.
      ...(dnsListen !== "off" && process.env.DROVER_DNS_DAEMON !== "off" ? { daemon: { dir: path.join(this.state.dir, "dns") } } : {}),
    });
    const dns = this.dns;
    link.onReady(() => { coalescer.trigger("redis-ready"); dns?.onRedisReady(); });
    link.onRejected(() => this.finish("rejected"));
    link.connect();
    heartbeat.start();
    events.start();
    nudges.start();
    dns?.start();
    const stats = new StatsPublisher(link.cmd, keys.stats, new StatsSampler(dockerStatsSources(this.docker, r.hostId)), log.child({ component: "stats" }));
    stats.start();
    // The start reconcile waits (briefly) for Redis so it can read the desired state; if Redis
    // is down it runs anyway and the redis-ready trigger catches up later.
    void whenReady(link.cmd, 5_000).then(() => coalescer.trigger("start"));
    const resync = setInterval(() => { coalescer.trigger("resync"); dns?.refresh("resync"); }, r.resyncIntervalMs);
    log.info("agent running", { hostId: r.hostId, envId: r.envId, heartbeatIntervalMs: r.heartbeatIntervalMs, resyncIntervalMs: r.resyncIntervalMs });

    const outcome = await this.finished;
    clearInterval(resync);
    stats.stop();
    this.streams?.close();
    await Promise.all([nudges.stop(), events.stop(), outcome === "teardown" ? dns?.shutdown() : dns?.stop()]);
    await coalescer.stop();
    await checker.stop();
    if (outcome === "teardown") {
      await lbs.teardown().catch((err) => log.error("teardown: stopping the load balancers failed", { reason: errorMessage(err) }));
      await this.teardown(containers, reports, network);
    } else {
      await lbs.stop(); // HAProxies keep serving; the next agent adopts them
      await network.stop();
    }
    heartbeat.stop();
    link.close();
    if (outcome === "teardown") this.state.deleteIdentity();
    log.info("agent session ended", { outcome, hostId: r.hostId });
    return outcome;
  }

  private async onNudge(nudge: Nudge, coalescer: Coalescer): Promise<boolean> {
    if (nudge.type === "teardown") {
      this.log.info("teardown requested", { nudge: nudge.id });
      this.finish("teardown");
      return false;
    }
    if (nudge.type === "stream") {
      this.streams?.dial(nudge.fields.session ?? "", nudge.fields.instance, nudge.fields.server);
      return true;
    }
    if (nudge.type === "dns") {
      const version = Number(nudge.fields.version);
      this.dns?.refresh("nudge", Number.isSafeInteger(version) ? version : undefined);
      return true;
    }
    if (nudge.type !== "desired") this.log.warn("unknown nudge type; reconciling anyway", { nudge: nudge.id, type: nudge.type });
    coalescer.trigger("nudge");
    return true;
  }

  private onContainerEvent(e: ContainerEvent, reports: Reports, link: RedisLink, coalescer: Coalescer): void {
    this.log.info(`container ${e.action}`, { name: e.name, instance: e.instanceId, containerId: e.containerId, exitCode: e.exitCode });
    if (e.instanceId && e.action === "die" && this.reconciler?.containerDied(e.instanceId, e.exitCode)) coalescer.trigger(statusReason);
    if (e.instanceId && (e.action === "start" || e.action === "die")) {
      const state = e.action === "start" ? "running" : "exited";
      reports.instance(e.instanceId, state, { containerId: e.containerId, exitCode: e.exitCode }).catch((err) => {
        link.noteError(err);
        this.log.debug("instance report not written", { instance: e.instanceId, reason: errorMessage(err) });
      });
    }
    if (e.action !== "start") coalescer.trigger(`docker-${e.action}`);
  }

  /** Removes every drover container of this host, then tells the server (retrying while Redis is away). */
  private async teardown(containers: DockerContainers, reports: Reports, network: NetworkManager): Promise<void> {
    let removed = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        for (const c of await containers.list()) {
          await containers.remove(c.id, { name: c.name, reason: "teardown" });
          removed++;
        }
        break;
      } catch (err) {
        if (attempt >= 10) throw err;
        const wait = backoffMs(attempt, 500, 5_000);
        this.log.error("teardown: removing containers failed; retrying", { reason: errorMessage(err), retryInMs: wait });
        await delay(wait);
      }
    }
    // After the containers: the bridge network can only go once nothing is attached.
    await network.teardown().catch((err) => this.log.error("teardown: removing the overlay failed", { reason: errorMessage(err) }));
    for (let attempt = 0; ; attempt++) {
      try {
        await reports.teardownDone(removed);
        this.log.info("teardown done", { removed });
        return;
      } catch (err) {
        if (attempt >= 20) {
          this.log.error("teardown-done not reported: giving up", { reason: errorMessage(err) });
          return;
        }
        await delay(backoffMs(attempt, 250, 3_000));
      }
    }
  }
}
