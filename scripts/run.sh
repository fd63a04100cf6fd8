#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine: installs what is missing, builds
# sluice and sluice-control.
# 1. Three small backends and sluice on examples/quickstart.yaml (listener
#    :10000, admin :9901), with traffic.
# 2. sluice-control on the file registry examples/control/registry.yaml (two
#    zones, ADS :18000, REST :18001) and sluice configured wholly by it over
#    ADS (examples/control/edge.yaml, admin :9902): traffic through the pushed
#    gateway, the proxies' sync status, then zone us-east-1b drained in 10%
#    steps (sluice-control drain) with each zone's share printed per step.
# On a terminal it then keeps serving until Ctrl-C; otherwise it stops.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh release sluice sluice-control
sluice=build/release/src/sluice
config=examples/quickstart.yaml

echo
echo "== $($sluice --version)"
$sluice --mode validate -c "$config"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

node examples/demo_backends.mjs 10001 10002 10003 &
pids+=($!)
log=$(mktemp)
$sluice -c "$config" --concurrency 2 2>"$log" &
pids+=($!)
# Wait for sluice to say it is up (or to die).
for _ in $(seq 1 100); do
  grep -q "sluice: started" "$log" && break
  kill -0 "${pids[1]}" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
cat "$log"
for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:10001/ && break; sleep 0.1; done

echo
echo "== /api goes to cluster 'api' (one host):"
for _ in 1 2; do curl -s http://127.0.0.1:10000/api/orders; done
echo
echo "== everything else goes to cluster 'web', round robin over two hosts:"
for _ in 1 2 3 4; do curl -s http://127.0.0.1:10000/; done
echo
echo "== the response headers sluice adds:"
curl -s -D - -o /dev/null http://127.0.0.1:10000/ | grep -iE "^(server|x-envoy-upstream-service-time):"
echo
echo "== admin: listeners"
curl -s http://127.0.0.1:9901/listeners
echo
echo "== admin: Envoy-named stats of the traffic above (/stats, also /stats/prometheus)"
curl -sG http://127.0.0.1:9901/stats --data usedonly \
  --data-urlencode 'filter=^(cluster\.[a-z_]+\.upstream_rq_total|http\.[a-z_]+\.downstream_rq_2xx)$'


echo
echo "== part 2: sluice configured by sluice-control over ADS"
kill "${pids[1]}" 2>/dev/null || true
wait "${pids[1]}" 2>/dev/null || true
control=build/release/src/sluice-control
registry=$(mktemp -d)/registry.yaml
cp examples/control/registry.yaml "$registry"
$control validate --registry "file:$registry"
node examples/demo_backends.mjs 8081 8082 &
pids+=($!)
clog=$(mktemp)
$control serve --registry "file:$registry" --xds-listen 127.0.0.1:18000 --http-listen 127.0.0.1:18001 \
  >"$clog" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "http listening" "$clog" && break
  sleep 0.1
done
cat "$clog"
elog=$(mktemp)
$sluice -c examples/control/edge.yaml --concurrency 2 2>"$elog" &
edge=$!
pids+=($edge)
# Until the control plane's listener is served (the gateway on :10000).
for _ in $(seq 1 100); do
  curl -s -o /dev/null http://127.0.0.1:10000/ && break
  kill -0 "$edge" 2>/dev/null || { cat "$elog"; exit 1; }
  sleep 0.1
done
echo
echo "== the gateway 'edge' pushed by sluice-control: both zones serve echo"
for _ in 1 2 3 4; do curl -s http://127.0.0.1:10000/; done
echo
echo "== sync status of every proxy (GET /v1/nodes)"
curl -s http://127.0.0.1:18001/v1/nodes
echo
echo
echo "== drain zone us-east-1b in 10% steps (sluice-control drain; the guard first)"
# Two zones: the other one would take all the traffic with half the capacity,
# so the guard refuses; these demo backends can take it, so --force.
$control drain us-east-1b --to 0 --step 10 --every 1s --control http://127.0.0.1:18001 || true
$control drain us-east-1b --to 0 --step 10 --every 1s --force --control http://127.0.0.1:18001
node examples/demo_drain.mjs http://127.0.0.1:18001 http://127.0.0.1:10000/ us-east-1b 0
$control status --control http://127.0.0.1:18001
echo
echo "== zones (GET /v1/zones)"
curl -s http://127.0.0.1:18001/v1/zones
echo

if [ -t 0 ]; then
  echo
  echo "sluice is serving on 127.0.0.1:10000 as sluice-control's edge (admin 127.0.0.1:9902," \
    "sluice-control REST 127.0.0.1:18001, web UI http://127.0.0.1:18001/ui/). Ctrl-C to stop."
  wait "$edge"
fi
