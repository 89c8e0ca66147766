#!/usr/bin/env bash
# `wfpsim run` / `wfpsim check` as the contract's command-line section
# says: PASS/FAIL lines, the closing "N passed, M failed" line, exit codes
# 0/1/2, --junit, --json, --trace, --shard.
set -u
wfpsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAILED: $*"; exit 1; }

mkdir -p "$tmp/suite/sub"
cp "$src/scenarios/arbitration/c05-soft-permit-overridden.yaml" "$tmp/suite/a.yaml"
cp "$src/scenarios/arbitration/c06-hard-permit-survives-static-block.yaml" "$tmp/suite/sub/b.yaml"
sed 's/verdict: block, layer: ALE_AUTH_CONNECT_V4, filter: block/verdict: permit/' \
  "$src/scenarios/arbitration/c05-soft-permit-overridden.yaml" > "$tmp/suite/sub/c-fails.yaml"

out=$("$wfpsim" run "$tmp/suite/a.yaml" "$tmp/suite/sub/b.yaml"); rc=$?
[ $rc -eq 0 ] || fail "all-pass run exited $rc"
echo "$out" | grep -qx "PASS soft-permit-overridden-by-lower-block" || fail "no PASS line: $out"
echo "$out" | tail -n 1 | grep -qx "2 passed, 0 failed" || fail "closing line: $out"

out=$("$wfpsim" run "$tmp/suite"); rc=$?
[ $rc -eq 1 ] || fail "a failing scenario must exit 1, got $rc"
echo "$out" | grep -q "^FAIL soft-permit-overridden-by-lower-block: .*c-fails.yaml:[0-9]*:[0-9]*: packet 1: expected verdict permit, observed block" \
  || fail "FAIL line must show expected and observed: $out"
echo "$out" | tail -n 1 | grep -qx "2 passed, 1 failed" || fail "closing line: $out"
# directories run in byte order of their paths
[ "$(echo "$out" | head -n 1 | cut -c1-4)" = "PASS" ] || fail "order: $out"

printf 'wfpsim: 1\nhost: {adresses: []}\n' > "$tmp/bad.yaml"
out=$("$wfpsim" run "$tmp/bad.yaml" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "unusable input must exit 2, got $rc"
echo "$out" | grep -q "bad.yaml:2:8: unknown key 'adresses'" || fail "error position: $out"
"$wfpsim" check "$tmp/bad.yaml" > /dev/null 2>&1; [ $? -eq 2 ] || fail "check of bad input must exit 2"
"$wfpsim" check "$tmp/suite" > /dev/null || fail "check of a loadable suite must pass"

"$wfpsim" run --junit "$tmp/j.xml" "$tmp/suite" > /dev/null
grep -q '<testsuite name="wfpsim">' "$tmp/j.xml" || fail "junit suite"
[ "$(grep -c '<testcase ' "$tmp/j.xml")" -eq 3 ] || fail "junit cases"
grep -q '<failure message=' "$tmp/j.xml" || fail "junit failure"
python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$tmp/j.xml" || fail "junit is not XML"

"$wfpsim" run --json "$tmp/suite" > "$tmp/r.json" 2> "$tmp/r.err"
python3 - "$tmp/r.json" <<'PY' || fail "json"
import json, sys
r = json.load(open(sys.argv[1]))
assert [x["status"] for x in r] == ["pass", "pass", "fail"], r
assert r[0]["packets"][0]["verdict"] == "block" and r[0]["packets"][0]["filter"] == "block"
# per-expectation outcomes: the failing item is named, with its line
e = r[2]["expectations"]
assert e and e[0]["kind"] == "packets" and e[0]["what"] == "packet 1", e
assert not e[0]["passed"] and "expected verdict permit" in e[0]["message"] and e[0]["line"] > 0, e
assert all(x["passed"] and x["message"] is None for x in r[0]["expectations"]), r[0]["expectations"]
PY
grep -qx "2 passed, 1 failed" "$tmp/r.err" || fail "json closing line on stderr"

# shards partition the suite
n1=$("$wfpsim" run --shard 1/2 "$tmp/suite" | tail -n 1)
n2=$("$wfpsim" run --shard 2/2 "$tmp/suite" | tail -n 1)
[ "$n1" = "1 passed, 1 failed" ] && [ "$n2" = "1 passed, 0 failed" ] || fail "shards: '$n1' '$n2'"

"$wfpsim" run --trace "$tmp/suite/a.yaml" | grep -q "sublayer upper" || fail "trace shows sublayer decisions"

# determinism: byte-identical output
a=$("$wfpsim" run --json "$src/scenarios/arbitration" 2>/dev/null | sha256sum)
b=$("$wfpsim" run --json "$src/scenarios/arbitration" 2>/dev/null | sha256sum)
[ "$a" = "$b" ] || fail "output differs between runs"
echo "run: ok"
