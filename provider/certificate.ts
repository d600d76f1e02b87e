/**
 * `drover:Certificate`: a TLS certificate and its private key, for load balancers' https
 * rules (`certificateIds: [cert.certificateId]`). check() runs the server's own validator,
 * so a key that does not match, an expired certificate or a chain out of order fails the
 * preview naming the field (in the reason: see withoutValue). The name is fixed (a new one replaces); cert, key and chain
 * update in place: a rotation keeps the id, so load balancers that list it follow.
 * The key is a secret input and a secret output: the state holds it only encrypted.
 */
import * as pulumi from "@pulumi/pulumi";
import { validateCertificateCreate } from "../runtime/protocol/validate/certificate";
import { bodyOf, checkResult, connectionFailures, idFailures, validatorFailures } from "./check";
import { callApi, describeFailure, expectOk, fetchLive, GONE } from "./client";
import { diffInputs } from "./diff";
import type { Environment } from "./environment";
import { forwardingProvider } from "./forward";
import { sanitize } from "./sanitize";
import { connectionFor, settingsFromConfig, type ProviderSettings } from "./settings";
import { definedOnly } from "./stack";

export interface CertificateArgs {
  /** Unique within the environment; lowercase letters, digits and dashes. Changing it replaces the certificate. */
  name: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  /** The certificate, PEM (`-----BEGIN CERTIFICATE-----`...): exactly one. */
  cert: pulumi.Input<string>;
  /** The intermediates, PEM, leaf first: the first signs `cert`, each next one signs the one before. */
  chain?: pulumi.Input<string>;
  /** The private key, PEM, RSA (2048 bits or more) or EC (P-256/384/521), not encrypted. Kept secret. */
  key: pulumi.Input<string>;
  /** Fills envId, endpoint and apiKey from the environment's outputs. */
  environment?: Environment;
  envId?: pulumi.Input<string>;
  endpoint?: pulumi.Input<string>;
  /** The environment's API key (secret); default: config `drover:apiKey`. */
  apiKey?: pulumi.Input<string>;
}

const BODY_FIELDS = ["name", "description", "cert", "chain", "key"] as const;
const COMPUTED = ["certificateId", "commonName", "notAfter", "fingerprint"] as const;

/** Inputs a check failure must not quote: the engine would print their value beside it. */
const SECRET_INPUTS = ["cert", "chain", "key", "apiKey"];

const certPath = (envId: string, id?: string) =>
  `/v1/environments/${encodeURIComponent(envId)}/certificates${id === undefined ? "" : `/${encodeURIComponent(id)}`}`;

function outputsOf(inputs: any, cert: any) {
  return sanitize({ ...inputs, certificateId: cert.id, commonName: cert.commonName, notAfter: cert.notAfter, fingerprint: cert.fingerprint });
}

export const certificateProvider = {
  settings: undefined as ProviderSettings | undefined,

  async configure(req: { config: { get(key: string): string | undefined } }): Promise<void> {
    this.settings = settingsFromConfig(req.config);
  },

  async check(_olds: any, news: any) {
    const failures = [
      // Whether the name is free is the server's to say; everything else is checked here.
      ...validatorFailures(() => validateCertificateCreate(bodyOf(news, BODY_FIELDS), [], new Date())),
      ...idFailures(news, "envId"),
      ...connectionFailures(news, this.settings, "apiKey"),
    ];
    return checkResult(news, failures, SECRET_INPUTS);
  },

  async diff(_id: string, olds: any, news: any) {
    return diffInputs(olds, news, {
      replace: ["endpoint", "envId", "name"],
      update: ["description", "cert", "chain", "key", "apiKey"],
      nameField: "name",
    });
  },

  async create(inputs: any) {
    const conn = connectionFor(inputs, this.settings, "apiKey");
    const cert = await expectOk(conn, "POST", certPath(inputs.envId), bodyOf(inputs, BODY_FIELDS));
    return { id: cert.id as string, outs: outputsOf(inputs, cert) };
  },

  /**
   * The server never shows the key, so a refresh keeps the one in the state; a certificate
   * rotated by hand (another fingerprint) shows as drift of cert and chain, which the next
   * update puts back with the program's key.
   */
  async read(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const cert = await fetchLive(conn, certPath(props.envId, id));
    if (!cert) return GONE;
    const outs: Record<string, unknown> = { ...props };
    if (cert.name !== props.name) outs.name = cert.name;
    if ((cert.description ?? "") !== (props.description ?? "")) outs.description = cert.description;
    if (cert.fingerprint !== props.fingerprint) {
      outs.cert = cert.cert;
      outs.chain = cert.chain;
    }
    return { id: cert.id as string, props: outputsOf(outs, cert) };
  },

  async update(id: string, _olds: any, news: any) {
    const conn = connectionFor(news, this.settings, "apiKey");
    // PUT replaces: a chain or description removed from the program is removed on the server.
    const cert = await expectOk(conn, "PUT", certPath(news.envId, id), bodyOf(news, BODY_FIELDS));
    return { outs: outputsOf(news, cert) };
  },

  /** Fails (409, naming them) while load balancers list it; Pulumi deletes those first when they depend on it. */
  async delete(id: string, props: any) {
    const conn = connectionFor(props, this.settings, "apiKey");
    const path = certPath(props.envId, id);
    const reply = await callApi(conn, "DELETE", path);
    if (reply.status === 404 || (reply.status >= 200 && reply.status < 300)) return;
    throw new Error(describeFailure("DELETE", conn.endpoint + path, reply));
  },
};

/** The serialized form: loads `certificateProvider` from the installed drover (see forward.ts). */
export const certificateResourceProvider = forwardingProvider(() => require("drover/dist/provider/certificate.js").certificateProvider);

export class Certificate extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly envId: pulumi.Output<string>;
  /** The id load balancers list in `certificateIds`. */
  declare readonly certificateId: pulumi.Output<string>;
  declare readonly commonName: pulumi.Output<string>;
  /** ISO time after which clients refuse the certificate. */
  declare readonly notAfter: pulumi.Output<string>;
  /** SHA-256 of the certificate's DER, hex. */
  declare readonly fingerprint: pulumi.Output<string>;

  constructor(name: string, args: CertificateArgs, opts?: pulumi.CustomResourceOptions) {
    const { environment, ...rest } = args;
    const props: Record<string, unknown> = {
      ...(environment ? { envId: environment.envId, endpoint: environment.serverUrl, apiKey: environment.apiKey } : {}),
      ...definedOnly(rest),
    };
    for (const k of COMPUTED) props[k] = undefined;
    props.key = pulumi.secret(args.key);
    if (props.apiKey !== undefined) props.apiKey = pulumi.secret(props.apiKey as pulumi.Input<string>);
    super(certificateResourceProvider, name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "key", "apiKey"],
    }, "drover", "Certificate");
  }
}
