import t from "tap";
import { createLogger } from "../../../runtime/protocol/log";

type Line = Record<string, unknown>;

function capture(level?: "debug" | "info" | "warn" | "error", mask?: { apply(text: string): string }) {
  const lines: string[] = [];
  const log = createLogger((l) => lines.push(l), level, { component: "test" }, mask);
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Line) };
}

t.test("one JSON object per line: level as a word, ISO time, bound and call fields, msg", async (t) => {
  const { log, lines, parsed } = capture("info");
  log.child({ hostId: "h1" }).warn("tunnel down", { peer: "10.0.0.2", n: 3 });
  t.equal(lines.length, 1);
  t.notOk(lines[0].includes("\n"), "no newline inside a line");
  const [line] = parsed();
  t.match(line, { level: "warn", component: "test", hostId: "h1", peer: "10.0.0.2", n: 3, msg: "tunnel down" });
  t.ok(!Number.isNaN(Date.parse(String(line.time))) && String(line.time).endsWith("Z"), "ISO time");
  t.notOk("pid" in line || "hostname" in line, "no pino base fields");
});

t.test("lines below the level are dropped", async (t) => {
  const { log, parsed } = capture("warn");
  log.debug("d"); log.info("i"); log.warn("w"); log.error("e");
  t.same(parsed().map((l) => l.level), ["warn", "error"]);
});

t.test("credential-looking fields are masked whatever the caller passes; errors become their message", async (t) => {
  const { log, lines } = capture("debug");
  log.child({ apiToken: "child-secret" }).info("x", { password: "hunter2", registrationToken: "tok", err: new Error("boom"), skip: undefined });
  const text = lines.join("\n");
  for (const secret of ["child-secret", "hunter2", "tok\""]) t.notOk(text.includes(secret), `${secret} not in the line`);
  const line = JSON.parse(lines[0]) as Line;
  t.equal(line.password, "***");
  t.equal(line.err, "boom");
  t.notOk("skip" in line);
});

t.test("the mask replaces opened secret values anywhere in the line", async (t) => {
  const mask = { apply: (text: string) => text.split("s3cr3t-value").join("***") };
  const { log, lines } = capture("info", mask);
  log.info("env has s3cr3t-value", { detail: "x=s3cr3t-value" });
  t.notOk(lines[0].includes("s3cr3t-value"));
  t.match(JSON.parse(lines[0]), { msg: "env has ***", detail: "x=***" });
});
