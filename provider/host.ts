/**
 * `drover:Host`: a machine running drover's agent, registered in an environment. The driver
 * reaches the machine (ssh: an existing one over ssh; local: this machine), installs the
 * agent and starts it as a service; create returns once the server reports the host active.
 *
 * In place: labels (the API's PATCH; the scheduler moves only instances whose hard rules no
 * longer hold, and the agent's launch file gets them for any later registration), credentials
 * (the ssh key and pinned host key, proven by connecting during the update, not found wrong
 * at delete; the registration token; the API key), and the agent itself: check() adds
 * `state: "active"` to the inputs, so after a refresh found the host reconnecting or
 * disconnected, the diff shows `state: "disconnected" => "active"` and `up` bootstraps the
 * agent again. Its name, environment, server and where/how the agent runs replace it, and a
 * replace always removes the old host first (`deleteBeforeReplace`, also for `pulumi up
 * --replace`, where the engine does not ask diff()): names are unique in an environment, and
 * a new agent on the same machine and state dir would take over the old one's identity.
 */
import * as pulumi from "@pulumi/pulumi";
import { forwardingProvider } from "./forward";
import { checkResult, connectionFailures, idFailures } from "./check";
import { callApi, describeFailure, fetchLive, GONE } from "./client";
import { driverFor } from "./drivers";
import { hostStepMessage, oneLineError } from "./drivers/step-error";
import { withHostErrors } from "./host-errors";
import type { HostDriver, LocalDriverInputs, SshDriverInputs } from "./drivers/types";
import type { DigitalOceanDriverInputs } from "./drivers/digitalocean/inputs";
import type { Environment } from "./environment";
import { hostFailures } from "./host-check";
import { hostsPath, removeHost, waitHostActive } from "./host-api";
import { sendMachineAccess } from "./machine-access";
import { canonical, sanitize } from "./sanitize";
import { SDK_INPUTS, keysOf, unknownFieldFailures } from "./input-fields";
import { connectionFor, settingsFromConfig, type Connection, type ProviderSettings } from "./settings";
import { definedOnly } from "./stack";
import { containsUnknown, isUnknown } from "./unknown";

/**
 * provider/machine-intents.ts, loaded when called from the installed drover (a literal
 * require the serializer keeps as one, see forward.ts): the sealing it uses keeps a
 * module-level cache that must not be captured into the serialized provider.
 */
const machineIntents = (): typeof import("./machine-intents") => require("drover/dist/provider/machine-intents.js");

/** Each field may be an Input, except `type`: a plain literal lets TypeScript tell the drivers apart (and name a field of the wrong one). */
type DriverArgs<D extends { type: string }> = { [K in keyof D]: K extends "type" ? D[K] : pulumi.Input<D[K]> };
export interface SshDriverArgs extends DriverArgs<SshDriverInputs> {}
export interface LocalDriverArgs extends DriverArgs<LocalDriverInputs> {}
export interface DigitalOceanDriverArgs extends DriverArgs<DigitalOceanDriverInputs> {}

/**
 * A Host's inputs. Its name, environment, server and driver placement replace it (the old
 * host is removed first, with its containers); labels, credentials (`driver.privateKey`,
 * `driver.hostKey`, `apiKey`, `registrationToken`) and `waitTimeoutSeconds` update in place.
 */
export interface HostArgs {
  /** The host name the agent registers under (unique in the environment): letters, digits, dashes and dots. Replaces. */
  name: pulumi.Input<string>;
  /**
   * Host labels, name → value, for scheduling rules (`hostLabels: { zone: "a" }`). No `,` `&` `'`
   * in values. In place: instances whose hard host-label rules no longer hold move to hosts
   * that take them; the others stay. `io.drover.scheduler.docker_disk_reserve` (`2GiB`, `10%`,
   * `0`) sets the free space below which the host takes no new instances (default max(1 GiB, 5%)).
   */
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * How drover reaches the machine: `{ type: "ssh", address, privateKey, ... }`, `{ type: "local" }`, or
   * `{ type: "digitalocean", region, size, image, token?, ... }` (drover creates the droplet and destroys it with the host). Kept secret.
   */
  driver: pulumi.Input<SshDriverArgs | LocalDriverArgs | DigitalOceanDriverArgs>;
  /** The environment: fills envId, endpoint, apiKey and registrationToken from its outputs. */
  environment?: Environment;
  /** The environment's id (when `environment` is not given). Replaces. */
  envId?: pulumi.Input<string>;
  /** The drover server's URL, as the machine reaches it; default: config `drover:endpoint`. Replaces. */
  endpoint?: pulumi.Input<string>;
  /** The environment's API key (kept secret): to watch and remove the host; default: config `drover:apiKey`. In place. */
  apiKey?: pulumi.Input<string>;
  /** The environment's registration token (kept secret). In place. */
  registrationToken?: pulumi.Input<string>;
  /** Seconds create waits for the host to become active, and delete for its removal. Default 180. In place. */
  waitTimeoutSeconds?: pulumi.Input<number>;
}

