import t from "tap";
import { newDataKey, seal } from "../../runtime/protocol/seal";
import { secretContext } from "../../runtime/protocol/secret-contexts";
import { AgentWorld } from "./support/agent-world";
import { containersOfHost, desiredDoc, instance, spec } from "./support/docker-fixture";

// The agent opens a service secret sealed for its host only as it creates the container: the
// container's environment has it in the clear, while the desired document, the spec-hash
// label, the agent's log and its reports never do. A value sealed with another key is refused.
const SECRET = "agent-side-secret-6f1e2a9c";

t.test("secrets sealed for the host reach the container's environment and nothing else", async (t) => {
  const hostKey = newDataKey("hkagenttest");
  const world = await AgentWorld.create(t, undefined, { secretsKey: hostKey });
  const agent = world.startAgent();
  const hostId = await world.waitRegistered(agent);

  const good = instance(world.prefix, "i-sec", "sec-1", spec({ env: { PLAIN: "yes" } }));
  good.spec.secrets = { API_TOKEN: seal(hostKey, secretContext.service(good.serviceId, "API_TOKEN"), SECRET) };
  const foreign = instance(world.prefix, "i-foreign", "foreign-1");
  foreign.spec.secrets = { API_TOKEN: seal(newDataKey("hkagenttest"), secretContext.service(foreign.serviceId, "API_TOKEN"), SECRET) };
  await world.writeDesired(desiredDoc(hostId, 1, [good, foreign]));

  const observed = await world.waitObserved(1, (o) => o.instances["i-sec"]?.state === "running" && o.instances["i-foreign"]?.state === "error");
  t.match(observed.instances["i-foreign"].error, /does not open/, "a value sealed with another key is refused, saying why");
  const [container] = (await containersOfHost(world.docker, hostId)).filter((c) => c.Labels["io.drover.instance"] === "i-sec");
  const inspect = await world.docker.getContainer(container.Id).inspect();
  t.ok(inspect.Config.Env.includes(`API_TOKEN=${SECRET}`), "the container has the secret in its environment");
  t.ok(inspect.Config.Env.includes("PLAIN=yes"), "beside its plain env");
  t.notOk(JSON.stringify(inspect.Config.Labels).includes(SECRET), "no label holds it (the spec hash covers the sealed form)");
  t.notOk((await world.admin.get(world.keys(hostId).desired))!.includes(SECRET), "the desired document holds it sealed");
  t.notOk(JSON.stringify(observed).includes(SECRET), "the report does not hold it");
  t.notOk(agent.raw.join("\n").includes(SECRET), "no log line holds it");
});
