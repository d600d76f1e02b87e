/**
 * The quickstart's drover server: started detached (its own session, pid file, log file) so
 * it outlives `drover quickstart --keep`, and reused by the next run while it still answers.
 * Its URL and pid are kept in `<stateDir>/server.json`.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { until } from "./quickstart-wait";

const bin = path.resolve(__dirname, "../../../bin/drover.js");

export interface QuickstartServer {
  url: string;
  pid: number;
  /** False when a server left by an earlier `--keep` run was reused. */
  started: boolean;
}

interface ServerFile { url: string; pid: number }

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function answers(url: string): Promise<boolean> {
  try { return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok; } catch { return false; }
}

export async function ensureServer(o: { stateDir: string; redisUrl: string; port: number; adminKeyFile: string }): Promise<QuickstartServer> {
  const file = path.join(o.stateDir, "server.json");
  if (fs.existsSync(file)) {
    const prev = JSON.parse(fs.readFileSync(file, "utf8")) as ServerFile;
    if (alive(prev.pid) && (await answers(prev.url))) return { ...prev, started: false };
  }
  const url = `http://127.0.0.1:${o.port}`;
  const log = fs.openSync(path.join(o.stateDir, "server.log"), "a");
  const child = spawn(process.execPath, [bin, "server", "--redis", o.redisUrl, "--listen", `127.0.0.1:${o.port}`,
    "--admin-key-file", o.adminKeyFile, "--key-prefix", "quickstart", "--server-id", "quickstart"],
  { detached: true, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid!;
  fs.writeFileSync(path.join(o.stateDir, "server.pid"), `${pid}\n`);
  fs.writeFileSync(file, JSON.stringify({ url, pid }));
  await until(async () => {
    if (!alive(pid)) throw new Error(`the server exited; see ${path.join(o.stateDir, "server.log")}`);
    return answers(url);
  }, "the drover server to answer", 20_000, { stopOnError: true });
  return { url, pid, started: true };
}

/** Stops the server by its pid (only the one this state dir started) and forgets it. */
export async function stopServer(stateDir: string, server: QuickstartServer): Promise<void> {
  if (alive(server.pid)) process.kill(server.pid, "SIGTERM");
  await until(async () => !alive(server.pid), "the drover server to stop", 10_000);
  for (const f of ["server.json", "server.pid"]) fs.rmSync(path.join(stateDir, f), { force: true });
}
