#!/usr/bin/env bash
# `make bench`: sluice against HAProxy, nginx and a direct connection (issue 5).
# Installs the load generators and the other proxies from Debian's packages,
# builds the release binary, then runs bench/bench.mjs, which writes
# bench/RESULTS.md. A quiet machine gives figures worth keeping.
#
#   BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_WS_CONNECTIONS=5000 make bench   (the defaults)
#   BENCH_SECONDS=2 BENCH_ROUNDS=1 BENCH_WS_CONNECTIONS=500 BENCH_OUT=- make bench   (a smoke run)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# command -> Debian package
declare -A tools=([wrk]=wrk [h2load]=nghttp2-client [haproxy]=haproxy [nginx]=nginx-light)
missing=()
for t in "${!tools[@]}"; do
  command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing+=("${tools[$t]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bench: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
export PATH="$PATH:/usr/sbin"

scripts/build.sh release sluice

if [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  (cd bench && npm ci --no-audit --no-fund)
fi

# 5,000 proxied WebSockets take 10,000 descriptors in the proxy.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node bench/bench.mjs "$@"
