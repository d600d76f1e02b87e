/**
 * The shape checks a reconcile pass makes on what it read before planning (pure). Records
 * reach Redis only through the API's validators, but a record written by hand, by an older
 * or newer version, or damaged, must stop its own environment's pass with a message that
 * names the record and the field, never a TypeError deep in the planner.
 *
 * Deliberately shallow: only what the planner relies on to run at all (ids, states, the
 * objects and arrays it walks, the numbers it counts with). Anything stricter would refuse
 * records older versions wrote and the planner reads fine.
 */
import { DroverError } from "../protocol/errors";
import type { EnvSnapshot } from "../store/store";

type Check = (value: unknown) => string | undefined;

const string: Check = (v) => (typeof v === "string" && v !== "" ? undefined : "a non-empty string");
const optionalString: Check = (v) => (v === undefined || typeof v === "string" ? undefined : "a string or nothing");
const boolean: Check = (v) => (typeof v === "boolean" ? undefined : "true or false");
const optionalBoolean: Check = (v) => (v === undefined || typeof v === "boolean" ? undefined : "true, false or nothing");
const wholeNumber: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : "a whole number >= 0");
const array: Check = (v) => (Array.isArray(v) ? undefined : "an array");
const stringMap: Check = (v) => (isObject(v) && Object.values(v).every((x) => typeof x === "string") ? undefined : "an object of strings");
const object: Check = (v) => (isObject(v) ? undefined : "an object");
const oneOf = (...values: string[]): Check => (v) => (typeof v === "string" && values.includes(v) ? undefined : `one of ${values.join(", ")}`);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Field path → check, for one kind of record. Paths are dotted (`spec.scale`). */
type Shape = Record<string, Check>;

const serviceSpec: Shape = {
  "spec": object, "spec.image": string, "spec.env": stringMap, "spec.ports": array, "spec.scale": wholeNumber,
  "spec.global": boolean, "spec.links": stringMap, "spec.labels": stringMap, "spec.restartPolicy": object,
};

const shapes: Record<string, Shape> = {
  host: { id: string, name: string, state: oneOf("active", "reconnecting", "disconnected", "inactive", "removing", "removed"), labels: stringMap, deactivated: optionalBoolean },
  stack: { id: string, name: string, state: oneOf("active", "removing", "removed"), stackWideDiscovery: optionalBoolean },
  service: {
    id: string, name: string, stackId: string, state: oneOf("active", "inactive", "updating", "removing", "removed"),
    specVersion: wholeNumber, ...serviceSpec,
  },
  instance: {
    id: string, serviceId: string, stackId: string, hostId: string, name: string, index: wholeNumber, specVersion: wholeNumber,
    state: oneOf("requested", "activating", "active", "stopping", "stopped", "error", "removing", "removed"),
    "spec": object, "spec.image": string, "spec.env": stringMap, "spec.ports": array, "spec.labels": stringMap, ip: optionalString,
  },
  loadBalancer: {
    id: string, name: string, stackId: string, state: oneOf("active", "removing", "removed"),
    "spec": object, "spec.portRules": array, "spec.certificateIds": array, "spec.scale": wholeNumber, "spec.global": boolean, "spec.labels": stringMap,
  },
  certificate: { id: string, name: string, cert: string, key: string, state: oneOf("active", "removed") },
};

function valueAt(record: Record<string, unknown>, path: string): unknown {
  let v: unknown = record;
  for (const part of path.split(".")) v = isObject(v) ? v[part] : undefined;
  return v;
}

/** The first problem with one record, as `field: expected …, got …`, or undefined. */
export function recordProblem(kind: keyof typeof shapes, record: unknown): string | undefined {
  if (!isObject(record)) return `expected an object, got ${JSON.stringify(record)?.slice(0, 80)}`;
  for (const [path, check] of Object.entries(shapes[kind])) {
    const value = valueAt(record, path);
    const expected = check(value);
    if (expected) return `${path}: expected ${expected}, got ${value === undefined ? "nothing" : JSON.stringify(value).slice(0, 80)}`;
  }
  return undefined;
}

/**
 * Throws DroverError InvalidField naming the first record of the snapshot the planner could
 * not work with (kind, id and field), so the reconciler records it on the environment.
 */
export function checkSnapshot(snapshot: EnvSnapshot): void {
  const lists: Array<[keyof typeof shapes, unknown[]]> = [
    ["host", snapshot.hosts], ["stack", snapshot.stacks], ["service", snapshot.services], ["instance", snapshot.instances],
    ["loadBalancer", snapshot.loadBalancers ?? []], ["certificate", snapshot.certificates ?? []],
  ];
  for (const [kind, records] of lists) {
    for (const record of records) {
      const problem = recordProblem(kind, record);
      if (problem === undefined) continue;
      const id = isObject(record) && typeof record.id === "string" ? record.id : "(no id)";
      throw new DroverError("InvalidField", `stored ${kind} ${id} in environment ${snapshot.env.id} cannot be reconciled: ${problem}; correct or remove the record`, {
        field: `${kind}:${id}.${problem.split(":")[0]}`,
      });
    }
  }
}
