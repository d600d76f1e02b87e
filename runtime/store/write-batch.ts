import { DroverError } from "../protocol/errors";
import { type EnvKeys, hostDataKeys, type Keys } from "../protocol/keys";
import { jsonWithout } from "./record-json";
import type { RecordKind, WriteBatch, WriteOptions } from "./store";

export const recordKinds: readonly RecordKind[] = ["host", "stack", "service", "instance", "loadBalancer", "certificate"];

/** The hash that holds records of a kind. */
export function recordHash(env: EnvKeys, kind: RecordKind): string {
  switch (kind) {
    case "host": return env.hosts;
    case "stack": return env.stacks;
    case "service": return env.services;
    case "instance": return env.instances;
    case "loadBalancer": return env.loadBalancers;
    case "certificate": return env.certificates;
    default: throw new DroverError("InvalidField", `unknown record kind ${JSON.stringify(kind)}`, { field: "kind" });
  }
}

/** Kinds whose names are unique (hosts and stacks per environment, services and load balancers per stack). */
const namedKinds = new Set<RecordKind>(["host", "stack", "service", "loadBalancer", "certificate"]);

/** lua/write.ts's first three ARGV: the revision expected, the fence, what it tolerates since. */
export function writeOptionArgs(opts: WriteOptions): string[] {
  return [optionalInteger(opts.expectRev, "expectRev", 0), optionalInteger(opts.fence, "fence", 1), toleranceArg(opts)];
}

/**
 * KEYS and the ARGV after writeOptionArgs of lua/write.ts for one batch (the records' texts:
 * the costly part), after checking what the script relies on.
 */
export function writeBatchArgs(keys: Keys, envId: string, batch: WriteBatch): { keys: string[]; args: string[] } {
  const env = keys.env(envId);
  const scriptKeys = [
    env.rev, env.leader, env.events, env.reconcile,
    env.hosts, env.stacks, env.services, env.instances,
    env.hostNames, env.stackNames, env.serviceNames,
    env.loadBalancers, env.loadBalancerNames,
    env.certificates, env.certificateNames, env.hostMachines, env.revokedHostKeys, env.creationRun, env.recordsKeptRun,
  ];
  const puts = batch.put ?? [];
  const removes = batch.remove ?? [];
  const args = [String(puts.length)];

  for (const { kind, record } of puts) {
    recordHash(env, kind);
    checkRecord(envId, kind, record as unknown as Record<string, unknown>);
    if (kind === "host") keys.host(envId, record.id); // host ids become key names: same rules as envId
    args.push(kind, record.id, jsonWithout(record, "rev"));
  }
  args.push(String(removes.length));
  for (const { kind, id } of removes) {
    recordHash(env, kind);
    if (typeof id !== "string" || id === "") throw new DroverError("MissingField", `remove of a ${kind} without an id`, { field: "id" });
    args.push(kind, id);
    if (kind === "host") {
      scriptKeys.push(...hostDataKeys(keys.host(envId, id)));
    }
  }
  return { keys: scriptKeys, args };
}

function checkRecord(envId: string, kind: RecordKind, record: Record<string, unknown>): void {
  if (record === null || typeof record !== "object") throw new DroverError("InvalidField", `${kind} record is not an object`);
  if (typeof record.id !== "string" || record.id === "") throw new DroverError("MissingField", `${kind} record without an id`, { field: "id" });
  if (record.envId !== envId) {
    throw new DroverError("InvalidField", `${kind} ${record.id} belongs to environment ${String(record.envId)}, not ${envId}`, { field: "envId" });
  }
  if (namedKinds.has(kind) && (typeof record.name !== "string" || record.name === "")) {
    throw new DroverError("MissingField", `${kind} ${record.id} has no name`, { field: "name" });
  }
  if ((kind === "service" || kind === "loadBalancer") && (typeof record.stackId !== "string" || record.stackId === "")) {
    throw new DroverError("MissingField", `${kind} ${record.id} has no stackId`, { field: "stackId" });
  }
}

/** A script argument for an optional non-negative integer ('' = not given). */
export function optionalInteger(value: number | undefined, field: string, min: number): string {
  if (value === undefined) return "";
  if (!Number.isSafeInteger(value) || value < min) {
    throw new DroverError("InvalidField", `${field} must be an integer >= ${min}`, { field });
  }
  return String(value);
}

/** The write script's ARGV[3]: which other writers' writes since `expectRev` it lets through. */
function toleranceArg(opts: WriteOptions): string {
  if (opts.creationsSince && opts.recordsKeptSince) throw new Error("write: creationsSince and recordsKeptSince are exclusive");
  return opts.creationsSince ? "creations" : opts.recordsKeptSince ? "kept" : "";
}
