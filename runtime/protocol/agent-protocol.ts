/**
 * The agent ↔ server contract. An agent registers once over HTTP with a registration
 * token; from then on it talks to Redis only, with its own ACL user, through the host keys
 * of runtime/protocol/keys.ts (desired, nudges, observed, reports, heartbeat).
 */

/** POST /v1/register body. */
export interface RegisterRequest {
  token: string;
  /** Stable machine identity (e.g. /etc/machine-id or the agent's state dir id): re-registering returns the same host. */
  machineId: string;
  hostname: string;
  labels: Record<string, string>;
  agentVersion: string;
  dockerVersion: string;
  kernelVersion: string;
  underlayIp?: string;
  /** The host's public key (PEM, SPKI, RSA ≥ 2048): its identity (runtime/protocol/host-identity.ts). */
  identityKey: string;
  /** When the agent signed this request (ISO); must be fresh and newer than the host's last registration. */
  signedAt: string;
  /** base64 RSA-SHA256 signature by the identity key over every other field (registrationSigningText). */
  signature: string;
}

/** 201 response to a registration. */
export interface RegisterResponse {
  hostId: string;
  envId: string;
  redis: {
    /** redis://host:port (loopback only) or rediss://host:port the agent connects to (no credentials in it). */
    url: string;
    username: string;
    password: string;
    /** Key prefix of runtime/protocol/keys.ts makeKeys(). */
    keyPrefix: string;
    /** rediss://: the CA that signed Redis's certificate (PEM); the agent prefers the one it pinned. */
    ca?: string;
    /** rediss://: the host's client certificate (PEM) for its identity key (mutual TLS; the key stays on the host). */
    clientCert?: string;
  };
  /**
   * The host's secrets key (runtime/secrets/seal.ts): what its desired document seals
   * (service secrets, certificate keys, the PSK) opens with it. Absent from servers without
   * a keyring. The agent keeps it with its identity (mode 0600).
   */
  secretsKey?: { id: string; key: string };
  heartbeatIntervalMs: number;
  /** Heartbeat key TTL: a host whose key expired is `reconnecting`. */
  heartbeatTtlMs: number;
  /** Full resync period, in case a nudge was lost. */
  resyncIntervalMs: number;
}

/** The agent's Redis credentials as it uses them: the response's, plus its identity key (PEM) for the client certificate. */
export type AgentRedisCredentials = RegisterResponse["redis"] & { clientKey?: string };

/** Entries on a host's nudges stream (field `type`). */
/** `dns`: the environment's DNS document (EnvKeys.dns) changed. `stream`: dial in for the logs/exec session `session` (runtime/protocol/stream-protocol.ts). */
export type NudgeType = "desired" | "teardown" | "dns" | "stream";

/** Entries on a host's reports stream (field `type`). */
export type ReportType = "observed" | "instance" | "teardown-done";

/** Labels drover puts on every container it creates. */
export const containerLabels = {
  managed: "io.drover.managed",
  env: "io.drover.env",
  host: "io.drover.host",
  instance: "io.drover.instance",
  service: "io.drover.service",
  stack: "io.drover.stack",
  /** Hash of the InstanceSpec: a different hash means the container must be recreated. */
  specHash: "io.drover.spec-hash",
  // Rancher's own names, which users' scheduling rules refer to.
  rancherStackName: "io.rancher.stack.name",
  rancherStackServiceName: "io.rancher.stack_service.name",
  rancherContainerName: "io.rancher.container.name",
} as const;
