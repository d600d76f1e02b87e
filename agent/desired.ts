import type { HostDesiredState } from "../runtime/protocol/model";
import { checkCadence } from "../runtime/protocol/heartbeat-cadence";

/**
 * Parses the desired document; throws with a reason if it is not one this host can apply.
 * A bad document is never applied (it could otherwise remove every container).
 */
export function parseDesired(text: string, hostId: string): HostDesiredState {
  const doc = JSON.parse(text) as HostDesiredState;
  if (!doc || typeof doc !== "object") throw new Error("desired state is not an object");
  if (doc.hostId !== hostId) throw new Error(`desired state is for host ${JSON.stringify(doc.hostId)}, not ${hostId}`);
  if (!Number.isInteger(doc.generation)) throw new Error("desired state has no integer generation");
  if (!Array.isArray(doc.instances)) throw new Error("desired state has no instances array");
  for (const [i, inst] of doc.instances.entries()) {
    if (typeof inst?.id !== "string" || !inst.id) throw new Error(`instances[${i}].id missing`);
    if (typeof inst.name !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(inst.name)) throw new Error(`instances[${i}].name ${JSON.stringify(inst.name)} is not a valid container name`);
    if (typeof inst.spec?.image !== "string" || !inst.spec.image) throw new Error(`instances[${i}].spec.image missing`);
  }
  if (doc.heartbeat !== undefined) checkCadence(doc.heartbeat, "desired state heartbeat");
  return doc;
}
