import { DroverError } from "../protocol/errors";

/**
 * Every Redis key drover uses, built in one place. Keys of an environment carry its id as
 * a hash tag (`{envId}`) so one environment lives in one Redis Cluster slot and a Lua
 * script may touch all of them atomically. Host keys share the environment's tag and add
 * `host:<hostId>:`, the pattern a host's ACL user is confined to.
 *
 * `prefix` lets tests (and several drover installations) share one Redis without seeing
 * each other.
 */
export interface Keys {
  readonly prefix: string;

  /** Hash envId → EnvironmentRecord JSON (the admin's list of environments). */
  environments(): string;
  /** Hash sha256(apiKey) → envId. */
  apiKeys(): string;
  /** Hash sha256(registration token) → envId. */
  registrationTokens(): string;
  /** String, a random token with a 60 s expiry: the write a replica-wait round makes on its own connection (runtime/store/replica-wait.ts). */
  replicaWaitMarker(): string;
  /** String, a server id with the sync interval as expiry: whose turn the periodic ACL sync is (runtime/store/acl-sync-turn.ts). */
  aclSyncTurn(): string;

  env(envId: string): EnvKeys;
  host(envId: string, hostId: string): HostKeys;
  /** SCAN pattern of every key of an environment (all share its hash tag). */
  envPattern(envId: string): string;
  /**
   * String with a TTL: a logs/exec stream token's grant (runtime/streams/stream-tokens.ts),
   * under sha256(token), taken once. Not among EnvKeys: it expires on its own within a minute.
   */
  streamToken(envId: string, tokenHash: string): string;
}

export interface EnvKeys {
  /** String: the environment's revision counter, bumped by every write in it. */
  rev: string;
  /**
   * String "<from>:<to>": every write with a revision from..to only created records (new hosts,
   * stacks, services). A reconcile pass planned at a revision inside that run may still write:
   * nothing it decided on changed (lua/common.ts onlyCreationsSince).
   */
  creationRun: string;
  /**
   * String "<from>:<to>": every write with a revision from..to changed no record but instances
   * (it created records or put and removed instances: the reconcile leader placing, agents'
   * reports written back). An API update planned at a revision inside that run may still
   * write: the records it read and changes are as it read them (lua/common.ts runCovers).
   */
  recordsKeptRun: string;
  /** Hash id → record JSON, one per kind. */
  hosts: string;
  stacks: string;
  services: string;
  instances: string;
  /** Hash name → id indexes that keep names unique. */
  hostNames: string;
  /** Hash machineId → hostId: registration finds a machine's host without reading every host. */
  hostMachines: string;
  /**
   * Hash identity key (SPKI PEM, as HostRecord.identityKey) → id of the removed host that held
   * it: written by the write that removes the host record. Every certificate drover issued for
   * such a key, and every signature made with it, is refused (runtime/api/host-revocation.ts).
   */
  revokedHostKeys: string;
  stackNames: string;
  /** Hash `<stackId>/<name>` → serviceId. */
  serviceNames: string;
  /** Hash id → LoadBalancerRecord JSON. */
  loadBalancers: string;
  /** Hash `<stackId>/<name>` → loadBalancerId. */
  loadBalancerNames: string;
  /** Hash id → CertificateRecord JSON (the private key inside is secret: server-only). */
  certificates: string;
  /** Hash name → certificateId. */
  certificateNames: string;
  /** Hash tokenHash → token metadata JSON (this environment's registration tokens). */
  tokens: string;
  /** Hash keyHash → key metadata JSON (this environment's API keys). */
  keys: string;
  /** Stream of resource changes (the API's event stream). */
  events: string;
  /** Stream of nudges to the reconciler (API writes, agent reports). */
  reconcile: string;
  /** String: the reconciler leader lease (value `<serverId>:<fence>`), with a TTL. */
  leader: string;
  /** String: fencing counter; every new lease takes the next value. */
  fence: string;
  /** String: sequence for ids within the environment. */
  seq: string;
  /** String: EnvDnsDocument JSON (runtime/protocol/dns.ts); every host of the environment may read it. */
  dns: string;
  /** String: IpsecSpec JSON, the environment's current pre-shared key (the key sealed; never shown by the API). */
  psk: string;
  /** String: `{id, wrapped}` JSON: the environment's data key, sealed by the servers' master key (runtime/secrets/keyring.ts). */
  sealKey: string;
  /** Hash hostId → the host's secrets key, sealed by the environment's data key (only that host's agent gets it, at registration). */
  hostSealKeys: string;
  /**
   * Hash host name → MachineIntent JSON (runtime/api/handlers/machine-intents.ts): a cloud
   * machine the provider is making, recorded before its first cloud call and cleared once the
   * host is in Pulumi's state; what a crashed create left, for the Environment's delete to sweep.
   */
  machineIntents: string;
}

