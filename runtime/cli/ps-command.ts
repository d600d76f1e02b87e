import type { Command } from "./command";
import { UsageError } from "./command";
import { EXIT, CliError, runCli } from "./day-two/cli-error";
import { apiFrom, parseCommand, printJson } from "./day-two/command-kit";
import { SETTINGS_USAGE } from "./day-two/settings";
import { age, table } from "./day-two/table";

export const psCommand: Command = {
  name: "ps",
  summary: "list instances (containers): host, overlay IP, state, health, age",
  usage: ["usage: drover ps [SERVICE] [--all] [--json]", "", "  SERVICE          only this service's instances (name, STACK/NAME or id)",
    "  --all            also removed instances", ...SETTINGS_USAGE].join("\n"),
  run: (argv) => runCli("ps", async () => {
    const { values, positionals } = parseCommand(argv, { all: { type: "boolean", default: false } });
    if (positionals.length > 1) throw new UsageError(`expected at most one SERVICE, got ${positionals.join(" ")}`);
    const api = apiFrom(values);
    const { findService } = await import("./day-two/resolve");
    let instances = await api.list("instances");
    if (positionals[0]) {
      const service = await findService(api, positionals[0]);
      if (!service) throw new CliError(`no service ${JSON.stringify(positionals[0])} in environment ${await api.envId()}: see \`drover ps\``, EXIT.notFound);
      instances = instances.filter((i) => i.serviceId === service.id);
    }
    if (!values.all) instances = instances.filter((i) => i.state !== "removed");
    const hosts = new Map((await api.list("hosts")).map((h) => [h.id, h.name]));
    instances.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    if (values.json) {
      printJson(instances.map((i) => ({ id: i.id, name: i.name, serviceId: i.serviceId, hostId: i.hostId, host: hosts.get(i.hostId) ?? i.hostId,
        ip: i.ip ?? null, state: i.state, health: i.healthState ?? null, createdAt: i.createdAt })));
      return EXIT.ok;
    }
    console.log(table(["INSTANCE", "ID", "HOST", "IP", "STATE", "HEALTH", "AGE"],
      instances.map((i) => [i.name, i.id, hosts.get(i.hostId) ?? i.hostId, i.ip ?? "-", i.state, i.healthState ?? "-", age(i.createdAt)])));
    return EXIT.ok;
  }),
};
