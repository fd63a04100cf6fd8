#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine: installs what is missing, builds
# sluice, and runs it on the embedded example configuration.
#
# Today sluice's config front end is complete (load, three-layer validation,
# the supported subset); the data path that serves traffic is being built
# (issue #3). Until it lands, the demo validates the examples and shows how
# sluice reports a broken and an unsupported config.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh release sluice
sluice=build/release/src/sluice

echo
echo "== $($sluice --version)"
for config in examples/*.yaml; do
  $sluice --mode validate -c "$config"
done

echo
echo "== a broken config: every error, each with its field path"
$sluice --mode validate --config-yaml '
static_resources:
  clusters:
  - name: web
    connect_timeout: 0s
    load_assignment: { cluster_name: web, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 10.0.0.300, port_value: 70000 } } } } ] } ] }
  - name: web
    health_checks: [ { timeout: 1s, interval: 1s, tcp_health_check: {} } ]
    type: STATIC
' || echo "(exit code $?)"
