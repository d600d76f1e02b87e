/**
 * Machine intents: a cloud machine the provider is about to make, recorded before its first
 * cloud call and cleared once the host is in Pulumi's state. A create killed in between
 * (Pulumi records no resource, so `destroy` would never call the Host's delete) leaves its
 * intent, and the Environment's delete sweeps the machine by its tag. The secret the sweep
 * needs (the cloud token) is sealed by the provider with a key derived from the environment's
 * API key: opaque here, never in the clear in Redis or the API.
 */
import type Redis from "ioredis";
import type { Keys } from "../protocol/keys";
import { withRedis } from "./redis-errors";

export interface MachineIntent {
  /** The host's name (one intent per name). */
  name: string;
  /** The driver that makes the machine ("digitalocean"). */
  driver: string;
  /** What the driver finds the machine and its keys by. */
  tag: string;
  /** The driver's credentials, sealed by the provider (opaque to the server). */
  sealed: string;
  createdAt: string;
}

export async function putMachineIntent(redis: Redis, keys: Keys, envId: string, intent: MachineIntent): Promise<void> {
  await withRedis(() => redis.hset(keys.env(envId).machineIntents, intent.name, JSON.stringify(intent)));
}

export async function listMachineIntents(redis: Redis, keys: Keys, envId: string): Promise<MachineIntent[]> {
  const all = await withRedis(() => redis.hgetall(keys.env(envId).machineIntents));
  return Object.values(all).map((v) => JSON.parse(v) as MachineIntent).sort((a, b) => a.name.localeCompare(b.name));
}

/** True when there was one. */
export async function deleteMachineIntent(redis: Redis, keys: Keys, envId: string, name: string): Promise<boolean> {
  return (await withRedis(() => redis.hdel(keys.env(envId).machineIntents, name))) > 0;
}
