import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { labCommand } from "../../lab/lab-command";

// `drover lab exec` and `lab down` never guess between several runs: they name them and ask
// for --run. State files only (no run is brought up): $DROVER_STATE points at a temp dir.
t.test("several lab runs: exec and down name them and ask for --run", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-lab-choice-"));
  const saved = process.env.DROVER_STATE;
  process.env.DROVER_STATE = dir;
  const errors: string[] = [];
  const origError = console.error;
  console.error = (...a: unknown[]) => { errors.push(a.join(" ")); };
  t.teardown(() => {
    console.error = origError;
    if (saved === undefined) delete process.env.DROVER_STATE; else process.env.DROVER_STATE = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.mkdirSync(path.join(dir, "lab"), { recursive: true });
  const write = (runId: string, name: string, createdAt: string) => fs.writeFileSync(path.join(dir, "lab", `${runId}.json`),
    JSON.stringify({ version: 1, runId, name, createdAt, ownerPid: 1, sshd: false, ready: true, hosts: [] }));
  write("aaa111", "mine", "2026-01-01T00:00:00.000Z");

  // One run: exec picks it (and fails on the host name, past the choice of run).
  t.equal(await labCommand.run(["exec", "h9", "--", "true"]), 1);
  t.notMatch(errors.join("\n"), /--run/, "one run: no question asked");
  errors.length = 0;

  write("bbb222", "theirs", "2026-01-02T00:00:00.000Z");
  t.equal(await labCommand.run(["exec", "h1", "--", "true"]), 1, "exec refuses");
  t.match(errors.join("\n"), /drover lab exec: 2 lab runs exist: bbb222 \(theirs\) created .*, aaa111 \(mine\) created .*; say which with `drover lab exec --run RUNID`/);
  errors.length = 0;
  t.equal(await labCommand.run(["down"]), 1, "down refuses");
  t.match(errors.join("\n"), /drover lab down: 2 lab runs exist: bbb222 \(theirs\).*aaa111 \(mine\).*`drover lab down --run RUNID`/);
  t.ok(fs.existsSync(path.join(dir, "lab", "aaa111.json")) && fs.existsSync(path.join(dir, "lab", "bbb222.json")), "nothing was taken down");
  await t.rejects(labCommand.run(["down", "aaa111", "--run", "bbb222"]), /the run id once/, "a run named twice is refused");
});
