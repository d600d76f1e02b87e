import type { HostDesiredState } from "../runtime/protocol/model";
import { DroverError } from "../runtime/protocol/errors";
import { resealDesired } from "../runtime/protocol/desired-sealing";
import { type DataKey, isSealed, unseal } from "../runtime/protocol/seal";
import type { SecretMask } from "./secret-mask";

/**
 * Opens what the server sealed for this host (runtime/secrets): its desired document's
 * service secrets, certificate keys and the environment's PSK, with the secrets key it was
 * given at registration. Every value opened is added to the mask, so logs and reports never
 * show it. A value not sealed (a server without a keyring) passes as it is.
 */
export class HostSecrets {
  constructor(private readonly key: DataKey | undefined, private readonly mask: SecretMask) {}

  open(context: string, value: string): string {
    if (!isSealed(value)) return value;
    if (!this.key) throw new DroverError("Internal", `${context} is sealed, but this agent has no secrets key: remove the host and register it again`);
    const plain = unseal(this.key, context, value);
    this.mask.add(plain);
    return plain;
  }

  /**
   * The document with its certificate keys and PSK opened, for the parts that use them
   * (load balancers, the overlay). Instance secrets stay sealed: the container's spec hash
   * covers the sealed form, and they are opened only as the container is created.
   */
  openDesired(doc: HostDesiredState): HostDesiredState {
    return resealDesired(doc, (context, value) => this.open(context, value), { instances: false });
  }
}
