/**
 * Overlay throughput: one TCP stream (iperf3, 4 s) container to container across two lab
 * hosts over drover's overlay, against the same two containers over a bare strongSwan tunnel
 * configured by hand between the same two host namespaces, with the same ciphers (IKE
 * aes128-sha256-x25519, ESP aes128gcm16 in UDP 4500, kernel-libipsec on this kernel).
 *
 * drover: the agent's NetworkManager (driven in each host by test/agent/network/support/
 * manager-driver.ts) makes the bridge network, rules and charon; the containers are made
 * with the agent's createOptions (overlay address on the drover network).
 * Bare, all by hand: a plain Docker bridge network per host on the same /24, the NAT
 * exemption and forward rule typed in, `charon` started with a minimal strongswan.conf and a
 * hand-written swanctl.conf loaded with `swanctl --load-all`; the containers join that network
 * at the same addresses. Both use iperf3 and its libraries bind-mounted read-only from this
 * machine (the busybox image has no iperf3).
 * Each round measures both, alternating which goes first; ratio = median of the per-round
 * ratios (the machine is shared), value and baseline the medians (Gbit/s). Each tunnel is
 * also measured between the two bridge addresses in the host namespaces (extra.*HostNs),
 * which shows the tunnel alone, without the container hop.
 */
import { median } from "./support/procs";
import Docker from "dockerode";
import * as fs from "fs";
import * as path from "path";
import { createOptions } from "../agent/docker/container-config";
import { charonBinary } from "../agent/network/charon";
import type { DesiredInstance } from "../runtime/protocol/model";
import { execIn } from "../test/agent/network/support/docker-exec";
import { labSpec, ManagerDriver } from "../test/agent/network/support/driver-client";
import { Lab, type LabHost } from "../test/lab";
import { waitFor } from "../test/support/wait";
import type { Benchmark, BenchResult } from "./result";
import { round } from "./result";

const SECONDS = Number(process.env.OVERLAY_BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.OVERLAY_BENCH_ROUNDS ?? 3);
const GOAL = 0.9;


async function ok(host: LabHost, cmd: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await host.exec(cmd, { timeoutMs: 60_000, env: opts.env });
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} on ${host.name}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Gbit/s received, from iperf3 -J output. */
function gbits(json: string): number {
  const r = JSON.parse(json.slice(json.indexOf("{")));
  if (r.error) throw new Error(`iperf3: ${r.error}`);
  return r.end.sum_received.bits_per_second / 1e9;
}

// ------------------------------------------------------------------ bare strongSwan

function bareSwanctl(me: LabHost, peer: LabHost, mine: number, theirs: number): string {
  return `connections {
  bare {
    version = 2
    local_addrs = ${me.underlayIp}
    remote_addrs = ${peer.underlayIp}
    encap = yes
    mobike = no
    proposals = aes128-sha256-x25519
    local { auth = psk
      id = ${me.underlayIp} }
    remote { auth = psk
      id = ${peer.underlayIp} }
    children {
      bare {
        local_ts = 10.42.${mine}.0/24
        remote_ts = 10.42.${theirs}.0/24
        esp_proposals = aes128gcm16
        start_action = start
      }
    }
  }
}
secrets {
  ike-bare { id-1 = ${me.underlayIp}
    id-2 = ${peer.underlayIp}
    secret = "bare-bench-secret-0123456789" }
}
`;
}

function bareCharonConf(dir: string): string {
  return `charon {
  load = random nonce openssl pem pkcs1 x509 pubkey curve25519 sha1 sha2 hmac kdf gcm aes socket-default vici kernel-libipsec kernel-netlink
  plugins { vici { socket = unix://${dir}/charon.vici } }
  filelog { bare { path = ${dir}/charon.log
    default = 1 } }
}
`;
}

interface Bare { stop(): Promise<void> }

/** The NAT exemption and forward rule, typed in by hand for the bare setup (`iptables -I ...`). */
const bareRules = [
  ["POSTROUTING", "1", "-t", "nat", "-s", "10.42.0.0/16", "-d", "10.42.0.0/16", "-j", "RETURN"],
  ["DOCKER-USER", "1", "-s", "10.42.0.0/16", "-d", "10.42.0.0/16", "-j", "ACCEPT"],
];

