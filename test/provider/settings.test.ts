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

t.test("drover:caFingerprint is normalized into the connection; a malformed one is refused, naming the key", async (t) => {
  const hex = "c0".repeat(32);
  const colons = hex.toUpperCase().match(/../g)!.join(":");
  const good = settingsFromConfig(config({ "drover:endpoint": "https://10.0.0.1:8443", "drover:apiKey": "k", "drover:caFingerprint": colons }));
  t.same(connectionFor({}, good, "apiKey"), { endpoint: "https://10.0.0.1:8443", key: "k", caFingerprint: `sha256:${hex}` });
  const bad = settingsFromConfig(config({ "drover:endpoint": "https://10.0.0.1:8443", "drover:apiKey": "k", "drover:caFingerprint": "sha256:abc" }));
  t.throws(() => connectionFor({}, bad, "apiKey"), { message: /^drover:caFingerprint: expected a SHA-256 fingerprint/ });
  t.match(connectionFailures({}, bad, "apiKey"), [{ property: "endpoint", reason: /^drover:caFingerprint: / }], "check() names it");
});
