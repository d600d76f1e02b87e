/** The API's side of the overlay: key rotation and each host's network status. */
import t from "tap";
import { signedRegistration } from "../../support/host-identity";
import type { HostObservedState } from "../../../runtime/protocol/model";
import { makeKeys } from "../../../runtime/protocol/keys";
import { apiFixture } from "./api-fixture";

const agent = (token: string, machineId: string, hostname: string, underlayIp: string) => signedRegistration({
  token, machineId, hostname, labels: {}, agentVersion: "0.1.0", dockerVersion: "20.10.24", kernelVersion: "6.1.0", underlayIp,
});

t.test("rotateipseckey stores a new key, shows only its id, and refuses input and other environments", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const other = await f.createEnv();
  await f.store.setIpsec(env.id, { pskId: "psk-old", psk: "old-secret" });

  const r = await f.call("POST", `/v1/environments/${env.id}?action=rotateipseckey`, { key: env.apiKey });
  t.equal(r.status, 202, r.text);
  const stored = await f.store.getIpsec(env.id);
  t.equal(r.body.ipsecKeyId, stored!.pskId, "the reply names the new key");
  t.not(stored!.pskId, "psk-old");
  t.ok(stored!.psk.length >= 40, "32 random bytes, base64");
  t.notMatch(r.text, stored!.psk, "the key itself is never shown");
  t.notMatch((await f.call("GET", `/v1/environments/${env.id}`, { key: env.apiKey })).text, stored!.psk);

  await f.unchanged([env.id], "a body with the action", async () => {
    const bad = await f.call("POST", `/v1/environments/${env.id}?action=rotateipseckey`, { key: env.apiKey, body: { psk: "mine" } });
    t.equal(bad.status, 422, bad.text);
    t.equal(bad.body.fieldName, "psk");
  });
  const foreign = await f.call("POST", `/v1/environments/${env.id}?action=rotateipseckey`, { key: other.apiKey });
  t.equal(foreign.status, 404, "another environment's key sees nothing");
  t.same(await f.store.getIpsec(env.id), stored, "unchanged by the refused calls");
});

t.test("a host shows its agent's network status with peer names; none before the agent reports", async (t) => {
  const f = await apiFixture(t);
  const env = await f.createEnv();
  const a = (await f.call("POST", "/v1/register", { body: agent(env.registrationToken, "m-a", "node-a", "198.18.0.11") })).body;
  const b = (await f.call("POST", "/v1/register", { body: agent(env.registrationToken, "m-b", "node-b", "198.18.0.12") })).body;
  const path = `/v1/environments/${env.id}/hosts/${a.hostId}`;
  t.equal((await f.call("GET", path, { key: env.apiKey })).body.network, undefined);

  const observed: HostObservedState = {
    hostId: a.hostId, appliedGeneration: 1, reportedAt: new Date().toISOString(), instances: {},
    network: { ipsecMode: "libipsec", charon: "running", pskId: "psk-1", tunnels: { [b.hostId]: { state: "up", since: "2026-01-01T00:00:00Z" } } },
  };
  await f.redis.set(makeKeys(f.prefix).host(env.id, a.hostId).observed, JSON.stringify(observed));
  const shown = (await f.call("GET", path, { key: env.apiKey })).body;
  t.match(shown.network, { ipsecMode: "libipsec", charon: "running", pskId: "psk-1", tunnels: { [b.hostId]: { state: "up" } }, peers: { [b.hostId]: "node-b" } });
  const list = (await f.call("GET", `/v1/environments/${env.id}/hosts`, { key: env.apiKey })).body.data;
  t.match(list.find((h: any) => h.id === a.hostId).network.tunnels[b.hostId], { state: "up" });
  t.equal(list.find((h: any) => h.id === b.hostId).network, undefined);
});
