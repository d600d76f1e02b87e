/** The Docker options of ContainerOptions, shared by the server (instance specs) and the agent (container config). */
import type { ContainerOptions } from "./model";

export const CONTAINER_OPTION_KEYS = ["volumes", "privileged", "capAdd", "capDrop", "tty", "stdinOpen", "dnsSearch"] as const;

/** The options a spec gives, and only those: absent stays absent, so specs written before them hash as before. */
export function containerOptionsOf(spec: ContainerOptions): ContainerOptions {
  const out: ContainerOptions = {};
  for (const key of CONTAINER_OPTION_KEYS) if (spec[key] !== undefined) (out as Record<string, unknown>)[key] = spec[key];
  return out;
}

/** docker create's HostConfig for them. */
export function hostConfigOf(spec: ContainerOptions): Record<string, unknown> {
  return {
    ...(spec.volumes?.length ? { Binds: spec.volumes } : {}),
    ...(spec.privileged ? { Privileged: true } : {}),
    ...(spec.capAdd?.length ? { CapAdd: spec.capAdd } : {}),
    ...(spec.capDrop?.length ? { CapDrop: spec.capDrop } : {}),
    ...(spec.dnsSearch?.length ? { DnsSearch: spec.dnsSearch } : {}),
  };
}
