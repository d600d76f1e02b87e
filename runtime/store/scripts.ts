import type Redis from "ioredis";

/** A Lua script and the ioredis command name it is registered under. */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
}

type ScriptCommand = (numKeys: number, keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * Runs a script through an ioredis command defined with `defineCommand` on first use:
 * ioredis sends EVALSHA and falls back to EVAL when Redis answers NOSCRIPT (after a restart
 * or SCRIPT FLUSH). The number of keys is passed per call so one definition serves batches
 * of any size.
 */
export async function runScript(redis: Redis, script: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  const commands = redis as unknown as Record<string, ScriptCommand | undefined>;
  if (typeof commands[script.name] !== "function") redis.defineCommand(script.name, { lua: script.lua });
  // Keys and arguments as one array (ioredis flattens it into the command), never spread into
  // the call: an auto-pipelining client spreads a command's arguments into a function call
  // once more, and a large batch (75,000 arguments: 25,000 instances placed in one write)
  // overflowed the stack there, which left ioredis's pipeline replies misaligned and crashed
  // the server ("results[i] is not iterable"). A cluster's refusals (TRYAGAIN while a slot migrates) are retried by withRedis.
  return (commands[script.name] as ScriptCommand).call(redis, keys.length, [...keys, ...args]);
}

/**
 * Defines every script on the client up front. A client with `enableAutoPipelining` must not
 * meet a script for the first time while an automatic pipeline is open in the same tick:
 * ioredis then misaligns that pipeline's replies (ioredis issue #1931, fixed upstream after
 * 5.11.1). Defining them all before the first command avoids that.
 */
export function defineScripts(redis: Redis, scripts: readonly LuaScript[]): void {
  const commands = redis as unknown as Record<string, ScriptCommand | undefined>;
  for (const script of scripts) if (typeof commands[script.name] !== "function") redis.defineCommand(script.name, { lua: script.lua });
}

/** Scripts answer `{status, ...details}`; status `OK` is success. */
export function scriptReply(reply: unknown): { status: string; details: unknown[] } {
  if (!Array.isArray(reply) || typeof reply[0] !== "string") {
    throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
  }
  return { status: reply[0], details: reply.slice(1) };
}
