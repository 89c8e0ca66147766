#!/usr/bin/env bash
# layers_match_windows.sh — `wfpsim layers --json` must describe the same
# layers as a real Windows machine: names, ids, kernel flag, keys, and every
# field in order with its type and data type.
#
# Usage (as CTest runs it): bash layers_match_windows.sh WFPSIM SOURCE_DIR
# The reference is SOURCE_DIR/../shared/data/wfpstate/python_pi_burner__wfpstate.xml
# (not part of the project); without it the test prints SKIP and passes.
set -u

wfpsim=${1:?usage: layers_match_windows.sh WFPSIM SOURCE_DIR}
src=${2:?usage: layers_match_windows.sh WFPSIM SOURCE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
dump="$src/../shared/data/wfpstate/python_pi_burner__wfpstate.xml"
spec="$src/../shared/spec/wfp-semantics.md"

if [ ! -f "$dump" ] || [ ! -f "$spec" ]; then
    echo "SKIP: no shared data"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$wfpsim" layers --json >"$tmp/actual.json" 2>"$tmp/stderr"; then
    echo "FAIL: wfpsim layers --json exited with an error:"
    cat "$tmp/stderr"
    exit 1
fi

# Unknown options are a usage error (exit code 2), not a silent default.
"$wfpsim" layers --no-such-option >/dev/null 2>&1
rc=$?
if [ "$rc" -ne 2 ]; then
    echo "FAIL: wfpsim layers --no-such-option exited with $rc, expected 2"
    exit 1
fi

python3 "$here/layers_from_dump.py" "$dump" "$spec" --compare "$tmp/actual.json"
