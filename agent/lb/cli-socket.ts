/**
 * HAProxy's CLI over a unix socket: the master CLI (`-S`) and the worker's stats socket.
 * `cliCommand` sends one command and reads until HAProxy closes (non-interactive mode);
 * `cliBatch` sends several in one connection in prompt mode, where HAProxy ends each answer
 * with "\n> ", so every command's answer can be told apart (used for the stats socket only:
 * the master's prompt looks different).
 */
import * as net from "net";

export function cliCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return exchange(socketPath, `${command}\n`, timeoutMs);
}

export async function cliBatch(socketPath: string, commands: string[], timeoutMs = 5000): Promise<string[]> {
  if (commands.length === 0) return [];
  const raw = await exchange(socketPath, `prompt\n${commands.join("\n")}\nquit\n`, timeoutMs);
  // parts[0] answers `prompt` itself (nothing); then one part per command; the last follows `quit`.
  const parts = raw.split("\n> ");
  if (parts.length < commands.length + 1) {
    throw new Error(`HAProxy CLI ${socketPath}: ${commands.length} commands sent, ${parts.length - 1} answers read`);
  }
  return parts.slice(1, commands.length + 1).map((p) => p.replace(/\n+$/, ""));
}

function exchange(socketPath: string, input: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.createConnection(socketPath);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`HAProxy CLI ${socketPath}: no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", () => sock.end(input));
    sock.on("data", (d) => chunks.push(d));
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`HAProxy CLI ${socketPath}: ${err.message}`));
    });
    sock.on("close", (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}
