#!/usr/bin/env bash
# README's first command: set up what is missing, then run drover's main job on the
# embedded default (one local host, local Redis, local Docker): a drover server started
# here and `pulumi up` of examples/quickstart, then `pulumi destroy` unless --keep.
# Quiet by default (one line per step; the full output in log files whose paths are
# printed); --verbose shows apt, npm, tsc and Pulumi as they run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
setup_args=()
for arg in "$@"; do [ "$arg" = --verbose ] && setup_args+=(--verbose); done
bash "$ROOT/scripts/setup.sh" ${setup_args[@]+"${setup_args[@]}"}
. "$ROOT/scripts/env.sh"
cd "$ROOT"
exec node bin/drover.js quickstart "$@"
