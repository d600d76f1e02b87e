/**
 * Preview shows placement, as `nomad job plan` does. For a Service whose spec, stack, name or
 * server changed (and only then: a no-op preview makes no call), check() asks the server for a
 * dry run (`POST /v1/environments/ID/placements`) and
 *
 * - fails the preview with the scheduler's reason per host when no host can take the new spec
 *   (while the environment has hosts at all: without any, nothing runs to lose and the service
 *   waits for them, as the server lets it), or when a reference is wrong: a link to a missing
 *   service, a name another service holds, a stack that is gone;
 * - puts where the instances would go into the `placement` input, host name → instances, so
 *   the engine shows it beside the change (`~ placement: {node1: 2} => {node3: 2}` in
 *   `pulumi preview --diff`, `newState.inputs.placement` in `--json`).
 *
 * Why check() and not diff(): a dynamic provider's diff() can only say what changes (3.248's
 * dynamic-provider host forwards no detailed diff), while the engine shows the old and new
 * *checked inputs* of every changed resource, and shows a check failure as the resource's own
 * error. The dry run is a prediction: ties between equally good hosts may fall differently
 * when the change is applied; the `instances` output says where they went.
 */
import { callApi, type ApiReply } from "./client";
import type { CheckFailure } from "./check";
import { canonical } from "./sanitize";
import { placementByHost } from "./service-status";
import { SPEC_FIELDS, serviceBody } from "./service-spec";
import { connectionFor, type ProviderSettings } from "./settings";
import { containsUnknown, isUnknown, UNKNOWN } from "./unknown";

/** What makes a Service another service: changing one of these is a create elsewhere. */
const IDENTITY_FIELDS = ["endpoint", "envId", "stackId", "name"] as const;
/** The spec fields that decide where instances go, in the order a refusal blames them. */
const PLACING_FIELDS = ["scheduling", "labels", "ports", "scale", "global"] as const;
/** A preview does not wait long for a dry run. */
export const DRY_RUN_TIMEOUT_MS = 10_000;

export interface PlacementPreview {
  /** Host name → instances; UNKNOWN while preview does not know the inputs that decide it; absent when not asked. */
  placement?: Record<string, number> | string;
  failures: CheckFailure[];
}

const same = (a: unknown, b: unknown) => canonical(a ?? null) === canonical(b ?? null);

/** Whether the inputs changed in a way that needs a dry run: any spec field, or which service it is. */
export function needsDryRun(olds: Record<string, any>, news: Record<string, any>): boolean {
  if (olds === undefined || olds === null || Object.keys(olds).length === 0) return true;
  return [...IDENTITY_FIELDS, ...SPEC_FIELDS].some((k) => containsUnknown(news[k]) || !same(olds[k], news[k]));
}

/**
 * The body to dry-run: the spec as the API takes it, with what preview does not know yet left
 * out where it cannot change the placement (env, command, links to services not created yet,
 * ...). Undefined when an input that decides the placement, or which service this is, is unknown.
 */
export function dryRunBody(news: Record<string, any>): Record<string, unknown> | undefined {
  if ([...IDENTITY_FIELDS, "apiKey", ...PLACING_FIELDS].some((k) => containsUnknown(news[k]))) return undefined;
  const body = serviceBody(news);
  for (const k of Object.keys(body)) {
    if (k === "links" && typeof body.links === "object" && body.links !== null && !isUnknown(body.links)) {
      body.links = Object.fromEntries(Object.entries(body.links as Record<string, unknown>).filter(([, v]) => !isUnknown(v)));
    } else if (containsUnknown(body[k])) {
      // The image is required; any valid one places the same.
      if (k === "image") body.image = "preview/unknown";
      else delete body[k];
    }
  }
  return body;
}

/** The field a refusal most likely comes from: the placing field that changed, else `scheduling`. */
export function blamedField(olds: Record<string, any>, news: Record<string, any>): string {
  return PLACING_FIELDS.find((k) => !same(olds?.[k], news[k])) ?? "scheduling";
}

/** `node1: host_label zome=a not present, port 80/tcp in use; node2: ...`, hosts in name order. */
export function reasonText(reasons: Record<string, string[]> | undefined): string {
  return Object.entries(reasons ?? {}).sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
    .map(([host, list]) => `${host}: ${list.join(", ")}`).join("; ");
}

