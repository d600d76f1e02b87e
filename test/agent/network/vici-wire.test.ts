import t from "tap";
import { decodeMessage, decodePacket, encodeMessage, encodePacket, PacketReader, PacketType } from "../../../agent/network/vici/wire";

// The vici wire format, pure: byte layout, round trips, framing across chunk boundaries.

t.test("a message encodes to the documented element layout", async (t) => {
  const bytes = encodeMessage({ a: "b", l: ["x"], s: { k: "v" } });
  t.same([...bytes], [
    3, 1, 0x61, 0, 1, 0x62, // key-value a=b
    4, 1, 0x6c, 5, 0, 1, 0x78, 6, // list l = [x]
    1, 1, 0x73, 3, 1, 0x6b, 0, 1, 0x76, 2, // section s { k=v }
  ]);
});

t.test("messages round-trip, nested sections and lists included", async (t) => {
  const msg = { conn: { version: "2", local_addrs: ["198.18.0.11"], children: { c: { local_ts: ["10.42.1.0/24", "10.42.9.0/24"], mode: "tunnel" } } }, empty: {} };
  t.same(decodeMessage(encodeMessage(msg)), msg);
});

t.test("a named packet carries its name; a response does not", async (t) => {
  const req = encodePacket({ type: PacketType.cmdRequest, name: "list-sas", message: { noblock: "yes" } });
  t.equal(req.readUInt32BE(0), req.length - 4, "length prefix counts the rest");
  t.same(decodePacket(req.subarray(4)), { type: PacketType.cmdRequest, name: "list-sas", message: { noblock: "yes" } });
  const resp = encodePacket({ type: PacketType.cmdResponse, message: { success: "yes" } });
  t.same(decodePacket(resp.subarray(4)), { type: PacketType.cmdResponse, name: undefined, message: { success: "yes" } });
});

t.test("the reader reassembles packets split across chunks and splits coalesced ones", async (t) => {
  const a = encodePacket({ type: PacketType.event, name: "ike-updown", message: { up: "yes" } });
  const b = encodePacket({ type: PacketType.cmdResponse, message: {} });
  const all = Buffer.concat([a, b]);
  const reader = new PacketReader();
  const got = [...reader.push(all.subarray(0, 3)), ...reader.push(all.subarray(3, a.length + 2)), ...reader.push(all.subarray(a.length + 2))];
  t.equal(got.length, 2);
  t.same(decodePacket(got[0]).message, { up: "yes" });
  t.equal(decodePacket(got[1]).type, PacketType.cmdResponse);
});

t.test("malformed input is rejected with a reason", async (t) => {
  t.throws(() => decodeMessage(Buffer.from([3, 5, 0x61])), /truncated/);
  t.throws(() => decodeMessage(Buffer.from([9])), /unknown vici element type 9/);
  t.throws(() => decodeMessage(Buffer.from([2])), /never opened/);
  t.throws(() => decodeMessage(Buffer.from([5, 0, 0])), /outside a list/);
  t.throws(() => encodeMessage({ ["k".repeat(300)]: "v" }), /name too long/);
});
