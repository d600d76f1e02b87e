/**
 * Secrets in records: service secrets (ServiceSpec.secrets, also in an upgrade's fromSpec
 * and in instance specs) and certificate private keys, sealed with the environment's key
 * in their contexts (runtime/secrets/contexts.ts). The API seals what it is given; the
 * store's write seals anything still in the clear, so no write path can store one in the
 * clear by mistake.
 */
import type { CertificateRecord, HostRecord, InstanceRecord, ServiceRecord, ServiceSpec } from "../protocol/model";
import type { WriteBatch } from "../store/store";
import { secretContext } from "../protocol/secret-contexts";
import { type DataKey, isSealed, seal } from "../protocol/seal";

/** `secrets` (clear or already sealed) sealed for service `serviceId`. */
export function sealServiceSecrets(envKey: DataKey, serviceId: string, secrets: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(secrets)) out[name] = isSealed(value) ? value : seal(envKey, secretContext.service(serviceId, name), value);
  return out;
}

export function sealCertificateKey(envKey: DataKey, certificateId: string, key: string): string {
  return isSealed(key) ? key : seal(envKey, secretContext.certificateKey(certificateId), key);
}

export function sealMachineKey(envKey: DataKey, hostId: string, key: string): string {
  return isSealed(key) ? key : seal(envKey, secretContext.machineKey(hostId), key);
}

function specHasClear(spec: { secrets?: Record<string, string> } | undefined): boolean {
  return !!spec?.secrets && Object.values(spec.secrets).some((v) => !isSealed(v));
}

function sealSpec<S extends { secrets?: Record<string, string> }>(envKey: DataKey, serviceId: string, spec: S): S {
  return specHasClear(spec) ? { ...spec, secrets: sealServiceSecrets(envKey, serviceId, spec.secrets!) } : spec;
}

/** Whether some record of the batch holds a secret in the clear (the store's write then stores it sealed, not as given). */
export function hasClearSecrets(batch: WriteBatch): boolean {
  return (batch.put ?? []).some(({ kind, record }) =>
    (kind === "service" && (specHasClear((record as ServiceRecord).spec) || specHasClear((record as ServiceRecord).upgrade?.fromSpec)))
    || (kind === "instance" && specHasClear((record as InstanceRecord).spec))
    || (kind === "certificate" && typeof (record as CertificateRecord).key === "string" && !isSealed((record as CertificateRecord).key))
    || (kind === "host" && typeof (record as HostRecord).machineAccess?.privateKey === "string" && !isSealed((record as HostRecord).machineAccess!.privateKey)));
}

/** The batch with every secret in its records sealed (records already sealed are returned as they are). */
export async function sealRecordSecrets(batch: WriteBatch, envKey: () => Promise<DataKey>): Promise<WriteBatch> {
  const puts = batch.put ?? [];
  if (!hasClearSecrets(batch)) return batch;
  const key = await envKey();
  return {
    ...batch,
    put: puts.map((p) => {
      if (p.kind === "service") {
        const r = p.record as ServiceRecord;
        const next: ServiceRecord = { ...r, spec: sealSpec<ServiceSpec>(key, r.id, r.spec) };
        if (r.upgrade) next.upgrade = { ...r.upgrade, fromSpec: sealSpec<ServiceSpec>(key, r.id, r.upgrade.fromSpec) };
        return { ...p, record: next };
      }
      if (p.kind === "instance") {
        const r = p.record as InstanceRecord;
        return { ...p, record: { ...r, spec: sealSpec(key, r.serviceId, r.spec) } };
      }
      if (p.kind === "host" && (p.record as HostRecord).machineAccess) {
        const r = p.record as HostRecord;
        return { ...p, record: { ...r, machineAccess: { ...r.machineAccess!, privateKey: sealMachineKey(key, r.id, r.machineAccess!.privateKey) } } };
      }
      if (p.kind === "certificate") {
        const r = p.record as CertificateRecord;
        return { ...p, record: { ...r, key: sealCertificateKey(key, r.id, r.key) } };
      }
      return p;
    }),
  };
}