export interface HostKeys {
  /** String: HostDesiredState JSON, written by the server. */
  desired: string;
  /** Stream: server → agent nudges ("desired changed", "teardown"). */
  nudges: string;
  /** String: HostObservedState JSON, written by the agent. */
  observed: string;
  /** Stream: agent → server events (instance started/died, report written). */
  reports: string;
  /** String with TTL: the agent's heartbeat. */
  heartbeat: string;
  /** Stream: the agent's stats samples (runtime/protocol/stats.ts), capped to a few minutes; the dashboard's plots read it. */
  stats: string;
  /**
   * The pattern covering this host's keys above. The agent's ACL user (host-acl.ts) is
   * granted narrower per-key selectors within it (desired and nudges read-only).
   */
  aclPattern: string;
}

/**
 * Ids that go into key names: letters, digits, `_`, `.`, `-`. This keeps hash tags intact
 * (no `{` `}`) and ACL key patterns exact (no glob characters `*?[]\`, which would let
 * a host's user reach other hosts' keys).
 */
const keyIdPattern = /^[A-Za-z0-9_.-]+$/;

function checkKeyId(field: "envId" | "hostId", id: string): void {
  if (typeof id !== "string" || !keyIdPattern.test(id)) {
    throw new DroverError("InvalidField", `invalid ${field} ${JSON.stringify(id)}: use letters, digits, '_', '.', '-'`, { field });
  }
}

export function makeKeys(prefix = "drover"): Keys {
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new Error(`invalid key prefix ${JSON.stringify(prefix)}`);
  const tagged = (envId: string) => `${prefix}:{${envId}}`;
  return {
    prefix,
    environments: () => `${prefix}:environments`,
    apiKeys: () => `${prefix}:apikeys`,
    registrationTokens: () => `${prefix}:regtokens`,
    replicaWaitMarker: () => `${prefix}:replica-wait`,
    aclSyncTurn: () => `${prefix}:acl-sync-turn`,
    envPattern(envId) {
      checkKeyId("envId", envId);
      return `${tagged(envId)}:*`;
    },
    env(envId) {
      checkKeyId("envId", envId);
      const e = tagged(envId);
      return {
        rev: `${e}:rev`,
        creationRun: `${e}:creationrun`,
        recordsKeptRun: `${e}:keptrun`,
        hosts: `${e}:hosts`,
        stacks: `${e}:stacks`,
        services: `${e}:services`,
        instances: `${e}:instances`,
        hostNames: `${e}:names:hosts`,
        hostMachines: `${e}:machines:hosts`,
        revokedHostKeys: `${e}:revoked:hostkeys`,
        stackNames: `${e}:names:stacks`,
        serviceNames: `${e}:names:services`,
        loadBalancers: `${e}:loadbalancers`,
        loadBalancerNames: `${e}:names:loadbalancers`,
        certificates: `${e}:certificates`,
        certificateNames: `${e}:names:certificates`,
        tokens: `${e}:tokens`,
        keys: `${e}:keys`,
        events: `${e}:events`,
        reconcile: `${e}:reconcile`,
        leader: `${e}:leader`,
        fence: `${e}:fence`,
        seq: `${e}:seq`,
        dns: `${e}:dns`,
        psk: `${e}:psk`,
        sealKey: `${e}:sealkey`,
        hostSealKeys: `${e}:hostsealkeys`,
        machineIntents: `${e}:machineintents`,
      };
    },
    streamToken(envId, tokenHash) {
      checkKeyId("envId", envId);
      if (!/^[0-9a-f]{64}$/.test(tokenHash)) throw new Error("streamToken: expected a sha256 hex digest");
      return `${tagged(envId)}:streamtoken:${tokenHash}`;
    },
    host(envId, hostId) {
      checkKeyId("envId", envId);
      checkKeyId("hostId", hostId);
      const h = `${tagged(envId)}:host:${hostId}`;
      return {
        desired: `${h}:desired`,
        nudges: `${h}:nudges`,
        observed: `${h}:observed`,
        reports: `${h}:reports`,
        heartbeat: `${h}:heartbeat`,
        stats: `${h}:stats`,
        aclPattern: `${h}:*`,
      };
    },
  };
}

/** The data keys of a host (everything but the ACL pattern): what removing a host or purging its environment deletes. */
export function hostDataKeys(host: HostKeys): string[] {
  return [host.desired, host.nudges, host.observed, host.reports, host.heartbeat, host.stats];
}
