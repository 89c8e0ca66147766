#!/usr/bin/env bash
# graph.sh — `wfpsim graph` end to end: DOT on stdout, SVG / PNG / PDF files
# by extension, each view, and unusable input (exit 2).
# Usage: bash graph.sh <wfpsim> <source-dir>
set -u
wfpsim=${1:?usage: graph.sh WFPSIM SOURCE_DIR}
src=${2:?usage: graph.sh WFPSIM SOURCE_DIR}
# Graphviz and its font stack keep caches that LeakSanitizer reports (sanitizer builds)
export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
ex="$src/tests/graph/arbitration-example.yaml"

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect NAME RC PATTERN -- ARGS...: exit code and a regex on stdout+stderr
expect() {
    local name=$1 want_rc=$2 pattern=$3
    shift 4
    local out rc
    out=$("$wfpsim" graph "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$name: exit $rc, expected $want_rc"
        printf '%s\n' "$out" | head -20 >&2
        return
    fi
    if ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
        fail "$name: output does not match /$pattern/"
        printf '%s\n' "$out" | head -20 >&2
    fi
}

expect layer-dot 0 '^digraph wfp \{' -- "$ex" --layer ALE_AUTH_RECV_ACCEPT_V4 -o -
expect packet-dot 0 'verdict: BLOCK' -- "$ex" --packet 1 -o -
expect journey-dot 0 'INBOUND_TRANSPORT_V4' -- "$ex" --journey 1 -o -
expect collapse 0 'collapsed by sublayer' -- "$ex" --layer ALE_AUTH_RECV_ACCEPT_V4 --collapse sublayer -o -
expect filter 0 '1 of 3 filters shown' -- "$ex" --layer ALE_AUTH_RECV_ACCEPT_V4 --filter port-80-from -o -
expect help 0 'usage: wfpsim graph' -- --help

# the same input gives the same bytes
"$wfpsim" graph "$ex" --packet 1 -o "$tmp/a.dot" && "$wfpsim" graph "$ex" --packet 1 -o "$tmp/b.dot" ||
    fail "writing .dot"
cmp -s "$tmp/a.dot" "$tmp/b.dot" || fail "the DOT text is not stable"
cmp -s "$tmp/a.dot" "$src/tests/graph/arbitration-packet-1.dot" || fail "the DOT text differs from the golden"

# rendered files, format by extension
"$wfpsim" graph "$ex" --packet 1 -o "$tmp/p.svg" || fail "svg: exit $?"
head -c 400 "$tmp/p.svg" 2>/dev/null | grep -q '<svg' || fail "svg: no <svg> element"
"$wfpsim" graph "$ex" --journey 1 -o "$tmp/j.png" || fail "png: exit $?"
[ "$(head -c 4 "$tmp/j.png" 2>/dev/null | od -An -c | tr -d ' ')" = '211PNG' ] || fail "png: no PNG signature"
[ "$(wc -c < "$tmp/j.png" 2>/dev/null || echo 0)" -gt 5000 ] || fail "png: too small"
"$wfpsim" graph "$ex" --layer INBOUND_TRANSPORT_V4 -o "$tmp/l.pdf" || fail "pdf: exit $?"
head -c 4 "$tmp/l.pdf" 2>/dev/null | grep -q '%PDF' || fail "pdf: no PDF header"

# unusable input
expect no-layer 2 'which layer' -- "$ex" -o -
expect bad-layer 2 "no layer named 'NOPE'" -- "$ex" --layer NOPE -o -
expect bad-ext 2 'the extension says the format' -- "$ex" --layer ALE_AUTH_RECV_ACCEPT_V4 -o "$tmp/x.jpg"
expect no-output 2 '-o OUT is required' -- "$ex" --layer ALE_AUTH_RECV_ACCEPT_V4
expect bad-packet 2 'no packet 7' -- "$ex" --packet 7 -o -
expect bad-number 2 'wants a packet number' -- "$ex" --packet x -o -
expect bad-collapse 2 'provider\|sublayer' -- "$ex" --layer ALE_AUTH_RECV_ACCEPT_V4 --collapse weird -o -
expect both 2 'not both' -- "$ex" --packet 1 --journey 1 -o -
expect unknown-option 2 "unknown option '--nope'" -- "$ex" --nope -o -

if [ "$failures" -ne 0 ]; then
    echo "graph.sh: $failures failure(s)" >&2
    exit 1
fi
echo "graph.sh: all passed"
