import * as fs from "fs";
import * as path from "path";
import { DNS_IP } from "../../runtime/protocol/model";
import { backoffMs, delay } from "../backoff";
import { errorMessage, Logger } from "../log";
import type { EnvDnsDocument } from "./directory";
import { parseEnvDnsDocument } from "./document";
import { ensureLocalAddress, removeLocalAddress } from "./listen-address";
import { readHostUpstreams } from "./resolv-conf";
import { DnsServer, DnsServerOptions, DnsServerStats, startDnsServer } from "./server";
import { parseUpstream } from "./upstream";
import { DaemonLink, DaemonRefused } from "./daemon/daemon-link";

/** Where the environment's DNS document is read: the agent's Redis command connection. */
export interface DnsDocumentSource {
  get(key: string): Promise<string | null>;
}

export interface HostDnsOptions {
  source: DnsDocumentSource;
  /** keys.env(envId).dns */
  key: string;
  address: string;
  port: number;
  /** Put `address` on `lo` when no interface has it (a host: yes; tests on 127.0.0.1: no). */
  ensureAddress: boolean;
  /** The resolvers for other names; default: the host's /etc/resolv.conf, minus `address`. */
  upstreams?: string[];
  /** Anything else for the responder (TTL, cache sizes, upstream timeout). */
  server?: Partial<DnsServerOptions>;
  log: Logger;
  /** False: follow the document (for `onDirectory`) without answering DNS (DROVER_DNS_LISTEN=off). */
  listen?: boolean;
  /** Called with every directory applied (the load balancers follow the same document). */
  onDirectory?: (directory: EnvDnsDocument["directory"]) => void;
  /**
   * Serve from the host's DNS daemon (agent/dns/daemon) kept in `dir`, adopting the one a
   * previous agent left running: answers then go on while this agent restarts. Without it the
   * responder lives in this process and stops with it.
   */
  daemon?: { dir: string; script?: string };
}

export type DnsListen = { address: string; port: number } | "off";

/**
 * `DROVER_DNS_LISTEN`: "off", or "ip" / "ip:port" (default 169.254.169.250:53). Lets an
 * agent that shares its network namespace with others (tests) stay off the fixed address.
 */
export function dnsListenFromEnv(env: NodeJS.ProcessEnv = process.env): DnsListen {
  const raw = env.DROVER_DNS_LISTEN;
  if (raw === undefined || raw === "") return { address: DNS_IP, port: 53 };
  if (raw === "off") return "off";
  try {
    const u = parseUpstream(raw);
    return { address: u.host, port: u.port };
  } catch {
    throw new Error(`DROVER_DNS_LISTEN: ${JSON.stringify(raw)} is neither "off" nor an address ("ip" or "ip:port")`);
  }
}

/**
 * The host's DNS responder, fed from the environment's DNS document. It reads the document
 * at start, on every `dns` nudge, on the periodic resync and when Redis comes back; a
 * version older than the one serving is ignored (but see onRedisReady). Whatever goes wrong
 * on the way — Redis away, the key missing, a malformed document — the last good directory
 * keeps serving: churn or an outage never empties the answers. Binding is retried in the
 * background, so a host where the address or port is not available yet still runs its agent.
 */
export class HostDns {
  private server?: DnsServer;
  private daemon?: DaemonLink;
  private document?: EnvDnsDocument;
  /** After a reconnection Redis may be a restored copy or a promoted replica: take what it has. */
  private acceptAnyVersion = false;
  private refreshing?: Promise<void>;
  private again = false;
  private reasons = new Set<string>();
  private addedAddress = false;
  private listening?: Promise<void>;
  private readonly abort = new AbortController();

  constructor(private readonly options: HostDnsOptions) {}

  /** Starts listening (retrying in the background until it works) and reads the document. */
  start(): void {
    this.listening = this.options.listen === false ? Promise.resolve() : this.listen();
    this.refresh("start");
  }

