import type { HeartbeatCadence } from "./heartbeat-cadence";
/**
 * The records drover keeps in Redis and shows through the API, in Rancher's vocabulary.
 * `XxxSpec` is desired state (what a user or the reconciler asked for), `XxxStatus` is
 * observed state (what an agent saw). Records carry `rev`, the environment revision at
 * which they were last written, for optimistic concurrency.
 */

export type EnvironmentState = "active" | "removing" | "removed";
export type HostState = "active" | "reconnecting" | "disconnected" | "inactive" | "removing" | "removed";
export type StackState = "active" | "removing" | "removed";
export type ServiceState = "active" | "inactive" | "updating" | "removing" | "removed";
/** Rancher's instance states. `requested` = recorded, not yet on an agent's desired list. */
export type InstanceState =
  | "requested" | "activating" | "active" | "stopping" | "stopped" | "error" | "removing" | "removed";

export interface NetworkSpec {
  /** The environment's overlay range; 10.42.0.0/16 by default. */
  cidr: string;
  /** Prefix length of each host's subnet; 24 by default. */
  hostSubnetPrefix: number;
}

export interface EnvironmentRecord {
  id: string;
  name: string;
  description?: string;
  network: NetworkSpec;
  state: EnvironmentState;
  /**
   * Set while the reconciler cannot make progress on this environment (a stored record it
   * cannot read, say): the error, and when it tries again. Cleared by the next good pass.
   * Other environments are not held up by it.
   */
  reconcileError?: ReconcileError;
  createdAt: string;
  rev: number;
}

/** Why an environment's reconcile passes fail, as the API shows it. */
export interface ReconcileError {
  /** The DroverError code ("Internal" for anything else). */
  code: string;
  message: string;
  /** When the first failure in a row happened (ISO time). */
  since: string;
  /** Failed passes in a row. */
  failures: number;
  /** No pass before this time (ISO): the back-off grows with each failure. */
  retryAt: string;
}

export interface HostRecord {
  id: string;
  envId: string;
  /** RegisterRequest.machineId: the same machine registering again gets the same host. */
  machineId?: string;
  /**
   * The host's public key (PEM), learnt at its first registration: a later registration of
   * the same machine must be signed by its private half. Not shown by the API.
   */
  identityKey?: string;
  /** `signedAt` of the last registration accepted: an older or equal one is a replay. */
  identitySignedAt?: string;
  /** The machine's hostname as the agent reported it (unique within an environment). */
  name: string;
  /** User labels plus the ones drover adds (`io.rancher.host.*`). */
  labels: Record<string, string>;
  /** Where peers reach this host (later: the IPsec underlay address). */
  underlayIp?: string;
  /** The host's /24 within the environment network (assigned by IPAM in a later issue). */
  subnet?: string;
  state: HostState;
  /** Set by the deactivate action: the host takes no instances and is evacuated. */
  deactivated: boolean;
  agentVersion?: string;
  dockerVersion?: string;
  kernelVersion?: string;
  /** When the server first found the heartbeat missing (ISO time); cleared when it returns. */
  reconnectingSince?: string;
  /** How to log in to a machine drover made (cloud drivers): served as the host's config archive; never shown. */
  machineAccess?: HostMachineAccess;
  /** The last download of that archive (ISO time): each one is a host update on the event stream. */
  configDownloadedAt?: string;
  createdAt: string;
  rev: number;
}

/** A cloud host's login, as the provider made it; `privateKey` sealed with the environment's key at rest. */
export interface HostMachineAccess {
  user: string;
  address: string;
  port: number;
  privateKey: string;
  publicKey: string;
  /** The machine's SSH host key fingerprint ("SHA256:…"), when known. */
  hostKey?: string;
}

export interface StackRecord {
  id: string;
  envId: string;
  name: string;
  description?: string;
  /** Every container of the stack may resolve every service of the stack (Rancher's stack-wide discovery). */
  stackWideDiscovery?: boolean;
  state: StackState;
  createdAt: string;
  rev: number;
}

