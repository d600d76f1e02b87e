import t from "tap";
import { hostProvider } from "../../provider";
import { sshDriver } from "../../provider/drivers/ssh";
import { connectSsh, fingerprintOf } from "../../provider/drivers/ssh-runner";
import { labForTest } from "../lab";

// Without a pinned driver.hostKey, the first connection's host key is recorded in the Pulumi
// state (the Host's `sshHostKey` output) and every later connection must present the same
// one: a different key is refused with both fingerprints (trust on first use).
t.test("ssh host keys: trust on first use, a changed key refused, a pinned key wins", async (t) => {
  t.setTimeout(300_000);
  const lab = await labForTest(t, { hosts: 1, sshd: true, name: "ssh-tofu" });
  const ssh = lab.hosts[0].ssh!;
  const real = fingerprintOf(Buffer.from(ssh.hostPublicKey.trim().split(/\s+/)[1], "base64"));
  const other = "SHA256:" + Buffer.alloc(32, 7).toString("base64").replace(/=+$/, "");
  const driver = { type: "ssh" as const, address: ssh.host, port: ssh.port, user: ssh.username, privateKey: ssh.privateKey };

  const first = await connectSsh(driver);
  t.equal(first.hostKey, real, "the first connection reports the key it saw, for the state");
  first.close();

  await t.resolves(sshDriver(driver, "tofu", real).logTail(1), "the recorded key is accepted");
  const refused = await sshDriver(driver, "tofu", other).logTail(1).then(() => undefined, (e: Error) => e);
  t.ok(refused, "another recorded key is refused");
  t.match(refused?.message, /host key check/);
  t.ok(refused?.message.includes(real) && refused?.message.includes(other), `both fingerprints shown: ${refused?.message}`);
  t.match(refused?.message, /trust on first use/);

  await t.resolves(sshDriver({ ...driver, hostKey: ssh.hostPublicKey }, "tofu", other).logTail(1), "a pinned key wins over the recorded one");
  await t.rejects(sshDriver({ ...driver, hostKey: other }, "tofu", real).logTail(1), { message: /does not match driver.hostKey/ }, "a wrong pinned key is refused");

  // The Host resource's delete connects first (to take the token away): with another recorded key nothing happens.
  const props = { name: "tofu", envId: "1anothing", endpoint: "http://127.0.0.1:9", apiKey: "k".repeat(20), driver, sshHostKey: other };
  await t.rejects(hostProvider.delete("1hnothing", props), { message: new RegExp(`${other.replace(/[+/]/g, "\\$&")}`) }, "delete refuses the changed key before touching the machine");
});
