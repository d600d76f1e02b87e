/**
 * Service bodies. Create takes `stackId` and `name` (both fixed for the service's life) and
 * the spec fields; PUT replaces the spec (absent fields take their defaults), PATCH changes
 * only the fields it names. References are checked against the environment's snapshot:
 * the stack must exist, every link must name a live service of the same environment.
 */
import type { LoadBalancerRecord, RestartPolicySpec, ServiceRecord, ServiceSpec, StackRecord } from "../../protocol/model";
import { MAX_SCALE } from "./actions";
import { validateHealthCheck, validateUpgradeStrategy } from "./health-check";
import { readSchedulingLabels } from "./labels";
import { validatePorts } from "./ports";
import { Problems } from "./problems";
import { ObjectReader, checkString, isPlainObject } from "./reader";
import { ENV_KEY, ENV_VALUE, ID, IMAGE, NAME } from "./rules";
import type { UpdateMode } from "./stack";
import { GLOBAL_LABEL } from "../../scheduler";
import { containerOptionsOf } from "../container-options";
import { CONTAINER_OPTION_FIELDS, readContainerOptions, validateSidekicks } from "./container-options";

export interface ServiceRefs {
  stacks: StackRecord[];
  services: ServiceRecord[];
  loadBalancers?: LoadBalancerRecord[];
}

export interface ServiceCreate {
  stackId: string;
  name: string;
  spec: ServiceSpec;
}

const SPEC_FIELDS = ["image", "command", "entrypoint", "env", "secrets", "ports", "scale", "global", "links", "labels", "scheduling", "restartPolicy", "healthCheck", "upgradeStrategy", ...CONTAINER_OPTION_FIELDS, "sidekicks"];
const FIELDS = ["stackId", "name", ...SPEC_FIELDS];
const RESTART_NAMES = ["no", "always", "on-failure", "unless-stopped"] as const;
const ARG = { expected: "a string of at most 4096 characters", maxLength: 4096, minLength: 0 };

export function defaultSpec(image: string): ServiceSpec {
  return { image, env: {}, ports: [], scale: 1, global: false, links: {}, labels: {}, restartPolicy: { name: "always" } };
}

export function validateServiceCreate(body: unknown, refs: ServiceRefs): ServiceCreate {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const stackId = r.string("stackId", { ...ID, required: true });
  const name = r.string("name", { ...NAME, required: true });
  const image = r.string("image", { ...IMAGE, required: true });
  const given = readSpecFields(p, r, refs, undefined, {}, name);
  const stack = stackId === undefined ? undefined : refs.stacks.find((s) => s.id === stackId);
  if (stackId !== undefined && !stack) p.invalid("stackId", "the id of a stack in this environment", stackId);
  else if (stack && stack.state !== "active") p.invalid("stackId", `a stack that is not being removed (${stack.id} is ${stack.state})`, stackId);
  if (p.ok && refs.services.some((s) => s.stackId === stackId && s.name === name)) {
    p.add("Conflict", "name", `a service named ${name} already exists in stack ${stack!.name}`);
  } else if (p.ok && (refs.loadBalancers ?? []).some((lb) => lb.stackId === stackId && lb.name === name)) {
    p.add("Conflict", "name", `a load balancer named ${name} already exists in stack ${stack!.name}`);
  }
  p.throwIfAny();
  return { stackId: stackId!, name: name!, spec: finishSpec({ ...defaultSpec(image!), ...given }, given) };
}

/** The service's spec after a PUT ("replace") or PATCH ("merge"). */
export function validateServiceUpdate(body: unknown, current: ServiceRecord, refs: ServiceRefs, mode: UpdateMode): ServiceSpec {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const stackId = r.string("stackId", ID);
  if (stackId !== undefined && stackId !== current.stackId) p.invalid("stackId", `the service's stack ${current.stackId} (a service cannot move)`, stackId);
  const name = r.string("name", NAME);
  if (name !== undefined && name !== current.name) p.invalid("name", `the service's name ${current.name} (names cannot change)`, name);
  const image = r.string("image", { ...IMAGE, required: mode === "replace" });
  const given = readSpecFields(p, r, refs, current, mode === "merge" ? current.spec.labels : {}, current.name);
  p.throwIfAny();
  const base = mode === "replace" ? defaultSpec(image!) : { ...current.spec, ...(image !== undefined ? { image } : {}) };
  return finishSpec({ ...base, ...given }, given);
}

/** The spec fields the body gives (and only those), with scheduling merged into labels. */
function readSpecFields(p: Problems, r: ObjectReader, refs: ServiceRefs, self: ServiceRecord | undefined, baseLabels: Record<string, string> = {}, name?: string): Partial<ServiceSpec> {
  const out: Partial<ServiceSpec> = { ...readContainerOptions(r) };
  if (r.has("sidekicks")) {
    const sidekicks = validateSidekicks(p, r.raw("sidekicks"), name);
    if (sidekicks !== undefined) out.sidekicks = sidekicks;
  }
  const command = r.stringList("command", 256, ARG);
  if (command !== undefined) out.command = command;
  const entrypoint = r.stringList("entrypoint", 256, ARG);
  if (entrypoint !== undefined) out.entrypoint = entrypoint;
  const env = r.stringMap("env", 1000, ENV_KEY, ENV_VALUE);
  if (env !== undefined) out.env = env;
  if (r.has("secrets")) {
    const secrets = readSecrets(p, r.raw("secrets"), env ?? self?.spec.env ?? {});
    if (secrets !== undefined) out.secrets = secrets;
  }
  if (r.has("ports")) {
    const ports = validatePorts(p, r.raw("ports"), "ports");
    if (ports !== undefined) out.ports = ports;
  }
  const scale = r.integer("scale", 0, MAX_SCALE);
  if (scale !== undefined) out.scale = scale;
  const global = r.boolean("global");
  if (global !== undefined) out.global = global;
  if (r.has("links")) {
    const links = validateLinks(p, r.raw("links"), refs, self);
    if (links !== undefined) out.links = links;
  }
  const labels = readSchedulingLabels(p, r, baseLabels);
  if (labels !== undefined) out.labels = labels;
  if (r.has("restartPolicy")) {
    const policy = validateRestartPolicy(p, r.raw("restartPolicy"), "restartPolicy");
    if (policy !== undefined) out.restartPolicy = policy;
  }
  if (r.has("healthCheck")) {
    const check = validateHealthCheck(p, r.raw("healthCheck"), "healthCheck");
    if (check !== undefined) out.healthCheck = check;
  }
  if (r.has("upgradeStrategy")) {
    const strategy = validateUpgradeStrategy(p, r.raw("upgradeStrategy"), "upgradeStrategy");
    if (strategy !== undefined) out.upgradeStrategy = strategy;
  }
  return out;
}