export interface PortSpec {
  /** Published host port; absent = container port only (reachable on the overlay later). */
  hostPort?: number;
  containerPort: number;
  protocol: "tcp" | "udp";
  hostIp?: string;
}

export interface RestartPolicySpec {
  name: "no" | "always" | "on-failure" | "unless-stopped";
  maximumRetryCount?: number;
}

/**
 * Rancher's health check (times in milliseconds). Agents run it against the instance's
 * overlay address: the agent of the instance's own host and the agent of one other live
 * host, each applying the thresholds; the server combines their verdicts
 * (runtime/reconcile/plan-health.ts).
 */
export interface HealthCheckSpec {
  /** Container port to check on the instance's overlay address. */
  port: number;
  /** Time between two checks of one instance by one checker. Default 2000. */
  interval: number;
  /** A check not answered within this fails ("timeout"); at most `interval`. Default 2000. */
  responseTimeout: number;
  /** Consecutive passes that make a checker's verdict `passing`. Default 2. */
  healthyThreshold: number;
  /** Consecutive failures that make a checker's verdict `failing`. Default 3. */
  unhealthyThreshold: number;
  /**
   * Absent or empty: a TCP connect is the check. Otherwise one HTTP request line such as
   * `GET /healthz HTTP/1.0` (no CR or LF in it); a 2xx or 3xx status passes.
   */
  requestLine?: string;
  /** A new container that has not passed within this is unhealthy. Default 60000. */
  initializingTimeout: number;
  /** Likewise after a restart of the container. Default 60000. */
  reinitializingTimeout: number;
  /** What to do with an unhealthy instance: report only, replace it, or replace it only while `quorum` stay healthy. */
  strategy: "none" | "recreate" | "recreateOnQuorum";
  /** recreateOnQuorum only: the healthy instances that must remain for a sick one to be replaced. */
  quorum?: number;
}

/** How a spec change rolls out (Rancher's in-service upgrade strategy). */
export interface UpgradeStrategySpec {
  /** Instances replaced at a time. Default 1. */
  batchSize: number;
  /** Pause between one batch being ready and the next starting. Default 2000. */
  intervalMillis: number;
  /** Start a batch's new instances before stopping its old ones. Default false. */
  startFirst: boolean;
}

/**
 * Docker options of a container beyond image and command, as compose files give them. All
 * optional: absent is Docker's default.
 */
export interface ContainerOptions {
  /** `name:/path[:ro]` (a named volume, the local driver: Docker creates it on first use and keeps it when the container is replaced) or `/host/path:/path[:ro]` (a bind mount). */
  volumes?: string[];
  privileged?: boolean;
  /** Linux capabilities added / dropped (`NET_ADMIN`, `ALL`). */
  capAdd?: string[];
  capDrop?: string[];
  /** A terminal (`tty`) and an open stdin (`stdin_open`). */
  tty?: boolean;
  stdinOpen?: boolean;
  /** DNS search domains; names that do not resolve through drover's DNS go to the host's resolvers. */
  dnsSearch?: string[];
}

/**
 * Rancher's sidekick (`io.rancher.sidekicks`): a secondary container of each instance of a
 * service, on the same host, in the primary's network namespace (it reaches the primary on
 * localhost and answers on the primary's overlay address), created after the primary and
 * replaced with it (a new primary container, by an upgrade or a move to another host, means
 * a new sidekick). Scale, placement and links are the primary's.
 */
export interface SidekickSpec extends ContainerOptions {
  /** Unique within the service and its stack; its container is `<stack>-<service>-<name>-<index>`; DNS answers it with the primary's addresses. */
  name: string;
  image: string;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Mounts the primary's volumes too (compose `volumes_from: [primary]`). */
  volumesFromPrimary?: boolean;
}

