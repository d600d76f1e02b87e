/**
 * What every engine test on lab hosts starts from: the hosts carry a second tag of the
 * test image (local/busybox:v2, for image changes: there is no registry here) and one
 * drover server runs on the lab gateway, stopped at the test's end.
 */
import type { Lab } from "../lab";
import { ControlPlane } from "../support/control-plane";

interface TapLike {
  equal(...args: any[]): unknown;
  teardown(fn: () => unknown): void;
}

export async function engineControlPlane(t: TapLike, lab: Lab): Promise<ControlPlane> {
  for (const h of lab.hosts) {
    const tag = await h.exec(["docker", "tag", "local/busybox", "local/busybox:v2"]);
    t.equal(tag.code, 0, `tagged local/busybox:v2 on ${h.name}`, { stderr: tag.stderr });
  }
  const cp = await ControlPlane.start(lab, { graceMs: 3000 });
  t.teardown(() => cp.stop());
  await cp.startServer("s1");
  return cp;
}
