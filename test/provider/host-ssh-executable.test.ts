import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import t from "tap";
import { hostProvider } from "../../provider";
import { connectSsh } from "../../provider/drivers/ssh-runner";
import { labForTest } from "../lab";
import { ControlPlane } from "../support/control-plane";
import { waitFor } from "../support/wait";

// A host with Docker and no node: the ssh driver uploads the single-executable agent
// (provider/agent-executable.ts; built once, cached under $DROVER_CACHE) and it runs there.
// Lab hosts share this machine's filesystem, so node is hidden inside the host's own mount
// namespace: an overlay on /usr/bin whose upper layer whites out node and nodejs. sshd runs
// in that namespace, so everything the driver starts over ssh sees /usr/bin without node.
t.test("Host over ssh on a machine without node: the single executable runs the agent", async (t) => {
  t.setTimeout(300_000);
  const lab = await labForTest(t, { hosts: 1, sshd: true, name: "ssh-exe" });
  const [h] = lab.hosts;
  const hide = path.join(lab.runDir, "hide-node");
  const mount = await h.exec(["sh", "-c", [
    "set -e", `mkdir -p ${hide}/upper ${hide}/work`, `mknod ${hide}/upper/node c 0 0`, `mknod ${hide}/upper/nodejs c 0 0`,
    `mount -t overlay hide-node -o lowerdir=/usr/bin,upperdir=${hide}/upper,workdir=${hide}/work /usr/bin`,
  ].join("\n")]);
  t.equal(mount.code, 0, `node hidden in the host's mount namespace ${mount.stderr}`);
  t.ok(fs.existsSync("/usr/bin/node"), "and still here, outside the host");

  const ssh = h.ssh!;
  const driver = {
    type: "ssh" as const, address: ssh.host, port: ssh.port, user: ssh.username, privateKey: ssh.privateKey, hostKey: ssh.hostPublicKey,
    installDir: path.join(lab.runDir, "opt"), stateDir: path.join(lab.runDir, "state"),
  };
  const r = await connectSsh(driver);
  const probe = await r.run("command -v node nodejs; echo \"rc=$?\"; ls /usr/bin/node 2>&1; ls /usr/bin/nodejs 2>&1; echo PATH=$PATH; command -v docker tar gzip sha256sum");
  r.close();
  t.match(probe.stdout, /^rc=[1-9]/m, "over ssh, no node or nodejs on PATH", { out: probe.stdout });
  t.match(probe.stdout, /'\/usr\/bin\/node': No such file or directory/, "nor at /usr/bin/node");
  t.match(probe.stdout, /\/docker\n.*\/tar\n.*\/gzip\n.*\/sha256sum/, "docker and coreutils are there");

  const cp = await ControlPlane.start(lab, { graceMs: 3000 });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  const env = await cp.createEnvironment("ssh-exe");
  const inputs = {
    endpoint: cp.url, apiKey: env.apiKey, envId: env.id, registrationToken: env.registrationToken,
    name: "no-node", waitTimeoutSeconds: 60, driver,
  };
  const started = Date.now();
  const created = await hostProvider.create(inputs);
  t.comment(`create (executable build or cache, upload, unpack, start, register) took ${Date.now() - started} ms`);
  t.match(created.outs, { state: "active", agentService: "supervisor", agentVersion: /^\d+\.\d+\.\d+/ }, "registered and active");

  const installed = fs.readdirSync(driver.installDir);
  const dir = installed.find((f) => /^drover-agent-exe-.*[^z]$/.test(f) && !f.endsWith(".gz"));
  t.ok(dir && installed.includes(`${dir}.gz`), `the gzipped executable was uploaded and unpacked (${installed.join(", ")})`);
  const exe = path.join(driver.installDir, dir!, "drover-agent");
  const gzBytes = fs.statSync(path.join(driver.installDir, `${dir}.gz`)).size;
  t.comment(`agent executable: ${(fs.statSync(exe).size / 1e6).toFixed(1)} MB, uploaded gzipped ${(gzBytes / 1e6).toFixed(1)} MB`);
  const agentPid = Number(fs.readFileSync(path.join(driver.stateDir, "agent.pid"), "utf8"));
  t.equal(fs.readlinkSync(`/proc/${agentPid}/exe`), exe, "the agent process is the executable, not a node");
  t.match(fs.readFileSync(`/proc/${agentPid}/cmdline`, "utf8").replace(/\0/g, " "), /\/drover-agent agent --state-dir /, "running `drover agent`");

  // Start time on the host: `--version` loads the whole bundled agent.
  const timed = await h.exec(["sh", "-c", `s=$(date +%s%N); ${exe} --version; e=$(date +%s%N); echo ms=$(( (e - s) / 1000000 ))`]);
  t.match(timed.stdout, /^\d+\.\d+\.\d+/, "the executable answers --version");
  t.comment(`executable start (--version) on the host: ${/ms=(\d+)/.exec(timed.stdout)?.[1]} ms`);

  // The agent does its job: a service's container appears on the host.
  const stack = await env.api.ok("POST", `${env.base}/stacks`, { name: "demo" });
  await env.api.ok("POST", `${env.base}/services`, { stackId: stack.id, name: "sleeper", image: "local/busybox", command: ["sleep", "3600"], scale: 1 });
  const docker = new Docker({ socketPath: h.dockerSocket });
  await waitFor(async () => (await docker.listContainers({ filters: { label: ["io.drover.managed=true"] } })).length === 1,
    { what: "the service's container started by the executable agent", timeoutMs: 60_000 });
  t.pass("the executable agent started the service's container");

  // A label change rewrites the launch file with the executable (no node to run the rewrite).
  const updated = await hostProvider.update!(created.id, created.outs, { ...inputs, labels: { zone: "z" } });
  t.ok(updated, "launch file rewritten");
  t.match(JSON.parse(fs.readFileSync(path.join(driver.stateDir, "agent-launch.json"), "utf8")).labels, { zone: "z" }, "with the new labels");

  await hostProvider.delete(created.id, created.outs);
  t.equal((await env.api.call("GET", `${env.base}/hosts/${created.id}`)).status, 404, "host removed");
  t.notOk(fs.existsSync(`/proc/${agentPid}/cmdline`) && fs.readFileSync(`/proc/${agentPid}/cmdline`, "utf8").includes("drover-agent"), "the agent stopped");
});
