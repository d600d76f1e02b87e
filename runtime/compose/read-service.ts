/**
 * One docker-compose.yml service → the API's service body (links still by name). Keys the
 * model has no place for are warned about by path, never dropped silently.
 */
import type { ReadContext } from "./context";
import { splitShellWords } from "./shell-words";
import type { YamlPath } from "./yaml-source";

/** A service body as POST /services takes it, minus stackId and name; links by name. */
export type ServiceBody = Record<string, unknown> & { links?: Record<string, string> };

const WHY_NOT: Record<string, string> = {
  build: "drover runs images, it does not build them: build the image and push it where the hosts pull from",
  container_name: "drover names containers <stack>-<service>-<n> itself (one service may run many)",
  depends_on: "drover starts services together; a service that needs another should wait for it (links give the name)",
  networks: "every container sits on the environment's one overlay network",
  logging: "containers log with the host dockerd's default driver",
  secrets: "give secrets through the API's `secrets` field, sealed at rest",
  configs: "not supported",
};

export interface ServiceRead {
  body: ServiceBody;
  /** network_mode and volumes_from: meaningful only for a sidekick (read-compose.ts decides). */
  sidekickOnly: { network_mode?: { value: string; path: YamlPath }; volumes_from?: { value: string[]; path: YamlPath } };
  /** Service names this one links to, with the link's place (checked once all services are known). */
  linkPlaces: { target: string; path: YamlPath }[];
}

export function readService(ctx: ReadContext, name: string, raw: unknown, base: YamlPath): ServiceRead {
  const def = ctx.map(raw ?? {}, base, "a mapping of service keys (image, command, ports, ...)");
  const body: ServiceBody = {};
  const env: Record<string, string> = {};
  const linkPlaces: ServiceRead["linkPlaces"] = [];
  const sidekickOnly: ServiceRead["sidekickOnly"] = {};
  const at = (key: string): YamlPath => [...base, key];
  if (def.env_file !== undefined) Object.assign(env, readEnvFiles(ctx, def.env_file, at("env_file")));
  for (const [key, value] of Object.entries(def)) {
    const path = at(key);
    // Rancher's own ${stack_name} / ${service_name} in scheduling labels are the scheduler's macros, not variables.
    if (JSON.stringify(value ?? null).replace(/\$\{(stack_name|service_name)\}/g, "").includes("$")) {
      ctx.warn(path, "has a $: drover does not interpolate variables, ${VAR}, $VAR and $$ reach the container as written");
    }
    switch (key) {
      case "image": body.image = ctx.string(value, path, "an image name"); break;
      case "command": case "entrypoint": body[key] = words(ctx, value, path); break;
      case "environment": Object.assign(env, readEnvironment(ctx, value, path)); break;
      case "env_file": break;
      case "ports": body.ports = [...(body.ports as unknown[] ?? []), ...readPorts(ctx, value, path)]; break;
      case "expose": body.ports = [...readExpose(ctx, value, path), ...(body.ports as unknown[] ?? [])]; break;
      case "links": case "external_links": {
        const links = (body.links ??= {});
        ctx.stringList(value, path).forEach((text, i) => {
          const [target, alias] = splitLink(text, key === "external_links");
          const targetName = key === "external_links" ? externalTarget(ctx, target, [...path, i]) : target;
          if (!targetName) ctx.fail([...path, i], `expected "service" or "service:alias", got ${JSON.stringify(text)}`);
          if (links[alias] !== undefined) ctx.fail([...path, i], `the alias ${alias} is already used by another link of ${name}`);
          links[alias] = targetName;
          if (key === "links") linkPlaces.push({ target, path: [...path, i] });
        });
        break;
      }
      case "labels": body.labels = readStringMap(ctx, value, path, "labels"); break;
      case "restart": body.restartPolicy = readRestart(ctx, value, path); break;
      case "deploy": readDeploy(ctx, value, path, body); break;
      case "volumes": {
        const volumes = readVolumes(ctx, value, path);
        if (volumes.length) body.volumes = volumes;
        break;
      }
      case "privileged": case "tty": case "stdin_open":
        body[key === "stdin_open" ? "stdinOpen" : key] = ctx.boolean(value, path);
        break;
      case "cap_add": case "cap_drop":
        body[key === "cap_add" ? "capAdd" : "capDrop"] = ctx.stringList(value, path);
        break;
      case "dns_search":
        body.dnsSearch = ctx.stringList(value, path);
        break;
      case "network_mode": {
        const mode = ctx.string(value, path, "a network mode");
        sidekickOnly.network_mode = { value: mode, path };
        break;
      }
      case "volumes_from":
        sidekickOnly.volumes_from = { value: ctx.stringList(value, path), path };
        break;
      case "healthcheck":
        ctx.warn(path, "Docker's in-container check command is not run; drover checks over the network: give health_check (port, request_line) in rancher-compose.yml");
        break;
      default:
        ctx.warn(path, WHY_NOT[key] ? `not supported: ${WHY_NOT[key]}` : "not supported by drover; left out");
    }
  }
  if (Object.keys(env).length > 0) body.env = env;
  if (body.image === undefined) {
    ctx.fail(def.build !== undefined ? at("build") : base, "expected an `image:` (drover runs images; it does not build them)");
  }
  return { body, linkPlaces, sidekickOnly };
}

