import t from "tap";
import { localRunner } from "../../provider/drivers/local";

// The local driver's runner, given input a script never reads: the write fails (EPIPE) once
// the script has exited. That error, unhandled, ended the whole provider process without an
// answer (host-local.test's delete that printed nothing and left the host behind).
t.test("a script that exits without reading its input answers with its exit code", async (t) => {
  const runner = localRunner();
  // More than a pipe holds (64 KiB), so the write is still going when the script exits.
  const input = "x".repeat(1 << 20);
  for (let k = 0; k < 5; k++) {
    const res = await runner.run("exit 3", { stdin: input });
    t.equal(res.code, 3, `run ${k + 1}: exit code 3, and this process still here`);
  }
  t.equal((await runner.run("cat | wc -c", { stdin: input })).stdout.trim(), String(input.length), "a script that reads it gets all of it");
});
