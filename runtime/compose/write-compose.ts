/**
 * Rancher's "View Config": a stack back to docker-compose.yml + rancher-compose.yml
 * (version 2, the form Rancher 1.6 exported), from the same name-based model the reader
 * makes, so that reading what this writes gives the same specs (a property test holds it
 * to that). What the files cannot carry is listed in `warnings` (secret values are never
 * written out).
 */
import { stringify } from "yaml";
import type { ContainerOptions, HealthCheckSpec, LoadBalancerSpec, PortSpec, ServiceSpec, SidekickSpec } from "../protocol/model";
import { SIDEKICKS_LABEL } from "./sidekicks";
import { LB_IMAGE_PREFIX } from "./read-compose";
import type { ComposeStack } from "./types";

/** The image a Rancher user would recognise for a load balancer; drover runs its own HAProxy. */
const LB_IMAGE = `${LB_IMAGE_PREFIX}:v0.9.14`;

export interface ComposeExport {
  dockerCompose: string;
  rancherCompose: string;
  /** What the files leave out, by path (`services.web.secrets`). */
  warnings: string[];
}

export function writeCompose(stack: Pick<ComposeStack, "services" | "loadBalancers">): ComposeExport {
  const docker: Record<string, unknown> = {};
  const rancher: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const { name, spec } of stack.services) {
    const sidekicks = spec.sidekicks ?? [];
    const labels = sidekicks.length ? { ...spec.labels, [SIDEKICKS_LABEL]: sidekicks.map((k) => k.name).join(",") } : spec.labels;
    docker[name] = dockerService({ ...spec, labels });
    rancher[name] = rancherService(spec);
    for (const k of sidekicks) docker[k.name] = sidekickService(name, k);
    const secrets = Object.keys(spec.secrets ?? {});
    if (secrets.length) warnings.push(`services.${name}.secrets: ${secrets.join(", ")} are secret and not written out; give them through the API's secrets field`);
  }
  for (const { name, spec } of stack.loadBalancers) {
    const ports = [...new Set(spec.portRules.map((r) => r.sourcePort))].sort((a, b) => a - b).map((p) => `${p}:${p}/tcp`);
    docker[name] = { image: LB_IMAGE, ...(ports.length ? { ports } : {}), ...(Object.keys(spec.labels).length ? { labels: spec.labels } : {}), ...(spec.global ? { deploy: { mode: "global" } } : {}) };
    rancher[name] = { scale: spec.scale, lb_config: lbConfig(spec) };
    if (spec.timeouts) warnings.push(`services.${name}.timeouts: HAProxy timeouts have no rancher-compose key; not written out`);
    if (spec.drainTimeoutMillis !== undefined && spec.drainTimeoutMillis !== 2000) warnings.push(`services.${name}.drainTimeoutMillis: no rancher-compose key; not written out`);
    if (spec.portRules.some((r) => r.proxyProtocol)) warnings.push(`services.${name}.lb_config.port_rules: proxyProtocol has no rancher-compose key; not written out`);
  }
  const options = { lineWidth: 0 } as const;
  return {
    dockerCompose: stringify({ version: "2", services: docker }, options),
    rancherCompose: stringify({ version: "2", services: rancher }, options),
    warnings,
  };
}

function dockerService(spec: ServiceSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { image: spec.image };
  if (spec.entrypoint) out.entrypoint = spec.entrypoint;
  if (spec.command) out.command = spec.command;
  if (Object.keys(spec.env).length) out.environment = spec.env;
  const published = spec.ports.filter((p) => p.hostPort !== undefined);
  const exposed = spec.ports.filter((p) => p.hostPort === undefined);
  if (exposed.length) out.expose = exposed.map((p) => `${p.containerPort}/${p.protocol}`);
  if (published.length) out.ports = published.map(portText);
  const links = Object.entries(spec.links).filter(([, target]) => !target.includes("/"));
  const external = Object.entries(spec.links).filter(([, target]) => target.includes("/"));
  if (links.length) out.links = links.map(([alias, target]) => (alias === target ? target : `${target}:${alias}`));
  if (external.length) out.external_links = external.map(([alias, target]) => `${target}:${alias}`);
  if (Object.keys(spec.labels).length) out.labels = spec.labels;
  Object.assign(out, containerOptions(spec));
  const r = spec.restartPolicy;
  out.restart = r.name === "on-failure" && r.maximumRetryCount !== undefined ? `on-failure:${r.maximumRetryCount}` : r.name;
  if (spec.global && !hasGlobalLabel(spec.labels)) out.deploy = { mode: "global" };
  return out;
}

