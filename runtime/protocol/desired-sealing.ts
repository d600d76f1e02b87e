/**
 * The secrets a host's desired document carries: its instances' service secrets, its load
 * balancers' certificate keys and the environment's pre-shared key. In the records they are
 * sealed with the environment's key; in the stored desired document, with the host's own
 * secrets key (only that host's agent holds it). `resealDesired` turns one form into the
 * other, value by value, in the same context (runtime/secrets/contexts.ts). Pure.
 */
import type { HostDesiredState } from "./model";
import { secretContext } from "./secret-contexts";

/** Maps one secret of a desired document; `context` says what it is. */
export type SecretMapper = (context: string, value: string) => string;

/**
 * A copy of `doc` with every secret passed through `map` (the rest shared, not copied);
 * with `instances: false`, the instances' secrets are left as they are.
 */
export function resealDesired<T extends Pick<HostDesiredState, "instances" | "network" | "loadBalancers">>(doc: T, map: SecretMapper, opts: { instances?: boolean } = {}): T {
  const out: T = { ...doc };
  if (opts.instances !== false) out.instances = doc.instances.map((i) => {
    const secrets = i.spec.secrets;
    if (!secrets || Object.keys(secrets).length === 0) return i;
    const mapped: Record<string, string> = {};
    for (const [name, value] of Object.entries(secrets)) mapped[name] = map(secretContext.service(i.serviceId, name), value);
    return { ...i, spec: { ...i.spec, secrets: mapped } };
  });
  if (doc.network) {
    const { ipsec } = doc.network;
    out.network = { ...doc.network, ipsec: { ...ipsec, psk: map(secretContext.psk(ipsec.pskId), ipsec.psk) } };
  }
  if (doc.loadBalancers) {
    out.loadBalancers = doc.loadBalancers.map((lb) => ({
      ...lb,
      certificates: Object.fromEntries(Object.entries(lb.certificates).map(([id, m]) => [id, { ...m, key: map(secretContext.certificateKey(id), m.key) }])),
    }));
  }
  return out;
}

/** Whether the document carries any secret at all (most do: the PSK). */
export function hasSecrets(doc: Pick<HostDesiredState, "instances" | "network" | "loadBalancers">): boolean {
  return !!doc.network || (doc.loadBalancers ?? []).some((lb) => Object.keys(lb.certificates).length > 0)
    || doc.instances.some((i) => Object.keys(i.spec.secrets ?? {}).length > 0);
}
