/**
 * Certificate fingerprints as drover writes them: `sha256:<64 lowercase hex>`. No imports, so
 * the provider's settings can check a pin without loading TLS.
 */

/** `sha256:ab…`, `AB:CD:…` (openssl's form) or bare hex, as `sha256:<lowercase hex>`; undefined if not one. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.trim().replace(/^sha-?256[:=]/i, "").replace(/:/g, "").toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? `sha256:${hex}` : undefined;
}
