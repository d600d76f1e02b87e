/**
 * A load balancer spec (or certificate) HAProxy cannot be given, with the field at fault:
 * `portRules[2].hostname: expected ..., got "..."`. It becomes the instance's status error;
 * the HAProxy already running keeps its last good config.
 */
export class LbSpecError extends Error {
  constructor(readonly field: string, readonly expected: string, got?: unknown) {
    super(`${field}: expected ${expected}${got === undefined ? "" : `, got ${JSON.stringify(got)}`}`);
    this.name = "LbSpecError";
  }
}
