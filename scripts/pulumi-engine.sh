#!/usr/bin/env bash
# Puts the Pulumi engine (pulumi, pulumi-language-nodejs, pulumi-resource-pulumi-nodejs)
# of PULUMI_VERSION into a cache dir outside the checkout, building it from the Go module
# proxy when no fitting binary exists. Prints the bin dir on stdout; idempotent.
# Why build: the npm `pulumi` package only downloads the CLI from the internet.
set -euo pipefail
PULUMI_VERSION="${PULUMI_VERSION:-3.248.0}"
# The language host module has no version tags; this pseudo-version is the v3.248.0 commit.
LANGHOST_VERSION="${LANGHOST_VERSION:-v3.0.0-20260624120734-a88168d865b7}"
CACHE_ROOT="${DROVER_CACHE:-/var/cache/drover}"
BIN="$CACHE_ROOT/pulumi-v$PULUMI_VERSION/bin"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

log() { echo "[pulumi-engine] $*" >&2; }

fits() { [ -x "$1/pulumi" ] && [ "$("$1/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ] && [ -x "$1/pulumi-language-nodejs" ]; }

install_provider_script() {
  # The engine runs this to start a dynamic provider host; it resolves the SDK from the
  # program's working directory, so the one script serves every checkout.
  cat > "$BIN/pulumi-resource-pulumi-nodejs" <<'SH'
#!/bin/sh
exec node "$(node -p 'require.resolve("@pulumi/pulumi/cmd/dynamic-provider")' 2>/dev/null || echo "$PULUMI_NODEJS_SDK/cmd/dynamic-provider")" "$@"
SH
  chmod +x "$BIN/pulumi-resource-pulumi-nodejs"
}

install_node_langhost() {
  # drover-language-host: copied on every run so the cache follows the checkout's version.
  cp "$ROOT/scripts/pulumi-engine/language-host.js" "$BIN/drover-language-host.js"
  cat > "$BIN/pulumi-language-nodejs" <<'SH'
#!/bin/sh
# drover-language-host (see drover-language-host.js for why)
exec node "$(dirname "$0")/drover-language-host.js" "$@"
SH
  chmod +x "$BIN/pulumi-language-nodejs"
}

if fits "$BIN"; then
  grep -q drover-language-host "$BIN/pulumi-language-nodejs" && install_node_langhost
  install_provider_script
  echo "$BIN"; exit 0
fi

if command -v pulumi >/dev/null 2>&1 && [ "$(pulumi version 2>/dev/null)" = "v$PULUMI_VERSION" ] \
   && command -v pulumi-language-nodejs >/dev/null 2>&1; then
  mkdir -p "$BIN"
  ln -sf "$(command -v pulumi)" "$BIN/pulumi"
  ln -sf "$(command -v pulumi-language-nodejs)" "$BIN/pulumi-language-nodejs"
  install_provider_script
  echo "$BIN"; exit 0
fi

command -v go >/dev/null 2>&1 || { log "no Go toolchain on PATH: cannot build the Pulumi engine"; exit 3; }

WORK="$CACHE_ROOT/pulumi-v$PULUMI_VERSION/build"
mkdir -p "$WORK/cli" "$WORK/langhost" "$BIN"
LDFLAGS="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

if [ "$("$BIN/pulumi" version 2>/dev/null)" != "v$PULUMI_VERSION" ]; then
  log "building pulumi v$PULUMI_VERSION in $WORK/cli (several minutes when cold)"
  cp "$ROOT/scripts/pulumi-engine/cli.go.mod" "$WORK/cli/go.mod"
  cp "$ROOT/scripts/pulumi-engine/tools.go" "$WORK/cli/tools.go"
  (cd "$WORK/cli" && go mod tidy >&2 && \
    go build -trimpath -tags osusergo,grpcnotrace -ldflags "$LDFLAGS" -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2)
  mv "$BIN/pulumi.tmp" "$BIN/pulumi"
fi

build_go_langhost() {
  log "building pulumi-language-nodejs $LANGHOST_VERSION"
  cat > "$WORK/langhost/go.mod" <<MOD
module drover/pulumi-langhost

go 1.24

require github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 $LANGHOST_VERSION
MOD
  cat > "$WORK/langhost/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
GO
  (cd "$WORK/langhost" && go mod tidy >&2 && \
    go build -trimpath -tags osusergo,grpcnotrace -ldflags "$LDFLAGS" -o "$BIN/pulumi-language-nodejs" \
      github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 >&2)
}

# Pulumi's own language host when the proxy serves its module (tried once per machine);
# otherwise drover's Node.js implementation of the same gRPC protocol.
UNAVAILABLE="$CACHE_ROOT/pulumi-v$PULUMI_VERSION/go-langhost.unavailable"
if [ ! -f "$UNAVAILABLE" ] && ! build_go_langhost 2> "$WORK/langhost.err"; then
  cp "$WORK/langhost.err" "$UNAVAILABLE"
  log "Pulumi's Go language host could not be built (see $UNAVAILABLE); using drover's Node.js language host"
fi
[ -x "$BIN/pulumi-language-nodejs" ] && ! grep -q drover-language-host "$BIN/pulumi-language-nodejs" 2>/dev/null || install_node_langhost
install_provider_script
fits "$BIN" || { log "built binaries do not report v$PULUMI_VERSION"; exit 4; }
echo "$BIN"
