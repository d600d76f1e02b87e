/**
 * `drover:Stack`: a named group of services in an environment. The name is baked into
 * container and DNS names, so a new name (or another environment) replaces the stack; the
 * description and stack-wide discovery update in place.
 */
import * as pulumi from "@pulumi/pulumi";
import { forwardingProvider } from "./forward";
import { validateStackCreate } from "../runtime/protocol/validate/stack";
import { bodyOf, checkResult, connectionFailures, idFailures, validatorFailures } from "./check";
import { callApi, describeFailure, expectOk, fetchLive, GONE } from "./client";
import { diffInputs } from "./diff";
import type { Environment } from "./environment";
import { sanitize } from "./sanitize";
import { SDK_INPUTS, keysOf, unknownFieldFailures, withoutDuplicates } from "./input-fields";
import { connectionFor, serverUrlFor, settingsFromConfig, type ProviderSettings } from "./settings";
import { pollUntil } from "./wait";
import { COMPOSE_FIELDS, composeSummary, readComposeInputs, waitStackConverged } from "./stack-compose";

export interface StackArgs {
  /**
   * The stack's name in its environment: lowercase letters, digits and dashes (at most 63).
   * Part of every container and DNS name of its services (`svc.stack`). Changing it replaces the stack.
   */
  name: pulumi.Input<string>;
  /** Free text, at most 1024 characters. In place. */
  description?: pulumi.Input<string>;
  /** Every container of the stack resolves every service of the stack by name, links or not (Rancher's stack-wide discovery). Default false. In place. */
  stackWideDiscovery?: pulumi.Input<boolean>;
  /** The environment: fills envId, endpoint and apiKey from its outputs. */
  environment?: Environment;
  /** The environment's id (when `environment` is not given). Replaces. */
  envId?: pulumi.Input<string>;
  /** The drover server's URL; default: config `drover:endpoint`. Replaces. */
  endpoint?: pulumi.Input<string>;
  /** The environment's API key (kept secret); default: config `drover:apiKey`. In place. */
  apiKey?: pulumi.Input<string>;
  /**
   * Seconds delete waits for the stack's services to be removed (default 120), and create or
   * update wait for the services of `dockerCompose` to converge (default 300). In place.
   */
  waitTimeoutSeconds?: pulumi.Input<number>;
  /**
   * A docker-compose.yml (versions 1, 2, 3), as text: its services become the stack's, the way
   * Rancher imported a stack (`fs.readFileSync("docker-compose.yml", "utf8")`). Checked at
   * preview (file, line and column of a problem); the services it makes show in the preview
   * as `composeServices`; keys drover does not act on are logged as warnings by path.
   * A change updates the stack's services in place (rolling upgrades where containers change);
   * services the file no longer mentions are left as they are.
   */
  dockerCompose?: pulumi.Input<string>;
  /** The matching rancher-compose.yml (scale, health_check, upgrade_strategy, lb_config), as text. In place. */
  rancherCompose?: pulumi.Input<string>;
  /** The env files docker-compose.yml names in `env_file`, by the path it writes: path → file text. In place. */
  envFiles?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

const STACK_FIELDS = keysOf<StackArgs>()(["name", "description", "stackWideDiscovery", "environment", "envId", "endpoint", "apiKey", "waitTimeoutSeconds", "dockerCompose", "rancherCompose", "envFiles"]);
const BODY_FIELDS = ["name", "description", "stackWideDiscovery"] as const;
const COMPUTED = ["stackId", "state", "serverUrl", "composeServices"] as const;

const stackPath = (envId: string, id?: string) =>
  `/v1/environments/${encodeURIComponent(envId)}/stacks${id === undefined ? "" : `/${encodeURIComponent(id)}`}`;

export const stackProvider = {
  settings: undefined as ProviderSettings | undefined,

  async configure(req: { config: { get(key: string): string | undefined } }): Promise<void> {
    this.settings = settingsFromConfig(req.config);
  },

  async check(_olds: any, news: any) {
    const unknown = unknownFieldFailures(news, STACK_FIELDS, [...COMPUTED, ...SDK_INPUTS]);
    const compose = readComposeInputs(news);
    const failures = [
      ...validatorFailures(() => validateStackCreate(bodyOf(news, BODY_FIELDS), [])),
      ...compose.failures,
      ...idFailures(news, "envId"),
      ...connectionFailures(news, this.settings, "apiKey"),
    ];
    const composeServices = compose.stack ? { composeServices: composeSummary(compose.stack) } : {};
    return checkResult({ ...news, serverUrl: serverUrlFor(news, this.settings), ...composeServices }, withoutDuplicates(unknown, failures), ["apiKey"]);
  },

  async diff(_id: string, olds: any, news: any) {
    return diffInputs(olds, news, {
      replace: ["endpoint", "envId", "name"],
      update: ["description", "stackWideDiscovery", "apiKey", "waitTimeoutSeconds", "dockerCompose", "rancherCompose", "envFiles", "composeServices"],
      nameField: "name",
      stableOutputs: ["stackId", "serverUrl"],
    });
  },

  async create(inputs: any) {
    const conn = connectionFor(inputs, this.settings, "apiKey");
    if (typeof inputs.dockerCompose !== "string") {
      const stack = await expectOk(conn, "POST", stackPath(inputs.envId), bodyOf(inputs, BODY_FIELDS));
      return { id: stack.id as string, outs: sanitize({ ...inputs, stackId: stack.id, state: stack.state, serverUrl: conn.endpoint }) };
    }
    // A new stack with the files' services, in one write on the server.
    const imported = await expectOk(conn, "POST", stackPath(inputs.envId), bodyOf(inputs, [...BODY_FIELDS, ...COMPOSE_FIELDS]));
    await waitStackConverged(conn, inputs.envId, imported.stack.id, (Number(inputs.waitTimeoutSeconds) || 300) * 1000);
    return { id: imported.stack.id as string, outs: sanitize({ ...inputs, stackId: imported.stack.id, state: imported.stack.state, serverUrl: conn.endpoint }) };
  },

  async read(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const stack = await fetchLive(conn, stackPath(props.envId, id));
    if (!stack) return GONE;
    const outs: Record<string, unknown> = { ...props, stackId: stack.id, state: stack.state, serverUrl: conn.endpoint };
    if (stack.name !== props.name) outs.name = stack.name;
    if ((stack.description ?? "") !== (props.description ?? "")) outs.description = stack.description;
    if ((stack.stackWideDiscovery === true) !== (props.stackWideDiscovery === true)) outs.stackWideDiscovery = stack.stackWideDiscovery === true;
    return { id: stack.id as string, props: sanitize(outs) };
  },

  async update(id: string, _olds: any, news: any) {
    const conn = connectionFor(news, this.settings, "apiKey");
    // PUT replaces: a description removed from the program is removed on the server.
    const stack = await expectOk(conn, "PUT", stackPath(news.envId, id), bodyOf(news, BODY_FIELDS));
    if (typeof news.dockerCompose === "string") {
      await expectOk(conn, "POST", `${stackPath(news.envId)}?action=import`, bodyOf(news, ["name", ...COMPOSE_FIELDS]));
      await waitStackConverged(conn, news.envId, id, (Number(news.waitTimeoutSeconds) || 300) * 1000);
    }
    return { outs: sanitize({ ...news, stackId: stack.id, state: stack.state, serverUrl: conn.endpoint }) };
  },

  async delete(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const path = stackPath(props.envId, id);
    const reply = await callApi(conn, "DELETE", path);
    if (reply.status === 404) return;
    if (reply.status >= 300) throw new Error(describeFailure("DELETE", conn.endpoint + path, reply));
    // Its services' containers go first; the stack record is purged after them.
    await pollUntil(async () => {
      const r = await callApi(conn, "GET", path);
      if (r.status === 404) return { done: true, pending: "" };
      if (r.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, r));
      return { done: false, pending: `stack ${id} is ${r.body.state} (its services' instances are being removed)` };
    }, { what: `stack ${id} to be removed`, timeoutMs: (Number(props.waitTimeoutSeconds) || 120) * 1000 });
  },
};

