/**
 * `drover:Service`: containers of one image in a stack, `scale` of them or one per host
 * (`global`). Its stack and name are fixed for its life (replace); everything else updates
 * in place (a change that needs new containers is a rolling upgrade on the server).
 *
 * create and update return once the service converged: the containers of its current
 * version run, are healthy where it has a health check, are as many as asked, and no rollout
 * is in flight (service-status.ts). They fail at once, with the server's words, when waiting
 * cannot help: a spec no host can take (422 from the PUT, nothing changed), a service stuck
 * in `transitioning: error`, an upgrade rolled back (the service runs the old spec again,
 * which is what Pulumi's state keeps), a container that cannot start or crash-loops.
 *
 * check() adds two inputs of its own: `state: "active"` (what the program asks for: after a
 * refresh found the service degraded, the diff shows `state: "degraded" => "active"` and `up`
 * repairs it) and `placement` (where the instances would go: service-placement.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { forwardingProvider } from "./forward";
import { withSpecDrift } from "./spec-drift";
import { checkResult, connectionFailures, idFailures, validatorFailures, type CheckFailure } from "./check";
import { SDK_INPUTS, unknownFieldFailures, unknownFieldFailuresInList, withoutDuplicates } from "./input-fields";
import { SCHEDULING_FIELDS } from "./scheduling-input";
import {
  HEALTH_CHECK_FIELDS, PORT_FIELDS, RESTART_POLICY_FIELDS, SERVICE_FIELDS, UPGRADE_STRATEGY_FIELDS, type ServiceArgs,
} from "./service-args";
import { callApi, describeFailure, GONE, type ApiReply } from "./client";
import { fetchServiceView, hostNames, probeService, type ServiceView } from "./converge";
import { diffInputs } from "./diff";
import { blamedField, previewPlacement, reasonText } from "./service-placement";
import { instancesOutput, placementByHost, serviceStateOf, type Expectation, type ServiceInstanceOutput } from "./service-status";
import { sanitize } from "./sanitize";
import { normalizeServiceInputs, serviceBody, SPEC_FIELDS } from "./service-spec";
import { connectionFor, settingsFromConfig, type Connection, type ProviderSettings } from "./settings";
import { definedOnly } from "./stack";
import { containsUnknown } from "./unknown";
import { pollUntil } from "./wait";

export type { LabelSelectorInput, SchedulingInput } from "./scheduling-input";
export type {
  HealthCheckInput, HealthCheckStrategy, PortInput, PortMapping, PortProtocolSuffix, RestartPolicyInput, RestartPolicyName, ServiceArgs,
  UpgradeStrategyInput, SidekickInput,
} from "./service-args";
export type { ServiceInstanceOutput } from "./service-status";

const COMPUTED = ["serviceId", "state", "specVersion", "instances", "placement"] as const;
/** Outputs that are not inputs in any sense (check() adds `state` and `placement` to the inputs). */
const OUTPUT_ONLY = ["serviceId", "specVersion", "instances"];
/** Inputs a check failure must not quote. */
const SECRET_INPUTS = ["apiKey"];
/** What the program asks of every service: that it runs as declared. */
const WANTED_STATE = "active";

const servicePath = (envId: string, id?: string) =>
  `/v1/environments/${encodeURIComponent(envId)}/services${id === undefined ? "" : `/${encodeURIComponent(id)}`}`;

async function waitConverged(conn: Connection, inputs: any, id: string, expect: Expectation): Promise<ServiceView> {
  const timeoutMs = (Number(inputs.waitTimeoutSeconds) || 300) * 1000;
  const view = await pollUntil(() => probeService(conn, inputs.envId, id, expect), { what: `service ${inputs.name} (${id}) to converge`, timeoutMs });
  return view!;
}

/** The inputs echoed, and what the server says: the service's state, its instances and where they run. */
async function outputsOf(conn: Connection, inputs: any, view: ServiceView) {
  const names = await hostNames(conn, inputs.envId);
  const instances = instancesOutput(view.instances, names);
  return sanitize({
    ...inputs, serviceId: view.svc.id, state: serviceStateOf(view.svc, view.instances), specVersion: view.svc.specVersion,
    instances, placement: placementByHost(instances.map((i) => i.host)),
  });
}

/**
 * A refused PUT as one sentence. 422 Unplaceable: no host can take the new spec, the server
 * changed nothing; the reason per host, blamed on the input that most likely caused it.
 */