/**
 * `secrets`: environment variable name → value, in the clear (the API seals them before
 * storing). Problems name the variable, never quote the value. A name may not also be in
 * `env`: which one the container got would be a guess.
 */
function readSecrets(p: Problems, value: unknown, env: Record<string, string>): Record<string, string> | undefined {
  if (!isPlainObject(value) || Object.keys(value).length > 100) {
    p.invalid("secrets", 'an object of at most 100 entries name → secret value, e.g. {"DB_PASSWORD": "…"}', Array.isArray(value) ? "an array" : typeof value);
    return undefined;
  }
  const before = p.list.length;
  const out: Record<string, string> = {};
  for (const [name, secret] of Object.entries(value)) {
    const path = `secrets.${name}`;
    if (checkString(new Problems(), name, path, ENV_KEY) === undefined) p.invalid(path, `a name that is ${ENV_KEY.expected}`, name);
    else if (typeof secret !== "string" || secret.length > 32768 || secret.includes("\u0000")) p.invalid(path, "a string of at most 32768 characters without NUL (value not shown)", "(secret)");
    else if (name in env) p.invalid(path, `a name not also in env (${name} is both)`, name);
    else out[name] = secret;
  }
  return p.list.length === before ? out : undefined;
}

/** A Rancher global label in the given labels sets `global`, unless the body says it itself. */
function finishSpec(spec: ServiceSpec, given: Partial<ServiceSpec>): ServiceSpec {
  const labelKey = Object.keys(given.labels ?? {}).find((k) => k.toLowerCase() === GLOBAL_LABEL);
  if (given.global === undefined && labelKey !== undefined) {
    spec.global = spec.labels[labelKey].trim().toLowerCase() === "true";
  }
  return spec;
}

function validateLinks(p: Problems, value: unknown, refs: ServiceRefs, self: ServiceRecord | undefined): Record<string, string> | undefined {
  if (!isPlainObject(value) || Object.keys(value).length > 100) {
    p.invalid("links", 'an object of at most 100 entries alias → service id, e.g. {"db": "1s3f…"}', value);
    return undefined;
  }
  const before = p.list.length;
  const links: Record<string, string> = {};
  for (const [alias, target] of Object.entries(value)) {
    const path = `links.${alias}`;
    if (checkString(new Problems(), alias, path, NAME) === undefined) {
      p.invalid(path, `an alias that is ${NAME.expected}`, alias);
      continue;
    }
    const id = checkString(p, target, path, { ...ID, expected: "the id of a service in this environment" });
    if (id === undefined) continue;
    const service = refs.services.find((s) => s.id === id);
    if (!service) p.invalid(path, "the id of a service in this environment", id);
    else if (self && id === self.id) p.invalid(path, "another service (a service cannot link to itself)", id);
    else if (service.state === "removing" || service.state === "removed") p.invalid(path, `a service that is not being removed (${id} is ${service.state})`, id);
    else links[alias] = id;
  }
  return p.list.length === before ? links : undefined;
}

function validateRestartPolicy(p: Problems, value: unknown, path: string): RestartPolicySpec | undefined {
  const expected = `one of ${RESTART_NAMES.join(", ")}`;
  if (typeof value === "string") {
    const name = checkString(p, value, path, { expected, oneOf: RESTART_NAMES });
    return name === undefined ? undefined : { name: name as RestartPolicySpec["name"] };
  }
  const r = new ObjectReader(p, value, path, ["name", "maximumRetryCount"]);
  const name = r.string("name", { expected, oneOf: RESTART_NAMES, required: true }) as RestartPolicySpec["name"] | undefined;
  const retries = r.integer("maximumRetryCount", 0, 1000);
  if (retries !== undefined && name !== undefined && name !== "on-failure") {
    p.invalid(r.at("maximumRetryCount"), 'to be given only with name "on-failure"', retries);
  }
  if (name === undefined) return undefined;
  return { name, ...(retries !== undefined ? { maximumRetryCount: retries } : {}) };
}

/** Whether going from `a` to `b` needs new containers (scale, global and links do not). */
export function specNeedsNewContainers(a: ServiceSpec, b: ServiceSpec): boolean {
  const containerFields = (s: ServiceSpec) => canonical({
    image: s.image, command: s.command, entrypoint: s.entrypoint, env: s.env, secrets: s.secrets ?? {}, ports: s.ports, labels: s.labels, restartPolicy: s.restartPolicy,
    ...containerOptionsOf(s), sidekicks: s.sidekicks ?? [],
  });
  return containerFields(a) !== containerFields(b);
}

/** JSON with object keys sorted, so maps compare by content, not insertion order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])) : v);
}
