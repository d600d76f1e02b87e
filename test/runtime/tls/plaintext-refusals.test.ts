import t from "tap";
import { refusePlaintextRedis } from "../../../agent/redis-tls-credentials";
import { resolveServerConfig } from "../../../runtime/server/config";

// Where TLS is configured, a Redis password must not go out in the clear: the server refuses
// to start handing agents a plaintext Redis beyond loopback, and an agent that reached the
// server over HTTPS refuses such a URL whatever the server says.
t.test("the server: --api-tls on with a plaintext agent Redis beyond loopback does not start", async (t) => {
  t.throws(() => resolveServerConfig({ redis: "redis://10.0.0.1:6379", listen: "10.0.0.1:8080", "api-tls": "on" }, {}),
    /--agent-redis: redis:\/\/10\.0\.0\.1:6379 would have agents on other machines send their Redis passwords in the clear/);
  t.equal(resolveServerConfig({ redis: "redis://127.0.0.1:6379", "api-tls": "on" }, {}).apiTls, true, "loopback Redis: agents on this machine only");
  t.equal(resolveServerConfig({ redis: "rediss://10.0.0.1:6380", listen: "10.0.0.1:8080", "api-tls": "on" }, {}).agentRedisUrl, "rediss://10.0.0.1:6380");
});

t.test("the server: TLS stays off unless asked; auto turns it on beyond loopback", async (t) => {
  t.equal(resolveServerConfig({}, {}).apiTls, false, "default (auto) on loopback: off");
  t.equal(resolveServerConfig({ listen: "0.0.0.0:8080" }, {}).apiTls, true, "default (auto) beyond loopback: on");
  t.equal(resolveServerConfig({ listen: "0.0.0.0:8080", "api-tls": "off" }, {}).apiTls, false, "off when asked");
  t.equal(resolveServerConfig({ "api-tls": "auto" }, {}).apiTls, false, "auto on loopback: off");
  t.equal(resolveServerConfig({ listen: "10.0.0.1:8080", redis: "rediss://10.0.0.1:6380", "api-tls": "auto" }, {}).apiTls, true, "auto beyond loopback: on");
  t.throws(() => resolveServerConfig({ "api-tls": "yes" }, {}), /--api-tls: expected off, on or auto, got "yes"/);
  t.throws(() => resolveServerConfig({ "tls-cert": "/x.pem" }, {}), /--tls-cert and --tls-key go together/);
});

t.test("the agent: over HTTPS, a plaintext Redis URL beyond loopback is refused", async (t) => {
  t.throws(() => refusePlaintextRedis("https://10.0.0.1:8443", "redis://10.0.0.1:6379"), { code: "Forbidden", message: /refusing to send the Redis password in the clear/ });
  t.doesNotThrow(() => refusePlaintextRedis("https://10.0.0.1:8443", "rediss://10.0.0.1:6380"));
  t.doesNotThrow(() => refusePlaintextRedis("https://127.0.0.1:8443", "redis://127.0.0.1:6379"));
  t.doesNotThrow(() => refusePlaintextRedis("http://10.0.0.1:8080", "redis://10.0.0.1:6379"), "plain HTTP setups are unchanged");
});
