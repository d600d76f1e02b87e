import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Where scripts/setup.sh put the Pulumi engine (see scripts/pulumi-engine.sh). */
export function pulumiBinDir(): string {
  const state = process.env.DROVER_STATE ?? "/var/lib/drover";
  const file = path.join(state, "pulumi-bin");
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/setup.sh first`);
  return fs.readFileSync(file, "utf8").trim();
}

export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A Pulumi workspace of its own for one test: private PULUMI_HOME and local file backend in
 * a temp dir, fully offline, so tests can run in parallel and leave nothing behind.
 */
export class PulumiWorkspace {
  readonly home: string;
  readonly backendDir: string;

  /**
   * `wrap` turns the pulumi argv (and its working directory) into the argv to spawn: a lab
   * host's `argv` runs the engine inside that host, so a `local` Host is the lab host.
   */
  constructor(readonly programDir: string, readonly stack: string, extraEnv: Record<string, string> = {},
    private readonly wrap?: (argv: string[], cwd: string) => string[]) {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "drover-pulumi-"));
    this.home = path.join(base, "home");
    this.backendDir = path.join(base, "state");
    fs.mkdirSync(this.home);
    fs.mkdirSync(this.backendDir);
    this.env = {
      ...process.env as Record<string, string>,
      PATH: `${pulumiBinDir()}:${process.env.PATH}`,
      PULUMI_HOME: this.home,
      PULUMI_BACKEND_URL: `file://${this.backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: "",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      ...extraEnv,
    };
  }

  private readonly env: Record<string, string>;

  private spawnPulumi(args: string[]) {
    const argv = ["pulumi", ...args];
    const [cmd, ...rest] = this.wrap ? this.wrap(argv, this.programDir) : argv;
    return spawn(cmd, rest, { cwd: this.programDir, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
  }

  run(args: string[], timeoutMs = 120_000): Promise<PulumiResult> {
    return new Promise((resolve, reject) => {
      const child = this.spawnPulumi([...args, "--non-interactive", "--stack", this.stack]);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`pulumi ${args.join(" ")} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
      }, timeoutMs);
      child.on("error", (err) => { clearTimeout(timer); reject(err); });
      child.on("close", (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
    });
  }

  /** Like run() but throws with the whole output when the command fails. */
  async ok(args: string[], timeoutMs?: number): Promise<PulumiResult> {
    const res = await this.run(args, timeoutMs);
    if (res.code !== 0) {
      throw new Error(`pulumi ${args.join(" ")} exited ${res.code}\n--- stdout\n${res.stdout}\n--- stderr\n${res.stderr}`);
    }
    return res;
  }

  /**
   * Like ok(), for a tap test: a failure is a test failure with the output's tail as
   * diagnostics (not in the test name), then throws to end the scenario.
   */
  okFor(t: { fail(...args: any[]): unknown }): (args: string[], timeoutMs?: number) => Promise<PulumiResult> {
    return async (args, timeoutMs = 600_000) => {
      const res = await this.run(args, timeoutMs);
      if (res.code !== 0) {
        t.fail(`pulumi ${args.join(" ")} exited ${res.code}`, { stdout: res.stdout.slice(-4000), stderr: res.stderr.slice(-4000) });
        throw new Error(`pulumi ${args[0]} failed`);
      }
      return res;
    };
  }

  async init(config: Record<string, string> = {}): Promise<void> {
    const child = await new Promise<PulumiResult>((resolve, reject) => {
      const p = this.spawnPulumi(["stack", "init", this.stack, "--non-interactive"]);
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (out += d));
      p.on("error", reject);
      p.on("close", (code) => resolve({ code: code ?? -1, stdout: out, stderr: "" }));
    });
    if (child.code !== 0) throw new Error(`pulumi stack init failed: ${child.stdout}`);
    for (const [k, v] of Object.entries(config)) await this.ok(["config", "set", k, v]);
  }

  /** Removes the stack's config file and the temp dirs. */
  cleanup(): void {
    fs.rmSync(path.join(this.programDir, `Pulumi.${this.stack}.yaml`), { force: true });
    fs.rmSync(path.dirname(this.home), { recursive: true, force: true });
  }
}
