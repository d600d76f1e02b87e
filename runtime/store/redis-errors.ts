import { ReplyError } from "ioredis";
import { DroverError, isDroverError } from "../protocol/errors";
import { retryRefused } from "./cluster-refusals";

/**
 * Redis replies that mean "not now" rather than "wrong": the server is loading, busy with a
 * script, a read-only replica after failover, or a cluster in transition.
 */
const transientReplies = ["LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "MOVED", "ASK"];

/**
 * Turns whatever ioredis threw into a DroverError: connection failures and transient
 * replies are retryable "Unavailable"; other replies (a script bug, WRONGTYPE, NOPERM) are
 * "Internal". DroverErrors pass through.
 */
export function toDroverError(err: unknown): DroverError {
  if (isDroverError(err)) return err;
  if (err instanceof (ReplyError as new () => Error)) {
    const word = String(err.message).split(" ", 1)[0];
    if (transientReplies.includes(word)) {
      return new DroverError("Unavailable", `Redis is unavailable: ${err.message}`, { retryable: true, cause: err });
    }
    return new DroverError("Internal", `Redis refused a command: ${err.message}`, { retryable: false, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  const maybeApplied = unansweredAfterSending.some((m) => message.startsWith(m));
  return new DroverError("Unavailable", `Redis is unavailable: ${message}${maybeApplied ? MAYBE_APPLIED : ""}`, { retryable: true, cause: err });
}

/**
 * ioredis's words for a command sent that got no answer: its commandTimeout passed, or the
 * connection closed while it waited. Redis may still have run it (a frozen Redis runs what it
 * received once it wakes), so the caller is told to look before doing it again.
 */
const unansweredAfterSending = ["Command timed out", "Connection is closed"];
const MAYBE_APPLIED = "; a change sent before this may still be applied: read it back before trying again";

/**
 * Runs one Redis interaction (one command, MULTI, pipeline of reads or script: never two
 * steps, since it is sent again whole while a Redis Cluster refuses it unrun), rethrowing its
 * failures as DroverErrors.
 */
export async function withRedis<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await retryRefused(action);
  } catch (err) {
    throw toDroverError(err);
  }
}
