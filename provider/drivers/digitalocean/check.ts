/** check() of the `digitalocean` driver's inputs: local parsing only, each message naming its field. */
import type { CheckFailure } from "../../check";
import { isUnknown } from "../../unknown";
import { DIGITALOCEAN_IMAGES } from "./inputs";

export const DIGITALOCEAN_FIELDS = ["type", "token", "region", "size", "image", "tags", "vpcUuid", "monitoring", "sshKeys", "installDir", "stateDir"];

const SLUG = /^[a-z0-9][a-z0-9-]{0,63}$/;
const TAG = /^[A-Za-z0-9:_-]{1,255}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MD5_FINGERPRINT = /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/i;
const ABS_PATH = /^\/[A-Za-z0-9._\/+@:-]*$/;

const known = (v: unknown) => v !== undefined && v !== null && !isUnknown(v);

export function digitalOceanFailures(d: Record<string, any>): CheckFailure[] {
  const out: CheckFailure[] = [];
  const fail = (field: string, reason: string) => out.push({ property: `driver.${field}`, reason: `driver.${field}: ${reason}` });
  for (const field of ["region", "size"]) {
    const v = d[field];
    if (v === undefined || v === null) fail(field, `required: a DigitalOcean ${field} slug`);
    else if (known(v) && (typeof v !== "string" || !SLUG.test(v))) fail(field, `expected a ${field} slug such as ${field === "region" ? "\"fra1\"" : "\"s-1vcpu-2gb\""}, got ${JSON.stringify(v)}`);
  }
  if (d.image === undefined || d.image === null) fail("image", `required: one of ${DIGITALOCEAN_IMAGES.join(", ")}`);
  else if (known(d.image) && !(DIGITALOCEAN_IMAGES as readonly unknown[]).includes(d.image)) fail("image", `expected one of ${DIGITALOCEAN_IMAGES.join(", ")}, got ${JSON.stringify(d.image)}`);
  if (known(d.token) && (typeof d.token !== "string" || !/^[\x21-\x7e]{10,256}$/.test(d.token))) fail("token", "expected a DigitalOcean API token (printable, no spaces)");
  if (known(d.tags)) {
    if (!Array.isArray(d.tags)) fail("tags", "expected a list of tag names");
    else d.tags.forEach((t: unknown, i: number) => {
      if (known(t) && (typeof t !== "string" || !TAG.test(t))) fail(`tags[${i}]`, `expected letters, digits, : _ - (at most 255), got ${JSON.stringify(t)}`);
      else if (typeof t === "string" && t.startsWith("drover-host:")) fail(`tags[${i}]`, "drover-host:* tags are set by drover itself");
    });
  }
  if (known(d.vpcUuid) && (typeof d.vpcUuid !== "string" || !UUID.test(d.vpcUuid))) fail("vpcUuid", `expected a VPC UUID, got ${JSON.stringify(d.vpcUuid)}`);
  if (known(d.monitoring) && typeof d.monitoring !== "boolean") fail("monitoring", `expected true or false, got ${JSON.stringify(d.monitoring)}`);
  if (known(d.sshKeys)) {
    if (!Array.isArray(d.sshKeys)) fail("sshKeys", "expected a list of SSH key ids or MD5 fingerprints on the account");
    else d.sshKeys.forEach((k: unknown, i: number) => {
      const ok = (typeof k === "number" && Number.isInteger(k) && k > 0) || (typeof k === "string" && (MD5_FINGERPRINT.test(k) || /^[1-9][0-9]*$/.test(k)));
      if (known(k) && !ok) fail(`sshKeys[${i}]`, `expected a key id or an MD5 fingerprint "aa:bb:…", got ${JSON.stringify(k)}`);
    });
  }
  for (const field of ["installDir", "stateDir"]) {
    const v = d[field];
    if (known(v) && (typeof v !== "string" || !ABS_PATH.test(v) || /(^|\/)\.\.(\/|$)/.test(v))) fail(field, `expected an absolute path of letters, digits and . _ / + @ : - (no ..), got ${JSON.stringify(v)}`);
  }
  return out;
}
