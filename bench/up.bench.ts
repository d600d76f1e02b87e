/**
 * `pulumi up` of one service of scale 20 on a local host against raw dockerode creating and
 * starting the same 20 containers, in the same run.
 *
 * drover: a program with an Environment, a `local` Host (the agent runs on this machine's
 * dockerd), a Stack, and, when config `scale` is set, a Service of that scale. It is `up`
 * without the service first; then each round times `pulumi up` adding the service (create
 * returns once all 20 run) and removes it again (untimed). The engine's fixed cost is the
 * median `pulumi up` of an empty program (same engine, no resources).
 * raw: the create options the agent builds (agent/docker/container-config.ts, marked
 * unmanaged so no agent touches them), created and started one after another, as the agent
 * applies its actions.
 * ratio = (median drover up − fixed cost) / median raw time; goal ≤ 1.2.
 * `extra` also has a no-op `up` of the same program before the service is added (the cost of
 * the program's own Environment, Host and Stack: provider serialization, check, diff), the
 * ratio against that, and the Service's own create time as Pulumi printed it.
 */
import { dockerConcurrency } from "../agent/docker/concurrency";
import Docker from "dockerode";
import { forEachLimited } from "../agent/limited";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { createOptions } from "../agent/docker/container-config";
import type { DesiredInstance } from "../runtime/protocol/model";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";
import { median } from "./support/procs";
import { benchServer, benchStack, Cleanup, timed, writeProgram } from "./support/pulumi-bench";

const SCALE = 20;
const ROUNDS = 3;
const GOAL = 1.2;
const IMAGE = "local/busybox";
const COMMAND = ["sleep", "3600"];

const PROGRAM = `
if (cfg.getBoolean("app")) {
  const env = new drover.Environment("env", { name: cfg.require("envName") });
  const host = new drover.Host("local", { environment: env, name: cfg.require("hostName"), driver: { type: "local", stateDir: cfg.require("agentStateDir") } });
  const stack = new drover.Stack("bench", { environment: env, name: "bench" });
  const scale = cfg.getNumber("scale");
  if (scale !== undefined) {
    new drover.Service("web", { stack, name: "web", image: ${JSON.stringify(IMAGE)}, command: ${JSON.stringify(COMMAND)}, scale }, { dependsOn: [host] });
  }
}
`;

function rawOptions(name: string): Docker.ContainerCreateOptions {
  const instance: DesiredInstance = {
    id: `i${randomBytes(6).toString("hex")}`, name, serviceId: "rawbench", stackId: "rawbench",
    spec: {
      image: IMAGE, command: COMMAND, env: {}, ports: [],
      labels: { "io.rancher.stack.name": "bench", "io.rancher.stack_service.name": "bench/web", "io.rancher.container.name": name },
      restartPolicy: { name: "always" },
    },
  };
  const options = createOptions(instance, { envId: "raw-bench", hostId: "raw-bench" });
  options.Labels = { ...options.Labels, "io.drover.managed": "false" };
  return options;
}

async function rawRound(docker: Docker, tag: string): Promise<{ ms: number; ids: string[] }> {
  const ids: string[] = [];
  const t0 = performance.now();
  // As many at once as the agent runs (the same constant): the same work with the same parallelism.
  await forEachLimited(Array.from({ length: SCALE }, (_, i) => i + 1), dockerConcurrency, async (i) => {
    const c = await docker.createContainer(rawOptions(`rawup-${tag}-${i}`));
    ids.push(c.id);
    await c.start();
  });
  return { ms: performance.now() - t0, ids };
}

async function removeRaw(docker: Docker, ids: string[]): Promise<void> {
  for (const id of ids) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
}

export const benchmark: Benchmark = {
  name: "up",
  summary: `\`pulumi up\` of a scale-${SCALE} service on a local host (minus an empty up) vs raw dockerode creating and starting ${SCALE} containers`,
  async run(): Promise<BenchResult> {
    const cleanup = new Cleanup();
    const programDir = writeProgram("up", PROGRAM);
    cleanup.teardown(() => fs.rmSync(programDir, { recursive: true, force: true }));
    const agentDir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-bench-up-"));
    cleanup.teardown(() => fs.rmSync(agentDir, { recursive: true, force: true }));
    const docker = new Docker();
    const rawIds: string[] = [];
    cleanup.teardown(() => removeRaw(docker, rawIds));
    try {
      const server = await benchServer(cleanup);
      const app = await benchStack(cleanup, programDir, server, {
        app: "true", envName: `up-${server.prefix}`, hostName: `bench-${server.prefix}`.toLowerCase(), agentStateDir: agentDir,
      });
      const empty = await benchStack(cleanup, programDir, server, { app: "false" });
      await timed(app, ["up", "--yes", "--skip-preview"]);
      cleanup.teardown(() => app.ok(["destroy", "--yes", "--skip-preview"], 600_000));

      // Warm-up, not counted: the image, the engine and the agent's first containers.
      const warm = await rawRound(docker, "warm");
      await removeRaw(docker, warm.ids);
      await timed(empty, ["up", "--yes", "--skip-preview"]);

      const droverMs: number[] = [];
      const rawMs: number[] = [];
      const emptyMs: number[] = [];
      const noopMs: number[] = [];
      const createS: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const raw = await rawRound(docker, String(r));
        rawIds.push(...raw.ids);
        rawMs.push(raw.ms);
        await removeRaw(docker, raw.ids);
        emptyMs.push(await timed(empty, ["up", "--yes", "--skip-preview"]));
        noopMs.push(await timed(app, ["up", "--yes", "--skip-preview"]));
        await app.ok(["config", "set", "scale", String(SCALE)]);
        const t0 = performance.now();
        const up = await app.ok(["up", "--yes", "--skip-preview"], 600_000);
        droverMs.push(performance.now() - t0);
        const created = /drover:Service web created \((\d+(?:\.\d+)?)s\)/.exec(up.stdout);
        if (created) createS.push(Number(created[1]));
        // Untimed: the service goes again (delete waits until its containers are removed).
        await app.ok(["config", "rm", "scale"]);
        await app.ok(["up", "--yes", "--skip-preview"], 600_000);
      }
      const fixed = median(emptyMs);
      const baseline = median(rawMs);
      const value = median(droverMs) - fixed;
      const ratio = value / baseline;
      return {
        name: "up",
        unit: "ms",
        value: round(value, 0),
        baseline: round(baseline, 0),
        ratio: round(ratio, 3),
        goal: `ratio ≤ ${GOAL}: (pulumi up of a scale-${SCALE} service − an empty up) / raw dockerode create+start of ${SCALE} containers`,
        ok: ratio <= GOAL,
        extra: {
          upMedianMs: round(median(droverMs), 0), emptyUpMedianMs: round(fixed, 0),
          noopAppUpMedianMs: round(median(noopMs), 0),
          ratioOverNoopAppUp: round((median(droverMs) - median(noopMs)) / baseline, 3),
          serviceCreateMedianS: createS.length ? median(createS) : "not printed",
          upMs: droverMs.map((x) => Math.round(x)).join(" "), emptyUpMs: emptyMs.map((x) => Math.round(x)).join(" "),
          rawMs: rawMs.map((x) => Math.round(x)).join(" "),
        },
      };
    } finally {
      await cleanup.run();
    }
  },
};
