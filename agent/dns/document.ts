import { isIPv4 } from "net";
import { DroverError } from "../../runtime/protocol/errors";
import type { DnsDirectory, DnsInstance, DnsService, DnsStack, EnvDnsDocument } from "./directory";

/**
 * The environment's DNS document as read from Redis, checked field by field. The agent
 * serves what it reads to every container of the host, so anything malformed is refused
 * whole (the previous document keeps serving) with an error naming the field.
 */
export function parseEnvDnsDocument(raw: string): EnvDnsDocument {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new DroverError("InvalidJson", `dns document is not JSON: ${(err as Error).message}`);
  }
  const doc = object(value, "dns document");
  const version = doc.version;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 0) invalid("version", "a non-negative integer", version);
  const dir = object(doc.directory, "directory");
  const directory: DnsDirectory = {
    instances: array(dir.instances, "directory.instances").map((v, i) => instance(v, `directory.instances[${i}]`)),
    services: array(dir.services, "directory.services").map((v, i) => service(v, `directory.services[${i}]`)),
    stacks: array(dir.stacks, "directory.stacks").map((v, i) => stack(v, `directory.stacks[${i}]`)),
  };
  return { version: version as number, directory };
}

function instance(v: unknown, at: string): DnsInstance {
  const o = object(v, at);
  const ip = string(o.ip, `${at}.ip`);
  // The overlay is IPv4; the responder only ever answers A records with these.
  if (!isIPv4(ip)) invalid(`${at}.ip`, "an IPv4 address", ip);
  const out: DnsInstance = { id: string(o.id, `${at}.id`), ip, serviceId: string(o.serviceId, `${at}.serviceId`), running: boolean(o.running, `${at}.running`) };
  if (o.healthy !== undefined) out.healthy = boolean(o.healthy, `${at}.healthy`);
  if (o.draining !== undefined) out.draining = boolean(o.draining, `${at}.draining`);
  return out;
}

function service(v: unknown, at: string): DnsService {
  const o = object(v, at);
  const links: Record<string, string> = {};
  for (const [alias, target] of Object.entries(object(o.links, `${at}.links`))) links[alias] = string(target, `${at}.links.${alias}`);
  return { id: string(o.id, `${at}.id`), name: string(o.name, `${at}.name`), stackId: string(o.stackId, `${at}.stackId`), links };
}

function stack(v: unknown, at: string): DnsStack {
  const o = object(v, at);
  return { id: string(o.id, `${at}.id`), name: string(o.name, `${at}.name`), stackWideDiscovery: boolean(o.stackWideDiscovery, `${at}.stackWideDiscovery`) };
}

function invalid(field: string, want: string, got: unknown): never {
  throw new DroverError("InvalidField", `dns document: ${field} must be ${want}, got ${JSON.stringify(got) ?? "nothing"}`, { field });
}

function object(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) invalid(field, "an object", v);
  return v as Record<string, unknown>;
}

function array(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) invalid(field, "an array", v);
  return v as unknown[];
}

function string(v: unknown, field: string): string {
  if (typeof v !== "string" || v.length === 0) invalid(field, "a non-empty string", v);
  return v as string;
}

function boolean(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") invalid(field, "true or false", v);
  return v as boolean;
}
