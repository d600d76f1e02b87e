/**
 * The `digitalocean` driver: provision makes a per-host key pair, registers its public half
 * on the account, creates the droplet with it (tagged `drover-host:<env>:<host>`), waits for
 * the droplet to be active with an address and for SSH to take the key; bootstrap is the ssh
 * driver's (plus Docker from the distribution where the image has none); deprovision
 * destroys the droplet and removes the key. A create that fails before the host registered
 * removes what it made; anything a crash left is found by the tag and removed at the next
 * create of the same host and at its delete.
 */
import { connectSsh } from "../ssh-runner";
import { sshDriver } from "../ssh";
import { hostStepMessage, oneLineError } from "../step-error";
import type { HostDriver, SshDriverInputs } from "../types";
import { doApi, TOKEN_ENV, type DoApi, type DoDroplet } from "./api";
import { droverTag, type DigitalOceanDriverInputs, type DropletRecord } from "./inputs";
import { makeKeyPair } from "./keypair";
import { WaitTimeoutError, waitFor } from "../../../runtime/protocol/poll";

export interface DigitalOceanContext {
  envId: string;
  /** How long the droplet may take to be active, and then SSH to take the key. */
  waitMs: number;
  /** The host key fingerprint recorded in the Pulumi state at the first connection. */
  recordedHostKey?: string;
  /** What provision made, from the Pulumi state (update, delete). */
  machine?: DropletRecord;
}

/** The Host outputs of a droplet: public ones plus `machine` (secret, it holds the private key). */
export function dropletOutputs(m: DropletRecord): Record<string, unknown> {
  return {
    machine: m, dropletId: m.dropletId, publicIp: m.publicIp, privateIp: m.privateIp, region: m.region, size: m.size, sshFingerprint: m.sshFingerprint,
  };
}

function addresses(d: DoDroplet): { publicIp?: string; privateIp?: string } {
  const v4 = d.networks?.v4 ?? [];
  return { publicIp: v4.find((n) => n.type === "public")?.ip_address, privateIp: v4.find((n) => n.type === "private")?.ip_address };
}

/** Removes every droplet with `tag` and every key named `tag` (a crash's leftovers, or ours); what it removed. */
export async function sweepTag(client: DoApi, tag: string): Promise<string[]> {
  const removed: string[] = [];
  for (const droplet of await client.dropletsTagged(tag)) {
    await client.deleteDroplet(droplet.id);
    removed.push(`droplet ${droplet.name} (id ${droplet.id})`);
  }
  for (const key of await client.keysNamed(tag)) {
    await client.deleteKey(key.id);
    removed.push(`SSH key ${key.id}`);
  }
  return removed;
}

export function tokenOf(d: DigitalOceanDriverInputs): string {
  const token = d.token ?? process.env[TOKEN_ENV];
  if (!token) throw oneLineError(`driver.token: required: a DigitalOcean API token (driver.token, or ${TOKEN_ENV} in the environment of \`pulumi\`)`);
  return token;
}

/** The ssh driver's inputs for the droplet drover made. */
function sshInputsOf(d: DigitalOceanDriverInputs, m: DropletRecord): SshDriverInputs {
  return {
    type: "ssh", address: m.publicIp, user: "root", privateKey: m.privateKey, underlayIp: m.privateIp ?? m.publicIp,
    ...(d.installDir ? { installDir: d.installDir } : {}), ...(d.stateDir ? { stateDir: d.stateDir } : {}),
  };
}

/** Docker from the distribution when the image has none (a no-op where `docker` answers). */
const ENSURE_DOCKER = [
  "if ! command -v docker >/dev/null 2>&1; then",
  "  export DEBIAN_FRONTEND=noninteractive",
  "  apt-get update -q && apt-get install -y -q docker.io >/dev/null",
  "  if [ -d /run/systemd/system ]; then systemctl enable --now docker; fi",
  "fi",
].join("\n");

