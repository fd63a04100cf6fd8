#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds the release and the sanitizer (ASan + UBSan) flavours, and
# runs every test in both. Exit 0 only when everything passes.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs="$(nproc)"

echo "== release build"
scripts/build.sh release
echo "== release tests"
ctest --test-dir build/release --output-on-failure -j "$jobs" --timeout 300

echo "== asan+ubsan build"
scripts/build.sh asan
echo "== asan+ubsan tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j "$jobs" --timeout 600
