/**
 * The values of an imported stack are checked by the API's own validators (the same words,
 * the same limits), against a stand-in of the stack: every service of the file under a
 * placeholder id, every external link target and named certificate likewise. A failure is
 * reported at the compose key the field came from, with file, line and column; the
 * resolved specs come back with references by name again.
 */
import { DroverError } from "../protocol/errors";
import type { CertificateRecord, ServiceRecord, StackRecord } from "../protocol/model";
import { validateLoadBalancerCreate } from "../protocol/validate/load-balancer";
import { validateServiceCreate } from "../protocol/validate/service";
import type { ReadContext } from "./context";
import type { LbConfigBody } from "./read-rancher";
import type { ComposeStack, ComposeWarning } from "./types";
import type { YamlPath } from "./yaml-source";

export interface PendingService {
  name: string;
  /** The API body (minus stackId and name), references by name. */
  body: Record<string, unknown>;
  path: YamlPath;
  rancherPath?: YamlPath;
}

export interface PendingLoadBalancer extends PendingService {
  lb: LbConfigBody;
}

/** API field → the docker-compose.yml key it came from. */
const DOCKER_KEYS: Record<string, string> = {
  image: "image", command: "command", entrypoint: "entrypoint", env: "environment", ports: "ports", links: "links",
  labels: "labels", restartPolicy: "restart", global: "labels", sidekicks: "labels", volumes: "volumes", privileged: "privileged",
  capAdd: "cap_add", capDrop: "cap_drop", tty: "tty", stdinOpen: "stdin_open", dnsSearch: "dns_search",
};
/** API field → the rancher-compose.yml key it came from. */
const RANCHER_KEYS: Record<string, string> = {
  scale: "scale", healthCheck: "health_check", upgradeStrategy: "upgrade_strategy", portRules: "lb_config",
  certificateIds: "lb_config", defaultCertificateId: "lb_config", stickiness: "lb_config",
};
const STACK_ID = "compose";

export function validateImport(
  files: { docker: ReadContext; rancher?: ReadContext },
  services: PendingService[],
  loadBalancers: PendingLoadBalancer[],
  warnings: ComposeWarning[],
): ComposeStack {
  const ids = new Map<string, string>();
  const idOf = (ref: string, prefix: string) => {
    if (!ids.has(ref)) ids.set(ref, `${prefix}${ids.size}`);
    return ids.get(ref)!;
  };
  services.forEach((s) => idOf(s.name, "s"));
  for (const s of services) for (const target of Object.values(s.body.links as Record<string, string> ?? {})) idOf(target, "x");
  for (const lb of loadBalancers) for (const rule of lb.lb.portRules) if (typeof rule.targetServiceId === "string") idOf(rule.targetServiceId, "x");
  const certIds = new Map<string, string>();
  for (const lb of loadBalancers) for (const name of [...lb.lb.certificateIds ?? [], ...(lb.lb.defaultCertificateId ? [lb.lb.defaultCertificateId] : [])]) {
    if (!certIds.has(name)) certIds.set(name, `c${certIds.size}`);
  }
  const names = new Map([...ids].map(([name, id]) => [id, name]));
  const certNames = new Map([...certIds].map(([name, id]) => [id, name]));
  const refs = {
    stacks: [{ id: STACK_ID, envId: "", name: STACK_ID, state: "active", createdAt: "", rev: 0 } as StackRecord],
    services: [...ids.values()].map((id) => ({ id, envId: "", stackId: STACK_ID, name: id, state: "active" }) as unknown as ServiceRecord),
    certificates: [...certIds.values()].map((id) => ({ id, state: "active" }) as unknown as CertificateRecord),
  };
  const out: ComposeStack = { services: [], loadBalancers: [], warnings };
  for (const s of services) {
    const links = Object.fromEntries(Object.entries(s.body.links as Record<string, string> ?? {}).map(([alias, target]) => [alias, ids.get(target)!]));
    const body = { ...s.body, ...(s.body.links ? { links } : {}), stackId: STACK_ID, name: s.name };
    const created = checked(files, s, () => validateServiceCreate(body, refs));
    const spec = created.spec;
    spec.links = Object.fromEntries(Object.entries(spec.links).map(([alias, id]) => [alias, names.get(id)!]));
    out.services.push({ name: s.name, spec });
  }
  for (const lb of loadBalancers) {
    const portRules = lb.lb.portRules.map((r) => ({ ...r, ...(typeof r.targetServiceId === "string" ? { targetServiceId: ids.get(r.targetServiceId) } : {}) }));
    const body = {
      ...lb.body, portRules, stackId: STACK_ID, name: lb.name,
      ...(lb.lb.certificateIds ? { certificateIds: lb.lb.certificateIds.map((n) => certIds.get(n)) } : {}),
      ...(lb.lb.defaultCertificateId ? { defaultCertificateId: certIds.get(lb.lb.defaultCertificateId) } : {}),
    };
    const created = checked(files, lb, () => validateLoadBalancerCreate(body, refs));
    const spec = created.spec;
    spec.portRules = spec.portRules.map((r) => ({ ...r, targetServiceId: names.get(r.targetServiceId)! }));
    spec.certificateIds = spec.certificateIds.map((id) => certNames.get(id)!);
    if (spec.defaultCertificateId) spec.defaultCertificateId = certNames.get(spec.defaultCertificateId)!;
    out.loadBalancers.push({ name: lb.name, spec });
  }
  return out;
}

/** Runs a validator; its failure becomes an error at the compose key the field came from. */
function checked<T>(files: { docker: ReadContext; rancher?: ReadContext }, s: PendingService, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof DroverError) || err.code === "Conflict" && err.field !== "name") throw err;
    const field = err.field ?? "";
    const top = field.split(/[.[]/)[0];
    if (top === "name") files.docker.fail(s.path, err.message);
    if (RANCHER_KEYS[top] && files.rancher && s.rancherPath) files.rancher.fail([...s.rancherPath, RANCHER_KEYS[top]], err.message);
    files.docker.fail(DOCKER_KEYS[top] ? [...s.path, DOCKER_KEYS[top]] : s.path, err.message);
  }
}
