import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import t from "tap";
import { ViciClient } from "../../../agent/network/vici/client";
import { decodePacket, encodePacket, PacketReader, PacketType, ViciPacket } from "../../../agent/network/vici/wire";

// The vici client against a scripted fake charon on a unix socket: request/response order,
// streamed commands (events before the response), pushed events, refusals, and close.

function fakeCharon(t: { teardown(fn: () => unknown): void }, handle: (p: ViciPacket, send: (p: ViciPacket) => void, sock: net.Socket) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vici-"));
  const file = path.join(dir, "charon.vici");
  const server = net.createServer((sock) => {
    const reader = new PacketReader();
    sock.on("data", (d) => { for (const body of reader.push(d)) handle(decodePacket(body), (p) => sock.write(encodePacket(p)), sock); });
    sock.on("error", () => undefined);
  });
  server.listen(file);
  t.teardown(() => { server.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  return file;
}

t.test("commands, streamed commands and pushed events", async (t) => {
  const seen: string[] = [];
  const file = fakeCharon(t, (p, send) => {
    seen.push(`${p.type}:${p.name}`);
    if (p.type === PacketType.eventRegister || p.type === PacketType.eventUnregister) return send({ type: PacketType.eventConfirm, message: {} });
    if (p.name === "version") return send({ type: PacketType.cmdResponse, message: { daemon: "charon" } });
    if (p.name === "list-sas") {
      send({ type: PacketType.event, name: "ike-updown", message: { up: "yes" } }); // unrelated event in between
      send({ type: PacketType.event, name: "list-sa", message: { "peer-a": { state: "ESTABLISHED" } } });
      send({ type: PacketType.event, name: "list-sa", message: { "peer-b": { state: "CONNECTING" } } });
      return send({ type: PacketType.cmdResponse, message: {} });
    }
    if (p.name === "load-conn") return send({ type: PacketType.cmdResponse, message: { success: "no", errmsg: "bad conn" } });
    send({ type: PacketType.cmdUnknown, message: {} });
  });
  const client = await ViciClient.connect(file);
  const events: string[] = [];
  client.on("event", (name: string) => events.push(name));
  const [version, sas] = await Promise.all([client.request("version"), client.stream("list-sas", "list-sa", { noblock: "yes" })]);
  t.same(version, { daemon: "charon" });
  t.same(sas, [{ "peer-a": { state: "ESTABLISHED" } }, { "peer-b": { state: "CONNECTING" } }], "the streamed events, in order");
  t.same(events, ["ike-updown"], "other events go to listeners");
  t.same(seen, ["0:version", "3:list-sa", "0:list-sas", "4:list-sa"], "one command at a time, registration around the stream");
  await t.rejects(client.request("load-conn", { x: {} }), /vici load-conn: bad conn/);
  await t.rejects(client.request("nope"), /does not know command nope/);
  const closed = new Promise((r) => client.once("close", r));
  client.close();
  await closed;
  await t.rejects(client.request("version"), /closed/);
});

t.test("a connection the daemon drops fails the pending command and emits close", async (t) => {
  const file = fakeCharon(t, (_p, _send, sock) => sock.destroy());
  const client = await ViciClient.connect(file);
  const closed = new Promise((r) => client.once("close", r));
  await t.rejects(client.request("version"), /closed/);
  await closed;
  t.ok(client.isClosed);
});

t.test("no daemon: connect fails", async (t) => {
  await t.rejects(ViciClient.connect(path.join(os.tmpdir(), "no-such-vici-socket")), /ENOENT/);
});
