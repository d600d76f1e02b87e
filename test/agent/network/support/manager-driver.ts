/**
 * Runs the agent's NetworkManager inside a lab host so a test can drive it without a server:
 * JSON lines on stdin ({"apply": spec}, {"sas": true}, {"teardown": true}, {"stop": true}),
 * JSON lines on stdout ({"status": ...} on every change, {"done": <command>, ...} after each).
 *   node manager-driver.js <stateDir> [dockerSocket]
 */
import Docker from "dockerode";
import * as readline from "readline";
import { createLogger } from "../../../../agent/log";
import { NetworkManager } from "../../../../agent/network/manager";
import { ViciClient } from "../../../../agent/network/vici/client";

const [stateDir, socketPath = "/var/run/docker.sock"] = process.argv.slice(2);
const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");
const log = createLogger((line) => process.stderr.write(line + "\n"), "debug");
const manager = new NetworkManager(new Docker({ socketPath }), stateDir, log);
manager.on("change", (status) => out({ status }));

let chain: Promise<unknown> = Promise.resolve();
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  chain = chain.then(() => handle(JSON.parse(line))).catch((err) => out({ error: String(err?.stack ?? err) }));
});

async function handle(cmd: { apply?: any; sas?: boolean; teardown?: boolean; stop?: boolean }): Promise<void> {
  if (cmd.apply) {
    await manager.apply(cmd.apply);
    out({ done: "apply", status: manager.status() });
  } else if (cmd.sas) {
    const client = await ViciClient.connect(manager.ipsec.charon.paths.socket);
    try {
      out({ done: "sas", sas: await client.stream("list-sas", "list-sa", { noblock: "yes" }), pid: manager.ipsec.charon.runningPid() });
    } finally {
      client.close();
    }
  } else if (cmd.teardown) {
    await manager.teardown();
    out({ done: "teardown" });
    process.exit(0);
  } else if (cmd.stop) {
    await manager.stop();
    out({ done: "stop" });
    process.exit(0);
  }
}
