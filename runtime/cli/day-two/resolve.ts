/** Finding what a user names on the command line: an instance or a service, by id or name. */
import type { DroverApi } from "./api-client";
import { CliError, EXIT } from "./cli-error";

export interface Target {
  /** The instances to show, oldest index first. */
  instances: any[];
  /** Set when a service was named (its instances may change while following). */
  service?: any;
}

const live = (i: any) => i.state !== "removed" && i.state !== "removing";

/** `name` is an instance (id or name, e.g. app-web-1) or a service (id, `name`, or `stack/name`). */
export async function resolveTarget(api: DroverApi, name: string): Promise<Target> {
  const instances = await api.list("instances");
  const instance = instances.find((i) => i.id === name) ?? instances.find((i) => i.name === name && live(i));
  if (instance) return { instances: [instance] };
  const service = await findService(api, name);
  if (!service) throw new CliError(`no instance or service named ${JSON.stringify(name)} in environment ${await api.envId()}: see \`drover ps\``, EXIT.notFound);
  return { service, instances: serviceInstances(instances, service.id) };
}

export async function findService(api: DroverApi, name: string): Promise<any | undefined> {
  const services = [...await api.list("services"), ...await api.list("loadbalancers")];
  const byId = services.find((s) => s.id === name);
  if (byId) return byId;
  const [stackName, serviceName] = name.includes("/") ? name.split("/", 2) : [undefined, name];
  let matches = services.filter((s) => s.name === serviceName && s.state !== "removed");
  if (stackName !== undefined) {
    const stacks = await api.list("stacks");
    const stack = stacks.find((s) => s.name === stackName || s.id === stackName);
    matches = matches.filter((s) => s.stackId === stack?.id);
  }
  if (matches.length > 1) throw new CliError(`${JSON.stringify(name)} names services in several stacks: write STACK/SERVICE`, EXIT.usage);
  return matches[0];
}

export function serviceInstances(instances: any[], serviceId: string): any[] {
  return instances.filter((i) => i.serviceId === serviceId && live(i)).sort((a, b) => a.index - b.index || a.createdAt.localeCompare(b.createdAt));
}
