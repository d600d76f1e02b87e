/**
 * The one place an error becomes an HTTP response. DroverErrors carry their status and
 * body; anything else is a bug: logged with its stack, answered as a bare 500 Internal.
 */
import { DroverError, isDroverError } from "../protocol/errors";

export interface ErrorResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

export function errorResponse(err: unknown, log: (message: string, err?: unknown) => void): ErrorResponse {
  let error: DroverError;
  if (isDroverError(err) && err.code !== "Internal") {
    error = err;
  } else {
    // Internal details (Redis replies, script errors, stacks) stay in the log.
    log(isDroverError(err) ? "api: internal error" : "api: unexpected error", err);
    error = new DroverError("Internal", "internal error; see the server log");
  }
  const headers: Record<string, string> = {};
  if (error.code === "Unauthorized") headers["www-authenticate"] = 'Bearer realm="drover"';
  if (error.code === "TooManyRequests") headers["retry-after"] = "5";
  if (error.code === "MethodNotAllowed" && Array.isArray(error.detail?.allow)) headers.allow = (error.detail.allow as string[]).join(", ");
  return { status: error.httpStatus, body: error.toJSON(), headers };
}
