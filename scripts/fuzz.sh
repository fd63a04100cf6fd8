#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, in build/fuzz) and runs one.
#   scripts/fuzz.sh                  builds every target
#   scripts/fuzz.sh TARGET [SECONDS] [libFuzzer flags...]
#                                    fuzzes fuzz_TARGET for SECONDS (default 600)
# TARGET is one of: http1_request http1_response chunked_decoder bootstrap route_table xds_response.
# New inputs go to build/fuzz/work/TARGET (the seed corpus fuzz/corpus/TARGET is
# read, never written); crashes, leaks and timeouts to build/fuzz/artifacts/TARGET/;
# the log to build/fuzz/logs/TARGET/fuzz-0.log (printed at the end).
# One worker, one job: the machine is shared. See docs/FUZZING.md.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(http1_request http1_response chunked_decoder bootstrap route_table xds_response)
# scripts/build.sh fuzz configures and builds build/fuzz (clang,
# -DSLUICE_FUZZ=ON); it honours SLUICE_API_FROM like the other flavours.
if [ $# -eq 0 ]; then
  exec scripts/build.sh fuzz "${targets[@]/#/fuzz_}"
fi
target="$1"
seconds="${2:-600}"
shift 2 || shift $#
case " ${targets[*]} " in
  *" $target "*) ;;
  *)
    echo "unknown target '$target' (one of: ${targets[*]})" >&2
    exit 1
    ;;
esac
# Inputs bigger than a head or a config are not interesting: the limits they
# would hit are exercised by the small-limit variants inside the targets.
case "$target" in
  bootstrap | route_table | xds_response) max_len=16384 ;;
  *) max_len=8192 ;;
esac
scripts/build.sh fuzz "fuzz_$target"
root="$PWD"
mkdir -p "build/fuzz/work/$target" "build/fuzz/artifacts/$target" "build/fuzz/logs/$target"
# With -jobs, libFuzzer writes its log to fuzz-0.log in the working directory.
cd "build/fuzz/logs/$target"
"$root/build/fuzz/fuzz/fuzz_$target" -max_total_time="$seconds" -jobs=1 -workers=1 -rss_limit_mb=2048 \
  -max_len="$max_len" -timeout=10 -print_final_stats=1 -artifact_prefix="$root/build/fuzz/artifacts/$target/" \
  "$@" "$root/build/fuzz/work/$target" "$root/fuzz/corpus/$target" || status=$?
cat fuzz-0.log
exit "${status:-0}"
