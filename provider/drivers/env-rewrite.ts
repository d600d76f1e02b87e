/**
 * Rewriting a running agent's env file. The agent reads it only when it starts (and registers
 * with it only when it has no identity, or Redis refused its saved one), so a label or token
 * changed in place is written here for that next registration; an agent re-registering with
 * the old labels would silently undo a label update.
 */
import { shellQuote as q } from "./ssh-runner";

/** Replaces `<stateDir>/agent.env` with stdin, atomically, 0600; refuses when the agent was never installed there. */
export function envRewriteScript(stateDir: string): string {
  const s = q(stateDir);
  return [
    "set -e",
    "umask 077",
    `[ -f ${q(stateDir + "/agent.env")} ] || { echo "no agent env file in "${s}": the agent is not installed there" >&2; exit 3; }`,
    `cat > ${q(stateDir + "/agent.env.tmp")} && mv -f ${q(stateDir + "/agent.env.tmp")} ${q(stateDir + "/agent.env")}`,
  ].join("\n");
}
