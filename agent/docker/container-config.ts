import type { ContainerCreateOptions } from "dockerode";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import { createHash } from "crypto";
import { DNS_IP, type DesiredInstance } from "../../runtime/protocol/model";
import { overlayNetworkName } from "../network/bridge";
import { canonicalJson, specHash } from "../spec-hash";
import { secretContext } from "../../runtime/protocol/secret-contexts";
import { isSealed } from "../../runtime/protocol/seal";
import { hostConfigOf } from "../../runtime/protocol/container-options";

/** Where a container belongs: written into its labels, which is how drover finds it again. */
export interface HostContext {
  envId: string;
  hostId: string;
  /**
   * Opens a sealed secret of the desired document (agent/host-secrets.ts); without it a
   * sealed value cannot be given to a container and its creation fails.
   */
  openSecret?: (context: string, value: string) => string;
}

/** The container's environment: `env`, then the service's secrets, opened only here. */
function containerEnv(instance: DesiredInstance, ctx: HostContext): string[] {
  const env = Object.entries(instance.spec.env ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const [name, value] of Object.entries(instance.spec.secrets ?? {})) {
    const context = secretContext.service(instance.serviceId, name);
    if (!ctx.openSecret && isSealed(value)) throw new Error(`secret ${name} is sealed and this agent cannot open it`);
    env.push(`${name}=${ctx.openSecret ? ctx.openSecret(context, value) : value}`);
  }
  return env;
}

/**
 * The labels of an instance's container: the spec's own labels (Rancher scheduling labels,
 * io.rancher.stack.name if the server set it, ...) under drover's, which always win so a user
 * label can never make a container look like another instance or another host's.
 */
export function instanceLabels(instance: DesiredInstance, ctx: HostContext): Record<string, string> {
  return {
    ...instance.spec.labels,
    [containerLabels.rancherContainerName]: instance.name,
    [containerLabels.managed]: "true",
    [containerLabels.env]: ctx.envId,
    [containerLabels.host]: ctx.hostId,
    [containerLabels.instance]: instance.id,
    [containerLabels.service]: instance.serviceId,
    [containerLabels.stack]: instance.stackId,
    [containerLabels.specHash]: instanceHash(instance),
  };
}

/**
 * The spec-hash label's value: the spec's hash, and with an overlay address the address
 * too, so a new address recreates the container. Without one it is the plain spec hash, as
 * before the overlay existed (existing containers are not recreated by an upgrade).
 */
export function instanceHash(instance: Pick<DesiredInstance, "spec" | "ip">): string {
  if (!instance.ip) return specHash(instance.spec);
  return createHash("sha256").update(canonicalJson({ spec: instance.spec, ip: instance.ip, network: overlayNetworkName })).digest("hex");
}

/** docker create options for an instance (pure). */
export function createOptions(instance: DesiredInstance, ctx: HostContext): ContainerCreateOptions {
  const spec = instance.spec;
  const exposed: Record<string, {}> = {};
  const bindings: Record<string, { HostPort: string; HostIp?: string }[]> = {};
  for (const port of spec.ports ?? []) {
    const key = `${port.containerPort}/${port.protocol ?? "tcp"}`;
    exposed[key] = {};
    if (port.hostPort !== undefined) {
      bindings[key] = [...(bindings[key] ?? []), { HostPort: String(port.hostPort), ...(port.hostIp ? { HostIp: port.hostIp } : {}) }];
    }
  }
  const policy = spec.restartPolicy ?? { name: "no" };
  // A sidekick joins its primary's namespace: no network, ports or DNS of its own.
  const joined = spec.networkMode?.startsWith("container:") ? spec.networkMode : undefined;
  // With an overlay address: on the host's overlay bridge at that address, DNS from drover's responder.
  const overlay = instance.ip && !joined
    ? {
      network: { NetworkMode: overlayNetworkName, Dns: [DNS_IP] },
      config: { NetworkingConfig: { EndpointsConfig: { [overlayNetworkName]: { IPAMConfig: { IPv4Address: instance.ip } } } } },
    }
    : undefined;
  return {
    name: instance.name,
    Image: spec.image,
    Cmd: spec.command,
    Entrypoint: spec.entrypoint,
    Env: containerEnv(instance, ctx),
    Labels: instanceLabels(instance, ctx),
    ...(joined ? {} : { ExposedPorts: exposed }),
    ...(spec.tty ? { Tty: true } : {}),
    ...(spec.stdinOpen ? { OpenStdin: true } : {}),
    HostConfig: {
      ...(joined ? { NetworkMode: joined } : { PortBindings: bindings }),
      ...hostConfigOf(spec),
      ...(spec.volumesFrom?.length ? { VolumesFrom: spec.volumesFrom } : {}),
      // Docker's own restart policy keeps containers running while the agent is down.
      RestartPolicy: {
        Name: policy.name,
        ...(policy.name === "on-failure" && policy.maximumRetryCount !== undefined ? { MaximumRetryCount: policy.maximumRetryCount } : {}),
      },
      ...overlay?.network,
    },
    ...overlay?.config,
  };
}
