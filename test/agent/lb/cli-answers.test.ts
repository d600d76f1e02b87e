/** Parsers of HAProxy 2.6's CLI answers, on output captured from it. */
import t from "tap";
import { parseServersState, parseShowProc } from "../../../agent/lb/cli-answers";

const SERVERS = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 b1 1 s1 127.0.0.1 2 4 1 1 0 1 0 0 8 0 0 0 - 18081 - 0 0 - - 0
3 b1 2 s2 0.0.0.0 0 5 1 1 1 1 0 0 8 0 0 0 - 1 - 0 0 - - 0
3 b1 3 s3 10.42.1.9 2 8 1 1 1 1 0 0 8 0 0 0 - 8080 - 0 0 - - 0
4 b2 1 s1 10.42.1.3 0 1 1 1 1 1 0 0 8 0 0 0 - 80 - 0 0 - - 0

`;

t.test("show servers state: admin state from the mask, port and addr from their columns", async (t) => {
  const s = parseServersState(SERVERS);
  t.same(s.map((x) => [x.backend, x.name, x.addr, x.port, x.admin, x.up]), [
    ["b1", "s1", "127.0.0.1", 18081, "ready", true],   // 0x04 (config "disabled") left over after `state ready`
    ["b1", "s2", "0.0.0.0", 1, "maint", false],        // 0x05
    ["b1", "s3", "10.42.1.9", 8080, "drain", true],    // 0x08
    ["b2", "s1", "10.42.1.3", 80, "maint", false],     // 0x01
  ]);
  t.throws(() => parseServersState("Unknown command\n"), /unexpected "show servers state" answer/);
});

t.test("show proc: master, reloads, failed reloads, current and old workers", async (t) => {
  const p = parseShowProc(`#<PID>          <type>          <reloads>       <uptime>        <version>
1162            master          5 [failed: 1]   0d00h02m07s     2.6.12-1+deb12u4
# workers
1271            worker          1               0d00h00m00s     2.6.12-1+deb12u4
# old workers
1233            worker          3               0d00h00m43s     2.6.12-1+deb12u4
# programs

`);
  t.same(p, { masterPid: 1162, reloads: 5, failedReloads: 1, workers: [1271], oldWorkers: [1233] });
  t.throws(() => parseShowProc(""), /unexpected "show proc" answer/);
});
