import * as path from "path";

/**
 * Where one load balancer instance's HAProxy keeps its files: `<stateDir>/lb/<instanceId>/`.
 *
 * One HAProxy per load balancer INSTANCE, not one per host: a config HAProxy refuses for one
 * load balancer must not hold back another's changes (each is checked and reloaded on its
 * own), and a crash or a stuck reload stays contained to the one load balancer it belongs
 * to. The price, a master and a worker process per instance (about 14 MB), is small.
 */
export interface LbPaths {
  dir: string;
  /** The config the running HAProxy was started or last reloaded with (the master re-reads this path on reload). */
  config: string;
  /** A new config while `haproxy -c` judges it; renamed over `config` only when accepted. */
  candidate: string;
  /** Written by HAProxy itself (`pidfile`): the master's pid. */
  pidFile: string;
  /** The master CLI (`-S`): process supervision and reloads. */
  masterSocket: string;
  /** The worker's stats socket at level admin: the runtime API that moves backend servers. */
  runtimeSocket: string;
  /** HAProxy's own stderr (notices, alerts): where a failed start or reload says why. */
  log: string;
  /** What drover last applied to the running HAProxy (structure hash, slot counts), for the next agent to adopt it. */
  applied: string;
  /** PEM bundles and crt-lists, named by their content's hash (a new one never overwrites one in use). */
  certs: string;
}

/** Linux's limit for a unix socket path (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

export function lbRoot(stateDir: string): string {
  return path.join(stateDir, "lb");
}

export function lbPaths(stateDir: string, instanceId: string): LbPaths {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(instanceId)) {
    throw new Error(`load balancer instance id: expected letters, digits, _ and - (at most 64), got ${JSON.stringify(instanceId)}`);
  }
  const dir = path.join(lbRoot(stateDir), instanceId);
  const paths: LbPaths = {
    dir,
    config: path.join(dir, "haproxy.cfg"),
    candidate: path.join(dir, "haproxy.cfg.next"),
    pidFile: path.join(dir, "haproxy.pid"),
    masterSocket: path.join(dir, "master.sock"),
    runtimeSocket: path.join(dir, "runtime.sock"),
    log: path.join(dir, "haproxy.log"),
    applied: path.join(dir, "applied.json"),
    certs: path.join(dir, "certs"),
  };
  for (const socket of [paths.masterSocket, paths.runtimeSocket]) {
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
      throw new Error(`stateDir: expected a directory short enough for unix socket paths (${socket} is over ${MAX_SOCKET_PATH} bytes)`);
    }
  }
  return paths;
}
