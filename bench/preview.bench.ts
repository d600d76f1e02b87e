/**
 * What a no-op `pulumi preview` costs per drover resource. One program, three stacks: 100
 * resources (1 Environment, 1 Stack, 98 Services of scale 0), the smallest program with every
 * provider type (Environment, Stack, 1 Service: 3 resources), and 0 resources; all `up` first,
 * then `pulumi preview --expect-no-changes` of each, alternating, ROUNDS times (which also
 * proves the previews are honest: any spurious diff fails the benchmark).
 * Fixed cost = median preview of the 3-resource stack: the engine, the dynamic-provider
 * process and one serialization per provider type, paid once whatever the program's size.
 * value = (median of 100 − fixed) / 97. The empty program's preview (the engine alone) is in `extra`.
 */
import * as fs from "fs";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { median } from "./support/procs";
import { benchServer, benchStack, Cleanup, timed, writeProgram } from "./support/pulumi-bench";

const RESOURCES = 100;
const SMALL = 3;
const ROUNDS = 5;
const GOAL_MS = 2;

// kind=bare: the same number of dynamic resources with a provider that does nothing (no
// drover code at all): what the engine and the SDK cost per dynamic resource on this machine.
const PROGRAM = `
const n = cfg.requireNumber("resources");
if (cfg.get("kind") === "bare") {
  const bare = { async check(o, n) { return { inputs: n }; }, async diff() { return {}; }, async create(i) { return { id: i.k, outs: i }; } };
  for (let i = 0; i < n; i++) new pulumi.dynamic.Resource(bare, "bare" + i, { k: "k" + i, image: "local/busybox", scale: 0 }, {}, "bench", "Bare");
} else if (n >= 2) {
  const env = new drover.Environment("env", { name: cfg.require("envName") });
  const stack = new drover.Stack("bench", { environment: env, name: "bench" });
  for (let i = 0; i < n - 2; i++) {
    new drover.Service("svc" + i, { stack, name: "svc" + i, image: "local/busybox", command: ["sleep", "3600"], scale: 0 });
  }
}
`;

export const benchmark: Benchmark = {
  name: "preview",
  summary: `ms per resource of a no-op \`pulumi preview\` with ${RESOURCES} drover resources, beyond an empty program's`,
  async run(): Promise<BenchResult> {
    const cleanup = new Cleanup();
    const programDir = writeProgram("preview", PROGRAM);
    cleanup.teardown(() => fs.rmSync(programDir, { recursive: true, force: true }));
    try {
      const server = await benchServer(cleanup);
      const full = await benchStack(cleanup, programDir, server, { resources: String(RESOURCES), envName: `pv-${server.prefix}` });
      const small = await benchStack(cleanup, programDir, server, { resources: String(SMALL), envName: `pvs-${server.prefix}` });
      const empty = await benchStack(cleanup, programDir, server, { resources: "0", envName: "unused" });
      const bareFull = await benchStack(cleanup, programDir, server, { resources: String(RESOURCES), envName: "unused", kind: "bare" });
      const bareSmall = await benchStack(cleanup, programDir, server, { resources: String(SMALL), envName: "unused", kind: "bare" });
      const upMs = await timed(full, ["up", "--yes", "--skip-preview"]);
      cleanup.teardown(() => full.ok(["destroy", "--yes", "--skip-preview"], 600_000));
      await timed(small, ["up", "--yes", "--skip-preview"]);
      cleanup.teardown(() => small.ok(["destroy", "--yes", "--skip-preview"], 600_000));
      await timed(empty, ["up", "--yes", "--skip-preview"]);
      for (const bare of [bareFull, bareSmall]) {
        await timed(bare, ["up", "--yes", "--skip-preview"]);
        cleanup.teardown(() => bare.ok(["destroy", "--yes", "--skip-preview"], 600_000));
      }
      const fullMs: number[] = [];
      const smallMs: number[] = [];
      const bareFullMs: number[] = [];
      const bareSmallMs: number[] = [];
      const emptyMs: number[] = [];
      const stacks = [[full, fullMs], [small, smallMs], [empty, emptyMs], [bareFull, bareFullMs], [bareSmall, bareSmallMs]] as const;
      for (let r = 0; r < ROUNDS; r++) {
        // Rotate which goes first so drift in machine load hits all alike.
        for (let k = 0; k < stacks.length; k++) {
          const [ws, into] = stacks[(k + r) % stacks.length];
          into.push(await timed(ws, ["preview", "--expect-no-changes"]));
        }
      }
      const fixed = median(smallMs);
      const perResource = (median(fullMs) - fixed) / (RESOURCES - SMALL);
      const barePerResource = (median(bareFullMs) - median(bareSmallMs)) / (RESOURCES - SMALL);
      return {
        name: "preview",
        unit: "ms/resource",
        value: round(perResource, 2),
        baseline: round(fixed, 0),
        ratio: round(perResource / GOAL_MS, 3),
        goal: `< ${GOAL_MS} ms per resource beyond the fixed cost (baseline = the fixed cost in ms: preview of the ${SMALL}-resource program; ratio = value / goal)`,
        ok: perResource < GOAL_MS,
        extra: {
          previewFullMedianMs: round(median(fullMs), 0), previewSmallMedianMs: round(fixed, 0), previewEmptyMedianMs: round(median(emptyMs), 0),
          previewFullMs: fullMs.map((x) => Math.round(x)).join(" "), previewSmallMs: smallMs.map((x) => Math.round(x)).join(" "),
          previewEmptyMs: emptyMs.map((x) => Math.round(x)).join(" "),
          // The floor: a do-nothing dynamic resource, measured the same way; drover's own share is the difference.
          bareDynamicMsPerResource: round(barePerResource, 2),
          droverOverBare: round(perResource / barePerResource, 3),
          firstUpMs: Math.round(upMs),
        },
      };
    } finally {
      await cleanup.run();
    }
  },
};
