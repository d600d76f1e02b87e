import { readFileSync } from "fs";
import { isIP } from "net";

/**
 * The host's resolver configuration, as far as forwarding needs it. Follows resolv.conf(5):
 * `#` or `;` start a comment, the last `search`/`domain` line wins, unparsable
 * lines are ignored (the libc resolver ignores them too).
 */
export interface ResolvConf {
  /** Addresses in file order; entries that are not IP addresses are skipped. */
  nameservers: string[];
  search: string[];
  /** `options timeout:n` in seconds, when present. */
  timeoutSeconds?: number;
  /** `options attempts:n`, when present. */
  attempts?: number;
}

export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [] };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, "").trim();
    if (!line) continue;
    const [keyword, ...args] = line.split(/\s+/);
    switch (keyword) {
      case "nameserver": {
        // A scoped IPv6 address (fe80::1%eth0) is valid; isIP() rejects the zone, so test without it.
        const addr = args[0];
        if (addr && isIP(addr.split("%")[0]) !== 0) conf.nameservers.push(addr);
        break;
      }
      case "search":
        conf.search = args;
        break;
      case "domain":
        conf.search = args.slice(0, 1);
        break;
      case "options":
        for (const opt of args) {
          const m = /^(timeout|attempts):(\d+)$/.exec(opt);
          if (!m) continue;
          if (m[1] === "timeout") conf.timeoutSeconds = Number(m[2]);
          else conf.attempts = Number(m[2]);
        }
        break;
    }
  }
  return conf;
}

/**
 * The upstreams the DNS responder forwards to: the host's nameservers, minus any address in
 * `exclude` (our own listen address: forwarding to ourselves would loop). With no
 * nameserver line at all, libc uses the local machine; so do we.
 */
export function upstreamsFromResolvConf(text: string, exclude: string[] = []): string[] {
  const { nameservers } = parseResolvConf(text);
  return (nameservers.length > 0 ? nameservers : ["127.0.0.1"]).filter((ns) => !exclude.includes(ns));
}

export function readHostUpstreams(path = "/etc/resolv.conf", exclude: string[] = []): string[] {
  return upstreamsFromResolvConf(readFileSync(path, "utf8"), exclude);
}
