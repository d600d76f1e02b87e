/**
 * The server's and agents' logs of a lab benchmark outlive the lab (whose run dir `down()`
 * removes): copied to `$DROVER_STATE/log/bench-<name>-<time>/` so the timings in a result
 * can be traced through them afterwards. Only `*.log` files are copied (the control plane's
 * directory also holds the admin key file, which stays behind).
 */
import * as fs from "fs";
import * as path from "path";

export function keepLogs(fromDir: string, benchName: string): string | undefined {
  if (!fs.existsSync(fromDir)) return undefined;
  const root = path.join(process.env.DROVER_STATE ?? "/var/lib/drover", "log");
  const to = path.join(root, `bench-${benchName}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(fromDir)) {
    if (name.endsWith(".log")) fs.copyFileSync(path.join(fromDir, name), path.join(to, name));
  }
  return to;
}
