/**
 * The `digitalocean` Host driver's inputs: a droplet drover creates, bootstraps and destroys.
 * Every field but `token` decides which machine it is and replaces the host.
 */

/** The images drover bootstraps (Docker comes from the distribution when the image has none). */
export const DIGITALOCEAN_IMAGES = ["ubuntu-22-04-x64", "ubuntu-24-04-x64", "debian-12-x64"] as const;
export type DigitalOceanImage = (typeof DIGITALOCEAN_IMAGES)[number];

export interface DigitalOceanDriverInputs {
  type: "digitalocean";
  /**
   * A DigitalOcean API token with write scope (keep it secret: `pulumi config set --secret`).
   * Default: the `DIGITALOCEAN_TOKEN` environment variable of the `pulumi` process. In place.
   */
  token?: string;
  /** Region slug: "fra1", "nyc3", ... */
  region: string;
  /** Size slug: "s-1vcpu-2gb", ... */
  size: string;
  /** Image slug: one of DIGITALOCEAN_IMAGES. */
  image: DigitalOceanImage;
  /** Extra tags on the droplet (drover adds its own `drover-host:…` tag). */
  tags?: string[];
  /** The VPC the droplet joins (its private address is then the host's underlay address). */
  vpcUuid?: string;
  /** DigitalOcean's monitoring agent. Default false. */
  monitoring?: boolean;
  /** Extra SSH keys already on the account (ids or MD5 fingerprints), for people to log in too. */
  sshKeys?: Array<string | number>;
  /** Where agent bundles are unpacked on the droplet. Default "/opt/drover". */
  installDir?: string;
  /** The agent's files. Default "/var/lib/drover/agents/<host name>". */
  stateDir?: string;
}

/**
 * What provision made, kept in the Pulumi state (output `machine`, secret: it holds the
 * droplet's private key) so later updates and the delete reach the same droplet.
 */
export interface DropletRecord {
  dropletId: number;
  dropletName: string;
  publicIp: string;
  privateIp?: string;
  region: string;
  size: string;
  /** The account's id of the per-host SSH key drover registered. */
  sshKeyId: number;
  /** Its MD5 fingerprint, as DigitalOcean shows it. */
  sshFingerprint: string;
  /** The per-host key pair (OpenSSH formats). */
  privateKey: string;
  publicKey: string;
  /** The drover tag on the droplet (and the key's name). */
  tag: string;
}

/** The tag drover puts on the droplet, and the name of its SSH key: found again after a crash. */
export function droverTag(envId: string, hostname: string): string {
  // DigitalOcean tags: letters, digits, `:`, `-`, `_` (no dots).
  return `drover-host:${envId}:${hostname.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 255);
}
