// drover quickstart: an environment, this machine as its one host (the `local` driver starts
// the agent here), a stack `demo` whose `web` (busybox httpd, published port) links to `cache`,
// and a load balancer in front of web. Server and admin key come from the stack config
// `drover:endpoint` and `drover:adminKey` (secret).
import * as os from "os";
import * as pulumi from "@pulumi/pulumi";
import * as drover from "drover";

const config = new pulumi.Config();
const webPort = config.getNumber("webPort") ?? 8080;
const lbPort = config.getNumber("lbPort") ?? 8088;
const agentStateDir = config.get("agentStateDir");

const env = new drover.Environment("env", { name: config.get("envName") ?? "quickstart" });

const host = new drover.Host("local", {
  environment: env,
  // A valid host name even when the machine's has odd characters.
  name: config.get("hostName") ?? os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, "-"),
  labels: { role: "quickstart" },
  driver: { type: "local", ...(agentStateDir ? { stateDir: agentStateDir } : {}) },
});

const stack = new drover.Stack("demo", { environment: env, name: "demo" });

// Services wait until their containers run, so they need the host first.
const onHost = { dependsOn: [host] };
const cache = new drover.Service("cache", {
  stack, name: "cache", image: "local/busybox", scale: 1,
  command: ["sh", "-c", "while true; do echo PONG | nc -l -p 6379; done"],
}, onHost);
const web = new drover.Service("web", {
  stack, name: "web", image: "local/busybox", scale: 1,
  command: ["httpd", "-f", "-p", "80", "-h", "/www"],
  ports: [`${webPort}:80`],
  links: { cache: cache.serviceId },
}, onHost);

// Stored and validated by the server; agents serve it with HAProxy in a later release (`served` says so).
const lb = new drover.LoadBalancer("web-lb", {
  stack, name: "web-lb",
  portRules: [{ sourcePort: lbPort, protocol: "http", targetServiceId: web.serviceId, targetPort: 80 }],
});

export const envId = env.envId;
export const apiKey = env.apiKey;
export const serverUrl = env.serverUrl;
export const hostId = host.hostId;
export const stackId = stack.stackId;
export const webServiceId = web.serviceId;
export const cacheServiceId = cache.serviceId;
export const loadBalancerId = lb.loadBalancerId;
export const loadBalancerServed = lb.served;
export const webUrl = pulumi.interpolate`http://127.0.0.1:${webPort}/`;
