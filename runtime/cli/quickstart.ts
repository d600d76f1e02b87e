import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

export interface QuickstartOptions {
  stateDir: string;
  redisUrl: string;
  keep: boolean;
  out: (line: string) => void;
}

const bin = path.resolve(__dirname, "../../../bin/drover.js");

/**
 * drover's main job on the embedded default: a server and an agent on this machine, local
 * Redis and Docker; an environment with a stack whose web service (busybox httpd, port
 * published) links to a cache service; waits until both run, checks the web answers,
 * prints what runs where, then tears the environment down (unless `keep`).
 */
export async function runQuickstart(o: QuickstartOptions): Promise<boolean> {
  fs.mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const adminKeyFile = path.join(o.stateDir, "admin-key");
  if (!fs.existsSync(adminKeyFile)) fs.writeFileSync(adminKeyFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
  const adminKey = fs.readFileSync(adminKeyFile, "utf8").trim();
  const apiPort = await freePort();
  const webPort = await freePort();
  const url = `http://127.0.0.1:${apiPort}`;
  const procs: ChildProcess[] = [];
  const log = fs.openSync(path.join(o.stateDir, "quickstart.log"), "w");
  const started = Date.now();
  try {
    procs.push(spawn(process.execPath, [bin, "server", "--redis", o.redisUrl, "--listen", `127.0.0.1:${apiPort}`,
      "--admin-key-file", adminKeyFile, "--key-prefix", "quickstart", "--server-id", "quickstart"], { stdio: ["ignore", log, log] }));
    await until(async () => (await fetch(`${url}/healthz`)).ok, "the server to answer", 15_000);
    const call = api(url);
    const env = await call(adminKey, "POST", "/v1/environments", { name: `quickstart-${Date.now()}` });
    const base = `/v1/environments/${env.id}`;
    procs.push(spawn(process.execPath, [bin, "agent", "--url", url, "--token", env.registrationToken,
      "--state-dir", path.join(o.stateDir, "agent"), "--labels", "role=quickstart"], { stdio: ["ignore", log, log] }));
    await until(async () => (await call(env.apiKey, "GET", `${base}/hosts`)).data.some((h: any) => h.state === "active"), "the local host to register", 30_000);

    const stack = await call(env.apiKey, "POST", `${base}/stacks`, { name: "demo" });
    const cache = await call(env.apiKey, "POST", `${base}/services`, {
      name: "cache", stackId: stack.id, image: "local/busybox", command: ["sh", "-c", "while true; do echo PONG | nc -l -p 6379; done"], scale: 1,
    });
    const web = await call(env.apiKey, "POST", `${base}/services`, {
      name: "web", stackId: stack.id, image: "local/busybox", command: ["httpd", "-f", "-p", "80", "-h", "/www"], scale: 1,
      ports: [{ hostPort: webPort, containerPort: 80, protocol: "tcp" }], links: { cache: cache.id },
    });
    const instances = await until(async () => {
      const list = (await call(env.apiKey, "GET", `${base}/instances`)).data as any[];
      return list.length === 2 && list.every((i) => i.state === "active") ? list : undefined;
    }, "web and cache to run", 60_000);
    const page = await until(async () => {
      const res = await fetch(`http://127.0.0.1:${webPort}/`);
      return res.ok ? (await res.text()).trim() : undefined;
    }, "web to answer on its published port", 15_000);

    const hosts = (await call(env.apiKey, "GET", `${base}/hosts`)).data as any[];
    o.out(`drover quickstart: environment ${env.name} (${env.id}), converged in ${Date.now() - started} ms`);
    o.out(`  API ${url}   Redis ${o.redisUrl}   logs ${path.join(o.stateDir, "quickstart.log")}`);
    for (const h of hosts) o.out(`  host ${h.name} (${h.id}) ${h.state}, docker ${h.labels["io.rancher.host.docker_version"]}`);
    o.out(`  ${"INSTANCE".padEnd(16)}${"SERVICE".padEnd(12)}${"HOST".padEnd(18)}${"STATE".padEnd(9)}CONTAINER`);
    for (const i of instances) {
      const svc = i.serviceId === web.id ? "demo/web" : "demo/cache";
      const host = hosts.find((h) => h.id === i.hostId)?.name ?? i.hostId;
      o.out(`  ${i.name.padEnd(16)}${svc.padEnd(12)}${host.padEnd(18)}${i.state.padEnd(9)}${(i.status?.containerId ?? "").slice(0, 12)}`);
    }
    o.out(`  web answers on http://127.0.0.1:${webPort}/ : ${JSON.stringify(page)}`);
    if (o.keep) {
      o.out(`  kept running (admin key in ${adminKeyFile}); stop the server and agent with: kill ${procs.map((p) => p.pid).join(" ")}`);
      for (const p of procs) p.unref();
      return true;
    }
    await call(adminKey, "POST", `${base}?action=teardown`);
    await until(async () => (await fetch(`${url}${base}`, { headers: { authorization: `Bearer ${adminKey}` } })).status === 404,
      "the environment to be torn down", 30_000);
    o.out(`  torn down: containers removed, environment purged (run with --keep to leave it running)`);
    return true;
  } finally {
    fs.closeSync(log);
    if (!o.keep) for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
  }
}

function api(url: string) {
  return async (key: string, method: string, p: string, body?: unknown): Promise<any> => {
    const res = await fetch(url + p, {
      method, headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as any;
    if (res.status >= 300) throw new Error(`${method} ${p} → ${res.status}: ${json.message ?? JSON.stringify(json)}`);
    return json;
  };
}

async function until<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, pause));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}
