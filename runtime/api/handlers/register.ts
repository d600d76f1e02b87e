/**
 * POST /v1/register: an agent trades a registration token for its host id and its own
 * Redis credentials. The same machineId within an environment always gets the same host
 * (an agent restarting is not a new host), but only when the request is signed by the key
 * that host registered with (runtime/protocol/host-identity.ts): a token holder cannot take
 * a known host's identity, credentials or place in the IPsec mesh. A hostname already held
 * by a different machine is a Conflict.
 */
import type { RegisterResponse } from "../../protocol/agent-protocol";
import { DroverError } from "../../protocol/errors";
import type { HostRecord } from "../../protocol/model";
import type { DataKey } from "../../protocol/seal";
import { readJsonBody } from "../body";
import type { RequestContext } from "../context";
import type { Reply } from "../respond";
import { newSecret, sha256Hex } from "../secrets";
import { validateRegisterRequest } from "../../protocol/validate/register";
import { REVOKED_KEY_REFUSAL, verifyRegistration } from "../../protocol/host-identity";
import { assertEnvWritable } from "../write";
import { parseRedisUrl } from "../../protocol/redis-target";
import { isDroverError } from "../../protocol/errors";

/** Host labels drover sets itself, with Rancher's names (scheduling rules refer to them). */
export const DOCKER_VERSION_LABEL = "io.rancher.host.docker_version";
export const KERNEL_VERSION_LABEL = "io.rancher.host.linux_kernel_version";

export async function register(ctx: RequestContext): Promise<Reply> {
  const body = await readJsonBody(ctx.req);
  const request = validateRegisterRequest(body);
  const { api } = ctx;
  const envId = await api.store.envIdForRegistrationToken(sha256Hex(request.token));
  if (envId === undefined) throw new DroverError("Unauthorized", "unknown registration token");
  const identityKey = verifyRegistration(body, request, Date.parse(api.now()));
  // A removed host's key signs nothing any more (its certificates are refused the same way).
  const revokedFor = await api.store.revokedHostKey(envId, identityKey);
  if (revokedFor !== undefined) {
    throw new DroverError("Forbidden", `${REVOKED_KEY_REFUSAL} it was the key of host ${revokedFor}, which was removed: register with a new identity key (the agent makes one)`, { field: "identityKey" });
  }
  const password = newSecret("drp");
  // Fixed across write retries, so a retry re-provisions the same user instead of leaking one.
  const newHostId = api.newId("host");
  let username = "";
  let provisionedNew = false;
  let secretsKey: DataKey | undefined;

  try {
    const host = await registerHost(ctx, envId, request.machineId, async (existing) => {
      if (existing && (existing.state === "removing" || existing.state === "removed")) {
        throw new DroverError("Conflict", `host ${existing.id} of this machine is being removed; register again once it is gone`, { retryable: true });
      }
      if (existing) assertSameMachine(existing, identityKey, request.signedAt);
      const record: HostRecord = {
        ...(existing ?? { id: newHostId, envId, deactivated: false, createdAt: api.now(), rev: 0 }),
        machineId: request.machineId,
        name: request.hostname,
        labels: { ...request.labels, [DOCKER_VERSION_LABEL]: request.dockerVersion, [KERNEL_VERSION_LABEL]: request.kernelVersion },
        agentVersion: request.agentVersion,
        dockerVersion: request.dockerVersion,
        kernelVersion: request.kernelVersion,
        identityKey,
        identitySignedAt: request.signedAt,
        state: "active",
      };
      if (request.underlayIp !== undefined) record.underlayIp = request.underlayIp;
      // Last step before the write: everything that could reject the request has passed.
      username = (await api.store.provisionHostUser(envId, record.id, password)).username;
      if (!existing) provisionedNew = true;
      // The key its desired document's secrets are sealed with (the same one again for a known
      // host), made before the record: the record's write nudges the reconciler, whose pass
      // seals the new host's document with it (made after, passes failed for want of it).
      secretsKey = await api.keyring.hostKeyForRegistration(envId, record.id);
      return record;
    });
    if (provisionedNew && host.id !== newHostId) await dropUser(ctx, envId, newHostId);
    // The host's secrets key too must survive a failover before the agent is told it.
    await api.store.confirmWrites();
    const response: RegisterResponse = {
      hostId: host.id,
      envId,
      redis: {
        url: api.registration.redisUrl, username, password, keyPrefix: api.registration.keyPrefix,
        // Mutual TLS with Redis: a client certificate for the key the host proved it holds.
        ...(api.tls?.hostClientCert && parseRedisUrl(api.registration.redisUrl, "redis.url").tls
          ? { ca: api.tls.caCert, clientCert: api.tls.hostClientCert(identityKey, username) } : {}),
      },
      secretsKey: { id: secretsKey!.id, key: secretsKey!.key.toString("base64") },
      heartbeatIntervalMs: api.registration.heartbeatIntervalMs,
      heartbeatTtlMs: api.registration.heartbeatTtlMs,
      resyncIntervalMs: api.registration.resyncIntervalMs,
    };
    return { status: 201, body: response };
  } catch (err) {
    // A new host's user must not outlive a registration that failed after provisioning it.
    if (provisionedNew) await dropUser(ctx, envId, newHostId);
    throw err;
  }
}

