import t from "tap";
import { resolveServerConfig } from "../../../runtime/server/config";

// --advertise-url: the URL agents dial for the logs/exec streams this server holds (a server
// listening on 0.0.0.0 or :: cannot name itself). Checked where it is given, naming the flag.
t.test("--advertise-url: an http(s) origin, https when the API serves TLS", async (t) => {
  t.equal(resolveServerConfig({}, {}).advertiseUrl, undefined, "none by default (the listen address serves)");
  t.equal(resolveServerConfig({ "advertise-url": "http://10.0.0.5:8080" }, {}).advertiseUrl, "http://10.0.0.5:8080", "flag");
  t.equal(resolveServerConfig({}, { DROVER_ADVERTISE_URL: "http://drover-2.internal:8080/" }).advertiseUrl, "http://drover-2.internal:8080", "environment, trailing slash dropped");
  t.equal(resolveServerConfig({ "advertise-url": "https://[fd00::5]:8443", "api-tls": "on" }, {}).advertiseUrl, "https://[fd00::5]:8443", "https with the API on TLS");
  t.throws(() => resolveServerConfig({ "advertise-url": "http://10.0.0.5:8080", "api-tls": "on" }, {}), /--advertise-url: the API serves HTTPS/, "plain http refused when the API is on TLS");
  for (const bad of ["10.0.0.5:8080", "ftp://h", "http://h:8080/v1", "http://u:p@h", "http://h?x=1"]) {
    t.throws(() => resolveServerConfig({ "advertise-url": bad }, {}), /--advertise-url: expected http\(s\):\/\/HOST\[:PORT\] with no path/, `refused: ${bad}`);
  }
});
