import * as fs from "fs";
import * as path from "path";
import { spawnDetached } from "./host-namespace";
import { labRoot } from "./names";
import { isAlive, ProcRef, procRef } from "./proc";

/**
 * For labs owned by a test process: a detached watcher that waits for the owner to die and,
 * if the run is still there, runs `drover lab down <runid>`. So a test killed by a timeout
 * or SIGKILL (no teardown) does not leave dockerds and namespaces behind. A normal down()
 * kills the watcher first. `tail --pid` is GNU tail's wait-for-process (polls every 0.2 s).
 */
export function startWatchdog(runId: string, ownerPid: number): ProcRef | undefined {
  const drover = path.resolve(__dirname, "../../../bin/drover.js");
  if (!fs.existsSync(drover)) return undefined;
  const logDir = path.join(path.dirname(labRoot()), "log");
  fs.mkdirSync(logDir, { recursive: true });
  // The state file path is passed in two parts so this command line never contains the
  // run dir path (the leftover scan looks for it).
  const script = 'tail --pid="$1" -s 0.2 -f /dev/null; [ -e "$2/$3.json" ] || exit 0; echo "owner $1 of lab run $3 died: tearing down"; exec "$4" "$5" lab down "$3"';
  const child = spawnDetached(
    ["/bin/sh", "-c", script, "drover-lab-watchdog", String(ownerPid), labRoot(), runId, process.execPath, drover],
    path.join(logDir, "lab-watchdog.log"),
  );
  return child.pid ? procRef(child.pid) : undefined;
}

/** Stops the watcher (its whole process group: sh and its tail), unless we are it. */
export function stopWatchdog(ref: ProcRef | undefined): void {
  if (!ref || ref.pid === process.pid || !isAlive(ref)) return;
  try {
    process.kill(-ref.pid, "SIGKILL");
  } catch { /* gone */ }
}
