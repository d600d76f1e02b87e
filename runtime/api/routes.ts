/**
 * The route table of drover's HTTP API. Every path below is under the server's base URL;
 * all but /healthz and /v1/register need `Authorization: Bearer <key>` (401 without).
 *
 *   GET    /healthz                                             liveness, no key
 *   GET    /  and  /dashboard/*                                 the web dashboard's page and files, no key (it signs in itself)
 *   GET    /v1/stats?token=&since=                              websocket of host and container stats (runtime/dashboard/stats-socket.ts)
 *   GET    /v1                                                  API root (links)
 *   GET    /v1/ca                                               the CA certificate and its fingerprint, no key (agents pin it)
 *   POST   /v1/register                                         agent registration: RegisterRequest with a
 *                                                                registration token (no bearer) → 201 RegisterResponse
 *   GET    /v1/environments                                     admin: all; env key: just its own
 *   POST   /v1/environments                                     admin only (env key → 403 Forbidden) → 201 with
 *                                                                `apiKey` and `registrationToken`, shown only here
 *   GET    /v1/environments/:envId
 *   POST   /v1/environments/:envId?action=teardown              admin only → 202, state `removing`
 *   POST   /v1/environments/:envId?action=rotateipseckey        → 202 with the new key's `ipsecKeyId` (never the key)
 *   GET    /v1/environments/:envId/registrationtokens
 *   POST   /v1/environments/:envId/registrationtokens           {description?} → 201 with `token`, shown only here
 *   GET    /v1/environments/:envId/registrationtokens/:id       one token (its id and description, never the secret)
 *   GET    /v1/environments/:envId/hosts
 *   GET    /v1/environments/:envId/hosts/:id
 *   PATCH  /v1/environments/:envId/hosts/:id                    {labels} → 200: the host's labels, in place (instances move where rules require)
 *   POST   /v1/environments/:envId/hosts/:id?action=deactivate|activate            → 202
 *   DELETE /v1/environments/:envId/hosts/:id                    → 202 `removing`; 409 while active and not deactivated
 *   PUT    /v1/environments/:envId/hosts/:id/machineaccess      a cloud host's login (provider) → 204; the key sealed, never shown
 *   GET    /v1/environments/:envId/hosts/:id/config             → tar.gz: id_rsa, id_rsa.pub, ssh_config, known_hosts, ca.pem (an event each time)
 *   GET    /v1/environments/:envId/stacks
 *   POST   /v1/environments/:envId/stacks                       {name, description?} → 201; with dockerCompose (+ rancherCompose?, envFiles?): a new stack from the files
 *   POST   /v1/environments/:envId/stacks?action=import         {name, dockerCompose, rancherCompose?, envFiles?} → 201 new / 200 existing stack brought in line; warnings by path
 *   GET    /v1/environments/:envId/stacks/:id
 *   PUT    /v1/environments/:envId/stacks/:id                   replace (description; name is fixed)
 *   PATCH  /v1/environments/:envId/stacks/:id                   merge
 *   DELETE /v1/environments/:envId/stacks/:id                   → 202, stack and its services `removing`
 *   GET    /v1/environments/:envId/stacks/:id/compose           Rancher's View Config: {dockerCompose, rancherCompose, warnings}
 *   GET    /v1/environments/:envId/services
 *   POST   /v1/environments/:envId/services                     {stackId, name, image, ...} → 201
 *   GET    /v1/environments/:envId/services/:id
 *   PUT    /v1/environments/:envId/services/:id                 replace the spec (absent fields → defaults)
 *   PATCH  /v1/environments/:envId/services/:id                 change only the given fields
 *   POST   /v1/environments/:envId/services/:id?action=scale|restart|deactivate|activate|rollback|finishupgrade   → 202
 *   DELETE /v1/environments/:envId/services/:id                 → 202 `removing`
 *   POST   /v1/environments/:envId/placements                   dry run: {serviceId?, ...service body} → 200
 *                                                                {ok, instances: [{name, hostId, hostName}], message?, reasons?}
 *   GET    /v1/environments/:envId/loadbalancers                same filters as services (stackId, global, labels.*, ...)
 *   POST   /v1/environments/:envId/loadbalancers                {stackId, name, portRules, ...} → 201
 *   GET    /v1/environments/:envId/loadbalancers/:id            with each HAProxy instance's status from its agent
 *   PUT    /v1/environments/:envId/loadbalancers/:id            replace the spec (portRules required); 409 while removing
 *   PATCH  /v1/environments/:envId/loadbalancers/:id            change only the given fields; 409 while removing
 *   DELETE /v1/environments/:envId/loadbalancers/:id            → 202 `removing`; the record goes once its instances are stopped
 *   GET    /v1/environments/:envId/certificates                 filters: name, commonName, issuer, fingerprint, notAfter, ...
 *   POST   /v1/environments/:envId/certificates                 {name, description?, cert, chain?, key} (PEM) → 201; the key is never shown
 *   GET    /v1/environments/:envId/certificates/:id
 *   PUT    /v1/environments/:envId/certificates/:id             rotation: new cert, key and chain under the same id
 *   DELETE /v1/environments/:envId/certificates/:id             → 200 `removed`; 409 naming the load balancers that list it
 *   GET    /v1/environments/:envId/instances
 *   GET    /v1/environments/:envId/instances/:id
 *   POST   /v1/environments/:envId/statstokens                  → 201 {token, expiresAt}: one short-lived token for /v1/stats
 *   POST   /v1/environments/:envId/instances/:id?action=logs|execute   → 201 {token, url}: a one-use websocket stream
 *                                                                (runtime/streams/stream-upgrade.ts), ttl ≤ 60 s
 *   GET    /v1/environments/:envId/machineintents               cloud machines a provider is making (PUT/GET/DELETE .../machineintents/:name)
 *   GET    /v1/environments/:envId/events                       text/event-stream; resume with Last-Event-ID (or ?lastEventId=)
 *
 * A path that exists with another method answers 405 with `Allow`; a query parameter given
 * twice is refused (request-guards.ts: a collection filter on a GET excepted).
 *
 * Isolation: an environment API key addressing any other environment gets 404 (never 403,
 * never data). Errors are DroverError bodies `{type: "error", status, code, message,
 * retryable, fieldName?, detail?}`. An environment being torn down takes no writes (409).
 * Asking for the state a resource is already in (deactivate twice, DELETE of a removing
 * record) writes nothing and answers as if it had. Collections take `name=`, `<field>_ne=`, `<field>_like=` (% and _ wildcards),
 * `<field>_notlike=`, `labels.<key>=`, `sort=`, `order=`, `limit=` (≤ 1000) and `marker=`.
 */
