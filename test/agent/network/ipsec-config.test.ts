import t from "tap";
import { charonConf, charonPlugins, connName, peerConnection, peerOfConn, sharedSecret, validateIpsecSpec } from "../../../agent/network/ipsec-config";
import type { HostNetworkSpec } from "../../../runtime/protocol/model";

// What charon is told, pure: plugin order, one mirrored connection per peer, the PSK's owners.

const spec: HostNetworkSpec = {
  cidr: "10.42.0.0/16", subnet: "10.42.1.0/24", gateway: "10.42.1.1", underlayIp: "198.18.0.11",
  peers: [
    { hostId: "h2", name: "two", underlayIp: "198.18.0.12", subnet: "10.42.2.0/24" },
    { hostId: "h3", name: "three", underlayIp: "198.18.0.13", subnet: "10.42.3.0/24" },
  ],
  ipsec: { pskId: "psk-1", psk: "0123456789abcdef0123456789abcdef" },
};

t.test("libipsec is loaded before kernel-netlink, and only without kernel ESP", async (t) => {
  const lib = charonPlugins("libipsec");
  t.ok(lib.includes("kdf"), "kdf loaded (key derivation)");
  t.ok(lib.indexOf("kernel-libipsec") >= 0 && lib.indexOf("kernel-libipsec") < lib.indexOf("kernel-netlink"));
  t.notOk(charonPlugins("kernel").includes("kernel-libipsec"));
  const conf = charonConf({ mode: "libipsec", viciSocket: "/s/charon.vici", logFile: "/s/charon.log" });
  t.match(conf, /socket = unix:\/\/\/s\/charon\.vici/);
  t.match(conf, /load = .*kdf.* kernel-libipsec kernel-netlink/);
  t.match(conf, /path = \/s\/charon\.log/);
});

t.test("each peer's tunnel has its own fixed reqid, from its subnet's place in the range", async (t) => {
  const { reqidFor } = await import("../../../agent/network/ipsec-config");
  t.equal(reqidFor("10.42.0.0/16", "10.42.0.0/24"), 1);
  t.equal(reqidFor("10.42.0.0/16", "10.42.255.0/24"), 256);
  t.equal(reqidFor("10.42.0.0/16", "10.42.0.64/26"), 2);
  t.throws(() => reqidFor("10.42.0.0/16", "10.41.0.0/24"), /outside the overlay range/);
});

t.test("one connection per peer, the mirror image of the peer's", async (t) => {
  const conn = peerConnection(spec, spec.peers[0]);
  t.same(conn, {
    "peer-h2": {
      version: "2", local_addrs: ["198.18.0.11"], remote_addrs: ["198.18.0.12"], encap: "yes", mobike: "no",
      dpd_delay: "2s", keyingtries: "0", unique: "replace", proposals: ["aes128-sha256-x25519"],
      local: { auth: "psk", id: "198.18.0.11" }, remote: { auth: "psk", id: "198.18.0.12" },
      children: { "peer-h2": {
        local_ts: ["10.42.1.0/24"], remote_ts: ["10.42.2.0/24"], reqid: "3", esp_proposals: ["aes128gcm16"], mode: "tunnel",
        start_action: "start", dpd_action: "restart", close_action: "none",
      } },
    },
  });
  // The peer builds the same connection from its own point of view.
  const peerSpec: HostNetworkSpec = { ...spec, subnet: "10.42.2.0/24", gateway: "10.42.2.1", underlayIp: "198.18.0.12",
    peers: [{ hostId: "h1", name: "one", underlayIp: "198.18.0.11", subnet: "10.42.1.0/24" }] };
  const back = peerConnection(peerSpec, peerSpec.peers[0])["peer-h1"] as any;
  t.same([back.local_addrs, back.remote_addrs, back.children["peer-h1"].local_ts, back.children["peer-h1"].remote_ts],
    [["198.18.0.12"], ["198.18.0.11"], ["10.42.2.0/24"], ["10.42.1.0/24"]]);
  t.same([back.children["peer-h1"].start_action, back.children["peer-h1"].dpd_action], ["start", "clear"],
    "after an outage only the lower address re-makes the tunnel; both start it when charon starts");
  const far = peerConnection({ ...spec, underlayIp: "198.18.0.9" }, { ...spec.peers[0], underlayIp: "198.18.0.100" })["peer-h2"] as any;
  t.equal(far.children["peer-h2"].dpd_action, "restart", "addresses compare as numbers, not text");
  t.equal(peerOfConn(connName({ hostId: "h7" })), "h7");
  t.equal(peerOfConn("someone-else"), undefined, "connections drover did not make are not peers");
});

t.test("the PSK is owned by this host and every peer", async (t) => {
  t.same(sharedSecret(spec), { id: "drover-psk", type: "IKE", data: spec.ipsec.psk, owners: ["198.18.0.11", "198.18.0.12", "198.18.0.13"] });
});

t.test("a bad spec is refused with the field named", async (t) => {
  t.throws(() => validateIpsecSpec({ ...spec, underlayIp: undefined }), /network\.underlayIp/);
  t.throws(() => validateIpsecSpec({ ...spec, ipsec: { pskId: "x", psk: "short" } }), /network\.ipsec\.psk/);
  t.throws(() => validateIpsecSpec({ ...spec, ipsec: { pskId: "", psk: spec.ipsec.psk } }), /network\.ipsec\.pskId/);
  t.throws(() => validateIpsecSpec({ ...spec, peers: [{ ...spec.peers[0], underlayIp: "300.1.1.1" }] }), /network\.peers\[0\]\.underlayIp/);
  t.throws(() => validateIpsecSpec({ ...spec, peers: [spec.peers[0], { ...spec.peers[1], subnet: "10.42.3.0" }] }), /network\.peers\[1\]\.subnet/);
  t.throws(() => validateIpsecSpec({ ...spec, peers: [{ ...spec.peers[0], hostId: "a b" }] }), /network\.peers\[0\]\.hostId/);
  t.doesNotThrow(() => validateIpsecSpec(spec));
});
