import { execFile } from "child_process";

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell) to completion; never throws for a non-zero exit. */
export function runCmd(file: string, args: string[], timeoutMs = 10_000): Promise<CmdResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && code !== 0 && !stderr ? err.message : "")) });
    });
  });
}

/** Like runCmd, but throws with the command line and its stderr on a non-zero exit. */
export async function runOk(file: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await runCmd(file, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
