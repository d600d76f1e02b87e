/** Named volumes against the real dockerd: Docker makes them (local driver), and they outlive a container replacement on the same host. */
import { randomBytes } from "crypto";
import t from "tap";
import { DockerContainers } from "../../agent/docker/containers";
import { createLogger } from "../../agent/log";
import { waitFor } from "../support/wait";
import { dockerClient, instance, removeTestContainers, spec } from "./support/docker-fixture";

const suffix = randomBytes(4).toString("hex");
const prefix = `drv${suffix}-`;
const ctx = { envId: `e${suffix}`, hostId: `h${suffix}` };
const docker = dockerClient();
const containers = new DockerContainers(docker, ctx, createLogger(() => undefined, "debug"));
const volume = `${prefix}data`;

t.teardown(async () => {
  await removeTestContainers(docker, prefix, [ctx.hostId]);
  await docker.getVolume(volume).remove().catch(() => undefined);
});

t.test("a named volume survives the replacement of its container", async (t) => {
  const run = (text: string) => instance(prefix, "i-vol", "vol-1", spec({
    command: ["sh", "-c", `echo ${text} >> /data/log && cat /data/log && sleep 3600`], volumes: [`${volume}:/data`], tty: true, restartPolicy: { name: "no" },
  }));
  const first = await containers.createAndStart(run("first"));
  const info = await docker.getVolume(volume).inspect();
  t.equal(info.Driver, "local", "Docker made the named volume with the local driver");
  // What the agent does on a spec change: remove (force, anonymous volumes too) and create anew.
  await containers.remove(first.containerId, { reason: "test" });
  const second = await containers.createAndStart(run("second"));
  const log = await logOf(second.containerId);
  t.same(log.split("\n"), ["first", "second"], "the new container sees what the old one wrote");
});

/** The container's output (a tty: no stream framing) once it printed the file. */
function logOf(id: string): Promise<string> {
  return waitFor(async () => {
    const out = (await docker.getContainer(id).logs({ stdout: true })).toString("utf8").replace(/\r/g, "").trim();
    return out.includes("second") && out;
  }, { what: "the second container's output", timeoutMs: 10_000 });
}
