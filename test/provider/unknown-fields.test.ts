import t from "tap";
import { environmentProvider, hostProvider, loadBalancerProvider, serviceProvider, stackProvider, UNKNOWN } from "../../provider";

// check() refuses inputs no resource has, as a JavaScript program (or TypeScript cast to
// any) could write them, with a did-you-mean; what drover and the SDK add are accepted.
const { utils } = require("ssh2");
const privateKey: string = utils.generateKeyPairSync("ed25519").private;
const conn = { endpoint: "http://127.0.0.1:1", apiKey: "drk_test", envId: "env1" };
const svc = { ...conn, stackId: "stk1", name: "web", image: "local/busybox" };
const host = { ...conn, registrationToken: "drt_test", name: "h1", driver: { type: "ssh", address: "198.18.0.11", privateKey } };
const lb = { ...conn, stackId: "stk1", name: "edge", portRules: [{ sourcePort: 80, targetServiceId: "svc1", targetPort: 8080 }] };
const env = { endpoint: conn.endpoint, adminKey: "k", name: "prod" };
const stack = { ...conn, name: "demo" };
const failures = async (p: any, news: any) => (await p.check({}, news)).failures as Array<{ property: string; reason: string }>;

t.test("the issue's typos fail with a suggestion", async (t) => {
  const cases: Array<[string, any, any, string]> = [
    ["Service sclae", serviceProvider, { ...svc, sclae: 3 }, "sclae: unknown field; did you mean scale?"],
    ["Service comand", serviceProvider, { ...svc, comand: ["sleep", "1"] }, "comand: unknown field; did you mean command?"],
    ["Service link", serviceProvider, { ...svc, link: { db: "svc9" } }, "link: unknown field; did you mean links?"],
    ["Service stak", serviceProvider, { ...svc, stak: "x" }, "stak: unknown field; did you mean stack?"],
    ["Service scheduling.hostLabel", serviceProvider, { ...svc, scheduling: { hostLabel: { zone: "a" } } }, "scheduling.hostLabel: unknown field; did you mean hostLabels?"],
    ["Service scheduling.containerLabelsNott", serviceProvider, { ...svc, scheduling: { containerLabelsNott: { a: "b" } } }, "scheduling.containerLabelsNott: unknown field; did you mean containerLabelsNot?"],
    ["Environment descripton", environmentProvider, { ...env, descripton: "x" }, "descripton: unknown field; did you mean description?"],
    ["Stack stackWideDiscover", stackProvider, { ...stack, stackWideDiscover: true }, "stackWideDiscover: unknown field; did you mean stackWideDiscovery?"],
    ["Stack enviroment", stackProvider, { ...stack, enviroment: "x" }, "enviroment: unknown field; did you mean environment?"],
    ["Host label", hostProvider, { ...host, label: { zone: "a" } }, "label: unknown field; did you mean labels?"],
    ["Host driver.adress", hostProvider, { ...host, driver: { ...host.driver, adress: "x" } }, "driver.adress: unknown field; did you mean address?"],
    ["Host driver.privatekey", hostProvider, { ...host, driver: { ...host.driver, privatekey: "x" } }, "driver.privatekey: unknown field; did you mean privateKey?"],
    ["LoadBalancer portRule", loadBalancerProvider, { ...lb, portRule: [] }, "portRule: unknown field; did you mean portRules?"],
    ["Service ports[1].protcol", serviceProvider, { ...svc, ports: ["80:80", { containerPort: 53, protcol: "udp" }] }, "ports[1].protcol: unknown field; did you mean protocol?"],
    ["Service restartPolicy.maximumRetryCont", serviceProvider, { ...svc, restartPolicy: { name: "on-failure", maximumRetryCont: 3 } }, "restartPolicy.maximumRetryCont: unknown field; did you mean maximumRetryCount?"],
    ["Service healthCheck.requestline", serviceProvider, { ...svc, healthCheck: { port: 80, requestline: "GET / HTTP/1.0" } }, "healthCheck.requestline: unknown field; did you mean requestLine?"],
    ["Service upgradeStrategy.batchsize", serviceProvider, { ...svc, upgradeStrategy: { batchsize: 2 } }, "upgradeStrategy.batchsize: unknown field; did you mean batchSize?"],
    ["Service helthCheck", serviceProvider, { ...svc, helthCheck: { port: 80 } }, "helthCheck: unknown field; did you mean healthCheck?"],
    ["Environment network.cidrr", environmentProvider, { ...env, network: { cidrr: "10.42.0.0/16" } }, "network.cidrr: unknown field; did you mean cidr?"],
    ["LoadBalancer portRules[0].targetPrt", loadBalancerProvider, { ...lb, portRules: [{ ...lb.portRules[0], targetPrt: 1 }] }, "portRules[0].targetPrt: unknown field; did you mean targetPort?"],
    ["LoadBalancer scheduling.hostLabelsNo", loadBalancerProvider, { ...lb, scheduling: { hostLabelsNo: { a: "b" } } }, "scheduling.hostLabelsNo: unknown field; did you mean hostLabelsNot?"],
  ];
  for (const [what, provider, news, reason] of cases) {
    const field = reason.slice(0, reason.indexOf(":"));
    // A failure inside a secret input (the Host's driver holds the key) names no property: the engine would print its value.
    const property = provider === hostProvider && field.startsWith("driver.") ? "" : field;
    t.same(await failures(provider, news), [{ property, reason }], what);
  }
});

