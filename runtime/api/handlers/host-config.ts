/**
 * A cloud host's login, as Rancher's "download machine config":
 *
 * - PUT  .../hosts/:id/machineaccess  {user, address, port, privateKey, publicKey, hostKey?}
 *   (the provider, once it made the machine) → 204. The private key is sealed with the
 *   environment's key before it is stored and never shown by the API.
 * - GET  .../hosts/:id/config → application/gzip: `<host>/id_rsa` (0600), `id_rsa.pub`,
 *   `ca.pem` (the server's CA, when it has one), `known_hosts` (when the host key is known:
 *   its fingerprint as a comment, the login is pinned by `ssh_config` through the first
 *   connection drover made) and `ssh_config` (a `Host <name>` block using that key alone).
 *   Each download is written to the host record (`configDownloadedAt`), so it is an update
 *   event on the environment's stream. A host without a machine drover made: 404.
 *
 * Another environment's key gets 404, as everywhere.
 */
import { DroverError } from "../../protocol/errors";
import type { HostRecord } from "../../protocol/model";
import { unseal } from "../../protocol/seal";
import { secretContext } from "../../protocol/secret-contexts";
import { validateMachineAccess } from "../../protocol/validate/machine-access";
import { sealMachineKey } from "../../secrets/record-sealing";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { Reply } from "../respond";
import { tarGz } from "../tar";
import { updateHostInEnv } from "../write";
import { findIn } from "./records";

export async function putMachineAccess(ctx: AuthedContext): Promise<Reply | undefined> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const access = validateMachineAccess(await readJsonBody(ctx.req));
  const envKey = await ctx.api.keyring.envKey(env.id);
  await updateHostInEnv(ctx.api, env.id, (snap) => {
    const current = findIn(snap.hosts, "host", ctx.params.id);
    if (current.state === "removing" || current.state === "removed") throw new DroverError("Conflict", `host ${current.id} is ${current.state}`);
    const next: HostRecord = { ...current, machineAccess: { ...access, privateKey: sealMachineKey(envKey, current.id, access.privateKey) } };
    return { batch: { put: [{ kind: "host", record: next }] }, result: next };
  });
  ctx.res.writeHead(204, { "cache-control": "no-store" });
  ctx.res.end();
  return undefined;
}

/** The `Host` block: this key only (no agent, no other identities), the host key checked against known_hosts. */
export function sshConfigFor(host: { name: string }, a: { user: string; address: string; port: number; hostKey?: string }, dir: string): string {
  return [
    `Host ${host.name}`,
    `  HostName ${a.address}`,
    `  Port ${a.port}`,
    `  User ${a.user}`,
    `  IdentityFile ${dir}/id_rsa`,
    "  IdentitiesOnly yes",
    "  IdentityAgent none",
    `  UserKnownHostsFile ${dir}/known_hosts`,
    // drover pinned the key at its first connection; OpenSSH learns it at this one (its fingerprint is in known_hosts' comment).
    "  StrictHostKeyChecking accept-new",
    "",
  ].join("\n");
}

export async function downloadHostConfig(ctx: AuthedContext): Promise<Reply | undefined> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const now = ctx.api.now();
  const host = await updateHostInEnv(ctx.api, env.id, (snap) => {
    const current = findIn(snap.hosts, "host", ctx.params.id);
    if (!current.machineAccess) throw new DroverError("NotFound", `host ${current.id} has no machine config: drover did not make its machine (only cloud drivers do)`);
    const next: HostRecord = { ...current, configDownloadedAt: now };
    return { batch: { put: [{ kind: "host", record: next }] }, result: current };
  });
  const a = host.machineAccess!;
  const envKey = await ctx.api.keyring.envKey(env.id);
  const privateKey = unseal(envKey, secretContext.machineKey(host.id), a.privateKey);
  const dir = `~/.drover/hosts/${host.name}`;
  const files = [
    { name: `${host.name}/id_rsa`, content: privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, mode: 0o600 },
    { name: `${host.name}/id_rsa.pub`, content: `${a.publicKey}\n` },
    { name: `${host.name}/ssh_config`, content: sshConfigFor(host, a, dir) },
    { name: `${host.name}/known_hosts`, content: a.hostKey ? `# ${host.name} ${a.address}: host key ${a.hostKey} at drover's first connection\n` : "" },
    ...(ctx.api.tls ? [{ name: `${host.name}/ca.pem`, content: ctx.api.tls.caCert }] : []),
  ];
  const archive = tarGz(files);
  ctx.res.writeHead(200, {
    "content-type": "application/gzip",
    "content-length": archive.length,
    "content-disposition": `attachment; filename="${host.name}-config.tar.gz"`,
    "cache-control": "no-store",
  });
  ctx.res.end(archive);
  return undefined;
}
