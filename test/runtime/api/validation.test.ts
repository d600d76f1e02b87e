/**
 * Every kind of bad input gets the right status, code and field, and leaves Redis exactly
 * as it was (the env snapshot and every key and ACL user under the test's prefix).
 */
import t from "tap";
import { signedRegistration } from "../../support/host-identity";
import { apiFixture, seedEnv } from "./api-fixture";

interface Case {
  what: string;
  method?: string;
  /** Path under /v1/environments/<env> unless it starts with /v1/. */
  path: string;
  body?: unknown;
  raw?: string;
  admin?: boolean;
  status: number;
  code: string;
  field?: string;
  message?: RegExp;
}

t.test("bad bodies are rejected with nothing written", async (t) => {
  const f = await apiFixture(t);
  const { env, stack, service } = await seedEnv(f);
  const svc = (extra: Record<string, unknown>) => ({ stackId: stack.id, name: "new", image: "busybox", ...extra });
  const label = (key: string, value: string) => svc({ labels: { [key]: value } });
  const cases: Case[] = [
    // environments
    { what: "env without name", path: "/v1/environments", admin: true, body: {}, status: 422, code: "MissingField", field: "name" },
    { what: "env name with capitals", path: "/v1/environments", admin: true, body: { name: "Prod_1" }, status: 422, code: "InvalidField", field: "name", message: /lowercase letters, digits and dashes/ },
    { what: "env name too long", path: "/v1/environments", admin: true, body: { name: "a".repeat(64) }, status: 422, code: "InvalidField", field: "name" },
    { what: "env unknown field", path: "/v1/environments", admin: true, body: { name: "ok", colour: "red" }, status: 422, code: "UnknownField", field: "colour" },
    { what: "cidr with host bits", path: "/v1/environments", admin: true, body: { name: "ok", network: { cidr: "10.42.0.1/16" } }, status: 422, code: "InvalidField", field: "network.cidr" },
    { what: "host subnet larger than the network", path: "/v1/environments", admin: true, body: { name: "ok", network: { cidr: "10.42.0.0/16", hostSubnetPrefix: 12 } }, status: 422, code: "InvalidField", field: "network.hostSubnetPrefix", message: /from 17 to 30/ },
    { what: "misspelt network field", path: "/v1/environments", admin: true, body: { name: "ok", network: { hostsubnetprefix: 24 } }, status: 422, code: "UnknownField", field: "network.hostsubnetprefix", message: /did you mean hostSubnetPrefix/ },
    { what: "malformed JSON", path: "/v1/environments", admin: true, raw: "{\"name\": ", status: 400, code: "InvalidJson" },
    { what: "a JSON array body", path: "/v1/environments", admin: true, raw: "[1]", status: 422, code: "InvalidField", field: "body" },
    // stacks
    { what: "stack without name", path: "stacks", body: {}, status: 422, code: "MissingField", field: "name" },
    { what: "stack name not a string", path: "stacks", body: { name: 5 }, status: 422, code: "InvalidField", field: "name" },
    { what: "stack name taken", path: "stacks", body: { name: "web" }, status: 409, code: "Conflict", field: "name" },
    { what: "stack description too long", path: "stacks", body: { name: "ok", description: "x".repeat(1025) }, status: 422, code: "InvalidField", field: "description" },
    // services
    { what: "service without stackId", path: "services", body: { name: "x", image: "busybox" }, status: 422, code: "MissingField", field: "stackId" },
    { what: "service in a missing stack", path: "services", body: svc({ stackId: "1stnothere" }), status: 422, code: "InvalidField", field: "stackId" },
    { what: "service without image", path: "services", body: { stackId: stack.id, name: "x" }, status: 422, code: "MissingField", field: "image" },
    { what: "image with a space", path: "services", body: svc({ image: "nginx latest" }), status: 422, code: "InvalidField", field: "image" },
    { what: "service name taken in the stack", path: "services", body: svc({ name: "nginx" }), status: 409, code: "Conflict", field: "name" },
    { what: "misspelt port field", path: "services", body: svc({ ports: [{ containerPort: 80 }, { containerPort: 53, protcol: "udp" }] }), status: 422, code: "UnknownField", field: "ports[1].protcol", message: /did you mean protocol/ },
    { what: "port 0", path: "services", body: svc({ ports: [{ containerPort: 0 }] }), status: 422, code: "InvalidField", field: "ports[0].containerPort", message: /from 1 to 65535/ },
    { what: "host port 65536", path: "services", body: svc({ ports: [{ containerPort: 80, hostPort: 65536 }] }), status: 422, code: "InvalidField", field: "ports[0].hostPort" },
    { what: "protocol sctp", path: "services", body: svc({ ports: [{ containerPort: 80, protocol: "sctp" }] }), status: 422, code: "InvalidField", field: "ports[0].protocol", message: /tcp or udp/ },
    { what: "port short form nonsense", path: "services", body: svc({ ports: ["80:http"] }), status: 422, code: "InvalidField", field: "ports[0]" },
    { what: "a bare container port (docker -p would pick a random host port)", path: "services", body: svc({ ports: ["8080"] }), status: 422, code: "InvalidField", field: "ports[0]", message: /no host port: .*random host port.*"8080:8080".*\{"containerPort": 8080\}/ },
    { what: "a bare container port with a protocol", path: "services", body: svc({ ports: ["53/udp"] }), status: 422, code: "InvalidField", field: "ports[0]", message: /"53:53\/udp"/ },
    { what: "a host port published twice", path: "services", body: svc({ ports: ["8080:80", "8080:81"] }), status: 422, code: "InvalidField", field: "ports[1].hostPort" },
    { what: "port without containerPort", path: "services", body: svc({ ports: [{ hostPort: 80 }] }), status: 422, code: "MissingField", field: "ports[0].containerPort" },
    { what: "scale too large", path: "services", body: svc({ scale: 10001 }), status: 422, code: "InvalidField", field: "scale", message: /^scale: expected an integer from 0 to 10000/ },
    { what: "scale not an integer", path: "services", body: svc({ scale: 1.5 }), status: 422, code: "InvalidField", field: "scale" },
    { what: "scale as a string", path: "services", body: svc({ scale: "3" }), status: 422, code: "InvalidField", field: "scale" },
    { what: "global as a string", path: "services", body: svc({ global: "yes" }), status: 422, code: "InvalidField", field: "global" },
    { what: "link to a missing service", path: "services", body: svc({ links: { db: "1snothere" } }), status: 422, code: "InvalidField", field: "links.db" },
    { what: "link alias with a space", path: "services", body: svc({ links: { "my db": service.id } }), status: 422, code: "InvalidField", field: "links.my db" },
    { what: "links not an object", path: "services", body: svc({ links: [service.id] }), status: 422, code: "InvalidField", field: "links" },
    { what: "label key syntax", path: "services", body: label("bad key!", "x"), status: 422, code: "InvalidField", field: 'labels["bad key!"]' },
    { what: "label value not a string", path: "services", body: svc({ labels: { team: 5 } }), status: 422, code: "InvalidField", field: "labels.team" },
    { what: "scheduling label without =", path: "services", body: label("io.rancher.scheduler.affinity:host_label", "zone"), status: 422, code: "InvalidField", field: 'labels["io.rancher.scheduler.affinity:host_label"]', message: /has no "="/ },
    { what: "misspelt scheduling label", path: "services", body: label("io.rancher.scheduler.affinity:host_lable", "a=b"), status: 422, code: "InvalidField", field: 'labels["io.rancher.scheduler.affinity:host_lable"]', message: /did you mean/ },
    { what: "global label not a boolean", path: "services", body: label("io.rancher.scheduler.global", "yes"), status: 422, code: "InvalidField", field: 'labels["io.rancher.scheduler.global"]' },
    { what: "typed scheduling, unknown field", path: "services", body: svc({ scheduling: { hostLabel: { zone: "a" } } }), status: 422, code: "UnknownField", field: "scheduling.hostLabel" },
    { what: "env name starting with a digit", path: "services", body: svc({ env: { "1X": "a" } }), status: 422, code: "InvalidField", field: 'env["1X"]' },
    { what: "env value a number", path: "services", body: svc({ env: { PORT: 80 } }), status: 422, code: "InvalidField", field: "env.PORT" },
    { what: "command as a string", path: "services", body: svc({ command: "ls -l" }), status: 422, code: "InvalidField", field: "command", message: /list of at most 256 strings/ },
    { what: "command item a number", path: "services", body: svc({ command: ["sleep", 5] }), status: 422, code: "InvalidField", field: "command[1]" },
    { what: "unknown restart policy", path: "services", body: svc({ restartPolicy: { name: "sometimes" } }), status: 422, code: "InvalidField", field: "restartPolicy.name" },
    { what: "retry count without on-failure", path: "services", body: svc({ restartPolicy: { name: "always", maximumRetryCount: 3 } }), status: 422, code: "InvalidField", field: "restartPolicy.maximumRetryCount" },
    { what: "unknown service field", path: "services", body: svc({ replicas: 3 }), status: 422, code: "UnknownField", field: "replicas", message: /expected one of stackId, name, image/ },
    { what: "service update, bad field", method: "PATCH", path: `services/${service.id}`, body: { ports: [{ containerPort: 80, protocol: "icmp" }] }, status: 422, code: "InvalidField", field: "ports[0].protocol" },
    { what: "service update, rename", method: "PUT", path: `services/${service.id}`, body: { name: "other", image: "busybox" }, status: 422, code: "InvalidField", field: "name" },
    { what: "scale action without scale", path: `services/${service.id}?action=scale`, body: {}, status: 422, code: "MissingField", field: "scale" },
    // tokens, hosts, registration
    { what: "token body unknown field", path: "registrationtokens", body: { descr: "x" }, status: 422, code: "UnknownField", field: "descr" },
    { what: "registration without machineId", path: "/v1/register", body: signedRegistration({ token: env.registrationToken, hostname: "h", agentVersion: "1", dockerVersion: "1", kernelVersion: "1" }), status: 422, code: "MissingField", field: "machineId" },
    { what: "registration with a bad underlay IP", path: "/v1/register", body: signedRegistration({ token: env.registrationToken, machineId: "m1", hostname: "h", agentVersion: "1", dockerVersion: "1", kernelVersion: "1", underlayIp: "300.1.1.1" }), status: 422, code: "InvalidField", field: "underlayIp" },
    { what: "registration with an unknown token", path: "/v1/register", body: signedRegistration({ token: "drt_nope", machineId: "m1", hostname: "h", agentVersion: "1", dockerVersion: "1", kernelVersion: "1" }), status: 401, code: "Unauthorized" },
    { what: "registration without a signature", path: "/v1/register", body: { ...signedRegistration({ token: env.registrationToken, machineId: "m1", hostname: "h", agentVersion: "1", dockerVersion: "1", kernelVersion: "1" }), signature: undefined }, status: 422, code: "MissingField", field: "signature" },
  ];

  await f.unchanged([env.id], "all bad requests", async () => {
    for (const c of cases) {
      const path = c.path.startsWith("/v1/") ? c.path : `/v1/environments/${env.id}/${c.path}`;
      const key = c.path === "/v1/register" ? undefined : c.admin ? f.adminKey : env.apiKey;
      const r = await f.call(c.method ?? "POST", path, { key, body: c.body, raw: c.raw });
      t.equal(r.status, c.status, `${c.what}: status (${r.text.slice(0, 300)})`);
      t.equal(r.body?.code, c.code, `${c.what}: code`);
      t.equal(r.body?.type, "error", `${c.what}: an error body`);
      if (c.field !== undefined) t.equal(r.body?.fieldName, c.field, `${c.what}: field`);
      if (c.message) t.match(r.body?.message, c.message, `${c.what}: message`);
    }
  });
});

t.test("a body with several problems reports all of them", async (t) => {
  const f = await apiFixture(t);
  const { env, stack } = await seedEnv(f);
  const r = await f.call("POST", `/v1/environments/${env.id}/services`, {
    key: env.apiKey, body: { stackId: stack.id, name: "Bad", image: "busybox", scale: -1, colour: "red" },
  });
  t.equal(r.status, 422);
  t.equal(r.body.code, "UnknownField", "the first problem decides the code");
  t.same(r.body.detail.errors.map((e: { field: string }) => e.field).sort(), ["colour", "name", "scale"]);
});