t.test("no suggestion when nothing is close: the fields are listed", async (t) => {
  const [f] = await failures(serviceProvider, { ...svc, replicas: 3 });
  t.equal(f.property, "replicas");
  t.match(f.reason, /^replicas: unknown field; expected one of name, image, command, .*waitTimeoutSeconds$/);
  const [d] = await failures(hostProvider, { ...host, driver: { type: "local", address: "x" } });
  t.same(d, { property: "", reason: "driver.address: not a field of the local driver (fields: type, stateDir, dockerSocket, underlayIp)" }, "an ssh field on a local driver says so");
  const typ = await failures(hostProvider, { ...host, driver: { typ: "ssh", address: "x", privateKey } });
  t.same(typ.map((x) => x.reason).sort(), ["driver.typ: unknown field; did you mean type?", "driver.type: expected \"ssh\", \"local\" or \"digitalocean\", got undefined"], "a misspelt type is named too");
});

t.test("what drover and the SDK add is accepted", async (t) => {
  const added = { __provider: "exports.handler = ...", state: UNKNOWN };
  t.same(await failures(serviceProvider, { ...svc, ...added, serviceId: UNKNOWN, specVersion: UNKNOWN, instances: UNKNOWN, placement: UNKNOWN }), []);
  t.same(await failures(stackProvider, { ...stack, ...added, stackId: UNKNOWN, serverUrl: "http://x" }), []);
  t.same(await failures(environmentProvider, { ...env, ...added, envId: UNKNOWN, apiKey: UNKNOWN, registrationToken: UNKNOWN, serverUrl: "http://x" }), []);
  t.same(await failures(hostProvider, { ...host, ...added, hostId: UNKNOWN, underlayIp: UNKNOWN, subnet: UNKNOWN, agentVersion: UNKNOWN, dockerVersion: UNKNOWN, agentService: UNKNOWN }), []);
  t.same(await failures(loadBalancerProvider, { ...lb, ...added, loadBalancerId: UNKNOWN, served: UNKNOWN }), []);
});

t.test("an unknown field and a bad one are both reported, each once", async (t) => {
  const list = await failures(serviceProvider, { ...svc, sclae: 3, scale: -1, scheduling: { hostLabel: { zone: "a" }, hostLabels: 5 } });
  t.same(list.map((f) => f.property).sort(), ["scale", "scheduling.hostLabel", "scheduling.hostLabels", "sclae"]);
});

t.test("check puts the server URL in the inputs, so preview knows it", async (t) => {
  t.equal((await stackProvider.check({}, { ...stack, endpoint: "http://10.0.0.5:8080/" })).inputs.serverUrl, "http://10.0.0.5:8080");
  t.equal((await environmentProvider.check({}, { ...env, endpoint: UNKNOWN })).inputs.serverUrl, UNKNOWN, "unknown stays unknown");
  const configured = Object.create(stackProvider);
  await configured.configure({ config: { get: (k: string) => (k === "drover:endpoint" ? "http://cfg:8080" : undefined) } });
  const { endpoint: _omit, ...noEndpoint } = stack;
  t.equal((await configured.check({}, noEndpoint)).inputs.serverUrl, "http://cfg:8080", "from config when there is no input");
});
