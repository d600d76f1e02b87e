import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { waitFor, WaitAbort } from "../support/wait";
import { adoptArgv, enterArgv, spawnDetached } from "./host-namespace";
import { HostNames } from "./names";
import { isAlive, ProcRef, procRef, stopProcs, tailFile } from "./proc";

/**
 * One dockerd per host, inside the host's namespaces. Its data and exec roots live in the
 * host dir (the exec root is given explicitly so containerd's command line names the run dir);
 * socket and pid file are the usual /var/run paths, which are the host's private /run, i.e.
 * <hostdir>/run/docker.sock as seen from the root namespace.
 */
export const SHUTDOWN_TIMEOUT_S = 2;

export function dockerSocketPath(host: HostNames): string {
  return path.join(host.dir, "run", "docker.sock");
}

function dockerdArgv(host: HostNames): string[] {
  return [
    "dockerd",
    "--config-file", "/etc/docker/daemon.json",
    "--data-root", path.join(host.dir, "docker"),
    "--exec-root", path.join(host.dir, "exec"),
    "-H", "unix:///var/run/docker.sock",
    "--pidfile", "/var/run/docker.pid",
    "--iptables=true",
    "--cgroup-parent", host.cgroupParent,
    "--shutdown-timeout", String(SHUTDOWN_TIMEOUT_S),
  ];
}

/** Files dockerd needs before its first start: an empty daemon.json in the private /etc/docker. */
export function prepareDockerdFiles(host: HostNames): void {
  const etc = path.join(host.dir, "etc-docker");
  fs.mkdirSync(etc, { recursive: true });
  const conf = path.join(etc, "daemon.json");
  if (!fs.existsSync(conf)) fs.writeFileSync(conf, "{}\n");
}

/** GET /_ping on a docker socket; true when dockerd answers OK. */
export function pingDocker(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: "/_ping", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => resolve(res.statusCode === 200 && body === "OK"));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

export async function startDockerd(host: HostNames, holder: ProcRef, cgroupProcs: string, timeoutMs = 30_000): Promise<ProcRef> {
  const log = path.join(host.dir, "logs", "dockerd.log");
  const socket = dockerSocketPath(host);
  // nsenter without -p does not fork, so the spawned pid is dockerd's own pid.
  const child = spawnDetached(adoptArgv(cgroupProcs, enterArgv(holder, dockerdArgv(host))), log);
  if (!child.pid) throw new Error(`could not start dockerd on ${host.name}`);
  const pid = child.pid;
  const ref = procRef(pid);
  if (!ref) throw new Error(`dockerd on ${host.name} exited at once: ${tailFile(log)}`);
  await waitFor(async () => {
    if (!isAlive(ref)) throw new WaitAbort(`dockerd on ${host.name} exited:\n${tailFile(log)}`);
    return pingDocker(socket, 1000);
  }, { what: `dockerd on ${host.name} to answer on ${socket}`, timeoutMs });
  return ref;
}

/**
 * SIGTERM and wait: dockerd stops its containers in parallel, each with the container's own
 * StopTimeout (default 10 s; --shutdown-timeout is only a floor in 20.10), stops its
 * containerd (about 1 s even when idle) and exits. SIGKILL only if that takes far too long.
 */
export async function stopDockerd(host: HostNames, ref: ProcRef, graceMs = 60_000): Promise<void> {
  await stopProcs([ref], { sig: "SIGTERM", graceMs, what: `dockerd on ${host.name}` });
}
