/** POST /v1/register bodies (RegisterRequest). */
import type { RegisterRequest } from "../../protocol/agent-protocol";
import { checkHostLabels } from "./host";
import { isIpAddress } from "./net";
import { Problems } from "./problems";
import { ObjectReader } from "./reader";
import { HOSTNAME, LABEL_KEY, LABEL_VALUE, SECRET, VERSION } from "./rules";

const FIELDS = ["token", "machineId", "hostname", "labels", "agentVersion", "dockerVersion", "kernelVersion", "underlayIp", "identityKey", "signedAt", "signature"];
const PEM = { expected: "a PEM public key", pattern: /^-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\s*$/, maxLength: 4096 };
const TIME = { expected: "an ISO time such as 2026-01-01T00:00:00.000Z", pattern: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, maxLength: 40 };
const SIGNATURE = { expected: "a base64 signature", pattern: /^[A-Za-z0-9+/]+={0,2}$/, maxLength: 2048 };
const MACHINE_ID = { expected: "a machine id of letters, digits, _ . : -, at most 128 characters", pattern: /^[A-Za-z0-9_.:-]+$/, maxLength: 128 };

export function validateRegisterRequest(body: unknown): RegisterRequest {
  const p = new Problems();
  const r = new ObjectReader(p, body, "", FIELDS);
  const req = {
    token: r.string("token", { ...SECRET, required: true }),
    machineId: r.string("machineId", { ...MACHINE_ID, required: true }),
    hostname: r.string("hostname", { ...HOSTNAME, required: true }),
    labels: r.stringMap("labels", 256, LABEL_KEY, LABEL_VALUE) ?? {},
    agentVersion: r.string("agentVersion", { ...VERSION, required: true }),
    dockerVersion: r.string("dockerVersion", { ...VERSION, required: true }),
    kernelVersion: r.string("kernelVersion", { ...VERSION, required: true }),
    underlayIp: r.string("underlayIp", { expected: "an IP address", maxLength: 64 }),
    identityKey: r.string("identityKey", { ...PEM, required: true }),
    signedAt: r.string("signedAt", { ...TIME, required: true }),
    signature: r.string("signature", { ...SIGNATURE, required: true }),
  };
  if (req.underlayIp !== undefined && !isIpAddress(req.underlayIp)) p.invalid("underlayIp", "an IP address", req.underlayIp);
  checkHostLabels(p, req.labels);
  p.throwIfAny();
  const out = req as RegisterRequest;
  if (out.underlayIp === undefined) delete out.underlayIp;
  return out;
}
