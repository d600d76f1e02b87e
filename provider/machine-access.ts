/**
 * After a cloud driver made the machine and the host is active, its login goes to the
 * server (sealed there with the environment's key): the host's config download
 * (GET .../hosts/ID/config, `drover ssh HOST`) serves it.
 */
import { callApi, describeFailure } from "./client";
import type { Connection } from "./settings";
import { hostsPath } from "./host-api";

export async function sendMachineAccess(conn: Connection, envId: string, hostId: string, machine: any, hostKey?: string): Promise<void> {
  const path = `${hostsPath(envId, hostId)}/machineaccess`;
  const reply = await callApi(conn, "PUT", path, {
    user: "root", address: machine.publicIp, port: 22, privateKey: machine.privateKey, publicKey: machine.publicKey,
    ...(typeof hostKey === "string" && hostKey.startsWith("SHA256:") ? { hostKey } : {}),
  });
  if (reply.status !== 204) throw new Error(describeFailure("PUT", conn.endpoint + path, reply));
}
