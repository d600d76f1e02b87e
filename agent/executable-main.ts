/**
 * The entry of the single-executable agent (provider/agent-executable.ts bundles it with
 * esbuild and injects it into a copy of node): `drover-agent agent [options]` runs exactly
 * `drover agent`, and `drover-agent -e CODE [ARGS]` runs CODE as `node -e` does (built-in
 * modules only), so the bootstrap's small scripts (Docker check, launch files) run on a host
 * that has no node of its own.
 */
import { UsageError } from "../runtime/cli/command";
import { agentCommand } from "./agent-command";
import { agentVersion } from "./version";

const USAGE = "usage: drover-agent agent [options]   (this executable runs `drover agent` only; see `drover-agent agent --help`)";

async function run(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "-e" && rest.length > 0) {
    // As `node -e CODE a b`: process.argv is [execPath, a, b]. `require` here loads built-ins.
    process.argv = [process.execPath, ...rest.slice(1)];
    new Function("require", rest[0])(require);
    return 0;
  }
  if (first === "--version") {
    console.log(agentVersion());
    return 0;
  }
  if (first !== "agent") {
    console.error(first ? `drover-agent: unknown command "${first}"\n${USAGE}` : USAGE);
    return 2;
  }
  if (rest[0] === "--help" || rest[0] === "-h") {
    console.log(agentCommand.usage);
    return 0;
  }
  try {
    return await agentCommand.run(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`drover agent: ${(err as Error).message}\n\n${agentCommand.usage}`);
      return 2;
    }
    throw err;
  }
}

// In a single executable application argv[1] is the executable again; the arguments follow.
run(process.argv.slice(2)).then(
  (code) => { if (process.exitCode === undefined) process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : String(err)); process.exitCode = 1; },
);