export interface ServiceSpec extends ContainerOptions {
  image: string;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  /**
   * Environment variables whose values are secret: name → value sealed with the
   * environment's key (runtime/secrets). Given in the clear to the API, stored sealed,
   * shown by no answer or event (only their names), handed sealed for one host to the agent
   * of the host that runs the container, which opens them as it creates the container.
   */
  secrets?: Record<string, string>;
  ports: PortSpec[];
  /** Number of instances; ignored when `global` is set. */
  scale: number;
  /** One instance on every eligible host (`io.rancher.scheduler.global=true`). */
  global: boolean;
  /** Link alias → target service id (within the environment). */
  links: Record<string, string>;
  /** User labels, Rancher scheduling labels included; copied onto the containers. */
  labels: Record<string, string>;
  restartPolicy: RestartPolicySpec;
  /** Absent: no health check (a running container counts as healthy). */
  healthCheck?: HealthCheckSpec;
  /** Absent in records written before upgrades existed: the defaults apply. */
  upgradeStrategy?: UpgradeStrategySpec;
  /** Secondary containers run beside each instance (Rancher's sidekicks). */
  sidekicks?: SidekickSpec[];
}

/** Rancher's service health: the instances' health taken together. */
export type ServiceHealthState = "healthy" | "degraded" | "unhealthy" | "initializing";

/**
 * A spec change in progress, driven by the planner one step per pass from what agents
 * observed (runtime/reconcile/plan-upgrade.ts). `fromSpec` is the last spec that ran in
 * full: a failed batch rolls back to it, and the `rollback` action returns to it.
 */
export interface UpgradeStatus {
  /**
   * upgrading: batches of new instances replace old ones; upgraded: every instance runs the
   * new spec (the old spec is kept for `rollback` until `finishupgrade`); rolling-back:
   * returning to `fromSpec` after a failed batch or the rollback action; rolled-back: back on
   * `fromSpec`, with `reason` saying why.
   */
  state: "upgrading" | "upgraded" | "rolling-back" | "rolled-back";
  fromSpec: ServiceSpec;
  fromVersion: number;
  /** The specVersion being rolled out (the service's own specVersion while this is current). */
  toVersion: number;
  startedAt: string;
  /** The batch in flight: its new instances and the time by which they must be ready. */
  batch?: { instanceIds: string[]; startedAt: string; deadline: string };
  /** No new batch before this (the strategy's intervalMillis after the last one was ready). */
  nextBatchAt?: string;
  /** Why a rollback happened (the failed batch's reason), or why startFirst could not be honoured. */
  reason?: string;
  finishedAt?: string;
}

export interface ServiceRecord {
  id: string;
  envId: string;
  stackId: string;
  name: string;
  spec: ServiceSpec;
  /** Bumped whenever `spec` changes in a way that needs new containers (image, command, ...). */
  specVersion: number;
  /**
   * The highest specVersion ever given out (a rollback returns specVersion to an older
   * number, so the next change must not reuse one). Absent in older records: specVersion.
   */
  maxSpecVersion?: number;
  /** The rolling upgrade in progress or last finished; absent before the first spec change. */
  upgrade?: UpgradeStatus;
  /** Aggregate of the instances' health; absent for services without a health check. */
  healthState?: ServiceHealthState;
  state: ServiceState;
  /** Rancher's progress fields: "yes" while converging, "error" when stuck (message says why), "no" when done. */
  transitioning: "yes" | "no" | "error";
  transitioningMessage?: string;
  createdAt: string;
  rev: number;
}

/** One HAProxy frontend → backend mapping of a load balancer (Rancher's port rule). */
export interface PortRuleSpec {
  /** The port the load balancer listens on, on every address of its host. */
  sourcePort: number;
  /**
   * http: HTTP routing by hostname and path; https: the same behind TLS ended by HAProxy with
   * the load balancer's certificates; tcp: plain TCP; tls: TLS passed through untouched,
   * routed by the SNI name in `hostname`.
   */
  protocol: "http" | "tcp" | "https" | "tls";
  /** http/https: the Host header to match; tls: the SNI name (`*.example.com` and `example.*` wildcards allowed). */
  hostname?: string;
  /** http/https only: the path prefix to match (starts with `/`). */
  path?: string;
  targetServiceId: string;
  targetPort: number;
  /** Lower numbers match first among rules on the same source port (Rancher's order). */
  priority?: number;
  /** tcp/tls only: send the client's address to the backend in a PROXY protocol v1 header. */
  proxyProtocol?: boolean;
}

