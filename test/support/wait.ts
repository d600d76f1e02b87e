/** Polling with a deadline for tests: the one helper, shared with the rest of drover (runtime/protocol/poll.ts). */
export { waitFor, WaitAbort, WaitTimeoutError, type WaitOptions } from "../../runtime/protocol/poll";
