/**
 * Lab runs nobody will ever tear down: watched runs (made for a test or a benchmark) whose
 * owner and watchdog are both gone. That happens when the whole session that made them is
 * killed at once: the watchdog (watchdog.ts) dies with its owner. A watched lab reclaims them
 * before it starts, so such a kill costs one later teardown, not namespaces left for good.
 * Runs without a watchdog (`drover lab up` from a shell) are the user's and stay.
 */
import * as fs from "fs";
import * as path from "path";
import { RunNames } from "./names";
import { isAlive, procRef } from "./proc";
import { listRunIds, readState, type LabState } from "./state-file";
import { teardownRun } from "./teardown";

function abandoned(state: LabState): boolean {
  if (!state.watchdog || isAlive(state.watchdog)) return false;
  // The owner is known by pid only: any process with that pid counts as alive (never reclaim by mistake).
  return procRef(state.ownerPid) === undefined;
}

/** Tears down every abandoned run; returns their ids. A failure is reported, never thrown: it is not the new run's. */
export async function reclaimAbandonedRuns(report: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<string[]> {
  const reclaimed: string[] = [];
  for (const runId of listRunIds()) {
    const state = readState(runId);
    if (!state || !abandoned(state)) continue;
    // Two labs starting at once must not both tear the same run down: the first to claim it does.
    try {
      fs.mkdirSync(path.join(new RunNames(runId).runDir, ".reclaiming"));
    } catch {
      continue;
    }
    try {
      await teardownRun(runId, state);
      reclaimed.push(runId);
      report(`lab: reclaimed run ${runId} (${state.name ?? "unnamed"}): its owner ${state.ownerPid} and its watchdog died without tearing it down`);
    } catch (err) {
      report(`lab: reclaiming abandoned run ${runId} failed: ${(err as Error).message}`);
    }
  }
  return reclaimed;
}
