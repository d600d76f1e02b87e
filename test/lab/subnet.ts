import * as fs from "fs";
import * as path from "path";
import { labRoot } from "./names";
import { runOk } from "./proc";

/**
 * Picks the run's underlay /24 from 198.18.0.0/15 (the benchmarking range, never routed on
 * the Internet). A /24 is free when no address or route on the machine overlaps it and no
 * other run holds its marker file; the marker is created with O_EXCL, so two runs starting
 * at the same moment cannot both take it.
 */
export interface Subnet {
  /** "198.18.3.0/24" */
  cidr: string;
  /** "198.18.3": hosts are <base>.11, .12, ...; the gateway is <base>.1 */
  base: string;
  marker: string;
}

const CANDIDATES = 512; // 198.18.0.0/24 .. 198.19.255.0/24

export function subnetDir(): string {
  return path.join(labRoot(), "subnets");
}

export function markerPath(base: string): string {
  return path.join(subnetDir(), `${base}.0`);
}

function toInt(ip: string): number {
  return ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function overlaps(aNet: number, aLen: number, bNet: number, bLen: number): boolean {
  const len = Math.min(aLen, bLen);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return ((aNet & mask) >>> 0) === ((bNet & mask) >>> 0);
}

/** IPv4 prefixes in use on this machine (root namespace): addresses and all route tables. */
async function usedPrefixes(): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  const addrs = JSON.parse((await runOk(["ip", "-j", "-4", "addr", "show"])).stdout || "[]") as
    Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
  for (const link of addrs) for (const a of link.addr_info ?? []) out.push([toInt(a.local), a.prefixlen]);
  const routes = JSON.parse((await runOk(["ip", "-j", "-4", "route", "show", "table", "all"])).stdout || "[]") as
    Array<{ dst: string }>;
  for (const r of routes) {
    if (!r.dst || r.dst === "default") continue; // a default route overlaps everything by design
    const [ip, len] = r.dst.split("/");
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) out.push([toInt(ip), len ? Number(len) : 32]);
  }
  return out;
}

export async function allocateSubnet(runId: string): Promise<Subnet> {
  fs.mkdirSync(subnetDir(), { recursive: true });
  const used = await usedPrefixes();
  for (let i = 0; i < CANDIDATES; i++) {
    const base = `198.${18 + (i >> 8)}.${i & 255}`;
    if (used.some(([net, len]) => overlaps(toInt(`${base}.0`), 24, net, len))) continue;
    const marker = markerPath(base);
    try {
      fs.writeFileSync(marker, `${runId}\n`, { flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    return { cidr: `${base}.0/24`, base, marker };
  }
  throw new Error(`no free /24 left in 198.18.0.0/15 (markers in ${subnetDir()}; \`drover lab down --all\` frees stale ones)`);
}

/** Removes the marker if it still belongs to this run. */
export function releaseSubnet(base: string, runId: string): void {
  const marker = markerPath(base);
  try {
    if (fs.readFileSync(marker, "utf8").trim() === runId) fs.unlinkSync(marker);
  } catch { /* already gone */ }
}

/** Markers held by a run id (for cleanup when the state file is lost). */
export function markersOf(runId: string): string[] {
  try {
    return fs.readdirSync(subnetDir())
      .map((f) => path.join(subnetDir(), f))
      .filter((f) => { try { return fs.readFileSync(f, "utf8").trim() === runId; } catch { return false; } });
  } catch {
    return [];
  }
}
