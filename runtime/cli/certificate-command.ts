import * as fs from "fs";
import { CliError } from "./day-two/cli-error";
import { parseArgs } from "util";
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connect } from "./api-connection";
import { Command, UsageError } from "./command";

/**
 * `drover certificate ls|add|rm`: an environment's TLS certificates through the API. `add`
 * reads the PEM files here and sends them; the server checks them (key match, dates, chain
 * order) and answers with what it read. No command ever prints a private key.
 */
export const certificateCommand: Command = {
  name: "certificate",
  summary: "list, add and remove an environment's TLS certificates (for https load balancer rules)",
  usage: [
    "usage: drover certificate ls [connection options]",
    "       drover certificate add --name NAME --cert FILE --key FILE [--chain FILE] [--description TEXT] [connection options]",
    "       drover certificate rm ID [connection options]",
    "",
    "  ls               one line per certificate: id, name, common name, expiry, fingerprint",
    "  add              store a certificate: --cert and --key are PEM files (the key not encrypted),",
    "                   --chain the intermediates (PEM, leaf first); prints its id",
    "  rm ID            remove it (refused while a load balancer lists it)",
    "",
    "connection options:",
    ...CONNECTION_USAGE,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        ...CONNECTION_OPTIONS,
        name: { type: "string" }, cert: { type: "string" }, key: { type: "string" }, chain: { type: "string" }, description: { type: "string" },
      },
      allowPositionals: true,
      strict: true,
    });
    const [sub, ...rest] = positionals;
    try {
      return await runSubcommand(sub, rest, values);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      // The server's refusal (or an unreachable server): one line, no stack.
      console.error(`drover certificate ${sub}: ${(err as Error).message}`);
      return err instanceof CliError ? err.exitCode : 1;
    }
  },
};

type Values = Record<string, string | undefined>;

async function runSubcommand(sub: string | undefined, rest: string[], values: Values): Promise<number> {
  const onlyFor = (names: string[], what: string) => {
    const given = names.filter((n) => values[n] !== undefined);
    if (given.length) throw new UsageError(`--${given[0]} is only for ${what}`);
  };
  switch (sub) {
    case "ls": {
      onlyFor(["name", "cert", "key", "chain", "description"], "add");
      if (rest.length) throw new UsageError(`ls takes no arguments, got ${rest.join(" ")}`);
      const api = await connect(values);
      const list = await api.call("GET", "/certificates?limit=1000");
      console.log(["ID".padEnd(18), "NAME".padEnd(24), "COMMON NAME".padEnd(32), "NOT AFTER".padEnd(26), "FINGERPRINT"].join(""));
      for (const c of list.data) {
        console.log([c.id.padEnd(18), c.name.padEnd(24), (c.commonName || "-").padEnd(32), c.notAfter.padEnd(26), c.fingerprint.slice(0, 16)].join(""));
      }
      return 0;
    }
    case "add": {
      if (rest.length) throw new UsageError(`add takes no arguments, got ${rest.join(" ")}`);
      for (const required of ["name", "cert", "key"] as const) if (!values[required]) throw new UsageError(`add: --${required} is required`);
      const body: Record<string, string> = { name: values.name!, cert: readPem("--cert", values.cert!), key: readPem("--key", values.key!) };
      if (values.chain) body.chain = readPem("--chain", values.chain);
      if (values.description !== undefined) body.description = values.description;
      const api = await connect(values);
      const c = await api.call("POST", "/certificates", body);
      console.log(`certificate ${c.name} added: ${c.id}`);
      console.log(`  common name ${c.commonName || "-"}, names ${c.subjectAlternativeNames.join(", ") || "-"}`);
      console.log(`  issuer ${c.issuer}, valid ${c.notBefore} to ${c.notAfter}`);
      return 0;
    }
    case "rm": {
      onlyFor(["name", "cert", "key", "chain", "description"], "add");
      if (rest.length !== 1) throw new UsageError("rm: expected one certificate id");
      const api = await connect(values);
      const c = await api.call("DELETE", `/certificates/${encodeURIComponent(rest[0])}`);
      console.log(`certificate ${c.name} (${c.id}) removed`);
      return 0;
    }
    default:
      throw new UsageError(sub === undefined ? "expected a subcommand: ls, add or rm" : `unknown subcommand "${sub}": expected ls, add or rm`);
  }
}

function readPem(flag: string, file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err: any) {
    throw new UsageError(`${flag}: cannot read ${file}: ${err?.code ?? err?.message}`);
  }
}
