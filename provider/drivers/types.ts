/**
 * What a Host driver does, whatever the machine is. The Host resource only talks to this
 * interface, so a cloud driver (DigitalOcean: create a droplet, then bootstrap it over ssh,
 * delete the droplet on deprovision) slots in beside `ssh` and `local`.
 *
 * Drivers run inside the serialized dynamic provider: no clients at module scope, npm
 * packages required inside methods, plain objects and functions only (no classes with
 * #private fields).
 */

/** How the agent is started: what the server needs to know and where the agent keeps its files. */
export interface AgentLaunch {
  /** The drover server URL the agent registers with. */
  url: string;
  registrationToken: string;
  /** The host name it registers under (unique in the environment). */
  hostname: string;
  labels: Record<string, string>;
  underlayIp?: string;
  /** The server CA's SHA-256 fingerprint the agent pins (an https URL with drover's own CA). */
  caFingerprint?: string;
}

/** What bootstrap did, for outputs and tests. */
export interface BootstrapReport {
  /** `systemd` (a unit with Restart=always) or `supervisor` (a restart loop under setsid). */
  service: "systemd" | "supervisor";
  /** False when the machine already had this exact agent bundle (same sha256). */
  uploaded: boolean;
  nodeVersion: string;
  dockerVersion: string;
  /** ssh: the fingerprint of the machine's host key, for the Pulumi state (trust on first use). */
  hostKey?: string;
}

export interface HostDriver {
  /** "ssh root@10.0.0.5:22", "local": for messages. */
  readonly describe: string;
  /**
   * Makes the machine exist and returns where to reach it. Existing machines (ssh, local)
   * have nothing to do; a cloud driver creates the machine here.
   */
  provision?(): Promise<{ address: string; outputs?: Record<string, unknown> }>;
  /** Checks the machine (Docker, node ≥ 20), installs the agent and starts it as a service that survives reboots. */
  bootstrap(launch: AgentLaunch): Promise<BootstrapReport>;
  /**
   * Removes the registration token from the machine before the host is removed, so an agent
   * restarted meanwhile cannot register a new host; idempotent.
   */
  disarm(): Promise<void>;
  /** Stops and uninstalls the agent service; idempotent. Installed bundles stay. */
  uninstall(): Promise<void>;
  /** The last lines of the agent's log, for timeout messages ("" when none). */
  logTail(lines: number): Promise<string>;
  /**
   * Proves the credentials work (connects and runs nothing), so a changed key is found wrong
   * by the update that brings it, not by a later delete. Nothing to prove: absent.
   */
  verify?(): Promise<void>;
  /**
   * Rewrites the agent's launch and token files (server URL, labels, token) without restarting the agent:
   * what it registers with if it ever has to register again.
   */
  updateLaunch(launch: AgentLaunch): Promise<void>;
  /** Deletes the machine and whatever provision registered for it (cloud drivers only); idempotent. */
  deprovision?(): Promise<void>;
  /**
   * Cloud drivers, at refresh: removes what carries this host's drover tag but is not its
   * machine (a crash's leftovers); returns what it removed, for the message.
   */
  removeStrays?(): Promise<string[]>;
  /**
   * Cloud drivers: what finds this host's machine again if the create is killed before Pulumi
   * records the host (the provider records it with the server first; see
   * provider/machine-intents.ts). `secret` is sealed before it leaves the provider.
   */
  intent?(): MachineIntentSpec;
}

export interface MachineIntentSpec {
  driver: string;
  tag: string;
  secret: Record<string, string>;
}

/**
 * An existing machine reached over ssh with a key (no passwords). It needs Docker and
 * Node.js 20 or later; drover uploads its agent there and runs it as a service (systemd, or
 * a supervisor loop where there is no systemd). `privateKey` and `hostKey` update in place;
 * every other field decides where and how the agent runs and replaces the host.
 */
export interface SshDriverInputs {
  type: "ssh";
  /** The machine's IP address or DNS name. */
  address: string;
  /** The ssh port. Default 22. */
  port?: number;
  /** The login user: root, or a user with password-less `sudo -n`. Default "root". */
  user?: string;
  /** An unencrypted OpenSSH or PEM private key (keep it secret: `pulumi config set --secret`). */
  privateKey: string;
  /**
   * Pinned host key: "SHA256:…" fingerprint or the public key line "ssh-ed25519 AAAA…".
   * Default: trust on first use: the key seen at the first connection is recorded in the
   * Pulumi state (output `sshHostKey`) and every later connection must present it.
   */
  hostKey?: string;
  /** Where agent bundles are unpacked on the machine. Default "/opt/drover". */
  installDir?: string;
  /** The agent's files (identity, env file, logs). Default "/var/lib/drover/agents/<host name>". */
  stateDir?: string;
  /** The Docker engine's socket on the machine. Default "/var/run/docker.sock". */
  dockerSocket?: string;
  /** The address other hosts reach this one at (IPsec underlay). Default: `address` when it is an IP, else the agent's route to the server. */
  underlayIp?: string;
}

/**
 * The machine running the Pulumi program: the agent runs from the installed drover package
 * under a supervisor loop (never a systemd unit on your own machine). Every field replaces.
 */
export interface LocalDriverInputs {
  type: "local";
  /** The agent's files. Default "/var/lib/drover/agents/<host name>". */
  stateDir?: string;
  /** The local Docker engine's socket. Default "/var/run/docker.sock". */
  dockerSocket?: string;
  /** The address other hosts reach this one at. Default: the agent's route to the server. */
  underlayIp?: string;
}

export type DriverInputs = SshDriverInputs | LocalDriverInputs | import("./digitalocean/inputs").DigitalOceanDriverInputs;

/** A command runner on the machine: over ssh, or on this machine. */
export interface Runner {
  readonly describe: string;
  /** ssh: the fingerprint ("SHA256:…") of the host key the machine presented. */
  readonly hostKey?: string;
  /** Runs a shell script (sh -c); stdin carries secrets so they never appear in argv. */
  run(script: string, opts?: { stdin?: string; timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Copies a local file to `remotePath`. */
  upload(localFile: string, remotePath: string): Promise<void>;
  close(): void;
}

export const DEFAULTS = {
  installDir: "/opt/drover",
  dockerSocket: "/var/run/docker.sock",
  sshPort: 22,
  sshUser: "root",
  /** stateDir default: <base>/<host name>. */
  stateBase: "/var/lib/drover/agents",
};
