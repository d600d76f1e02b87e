import t from "tap";
import { checkSnapshot, recordProblem } from "../../../runtime/reconcile/check-snapshot";
import { input, host, instance, service } from "./fixtures";

t.test("records as the API and the planner write them pass", async (t) => {
  const { snapshot } = input({ hosts: [host("h1")], services: [service("s1")], instances: [instance("i1", "s1", "h1", 1)] });
  t.doesNotThrow(() => checkSnapshot(snapshot));
});

t.test("the first bad field is named with the record", async (t) => {
  t.equal(recordProblem("service", { ...service("s1"), spec: { ...service("s1").spec, scale: "ten" } }), 'spec.scale: expected a whole number >= 0, got "ten"');
  t.equal(recordProblem("host", { ...host("h1"), labels: ["a"] }), 'labels: expected an object of strings, got ["a"]');
  t.equal(recordProblem("instance", "garbage"), 'expected an object, got "garbage"');
  const { snapshot } = input({ hosts: [host("h1")], services: [{ ...service("s1"), state: "sleeping" as never }] });
  t.throws(() => checkSnapshot(snapshot), { code: "InvalidField", message: /stored service s1 in environment e1 cannot be reconciled: state: expected one of active/ });
});
