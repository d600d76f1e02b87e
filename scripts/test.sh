#!/usr/bin/env bash
# README's test command: sets up everything the tests need, then runs them all.
#   bash scripts/test.sh [dist/test/<dir-or-file> ...]   (default: every test)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
. "$ROOT/scripts/env.sh"
cd "$ROOT"
exec node scripts/run-tests.js "$@"
