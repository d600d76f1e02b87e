import { ChildProcess, spawn, StdioOptions } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { createTrackingCgroup } from "./cgroups";
import { dockerSocketPath, prepareDockerdFiles, startDockerd, stopDockerd } from "./dockerd";
import { adoptArgv, enterArgv, startHolder } from "./host-namespace";
import { importTestImage } from "./image";
import { HostNames, RunNames } from "./names";
import { ExecResult, isAlive, procRef, run } from "./proc";
import { prepareSshd, SSH_PORT, startSshd } from "./sshd";
import type { HostState } from "./state-file";
import { createHostLink, setHostPort } from "./underlay";

/** How a test connects with ssh2: `new Client().connect({ host, port, username, privateKey })`. */
export interface LabSsh {
  host: string;
  port: number;
  username: string;
  /** OpenSSH-format ed25519 private key text. */
  privateKey: string;
  /** The host key's public line ("ssh-ed25519 AAAA... name"), to verify the server. */
  hostPublicKey: string;
}

export interface HostExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Working directory inside the host (default /). */
  cwd?: string;
}

export interface HostSpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
  /** Own session, survives the caller (for daemons started from the CLI). */
  detached?: boolean;
}

/** One lab host: a network namespace on the underlay with its own dockerd (and sshd). */
export class LabHost {
  readonly names: HostNames;
  private cgroupProcs = "";

  constructor(run: RunNames, readonly state: HostState, private readonly save: () => void) {
    this.names = run.host(state.index);
  }

  /** drv-<runid>-h<i>: also the hostname, netns name and docker cgroup parent. */
  get name(): string { return this.names.name; }
  /** 1-based, as in the name. */
  get index(): number { return this.state.index; }
  get underlayIp(): string { return this.state.underlayIp; }
  /** The host's docker socket as seen from the root namespace (for dockerode's socketPath). */
  get dockerSocket(): string { return dockerSocketPath(this.names); }
  get dir(): string { return this.names.dir; }
  get netns(): string { return this.names.netns; }
  get ssh(): LabSsh | undefined {
    const s = this.state.ssh;
    if (!s) return undefined;
    return {
      host: s.address, port: s.port, username: s.username,
      privateKey: fs.readFileSync(s.privateKeyFile, "utf8"),
      hostPublicKey: fs.readFileSync(s.hostPublicKeyFile, "utf8").trim(),
    };
  }

  /** Creates namespace, link, holder and dockerd; imports the test image; starts sshd if asked. */
  async create(opts: { base: string; clientPublicKey?: string; clientKeyFile?: string; image: boolean }): Promise<void> {
    const dir = this.dir;
    for (const d of ["logs", "run", "docker", "exec"]) fs.mkdirSync(path.join(dir, d), { recursive: true });
    this.cgroupProcs = createTrackingCgroup(this.name);
    prepareDockerdFiles(this.names);
    await createHostLink(this.names, opts.base);
    this.state.holder = await startHolder(this.names, this.cgroupProcs);
    this.save();
    await this.startDockerd();
    if (opts.image) await importTestImage(this.dockerSocket);
    if (opts.clientPublicKey && opts.clientKeyFile) {
      const { config, hostPublicKeyFile } = await prepareSshd(this.names, opts.clientPublicKey);
      this.state.ssh = {
        address: this.underlayIp, port: SSH_PORT, username: "root",
        privateKeyFile: opts.clientKeyFile, hostPublicKeyFile,
      };
      this.state.sshd = await startSshd(this.names, this.holder(), this.procsFile(), config, this.underlayIp);
      this.save();
    }
  }

  private holder() {
    if (!this.state.holder) throw new Error(`${this.name} has no namespace holder (not up?)`);
    return this.state.holder;
  }

  private procsFile(): string {
    if (!this.cgroupProcs) this.cgroupProcs = createTrackingCgroup(this.name);
    return this.cgroupProcs;
  }

  /** argv that runs `cmd` inside this host (network, mount and UTS namespaces, tracked cgroup). */
  argv(cmd: string[], cwd?: string): string[] {
    return adoptArgv(this.procsFile(), enterArgv(this.holder(), cmd, cwd));
  }

  /** Runs a command inside the host to completion; never throws for a non-zero exit. */
  async exec(cmd: string[], opts: HostExecOptions = {}): Promise<ExecResult> {
    return run(this.argv(cmd, opts.cwd), opts);
  }

  /**
   * Starts a long-running process inside the host (an agent, charon, ...). It is tracked by
   * pid in the state file and killed at teardown if still running.
   */
  spawn(cmd: string[], opts: HostSpawnOptions = {}): ChildProcess {
    const argv = this.argv(cmd, opts.cwd);
    const child = spawn(argv[0], argv.slice(1), { env: opts.env ?? process.env, stdio: opts.stdio ?? "pipe", detached: opts.detached });
    const ref = child.pid ? procRef(child.pid) : undefined;
    if (ref) {
      this.state.spawned.push(ref);
      this.save();
      child.once("exit", () => {
        this.state.spawned = this.state.spawned.filter((r) => r.pid !== ref.pid || r.start !== ref.start);
        this.save();
      });
    }
    return child;
  }

  dockerdRunning(): boolean {
    return !!this.state.dockerd && isAlive(this.state.dockerd);
  }

  /**
   * Stops dockerd gracefully (SIGTERM to its pid); containers and data stay. dockerd stops
   * each running container with that container's StopTimeout (default 10 s, not
   * --shutdown-timeout): create test containers with `StopTimeout: 1` to keep this fast.
   */
  async stopDockerd(): Promise<void> {
    if (this.state.dockerd) await stopDockerd(this.names, this.state.dockerd);
    this.state.dockerd = undefined;
    this.save();
  }

  /** Starts dockerd (again) and waits until it answers; containers and images are kept. */
  async startDockerd(): Promise<void> {
    if (this.dockerdRunning()) return;
    this.state.dockerd = await startDockerd(this.names, this.holder(), this.procsFile());
    this.save();
  }

  /** Simulates a pulled cable: the host's switch port goes down (its eth0 loses carrier). */
  cutUnderlay(): Promise<void> {
    return setHostPort(this.names, false);
  }

  restoreUnderlay(): Promise<void> {
    return setHostPort(this.names, true);
  }
}
