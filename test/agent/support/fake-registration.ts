import { createHash, randomBytes } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import type Redis from "ioredis";
import type { RegisterRequest, RegisterResponse } from "../../../runtime/protocol/agent-protocol";
import { makeKeys } from "../../../runtime/protocol/keys";

/**
 * A stand-in for the server's POST /v1/register (built elsewhere), just enough to run the
 * agent against: it checks the token, gives a machine the same host id every time, and
 * provisions the host's Redis ACL user exactly as the real server will, so the agent is
 * proven to work under the real ACL.
 */
export interface FakeRegistrationOptions {
  /** Admin connection to the Redis the agents will use. */
  admin: Redis;
  /** redis://host:port handed to agents. */
  redisUrl: string;
  keyPrefix: string;
  envId: string;
  token: string;
  heartbeatIntervalMs?: number;
  heartbeatTtlMs?: number;
  resyncIntervalMs?: number;
  /** Run ACL SAVE after each user change (for a Redis started with --aclfile). */
  aclSave?: boolean;
  /** Listen on this port (to start the server after an agent already tries it). */
  port?: number;
  /** Handed to agents as their secrets key (RegisterResponse.secretsKey), when given. */
  secretsKey?: { id: string; key: Buffer };
  /** The rules after `ACL SETUSER <user>`; default: the brief's list (aclRules below). */
  aclRules?: (host: { keyPrefix: string; envId: string; hostId: string; password: string }) => string[];
}

export function aclUserName(envId: string, hostId: string): string {
  return `drover-agent-${envId}-${hostId}`;
}

/** The ACL rule list the real server gives a host's agent. */
export function aclRules(pattern: string, password: string): string[] {
  return ["reset", "on", `>${password}`, "resetkeys", `~${pattern}`, "resetchannels", "-@all",
    "+get", "+set", "+xadd", "+xread", "+xrange", "+ping", "+hello", "+auth", "+client|setname", "+quit", "+reset"];
}

export class FakeRegistrationServer {
  readonly requests: RegisterRequest[] = [];
  readonly responses: RegisterResponse[] = [];
  private readonly users = new Set<string>();
  private server?: http.Server;
  url = "";

  constructor(private readonly options: FakeRegistrationOptions) {}

  /** The host id this fake gives a machine (stable, as the real server's is). */
  hostIdFor(machineId: string): string {
    return `h${createHash("sha256").update(this.options.envId + machineId).digest("hex").slice(0, 10)}`;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Stops listening and deletes every ACL user it made. */
  async close(): Promise<void> {
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    }
    for (const user of this.users) await this.options.admin.call("ACL", "DELUSER", user).catch(() => undefined);
    if (this.options.aclSave) await this.options.admin.call("ACL", "SAVE").catch(() => undefined);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== "/v1/register") return send(404, { type: "error", code: "NotFound", message: "not found" });
    let body = "";
    for await (const chunk of req) body += chunk;
    let request: RegisterRequest;
    try {
      request = JSON.parse(body) as RegisterRequest;
    } catch {
      return send(400, { type: "error", code: "InvalidJson", message: "body is not JSON" });
    }
    if (request.token !== this.options.token) return send(401, { type: "error", code: "Unauthorized", message: "unknown registration token" });
    for (const field of ["machineId", "hostname", "agentVersion", "dockerVersion", "kernelVersion"] as const) {
      if (typeof request[field] !== "string" || !request[field]) return send(422, { type: "error", code: "MissingField", message: `${field} is required`, fieldName: field });
    }
    this.requests.push(request);
    const { envId, keyPrefix, admin } = this.options;
    const hostId = this.hostIdFor(request.machineId);
    const username = aclUserName(envId, hostId);
    const password = randomBytes(24).toString("hex");
    const pattern = makeKeys(keyPrefix).host(envId, hostId).aclPattern;
    const rules = this.options.aclRules ? this.options.aclRules({ keyPrefix, envId, hostId, password }) : aclRules(pattern, password);
    await admin.call("ACL", "SETUSER", username, ...rules);
    if (this.options.aclSave) await admin.call("ACL", "SAVE");
    this.users.add(username);
    const response: RegisterResponse = {
      hostId,
      envId,
      redis: { url: this.options.redisUrl, username, password, keyPrefix },
      ...(this.options.secretsKey ? { secretsKey: { id: this.options.secretsKey.id, key: this.options.secretsKey.key.toString("base64") } } : {}),
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 500,
      heartbeatTtlMs: this.options.heartbeatTtlMs ?? 3_000,
      resyncIntervalMs: this.options.resyncIntervalMs ?? 60_000,
    };
    this.responses.push(response);
    send(201, response);
  }
}