function refusedUpdate(url: string, reply: ApiReply, olds: any, news: any): Error {
  const b = reply.body;
  if (reply.status === 422 && b?.code === "Unplaceable") {
    const field = blamedField(olds, news);
    const reasons = reasonText(b.detail?.reasons);
    return new Error(`${field}: the server refused the update, nothing was changed: no host can take service ${news.name}: ${reasons || b.message}`);
  }
  return new Error(describeFailure("PUT", url, reply));
}

export const serviceProvider = {
  settings: undefined as ProviderSettings | undefined,

  async configure(req: { config: { get(key: string): string | undefined } }): Promise<void> {
    this.settings = settingsFromConfig(req.config);
  },

  async check(olds: any, news: any) {
    const unknown = [
      ...unknownFieldFailures(news, SERVICE_FIELDS, [...COMPUTED, ...SDK_INPUTS]),
      ...unknownFieldFailures(news.scheduling, SCHEDULING_FIELDS, [], "scheduling"),
      ...unknownFieldFailuresInList(news.ports, PORT_FIELDS, "ports"),
      ...unknownFieldFailures(news.restartPolicy, RESTART_POLICY_FIELDS, [], "restartPolicy"),
      ...unknownFieldFailures(news.healthCheck, HEALTH_CHECK_FIELDS, [], "healthCheck"),
      ...unknownFieldFailures(news.upgradeStrategy, UPGRADE_STRATEGY_FIELDS, [], "upgradeStrategy"),
    ];
    const failures: CheckFailure[] = [
      // A failure on a secret names no property: the engine would print the input's value beside it.
      ...validatorFailures(() => normalizeServiceInputs(news)).map((f) => (/^secrets\b/.test(f.property) ? { ...f, property: "" } : f)),
      ...idFailures(news, "envId"),
      ...connectionFailures(news, this.settings, "apiKey"),
    ];
    const wait = news.waitTimeoutSeconds;
    if (wait !== undefined && !containsUnknown(wait) && !(typeof wait === "number" && wait > 0 && wait <= 86400)) {
      failures.push({ property: "waitTimeoutSeconds", reason: "waitTimeoutSeconds: expected a number of seconds from 1 to 86400" });
    }
    const local = checkResult(news, withoutDuplicates(unknown, failures), SECRET_INPUTS);
    if (local.failures.length > 0) return local;
    // Valid inputs: for a changed service only, the server's dry run (I/O; see service-placement.ts).
    const dry = await previewPlacement(olds ?? {}, news, this.settings, SECRET_INPUTS);
    const { state: _state, placement: _placement, ...given } = news;
    return checkResult({ ...given, state: WANTED_STATE, ...(dry.placement !== undefined ? { placement: dry.placement } : {}) }, dry.failures, SECRET_INPUTS);
  },

  async diff(_id: string, olds: any, news: any) {
    const outcome = diffInputs(olds, news, {
      replace: ["endpoint", "envId", "stackId", "name"],
      update: [...SPEC_FIELDS, "apiKey", "waitTimeoutSeconds"],
      nameField: "name",
      stableOutputs: ["serviceId"],
    });
    // A refresh found it other than active (degraded, stuck, deactivated): `up` repairs it in place.
    const unwell = typeof olds.state === "string" && olds.state !== WANTED_STATE;
    return { ...outcome, changes: outcome.changes || unwell };
  },

  async create(inputs: any) {
    const conn = connectionFor(inputs, this.settings, "apiKey");
    const path = servicePath(inputs.envId);
    const reply = await callApi(conn, "POST", path, serviceBody(inputs));
    if (reply.status !== 201 && reply.status !== 200) throw new Error(describeFailure("POST", conn.endpoint + path, reply));
    const created = reply.body;
    try {
      const view = await waitConverged(conn, inputs, created.id, { specVersion: created.specVersion, newContainers: true });
      return { id: created.id as string, outs: await outputsOf(conn, inputs, view) };
    } catch (err: any) {
      // Recorded as partially created, so the next `up` retries the wait and `destroy` can delete it.
      const partial: any = new Error(err?.message ?? String(err));
      partial.id = created.id;
      const view = await fetchServiceView(conn, inputs.envId, created.id).catch(() => undefined);
      const outs = view ? await outputsOf(conn, inputs, view).catch(() => undefined) : undefined;
      partial.properties = { ...(outs ?? sanitize({ ...inputs, serviceId: created.id, state: "error", specVersion: created.specVersion })), __provider: inputs.__provider };
      throw partial;
    }
  },

  /**
   * The service as the server has it: spec drift in the echoed inputs, its real state and
   * instances. The inputs are returned too (outputs minus what is only an output), so the next
   * preview shows what differs from the program, `state: "degraded" => "active"` included.
   */
  async read(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const view = await fetchServiceView(conn, props.envId, id);
    if (!view || view.svc.state === "removing" || view.svc.state === "removed") return GONE;
    const outs = await outputsOf(conn, withDrift(props, view.svc), view);
    const inputs = Object.fromEntries(Object.entries(outs).filter(([k]) => !OUTPUT_ONLY.includes(k)));
    return { id: view.svc.id as string, props: outs, inputs };
  },

  async update(id: string, olds: any, news: any) {
    const conn = connectionFor(news, this.settings, "apiKey");
    const path = servicePath(news.envId, id);
    // PUT replaces the spec: a field removed from the program goes back to its default.
    const reply = await callApi(conn, "PUT", path, serviceBody(news));
    if (reply.status !== 200) throw refusedUpdate(conn.endpoint + path, reply, olds, news);
    let put = reply.body;
    if (put.state === "inactive") {
      // The program asks for a running service: one deactivated by hand is activated again.
      const act = await callApi(conn, "POST", `${path}?action=activate`, {});
      if (act.status >= 300) throw new Error(describeFailure("POST", `${conn.endpoint}${path}?action=activate`, act));
      put = act.body;
    }
    const rollout = put.upgrade?.state === "upgrading" && put.upgrade.toVersion === put.specVersion && put.specVersion !== olds.specVersion;
    const view = await waitConverged(conn, news, id, { specVersion: put.specVersion, newContainers: rollout });
    return { outs: await outputsOf(conn, news, view) };
  },

  async delete(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const path = servicePath(props.envId, id);
    const reply = await callApi(conn, "DELETE", path);
    if (reply.status === 404) return;
    if (reply.status >= 300) throw new Error(describeFailure("DELETE", conn.endpoint + path, reply));
    await pollUntil(async () => {
      const r = await callApi(conn, "GET", path);
      if (r.status === 404 || r.body?.state === "removed") return { done: true, pending: "" };
      if (r.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, r));
      return { done: false, pending: `service ${r.body.name} is ${r.body.state}${r.body.transitioningMessage ? `: ${r.body.transitioningMessage}` : ""}` };
    }, { what: `service ${id} to be removed`, timeoutMs: (Number(props.waitTimeoutSeconds) || 300) * 1000 });
  },
};

