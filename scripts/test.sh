#!/usr/bin/env bash
# README's test command: sets up everything the tests need (quietly: one line per step, see
# scripts/setup.sh), then runs them all; the tests' own output (failures in full) as ever.
#   bash scripts/test.sh [--verbose] [dist/test/<dir-or-file> ...]   (default: every test)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
setup_args=() test_args=()
for arg in "$@"; do
  if [ "$arg" = --verbose ]; then setup_args+=(--verbose); else test_args+=("$arg"); fi
done
bash "$ROOT/scripts/setup.sh" ${setup_args[@]+"${setup_args[@]}"}
. "$ROOT/scripts/env.sh"
cd "$ROOT"
exec node scripts/run-tests.js ${test_args[@]+"${test_args[@]}"}
