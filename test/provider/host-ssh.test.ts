import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { hostProvider } from "../../provider";
import { labForTest, type LabHost } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { waitFor } from "../support/wait";

// The Host provider's ssh driver against lab hosts running sshd (no systemd there, so the
// supervisor runs the agent): install over SFTP, supervised agent, host active, restart
// after a kill, delete (containers, agent, record gone), create again without re-upload.
/** Running (a zombie waiting for init to reap it has exited). */
const alive = (pid: number) => {
  if (!(pid > 0)) return false;
  try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); } catch { return false; }
};
const readPid = (file: string) => { try { return Number(fs.readFileSync(file, "utf8").trim()) || 0; } catch { return 0; } };
const cmdline = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "); } catch { return ""; } };

function dirsFor(root: string, h: LabHost) {
  // All lab hosts share one filesystem: each host gets its own install and state dirs.
  return { installDir: path.join(root, h.name, "opt"), stateDir: path.join(root, h.name, "state") };
}

async function droverContainers(h: LabHost): Promise<string[]> {
  const list = await new Docker({ socketPath: h.dockerSocket }).listContainers({ all: true, filters: { label: ["io.drover.managed=true"] } });
  return list.map((c) => c.Names[0]);
}

t.test("Host over ssh: install, supervise, delete, reinstall", async (t) => {
  t.setTimeout(600_000);
  const lab = await labForTest(t, { hosts: 2, sshd: true, name: "host-ssh" });
  const cp = await ControlPlane.start(lab, { graceMs: 3000 });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const env = await cp.createEnvironment("host-ssh");
  const [a, b] = lab.hosts;
  const root = path.join(lab.runDir, "hosts");
  const conn = { endpoint: cp.url, apiKey: env.apiKey, envId: env.id, registrationToken: env.registrationToken };
  const sshA = a.ssh!;
  const inputs = {
    ...conn, name: "ssh-a", labels: { zone: "a", disk: "ssd" }, waitTimeoutSeconds: 60,
    driver: { type: "ssh", address: sshA.host, port: sshA.port, user: sshA.username, privateKey: sshA.privateKey, hostKey: sshA.hostPublicKey, ...dirsFor(root, a) },
  };
  const { stateDir, installDir } = dirsFor(root, a);
  t.same((await hostProvider.check({}, inputs)).failures, [], "inputs pass check");

  const started = Date.now();
  const created = await hostProvider.create(inputs);
  t.comment(`create (bundle build or cache, upload, unpack, start, register) took ${Date.now() - started} ms`);
  t.match(created.outs, {
    hostId: created.id, state: "active", subnet: /^10\.42\.\d+\.0\/24$/, underlayIp: a.underlayIp,
    agentVersion: /^\d+\.\d+\.\d+/, dockerVersion: /^\d+\./, agentService: "supervisor", name: "ssh-a",
  }, "active with a subnet; lab hosts have no systemd, so the supervisor runs the agent");
  t.match(created.outs.sshHostKey, /^SHA256:/, "the host key seen is recorded in the state (trust on first use)");
  const onServer = await env.api.ok("GET", `${env.base}/hosts/${created.id}`);
  t.match(onServer.labels, { zone: "a", disk: "ssd", "io.drover.host.hostname": "ssh-a" }, "registered with its labels and name");
  const bundles = fs.readdirSync(installDir);
  const tarball = bundles.find((f) => /^drover-agent-.*\.tar\.gz$/.test(f));
  t.ok(tarball, `bundle uploaded (${bundles.join(", ")})`);
  t.ok(fs.existsSync(path.join(installDir, tarball!.replace(/\.tar\.gz$/, ""), ".complete")), "bundle unpacked");
  t.equal(fs.statSync(path.join(stateDir, "agent.token")).mode & 0o777, 0o600, "the token file is 0600");
  t.equal(fs.statSync(path.join(stateDir, "agent-launch.json")).mode & 0o777, 0o600, "the launch file is 0600");

  // The token is in the token file only: not in any command line.
  const agentPid = readPid(path.join(stateDir, "agent.pid"));
  const supPid = readPid(path.join(stateDir, "supervisor.pid"));
  t.ok(alive(agentPid) && alive(supPid), `agent ${agentPid} and supervisor ${supPid} run`);
  t.match(cmdline(agentPid), /drover\.js agent .*--hostname ssh-a/, "the agent runs from the bundle");
  t.notOk(cmdline(agentPid).includes(env.registrationToken) || cmdline(supPid).includes(env.registrationToken), "no token on a command line");

  // read: no drift right after create; diff against the same inputs: nothing.
  const read = await hostProvider.read(created.id, created.outs);
  t.same(read.props, created.outs, "read after create: no drift");
  t.equal((await hostProvider.diff(created.id, read.props, inputs)).changes, false, "no diff after refresh");

  // A container of a service on this host, to see delete take it away.
  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "demo" });
  const svc = await env.api.ok("POST", `${env.base}/services`, { stackId: stack.id, name: "sleeper", image: "local/busybox", command: ["sleep", "3600"], scale: 1 });
  const [container] = await waitFor(async () => { const c = await droverContainers(a); return c.length === 1 ? c : false; }, { what: "the service's container on ssh-a", timeoutMs: 60_000 });

  // Kill the agent: the supervisor starts a new one, which keeps the host active.
  process.kill(agentPid, "SIGKILL");
  const newPid = await waitFor(() => {
    const p = readPid(path.join(stateDir, "agent.pid"));
    return p !== agentPid && alive(p) ? p : false;
  }, { what: "the supervisor to restart the agent", timeoutMs: 30_000 });
  t.ok(newPid !== agentPid, `agent restarted as ${newPid}`);
  t.match(fs.readFileSync(path.join(stateDir, "supervisor.log"), "utf8"), /agent exited with status 137; restarting/, "the supervisor logged the restart");
  await waitFor(async () => (await env.api.ok("GET", `${env.base}/hosts/${created.id}`)).state === "active", { what: "ssh-a active after the restart", timeoutMs: 30_000 });
  t.same(await droverContainers(a), [container], "the container survived the agent restart");

  // Delete: containers removed by the agent's teardown, record gone, agent and supervisor stopped.
  await hostProvider.delete(created.id, created.outs);
  t.equal((await env.api.call("GET", `${env.base}/hosts/${created.id}`)).status, 404, "host gone from the API");
  t.same(await droverContainers(a), [], "its containers were removed");
  const status = (pid: number) => { try { return fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").filter((l) => /^(Name|State|PPid)/.test(l)).join(" "); } catch { return "gone"; } };
  t.notOk(alive(newPid) || alive(supPid), "agent and supervisor stopped", { agent: status(newPid), supervisor: status(supPid), log: fs.readFileSync(path.join(stateDir, "supervisor.log"), "utf8") });
  t.notOk(fs.existsSync(path.join(stateDir, "agent.token")), "the token file is removed");
  t.equal((await hostProvider.read(created.id, created.outs)).id, undefined, "read after delete: gone");
  t.same((await env.api.ok("GET", `${env.base}/hosts`)).data.map((h: any) => h.name), [], "no host registered again meanwhile",
    { agentLog: fs.readFileSync(path.join(stateDir, "agent.log"), "utf8").split("\n").slice(-30).join("\n") });
  await hostProvider.delete(created.id, created.outs);
  t.pass("deleting twice succeeds");
  await env.api.ok("DELETE", `${env.base}/services/${svc.id}`);

  // Create again: the bundle on the machine has the same sha256, so it is not uploaded again.
  const before = fs.statSync(path.join(installDir, tarball!));
  const again = await hostProvider.create(inputs);
  const after = fs.statSync(path.join(installDir, tarball!));
  t.match(again.outs, { state: "active", agentService: "supervisor" }, "created again");
  t.not(again.id, created.id, "a new host record");
  t.same([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], "the bundle was not uploaded again");
  t.same(fs.readdirSync(installDir).sort(), bundles.sort(), "no other file in installDir");
  await hostProvider.delete(again.id, again.outs);
  t.equal((await env.api.call("GET", `${env.base}/hosts/${again.id}`)).status, 404, "removed again");

  // Host key pinning: a wrong key stops before anything runs.
  const sshB = b.ssh!;
  const wrongKey = { ...inputs, name: "ssh-b", driver: { ...inputs.driver, address: sshB.host, hostKey: sshA.hostPublicKey, ...dirsFor(root, b) } };
  const keyErr: any = await hostProvider.create(wrongKey).then(() => undefined, (e: unknown) => e);
  t.match(keyErr?.message, /^driver\.hostKey: host ssh-b: host key check failed \(ssh root@[^)]+\): the server's host key SHA256:\S+ does not match driver\.hostKey$/, "a wrong host key is refused, against driver.hostKey");
  t.notOk(fs.existsSync(dirsFor(root, b).installDir), "nothing was installed");

  // A private key the machine does not accept: reported against driver.privateKey, one line, no stack trace.
  const otherKey: string = require("ssh2").utils.generateKeyPairSync("ed25519").private;
  const authErr: any = await hostProvider.create({ ...wrongKey, driver: { ...wrongKey.driver, hostKey: sshB.hostPublicKey, privateKey: otherKey } })
    .then(() => undefined, (e: unknown) => e);
  t.match(authErr?.message, /^driver\.privateKey: host ssh-b: authentication failed \(ssh root@[^)]+\): the server refused the key for user root/, "a wrong key is the key's fault, not the address's");
  t.notMatch(`${authErr}: ${authErr?.stack}`, /\n/, "what the engine prints is one line");
  t.notOk(fs.existsSync(dirsFor(root, b).installDir), "nothing was installed");

  // A token the server refuses: the agent never registers; the timeout says so with its log, and the agent is stopped.
  const badToken = { ...wrongKey, hostKey: undefined, registrationToken: "drt_wrong", waitTimeoutSeconds: 5,
    driver: { ...wrongKey.driver, hostKey: sshB.hostPublicKey } };
  const regErr: any = await hostProvider.create(badToken).then(() => undefined, (e: unknown) => e);
  t.match(regErr?.message, /^registrationToken: host ssh-b: registration wait failed \(ssh [^)]+\): timed out after 5 s waiting for host ssh-b to become active; still pending: host ssh-b has not registered yet/,
    "the timeout names the step, says what was pending, and blames the token the server refused");
  t.match(regErr?.message, /; last lines of the agent log: .*registration refused/, "and quotes the agent's log");
  t.notMatch(regErr?.message, /\n/, "on one line");
  t.equal(regErr?.id, undefined, "no partial resource: nothing registered");
  const bState = dirsFor(root, b).stateDir;
  t.notOk(alive(readPid(path.join(bState, "agent.pid"))) || alive(readPid(path.join(bState, "supervisor.pid"))) || fs.existsSync(path.join(bState, "supervisor.pid")),
    "the failed create stopped its agent");
});
