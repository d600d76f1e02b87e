/**
 * A client that resolves a service by name and fetches it over and over from inside a
 * container, counting failed requests, as test/integration/upgrade.test.ts does: busybox's
 * nslookup asks the container's DNS server (drover's at 169.254.169.250, Docker's embedded
 * one at 127.0.0.11 on a Swarm overlay network) and nc speaks HTTP to the first address, since
 * busybox-static's wget crashes in glibc's static resolver. One line per request in a log
 * inside the container: `ok <body> <ip>` or `fail <ip> <first line of the answer>`.
 *
 * Each run has its own log and run-flag files, so a loop of an earlier round that is still
 * finishing its last request never mixes into the next round's count.
 */
import type Docker from "dockerode";
import { waitFor } from "../../test/support/wait";
import { execDetached, execOk } from "./docker-exec";

/** The shell loop: runs while `runFile` exists, appends to `logFile`. */
export function clientLoopScript(name: string, port: number, runFile: string, logFile: string): string {
  return [
    `touch ${runFile}; while [ -f ${runFile} ]; do`,
    `ip=$(nslookup ${name} 2>/dev/null | awk '/^Name:/{n=1} n && /^Address/{print $2; exit}');`,
    `r=$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 "$ip" ${port} 2>&1);`,
    `case "$r" in HTTP/1.?\\ 200*) echo "ok $(echo "$r" | tail -1) $ip";; *) echo "fail $ip $(echo "$r" | head -1)";; esac;`,
    `done >> ${logFile} 2>&1`,
  ].join(" ");
}

export class ClientLoop {
  private runs = 0;
  private logFile = "";
  private runFile = "";

  constructor(private readonly docker: Docker, private readonly containerId: string, private readonly name: string, private readonly port = 80) {}

  /** Starts a fresh loop and waits until it has fetched once. */
  async start(): Promise<void> {
    this.runs++;
    this.logFile = `/tmp/client-${this.runs}.log`;
    this.runFile = `/tmp/client-${this.runs}.run`;
    await execDetached(this.docker, this.containerId, ["sh", "-c", clientLoopScript(this.name, this.port, this.runFile, this.logFile)]);
    await waitFor(async () => (await this.lines()).some((l) => l.startsWith("ok ")), { what: `the client loop fetching ${this.name}`, timeoutMs: 60_000 })
      .catch(async (err) => { throw new Error(`${(err as Error).message}; log: ${(await this.lines().catch(() => [])).slice(-3).join(" | ")}`); });
  }

  /** The current run's log lines so far. */
  async lines(): Promise<string[]> {
    const out = await execOk(this.docker, this.containerId, ["sh", "-c", `cat ${this.logFile} 2>/dev/null || true`]);
    return out.split("\n").filter(Boolean);
  }

  /** Ends the current run (the loop stops after its request in flight). */
  async stop(): Promise<void> {
    await execOk(this.docker, this.containerId, ["rm", "-f", this.runFile]);
  }
}

/** Requests and failures among `lines` (a slice of a ClientLoop's log), with the first few failures quoted. */
export function countRequests(lines: string[]): { requests: number; failed: number; firstFailures: string[] } {
  const failures = lines.filter((l) => !l.startsWith("ok "));
  return { requests: lines.length, failed: failures.length, firstFailures: failures.slice(0, 3) };
}
