/**
 * Optimistic concurrency for API writes: read a snapshot, validate and plan against it,
 * write with `expectRev` = the snapshot's revision, and start over (a few times) when
 * another writer got in between. A plan that throws rejects the request with nothing written.
 */
import { DroverError, isDroverError } from "../protocol/errors";
import type { EnvironmentRecord } from "../protocol/model";
import type { EnvSnapshot, WriteBatch } from "../store/store";
import type { ApiContext } from "./options";

const ATTEMPTS = 8;

export interface Plan<T> {
  /** Empty (or absent) = nothing to change; the result is returned without a write. */
  batch?: WriteBatch;
  result: T;
}

export async function writeEnv<T>(api: ApiContext, envId: string, plan: (snap: EnvSnapshot) => Plan<T> | Promise<Plan<T>>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const snap = await api.store.snapshot(envId);
    assertEnvWritable(snap.env);
    const { batch, result } = await plan(snap);
    if (!batch || ((batch.put?.length ?? 0) === 0 && (batch.remove?.length ?? 0) === 0)) return result;
    try {
      const rev = await api.store.write(envId, batch, { expectRev: snap.rev });
      for (const { record } of batch.put ?? []) record.rev = rev;
      api.nudge(envId);
      return result;
    } catch (err) {
      if (!isDroverError(err) || err.code !== "RevisionMismatch") throw err;
      if (attempt >= ATTEMPTS) {
        throw new DroverError("RevisionMismatch", `environment ${envId} kept changing; try again`, { retryable: true, cause: err });
      }
      // A little random back-off, so writers that collided do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

/** Writes into an environment that is being torn down would race the purge. */
export function assertEnvWritable(env: EnvironmentRecord): void {
  if (env.state !== "active") {
    throw new DroverError("Conflict", `environment ${env.id} is ${env.state}; it takes no changes`);
  }
}
