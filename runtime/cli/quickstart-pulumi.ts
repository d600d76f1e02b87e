/**
 * The Pulumi CLI as the quickstart drives it: the engine scripts/pulumi-engine.sh built, a
 * PULUMI_HOME and local file backend under the quickstart's state dir, fully offline, and
 * the stack config in the state dir too (`--config-file`), so examples/ stays clean.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface PulumiRun { code: number; output: string }

export class QuickstartPulumi {
  private readonly env: Record<string, string>;
  readonly configFile: string;
  /** Every Pulumi run's output, appended (the quickstart prints only summaries unless --verbose). */
  readonly logFile: string;

  constructor(readonly programDir: string, readonly stack: string, stateDir: string) {
    this.logFile = path.join(stateDir, "pulumi.log");
    const home = path.join(stateDir, "pulumi-home");
    const backend = path.join(stateDir, "pulumi-state");
    fs.mkdirSync(home, { recursive: true });
    fs.mkdirSync(backend, { recursive: true });
    this.configFile = path.join(stateDir, `Pulumi.${stack}.yaml`);
    this.env = {
      ...(process.env as Record<string, string>),
      PATH: `${pulumiBinDir()}:${process.env.PATH}`,
      PULUMI_HOME: home,
      PULUMI_BACKEND_URL: `file://${backend}`,
      PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
    };
  }

  /** Runs `pulumi <args>` for the stack; `echo` streams its output as it comes; `stdin` is piped in (secrets never go in argv). */
  run(args: string[], opts: { echo?: (chunk: string) => void; stdin?: string; timeoutMs?: number } = {}): Promise<PulumiRun> {
    return new Promise((resolve, reject) => {
      const child = spawn("pulumi", [...args, "--non-interactive", "--stack", this.stack],
        { cwd: this.programDir, env: this.env, stdio: ["pipe", "pipe", "pipe"] });
      let output = "";
      fs.appendFileSync(this.logFile, `=== pulumi ${args.join(" ")} (${new Date().toISOString()})\n`);
      const take = (d: Buffer) => { output += d; fs.appendFileSync(this.logFile, d); opts.echo?.(d.toString()); };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      const timeoutMs = opts.timeoutMs ?? 600_000;
      const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
      child.on("error", (err) => { clearTimeout(timer); reject(err); });
      child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? -1, output }); });
      // pulumi exiting before it reads its input (EPIPE) must not end this process: its exit code tells.
      child.stdin.on("error", () => undefined);
      child.stdin.end(opts.stdin ?? "");
    });
  }

  async ok(args: string[], opts: Parameters<QuickstartPulumi["run"]>[1] = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) {
      const tail = r.output.trimEnd().split("\n").slice(-40).join("\n");
      throw new Error(`pulumi ${args.join(" ")} exited ${r.code}; its last lines (all of it in ${this.logFile}):\n${tail}`);
    }
    return r.output;
  }

  /** Selects the stack, creating it on the first run. */
  async selectOrCreate(): Promise<void> {
    const r = await this.run(["stack", "select"]);
    if (r.code !== 0) await this.ok(["stack", "init"]);
  }

  async setConfig(key: string, value: string, secret = false): Promise<void> {
    await this.ok(["config", "set", key, "--config-file", this.configFile, ...(secret ? ["--secret"] : [])], { stdin: value });
  }
}

/** `+ 7 created, 2 unchanged (14s)`: the Resources and Duration lines of an up or destroy. */
export function pulumiSummary(output: string): string {
  const lines = output.split("\n");
  const at = lines.findIndex((l) => /^Resources:\s*$/.test(l));
  const counts: string[] = [];
  for (let i = at + 1; at >= 0 && i < lines.length && lines[i].trim() !== ""; i++) counts.push(lines[i].trim());
  const duration = /^Duration: (\S+)/m.exec(output)?.[1];
  return `${counts.length ? counts.join(", ") : "no changes reported"}${duration ? ` in ${duration}` : ""}`;
}

/** Where scripts/setup.sh recorded the engine's bin dir. */
export function pulumiBinDir(): string {
  const file = path.join(process.env.DROVER_STATE ?? "/var/lib/drover", "pulumi-bin");
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/setup.sh first (it builds the Pulumi engine)`);
  return fs.readFileSync(file, "utf8").trim();
}
