/**
 * "Does this container answer HTTP?" asked from inside a lab host (its network namespace,
 * where both drover's overlay addresses and Swarm's bridge addresses are routed), with the
 * machine's curl: the last step of the heal benchmark, the same on both sides.
 */
import type { LabHost } from "../../test/lab";

/** The HTTP status of GET `url` from inside `host`, or 0 when nothing answered within `timeoutS`. */
export async function httpStatusFrom(host: LabHost, url: string, timeoutS = 2): Promise<number> {
  const r = await host.exec(["curl", "-s", "-o", "/dev/null", "-m", String(timeoutS), "-w", "%{http_code}", url], { timeoutMs: (timeoutS + 5) * 1000 });
  const code = Number(r.stdout.trim());
  return Number.isFinite(code) ? code : 0;
}