export interface LoadBalancerSpec {
  /**
   * A rule without hostname and path is its source port's default backend; rules with them
   * are tried first, by priority.
   */
  portRules: PortRuleSpec[];
  /** Certificates offered by SNI on https rules (CertificateRecord ids). */
  certificateIds: string[];
  /** The certificate for clients whose SNI name matches none (or that send none); default: the first of certificateIds. */
  defaultCertificateId?: string;
  /** Number of HAProxy instances; ignored when `global` is set. */
  scale: number;
  global: boolean;
  /** User labels, Rancher scheduling labels included (they place the HAProxy instances). */
  labels: Record<string, string>;
  /** http/https backends: keep a client on one server with this cookie, which HAProxy inserts. */
  stickiness?: { cookie: string };
  /** HAProxy timeouts in milliseconds (defaults: connect 5000, client and server 50000). */
  timeouts?: { connect?: number; client?: number; server?: number };
  /** How long a leaving backend instance is drained (no new connections) before it is stopped. Default 2000. */
  drainTimeoutMillis?: number;
}

/**
 * A load balancer in a stack. Its HAProxy instances are instance records of kind "lb",
 * placed by the scheduler like a service's; `served` is true once one of them serves its
 * current configuration.
 */
export interface LoadBalancerRecord {
  id: string;
  envId: string;
  stackId: string;
  name: string;
  spec: LoadBalancerSpec;
  state: "active" | "removing" | "removed";
  transitioning: "yes" | "no" | "error";
  transitioningMessage?: string;
  /** At least one instance's HAProxy serves the current rules. */
  served: boolean;
  createdAt: string;
  rev: number;
}

/** A TLS certificate load balancers can offer (Rancher's certificate resource); its facts are read from it when stored. */
export interface CertificateRecord extends CertificateFacts {
  id: string;
  envId: string;
  name: string;
  description?: string;
  /** PEM: the certificate, and its chain leaf first (intermediates only). */
  cert: string;
  chain?: string;
  /** PEM private key, sealed with the environment's key (runtime/secrets). No API answer, event or log ever shows it. */
  key: string;
  state: "active" | "removed";
  createdAt: string;
  rev: number;
}

/** What drover reads from an X.509 certificate (runtime/protocol/validate/x509.ts), kept on its record. */
export interface CertificateFacts {
  /** The subject's CN ("" when it has none). */
  commonName: string;
  /** DNS names and IP addresses of the subjectAltName extension, in the certificate's order. */
  subjectAlternativeNames: string[];
  /** The issuer's distinguished name on one line: `CN=drover CA, O=drover`. */
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER, lowercase hex without separators. */
  fingerprint: string;
}

/** Rancher's instance health, beside the run state. */
export type InstanceHealthState = "initializing" | "healthy" | "unhealthy" | "reinitializing";

/** What an agent needs to run one container. */
export interface InstanceSpec extends ContainerOptions {
  image: string;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  /** The service's secrets, sealed (with the environment's key in records, with the host's key in its desired document). */
  secrets?: Record<string, string>;
  ports: PortSpec[];
  labels: Record<string, string>;
  restartPolicy: RestartPolicySpec;
  /** The service's sidekicks: the agent runs each beside this instance's container (agent/sidekicks.ts). */
  sidekicks?: SidekickSpec[];
  /**
   * `container:<name>`: join that container's network namespace instead of the overlay (how
   * the agent runs a sidekick). Absent: the overlay (or Docker's default without an address).
   */
  networkMode?: string;
  /** Containers whose volumes this one mounts (a sidekick's `volumes_from` its primary). */
  volumesFrom?: string[];
}

