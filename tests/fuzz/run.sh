#!/usr/bin/env bash
# Builds the libFuzzer target for the email parsing path with clang (libFuzzer, ASan, UBSan)
# and runs it for a bounded time, seeded with the corpus of difficult messages.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS]      (ctest runs it as fuzz.mime, 60 s)
#
# A crash or a sanitizer report fails it, leaving the input in BUILD_DIR/fuzz/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "${1:?usage: run.sh BUILD_DIR [SECONDS]}/fuzz/corpus"
out=$(cd "$1/fuzz" && pwd)
seconds=${2:-60}

cxx=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$cxx" ]; then
  echo "run.sh: clang++ is missing (deploy/install-deps.sh --test installs clang)" >&2
  exit 1
fi
launcher=()
command -v ccache >/dev/null && launcher=(ccache)
sources=("$here/mime_fuzz.cpp" "$root/connectors/email/mime.cpp"
         "$root/connectors/email/mail_text.cpp" "$root/daemon/core/text.cpp")
binary="$out/mime_fuzz"
# Built every time (ccache makes an unchanged build cheap): no stale fuzzer after a header
# changes.
objects=()
for src in "${sources[@]}"; do
  obj="$out/$(basename "$src" .cpp).o"
  "${launcher[@]}" "$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
    -I"$root" $(pkg-config --cflags gmime-3.0 libutf8proc) -c "$src" -o "$obj"
  objects+=("$obj")
done
"$cxx" -fsanitize=fuzzer,address,undefined "${objects[@]}" \
  $(pkg-config --libs gmime-3.0 libutf8proc) -o "$binary"
cp -n "$root"/tests/data/mail/*.eml "$out/corpus/" 2>/dev/null || true
cd "$out"
# GLib keeps some memory for the process's life on purpose: leaks are not this test's subject.
ASAN_OPTIONS=detect_leaks=0 "$binary" -max_total_time="$seconds" -max_len=65536 -timeout=20 \
  -rss_limit_mb=2048 -print_final_stats=1 corpus
