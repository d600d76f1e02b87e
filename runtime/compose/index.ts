/** Compose import and export (Rancher's docker-compose.yml + rancher-compose.yml). */
export { readCompose, LB_IMAGE_PREFIX } from "./read-compose";
export { MAX_COMPOSE_BYTES } from "./yaml-source";
export type { ComposeInput, ComposeStack, ComposeWarning, ImportedLoadBalancer, ImportedService } from "./types";
export { warningText } from "./types";
export { writeCompose, type ComposeExport } from "./write-compose";
export { stackByName, serviceIdByName, certificateIdByName } from "./stack-names";
