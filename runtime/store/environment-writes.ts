import type Redis from "ioredis";
import { DroverError } from "../protocol/errors";
import type { EnvironmentRecord } from "../protocol/model";
import type { Keys } from "../protocol/keys";
import { createEnvironmentScript } from "./lua/create-environment";
import { addRegistrationTokenScript } from "./lua/add-registration-token";
import { claimIndexEntryScript, dropIndexEntriesScript } from "./lua/index-entries";
import { environmentChangedScript, setEnvironmentRecordScript, takeEnvironmentRevScript } from "./lua/update-environment";
import { jsonWithout } from "./record-json";
import { withRedis } from "./redis-errors";
import { runScript, scriptReply } from "./scripts";
import { scriptRefusal } from "./script-refusals";

/**
 * Writes that touch both the global hashes (environments, apiKeys, registrationTokens: one
 * key each, no hash tag) and an environment's own keys (`{envId}`, one slot). On Redis
 * Cluster no script may span slots, so each such write is a sequence of one-slot steps.
 *
 * Chosen order: **global first, environment second** (for purge the mirror image: index
 * entries first, per-environment keys, the record last). Why:
 * - the global entries are the claims that decide uniqueness (the environment id, the API
 *   key hash, the token hash): a losing claim stops the write before anything per-environment
 *   exists, and undoing a claim is one HDEL;
 * - the environments hash is the one place listing every environment, so a half-done write is
 *   found by reading that one hash (split-write-repair.ts), never by SCANning every node: an
 *   environment record without its rev key was created or purged half-way.
 * Recovery: the per-environment steps are idempotent, and the repair pass (at server start
 * and on a timer) finishes a half-created environment, re-runs a half-done purge, and drops
 * index entries that no environment backs.
 */

type Refusal = { status: string; details: unknown[] };

async function step(redis: Redis, script: { name: string; lua: string }, keys: string[], args: string[]): Promise<Refusal> {
  return scriptReply(await withRedis(() => runScript(redis, script, keys, args)));
}

export interface EnvironmentCreation {
  env: Omit<EnvironmentRecord, "rev">;
  apiKeyHash: string;
  tokenHash: string;
  apiKeyMeta: string;
  tokenMeta: string;
}

/**
 * 1. claims the API key and token hashes in their indexes; 2. the record (rev 1) in the
 * environments hash with HSETNX (the id's claim, and the mark the repair pass reads);
 * 3. the per-environment half (lua/create-environment.ts). A refusal undoes the claims made.
 */
export async function createEnvironmentSplit(redis: Redis, keys: Keys, c: EnvironmentCreation): Promise<number> {
  const subject = `create environment ${c.env.id}`;
  const envId = c.env.id;
  const envKeys = keys.env(envId);
  const undo = async (what: Array<[string, string]>) => {
    for (const [hash, field] of what) await step(redis, dropIndexEntriesScript, [hash], [envId, field]);
  };
  if (await withRedis(() => redis.hexists(keys.environments(), envId)) === 1) throw scriptRefusal("ENV_EXISTS", [], subject);
  if ((await step(redis, claimIndexEntryScript, [keys.apiKeys()], [c.apiKeyHash, envId])).status !== "OK") {
    throw scriptRefusal("API_KEY_TAKEN", [], subject);
  }
  if ((await step(redis, claimIndexEntryScript, [keys.registrationTokens()], [c.tokenHash, envId])).status !== "OK") {
    await undo([[keys.apiKeys(), c.apiKeyHash]]);
    throw scriptRefusal("TOKEN_TAKEN", [], subject);
  }
  const claims: Array<[string, string]> = [[keys.apiKeys(), c.apiKeyHash], [keys.registrationTokens(), c.tokenHash]];
  const record = environmentRecordJson(c.env, 1);
  if (await withRedis(() => redis.hsetnx(keys.environments(), envId, record)) === 0) {
    await undo(claims);
    throw scriptRefusal("ENV_EXISTS", [], subject);
  }
  const reply = await step(redis, createEnvironmentScript, [envKeys.rev, envKeys.keys, envKeys.tokens, envKeys.events],
    [envId, c.apiKeyHash, c.tokenHash, c.apiKeyMeta, c.tokenMeta]);
  if (reply.status !== "OK") {
    // Keys of this id exist without a record (left by something else): the id is not free.
    await withRedis(() => redis.hdel(keys.environments(), envId));
    await undo(claims);
    throw scriptRefusal(reply.status, reply.details, subject);
  }
  return Number(reply.details[0]);
}

