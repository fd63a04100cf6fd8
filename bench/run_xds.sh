#!/usr/bin/env bash
# `make bench-xds`: EDS at scale over ADS (issue 13, point 6; bench/xds_eds.mjs).
# Installs nginx (the backend) if missing, builds the release binary, installs
# the integration tests' node modules (the ADS server's gRPC and protos), then
# runs bench/xds_eds.mjs, which writes its section of bench/RESULTS.md.
# Arguments go to bench/xds_eds.mjs, e.g.
#   make bench-xds ARGS="--clusters 1000 --updates 20 --full 5"   (a smoke run)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx-light
fi
export PATH="$PATH:/usr/sbin"

scripts/build.sh release sluice

if [ ! -f test/integration/node_modules/.package-lock.json ] ||
  [ test/integration/package-lock.json -nt test/integration/node_modules/.package-lock.json ]; then
  (cd test/integration && npm ci --no-audit --no-fund)
fi

# 10,000 clusters: the full-state pushes take seconds each (see RESULTS.md),
# hence fewer of them than single-cluster updates by default.
if [ $# -eq 0 ]; then
  set -- --clusters 1000,10000 --updates 100 --updates-all 20 --full 20
fi
exec node bench/xds_eds.mjs --results bench/RESULTS.md "$@"
