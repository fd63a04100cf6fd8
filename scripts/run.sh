#!/usr/bin/env bash
# The demo, from a fresh Debian 12 machine: installs what is missing, builds
# sluice, starts three small backends and sluice on examples/quickstart.yaml
# (listener :10000, admin :9901), and sends it traffic. On a terminal it then
# keeps serving until Ctrl-C; otherwise it stops after the traffic.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh release sluice
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

if [ -t 0 ]; then
  echo
  echo "sluice is serving on 127.0.0.1:10000 (admin on 127.0.0.1:9901). Ctrl-C to stop."
  wait "${pids[1]}"
fi
