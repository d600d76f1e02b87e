/**
 * check() for Host inputs: every field validated with a message that starts with its path,
 * values preview does not know yet skipped, nothing but local parsing (no network). The
 * private key is parsed by ssh2 to tell a key from anything else; it is never quoted.
 */
import { isIP } from "net";
import { diskReserveLabelProblem } from "../runtime/protocol/disk-reserve";
import type { CheckFailure } from "./check";
import { unknownFieldFailures } from "./input-fields";
import { isUnknown } from "./unknown";
import { DIGITALOCEAN_FIELDS, digitalOceanFailures } from "./drivers/digitalocean/check";

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
/** What the agent's --labels parser accepts as a key (it splits items on , and &). */
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._\/:-]*[A-Za-z0-9])?$/;
/** Absolute paths that need no quoting in a shell or a systemd unit. */
const ABS_PATH = /^\/[A-Za-z0-9._\/+@:-]*$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;
const PUBKEY_LINE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+=*( .*)?$/;
const SSH_FIELDS = ["type", "address", "port", "user", "privateKey", "hostKey", "installDir", "stateDir", "dockerSocket", "underlayIp"];
const LOCAL_FIELDS = ["type", "stateDir", "dockerSocket", "underlayIp"];

const known = (v: unknown) => v !== undefined && v !== null && !isUnknown(v);
const labelPath = (k: string) => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? `labels.${k}` : `labels[${JSON.stringify(k)}]`);

