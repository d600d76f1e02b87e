import * as os from "os";
import { parseArgs } from "util";
import { Command, UsageError } from "../runtime/cli/command";
import { isDroverError } from "../runtime/protocol/errors";
import { hostLabelsFrom, parseHostLabels } from "./host-labels";
import { readLaunchFile, readTokenFile, type LaunchSettings } from "./launch-file";
import { createLogger, errorMessage } from "./log";
import { SecretMask } from "./secret-mask";
import { normalizeFingerprint } from "../runtime/protocol/fingerprint";

/** `drover agent`: parses flags and environment, runs the agent until teardown or a signal. */
export const agentCommand: Command = {
  name: "agent",
  summary: "run the host agent: register, then make the local dockerd match the server's desired state",
  usage: [
    "usage: drover agent --url URL --token TOKEN [options]",
    "",
    "  --url URL              drover server URL (default $DROVER_URL)",
    "  --token TOKEN          registration token (default $DROVER_TOKEN)",
    "  --labels k=v,...       host labels (default $DROVER_HOST_LABELS)",
    "  --launch-file FILE     JSON {url, labels, caFingerprint} (what a Host driver writes);",
    "                         flags given on the command line win over it",
    "  --token-file FILE      file holding the registration token (absent file: no token)",
    "  --ca-fingerprint FP    the server CA's SHA-256 fingerprint, for an https URL with drover's",
    "                         own CA (default $DROVER_CA_FINGERPRINT): the agent trusts that CA only",
    "  --state-dir DIR        where the identity is kept (default /var/lib/drover-agent)",
    "  --docker-socket PATH   dockerd socket (default /var/run/docker.sock)",
    "  --hostname NAME        name to register under (default: the machine's hostname)",
    "  --underlay-ip IP       address peers reach this host at (default: this machine's",
    "                         source address on its route to the server)",
    "",
    "--url and --token are needed only to register: an agent restarted with a saved identity",
    "that Redis still accepts reuses it. Logs are JSON lines on stdout.",
    "",
    "Environment: DROVER_DNS_LISTEN=off|IP[:PORT] where the DNS responder listens",
    "(default 169.254.169.250:53; off = no responder, for an agent sharing a namespace with another).",
    "DNS is served by a daemon the agent starts once and later agents adopt, so it keeps answering",
    "across agent restarts; DROVER_DNS_DAEMON=off serves it from the agent process instead.",
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        url: { type: "string" },
        token: { type: "string" },
        labels: { type: "string" },
        "launch-file": { type: "string" },
        "token-file": { type: "string" },
        "ca-fingerprint": { type: "string" },
        "state-dir": { type: "string", default: "/var/lib/drover-agent" },
        "docker-socket": { type: "string", default: "/var/run/docker.sock" },
        hostname: { type: "string", default: os.hostname() },
        "underlay-ip": { type: "string" },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    // Flags, then the launch and token files, then the environment.
    let launch: LaunchSettings = {};
    try {
      if (values["launch-file"]) launch = readLaunchFile(values["launch-file"]);
      if (values.token === undefined && values["token-file"]) values.token = readTokenFile(values["token-file"]);
    } catch (err) {
      throw new UsageError(errorMessage(err));
    }
    values.url ??= launch.url ?? process.env.DROVER_URL;
    values["ca-fingerprint"] ??= launch.caFingerprint ?? process.env.DROVER_CA_FINGERPRINT;
    const pin = values["ca-fingerprint"] ? normalizeFingerprint(values["ca-fingerprint"]) : undefined;
    if (values["ca-fingerprint"] && !pin) throw new UsageError(`--ca-fingerprint: ${JSON.stringify(values["ca-fingerprint"])} is not a SHA-256 fingerprint (sha256:<64 hex digits>)`);
    values.token ??= process.env.DROVER_TOKEN;
    let labels: Record<string, string>;
    try {
      if (values.labels !== undefined) labels = parseHostLabels(values.labels, "--labels");
      else if (launch.labels) labels = hostLabelsFrom(launch.labels, `${values["launch-file"]}: labels`);
      else labels = parseHostLabels(process.env.DROVER_HOST_LABELS ?? "", "DROVER_HOST_LABELS");
    } catch (err) {
      throw new UsageError(errorMessage(err));
    }
    if (values.url !== undefined && !/^https?:\/\/[^\s]+$/.test(values.url)) throw new UsageError(`--url: ${JSON.stringify(values.url)} is not an http(s) URL`);
    if (values["underlay-ip"] !== undefined && !isIp(values["underlay-ip"])) throw new UsageError(`--underlay-ip: ${JSON.stringify(values["underlay-ip"])} is not an IP address`);
    if (!values.hostname) throw new UsageError("--hostname: must not be empty");

    const { Agent } = require("./agent") as typeof import("./agent");
    // Secret values the agent opens are masked in every line it logs.
    const mask = new SecretMask();
    const log = createLogger(undefined, undefined, {}, mask);
    const agent = new Agent({
      mask,
      url: values.url || undefined,
      token: values.token || undefined,
      labels,
      stateDir: values["state-dir"]!,
      dockerSocket: values["docker-socket"]!,
      hostname: values.hostname,
      underlayIp: values["underlay-ip"],
      ...(pin ? { caFingerprint: pin } : {}),
      log,
    });
    let signalledAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      signalledAt ??= Date.now();
      log.info("signal received: stopping (containers keep running)", { signal });
      agent.stop();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    try {
      const code = await agent.run();
      if (signalledAt !== undefined) {
        log.info("agent stopped", { afterSignalMs: Date.now() - signalledAt });
        // Everything of ours is closed: a socket a library still holds open (ioredis waits for
        // the server's FIN) must not hold the process, or a restart takes seconds.
        setTimeout(() => process.exit(code), 50).unref();
      }
      return code;
    } catch (err) {
      log.error("agent failed", { reason: errorMessage(err), code: isDroverError(err) ? err.code : undefined });
      return 1;
    } finally {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    }
  },
};

function isIp(text: string): boolean {
  return require("net").isIP(text) !== 0;
}
