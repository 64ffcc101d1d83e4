#!/usr/bin/env bash
# Every test askdesk has, from a clean clone: installs what is missing (apt, the browser tests'
# npm packages from tests/e2e/package-lock.json, the AT Protocol network's from
# tests/atproto/package-lock.json), builds the Debug binary with
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

# The AT Protocol network for the Bluesky tests (@atproto/dev-env, tests/atproto), apart from the
# browser tests' packages: about 360 MB. better-sqlite3 compiles from source (about a minute),
# against Node's headers in /usr/include/node rather than downloaded ones. npm writes
# node_modules/.package-lock.json last, so an install that failed half-way is done again.
if [ ! -f tests/atproto/node_modules/.package-lock.json ] ||
    [ tests/atproto/package-lock.json -nt tests/atproto/node_modules/.package-lock.json ]; then
  echo "test.sh: installing the AT Protocol network's npm packages (about 1-2 minutes)"
  (cd tests/atproto && npm_config_nodedir=/usr npm ci --prefer-offline --no-audit --no-fund \
    --loglevel=error)
fi

echo "test.sh: building (Debug with sanitizers, build/debug)"
cmake -S . -B build/debug -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/debug -j "$jobs"

echo "test.sh: running the tests"
# Integration tests start their own servers on free loopback ports and stop them.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build/debug --output-on-failure --no-tests=error -j "$jobs" "$@"
