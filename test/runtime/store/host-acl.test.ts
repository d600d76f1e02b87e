import Redis from "ioredis";
import t from "tap";
import { hostAgentRedisOptions } from "../../../runtime/store/agent-redis-options";
import { hostAgentCommands } from "../../../runtime/store/host-acl";
import { type PrivateRedis, startPrivateRedis } from "./private-redis";
import { createEnv, droverError, host, storeFixture, type StoreFixture } from "./store-fixture";

// A host's ACL user, logged in the way an agent logs in: it can do its job on its own keys
// and nothing else. Runs on a private redis-server (see private-redis.ts): the refusals
// below include FLUSHALL and SHUTDOWN.

const password = "agent-password-0123456789";

async function hostEnvironment(t: { teardown(fn: () => unknown): void }, socket: string) {
  const f = storeFixture(t, { path: socket });
  await createEnv(f);
  // h10 is "another host" whose id extends h1's: the key pattern must not reach it.
  await f.store.write("e1", { put: [{ kind: "host", record: host("e1", "h1") }, { kind: "host", record: host("e1", "h10") }] });
  for (const hostId of ["h1", "h10"]) {
    await f.store.setDesired("e1", { hostId, generation: 0, instances: [] }, {});
    await f.redis.xadd(f.keys.host("e1", hostId).reports, "*", "type", "observed");
  }
  const { username } = await f.store.provisionHostUser("e1", "h1", password);
  return { f, username };
}

