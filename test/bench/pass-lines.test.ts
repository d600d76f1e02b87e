import t from "tap";
import { passesSince } from "../../bench/support/pass-lines";

// The control-plane benchmark's `passes` come from the server's pino JSON lines.
t.test("server passes are read from the JSON log, agents' reconciles and other lines left out", async (t) => {
  const from = Date.parse("2026-12-03T04:46:10.000Z");
  const log = [
    '{"level":"info","time":"2026-12-03T04:46:09.990Z","component":"server[s1]","envId":"e1","puts":5,"removes":0,"desiredDocs":1,"dns":true,"teardown":0,"msg":"reconciled"}',
    '{"level":"info","time":"2026-12-03T04:46:10.853Z","component":"server[s1]","envId":"e1","puts":0,"removes":2,"desiredDocs":3,"dns":true,"teardown":0,"ms":{"read":4,"plan":9,"total":20},"msg":"reconciled"}',
    '{"level":"info","time":"2026-12-03T04:46:10.900Z","component":"agent","actions":2,"msg":"reconciled"}',
    '{"level":"info","time":"2026-12-03T04:46:10.950Z","msg":"reconcile stream read"}',
    "2026-12-03T04:46:10.960Z server[s1] reconciled envId=e1 puts=1 removes=0 desiredDocs=1 dns=false teardown=0",
    '{"level":"info","time":"2026-12-03T04:46:11.977Z","component":"server[s1]","envId":"e1","puts":1000,"removes":0,"desiredDocs":100,"dns":false,"teardown":0,"msg":"reconciled"}',
    '{"level":"info","time":"2026-12-03T04:46:12.100Z","component":"server[s1]","envId":"e1","puts":7,"removes":0,"desiredDocs":1,"msg":"reconciled"}',
    '{"truncated',
  ].join("\n");
  t.same(passesSince(log, from, from + 2000), [
    { atMs: 853, puts: 0, removes: 2, desiredDocs: 3, ms: { read: 4, plan: 9, total: 20 } },
    { atMs: 1977, puts: 1000, removes: 0, desiredDocs: 100 },
  ], "the server's two passes in the window (+50 ms), with their step timings where logged");
});
