import type { Command } from "./command";
import { UsageError } from "./command";
import { EXIT, runCli } from "./day-two/cli-error";
import { apiFrom, parseCommand, printJson } from "./day-two/command-kit";
import { SETTINGS_USAGE } from "./day-two/settings";
import { age, table } from "./day-two/table";

export const hostsCommand: Command = {
  name: "hosts",
  summary: "list hosts: state, labels, tunnels up/total, agent version",
  usage: ["usage: drover hosts [--json]", "", ...SETTINGS_USAGE].join("\n"),
  run: (argv) => runCli("hosts", async () => {
    const { values, positionals } = parseCommand(argv, {});
    if (positionals.length) throw new UsageError(`takes no arguments, got ${positionals.join(" ")}`);
    const hosts = await apiFrom(values).list("hosts");
    const rows = hosts.map((h) => {
      const tunnels = Object.values(h.network?.tunnels ?? {}) as { state: string }[];
      return { ...h, tunnelsUp: tunnels.filter((t) => t.state === "up").length, tunnelsTotal: tunnels.length };
    });
    if (values.json) {
      printJson(rows.map((h) => ({ id: h.id, name: h.name, state: h.state, deactivated: h.deactivated, labels: h.labels, underlayIp: h.underlayIp ?? null,
        subnet: h.subnet ?? null, tunnels: { up: h.tunnelsUp, total: h.tunnelsTotal }, agentVersion: h.agentVersion ?? null, createdAt: h.createdAt })));
      return EXIT.ok;
    }
    const userLabels = (labels: Record<string, string>) => Object.entries(labels ?? {}).filter(([k]) => !k.startsWith("io.rancher.host.")).map(([k, v]) => `${k}=${v}`).join(",") || "-";
    console.log(table(["NAME", "ID", "STATE", "ADDRESS", "TUNNELS", "AGENT", "AGE", "LABELS"],
      rows.map((h) => [h.name, h.id, h.deactivated && h.state === "active" ? "inactive" : h.state, h.underlayIp ?? "-", `${h.tunnelsUp}/${h.tunnelsTotal}`,
        h.agentVersion ?? "-", age(h.createdAt), userLabels(h.labels)])));
    return EXIT.ok;
  }),
};
