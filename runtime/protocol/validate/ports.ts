/**
 * A service's ports: objects `{containerPort, hostPort?, protocol?, hostIp?}` or `docker run
 * -p`'s form `"[hostIp:]hostPort:containerPort[/tcp|udp]"`. Two ports may not publish the
 * same host address, port and protocol.
 *
 * A bare `"8080"` is refused, with the reason: `docker run -p 8080` publishes on a random
 * host port, which drover does not do (a host port is part of placement: the scheduler keeps
 * two users of one host port apart), and reading it as "expose only" would publish nothing
 * where a Docker user expects a published port. The object form `{containerPort: 8080}` is
 * the way to say "not published".
 */
import type { PortSpec } from "../../protocol/model";
import { isIpAddress } from "./net";
import { Problems } from "./problems";
import { ObjectReader, checkInteger, indexPath } from "./reader";

const MAX_PORTS = 100;
const PORT_FIELDS = ["containerPort", "hostPort", "protocol", "hostIp"];
const SHORT_FORM = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(?:(\d+):)?(\d+)(?:\/(\w+))?$/;

export function validatePorts(p: Problems, value: unknown, path: string): PortSpec[] | undefined {
  if (!Array.isArray(value) || value.length > MAX_PORTS) {
    p.invalid(path, `a list of at most ${MAX_PORTS} ports`, value);
    return undefined;
  }
  const before = p.list.length;
  const ports = value.map((item, i) =>
    typeof item === "string" ? shortForm(p, item, indexPath(path, i)) : objectForm(p, item, indexPath(path, i)));
  if (p.list.length !== before) return undefined;
  const seen = new Map<string, number>();
  ports.forEach((port, i) => {
    if (port!.hostPort === undefined) return;
    const key = `${port!.hostIp ?? "0.0.0.0"}:${port!.hostPort}/${port!.protocol}`;
    const first = seen.get(key);
    if (first !== undefined) p.invalid(`${indexPath(path, i)}.hostPort`, `a host port not already published by ${indexPath(path, first)}`, port!.hostPort);
    else seen.set(key, i);
  });
  return p.list.length === before ? (ports as PortSpec[]) : undefined;
}

function objectForm(p: Problems, value: unknown, path: string): PortSpec | undefined {
  const r = new ObjectReader(p, value, path, PORT_FIELDS);
  const containerPort = r.integer("containerPort", 1, 65535, true);
  const hostPort = r.integer("hostPort", 1, 65535);
  const protocol = r.string("protocol", { expected: "tcp or udp", oneOf: ["tcp", "udp"] }) ?? "tcp";
  const hostIp = r.string("hostIp", { expected: "an IP address", maxLength: 64 });
  if (hostIp !== undefined && !isIpAddress(hostIp)) p.invalid(r.at("hostIp"), "an IP address", hostIp);
  if (hostIp !== undefined && hostPort === undefined && r.valid && !r.has("hostPort")) {
    p.invalid(r.at("hostIp"), "to be given only with hostPort", hostIp);
  }
  if (containerPort === undefined) return undefined;
  return { containerPort, protocol: protocol as PortSpec["protocol"], ...(hostPort !== undefined ? { hostPort } : {}), ...(hostIp !== undefined ? { hostIp } : {}) };
}

function shortForm(p: Problems, text: string, path: string): PortSpec | undefined {
  const m = SHORT_FORM.exec(text);
  const expected = 'a port such as "8080:80", "53:53/udp", "127.0.0.1:8080:80" or {"containerPort": 80, "hostPort": 8080}';
  if (!m || (m[1] !== undefined && m[2] === undefined)) {
    p.invalid(path, expected, text);
    return undefined;
  }
  if (m[2] === undefined) {
    const [, , , port, protocol] = m;
    const suffix = protocol === undefined ? "" : `/${protocol}`;
    p.add("InvalidField", path, `${JSON.stringify(text)} has no host port: \`docker run -p ${text}\` would publish container port ${port} on a random host port, which drover does not do; ` +
      `write "${port}:${port}${suffix}" to publish it on host port ${port}, or {"containerPort": ${port}${protocol ? `, "protocol": "${protocol}"` : ""}} to leave it unpublished`);
    return undefined;
  }
  const [, hostIp, hostPortText, containerText, protocol = "tcp"] = m;
  if (hostIp !== undefined && !isIpAddress(hostIp)) p.invalid(path, `${expected} (${hostIp} is not an IP address)`, text);
  const containerPort = checkInteger(p, Number(containerText), path, 1, 65535);
  const hostPort = hostPortText === undefined ? undefined : checkInteger(p, Number(hostPortText), path, 1, 65535);
  if (protocol !== "tcp" && protocol !== "udp") p.invalid(path, "protocol tcp or udp", text);
  if (containerPort === undefined) return undefined;
  return { containerPort, protocol: protocol as PortSpec["protocol"], ...(hostPort !== undefined ? { hostPort } : {}), ...(hostIp !== undefined ? { hostIp } : {}) };
}
