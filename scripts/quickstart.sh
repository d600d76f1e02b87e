#!/usr/bin/env bash
# README's first command: set up what is missing, then run drover's main job on the
# embedded default (one local host, local Redis, local Docker): a drover server started
# here and `pulumi up` of examples/quickstart, then `pulumi destroy` unless --keep.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
. "$ROOT/scripts/env.sh"
cd "$ROOT"
exec node bin/drover.js quickstart "$@"
