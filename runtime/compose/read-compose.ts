/**
 * The compose reader: docker-compose.yml (+ rancher-compose.yml) → drover's stack model.
 * Pure: no file system, no network; env files come through ComposeInput.envFile. Used by
 * the API (import and create), the CLI (which reads env files from disk) and the Pulumi
 * Stack (check() shows the warnings and the services before anything is written).
 *
 * Versions: 1 (services at the top level) and 2/3 (`version:` and `services:`), as Rancher
 * 1.6 read them; a file without `version:` but with a `services:` mapping is read as 2/3,
 * as today's Compose does. Errors throw a DroverError naming file, line and column;
 * everything drover does not act on becomes a warning with its path.
 */
import { ReadContext } from "./context";
import { readRancherEntry, type RancherEntry } from "./read-rancher";
import { readService, type ServiceRead } from "./read-service";
import type { ComposeInput, ComposeStack, ComposeWarning } from "./types";
import { SIDEKICKS_LABEL, findSidekicks, toSidekick, warnSidekickOnlyKeys } from "./sidekicks";
import type { SidekickSpec } from "../protocol/model";
import { validateImport, type PendingLoadBalancer, type PendingService } from "./validate-import";
import { parseYamlSource, type YamlPath } from "./yaml-source";

export const LB_IMAGE_PREFIX = "rancher/lb-service-haproxy";
/** Labels Rancher put on its own load balancer containers; drover's HAProxy needs none of them. */
const RANCHER_LB_LABELS = ["io.rancher.container.agent.role", "io.rancher.container.create_agent"];

interface Top {
  /** service name → [its definition, its path]. */
  services: Map<string, { raw: unknown; path: YamlPath }>;
}

export function readCompose(input: ComposeInput): ComposeStack {
  const warnings: ComposeWarning[] = [];
  const dockerFile = input.dockerComposeName ?? "docker-compose.yml";
  const rancherFile = input.rancherComposeName ?? "rancher-compose.yml";
  const docker = new ReadContext(parseYamlSource(input.dockerCompose, dockerFile, "dockerCompose"), "dockerCompose", warnings, input.envFile);
  const rancher = input.rancherCompose !== undefined && input.rancherCompose.trim() !== ""
    ? new ReadContext(parseYamlSource(input.rancherCompose, rancherFile, "rancherCompose"), "rancherCompose", warnings)
    : undefined;
  const dockerTop = readTop(docker, false);
  const rancherTop = rancher ? readTop(rancher, true) : { services: new Map() };
  for (const [name, entry] of rancherTop.services) {
    if (!dockerTop.services.has(name)) rancher!.fail(entry.path, `no service ${name} in ${dockerFile} (rancher-compose.yml only adds to services defined there)`);
  }
  const reads = new Map<string, { read: ServiceRead; rancher: RancherEntry; path: YamlPath; rancherPath?: YamlPath }>();
  for (const [name, { raw, path }] of dockerTop.services) {
    const r = rancherTop.services.get(name);
    const entry = r && rancher ? readRancherEntry(rancher, r.raw, r.path) : {};
    reads.set(name, { read: readService(docker, name, raw, path), rancher: entry, path, rancherPath: r?.path });
  }
  const primaryOf = findSidekicks(docker, reads);
  for (const [name, { read }] of reads) if (!primaryOf.has(name)) warnSidekickOnlyKeys(docker, read);
  for (const [, { read }] of reads) {
    for (const link of read.linkPlaces) {
      const primary = primaryOf.get(link.target);
      if (primary !== undefined) docker.fail(link.path, `links to ${link.target}, a sidekick of ${primary}: link to ${primary} (the sidekick answers on its addresses)`);
      if (!reads.has(link.target)) docker.fail(link.path, `links to ${link.target}, which is not a service of this file (services: ${[...reads.keys()].join(", ")}); use external_links for another stack's service`);
      const target = reads.get(link.target)!;
      if (isLoadBalancer(target.read, target.rancher)) docker.fail(link.path, `links to ${link.target}, a load balancer: link to the services behind it, or reach it by its published ports`);
    }
  }
  const services: PendingService[] = [];
  const loadBalancers: PendingLoadBalancer[] = [];
  const sidekicksOf = new Map<string, SidekickSpec[]>();
  for (const [name, primary] of primaryOf) {
    const sidekick = toSidekick(docker, rancher, name, primary, reads.get(name)!);
    sidekicksOf.set(primary, [...(sidekicksOf.get(primary) ?? []), sidekick]);
  }
  for (const [name, { read, rancher: entry, path, rancherPath }] of reads) {
    if (primaryOf.has(name)) continue;
    if (isLoadBalancer(read, entry)) {
      loadBalancers.push(toLoadBalancer(docker, rancher, name, read, entry, path, rancherPath));
      continue;
    }
    const body = { ...read.body };
    if (entry.scale !== undefined) body.scale = entry.scale;
    if (entry.healthCheck !== undefined) body.healthCheck = entry.healthCheck;
    if (entry.upgradeStrategy !== undefined) body.upgradeStrategy = entry.upgradeStrategy;
    const sidekicks = sidekicksOf.get(name);
    if (sidekicks) {
      // In the order the label lists them.
      const order = String((read.body.labels as Record<string, string>)[SIDEKICKS_LABEL]).split(",").map((x) => x.trim());
      body.sidekicks = [...sidekicks].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    }
    services.push({ name, body, path, rancherPath });
  }
  for (const lb of loadBalancers) {
    lb.lb.portRules.forEach((rule, i) => {
      const target = rule.targetServiceId;
      if (typeof target === "string" && !target.includes("/") && !services.some((s) => s.name === target)) {
        rancher!.fail(lb.lb.targetPaths[i], `targets ${target}, which is not a service of ${dockerFile}; use "stack/service" for another stack's service`);
      }
    });
  }
  return validateImport({ docker, rancher }, services, loadBalancers, warnings);
}

