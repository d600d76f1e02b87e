import type Redis from "ioredis";

/** A Lua script and the ioredis command name it is registered under. */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
}

type ScriptCommand = (numKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * Runs a script through an ioredis command defined with `defineCommand` on first use:
 * ioredis sends EVALSHA and falls back to EVAL when Redis answers NOSCRIPT (after a restart
 * or SCRIPT FLUSH). The number of keys is passed per call so one definition serves batches
 * of any size.
 */
export async function runScript(redis: Redis, script: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  const commands = redis as unknown as Record<string, ScriptCommand | undefined>;
  if (typeof commands[script.name] !== "function") redis.defineCommand(script.name, { lua: script.lua });
  return (commands[script.name] as ScriptCommand).call(redis, keys.length, ...keys, ...args);
}

/** Scripts answer `{status, ...details}`; status `OK` is success. */
export function scriptReply(reply: unknown): { status: string; details: unknown[] } {
  if (!Array.isArray(reply) || typeof reply[0] !== "string") {
    throw new Error(`unexpected script reply ${JSON.stringify(reply)}`);
  }
  return { status: reply[0], details: reply.slice(1) };
}
