/**
 * `drover:LoadBalancer`: port rules in front of services of the environment, with
 * certificates, `scale` HAProxy instances or one per host (`global`). The server accepts,
 * validates and stores it; agents do not run HAProxy for it yet (output `served` is false
 * until they do). Its stack and name are fixed (replace); everything else updates in place.
 * Nothing converges, so create, update and delete return as soon as the server answers.
 */
import * as pulumi from "@pulumi/pulumi";
import { forwardingProvider } from "./forward";
import { withSpecDrift } from "./spec-drift";
import { checkResult, connectionFailures, idFailures, validatorFailures, type CheckFailure } from "./check";
import { callApi, describeFailure, expectOk, fetchLive, GONE } from "./client";
import { diffInputs } from "./diff";
import { LB_SPEC_FIELDS, loadBalancerBody, normalizeLoadBalancerInputs } from "./load-balancer-spec";
import { SDK_INPUTS, keysOf, unknownFieldFailures, unknownFieldFailuresInList, withoutDuplicates } from "./input-fields";
import { sanitize } from "./sanitize";
import { SCHEDULING_FIELDS, type SchedulingInput } from "./scheduling-input";
import { connectionFor, settingsFromConfig, type ProviderSettings } from "./settings";
import { definedOnly, type Stack } from "./stack";

export interface PortRuleInput {
  /** The port the load balancer listens on (1-65535); one protocol per source port. */
  sourcePort: pulumi.Input<number>;
  /** "http" (default), "tcp" or "https" (needs a certificate). */
  protocol?: pulumi.Input<"http" | "tcp" | "https">;
  /** http(s) only: the Host header to match, e.g. "www.example.com", "*.example.com". */
  hostname?: pulumi.Input<string>;
  /** http(s) only: a path prefix, starting with `/`. */
  path?: pulumi.Input<string>;
  /** The target Service's `serviceId`. */
  targetServiceId: pulumi.Input<string>;
  /** The container port of the target service (1-65535). */
  targetPort: pulumi.Input<number>;
  /** Order among rules that match the same request: lower first. */
  priority?: pulumi.Input<number>;
}

/** A LoadBalancer's inputs. Its name, stack, environment and server replace it; everything else updates in place. */
export interface LoadBalancerArgs {
  /** The load balancer's name in its stack (shares the names of services). Replaces. */
  name: pulumi.Input<string>;
  /** Where requests go: at least one rule. */
  portRules: pulumi.Input<pulumi.Input<PortRuleInput>[]>;
  /** Certificate ids served for SNI. */
  certificateIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** The certificate for https rules without an SNI match. Required when a rule is https. */
  defaultCertificateId?: pulumi.Input<string>;
  /** How many HAProxy instances. Default 1. Ignored when `global`. */
  scale?: pulumi.Input<number>;
  /** One instance on every host that passes the scheduling rules. Default false. */
  global?: pulumi.Input<boolean>;
  /** Labels of its instances; `io.rancher.scheduler.*` labels are scheduling rules (Rancher's syntax). */
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Where its instances may and should go (as for a Service). */
  scheduling?: pulumi.Input<SchedulingInput>;
  /** The stack: fills stackId, envId, endpoint and apiKey from its outputs. */
  stack?: Stack;
  stackId?: pulumi.Input<string>;
  envId?: pulumi.Input<string>;
  /** Default: config `drover:endpoint`. */
  endpoint?: pulumi.Input<string>;
  /** The environment's API key (kept secret); default: config `drover:apiKey`. */
  apiKey?: pulumi.Input<string>;
}

const PORT_RULE_FIELDS = keysOf<PortRuleInput>()(["sourcePort", "protocol", "hostname", "path", "targetServiceId", "targetPort", "priority"]);
const LOAD_BALANCER_FIELDS = keysOf<LoadBalancerArgs>()([
  "name", "portRules", "certificateIds", "defaultCertificateId", "scale", "global", "labels", "scheduling",
  "stack", "stackId", "envId", "endpoint", "apiKey",
]);

const COMPUTED = ["loadBalancerId", "state", "served"] as const;

const lbPath = (envId: string, id?: string) =>
  `/v1/environments/${encodeURIComponent(envId)}/loadbalancers${id === undefined ? "" : `/${encodeURIComponent(id)}`}`;