const ATTEMPTS = 8;

/**
 * Registration is one cheap write, not a pass over the environment: the machine's host is
 * found through the machine index, and the record is put by a script that compares only that
 * host's rev (the name index refuses a taken hostname). Other hosts registering at the same
 * time touch other records, so they do not make each other retry; only two registrations of
 * the same machine race, and the loser starts over.
 */
async function registerHost(ctx: RequestContext, envId: string, machineId: string, plan: (existing: HostRecord | undefined) => Promise<HostRecord>): Promise<HostRecord> {
  const { api } = ctx;
  const env = await api.store.getEnvironment(envId);
  if (!env) throw new DroverError("NotFound", `environment ${envId} not found`, { field: "envId" });
  assertEnvWritable(env);
  for (let attempt = 1; ; attempt++) {
    const existing = await api.store.hostOfMachine(envId, machineId);
    const record = await plan(existing);
    try {
      record.rev = await api.store.registerHost(envId, record, existing);
      api.nudge(envId);
      return record;
    } catch (err) {
      if (isDroverError(err) && err.code === "Conflict" && err.field === "name") {
        const holder = (err.detail as { existingId?: string } | undefined)?.existingId;
        throw new DroverError("Conflict", `hostname: host ${holder} of another machine is already named ${record.name}`, { field: "hostname" });
      }
      if (!isDroverError(err) || err.code !== "RevisionMismatch" || attempt >= ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

/**
 * A known machine id registers again: only with the key it first registered with, and only
 * with a newer signature than the last accepted (no replay).
 */
function assertSameMachine(existing: HostRecord, identityKey: string, signedAt: string): void {
  if (existing.identityKey === undefined) {
    throw new DroverError("Conflict", `host ${existing.id} was registered without an identity key (an older agent): remove it (deactivate, then DELETE) and register this machine again`);
  }
  if (existing.identityKey !== identityKey) {
    throw new DroverError("Forbidden", `identityKey: machineId is registered as host ${existing.id} with another key: only that machine can register as it; if it was reinstalled, remove host ${existing.id} first`, { field: "identityKey" });
  }
  if (existing.identitySignedAt !== undefined && Date.parse(signedAt) <= Date.parse(existing.identitySignedAt)) {
    throw new DroverError("Forbidden", `signedAt: ${signedAt} is not newer than host ${existing.id}'s last registration (a replayed request?)`, { field: "signedAt" });
  }
}

async function dropUser(ctx: RequestContext, envId: string, hostId: string): Promise<void> {
  await ctx.api.store.removeHostUser(envId, hostId).catch((e) => ctx.api.log("api: removing a stray host user failed", e));
}
