#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what is
# missing, builds the release and the sanitizer flavours, and runs every test
# in release and in ASan + UBSan, then the thread-sensitive tests under
# ThreadSanitizer. The fuzz targets' seed corpora run as ordinary tests
# (fuzz.*) in release and ASan. Exit 0 only when everything passes.
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

# The tests where threads share state (the only ones built under TSan, see
# test/CMakeLists.txt): config publishing to running workers, the DNS cache's
# resolver thread, the file watcher, the application log's writer thread.
echo "== tsan build"
scripts/build.sh tsan
echo "== tsan tests"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build/tsan --output-on-failure -j "$jobs" --timeout 600
