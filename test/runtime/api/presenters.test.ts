import t from "tap";
import type { CertificateRecord, LoadBalancerRecord } from "../../../runtime/protocol/model";
import { presentCertificate } from "../../../runtime/api/present/certificate";
import { presentEnvironment } from "../../../runtime/api/present/environment";
import { presentHost } from "../../../runtime/api/present/host";
import { presentInstance } from "../../../runtime/api/present/instance";
import { presentLoadBalancer } from "../../../runtime/api/present/load-balancer";
import { presentService } from "../../../runtime/api/present/service";
import { presentStack } from "../../../runtime/api/present/stack";
import { makeUrls } from "../../../runtime/api/urls";
import { env, host, instance, service, stack } from "../reconcile/fixtures";

// Every presenter is an allow-list: a field added to a record later (here `leak`, holding a
// marker) stays out of every answer and event until a presenter lists it.
const urls = makeUrls("http://drover.test");
const MARKER = "must-never-be-shown";

function withLeak<T extends object>(record: T): T {
  return { ...record, leak: MARKER, identityKey: MARKER, machineId: MARKER } as T;
}

const cert: CertificateRecord = {
  id: "1ce1", envId: "e1", name: "www", cert: "CERT", key: MARKER, commonName: "www", subjectAlternativeNames: [], issuer: "ca",
  notBefore: "x", notAfter: "y", fingerprint: "ab", state: "active", createdAt: "x", rev: 1,
};
const lb: LoadBalancerRecord = {
  id: "1lb1", envId: "e1", stackId: "s1", name: "lb", state: "active", transitioning: "no", served: true, createdAt: "x", rev: 1,
  spec: { portRules: [], certificateIds: [], scale: 1, global: false, labels: {} },
};

const shown: Array<[string, unknown]> = [
  ["environment", presentEnvironment(withLeak(env()), urls, true)],
  ["stack", presentStack(withLeak(stack()), urls)],
  ["host", presentHost(withLeak(host("h1")), urls)],
  ["service", presentService(withLeak(service("1s1")), urls)],
  ["instance", presentInstance(withLeak(instance("i1", "1s1", "h1", 1)), urls)],
  ["load balancer", presentLoadBalancer(withLeak(lb), urls)],
  ["certificate", presentCertificate(withLeak(cert), urls)],
];

for (const [kind, json] of shown) {
  t.test(`${kind}: a field no presenter lists is not shown`, async (t) => {
    t.notOk(JSON.stringify(json).includes(MARKER), `${kind} JSON holds no unlisted field`);
    t.match(json, { id: String, type: String, links: Object, actions: Object });
  });
}

t.test("the fields that are listed are shown", async (t) => {
  t.match(presentEnvironment(env(), urls, true), { id: "e1", type: "environment", name: "env", network: { cidr: "10.42.0.0/16" }, state: "active" });
  t.match(presentStack({ ...stack(), description: "d" }, urls), { id: "s1", type: "stack", name: "app", description: "d", stackWideDiscovery: false });
});
