#!/usr/bin/env bash
# The conformance suite: every scenario under scenarios/ passes
# (`wfpsim run scenarios/`, the README's main job), and `wfpsim check`
# accepts every file.
set -u
wfpsim=$1
src=$2
out=$("$wfpsim" run "$src/scenarios"); rc=$?
echo "$out" | grep -v '^PASS ' || true
echo "$out" | tail -n 1
[ $rc -eq 0 ] || { echo "FAILED: wfpsim run scenarios/ exited $rc"; exit 1; }
n=$(echo "$out" | tail -n 1 | sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p')
[ -n "$n" ] && [ "$n" -ge 100 ] || { echo "FAILED: expected at least 100 passing scenarios"; exit 1; }
"$wfpsim" check "$src/scenarios" > /dev/null || { echo "FAILED: wfpsim check scenarios/"; exit 1; }
echo "scenarios: ok"