async function startBare(a: LabHost, b: LabHost): Promise<Bare> {
  const pairs: [LabHost, LabHost, number, number][] = [[a, b, 1, 2], [b, a, 2, 1]];
  const charons: { host: LabHost; proc: ReturnType<LabHost["spawn"]> }[] = [];
  for (const [me, peer, mine, theirs] of pairs) {
    const dir = path.join(me.dir, "bare-ipsec");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "strongswan.conf"), bareCharonConf(dir));
    fs.writeFileSync(path.join(dir, "swanctl.conf"), bareSwanctl(me, peer, mine, theirs), { mode: 0o600 });
    await new Docker({ socketPath: me.dockerSocket }).createNetwork({
      Name: "bare", Driver: "bridge", IPAM: { Driver: "default", Config: [{ Subnet: `10.42.${mine}.0/24`, Gateway: `10.42.${mine}.1` }] },
      Options: { "com.docker.network.bridge.name": "bare0" },
    });
    for (const rule of bareRules) await ok(me, ["iptables", "-I", ...rule]);
    const proc = me.spawn([charonBinary()], { env: { ...process.env, STRONGSWAN_CONF: path.join(dir, "strongswan.conf") }, stdio: "ignore" });
    charons.push({ host: me, proc });
    await waitFor(() => fs.existsSync(path.join(dir, "charon.vici")), { what: `bare charon on ${me.name}`, timeoutMs: 10_000 });
  }
  for (const [me] of pairs) {
    const dir = path.join(me.dir, "bare-ipsec");
    await ok(me, ["swanctl", "--load-all", "--file", path.join(dir, "swanctl.conf"), "--uri", `unix://${dir}/charon.vici`]);
  }
  for (const [me, , , theirs] of pairs) {
    await waitFor(async () => (await ok(me, ["ip", "route", "show", "table", "220"])).includes(`10.42.${theirs}.0/24`), { what: `bare tunnel route on ${me.name}`, timeoutMs: 15_000 });
  }
  return {
    async stop() {
      for (const { proc } of charons) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      for (const [me] of pairs) {
        await new Docker({ socketPath: me.dockerSocket }).getNetwork("bare").remove();
        for (const rule of bareRules) await ok(me, ["iptables", "-D", ...rule.filter((w, i) => !(i === 1 && w === "1"))]);
        fs.rmSync(path.join(me.dir, "bare-ipsec"), { recursive: true, force: true });
      }
    },
  };
}

/** iperf3 between the host namespaces, from 10.42.2.1 (on b) to 10.42.1.1 (on a). */
async function hostIperf(a: LabHost, b: LabHost, what: string): Promise<number> {
  const server = a.spawn(["iperf3", "-s", "-B", "10.42.1.1"], { stdio: "ignore" });
  try {
    const out = await waitFor(async () => {
      const r = await b.exec(["iperf3", "-c", "10.42.1.1", "-B", "10.42.2.1", "-t", String(SECONDS), "-J"], { timeoutMs: (SECONDS + 30) * 1000 });
      // Retried while iperf3's server is not listening yet (it reports that as JSON with "error").
      return r.code === 0 && !/"error"\s*:/.test(r.stdout) ? r.stdout : false;
    }, { what, timeoutMs: (SECONDS + 30) * 1000 });
    return gbits(out);
  } finally {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await exited;
  }
}

async function measureBare(a: LabHost, b: LabHost): Promise<Figures> {
  const bare = await startBare(a, b);
  try {
    return await containerIperf(a, b, "bare", "bare");
  } finally {
    await bare.stop();
  }
}

// ------------------------------------------------------------------ drover

/** iperf3 and its shared libraries from this machine, read-only. */
const iperfBinds = ["/usr/bin/iperf3:/usr/bin/iperf3:ro", "/usr/lib/x86_64-linux-gnu:/lib/x86_64-linux-gnu:ro", "/lib64:/lib64:ro"];

function benchInstance(name: string, ip: string, command: string[]): DesiredInstance {
  return { id: name, name, serviceId: "bench", stackId: "bench", ip, spec: { image: "local/busybox", command, env: {}, ports: [], labels: {}, restartPolicy: { name: "no" } } };
}

