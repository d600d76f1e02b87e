/** Real-world compose files (test/runtime/compose/corpus) import to the expected model, unsupported keys listed by path. */
import { readFileSync } from "fs";
import { join } from "path";
import t from "tap";
import { readCompose, warningText, type ComposeStack } from "../../../runtime/compose";

const corpus = join(__dirname, "../../../../test/runtime/compose/corpus");
const read = (name: string) => readFileSync(join(corpus, name), "utf8");
const paths = (s: ComposeStack) => s.warnings.map((w) => w.path);
const service = (s: ComposeStack, name: string) => s.services.find((x) => x.name === name)!.spec;

t.test("WordPress + MySQL pair (v3 + rancher-compose)", async (t) => {
  const s = readCompose({ dockerCompose: read("wordpress-docker-compose.yml"), rancherCompose: read("wordpress-rancher-compose.yml") });
  t.same(s.services.map((x) => x.name), ["db", "wordpress"]);
  t.same(service(s, "db"), {
    image: "mysql:5.7", env: { MYSQL_ROOT_PASSWORD: "somewordpress", MYSQL_DATABASE: "wordpress", MYSQL_USER: "wordpress", MYSQL_PASSWORD: "wordpress" },
    ports: [], scale: 1, global: false, links: {}, labels: {}, restartPolicy: { name: "always" }, volumes: ["db_data:/var/lib/mysql"],
  });
  const wp = service(s, "wordpress");
  t.same(wp.links, { mysql: "db" });
  t.same(wp.ports, [{ containerPort: 80, hostPort: 8000, protocol: "tcp" }]);
  t.equal(wp.env.WORDPRESS_DB_HOST, "mysql:3306", "list form environment");
  t.equal(wp.scale, 2);
  t.match(wp.healthCheck, { port: 80, requestLine: "GET /wp-login.php HTTP/1.0", strategy: "recreate" });
  t.same(paths(s), ["services.wordpress.depends_on"]);
  t.same(service(s, "db").volumes, ["db_data:/var/lib/mysql"], "a named volume");
  const dep = s.warnings.find((w) => w.path === "services.wordpress.depends_on")!;
  t.match(warningText(dep), /^docker-compose\.yml:17:5: services\.wordpress\.depends_on: not supported/);
});

t.test("Rancher catalog pair with lb_config, health_check, upgrade_strategy, external links", async (t) => {
  const s = readCompose({ dockerCompose: read("catalog-docker-compose.yml"), rancherCompose: read("catalog-rancher-compose.yml") });
  t.same(s.services.map((x) => x.name), ["web", "api"]);
  const web = service(s, "web");
  t.same(web.ports, [{ containerPort: 80, protocol: "tcp" }], "expose: container port only");
  t.same(web.links, { api: "api" });
  t.equal(web.labels["io.rancher.scheduler.affinity:host_label"], "role=frontend");
  t.equal(web.scale, 3);
  t.same(web.healthCheck, {
    port: 80, interval: 5000, responseTimeout: 3000, healthyThreshold: 2, unhealthyThreshold: 3, requestLine: "GET /healthz HTTP/1.0",
    initializingTimeout: 60000, reinitializingTimeout: 60000, strategy: "recreateOnQuorum", quorum: 2,
  });
  t.same(web.upgradeStrategy, { batchSize: 1, intervalMillis: 5000, startFirst: true });
  const api = service(s, "api");
  t.same(api.command, ["./api", "--listen", ":8080", "--db", "postgres://db/app"], "a string command is split as a shell would");
  t.same(api.env, { LOG_LEVEL: "info", WORKERS: "4" });
  t.same(api.links, { db: "shared/postgres" }, "external link by stack/service");
  t.same(api.restartPolicy, { name: "on-failure", maximumRetryCount: 5 });
  t.equal(s.loadBalancers.length, 1);
  const lb = s.loadBalancers[0];
  t.equal(lb.name, "lb");
  t.equal(lb.spec.global, true, "io.rancher.scheduler.global label");
  t.same(lb.spec.labels, { "io.rancher.scheduler.global": "true" }, "Rancher's own agent labels are dropped");
  t.same(lb.spec.certificateIds, ["example-com", "example-org"]);
  t.equal(lb.spec.defaultCertificateId, "example-com");
  t.same(lb.spec.stickiness, { cookie: "SRV" });
  t.same(lb.spec.portRules, [
    { sourcePort: 80, protocol: "http", hostname: "www.example.com", targetServiceId: "web", targetPort: 80 },
    { sourcePort: 443, protocol: "https", path: "/app", targetServiceId: "web", targetPort: 80, priority: 2 },
  ]);
  t.same(paths(s).sort(), [
    ".catalog",
    "services.lb.lb_config.config",
    "services.lb.lb_config.stickiness_policy.indirect",
    "services.web.retain_ip",
  ]);
  t.equal(s.warnings.find((w) => w.path === "services.web.retain_ip")!.file, "rancher-compose.yml");
});

