/**
 * What a Pulumi program writes for a `drover:Service`, documented for an editor's hover:
 * units, defaults, and whether a change replaces the service, updates it in place with new
 * containers, or updates it in place without touching running containers.
 */
import type * as pulumi from "@pulumi/pulumi";
import { keysOf } from "./input-fields";
import type { SchedulingInput } from "./scheduling-input";
import type { Stack } from "./stack";

/** A `docker run -p` protocol suffix: TCP when absent. */
export type PortProtocolSuffix = "" | "/tcp" | "/udp";

/**
 * A published port in `docker run -p` form: `"HOST:CONTAINER"` or `"IP:HOST:CONTAINER"`,
 * each with an optional `/tcp` or `/udp`: `"8080:80"`, `"127.0.0.1:5432:5432"`, `"53:53/udp"`.
 * A bare `"8080"` (Docker: publish on a random host port) is refused: write `"8080:8080"`,
 * or `{ containerPort: 8080 }` for a port that is not published.
 */
export type PortMapping =
  | `${number}:${number}${PortProtocolSuffix}`
  | `${string}:${number}:${number}${PortProtocolSuffix}`;

export interface PortInput {
  /** The port the container listens on (1-65535). */
  containerPort: pulumi.Input<number>;
  /** The host port that publishes it (1-65535); absent: not published, reachable on the overlay only. */
  hostPort?: pulumi.Input<number>;
  /** Default "tcp". */
  protocol?: pulumi.Input<"tcp" | "udp">;
  /** The host address to publish on (only with hostPort); default: every address. */
  hostIp?: pulumi.Input<string>;
}

/** Docker's restart policies. */
export type RestartPolicyName = "no" | "always" | "on-failure" | "unless-stopped";

/** A policy name, or `{ name: "on-failure", maximumRetryCount }` to give up after that many restarts. */
export type RestartPolicyInput =
  | RestartPolicyName
  | { name: pulumi.Input<"on-failure">; maximumRetryCount?: pulumi.Input<number> }
  | { name: pulumi.Input<Exclude<RestartPolicyName, "on-failure">>; maximumRetryCount?: never };

/**
 * Rancher's health check. Two agents check every instance on its overlay address (the one on
 * its own host and one on another live host); the instance is healthy when either passes it,
 * unhealthy only when every live checker fails it. DNS and load balancers use only healthy
 * instances; `pulumi up` returns once every instance is healthy. Times are in milliseconds.
 * Changing it updates the service in place: running containers stay.
 */
export interface HealthCheckInput {
  /** The container port to check (1-65535), on the instance's overlay address. Required. */
  port: pulumi.Input<number>;
  /**
   * Empty or absent: the check is a TCP connect. Otherwise one HTTP request line such as
   * `"GET /healthz HTTP/1.0"` (no CR or LF): a 2xx or 3xx answer passes.
   */
  requestLine?: pulumi.Input<string>;
  /** Milliseconds between two checks of one instance by one checker (100 ms to 1 day). Default 2000. */
  interval?: pulumi.Input<number>;
  /** Milliseconds a check may take before it fails as a timeout; at most `interval`. Default 2000 (or `interval` if lower). */
  responseTimeout?: pulumi.Input<number>;
  /** Checks in a row that must pass for a checker to call the instance healthy (1-1000). Default 2. */
  healthyThreshold?: pulumi.Input<number>;
  /** Checks in a row that must fail for a checker to call the instance unhealthy (1-1000). Default 3. */
  unhealthyThreshold?: pulumi.Input<number>;
  /** Milliseconds a new container has to pass its first checks before it counts as unhealthy. Default 60000. */
  initializingTimeout?: pulumi.Input<number>;
  /** The same after a restart of the container. Default 60000. */
  reinitializingTimeout?: pulumi.Input<number>;
  /**
   * What happens to an unhealthy instance: `"recreate"` (default) replaces it, with growing
   * back-off when replacements keep failing; `"recreateOnQuorum"` replaces it only while
   * `quorum` instances stay healthy; `"none"` only reports it.
   */
  strategy?: pulumi.Input<HealthCheckStrategy>;
  /** With `strategy: "recreateOnQuorum"` only (and required there): the healthy instances that must remain. */
  quorum?: pulumi.Input<number>;
}