  /**
   * Reads the document again (coalesced: one GET at a time, one more if asked meanwhile).
   * `version`, when the nudge carried it, lets a nudge for what is already serving skip the read.
   */
  refresh(reason: string, version?: number): void {
    if (this.abort.signal.aborted) return;
    if (version !== undefined && this.document && version <= this.document.version && !this.acceptAnyVersion) return;
    this.reasons.add(reason);
    this.again = true;
    if (!this.refreshing) this.refreshing = this.drain().finally(() => { this.refreshing = undefined; });
  }

  /** The command connection is (again) ready: a fresh read, whatever its version. */
  onRedisReady(): void {
    this.acceptAnyVersion = true;
    this.refresh("redis-ready");
  }

  /** Resolves once no read is pending (tests). */
  async settled(): Promise<void> {
    while (this.refreshing) await this.refreshing;
  }

  /** Resolves once the responder listens, or the component stopped first. */
  async ready(): Promise<void> {
    await this.listening;
  }

  get version(): number | undefined {
    return this.document?.version;
  }

  get port(): number | undefined {
    return this.server?.port ?? this.daemon?.hello.port;
  }

  /** The daemon's pid when serving from one. */
  get daemonPid(): number | undefined {
    return this.daemon?.hello.pid;
  }

  stats(): DnsServerStats | undefined {
    return this.server?.stats();
  }