/** The record as the environments hash holds it: the rev last, as withField (lua/common.ts) appends it. */
export function environmentRecordJson(env: Omit<EnvironmentRecord, "rev">, rev: number): string {
  const copy: Record<string, unknown> = { ...env };
  delete copy.rev;
  return JSON.stringify({ ...copy, rev });
}

/**
 * One compare-and-set attempt: takes the environment's next rev, writes the record carrying
 * it if nobody changed it since `currentRev`, then appends the event and the reconciler's
 * nudge. "STALE" when another update got there first (the caller reads again). If the last
 * step fails the record is written but unannounced: the reconciler's periodic pass still
 * sees it, and the caller was told the write failed.
 */
export async function updateEnvironmentSplit(redis: Redis, keys: Keys, envId: string, currentRev: number, next: object): Promise<{ rev: number } | "STALE"> {
  const subject = `update environment ${envId}`;
  const envKeys = keys.env(envId);
  const taken = await step(redis, takeEnvironmentRevScript, [envKeys.rev], []);
  if (taken.status !== "OK") throw scriptRefusal(taken.status, taken.details, subject);
  const rev = String(taken.details[0]);
  const set = await step(redis, setEnvironmentRecordScript, [keys.environments()], [envId, String(currentRev), jsonWithout(next, "rev"), rev]);
  if (set.status === "STALE") return "STALE";
  if (set.status !== "OK") throw scriptRefusal(set.status, set.details, subject);
  await step(redis, environmentChangedScript, [envKeys.events, envKeys.reconcile], [envId, rev]);
  return { rev: Number(rev) };
}

/** Claims the token hash in the global index, then records its metadata in the environment (undoing the claim on NO_ENV). */
export async function addRegistrationTokenSplit(redis: Redis, keys: Keys, envId: string, tokenHash: string, meta: string): Promise<void> {
  const subject = `add registration token to ${envId}`;
  const envKeys = keys.env(envId);
  if (await withRedis(() => redis.exists(envKeys.rev)) === 0) throw scriptRefusal("NO_ENV", [], subject);
  if ((await step(redis, claimIndexEntryScript, [keys.registrationTokens()], [tokenHash, envId])).status !== "OK") {
    throw scriptRefusal("TOKEN_TAKEN", [], subject);
  }
  const reply = await step(redis, addRegistrationTokenScript, [envKeys.rev, envKeys.tokens], [tokenHash, meta]);
  if (reply.status !== "OK") {
    await step(redis, dropIndexEntriesScript, [keys.registrationTokens()], [envId, tokenHash]);
    throw scriptRefusal(reply.status, reply.details, subject);
  }
}

/** Purge, first step: the environment's API keys and tokens leave the global indexes (read from its own hashes). */
export async function dropEnvironmentIndexEntries(redis: Redis, keys: Keys, envId: string): Promise<void> {
  const envKeys = keys.env(envId);
  const apiKeyHashes = await withRedis(() => redis.hkeys(envKeys.keys));
  const tokenHashes = await withRedis(() => redis.hkeys(envKeys.tokens));
  if (apiKeyHashes.length) await step(redis, dropIndexEntriesScript, [keys.apiKeys()], [envId, ...apiKeyHashes]);
  if (tokenHashes.length) await step(redis, dropIndexEntriesScript, [keys.registrationTokens()], [envId, ...tokenHashes]);
}

/** Purge, last step: the record goes, and with it the environment from every list. */
export async function dropEnvironmentRecord(redis: Redis, keys: Keys, envId: string): Promise<void> {
  await withRedis(() => redis.hdel(keys.environments(), envId));
}

export function conflictKeptChanging(envId: string): DroverError {
  return new DroverError("Conflict", `environment ${envId} kept changing while being updated`, { retryable: true });
}
