import type { RegisterRequest, RegisterResponse } from "../runtime/protocol/agent-protocol";
import { DroverError } from "../runtime/protocol/errors";
import { backoffMs, delay } from "./backoff";
import { errorMessage, Logger } from "./log";
import { certificateRefusal, isCertificateError, request as httpRequest } from "../runtime/protocol/pinned-https";

/**
 * POST <url>/v1/register. While the server cannot be reached (connection refused, 5xx,
 * timeout) the agent keeps trying with backoff: hosts are often booted before the server.
 * A 4xx (bad token, bad request) will not get better by retrying, so it ends the agent.
 */
export function registerUrl(serverUrl: string): string {
  return `${serverUrl.replace(/\/+$/, "")}/v1/register`;
}

/**
 * `request` is called for every attempt: each one is signed afresh (a new `signedAt`), since
 * the server refuses a signature it has already accepted.
 */
export async function register(
  serverUrl: string,
  request: () => RegisterRequest,
  log: Logger,
  signal?: AbortSignal,
  /** The pinned CA (PEM): the server's certificate must be signed by it. */
  ca?: string,
): Promise<RegisterResponse> {
  const url = registerUrl(serverUrl);
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new DroverError("Unavailable", "registration aborted: agent stopping");
    let outcome: { retry: string } | { response: RegisterResponse };
    try {
      outcome = await postOnce(url, request(), signal, ca);
    } catch (err) {
      if (err instanceof DroverError && !err.retryable) throw err;
      outcome = { retry: errorMessage(err) };
    }
    if ("response" in outcome) return outcome.response;
    const wait = backoffMs(attempt, 1000, 30_000);
    log.warn("registration server unreachable, retrying", { url, reason: outcome.retry, retryInMs: wait, attempt: attempt + 1 });
    await delay(wait, signal);
  }
}

async function postOnce(url: string, request: RegisterRequest, signal?: AbortSignal, ca?: string): Promise<{ retry: string } | { response: RegisterResponse }> {
  let res: { status: number; text: string };
  try {
    res = await httpRequest(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(request),
      ca, signal, timeoutMs: 15_000,
    });
  } catch (err) {
    // A certificate the pinned CA did not sign will not get better by retrying.
    if (isCertificateError(err)) throw certificateRefusal(url, err, ca !== undefined);
    throw err;
  }
  const text = res.text;
  if (res.status === 201) return { response: parseResponse(text) };
  const detail = describeErrorBody(text);
  if (res.status >= 500 || res.status === 408 || res.status === 429) return { retry: `HTTP ${res.status}${detail}` };
  const code = res.status === 401 ? "Unauthorized" : res.status === 403 ? "Forbidden" : "InvalidField";
  throw new DroverError(code, `registration refused by ${url}: HTTP ${res.status}${detail}`, { retryable: false });
}

function describeErrorBody(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: string; fieldName?: string };
    if (body.message) return `: ${body.message}${body.fieldName ? ` (field ${body.fieldName})` : ""}`;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text ? `: ${text.slice(0, 200)}` : "";
}

/** Checks the fields the agent relies on, so a server bug fails here with a clear message. */
export function parseResponse(text: string): RegisterResponse {
  let body: RegisterResponse;
  try {
    body = JSON.parse(text) as RegisterResponse;
  } catch (err) {
    throw new DroverError("InvalidJson", "registration response is not JSON", { cause: err, retryable: false });
  }
  const need = (ok: boolean, field: string) => {
    if (!ok) throw new DroverError("MissingField", `registration response lacks a valid ${field}`, { field, retryable: false });
  };
  need(typeof body?.hostId === "string" && body.hostId !== "", "hostId");
  need(typeof body.envId === "string" && body.envId !== "", "envId");
  need(typeof body.redis?.url === "string", "redis.url");
  need(typeof body.redis?.username === "string", "redis.username");
  need(typeof body.redis?.password === "string", "redis.password");
  need(typeof body.redis?.keyPrefix === "string", "redis.keyPrefix");
  need(Number.isFinite(body.heartbeatIntervalMs) && body.heartbeatIntervalMs > 0, "heartbeatIntervalMs");
  need(Number.isFinite(body.heartbeatTtlMs) && body.heartbeatTtlMs > 0, "heartbeatTtlMs");
  need(Number.isFinite(body.resyncIntervalMs) && body.resyncIntervalMs > 0, "resyncIntervalMs");
  return body;
}
