/** Reading ACL LIST for drover's host users: what the Sentinel and Cluster ACL syncs compare. */

/** ACL LIST prints granted commands in an order that differs between nodes: compare the rules as sets. */
export function sameRules(a: string, b: string): boolean {
  return a.split(" ").sort().join(" ") === b.split(" ").sort().join(" ");
}

/** name → ACL LIST line, for users named `<prefix>...`. Lines are `user <name> <rules...>`. */
export function hostUsers(lines: string[], prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of lines) {
    const name = line.split(" ")[1];
    if (name?.startsWith(prefix)) out.set(name, line);
  }
  return out;
}