import FindMyWay from "find-my-way";
import type { AuthedContext, Handler, RequestContext } from "./context";
import { dashboardAsset, dashboardPage } from "./handlers/dashboard";
import { createEnvironment, environmentAction, getEnvironment, listEnvironments } from "./handlers/environments";
import { streamEvents } from "./handlers/events";
import { deleteIntent, getIntent, listIntents, putIntent } from "./handlers/machine-intents";
import { deleteHost, getHost, hostAction, listHosts, updateHost } from "./handlers/hosts";
import { downloadHostConfig, putMachineAccess } from "./handlers/host-config";
import { getInstance, listInstances } from "./handlers/instances";
import { instanceAction } from "./handlers/instance-streams";
import { createCertificate, deleteCertificate, getCertificate, listCertificates, replaceCertificate } from "./handlers/certificates";
import { createLoadBalancer, deleteLoadBalancer, getLoadBalancer, listLoadBalancers, updateLoadBalancer } from "./handlers/load-balancers";
import { planPlacement } from "./handlers/placements";
import { register } from "./handlers/register";
import { apiRoot, caCertificate, health } from "./handlers/root";
import { createService, deleteService, getService, listServices, serviceAction, updateService } from "./handlers/services";
import { createStack, deleteStack, getStack, listStacks, updateStack } from "./handlers/stacks";
import { exportStack } from "./handlers/stack-compose";
import { createStatsToken } from "./handlers/stats-tokens";
import { createToken, getToken, listTokens } from "./handlers/tokens";

export type Route =
  | { auth: false; handler: Handler<RequestContext> }
  | { auth: true; handler: Handler<AuthedContext> };

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

const open = (handler: Handler<RequestContext>): Route => ({ auth: false, handler });
const authed = (handler: Handler<AuthedContext>): Route => ({ auth: true, handler });

const env = "/v1/environments/:envId";

