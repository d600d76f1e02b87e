/** Compose import through the API (on create and ?action=import), View Config export, and what bad files leave behind: nothing. */
import { readFileSync } from "fs";
import { join } from "path";
import t from "tap";
import { apiFixture, seedEnv } from "./api-fixture";

const corpus = join(__dirname, "../../../../test/runtime/compose/corpus");
const dockerCompose = readFileSync(join(corpus, "wordpress-docker-compose.yml"), "utf8");
const rancherCompose = readFileSync(join(corpus, "wordpress-rancher-compose.yml"), "utf8");

t.test("import creates the stack, links by id; re-import and export → import change nothing", async (t) => {
  const f = await apiFixture(t);
  const { env } = await seedEnv(f);
  const key = env.apiKey;
  const stacks = `/v1/environments/${env.id}/stacks`;
  const created = await f.call("POST", `${stacks}?action=import`, { key, body: { name: "blog", dockerCompose, rancherCompose } });
  t.equal(created.status, 201, created.text);
  t.same(created.body.services.map((s: any) => [s.name, s.action]), [["db", "created"], ["wordpress", "created"]]);
  t.same(created.body.warnings.map((w: any) => w.path), ["services.wordpress.depends_on"]);
  t.match(created.body.warnings[0].text, /^docker-compose\.yml:17:5: services\.wordpress\.depends_on: /);
  const services = (await f.call("GET", `/v1/environments/${env.id}/services?stackId=${created.body.stack.id}`, { key })).body.data;
  const db = services.find((s: any) => s.name === "db");
  const wp = services.find((s: any) => s.name === "wordpress");
  t.same(wp.spec.links, { mysql: db.id }, "the link names the db service by id");
  t.equal(wp.spec.scale, 2);
  t.equal(wp.spec.healthCheck.requestLine, "GET /wp-login.php HTTP/1.0");

  await f.unchanged([env.id], "the same files again", async () => {
    const again = await f.call("POST", `${stacks}?action=import`, { key, body: { name: "blog", dockerCompose, rancherCompose } });
    t.equal(again.status, 200);
    t.same(again.body.services.map((s: any) => s.action), ["unchanged", "unchanged"]);
  });
  const exported = await f.call("GET", `${stacks}/${created.body.stack.id}/compose`, { key });
  t.equal(exported.status, 200);
  t.match(exported.body.dockerCompose, /links:\n\s+- db:mysql/);
  t.match(exported.body.rancherCompose, /request_line: GET \/wp-login\.php HTTP\/1\.0/);
  await f.unchanged([env.id], "its own export", async () => {
    const back = await f.call("POST", `${stacks}?action=import`, { key, body: { name: "blog", dockerCompose: exported.body.dockerCompose, rancherCompose: exported.body.rancherCompose } });
    t.equal(back.status, 200, back.text);
    t.same(back.body.warnings, []);
    t.same(back.body.services.map((s: any) => s.action), ["unchanged", "unchanged"]);
  });

  const changed = await f.call("POST", `${stacks}?action=import`, { key, body: { name: "blog", dockerCompose: dockerCompose.replace("mysql:5.7", "mysql:5.7.44"), rancherCompose } });
  t.same(changed.body.services.map((s: any) => [s.name, s.action]), [["db", "updated"], ["wordpress", "unchanged"]]);
  const dbAfter = (await f.call("GET", `/v1/environments/${env.id}/services/${db.id}`, { key })).body;
  t.equal(dbAfter.spec.image, "mysql:5.7.44");

  const conflict = await f.call("POST", stacks, { key, body: { name: "blog", dockerCompose } });
  t.equal(conflict.status, 409, "create with compose files wants a new name");
  const external = await f.call("POST", stacks, { key, body: { name: "shop", dockerCompose: "app:\n  image: busybox\n  external_links: [web/nginx:front, blog/db]\n" } });
  t.equal(external.status, 201, external.text);
  const app = (await f.call("GET", `/v1/environments/${env.id}/services?stackId=${external.body.stack.id}`, { key })).body.data[0];
  t.equal(Object.keys(app.spec.links).sort().join(), "db,front", "external links resolve to other stacks' services");
  const shopExport = await f.call("GET", `${stacks}/${external.body.stack.id}/compose`, { key });
  t.match(shopExport.body.dockerCompose, /external_links:\n\s+- web\/nginx:front\n\s+- blog\/db:db/);
});

t.test("bad files and references: a clear error with the place, nothing changed", async (t) => {
  const f = await apiFixture(t);
  const { env } = await seedEnv(f);
  const key = env.apiKey;
  const url = `/v1/environments/${env.id}/stacks?action=import`;
  const cases: [string, Record<string, unknown>, number, RegExp][] = [
    ["tab", { dockerCompose: "web:\n\timage: busybox\n" }, 422, /docker-compose\.yml:2:1: a tab in the indentation/],
    ["duplicate key", { dockerCompose: "web:\n  image: a\n  image: b\n" }, 422, /docker-compose\.yml:3:3: a key given twice/],
    ["missing link", { dockerCompose: "web:\n  image: a\n  links: [db]\n" }, 422, /docker-compose\.yml:3:11: web\.links\[0\]: links to db/],
    ["scale -1", { dockerCompose: "web:\n  image: a\n", rancherCompose: "web:\n  scale: -1\n" }, 422, /rancher-compose\.yml:2:3: web\.scale/],
    ["missing external", { dockerCompose: "web:\n  image: a\n  external_links: [other/db]\n" }, 422, /services\.web\.links\.db: other\/db is not a live service/],
    ["missing certificate", { dockerCompose: "web:\n  image: a\nlb:\n  image: rancher/lb-service-haproxy\n", rancherCompose: "lb:\n  lb_config:\n    certs: [nope]\n    port_rules: [{source_port: 443, protocol: https, service: web, target_port: 80}]\n" }, 422, /no active certificate named nope/],
    ["missing env file", { dockerCompose: "web:\n  image: a\n  env_file: app.env\n" }, 422, /the env_file app\.env was not found/],
  ];
  await f.unchanged([env.id], "refused imports", async () => {
    for (const [what, files, status, message] of cases) {
      const reply = await f.call("POST", url, { key, body: { name: "web", ...files } });
      t.equal(reply.status, status, what);
      t.match(reply.body.message, message, what);
    }
    const big = await f.call("POST", url, { key, body: { name: "web", dockerCompose: "web:\n  image: a\n#" + "x".repeat(10_000_000) } });
    t.equal(big.status, 413, "a 10 MB file is refused");
  });
  const withEnv = await f.call("POST", url, { key, body: { name: "web", dockerCompose: "app:\n  image: a\n  env_file: ./app.env\n", envFiles: { "app.env": "A=1\n" } } });
  t.equal(withEnv.status, 200, withEnv.text);
  t.same(withEnv.body.notInFiles, ["nginx"], "what the files do not mention is left alone, and said so");
});
