import { randomBytes } from "crypto";
import Redis from "ioredis";
import t from "tap";
import { createLogger } from "../../agent/log";
import { StatsPublisher } from "../../agent/stats/publisher";
import type { StatsSampler } from "../../agent/stats/sampler";
import { waitFor } from "../support/wait";

// A purge deletes a host's stats stream while its agent may still run for a moment: the
// agent must not bring the stream back (it would outlive the host). Real Redis.
t.test("the publisher appends to the stream the server made, and never recreates it once removed", async (t) => {
  const redis = new Redis(process.env.DROVER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
  const key = `statspub${randomBytes(4).toString("hex")}:stats`;
  let samples = 0;
  const sampler = { sample: async () => ({ n: ++samples }) } as unknown as StatsSampler;
  const lines: string[] = [];
  const publisher = new StatsPublisher(redis, key, sampler, createLogger((l) => lines.push(l)), 20);
  t.teardown(async () => { publisher.stop(); await redis.del(key); redis.disconnect(); });
  await redis.xadd(key, "*", "registered", "1"); // as the server does at registration
  publisher.start();
  await waitFor(async () => (await redis.xlen(key)) >= 3, { what: "two samples in the stream", timeoutMs: 5000 });
  await redis.del(key);
  const deletedAt = samples;
  await waitFor(() => samples >= deletedAt + 5, { what: "five more samples taken", timeoutMs: 5000 });
  t.equal(await redis.exists(key), 0, "the stream stays deleted");
  t.ok(lines.some((l) => /no stats stream for this host/.test(l)), "the agent says why it stopped publishing");
});
