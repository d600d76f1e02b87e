import { spawn } from "child_process";
import * as path from "path";
import t from "tap";
import { environmentProvider, hostProvider } from "../../provider";
import { API_URL_ENV } from "../../provider/drivers/digitalocean/api";
import { makeKeys } from "../../runtime/protocol/keys";
import { labForTest } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { waitFor } from "../support/wait";
import { FakeDigitalOcean } from "./fake-api";

// A Host create killed after its droplet exists (SIGKILL of the process running it, as a
// crashed `pulumi up`): Pulumi records no resource, so no Host delete will ever run. The
// create recorded a machine intent first (provider/machine-intents.ts: tag + the token sealed
// with a key derived from the environment's API key), and the Environment's delete sweeps the
// droplet and its key by that tag. A create that ends (here: fails and cleans up) clears it.
const TOKEN = `dop_v1_${"c".repeat(64)}`;
const providerEntry = path.resolve(__dirname, "../../provider/index.js");

t.test("a killed create's droplet and key are swept by the Environment's delete", async (t) => {
  t.setTimeout(120_000);
  const lab = await labForTest(t, { hosts: 1, sshd: true, name: "do-crash" });
  const cp = await ControlPlane.start(lab, { graceMs: 3000 });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const fake = await new FakeDigitalOcean(TOKEN, lab.hosts).start();
  t.teardown(() => fake.stop());
  const saved = process.env[API_URL_ENV];
  process.env[API_URL_ENV] = fake.url;
  t.teardown(() => { if (saved === undefined) delete process.env[API_URL_ENV]; else process.env[API_URL_ENV] = saved; });

  const env = await cp.createEnvironment("do-crash");
  const intents = async () => (await env.api.ok("GET", `${env.base}/machineintents`)).data as Array<Record<string, string>>;
  const inputs = (name: string, waitTimeoutSeconds: number) => ({
    endpoint: cp.url, apiKey: env.apiKey, envId: env.id, registrationToken: env.registrationToken, name, waitTimeoutSeconds,
    driver: { type: "digitalocean", token: TOKEN, region: "fra1", size: "s-1vcpu-2gb", image: "ubuntu-24-04-x64" },
  });

  // A create that fails (its droplet never leaves `new`) cleans up and clears its intent.
  fake.stuckNew.add("stuck1");
  await t.rejects(hostProvider.create(inputs("stuck1", 2)), /stuck1.*still "new"/, "a droplet stuck in new fails the create, naming it");
  t.same(await intents(), [], "the ended create cleared its intent");
  t.same(fake.droplets(), [], "and removed its droplet");
  await fake.settled();

  // A create killed while its droplet is starting.
  fake.stuckNew.add("crash1");
  const child = spawn(process.execPath, ["-e", `require(${JSON.stringify(providerEntry)}).hostProvider.create(JSON.parse(process.env.INPUTS)).catch(() => {})`],
    { env: { ...process.env, [API_URL_ENV]: fake.url, INPUTS: JSON.stringify(inputs("crash1", 600)) }, stdio: "ignore" });
  t.teardown(() => { if (child.exitCode === null) child.kill("SIGKILL"); });
  await waitFor(() => fake.droplets().some((d) => d.name === "crash1"), { what: "the droplet crash1 created", timeoutMs: 30_000 });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  t.equal(fake.keys().length, 1, "the killed create left its key");

  const [intent] = await intents();
  t.match(intent, { name: "crash1", driver: "digitalocean", tag: `drover-host:${env.id}:crash1`, sealed: /^drs1\./ }, "and its intent, the token sealed");
  t.notOk(JSON.stringify(intent).includes(TOKEN), "the API never shows the token");
  const raw = await cp.redis.client().hgetall(makeKeys(cp.keyPrefix).env(env.id).machineIntents);
  t.notOk(JSON.stringify(raw).includes(TOKEN), "Redis never holds the token in the clear");
  const other = await cp.createEnvironment("do-crash-other");
  t.equal((await other.api.call("GET", `${env.base}/machineintents`)).status, 404, "another environment's key gets 404");

  await environmentProvider.delete(env.id, { endpoint: cp.url, adminKey: cp.adminKey, apiKey: env.apiKey, envId: env.id, name: "do-crash", waitTimeoutSeconds: 60 });
  t.same(fake.droplets(), [], "the Environment's delete destroyed the killed create's droplet");
  t.same(fake.keys(), [], "and removed its key");
  t.equal((await cp.admin().call("GET", env.base)).status, 404, "the environment is gone");
  await fake.settled();
  t.same(fake.hostsInUse(), [], "no lab host left in use");
});
