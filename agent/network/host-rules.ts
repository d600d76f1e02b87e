import { DNS_IP } from "../../runtime/protocol/model";

/**
 * The host's packet plumbing for the overlay, planned as commands from what is installed
 * now (pure). Every iptables rule carries `-m comment --comment drover` and every route
 * `proto 213`, so they are found again, never duplicated, and removed at teardown without
 * touching anything else.
 */
export const ruleComment = "drover";
/** The routing protocol number drover's routes carry (any value the kernel does not use itself). */
export const routeProto = "213";

export interface ChainRule {
  table: "nat" | "filter";
  chain: string;
  /** iptables arguments after `-A <chain>`, in the order `iptables -S` prints them. */
  args: string[];
}

const tag = ["-m", "comment", "--comment", ruleComment];

/**
 * The rules, in the order they must head their chain: overlay traffic is exempt from Docker's
 * masquerade (first in POSTROUTING), and forwarded between the bridge and the tunnel.
 */
export function wantedRules(cidr: string, forwardChain: string): ChainRule[] {
  return [
    { table: "nat", chain: "POSTROUTING", args: ["-s", cidr, "-d", cidr, ...tag, "-j", "RETURN"] },
    { table: "filter", chain: forwardChain, args: ["-s", cidr, "-d", cidr, ...tag, "-j", "ACCEPT"] },
  ];
}

/** The `-A chain ...` lines of one chain from `iptables -S <chain>` output. */
export function chainLines(listing: string, chain: string): string[] {
  return listing.split("\n").map((l) => l.trim()).filter((l) => l.startsWith(`-A ${chain} `));
}

const ourTag = new RegExp(` --comment ${ruleComment}( |$)`);

function isOurs(line: string): boolean {
  return ourTag.test(line);
}

/**
 * iptables argv lists that make `chain` start with exactly `wanted` (in order) and hold no
 * other drover rule. Nothing when it already does. Out of place, our rules are deleted and
 * inserted again at the top: dockerd inserts its own NAT rules at position 1 when it creates
 * a network, and the exemption must come before Docker's MASQUERADE.
 */
export function planChain(table: string, chain: string, listing: string, wanted: string[][]): string[][] {
  const lines = chainLines(listing, chain);
  const wantedLines = wanted.map((args) => `-A ${chain} ${args.join(" ")}`);
  const head = lines.slice(0, wantedLines.length);
  const oursElsewhere = lines.slice(wantedLines.length).some(isOurs);
  if (head.length === wantedLines.length && head.every((l, i) => l === wantedLines[i]) && !oursElsewhere) return [];
  const cmds: string[][] = [];
  for (const line of lines.filter(isOurs)) cmds.push(["-t", table, "-D", chain, ...splitRule(line).slice(2)]);
  for (const args of [...wanted].reverse()) cmds.push(["-t", table, "-I", chain, "1", ...args]);
  return cmds;
}

/** iptables argv lists that delete every drover rule of `chain`. */
export function planChainRemoval(table: string, chain: string, listing: string): string[][] {
  return chainLines(listing, chain).filter(isOurs).map((line) => ["-t", table, "-D", chain, ...splitRule(line).slice(2)]);
}

/** Splits an `iptables -S` line into words, honouring double quotes (comments with spaces). */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  return out;
}

/** `ip route` argv lists: our blackhole for `cidr` only, from `ip -o route show proto 213` output. */
export function planRoutes(cidr: string | undefined, listing: string): string[][] {
  const present = listing.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => l.split(/\s+/));
  const cmds: string[][] = [];
  let have = false;
  for (const words of present) {
    const isWanted = cidr !== undefined && words[0] === "blackhole" && words[1] === cidr;
    if (isWanted) have = true;
    else cmds.push(["route", "del", ...routeKey(words), "proto", routeProto]);
  }
  if (cidr !== undefined && !have) cmds.push(["route", "replace", "blackhole", cidr, "proto", routeProto]);
  return cmds;
}

/** Enough of a listed route to delete it: its type (if any) and destination. */
function routeKey(words: string[]): string[] {
  const types = new Set(["blackhole", "unreachable", "prohibit", "throw"]);
  return types.has(words[0]) ? [words[0], words[1]] : [words[0]];
}

/** The DNS address on lo: `ip addr add` argv when missing from `ip -o -4 addr show dev lo`. */
export function planDnsAddress(listing: string, wanted: boolean): string[][] {
  const has = listing.includes(` ${DNS_IP}/32 `);
  if (wanted && !has) return [["addr", "add", `${DNS_IP}/32`, "dev", "lo"]];
  if (!wanted && has) return [["addr", "del", `${DNS_IP}/32`, "dev", "lo"]];
  return [];
}
