import t from "tap";
import { sessionServer } from "../../agent/streams/stream-dialer";

t.test("the agent dials the server a stream nudge names, never with less trust than its registration", async (t) => {
  t.equal(sessionServer("https://a:8443", undefined), "https://a:8443", "no server named: the registered one");
  t.equal(sessionServer("https://a:8443", ""), "https://a:8443", "an empty field: the registered one");
  t.equal(sessionServer("https://a:8443", "https://b:8443"), "https://b:8443", "the server holding the session");
  t.equal(sessionServer("http://127.0.0.1:8080", "http://127.0.0.2:8080"), "http://127.0.0.2:8080", "plain http when registered over plain http");
  t.equal(sessionServer("https://a:8443", "http://b:8080"), undefined, "no downgrade from https to http");
  t.equal(sessionServer("https://a:8443", "ftp://b"), undefined, "only http(s)");
  t.equal(sessionServer("https://a:8443", "not a url"), undefined, "a malformed URL");
});
