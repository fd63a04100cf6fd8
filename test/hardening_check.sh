#!/usr/bin/env bash
# Checks that a binary was built hardened (CMake's SLUICE_HARDEN): PIE, full
# RELRO with BIND_NOW, the stack protector and FORTIFY_SOURCE in use, and
# every compile unit of sluice's own code built with the hardening flags (read
# from the DWARF producer string, so each flag is checked, not only those that
# leave a mark in the ELF headers; -D options are not recorded there, so
# FORTIFY_SOURCE is seen by its __*_chk calls). Usage: hardening_check.sh BINARY...
set -euo pipefail
status=0
fail() { echo "hardening_check: $1: $2" >&2; status=1; }

for bin in "$@"; do
  [ -x "$bin" ] || { fail "$bin" "not an executable"; continue; }
  readelf -h "$bin" | grep -Eq 'Type:[[:space:]]+DYN' || fail "$bin" "not a PIE (ELF type is not DYN)"
  readelf -lW "$bin" | grep -q 'GNU_RELRO' || fail "$bin" "no GNU_RELRO segment"
  readelf -dW "$bin" | grep -Eq '\(BIND_NOW\)|\(FLAGS_1\).*NOW' || fail "$bin" "no BIND_NOW (partial RELRO only)"
  dynsyms="$(readelf --dyn-syms -W "$bin")"
  grep -q '__stack_chk_fail' <<<"$dynsyms" || fail "$bin" "no __stack_chk_fail: the stack protector is not in use"
  grep -Eq '__[a-z0-9_]+_chk(@|$| )' <<<"$(grep -v __stack_chk_fail <<<"$dynsyms")" ||
    fail "$bin" "no __*_chk function: FORTIFY_SOURCE is not in use"
  # The compile units of sluice's own sources (src/): each names every flag.
  producers="$(readelf --debug-dump=info --dwarf-depth=1 "$bin" 2>/dev/null |
    awk '/DW_AT_producer/ { p = $0 } /DW_AT_name/ && p != "" { if ($0 ~ /\/src\/([a-z_0-9]+\/)+[a-z_0-9]+\.cc/) print p; p = "" }')"
  [ -n "$producers" ] || { fail "$bin" "no compile unit of src/ found in the debug info"; continue; }
  units="$(wc -l <<<"$producers")"
  for flag in -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE; do
    missing="$(grep -vc -- "$flag" <<<"$producers" || true)"
    [ "$missing" = 0 ] || fail "$bin" "$missing of $units compile units of src/ were built without $flag"
  done
  [ "$status" = 0 ] && echo "hardening_check: $bin: PIE, full RELRO, BIND_NOW, stack protector, FORTIFY; $units units with every flag"
done
exit "$status"
