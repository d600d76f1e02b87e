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

export function presentToken(info: TokenInfo, urls: Urls, secret?: string): ResourceJson {
  return {
    id: info.id,
    type: "registrationToken",
    envId: info.envId,
    ...(info.createdAt !== undefined ? { createdAt: info.createdAt } : {}),
    ...(info.description !== undefined ? { description: info.description } : {}),
    ...(secret !== undefined ? { token: secret } : {}),
    registrationUrl: `${urls.base}/v1/register`,
    links: { environment: urls.env(info.envId), collection: urls.env(info.envId, "registrationtokens") },
    actions: {},
  };
}
