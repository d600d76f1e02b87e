import * as http from "http";
import t from "tap";
import { hostProvider } from "../../provider";
import { API_URL_ENV } from "../../provider/drivers/digitalocean/api";
import { FakeDigitalOcean } from "../digitalocean/fake-api";

// A digitalocean host whose machine login (PUT .../machineaccess) failed after the host was
// active is recorded with `machineAccessPending`: diff asks for an update, and update and
// refresh (read) send the login again. A drover API stand-in answers the two calls involved
// (the host, active; the login, refused while `refuse` says so); the fake DigitalOcean API
// answers the refresh's look for strays under the host's tag (none).

const TOKEN = `dop_v1_${"c".repeat(64)}`;

t.test("a machine login the create could not save is sent again by refresh and update", async (t) => {
  const puts: Array<{ status: number; body: any }> = [];
  let refuse = true;
  const api = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/v1/environments/1a1/hosts/1h1") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: "1h1", name: "web1", state: "active", labels: {}, agentVersion: "0.1.0" }));
        return;
      }
      if (req.method === "PUT" && req.url === "/v1/environments/1a1/hosts/1h1/machineaccess") {
        const status = refuse ? 503 : 204;
        puts.push({ status, body: JSON.parse(text) });
        res.writeHead(status, { "content-type": "application/json" });
        res.end(status === 204 ? "" : JSON.stringify({ code: "Unavailable", message: "the store is failing over" }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => api.close(() => resolve())));
  const fake = await new FakeDigitalOcean(TOKEN, []).start();
  t.teardown(() => fake.stop());
  const saved = process.env[API_URL_ENV];
  process.env[API_URL_ENV] = fake.url;
  t.teardown(() => { if (saved === undefined) delete process.env[API_URL_ENV]; else process.env[API_URL_ENV] = saved; });

  const endpoint = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
  const machine = {
    dropletId: 3_000_001, dropletName: "web1", publicIp: "192.0.2.10", region: "fra1", size: "s-1vcpu-2gb", sshKeyId: 7, sshFingerprint: "aa:bb",
    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n", publicKey: "ssh-ed25519 AAAA web1", tag: "drover-host:1a1:web1",
  };
  const inputs = {
    name: "web1", envId: "1a1", endpoint, apiKey: "drk_test", registrationToken: "drt_test", labels: {},
    driver: { type: "digitalocean", token: TOKEN, region: "fra1", size: "s-1vcpu-2gb", image: "debian-12-x64" },
  };
  const olds = { ...inputs, hostId: "1h1", state: "active", agentService: "systemd", sshHostKey: "SHA256:abc", machine, dropletId: machine.dropletId, machineAccessPending: true };

  const diff = await hostProvider.diff("1h1", olds, { ...inputs, state: "active" });
  t.ok(diff.changes, "a pending login is a change: `up` calls update");
  t.same(diff.replaces, [], "in place");

  const stillFailing = await hostProvider.read("1h1", olds);
  t.equal(puts.length, 1, "refresh sent the login");
  t.equal((stillFailing.props as any).machineAccessPending, true, "refused again: still pending, the refresh itself goes on");

  const failedUpdate = await hostProvider.update("1h1", olds, { ...inputs, state: "active" }).catch((e: Error) => e);
  t.match((failedUpdate as Error).message, /host web1 .*503/, "update fails while the server refuses the login, naming the host");
  t.equal(puts.length, 2);

  refuse = false;
  const updated = await hostProvider.update("1h1", olds, { ...inputs, state: "active" });
  t.equal(puts.length, 3, "update sent the login");
  t.same(puts[2].body, { user: "root", address: "192.0.2.10", port: 22, privateKey: machine.privateKey, publicKey: machine.publicKey, hostKey: "SHA256:abc" },
    "the machine's login and the host key recorded at the first connection");
  t.notOk("machineAccessPending" in updated.outs, "saved: no longer pending");
  t.equal((updated.outs as any).dropletId, machine.dropletId, "the machine outputs are kept");

  const refreshed = await hostProvider.read("1h1", olds);
  t.equal(puts.length, 4, "refresh of a still-pending state sends it too");
  t.notOk("machineAccessPending" in (refreshed.props as any), "refresh clears it once saved");

  const settled = await hostProvider.read("1h1", { ...olds, machineAccessPending: undefined });
  t.equal(puts.length, 4, "nothing pending: nothing sent");
  t.notOk((settled.props as any).machineAccessPending);
});
