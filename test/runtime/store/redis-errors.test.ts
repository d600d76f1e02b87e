import { ReplyError } from "ioredis";
import t from "tap";
import { toDroverError } from "../../../runtime/store/redis-errors";

// A command sent and never answered may still run (a frozen Redis runs what it received once it
// wakes): the caller is told to read before trying again. One never sent is plainly unavailable.
t.test("an unanswered command says the change may still be applied; a refused connection does not", async (t) => {
  for (const message of ["Command timed out", "Connection is closed."]) {
    const err = toDroverError(new Error(message));
    t.equal(err.code, "Unavailable", message);
    t.equal(err.retryable, true, `${message}: retryable`);
    t.match(err.message, /may still be applied: read it back before trying again$/, `${message}: says so`);
  }
  const refused = toDroverError(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
  t.equal(refused.message, "Redis is unavailable: connect ECONNREFUSED 127.0.0.1:6379", "never sent: no such warning");
  const busy = toDroverError(new (ReplyError as unknown as new (m: string) => Error)("BUSY Redis is busy running a script"));
  t.notMatch(busy.message, /may still be applied/, "a transient reply was an answer: no such warning");
  t.equal(busy.code, "Unavailable");
});
