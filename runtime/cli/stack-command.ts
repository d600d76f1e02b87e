import * as fs from "fs";
import { CliError } from "./day-two/cli-error";
import * as path from "path";
import { parseArgs } from "util";
import { MAX_COMPOSE_BYTES, readCompose, warningText } from "../compose";
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connect } from "./api-connection";
import { Command, UsageError } from "./command";

/**
 * `drover stack import|export`: Rancher's stack import and "View Config" from the command
 * line. `import` reads the files here (and the env files they name, relative to
 * docker-compose.yml), checks them with the same reader the server runs (a bad file fails
 * before any call, with file, line and column) and sends them; warnings (keys drover does
 * not act on) are printed to stderr by path.
 */
export const stackCommand: Command = {
  name: "stack",
  summary: "import a stack from docker-compose.yml + rancher-compose.yml, export it back",
  usage: [
    "usage: drover stack import NAME -f docker-compose.yml [-f rancher-compose.yml] [connection options]",
    "       drover stack export NAME [-o DIR] [connection options]",
    "",
    "  import NAME      create stack NAME from the files, or bring the existing stack NAME in line",
    "                   with them (changed services roll out as upgrades; others are left alone).",
    "                   A file named *rancher-compose* is the rancher-compose.yml; without one, a",
    "                   rancher-compose.yml beside docker-compose.yml is used, as rancher-compose did",
    "  export NAME      the stack as docker-compose.yml and rancher-compose.yml: printed, or",
    "                   written into DIR with -o",
    "",
    "connection options:",
    ...CONNECTION_USAGE,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...CONNECTION_OPTIONS, file: { type: "string", short: "f", multiple: true }, output: { type: "string", short: "o" } },
      allowPositionals: true,
      strict: true,
    });
    const [sub, name, ...extra] = positionals;
    if (sub !== "import" && sub !== "export") throw new UsageError(`expected import or export, got ${sub ?? "nothing"}`);
    if (!name) throw new UsageError(`${sub}: expected the stack's NAME`);
    if (extra.length) throw new UsageError(`${sub}: unexpected ${extra.join(" ")}`);
    try {
      return sub === "import" ? await importFiles(name, values.file ?? [], values) : await exportStack(name, values.output, values);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      console.error(`drover stack ${sub}: ${(err as Error).message}`);
      return err instanceof CliError ? err.exitCode : 1;
    }
  },
};

type Values = Record<string, string | string[] | undefined>;

function readLimited(file: string): string {
  const size = fs.statSync(file).size;
  if (size > MAX_COMPOSE_BYTES) throw new Error(`${file}:1:1: the file is ${size} bytes; compose files of at most ${MAX_COMPOSE_BYTES} bytes (1 MiB) are read`);
  return fs.readFileSync(file, "utf8");
}

async function importFiles(name: string, files: string[], values: Values): Promise<number> {
  if (files.length === 0 || files.length > 2) throw new UsageError("import: expected -f docker-compose.yml and optionally -f rancher-compose.yml");
  const rancherIndex = files.findIndex((f) => path.basename(f).includes("rancher-compose"));
  const dockerFile = files.find((_f, i) => i !== rancherIndex);
  if (!dockerFile) throw new UsageError("import: expected a docker-compose.yml among the -f files");
  const beside = path.join(path.dirname(dockerFile), "rancher-compose.yml");
  const rancherFile = rancherIndex >= 0 ? files[rancherIndex] : files.length === 2 ? files.find((f) => f !== dockerFile) : fs.existsSync(beside) ? beside : undefined;
  const envFiles: Record<string, string> = {};
  const input = {
    dockerCompose: readLimited(dockerFile),
    dockerComposeName: dockerFile,
    ...(rancherFile ? { rancherCompose: readLimited(rancherFile), rancherComposeName: rancherFile } : {}),
    envFile: (rel: string) => {
      const file = path.resolve(path.dirname(dockerFile), rel);
      if (!fs.existsSync(file)) return undefined;
      return (envFiles[rel] = readLimited(file));
    },
  };
  readCompose(input); // fails here, before any call, on a bad file
  const { envFile: _read, dockerComposeName: _d, rancherComposeName: _r, ...body } = input as typeof input & { rancherComposeName?: string };
  const api = await connect(values as Record<string, string | undefined>);
  const reply = await api.call("POST", "/stacks?action=import", { name, ...body, envFiles });
  for (const w of reply.warnings ?? []) console.error(`warning: ${warningText({ ...w, file: w.file === "docker-compose.yml" ? dockerFile : w.file === "rancher-compose.yml" ? rancherFile ?? w.file : w.file })}`);
  console.log(`stack ${reply.stack.name} ${reply.stack.id}`);
  for (const item of [...reply.services, ...reply.loadBalancers]) console.log(`  ${item.name.padEnd(20)} ${item.action.padEnd(9)} ${item.id}`);
  for (const left of reply.notInFiles ?? []) console.log(`  ${left.padEnd(20)} not in the files: left as it is`);
  return 0;
}

async function exportStack(name: string, dir: string | undefined, values: Values): Promise<number> {
  const api = await connect(values as Record<string, string | undefined>);
  const list = await api.call("GET", `/stacks?name=${encodeURIComponent(name)}`);
  const stack = (list.data ?? []).find((s: { name: string; state: string }) => s.name === name && s.state === "active");
  if (!stack) throw new Error(`no stack named ${name} in environment ${api.envId}`);
  const files = await api.call("GET", `/stacks/${encodeURIComponent(stack.id)}/compose`);
  for (const w of files.warnings ?? []) console.error(`warning: ${w}`);
  if (dir === undefined) {
    process.stdout.write(`# docker-compose.yml\n${files.dockerCompose}\n# rancher-compose.yml\n${files.rancherCompose}`);
    return 0;
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "docker-compose.yml"), files.dockerCompose);
  fs.writeFileSync(path.join(dir, "rancher-compose.yml"), files.rancherCompose);
  console.log(`wrote ${path.join(dir, "docker-compose.yml")} and ${path.join(dir, "rancher-compose.yml")}`);
  return 0;
}
