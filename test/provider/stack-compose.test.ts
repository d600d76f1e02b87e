/** drover:Stack with compose files: check() reads them as the server does (place of a problem, services for the preview); diff updates in place. */
import t from "tap";
import { stackProvider, UNKNOWN } from "../../provider";

const conn = { endpoint: "http://127.0.0.1:1", apiKey: "drk_test", envId: "env1" };
const dockerCompose = "version: '2'\nservices:\n  web:\n    image: nginx:1.25\n    ports: ['8080:80']\n    links: [db]\n    cap_drop: [ALL]\n  db:\n    image: redis:7\n";
const rancherCompose = "version: '2'\nservices:\n  web:\n    scale: 2\n    health_check: {port: 80}\n";

t.test("check: services for the preview, failures with file, line and column", async (t) => {
  const ok = await stackProvider.check({}, { ...conn, name: "shop", dockerCompose, rancherCompose });
  t.same(ok.failures, []);
  t.same(ok.inputs.composeServices, [
    "service web: nginx:1.25, scale 2, ports 8080:80/tcp, links db, health check :80",
    "service db: redis:7, scale 1",
  ]);
  const bad = await stackProvider.check({}, { ...conn, name: "shop", dockerCompose: dockerCompose.replace("links: [db]", "links: [cache]") });
  t.same(bad.failures.map((f: any) => f.property), ["dockerCompose"]);
  t.match(bad.failures[0].reason, /^docker-compose\.yml:6:13: services\.web\.links\[0\]: links to cache/);
  const scale = await stackProvider.check({}, { ...conn, name: "shop", dockerCompose, rancherCompose: "web:\n  scale: -1\n" });
  t.match(scale.failures, [{ property: "rancherCompose", reason: /^rancher-compose\.yml:2:3: web\.scale/ }]);
  const unknown = await stackProvider.check({}, { ...conn, name: "shop", dockerCompose: UNKNOWN });
  t.same(unknown.failures, [], "an unknown file (preview) is not judged");
});

t.test("diff: a compose change updates the stack in place", async (t) => {
  const olds = (await stackProvider.check({}, { ...conn, name: "shop", dockerCompose, rancherCompose })).inputs;
  const news = (await stackProvider.check({}, { ...conn, name: "shop", dockerCompose: dockerCompose.replace("redis:7", "redis:7.2"), rancherCompose })).inputs;
  const d = await stackProvider.diff("stk1", olds, news);
  t.equal(d.changes, true);
  t.same(d.replaces ?? [], []);
  t.same(d.replaces, [], "in place");
  const same = await stackProvider.diff("stk1", olds, olds);
  t.equal(same.changes, false);
});
