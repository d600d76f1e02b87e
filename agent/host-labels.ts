/**
 * Host labels: the user's (`--labels a=b,c=d`, Rancher's `a=b&c=d` also accepted) plus the
 * ones drover adds itself, Rancher style. System labels describe facts about the machine,
 * so they win on conflict; the caller logs what was overridden.
 */
export const systemHostLabelKeys = {
  dockerVersion: "io.rancher.host.docker_version",
  kernelVersion: "io.rancher.host.linux_kernel_version",
  os: "io.rancher.host.os",
  hostname: "io.drover.host.hostname",
} as const;

const labelKey = /^[A-Za-z0-9]([A-Za-z0-9._\/:-]*[A-Za-z0-9])?$/;

/** Parses `k=v,k2=v2`; throws an Error naming `flag` and the bad item. */
export function parseHostLabels(text: string, flag = "--labels"): Record<string, string> {
  const labels: Record<string, string> = {};
  const trimmed = text.trim();
  if (trimmed === "") return labels;
  for (const item of trimmed.split(/[,&]/)) {
    const part = item.trim();
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`${flag}: ${JSON.stringify(part)} is not key=value (expected e.g. ${flag} zone=a,ssd=true)`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!labelKey.test(key)) throw new Error(`${flag}: label key ${JSON.stringify(key)} may hold only letters, digits and . _ / : - (and must start and end with a letter or digit)`);
    if (key in labels) throw new Error(`${flag}: label ${JSON.stringify(key)} is given twice`);
    labels[key] = value;
  }
  return labels;
}

/** Labels given as an object (a launch file): the keys are checked as parseHostLabels checks them; values are kept whole. */
export function hostLabelsFrom(labels: Record<string, string>, where: string): Record<string, string> {
  for (const key of Object.keys(labels)) {
    if (!labelKey.test(key)) throw new Error(`${where}: label key ${JSON.stringify(key)} may hold only letters, digits and . _ / : - (and must start and end with a letter or digit)`);
  }
  return { ...labels };
}

export interface HostFacts {
  hostname: string;
  dockerVersion: string;
  kernelVersion: string;
}

export interface MergedLabels {
  labels: Record<string, string>;
  /** User labels replaced by a system label of the same key. */
  overridden: { key: string; userValue: string; systemValue: string }[];
}

export function mergeHostLabels(user: Record<string, string>, facts: HostFacts): MergedLabels {
  const system: Record<string, string> = {
    [systemHostLabelKeys.dockerVersion]: facts.dockerVersion,
    [systemHostLabelKeys.kernelVersion]: facts.kernelVersion,
    [systemHostLabelKeys.os]: "linux",
    [systemHostLabelKeys.hostname]: facts.hostname,
  };
  const overridden = Object.keys(system)
    .filter((key) => key in user && user[key] !== system[key])
    .map((key) => ({ key, userValue: user[key], systemValue: system[key] }));
  return { labels: { ...user, ...system }, overridden };
}