export const routeTable: Array<[Method, string, Route]> = [
  ["GET", "/healthz", open(health)],
  ["GET", "/", open(dashboardPage)],
  ["GET", "/dashboard/*", open(dashboardAsset)],
  ["GET", "/v1/ca", open(caCertificate)],
  ["GET", "/v1", authed(apiRoot)],
  ["POST", "/v1/register", open(register)],
  ["GET", "/v1/environments", authed(listEnvironments)],
  ["POST", "/v1/environments", authed(createEnvironment)],
  ["GET", env, authed(getEnvironment)],
  ["POST", env, authed(environmentAction)],
  ["GET", `${env}/registrationtokens`, authed(listTokens)],
  ["POST", `${env}/registrationtokens`, authed(createToken)],
  ["GET", `${env}/registrationtokens/:id`, authed(getToken)],
  ["GET", `${env}/hosts`, authed(listHosts)],
  ["GET", `${env}/hosts/:id`, authed(getHost)],
  ["PATCH", `${env}/hosts/:id`, authed(updateHost)],
  ["POST", `${env}/hosts/:id`, authed(hostAction)],
  ["DELETE", `${env}/hosts/:id`, authed(deleteHost)],
  ["PUT", `${env}/hosts/:id/machineaccess`, authed(putMachineAccess)],
  ["GET", `${env}/hosts/:id/config`, authed(downloadHostConfig)],
  ["GET", `${env}/machineintents`, authed(listIntents)],
  ["GET", `${env}/machineintents/:name`, authed(getIntent)],
  ["PUT", `${env}/machineintents/:name`, authed(putIntent)],
  ["DELETE", `${env}/machineintents/:name`, authed(deleteIntent)],
  ["GET", `${env}/stacks`, authed(listStacks)],
  ["POST", `${env}/stacks`, authed(createStack)],
  ["GET", `${env}/stacks/:id`, authed(getStack)],
  ["PUT", `${env}/stacks/:id`, authed(updateStack("replace"))],
  ["PATCH", `${env}/stacks/:id`, authed(updateStack("merge"))],
  ["DELETE", `${env}/stacks/:id`, authed(deleteStack)],
  ["GET", `${env}/stacks/:id/compose`, authed(exportStack)],
  ["GET", `${env}/services`, authed(listServices)],
  ["POST", `${env}/services`, authed(createService)],
  ["GET", `${env}/services/:id`, authed(getService)],
  ["PUT", `${env}/services/:id`, authed(updateService("replace"))],
  ["PATCH", `${env}/services/:id`, authed(updateService("merge"))],
  ["POST", `${env}/services/:id`, authed(serviceAction)],
  ["DELETE", `${env}/services/:id`, authed(deleteService)],
  ["POST", `${env}/placements`, authed(planPlacement)],
  ["GET", `${env}/loadbalancers`, authed(listLoadBalancers)],
  ["POST", `${env}/loadbalancers`, authed(createLoadBalancer)],
  ["GET", `${env}/loadbalancers/:id`, authed(getLoadBalancer)],
  ["PUT", `${env}/loadbalancers/:id`, authed(updateLoadBalancer("replace"))],
  ["PATCH", `${env}/loadbalancers/:id`, authed(updateLoadBalancer("merge"))],
  ["DELETE", `${env}/loadbalancers/:id`, authed(deleteLoadBalancer)],
  ["GET", `${env}/certificates`, authed(listCertificates)],
  ["POST", `${env}/certificates`, authed(createCertificate)],
  ["GET", `${env}/certificates/:id`, authed(getCertificate)],
  ["PUT", `${env}/certificates/:id`, authed(replaceCertificate)],
  ["DELETE", `${env}/certificates/:id`, authed(deleteCertificate)],
  ["GET", `${env}/instances`, authed(listInstances)],
  ["GET", `${env}/instances/:id`, authed(getInstance)],
  ["POST", `${env}/instances/:id`, authed(instanceAction)],
  ["GET", `${env}/events`, authed(streamEvents)],
  ["POST", `${env}/statstokens`, authed(createStatsToken)],
];

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export interface Router {
  find(method: string, path: string): RouteMatch | undefined;
  /** Methods that do have a route for the path (for 404 messages). */
  methodsFor(path: string): Method[];
}

export function buildRouter(): Router {
  const router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 200 });
  for (const [method, path, route] of routeTable) router.on(method, path, () => {}, route);
  const methods = [...new Set(routeTable.map(([m]) => m))];
  return {
    find(method, path) {
      const found = router.find(method as Method, path);
      if (!found) return undefined;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(found.params)) if (v !== undefined) params[k] = v;
      return { route: found.store as Route, params };
    },
    methodsFor: (path) => methods.filter((m) => router.find(m, path) !== null),
  };
}
