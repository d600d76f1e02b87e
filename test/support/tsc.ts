/**
 * `tsc --noEmit -p <dir>` with the checkout's TypeScript, its diagnostics parsed: file,
 * line and the whole message (continuation lines included).
 */
import * as path from "path";
import { runNode } from "./run-node";

export interface TscError {
  file: string;
  line: number;
  code: string;
  message: string;
}

const repoRoot = path.resolve(__dirname, "../../..");
const tscBin = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");

export async function typeCheck(projectDir: string): Promise<{ code: number; errors: TscError[]; output: string }> {
  const res = await runNode([tscBin, "--noEmit", "--pretty", "false", "-p", projectDir], { cwd: projectDir });
  const errors: TscError[] = [];
  for (const line of res.out.split("\n")) {
    const m = /^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/.exec(line);
    if (m) errors.push({ file: path.resolve(projectDir, m[1]), line: Number(m[2]), code: m[3], message: m[4] });
    else if (line.startsWith(" ") && errors.length > 0) errors[errors.length - 1].message += ` ${line.trim()}`;
  }
  return { code: res.code, errors, output: res.out + res.err };
}
