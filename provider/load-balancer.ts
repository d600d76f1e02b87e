/**
 * `drover:LoadBalancer`: port rules in front of services of the environment, served by
 * HAProxy on `scale` hosts or on every host (`global`), with certificates for https rules.
 * Its stack and name are fixed (replace); everything else updates in place. Output `served`
 * says whether one of its HAProxy instances serves the current rules. Delete waits until the
 * server has stopped its instances and removed it (its name is taken until then).
 */
import * as pulumi from "@pulumi/pulumi";
import { forwardingProvider } from "./forward";
import { withSpecDrift } from "./spec-drift";
import { checkResult, connectionFailures, idFailures, validatorFailures, type CheckFailure } from "./check";
import { callApi, describeFailure, expectOk, fetchLive, GONE } from "./client";
import { diffInputs } from "./diff";
import { LB_DRIFT_FIELDS, LB_SPEC_FIELDS, loadBalancerBody, normalizeLoadBalancerInputs } from "./load-balancer-spec";
import { SDK_INPUTS, keysOf, unknownFieldFailures, unknownFieldFailuresInList, withoutDuplicates } from "./input-fields";
import { sanitize } from "./sanitize";
import { SCHEDULING_FIELDS, type SchedulingInput } from "./scheduling-input";
import { connectionFor, settingsFromConfig, type ProviderSettings } from "./settings";
import { definedOnly, type Stack } from "./stack";
import { containsUnknown } from "./unknown";
import { pollUntil } from "./wait";

export interface PortRuleInput {
  /** The port HAProxy listens on, on every address of its hosts. */
  sourcePort: pulumi.Input<number>;
  /**
   * http (default): routes by Host header and path; https: the same behind TLS that HAProxy
   * ends with the load balancer's certificates; tcp: plain TCP; tls: TLS passed through
   * untouched, routed by the SNI name in `hostname`. One protocol per source port.
   */
  protocol?: pulumi.Input<"http" | "https" | "tcp" | "tls">;
  /** http/https: the Host header to match; tls: the SNI name. `*.example.com` and `example.*` wildcards. */
  hostname?: pulumi.Input<string>;
  /** http/https only: a path prefix, starting with `/`. */
  path?: pulumi.Input<string>;
  /** The target Service's `serviceId`. */
  targetServiceId: pulumi.Input<string>;
  /** The container port of the target service (1-65535). */
  targetPort: pulumi.Input<number>;
  /** Lower numbers match first among rules on the same source port. */
  priority?: pulumi.Input<number>;
  /** tcp/tls only: send the client's address to the backend in a PROXY protocol v1 header. */
  proxyProtocol?: pulumi.Input<boolean>;
}

/** Keep a client on one backend server: HAProxy inserts this cookie (http/https rules only). */
export interface StickinessInput {
  /** The cookie's name, an RFC 6265 token such as `SRV_ID`. */
  cookie: pulumi.Input<string>;
}

/** HAProxy's timeouts in milliseconds, each 1 to 3600000. */
export interface TimeoutsInput {
  /** Connecting to a backend server (default 5000). */
  connect?: pulumi.Input<number>;
  /** A client's inactivity (default 50000). */
  client?: pulumi.Input<number>;
  /** A server's inactivity (default 50000). */
  server?: pulumi.Input<number>;
}

