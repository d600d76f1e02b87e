/**
 * What /proc says about a pid: used to tell our HAProxy from a pid the kernel reused, and a
 * zombie (a dead master not yet reaped by whoever inherited it) from a live process.
 */
import * as fs from "fs";

function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces or parens: the fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** The process's start time (clock ticks since boot), or undefined when it is gone or a zombie. */
export function procStartTime(pid: number): string | undefined {
  const f = statFields(pid);
  if (!f || f[0] === "Z" || f[0] === "X") return undefined;
  return f[19];
}

export function procCmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

export function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}
