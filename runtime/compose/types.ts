/**
 * What the compose reader makes of a docker-compose.yml + rancher-compose.yml pair: the
 * specs the API takes (ServiceSpec, LoadBalancerSpec), with references still by name,
 * because ids exist only once the stack is written. `links` map an alias to `svc` (this
 * stack) or `stack/svc` (external_links); port rules target `svc` or `stack/svc`;
 * `certificateIds` and `defaultCertificateId` hold certificate names (Rancher's lb_config
 * names certificates). runtime/compose/resolve.ts turns names into ids.
 */
import type { LoadBalancerSpec, ServiceSpec } from "../protocol/model";

export interface ComposeWarning {
  /** `services.web.deploy.resources`. */
  path: string;
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ImportedService {
  name: string;
  spec: ServiceSpec;
}

export interface ImportedLoadBalancer {
  name: string;
  spec: LoadBalancerSpec;
}

export interface ComposeStack {
  services: ImportedService[];
  loadBalancers: ImportedLoadBalancer[];
  /** Every key drover does not act on, by path: never dropped silently. */
  warnings: ComposeWarning[];
}

export interface ComposeInput {
  /** docker-compose.yml text (versions 1, 2 and 3). */
  dockerCompose: string;
  /** rancher-compose.yml text, optional. */
  rancherCompose?: string;
  /** File names for messages; default `docker-compose.yml` and `rancher-compose.yml`. */
  dockerComposeName?: string;
  rancherComposeName?: string;
  /**
   * The text of an `env_file` given relative to docker-compose.yml, or undefined when it
   * does not exist. The CLI reads them from disk; the API and Pulumi take them as a map
   * (`envFiles`), since neither sees the user's file system.
   */
  envFile?: (path: string) => string | undefined;
}

/** A warning for `text` shown on one line: `docker-compose.yml:7:5: services.web.build: ...`. */
export function warningText(w: ComposeWarning): string {
  return `${w.file}:${w.line}:${w.column}: ${w.path}: ${w.message}`;
}