function words(ctx: ReadContext, value: unknown, path: YamlPath): string[] {
  if (Array.isArray(value)) return value.map((v, i) => ctx.string(v, [...path, i]));
  const split = splitShellWords(ctx.string(value, path, "a string or a list of strings"));
  if ("error" in split) ctx.fail(path, `cannot be split into words: ${split.error}`);
  return split;
}

/** `svc` → [svc, svc]; `svc:alias` → [svc, alias]; external `stack/svc` → [stack/svc, svc]. */
function splitLink(text: string, external: boolean): [string, string] {
  const colon = text.indexOf(":");
  if (colon >= 0) return [text.slice(0, colon), text.slice(colon + 1)];
  return [text, external ? text.slice(text.indexOf("/") + 1) : text];
}

/** external_links name `stack/service` (Rancher's form). */
function externalTarget(ctx: ReadContext, target: string, path: YamlPath): string {
  if (!/^[^/]+\/[^/]+$/.test(target)) ctx.fail(path, `expected "stack/service" or "stack/service:alias" (a service of another stack), got ${JSON.stringify(target)}`);
  return target;
}

export function readEnvironment(ctx: ReadContext, value: unknown, path: YamlPath): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const text = ctx.string(item, [...path, i], "NAME=value");
      const eq = text.indexOf("=");
      if (eq < 0) ctx.warn([...path, i], `${text} takes its value from the shell running compose; drover has none: left out`);
      else out[text.slice(0, eq)] = text.slice(eq + 1);
    });
    return out;
  }
  for (const [k, v] of Object.entries(ctx.map(value, path, "a list of NAME=value or a mapping"))) {
    if (v === null || v === undefined) ctx.warn([...path, k], `${k} takes its value from the shell running compose; drover has none: left out`);
    else out[k] = typeof v === "object" ? ctx.fail([...path, k], "expected a string, number or boolean") : String(v);
  }
  return out;
}

function readEnvFiles(ctx: ReadContext, value: unknown, path: YamlPath): Record<string, string> {
  const out: Record<string, string> = {};
  ctx.stringList(value, path).forEach((file, i) => {
    const here: YamlPath = Array.isArray(value) ? [...path, i] : path;
    const text = ctx.envFile(file);
    if (text === undefined) ctx.fail(here, `the env_file ${file} was not found (relative to ${ctx.src.file}; the API and Pulumi take env files as envFiles: {"${file}": "<text>"})`);
    text.split(/\r?\n/).forEach((line) => {
      const trimmed = line.trim();
      if (trimmed === "" || trimmed.startsWith("#")) return;
      const eq = trimmed.indexOf("=");
      if (eq > 0) out[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1);
      else ctx.warn(here, `${file}: the line ${JSON.stringify(trimmed.slice(0, 40))} is not NAME=value: left out`);
    });
  });
  return out;
}

