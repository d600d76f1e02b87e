/**
 * What a no-op `pulumi preview` costs per drover resource, against the floor: the same number
 * of do-nothing dynamic resources with the same input shapes. One program, four stacks, all
 * `up` first, then `pulumi preview --expect-no-changes` of each, rotating, ROUNDS times (any
 * spurious diff fails the benchmark, so the previews are honest):
 *
 * - drover: 1 Environment, 1 Stack, 98 Services of scale 0; every Service takes a secret
 *   (the environment's API key, through the stack) and inputs from another resource's
 *   outputs (stackId, envId, endpoint).
 * - bare: 1 root, 1 middle, 98 leaves of a provider that does nothing (check echoes, diff
 *   says no change), built the same way: the middle takes the root's secret output and id,
 *   every leaf the middle's, plus the same plain inputs as a Service; secret outputs
 *   declared as drover declares them.
 * - the 3-resource programs of each (drover: Environment, Stack, one Service): their fixed
 *   cost (engine, provider process, one serialization per provider type).
 *
 * per resource = (preview of 100 − preview of 3 in the same round) / 97, the median over the
 * rounds, for each, in CPU time of the whole process tree (engine, language host, program,
 * dynamic-provider host): on a machine shared with other jobs wall time swings by 2x
 * between runs, CPU time far less. value = drover's, baseline = bare's, ratio = value /
 * baseline; wall-time figures in extra.
 */
import * as fs from "fs";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { median } from "./support/procs";
import { benchServer, benchStack, Cleanup, measured, timed, writeProgram, type Measured } from "./support/pulumi-bench";

const RESOURCES = 100;
const SMALL = 3;
const ROUNDS = 7;
const GOAL_RATIO = 1.1;

const PROGRAM = `
const n = cfg.requireNumber("resources");
const service = (i) => ({ name: "svc" + i, image: "local/busybox", command: ["sleep", "3600"], scale: 0 });
if (cfg.get("kind") === "bare") {
  const bare = {
    async check(olds, news) { return { inputs: news }; },
    async diff() { return { changes: false }; },
    async create(inputs) { return { id: inputs.name, outs: { ...inputs, key: "k-" + inputs.name, serverUrl: inputs.endpoint } }; },
  };
  const mk = (name, props) => new pulumi.dynamic.Resource(bare, name, { ...props, key: undefined, serverUrl: undefined },
    { additionalSecretOutputs: ["key", "apiKey"] }, "bench", "Bare");
  const root = mk("root", { name: "root", endpoint: new pulumi.Config("drover").require("endpoint") });
  const middle = mk("middle", { name: "middle", envId: root.id, endpoint: root.serverUrl, apiKey: pulumi.secret(root.key) });
  for (let i = 0; i < n - 2; i++) {
    mk("leaf" + i, { ...service(i), stackId: middle.id, envId: middle.envId, endpoint: middle.serverUrl, apiKey: pulumi.secret(middle.apiKey) });
  }
} else {
  const env = new drover.Environment("env", { name: cfg.require("envName") });
  const stack = new drover.Stack("bench", { environment: env, name: "bench" });
  for (let i = 0; i < n - 2; i++) new drover.Service("svc" + i, { stack, ...service(i) });
}
`;

export const benchmark: Benchmark = {
  name: "preview",
  summary: `ms per resource of a no-op \`pulumi preview\` of ${RESOURCES} drover resources, over do-nothing dynamic resources with the same input shapes`,
  async run(): Promise<BenchResult> {
    const cleanup = new Cleanup();
    const programDir = writeProgram("preview", PROGRAM);
    cleanup.teardown(() => fs.rmSync(programDir, { recursive: true, force: true }));
    try {
      const server = await benchServer(cleanup);
      const stack = (config: Record<string, string>) => benchStack(cleanup, programDir, server, config);
      const full = await stack({ resources: String(RESOURCES), envName: `pv-${server.prefix}` });
      const small = await stack({ resources: String(SMALL), envName: `pvs-${server.prefix}` });
      const bareFull = await stack({ resources: String(RESOURCES), kind: "bare" });
      const bareSmall = await stack({ resources: String(SMALL), kind: "bare" });
      const upMs = await timed(full, ["up", "--yes", "--skip-preview"]);
      cleanup.teardown(() => full.ok(["destroy", "--yes", "--skip-preview"], 600_000));
      await timed(small, ["up", "--yes", "--skip-preview"]);
      cleanup.teardown(() => small.ok(["destroy", "--yes", "--skip-preview"], 600_000));
      for (const bare of [bareFull, bareSmall]) {
        await timed(bare, ["up", "--yes", "--skip-preview"]);
        cleanup.teardown(() => bare.ok(["destroy", "--yes", "--skip-preview"], 600_000));
      }
      const runs = { full: [] as Measured[], small: [] as Measured[], bareFull: [] as Measured[], bareSmall: [] as Measured[] };
      const stacks = [[full, runs.full], [bareFull, runs.bareFull], [small, runs.small], [bareSmall, runs.bareSmall]] as const;
      for (let r = 0; r < ROUNDS; r++) {
        // Rotate which goes first so drift in machine load hits all alike.
        for (let k = 0; k < stacks.length; k++) {
          const [ws, into] = stacks[(k + r) % stacks.length];
          into.push(await measured(ws, ["preview", "--expect-no-changes"]));
        }
      }
      // Per round, back to back: each 100-resource preview minus its own kind's 3-resource one,
      // so load that drifts between rounds cancels; the medians over rounds are reported.
      const per = (key: "cpuMs" | "wallMs", big: Measured[], little: Measured[]) =>
        big.map((m, r) => (m[key] - little[r][key]) / (RESOURCES - SMALL));
      const cpu = median(per("cpuMs", runs.full, runs.small));
      const bareCpu = median(per("cpuMs", runs.bareFull, runs.bareSmall));
      const wall = median(per("wallMs", runs.full, runs.small));
      const bareWall = median(per("wallMs", runs.bareFull, runs.bareSmall));
      const ratio = cpu / bareCpu;
      const list = (ms: Measured[], key: "cpuMs" | "wallMs") => ms.map((m) => Math.round(m[key])).join(" ");
      return {
        name: "preview",
        unit: "CPU ms/resource",
        value: round(cpu, 2),
        baseline: round(bareCpu, 2),
        ratio: round(ratio, 3),
        goal: `ratio <= ${GOAL_RATIO}: a no-op preview costs per drover resource at most ${GOAL_RATIO}x what it costs per do-nothing dynamic resource with the same input shapes (a secret, inputs from other resources' outputs); cost = CPU time of the engine, program and provider processes`,
        ok: ratio <= GOAL_RATIO,
        extra: {
          wallMsPerResource: round(wall, 2), bareWallMsPerResource: round(bareWall, 2), wallRatio: round(wall / bareWall, 3),
          droverFullCpuMs: list(runs.full, "cpuMs"), droverSmallCpuMs: list(runs.small, "cpuMs"),
          bareFullCpuMs: list(runs.bareFull, "cpuMs"), bareSmallCpuMs: list(runs.bareSmall, "cpuMs"),
          droverFullWallMs: list(runs.full, "wallMs"), droverSmallWallMs: list(runs.small, "wallMs"),
          bareFullWallMs: list(runs.bareFull, "wallMs"), bareSmallWallMs: list(runs.bareSmall, "wallMs"),
          firstUpMs: Math.round(upMs),
        },
      };
    } finally {
      await cleanup.run();
    }
  },
};
