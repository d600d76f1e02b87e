import { DroverError } from "../protocol/errors";

/**
 * The DroverError for a script's non-OK status (see each script's header for the statuses
 * and their details). `subject` names what was being written, for the message.
 */
export function scriptRefusal(status: string, details: unknown[], subject: string): DroverError {
  switch (status) {
    case "NO_ENV":
      return new DroverError("NotFound", `${subject}: environment not found`, { field: "envId" });
    case "NO_HOST":
      return new DroverError("NotFound", `${subject}: host not found`, { field: "hostId" });
    case "REV_MISMATCH":
      return new DroverError("RevisionMismatch", `${subject}: the environment changed (now at revision ${details[0]})`, {
        retryable: true,
        detail: { currentRev: Number(details[0]) },
      });
    case "NOT_LEADER":
      return new DroverError("NotLeader", `${subject}: this server no longer holds the environment's leader lease`, { retryable: true });
    case "CONFLICT": {
      const [kind, name, holderId] = details.map(String);
      const shown = kind === "service" || kind === "loadBalancer" ? name.slice(name.indexOf("/") + 1) : name;
      return new DroverError("Conflict", `${subject}: a ${kind} named "${shown}" already exists (${holderId})`, {
        field: "name",
        detail: { kind, name: shown, existingId: holderId },
      });
    }
    case "ENV_EXISTS":
      return new DroverError("Conflict", `${subject}: the environment already exists`, { field: "id" });
    case "API_KEY_TAKEN":
      return new DroverError("Conflict", `${subject}: the API key is already in use`, { field: "apiKey" });
    case "TOKEN_TAKEN":
      return new DroverError("Conflict", `${subject}: the registration token is already in use`, { field: "token" });
    case "BAD_RECORD":
      return new DroverError("InvalidField", `${subject}: ${details.map(String).join(" ")}`);
    default:
      return new DroverError("Internal", `${subject}: unexpected script status ${status}`);
  }
}
