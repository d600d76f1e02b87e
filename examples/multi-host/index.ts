// Three existing machines joined over ssh (drover installs and starts its agent on each), with
// labels, and services placed by affinity: `db` on the host labelled role=db, `web` on every
// role=web host (global), `worker` kept off the db host and spread, and a load balancer in
// front of web. Server and admin key: config `drover:endpoint`, `drover:adminKey` (secret).
//
// Config:
//   hosts          (object) [{"name": "node1", "address": "10.0.0.11", "labels": {"role": "web", "zone": "a"}}, ...]
//                  optional per host: "port" (22), "user" ("root"), "hostKey" (pinned "SHA256:…" or public key line)
//   sshPrivateKey  (secret) the private key that logs in on every host
import * as pulumi from "@pulumi/pulumi";
import * as drover from "drover";

interface HostConfig {
  name: string;
  address: string;
  labels?: Record<string, string>;
  port?: number;
  user?: string;
  hostKey?: string;
}

const config = new pulumi.Config();
const hostsConfig = config.requireObject<HostConfig[]>("hosts");
const sshPrivateKey = config.requireSecret("sshPrivateKey");
if (!Array.isArray(hostsConfig) || hostsConfig.length === 0) throw new Error("config hosts: expected a list of {name, address, labels}");

const env = new drover.Environment("env", { name: config.get("envName") ?? "multi-host" });

const hosts = hostsConfig.map((h) => new drover.Host(h.name, {
  environment: env,
  name: h.name,
  labels: h.labels ?? {},
  driver: {
    type: "ssh",
    address: h.address,
    privateKey: sshPrivateKey,
    ...(h.port ? { port: h.port } : {}),
    ...(h.user ? { user: h.user } : {}),
    ...(h.hostKey ? { hostKey: h.hostKey } : {}),
  },
}));

const stack = new drover.Stack("app", { environment: env, name: "app" });
const onHosts = { dependsOn: hosts };

const db = new drover.Service("db", {
  stack, name: "db", image: "local/busybox", scale: 1,
  command: ["sh", "-c", "while true; do echo OK | nc -l -p 5432; done"],
  scheduling: { hostLabels: { role: "db" } },
}, onHosts);

const web = new drover.Service("web", {
  stack, name: "web", image: "local/busybox", global: true,
  command: ["httpd", "-f", "-p", "80", "-h", "/www"],
  ports: ["8080:80"],
  links: { db: db.serviceId },
  scheduling: { hostLabels: { role: "web" } },
  // Healthy once a TCP connect to port 80 passes twice (every 2 s); `pulumi up` waits for it,
  // and a new image rolls out one host at a time, rolled back by the server if it never passes.
  healthCheck: { port: 80, interval: 2000, healthyThreshold: 2, initializingTimeout: 30000 },
  upgradeStrategy: { batchSize: 1, intervalMillis: 2000 },
}, onHosts);

const worker = new drover.Service("worker", {
  stack, name: "worker", image: "local/busybox", scale: 3,
  command: ["sleep", "1000000"],
  links: { db: db.serviceId },
  // Never next to the database; rather not two workers on one host (Rancher's soft anti-affinity).
  scheduling: { hostLabelsNot: { role: "db" }, containerLabelsAvoided: { "io.rancher.stack_service.name": "app/worker" } },
}, onHosts);

const lb = new drover.LoadBalancer("edge", {
  stack, name: "edge",
  portRules: [{ sourcePort: 80, protocol: "http", targetServiceId: web.serviceId, targetPort: 80 }],
  scheduling: { hostLabels: { role: "web" } },
});

export const envId = env.envId;
export const hostIds = pulumi.all(hosts.map((h) => h.hostId));
export const serviceIds = { db: db.serviceId, web: web.serviceId, worker: worker.serviceId };
export const loadBalancerId = lb.loadBalancerId;
