/**
 * A service's Docker options (volumes, privileged, capAdd, capDrop, tty, stdinOpen,
 * dnsSearch) and its sidekicks. Volumes are Docker's `-v` short form: a named volume of the
 * local driver (`data:/var/lib/mysql`) or a bind mount of an absolute host path, `:ro` or
 * `:rw` after; an anonymous volume (`/data` alone) is refused: it would be lost with every
 * container replacement, which is rarely what a service wants.
 */
import type { ContainerOptions, SidekickSpec } from "../model";
import { Problems } from "./problems";
import { ObjectReader, indexPath, isPlainObject } from "./reader";
import { ENV_KEY, ENV_VALUE, IMAGE, LABEL_KEY, LABEL_VALUE, NAME } from "./rules";

export const CONTAINER_OPTION_FIELDS = ["volumes", "privileged", "capAdd", "capDrop", "tty", "stdinOpen", "dnsSearch"];
const SIDEKICK_FIELDS = ["name", "image", "command", "entrypoint", "env", "labels", "volumesFromPrimary", ...CONTAINER_OPTION_FIELDS];
const VOLUME = {
  expected: 'a volume such as "data:/var/lib/mysql" (named) or "/srv/conf:/etc/app:ro" (bind), a container path after the colon',
  pattern: /^(?:[A-Za-z0-9][A-Za-z0-9_.-]*|\/[^:\u0000]*):\/[^:\u0000]*(?::(?:ro|rw))?$/,
  maxLength: 4096,
};
const CAPABILITY = { expected: "a capability name such as NET_ADMIN or ALL", pattern: /^(CAP_)?[A-Z_]+$/, maxLength: 64 };
const DNS_NAME = { expected: "a DNS search domain", pattern: /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, maxLength: 253 };
const ARG = { expected: "a string of at most 4096 characters", maxLength: 4096, minLength: 0 };
const MAX_SIDEKICKS = 10;

export function readContainerOptions(r: ObjectReader): ContainerOptions {
  const out: ContainerOptions = {};
  const volumes = r.stringList("volumes", 100, VOLUME);
  if (volumes !== undefined) out.volumes = volumes;
  for (const key of ["privileged", "tty", "stdinOpen"] as const) {
    const value = r.boolean(key);
    if (value !== undefined) out[key] = value;
  }
  for (const key of ["capAdd", "capDrop"] as const) {
    const value = r.stringList(key, 64, CAPABILITY);
    if (value !== undefined) out[key] = value;
  }
  const dnsSearch = r.stringList("dnsSearch", 6, DNS_NAME);
  if (dnsSearch !== undefined) out.dnsSearch = dnsSearch;
  return out;
}

/** `sidekicks`: a list of containers run beside each instance; names unique and not the service's own. */
export function validateSidekicks(p: Problems, value: unknown, serviceName: string | undefined): SidekickSpec[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_SIDEKICKS) {
    p.invalid("sidekicks", `a list of at most ${MAX_SIDEKICKS} sidekicks {name, image, ...}`, value);
    return undefined;
  }
  const before = p.list.length;
  const out: SidekickSpec[] = [];
  value.forEach((item, i) => {
    const path = indexPath("sidekicks", i);
    if (!isPlainObject(item)) return p.invalid(path, "an object {name, image, command?, env?, ...}", item);
    const r = new ObjectReader(p, item, path, SIDEKICK_FIELDS);
    const name = r.string("name", { ...NAME, required: true });
    const image = r.string("image", { ...IMAGE, required: true });
    if (name !== undefined && (name === serviceName || out.some((s) => s.name === name))) p.invalid(r.at("name"), "a name not used by the service or another of its sidekicks", name);
    const command = r.stringList("command", 256, ARG);
    const entrypoint = r.stringList("entrypoint", 256, ARG);
    const env = r.stringMap("env", 1000, ENV_KEY, ENV_VALUE) ?? {};
    const labels = r.stringMap("labels", 256, LABEL_KEY, LABEL_VALUE) ?? {};
    const volumesFromPrimary = r.boolean("volumesFromPrimary");
    const options = readContainerOptions(r);
    if (name === undefined || image === undefined) return;
    out.push({
      name, image, ...(command ? { command } : {}), ...(entrypoint ? { entrypoint } : {}), env, labels,
      ...(volumesFromPrimary !== undefined ? { volumesFromPrimary } : {}), ...options,
    });
  });
  return p.list.length === before ? out : undefined;
}
