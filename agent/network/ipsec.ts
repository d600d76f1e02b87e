import { EventEmitter } from "events";
import * as fs from "fs";
import * as path from "path";
import type { HostNetworkSpec, HostNetworkStatus, TunnelStatus } from "../../runtime/protocol/model";
import { backoffMs } from "../backoff";
import { errorMessage, Logger } from "../log";
import { CharonProcess } from "./charon";
import { detectEspMode } from "./esp-detect";
import { connFingerprint, connName, EspMode, peerConnection, sharedSecret, validateIpsecSpec } from "./ipsec-config";
import { nextTunnels, tunnelStates } from "./tunnel-status";
import type { ViciClient } from "./vici/client";

/** How often tunnel states are read from charon (besides ike/child up-down events). */
const pollMs = 1_000;

/**
 * The host's IPsec side: one charon, supervised (restarted with backoff when it dies, its
 * configuration loaded again), told about peers through vici. Only what changed is loaded:
 * a new or changed peer gets `load-conn`, a removed one `unload-conn` plus `terminate`, a new
 * key `load-shared`; tunnels to unchanged peers are never touched. Emits "change" when the
 * reported status changes (never on a poll that saw nothing new).
 */
export class Ipsec extends EventEmitter {
  private mode?: EspMode;
  private spec?: HostNetworkSpec;
  private client?: ViciClient;
  private charonState: HostNetworkStatus["charon"] = "not-needed";
  private loaded = new Map<string, string>();
  private loadedSecret?: string;
  private loadedPskId?: string;
  private tunnels: Record<string, TunnelStatus> = {};
  private error?: string;
  private chain: Promise<unknown> = Promise.resolve();
  private restartAttempt = 0;
  private restartTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private pollSoon?: NodeJS.Timeout;
  private stopped = false;
  private lastReported = "";
  readonly charon: CharonProcess;

  constructor(stateDir: string, private readonly log: Logger) {
    super();
    this.charon = new CharonProcess(stateDir, log);
  }

