/**
 * A fresh SSH key pair per host (node-forge, RSA 3072 in OpenSSH formats): the droplet is
 * created with its public half, so only this host's key opens it; deleting the host removes
 * the key from the account.
 */
export interface SshKeyPair {
  privateKey: string;
  publicKey: string;
  /** MD5, colon-separated: what DigitalOcean answers as the key's `fingerprint`. */
  md5Fingerprint: string;
}

export async function makeKeyPair(comment: string): Promise<SshKeyPair> {
  const forge = require("node-forge") as typeof import("node-forge");
  // Async form: forge hands the work to node's crypto where it exists, never blocking the provider.
  const keys = await new Promise<import("node-forge").pki.rsa.KeyPair>((resolve, reject) =>
    forge.pki.rsa.generateKeyPair({ bits: 3072, workers: -1 }, (err, pair) => (err ? reject(err) : resolve(pair))));
  return {
    privateKey: forge.ssh.privateKeyToOpenSSH(keys.privateKey),
    publicKey: forge.ssh.publicKeyToOpenSSH(keys.publicKey, comment).trim(),
    md5Fingerprint: forge.ssh.getPublicKeyFingerprint(keys.publicKey, { encoding: "hex", delimiter: ":" }) as string,
  };
}