/** Keys given as undefined must not hide the ones taken from a parent resource. */
export function definedOnly(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/** The serialized form: loads `stackProvider` from the installed drover (see forward.ts). */
export const stackResourceProvider = forwardingProvider(() => require("drover/dist/provider/stack.js").stackProvider);

export class Stack extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly envId: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string | undefined>;
  declare readonly apiKey: pulumi.Output<string | undefined>;
  /** The stack's id on the server: the resource's own id, known in a preview that updates the stack. */
  declare readonly stackId: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;
  /** The server URL in use (input or config): known at preview, so services see no change. */
  declare readonly serverUrl: pulumi.Output<string>;
  /** With dockerCompose: one line per service and load balancer the files make (shown in the preview). */
  declare readonly composeServices: pulumi.Output<string[] | undefined>;

  constructor(name: string, args: StackArgs, opts?: pulumi.CustomResourceOptions) {
    const { environment, ...rest } = args;
    const props: Record<string, unknown> = {
      ...(environment ? { envId: environment.envId, endpoint: environment.serverUrl, apiKey: environment.apiKey } : {}),
      ...definedOnly(rest),
    };
    for (const k of COMPUTED) props[k] = undefined;
    if (props.apiKey !== undefined) props.apiKey = pulumi.secret(props.apiKey as pulumi.Input<string>);
    super(stackResourceProvider, name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiKey"],
    }, "drover", "Stack");
    this.stackId = this.id;
    if (args.dockerCompose !== undefined) logComposeWarnings(this, args);
  }
}

/** The reader's warnings (keys drover does not act on, by path) as Pulumi diagnostics on the stack. */
function logComposeWarnings(resource: pulumi.Resource, args: StackArgs): void {
  pulumi.all([args.dockerCompose, args.rancherCompose, args.envFiles]).apply(([dockerCompose, rancherCompose, envFiles]) => {
    const { stack } = readComposeInputs({ dockerCompose, rancherCompose, envFiles });
    const { warningText } = require("../runtime/compose") as typeof import("../runtime/compose");
    for (const w of stack?.warnings ?? []) pulumi.log.warn(`compose: ${warningText(w)}`, resource);
  });
}
