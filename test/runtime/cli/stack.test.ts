/**
 * `drover stack import|export` as a user runs it (bin/drover.js) against a real API server:
 * files and env files read here, warnings on stderr by file:line:column and path, a bad
 * file refused before any call, export written back as files that import to no change.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { runNode } from "../../support/run-node";
import { apiFixture, seedEnv } from "../api/api-fixture";

const bin = path.resolve(__dirname, "../../../../bin/drover.js");
const corpus = path.resolve(__dirname, "../../../../test/runtime/compose/corpus");

t.test("drover stack import and export", async (t) => {
  const f = await apiFixture(t);
  const { env } = await seedEnv(f);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "drover-stack-cli-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const wordpress = fs.readFileSync(path.join(corpus, "wordpress-docker-compose.yml"), "utf8");
  fs.writeFileSync(path.join(dir, "docker-compose.yml"), wordpress.replace("\nvolumes:", "\n  cron:\n    image: busybox\n    env_file: conf/cron.env\nvolumes:"));
  fs.copyFileSync(path.join(corpus, "wordpress-rancher-compose.yml"), path.join(dir, "rancher-compose.yml"));
  fs.mkdirSync(path.join(dir, "conf"));
  fs.writeFileSync(path.join(dir, "conf/cron.env"), "SCHEDULE=hourly\n");
  const environment = { ...process.env, DROVER_URL: f.url, DROVER_API_KEY: env.apiKey, DROVER_ENV: "" };
  const drover = (args: string[]) => runNode([bin, "stack", ...args], { env: environment });

  const imported = await drover(["import", "blog", "-f", path.join(dir, "docker-compose.yml")]);
  t.equal(imported.code, 0, imported.err);
  t.match(imported.out, /wordpress\s+created/);
  t.match(imported.err, new RegExp(`warning: ${dir.replace(/[/.]/g, "\\$&")}/docker-compose\\.yml:17:5: services\\.wordpress\\.depends_on: `), "warnings name the file given and the place");
  const services = await f.store.list(env.id, "service");
  t.equal(services.find((s) => s.name === "wordpress")?.spec.scale, 2, "rancher-compose.yml beside it was used");
  t.equal(services.find((s) => s.name === "cron")?.spec.env.SCHEDULE, "hourly", "env_file read relative to docker-compose.yml");

  const out = path.join(dir, "exported");
  const exported = await drover(["export", "blog", "-o", out]);
  t.equal(exported.code, 0, exported.err);
  const before = await f.store.snapshot(env.id);
  const again = await drover(["import", "blog", "-f", path.join(out, "docker-compose.yml"), "-f", path.join(out, "rancher-compose.yml")]);
  t.equal(again.code, 0, again.err);
  t.notMatch(again.out, /created|updated/, "its own export imports to no change");
  t.equal((await f.store.snapshot(env.id)).rev, before.rev, "nothing written");

  fs.writeFileSync(path.join(dir, "conf/bad.yml"), "web:\n  image: a\n  links: [db]\n");
  const bad = await drover(["import", "blog", "-f", path.join(dir, "conf/bad.yml")]);
  t.equal(bad.code, 1);
  t.match(bad.err, /bad\.yml:3:11: web\.links\[0\]: links to db/);
  const usage = await drover(["import", "blog"]);
  t.equal(usage.code, 2, "no -f is a usage error");
});
