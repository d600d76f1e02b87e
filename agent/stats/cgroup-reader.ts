/**
 * A container's CPU and memory read from its cgroup files: two small reads per container,
 * against `docker stats` which asks dockerd to gather a full stats document for each. The
 * cgroup directory comes from the container's init process (/proc/<pid>/cgroup), so it is
 * right whatever the cgroup driver, version (v1 or v2) or --cgroup-parent.
 */
import { promises as fs } from "fs";
import * as path from "path";

export interface CgroupFiles {
  /** File with the cumulated CPU time, and how to read it. */
  cpu: { file: string; kind: "v2" | "v1" };
  /** File holding the memory in use, in bytes. */
  mem: string;
}

/** From the text of /proc/<pid>/cgroup, the files to read under `root` (normally /sys/fs/cgroup). */
export async function cgroupFiles(procCgroup: string, root = "/sys/fs/cgroup"): Promise<CgroupFiles | undefined> {
  const lines = procCgroup.split("\n").filter(Boolean).map((l) => {
    const [, , controllers, p] = /^(\d+):([^:]*):(.*)$/.exec(l) ?? [];
    return { controllers: (controllers ?? "").split(","), path: p ?? "" };
  });
  const v1cpu = lines.find((l) => l.controllers.includes("cpuacct"));
  const v1mem = lines.find((l) => l.controllers.includes("memory"));
  if (v1cpu && v1mem) {
    const mount = await firstExisting([path.join(root, "cpuacct"), path.join(root, "cpu,cpuacct"), path.join(root, v1cpu.controllers.join(","))]);
    if (mount) {
      return {
        cpu: { file: path.join(mount, v1cpu.path, "cpuacct.usage"), kind: "v1" },
        mem: path.join(root, "memory", v1mem.path, "memory.usage_in_bytes"),
      };
    }
  }
  const unified = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === "");
  if (!unified) return undefined;
  // Hybrid hosts mount v2 at /sys/fs/cgroup/unified.
  const base = (await firstExisting([path.join(root, "cgroup.controllers")])) ? root : path.join(root, "unified");
  return { cpu: { file: path.join(base, unified.path, "cpu.stat"), kind: "v2" }, mem: path.join(base, unified.path, "memory.current") };
}

async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const c of candidates) {
    try {
      await fs.access(c);
      return c;
    } catch { /* next */ }
  }
  return undefined;
}

/** Cumulated CPU time in nanoseconds. */
export function parseCpuUsage(text: string, kind: "v1" | "v2"): number {
  if (kind === "v1") return Number(text.trim());
  const usec = /^usage_usec (\d+)/m.exec(text)?.[1];
  return usec === undefined ? NaN : Number(usec) * 1000;
}

export async function readCgroup(files: CgroupFiles): Promise<{ cpuNs: number; memBytes: number }> {
  const [cpu, mem] = await Promise.all([fs.readFile(files.cpu.file, "utf8"), fs.readFile(files.mem, "utf8")]);
  return { cpuNs: parseCpuUsage(cpu, files.cpu.kind), memBytes: Number(mem.trim()) };
}