export function digitalOceanDriver(d: DigitalOceanDriverInputs, hostname: string, ctx: DigitalOceanContext): HostDriver & { machine(): DropletRecord | undefined } {
  let machine = ctx.machine;
  let recordedHostKey = ctx.recordedHostKey;
  const tag = droverTag(ctx.envId, hostname);
  const describe = () => (machine ? `digitalocean droplet ${machine.dropletName} (id ${machine.dropletId}, ${machine.publicIp})` : `digitalocean ${d.region}`);
  const api = (): DoApi => doApi(tokenOf(d));
  const fail = (err: unknown): Error => oneLineError(hostStepMessage(hostname, describe(), err));
  const ssh = () => sshDriver(sshInputsOf(d, machine!), hostname, recordedHostKey);

  const sweep = (client: DoApi) => sweepTag(client, tag);

  /** Runs an ssh step; when the droplet is gone (deleted outside drover) there is nothing to do on it. */
  async function onDroplet(step: () => Promise<void>): Promise<void> {
    if (!machine) return;
    try {
      await step();
    } catch (err) {
      if (await api().getDroplet(machine.dropletId).then((x) => x === undefined, () => false)) return;
      throw err;
    }
  }

  async function waitActive(client: DoApi, droplet: DoDroplet): Promise<DoDroplet> {
    let last = droplet;
    try {
      return await waitFor(async () => {
        const now = await client.getDroplet(droplet.id);
        if (!now) throw new Error(`droplet ${droplet.name} (id ${droplet.id}) disappeared while starting`);
        last = now;
        return now.status === "active" && addresses(now).publicIp ? now : false;
      }, { what: `droplet ${droplet.name}`, timeoutMs: ctx.waitMs, intervalMs: 500, maxIntervalMs: 3000 });
    } catch (err) {
      if (err instanceof WaitTimeoutError) {
        throw new Error(`droplet ${droplet.name} (id ${droplet.id}) is still "${last.status}"${addresses(last).publicIp ? "" : " with no public address"} after ${Math.round(ctx.waitMs / 1000)} s`);
      }
      throw err;
    }
  }

  async function waitSsh(m: DropletRecord): Promise<string | undefined> {
    try {
      return await waitFor(async () => {
        const runner = await connectSsh({ type: "ssh", address: m.publicIp, user: "root", privateKey: m.privateKey });
        runner.close();
        return runner.hostKey || "connected";
      }, { what: `SSH on droplet ${m.dropletName}`, timeoutMs: ctx.waitMs, intervalMs: 500, maxIntervalMs: 3000 });
    } catch (err) {
      const last = err instanceof WaitTimeoutError ? ((err.lastError as Error)?.message ?? "no answer") : (err as Error).message;
      throw new Error(`droplet ${m.dropletName} (id ${m.dropletId}, ${m.publicIp}): SSH did not take drover's key within ${Math.round(ctx.waitMs / 1000)} s (last: ${last})`);
    }
  }

  return {
    get describe() { return describe(); },
    machine: () => machine,

    async provision() {
      const client = api();
      const made: { keyId?: number; dropletId?: number } = {};
      try {
        await sweep(client);
        const pair = await makeKeyPair(tag);
        const key = await client.createKey(tag, pair.publicKey, pair.md5Fingerprint);
        made.keyId = key.id;
        const droplet = await client.createDroplet({
          name: hostname, region: d.region, size: d.size, image: d.image,
          ssh_keys: [key.id, ...(d.sshKeys ?? [])], tags: [tag, ...(d.tags ?? [])],
          ...(d.vpcUuid ? { vpc_uuid: d.vpcUuid } : {}), monitoring: d.monitoring ?? false,
        }, tag);
        made.dropletId = droplet.id;
        const active = await waitActive(client, droplet);
        const { publicIp, privateIp } = addresses(active);
        const record: DropletRecord = {
          dropletId: active.id, dropletName: active.name, publicIp: publicIp!, ...(privateIp ? { privateIp } : {}),
          region: active.region?.slug ?? d.region, size: active.size_slug ?? d.size, sshKeyId: key.id, sshFingerprint: key.fingerprint,
          privateKey: pair.privateKey, publicKey: pair.publicKey, tag,
        };
        machine = record;
        const seen = await waitSsh(record);
        // Trust on first use, from the first connection: every later one must see this key.
        if (seen && seen.startsWith("SHA256:")) recordedHostKey = seen;
        return { address: record.publicIp, outputs: dropletOutputs(record) };
      } catch (err) {
        // Nothing half made is left behind: the droplet and the key go (by id, then by tag).
        if (made.dropletId !== undefined) await client.deleteDroplet(made.dropletId).catch(() => undefined);
        if (made.keyId !== undefined) await client.deleteKey(made.keyId).catch(() => undefined);
        await sweep(client).catch(() => undefined);
        const named = fail(err); // while `describe` still names the droplet
        machine = undefined;
        throw named;
      }
    },

    async bootstrap(launch) {
      if (!machine) throw fail(new Error("the droplet was not provisioned"));
      try {
        const runner = await connectSsh(sshInputsOf(d, machine), recordedHostKey);
        try {
          const res = await runner.run(ENSURE_DOCKER, { timeoutMs: 600_000 });
          if (res.code !== 0) throw new Error(`installing Docker from the distribution failed: exit ${res.code}: ${(res.stderr || res.stdout).trim().slice(-500)}`);
        } finally { runner.close(); }
      } catch (err) {
        throw fail(err);
      }
      const report = await ssh().bootstrap({ ...launch, underlayIp: launch.underlayIp ?? machine.privateIp ?? machine.publicIp });
      return { ...report, ...(recordedHostKey ? { hostKey: recordedHostKey } : {}) };
    },
    intent: () => ({ driver: "digitalocean", tag, secret: { token: tokenOf(d) } }),
    verify: async () => { await api().dropletsTagged(tag).catch((err) => { throw fail(new Error(`driver.token: ${err.message}`)); }); },
    updateLaunch: (launch) => onDroplet(() => ssh().updateLaunch(launch)),
    disarm: () => onDroplet(() => ssh().disarm()),
    uninstall: () => onDroplet(() => ssh().uninstall()),
    logTail: async (lines) => (machine ? ssh().logTail(lines).catch(() => "") : ""),

    async removeStrays() {
      if (!machine) return [];
      const client = api();
      const removed: string[] = [];
      try {
        for (const d of await client.dropletsTagged(tag)) {
          if (d.id === machine.dropletId) continue;
          await client.deleteDroplet(d.id);
          removed.push(`droplet ${d.name} (id ${d.id})`);
        }
        for (const k of await client.keysNamed(tag)) {
          if (k.id === machine.sshKeyId) continue;
          await client.deleteKey(k.id);
          removed.push(`SSH key ${k.id}`);
        }
      } catch (err) {
        throw fail(err);
      }
      return removed;
    },

    async deprovision() {
      const client = api();
      try {
        if (machine) {
          await client.deleteDroplet(machine.dropletId);
          await client.deleteKey(machine.sshKeyId);
        }
        await sweep(client);
      } catch (err) {
        throw fail(err);
      }
    },
  };
}
