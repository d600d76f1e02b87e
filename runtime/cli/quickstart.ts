import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { pulumiSummary, QuickstartPulumi } from "./quickstart-pulumi";
import { ensureServer, stopServer } from "./quickstart-server";
import { until } from "./quickstart-wait";

export interface QuickstartOptions {
  stateDir: string;
  redisUrl: string;
  keep: boolean;
  out: (line: string) => void;
  /** Pulumi's own progress output (default: none: a summary line, the output in the state dir's pulumi.log). */
  progress?: (chunk: string) => void;
}

const repoRoot = path.resolve(__dirname, "../../..");
export const quickstartProgram = path.join(repoRoot, "examples", "quickstart");
const STACK = "quickstart";

/** Ports chosen on the first run and kept, so a `--keep` stack updates nothing when run again. */
interface Ports { api: number; web: number; lb: number }

/**
 * drover's main job on the embedded default: a drover server on this machine (detached, pid
 * file, admin key in the state dir), then `pulumi up` of examples/quickstart (one local host,
 * local Redis and Docker; web linked to cache; a load balancer in front of web). Prints what
 * runs where, fetches the page once, and unless `keep` runs `pulumi destroy` and stops the server.
 */
export async function runQuickstart(o: QuickstartOptions): Promise<boolean> {
  fs.mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const adminKeyFile = path.join(o.stateDir, "admin-key");
  if (!fs.existsSync(adminKeyFile)) fs.writeFileSync(adminKeyFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
  const adminKey = fs.readFileSync(adminKeyFile, "utf8").trim();
  const ports = await portsFor(o.stateDir);
  linkDrover();
  const started = Date.now();

  const server = await ensureServer({ stateDir: o.stateDir, redisUrl: o.redisUrl, port: ports.api, adminKeyFile });
  o.out(`drover quickstart: server ${server.url} (pid ${server.pid}${server.started ? "" : ", already running"}), Redis ${o.redisUrl}`);
  let deployed = false;
  let pulumi: QuickstartPulumi | undefined;
  try {
    // Inside the try: without a Pulumi engine this throws, and the server must still be stopped.
    pulumi = new QuickstartPulumi(quickstartProgram, STACK, o.stateDir);
    await pulumi.selectOrCreate();
    await pulumi.setConfig("drover:endpoint", server.url);
    await pulumi.setConfig("drover:adminKey", adminKey, true);
    await pulumi.setConfig("webPort", String(ports.web));
    await pulumi.setConfig("lbPort", String(ports.lb));
    await pulumi.setConfig("agentStateDir", path.join(o.stateDir, "agent"));
    o.out(`  pulumi up examples/quickstart (stack ${STACK}, state in ${o.stateDir})`);
    deployed = true;
    const up = await pulumi.ok(["up", "--yes", "--skip-preview", "--config-file", pulumi.configFile], { echo: o.progress });
    o.out(`  pulumi up: ${pulumiSummary(up)}${o.progress ? "" : ` (Pulumi's output in ${pulumi.logFile})`}`);
    const outputs = JSON.parse(await pulumi.ok(["stack", "output", "--json", "--show-secrets"]));
    await report(o, outputs, ports, Date.now() - started);
    if (o.keep) {
      o.out(`  kept running (admin key in ${adminKeyFile}); tear down later with: npm run quickstart -- --state-dir ${o.stateDir} (without --keep)`);
      return true;
    }
    o.out("  pulumi destroy (run with --keep to leave it running)");
    const destroyed = await pulumi.ok(["destroy", "--yes", "--skip-preview", "--config-file", pulumi.configFile], { echo: o.progress });
    o.out(`  pulumi destroy: ${pulumiSummary(destroyed)}`);
    deployed = false;
    fs.rmSync(path.join(o.stateDir, "ports.json"), { force: true });
    o.out("  torn down: pulumi destroy removed the load balancer, services, stack, host (agent stopped) and environment");
    return true;
  } catch (err) {
    // A failed run must not leave an agent and containers behind unless asked to keep them.
    if (deployed && !o.keep && pulumi) {
      const r = await pulumi.run(["destroy", "--yes", "--skip-preview", "--config-file", pulumi.configFile]).catch((e) => ({ code: -1, output: String(e) }));
      o.out(r.code === 0 ? "  the failed run was torn down (pulumi destroy)" : `  pulumi destroy after the failure also failed:\n${r.output}`);
    }
    throw err;
  } finally {
    if (!o.keep) await stopServer(o.stateDir, server);
  }
}

/** What runs where, from the API, and the page fetched once through the published port and once through the load balancer. */
async function report(o: QuickstartOptions, outputs: Record<string, any>, ports: Ports, elapsedMs: number): Promise<void> {
  const call = async (p: string) => {
    const res = await fetch(`${outputs.serverUrl}/v1/environments/${outputs.envId}${p}`, { headers: { authorization: `Bearer ${outputs.apiKey}` } });
    if (!res.ok) throw new Error(`GET ${p} → ${res.status}`);
    return (await res.json()) as any;
  };
  const lb = await until(async () => {
    const got = await call(`/loadbalancers/${outputs.loadBalancerId}`);
    return got.served ? got : undefined;
  }, "the load balancer's HAProxy to serve", 30_000);
  const [hosts, instances, services] = await Promise.all([call("/hosts"), call("/instances"), call("/services")]);
  const fetchText = (url: string, what: string) => until(async () => {
    const res = await fetch(url).catch(() => undefined);
    return res?.ok ? (await res.text()).trim() : undefined;
  }, what, 15_000);
  const page = await fetchText(outputs.webUrl, "web to answer on its published port");
  const lbUrl = `http://127.0.0.1:${ports.lb}/`;
  const viaLb = await fetchText(lbUrl, "web to answer through the load balancer");
  // Load balancers run instances too: their name, not their id, in the SERVICE column.
  const serviceName = new Map<string, string>([...services.data, lb].map((s: any) => [s.id, `demo/${s.name}`]));
  o.out(`  environment ${outputs.envId} up in ${elapsedMs} ms`);
  for (const h of hosts.data) {
    o.out(`  host ${h.name} (${h.id}) ${h.state}, docker ${h.labels["io.rancher.host.docker_version"] ?? "?"}, subnet ${h.subnet ?? "-"}`);
  }
  o.out(`  ${"INSTANCE".padEnd(16)}${"SERVICE".padEnd(14)}${"HOST".padEnd(18)}${"STATE".padEnd(9)}${"IP".padEnd(14)}CONTAINER`);
  for (const i of instances.data) {
    const host = hosts.data.find((h: any) => h.id === i.hostId)?.name ?? i.hostId;
    o.out(`  ${i.name.padEnd(16)}${`${serviceName.get(i.serviceId) ?? i.serviceId} `.padEnd(14)}${host.padEnd(18)}${i.state.padEnd(9)}${(i.ip ?? "-").padEnd(14)}${(i.status?.containerId ?? "").slice(0, 12)}`);
  }
  const rules = lb.spec.portRules.map((r: any) => `:${r.sourcePort} ${r.protocol} → ${serviceName.get(r.targetServiceId) ?? r.targetServiceId}:${r.targetPort}`).join(", ");
  const haproxy = (lb.instances ?? []).map((i: any) => `${hosts.data.find((h: any) => h.id === i.hostId)?.name ?? i.hostId} (HAProxy ${i.haproxy?.state ?? "?"})`).join(", ");
  o.out(`  load balancer demo/${lb.name}: ${rules}, served by ${haproxy}`);
  o.out(`  web answers on ${outputs.webUrl} : ${JSON.stringify(page)}`);
  o.out(`  and through the load balancer on ${lbUrl} : ${JSON.stringify(viaLb)}`);
}

/** examples/ require("drover"): node_modules is not in git, so the link is made here. */
function linkDrover(): void {
  const dir = path.join(repoRoot, "examples", "node_modules");
  const link = path.join(dir, "drover");
  fs.mkdirSync(dir, { recursive: true });
  try { if (fs.readlinkSync(link) === "../..") return; } catch { /* absent */ }
  fs.rmSync(link, { force: true });
  fs.symlinkSync("../..", link);
}

async function portsFor(stateDir: string): Promise<Ports> {
  const file = path.join(stateDir, "ports.json");
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as Ports;
  const ports = { api: await freePort(), web: await freePort(), lb: await freePort() };
  fs.writeFileSync(file, JSON.stringify(ports));
  return ports;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}
