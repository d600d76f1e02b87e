/**
 * `drover:Environment`: an isolated environment on a drover server, created with the admin
 * key. Its API key and registration token are shown by the server only at creation, so they
 * are kept as secret outputs. The API has no update for environments: every field of the
 * environment itself replaces it.
 */
import * as pulumi from "@pulumi/pulumi";
import { forwardingProvider } from "./forward";
import { validateEnvironmentCreate } from "../runtime/protocol/validate/environment";
import { bodyOf, checkResult, connectionFailures, validatorFailures } from "./check";
import { callApi, describeFailure, expectOk, fetchLive, GONE } from "./client";
import { diffInputs } from "./diff";
import { canonical, sanitize } from "./sanitize";
import { SDK_INPUTS, keysOf, unknownFieldFailures, withoutDuplicates } from "./input-fields";
import { connectionFor, serverUrlFor, settingsFromConfig, type ProviderSettings } from "./settings";
import { pollUntil } from "./wait";

/**
 * provider/machine-intents.ts, loaded when called from the installed drover (a literal
 * require the serializer keeps as one, see forward.ts): the sealing it uses keeps a
 * module-level cache that must not be captured into the serialized provider.
 */
const machineIntents = (): typeof import("./machine-intents") => require("drover/dist/provider/machine-intents.js");

export interface EnvironmentNetworkInput {
  /** The overlay range every container gets its address from. Default "10.42.0.0/16". */
  cidr?: pulumi.Input<string>;
  /** Prefix length of each host's subnet within `cidr`. Default 24 (a /24, 254 containers, per host). */
  hostSubnetPrefix?: pulumi.Input<number>;
}

/**
 * An Environment's inputs. The server cannot change an environment: every field of the
 * environment itself replaces it (with everything in it); only the provider's own settings
 * (`adminKey`, `waitTimeoutSeconds`) update in place.
 */
export interface EnvironmentArgs {
  /** Lowercase letters, digits and dashes (at most 63), unique on the server. Replaces. */
  name: pulumi.Input<string>;
  /** Free text, at most 1024 characters. Replaces. */
  description?: pulumi.Input<string>;
  /** The overlay network's range and per-host subnet size. Replaces. */
  network?: pulumi.Input<EnvironmentNetworkInput>;
  /** The drover server's URL; default: config `drover:endpoint`. Replaces. */
  endpoint?: pulumi.Input<string>;
  /** The server's admin key (kept secret); default: config `drover:adminKey`. In place. */
  adminKey?: pulumi.Input<string>;
  /** Seconds delete waits for the teardown (every container on every host removed). Default 180. In place. */
  waitTimeoutSeconds?: pulumi.Input<number>;
}

const ENVIRONMENT_FIELDS = keysOf<EnvironmentArgs>()(["name", "description", "network", "endpoint", "adminKey", "waitTimeoutSeconds"]);
const NETWORK_FIELDS = keysOf<EnvironmentNetworkInput>()(["cidr", "hostSubnetPrefix"]);

const BODY_FIELDS = ["name", "description", "network"] as const;
// serverUrl: the endpoint actually used (input or config), so dependants get a known value in preview.
const COMPUTED = ["envId", "apiKey", "registrationToken", "state", "serverUrl"] as const;

