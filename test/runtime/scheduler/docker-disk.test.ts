/** Hosts whose Docker data root is nearly full take no new instances; the reason is told per host. */
import t from "tap";
import { DOCKER_DISK_RESERVE_LABEL, dockerDiskShortage, indexSnapshot, schedule } from "../../../runtime/scheduler";
import { diskReserveBytes, parseDiskReserve } from "../../../runtime/scheduler/docker-disk";
import { hostSet, host, request, service, snapshot } from "./fixtures";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const disk = (freeBytes: number, totalBytes: number) => ({ freeBytes, totalBytes });
const withDisk = (h: ReturnType<typeof host>, d: { freeBytes: number; totalBytes: number }) => ({ ...h, dockerDisk: d });

t.test("the default reserve is max(1 GiB, 5% of the data root)", async (t) => {
  t.equal(diskReserveBytes(10 * GiB, {}), GiB, "10 GiB disk: 1 GiB (5% is less)");
  t.equal(diskReserveBytes(100 * GiB, {}), 5 * GiB, "100 GiB disk: 5 GiB");
  t.equal(dockerDiskShortage(disk(GiB, 10 * GiB), {}), undefined, "exactly the reserve free: room");
  t.match(dockerDiskShortage(disk(GiB - 1, 10 * GiB), {}), /^docker data root nearly full: 1024\.0 MiB free of 10\.0 GiB, keeps 1\.0 GiB free$/);
  t.match(dockerDiskShortage(disk(4 * GiB, 100 * GiB), {}), /4\.0 GiB free of 100\.0 GiB, keeps 5\.0 GiB free/);
  t.equal(dockerDiskShortage(undefined, {}), undefined, "no figure reported yet: room");
  t.equal(dockerDiskShortage(disk(0, 0), {}), undefined, "a nonsense figure (no size) is no figure");
});

t.test("the host label sets the reserve: bytes with a unit, a share, or 0 for never", async (t) => {
  t.same(parseDiskReserve("512MiB"), { bytes: 512 * MiB });
  t.same(parseDiskReserve("2GB"), { bytes: 2e9 });
  t.same(parseDiskReserve("1.5g"), { bytes: 1.5 * GiB });
  t.same(parseDiskReserve("10%"), { share: 0.1 });
  t.same(parseDiskReserve("0"), { bytes: 0 });
  t.match(parseDiskReserve("lots"), /^expected a size such as 2GiB.*got "lots"$/);
  t.match(parseDiskReserve("150%"), /at most 100%/);
  t.match(parseDiskReserve("-1GiB"), /expected/);
  const small = { [DOCKER_DISK_RESERVE_LABEL]: "16MiB" };
  t.equal(dockerDiskShortage(disk(100 * MiB, 160 * MiB), small), undefined, "a small disk with a small reserve has room");
  t.match(dockerDiskShortage(disk(0, 160 * MiB), small), /0 B free of 160\.0 MiB, keeps 16\.0 MiB free/);
  t.equal(dockerDiskShortage(disk(0, 160 * MiB), { [DOCKER_DISK_RESERVE_LABEL.toUpperCase()]: "0" }), undefined, "0 turns the rule off (label keys are case-insensitive)");
  t.match(dockerDiskShortage(disk(5 * GiB, 100 * GiB), { [DOCKER_DISK_RESERVE_LABEL]: "10%" }), /keeps 10\.0 GiB free/);
});

t.test("a full host is not chosen; the others take the instances", async (t) => {
  const snap = snapshot(withDisk(host("h1"), disk(100 * MiB, 20 * GiB)), withDisk(host("h2"), disk(10 * GiB, 20 * GiB)), host("h3"));
  const result = schedule(snap, request(service("web"), 4), 0);
  t.ok(result.ok);
  t.same(hostSet(result), ["h2", "h3"], "h1 is nearly full; h3 reported no figure and counts as ok");
});

t.test("when only full hosts are left, each one says why", async (t) => {
  const snap = snapshot(withDisk(host("h1"), disk(0, 20 * GiB)), host("h2", { zone: "b" }));
  const result = schedule(snap, request(service("web", { "io.rancher.scheduler.affinity:host_label": "zone=a" }), 1), 0);
  t.notOk(result.ok);
  t.same(result.unplaceable?.reasons, {
    h1: ["docker data root nearly full: 0 B free of 20.0 GiB, keeps 1.0 GiB free", "host_label zone=a not present"],
    h2: ["host_label zone=a not present"],
  });
  t.match(result.unplaceable?.message, /h1: docker data root nearly full: 0 B free/);
});

t.test("global services skip a full host, saying why, and take it once it has room", async (t) => {
  const full = schedule(snapshot(withDisk(host("h1"), disk(0, 20 * GiB)), host("h2")), request(service("agent"), "global"), 0);
  t.same(hostSet(full), ["h2"]);
  t.match(full.skipped?.h1, [/docker data root nearly full/]);
  const freed = schedule(snapshot(withDisk(host("h1"), disk(15 * GiB, 20 * GiB)), host("h2")), request(service("agent"), "global"), 0);
  t.same(hostSet(freed), ["h1", "h2"]);
});

t.test("the index re-judges a host when its disk figure or its labels change", async (t) => {
  const index = indexSnapshot(snapshot(withDisk(host("h1"), disk(0, 160 * MiB)), host("h2", {}, [], "disconnected")));
  t.notOk(schedule(index, request(service("web"), 1), 0).ok, "h1 full, h2 disconnected");
  index.setHostLabels("id-h1", { [DOCKER_DISK_RESERVE_LABEL]: "0" });
  t.same(hostSet(schedule(index, request(service("web"), 1), 0)), ["h1"], "reserve 0: the full disk is not held against it");
  index.setHostLabels("id-h1", {});
  index.upsertHost(withDisk(host("h1"), disk(150 * MiB, 160 * MiB)));
  t.notOk(schedule(index, request(service("web"), 1), 0).ok, "150 MiB free is under the default 1 GiB reserve");
  index.upsertHost(host("h1"));
  t.same(hostSet(schedule(index, request(service("web"), 1), 0)), ["h1"], "no figure: room");
});
