import t from "tap";
import { freePort } from "../support/free-port";

// Benches and tests pick ports for servers they start later: two picks must never be the same
// port, though the kernel hands a closed port out again (6 repeats in 300 picks measured here;
// a `scale` run lost a server to EADDRINUSE that way).
t.test("freePort never hands the same port out twice in a process", async (t) => {
  const ports: number[] = [];
  for (let i = 0; i < 500; i++) ports.push(await freePort());
  t.equal(new Set(ports).size, ports.length, `${ports.length} picks, all different`);
});
