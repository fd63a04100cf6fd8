#!/usr/bin/env bash
# Configures and builds one flavour of sluice.
#   scripts/build.sh release   -O2 -g, in build/release (also builds the Envoy API library)
#   scripts/build.sh asan      ASan + UBSan, in build/asan (reuses release's Envoy API library)
# Extra arguments go to ninja (targets, -j).
set -euo pipefail
cd "$(dirname "$0")/.."

flavour="${1:-release}"
shift || true
case "$flavour" in
  release)
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    ;;
  asan)
    # The generated API code is big and only runs at config time: build it once
    # in the release tree and link it here uninstrumented.
    [ -f build/release/api/libsluice_envoy_api.a ] || scripts/build.sh release sluice_envoy_api_objects
    cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON \
      -DSLUICE_API_FROM="$PWD/build/release" >/dev/null
    ;;
  *)
    echo "usage: scripts/build.sh release|asan [ninja args]" >&2
    exit 1
    ;;
esac
ninja -C "build/$flavour" "$@"
