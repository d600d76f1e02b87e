import t from "tap";
import { hostProvider, UNKNOWN } from "../../provider";

// Host check() and diff() called directly: every bad field named (a failure on a secret
// input by its reason only: the engine would print the input's value beside a property),
// the unknown sentinel tolerated, the private key never quoted, replace vs update as
// documented in host.ts.
const { utils } = require("ssh2");
const keys = utils.generateKeyPairSync("ed25519");
const privateKey: string = keys.private;
const conn = { endpoint: "http://127.0.0.1:1", apiKey: "drk_test", envId: "env1", registrationToken: "drt_test" };
const ssh = { type: "ssh", address: "198.18.0.11", privateKey };
const host = { ...conn, name: "h1", labels: { zone: "a" }, driver: ssh };
/** The field a failure is about: its property, or for a secret input (no property) the start of its reason. */
const fieldOf = (f: { property: string; reason: string }) => f.property || f.reason.slice(0, f.reason.indexOf(":"));
const SECRET = /^(driver|apiKey|registrationToken)(\.|\[|$)/;
const fields = async (news: any) => (await hostProvider.check({}, news)).failures.map(fieldOf).sort();

t.test("check: a valid host passes, each bad field fails by name", async (t) => {
  t.same(await fields(host), [], "ssh host with a generated ed25519 key");
  t.same(await fields({ ...host, labels: { "io.drover.scheduler.docker_disk_reserve": "10%" } }), [], "a Docker disk reserve label");
  t.same(await fields({ ...host, driver: { type: "local" } }), [], "local host");
  t.same(await fields({ ...host, driver: { ...ssh, port: 2222, user: "deploy", hostKey: keys.public.split(" ").slice(0, 2).join(" "), installDir: "/opt/x", stateDir: "/var/lib/x", dockerSocket: "/run/docker.sock", underlayIp: "10.0.0.5" } }), [], "every ssh field");

  const cases: Array<[string, any, string]> = [
    ["driver.port", { ...host, driver: { ...ssh, port: 70000 } }, "TCP port"],
    ["driver.port", { ...host, driver: { ...ssh, port: 22.5 } }, "TCP port"],
    ["driver.type", { ...host, driver: { ...ssh, type: "docean" } }, "\"ssh\", \"local\" or \"digitalocean\""],
    ["driver.address", { ...host, driver: { ...ssh, address: "not an address!" } }, "IP address or a DNS name"],
    ["driver.address", { ...host, driver: { type: "ssh", privateKey } }, "required"],
    ["driver.privateKey", { ...host, driver: { ...ssh, privateKey: "hunter2" } }, "does not look like a private key"],
    ["driver.privateKey", { ...host, driver: { ...ssh, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n" } }, "not a usable private key"],
    ["driver.privateKey", { ...host, driver: { type: "ssh", address: "h" } }, "required"],
    ["driver.hostKey", { ...host, driver: { ...ssh, hostKey: "abc" } }, "fingerprint"],
    ["driver.user", { ...host, driver: { ...ssh, user: "bad user" } }, "user name"],
    ["driver.installDir", { ...host, driver: { ...ssh, installDir: "opt/drover" } }, "absolute path"],
    ["driver.stateDir", { ...host, driver: { ...ssh, stateDir: "/var/../etc" } }, "no .."],
    ["driver.dockerSocket", { ...host, driver: { type: "local", dockerSocket: "/run/docker sock" } }, "absolute path"],
    ["driver.underlayIp", { ...host, driver: { ...ssh, underlayIp: "10.0.0" } }, "IP address"],
    ["driver.installDir", { ...host, driver: { type: "local", installDir: "/opt/x" } }, "not a field of the local driver"],
    ["driver", { ...host, driver: undefined }, "required"],
    ["name", { ...host, name: "bad name" }, "hostname"],
    ["registrationToken", { ...host, registrationToken: undefined }, "required"],
    ["registrationToken", { ...host, registrationToken: "it's" }, "no spaces or quotes"],
    ["labels.zone", { ...host, labels: { zone: "a,b" } }, ", & '"],
    ["labels[\"-x\"]", { ...host, labels: { "-x": "1" } }, "label key"],
    ["labels", { ...host, labels: ["zone=a"] }, "map"],
    ["labels[\"io.rancher.host.os\"]", { ...host, labels: { "io.rancher.host.os": "linux" } }, "set by drover itself"],
    ["labels[\"io.drover.scheduler.docker_disk_reserve\"]", { ...host, labels: { "io.drover.scheduler.docker_disk_reserve": "lots" } }, "expected a size such as 2GiB"],
    ["waitTimeoutSeconds", { ...host, waitTimeoutSeconds: 0 }, "seconds"],
    ["envId", { ...host, envId: undefined }, "required"],
    ["endpoint", { ...host, endpoint: "ftp://x" }, "http(s) URL"],
  ];
  for (const [field, news, words] of cases) {
    const { failures } = await hostProvider.check({}, news);
    t.same(failures.map(fieldOf), [field], `${field} (${words})`);
    t.equal(failures[0]?.property, SECRET.test(field) ? "" : field, SECRET.test(field) ? "a secret input: no property (no value printed)" : "the property is the field");
    const reason: string = failures[0]?.reason ?? "";
    t.ok(reason.startsWith(`${field}: `) && reason.includes(words), `reason names ${field}: ${reason}`);
    t.notOk(reason.includes(privateKey.slice(40, 80)), "the private key is never quoted");
  }
});

t.test("check tolerates the unknown sentinel anywhere", async (t) => {
  t.same(await fields({ ...host, envId: UNKNOWN, endpoint: UNKNOWN, apiKey: UNKNOWN, registrationToken: UNKNOWN, name: UNKNOWN, labels: UNKNOWN, driver: UNKNOWN, waitTimeoutSeconds: UNKNOWN }), [], "every top-level field unknown");
  t.same(await fields({ ...host, labels: { zone: UNKNOWN }, driver: { ...ssh, address: UNKNOWN, port: UNKNOWN, privateKey: UNKNOWN, hostKey: UNKNOWN } }), [], "unknown inside the driver and labels");
  t.same(await fields({ ...host, driver: { type: UNKNOWN, address: UNKNOWN } }), [], "unknown driver type");
  t.same(await fields({ ...host, driver: { ...ssh, address: UNKNOWN, port: 0 } }), ["driver.port"], "known bad fields still fail");
});

t.test("diff: name and placement replace; labels, credentials and a lost agent update in place", async (t) => {
  const old = { ...host, hostId: "h1", state: "active", subnet: "10.42.1.0/24", agentService: "supervisor" };
  const d = (news: any) => hostProvider.diff("h1", old, news);
  const checked = (await hostProvider.check({}, host)).inputs;
  t.equal(checked.state, "active", "check adds the state the program wants");
  t.same(await d(checked), {
    changes: false, replaces: [], deleteBeforeReplace: false,
    stables: ["endpoint", "envId", "name", "hostId", "state", "underlayIp", "subnet", "agentVersion", "dockerVersion", "agentService", "sshHostKey",
      "machine", "dropletId", "publicIp", "privateIp", "region", "size", "sshFingerprint"],
  }, "computed outputs are not compared; without a replace every output is stable");
  const labels = await d({ ...host, labels: { zone: "b" } });
  t.same([labels.changes, labels.replaces, labels.deleteBeforeReplace], [true, [], false], "labels update in place (PATCH)");
  t.same([(await d({ ...host, labels: {} })).changes, (await d({ ...host, labels: {} })).replaces], [true, []], "removing a label updates in place");
  t.equal((await d({ ...old, labels: undefined })).changes, true, "dropping all labels is a change");
  t.equal((await hostProvider.diff("h1", { ...old, labels: undefined }, { ...host, labels: {} })).changes, false, "no labels and {} are the same");
  const moved = await d({ ...host, driver: { ...ssh, address: "198.18.0.12" } });
  t.same([moved.replaces, moved.deleteBeforeReplace], [["driver"], true], "another machine replaces");
  const port = await d({ ...host, driver: { ...ssh, port: 2222 } });
  t.same(port.replaces, ["driver"], "driver fields replace");
  const renamed = await d({ ...host, name: "h2" });
  t.same([renamed.replaces, renamed.deleteBeforeReplace], [["name"], true], "a new name: delete first too (same machine and state dir)");
  const rekey = await d({ ...host, driver: { ...ssh, privateKey: utils.generateKeyPairSync("ed25519").private } });
  t.same([rekey.changes, rekey.replaces], [true, []], "a new ssh key updates in place");
  const token = await d({ ...host, registrationToken: "drt_other" });
  t.same([token.changes, token.replaces], [true, []], "a new token updates in place");
  const unknownDriver = await d({ ...host, driver: UNKNOWN });
  t.same(unknownDriver.replaces, ["driver"], "unknown driver: replace");
  const unknownAddress = await d({ ...host, driver: { ...ssh, address: UNKNOWN } });
  t.same(unknownAddress.replaces, ["driver"], "unknown address: replace");
  const unknownKey = await d({ ...host, driver: { ...ssh, privateKey: UNKNOWN } });
  t.same([unknownKey.changes, unknownKey.replaces], [true, []], "unknown key: update");
  const order = await d({ ...host, driver: { privateKey, address: ssh.address, type: "ssh" } });
  t.equal(order.changes, false, "maps compare by content");
  for (const state of ["reconnecting", "disconnected"]) {
    const lost = await hostProvider.diff("h1", { ...old, state }, checked);
    t.same([lost.changes, lost.replaces], [true, []], `a refresh that found the host ${state}: an in-place update (the agent is bootstrapped again)`);
  }
});