/**
 * The given inputs, except fields whose normalized value differs from the server's spec:
 * those take the server's value, so the next diff shows the drift (and only the drift).
 */
function withDrift(props: any, svc: any): any {
  return withSpecDrift(props, svc.spec, normalizeServiceInputs, [
    "image", "command", "entrypoint", "env", "ports", "scale", "global", "links", "labels", "restartPolicy", "healthCheck", "upgradeStrategy",
  ]);
}

/** The serialized form: loads `serviceProvider` from the installed drover (see forward.ts). */
export const serviceResourceProvider = forwardingProvider(() => require("drover/dist/provider/service.js").serviceProvider);

export class Service extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  /**
   * The service's id on the server (for links and load balancer rules). The resource's own
   * id, so it stays known in a preview that updates the service: dependents see no change.
   */
  declare readonly serviceId: pulumi.Output<string>;
  declare readonly stackId: pulumi.Output<string>;
  declare readonly envId: pulumi.Output<string>;
  /**
   * `active` when it runs as declared (every instance of its current version running, and
   * healthy with a health check), `degraded` when fewer do, `upgrading` / `rolling-back`
   * during a rollout, `inactive`, or `error: <the server's message>` when the server is stuck.
   */
  declare readonly state: pulumi.Output<string>;
  declare readonly specVersion: pulumi.Output<number>;
  /** Its instances: name, host (name), overlay ip, container state, health. As of the last up or refresh. */
  declare readonly instances: pulumi.Output<ServiceInstanceOutput[]>;
  /**
   * Host name → how many instances it runs. As an input (shown by `pulumi preview --diff`),
   * where the server's dry run would put them for the previewed change.
   */
  declare readonly placement: pulumi.Output<Record<string, number>>;

  constructor(name: string, args: ServiceArgs, opts?: pulumi.CustomResourceOptions) {
    const { stack, ...rest } = args;
    const props: Record<string, unknown> = {
      ...(stack ? { stackId: stack.stackId, envId: stack.envId, endpoint: stack.serverUrl, apiKey: stack.apiKey } : {}),
      ...definedOnly(rest),
    };
    for (const k of COMPUTED) props[k] = undefined;
    for (const k of ["apiKey", "secrets"]) {
      if (props[k] !== undefined) props[k] = pulumi.secret(props[k] as pulumi.Input<unknown>);
    }
    super(serviceResourceProvider, name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiKey", "secrets"],
    }, "drover", "Service");
    this.serviceId = this.id;
  }
}
