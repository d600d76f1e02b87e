/**
 * Labels every instance of a service carries besides the user's, Rancher-style. They are
 * what `container_label` rules can point at, e.g. a service keeping away from itself with
 * `container_label_ne: io.rancher.stack_service.name=${stack_name}/${service_name}`.
 */
import type { ServiceToPlace } from "./types";

export const STACK_NAME_LABEL = "io.rancher.stack.name";
export const STACK_SERVICE_NAME_LABEL = "io.rancher.stack_service.name";
export const SERVICE_ID_LABEL = "io.drover.service";

/** The labels a new instance of `service` will have (the control plane must set the same). */
export function newInstanceLabels(service: Pick<ServiceToPlace, "id" | "name" | "stackName" | "labels">): Record<string, string> {
  return {
    ...service.labels,
    [STACK_NAME_LABEL]: service.stackName,
    [STACK_SERVICE_NAME_LABEL]: `${service.stackName}/${service.name}`,
    [SERVICE_ID_LABEL]: service.id,
  };
}
