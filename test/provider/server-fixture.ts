/**
 * A drover server started in-process for provider tests: 127.0.0.1, a private key prefix on
 * the shared test Redis, an admin key file in a temp dir. Teardown closes the server and
 * removes every key and ACL user under the prefix, and the temp dir.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import type { Test } from "tap";
import { resolveServerConfig } from "../../runtime/server/config";
import { startServer } from "../../runtime/server/server";
import { freePort } from "../support/free-port";
import { createLogger } from "../../runtime/protocol/log";

export const redisUrl = process.env.DROVER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface TestServer {
  url: string;
  adminKey: string;
  prefix: string;
  dir: string;
}

export async function serverForTest(t: Pick<Test, "teardown">): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-provider-"));
  const adminKey = `adm-${randomBytes(12).toString("hex")}`;
  const keyFile = path.join(dir, "admin-key");
  fs.writeFileSync(keyFile, adminKey, { mode: 0o600 });
  const prefix = `prov${randomBytes(4).toString("hex")}`;
  const port = await freePort();
  const server = await startServer(resolveServerConfig({
    redis: redisUrl, listen: `127.0.0.1:${port}`, "key-prefix": prefix, "admin-key-file": keyFile, "server-id": prefix,
    "master-key-file": path.join(dir, "master-key"),
  }), createLogger(() => undefined));
  t.teardown(async () => {
    await server.close();
    const redis = new Redis(redisUrl);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
    const users = (await redis.call("ACL", "USERS")) as string[];
    for (const u of users.filter((u) => u.startsWith(`${prefix}-`))) await redis.call("ACL", "DELUSER", u);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { url: server.url, adminKey, prefix, dir };
}
