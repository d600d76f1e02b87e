import type { ReportType } from "../runtime/protocol/agent-protocol";
import type { HostObservedState } from "../runtime/protocol/model";
import type { RedisLink } from "./redis-link";
import type { SecretMask } from "./secret-mask";

/** Entries kept on the reports stream: the server reads it continuously, so ~1000 is plenty. */
const maxReports = 1000;

/** Agent → server writes: the observed document and entries on the reports stream. */
export class Reports {
  /** `mask`: secret values the agent opened never reach a report (a container error quoting one, say). */
  constructor(private readonly link: RedisLink, private readonly keys: { observed: string; reports: string }, private readonly mask?: SecretMask) {}

  /** SET observed, then XADD `type=observed generation=N`. */
  async observed(observed: HostObservedState): Promise<void> {
    const text = JSON.stringify(observed);
    await this.link.cmd.set(this.keys.observed, this.mask ? this.mask.apply(text) : text);
    await this.add("observed", { generation: String(observed.appliedGeneration) });
  }

  /** XADD `type=instance id=<instanceId> state=<state>` (plus containerId, exitCode when known). */
  async instance(instanceId: string, state: string, extra: Record<string, string | number | undefined> = {}): Promise<void> {
    await this.add("instance", { id: instanceId, state, ...extra });
  }

  async teardownDone(removed: number): Promise<void> {
    await this.add("teardown-done", { removed: String(removed) });
  }

  private async add(type: ReportType, fields: Record<string, string | number | undefined>): Promise<string | null> {
    const flat: string[] = ["type", type];
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) flat.push(k, this.mask ? this.mask.apply(String(v)) : String(v));
    return this.link.cmd.xadd(this.keys.reports, "MAXLEN", "~", String(maxReports), "*", ...flat);
  }
}