export const environmentProvider = {
  settings: undefined as ProviderSettings | undefined,

  async configure(req: { config: { get(key: string): string | undefined } }): Promise<void> {
    this.settings = settingsFromConfig(req.config);
  },

  async check(_olds: any, news: any) {
    const unknown = [
      ...unknownFieldFailures(news, ENVIRONMENT_FIELDS, [...COMPUTED, ...SDK_INPUTS]),
      ...unknownFieldFailures(news.network, NETWORK_FIELDS, [], "network"),
    ];
    const failures = [
      ...validatorFailures(() => validateEnvironmentCreate(bodyOf(news, BODY_FIELDS))),
      ...connectionFailures(news, this.settings, "adminKey"),
    ];
    return checkResult({ ...news, serverUrl: serverUrlFor(news, this.settings) }, withoutDuplicates(unknown, failures), ["adminKey"]);
  },

  async diff(_id: string, olds: any, news: any) {
    return diffInputs(olds, news, {
      replace: ["endpoint", ...BODY_FIELDS],
      update: ["adminKey", "waitTimeoutSeconds"],
      nameField: "name",
      stableOutputs: ["envId", "apiKey", "registrationToken", "serverUrl"],
    });
  },

  async create(inputs: any) {
    const conn = connectionFor(inputs, this.settings, "adminKey");
    const env = await expectOk(conn, "POST", "/v1/environments", bodyOf(inputs, BODY_FIELDS));
    return {
      id: env.id as string,
      outs: sanitize({ ...inputs, envId: env.id, apiKey: env.apiKey, registrationToken: env.registrationToken, state: env.state, serverUrl: conn.endpoint }),
    };
  },

  async read(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "adminKey");
    const env = await fetchLive(conn, `/v1/environments/${encodeURIComponent(id)}`);
    if (!env) return GONE;
    // The inputs as given, unless the server holds something else (drift shows in the next diff).
    const outs: Record<string, unknown> = { ...props, envId: env.id, state: env.state, serverUrl: conn.endpoint };
    if (env.name !== props.name) outs.name = env.name;
    if ((env.description ?? undefined) !== (props.description ?? undefined)) outs.description = env.description;
    if (props.network !== undefined && props.network !== null) {
      const given = props.network;
      const server = env.network ?? {};
      const same = Object.keys(given).every((k) => given[k] === undefined || given[k] === null || canonical(given[k]) === canonical(server[k]));
      if (!same) outs.network = server;
    }
    return { id: env.id as string, props: sanitize(outs) };
  },

  async update(_id: string, olds: any, news: any) {
    // Only provider-side fields (the admin key, the wait) can change in place: keep what the server gave.
    const kept: Record<string, unknown> = {};
    for (const k of COMPUTED) kept[k] = olds[k];
    return { outs: sanitize({ ...news, ...kept }) };
  },

  async delete(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "adminKey");
    const path = `/v1/environments/${encodeURIComponent(id)}`;
    // Machines whose Host create was killed before Pulumi recorded it (no resource, so no
    // Host delete ran): found by their intent's tag and removed before the environment goes.
    if (typeof props.apiKey === "string") await machineIntents().sweepMachineIntents(conn, id, props.apiKey);
    const reply = await callApi(conn, "POST", `${path}?action=teardown`, {});
    if (reply.status === 404) return;
    if (reply.status >= 300) throw new Error(describeFailure("POST", `${conn.endpoint}${path}?action=teardown`, reply));
    // The teardown removes every container on every host before the record goes away.
    const timeoutMs = (Number(props.waitTimeoutSeconds) || 180) * 1000;
    await pollUntil(async () => {
      const r = await callApi(conn, "GET", path);
      if (r.status === 404) return { done: true, pending: "" };
      if (r.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, r));
      return { done: false, pending: `environment ${id} is ${r.body.state} (its hosts are removing their containers)` };
    }, { what: `environment ${id} to be torn down`, timeoutMs });
  },
};

/** The serialized form: loads `environmentProvider` from the installed drover (see forward.ts). */
export const environmentResourceProvider = forwardingProvider(() => require("drover/dist/provider/environment.js").environmentProvider);

/** An environment: `envId`, `apiKey` and `registrationToken` for stacks, services and hosts. */
export class Environment extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly endpoint: pulumi.Output<string | undefined>;
  /** The environment's id on the server: the resource's own id, known in a preview that updates it. */
  declare readonly envId: pulumi.Output<string>;
  /** The environment's API key (secret): what its stacks, services and hosts use. */
  declare readonly apiKey: pulumi.Output<string>;
  /** The token agents register with (secret). */
  declare readonly registrationToken: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;
  /** The server URL in use (input or config): known at preview, so dependents see no change. */
  declare readonly serverUrl: pulumi.Output<string>;

  constructor(name: string, args: EnvironmentArgs, opts?: pulumi.CustomResourceOptions) {
    const props: Record<string, unknown> = { ...args };
    for (const k of COMPUTED) props[k] = undefined;
    if (args.adminKey !== undefined) props.adminKey = pulumi.secret(args.adminKey);
    super(environmentResourceProvider, name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiKey", "registrationToken", "adminKey"],
    }, "drover", "Environment");
    this.envId = this.id;
  }
}
