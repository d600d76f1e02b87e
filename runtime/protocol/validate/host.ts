/** PATCH /v1/environments/:envId/hosts/:id bodies: a host's labels, changed in place. */
import { diskReserveLabelProblem } from "../disk-reserve";
import { Problems } from "./problems";
import { ObjectReader, mapKeyPath } from "./reader";
import { LABEL_KEY, LABEL_VALUE } from "./rules";

/**
 * Labels drover sets on every host itself (Rancher's names, and the agent's own
 * `io.drover.host.hostname`); they cannot be set by hand, and a label update keeps them.
 */
export const SYSTEM_HOST_LABEL_PREFIXES = ["io.rancher.host.", "io.drover.host."] as const;

export function isSystemHostLabel(key: string): boolean {
  const k = key.toLowerCase();
  return SYSTEM_HOST_LABEL_PREFIXES.some((prefix) => k.startsWith(prefix));
}

/** The host's new user labels (the whole set: labels not named are removed). */
export function validateHostUpdate(body: unknown): { labels: Record<string, string> } {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", ["labels"]);
  if (r.valid && !r.has("labels")) p.missing("labels", "an object of label key → value (the host's whole set of labels)");
  const labels = r.stringMap("labels", 256, LABEL_KEY, LABEL_VALUE);
  for (const key of Object.keys(labels ?? {})) {
    if (isSystemHostLabel(key)) {
      p.invalid(mapKeyPath("labels", key), `a label of your own: ${SYSTEM_HOST_LABEL_PREFIXES.map((x) => `${x}*`).join(" and ")} labels are set by drover`, key);
    }
  }
  checkHostLabels(p, labels ?? {});
  p.throwIfAny();
  return { labels: labels! };
}

/** Labels drover reads on a host (the Docker disk reserve the scheduler keeps), checked wherever host labels come in. */
export function checkHostLabels(p: Problems, labels: Record<string, string>, path = "labels"): void {
  const reserve = diskReserveLabelProblem(labels);
  if (reserve) p.add("InvalidField", mapKeyPath(path, reserve.key), reserve.message);
}
