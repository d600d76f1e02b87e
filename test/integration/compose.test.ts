import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { labForTest, type Lab } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { PulumiWorkspace } from "../support/pulumi-cli";
import { runNode } from "../support/run-node";
import { waitFor } from "../support/wait";

// Issue 13: a docker-compose.yml + rancher-compose.yml pair imported with `drover stack
// import` runs on three lab hosts with its link resolving across hosts; its export imports to
// no change; the same pair through a Pulumi Stack previews its services and ups to the same
// containers.
const bin = path.resolve(__dirname, "../../../bin/drover.js");
const programDir = path.resolve(__dirname, "../../../test/fixtures/pulumi-drover-compose");
const DOCKER_COMPOSE = `version: '2'
services:
  web:
    image: local/busybox
    command: sleep 3600
    links:
      - db:database
    labels:
      com.example.tier: front
    mem_limit: 64m
  db:
    image: local/busybox
    command: ["sh", "-c", "echo db-ok > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"]
`;
const RANCHER_COMPOSE = `version: '2'
services:
  web:
    scale: 3
  db:
    scale: 1
    health_check:
      port: 8080
      request_line: GET / HTTP/1.0
`;

interface Running { host: string; name: string; stack: string; image: string; cmd: string }

async function containers(lab: Lab): Promise<Running[]> {
  const out: Running[] = [];
  for (const h of lab.hosts) {
    const list = await new Docker({ socketPath: h.dockerSocket }).listContainers({ filters: { label: ["io.drover.managed=true"] } });
    for (const c of list) out.push({ host: h.name, name: c.Names[0].slice(1), stack: c.Names[0].slice(1).split("-")[0], image: c.Image, cmd: c.Command });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

t.test("compose pair: CLI import on three hosts, export round trip, the same pair through Pulumi", async (t) => {
  t.setTimeout(600_000);
  const lab = await labForTest(t, { hosts: 3 });
  const { cp, env } = await ControlPlane.forTest(t, lab, { graceMs: 3000, envName: "compose-env" });
  const dir = path.join(lab.runDir, "compose");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "docker-compose.yml"), DOCKER_COMPOSE);
  fs.writeFileSync(path.join(dir, "rancher-compose.yml"), RANCHER_COMPOSE);
  const cli = (args: string[]) => runNode([bin, "stack", ...args], { env: { ...process.env, DROVER_URL: cp.url, DROVER_API_KEY: env.apiKey, DROVER_ENV: "" } });

  const imported = await cli(["import", "shop", "-f", path.join(dir, "docker-compose.yml"), "-f", path.join(dir, "rancher-compose.yml")]);
  t.equal(imported.code, 0, imported.err);
  t.match(imported.err, /warning: .*docker-compose\.yml:10:5: services\.web\.mem_limit: not supported/, "the unsupported key is reported by place and path");
  const shop = await waitFor(async () => {
    const list = (await containers(lab)).filter((c) => c.stack === "shop");
    return list.length === 4 ? list : false;
  }, { what: "four shop containers", timeoutMs: 120_000 });
  const webs = shop.filter((c) => c.name.startsWith("shop-web-"));
  t.same(webs.map((c) => c.host).sort(), lab.hosts.map((h) => h.name).sort(), "web runs once on each of the three hosts");
  for (const w of webs) {
    const host = lab.hosts.find((h) => h.name === w.host)!;
    const got = await waitFor(async () => {
      const r = await host.exec(["docker", "exec", w.name, "timeout", "5", "wget", "-qO-", "http://database:8080/"]);
      return r.code === 0 && r.stdout.trim();
    }, { what: `${w.name} reaching db through its link alias`, timeoutMs: 60_000 });
    t.equal(got, "db-ok", `${w.name} on ${w.host} reaches db as "database"`);
  }

  const outDir = path.join(dir, "exported");
  t.equal((await cli(["export", "shop", "-o", outDir])).code, 0);
  const before = await env.api.ok("GET", `${env.base}/services`);
  const again = await cli(["import", "shop", "-f", path.join(outDir, "docker-compose.yml"), "-f", path.join(outDir, "rancher-compose.yml")]);
  t.equal(again.code, 0, again.err);
  t.match(again.out, /web\s+unchanged[\s\S]*db\s+unchanged|db\s+unchanged[\s\S]*web\s+unchanged/, "the export imports to no change");
  const after = await env.api.ok("GET", `${env.base}/services`);
  t.same(after.data.map((s: any) => [s.name, s.specVersion, s.spec]), before.data.map((s: any) => [s.name, s.specVersion, s.spec]), "services as they were");
  t.same((await containers(lab)).filter((c) => c.stack === "shop").map((c) => c.name), shop.map((c) => c.name), "containers as they were");

  const ws = new PulumiWorkspace(programDir, `compose-${process.pid}-${Date.now()}`);
  t.teardown(() => ws.cleanup());
  const pulumi = ws.okFor(t);
  await ws.init({ "drover:endpoint": cp.url, envId: env.id, stackName: "mall", composeDir: dir });
  await pulumi(["config", "set", "--secret", "apiKey", env.apiKey]);
  const preview = JSON.parse((await pulumi(["preview", "--json"])).stdout);
  const step = (preview.steps as any[]).find((s) => s.urn.endsWith("::compose"));
  t.equal(step?.op, "create");
  t.same(step?.newState?.inputs?.composeServices, ["service web: local/busybox, scale 3, links database→db", "service db: local/busybox, scale 1, health check :8080"], "the preview shows the services the files make");
  t.match(JSON.stringify(preview.diagnostics ?? []), /services\.web\.mem_limit/, "the warning is a Pulumi diagnostic");
  await pulumi(["up", "--yes", "--skip-preview"], 300_000);
  const mall = (await containers(lab)).filter((c) => c.stack === "mall");
  t.same(mall.map((c) => [c.name.replace(/^mall/, ""), c.image, c.cmd]), shop.map((c) => [c.name.replace(/^shop/, ""), c.image, c.cmd]), "the same containers as the CLI import made");
  t.equal((await ws.run(["preview", "--expect-no-changes"])).code, 0, "no changes right after up");
});
