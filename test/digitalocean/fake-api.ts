/**
 * A fake DigitalOcean API v2 (the part drover uses: droplets, account/keys, actions, tags),
 * a real HTTP server whose droplets ARE lab hosts: creating one takes a lab host from the
 * pool and installs the droplet's SSH keys as its authorized_keys (the only keys it accepts:
 * the pool starts with none), destroying it removes its containers, takes the keys away and
 * returns it to the pool. It answers as the real API does: `{ droplet }`-style bodies,
 * `links.pages` pagination, `ratelimit-*` headers on every answer, and DigitalOcean's JSON
 * error bodies (`{ id, message, request_id }`) for 401, 404, 422, 429 and 5xx.
 *
 * Failures to test with: `failNext` (a status for the next matching requests), `rate429`
 * (that share of all requests answered 429 with a one-second `ratelimit-reset`), `stuckNew`
 * (droplet names that never leave `new`), `sshLateMs` (droplet names whose keys arrive
 * that late: SSH refuses drover's key meanwhile, as on a droplet whose cloud-init is slow).
 *
 * `imagesWithoutNode`: image slugs whose droplets have no node, as a fresh Debian or Ubuntu
 * droplet has none. Lab hosts share this machine's filesystem, so node is hidden inside the
 * host's own mount namespace (where its sshd runs) before the droplet is active: an overlay
 * on /usr/bin whose upper layer whites out node and nodejs; destroying the droplet unmounts it.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { randomUUID, createHash } from "crypto";
import type { LabHost } from "../lab/host";

export const FAKE_REGIONS = ["fra1", "nyc3", "ams3"];
export const FAKE_SIZES = ["s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-4gb"];
export const FAKE_IMAGES = ["ubuntu-22-04-x64", "ubuntu-24-04-x64", "debian-12-x64"];

export interface FakeDroplet {
  id: number;
  name: string;
  status: "new" | "active";
  region: string;
  size: string;
  image: string;
  tags: string[];
  sshKeys: number[];
  vpcUuid?: string;
  monitoring: boolean;
  host?: LabHost;
  createdAt: string;
}

export interface FakeKey { id: number; name: string; public_key: string; fingerprint: string }

export interface RequestLog { method: string; path: string; status: number }

const ERRORS: Record<number, [string, string]> = {
  401: ["unauthorized", "Unable to authenticate you."],
  404: ["not_found", "The resource you were accessing could not be found."],
  422: ["unprocessable_entity", "Unprocessable Entity"],
  429: ["too_many_requests", "API Rate limit exceeded."],
  500: ["server_error", "Server was unable to give you a response."],
  503: ["service_unavailable", "Service is temporarily unavailable."],
};

/** MD5 of the key blob, colon-separated: DigitalOcean's `fingerprint`. */
export function md5Fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? "", "base64");
  return createHash("md5").update(blob).digest("hex").match(/../g)!.join(":");
}

export class FakeDigitalOcean {
  readonly requests: RequestLog[] = [];
  /** Share of requests (0..1) answered 429 at random. */
  rate429 = 0;
  readonly stuckNew = new Set<string>();
  readonly sshLateMs = new Map<string, number>();
  readonly imagesWithoutNode = new Set<string>();
  /** How long a droplet stays `new` before it is active (the real API: tens of seconds). */
  bootMs = 300;
  private readonly faults: Array<{ method: string; path: RegExp; status: number; times: number }> = [];
  private readonly dropletsById = new Map<number, FakeDroplet>();
  private readonly keysById = new Map<number, FakeKey>();
  private readonly tags = new Set<string>();
  private readonly free: LabHost[];
  private readonly releasing = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextId = 3_000_000;
  private remaining = 5000;
  private server?: http.Server;
  url = "";

  constructor(readonly token: string, pool: LabHost[], readonly perPage = 20) {
    this.free = [...pool];
  }

