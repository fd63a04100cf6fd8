#!/usr/bin/env bash
# Installs every system package sluice needs to build and test, on Debian 12.
# Idempotent: packages already present are left alone; safe to run on every build.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build ccache pkg-config git ca-certificates
  clang clang-format libclang-rt-14-dev
  libasio-dev libnghttp2-dev libssl-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc
  libyaml-cpp-dev libre2-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  curl openssl python3  # openssl: the TLS tests make their certificates with it
  haproxy  # test/differential: the same raw requests to sluice and HAProxy
  etcd-server  # sluice-control's etcd registry: unit and integration tests start real members
  chromium  # sluice-control's web UI: test/integration/control_ui.test.mjs drives it headless (playwright-core)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm fetch the pinned Envoy API package; the machines ship Node 20,
# a bare Debian 12 gets Debian's nodejs + npm.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all system packages present"
fi
