/**
 * The servers' master key: 32 random bytes in a file (hex, mode 0600) that never enters
 * Redis. It seals each environment's data key (runtime/secrets/keyring.ts), so a copy of
 * Redis (an RDB file, a replica, a backup) holds no secret in the clear. Every server that
 * shares a Redis must be given the same file.
 */
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { DataKey } from "../protocol/seal";

export function masterKeyFrom(hex: string, file: string): DataKey {
  const text = hex.trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${file}: expected 64 hex digits (a 256-bit master key)`);
  const key = Buffer.from(text, "hex");
  // The id tells which master key sealed a data key, without revealing anything of it.
  return { id: `m${createHash("sha256").update(key).digest("hex").slice(0, 12)}`, key };
}

/** Reads the key file, creating it (0600, exclusively: concurrent starts agree on one key) when it does not exist. */
export function loadOrCreateMasterKey(file: string): DataKey {
  try {
    return masterKeyFrom(fs.readFileSync(file, "utf8"), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
  try {
    fs.linkSync(tmp, file); // fails with EEXIST when another process made it first: then use theirs
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return masterKeyFrom(fs.readFileSync(file, "utf8"), file);
}
