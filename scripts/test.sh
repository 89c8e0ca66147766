#!/usr/bin/env bash
# Every test: set up, build a normal and an ASan+UBSan tree, run the unit,
# command-line and scenario tests in both. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --sanitize
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for dir in build build-asan; do
  echo "== ctest ($dir)"
  ctest --test-dir "$dir" --output-on-failure -j2 || status=1
done
exit $status
