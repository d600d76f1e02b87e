import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { loadOrCreateCa } from "../../../runtime/tls/ca";

const droverBin = path.resolve(__dirname, "../../../../bin/drover.js");

function drover(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [droverBin, ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// `drover tls`: what an operator runs to pin the CA and to give Redis its certificate.
t.test("fingerprint prints the CA's; redis-cert writes Redis's files and prints its TLS-only options", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-tls-cmd-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fp = drover("tls", "fingerprint", "--tls-dir", dir);
  t.equal(fp.code, 0, fp.err);
  t.equal(fp.out.trim(), (await loadOrCreateCa(dir)).fingerprint);
  const rc = drover("tls", "redis-cert", "--san", "10.0.0.5,redis.lan", "--port", "6390", "--tls-dir", dir);
  t.equal(rc.code, 0, rc.err);
  t.match(rc.out, /--port 0 --tls-port 6390 .*--tls-auth-clients yes/);
  t.match(rc.out, /drover server --redis rediss:\/\/10\.0\.0\.5:6390/);
  t.equal(fs.statSync(path.join(dir, "redis-key.pem")).mode & 0o777, 0o600, "Redis's key readable by its owner only");
  const none = drover("tls", "redis-cert", "--tls-dir", dir);
  t.not(none.code, 0);
  t.match(none.err, /--san: give the addresses/);
});
