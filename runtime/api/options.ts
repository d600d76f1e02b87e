/**
 * What createApi() needs, and the resolved form the handlers share. Everything a request
 * touches comes from here (no module-scope state), so several APIs can run in one process.
 */
import { randomBytes } from "crypto";
import type { Store } from "../store/store";
import { EventHub } from "./event-hub";
import type { Keyring } from "../secrets/keyring";

export type IdKind = "environment" | "host" | "stack" | "service" | "loadBalancer" | "certificate";

export interface RegistrationSettings {
  /** redis:// or rediss://host:port that agents connect to (no credentials in it). */
  redisUrl: string;
  /** The store's key prefix (runtime/protocol/keys.ts makeKeys), handed to agents. */
  keyPrefix: string;
  heartbeatIntervalMs: number;
  heartbeatTtlMs: number;
  resyncIntervalMs: number;
}

/** The server's CA, for the API's `/v1/ca` and for hosts' Redis client certificates. */
export interface ApiTls {
  /** PEM of the CA certificate agents and the provider pin (by its fingerprint). */
  caCert: string;
  /** "sha256:<hex>" of caCert. */
  caFingerprint: string;
  /** A host's Redis client certificate for its identity key (mutual TLS); absent when agents' Redis is not rediss://. */
  hostClientCert?: (publicKeyPem: string, username: string) => string;
}

export interface ApiOptions {
  store: Store;
  /** The CA: `/v1/ca` serves it, registration hands out client certificates from it. Absent: no TLS anywhere (tests). */
  tls?: ApiTls;
  /** Seals secrets given to the API (service secrets, certificate keys) and hands hosts their secrets key. */
  keyring: Keyring;
  /** The admin key: may create, list and tear down environments and see all of them. */
  adminKey: string;
  registration: RegistrationSettings;
  /** Called after every successful write (e.g. to wake an in-process reconciler at once). */
  nudge?: (envId: string) => void;
  clock?: () => Date;
  /** New record ids; Rancher-like `1a…`, `1h…`, `1st…`, `1s…` by default. */
  ids?: (kind: IdKind) => string;
  /** Where unexpected errors are logged (500s); console.error by default. */
  log?: (message: string, err?: unknown) => void;
  /** How long one blocking read of the event stream waits before a keep-alive comment. */
  eventsBlockMs?: number;
  /** Event streams one API key may hold open at once (default 8); one more is answered 429. */
  eventStreamsPerKey?: number;
  /** This server's URL as agents reach it, for logs/exec streams (default: its listen address unless that is 0.0.0.0 or ::). */
  streamsUrl?: string;
}

export interface ApiContext {
  store: Store;
  tls?: ApiTls;
  keyring: Keyring;
  adminKey: string;
  registration: RegistrationSettings;
  nudge: (envId: string) => void;
  now: () => string;
  newId: (kind: IdKind) => string;
  log: (message: string, err?: unknown) => void;
  eventsBlockMs: number;
  /** The event streams' shared readers (one per watched environment). */
  events: EventHub;
}

const idPrefix: Record<IdKind, string> = { environment: "1a", host: "1h", stack: "1st", service: "1s", loadBalancer: "1lb", certificate: "1ce" };

export function defaultId(kind: IdKind): string {
  return idPrefix[kind] + randomBytes(6).toString("hex");
}

export function resolveOptions(opts: ApiOptions): ApiContext {
  if (!opts.adminKey || opts.adminKey.length < 16) throw new Error("createApi: adminKey must be at least 16 characters");
  const clock = opts.clock ?? (() => new Date());
  const log = opts.log ?? ((message: string, err?: unknown) => console.error(message, err));
  const eventsBlockMs = opts.eventsBlockMs ?? 15_000;
  return {
    store: opts.store,
    tls: opts.tls,
    keyring: opts.keyring,
    adminKey: opts.adminKey,
    registration: opts.registration,
    nudge: opts.nudge ?? (() => {}),
    now: () => clock().toISOString(),
    newId: opts.ids ?? defaultId,
    log,
    eventsBlockMs,
    events: new EventHub({ store: opts.store, blockMs: eventsBlockMs, maxPerKey: opts.eventStreamsPerKey ?? 8, log }),
  };
}
