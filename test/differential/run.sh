#!/usr/bin/env bash
# Differential check against HAProxy: the same raw requests to sluice and to
# HAProxy (both in front of one recording backend); prints a Markdown table of
# where they differ. Exit 1 when a difference is not explained in
# docs/DIFFERENTIAL.md (test/differential/explained.json lists those that are).
#   test/differential/run.sh [sluice binary] [haproxy binary]
set -euo pipefail
cd "$(dirname "$0")/../.."
sluice="${1:-build/release/src/sluice}"
haproxy="${2:-$(command -v haproxy || echo /usr/sbin/haproxy)}"
exec node test/differential/differential.mjs "$sluice" "$haproxy"
