/** Bad compose files fail with the file, line and column of the problem, and a clear reason. */
import t from "tap";
import { readCompose } from "../../../runtime/compose";
import { DroverError } from "../../../runtime/protocol/errors";

function failure(input: Parameters<typeof readCompose>[0]): DroverError {
  try {
    readCompose(input);
  } catch (err) {
    if (err instanceof DroverError) return err;
    throw err;
  }
  throw new Error("expected the import to fail");
}

t.test("a tab in the indentation", async (t) => {
  const e = failure({ dockerCompose: "services:\n  web:\n\timage: busybox\n" });
  t.equal(e.code, "InvalidField");
  t.equal(e.field, "dockerCompose");
  t.match(e.message, /^docker-compose\.yml:3:1: a tab in the indentation/);
  t.match(e.detail, { file: "docker-compose.yml", line: 3, column: 1 });
});

t.test("a duplicate key", async (t) => {
  const e = failure({ dockerCompose: "services:\n  web:\n    image: busybox\n    command: [a]\n    image: nginx\n" });
  t.match(e.message, /^docker-compose\.yml:5:5: a key given twice/);
});

t.test("a link to a service that does not exist", async (t) => {
  const e = failure({ dockerCompose: "version: '2'\nservices:\n  web:\n    image: busybox\n    links:\n      - db:database\n" });
  t.match(e.message, /^docker-compose\.yml:6:9: services\.web\.links\[0\]: links to db, which is not a service of this file/);
});

t.test("scale: -1 in rancher-compose.yml", async (t) => {
  const e = failure({ dockerCompose: "web:\n  image: busybox\n", rancherCompose: "web:\n  scale: -1\n", rancherComposeName: "rc.yml" });
  t.equal(e.field, "rancherCompose");
  t.match(e.message, /^rc\.yml:2:3: web\.scale: expected an integer from 0 to 10000, got -1/);
});

t.test("a 10 MB file is refused before it is parsed", async (t) => {
  const big = "web:\n  image: busybox\n  environment:\n" + "    K: ".concat("x".repeat(100), "\n").repeat(100_000);
  t.ok(big.length > 10_000_000);
  const started = Date.now();
  const e = failure({ dockerCompose: big });
  t.match(e.message, /^docker-compose\.yml:1:1: the file is \d+ bytes; compose files of at most 1048576 bytes/);
  t.ok(Date.now() - started < 1000, "refused without parsing");
});

t.test("values the API refuses are reported at their compose key", async (t) => {
  t.match(failure({ dockerCompose: "web:\n  image: busybox\n  ports: ['70000:80']\n" }).message,
    /^docker-compose\.yml:3:3: web\.ports: ports\[0\]\.hostPort: expected an integer from 1 to 65535/);
  t.match(failure({ dockerCompose: "My_Web:\n  image: busybox\n" }).message, /^docker-compose\.yml:1:1: My_Web: name: expected a name of lowercase letters/);
  t.match(failure({ dockerCompose: "web:\n  image: busybox\n", rancherCompose: "web:\n  health_check: {interval: 1000}\n" }).message,
    /^rancher-compose\.yml:2:3: web\.health_check: healthCheck\.port: required/);
  t.match(failure({ dockerCompose: "web:\n  build: .\n" }).message, /docker-compose\.yml:2:3: web\.build: expected an `image:`/);
  t.match(failure({ dockerCompose: "version: '4'\nservices: {}\n" }).message, /docker-compose\.yml:1:1: version: expected a compose file version 2\.x or 3\.x/);
  t.match(failure({ dockerCompose: "web:\n  image: x\n", rancherCompose: "db:\n  scale: 2\n" }).message, /rancher-compose\.yml:1:1: db: no service db in docker-compose\.yml/);
  t.match(failure({ dockerCompose: "web:\n  image: x\nlb:\n  image: rancher/lb-service-haproxy:v0.7.9\n", rancherCompose: "lb:\n  lb_config:\n    port_rules:\n    - {source_port: 80, target_port: 80, service: nope}\n" }).message,
    /rancher-compose\.yml:4:\d+: lb\.lb_config\.port_rules\[0\]\.service: targets nope/);
  t.match(failure({ dockerCompose: "a: &a [*a]\n" }).message, /docker-compose\.yml/, "a recursive alias fails with the file named");
});
