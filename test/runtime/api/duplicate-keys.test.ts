import t from "tap";
import { firstDuplicateKey } from "../../../runtime/api/duplicate-keys";

// JSON.parse keeps the last of two equal keys; the API refuses such a body instead.
t.test("a key given twice is found with its path; strings and arrays do not confuse it", async (t) => {
  t.equal(firstDuplicateKey('{"scale": 1, "scale": 2}'), "scale");
  t.equal(firstDuplicateKey('{"a": {"b": 1, "c": {"d": 1}, "b": 2}}'), "a.b");
  t.equal(firstDuplicateKey('{"rules": [{"port": 1}, {"port": 2, "x": 1, "port": 3}]}'), "rules[1].port");
  t.equal(firstDuplicateKey('{"a": "}{\\"a\\": 1", "b": ["a", "a"], "c": [{"a": 1}, {"a": 2}]}'), undefined, "keys in strings, repeated values, separate objects");
  t.equal(firstDuplicateKey('{"\\u0061": 1, "a": 2}'), "a", "escapes are decoded before comparing");
  t.equal(firstDuplicateKey('[1, {"k": [{}]}, "x"]'), undefined);
});
