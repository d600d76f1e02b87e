/**
 * A DNS client that runs inside a container's network namespace (`nsenter --net=/proc/<pid>/ns/net
 * node dns-probe.js`), so its queries come from the container's address. One JSON
 * request per stdin line ({"seq", "name", "type"?, "tcp"?}), one JSON answer per stdout line
 * ({"seq", "rcode", "ips", "tc"} or {"seq", "error"}). Long-lived, so a test can ask many
 * times without paying a process start per query.
 */
import * as dgram from "dgram";
import * as dnsPacket from "dns-packet";
import * as net from "net";
import * as readline from "readline";

const DNS_IP = "169.254.169.250";

interface Request { seq: number; name: string; type?: dnsPacket.RecordType; tcp?: boolean }

function decode(seq: number, raw: Buffer) {
  const p = dnsPacket.decode(raw) as dnsPacket.DecodedPacket & { rcode?: string };
  const ips = (p.answers ?? []).filter((a) => a.type === "A").map((a) => String((a as dnsPacket.StringAnswer).data)).sort();
  return { seq, rcode: p.rcode, ips, tc: !!p.flag_tc };
}

function overUdp(query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const timer = setTimeout(() => { sock.close(); reject(new Error("no UDP answer within 2 s")); }, 2000);
    sock.on("message", (msg) => { clearTimeout(timer); sock.close(); resolve(msg); });
    sock.on("error", (err) => { clearTimeout(timer); sock.close(); reject(err); });
    sock.send(query, 53, DNS_IP);
  });
}

function overTcp(query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: DNS_IP, port: 53 });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); reject(new Error("no TCP answer within 2 s")); }, 2000);
    s.on("connect", () => {
      const framed = Buffer.alloc(2 + query.length);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      s.write(framed);
    });
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        s.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    s.on("error", (err) => { clearTimeout(timer); reject(err); });
  });
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let req: Request;
  try {
    req = JSON.parse(line) as Request;
  } catch {
    return;
  }
  const query = dnsPacket.encode({
    type: "query", id: Math.floor(Math.random() * 65536), flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: req.name, type: req.type ?? "A", class: "IN" }],
  });
  (req.tcp ? overTcp(query) : overUdp(query))
    .then((raw) => process.stdout.write(JSON.stringify(decode(req.seq, raw)) + "\n"))
    .catch((err) => process.stdout.write(JSON.stringify({ seq: req.seq, error: String(err?.message ?? err) }) + "\n"));
});
