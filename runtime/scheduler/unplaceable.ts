/** Turning per-host reasons into the text and error a user sees. */
import { DroverError } from "../protocol/errors";
import type { ScheduleResult, ServiceToPlace, Unplaceable } from "./types";

/** How many hosts a one-line message names before it says "and N more". */
const HOSTS_IN_MESSAGE = 5;

/** `h1: port 80/tcp in use (instance web-1)`, one line per reason, hosts in snapshot order. */
export function reasonLines(reasons: Record<string, string[]>): string[] {
  return Object.entries(reasons).flatMap(([host, list]) => list.map((r) => `${host}: ${r}`));
}

export function describeUnplaceable(
  service: Pick<ServiceToPlace, "name" | "stackName">,
  requested: number,
  missing: number,
  reasons: Record<string, string[]>,
): Unplaceable {
  const hosts = Object.entries(reasons);
  const shown = hosts.slice(0, HOSTS_IN_MESSAGE).map(([host, list]) => `${host}: ${list.join(", ")}`);
  if (hosts.length > HOSTS_IN_MESSAGE) shown.push(`and ${hosts.length - HOSTS_IN_MESSAGE} more hosts`);
  const why = hosts.length === 0 ? "there are no hosts" : shown.join("; ");
  const message = `${missing} of ${requested} instances of ${service.stackName}/${service.name} could not be placed: ${why}`;
  return { count: missing, reasons, message };
}

/** The API's 422 for a result that left instances unplaced (undefined when all were placed). */
export function unplaceableError(result: ScheduleResult): DroverError | undefined {
  if (!result.unplaceable) return undefined;
  const { count, reasons, message } = result.unplaceable;
  return new DroverError("Unplaceable", message, { detail: { unplaced: count, placed: result.placements.length, reasons } });
}
