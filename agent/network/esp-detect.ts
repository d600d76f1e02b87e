import { randomBytes } from "crypto";
import { runCmd } from "./exec";
import type { EspMode } from "./ipsec-config";

/**
 * Whether the kernel does ESP: add a throw-away ESP state (documentation addresses, random
 * SPI) and delete it again. "Requested type not found" (no esp4 module / CONFIG_INET_ESP)
 * means charon must do ESP in userspace with kernel-libipsec.
 */
export async function detectEspMode(): Promise<{ mode: EspMode; reason: string }> {
  const spi = "0x" + (0xd0000000 + randomBytes(3).readUIntBE(0, 3)).toString(16);
  const state = ["src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp", "spi", spi];
  const add = await runCmd("ip", ["xfrm", "state", "add", ...state, "mode", "tunnel",
    "enc", "cbc(aes)", "0x" + randomBytes(16).toString("hex"),
    "auth-trunc", "hmac(sha256)", "0x" + randomBytes(32).toString("hex"), "128"]);
  if (add.code === 0) {
    await runCmd("ip", ["xfrm", "state", "delete", "src", "192.0.2.1", "dst", "192.0.2.2", "proto", "esp", "spi", spi]);
    return { mode: "kernel", reason: "the kernel accepted an ESP state" };
  }
  return { mode: "libipsec", reason: add.stderr.trim() || `ip xfrm exited ${add.code}` };
}
