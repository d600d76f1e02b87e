/**
 * /v1/environments/:envId/certificates: TLS certificates load balancers offer on https rules.
 * POST validates the PEM texts (runtime/protocol/validate/certificate.ts) and stores them with
 * what was read from the certificate; PUT rotates (new cert, key and chain under the same id,
 * so load balancers that list it pick up the new one); DELETE removes the record at once
 * (nothing runs for a certificate itself), refused while a load balancer lists it.
 * The private key is stored for agents and shown by no answer (present/certificate.ts).
 */
import { DroverError } from "../../protocol/errors";
import type { CertificateRecord, LoadBalancerRecord, StackRecord } from "../../protocol/model";
import { validateCertificateCreate, validateCertificateUpdate } from "../../protocol/validate/certificate";
import { visibleEnv } from "../auth";
import { readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import type { FilterSpec } from "../filters";
import { presentCertificate } from "../present/certificate";
import type { Reply } from "../respond";
import { createInEnv, updateInEnv, writeRefs } from "../write";
import { sealCertificateKey } from "../../secrets/record-sealing";
import { commonFields, listReply } from "./list";
import { findIn, visibleRecord } from "./records";

const filterSpec: FilterSpec<CertificateRecord> = {
  fields: {
    ...commonFields<CertificateRecord>(),
    description: (c) => c.description,
    commonName: (c) => c.commonName,
    issuer: (c) => c.issuer,
    fingerprint: (c) => c.fingerprint,
    notBefore: (c) => c.notBefore,
    notAfter: (c) => c.notAfter,
  },
};

export async function listCertificates(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  return listReply(ctx, {
    resourceType: "certificate",
    records: await ctx.api.store.list(env.id, "certificate"),
    spec: filterSpec,
    present: (c) => presentCertificate(c, ctx.urls),
    createTypes: { certificate: ctx.urls.env(env.id, "certificates") },
  });
}

export async function getCertificate(ctx: AuthedContext): Promise<Reply> {
  return { status: 200, body: presentCertificate(await visibleRecord(ctx, "certificate"), ctx.urls) };
}

export async function createCertificate(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const body = await readJsonBody(ctx.req);
  const id = ctx.api.newId("certificate");
  const envKey = await ctx.api.keyring.envKey(env.id);
  const cert = await createInEnv(ctx.api, env.id, (snap) => {
    const input = validateCertificateCreate(body, snap.certificates ?? [], new Date(ctx.api.now()));
    const record: CertificateRecord = { id, envId: env.id, ...input, key: sealCertificateKey(envKey, id, input.key), state: "active", createdAt: ctx.api.now(), rev: snap.rev };
    return { batch: { put: [{ kind: "certificate", record }] }, result: record };
  });
  return { status: 201, body: presentCertificate(cert, ctx.urls) };
}

/** PUT: rotation. cert and key are required; a chain or description left out is removed. */
export async function replaceCertificate(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const body = await readJsonBody(ctx.req);
  const envKey = await ctx.api.keyring.envKey(env.id);
  const cert = await updateInEnv(ctx.api, env.id, (snap) => {
    const current = findIn(snap.certificates ?? [], "certificate", ctx.params.id);
    const input = validateCertificateUpdate(body, current, new Date(ctx.api.now()));
    const { description: _d, chain: _c, ...kept } = current;
    // Sealed the same way as the stored key (deterministic): an unchanged key compares equal.
    const record: CertificateRecord = { ...kept, ...input, key: sealCertificateKey(envKey, current.id, input.key) };
    if (sameMaterial(record, current)) return { result: current };
    return { batch: { put: [{ kind: "certificate", record }] }, result: record };
  });
  return { status: 200, body: presentCertificate(cert, ctx.urls) };
}

/** Removes the record and answers 200 with it in state `removed`; 409 while a load balancer lists it. */
export async function deleteCertificate(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  // Strict: a load balancer created meanwhile that lists the certificate keeps it.
  const cert = await writeRefs(ctx.api, env.id, (snap) => {
    const current = findIn(snap.certificates ?? [], "certificate", ctx.params.id);
    const users = loadBalancersUsing(snap.loadBalancers ?? [], current.id);
    if (users.length > 0) throw inUse(current, users, snap.stacks);
    const removed: CertificateRecord = { ...current, state: "removed" };
    return { batch: { remove: [{ kind: "certificate" as const, id: current.id }] }, result: removed };
  });
  return { status: 200, body: presentCertificate(cert, ctx.urls) };
}

/**
 * Load balancers that list the certificate. One being removed counts too: its HAProxy may
 * still serve the certificate until its instances are stopped.
 */
export function loadBalancersUsing(loadBalancers: LoadBalancerRecord[], certId: string): LoadBalancerRecord[] {
  return loadBalancers.filter((lb) => lb.state !== "removed" &&
    (lb.spec.certificateIds.includes(certId) || lb.spec.defaultCertificateId === certId));
}

function inUse(cert: CertificateRecord, users: LoadBalancerRecord[], stacks: StackRecord[]): DroverError {
  const stackName = (id: string) => stacks.find((s) => s.id === id)?.name ?? id;
  const named = users.map((lb) => `${stackName(lb.stackId)}/${lb.name} (${lb.id}${lb.state === "removing" ? ", being removed" : ""})`);
  return new DroverError("Conflict",
    `certificate ${cert.name} (${cert.id}) is used by load balancer${users.length > 1 ? "s" : ""} ${named.join(", ")}: take it out of their certificateIds first`,
    { detail: { loadBalancerIds: users.map((lb) => lb.id) } });
}

function sameMaterial(a: CertificateRecord, b: CertificateRecord): boolean {
  return a.cert === b.cert && a.key === b.key && a.chain === b.chain && a.description === b.description;
}