function readStringMap(ctx: ReadContext, value: unknown, path: YamlPath, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const text = ctx.string(item, [...path, i], `${what} as key=value`);
      const eq = text.indexOf("=");
      out[eq < 0 ? text : text.slice(0, eq)] = eq < 0 ? "" : text.slice(eq + 1);
    });
    return out;
  }
  for (const [k, v] of Object.entries(ctx.map(value, path, `${what} as a list of key=value or a mapping`))) out[k] = v === null ? "" : ctx.string(v, [...path, k]);
  return out;
}

const SHORT_PORT = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(?:(\d+)?:)?(\d+)(?:\/(tcp|udp))?$/;

function readPorts(ctx: ReadContext, value: unknown, path: YamlPath): unknown[] {
  if (!Array.isArray(value)) ctx.fail(path, "expected a list of ports");
  const out: unknown[] = [];
  value.forEach((item, i) => {
    const here = [...path, i];
    if (typeof item === "object" && item !== null) {
      const long = ctx.map(item, here);
      for (const k of Object.keys(long)) if (!["target", "published", "protocol", "mode", "host_ip"].includes(k)) ctx.warn([...here, k], "not supported; left out");
      if (long.mode === "ingress") ctx.warn([...here, "mode"], "Swarm's routing mesh is not drover's: the port is published on the hosts that run the service (mode host)");
      out.push({
        containerPort: ctx.integer(long.target, [...here, "target"], 1, 65535),
        ...(long.published !== undefined ? { hostPort: ctx.integer(long.published, [...here, "published"], 1, 65535) } : {}),
        ...(long.protocol !== undefined ? { protocol: ctx.string(long.protocol, [...here, "protocol"]) } : {}),
        ...(long.host_ip !== undefined ? { hostIp: ctx.string(long.host_ip, [...here, "host_ip"]) } : {}),
      });
      return;
    }
    const text = ctx.string(item, here, 'a port such as "8080:80" or "80/udp"');
    const m = SHORT_PORT.exec(text.trim());
    if (!m) ctx.fail(here, `expected "[hostIp:]hostPort:containerPort[/tcp|udp]" (port ranges are not supported), got ${JSON.stringify(text)}`);
    const [, hostIp, hostPort, containerPort, protocol] = m;
    if (hostPort === undefined) {
      ctx.warn(here, `${text} publishes on a random host port, which drover does not do (host ports are part of placement): exposed on the overlay only; give "hostPort:${containerPort}" to publish`);
    }
    out.push({
      containerPort: Number(containerPort),
      ...(hostPort !== undefined ? { hostPort: Number(hostPort) } : {}),
      ...(protocol ? { protocol } : {}),
      ...(hostIp && hostPort !== undefined ? { hostIp } : {}),
    });
  });
  return out;
}

function readExpose(ctx: ReadContext, value: unknown, path: YamlPath): unknown[] {
  return ctx.stringList(value, path).map((text, i) => {
    const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(text.trim());
    if (!m) ctx.fail(Array.isArray(value) ? [...path, i] : path, `expected a container port such as "80" or "53/udp", got ${JSON.stringify(text)}`);
    return { containerPort: Number(m[1]), ...(m[2] ? { protocol: m[2] } : {}) };
  });
}

