/**
 * drover's one error type. `code` is stable (clients switch on it), `field` names the
 * offending input where there is one, `retryable` tells callers whether trying again can help.
 */
export type ErrorCode =
  | "InvalidJson"
  | "InvalidField"
  | "UnknownField"
  | "MissingField"
  | "BodyTooLarge"
  | "NotFound"
  | "MethodNotAllowed"
  | "Unauthorized"
  | "Forbidden"
  | "Conflict"
  | "RevisionMismatch"
  | "Unplaceable"
  | "NotLeader"
  | "TooManyRequests"
  | "Timeout"
  | "Unavailable"
  | "Internal";

const httpStatusByCode: Record<ErrorCode, number> = {
  InvalidJson: 400,
  InvalidField: 422,
  UnknownField: 422,
  MissingField: 422,
  BodyTooLarge: 413,
  NotFound: 404,
  MethodNotAllowed: 405,
  Unauthorized: 401,
  Forbidden: 403,
  Conflict: 409,
  RevisionMismatch: 409,
  Unplaceable: 422,
  NotLeader: 503,
  TooManyRequests: 429,
  Timeout: 504,
  Unavailable: 503,
  Internal: 500,
};

export interface DroverErrorOptions {
  field?: string;
  retryable?: boolean;
  cause?: unknown;
  /** Extra structured detail for the API body (e.g. per-host scheduling reasons). */
  detail?: Record<string, unknown>;
}

export class DroverError extends Error {
  readonly code: ErrorCode;
  readonly field?: string;
  readonly retryable: boolean;
  readonly detail?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: DroverErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DroverError";
    this.code = code;
    this.field = options.field;
    this.retryable = options.retryable ?? (code === "Unavailable" || code === "NotLeader" || code === "Timeout");
    this.detail = options.detail;
  }

  get httpStatus(): number {
    return httpStatusByCode[this.code];
  }

  /** The JSON body the API returns, Rancher-style (`type: "error"`). */
  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      type: "error",
      status: this.httpStatus,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.field !== undefined) body.fieldName = this.field;
    if (this.detail !== undefined) body.detail = this.detail;
    return body;
  }
}

export function isDroverError(err: unknown): err is DroverError {
  return err instanceof DroverError;
}
