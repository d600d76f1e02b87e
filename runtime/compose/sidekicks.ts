/**
 * Rancher's sidekicks in compose files: a primary names them in its `io.rancher.sidekicks`
 * label; each is a service of the file that becomes part of the primary (ServiceSpec.sidekicks):
 * run beside every primary instance, in its network namespace, scaled, placed and replaced
 * with it. `network_mode: container:<primary>` says so (and is what export writes);
 * `volumes_from: [<primary>]` mounts the primary's volumes. Keys that belong to a service of
 * its own (ports, links, scale, health_check, ...) are the primary's to give: warned about.
 */
import type { SidekickSpec } from "../protocol/model";
import type { ReadContext } from "./context";
import type { RancherEntry } from "./read-rancher";
import type { ServiceRead } from "./read-service";
import type { YamlPath } from "./yaml-source";

export const SIDEKICKS_LABEL = "io.rancher.sidekicks";
const SIDEKICK_BODY_KEYS = ["image", "command", "entrypoint", "env", "labels", "volumes", "privileged", "capAdd", "capDrop", "tty", "stdinOpen", "dnsSearch"];
/** Body field → the compose key it came from, for warnings. */
const COMPOSE_KEY: Record<string, string> = { ports: "ports", links: "links", restartPolicy: "restart", scale: "deploy", global: "deploy" };

interface Read { read: ServiceRead; rancher: RancherEntry; path: YamlPath; rancherPath?: YamlPath }

/** Sidekick name → its primary's name, from the primaries' labels; fails on names that are not services of the file. */
export function findSidekicks(docker: ReadContext, reads: Map<string, Read>): Map<string, string> {
  const primaryOf = new Map<string, string>();
  for (const [name, { read, path }] of reads) {
    const label = (read.body.labels as Record<string, string> | undefined)?.[SIDEKICKS_LABEL];
    if (label === undefined) continue;
    const at = [...path, "labels"];
    for (const sidekick of label.split(",").map((x) => x.trim()).filter(Boolean)) {
      if (!reads.has(sidekick)) docker.fail(at, `${SIDEKICKS_LABEL} names ${sidekick}, which is not a service of this file`);
      if (sidekick === name) docker.fail(at, `${SIDEKICKS_LABEL}: ${name} cannot be its own sidekick`);
      const other = primaryOf.get(sidekick);
      if (other !== undefined) docker.fail(at, `${SIDEKICKS_LABEL}: ${sidekick} is already a sidekick of ${other}`);
      primaryOf.set(sidekick, name);
    }
  }
  for (const [sidekick, primary] of primaryOf) {
    if (primaryOf.has(primary)) docker.fail([...reads.get(primary)!.path, "labels"], `${primary} is a sidekick of ${primaryOf.get(primary)} and cannot have sidekicks of its own`);
    void sidekick;
  }
  return primaryOf;
}

/** One sidekick's spec from its compose service (values checked later with the primary's). */
export function toSidekick(docker: ReadContext, rancher: ReadContext | undefined, name: string, primary: string, { read, rancher: entry, path, rancherPath }: Read): SidekickSpec {
  const body = read.body;
  for (const key of Object.keys(body)) {
    if (!SIDEKICK_BODY_KEYS.includes(key)) docker.warn([...path, COMPOSE_KEY[key] ?? key], `a sidekick has no ${COMPOSE_KEY[key] ?? key} of its own (it runs in ${primary}'s network namespace, with its scale and placement); left out`);
  }
  if (rancher && rancherPath) {
    for (const key of Object.keys(entry)) {
      rancher.warn([...rancherPath, key === "healthCheck" ? "health_check" : key === "upgradeStrategy" ? "upgrade_strategy" : key], `a sidekick follows its primary ${primary}; left out`);
    }
  }
  const mode = read.sidekickOnly.network_mode;
  if (mode === undefined) docker.warn(path, `drover runs a sidekick in its primary's network namespace (network_mode: container:${primary})`);
  else if (mode.value !== `container:${primary}`) docker.fail(mode.path, `expected container:${primary} (a sidekick shares its primary's network namespace), got ${JSON.stringify(mode.value)}`);
  const from = read.sidekickOnly.volumes_from;
  for (const [i, source] of (from?.value ?? []).entries()) {
    if (source !== primary) docker.warn([...from!.path, i], `only the primary's volumes can be shared with a sidekick (${primary}); left out`);
  }
  return {
    name,
    ...(Object.fromEntries(Object.entries(body).filter(([k]) => SIDEKICK_BODY_KEYS.includes(k))) as Omit<SidekickSpec, "name" | "env" | "labels">),
    env: (body.env as Record<string, string>) ?? {},
    labels: (body.labels as Record<string, string>) ?? {},
    ...(from?.value.includes(primary) ? { volumesFromPrimary: true } : {}),
  };
}

/** network_mode and volumes_from on a service that is not a sidekick: warned about. */
export function warnSidekickOnlyKeys(docker: ReadContext, read: ServiceRead): void {
  const { network_mode: mode, volumes_from: from } = read.sidekickOnly;
  if (mode) docker.warn(mode.path, "not supported: every container joins the environment's overlay network (only a sidekick's container:<primary> is)");
  if (from) docker.warn(from.path, "not supported: only a sidekick can mount its primary's volumes");
}
