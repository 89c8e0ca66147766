#!/usr/bin/env bash
# classify.sh — `wfpsim classify` end to end: a block, a permit, a veto in
# JSON, a scenario file (policy: key) and unusable input (exit 2 with
# FILE:LINE:COL). Usage: bash classify.sh <wfpsim> <source-dir>
set -u
wfpsim=${1:?usage: classify.sh WFPSIM SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_output NAME EXPECTED_RC PATTERN -- ARGS...: runs wfpsim, checks the
# exit code and that stdout+stderr match the extended regex PATTERN.
expect_output() {
    local name=$1 want_rc=$2 pattern=$3
    shift 4
    local out rc
    out=$("$wfpsim" "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$name: exit $rc, expected $want_rc"
        printf '%s\n' "$out" >&2
        return
    fi
    if ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
        fail "$name: output does not match /$pattern/"
        printf '%s\n' "$out" >&2
    fi
}

cat >"$tmp/policy.yaml" <<'EOF'
providers:
  - {name: VendorA}
sublayers:
  - {name: A, weight: 0x9100, provider: VendorA}
  - {name: B, weight: 0x100}
callouts:
  - name: ids
    layer: ALE_AUTH_CONNECT_V4
    classify:
      - when: {IP_REMOTE_PORT: 4444}
        action: block
        clear_write_right: true
      - action: continue
filters:
  - name: A-allow-web
    layer: ALE_AUTH_CONNECT_V4
    sublayer: A
    action: permit
    flags: [clear_action_right]
    conditions:
      - {field: IP_REMOTE_PORT, value: 443}
      - {field: IP_REMOTE_PORT, value: 4444}
      - {field: IP_REMOTE_ADDRESS, value: 10.0.0.0/8}
  - name: B-ids
    layer: ALE_AUTH_CONNECT_V4
    sublayer: B
    action: callout_unknown
    callout: ids
  - name: block-telnet
    layer: ALE_AUTH_CONNECT_V4
    action: block
    conditions: {IP_REMOTE_PORT: 23, IP_PROTOCOL: tcp}
EOF

L=ALE_AUTH_CONNECT_V4
P="$tmp/policy.yaml"

# a static block
expect_output block 0 '^action: +block$' -- classify --policy "$P" --layer $L IP_REMOTE_PORT=23 IP_PROTOCOL=tcp
expect_output block-filter 0 '^filter: +block-telnet \(id [0-9]+\)$' -- classify --policy "$P" --layer $L IP_REMOTE_PORT=23 IP_PROTOCOL=6
# a hard permit
expect_output permit 0 '^action: +permit$' -- classify --policy "$P" --layer $L IP_REMOTE_PORT=443 IP_REMOTE_ADDRESS=10.0.0.5
expect_output permit-hard 0 '^hard: +yes$' -- classify --policy "$P" --layer "FWPM_LAYER_$L" IP_REMOTE_PORT=443 IP_REMOTE_ADDRESS=10.0.0.5
# only the continuing callout matches: no decision (the shim permits)
expect_output no-decision 0 '^reason: +no_decision ' -- classify --policy "$P" --layer $L IP_REMOTE_PORT=80
# nothing at all matches at another layer
expect_output no-match 0 '^action: +none_no_match$' -- classify --policy "$P" --layer ALE_AUTH_RECV_ACCEPT_V4 IP_LOCAL_PORT=80
# the callout vetoes the hard permit (JSON)
json=$("$wfpsim" classify --policy "$P" --layer $L IP_REMOTE_PORT=4444 IP_REMOTE_ADDRESS=10.0.0.5 --json --trace 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "veto-json: exit $rc"
for want in '"action": "block"' '"veto": true' '"filter": "B-ids"' '"sublayer": "B"' '"reason": "callout_veto"' \
    '"effect": "veto"' '"steps": \[' '"callout_invoked": true'; do
    printf '%s\n' "$json" | grep -q -- "$want" || fail "veto-json: no $want in: $json"
done
if command -v python3 >/dev/null 2>&1; then
    printf '%s\n' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["action"]=="block" and d["veto"] and len(d["sublayers"])>=3' ||
        fail "veto-json: not the expected JSON"
    compact=$("$wfpsim" classify --policy "$P" --layer $L IP_REMOTE_PORT=80 --json --compact)
    printf '%s\n' "$compact" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["action"]=="none" and d["permitted"] and d["filter"] is None and "steps" not in d' ||
        fail "compact-json: $compact"
fi
# --trace text names every sublayer and filter
expect_output trace 0 '^  \[B\] B-ids \(id [0-9]+\): block \(callout\), hard, veto$' -- classify --policy "$P" --layer $L IP_REMOTE_PORT=4444 IP_REMOTE_ADDRESS=10.0.0.5 --trace

# a scenario file: its policy: key is used
cat >"$tmp/scenario.yaml" <<'EOF'
wfpsim: 1
name: telnet-blocked
policy:
  filters:
    - {name: no-telnet, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_PORT: 23}}
EOF
expect_output scenario 0 '^filter: +no-telnet' -- classify --policy "$tmp/scenario.yaml" --layer $L IP_REMOTE_PORT=23

# unusable input: exit 2, and the message names FILE:LINE:COL
cat >"$tmp/bad.yaml" <<'EOF'
filters:
  - name: x
    layer: ALE_AUTH_CONNECT_V4
    action: block
    conditions:
      - {field: IP_REMOTE_PORT, value: 70000}
EOF
expect_output bad-value 2 "bad\\.yaml:6:40: bad value '70000' for IP_REMOTE_PORT" -- classify --policy "$tmp/bad.yaml" --layer $L
cat >"$tmp/bad2.yaml" <<'EOF'
filters:
  - {name: x, layer: ALE_AUTH_CONNECT_V4, action: block, colour: red}
EOF
expect_output unknown-key 2 "bad2\\.yaml:2:58: unknown key 'colour' in filter \\(expected one of: name, " -- classify --policy "$tmp/bad2.yaml" --layer $L
expect_output bad-field-value 2 "bad value 'abc' for IP_REMOTE_PORT" -- classify --policy "$P" --layer $L IP_REMOTE_PORT=abc
expect_output bad-field 2 "NO_SUCH is not a field of FWPM_LAYER_ALE_AUTH_CONNECT_V4" -- classify --policy "$P" --layer $L NO_SUCH=1
expect_output bad-layer 2 "no layer named 'NOPE'" -- classify --policy "$P" --layer NOPE
expect_output no-policy 2 "--policy and --layer are required" -- classify --layer $L
expect_output missing-file 2 "nonexistent\\.yaml: cannot open" -- classify --policy "$tmp/nonexistent.yaml" --layer $L
expect_output help 0 "usage: wfpsim classify" -- classify --help

if [ "$failures" -ne 0 ]; then
    echo "classify.sh: $failures failure(s)" >&2
    exit 1
fi
echo "classify.sh: all passed"