const HOST_FIELDS = keysOf<HostArgs>()(["name", "labels", "driver", "environment", "envId", "endpoint", "apiKey", "registrationToken", "waitTimeoutSeconds"]);

const COMPUTED = [
  "hostId", "state", "underlayIp", "subnet", "agentVersion", "dockerVersion", "agentService", "sshHostKey",
  // A cloud driver's machine (digitalocean): `machine` (secret) is what delete needs to reach and remove it.
  "machine", "dropletId", "publicIp", "privateIp", "region", "size", "sshFingerprint",
  // true while the machine's login has not reached the server (its save failed): update and refresh send it again.
  // Not stable: the update that resends it clears it.
  "machineAccessPending",
] as const;
/** Outputs that only a cloud driver's provision sets, kept from create to the delete. */
const MACHINE_OUTPUTS = ["machine", "dropletId", "publicIp", "privateIp", "region", "size", "sshFingerprint"];
/** Driver fields that only let the provider in: changing them changes nothing on the machine. */
const DRIVER_CREDENTIALS = ["privateKey", "hostKey", "token"];
/** Inputs a check failure must not quote (the driver holds the private key). */
const SECRET_INPUTS = ["driver", "apiKey", "registrationToken"];
/** What the program asks of every host: an agent that is connected. */
const WANTED_STATE = "active";
/** Labels drover sets on every host itself; they are not the user's. */
const SYSTEM_LABEL = /^io\.rancher\.host\.|^io\.drover\.host\./;

const timeoutOf = (inputs: any) => (Number(inputs.waitTimeoutSeconds) || 180) * 1000;
/** What a cloud driver needs besides its inputs: the environment (its tag), the wait, the machine it made (from the state). */
const cloudOf = (inputs: any, state?: any) => ({ envId: String(inputs.envId ?? ""), waitMs: timeoutOf(inputs), machine: state?.machine });
/** The machine outputs of an earlier state, carried into new outputs. */
const machineOf = (state: any) => Object.fromEntries(MACHINE_OUTPUTS.filter((k) => state?.[k] !== undefined).map((k) => [k, state[k]]));

/** `sshHostKey`: the ssh host key fingerprint seen at the first connection, kept for trust on first use. */
function outputsOf(inputs: any, host: any, agentService: unknown, sshHostKey?: unknown, machine: Record<string, unknown> = {}) {
  return sanitize({
    ...inputs,
    ...machine,
    hostId: host.id, state: host.state, underlayIp: host.underlayIp, subnet: host.subnet,
    agentVersion: host.agentVersion, dockerVersion: host.dockerVersion, agentService,
    ...(sshHostKey ? { sshHostKey } : {}),
  });
}

/** The driver without its credentials: what decides where and how the agent runs. */
function placementOf(driver: any): any {
  if (typeof driver !== "object" || driver === null) return driver;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(driver)) if (!DRIVER_CREDENTIALS.includes(k)) out[k] = v;
  return out;
}

export function userLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !SYSTEM_LABEL.test(k)));
}

/** Sends a cloud machine's login that the create could not save; false when it fails again. */
async function resendMachineAccess(conn: Parameters<typeof sendMachineAccess>[0], props: any, id: string): Promise<boolean> {
  if (!props.machine) return true;
  try {
    await sendMachineAccess(conn, props.envId, id, props.machine, props.sshHostKey);
    return true;
  } catch {
    return false;
  }
}

