#!/usr/bin/env bash
# Makes the test image local/busybox with `docker import` (no registry is reachable) and
# keeps its tarball in the cache so lab hosts' dockerds can import the same image quickly.
set -euo pipefail
. "$(dirname "$0")/env.sh"
TAR="$DROVER_CACHE/images/busybox.tar"
if [ ! -s "$TAR" ]; then
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/root/bin" "$tmp/root/tmp" "$tmp/root/etc" "$tmp/root/www"
  cp /bin/busybox "$tmp/root/bin/busybox"
  for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -s busybox "$tmp/root/bin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$tmp/root/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/false' >> "$tmp/root/etc/passwd"
  echo 'drover test page' > "$tmp/root/www/index.html"
  mkdir -p "$(dirname "$TAR")"
  tar -C "$tmp/root" -cf "$TAR.tmp" . && mv "$TAR.tmp" "$TAR"
fi
if [ -S /var/run/docker.sock ] && ! docker image inspect local/busybox >/dev/null 2>&1; then
  docker import -c 'CMD ["/bin/sh"]' "$TAR" local/busybox >/dev/null
fi
echo "$TAR"
