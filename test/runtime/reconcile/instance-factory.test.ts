import t from "tap";
import { instanceFactory, newInstance } from "../../../runtime/reconcile/instance-factory";
import { knownJsonText } from "../../../runtime/reconcile/json-text";
import { service, stack, T0 } from "./fixtures";

t.test("a new instance record: its fields in their order, its spec's JSON text known and exact", async (t) => {
  const web = service("web", { command: ["sleep", "1"], ports: [{ hostPort: 80, containerPort: 8080, protocol: "tcp" }], labels: { tier: "front" } });
  const record = newInstance("i1", web, stack(), "h1", 3, T0, "10.42.1.2");
  t.equal(JSON.stringify(record), JSON.stringify({
    id: "i1", envId: "e1", serviceId: "web", stackId: "s1", hostId: "h1", name: "app-web-3", index: 3, specVersion: 1,
    spec: {
      image: "local/busybox", command: ["sleep", "1"], env: {}, ports: [{ hostPort: 80, containerPort: 8080, protocol: "tcp" }],
      labels: { tier: "front", "io.rancher.stack.name": "app", "io.rancher.stack_service.name": "app/web", "io.drover.service": "web", "io.rancher.container.name": "app-web-3" },
      restartPolicy: { name: "always" },
    },
    ip: "10.42.1.2", state: "requested", createdAt: "2026-01-01T00:00:00.000Z", rev: 0,
  }));
  t.equal(knownJsonText(record.spec), JSON.stringify(record.spec));
});

t.test("the known text equals JSON.stringify for every shape of spec, or is not known", async (t) => {
  const shapes = {
    health: service("a", { healthCheck: { port: 80, interval: 2000, timeout: 1000, unhealthyThreshold: 2, healthyThreshold: 2, strategy: "recreate" } as never }),
    secrets: service("b", { secrets: { token: "sealed:x" }, entrypoint: ["/bin/sh"], sidekicks: [{ name: "side", image: "local/busybox" }] as never }),
    options: service("c", { volumes: ["/a:/b"], privileged: true, capAdd: ["NET_ADMIN"], dnsSearch: ["x"], env: { Q: "\"quoted\"\n" } }),
    // A user label where the system puts the container name: the key keeps the user's place, the value is the name.
    ownName: service("d", { labels: { "io.rancher.container.name": "mine", "z": "1" } }),
    unicode: service("e-é", { labels: { "ü": "\u2028" } }),
  };
  for (const [what, svc] of Object.entries(shapes)) {
    const make = instanceFactory(svc, stack(), T0);
    const records = [make("i1", "h1", 1, "10.42.1.2"), make("i2", "h2", 12, "10.42.2.2")];
    for (const r of records) t.equal(knownJsonText(r.spec), JSON.stringify(r.spec), `${what}: ${r.name}`);
    t.not(records[0].spec, records[1].spec, `${what}: each instance has its own spec object`);
    t.equal(records[1].spec.labels["io.rancher.container.name"], records[1].name, `${what}: the container name label is the name`);
    if (svc.spec.healthCheck) t.match(records[0], { healthState: "initializing", healthChangedAt: "2026-01-01T00:00:00.000Z" });
  }
  // The split marker appearing in the service's own values: no text is made ahead (it is made in full when needed).
  const odd = instanceFactory(service("f", { env: { X: "\u0000drover-container-name\u0000" } }), stack(), T0)("i1", "h1", 1, "10.42.1.2");
  t.equal(knownJsonText(odd.spec), undefined);
});