  /** Stops following the document; a DNS daemon keeps serving the last one (the next agent adopts it). */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.listening;
    await this.settled();
    await this.server?.close();
    this.server = undefined;
    this.daemon?.close();
    this.daemon = undefined;
    await this.removeAddress();
  }

  /** Host teardown: the DNS daemon stops too, and the address it served goes if drover added it. */
  async shutdown(): Promise<void> {
    this.abort.abort();
    await this.listening;
    await this.settled();
    await this.server?.close();
    this.server = undefined;
    await this.daemon?.shutdown();
    this.daemon = undefined;
    const marker = this.addedMarker();
    if (marker && fs.existsSync(marker)) {
      this.addedAddress = true;
      fs.rmSync(marker, { force: true });
    }
    await this.removeAddress();
  }

  /** In daemon mode: a file saying drover put the address on lo (in this or an earlier agent's life). */
  private addedMarker(): string | undefined {
    return this.options.daemon ? path.join(this.options.daemon.dir, "address-added") : undefined;
  }

  private async removeAddress(): Promise<void> {
    if (this.addedAddress) {
      await removeLocalAddress(this.options.address).catch((err) =>
        this.options.log.warn("dns address not removed", { address: this.options.address, reason: errorMessage(err) }));
      this.addedAddress = false;
    }
  }

  private async drain(): Promise<void> {
    while (this.again && !this.abort.signal.aborted) {
      this.again = false;
      const reasons = [...this.reasons].join(",");
      this.reasons.clear();
      await this.readOnce(reasons);
    }
  }

  private async readOnce(reasons: string): Promise<void> {
    const { log, key } = this.options;
    let raw: string | null;
    try {
      raw = await this.options.source.get(key);
    } catch (err) {
      // Redis away is routine (debug); a refusal means the host's ACL lacks the key: say so.
      const level = /^NOPERM/.test(errorMessage(err)) ? "warn" : "debug";
      log[level]("dns document not read; the last one keeps serving", { reason: errorMessage(err), trigger: reasons, version: this.version });
      return; // redis-ready (and the resync) read it again
    }
    if (raw === null) {
      if (!this.document) log.debug("no dns document yet", { trigger: reasons });
      else if (!this.acceptAnyVersion) {
        // Deleted: the next write counts from 1 again (set-dns script), so take whatever comes next.
        log.warn("dns document gone from Redis; the last one keeps serving", { version: this.version });
        this.acceptAnyVersion = true;
      }
      return;
    }
    let doc: EnvDnsDocument;
    try {
      doc = parseEnvDnsDocument(raw);
    } catch (err) {
      log.warn("dns document refused; the last one keeps serving", { reason: errorMessage(err), version: this.version });
      return;
    }
    const serving = this.document?.version;
    if (serving !== undefined && !this.acceptAnyVersion) {
      if (doc.version === serving) return;
      if (doc.version < serving) {
        log.warn("older dns document ignored", { version: doc.version, serving });
        return;
      }
    }
    try {
      this.server?.setDirectory(doc.directory);
      await this.daemon?.setDocument(doc);
    } catch (err) {
      // A daemon that went away gets this document when the next one starts (see listen).
      if (this.server || err instanceof DaemonRefused) {
        log.warn("dns directory not indexed; the last one keeps serving", { version: doc.version, reason: errorMessage(err) });
        return;
      }
    }
    this.document = doc;
    this.acceptAnyVersion = false;
    try {
      this.options.onDirectory?.(doc.directory);
    } catch (err) {
      log.warn("a directory listener failed", { version: doc.version, reason: errorMessage(err) });
    }
    log.info("dns directory applied", {
      version: doc.version, trigger: reasons, instances: doc.directory.instances.length, services: doc.directory.services.length,
    });
  }

  private async listen(): Promise<void> {
    const { address, port, log } = this.options;
    const upstreams = this.options.upstreams ?? hostUpstreams(address, log);
    for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
      try {
        if (this.options.ensureAddress && (await ensureLocalAddress(address))) {
          log.info("dns address added", { address, dev: "lo" });
          const marker = this.addedMarker();
          if (marker) {
            // The daemon keeps serving on it after this agent: only a teardown removes it.
            fs.mkdirSync(path.dirname(marker), { recursive: true, mode: 0o700 });
            fs.writeFileSync(marker, `${address}\n`);
          } else this.addedAddress = true;
        }
        if (this.options.daemon) {
          await this.openDaemon(address, port, upstreams);
          return;
        }
        const server = await startDnsServer({
          ...this.options.server, address, port, upstreams, directory: this.document?.directory, log,
        });
        if (this.abort.signal.aborted) {
          await server.close();
          return;
        }
        // A document read while binding went to no server: hand over the newest one.
        if (this.document) server.setDirectory(this.document.directory);
        this.server = server;
        return;
      } catch (err) {
        const wait = backoffMs(attempt, 1_000, 30_000);
        log.error("dns responder not started; retrying", { address, port, reason: errorMessage(err), retryInMs: wait });
        await delay(wait, this.abort.signal);
      }
    }
  }

  private async openDaemon(address: string, port: number, upstreams: string[]): Promise<void> {
    const { log, server } = this.options;
    const daemon = this.options.daemon!;
    const link = await DaemonLink.open({
      dir: daemon.dir, address, port, upstreams,
      ...(server?.ttlSeconds !== undefined ? { ttlSeconds: server.ttlSeconds } : {}),
      ...(server?.upstreamTimeoutMs !== undefined ? { upstreamTimeoutMs: server.upstreamTimeoutMs } : {}),
    }, log, daemon.script);
    if (this.abort.signal.aborted) {
      link.close();
      return;
    }
    link.onLost(() => {
      if (this.abort.signal.aborted || this.daemon !== link) return;
      this.daemon = undefined;
      log.warn("dns daemon gone: starting another (it serves the last document saved)", { pid: link.hello.pid });
      this.listening = this.listen();
    });
    this.daemon = link;
    // A document read while the daemon started: hand it over (the daemon serves its saved one meanwhile).
    if (this.document && this.document.version !== link.hello.documentVersion) {
      await link.setDocument(this.document).catch((err) => log.warn("dns document not handed to the daemon", { reason: errorMessage(err) }));
    }
  }
}

function hostUpstreams(address: string, log: Logger): string[] {
  try {
    return readHostUpstreams("/etc/resolv.conf", [address]);
  } catch (err) {
    log.warn("no upstream resolvers: other names get SERVFAIL", { reason: errorMessage(err) });
    return [];
  }
}
