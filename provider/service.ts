/**
 * `drover:Service`: containers of one image in a stack, `scale` of them or one per host
 * (`global`). Its stack and name are fixed for its life (replace); everything else updates
 * in place. create and update return only once the server reports the service converged.
 */
import * as pulumi from "@pulumi/pulumi";
import { forwardingProvider } from "./forward";
import { withSpecDrift } from "./spec-drift";
import { checkResult, connectionFailures, idFailures, validatorFailures, type CheckFailure } from "./check";
import { SDK_INPUTS, unknownFieldFailures, unknownFieldFailuresInList, withoutDuplicates } from "./input-fields";
import { SCHEDULING_FIELDS } from "./scheduling-input";
import { PORT_FIELDS, RESTART_POLICY_FIELDS, SERVICE_FIELDS, type ServiceArgs } from "./service-args";
import { callApi, describeFailure, expectOk, fetchLive, GONE } from "./client";
import { probeService } from "./converge";
import { diffInputs } from "./diff";
import { sanitize } from "./sanitize";
import { normalizeServiceInputs, serviceBody, SPEC_FIELDS } from "./service-spec";
import { connectionFor, settingsFromConfig, type Connection, type ProviderSettings } from "./settings";
import { definedOnly } from "./stack";
import { containsUnknown } from "./unknown";
import { pollUntil } from "./wait";

export type { LabelSelectorInput, SchedulingInput } from "./scheduling-input";
export type { PortInput, PortMapping, PortProtocolSuffix, RestartPolicyInput, RestartPolicyName, ServiceArgs } from "./service-args";

const COMPUTED = ["serviceId", "state", "specVersion"] as const;

const servicePath = (envId: string, id?: string) =>
  `/v1/environments/${encodeURIComponent(envId)}/services${id === undefined ? "" : `/${encodeURIComponent(id)}`}`;

async function waitConverged(conn: Connection, inputs: any, id: string): Promise<any> {
  const timeoutMs = (Number(inputs.waitTimeoutSeconds) || 300) * 1000;
  return pollUntil(() => probeService(conn, inputs.envId, id), { what: `service ${inputs.name} (${id}) to converge`, timeoutMs });
}

function outputsOf(inputs: any, svc: any) {
  return sanitize({ ...inputs, serviceId: svc.id, state: svc.state, specVersion: svc.specVersion });
}

export const serviceProvider = {
  settings: undefined as ProviderSettings | undefined,

  async configure(req: { config: { get(key: string): string | undefined } }): Promise<void> {
    this.settings = settingsFromConfig(req.config);
  },

  async check(_olds: any, news: any) {
    const unknown = [
      ...unknownFieldFailures(news, SERVICE_FIELDS, [...COMPUTED, ...SDK_INPUTS]),
      ...unknownFieldFailures(news.scheduling, SCHEDULING_FIELDS, [], "scheduling"),
      ...unknownFieldFailuresInList(news.ports, PORT_FIELDS, "ports"),
      ...unknownFieldFailures(news.restartPolicy, RESTART_POLICY_FIELDS, [], "restartPolicy"),
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
    return checkResult(news, withoutDuplicates(unknown, failures));
  },

  async diff(_id: string, olds: any, news: any) {
    return diffInputs(olds, news, {
      replace: ["endpoint", "envId", "stackId", "name"],
      update: [...SPEC_FIELDS, "apiKey", "waitTimeoutSeconds"],
      nameField: "name",
      stableOutputs: ["serviceId"],
    });
  },

  async create(inputs: any) {
    const conn = connectionFor(inputs, this.settings, "apiKey");
    const created = await expectOk(conn, "POST", servicePath(inputs.envId), serviceBody(inputs));
    try {
      const svc = await waitConverged(conn, inputs, created.id);
      return { id: created.id as string, outs: outputsOf(inputs, svc) };
    } catch (err: any) {
      // Recorded as partially created, so the next `up` retries the wait and `destroy` can delete it.
      const partial: any = new Error(err?.message ?? String(err));
      partial.id = created.id;
      partial.properties = { ...outputsOf(inputs, created), __provider: inputs.__provider };
      throw partial;
    }
  },

  async read(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const svc = await fetchLive(conn, servicePath(props.envId, id));
    if (!svc) return GONE;
    return { id: svc.id as string, props: outputsOf(withDrift(props, svc), svc) };
  },

  async update(id: string, _olds: any, news: any) {
    const conn = connectionFor(news, this.settings, "apiKey");
    // PUT replaces the spec: a field removed from the program goes back to its default.
    await expectOk(conn, "PUT", servicePath(news.envId, id), serviceBody(news));
    const svc = await waitConverged(conn, news, id);
    return { outs: outputsOf(news, svc) };
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
  return withSpecDrift(props, svc.spec, normalizeServiceInputs, ["image", "command", "entrypoint", "env", "ports", "scale", "global", "links", "labels", "restartPolicy"]);
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
  declare readonly state: pulumi.Output<string>;
  declare readonly specVersion: pulumi.Output<number>;

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
