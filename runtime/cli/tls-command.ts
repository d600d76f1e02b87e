import { parseArgs } from "util";
import { Command, UsageError } from "./command";

/** `drover tls`: the server's CA: its fingerprint, and a certificate for Redis. */
export const tlsCommand: Command = {
  name: "tls",
  summary: "the server's CA: show its fingerprint, issue Redis's TLS certificate",
  usage: [
    "usage: drover tls fingerprint [--tls-dir DIR]",
    "       drover tls redis-cert --san ADDR[,NAME...] [--port PORT] [--out DIR] [--tls-dir DIR]",
    "",
    "  --tls-dir DIR   the CA (made when absent; default $DROVER_TLS_DIR or /var/lib/drover/tls)",
    "  --san LIST      addresses and DNS names agents reach Redis at",
    "  --port PORT     Redis's TLS port in the printed options (default 6380)",
    "  --out DIR       where redis.pem, redis-key.pem (0600) and redis-ca.pem go (default: the TLS dir)",
    "",
    "redis-cert prints the redis-server options for TLS only, client certificates required.",
    "Agents pin the CA with `drover agent --ca-fingerprint <fingerprint>`; the Pulumi provider",
    "with the config `drover:caFingerprint`.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { "tls-dir": { type: "string" }, san: { type: "string" }, out: { type: "string" }, port: { type: "string" } },
    });
    const { loadOrCreateCa } = require("../tls/ca") as typeof import("../tls/ca");
    const dir = values["tls-dir"] ?? process.env.DROVER_TLS_DIR ?? "/var/lib/drover/tls";
    const ca = await loadOrCreateCa(dir);
    switch (positionals[0]) {
      case "fingerprint":
        console.log(ca.fingerprint);
        return 0;
      case "redis-cert": {
        const names = (values.san ?? "").split(",").map((s) => s.trim()).filter(Boolean);
        if (names.length === 0) throw new UsageError("--san: give the addresses (and names) agents reach Redis at");
        const { redisTlsArgs, writeRedisCertificate } = require("../tls/redis-tls") as typeof import("../tls/redis-tls");
        const files = writeRedisCertificate(ca, names, values.out ?? dir);
        console.log(`redis-server ${redisTlsArgs(files, Number(values.port ?? 6380)).join(" ")}`);
        console.log(`# then: drover server --redis rediss://${names[0]}:${values.port ?? 6380} --tls-dir ${dir} ...`);
        return 0;
      }
      default:
        throw new UsageError(positionals[0] ? `unknown subcommand ${JSON.stringify(positionals[0])}` : "which subcommand: fingerprint or redis-cert?");
    }
  },
};
