/**
 * strongSwan's vici wire format (src/libcharon/plugins/vici/README.md), pure. A packet on
 * the socket is a 32-bit big-endian length, a type byte, for named types a 1-byte name
 * length and the name, then a message. A message is a flat run of elements that open and
 * close sections and lists; here it maps to a plain object: a section is an object, a list
 * an array of strings, a key a string.
 */
export type ViciValue = string | string[] | ViciMessage;
export interface ViciMessage {
  [key: string]: ViciValue;
}

export const PacketType = {
  cmdRequest: 0,
  cmdResponse: 1,
  cmdUnknown: 2,
  eventRegister: 3,
  eventUnregister: 4,
  eventConfirm: 5,
  eventUnknown: 6,
  event: 7,
} as const;

const El = { sectionStart: 1, sectionEnd: 2, keyValue: 3, listStart: 4, listItem: 5, listEnd: 6 } as const;

/** Packet types that carry a name after the type byte. */
const named = new Set<number>([PacketType.cmdRequest, PacketType.eventRegister, PacketType.eventUnregister, PacketType.event]);

export interface ViciPacket {
  type: number;
  name?: string;
  message: ViciMessage;
}

function nameBytes(name: string): Buffer {
  const b = Buffer.from(name, "utf8");
  if (b.length > 255) throw new Error(`vici name too long (${b.length} bytes): ${name.slice(0, 40)}`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

function valueBytes(value: string): Buffer {
  const b = Buffer.from(value, "utf8");
  if (b.length > 0xffff) throw new Error(`vici value too long (${b.length} bytes)`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

export function encodeMessage(message: ViciMessage): Buffer {
  const parts: Buffer[] = [];
  const walk = (m: ViciMessage) => {
    for (const [key, value] of Object.entries(m)) {
      if (value === undefined) continue;
      if (typeof value === "string") {
        parts.push(Buffer.from([El.keyValue]), nameBytes(key), valueBytes(value));
      } else if (Array.isArray(value)) {
        parts.push(Buffer.from([El.listStart]), nameBytes(key));
        for (const item of value) parts.push(Buffer.from([El.listItem]), valueBytes(item));
        parts.push(Buffer.from([El.listEnd]));
      } else {
        parts.push(Buffer.from([El.sectionStart]), nameBytes(key));
        walk(value);
        parts.push(Buffer.from([El.sectionEnd]));
      }
    }
  };
  walk(message);
  return Buffer.concat(parts);
}

/** One framed packet, length prefix included. */
export function encodePacket(p: ViciPacket): Buffer {
  const head = named.has(p.type) ? Buffer.concat([Buffer.from([p.type]), nameBytes(p.name ?? "")]) : Buffer.from([p.type]);
  const body = Buffer.concat([head, encodeMessage(p.message)]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export function decodeMessage(buf: Buffer, start = 0): ViciMessage {
  const root: ViciMessage = {};
  const stack: ViciMessage[] = [root];
  let list: string[] | undefined;
  let i = start;
  const need = (n: number) => {
    if (i + n > buf.length) throw new Error(`vici message truncated at byte ${i}`);
  };
  const readName = () => {
    need(1);
    const n = buf[i++];
    need(n);
    const s = buf.toString("utf8", i, i + n);
    i += n;
    return s;
  };
  const readValue = () => {
    need(2);
    const n = buf.readUInt16BE(i);
    i += 2;
    need(n);
    const s = buf.toString("utf8", i, i + n);
    i += n;
    return s;
  };
  while (i < buf.length) {
    const el = buf[i++];
    const top = stack[stack.length - 1];
    switch (el) {
      case El.sectionStart: {
        const section: ViciMessage = {};
        top[readName()] = section;
        stack.push(section);
        break;
      }
      case El.sectionEnd:
        if (stack.length === 1) throw new Error("vici message closes a section it never opened");
        stack.pop();
        break;
      case El.keyValue: {
        const key = readName();
        top[key] = readValue();
        break;
      }
      case El.listStart:
        list = [];
        top[readName()] = list;
        break;
      case El.listItem:
        if (!list) throw new Error("vici list item outside a list");
        list.push(readValue());
        break;
      case El.listEnd:
        list = undefined;
        break;
      default:
        throw new Error(`unknown vici element type ${el} at byte ${i - 1}`);
    }
  }
  return root;
}

/** Decodes one packet body (without the 4-byte length). */
export function decodePacket(body: Buffer): ViciPacket {
  if (body.length < 1) throw new Error("empty vici packet");
  const type = body[0];
  let i = 1;
  let name: string | undefined;
  if (named.has(type)) {
    const n = body[1];
    name = body.toString("utf8", 2, 2 + n);
    i = 2 + n;
  }
  return { type, name, message: decodeMessage(body, i) };
}

/** Splits a byte stream into packet bodies; keeps the unfinished tail for the next chunk. */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.pending.length >= 4) {
      const len = this.pending.readUInt32BE(0);
      if (this.pending.length < 4 + len) break;
      out.push(this.pending.subarray(4, 4 + len));
      this.pending = this.pending.subarray(4 + len);
    }
    return out;
  }
}