t.test("Swarm v3 file: deploy keys, anchors, merge keys, both environment forms", async (t) => {
  const s = readCompose({ dockerCompose: read("swarm-docker-compose.yml") });
  const front = service(s, "frontend");
  t.equal(front.scale, 4, "deploy.replicas");
  t.same(front.restartPolicy, { name: "unless-stopped" }, "from the merged anchor");
  t.same(front.labels, { "com.example.team": "platform" });
  t.same(front.env, { TZ: "UTC", LOG_FORMAT: "json" });
  t.same(front.ports, [{ containerPort: 3000, hostPort: 80, protocol: "tcp" }]);
  const back = service(s, "backend");
  t.equal(back.global, true, "deploy.mode global");
  t.same(back.env, { TZ: "UTC", LOG_FORMAT: "json", DB_URL: "postgres://db/backend" }, "merge key inside a mapping");
  t.same(paths(s).sort(), [
    "networks",
    "services.backend.logging",
    "services.backend.networks",
    "services.frontend.deploy.placement",
    "services.frontend.deploy.resources",
    "services.frontend.deploy.update_config",
    "services.frontend.healthcheck",
    "services.frontend.ports[0].mode",
  ]);
});

t.test("version 1 file: services at the top level, list command, string entrypoint", async (t) => {
  const s = readCompose({ dockerCompose: read("v1-docker-compose.yml") });
  t.same(service(s, "web").command, ["httpd", "-f", "-p", "8080"]);
  t.same(service(s, "web").env, { A: "1", B: "two words" });
  t.same(service(s, "web").links, { cache: "cache" });
  t.same(service(s, "cache").entrypoint, ["redis-server", "--appendonly", "yes"]);
  t.same(s.warnings, []);
});

t.test("env_file is read relative to the compose file, environment wins over it", async (t) => {
  const asked: string[] = [];
  const s = readCompose({
    dockerCompose: "services:\n  app:\n    image: busybox\n    env_file: [common.env]\n    environment: {B: from-compose}\n",
    envFile: (p) => (asked.push(p), p === "common.env" ? "# comment\nA=1\nB=from-file\n\n" : undefined),
  });
  t.same(asked, ["common.env"]);
  t.same(service(s, "app").env, { A: "1", B: "from-compose" });
  t.throws(() => readCompose({ dockerCompose: "services:\n  app:\n    image: busybox\n    env_file: missing.env\n" }),
    /docker-compose\.yml:4:5: services\.app\.env_file: the env_file missing\.env was not found/);
});

t.test("sidekicks fold into their primary; Docker options; network_mode and volumes_from only for sidekicks", async (t) => {
  const s = readCompose({
    dockerCompose: read("sidekick-docker-compose.yml"),
    rancherCompose: "version: '2'\nservices:\n  app:\n    scale: 3\n  metrics:\n    scale: 5\n",
  });
  t.same(s.services.map((x) => x.name), ["app", "worker"], "sidekicks are not services of their own");
  const app = service(s, "app");
  t.same(app.volumes, ["app-logs:/var/log/app", "/etc/ssl/certs:/etc/ssl/certs:ro"]);
  t.same([app.capAdd, app.privileged, app.tty, app.stdinOpen, app.dnsSearch], [["NET_ADMIN"], false, true, true, ["svc.example.com"]]);
  t.same(app.sidekicks, [
    { name: "shipper", image: "example/shipper:2", command: ["ship", "--from", "/var/log/app", "--to", "localhost:8080"], env: { LEVEL: "debug" }, labels: {}, volumesFromPrimary: true },
    { name: "metrics", image: "example/metrics:1", env: {}, labels: {} },
  ]);
  t.same(paths(s).sort(), [
    "services.app.volumes[2]",
    "services.app.volumes[3]",
    "services.metrics",
    "services.metrics.ports",
    "services.metrics.scale",
    "services.worker.network_mode",
  ]);
  t.match(s.warnings.find((w) => w.path === "services.metrics")!.message, /network namespace \(network_mode: container:app\)/);
  t.throws(() => readCompose({ dockerCompose: "web:\n  image: a\n  labels: {io.rancher.sidekicks: log}\n" }), /docker-compose\.yml:3:3: web\.labels: io\.rancher\.sidekicks names log, which is not a service/);
  t.throws(() => readCompose({ dockerCompose: "web:\n  image: a\n  labels: {io.rancher.sidekicks: log}\nlog:\n  image: b\n  network_mode: host\n" }), /docker-compose\.yml:6:3: log\.network_mode: expected container:web/);
  t.throws(() => readCompose({ dockerCompose: "web:\n  image: a\n  labels: {io.rancher.sidekicks: log}\nlog:\n  image: b\napi:\n  image: c\n  links: [log]\n" }), /api\.links\[0\]: links to log, a sidekick of web/);
});

t.test("no variable interpolation, and it says so", async (t) => {
  const s = readCompose({ dockerCompose: "web:\n  image: busybox\n  command: echo $$HOME ${TAG}\n" });
  t.same(service(s, "web").command, ["echo", "$$HOME", "${TAG}"], "taken as written");
  t.same(paths(s), ["web.command"]);
});