  status(): HostNetworkStatus {
    return {
      ipsecMode: this.spec && this.mode ? this.mode : "none",
      charon: this.charonState,
      ...(this.loadedPskId ? { pskId: this.loadedPskId } : {}),
      tunnels: this.tunnels,
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /** Brings charon and its configuration to `spec` (undefined or no peers: charon not needed). */
  apply(spec: HostNetworkSpec | undefined): Promise<void> {
    return this.serial(() => this.converge(spec));
  }

  /** Stops polling and restarts; with `stopCharon`, stops charon too (teardown). */
  async stop(stopCharon: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    clearInterval(this.pollTimer);
    clearTimeout(this.pollSoon);
    await this.chain;
    const client = this.client;
    this.client = undefined;
    client?.close();
    if (stopCharon) await this.charon.stop();
  }

  private async converge(spec: HostNetworkSpec | undefined): Promise<void> {
    if (this.stopped) return;
    this.spec = spec;
    if (spec && !this.mode) {
      const found = await detectEspMode();
      this.mode = found.mode;
      this.log.info("ESP mode detected", { mode: found.mode, reason: found.reason });
    }
    if (!spec || spec.peers.length === 0) {
      await this.shutdownCharon();
      this.setTunnels({});
      this.error = undefined;
      this.charonState = "not-needed";
      this.changed();
      return;
    }
    try {
      validateIpsecSpec(spec);
    } catch (err) {
      this.error = errorMessage(err);
      this.log.error("invalid network spec: ipsec left as it is", { reason: this.error });
      this.changed();
      return;
    }
    try {
      if (!this.client) await this.startCharon();
      await this.load(spec);
      this.error = undefined;
    } catch (err) {
      this.error = errorMessage(err);
      this.log.error("ipsec configuration not applied", { reason: this.error });
      if (!this.client) {
        this.charonState = "down";
        this.scheduleRestart();
      }
    }
    await this.poll();
    this.changed();
  }

  private async startCharon(): Promise<void> {
    this.charonState = "starting";
    this.changed();
    const { client, adopted } = await this.charon.connect(this.mode ?? "libipsec");
    this.client = client;
    this.loaded.clear();
    this.loadedSecret = undefined;
    if (adopted) await this.adoptLoaded(client);
    client.on("close", () => this.onCharonGone(client));
    client.on("event", () => this.schedulePoll(50));
    await client.subscribe("ike-updown");
    await client.subscribe("child-updown");
    this.charonState = "running";
    this.restartAttempt = 0;
    if (!this.pollTimer) this.pollTimer = setInterval(() => this.schedulePoll(0), pollMs);
  }

  /**
   * What an adopted charon holds: the connections it lists, with the fingerprints the previous
   * agent recorded when it loaded them. Those that match the spec are left alone (reloading a
   * connection makes charon initiate it again); unknown ones are reloaded or unloaded.
   */
  private async adoptLoaded(client: ViciClient): Promise<void> {
    const conns = await client.stream("list-conns", "list-conn");
    const recorded = readJson<Record<string, string>>(this.loadedRecord) ?? {};
    for (const name of new Set(conns.flatMap((c) => Object.keys(c)))) this.loaded.set(name, recorded[name] ?? "unknown");
  }

  /** The fingerprints of the loaded connections (no secret in them), for the next agent to adopt. */
  private get loadedRecord(): string {
    return path.join(this.charon.paths.dir, "loaded-conns.json");
  }

  private saveLoaded(): void {
    fs.writeFileSync(this.loadedRecord, JSON.stringify(Object.fromEntries(this.loaded)) + "\n", { mode: 0o600 });
  }

  private async load(spec: HostNetworkSpec): Promise<void> {
    const client = this.client!;
    const secret = sharedSecret(spec);
    const secretPrint = connFingerprint(secret);
    if (secretPrint !== this.loadedSecret) {
      await client.request("load-shared", secret);
      this.loadedSecret = secretPrint;
      if (this.loadedPskId !== spec.ipsec.pskId) this.log.info("ipsec key loaded", { pskId: spec.ipsec.pskId });
      this.loadedPskId = spec.ipsec.pskId;
    }
    const wanted = new Map(spec.peers.map((p) => [connName(p), peerConnection(spec, p)]));
    for (const [name, conn] of wanted) {
      const print = connFingerprint(conn);
      if (this.loaded.get(name) === print) continue;
      await client.request("load-conn", conn);
      this.loaded.set(name, print);
      this.log.info("ipsec connection loaded", { conn: name, remote: (conn[name] as { remote_addrs: string[] }).remote_addrs[0] });
    }
    for (const name of [...this.loaded.keys()]) {
      if (wanted.has(name)) continue;
      await client.request("unload-conn", { name });
      await client.request("terminate", { ike: name, force: "yes", timeout: "-1" }, false).catch(() => undefined);
      this.loaded.delete(name);
      this.log.info("ipsec connection removed", { conn: name });
    }
    this.saveLoaded();
  }

  private onCharonGone(client: ViciClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (this.stopped) return;
    this.charonState = "down";
    this.setTunnels(Object.fromEntries(Object.keys(this.tunnels).map((p) => [p, "down"])), "charon not running");
    this.changed();
    this.log.error("charon went away: restarting it", { attempt: this.restartAttempt + 1 });
    this.scheduleRestart();
  }

  /** Starts charon again after a backoff (100 ms first, up to 10 s), until it answers. */
  private scheduleRestart(): void {
    if (this.restartTimer || this.stopped) return;
    const wait = backoffMs(this.restartAttempt++, 100, 10_000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.serial(async () => {
        if (!this.stopped && !this.client) await this.converge(this.spec);
      });
    }, wait);
  }

  private async shutdownCharon(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    client?.close();
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    this.loaded.clear();
    this.loadedSecret = undefined;
    this.loadedPskId = undefined;
    if (this.charon.runningPid() !== undefined) await this.charon.stop();
  }

  private schedulePoll(ms: number): void {
    if (this.pollSoon || this.stopped) return;
    this.pollSoon = setTimeout(() => {
      this.pollSoon = undefined;
      void this.serial(async () => {
        await this.poll();
        this.changed();
      });
    }, ms);
  }

  private async poll(): Promise<void> {
    const peers = this.spec?.peers.map((p) => p.hostId) ?? [];
    if (!this.client) {
      this.setTunnels(Object.fromEntries(peers.map((p) => [p, "down"])), this.charonState === "not-needed" ? undefined : "charon not running");
      return;
    }
    try {
      const sas = await this.client.stream("list-sas", "list-sa", { noblock: "yes" });
      this.tunnels = nextTunnels(peers, tunnelStates(sas), this.tunnels, new Date());
    } catch (err) {
      this.log.debug("list-sas failed", { reason: errorMessage(err) });
    }
  }

  private setTunnels(states: Record<string, "up" | "connecting" | "down">, reason?: string): void {
    this.tunnels = nextTunnels(Object.keys(states), new Map(Object.entries(states)), this.tunnels, new Date(), reason);
  }

  /** Emits "change" when the status differs from the last one emitted (`since` times aside). */
  private changed(): void {
    const s = this.status();
    const key = JSON.stringify({ ...s, tunnels: Object.fromEntries(Object.entries(s.tunnels).map(([p, t]) => [p, [t.state, t.error]])) });
    if (key === this.lastReported) return;
    this.lastReported = key;
    this.emit("change", s);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch((err) => this.log.error("ipsec step failed", { reason: errorMessage(err) }));
    return run;
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}
