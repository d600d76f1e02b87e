import Docker from "dockerode";
import type { RegisterRequest } from "../runtime/protocol/agent-protocol";
import { DroverError, isDroverError } from "../runtime/protocol/errors";
import { makeKeys } from "../runtime/protocol/keys";
import { delay } from "./backoff";
import { HostFacts, mergeHostLabels } from "./host-labels";
import { readHostFacts } from "./host-facts";
import { HostSession } from "./host-session";
import { SecretMask } from "./secret-mask";
import { SavedIdentity, StateDir } from "./identity";
import type { Logger } from "./log";
import { probeCredentials } from "./redis-link";
import { register } from "./registration";
import { fetchServerCa } from "./server-ca";
import { refusePlaintextRedis, withTlsCredentials } from "./redis-tls-credentials";
import { REVOKED_KEY_REFUSAL, signRegistration } from "../runtime/protocol/host-identity";
import { detectUnderlayIp } from "./underlay-ip";
import { agentVersion } from "./version";

export interface AgentOptions {
  /** Server URL and registration token: needed only when there is no usable saved identity. */
  url?: string;
  token?: string;
  labels: Record<string, string>;
  stateDir: string;
  dockerSocket: string;
  hostname: string;
  underlayIp?: string;
  /** The server CA's fingerprint (an https URL with drover's own CA): the only CA trusted, for the API and Redis. */
  caFingerprint?: string;
  log: Logger;
  /** Secret values opened by the agent, masked in its logs and reports (a fresh one when not given). */
  mask?: SecretMask;
}

/**
 * The agent's lifecycle: wait for dockerd, get an identity (the saved one if Redis still
 * accepts it, else register), run a host session; register again if Redis refuses the
 * credentials mid-run. Resolves with the process exit code.
 */
export class Agent {
  private readonly abort = new AbortController();
  private session?: HostSession;

  constructor(private readonly options: AgentOptions) {}

  /** Graceful stop: containers keep running. */
  stop(): void {
    this.abort.abort();
    this.session?.stop();
  }

  async run(): Promise<number> {
    const { log } = this.options;
    const state = new StateDir(this.options.stateDir);
    state.ensure();
    const docker = new Docker({ socketPath: this.options.dockerSocket });
    const version = agentVersion();
    log.info("drover agent starting", { version, stateDir: this.options.stateDir, dockerSocket: this.options.dockerSocket });

    const facts = await readHostFacts(docker, this.options.hostname, log, this.abort.signal);
    if (!facts) return 0;
    for (let rejections = 0; !this.abort.signal.aborted; ) {
      const saved = await this.identity(state, facts, version);
      if (!saved) return 0;
      const identity = withTlsCredentials(saved, state);
      this.session = new HostSession(identity, docker, state, version, log, this.options.mask ?? new SecretMask());
      if (this.abort.signal.aborted) this.session.stop();
      const outcome = await this.session.run();
      this.session = undefined;
      if (outcome !== "rejected") return 0;
      log.warn("redis refused this host's credentials: registering again (containers keep running)", { hostId: identity.response.hostId });
      state.deleteIdentity();
      // Back off if the fresh credentials are refused too, rather than hammer the server.
      await delay(Math.min(30_000, 1_000 * 2 ** rejections++), this.abort.signal);
    }
    return 0;
  }

  /** The saved identity when Redis accepts it (or cannot be asked right now); otherwise a new registration. */
  private async identity(state: StateDir, facts: HostFacts, version: string): Promise<SavedIdentity | undefined> {
    const { log } = this.options;
    const saved = state.loadIdentity();
    // A CA pinned at an earlier registration still holds for the same URL when no pin is given now.
    const savedCa = saved?.url === this.options.url ? saved?.serverCa : undefined;
    if (saved) {
      const r = withTlsCredentials(saved, state).response;
      const probe = await probeCredentials(r.redis, makeKeys(r.redis.keyPrefix).host(r.envId, r.hostId).desired);
      if (probe.ok) {
        log.info("using saved identity", { hostId: r.hostId, envId: r.envId });
        return saved;
      }
      if (!probe.rejected) {
        // Redis being down says nothing about the credentials: keep them, the session reconnects.
        log.warn("redis unreachable: starting with the saved identity", { hostId: r.hostId, reason: probe.reason });
        return saved;
      }
      log.warn("saved credentials refused by redis: registering again", { hostId: r.hostId, reason: probe.reason });
      state.deleteIdentity();
    }
    const { url, token } = this.options;
    if (!url || !token) {
      throw new DroverError("MissingField", `no saved identity in ${state.dir}: --url and --token (or DROVER_URL and DROVER_TOKEN) are needed to register`, { field: url ? "token" : "url", retryable: false });
    }
    // https with drover's own CA: fetch it, check it against the pin, trust it alone from here on.
    let serverCa = savedCa;
    if (this.options.caFingerprint) {
      if (!url.startsWith("https:")) throw new DroverError("InvalidField", `--ca-fingerprint is for an https:// server URL; ${url} is not`, { field: "url", retryable: false });
      serverCa = await fetchServerCa(url, this.options.caFingerprint, log, this.abort.signal);
      if (!serverCa) return undefined;
      log.info("server CA pinned", { url, caFingerprint: this.options.caFingerprint });
    }
    const underlayIp = this.options.underlayIp ?? await detectUnderlayIp(url);
    if (!this.options.underlayIp) log.info(underlayIp ? "underlay address from the route to the server" : "no underlay address: give --underlay-ip for tunnels to other hosts", { underlayIp });
    const merged = mergeHostLabels(this.options.labels, facts);
    for (const o of merged.overridden) log.warn("host label set by the agent overrides the user's", { label: o.key, userValue: o.userValue, agentValue: o.systemValue });
    let response;
    // At most twice: a key the server revoked (its host was removed) is replaced by a new one once.
    for (let keyAttempt = 1; ; keyAttempt++) {
      const hostKey = state.hostKey();
      const unsigned: Omit<RegisterRequest, "signature" | "signedAt"> = {
        token,
        machineId: state.machineId(),
        hostname: facts.hostname,
        labels: merged.labels,
        agentVersion: version,
        dockerVersion: facts.dockerVersion,
        kernelVersion: facts.kernelVersion,
        ...(underlayIp ? { underlayIp } : {}),
        identityKey: hostKey.publicKeyPem,
      };
      // Signed afresh for every attempt: the server accepts a signature once.
      const signed = () => signRegistration({ ...unsigned, signedAt: new Date().toISOString() }, hostKey.privateKey);
      log.info("registering", { url, hostname: unsigned.hostname, machineId: unsigned.machineId, labels: unsigned.labels });
      try {
        response = await register(url, signed, log, this.abort.signal, serverCa);
        break;
      } catch (err) {
        if (this.abort.signal.aborted) return undefined;
        if (keyAttempt === 1 && isDroverError(err) && err.code === "Forbidden" && err.message.includes(REVOKED_KEY_REFUSAL)) {
          log.warn("the server revoked this machine's identity key (its host was removed): making a new one", { reason: err.message });
          state.discardHostKey();
          continue;
        }
        throw err;
      }
    }
    const registeredAt = new Date().toISOString();
    refusePlaintextRedis(url, response.redis.url);
    const identity: SavedIdentity = { registeredAt, url, response, ...(serverCa ? { serverCa } : {}) };
    state.saveIdentity(identity);
    log.info("registered", { hostId: response.hostId, envId: response.envId, redis: response.redis.url, redisUser: response.redis.username });
    return identity;
  }
}