  /** Listens on 127.0.0.1 (the provider runs on this machine); the pool's hosts start with no authorized key. */
  async start(): Promise<this> {
    for (const h of this.free) this.authorize(h, []);
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        try { this.handle(req, body, res); } catch (err) { this.error(req, res, 500, (err as Error).message); }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}/v2`;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.releasing);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `times` requests matching method and path are answered `status`. */
  failNext(method: string, pathPattern: RegExp, status: number, times = 1): void {
    this.faults.push({ method, path: pathPattern, status, times });
  }

  droplets(): FakeDroplet[] { return [...this.dropletsById.values()]; }
  keys(): FakeKey[] { return [...this.keysById.values()]; }
  /** Lab hosts a droplet holds (or that are still being wiped after a destroy). */
  hostsInUse(): string[] { return this.droplets().filter((d) => d.host).map((d) => d.host!.name); }
  /** Lab hosts back in the pool (wiped, no authorized key). */
  freeHosts(): string[] { return this.free.map((h) => h.name); }
  async settled(): Promise<void> { await Promise.all(this.releasing); }

  private authorize(h: LabHost, keys: string[]): void {
    const file = path.join(h.dir, "ssh", "authorized_keys");
    fs.writeFileSync(`${file}.tmp`, keys.map((k) => `${k}\n`).join(""), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }

  private later(ms: number, fn: () => void | Promise<void>): void {
    const t = setTimeout(() => { this.timers.delete(t); void fn(); }, ms);
    this.timers.add(t);
  }

  private send(res: http.ServerResponse, status: number, body?: unknown, extra: Record<string, string> = {}): void {
    this.remaining = Math.max(0, this.remaining - 1);
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "ratelimit-limit": "5000", "ratelimit-remaining": String(this.remaining),
      "ratelimit-reset": String(Math.ceil(Date.now() / 1000) + 1),
      ...extra,
    });
    res.end(body === undefined ? "" : JSON.stringify(body));
  }

  private error(req: http.IncomingMessage, res: http.ServerResponse, status: number, message?: string): void {
    const [id, text] = ERRORS[status] ?? ["error", "Error"];
    this.requests.push({ method: req.method!, path: req.url!, status });
    this.send(res, status, { id, message: message ?? text, request_id: randomUUID() });
  }

  private ok(req: http.IncomingMessage, res: http.ServerResponse, status: number, body?: unknown): void {
    this.requests.push({ method: req.method!, path: req.url!, status });
    this.send(res, status, body);
  }

  /** A page of `items` under `field`, with `links.pages` as absolute URLs, as DigitalOcean gives them. */
  private page(req: http.IncomingMessage, res: http.ServerResponse, url: URL, field: string, items: unknown[]): void {
    const perPage = Math.min(200, Math.max(1, Number(url.searchParams.get("per_page")) || this.perPage, 1));
    const effective = Math.min(perPage, this.perPage);
    const pageNo = Math.max(1, Number(url.searchParams.get("page")) || 1);
    const last = Math.max(1, Math.ceil(items.length / effective));
    const link = (n: number) => {
      const u = new URL(url.toString());
      u.searchParams.set("page", String(n));
      u.searchParams.set("per_page", String(effective));
      return `${this.url.replace(/\/v2$/, "")}${u.pathname}${u.search}`;
    };
    const pages: Record<string, string> = {};
    if (pageNo > 1) Object.assign(pages, { first: link(1), prev: link(pageNo - 1) });
    if (pageNo < last) Object.assign(pages, { next: link(pageNo + 1), last: link(last) });
    this.ok(req, res, 200, { [field]: items.slice((pageNo - 1) * effective, pageNo * effective), links: { pages }, meta: { total: items.length } });
  }

  private dropletJson(d: FakeDroplet): unknown {
    const ip = d.status === "active" && d.host ? d.host.underlayIp : undefined;
    return {
      id: d.id, name: d.name, status: d.status, memory: 1024, vcpus: 1, disk: 25, locked: false, created_at: d.createdAt,
      features: d.monitoring ? ["monitoring"] : [], tags: d.tags, vpc_uuid: d.vpcUuid ?? "00000000-0000-4000-8000-000000000000",
      image: { slug: d.image, distribution: d.image.startsWith("debian") ? "Debian" : "Ubuntu" },
      size_slug: d.size, region: { slug: d.region, name: d.region, available: true },
      // The lab host has one address; it serves as both, as a droplet's public and VPC addresses do for drover.
      networks: { v4: ip ? [{ ip_address: ip, netmask: "255.255.255.0", gateway: "", type: "public" }, { ip_address: ip, netmask: "255.255.255.0", gateway: "", type: "private" }] : [], v6: [] },
    };
  }

  private handle(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const url = new URL(req.url!, "http://fake");
    const method = req.method!;
    const p = url.pathname.replace(/\/+$/, "");
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.error(req, res, 401);
    const fault = this.faults.find((f) => f.method === method && f.path.test(p) && f.times > 0);
    if (fault) {
      fault.times--;
      return this.error(req, res, fault.status);
    }
    if (this.rate429 > 0 && Math.random() < this.rate429) return this.error(req, res, 429);
    let body: any = {};
    if (raw) {
      try { body = JSON.parse(raw); } catch { return this.error(req, res, 422, "Invalid JSON body."); }
    }
    let m: RegExpExecArray | null;
    if (method === "GET" && p === "/v2/account/keys") return this.page(req, res, url, "ssh_keys", this.keys());
    if (method === "POST" && p === "/v2/account/keys") return this.createKey(req, res, body);
    if ((m = /^\/v2\/account\/keys\/([^/]+)$/.exec(p))) {
      const key = this.keys().find((k) => String(k.id) === m![1] || k.fingerprint === decodeURIComponent(m![1]));
      if (!key) return this.error(req, res, 404);
      if (method === "GET") return this.ok(req, res, 200, { ssh_key: key });
      if (method === "DELETE") { this.keysById.delete(key.id); return this.ok(req, res, 204); }
    }
    if (method === "GET" && p === "/v2/droplets") {
      const tag = url.searchParams.get("tag_name");
      return this.page(req, res, url, "droplets", this.droplets().filter((d) => !tag || d.tags.includes(tag)).map((d) => this.dropletJson(d)));
    }
    if (method === "POST" && p === "/v2/droplets") return this.createDroplet(req, res, body);
    if (method === "DELETE" && p === "/v2/droplets" && url.searchParams.get("tag_name")) {
      for (const d of this.droplets().filter((x) => x.tags.includes(url.searchParams.get("tag_name")!))) this.destroy(d);
      return this.ok(req, res, 204);
    }
    if ((m = /^\/v2\/droplets\/(\d+)$/.exec(p))) {
      const d = this.dropletsById.get(Number(m[1]));
      if (!d) return this.error(req, res, 404);
      if (method === "GET") return this.ok(req, res, 200, { droplet: this.dropletJson(d) });
      if (method === "DELETE") { this.destroy(d); return this.ok(req, res, 204); }
    }
    if (method === "GET" && (m = /^\/v2\/actions\/(\d+)$/.exec(p))) {
      const d = this.dropletsById.get(Number(m[1]) - 1);
      if (!d) return this.error(req, res, 404);
      return this.ok(req, res, 200, { action: { id: Number(m[1]), status: d.status === "active" ? "completed" : "in-progress", type: "create", resource_id: d.id, resource_type: "droplet" } });
    }
    if (method === "GET" && p === "/v2/tags") return this.page(req, res, url, "tags", [...this.tags].map((name) => ({ name })));
    if (method === "POST" && p === "/v2/tags") {
      if (typeof body.name !== "string" || !/^[A-Za-z0-9:_-]{1,255}$/.test(body.name)) return this.error(req, res, 422, "name is invalid");
      this.tags.add(body.name);
      return this.ok(req, res, 201, { tag: { name: body.name } });
    }
    if ((m = /^\/v2\/tags\/([^/]+)$/.exec(p))) {
      const name = decodeURIComponent(m[1]);
      if (!this.tags.has(name)) return this.error(req, res, 404);
      if (method === "GET") return this.ok(req, res, 200, { tag: { name, resources: { droplets: { count: this.droplets().filter((d) => d.tags.includes(name)).length } } } });
      if (method === "DELETE") { this.tags.delete(name); return this.ok(req, res, 204); }
    }
    return this.error(req, res, 404);
  }

  private createKey(req: http.IncomingMessage, res: http.ServerResponse, body: any): void {
    if (typeof body.name !== "string" || body.name === "") return this.error(req, res, 422, "Name can't be blank");
    if (typeof body.public_key !== "string" || !/^ssh-(rsa|ed25519) [A-Za-z0-9+/=]+/.test(body.public_key)) return this.error(req, res, 422, "Key invalid type, we support 'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp' or 'ssh-ed25519'");
    const fingerprint = md5Fingerprint(body.public_key);
    if (this.keys().some((k) => k.fingerprint === fingerprint)) return this.error(req, res, 422, "SSH Key is already in use on your account");
    const key: FakeKey = { id: this.nextId++, name: body.name, public_key: body.public_key.trim(), fingerprint };
    this.keysById.set(key.id, key);
    this.ok(req, res, 201, { ssh_key: key });
  }

  private createDroplet(req: http.IncomingMessage, res: http.ServerResponse, body: any): void {
    if (typeof body.name !== "string" || !/^[A-Za-z0-9.-]{1,253}$/.test(body.name)) return this.error(req, res, 422, "Name is invalid");
    if (!FAKE_REGIONS.includes(body.region)) return this.error(req, res, 422, "Region is not available");
    if (!FAKE_SIZES.includes(body.size)) return this.error(req, res, 422, "Size is not available in this region");
    if (!FAKE_IMAGES.includes(body.image)) return this.error(req, res, 422, "You specified an invalid image for Droplet creation.");
    const keyIds: number[] = [];
    for (const ref of body.ssh_keys ?? []) {
      const key = this.keys().find((k) => k.id === Number(ref) || k.fingerprint === ref);
      if (!key) return this.error(req, res, 422, `ssh_keys: key ${ref} is not on the account`);
      keyIds.push(key.id);
    }
    const host = this.free.shift();
    if (!host) return this.error(req, res, 422, "creating this/these droplet(s) will exceed your droplet limit");
    const tags: string[] = Array.isArray(body.tags) ? body.tags : [];
    for (const t of tags) this.tags.add(t);
    const d: FakeDroplet = {
      id: this.nextId++, name: body.name, status: "new", region: body.region, size: body.size, image: body.image, tags, sshKeys: keyIds,
      vpcUuid: body.vpc_uuid, monitoring: !!body.monitoring, host, createdAt: new Date().toISOString(),
    };
    this.nextId++; // the create action's id is the droplet's + 1
    this.dropletsById.set(d.id, d);
    if (!this.stuckNew.has(d.name)) {
      this.later(this.bootMs, async () => {
        if (!this.dropletsById.has(d.id)) return;
        if (this.imagesWithoutNode.has(d.image)) {
          // Not active until node is hidden; a failure leaves the droplet `new` (the driver's wait names it).
          try { await hideNode(host); } catch (err) { console.error((err as Error).message); return; }
        }
        if (!this.dropletsById.has(d.id)) return;
        d.status = "active";
        const keys = () => d.sshKeys.map((id) => this.keysById.get(id)?.public_key).filter((k): k is string => !!k);
        const late = this.sshLateMs.get(d.name) ?? 0;
        if (late === 0) this.authorize(host, keys());
        else this.later(late, () => { if (this.dropletsById.has(d.id)) this.authorize(host, keys()); });
      });
    }
    this.ok(req, res, 202, { droplet: this.dropletJson(d), links: { actions: [{ id: d.id + 1, rel: "create", href: `${this.url}/actions/${d.id + 1}` }] } });
  }

  /** The droplet is gone at once; its lab host is wiped (keys, drover's containers) before it returns to the pool. */
  private destroy(d: FakeDroplet): void {
    this.dropletsById.delete(d.id);
    const host = d.host;
    if (!host) return;
    this.authorize(host, []);
    const wipe = (async () => {
      const ids = await host.exec(["sh", "-c", "docker ps -aq --filter label=io.drover.managed=true"]);
      const list = ids.stdout.split(/\s+/).filter(Boolean);
      if (list.length > 0) await host.exec(["docker", "rm", "-f", ...list]);
      await showNode(host);
    })().catch(() => undefined).finally(() => {
      this.releasing.delete(wipe);
      this.free.push(host);
    });
    this.releasing.add(wipe);
  }
}

const HIDE_NODE_MOUNT = "drover-fake-do-hide-node";

/** node and nodejs whited out of /usr/bin in the host's mount namespace (test/provider/host-ssh-executable.test.ts does the same). */
async function hideNode(host: LabHost): Promise<void> {
  const dir = path.join(host.dir, "hide-node");
  const res = await host.exec(["sh", "-c", [
    "set -e", `grep -q ' /usr/bin overlay ' /proc/self/mounts && exit 0`,
    `rm -rf ${dir} && mkdir -p ${dir}/upper ${dir}/work`, `mknod ${dir}/upper/node c 0 0`, `mknod ${dir}/upper/nodejs c 0 0`,
    `mount -t overlay ${HIDE_NODE_MOUNT} -o lowerdir=/usr/bin,upperdir=${dir}/upper,workdir=${dir}/work /usr/bin`,
  ].join("\n")]);
  if (res.code !== 0) throw new Error(`fake DigitalOcean: hiding node on ${host.name} failed: ${res.stderr}`);
}

/** Lazily: the shell running this, and any process of the droplet left, may still run from the overlay. */
async function showNode(host: LabHost): Promise<void> {
  await host.exec(["sh", "-c", `if grep -q '^${HIDE_NODE_MOUNT} /usr/bin ' /proc/self/mounts; then umount -l /usr/bin; fi`]);
}