export function hostFailures(news: Record<string, any>): CheckFailure[] {
  const out: CheckFailure[] = [];
  const fail = (property: string, reason: string) => out.push({ property, reason: `${property}: ${reason}` });

  const name = news.name;
  if (name === undefined || name === null) fail("name", "required: the host name the agent registers under");
  else if (known(name) && (typeof name !== "string" || name.length > 253 || !HOSTNAME.test(name))) {
    fail("name", `expected a hostname of letters, digits, dashes and dots, at most 253 characters, got ${JSON.stringify(name)}`);
  }

  const token = news.registrationToken;
  if (token === undefined || token === null) fail("registrationToken", "required: the Environment's registrationToken output");
  else if (known(token) && (typeof token !== "string" || !/^[\x21-\x26\x28-\x7e]{1,512}$/.test(token))) {
    fail("registrationToken", "expected a token string (printable, no spaces or quotes)");
  }

  const labels = news.labels;
  if (known(labels)) {
    if (typeof labels !== "object" || Array.isArray(labels)) fail("labels", "expected a map of label names to string values");
    else {
      for (const [k, v] of Object.entries(labels)) {
        if (!LABEL_KEY.test(k) || k.length > 253) fail(labelPath(k), "a label key may hold only letters, digits and . _ / : - and must start and end with a letter or digit");
        else if (/^io\.rancher\.host\.|^io\.drover\.host\./.test(k)) fail(labelPath(k), "io.rancher.host.* and io.drover.host.* labels are set by drover itself");
        else if (isUnknown(v)) continue;
        else if (typeof v !== "string") fail(labelPath(k), `expected a string value, got ${JSON.stringify(v)}`);
        else if (/[,&'\u0000-\u001f\u007f]/.test(v) || v.length > 1024) fail(labelPath(k), "a label value may not hold , & ' or control characters (at most 1024 characters)");
        else {
          const problem = diskReserveLabelProblem({ [k]: v });
          if (problem) fail(labelPath(k), problem.message);
        }
      }
    }
  }

  const wait = news.waitTimeoutSeconds;
  if (known(wait) && !(typeof wait === "number" && Number.isInteger(wait) && wait > 0 && wait <= 86400)) {
    fail("waitTimeoutSeconds", "expected a whole number of seconds from 1 to 86400");
  }

  out.push(...driverFailures(news.driver));
  return out;
}

function driverFailures(d: any): CheckFailure[] {
  const out: CheckFailure[] = [];
  const fail = (field: string, reason: string) => out.push({ property: `driver.${field}`, reason: `driver.${field}: ${reason}` });
  if (d === undefined || d === null) return [{ property: "driver", reason: "driver: required: { type: \"ssh\", address, privateKey, ... }, { type: \"local\" } or { type: \"digitalocean\", region, size, image, ... }" }];
  if (isUnknown(d)) return [];
  if (typeof d !== "object" || Array.isArray(d)) return [{ property: "driver", reason: "driver: expected an object such as { type: \"ssh\", address, privateKey }" }];
  if (isUnknown(d.type)) return [];
  if (d.type === "digitalocean") return [...unknownFieldFailures(d, DIGITALOCEAN_FIELDS, [], "driver"), ...digitalOceanFailures(d)];
  if (d.type !== "ssh" && d.type !== "local") {
    fail("type", `expected "ssh", "local" or "digitalocean", got ${JSON.stringify(d.type)}`);
    // Without a type, a misspelt field is still worth naming (`typ: "ssh"`).
    return [...out, ...unknownFieldFailures(d, SSH_FIELDS, [], "driver")];
  }
  const allowed = d.type === "ssh" ? SSH_FIELDS : LOCAL_FIELDS;
  for (const f of unknownFieldFailures(d, allowed, [], "driver")) {
    const key = f.property.slice("driver.".length);
    // A field of the other driver is not a typo: say which driver has it.
    out.push(SSH_FIELDS.includes(key) ? { property: f.property, reason: `${f.property}: not a field of the ${d.type} driver (fields: ${allowed.join(", ")})` } : f);
  }

  const path = (field: string) => {
    const v = d[field];
    if (known(v) && (typeof v !== "string" || v.length > 4096 || !ABS_PATH.test(v) || /(^|\/)\.\.(\/|$)/.test(v))) {
      fail(field, `expected an absolute path of letters, digits and . _ / + @ : - (no ..), got ${JSON.stringify(v)}`);
    }
  };
  path("stateDir");
  path("dockerSocket");
  if (known(d.underlayIp) && (typeof d.underlayIp !== "string" || isIP(d.underlayIp) === 0)) fail("underlayIp", `expected an IP address, got ${JSON.stringify(d.underlayIp)}`);
  if (d.type === "local") return out;

  path("installDir");
  if (d.address === undefined || d.address === null) fail("address", "required: the machine's IP address or DNS name");
  else if (known(d.address) && (typeof d.address !== "string" || (isIP(d.address) === 0 && !(HOSTNAME.test(d.address) && d.address.length <= 253)))) {
    fail("address", `expected an IP address or a DNS name, got ${JSON.stringify(d.address)}`);
  }
  if (known(d.port) && !(typeof d.port === "number" && Number.isInteger(d.port) && d.port >= 1 && d.port <= 65535)) {
    fail("port", `expected a TCP port from 1 to 65535, got ${JSON.stringify(d.port)}`);
  }
  if (known(d.user) && (typeof d.user !== "string" || !USER.test(d.user))) fail("user", `expected a user name, got ${JSON.stringify(d.user)}`);
  if (d.privateKey === undefined || d.privateKey === null) fail("privateKey", "required: an OpenSSH or PEM private key (passwords are not supported)");
  else if (known(d.privateKey)) {
    const problem = keyProblem(d.privateKey);
    if (problem) fail("privateKey", problem);
  }
  if (known(d.hostKey) && (typeof d.hostKey !== "string" || !(FINGERPRINT.test(d.hostKey.trim()) || PUBKEY_LINE.test(d.hostKey.trim())))) {
    fail("hostKey", "expected a host key fingerprint \"SHA256:…\" or a public key line \"ssh-ed25519 AAAA…\"");
  }
  return out;
}

/** Why the text is not a usable unencrypted private key; undefined when it is one. Never echoes the text. */
function keyProblem(key: unknown): string | undefined {
  if (typeof key !== "string" || !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(key)) {
    return "does not look like a private key (expected \"-----BEGIN OPENSSH PRIVATE KEY-----\" or a PEM private key)";
  }
  const { utils } = require("ssh2");
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) return `not a usable private key: ${parsed.message.replace(/\s+/g, " ").slice(0, 200)}`;
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || typeof first.isPrivateKey !== "function" || !first.isPrivateKey()) return "is a public key; a private key is needed";
  return undefined;
}
