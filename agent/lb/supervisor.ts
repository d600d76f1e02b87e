/**
 * Keeps one HAProxy master alive: notices when it dies (at once for a master we started,
 * through /proc every WATCH_INTERVAL_MS for one we adopted, which is not our child) and asks
 * for a restart after a growing back-off (about 0.2 s, 0.4 s, ... up to 10 s); a master that
 * ran for STABLE_RUN_MS before dying starts over from the shortest wait.
 */
import { backoffMs } from "../backoff";
import type { HaproxyMaster } from "./haproxy-process";

const STABLE_RUN_MS = 30_000;
const WATCH_INTERVAL_MS = 500;

export class Supervisor {
  private attempt = 0;
  private startedAt = 0;
  private watched?: HaproxyMaster;
  private watchTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private stopped = false;

  /** `gone`: the watched master died; `restart`: the back-off after it (or a failed start) is over. */
  constructor(private readonly gone: (m: HaproxyMaster) => void, private readonly restart: () => void) {}

  /** From now on `m` is the master to keep alive. */
  watch(m: HaproxyMaster): void {
    this.unwatch();
    this.watched = m;
    this.startedAt = Date.now();
    m.onExit(() => this.check(m));
    this.watchTimer = setInterval(() => this.check(m), WATCH_INTERVAL_MS);
    this.watchTimer.unref();
  }

  unwatch(): void {
    clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    this.watched = undefined;
  }

  /** A restart is waiting out its back-off. */
  pending(): boolean {
    return this.restartTimer !== undefined;
  }

  /** Schedules a restart; returns the wait in ms, or undefined when one is already scheduled. */
  scheduleRestart(): number | undefined {
    if (this.stopped || this.restartTimer) return undefined;
    if (this.startedAt && Date.now() - this.startedAt > STABLE_RUN_MS) this.attempt = 0;
    this.startedAt = 0; // failed starts from here on keep growing the wait
    const wait = backoffMs(this.attempt++, 200, 10_000);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restart();
    }, wait);
    this.restartTimer.unref();
    return wait;
  }

  /** No more watching or restarts (the processes themselves are left alone). */
  stop(): void {
    this.stopped = true;
    this.unwatch();
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private check(m: HaproxyMaster): void {
    if (this.stopped || this.watched !== m || m.alive()) return;
    // Our child's exit event will call again, with how it ended (signal or code).
    if (m.exitPending()) return;
    this.unwatch();
    this.gone(m);
  }
}
