/**
 * A child process answering HTTP checks 20 ms late, telling its parent (IPC "request") the
 * moment a request arrives: a test can stall its own event loop right then, knowing the
 * answer will land in the kernel during the stall. Run with the address to listen on; it
 * reports its port first and exits when the parent goes.
 */
import { createServer, type AddressInfo } from "net";

export const ANSWER_DELAY_MS = 20;

if (require.main === module) {
  const host = process.argv[2];
  const server = createServer((s) => {
    s.on("error", () => undefined);
    s.once("data", () => {
      process.send!("request");
      setTimeout(() => s.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), ANSWER_DELAY_MS);
    });
  });
  server.listen(0, host, () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on("disconnect", () => process.exit(0));
}
