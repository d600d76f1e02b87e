import * as fs from "fs";
import { DroverError } from "../runtime/protocol/errors";

/**
 * The settings a Host driver leaves for the agent (provider/drivers/agent-service.ts): a
 * JSON file read by the agent itself, so no value in it is ever read by a shell or by
 * systemd, whatever it holds. The registration token is a file of its own, so removing it
 * (the driver's disarm) leaves the rest.
 */
export interface LaunchSettings {
  url?: string;
  labels?: Record<string, string>;
  caFingerprint?: string;
}

function bad(file: string, field: string, expected: string, got: unknown): DroverError {
  return new DroverError("InvalidField", `${file}: ${field}: expected ${expected}, got ${JSON.stringify(got)?.slice(0, 100)}`, { field, retryable: false });
}

export function readLaunchFile(file: string): LaunchSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new DroverError("InvalidJson", `${file}: not a readable JSON launch file (${(err as Error).message})`, { retryable: false });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw bad(file, "(file)", "a JSON object", parsed);
  const o = parsed as Record<string, unknown>;
  const out: LaunchSettings = {};
  if (o.url !== undefined) {
    if (typeof o.url !== "string") throw bad(file, "url", "a string", o.url);
    out.url = o.url;
  }
  if (o.labels !== undefined) {
    if (typeof o.labels !== "object" || o.labels === null || Array.isArray(o.labels) || Object.values(o.labels).some((v) => typeof v !== "string")) {
      throw bad(file, "labels", "an object of strings", o.labels);
    }
    out.labels = o.labels as Record<string, string>;
  }
  if (o.caFingerprint !== undefined) {
    if (typeof o.caFingerprint !== "string") throw bad(file, "caFingerprint", "a string", o.caFingerprint);
    out.caFingerprint = o.caFingerprint;
  }
  return out;
}

/** The token in `file`, or undefined when the file is absent or empty (a disarmed host). */
export function readTokenFile(file: string): string | undefined {
  try {
    const token = fs.readFileSync(file, "utf8").trim();
    return token === "" ? undefined : token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