/** What the server does with an unhealthy instance. */
export type HealthCheckStrategy = "none" | "recreate" | "recreateOnQuorum";

/**
 * How a change that needs new containers (image, command, env, ...) rolls out: batch by
 * batch, each batch running (and healthy, with a health check) before the next starts. A
 * batch that fails (unhealthy, exits, cannot start, misses its deadline) rolls the service
 * back to its previous spec by itself, and `pulumi up` fails with that reason. Changing it
 * updates the service in place: running containers stay.
 */
export interface UpgradeStrategyInput {
  /** Instances replaced at a time (1-1000). Default 1. */
  batchSize?: pulumi.Input<number>;
  /** Milliseconds to wait between one batch being ready and the next starting (0 to 1 day). Default 2000. */
  intervalMillis?: pulumi.Input<number>;
  /**
   * Start a batch's new instances before stopping its old ones (no capacity dip), where the
   * host allows it (a published port or a hard anti-affinity rule may not). Default false.
   */
  startFirst?: pulumi.Input<boolean>;
}

/**
 * A Service's inputs. `name`, the stack, the environment and the server are fixed for the
 * service's life: changing one replaces the service (the old one is deleted first when the
 * name stays, since names are unique in a stack). Everything else updates in place; fields
 * marked "new containers" replace the running containers (the server starts new ones from
 * the new spec and removes the old), the others leave running containers alone.
 */
