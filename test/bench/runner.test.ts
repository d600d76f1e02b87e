import { execFile } from "child_process";
import * as path from "path";
import t from "tap";
import { promisify } from "util";

const run = promisify(execFile);
const index = path.resolve(__dirname, "../../bench/index.js");

// `npm run bench` lists the benchmarks; `npm run bench -- <name>` ends with one JSON line.
t.test("the bench runner lists every benchmark", async (t) => {
  const { stdout } = await run(process.execPath, [index]);
  for (const name of ["scheduler", "dns", "server-start", "control-plane", "overhead"]) t.match(stdout, new RegExp(`^\\s+${name}\\s`, "m"), name);
});

t.test("a benchmark's last line is the result object", async (t) => {
  const { stdout } = await run(process.execPath, [index, "scheduler"], { timeout: 120_000 }).catch((e) => e);
  const last = JSON.parse(String(stdout).trim().split("\n").pop()!);
  t.equal(last.name, "scheduler");
  t.equal(last.unit, "placements/s");
  t.type(last.value, "number");
  t.type(last.baseline, "number");
  t.type(last.ratio, "number");
  t.type(last.goal, "string");
  t.type(last.ok, "boolean");
});

t.test("an unknown benchmark is refused", async (t) => {
  const err = await run(process.execPath, [index, "nope"]).then(() => undefined, (e) => e);
  t.equal(err?.code, 2);
  t.match(err?.stderr, /unknown benchmark "nope"/);
});
