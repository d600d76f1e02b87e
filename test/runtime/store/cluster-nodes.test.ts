import t from "tap";
import { parseClusterNodes } from "../../../runtime/store/cluster-nodes";

t.test("CLUSTER NODES lines: the announced hostname is dialled when there is one", async (t) => {
  const text = [
    "a1 127.0.0.1:30001@40001,redis-a.internal myself,master - 0 0 1 connected 0-5460",
    "b2 127.0.0.1:30002@40002 master - 0 1 2 connected 5461-10922",
    "c3 10.0.0.3:30003@40003, slave a1 0 1 1 connected",
    "d4 10.0.0.4:30004@40004,redis-d master,fail - 0 1 3 disconnected",
    "e5 :0@0 master,noaddr - 0 0 0 disconnected",
    "",
  ].join("\n");
  t.same(parseClusterNodes(text), [
    { address: "redis-a.internal:30001", primary: true, unusable: false },
    { address: "127.0.0.1:30002", primary: true, unusable: false },
    { address: "10.0.0.3:30003", primary: false, unusable: false },
    { address: "redis-d:30004", primary: true, unusable: true },
    { address: ":0", primary: true, unusable: true },
  ]);
});
