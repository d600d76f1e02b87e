/**
 * The files of one instance's directory (paths.ts): written atomically (a reader, HAProxy
 * re-executing on reload or a new agent adopting, never sees half a file), private (0600
 * in a 0700 directory: certificate keys live here).
 */
import * as fs from "fs";
import * as path from "path";
import type { CertificatePlan } from "./certificates";
import type { LbPaths } from "./paths";

export function ensureDirs(paths: LbPaths): void {
  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(paths.certs, { recursive: true, mode: 0o700 });
}

export function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Writes the bundles and crt-list a config needs; content-addressed, so existing ones are left alone. */
export function writeCertificates(plan: CertificatePlan | undefined): void {
  for (const f of plan?.files ?? []) if (!fs.existsSync(f.path)) writeAtomic(f.path, f.content);
}

/** Removes certificate files no config in use refers to. */
export function pruneCertificates(paths: LbPaths, keep: (CertificatePlan | undefined)[]): void {
  const wanted = new Set(keep.flatMap((p) => p?.files.map((f) => path.basename(f.path)) ?? []));
  let names: string[];
  try {
    names = fs.readdirSync(paths.certs);
  } catch {
    return;
  }
  for (const name of names) if (!wanted.has(name)) fs.rmSync(path.join(paths.certs, name), { force: true });
}

/** What was last applied to the running HAProxy, for an agent that adopts it. */
export interface AppliedRecord {
  structure: string;
  slotCounts: Record<string, number>;
  /** Seamless reloads since this HAProxy was started (the status carries on counting after an adoption). */
  reloads?: number;
}

export function readApplied(paths: LbPaths): AppliedRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(paths.applied, "utf8")) as AppliedRecord;
    return typeof r.structure === "string" && r.slotCounts && typeof r.slotCounts === "object" ? r : undefined;
  } catch {
    return undefined;
  }
}

export function writeApplied(paths: LbPaths, record: AppliedRecord): void {
  writeAtomic(paths.applied, JSON.stringify(record) + "\n");
}

export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** What HAProxy wrote to its log since `offset` (for the reason a start or reload failed). */
export function logSince(file: string, offset: number): string {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(offset, size - 64 * 1024);
      const buf = Buffer.alloc(Math.max(0, size - start));
      fs.readSync(fd, buf, 0, buf.length, start);
      return buf.toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return "";
  }
}

/** HAProxy appends to its log (O_APPEND), so emptying it is safe; done when it passes `maxBytes`. */
export function capLog(file: string, maxBytes = 1024 * 1024): boolean {
  if (fileSize(file) <= maxBytes) return false;
  fs.truncateSync(file, 0);
  return true;
}
