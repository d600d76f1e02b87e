import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { labForTest } from "../lab";
import { RunNames } from "../lab/names";
import { ControlPlane } from "../support/control-plane";
import { waitFor } from "../support/wait";
import { makeKeys } from "../../runtime/protocol/keys";
import type { HostDesiredState } from "../../runtime/protocol/model";
import { unseal } from "../../runtime/protocol/seal";
import { secretContext } from "../../runtime/protocol/secret-contexts";

// Issue 11, TLS on every hop: with the control plane on TLS (API over HTTPS pinned by the
// agents, Redis TLS only with client certificates), a capture of the lab's underlay bridge
// during registration and agent work holds none of the secrets that went across it (nor the overlay's PSK).
const SECRET = "db-secret-" + Math.random().toString(36).slice(2) + "-on-the-wire";

t.test("nothing secret crosses the underlay in the clear", async (t) => {
  const lab = await labForTest(t, { hosts: 2 });
  const names = new RunNames(lab.runId);
  const pcap = path.join(lab.runDir, "underlay.pcap");
  const dump = spawn("ip", ["netns", "exec", names.switchNs, "tcpdump", "-i", names.bridge, "-U", "-s", "0", "-w", pcap],
    { stdio: ["ignore", "ignore", "pipe"] });
  let dumpErr = "";
  dump.stderr!.on("data", (d) => (dumpErr += d));
  const dumpExited = new Promise((r) => dump.once("exit", r));
  t.teardown(async () => { if (dump.exitCode === null && dump.signalCode === null) { dump.kill("SIGKILL"); await dumpExited; } });
  await waitFor(() => {
    if (dump.exitCode !== null) throw new Error(`tcpdump exited: ${dumpErr}`);
    return dumpErr.includes("listening on");
  }, { what: "tcpdump listening on the underlay bridge" });

  const cp = await ControlPlane.start(lab, { graceMs: 5000, tls: true });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const env = await cp.createEnvironment("tls-env");
  for (const h of lab.hosts) cp.startAgent(h, env);
  await cp.activeHosts(env, lab.hosts.length);
  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "app" });
  const svc = await env.api.ok("POST", `${env.base}/services`, {
    name: "db", stackId: stack.id, image: "local/busybox", command: ["sleep", "3600"], scale: 2, secrets: { DB_PASSWORD: SECRET },
  });
  await waitFor(async () => {
    const inst = (await env.api.ok("GET", `${env.base}/instances?serviceId=${svc.id}`)).data as { state: string }[];
    return inst.length === 2 && inst.every((i) => i.state === "active");
  }, { what: "2 instances active (their secret opened by the agents)", timeoutMs: 60_000 });

  dump.kill("SIGINT"); // tcpdump flushes the capture on SIGINT
  await dumpExited;
  const wire = fs.readFileSync(pcap);
  const gateway = Buffer.from(lab.gatewayIp.split(".").map(Number));
  t.ok(wire.includes(gateway), `the capture (${wire.length} bytes) holds the agents' traffic to the server's address`);
  t.ok(wire.includes(Buffer.from([0x16, 0x03, 0x01])), "TLS handshakes on the wire");

  const admin = cp.redis.client();
  const secrets: Array<[string, string | Buffer]> = [
    ["the registration token", env.registrationToken], ["the environment's API key", env.apiKey], ["the admin key", cp.adminKey],
    ["the service secret", SECRET],
  ];
  for (const h of lab.hosts) {
    const state = path.join(h.dir, "drover-agent");
    const identity = JSON.parse(fs.readFileSync(path.join(state, "identity.json"), "utf8"));
    secrets.push([`${h.name}'s Redis password`, identity.response.redis.password]);
    secrets.push([`${h.name}'s secrets key (base64)`, identity.response.secretsKey.key]);
    secrets.push([`${h.name}'s secrets key (raw)`, Buffer.from(identity.response.secretsKey.key, "base64")]);
    const keyBody = fs.readFileSync(path.join(state, "host-key.pem"), "utf8").split("\n").filter((l) => l && !l.startsWith("-----"));
    secrets.push([`${h.name}'s identity key`, keyBody[1]]);
    // The overlay's PSK, as the host's agent opens it from its desired document.
    const r = identity.response;
    const desired = JSON.parse((await admin.get(makeKeys(cp.keyPrefix).host(r.envId, r.hostId).desired))!) as HostDesiredState;
    t.ok(desired.network, `${h.name}: its desired document carries the overlay's PSK`);
    if (desired.network) {
      const hostKey = { id: r.secretsKey.id, key: Buffer.from(r.secretsKey.key, "base64") };
      secrets.push([`${h.name}'s view of the overlay PSK`, unseal(hostKey, secretContext.psk(desired.network.ipsec.pskId), desired.network.ipsec.psk)]);
    }
  }
  for (const [what, value] of secrets) {
    t.ok(value.length >= 16, `${what}: a real value to look for`);
    t.notOk(wire.includes(value), `${what}: not on the wire in the clear`);
  }
});