/**
 * The check failure for an API error answer. The engine prints the input's value beside a
 * failure that names one, so a failure on a secret input names none (its reason still starts
 * with the field).
 */
export function refusalFailure(reply: ApiReply, secretInputs: readonly string[]): CheckFailure {
  const b = typeof reply.body === "object" && reply.body !== null ? reply.body : {};
  if (reply.status === 401 || reply.status === 403) {
    return { property: "", reason: `apiKey: the server refused the key for the dry-run placement (${reply.status} ${b.code ?? ""})`.trimEnd() };
  }
  const field: string | undefined = typeof b.fieldName === "string" ? b.fieldName : reply.status === 404 ? "envId" : undefined;
  const message = String(b.message ?? `HTTP ${reply.status}`);
  const reason = field && !message.startsWith(field) ? `${field}: ${message}` : message;
  const top = field?.split(/[.[]/)[0] ?? "";
  return { property: secretInputs.includes(top) ? "" : top, reason: `${reason} (the server's dry-run placement)` };
}

/** The dry run for a Service's check(); see the file's comment. `secretInputs` name no property in failures. */
export async function previewPlacement(
  olds: Record<string, any>, news: Record<string, any>, settings: ProviderSettings | undefined, secretInputs: readonly string[],
): Promise<PlacementPreview> {
  if (!needsDryRun(olds, news)) return { placement: olds.placement, failures: [] };
  const body = dryRunBody(news);
  if (!body) return { placement: UNKNOWN, failures: [] };
  let conn;
  try { conn = connectionFor(news, settings, "apiKey"); } catch { return { failures: [] }; /* check() says what is missing */ }
  const env = `/v1/environments/${encodeURIComponent(news.envId)}`;
  const existing = olds && IDENTITY_FIELDS.every((k) => same(olds[k], news[k]));
  try {
    let serviceId: string | undefined;
    if (existing) {
      const found = await callApi(conn, "GET", `${env}/services?stackId=${encodeURIComponent(news.stackId)}&name=${encodeURIComponent(news.name)}&limit=10`, undefined, DRY_RUN_TIMEOUT_MS);
      if (found.status !== 200) return { failures: [refusalFailure(found, secretInputs)] };
      serviceId = (found.body.data as any[]).find((s) => s.name === news.name && s.state !== "removing" && s.state !== "removed")?.id;
    }
    const reply = await callApi(conn, "POST", `${env}/placements`, serviceId ? { serviceId, ...body } : body, DRY_RUN_TIMEOUT_MS);
    if (reply.status !== 200) {
      // The same name on a replace that keeps it: the old service is deleted first.
      if (reply.body?.code === "Conflict" && reply.body?.fieldName === "name" && olds?.name === news.name) return { failures: [] };
      return { failures: [refusalFailure(reply, secretInputs)] };
    }
    return judgeDryRun(reply.body, olds, news, serviceId !== undefined);
  } catch {
    // The server is unreachable: nothing to show; `up` will say so when it calls it.
    return { failures: [] };
  }
}

/** A 200 answer of the placements endpoint, as placement and failures. */
export function judgeDryRun(answer: any, olds: Record<string, any>, news: Record<string, any>, existing: boolean): PlacementPreview {
  const placed = ((answer?.instances ?? []) as any[]).map((i) => String(i.hostName));
  const reasons: Record<string, string[]> = answer?.reasons ?? {};
  const field = blamedField(olds, news);
  const what = `${existing ? "" : "new "}service ${news.name}`;
  if (!answer?.ok) {
    // No host at all: nothing runs to lose, and the service waits for hosts (they may be in this very program).
    if (Object.keys(reasons).length === 0) return { placement: {}, failures: [] };
    const text = reasonText(reasons) || String(answer?.message ?? "no reason given");
    return { failures: [{ property: field, reason: `${field}: no host can take ${what} (the server's dry-run placement): ${text}${existing ? "; nothing was changed" : ""}` }] };
  }
  // A global service no host takes is refused by the server's update too.
  if (existing && news.global === true && placed.length === 0) {
    return { failures: [{ property: field, reason: `${field}: no host can take global ${what} (the server's dry-run placement): ${reasonText(answer?.skipped) || "no active host"}; nothing was changed` }] };
  }
  return { placement: placementByHost(placed), failures: [] };
}
