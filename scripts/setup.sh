#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (or one already set up) to what drover's main job and
# tests need: Debian packages, npm deps, the build, the Pulumi engine, dockerd, Redis and the
# test image. Safe to run again: each step checks first and does only what is missing.
# Callers source scripts/env.sh for the paths.
#   bash scripts/setup.sh [--verbose]
# One line per step with its time (scripts/steps.sh); everything else goes to a log file whose
# path is printed, and whose tail is shown if a step fails. --verbose (or DROVER_VERBOSE=1)
# shows all of it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
. "$ROOT/scripts/env.sh"
STEPS_VERBOSE="${DROVER_VERBOSE:-0}"
for arg in "$@"; do
  case "$arg" in
    --verbose) STEPS_VERBOSE=1 ;;
    *) echo "usage: bash scripts/setup.sh [--verbose]" >&2; exit 2 ;;
  esac
done
. "$ROOT/scripts/steps.sh"
log() { echo "[setup] $*"; }

PACKAGES=(docker.io redis-server redis-sentinel haproxy strongswan-charon strongswan-swanctl
  libcharon-extra-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins
  openssh-server iproute2 iptables busybox-static tcpdump iperf3 netcat-openbsd socat
  dnsmasq procps psmisc util-linux wrk time chromium)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then note "all ${#PACKAGES[@]} installed"; return 0; fi
  note "installed ${#missing[@]}: ${missing[*]:0:4}$([ ${#missing[@]} -gt 4 ] && echo ' ...')"
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # Packages must not start their daemons: drover starts each one itself, where it needs it.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  rm -f /usr/sbin/policy-rc.d
}

install_node_modules() {
  local stamp=node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    note "npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  else
    note "up to date"
  fi
  # Serialized Pulumi providers require("drover/dist/...") from the program's directory (see
  # provider/forward.ts): within the checkout, this link is what they find.
  [ -L node_modules/drover ] || ln -sfn .. node_modules/drover
}

build() {
  npx tsc -p tsconfig.json
  # The day-two commands prebuilt as one file each (bin/drover.js loads them; scripts/bundle-cli.js).
  node scripts/bundle-cli.js
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then note "running"; return 0; fi
  note "started"
  mkdir -p "$DROVER_STATE/log"
  # setsid: dockerd must outlive this script and the test runner's process group.
  setsid dockerd --host unix:///var/run/docker.sock >"$DROVER_STATE/log/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && return 0; sleep 0.2; done
  log "dockerd did not become ready; last log lines:"; tail -20 "$DROVER_STATE/log/dockerd.log"; return 1
}

start_redis() {
  if redis-cli -p 6379 ping >/dev/null 2>&1; then note "running"; return 0; fi
  note "started on 127.0.0.1:6379"
  mkdir -p "$DROVER_STATE/redis"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no \
    --dir "$DROVER_STATE/redis" --logfile "$DROVER_STATE/log/redis.log"
  for _ in $(seq 1 100); do redis-cli -p 6379 ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "redis did not answer"; return 1
}

test_images() {
  bash "$ROOT/scripts/images.sh"
}

engine() {
  local bin
  bin="$(bash "$ROOT/scripts/pulumi-engine.sh")"
  note "$("$bin/pulumi" version 2>/dev/null || echo '?')"
  mkdir -p "$DROVER_STATE"
  echo "$bin" > "$DROVER_STATE/pulumi-bin"
}

steps_begin "drover setup"
step "Debian packages (apt)" install_packages
step "npm packages" install_node_modules
step "build (tsc)" build
step "dockerd" start_dockerd
step "Redis" start_redis
step "test image local/busybox" test_images
step "Pulumi engine" engine
steps_end "drover setup: ready"
