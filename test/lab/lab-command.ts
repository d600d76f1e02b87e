import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { Command, UsageError } from "../../runtime/cli/command";

/**
 * `drover lab`: the multi-host test lab from the shell. `up` leaves its daemons running
 * (they are detached and do not need this process); the other subcommands find runs
 * through the state files in $DROVER_STATE/lab/.
 */
const USAGE = {
  up: [
    "usage: drover lab up <N> [--sshd] [--name LABEL] [--no-image] [--json]",
    "",
    "  Brings up N hosts (network namespaces with their own dockerd) on a private underlay /24",
    "  and prints the run id and each host's name, underlay IP, docker socket and ssh details.",
    "  The daemons keep running after the command exits; remove them with `drover lab down`.",
    "",
    "  --sshd          also start an sshd (root, key only) in every host",
    "  --name LABEL    a label shown by `drover lab ls`",
    "  --no-image      do not import local/busybox into the hosts' dockerds",
    "  --json          print the run as JSON",
  ],
  down: [
    "usage: drover lab down [RUNID | --run RUNID | --all]",
    "",
    "  Stops everything of a run (default: the only one; with several, name it), removes its namespaces, links, cgroups",
    "  and files, and checks that nothing is left (exit 1 and a list if something is).",
    "",
    "  --all           every run on this machine, also leftovers of runs whose state file is gone",
  ],
  exec: [
    "usage: drover lab exec [--run RUNID] <HOST> -- <CMD...>",
    "",
    "  Runs CMD inside HOST (its network, mount and UTS namespaces: `docker` talks to that",
    "  host's dockerd) with this terminal's stdin/stdout/stderr; exits with CMD's exit code.",
    "  HOST is a host name (drv-<runid>-h2), h2, or 2.",
    "",
    "  --run RUNID     the run (default: the only one; with several, name it)",
  ],
  ls: [
    "usage: drover lab ls [--json]",
    "",
    "  Lists the lab runs on this machine with their hosts, subnet and whether they are up.",
  ],
};

const usage = [
  "usage: drover lab <up|down|exec|ls> [options]",
  "",
  ...Object.values(USAGE).flatMap((lines) => [...lines, ""]),
].join("\n").trimEnd();

type Lab = import("./lab").Lab;

function loadLab(): typeof import("./lab") {
  return require("./lab") as typeof import("./lab");
}

function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

function describe(lab: Lab): Record<string, unknown> {
  return {
    runId: lab.runId, runDir: lab.runDir, subnet: lab.subnet, gatewayIp: lab.gatewayIp,
    hosts: lab.hosts.map((h) => ({
      name: h.name, underlayIp: h.underlayIp, dockerSocket: h.dockerSocket,
      ssh: h.state.ssh ? { host: h.state.ssh.address, port: h.state.ssh.port, username: h.state.ssh.username, privateKeyFile: h.state.ssh.privateKeyFile } : undefined,
    })),
  };
}

async function up(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { sshd: { type: "boolean" }, name: { type: "string" }, "no-image": { type: "boolean" }, json: { type: "boolean" } },
  });
  const count = Number(positionals[0]);
  if (positionals.length !== 1 || !Number.isInteger(count) || count < 1) throw new UsageError("up needs the number of hosts");
  const { Lab } = loadLab();
  const lab = await Lab.up({ hosts: count, sshd: values.sshd, name: values.name, image: !values["no-image"] });
  if (values.json) {
    console.log(JSON.stringify(describe(lab), null, 2));
    return 0;
  }
  console.log(`lab run ${lab.runId}: ${count} host(s) up in ${lab.timings.upMs} ms`);
  console.log(`  subnet ${lab.subnet}, gateway ${lab.gatewayIp} (root namespace), run dir ${lab.runDir}`);
  for (const h of lab.hosts) {
    console.log(`  ${h.name}  ${h.underlayIp}  docker ${h.dockerSocket}`);
    const s = h.state.ssh;
    if (s) console.log(`      ssh ${s.username}@${s.address} -p ${s.port} -i ${s.privateKeyFile} -o StrictHostKeyChecking=no`);
  }
  console.log(`remove with: drover lab down ${lab.runId}`);
  return 0;
}

/**
 * The run a command means when none was named: the only one there is. With several, acting on
 * "the newest" could stop or enter another engineer's or test's run, so it refuses and names them.
 */
export function onlyRun(command: string): string {
  const { Lab } = loadLab();
  const { readState } = require("./state-file") as typeof import("./state-file");
  const ids = Lab.runIds();
  if (ids.length === 0) throw new Error("no lab runs: start one with `drover lab up N`");
  if (ids.length > 1) {
    const named = ids.map((id) => { const st = readState(id); return `${id}${st?.name ? ` (${st.name})` : ""}${st?.createdAt ? ` created ${st.createdAt}` : ""}`; });
    throw new Error(`${ids.length} lab runs exist: ${named.join(", ")}; say which with \`drover lab ${command} --run RUNID\``);
  }
  return ids[0];
}

