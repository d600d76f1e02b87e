import t from "tap";
import { connectionFor, endpointProblem, settingsFromConfig } from "../../provider/settings";
import { connectionFailures } from "../../provider/check";

// The server URL from config is checked like the `endpoint` input: a bad one is refused with
// its name, never handed to an agent.
const config = (values: Record<string, string>) => ({ get: (k: string) => values[k] });

t.test("a bad drover:endpoint is refused, naming the config key", async (t) => {
  for (const bad of ["http://10.0.0.1:8080'; touch /tmp/x; '", "ftp://10.0.0.1", "http://user:pw@10.0.0.1", "10.0.0.1:8080", "http://a b"]) {
    const settings = settingsFromConfig(config({ "drover:endpoint": bad, "drover:apiKey": "k" }));
    t.equal(settings.endpoint, undefined, `${bad}: not taken`);
    t.match(settings.endpointError, /^drover:endpoint: /);
    t.throws(() => connectionFor({}, settings, "apiKey"), { message: /^drover:endpoint: / });
    t.match(connectionFailures({}, settings, "apiKey"), [{ property: "endpoint", reason: /^drover:endpoint: / }], "check() names it");
  }
  t.same(connectionFor({}, settingsFromConfig(config({ "drover:endpoint": "https://10.0.0.1:8443/", "drover:apiKey": "k" })), "apiKey"),
    { endpoint: "https://10.0.0.1:8443", key: "k" });
  t.equal(endpointProblem("http://[fd00::1]:8080", "endpoint"), undefined, "IPv6 literals are fine");
});
