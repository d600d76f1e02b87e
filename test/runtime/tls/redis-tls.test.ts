import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import Redis, { type RedisOptions } from "ioredis";
import t from "tap";
import { createCa, issueCertificate, loadOrCreateCa, type CertificateAuthority } from "../../../runtime/tls/ca";
import { certificateFingerprint } from "../../../runtime/tls/ca";
import { startPrivateRedis, type PrivateRedis } from "../../support/redis-server";

// Redis as drover runs it across a network: TLS only, the server's certificate from drover's
// CA, client certificates from the same CA required. Plaintext, another CA on either side,
// and no client certificate are all refused.
let redis: PrivateRedis;
let ca: CertificateAuthority;
let dir: string;

t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-redis-tls-"));
  ca = await loadOrCreateCa(dir);
  redis = await startPrivateRedis(["127.0.0.1"], { tls: { ca, dir } });
});
t.teardown(async () => {
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** PING through a client that gives up at the first failure; the error, or undefined on PONG. */
async function pingError(url: string, opts: RedisOptions): Promise<Error | undefined> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 5_000, commandTimeout: 5_000, ...opts });
  // The first error event carries the TLS reason; connect() may reject with a vaguer "Connection is closed".
  let first: Error | undefined;
  c.on("error", (err: Error) => (first ??= err));
  try {
    await c.connect();
    t.equal(await c.ping(), "PONG");
    return undefined;
  } catch (err) {
    return first ?? (err as Error);
  } finally {
    c.disconnect();
  }
}

function otherCa(): CertificateAuthority {
  const made = createCa("another CA");
  return { ...made, fingerprint: certificateFingerprint(made.cert) };
}

t.test("a client with drover's CA and a client certificate from it is served", async (t) => {
  t.equal(redis.url.slice(0, 9), "rediss://");
  t.equal(await pingError(redis.url, { tls: redis.tls }), undefined);
});

t.test("a plaintext connection to the TLS port is refused: no command is ever answered", async (t) => {
  const got = await new Promise<string>((resolve, reject) => {
    const s = net.connect(redis.port, "127.0.0.1");
    let text = "";
    s.on("connect", () => s.write("PING\r\nAUTH default secret\r\n"));
    s.on("data", (d) => (text += d.toString("latin1")));
    s.on("close", () => resolve(text));
    // Redis may reset the connection instead of closing it: refused either way.
    s.on("error", () => resolve(text));
    s.setTimeout(10_000, () => reject(new Error("redis neither answered nor closed a plaintext connection within 10 s")));
  });
  t.notMatch(got, /PONG|\+OK|-ERR|-NOAUTH/, "no Redis reply in the clear");
  const err = await pingError(redis.url.replace("rediss:", "redis:"), {});
  t.ok(err, `ioredis without TLS fails: ${err?.message}`);
});

t.test("a client trusting another CA refuses Redis's certificate", async (t) => {
  const err = await pingError(redis.url, { tls: { ...redis.tls!, ca: otherCa().cert } });
  t.match((err as NodeJS.ErrnoException | undefined)?.code, /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
});

t.test("without a client certificate, or with one from another CA, Redis refuses the client", async (t) => {
  t.ok(await pingError(redis.url, { tls: { ca: ca.cert } }), "no client certificate: refused");
  const stranger = issueCertificate(otherCa(), { commonName: "stranger", usage: ["client"], days: 1 });
  t.ok(await pingError(redis.url, { tls: { ca: ca.cert, cert: stranger.cert, key: stranger.key! } }), "another CA's client certificate: refused");
});
