import type { EnvironmentRecord } from "../../protocol/model";
import type { Urls } from "../urls";
import { ResourceJson, actionLinks, pick, resource } from "./resource";

/**
 * The fields an environment shows (an allow-list: its keys, pre-shared key and anything added
 * to the record later stay internal until listed here).
 */
const FIELDS = ["name", "description", "network", "state", "reconcileError", "createdAt", "rev"] as const;

/** Environment actions; teardown is the admin's only. */
export function environmentActions(env: EnvironmentRecord, admin: boolean): string[] {
  return admin && env.state === "active" ? ["teardown"] : [];
}

export function presentEnvironment(env: EnvironmentRecord, urls: Urls, admin: boolean): ResourceJson {
  const self = urls.env(env.id);
  return resource("environment", { id: env.id, ...pick(env, FIELDS) }, {
    self,
    hosts: urls.env(env.id, "hosts"),
    stacks: urls.env(env.id, "stacks"),
    services: urls.env(env.id, "services"),
    instances: urls.env(env.id, "instances"),
    loadBalancers: urls.env(env.id, "loadbalancers"),
    certificates: urls.env(env.id, "certificates"),
    registrationTokens: urls.env(env.id, "registrationtokens"),
    machineIntents: urls.env(env.id, "machineintents"),
    events: urls.env(env.id, "events"),
  }, actionLinks(self, environmentActions(env, admin)));
}