export interface ServiceArgs {
  /**
   * The service's name in its stack: lowercase letters, digits and dashes (at most 63). Its
   * containers resolve it in DNS as `name` and `name.stack`. Changing it replaces the service.
   */
  name: pulumi.Input<string>;
  /** The image reference, e.g. `"redis:7"` or `"registry:5000/team/app@sha256:…"`. New containers. */
  image: pulumi.Input<string>;
  /** The container's command (Docker's CMD), one list item per argument. Default: the image's. New containers. */
  command?: pulumi.Input<pulumi.Input<string>[]>;
  /** The container's entrypoint, one list item per argument. Default: the image's. New containers. */
  entrypoint?: pulumi.Input<pulumi.Input<string>[]>;
  /** Environment variables, name → value. New containers. */
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Environment variables whose values are secret, name → value (a name may not also be in
   * `env`). Kept secret in the Pulumi state whether or not given as `pulumi.secret`; the
   * server stores them sealed, shows only their names, and hands them only to the agent of
   * the host that runs each container. New containers.
   */
  secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Ports: `"8080:80"`-style strings (see PortMapping) or `{ containerPort, hostPort?, protocol?, hostIp? }`.
   * Two ports may not publish the same host address, port and protocol. A published port
   * also keeps two instances of the service off one host. New containers.
   */
  ports?: pulumi.Input<pulumi.Input<PortMapping | PortInput>[]>;
  /** How many instances (containers) to run, 0-10000. Default 1. Ignored when `global`. In place: running containers stay. */
  scale?: pulumi.Input<number>;
  /** One instance on every active host that passes the scheduling rules, instead of `scale`. Default false. In place. */
  global?: pulumi.Input<boolean>;
  /**
   * Link alias → service id (another Service's `serviceId`): the container resolves the
   * alias (and `service.stack`) to that service's instances. In place: running containers stay.
   */
  links?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Container labels. `io.rancher.scheduler.*` labels are scheduling rules (Rancher's syntax). New containers. */
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Where instances may and should go: the typed form of Rancher's scheduling labels. New containers. */
  scheduling?: pulumi.Input<SchedulingInput>;
  /** When Docker restarts a container that exits. Default "always". New containers. */
  restartPolicy?: pulumi.Input<RestartPolicyInput>;
  /** How the server checks that an instance works (see HealthCheckInput). Default: none (a running container counts). In place. */
  healthCheck?: pulumi.Input<HealthCheckInput>;
  /** How a change that needs new containers rolls out (see UpgradeStrategyInput). Default: one at a time, 2 s apart, stop first. In place. */
  upgradeStrategy?: pulumi.Input<UpgradeStrategyInput>;
  /**
   * Volumes as Docker's `-v` takes them: `name:/path[:ro]` (a named volume of the local
   * driver, created by Docker on first use and kept when the container is replaced on the
   * same host; an instance moved to another host starts with an empty one there) or
   * `/host/path:/path[:ro]` (a bind mount). New containers.
   */
  volumes?: pulumi.Input<pulumi.Input<string>[]>;
  /** Docker's --privileged. New containers. */
  privileged?: pulumi.Input<boolean>;
  /** Linux capabilities to add / drop (`NET_ADMIN`, `ALL`). New containers. */
  capAdd?: pulumi.Input<pulumi.Input<string>[]>;
  capDrop?: pulumi.Input<pulumi.Input<string>[]>;
  /** A terminal and an open stdin (compose tty / stdin_open). New containers. */
  tty?: pulumi.Input<boolean>;
  stdinOpen?: pulumi.Input<boolean>;
  /** DNS search domains. New containers. */
  dnsSearch?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Rancher's sidekicks: containers run beside every instance, on its host, in its network
   * namespace (they reach it on localhost), created after it and replaced with it. New containers.
   */
  sidekicks?: pulumi.Input<pulumi.Input<SidekickInput>[]>;
  /** The stack: fills stackId, envId, endpoint and apiKey from its outputs. */
  stack?: Stack;
  /** The stack's id (when `stack` is not given). Replaces. */
  stackId?: pulumi.Input<string>;
  /** The environment's id (when `stack` is not given). Replaces. */
  envId?: pulumi.Input<string>;
  /** The drover server's URL; default: config `drover:endpoint`. Replaces. */
  endpoint?: pulumi.Input<string>;
  /** The environment's API key (kept secret); default: config `drover:apiKey`. In place. */
  apiKey?: pulumi.Input<string>;
  /** Seconds create and update wait for the service to converge, and delete for its removal. Default 300. In place. */
  waitTimeoutSeconds?: pulumi.Input<number>;
}

export const PORT_FIELDS = keysOf<PortInput>()(["containerPort", "hostPort", "protocol", "hostIp"]);
export const RESTART_POLICY_FIELDS = ["name", "maximumRetryCount"] as const;
export const HEALTH_CHECK_FIELDS = keysOf<HealthCheckInput>()([
  "port", "requestLine", "interval", "responseTimeout", "healthyThreshold", "unhealthyThreshold", "initializingTimeout",
  "reinitializingTimeout", "strategy", "quorum",
]);
export const UPGRADE_STRATEGY_FIELDS = keysOf<UpgradeStrategyInput>()(["batchSize", "intervalMillis", "startFirst"]);

/** Every ServiceArgs key (compile-time checked); `stack` never reaches the provider, but a misspelling of it should be suggested. */
export const SERVICE_FIELDS = keysOf<ServiceArgs>()([
  "name", "image", "command", "entrypoint", "env", "secrets", "ports", "scale", "global", "links", "labels", "scheduling",
  "restartPolicy", "healthCheck", "upgradeStrategy", "volumes", "privileged", "capAdd", "capDrop", "tty", "stdinOpen", "dnsSearch", "sidekicks",
  "stack", "stackId", "envId", "endpoint", "apiKey", "waitTimeoutSeconds",
]);

/** One sidekick (ServiceArgs.sidekicks). */
export interface SidekickInput {
  /** Lowercase letters, digits and dashes; unique in the service. DNS answers it, within the service, with the instances' addresses. */
  name: pulumi.Input<string>;
  image: pulumi.Input<string>;
  command?: pulumi.Input<pulumi.Input<string>[]>;
  entrypoint?: pulumi.Input<pulumi.Input<string>[]>;
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Mount the primary container's volumes too (compose volumes_from). */
  volumesFromPrimary?: pulumi.Input<boolean>;
  volumes?: pulumi.Input<pulumi.Input<string>[]>;
  privileged?: pulumi.Input<boolean>;
  capAdd?: pulumi.Input<pulumi.Input<string>[]>;
  capDrop?: pulumi.Input<pulumi.Input<string>[]>;
  tty?: pulumi.Input<boolean>;
  stdinOpen?: pulumi.Input<boolean>;
  dnsSearch?: pulumi.Input<pulumi.Input<string>[]>;
}