function containerOptions(spec: ContainerOptions): Record<string, unknown> {
  return {
    ...(spec.volumes?.length ? { volumes: spec.volumes } : {}),
    ...(spec.privileged !== undefined ? { privileged: spec.privileged } : {}),
    ...(spec.capAdd ? { cap_add: spec.capAdd } : {}),
    ...(spec.capDrop ? { cap_drop: spec.capDrop } : {}),
    ...(spec.tty !== undefined ? { tty: spec.tty } : {}),
    ...(spec.stdinOpen !== undefined ? { stdin_open: spec.stdinOpen } : {}),
    ...(spec.dnsSearch ? { dns_search: spec.dnsSearch } : {}),
  };
}

function sidekickService(primary: string, k: SidekickSpec): Record<string, unknown> {
  return {
    image: k.image,
    ...(k.entrypoint ? { entrypoint: k.entrypoint } : {}),
    ...(k.command ? { command: k.command } : {}),
    ...(Object.keys(k.env).length ? { environment: k.env } : {}),
    ...(Object.keys(k.labels).length ? { labels: k.labels } : {}),
    ...containerOptions(k),
    network_mode: `container:${primary}`,
    ...(k.volumesFromPrimary ? { volumes_from: [primary] } : {}),
  };
}

function hasGlobalLabel(labels: Record<string, string>): boolean {
  return Object.keys(labels).some((k) => k.toLowerCase() === "io.rancher.scheduler.global");
}

function portText(p: PortSpec): string {
  return `${p.hostIp ? `${p.hostIp}:` : ""}${p.hostPort}:${p.containerPort}/${p.protocol}`;
}

function rancherService(spec: ServiceSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { scale: spec.scale };
  if (spec.healthCheck) out.health_check = healthCheck(spec.healthCheck);
  if (spec.upgradeStrategy) {
    out.upgrade_strategy = { batch_size: spec.upgradeStrategy.batchSize, interval_millis: spec.upgradeStrategy.intervalMillis, start_first: spec.upgradeStrategy.startFirst };
  }
  return out;
}

function healthCheck(h: HealthCheckSpec): Record<string, unknown> {
  return {
    port: h.port,
    interval: h.interval,
    response_timeout: h.responseTimeout,
    healthy_threshold: h.healthyThreshold,
    unhealthy_threshold: h.unhealthyThreshold,
    ...(h.requestLine ? { request_line: h.requestLine } : {}),
    initializing_timeout: h.initializingTimeout,
    reinitializing_timeout: h.reinitializingTimeout,
    strategy: h.strategy,
    ...(h.quorum !== undefined ? { recreate_on_quorum_strategy_config: { quorum: h.quorum } } : {}),
  };
}

function lbConfig(spec: LoadBalancerSpec): Record<string, unknown> {
  return {
    port_rules: spec.portRules.map((r) => ({
      source_port: r.sourcePort,
      protocol: r.protocol,
      ...(r.hostname ? { hostname: r.hostname } : {}),
      ...(r.path ? { path: r.path } : {}),
      service: r.targetServiceId,
      target_port: r.targetPort,
      ...(r.priority !== undefined ? { priority: r.priority } : {}),
    })),
    ...(spec.certificateIds.length ? { certs: spec.certificateIds } : {}),
    ...(spec.defaultCertificateId ? { default_cert: spec.defaultCertificateId } : {}),
    ...(spec.stickiness ? { stickiness_policy: { cookie: spec.stickiness.cookie, mode: "insert" } } : {}),
  };
}
