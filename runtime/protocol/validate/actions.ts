/** Bodies of `?action=` requests, and the action name itself. */
import { DroverError } from "../../protocol/errors";
import { Problems } from "./problems";
import { ObjectReader } from "./reader";

export const MAX_SCALE = 10000;

/** The `action` query parameter, one of `known`. */
export function actionName(query: URLSearchParams, known: readonly string[]): string {
  const action = query.get("action");
  if (action === null) {
    throw new DroverError("MissingField", `action: required: POST to a resource takes ?action=, one of ${known.join(", ")}`, { field: "action" });
  }
  if (!known.includes(action)) {
    throw new DroverError("InvalidField", `action: expected one of ${known.join(", ")}, got ${JSON.stringify(action)}`, { field: "action" });
  }
  return action;
}

/** Actions that take no input accept an empty body or `{}`. */
export function validateNoInput(body: unknown): void {
  const p = new Problems();
  new ObjectReader(p, body, "", []);
  p.throwIfAny();
}

export function validateScaleInput(body: unknown): number {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", ["scale"]);
  const scale = r.integer("scale", 0, MAX_SCALE, true);
  p.throwIfAny();
  return scale!;
}
