import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { DockerDemuxer } from "../../../agent/streams/docker-demux";
import { LinePrefixer } from "../../../runtime/cli/day-two/line-prefixer";
import { resolveSettings, writeConfigFile } from "../../../runtime/cli/day-two/settings";
import { parseSince } from "../../../runtime/cli/day-two/time-arg";
import { maskCommand, signAgentDial, verifyAgentDial } from "../../../runtime/protocol/stream-protocol";
import { validateExecInput, validateLogsInput } from "../../../runtime/protocol/validate/stream";
import { StreamTokens, type StreamGrant } from "../../../runtime/streams/stream-tokens";
import { storeFixture } from "../store/store-fixture";

t.test("stream tokens: one instance, one action, once, until they expire", async (t) => {
  const f = storeFixture(t);
  const tokens = new StreamTokens(f.redis, f.keys);
  const now = Date.now();
  const grant: StreamGrant = { action: "logs", envId: "1aenv", instanceId: "i1", hostId: "1h1", keyId: "k", expiresAt: now + 60_000, params: { follow: false, timestamps: false, stdout: true, stderr: true } };
  const token = await tokens.mint(grant);
  t.notOk((await f.redis.keys(`${f.prefix}:*`)).some((k) => k.includes(token)), "Redis holds the token's hash, not the token");
  t.same(await tokens.take(token, "logs", "i1", now), grant, "the right instance and action get the grant");
  t.equal(await tokens.take(token, "logs", "i1", now), "unknown", "a token is used once");
  t.equal(await tokens.take(await tokens.mint(grant), "logs", "i2", now), "other-instance", "refused for another instance");
  t.equal(await tokens.take(await tokens.mint(grant), "exec", "i1", now), "other-action", "refused for another action");
  t.equal(await tokens.take(await tokens.mint(grant), "logs", "i1", now + 61_000), "expired", "refused once expired");
  t.equal(await tokens.take("1aenv.forged", "logs", "i1", now), "unknown", "a made-up token is unknown");
});

t.test("an agent's dial-in signature binds host, environment, session and time", async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const at = new Date().toISOString();
  const sig = signAgentDial("1a", "1h1", "s1", at, privateKey);
  t.ok(verifyAgentDial("1a", "1h1", "s1", at, sig, pem, Date.now()), "verifies");
  t.notOk(verifyAgentDial("1a", "1h2", "s1", at, sig, pem, Date.now()), "not for another host");
  t.notOk(verifyAgentDial("1a", "1h1", "s2", at, sig, pem, Date.now()), "not for another session");
  t.notOk(verifyAgentDial("1a", "1h1", "s1", at, sig, pem, Date.now() + 10 * 60_000), "not when stale");
});

t.test("stream parameters are validated field by field", async (t) => {
  t.same(validateLogsInput({}), { params: { follow: false, timestamps: false, stdout: true, stderr: true }, ttlSeconds: 60 });
  t.throws(() => validateLogsInput({ tail: -1 }), /tail/);
  t.throws(() => validateLogsInput({ stdout: false, stderr: false }), /stdout/);
  t.throws(() => validateLogsInput({ folow: true }), /folow.*follow/s, "unknown field with a suggestion");
  t.throws(() => validateExecInput({}), /command: required/);
  t.throws(() => validateExecInput({ command: [] }), /command/);
  t.throws(() => validateExecInput({ command: ["sh"], ttl: 0 }), /ttl/);
  t.same(validateExecInput({ command: ["sh"], tty: true, stdin: true, cols: 80, rows: 24 }).params, { command: ["sh"], tty: true, stdin: true, cols: 80, rows: 24 });
});

t.test("exec events mask what looks like a credential", async (t) => {
  t.same(maskCommand(["mysql", "-pS3cret", "--password", "x", "TOKEN=abc", "ls"]), ["mysql", "-p***", "--password", "***", "TOKEN=***", "ls"]);
  t.same(maskCommand(["sh", "-c", "ls"]), ["sh", "-c", "ls"]);
});

t.test("Docker's multiplexed frames split across chunks", async (t) => {
  const header = (ch: number, n: number) => Buffer.from([ch, 0, 0, 0, 0, 0, 0, n]);
  const all = Buffer.concat([header(1, 2), Buffer.from("a\n"), header(1, 2), Buffer.from("b\n"), header(2, 2), Buffer.from("e\n")]);
  t.same(new DockerDemuxer().push(all).map((p) => [p.channel, p.data.toString()]), [[1, "a\nb\n"], [2, "e\n"]], "runs of one stream merged, streams kept apart");
  const d = new DockerDemuxer();
  const parts = [...d.push(all.subarray(0, 13)), ...d.push(all.subarray(13, 14)), ...d.push(all.subarray(14))];
  t.same(parts.map((p) => [p.channel, p.data.toString()]), [[1, "a\n"], [1, "b\n"], [2, "e\n"]], "a frame cut across chunks waits for its end");
});

t.test("compose-style prefixes hold partial lines back", async (t) => {
  let out = "";
  const p = new LinePrefixer("web-1 | ", (s) => { out += s; return true; });
  p.push(Buffer.from("one\ntw"));
  p.push(Buffer.from("o\n"));
  p.push(Buffer.from("three"));
  p.flush();
  t.equal(out, "web-1 | one\nweb-1 | two\nweb-1 | three\n");
  t.equal(parseSince("10m", 1_000_000_000), 1_000_000_000 / 1000 - 600);
  t.equal(parseSince("2026-01-01T00:00:00Z"), Date.parse("2026-01-01T00:00:00Z") / 1000);
  t.equal(parseSince("soon"), undefined);
});

t.test("settings: flags, then DROVER_URL / DROVER_ACCESS_KEY, then the login file (0600)", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-cli-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "sub", "cli.json");
  writeConfigFile(file, { url: "https://a:1", accessKey: "filekey", envId: "1afile" });
  t.equal(fs.statSync(file).mode & 0o777, 0o600);
  t.same(resolveSettings({}, { DROVER_CONFIG: file }), { url: "https://a:1", accessKey: "filekey", envId: "1afile" });
  t.same(resolveSettings({}, { DROVER_CONFIG: file, DROVER_URL: "http://b:2", DROVER_ACCESS_KEY: "envkey" }), { url: "http://b:2", accessKey: "envkey" },
    "the file's environment is not used with another key");
  t.same(resolveSettings({ url: "http://c:3/", "access-key": "flag", env: "1aflag" }, { DROVER_CONFIG: file, DROVER_URL: "http://b:2" }), { url: "http://c:3", accessKey: "flag", envId: "1aflag" });
  t.throws(() => resolveSettings({}, { DROVER_CONFIG: path.join(dir, "none.json") }), /no server: give --url, set DROVER_URL, or run `drover login/);
  t.throws(() => resolveSettings({ url: "ftp://x" }, { DROVER_CONFIG: file }), /--url: expected/);
});