/** The agent's create options for `i`; on `network` ("drover", or the hand-made "bare") at the same address. */
async function container(host: LabHost, i: DesiredInstance, network: string): Promise<Docker.Container> {
  const docker = new Docker({ socketPath: host.dockerSocket });
  const opts = createOptions(i, { envId: "bench", hostId: host.name });
  const c = await docker.createContainer({
    ...opts, StopTimeout: 1,
    HostConfig: { ...opts.HostConfig, NetworkMode: network, Binds: iperfBinds },
    NetworkingConfig: { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: i.ip } } } },
  });
  await c.start();
  return c;
}

interface Figures { containers: number; hostNs: number }

/** iperf3 container to container (10.42.2.10 on b → 10.42.1.10 on a), then between the host namespaces. */
async function containerIperf(a: LabHost, b: LabHost, network: string, what: string): Promise<Figures> {
  const made: Docker.Container[] = [];
  try {
    made.push(await container(a, benchInstance(`iperf-server-${network}`, "10.42.1.10", ["iperf3", "-s"]), network));
    const client = await container(b, benchInstance(`iperf-client-${network}`, "10.42.2.10", ["sleep", "3600"]), network);
    made.push(client);
    const out = await waitFor(async () => {
      const r = await execIn(client, ["iperf3", "-c", "10.42.1.10", "-t", String(SECONDS), "-J"]);
      return r.code === 0 && !/"error"\s*:/.test(r.out) ? r.out : false;
    }, { what: `${what} container iperf3 run`, timeoutMs: (SECONDS + 30) * 1000 });
    const containers = gbits(out);
    return { containers, hostNs: await hostIperf(a, b, `${what} host-namespace iperf3 run`) };
  } finally {
    for (const c of made) await c.remove({ force: true }).catch(() => undefined);
  }
}

async function measureDrover(a: LabHost, b: LabHost, lab: Lab): Promise<Figures> {
  const drivers = [new ManagerDriver(a, path.join(a.dir, "drover-agent")), new ManagerDriver(b, path.join(b.dir, "drover-agent"))];
  try {
    await Promise.all(drivers.map((d, i) => d.apply(labSpec(lab.hosts, i + 1, [1, 2]))));
    await drivers[0].tunnelsUp(["h2"]);
    await drivers[1].tunnelsUp(["h1"]);
    return await containerIperf(a, b, "drover", "drover");
  } finally {
    for (const d of drivers) await d.teardown().catch(() => undefined);
  }
}

export const benchmark: Benchmark = {
  name: "overlay",
  summary: "TCP throughput container to container over drover's IPsec overlay vs a bare strongSwan tunnel (ratio)",
  async run(): Promise<BenchResult> {
    const lab = await Lab.up({ hosts: 2, name: "bench-overlay", watchdog: true });
    try {
      const [a, b] = lab.hosts;
      const bare: Figures[] = [];
      const drover: Figures[] = [];
      const ratios: number[] = [];
      // The machine is shared and noisy: the ratio is taken within each round (adjacent runs), alternating which goes first.
      for (let r = 0; r < ROUNDS; r++) {
        if (r % 2 === 0) { bare.push(await measureBare(a, b)); drover.push(await measureDrover(a, b, lab)); }
        else { drover.push(await measureDrover(a, b, lab)); bare.push(await measureBare(a, b)); }
        ratios.push(drover[r].containers / bare[r].containers);
        console.error(`round ${r + 1}: containers: drover ${drover[r].containers.toFixed(3)} Gbit/s, bare ${bare[r].containers.toFixed(3)} Gbit/s; host namespaces: drover ${drover[r].hostNs.toFixed(3)}, bare ${bare[r].hostNs.toFixed(3)}`);
      }
      const value = median(drover.map((f) => f.containers));
      const baseline = median(bare.map((f) => f.containers));
      const ratio = median(ratios);
      return {
        name: "overlay", unit: "Gbit/s", value: round(value), baseline: round(baseline), ratio: round(ratio),
        goal: `drover / bare strongSwan >= ${GOAL}`, ok: ratio >= GOAL,
        extra: {
          rounds: ROUNDS, seconds: SECONDS, ratios: ratios.map((x) => x.toFixed(3)).join(" "),
          drover: drover.map((f) => f.containers.toFixed(3)).join(" "), bare: bare.map((f) => f.containers.toFixed(3)).join(" "),
          droverHostNs: drover.map((f) => f.hostNs.toFixed(3)).join(" "), bareHostNs: bare.map((f) => f.hostNs.toFixed(3)).join(" "),
        },
      };
    } finally {
      await lab.down();
    }
  },
};