function outputsOf(inputs: any, lb: any) {
  return sanitize({ ...inputs, loadBalancerId: lb.id, state: lb.state, served: lb.served === true });
}

export const loadBalancerProvider = {
  settings: undefined as ProviderSettings | undefined,

  async configure(req: { config: { get(key: string): string | undefined } }): Promise<void> {
    this.settings = settingsFromConfig(req.config);
  },

  async check(_olds: any, news: any) {
    const unknown = [
      ...unknownFieldFailures(news, LOAD_BALANCER_FIELDS, [...COMPUTED, ...SDK_INPUTS]),
      ...unknownFieldFailures(news.scheduling, SCHEDULING_FIELDS, [], "scheduling"),
      ...unknownFieldFailuresInList(news.portRules, PORT_RULE_FIELDS, "portRules"),
    ];
    const failures: CheckFailure[] = [
      ...validatorFailures(() => normalizeLoadBalancerInputs(news)),
      ...idFailures(news, "envId"),
      ...connectionFailures(news, this.settings, "apiKey"),
    ];
    return checkResult(news, withoutDuplicates(unknown, failures));
  },

  async diff(_id: string, olds: any, news: any) {
    return diffInputs(olds, news, {
      replace: ["endpoint", "envId", "stackId", "name"],
      update: [...LB_SPEC_FIELDS, "apiKey"],
      nameField: "name",
      stableOutputs: ["loadBalancerId"],
    });
  },

  async create(inputs: any) {
    const conn = connectionFor(inputs, this.settings, "apiKey");
    const lb = await expectOk(conn, "POST", lbPath(inputs.envId), loadBalancerBody(inputs));
    return { id: lb.id as string, outs: outputsOf(inputs, lb) };
  },

  async read(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const lb = await fetchLive(conn, lbPath(props.envId, id));
    if (!lb) return GONE;
    return { id: lb.id as string, props: outputsOf(withDrift(props, lb), lb) };
  },

  async update(id: string, _olds: any, news: any) {
    const conn = connectionFor(news, this.settings, "apiKey");
    // PUT replaces the spec: a field removed from the program goes back to its default.
    const lb = await expectOk(conn, "PUT", lbPath(news.envId, id), loadBalancerBody(news));
    return { outs: outputsOf(news, lb) };
  },

  async delete(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const path = lbPath(props.envId, id);
    const reply = await callApi(conn, "DELETE", path);
    // 404: already gone (deleted by hand, or with its stack or environment).
    if (reply.status === 404 || (reply.status >= 200 && reply.status < 300)) return;
    throw new Error(describeFailure("DELETE", conn.endpoint + path, reply));
  },
};

/**
 * The given inputs, except fields whose normalized value differs from the server's spec:
 * those take the server's value, so the next diff shows the drift (and only the drift).
 */
function withDrift(props: any, lb: any): any {
  return withSpecDrift(props, lb.spec, normalizeLoadBalancerInputs, ["portRules", "certificateIds", "defaultCertificateId", "scale", "global", "labels"]);
}

/** The serialized form: loads `loadBalancerProvider` from the installed drover (see forward.ts). */
export const loadBalancerResourceProvider = forwardingProvider(() => require("drover/dist/provider/load-balancer.js").loadBalancerProvider);

export class LoadBalancer extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  /** The load balancer's id on the server: the resource's own id, known in a preview that updates it. */
  declare readonly loadBalancerId: pulumi.Output<string>;
  declare readonly stackId: pulumi.Output<string>;
  declare readonly envId: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;
  /** False until agents run HAProxy for load balancers. */
  declare readonly served: pulumi.Output<boolean>;
  declare readonly portRules: pulumi.Output<PortRuleInput[]>;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.CustomResourceOptions) {
    const { stack, ...rest } = args;
    const props: Record<string, unknown> = {
      ...(stack ? { stackId: stack.stackId, envId: stack.envId, endpoint: stack.serverUrl, apiKey: stack.apiKey } : {}),
      ...definedOnly(rest),
    };
    for (const k of COMPUTED) props[k] = undefined;
    if (props.apiKey !== undefined) props.apiKey = pulumi.secret(props.apiKey as pulumi.Input<string>);
    super(loadBalancerResourceProvider, name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiKey"],
    }, "drover", "LoadBalancer");
    this.loadBalancerId = this.id;
  }
}
