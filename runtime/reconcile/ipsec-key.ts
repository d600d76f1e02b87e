import { randomBytes } from "crypto";
import type { IpsecSpec } from "../protocol/model";

/** A fresh pre-shared key: 32 random bytes (base64), with an id that tells agents it is new. */
export function newIpsecSpec(): IpsecSpec {
  return { pskId: `psk-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`, psk: randomBytes(32).toString("base64") };
}
