import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { typeCheck } from "../support/tsc";

// The built drover types as a TypeScript user meets them: `tsc --noEmit` on a program of
// valid forms (must compile) and on one with each typo of the issue, one per line, each
// marked with the error it must produce (and no unmarked line may fail).
const dir = path.resolve(__dirname, "../../../test/fixtures/types");

t.test("tsc accepts the valid forms and refuses each typo with its error", async (t) => {
  t.setTimeout(300_000);
  const { errors, output } = await typeCheck(dir);
  t.ok(errors.length > 0 || output === "", "tsc ran", { output: output.slice(0, 2000) });
  const valid = path.join(dir, "valid.ts");
  t.same(errors.filter((e) => e.file === valid), [], "valid.ts compiles: every rule, soft and ne forms, lists of values, port forms, restart policies");

  const typos = path.join(dir, "typos.ts");
  const lines = fs.readFileSync(typos, "utf8").split("\n");
  const marked = lines.map((text, i) => ({ line: i + 1, expect: /\/\/ error: (.*)$/.exec(text)?.[1] })).filter((m) => m.expect);
  t.ok(marked.length >= 15, `${marked.length} typos`);
  for (const { line, expect } of marked) {
    const [code, ...rest] = expect!.split(": ");
    const pattern = new RegExp(rest.join(": "));
    const found = errors.filter((e) => e.file === typos && e.line === line);
    t.ok(found.some((e) => e.code === code && pattern.test(e.message)), `line ${line}: ${code} ${pattern}`, { got: found });
  }
  const stray = errors.filter((e) => e.file === typos && !marked.some((m) => m.line === e.line));
  t.same(stray, [], "no unmarked line fails");
  t.same(errors.filter((e) => e.file !== typos && e.file !== valid), [], "no error elsewhere (drover's own .d.ts included)");
});