export const hostProvider = withHostErrors({
  settings: undefined as ProviderSettings | undefined,

  async configure(req: { config: { get(key: string): string | undefined } }): Promise<void> {
    this.settings = settingsFromConfig(req.config);
  },

  async check(_olds: any, news: any) {
    const failures = [
      ...unknownFieldFailures(news, HOST_FIELDS, [...COMPUTED, ...SDK_INPUTS]),
      ...hostFailures(news),
      ...idFailures(news, "envId"),
      ...connectionFailures(news, this.settings, "apiKey"),
    ];
    return checkResult({ ...news, state: WANTED_STATE }, failures, SECRET_INPUTS);
  },

  async diff(_id: string, olds: any, news: any) {
    const changed = (a: unknown, b: unknown) => containsUnknown(b) || canonical(a ?? null) !== canonical(b ?? null);
    const replaces = ["endpoint", "envId", "name"].filter((k) => changed(olds[k], news[k]));
    if (isUnknown(news.driver) || changed(placementOf(olds.driver), placementOf(news.driver))) replaces.push("driver");
    const credentials = isUnknown(news.driver) ? false : DRIVER_CREDENTIALS.some((k) => changed(olds.driver?.[k], news.driver?.[k]));
    const updates = ["apiKey", "registrationToken", "waitTimeoutSeconds"].filter((k) => changed(olds[k], news[k]));
    // Labels: stored as given, so an absent map and an empty one are the same.
    if (changed(olds.labels ?? {}, news.labels ?? {})) updates.push("labels");
    // A refresh found the agent gone (reconnecting, disconnected): `up` bootstraps it again.
    if (typeof olds.state === "string" && olds.state !== WANTED_STATE) updates.push("state");
    // The machine's login did not reach the server at create: `up` sends it again (update).
    if (olds.machineAccessPending === true) updates.push("machineAccessPending");
    return {
      changes: replaces.length > 0 || updates.length > 0 || credentials,
      replaces,
      stables: [...["endpoint", "envId", "name"].filter((k) => !replaces.includes(k)), ...(replaces.length === 0 ? COMPUTED.filter((k) => k !== "machineAccessPending") : [])],
      // Always remove first: names are unique in the environment, and a new agent on the same
      // machine and state dir would stop the old one and keep its identity.
      deleteBeforeReplace: replaces.length > 0,
    };
  },

  async create(inputs: any) {
    const conn = connectionFor(inputs, this.settings, "apiKey");
    const driver = driverFor(inputs.driver, inputs.name, undefined, cloudOf(inputs));
    const intent = driver.intent?.();
    if (!intent) return this.createOn(conn, driver, inputs);
    // Recorded before the first cloud call: a create killed from here on leaves it, and the
    // Environment's delete sweeps the machine by its tag (provider/machine-intents.ts).
    await machineIntents().recordMachineIntent(conn, inputs.envId, inputs.apiKey, inputs.name, intent);
    try {
      return await this.createOn(conn, driver, inputs);
    } finally {
      // Ended: the host is in the state (fully or partially created), or its machine was removed.
      await machineIntents().clearMachineIntent(conn, inputs.envId, inputs.name).catch(() => undefined);
    }
  },

  async createOn(conn: Connection, driver: HostDriver, inputs: any) {
    // A cloud driver makes the machine first (and removes it again if the create fails below).
    const machine = (driver.provision ? (await driver.provision()).outputs : undefined) ?? {};
    let report: Awaited<ReturnType<typeof driver.bootstrap>>;
    try {
      report = await driver.bootstrap({
        url: conn.endpoint, registrationToken: inputs.registrationToken, hostname: inputs.name, labels: inputs.labels ?? {},
        // The agent pins the server's CA as the provider does (drover:caFingerprint).
        ...(conn.caFingerprint ? { caFingerprint: conn.caFingerprint } : {}),
      });
    } catch (err) {
      await driver.deprovision?.().catch(() => undefined);
      throw err;
    }
    let host: any;
    try {
      host = await waitHostActive(conn, inputs.envId, inputs.name, timeoutOf(inputs), () => driver.logTail(20));
    } catch (err: any) {
      const message = hostStepMessage(inputs.name, driver.describe, err);
      if (!err?.host) {
        // Never registered: nothing on the server to record; stop the agent so nothing runs unrecorded, and remove a machine made for it.
        await driver.uninstall().catch(() => undefined);
        await driver.deprovision?.().catch(() => undefined);
        throw oneLineError(message);
      }
      // Registered but not active: recorded as partially created, so `up` retries and `destroy` removes it (and its machine).
      throw oneLineError(message, { id: err.host.id, properties: { ...outputsOf(inputs, err.host, report.service, report.hostKey, machine), __provider: inputs.__provider } });
    }
    if (machine.machine) {
      // The login of the machine drover made, for the host's config download (`drover ssh`).
      try {
        await sendMachineAccess(conn, inputs.envId, host.id, machine.machine, report.hostKey);
      } catch (err) {
        // The host is active: recorded with the login pending, so the next `up` or refresh sends it again.
        const outs = { ...outputsOf(inputs, host, report.service, report.hostKey, machine), machineAccessPending: true };
        throw oneLineError(hostStepMessage(inputs.name, driver.describe, err), { id: host.id, properties: { ...outs, __provider: inputs.__provider } });
      }
    }
    return { id: host.id as string, outs: outputsOf(inputs, host, report.service, report.hostKey, machine) };
  },

  /**
   * The host as the server has it: drifted labels or name, its real state. The inputs are
   * returned too (outputs minus what is only an output), so the next preview shows what
   * differs from the program, `state: "disconnected" => "active"` included.
   */
  async read(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    // A cloud host: whatever a crash left under its drover tag (a second droplet, an old key) goes now.
    if (props.machine) await driverFor(props.driver, props.name, props.sshHostKey, cloudOf(props, props)).removeStrays?.();
    const host = await fetchLive(conn, hostsPath(props.envId, id));
    if (!host) return GONE;
    // The inputs as given, unless the server holds other labels or another name (drift shows in the next diff).
    const outs: Record<string, unknown> = { ...props };
    const labels = userLabels(host.labels);
    if (canonical(labels) !== canonical(props.labels ?? {})) outs.labels = labels;
    if (host.name !== props.name) outs.name = host.name;
    if (props.machineAccessPending === true) {
      // Sent again; still failing, it stays pending (the refresh itself goes on).
      delete outs.machineAccessPending;
      if (!(await resendMachineAccess(conn, props, id))) outs.machineAccessPending = true;
    }
    const out = outputsOf(outs, host, props.agentService, props.sshHostKey);
    const inputs = Object.fromEntries(Object.entries(out).filter(([k]) => k === "state" || !(COMPUTED as readonly string[]).includes(k)));
    return { id: host.id as string, props: out, inputs };
  },

  /**
   * In place: new credentials are proven by connecting with them; labels go to the server
   * (PATCH) and into the agent's launch file; a host whose agent is gone (not active on the
   * server) gets its agent bootstrapped again, and the update returns once it is active.
   */
  async update(id: string, olds: any, news: any) {
    const conn = connectionFor(news, this.settings, "apiKey");
    const changed = (a: unknown, b: unknown) => canonical(a ?? null) !== canonical(b ?? null);
    const driver = driverFor(news.driver, news.name, olds.sshHostKey, cloudOf(news, olds));
    const launch = { url: conn.endpoint, registrationToken: news.registrationToken, hostname: news.name, labels: news.labels ?? {} };
    const path = hostsPath(news.envId, id);
    let host = await fetchLive(conn, path);
    if (!host) throw new Error(`host ${news.name} (${id}) is no longer on the server: run \`pulumi refresh\`, then \`pulumi up\` creates it again`);
    const repair = host.state !== "active";
    const credentials = DRIVER_CREDENTIALS.some((k) => changed(olds.driver?.[k], news.driver?.[k]));
    const relaunch = changed(olds.labels ?? {}, news.labels ?? {}) || changed(olds.registrationToken, news.registrationToken);
    // New credentials first, before anything changes: a wrong key fails this update, naming it.
    if (credentials && !repair) await driver.verify?.();
    if (canonical(userLabels(host.labels)) !== canonical(news.labels ?? {})) {
      const reply = await callApi(conn, "PATCH", path, { labels: news.labels ?? {} });
      if (reply.status !== 200) throw new Error(describeFailure("PATCH", conn.endpoint + path, reply));
      host = reply.body;
    }
    let agentService = olds.agentService;
    if (repair) {
      // Stops whatever is left of the agent and starts it again; it keeps its saved identity.
      agentService = (await driver.bootstrap(launch)).service;
      try {
        host = await waitHostActive(conn, news.envId, news.name, timeoutOf(news), () => driver.logTail(20));
      } catch (err: any) {
        throw oneLineError(hostStepMessage(news.name, driver.describe, err));
      }
    } else if (relaunch) {
      await driver.updateLaunch(launch);
    }
    if (olds.machineAccessPending === true && olds.machine) {
      // The login the create could not save: sent now, and this update fails (pending kept) if it cannot be.
      try {
        await sendMachineAccess(conn, news.envId, id, olds.machine, olds.sshHostKey);
      } catch (err) {
        throw oneLineError(hostStepMessage(news.name, driver.describe, err));
      }
    }
    return { outs: outputsOf(news, host, agentService, olds.sshHostKey, machineOf(olds)) };
  },

  async delete(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    // The host key recorded at the first connection: a machine answering with another is refused.
    const driver = driverFor(props.driver, props.name, props.sshHostKey, cloudOf(props, props));
    // After its teardown the agent forgets its identity: without the token a restart cannot register anew.
    await driver.disarm();
    await removeHost(conn, props.envId, id, timeoutOf(props));
    // The agent exits by itself after its teardown; this stops it if it did not and removes the service.
    await driver.uninstall();
    // A cloud driver's machine goes last: the droplet, its SSH key on the account, anything left under its tag.
    await driver.deprovision?.();
  },
});

