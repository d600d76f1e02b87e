import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { hostProvider } from "../../provider";
import { API_URL_ENV } from "../../provider/drivers/digitalocean/api";
import { labForTest } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { FakeDigitalOcean } from "./fake-api";

// A digitalocean Host on an image without node (the fake's `imagesWithoutNode`: node hidden
// in the droplet's mount namespace, as on a fresh debian-12-x64 droplet): the driver's
// bootstrap falls to the single-executable agent (provider/agent-executable.ts, built once
// and cached), which registers and runs; delete destroys the droplet and takes the overlay
// away. The Host provider is called directly (the engine path is engine-do.test.ts's).
const TOKEN = `dop_v1_${"e".repeat(64)}`;

t.test("a droplet without node runs the single-executable agent", async (t) => {
  t.setTimeout(240_000);
  const lab = await labForTest(t, { hosts: 1, sshd: true, name: "do-exe" });
  const cp = await ControlPlane.start(lab, { graceMs: 3000 });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const fake = await new FakeDigitalOcean(TOKEN, lab.hosts).start();
  t.teardown(() => fake.stop());
  fake.imagesWithoutNode.add("debian-12-x64");
  const saved = process.env[API_URL_ENV];
  process.env[API_URL_ENV] = fake.url;
  t.teardown(() => { if (saved === undefined) delete process.env[API_URL_ENV]; else process.env[API_URL_ENV] = saved; });

  const env = await cp.createEnvironment("do-exe");
  const installDir = path.join(lab.runDir, "do-exe", "opt");
  const stateDir = path.join(lab.runDir, "do-exe", "state");
  const inputs = {
    endpoint: cp.url, apiKey: env.apiKey, envId: env.id, registrationToken: env.registrationToken, name: "bare1", waitTimeoutSeconds: 90,
    driver: { type: "digitalocean", token: TOKEN, region: "fra1", size: "s-1vcpu-2gb", image: "debian-12-x64", installDir, stateDir },
  };
  const started = Date.now();
  const created = await hostProvider.create(inputs);
  t.comment(`create (droplet, executable build or cache, upload, start, register) took ${Date.now() - started} ms`);
  t.match(created.outs, { state: "active", dropletId: Number }, "the droplet's host is active");

  const [h] = lab.hosts;
  const probe = await h.exec(["sh", "-c", "command -v node nodejs; echo rc=$?"]);
  t.match(probe.stdout, /^rc=[1-9]/m, "the droplet has no node on PATH", { out: probe.stdout });
  const agentPid = Number(fs.readFileSync(path.join(stateDir, "agent.pid"), "utf8"));
  const exe = fs.readlinkSync(`/proc/${agentPid}/exe`);
  t.match(exe, new RegExp(`^${installDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/drover-agent-exe-[^/]+/drover-agent$`), "the agent process is the executable, not a node", { exe });

  await hostProvider.delete(created.id, created.outs);
  t.same(fake.droplets(), [], "delete destroyed the droplet");
  t.same(fake.keys(), [], "and removed its key");
  await fake.settled();
  const after = await h.exec(["sh", "-c", "command -v node >/dev/null && echo has-node"]);
  t.match(after.stdout, /has-node/, "the lab host has node again once the droplet is gone");
});
