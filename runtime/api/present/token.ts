/**
 * Registration tokens as the API shows them. The secret itself appears only in the
 * response that created it; afterwards a token is known by an id derived from its hash.
 */
import type { Urls } from "../urls";
import { ResourceJson } from "./resource";

export interface TokenInfo {
  id: string;
  envId: string;
  createdAt?: string;
  description?: string;
}

export function tokenId(tokenHash: string): string {
  return `1t${tokenHash.slice(0, 12)}`;
}

/**
 * `caFingerprint`: the server CA's, which agents pin (`--ca-fingerprint`). With the secret
 * (only in the answer that created the token) comes `command`, the agent's command line.
 */
export function presentToken(info: TokenInfo, urls: Urls, secret?: string, caFingerprint?: string): ResourceJson {
  return {
    id: info.id,
    type: "registrationToken",
    envId: info.envId,
    ...(info.createdAt !== undefined ? { createdAt: info.createdAt } : {}),
    ...(info.description !== undefined ? { description: info.description } : {}),
    ...(secret !== undefined ? { token: secret, command: registrationCommand(urls.base, secret, caFingerprint) } : {}),
    ...(caFingerprint !== undefined ? { caFingerprint } : {}),
    registrationUrl: `${urls.base}/v1/register`,
    links: { self: urls.env(info.envId, "registrationtokens", info.id), environment: urls.env(info.envId), collection: urls.env(info.envId, "registrationtokens") },
    actions: {},
  };
}

/** The command that registers a host with this token (the URL as the caller reached the server). */
export function registrationCommand(baseUrl: string, token: string, caFingerprint?: string): string {
  return `drover agent --url ${baseUrl} --token ${token}${caFingerprint && baseUrl.startsWith("https:") ? ` --ca-fingerprint ${caFingerprint}` : ""}`;
}
