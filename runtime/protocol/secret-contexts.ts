/**
 * The context each kind of secret is sealed in (runtime/secrets/seal.ts): the same string on
 * the server (environment key) and on the agent (its host key), so a value can only be
 * opened as what it is.
 */
export const secretContext = {
  /** A service's secret `name`; instances carry their service's sealed value as it is. */
  service: (serviceId: string, name: string) => `service:${serviceId}:secret:${name}`,
  /** A certificate's private key. */
  certificateKey: (certificateId: string) => `certificate:${certificateId}:key`,
  /** The environment's IPsec pre-shared key with this id. */
  psk: (pskId: string) => `psk:${pskId}`,
  /** The environment's data key, wrapped by the servers' master key. */
  envKey: (envId: string) => `environment:${envId}:data-key`,
  /** The private SSH key of a machine drover made for the host (its config archive's id_rsa). */
  machineKey: (hostId: string) => `host:${hostId}:machine-key`,
  /** A host's secrets key, wrapped by its environment's key. */
  hostKey: (hostId: string) => `host:${hostId}:secrets-key`,
};
