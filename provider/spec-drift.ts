import { canonical } from "./sanitize";

/**
 * The inputs as `pulumi refresh` should see them: every spec field where the server's spec
 * differs from what these inputs normalize to takes the server's value, so drift shows as a
 * diff. Inputs that no longer normalize are returned as they are.
 */
export function withSpecDrift(props: any, serverSpec: any, normalize: (props: any) => any, fields: readonly string[]): any {
  let mine: any;
  try { mine = normalize(props); } catch { return props; }
  const out = { ...props };
  const server = serverSpec ?? {};
  for (const k of fields) {
    if (canonical(mine[k] ?? null) === canonical(server[k] ?? null)) continue;
    out[k] = server[k];
    // Labels hold the typed scheduling rules too: the server's labels say it all.
    if (k === "labels") delete out.scheduling;
  }
  return out;
}
