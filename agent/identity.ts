import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { RegisterResponse } from "../runtime/protocol/agent-protocol";

/**
 * What the agent keeps in its state dir (default /var/lib/drover-agent):
 *   machine-id     random id made once; re-registering with it returns the same host
 *   host-key.pem   the host's RSA private key (mode 0600), made once: it signs every
 *                  registration (runtime/protocol/host-identity.ts) and never leaves the machine
 *   identity.json  the RegisterResponse (Redis credentials inside: mode 0600)
 *   nudge-cursor   last nudge stream id handled, so a restart neither replays nor misses nudges
 */
export interface SavedIdentity {
  registeredAt: string;
  /** The registration URL this identity came from. */
  url: string;
  response: RegisterResponse;
  /** The server CA (PEM) pinned when registering over https: it also verifies Redis's certificate. */
  serverCa?: string;
}

const files = { machineId: "machine-id", hostKey: "host-key.pem", identity: "identity.json", cursor: "nudge-cursor" };

/** The host's key pair: the private key stays in the state dir; the public one is its identity. */
export interface HostKeyPair {
  privateKey: KeyObject;
  /** PEM (SPKI), as RegisterRequest.identityKey carries it. */
  publicKeyPem: string;
  /** PEM (PKCS#8) of the private key, for TLS client authentication. */
  privateKeyPem: string;
}

export class StateDir {
  constructor(readonly dir: string) {}

  ensure(): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The machine id, created on first use. */
  machineId(): string {
    const file = path.join(this.dir, files.machineId);
    try {
      const id = fs.readFileSync(file, "utf8").trim();
      if (/^[0-9a-f]{32}$/.test(id)) return id;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const id = randomBytes(16).toString("hex");
    writeAtomic(file, id + "\n", 0o644);
    return id;
  }

  /** Removes the key pair (the server revoked it: its host was removed); the next hostKey() makes a new one. */
  discardHostKey(): void {
    fs.rmSync(path.join(this.dir, files.hostKey), { force: true });
  }

  /** The host's key pair, created on first use (RSA 2048; see HostKeyPair). */
  hostKey(): HostKeyPair {
    const file = path.join(this.dir, files.hostKey);
    let pem = readIfExists(file);
    if (pem === undefined) {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      writeAtomic(file, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), 0o600);
      pem = readIfExists(file)!;
    }
    const privateKey = createPrivateKey(pem);
    return {
      privateKey,
      privateKeyPem: pem,
      publicKeyPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(),
    };
  }

  loadIdentity(): SavedIdentity | undefined {
    const text = readIfExists(path.join(this.dir, files.identity));
    if (text === undefined) return undefined;
    try {
      const saved = JSON.parse(text) as SavedIdentity;
      const r = saved?.response;
      if (!r || typeof r.hostId !== "string" || typeof r.envId !== "string" || typeof r.redis?.password !== "string") return undefined;
      return saved;
    } catch {
      return undefined;
    }
  }

  saveIdentity(identity: SavedIdentity): void {
    writeAtomic(path.join(this.dir, files.identity), JSON.stringify(identity, null, 2) + "\n", 0o600);
  }

  /** Forgets the identity and its nudge cursor (teardown, or credentials Redis refused). */
  deleteIdentity(): void {
    fs.rmSync(path.join(this.dir, files.identity), { force: true });
    fs.rmSync(path.join(this.dir, files.cursor), { force: true });
  }

  /** The last handled nudge id for this host, or undefined for a fresh identity. */
  loadCursor(hostId: string): string | undefined {
    const text = readIfExists(path.join(this.dir, files.cursor));
    if (text === undefined) return undefined;
    try {
      const saved = JSON.parse(text) as { hostId?: string; id?: string };
      return saved.hostId === hostId && typeof saved.id === "string" ? saved.id : undefined;
    } catch {
      return undefined;
    }
  }

  saveCursor(hostId: string, id: string): void {
    writeAtomic(path.join(this.dir, files.cursor), JSON.stringify({ hostId, id }) + "\n", 0o600);
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Write-then-rename so a crash never leaves a half-written file; the mode is set before any byte lands. */
function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}
