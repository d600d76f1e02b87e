import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import t from "tap";
import { containerLabels } from "../../../runtime/protocol/agent-protocol";

// README's first command, `npm run quickstart` (scripts/quickstart.sh): the set-up steps (no-ops
// on this already set-up machine, one line each either way), then a drover server started here,
// `pulumi up` of examples/quickstart (local host, web linked to cache, a load balancer), a
// report of what runs where with the page fetched once, then `pulumi destroy` and the server
// stopped. All of it in under 40 lines; Pulumi's and the set-up's output go to log files.
const listFiles = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => e.isDirectory() ? listFiles(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : []);

t.test("npm run quickstart: set-up steps, pulumi up, report, serve, pulumi destroy, in under 40 lines", async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-quickstart-"));
  t.teardown(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const script = path.resolve(__dirname, "../../../../scripts/quickstart.sh");
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn("bash", [script, "--state-dir", stateDir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (c) => resolve({ code: c, out }));
  });
  t.equal(code, 0, "exits 0", { output: out });
  const lines = out.trimEnd().split("\n");
  t.comment(`npm run quickstart printed ${lines.length} lines`);
  t.ok(lines.length < 40, `under 40 lines (${lines.length})`, { output: out });
  t.match(out, /^drover setup: full log in \S+\.log$/m, "the set-up names its log file");
  for (const label of ["Debian packages (apt)", "npm packages", "build (tsc)", "dockerd", "Redis", "test image local/busybox", "Pulumi engine"]) {
    t.match(out, new RegExp(`^  ${label.replace(/[()]/g, "\\$&")} +\\.* ?✓ \\d+\\.\\ds`, "m"), `one line for the step ${label}, with its time`);
  }
  t.match(out, /^drover setup: ready in \d+\.\ds$/m);
  t.match(out, /^  pulumi up: \+ 7 created in \S+ \(Pulumi's output in \S+pulumi\.log\)$/m, "pulumi up summarized in one line");
  t.notMatch(out, /pulumi-nodejs:dynamic/, "no Pulumi progress lines");
  t.match(fs.readFileSync(path.join(stateDir, "pulumi.log"), "utf8"), /\+ 7 created/, "Pulumi's full output is in the log: it created environment, host, stack, two services and the load balancer");
  t.match(out, /host \S+ \(1h\w+\) active/, "the local host reported active");
  t.match(out, /demo-web-1\s+demo\/web\s+\S+\s+active\s+10\.42\.\d+\.\d+/, "web instance active with an overlay IP");
  t.match(out, /demo-cache-1\s+demo\/cache\s+\S+\s+active/, "cache instance active");
  t.match(out, /demo-web-lb-1\s+demo\/web-lb\s+\S+\s+active/, "the load balancer's instance, under its name");
  t.match(out, /load balancer demo\/web-lb: :\d+ http → demo\/web:80, served by \S+ \(HAProxy running\)/, "the load balancer served by the host's HAProxy");
  t.match(out, /web answers on http:\/\/127\.0\.0\.1:\d+\/ : "drover test page"/, "the published port served the page");
  t.match(out, /and through the load balancer on http:\/\/127\.0\.0\.1:\d+\/ : "drover test page"/, "so did the load balancer");
  t.match(out, /^  pulumi destroy: - 7 deleted in \S+$/m, "pulumi destroy removed all seven");
  t.match(out, /torn down/, "and said so");

  const pid = Number(/server http:\/\/127\.0\.0\.1:\d+ \(pid (\d+)/.exec(out)?.[1]);
  t.ok(pid > 0, "the server's pid was reported");
  t.throws(() => process.kill(pid, 0), "the server was stopped");
  t.notOk(fs.existsSync(path.join(stateDir, "server.json")), "and forgotten");
  const envId = /environment (1a\w+) up/.exec(out)?.[1];
  const left = await new Docker().listContainers({ all: true, filters: { label: [`${containerLabels.env}=${envId}`] } });
  t.same(left.map((c) => c.Names), [], "no container of the environment is left");

  const adminKey = fs.readFileSync(path.join(stateDir, "admin-key"), "utf8").trim();
  const leaks = listFiles(stateDir).filter((f) => !f.endsWith("admin-key") && fs.readFileSync(f, "latin1").includes(adminKey));
  t.same(leaks, [], "the admin key appears in no log, config or state file (the stack config holds it encrypted)");
});