/** Run ids found anywhere: state files, run dirs, namespaces, cgroups, subnet markers. */
async function everyRunId(): Promise<string[]> {
  const { Lab } = loadLab();
  const { runOk } = require("./proc") as typeof import("./proc");
  const { cgroupDirsWithPrefix } = require("./cgroups") as typeof import("./cgroups");
  const { subnetDir } = require("./subnet") as typeof import("./subnet");
  const ids = new Set(Lab.runIds());
  const grab = (s: string): void => { const m = /^drv-([0-9a-f]{6})-/.exec(s); if (m) ids.add(m[1]); };
  for (const l of (await runOk(["ip", "netns", "list"])).stdout.split("\n")) grab(l);
  for (const l of (await runOk(["ip", "-o", "link", "show"])).stdout.split("\n")) grab(l.split(": ")[1] ?? "");
  for (const d of cgroupDirsWithPrefix("drv-")) grab(path.basename(d));
  try {
    for (const f of fs.readdirSync(subnetDir())) {
      const id = fs.readFileSync(path.join(subnetDir(), f), "utf8").trim();
      if (/^[0-9a-f]{6}$/.test(id)) ids.add(id);
    }
  } catch { /* no markers */ }
  return [...ids];
}

async function down(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { all: { type: "boolean" }, run: { type: "string" } } });
  const { Lab } = loadLab();
  const { teardownRun } = require("./teardown") as typeof import("./teardown");
  let ids: string[];
  if (values.all) {
    if (positionals.length || values.run) throw new UsageError("down takes a run id or --all, not both");
    ids = await everyRunId();
  } else if (values.run || positionals.length) {
    if (values.run && positionals.length) throw new UsageError("down takes the run id once: as RUNID or as --run RUNID");
    ids = values.run ? [values.run] : positionals;
  } else {
    if (Lab.runIds().length === 0) ids = [];
    else ids = [onlyRun("down")];
  }
  if (ids.length === 0) {
    console.log("no lab runs");
    return 0;
  }
  let failed = 0;
  for (const id of ids) {
    try {
      const res = await teardownRun(id);
      console.log(`lab run ${id}: down in ${res.ms} ms (stop ${res.phases.stop}, sweep ${res.phases.sweep}, clean ${res.phases.clean}), nothing left`);
    } catch (err) {
      failed++;
      console.error((err as Error).message);
    }
  }
  return failed ? 1 : 0;
}

async function exec(argv: string[]): Promise<number> {
  const dash = argv.indexOf("--");
  if (dash < 0 || dash === argv.length - 1) throw new UsageError("exec needs `-- <command...>`");
  const { values, positionals } = parseArgs({ args: argv.slice(0, dash), allowPositionals: true, strict: true, options: { run: { type: "string" } } });
  if (positionals.length !== 1) throw new UsageError("exec needs exactly one host before --");
  const { Lab } = loadLab();
  const runId = values.run ?? onlyRun("exec");
  const host = Lab.attach(runId).host(positionals[0]);
  const args = host.argv(argv.slice(dash + 1));
  const child = spawn(args[0], args.slice(1), { stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

async function ls(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { json: { type: "boolean" } } });
  const { readState } = require("./state-file") as typeof import("./state-file");
  const { isAlive } = require("./proc") as typeof import("./proc");
  const { Lab } = loadLab();
  const rows = Lab.runIds().map((id) => {
    const st = readState(id);
    const dockerds = st?.hosts.filter((h) => h.dockerd && isAlive(h.dockerd)).length ?? 0;
    const status = !st ? "no state file" : !st.ready ? "partial" : dockerds === st.hosts.length ? "up" : `${dockerds}/${st.hosts.length} dockerd running`;
    return { runId: id, name: st?.name ?? "", hosts: st?.hosts.map((h) => h.name) ?? [], subnet: st?.subnet ?? "", createdAt: st?.createdAt ?? "", status };
  });
  if (values.json) {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    console.log("no lab runs");
    return 0;
  }
  console.log(["RUN".padEnd(8), "HOSTS".padEnd(6), "SUBNET".padEnd(16), "CREATED".padEnd(25), "STATUS".padEnd(12), "NAME"].join(" "));
  for (const r of rows) {
    console.log([r.runId.padEnd(8), String(r.hosts.length).padEnd(6), r.subnet.padEnd(16), r.createdAt.padEnd(25), r.status.padEnd(12), r.name].join(" "));
  }
  return 0;
}

const subcommands: Record<keyof typeof USAGE, (argv: string[]) => Promise<number>> = { up, down, exec, ls };

export const labCommand: Command = {
  name: "lab",
  summary: "multi-host test lab: hosts as network namespaces with their own dockerd",
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (!sub || !(sub in subcommands)) throw new UsageError(sub ? `unknown subcommand "${sub}"` : "missing subcommand");
    const name = sub as keyof typeof USAGE;
    if (wantsHelp(rest)) {
      console.log(USAGE[name].join("\n"));
      return 0;
    }
    try {
      return await subcommands[name](rest);
    } catch (err) {
      // Bad input goes back to main (usage, exit 2); anything else is reported without a stack.
      if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) throw err;
      console.error(`drover lab ${name}: ${(err as Error).message}`);
      return 1;
    }
  },
};
