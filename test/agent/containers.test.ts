import { randomBytes } from "crypto";
import t from "tap";
import { containerLabels } from "../../runtime/protocol/agent-protocol";
import { createOptions } from "../../agent/docker/container-config";
import { DockerContainers } from "../../agent/docker/containers";
import { createLogger } from "../../agent/log";
import { dockerClient, instance, nameOf, removeTestContainers, spec, testImage } from "./support/docker-fixture";

// The Docker layer against the real dockerd: adoption instead of duplicates, strict label
// selection, and an image that cannot be pulled.
const suffix = randomBytes(4).toString("hex");
const prefix = `drc${suffix}-`;
const ctx = { envId: `e${suffix}`, hostId: `h${suffix}` };
const docker = dockerClient();
const logLines: string[] = [];
const containers = new DockerContainers(docker, ctx, createLogger((l) => logLines.push(l), "debug"));

t.teardown(() => removeTestContainers(docker, prefix, [ctx.hostId]));

t.test("a name conflict with this instance's own container adopts it: never a duplicate", async (t) => {
  const inst = instance(prefix, "i-adopt", "adopt-1");
  // What an earlier run left behind, created but not started.
  const earlier = await docker.createContainer(createOptions(inst, ctx));
  const result = await containers.createAndStart(inst);
  t.same(result, { containerId: earlier.id, adopted: true });
  const named = (await docker.listContainers({ all: true, filters: { name: [`${prefix}adopt-1`] } }));
  t.equal(named.length, 1, "still one container");
  t.ok(logLines.some((l) => l.includes("adopted existing container")));
});

t.test("list selects strictly by the managed and host labels", async (t) => {
  const unmanaged = await docker.createContainer({ name: `${prefix}plain-1`, Image: testImage, Cmd: ["true"],
    Labels: { [containerLabels.host]: ctx.hostId, [containerLabels.instance]: "i-x" } });
  const otherHost = await docker.createContainer(createOptions(instance(prefix, "i-y", "other-1"), { ...ctx, hostId: `${ctx.hostId}x` }));
  const listed = await containers.list();
  t.same(listed.map((c) => c.name), [`${prefix}adopt-1`]);
  for (const c of [unmanaged, otherHost]) await c.remove({ force: true });
});

t.test("an image that cannot be pulled fails the create and leaves nothing behind", async (t) => {
  const inst = instance(prefix, "i-nope", "nope-1", spec({ image: `local/drover-missing-${suffix}:nope` }));
  await t.rejects(containers.createAndStart(inst));
  t.ok(logLines.some((l) => l.includes("pulling image")), "tried to pull");
  const all = await docker.listContainers({ all: true, filters: { name: [prefix] } });
  t.notOk(all.some((c) => nameOf(c) === inst.name), "no container made");
});
