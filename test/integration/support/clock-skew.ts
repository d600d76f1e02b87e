/**
 * Preloaded into an agent (`NODE_OPTIONS=--require .../clock-skew.js`) to run it with its
 * wall clock off by DROVER_TEST_CLOCK_SKEW_MS: what faketime does to a process. A lab host is
 * a network namespace and shares the machine's clock (Linux has no clock namespace for
 * CLOCK_REALTIME), so the skew goes into the one process instead. Timers (monotonic) are
 * untouched, as on a host whose clock is wrong.
 */
const skewMs = Number(process.env.DROVER_TEST_CLOCK_SKEW_MS ?? 0);
if (skewMs) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class SkewedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(realNow() + skewMs);
      else super(...(args as [string | number]));
    }
    static override now(): number {
      return realNow() + skewMs;
    }
  }
  (globalThis as { Date: DateConstructor }).Date = SkewedDate as unknown as DateConstructor;
}
export {};