/** A LoadBalancer's inputs. Its name, stack, environment and server replace it; everything else updates in place. */
export interface LoadBalancerArgs {
  /** Unique within the stack (shared with services). Changing it replaces the load balancer. */
  name: pulumi.Input<string>;
  /** Where requests go: at least one rule. */
  portRules: pulumi.Input<pulumi.Input<PortRuleInput>[]>;
  /** Certificates offered by SNI on https rules: `Certificate` resources' `certificateId`s. An https rule needs one. */
  certificateIds?: pulumi.Input<pulumi.Input<string>[]>;
  /** One of certificateIds, for clients whose SNI name matches none (default: the first). */
  defaultCertificateId?: pulumi.Input<string>;
  /** Number of HAProxy instances (default 1); ignored when `global`. */
  scale?: pulumi.Input<number>;
  /** One HAProxy on every host the scheduling rules allow. */
  global?: pulumi.Input<boolean>;
  /** Labels of its instances; `io.rancher.scheduler.*` labels are scheduling rules (Rancher's syntax). */
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Where its instances may and should go (as for a Service). */
  scheduling?: pulumi.Input<SchedulingInput>;
  stickiness?: pulumi.Input<StickinessInput>;
  timeouts?: pulumi.Input<TimeoutsInput>;
  /** How long a leaving backend instance gets no new connections before it is stopped: 0 to 600000 ms, default 2000. */
  drainTimeoutMillis?: pulumi.Input<number>;
  /** How long delete waits for the server to stop the HAProxy instances and remove it (default 120). */
  waitTimeoutSeconds?: pulumi.Input<number>;
  /** Fills stackId, envId, endpoint and apiKey from the stack's outputs. */
  stack?: Stack;
  stackId?: pulumi.Input<string>;
  envId?: pulumi.Input<string>;
  /** Default: config `drover:endpoint`. */
  endpoint?: pulumi.Input<string>;
  /** The environment's API key (kept secret); default: config `drover:apiKey`. */
  apiKey?: pulumi.Input<string>;
}

const PORT_RULE_FIELDS = keysOf<PortRuleInput>()(["sourcePort", "protocol", "hostname", "path", "targetServiceId", "targetPort", "priority", "proxyProtocol"]);
const LOAD_BALANCER_FIELDS = keysOf<LoadBalancerArgs>()([
  "name", "portRules", "certificateIds", "defaultCertificateId", "scale", "global", "labels", "scheduling",
  "stickiness", "timeouts", "drainTimeoutMillis", "waitTimeoutSeconds",
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
    const spec = validatorFailures(() => normalizeLoadBalancerInputs(news))
      // A default certificate can only be checked against certificateIds once they are known.
      .filter((f) => !(f.property === "defaultCertificateId" && containsUnknown(news.certificateIds)));
    const failures: CheckFailure[] = [
      ...spec,
      ...idFailures(news, "envId"),
      ...connectionFailures(news, this.settings, "apiKey"),
    ];
    return checkResult(news, withoutDuplicates(unknown, failures), ["apiKey"]);
  },

  async diff(_id: string, olds: any, news: any) {
    return diffInputs(olds, news, {
      replace: ["endpoint", "envId", "stackId", "name"],
      update: [...LB_SPEC_FIELDS, "apiKey", "waitTimeoutSeconds"],
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
    if (reply.status === 404) return;
    if (reply.status >= 300) throw new Error(describeFailure("DELETE", conn.endpoint + path, reply));
    // The server stops its HAProxy instances, then removes the record (and frees the name a replacement may reuse).
    await pollUntil(async () => {
      const r = await callApi(conn, "GET", path);
      if (r.status === 404) return { done: true, pending: "" };
      if (r.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, r));
      const running = Array.isArray(r.body.instances) ? r.body.instances.length : 0;
      return { done: false, pending: `load balancer ${r.body.name} is ${r.body.state} (${running} HAProxy instance${running === 1 ? "" : "s"} left)` };
    }, { what: `load balancer ${id} to be removed`, timeoutMs: (Number(props.waitTimeoutSeconds) || 120) * 1000 });
  },
};

/**
 * The given inputs, except fields whose normalized value differs from the server's spec:
 * those take the server's value, so the next diff shows the drift (and only the drift).
 */
function withDrift(props: any, lb: any): any {
  return withSpecDrift(props, lb.spec, normalizeLoadBalancerInputs, LB_DRIFT_FIELDS);
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
  /** One of its HAProxy instances serves the current rules. */
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
