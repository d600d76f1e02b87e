/**
 * PEM framing for certificate bodies: which blocks a text holds, by node-forge's PEM
 * decoder (it also reads the legacy `Proc-Type: 4,ENCRYPTED` header of encrypted keys).
 * Text around the blocks (openssl's "Bag Attributes", comments) is ignored. Messages never
 * quote the text: it may be a private key.
 */
import * as forge from "node-forge";

export interface PemBlock {
  /** The label: "CERTIFICATE", "PRIVATE KEY", "EC PRIVATE KEY", ... */
  type: string;
  /** The block's DER bytes. */
  der: Buffer;
  /** True for a legacy encrypted key (Proc-Type: 4,ENCRYPTED). */
  encrypted: boolean;
  /** The block alone, re-encoded (LF line ends, 64 columns). */
  pem: string;
}

/** The PEM blocks in `text`; [] when it holds none (plain garbage, DER, an empty string). */
export function pemBlocks(text: string): PemBlock[] {
  let messages: forge.pem.ObjectPEM[];
  try {
    messages = forge.pem.decode(text);
  } catch {
    return [];
  }
  return messages.map((m) => {
    const encrypted = m.procType?.type === "ENCRYPTED";
    const pem = forge.pem.encode(encrypted ? m : { type: m.type, body: m.body }, { maxline: 64 }).replace(/\r\n/g, "\n");
    return { type: m.type, der: Buffer.from(m.body, "binary"), encrypted, pem };
  });
}

/** `a "PRIVATE KEY" block`, `2 blocks ("CERTIFICATE", "PRIVATE KEY")`: for messages. */
export function describeBlocks(blocks: PemBlock[]): string {
  if (blocks.length === 0) return "no PEM block";
  if (blocks.length === 1) return `a PEM "${blocks[0].type}" block`;
  return `${blocks.length} PEM blocks (${blocks.map((b) => `"${b.type}"`).join(", ")})`;
}