function isLoadBalancer(read: ServiceRead, entry: RancherEntry): boolean {
  return entry.lb !== undefined || String(read.body.image ?? "").startsWith(LB_IMAGE_PREFIX);
}

function toLoadBalancer(docker: ReadContext, rancher: ReadContext | undefined, name: string, read: ServiceRead, entry: RancherEntry, path: YamlPath, rancherPath?: YamlPath): PendingLoadBalancer {
  if (!entry.lb || !rancher) docker.fail([...path, "image"], `${name} runs Rancher's load balancer image but has no lb_config in rancher-compose.yml`);
  const labels = Object.fromEntries(Object.entries((read.body.labels ?? {}) as Record<string, string>).filter(([k]) => !RANCHER_LB_LABELS.includes(k)));
  for (const key of Object.keys(read.body)) {
    if (!["image", "labels", "ports", "expose"].includes(key)) docker.warn([...path, key], "not used by a load balancer (drover runs its HAProxy); left out");
  }
  if (!String(read.body.image).startsWith(LB_IMAGE_PREFIX)) docker.warn([...path, "image"], "a load balancer runs drover's HAProxy; the image is not used");
  if (entry.healthCheck) rancher.warn([...rancherPath!, "health_check"], "not supported on a load balancer (drover watches its HAProxy itself); left out");
  if (entry.upgradeStrategy) rancher.warn([...rancherPath!, "upgrade_strategy"], "not supported on a load balancer; left out");
  const { targetPaths: _ignored, ...lbBody } = entry.lb;
  const body: Record<string, unknown> = {
    ...lbBody,
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(entry.scale !== undefined ? { scale: entry.scale } : read.body.scale !== undefined ? { scale: read.body.scale } : {}),
    ...(read.body.global ? { global: true } : {}),
  };
  return { name, body, path, rancherPath, lb: entry.lb };
}

function readTop(ctx: ReadContext, isRancher: boolean): Top {
  const top = ctx.map(ctx.src.value ?? {}, [], "a mapping at the top of the file");
  const services = new Map<string, { raw: unknown; path: YamlPath }>();
  const versioned = top.version !== undefined || (isPlainMap(top.services) && Object.values(top.services).every(isPlainMapOrNull));
  if (!versioned) {
    for (const [name, raw] of Object.entries(top)) {
      if (isRancher && name === ".catalog") ctx.warn([name], "Rancher catalog metadata (questions, version) is not used; left out");
      else if (!name.startsWith("x-")) services.set(name, { raw, path: [name] });
    }
    return { services };
  }
  if (top.version !== undefined) {
    const version = ctx.string(top.version, ["version"], 'a compose file version such as "2" or "3.7"');
    if (!/^[23](\.\d+)?$/.test(version)) ctx.fail(["version"], `expected a compose file version 2.x or 3.x (or no version: 1), got ${JSON.stringify(version)}`);
  }
  for (const [key, value] of Object.entries(top)) {
    if (key === "version" || key.startsWith("x-")) continue;
    if (key === "services") {
      for (const [name, raw] of Object.entries(ctx.map(value ?? {}, ["services"]))) services.set(name, { raw, path: ["services", name] });
    } else if (isRancher && key === ".catalog") ctx.warn([key], "Rancher catalog metadata (questions, version) is not used; left out");
    else if (key === "volumes") readVolumeDeclarations(ctx, value);
    else ctx.warn([key], `top-level ${key} is not supported by drover; left out`);
  }
  return { services };
}

/** Top-level named volumes: the local driver with no options is what Docker makes by default. */
function readVolumeDeclarations(ctx: ReadContext, value: unknown): void {
  for (const [name, def] of Object.entries(ctx.map(value ?? {}, ["volumes"]))) {
    if (def === null || def === undefined) continue;
    for (const [k, v] of Object.entries(ctx.map(def, ["volumes", name]))) {
      if (k === "driver" && v === "local") continue;
      ctx.warn(["volumes", name, k], "only local volumes with default options are supported (Docker creates them on first use); left out");
    }
  }
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isPlainMapOrNull(v: unknown): boolean {
  return v === null || isPlainMap(v);
}