function readRestart(ctx: ReadContext, value: unknown, path: YamlPath): unknown {
  // YAML 1.1 reads a bare `no` as false: Compose users write `restart: no` and mean "no".
  const text = value === false ? "no" : ctx.string(value, path, "no, always, on-failure[:N] or unless-stopped");
  const m = /^on-failure:(\d+)$/.exec(text);
  if (m) return { name: "on-failure", maximumRetryCount: Number(m[1]) };
  if (!["no", "always", "on-failure", "unless-stopped"].includes(text)) ctx.fail(path, `expected no, always, on-failure[:N] or unless-stopped, got ${JSON.stringify(text)}`);
  return text;
}

/** Swarm's `deploy:`: replicas and mode map onto scale and global; the rest is warned about. */
function readDeploy(ctx: ReadContext, value: unknown, path: YamlPath, body: ServiceBody): void {
  for (const [k, v] of Object.entries(ctx.map(value, path))) {
    if (k === "replicas") body.scale = ctx.integer(v, [...path, k], 0, 10000);
    else if (k === "mode") {
      const mode = ctx.string(v, [...path, k]);
      if (mode !== "global" && mode !== "replicated") ctx.fail([...path, k], `expected global or replicated, got ${JSON.stringify(mode)}`);
      if (mode === "global") body.global = true;
    } else if (k === "labels") {
      ctx.warn([...path, k], "labels of the Swarm service object have no drover equivalent; service `labels:` go on the containers");
    } else ctx.warn([...path, k], "not supported (Swarm deploy options other than replicas and mode); left out");
  }
}

/**
 * Docker's volume forms: `name:/path[:ro]` (named, local driver), `/host:/path[:ro]` (bind),
 * the long form {type, source, target, read_only}. A relative bind (`./data:/data`) names a
 * path on the machine running compose, which drover's hosts do not have; an anonymous volume
 * (`/data`) would be lost with every replacement: both are warned about and left out.
 */
function readVolumes(ctx: ReadContext, value: unknown, path: YamlPath): string[] {
  if (!Array.isArray(value)) ctx.fail(path, "expected a list of volumes");
  const out: string[] = [];
  value.forEach((item, i) => {
    const here = [...path, i];
    let source: string | undefined;
    let target: string;
    let mode = "";
    if (typeof item === "object" && item !== null) {
      const long = ctx.map(item, here);
      for (const k of Object.keys(long)) if (!["type", "source", "target", "read_only"].includes(k)) ctx.warn([...here, k], "not supported; left out");
      if (long.type !== undefined && long.type !== "volume" && long.type !== "bind") return ctx.warn([...here, "type"], `${String(long.type)} mounts are not supported; left out`);
      source = long.source === undefined ? undefined : ctx.string(long.source, [...here, "source"]);
      target = ctx.string(long.target, [...here, "target"], "a container path");
      if (long.read_only !== undefined && ctx.boolean(long.read_only, [...here, "read_only"])) mode = ":ro";
    } else {
      const parts = ctx.string(item, here, 'a volume such as "data:/var/lib/mysql"').split(":");
      if (parts.length > 3) ctx.fail(here, `expected "[source:]target[:ro|rw]", got ${JSON.stringify(item)}`);
      if (parts.length === 1) [target] = parts;
      else if (parts.length === 2 && (parts[1] === "ro" || parts[1] === "rw")) [target, mode] = [parts[0], `:${parts[1]}`];
      else [source, target, mode] = [parts[0], parts[1], parts[2] ? `:${parts[2]}` : ""];
    }
    if (!target.startsWith("/")) ctx.fail(here, `expected an absolute container path, got ${JSON.stringify(target)}`);
    if (source === undefined) return ctx.warn(here, "an anonymous volume is lost with every container replacement; give it a name (name:/path); left out");
    if (source.startsWith(".") || source.startsWith("~")) return ctx.warn(here, "a relative host path names the machine running compose, not the hosts; give an absolute path or a named volume; left out");
    if (mode === ":rw") mode = "";
    out.push(`${source}:${target}${mode}`);
  });
  return out;
}
