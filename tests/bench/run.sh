#!/usr/bin/env bash
# askdesk's benchmark suite: installs what is missing, builds the Release binaries in
# build/release, and runs every scenario against a private redis-server and askdesk on
# loopback, each beside a baseline measured in the same run (redis-benchmark, a minimal Beast
# WebSocket echo). Prints a table and writes bench-results.json in the current directory.
# Bounded: stops by itself within 10 minutes and leaves no process behind (every server it
# starts dies with it).
#
#   tests/bench/run.sh                         every scenario
#   tests/bench/run.sh --only ingest,chat      some of ingest, chat, connections, routing,
#                                              recovery
#   tests/bench/run.sh --quick                 smaller counts, to try it out (not for README)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(pwd)/bench-results.json
jobs=$(nproc 2>/dev/null || echo 2)

"$root/deploy/install-deps.sh" --test

echo "bench: building (Release, build/release)"
cmake -S "$root" -B "$root/build/release" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DASKDESK_TESTS=ON >/dev/null
cmake --build "$root/build/release" -j "$jobs" --target askdesk askdesk_bench askdesk_ws_echo

echo "bench: running (at most 10 minutes)"
status=0
timeout --kill-after=10 600 "$root/build/release/tests/bench/askdesk_bench" --out "$out" "$@" ||
  status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "bench: stopped after 10 minutes" >&2
fi
exit "$status"
