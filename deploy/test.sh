#!/usr/bin/env bash
# Every test askdesk has, from a clean clone: installs what is missing (apt, and the browser
# tests' npm packages from tests/e2e/package-lock.json), builds the Debug binary with
# ASan/UBSan in build/debug, and runs ctest: unit tests, integration tests against real
# servers on loopback, and the headless-Chromium end-to-end tests. Never asks a question.
#
#   ./deploy/test.sh                    everything
#   ./deploy/test.sh -L unit            only a label (unit, integration, e2e, lint), or any
#   ./deploy/test.sh -R Webchat         other ctest option
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

"$root/deploy/install-deps.sh" --test

if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules ]; then
  echo "test.sh: installing the browser tests' npm packages"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "test.sh: building (Debug with sanitizers, build/debug)"
cmake -S . -B build/debug -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/debug -j "$jobs"

echo "test.sh: running the tests"
# Integration tests start their own servers on free loopback ports and stop them.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build/debug --output-on-failure --no-tests=error -j "$jobs" "$@"