function agentClient(t: { teardown(fn: () => void): void }, f: StoreFixture, socket: string, username: string, secret = password): Redis {
  const options = hostAgentRedisOptions({ url: "redis://127.0.0.1:6379", username, password: secret, keyPrefix: f.prefix },
    { path: socket, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const client = new Redis(options);
  client.on("error", () => undefined);
  t.teardown(() => client.disconnect());
  return client;
}

let server: PrivateRedis;
t.before(async () => { server = await startPrivateRedis(); });
t.teardown(() => server?.stop());

t.test("the agent can do its job on its own keys", async (t) => {
  const { f, username } = await hostEnvironment(t, server.socket);
  t.equal(username, `${f.prefix}-host-e1-h1`, "username <prefix>-host-<envId>-<hostId>");
  const own = f.keys.host("e1", "h1");
  const agent = agentClient(t, f, server.socket, username);
  const blocking = agentClient(t, f, server.socket, username);

  t.equal(await agent.ping(), "PONG", "PING");
  t.ok(((await agent.call("HELLO", "2")) as unknown[]).includes("proto"), "HELLO (always allowed)");
  t.equal(await agent.call("CLIENT", "SETNAME", username), "OK", "CLIENT SETNAME");
  t.match(await f.redis.call("CLIENT", "LIST"), new RegExp(`name=${username} `), "the connection shows under its name");
  t.match(JSON.parse((await agent.get(own.desired))!), { hostId: "h1", generation: 1 }, "GET own desired");
  t.equal(await agent.set(own.heartbeat, "beat", "PX", 15_000), "OK", "SET own heartbeat with PX");
  t.ok((await f.store.heartbeats("e1", ["h1"])).h1! > 0, "the server sees the heartbeat");
  t.equal(await agent.set(own.observed, JSON.stringify({ hostId: "h1", appliedGeneration: 1, instances: {}, reportedAt: "now" })), "OK", "SET own observed");
  t.match(await f.store.getObserved("e1", "h1"), { appliedGeneration: 1 }, "the server reads it");
  t.ok(await agent.get(own.observed), "GET own observed");
  t.ok(await agent.xadd(own.reports, "MAXLEN", "~", "1000", "*", "type", "observed", "generation", "1"), "XADD own reports");
  t.equal((await agent.xrange(own.reports, "-", "+")).length, 2, "XRANGE own reports");
  t.ok(await agent.xadd(own.stats, "MAXLEN", "~", "150", "*", "s", "{}"), "XADD own stats samples");
  const [last] = await agent.xrevrange(own.nudges, "+", "-", "COUNT", 1);
  t.ok(last, "XREVRANGE own nudges");
  await f.store.setDns("e1", { instances: [], services: [], stacks: [] }, [], {});
  t.match(JSON.parse((await agent.get(f.keys.env("e1").dns))!), { version: 1 }, "GET the environment's dns document");

  const waiting = blocking.xread("BLOCK", 10_000, "STREAMS", own.nudges, last[0]);
  await f.store.setDesired("e1", { hostId: "h1", generation: 0, instances: [] }, {});
  const [[, entries]] = (await waiting)!;
  t.same(entries[0][1], ["type", "desired", "generation", "2"], "XREAD BLOCK wakes on the server's nudge");
  await agent.quit();
  t.pass("QUIT");
});

t.test("the agent is refused everything else", async (t) => {
  const { f, username } = await hostEnvironment(t, server.socket);
  const own = f.keys.host("e1", "h1");
  const other = f.keys.host("e1", "h10");
  const env = f.keys.env("e1");
  const agent = agentClient(t, f, server.socket, username);
  t.equal(await agent.ping(), "PONG", "logged in");
  const dbsize = await f.redis.dbsize();
  const rev = await f.redis.get(env.rev);

  const refused = async (what: string, command: string, ...args: (string | number)[]) => {
    try {
      const reply = await agent.call(command, ...args);
      t.fail(`${what}: allowed (replied ${JSON.stringify(reply)})`);
    } catch (err) {
      t.match((err as Error).message, /^NOPERM/, `${what}: NOPERM`);
    }
  };

  // Server-wide commands
  await refused("FLUSHALL", "FLUSHALL");
  await refused("FLUSHDB", "FLUSHDB");
  await refused("SCAN", "SCAN", "0");
  await refused("KEYS", "KEYS", "*");
  await refused("RANDOMKEY", "RANDOMKEY");
  await refused("CONFIG GET", "CONFIG", "GET", "*");
  await refused("CONFIG SET", "CONFIG", "SET", "appendonly", "no");
  await refused("FUNCTION FLUSH", "FUNCTION", "FLUSH");
  await refused("FUNCTION LOAD", "FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('f', function() return 1 end)");
  await refused("SCRIPT FLUSH", "SCRIPT", "FLUSH");
  await refused("EVAL", "EVAL", "return 1", 0);
  await refused("EVAL on its own key", "EVAL", "return redis.call('GET', KEYS[1])", 1, own.desired);
  await refused("ACL LIST", "ACL", "LIST");
  await refused("ACL SETUSER (self-escalation)", "ACL", "SETUSER", username, "+@all", "~*");
  await refused("CLIENT LIST", "CLIENT", "LIST");
  await refused("MONITOR", "MONITOR");
  await refused("INFO (not needed: agents skip the ready check)", "INFO");
  await refused("SELECT", "SELECT", 1);
  await refused("PUBLISH", "PUBLISH", "channel", "x");
  await refused("SHUTDOWN", "SHUTDOWN", "NOSAVE");
  t.equal(await f.redis.ping(), "PONG", "the server is still up");

  // DEBUG is disabled outright (enable-debug-command no) before ACLs are even consulted,
  // so its reply may be that; the ACL refuses it on its own too.
  try {
    await agent.call("DEBUG", "SLEEP", 0);
    t.fail("DEBUG: allowed");
  } catch (err) {
    t.match((err as Error).message, /^(NOPERM|ERR DEBUG command not allowed)/, "DEBUG: refused");
  }
  t.not(await f.redis.call("ACL", "DRYRUN", username, "DEBUG", "SLEEP", "0"), "OK", "DEBUG: refused by the ACL itself (ACL DRYRUN)");

  // Another host's keys
  await refused("GET another host's desired", "GET", other.desired);
  await refused("SET another host's heartbeat", "SET", other.heartbeat, "forged", "PX", 10_000);
  await refused("SET another host's observed", "SET", other.observed, "{}");
  await refused("XADD another host's reports", "XADD", other.reports, "*", "type", "forged");
  await refused("XADD another host's stats", "XADD", other.stats, "*", "s", "{}");
  await refused("XRANGE another host's nudges", "XRANGE", other.nudges, "-", "+");
  await refused("XREAD another host's nudges", "XREAD", "STREAMS", other.nudges, "0");

  // Its own server-written keys are read-only
  await refused("SET own desired", "SET", own.desired, "{}");
  await refused("XADD own nudges", "XADD", own.nudges, "*", "type", "desired");
  await refused("DEL own heartbeat", "DEL", own.heartbeat);

  // The server's keys
  await refused("HGETALL env hosts", "HGETALL", env.hosts);
  await refused("HSET env hosts", "HSET", env.hosts, "h1", "{}");
  await refused("GET env rev", "GET", env.rev);
  await refused("SET env rev", "SET", env.rev, "1");
  await refused("GET env leader", "GET", env.leader);
  await refused("GET env pre-shared key record", "GET", env.psk);
  await refused("SET env dns (forging names for the whole environment)", "SET", env.dns, "{}");
  await refused("GET another environment's dns", "GET", f.keys.env("e2").dns);
  await refused("XADD env reconcile", "XADD", env.reconcile, "*", "type", "forged");
  await refused("HGETALL environments", "HGETALL", f.keys.environments());
  await refused("HGETALL apiKeys", "HGETALL", f.keys.apiKeys());
  await refused("HGETALL registrationTokens", "HGETALL", f.keys.registrationTokens());

  t.equal(await f.redis.dbsize(), dbsize, "no key was lost or added");
  t.equal(await f.redis.get(env.rev), rev, "the env rev is untouched");
});

t.test("the user has exactly the documented commands and keys", async (t) => {
  const { f, username } = await hostEnvironment(t, server.socket);
  const info = (await f.redis.call("ACL", "GETUSER", username)) as unknown[];
  const field = (name: string) => String(info[info.indexOf(name) + 1]);
  t.same(field("commands").split(" ").sort(), ["-@all", ...hostAgentCommands.map((c) => `+${c}`)].sort(), "commands");
  const own = f.keys.host("e1", "h1");
  t.same(field("keys").split(" ").sort(),
    [`%R~${own.desired}`, `%R~${own.nudges}`, `%R~${f.keys.env("e1").dns}`, `~${own.observed}`, `~${own.reports}`, `~${own.heartbeat}`, `~${own.stats}`].sort(), "keys");
  t.equal(field("channels"), "", "no channels");
  t.notMatch(JSON.stringify(info), password, "the password is stored only as a hash");
});

t.test("provisioning again resets the password; removing the user locks the agent out", async (t) => {
  const { f, username } = await hostEnvironment(t, server.socket);
  t.equal(await agentClient(t, f, server.socket, username).ping(), "PONG", "first password works");
  await f.store.provisionHostUser("e1", "h1", "a-brand-new-password-987");
  await t.rejects(agentClient(t, f, server.socket, username).ping(), /WRONGPASS/, "the old password no longer works");
  const connected = agentClient(t, f, server.socket, username, "a-brand-new-password-987");
  t.equal(await connected.ping(), "PONG", "the new one does");
  await f.store.removeHostUser("e1", "h1");
  await t.rejects(connected.ping(), "an agent connected as the removed user is cut off");
  await t.rejects(agentClient(t, f, server.socket, username, "a-brand-new-password-987").ping(), /WRONGPASS/, "removed user cannot log in");
});

t.test("bad ids and weak passwords never reach ACL SETUSER", async (t) => {
  const f = storeFixture(t, { path: server.socket });
  t.equal((await droverError(f.store.provisionHostUser("e1", "*", password), "InvalidField")).field, "hostId", "a glob as host id");
  t.equal((await droverError(f.store.provisionHostUser("e1", "h1:*", password), "InvalidField")).field, "hostId", "a pattern suffix");
  t.equal((await droverError(f.store.provisionHostUser("{e1}", "h1", password), "InvalidField")).field, "envId", "braces in the env id");
  t.equal((await droverError(f.store.provisionHostUser("e1", "h1", "short"), "InvalidField")).field, "password", "a short password");
  t.same(((await f.redis.call("ACL", "USERS")) as string[]).filter((u) => u.startsWith(f.prefix)), [], "no user was created");
});
