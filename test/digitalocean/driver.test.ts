import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { digitalOceanDriver } from "../../provider/drivers/digitalocean";
import { API_URL_ENV } from "../../provider/drivers/digitalocean/api";
import { FakeDigitalOcean } from "./fake-api";
import type { LabHost } from "../lab/host";

// The driver's provision against the fake API without lab hosts: a droplet whose SSH never
// answers fails naming the droplet and leaves nothing on the account; a wrong token fails
// naming driver.token and makes nothing.

const TOKEN = `dop_v1_${"a".repeat(64)}`;

t.test("provision failures clean up and name the droplet", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-do-driver-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, "ssh"));
  // A stand-in host on a loopback address where nothing listens on port 22.
  const host = { name: "h1", dir, underlayIp: "127.0.0.9", exec: async () => ({ code: 0, stdout: "", stderr: "" }) } as unknown as LabHost;
  const fake = await new FakeDigitalOcean(TOKEN, [host]).start();
  t.teardown(() => fake.stop());
  const saved = process.env[API_URL_ENV];
  process.env[API_URL_ENV] = fake.url;
  t.teardown(() => { if (saved === undefined) delete process.env[API_URL_ENV]; else process.env[API_URL_ENV] = saved; });
  const inputs = { type: "digitalocean" as const, token: TOKEN, region: "fra1", size: "s-1vcpu-2gb", image: "debian-12-x64" as const };

  const started = Date.now();
  const err = await digitalOceanDriver(inputs, "web1", { envId: "e1", waitMs: 2000 }).provision!().catch((e) => e);
  t.match(err?.message, /host web1 \(digitalocean droplet web1 \(id \d+, 127\.0\.0\.9\)\): droplet web1 \(id \d+, 127\.0\.0\.9\): SSH did not take drover's key within 2 s \(last: .*connection refused/,
    "SSH that never answers: the error names the droplet, its address and what SSH said");
  t.ok(Date.now() - started < 15_000, "within the wait, not a library's default");
  t.same(fake.droplets(), [], "the droplet was destroyed");
  t.same(fake.keys(), [], "the key removed from the account");
  await fake.settled();
  t.same(fake.freeHosts(), ["h1"], "the host is back in the pool");

  const wrong = await digitalOceanDriver({ ...inputs, token: "dop_v1_not_the_token" }, "web2", { envId: "e1", waitMs: 2000 }).provision!().catch((e) => e);
  t.match(wrong?.message, /401 unauthorized: Unable to authenticate you\. \(check driver\.token/, "a wrong token is named");
  t.notOk(wrong.message.includes("dop_v1_not_the_token"), "and not quoted");
  t.same([fake.droplets().length, fake.keys().length], [0, 0], "nothing was made");

  const noToken = digitalOceanDriver({ ...inputs, token: undefined }, "web3", { envId: "e1", waitMs: 2000 });
  const savedToken = process.env.DIGITALOCEAN_TOKEN;
  delete process.env.DIGITALOCEAN_TOKEN;
  t.teardown(() => { if (savedToken !== undefined) process.env.DIGITALOCEAN_TOKEN = savedToken; });
  const none = await noToken.provision!().catch((e) => e);
  t.match(none?.message, /driver\.token: required: a DigitalOcean API token \(driver\.token, or DIGITALOCEAN_TOKEN/, "no token anywhere: said so");
});
