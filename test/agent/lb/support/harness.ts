/**
 * A LoadBalancers module on its own state dir, with its log captured, torn down after the
 * test: teardown() of every module made, then (safety net) any HAProxy still running from
 * this state dir is stopped by its pid, and the dir removed.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LoadBalancers } from "../../../../agent/lb";
import { cliCommand } from "../../../../agent/lb/cli-socket";
import { parseShowProc, ProcInfo } from "../../../../agent/lb/cli-answers";
import { lbPaths } from "../../../../agent/lb/paths";
import { procCmdline, procStartTime, sendSignal } from "../../../../agent/lb/proc-info";
import { createLogger } from "../../../../agent/log";
import { waitFor } from "../../../support/wait";

type Tap = { teardown(fn: () => unknown): void };

export interface Harness {
  stateDir: string;
  lbs: LoadBalancers;
  /** Every log line written so far (JSON). */
  logLines: string[];
  /** Another module on the same state dir (an agent restart). */
  another(): LoadBalancers;
  /** `show proc` of an instance's master. */
  procs(instanceId: string): Promise<ProcInfo>;
}

export function harness(t: Tap): Harness {
  // Short: unix socket paths must stay under 108 bytes.
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "dlb-"));
  const logLines: string[] = [];
  const log = createLogger((line) => logLines.push(line), "debug");
  const made: LoadBalancers[] = [];
  const make = () => {
    const lbs = new LoadBalancers({ stateDir, log });
    made.push(lbs);
    return lbs;
  };
  const h: Harness = {
    stateDir, logLines, lbs: make(), another: make,
    procs: (id) => cliCommand(lbPaths(stateDir, id).masterSocket, "show proc").then(parseShowProc),
  };
  t.teardown(async () => {
    for (const lbs of made.reverse()) await lbs.teardown();
    for (const pid of haproxiesUnder(stateDir)) {
      sendSignal(pid, "SIGKILL");
      await waitFor(() => procStartTime(pid) === undefined, { what: `leftover haproxy ${pid} to exit` });
    }
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  return h;
}

/** Pids of live HAProxy processes whose command line names a file under `dir`. */
export function haproxiesUnder(dir: string): number[] {
  return fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    const cmd = procCmdline(pid);
    return cmd.length > 0 && /haproxy/.test(cmd[0]) && cmd.some((a) => a.startsWith(dir + "/")) && procStartTime(pid) !== undefined;
  });
}
