/**
 * Run as a script inside a fresh network namespace (`unshare -n node netns-scenario.js`) by
 * listen-address.test.ts: the HostDns start/stop cycle on the real address 169.254.169.250:53,
 * with the address missing and with it already present. Prints one JSON object of findings.
 */
import { execFileSync } from "child_process";
import * as dgram from "dgram";
import * as dnsPacket from "dns-packet";
import { HostDns } from "../../../../agent/dns/host-dns";
import { ensureLocalAddress, hasLocalAddress, removeLocalAddress } from "../../../../agent/dns/listen-address";
import { createLogger } from "../../../../agent/log";
import { DNS_IP } from "../../../../runtime/protocol/model";
import { sampleDirectory } from "./directory";

function askA(name: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const timer = setTimeout(() => { sock.close(); reject(new Error("no answer")); }, 3000);
    sock.on("message", (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve((dnsPacket.decode(msg).answers ?? []).map((a) => String((a as dnsPacket.StringAnswer).data)));
    });
    sock.send(dnsPacket.encode({ type: "query", id: 1, questions: [{ name, type: "A" }] }), 53, DNS_IP);
  });
}

async function cycle(): Promise<{ servedApi: string[]; hadAddressWhileRunning: boolean }> {
  const directory = sampleDirectory();
  // The asker here is the namespace itself: its queries to DNS_IP come from DNS_IP.
  directory.instances.push({ id: "me", ip: DNS_IP, serviceId: "sv-fe", running: true });
  const source = { get: async () => JSON.stringify({ version: 1, directory }) };
  const dns = new HostDns({ source, key: "k", address: DNS_IP, port: 53, ensureAddress: true, upstreams: [], log: createLogger(() => undefined) });
  dns.start();
  await dns.ready();
  await dns.settled();
  const servedApi = await askA("api");
  const hadAddressWhileRunning = hasLocalAddress(DNS_IP);
  await dns.stop();
  return { servedApi, hadAddressWhileRunning };
}

async function main(): Promise<void> {
  execFileSync("ip", ["link", "set", "lo", "up"]);
  const out: Record<string, unknown> = { before: hasLocalAddress(DNS_IP) };
  const missing = await cycle();
  out.missing = { ...missing, afterStop: hasLocalAddress(DNS_IP) };
  execFileSync("ip", ["addr", "add", `${DNS_IP}/32`, "dev", "lo"]);
  const present = await cycle();
  out.present = { ...present, afterStop: hasLocalAddress(DNS_IP) };
  await removeLocalAddress(DNS_IP);
  out.ensureTwice = [await ensureLocalAddress(DNS_IP), await ensureLocalAddress(DNS_IP)];
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err?.stack ?? err) }) + "\n");
  process.exitCode = 1;
});
