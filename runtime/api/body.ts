/**
 * Reading a JSON request body: at most 1 MiB (413 BodyTooLarge), valid JSON (400
 * InvalidJson), no key given twice in one object (422, as JSON.parse would keep only the
 * last). An empty body reads as `{}` so bodiless actions need no payload.
 */
import type { IncomingMessage } from "http";
import { DroverError } from "../protocol/errors";
import { firstDuplicateKey } from "./duplicate-keys";

export const MAX_BODY_BYTES = 1024 * 1024;
/** Past this much an oversized body is no longer drained but the connection dropped. */
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readText(req, limit);
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DroverError("InvalidJson", `request body is not valid JSON: ${(err as Error).message}`);
  }
  const twice = firstDuplicateKey(text);
  if (twice !== undefined) throw new DroverError("InvalidField", `${twice}: given twice in the request body; give it once`, { field: twice });
  return parsed;
}

function tooLarge(limit: number): DroverError {
  return new DroverError("BodyTooLarge", `request body is larger than ${limit} bytes`);
}

function readText(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    drain(req);
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        failed = true;
        req.off("data", onData);
        drain(req);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => failed || resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", (err) => failed || reject(err));
  });
}

/**
 * Keeps reading (and dropping) the rest of an oversized body so the client can finish
 * sending and read our 413 instead of getting a reset; gives up on very large uploads.
 */
function drain(req: IncomingMessage): void {
  let drained = 0;
  req.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) req.destroy();
  });
  req.resume();
}
