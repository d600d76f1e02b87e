import * as fs from "fs";
import * as path from "path";

/** drover's version from its package.json, found by walking up from this file (src or dist). */
export function agentVersion(): string {
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