export interface InstanceStatus {
  state: "creating" | "running" | "exited" | "missing" | "error";
  containerId?: string;
  exitCode?: number;
  startedAt?: string;
  error?: string;
  /** Times the agent restarted the container under its restart policy. */
  restartCount: number;
}

export interface InstanceRecord {
  id: string;
  envId: string;
  /** Absent or "container": a service's container; "lb": a load balancer's HAProxy (serviceId is the load balancer's id). */
  kind?: "container" | "lb";
  serviceId: string;
  stackId: string;
  hostId: string;
  /** Container name on the host: `<stack>-<service>-<index>`, stable for the instance's life. */
  name: string;
  /** 1-based index within the service, as Rancher numbers containers. */
  index: number;
  /** The service's specVersion this instance was built from. */
  specVersion: number;
  spec: InstanceSpec;
  /** Overlay address, assigned by IPAM in the network issue. */
  ip?: string;
  state: InstanceState;
  /** What the host's agent last reported for it. */
  status?: InstanceStatus;
  /** Absent when the service has no health check. */
  healthState?: InstanceHealthState;
  /** Why it is not healthy: the last failed check ("timeout after 2000 ms", "connection refused", "HTTP 503") or a timeout. */
  healthReason?: string;
  healthChangedAt?: string;
  /**
   * What each of its two checkers says now (host id → verdict), so a partitioned checker can
   * be told apart from a sick container: the instance is unhealthy only when every fresh
   * verdict is failing.
   */
  healthCheckers?: Record<string, { state: HealthVerdict["state"]; reason?: string }>;
  /**
   * Replacements of sick instances in a row for this slot (index) of the service: 1 for the
   * first replacement. Reset once an instance of the slot is healthy.
   */
  attempt?: number;
  /** A replacement held back (growing back-off): not handed to an agent before this time. */
  backoffUntil?: string;
  /**
   * Set when the instance is being stopped on purpose (scale down, upgrade, moved): DNS and
   * load balancers stop sending it new work at once, the container goes at `stopAt`.
   */
  stopping?: { reason: string; stopAt: string };
  createdAt: string;
  rev: number;
}

/** The per-host document an agent makes Docker match. */
export interface HostDesiredState {
  hostId: string;
  /** Bumped by every write; the agent reports which generation it has applied. */
  generation: number;
  instances: DesiredInstance[];
  /** The host's part of the overlay; absent until IPAM gave the host a subnet. */
  network?: HostNetworkSpec;
  /** Health checks this host's agent runs: its own instances' and, as second checker, some of other hosts'. */
  checks?: HealthCheckTarget[];
  /** Load balancer instances this host runs (one HAProxy each, agent/lb). */
  loadBalancers?: DesiredLoadBalancer[];
  /**
   * The heartbeat cadence of a large environment (protocol/heartbeat-cadence.ts), stretched
   * from the registration's; absent: the registration's.
   */
  heartbeat?: HeartbeatCadence;
}

/** One instance a host's agent checks. */
export interface HealthCheckTarget {
  instanceId: string;
  /** The instance's overlay address. */
  ip: string;
  /** The container start the checks are about (from its host's report): a new start begins a new count. */
  startedAt: string;
  /** True when the instance runs on the checking host itself. */
  local: boolean;
  check: HealthCheckSpec;
}

/** A checker's verdict on one instance, applying the thresholds. */
export interface HealthVerdict {
  /** pending: neither threshold met since the container start `startedAt`. */
  state: "pending" | "passing" | "failing";
  /** The HealthCheckTarget.startedAt this verdict is about (a verdict for an older start is stale). */
  startedAt: string;
  /** When `state` last changed (ISO time). */
  since: string;
  /** The last failed check's reason, e.g. "timeout after 2000 ms", "connection refused", "HTTP 503". */
  reason?: string;
}

/** A load balancer instance as its host's agent runs it. */
export interface DesiredLoadBalancer {
  /** The instance id (InstanceRecord.id, kind "lb"). */
  id: string;
  loadBalancerId: string;
  /** `<stack>-<lb>-<index>`, as container names. */
  name: string;
  stackId: string;
  spec: LoadBalancerSpec;
  /** Certificates the rules use, with their keys (secret: only this host's desired document carries them). */
  certificates: Record<string, CertificateMaterial>;
}

