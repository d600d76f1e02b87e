import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { runOk } from "./proc";

/**
 * The test image local/busybox, imported from the tarball scripts/images.sh keeps in the
 * cache (no registry is reachable). Each host's dockerd gets its own copy during `up`.
 */
export const TEST_IMAGE = "local/busybox";

let cached: string | undefined;

/** Path of the busybox rootfs tarball, built by scripts/images.sh if it is missing. */
export async function busyboxTarball(): Promise<string> {
  if (cached && fs.existsSync(cached)) return cached;
  const tar = path.join(process.env.DROVER_CACHE ?? "/var/cache/drover", "images", "busybox.tar");
  if (fs.existsSync(tar) && fs.statSync(tar).size > 0) return (cached = tar);
  // dist/test/lab/image.js -> repository root three levels up from dist/.
  const script = path.resolve(__dirname, "../../../scripts/images.sh");
  const out = (await runOk(["bash", script])).stdout.trim().split("\n").pop() ?? "";
  if (!out || !fs.existsSync(out)) throw new Error(`scripts/images.sh did not produce the busybox tarball (${out})`);
  return (cached = out);
}

/** `docker import -c 'CMD ["/bin/sh"]' <tar> local/busybox`, through the API. */
export async function importTestImage(socketPath: string): Promise<void> {
  const docker = new Docker({ socketPath });
  const tar = await busyboxTarball();
  const stream = await docker.importImage(fs.createReadStream(tar), {
    repo: TEST_IMAGE, tag: "latest", changes: 'CMD ["/bin/sh"]',
  } as unknown as object);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const failed = out?.find((o) => o.error);
      if (err || failed) reject(err ?? new Error(`import of ${TEST_IMAGE} failed: ${failed?.error}`));
      else resolve();
    });
  });
  await docker.getImage(TEST_IMAGE).inspect();
}
