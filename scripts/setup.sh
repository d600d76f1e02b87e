#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (or one already set up) to what drover's main job and
# tests need: Debian packages, npm deps, the build, the Pulumi engine, dockerd, Redis and the
# test image. Safe to run again: each step checks first and does only what is missing.
# Prints `export PATH=...` lines for the caller to eval? No: callers source scripts/env.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. "$ROOT/scripts/env.sh"
log() { echo "[setup] $*" >&2; }

PACKAGES=(docker.io redis-server redis-sentinel haproxy strongswan-charon strongswan-swanctl
  libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins
  openssh-server iproute2 iptables busybox-static tcpdump iperf3 netcat-openbsd socat
  dnsmasq procps psmisc util-linux wrk time)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq >&2
  # Packages must not start their daemons: drover starts each one itself, where it needs it.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  rm -f /usr/sbin/policy-rc.d
}

install_node_modules() {
  local stamp=node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
  # Serialized Pulumi providers require("drover/dist/...") from the program's directory (see
  # provider/forward.ts): within the checkout, this link is what they find.
  [ -L node_modules/drover ] || ln -sfn .. node_modules/drover
}

build() {
  log "tsc build"
  npx tsc -p tsconfig.json >&2
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then return 0; fi
  log "starting dockerd"
  mkdir -p "$DROVER_STATE/log"
  # setsid: dockerd must outlive this script and the test runner's process group.
  setsid dockerd --host unix:///var/run/docker.sock >"$DROVER_STATE/log/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && return 0; sleep 0.2; done
  log "dockerd did not become ready; last log lines:"; tail -20 "$DROVER_STATE/log/dockerd.log" >&2; return 1
}

start_redis() {
  if redis-cli -p 6379 ping >/dev/null 2>&1; then return 0; fi
  log "starting redis-server on 127.0.0.1:6379"
  mkdir -p "$DROVER_STATE/redis"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no \
    --dir "$DROVER_STATE/redis" --logfile "$DROVER_STATE/log/redis.log" >&2
  for _ in $(seq 1 100); do redis-cli -p 6379 ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "redis did not answer"; return 1
}

test_images() {
  bash "$ROOT/scripts/images.sh" >&2
}

engine() {
  local bin
  bin="$(bash "$ROOT/scripts/pulumi-engine.sh")"
  mkdir -p "$DROVER_STATE"
  echo "$bin" > "$DROVER_STATE/pulumi-bin"
}

mkdir -p "$DROVER_STATE/log"
install_packages
install_node_modules
build
start_dockerd
start_redis
test_images
engine
log "ready"
