import { Lab, LabOptions } from "./lab";

/** The part of a tap Test the lab needs (kept structural so any tap version fits). */
export interface TeardownRegistrar {
  teardown(fn: () => unknown): void;
  comment?(...args: unknown[]): void;
}

/**
 * A lab for one tap test: teardown is registered before anything is created, so a failing
 * or throwing test, and a partial `up`, are still cleaned up (and the leftover assertion
 * fails the test). If the test process is killed outright, a watchdog tears the run down.
 * Up and down times are printed as comments.
 */
export async function labForTest(t: TeardownRegistrar, options: LabOptions): Promise<Lab> {
  const lab = new Lab({ watchdog: true, ...options });
  t.teardown(async () => {
    await lab.down();
    if (lab.timings.downMs !== undefined) t.comment?.(`lab ${lab.runId}: down took ${lab.timings.downMs} ms ${JSON.stringify(lab.timings.downPhases)}`);
  });
  await lab.start();
  t.comment?.(`lab ${lab.runId}: ${options.hosts} host(s) up in ${lab.timings.upMs} ms on ${lab.subnet}`);
  return lab;
}
