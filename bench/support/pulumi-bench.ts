/**
 * Pulumi programs for the preview and up benchmarks: written into the checkout's `.drover/`
 * (git-ignored; inside the repo so `@pulumi/pulumi` and the compiled provider resolve as
 * they do for a user), run with the offline engine through test/support/pulumi-cli.ts on a
 * private backend, and a drover server in-process (test/provider/server-fixture.ts).
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { performance } from "perf_hooks";
import { PulumiWorkspace } from "../../test/support/pulumi-cli";
import { serverForTest, type TestServer } from "../../test/provider/server-fixture";
import { repoRoot } from "./procs";

/** A program directory with Pulumi.yaml and `index.js` = `body` (which may use `pulumi`, `drover`, `cfg`). */
export function writeProgram(name: string, body: string): string {
  const dir = path.join(repoRoot, ".drover", "bench", `${name}-${randomBytes(3).toString("hex")}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: drover-bench-${name}\nmain: index.js\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n`);
  const provider = path.relative(dir, path.join(repoRoot, "dist", "provider")).split(path.sep).join("/");
  fs.writeFileSync(path.join(dir, "index.js"), [
    '"use strict";',
    'const pulumi = require("@pulumi/pulumi");',
    `const drover = require(${JSON.stringify(provider)});`,
    "const cfg = new pulumi.Config();",
    body,
  ].join("\n"));
  return dir;
}

/** Teardown callbacks, run last-in first-out (the fixtures expect tap's `t.teardown`). */
export class Cleanup {
  private readonly fns: Array<() => unknown> = [];
  teardown = (fn: () => unknown): void => { this.fns.push(fn); };
  async run(): Promise<void> {
    for (const fn of this.fns.reverse()) {
      try { await fn(); } catch (err) { console.error("bench cleanup:", err); }
    }
  }
}

export async function benchServer(cleanup: Cleanup): Promise<TestServer> {
  return serverForTest(cleanup);
}

/** Wraps every pulumi command in /usr/bin/time, so `measured()` can read the CPU time of its whole process tree. */
const underTime = (argv: string[]) => ["/usr/bin/time", "-f", `${CPU_MARK} %e %U %S`, ...argv];
const CPU_MARK = "drover-bench-cpu:";

/** A stack of `programDir` with the server's endpoint and admin key (secret) in its config. */
export async function benchStack(cleanup: Cleanup, programDir: string, server: TestServer, config: Record<string, string>): Promise<PulumiWorkspace> {
  const ws = new PulumiWorkspace(programDir, `b${randomBytes(4).toString("hex")}`, {}, fs.existsSync("/usr/bin/time") ? underTime : undefined);
  cleanup.teardown(() => ws.cleanup());
  await ws.init({ "drover:endpoint": server.url, ...config });
  await ws.ok(["config", "set", "--secret", "drover:adminKey", server.adminKey]);
  return ws;
}

/** Wall time of one `pulumi <args>` that must succeed. */
export async function timed(ws: PulumiWorkspace, args: string[], timeoutMs = 600_000): Promise<number> {
  const t0 = performance.now();
  await ws.ok(args, timeoutMs);
  return performance.now() - t0;
}

export interface Measured {
  wallMs: number;
  /**
   * User + system CPU time of pulumi and every process it started and waited for (engine,
   * language host, program, dynamic-provider host), from /usr/bin/time: on a machine other
   * jobs share, a far steadier measure of the work done than wall time.
   */
  cpuMs: number;
}

/** One `pulumi <args>` that must succeed: its wall time and the CPU time of its process tree. */
export async function measured(ws: PulumiWorkspace, args: string[], timeoutMs = 600_000): Promise<Measured> {
  const t0 = performance.now();
  const res = await ws.ok(args, timeoutMs);
  const wallMs = performance.now() - t0;
  const m = new RegExp(`${CPU_MARK} ([\\d.]+) ([\\d.]+) ([\\d.]+)`).exec(res.stderr);
  if (!m) throw new Error(`pulumi ${args[0]}: no CPU time in its output (is /usr/bin/time installed?)`);
  return { wallMs, cpuMs: (Number(m[2]) + Number(m[3])) * 1000 };
}
