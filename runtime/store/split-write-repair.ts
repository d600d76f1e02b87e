import type Redis from "ioredis";
import type { EnvironmentRecord } from "../protocol/model";
import type { Keys } from "../protocol/keys";
import { createEnvironmentScript } from "./lua/create-environment";
import { dropIndexEntriesScript } from "./lua/index-entries";
import { parseStoredOrUndefined } from "./record-json";
import { withRedis } from "./redis-errors";
import { runScript, scriptReply } from "./scripts";

/** What one repair pass did (for logs and tests). */
export interface RepairReport {
  /** Environments whose per-environment half was missing and is now written. */
  finished: string[];
  /** Environments in state removing whose purge was left half-done, purged again. */
  purged: string[];
  /** Half-created environments without an API key claim: their record was removed. */
  abandoned: string[];
  /** Index entries (`<hash>/<field>`) no environment backs, seen on two passes in a row, removed. */
  droppedEntries: string[];
}

/**
 * Finishes or undoes writes split into one-slot steps (environment-writes.ts) that stopped
 * half-way (Redis or the server died between two steps). Runs at server start and every
 * `intervalMs`; every action is idempotent, so several servers may run it at once.
 *
 * - a record in the environments hash without the environment's rev key: created half-way
 *   (state active: the per-environment half is written now, the API key and token found in
 *   the indexes by value) or purged half-way (state removing: the purge runs again);
 * - an API key or token index entry pointing at an environment that has no record, or whose
 *   environment does not list it: a claim whose write failed after it. Such an entry is
 *   removed only when the previous pass saw it too, so a write in flight between its claim
 *   and its next step is never undone under it.
 */
export class SplitWriteRepair {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private suspects = new Set<string>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** Purges an environment again (RedisStore.purgeEnvironment: users, keys, record). */
    private readonly purge: (envId: string) => Promise<void>,
    private readonly log: (message: string, fields?: Record<string, unknown>) => void,
    private readonly intervalMs = 30_000,
  ) {}

  start(): void {
    const run = () => {
      this.running ??= this.repairOnce()
        .then((r) => { if (r.finished.length + r.purged.length + r.abandoned.length + r.droppedEntries.length) this.log("split writes repaired", { ...r }); })
        .catch((err) => this.log("split write repair failed", { error: err instanceof Error ? err.message : String(err) }))
        .finally(() => { this.running = undefined; });
    };
    run();
    this.timer = setInterval(run, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  async repairOnce(): Promise<RepairReport> {
    const report: RepairReport = { finished: [], purged: [], abandoned: [], droppedEntries: [] };
    const records = await withRedis(() => this.redis.hgetall(this.keys.environments()));
    const apiKeys = await withRedis(() => this.redis.hgetall(this.keys.apiKeys()));
    const tokens = await withRedis(() => this.redis.hgetall(this.keys.registrationTokens()));
    const envIds = Object.keys(records);
    // One command per environment (not a pipeline: on Redis Cluster their keys sit in different slots).
    const revExists = await Promise.all(envIds.map((envId) => withRedis(() => this.redis.exists(this.keys.env(envId).rev))));
    for (const [i, envId] of envIds.entries()) {
      if (revExists[i] === 1) continue;
      const record = parseStoredOrUndefined<EnvironmentRecord>(records[envId], "environment");
      if (record && record.state !== "active") {
        await this.purge(envId);
        report.purged.push(envId);
        continue;
      }
      const apiKeyHash = Object.keys(apiKeys).find((h) => apiKeys[h] === envId);
      const tokenHash = Object.keys(tokens).find((h) => tokens[h] === envId);
      if (!apiKeyHash || !tokenHash) {
        // Its claims were undone (or never made): nobody holds a key to it, so it goes.
        await withRedis(() => this.redis.hdel(this.keys.environments(), envId));
        report.abandoned.push(envId);
        continue;
      }
      const envKeys = this.keys.env(envId);
      const reply = scriptReply(await withRedis(() => runScript(this.redis, createEnvironmentScript,
        [envKeys.rev, envKeys.keys, envKeys.tokens, envKeys.events],
        [envId, apiKeyHash, tokenHash, JSON.stringify({ createdAt: record?.createdAt ?? new Date().toISOString() }), JSON.stringify({})])));
      if (reply.status === "OK") report.finished.push(envId);
    }
    report.droppedEntries = await this.dropUnbackedEntries(new Set(envIds.filter((id) => !report.abandoned.includes(id) && !report.purged.includes(id))), apiKeys, tokens);
    return report;
  }

  private async dropUnbackedEntries(envIds: Set<string>, apiKeys: Record<string, string>, tokens: Record<string, string>): Promise<string[]> {
    const suspects = new Set<string>();
    const listed = new Map<string, Set<string>>();
    const envFields = async (hash: "keys" | "tokens", envId: string) => {
      const name = `${hash}/${envId}`;
      if (!listed.has(name)) listed.set(name, new Set(await withRedis(() => this.redis.hkeys(this.keys.env(envId)[hash]))));
      return listed.get(name)!;
    };
    for (const [index, entries, hash] of [[this.keys.apiKeys(), apiKeys, "keys"], [this.keys.registrationTokens(), tokens, "tokens"]] as const) {
      for (const [field, envId] of Object.entries(entries)) {
        if (envIds.has(envId) && (await envFields(hash, envId)).has(field)) continue;
        suspects.add(`${index}\n${field}\n${envId}`);
      }
    }
    const dropped: string[] = [];
    for (const suspect of suspects) {
      if (!this.suspects.has(suspect)) continue;
      const [index, field, envId] = suspect.split("\n");
      const reply = scriptReply(await withRedis(() => runScript(this.redis, dropIndexEntriesScript, [index], [envId, field])));
      if (Number(reply.details[0]) > 0) dropped.push(`${index}/${field}`);
      suspects.delete(suspect);
    }
    this.suspects = suspects;
    return dropped;
  }
}
