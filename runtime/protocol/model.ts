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
  createdAt: string;
  rev: number;
}

export interface HostRecord {
  id: string;
  envId: string;
  /** RegisterRequest.machineId: the same machine registering again gets the same host. */
  machineId?: string;
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
  createdAt: string;
  rev: number;
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

export interface ServiceSpec {
  image: string;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
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
}

export interface ServiceRecord {
  id: string;
  envId: string;
  stackId: string;
  name: string;
  spec: ServiceSpec;
  /** Bumped whenever `spec` changes in a way that needs new containers (image, command, ...). */
  specVersion: number;
  state: ServiceState;
  /** Rancher's progress fields: "yes" while converging, "error" when stuck (message says why), "no" when done. */
  transitioning: "yes" | "no" | "error";
  transitioningMessage?: string;
  createdAt: string;
  rev: number;
}

/** One HAProxy frontend → backend mapping of a load balancer (Rancher's port rule). */
export interface PortRuleSpec {
  /** The port the load balancer listens on. */
  sourcePort: number;
  protocol: "http" | "tcp" | "https";
  /** http/https only: the Host header to match (`*.example.com` and `example.*` wildcards allowed). */
  hostname?: string;
  /** http/https only: the path prefix to match (starts with `/`). */
  path?: string;
  targetServiceId: string;
  targetPort: number;
  /** Lower numbers match first among rules on the same source port (Rancher's order). */
  priority?: number;
}

export interface LoadBalancerSpec {
  portRules: PortRuleSpec[];
  /** Certificates offered by SNI on https rules (ids; the certificate store comes with the HAProxy issue). */
  certificateIds: string[];
  defaultCertificateId?: string;
  /** Number of HAProxy instances; ignored when `global` is set. */
  scale: number;
  global: boolean;
  /** User labels, Rancher scheduling labels included (they place the HAProxy instances). */
  labels: Record<string, string>;
}

/**
 * A load balancer in a stack. Accepted, validated and stored; agents do not run HAProxy for
 * it yet, so `served` is false and the record is `active` with `transitioning: "no"`
 * (nothing to converge). DELETE removes the record at once.
 */
export interface LoadBalancerRecord {
  id: string;
  envId: string;
  stackId: string;
  name: string;
  spec: LoadBalancerSpec;
  state: "active" | "removed";
  transitioning: "no";
  /** Whether agents run HAProxy for it: false until the load balancer issue lands. */
  served: boolean;
  createdAt: string;
  rev: number;
}

/** What an agent needs to run one container. */
export interface InstanceSpec {
  image: string;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  ports: PortSpec[];
  labels: Record<string, string>;
  restartPolicy: RestartPolicySpec;
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
  reportedAt: string;
}
