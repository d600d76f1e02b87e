/**
 * Sidekicks on the agent's side (pure). An instance whose spec lists sidekicks stands for
 * several containers: its own, then one per sidekick, named `<stack>-<service>-<sidekick>-<n>`,
 * joining the primary's network namespace (`container:<primary>`) and, when asked, its
 * volumes. Each sidekick becomes a desired instance of its own for planning, with an id
 * `<instance>~<sidekick>` and the primary's spec hash in its labels: whenever the primary
 * gets a new container (upgrade, spec change, a dead container), so does the sidekick, whose
 * namespace went with the old one. Only primaries are reported to the server.
 */
import { containerLabels } from "../runtime/protocol/agent-protocol";
import type { DesiredInstance } from "../runtime/protocol/model";
import { containerOptionsOf } from "../runtime/protocol/container-options";
import { instanceHash } from "./docker/container-config";

export const SIDEKICK_ID_SEPARATOR = "~";
/** Label on a sidekick's container: the primary container's spec hash it was made beside. */
export const PRIMARY_HASH_LABEL = "io.drover.sidekick.primary-hash";
export const SIDEKICK_LABEL = "io.drover.sidekick";

export function isSidekickId(instanceId: string): boolean {
  return instanceId.includes(SIDEKICK_ID_SEPARATOR);
}

/** `<stack>-<service>-<n>` → `<stack>-<service>-<sidekick>-<n>`. */
export function sidekickContainerName(primaryName: string, sidekick: string): string {
  const dash = primaryName.lastIndexOf("-");
  return dash < 0 ? `${primaryName}-${sidekick}` : `${primaryName.slice(0, dash)}-${sidekick}${primaryName.slice(dash)}`;
}

/** The instances to plan for: each primary, then its sidekicks. */
export function withSidekicks(instances: DesiredInstance[]): DesiredInstance[] {
  const out: DesiredInstance[] = [];
  for (const primary of instances) {
    out.push(primary);
    const primaryHash = instanceHash(primary);
    for (const s of primary.spec.sidekicks ?? []) {
      out.push({
        id: `${primary.id}${SIDEKICK_ID_SEPARATOR}${s.name}`,
        name: sidekickContainerName(primary.name, s.name),
        serviceId: primary.serviceId,
        stackId: primary.stackId,
        spec: {
          image: s.image,
          ...(s.command ? { command: s.command } : {}),
          ...(s.entrypoint ? { entrypoint: s.entrypoint } : {}),
          env: s.env,
          ports: [],
          labels: {
            ...s.labels,
            [SIDEKICK_LABEL]: s.name,
            [PRIMARY_HASH_LABEL]: primaryHash,
            "io.rancher.container.name": sidekickContainerName(primary.name, s.name),
            "io.rancher.stack_service.name": primary.spec.labels["io.rancher.stack_service.name"] ?? "",
          },
          restartPolicy: primary.spec.restartPolicy,
          ...containerOptionsOf(s),
          networkMode: `container:${primary.name}`,
          ...(s.volumesFromPrimary ? { volumesFrom: [primary.name] } : {}),
        },
      });
    }
  }
  return out;
}

/** Whether a planned action is a sidekick's (run after the primaries' actions of the same pass). */
export function isSidekickInstance(instance: DesiredInstance): boolean {
  return isSidekickId(instance.id) || instance.spec.labels[SIDEKICK_LABEL] !== undefined;
}

/** The instance id a container belongs to for reports: a sidekick's is its primary's. */
export function reportedInstanceId(labels: Record<string, string>): string | undefined {
  const id = labels[containerLabels.instance];
  return id === undefined ? undefined : id.split(SIDEKICK_ID_SEPARATOR)[0];
}
