/**
 * A host's config archive (GET .../hosts/ID/config), fetched with the environment's key and
 * unpacked under ~/.drover/hosts/<host>/ (0700; id_rsa stays 0600): what `drover ssh` uses.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ApiConnection } from "./api-connection";
import { isCertificateError, request } from "../protocol/pinned-https";

export const hostsConfigDir = (home = os.homedir()) => path.join(home, ".drover", "hosts");

/** The host's id by its name (or id). */
export async function hostIdOf(api: ApiConnection, nameOrId: string): Promise<{ id: string; name: string }> {
  const list = (await api.call("GET", `/hosts?name=${encodeURIComponent(nameOrId)}`))?.data ?? [];
  const byName = list.find((h: any) => h.name === nameOrId);
  if (byName) return { id: byName.id, name: byName.name };
  const byId = await api.call("GET", `/hosts/${encodeURIComponent(nameOrId)}`).catch(() => undefined);
  if (byId?.id) return { id: byId.id, name: byId.name };
  throw new Error(`no host named ${JSON.stringify(nameOrId)} in environment ${api.envId}`);
}

/**
 * Downloads and unpacks the archive; returns the host's directory (holding ssh_config).
 * `ca`: the CA `drover login` pinned (ApiConnection.ca): the archive holds the host's private
 * key, so it is fetched trusting that CA alone, as every other API call is.
 */
export async function fetchHostConfig(url: string, apiKey: string, envId: string, hostId: string, home = os.homedir(), ca?: string): Promise<string> {
  const target = `${url}/v1/environments/${encodeURIComponent(envId)}/hosts/${encodeURIComponent(hostId)}/config`;
  let res;
  try {
    res = await request(target, { headers: { authorization: `Bearer ${apiKey}` }, timeoutMs: 30_000, ...(ca ? { ca } : {}) });
  } catch (err) {
    if (isCertificateError(err)) throw new Error(`${url}: the server's certificate is not trusted (${(err as { code?: string }).code}): run \`drover login --url ${url} --ca-fingerprint sha256:…\``);
    throw new Error(`cannot reach ${url}: ${(err as Error).message}`);
  }
  if (res.status >= 300) {
    const text = res.text;
    let why = text.slice(0, 300);
    try { const body = JSON.parse(text); why = `${body.code ?? "error"}: ${body.message ?? text}`; } catch { /* not JSON */ }
    throw new Error(`GET .../hosts/${hostId}/config → ${res.status} ${why}`);
  }
  const archive = res.bytes;
  const dir = hostsConfigDir(home);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const untar = spawnSync("tar", ["-xzf", "-", "-C", dir, "--no-same-owner"], { input: archive });
  if (untar.status !== 0) throw new Error(`unpacking the host config failed: ${untar.stderr.toString().trim()}`);
  const names = spawnSync("tar", ["-tzf", "-"], { input: archive }).stdout.toString().split("\n").filter(Boolean);
  const hostDir = path.join(dir, names[0].split("/")[0]);
  fs.chmodSync(hostDir, 0o700);
  return hostDir;
}
