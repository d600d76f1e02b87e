import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";

// README's first command runs this: a server and an agent on this machine, a linked
// web + cache stack deployed, served, reported and torn down.
t.test("drover quickstart deploys, serves, reports and tears down", async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-quickstart-"));
  t.teardown(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const bin = path.resolve(__dirname, "../../../../bin/drover.js");
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn(process.execPath, [bin, "quickstart", "--state-dir", stateDir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    p.on("close", (c) => resolve({ code: c, out }));
  });
  t.equal(code, 0, "exits 0", { output: out });
  t.match(out, /demo-web-1\s+demo\/web\s+\S+\s+active/, "web instance reported active");
  t.match(out, /demo-cache-1\s+demo\/cache\s+\S+\s+active/, "cache instance reported active");
  t.match(out, /web answers on http:\/\/127\.0\.0\.1:\d+\/ : "drover test page"/, "the published port served the page");
  t.match(out, /torn down/, "and the environment was torn down");
  t.notMatch(fs.readFileSync(path.join(stateDir, "quickstart.log"), "utf8"), new RegExp(fs.readFileSync(path.join(stateDir, "admin-key"), "utf8").trim()),
    "the admin key never appears in the logs");
});
