import * as fs from "fs";
import * as path from "path";

/** Set by esbuild's `define` in the single executable (provider/agent-executable.ts), which has no package.json beside it. */
declare const DROVER_BUILT_VERSION: string | undefined;

/** drover's version: built into the single executable, else from its package.json, found by walking up from this file (src or dist). */
export function agentVersion(): string {
  if (typeof DROVER_BUILT_VERSION === "string") return DROVER_BUILT_VERSION;
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "drover" && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return "0.0.0-unknown";
}