export interface CertificateMaterial {
  /** PEM certificate, then its chain (PEM, leaf first). */
  cert: string;
  chain?: string;
  /** PEM private key. */
  key: string;
}

export interface DesiredInstance {
  id: string;
  name: string;
  serviceId: string;
  stackId: string;
  spec: InstanceSpec;
  /** Overlay address from the host's subnet; absent = no address (the container gets none). */
  ip?: string;
}

/** The fixed address every host's DNS responder listens on. */
export const DNS_IP = "169.254.169.250";

/** What the agent needs to wire its host into the environment's overlay. */
export interface HostNetworkSpec {
  /** The environment's overlay range (10.42.0.0/16 by default): NAT exemption and blackhole route. */
  cidr: string;
  /** This host's subnet; its bridge takes `gateway`, its containers the addresses IPAM gave them. */
  subnet: string;
  gateway: string;
  /** This host's underlay address, as registered (the IKE/ESP endpoint). */
  underlayIp?: string;
  /** Every other host of the environment with a subnet and an underlay address (not removed), sorted by hostId. */
  peers: NetworkPeer[];
  ipsec: IpsecSpec;
}

export interface NetworkPeer {
  hostId: string;
  name: string;
  underlayIp: string;
  subnet: string;
}

/** The environment's pre-shared key. Stored secret; never shown by the API. */
export interface IpsecSpec {
  /** Changes with every rotation, so agents can tell a new key from the one they loaded. */
  pskId: string;
  /** Sealed at rest (environment key in Redis, host key in a desired document); the agent opens it. */
  psk: string;
}

/** Tunnel to one peer, as the host's agent sees it. */
export interface TunnelStatus {
  state: "up" | "connecting" | "down";
  /** When `state` last changed (ISO time). */
  since: string;
  error?: string;
}

/** What the agent reports about its host's overlay. */
export interface HostNetworkStatus {
  /** How ESP is done: the kernel's XFRM ESP, strongSwan's userspace kernel-libipsec, or not at all (no peers / not set up). */
  ipsecMode: "kernel" | "libipsec" | "none";
  /** Is the host's charon answering on vici. */
  charon: "running" | "starting" | "down" | "not-needed";
  /** The pskId of the key charon has loaded. */
  pskId?: string;
  /** Peer hostId → tunnel. */
  tunnels: Record<string, TunnelStatus>;
  error?: string;
}

/** What an agent reports back about its host. */
export interface HostObservedState {
  hostId: string;
  /** The desired generation the agent last finished applying. */
  appliedGeneration: number;
  instances: Record<string, InstanceStatus>;
  /** The overlay as the agent last saw it; absent from agents that do not run it yet. */
  network?: HostNetworkStatus;
  /** This host's checker's verdict per checked instance id (HostDesiredState.checks). */
  health?: Record<string, HealthVerdict>;
  /** Load balancer instance id → its HAProxy as the agent runs it. */
  loadBalancers?: Record<string, LoadBalancerInstanceStatus>;
  /**
   * Whether the agent reaches its dockerd. While it does not (dockerd restarting, say), the
   * server takes no health decision on the host's instances: their containers are not sick,
   * they are waiting for their engine.
   */
  docker?: { state: "up" | "down"; since: string; error?: string };
  reportedAt: string;
}

/** One load balancer instance's HAProxy, as its host's agent reports it. */
export interface LoadBalancerInstanceStatus {
  /** running: serving the current config; starting; error: not serving (see `error`). */
  state: "starting" | "running" | "error" | "stopped";
  /** The config HAProxy refused, or why it is not running; the last good config keeps serving. */
  error?: string;
  /** Seamless reloads done since the agent started it. */
  reloads: number;
  /** Backend name → target instance id → server state. */
  backends: Record<string, Record<string, "up" | "down" | "draining" | "maint">>;
  since: string;
}
