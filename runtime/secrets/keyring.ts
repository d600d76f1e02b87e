/**
 * The keys secrets are sealed with (runtime/secrets/seal.ts), envelope style:
 *
 *   master key (a file on each server)  seals  each environment's data key (EnvKeys.sealKey)
 *   environment data key                seals  services' secrets, certificate keys, the PSK,
 *                                              and each host's secrets key (EnvKeys.hostSealKeys)
 *   host secrets key (also on the host) seals  what that host's desired document carries
 *
 * A host's agent gets its secrets key once, at registration (over TLS), and keeps it in its
 * state dir; it can open what is sealed for it and nothing else. Keys are cached in memory
 * once unsealed (they never change: a new environment or host gets a new one).
 */
import { randomBytes } from "crypto";
import type Redis from "ioredis";
import { DroverError } from "../protocol/errors";
import type { Keys } from "../protocol/keys";
import { withRedis } from "../store/redis-errors";
import { secretContext } from "../protocol/secret-contexts";
import { type DataKey, newDataKey, seal, unseal } from "../protocol/seal";

interface StoredKey {
  id: string;
  /** The key (base64), sealed. */
  wrapped: string;
}

export class Keyring {
  private readonly envKeys = new Map<string, Promise<DataKey>>();
  private readonly hostKeys = new Map<string, DataKey>();

  constructor(private readonly redis: Redis, private readonly keys: Keys, private readonly master: DataKey) {}

  /** The environment's data key, made (once, whichever server gets there first) when it has none. */
  envKey(envId: string): Promise<DataKey> {
    let key = this.envKeys.get(envId);
    if (!key) {
      key = this.loadOrCreateEnvKey(envId);
      this.envKeys.set(envId, key);
      key.catch(() => this.envKeys.delete(envId));
    }
    return key;
  }

  /** The host's secrets key, or undefined when it has none (registered before secrets keys existed). */
  async hostKey(envId: string, hostId: string): Promise<DataKey | undefined> {
    const cached = this.hostKeys.get(`${envId}/${hostId}`);
    if (cached) return cached;
    const raw = await withRedis(() => this.redis.hget(this.keys.env(envId).hostSealKeys, hostId));
    if (raw === null) return undefined;
    const key = this.unwrap(await this.envKey(envId), secretContext.hostKey(hostId), raw, `host ${hostId}'s secrets key`);
    this.hostKeys.set(`${envId}/${hostId}`, key);
    return key;
  }

  /** The host's secrets key, made now when it has none (registration hands it to the agent). */
  async hostKeyForRegistration(envId: string, hostId: string): Promise<DataKey> {
    const existing = await this.hostKey(envId, hostId);
    if (existing) return existing;
    const fresh = newDataKey(`h${randomBytes(6).toString("hex")}`);
    const wrapped = this.wrap(await this.envKey(envId), secretContext.hostKey(hostId), fresh);
    // HSETNX: two registrations racing agree on one key.
    await withRedis(() => this.redis.hsetnx(this.keys.env(envId).hostSealKeys, hostId, wrapped));
    this.hostKeys.delete(`${envId}/${hostId}`);
    return (await this.hostKey(envId, hostId))!;
  }

  async removeHostKey(envId: string, hostId: string): Promise<void> {
    this.hostKeys.delete(`${envId}/${hostId}`);
    await withRedis(() => this.redis.hdel(this.keys.env(envId).hostSealKeys, hostId));
  }

  /** Forgets an environment's cached keys (after its purge). */
  forget(envId: string): void {
    this.envKeys.delete(envId);
    for (const k of [...this.hostKeys.keys()]) if (k.startsWith(`${envId}/`)) this.hostKeys.delete(k);
  }

  private async loadOrCreateEnvKey(envId: string): Promise<DataKey> {
    const slot = this.keys.env(envId).sealKey;
    let raw = await withRedis(() => this.redis.get(slot));
    if (raw === null) {
      const fresh = newDataKey(`e${randomBytes(6).toString("hex")}`);
      // SET NX: servers starting together agree on one key.
      await withRedis(() => this.redis.set(slot, this.wrap(this.master, secretContext.envKey(envId), fresh), "NX"));
      raw = await withRedis(() => this.redis.get(slot));
      if (raw === null) throw new DroverError("Unavailable", `environment ${envId}'s data key vanished while being made`, { retryable: true });
    }
    return this.unwrap(this.master, secretContext.envKey(envId), raw, `environment ${envId}'s data key`);
  }

  private wrap(under: DataKey, context: string, key: DataKey): string {
    const stored: StoredKey = { id: key.id, wrapped: seal(under, context, key.key.toString("base64")) };
    return JSON.stringify(stored);
  }

  private unwrap(under: DataKey, context: string, raw: string, what: string): DataKey {
    let stored: StoredKey;
    try {
      stored = JSON.parse(raw) as StoredKey;
    } catch (err) {
      throw new DroverError("Internal", `${what} is not valid JSON`, { cause: err });
    }
    try {
      return { id: stored.id, key: Buffer.from(unseal(under, context, stored.wrapped), "base64") };
    } catch (err) {
      throw new DroverError("Internal", `${what} does not open with this server's key ${under.id}: every server sharing a Redis needs the same master key file`, { cause: err });
    }
  }
}
