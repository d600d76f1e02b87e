import { randomBytes } from "crypto";
import * as fs from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { makeKeys } from "../../runtime/protocol/keys";

/**
 * What a test that runs `drover server` against a Redis of its own needs first: a temp dir,
 * an admin key in a 0600 file, and a fresh key prefix (with its keys) so runs never share keys.
 */
export function serverTestDir(tag: string, prefix: string) {
  const dir = fs.mkdtempSync(join(tmpdir(), `drover-${tag}-`));
  const adminKey = `admin-${randomBytes(12).toString("hex")}`;
  const adminKeyFile = join(dir, "admin-key");
  fs.writeFileSync(adminKeyFile, adminKey + "\n", { mode: 0o600 });
  const keyPrefix = `${prefix}${randomBytes(3).toString("hex")}`;
  return { dir, adminKey, adminKeyFile, keyPrefix, keys: makeKeys(keyPrefix) };
}
