/** The syntax of names and free-form strings, shared by every resource's validator. */
import type { StringRule } from "./reader";

/** Rancher-like names (they end up in DNS names and container names). */
export const NAME: StringRule = {
  expected: "a name of lowercase letters, digits and dashes that starts and ends with a letter or digit, at most 63 characters",
  pattern: /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
  maxLength: 63,
};

export const DESCRIPTION: StringRule = { expected: "a string of at most 1024 characters", maxLength: 1024, minLength: 0 };

/** An id as the API hands them out (`1s3f…`). */
export const ID: StringRule = { expected: "a resource id", pattern: /^[A-Za-z0-9_-]+$/, maxLength: 64 };

/** A machine's hostname (what an agent reports; may have dots and capitals). */
export const HOSTNAME: StringRule = {
  expected: "a hostname of letters, digits, dashes and dots, at most 253 characters",
  pattern: /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/,
  maxLength: 253,
};

/** Docker label keys, Rancher's `io.rancher.scheduler.affinity:host_label` included. */
export const LABEL_KEY: StringRule = {
  expected: "a label key of letters, digits and . _ - / : that starts with a letter or digit, at most 253 characters",
  pattern: /^[A-Za-z0-9][A-Za-z0-9._\/:-]*$/,
  maxLength: 253,
};

export const LABEL_VALUE: StringRule = {
  expected: "a string of at most 4096 characters without control characters",
  pattern: /^[^\u0000-\u001f\u007f]*$/,
  maxLength: 4096,
  minLength: 0,
};

export const ENV_KEY: StringRule = {
  expected: "an environment variable name (letters, digits, _ . -, not starting with a digit)",
  pattern: /^[A-Za-z_][A-Za-z0-9_.-]*$/,
  maxLength: 256,
};

export const ENV_VALUE: StringRule = {
  expected: "a string of at most 32768 characters without NUL",
  pattern: /^[^\u0000]*$/,
  maxLength: 32768,
  minLength: 0,
};

/** A Docker image reference: `name[:tag][@digest]`, with an optional registry. */
export const IMAGE: StringRule = {
  expected: 'an image reference such as "redis:7" or "registry:5000/team/app@sha256:…"',
  pattern: /^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/,
  maxLength: 512,
};

export const VERSION: StringRule = { expected: "a version string of at most 128 characters", pattern: /^[^\u0000-\u001f\u007f]*$/, maxLength: 128 };

export const SECRET: StringRule = { expected: "a token string", pattern: /^[\x21-\x7e]+$/, maxLength: 512 };