/** The serialized form: loads `hostProvider` from the installed drover (see forward.ts). */
export const hostResourceProvider = forwardingProvider(() => require("drover/dist/provider/host.js").hostProvider);

export class Host extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly envId: pulumi.Output<string>;
  declare readonly labels: pulumi.Output<Record<string, string> | undefined>;
  /** The host's id on the server: the resource's own id, known in a preview that updates the host. */
  declare readonly hostId: pulumi.Output<string>;
  declare readonly state: pulumi.Output<string>;
  declare readonly underlayIp: pulumi.Output<string | undefined>;
  declare readonly subnet: pulumi.Output<string>;
  declare readonly agentVersion: pulumi.Output<string>;
  declare readonly dockerVersion: pulumi.Output<string>;
  /** "systemd" or "supervisor": what keeps the agent running on the machine. */
  declare readonly agentService: pulumi.Output<string>;
  /** ssh: the host key fingerprint seen at the first connection; later connections must see the same (unless driver.hostKey pins another). */
  declare readonly sshHostKey: pulumi.Output<string | undefined>;
  /** digitalocean: the droplet's id, addresses, region and size, and the MD5 fingerprint of drover's per-host SSH key on the account. */
  declare readonly dropletId: pulumi.Output<number | undefined>;
  declare readonly publicIp: pulumi.Output<string | undefined>;
  declare readonly privateIp: pulumi.Output<string | undefined>;
  declare readonly region: pulumi.Output<string | undefined>;
  declare readonly size: pulumi.Output<string | undefined>;
  declare readonly sshFingerprint: pulumi.Output<string | undefined>;

  constructor(name: string, args: HostArgs, opts?: pulumi.CustomResourceOptions) {
    const { environment, ...rest } = args;
    const props: Record<string, unknown> = {
      ...(environment ? {
        envId: environment.envId, endpoint: environment.serverUrl, apiKey: environment.apiKey, registrationToken: environment.registrationToken,
      } : {}),
      ...definedOnly(rest),
    };
    for (const k of COMPUTED) props[k] = undefined;
    // The driver holds the private key: the whole map is kept secret, in inputs and outputs.
    for (const k of ["apiKey", "registrationToken", "driver"]) {
      if (props[k] !== undefined) props[k] = pulumi.secret(props[k] as pulumi.Input<unknown>);
    }
    super(hostResourceProvider, name, props, {
      ...opts,
      // Remove the old host before its replacement registers (see the file's comment).
      deleteBeforeReplace: opts?.deleteBeforeReplace ?? true,
      // `machine` holds a cloud host's private SSH key.
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "apiKey", "registrationToken", "driver", "machine"],
    }, "drover", "Host");
    this.hostId = this.id;
  }
}
