import { promises as fs } from "fs";
import { runCmd, runOk } from "./exec";
import { planChain, planChainRemoval, planDnsAddress, planRoutes, routeProto, wantedRules } from "./host-rules";

/**
 * Applies the host's overlay plumbing (NAT exemption, forwarding, blackhole route, DNS
 * address, IP forwarding) and removes it. Idempotent: each call reads what is installed and
 * changes only what differs, so it runs on every reconcile.
 */
export class HostPlumbing {
  /** Chains we put a forwarding rule in, so teardown looks in each. */
  private static readonly forwardChains = ["DOCKER-USER", "FORWARD"];

  async apply(cidr: string): Promise<number> {
    let changes = 0;
    await enableForwarding();
    const forwardChain = (await chainExists("filter", "DOCKER-USER")) ? "DOCKER-USER" : "FORWARD";
    const rules = wantedRules(cidr, forwardChain);
    for (const chain of [...new Set(rules.map((r) => `${r.table}/${r.chain}`)), ...HostPlumbing.forwardChains.map((c) => `filter/${c}`)]) {
      const [table, name] = chain.split("/");
      if (!(await chainExists(table, name))) continue;
      const wanted = rules.filter((r) => r.table === table && r.chain === name).map((r) => r.args);
      const listing = await runOk("iptables", ["-t", table, "-S", name]);
      const cmds = planChain(table, name, listing, wanted);
      for (const cmd of cmds) await runOk("iptables", ["-w", "5", ...cmd]);
      changes += cmds.length;
    }
    changes += await this.routesAndAddress(cidr, true);
    return changes;
  }

  /** Removes every drover rule, route and the DNS address; missing pieces are fine. */
  async remove(): Promise<void> {
    for (const [table, chain] of [["nat", "POSTROUTING"], ...HostPlumbing.forwardChains.map((c) => ["filter", c])]) {
      if (!(await chainExists(table, chain))) continue;
      const listing = await runOk("iptables", ["-t", table, "-S", chain]);
      for (const cmd of planChainRemoval(table, chain, listing)) await runOk("iptables", ["-w", "5", ...cmd]);
    }
    await this.routesAndAddress(undefined, false);
  }

  private async routesAndAddress(cidr: string | undefined, dns: boolean): Promise<number> {
    const routes = planRoutes(cidr, await runOk("ip", ["-o", "route", "show", "proto", routeProto]));
    const addr = planDnsAddress(await runOk("ip", ["-o", "-4", "addr", "show", "dev", "lo"]), dns);
    for (const cmd of [...routes, ...addr]) await runOk("ip", cmd);
    return routes.length + addr.length;
  }
}

async function chainExists(table: string, chain: string): Promise<boolean> {
  return (await runCmd("iptables", ["-t", table, "-S", chain])).code === 0;
}

async function enableForwarding(): Promise<void> {
  const file = "/proc/sys/net/ipv4/ip_forward";
  if ((await fs.readFile(file, "utf8")).trim() !== "1") await fs.writeFile(file, "1\n");
}
