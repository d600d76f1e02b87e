import t from "tap";
import { createOptions } from "../../agent/docker/container-config";
import { rawCreateOptions, topAddresses } from "../../bench/support/raw-docker";
import { agentMarks, entryField, RoundMarks, streamIdMs, timeline } from "../../bench/support/round-timeline";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import { DNS_IP, type DesiredInstance } from "../../runtime/protocol/model";

// The overhead benchmark's pure parts: the raw side's create options and addresses, and the
// round timeline read from logs and stream ids.

const template: DesiredInstance = {
  id: "i1", name: "bench-warm-1", serviceId: "s1", stackId: "st1", ip: "10.42.1.2",
  spec: { image: "local/busybox", command: ["sleep", "3600"], env: { A: "1" }, ports: [], labels: { "io.rancher.stack.name": "bench" }, restartPolicy: { name: "always" } },
};

t.test("rawCreateOptions: the agent's options for the same instance, under another name and address, unmanaged", async (t) => {
  const raw = rawCreateOptions(template, "h1", { name: "rawbench-r0-h1-1", ip: "10.42.1.254" });
  const agent = createOptions(template, { envId: "e1", hostId: "h1" });
  t.equal(raw.name, "rawbench-r0-h1-1");
  t.same(raw.HostConfig, agent.HostConfig, "same network mode, DNS, restart policy, ports");
  t.equal(raw.HostConfig?.NetworkMode, "drover");
  t.same(raw.HostConfig?.Dns, [DNS_IP]);
  t.same(raw.NetworkingConfig, { EndpointsConfig: { drover: { IPAMConfig: { IPv4Address: "10.42.1.254" } } } });
  t.same([raw.Image, raw.Cmd, raw.Env], [agent.Image, agent.Cmd, agent.Env]);
  t.equal(raw.Labels?.[containerLabels.managed], "false", "no agent lists it");
  t.not(raw.Labels?.[containerLabels.instance], template.id, "never taken for the template's instance");
  t.throws(() => rawCreateOptions({ ...template, ip: undefined }, "h1", { name: "x", ip: "10.42.1.254" }), /no overlay address \(ip\)/);
});

t.test("topAddresses: from the top of the subnet down, never the broadcast, gateway or IPAM's first", async (t) => {
  t.same(topAddresses("10.42.3.0/24", 3), ["10.42.3.254", "10.42.3.253", "10.42.3.252"]);
  t.same(topAddresses("10.42.3.0/24", 0), []);
  t.same(topAddresses("10.42.3.0/29", 5), ["10.42.3.6", "10.42.3.5", "10.42.3.4", "10.42.3.3", "10.42.3.2"]);
  t.throws(() => topAddresses("10.42.3.0/29", 6), /no room for 6 addresses/);
  t.throws(() => topAddresses("10.42.3.1/24", 1), /expected an IPv4 CIDR/);
});

t.test("agentMarks: the round's first create, last start and the reconcile that made them", async (t) => {
  const line = (time: string, msg: string, extra: Record<string, unknown> = {}) => JSON.stringify({ time, level: "info", msg, ...extra });
  const text = [
    line("2026-01-01T00:00:00.500Z", "created container", { name: "bench-web0-1" }), // before the round
    line("2026-01-01T00:00:01.100Z", "created container", { name: "bench-web1-1" }),
    line("2026-01-01T00:00:01.150Z", "created container", { name: "bench-web1-2" }),
    line("2026-01-01T00:00:01.200Z", "created container", { name: "other-1" }),
    line("2026-01-01T00:00:01.400Z", "started container", { name: "bench-web1-2" }),
    line("2026-01-01T00:00:01.500Z", "started container", { name: "bench-web1-1" }),
    "not json",
    line("2026-01-01T00:00:01.510Z", "reconciled", { actions: 2 }),
    line("2026-01-01T00:00:02.000Z", "reconciled", { actions: 1 }),
  ].join("\n");
  t.same(agentMarks(text, "bench-web1-", Date.parse("2026-01-01T00:00:01Z")), {
    firstCreatedAt: Date.parse("2026-01-01T00:00:01.100Z"),
    lastStartedAt: Date.parse("2026-01-01T00:00:01.500Z"),
    reconciledAt: Date.parse("2026-01-01T00:00:01.510Z"),
  });
  t.same(agentMarks(text, "bench-web9-", 0), {}, "nothing of that round");
});

t.test("stream ids and entry fields", async (t) => {
  t.equal(streamIdMs("1767225600123-4"), 1767225600123);
  t.throws(() => streamIdMs("x-1"), /expected <ms>-<seq>/);
  t.equal(entryField(["generation", "3", "type", "observed"], "type"), "observed");
  t.equal(entryField(["generation", "3"], "type"), undefined);
});

t.test("timeline: steps in ms after the POST, the critical path through the slowest host", async (t) => {
  const at = (ms: number) => 1000 + ms;
  const marks: RoundMarks = {
    postedAt: at(0), answeredAt: at(6), doneAt: at(3020), apiWriteAt: at(4),
    instanceWrites: [{ at: at(25), action: "created" }, { at: at(2960), action: "updated" }, { at: at(3010), action: "updated" }, { at: at(3030), action: "updated" }],
    hosts: [
      { desiredAt: at(23), firstCreatedAt: at(200), lastStartedAt: at(2900), reconciledAt: at(2901), observedAt: at(2950), observedReports: 1, instanceReports: 7 },
      { desiredAt: at(24), firstCreatedAt: at(180), lastStartedAt: at(2950), reconciledAt: at(2951), observedAt: at(3000), observedReports: 1, instanceReports: 7 },
    ],
  };
  const steps = timeline(marks);
  t.same(steps.map((s) => s.atMs), [6, 4, 25, 24, 180, 2950, 2951, 3000, 3010, 3020]);
  const missing = timeline({ ...marks, hosts: [marks.hosts[0], { ...marks.hosts[1], observedAt: undefined }] });
  t.equal(missing.find((s) => s.what.startsWith("observed"))?.atMs, undefined, "a host without its report leaves the step unknown");
  t.equal(missing.find((s) => s.what.startsWith("server wrote the last"))?.atMs, 3010, "the server's write is its own mark");
});
