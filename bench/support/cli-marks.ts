/**
 * Preloaded (`node -r`) into a CLI process by the exec benchmark to tell where its wall time
 * goes: when Node's bootstrap hands over (ms since the process started), when each HTTP
 * request starts and its response ends (the token POST; the websocket upgrade starts a
 * request too), and when the process exits. Printed as one `DROVER_MARKS {json}` line on stderr.
 */
import * as diagnostics from "diagnostics_channel";

const marks: Array<[string, number]> = [["boot", performance.now()]];
const at = (name: string) => () => marks.push([name, Math.round(performance.now() * 10) / 10]);
diagnostics.subscribe("http.client.request.start", at("requestStart"));
diagnostics.subscribe("http.client.response.finish", at("responseEnd"));
process.on("exit", () => {
  at("exit")();
  process.stderr.write(`DROVER_MARKS ${JSON.stringify(marks)}\n`);
});
