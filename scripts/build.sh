#!/usr/bin/env bash
# Configures and builds one flavour of sluice.
#   scripts/build.sh release   -O2 -g, in build/release (also builds the Envoy API library)
#   scripts/build.sh asan      ASan + UBSan, in build/asan (reuses release's Envoy API library)
#   scripts/build.sh tsan      ThreadSanitizer, in build/tsan (reuses it too): the
#                              thread-sensitive tests only (tsan_test)
#   scripts/build.sh fuzz      the libFuzzer targets (clang), in build/fuzz (see docs/FUZZING.md)
# Extra arguments go to ninja (targets, -j).
# SLUICE_API_FROM=DIR: reuse the Envoy API library of that build directory
# instead of build/release's (e.g. a shared checkout's).
set -euo pipefail
cd "$(dirname "$0")/.."

flavour="${1:-release}"
shift || true
api_from="${SLUICE_API_FROM:-$PWD/build/release}"
# The generated API code is big and only runs at config time: build it once in
# the release tree and link it into the other flavours uninstrumented.
need_api() {
  [ -f "$api_from/api/libsluice_envoy_api.a" ] || scripts/build.sh release sluice_envoy_api_objects
}
case "$flavour" in
  release)
    if [ -n "${SLUICE_API_FROM:-}" ]; then
      cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_API_FROM="$api_from" >/dev/null
    else
      cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    ;;
  asan)
    need_api
    cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON \
      -DSLUICE_API_FROM="$api_from" >/dev/null
    ;;
  tsan)
    need_api
    # -O2: ThreadSanitizer costs 5-15x; an unoptimised build would cost more.
    cmake -S . -B build/tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TSAN=ON \
      -DSLUICE_API_FROM="$api_from" >/dev/null
    # Only the thread-sensitive tests are built under TSan (test/CMakeLists.txt).
    [ $# -gt 0 ] || set -- tsan_test
    ;;
  fuzz)
    need_api
    CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON \
      -DSLUICE_API_FROM="$api_from" >/dev/null
    ;;
  *)
    echo "usage: scripts/build.sh release|asan|tsan|fuzz [ninja args]" >&2
    exit 1
    ;;
esac
ninja -C "build/$flavour" "$@"
