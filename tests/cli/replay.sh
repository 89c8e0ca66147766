#!/usr/bin/env bash
# replay.sh — `wfpsim replay` end to end. Makes two small captures with
# tools/mkpcap (a TCP connection, a blocked DNS query, a listener and a
# closed port, a blocked telnet connect, ARP, a packet for another host, a
# truncated TCP header, a fragmented UDP datagram; then an ICMP echo two
# seconds later), replays them against a small policy and checks the JSON
# lines, the summary, the verdict captures (tcpdump -r counts),
# determinism, --scenario, and the errors (exit 2 naming the file). When
# ../shared/data/pcaps exists, every capture there must replay without a
# crash and with the packet count tcpdump reports (for a corrupt file: the
# packets before the damage).
# Usage: bash replay.sh <wfpsim> <source-dir>
set -u
wfpsim=${1:?usage: replay.sh WFPSIM SOURCE_DIR}
src=${2:?usage: replay.sh WFPSIM SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

need() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "SKIP: $1 is not installed" >&2
        exit 0
    }
}
need python3
need tcpdump

# packets in a capture as tcpdump counts them (one line per packet with -q;
# continuation lines start with white space)
tcount() {
    tcpdump -qnr "$1" 2>/dev/null | grep -c '^[0-9]'
}

mkpcap="$src/tools/mkpcap/mkpcap.py"

# ---- the captures ----------------------------------------------------------
cat >"$tmp/gen.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import mkpcap as m

L, R, P, X = "10.0.0.2", "93.184.216.34", "198.51.100.7", "192.0.2.50"
pk = [  # (outbound, raw IP packet | None for ARP | ("cut", packet) for a truncated header)
    (True, m.ip(L, R, m.tcp(L, R, 49152, 80, "S", 1000))),
    (False, m.ip(R, L, m.tcp(R, L, 80, 49152, "SA", 5000, 1001))),
    (True, m.ip(L, R, m.tcp(L, R, 49152, 80, "A", 1001, 5001))),
    (True, m.ip(L, R, m.tcp(L, R, 49152, 80, "PA", 1001, 5001, payload=b"GET / HTTP/1.1\r\n\r\n"))),
    (True, m.ip(L, R, m.udp(L, R, 53000, 53, b"query"))),
    (False, m.ip(R, L, m.udp(R, L, 53, 53000, b"answer"))),
    (False, m.ip(P, L, m.tcp(P, L, 40000, 8080, "S", 1))),
    (False, m.ip(P, L, m.tcp(P, L, 40001, 9999, "S", 1))),
    (True, m.ip(L, R, m.tcp(L, R, 49153, 23, "S", 1))),
    (False, None),
    (False, m.ip(P, X, m.udp(P, X, 1000, 2000, b"x"))),
    (False, ("cut", m.ip(P, L, m.tcp(P, L, 40002, 8080, "S", 1))[:24])),
]
whole = m.ip(P, L, m.udp(P, L, 7000, 5353, bytes(range(256)) * 12), ident=0x777)
pk += [(False, f) for f in m.fragment(whole, 1480, ident=0x777)]
arp = bytes.fromhex("ffffffffffff020000000001080600010800060400010200000000010a000001"
                    "0000000000000a000002")
frames = []
t0 = 1_700_000_000_000_000_000
for n, (out, p) in enumerate(pk):
    t = t0 + n * 1_000_000
    if p is None:
        frames.append((t, arp))
    elif isinstance(p, tuple):
        fr = m.frame(p[1], "ether", out)
        frames.append((t, fr, len(fr) + 16))
    else:
        frames.append((t, m.frame(p, "ether", out)))
m.write_pcap(sys.argv[2], 1, frames)
EOF
python3 "$tmp/gen.py" "$src/tools/mkpcap" "$tmp/a.pcap" || fail "cannot make a.pcap"
python3 "$mkpcap" icmp-echo "$tmp/b.pcap" --link ether --start 1700000002000000000 || fail "cannot make b.pcap"
python3 "$mkpcap" tcp-rst "$tmp/raw.pcap" --link raw --start 1700000003000000000 || fail "cannot make raw.pcap"

cat >"$tmp/policy.yaml" <<'EOF'
wfpsim: 1
name: replay-test-policy
policy:
  filters:
    - {name: block-dns, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, value: 53}]}
    - {name: "block-telnet \"23\"", layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, value: 23}]}
    - {name: allow-web, layer: ALE_AUTH_CONNECT_V4, action: permit, conditions: [{field: IP_REMOTE_PORT, value: 80}]}
EOF
# the same policy as a bare mapping
sed -n '/^policy:/,$p' "$tmp/policy.yaml" | tail -n +2 | sed 's/^  //' >"$tmp/bare.yaml"

run_policy() { # OUTDIR [extra args]: --json run of a.pcap b.pcap with both verdict captures
    local d=$1
    shift
    mkdir -p "$d"
    "$wfpsim" replay --json --policy "$tmp/policy.yaml" --local 10.0.0.2 --listen tcp:8080 --listen udp:5353 \
        --write-permitted "$d/permitted.pcap" --write-dropped "$d/dropped.pcap" "$@" \
        "$tmp/a.pcap" "$tmp/b.pcap" >"$d/out.jsonl" 2>"$d/err.txt"
    echo $? >"$d/rc"
}

# ---- JSON lines -----------------------------------------------------------
run_policy "$tmp/r1"
[ "$(cat "$tmp/r1/rc")" = 0 ] || { fail "policy run: exit $(cat "$tmp/r1/rc")"; cat "$tmp/r1/err.txt" >&2; }

cat >"$tmp/check_json.py" <<'EOF'
import json, sys
# packet: (direction, verdict, layer, filter, reason); time_ns is 1 ms per packet, b.pcap 2 s later
want = {
    1: ("out", "permit", "OUTBOUND_IPPACKET_V4", None, "no_match"),
    2: ("in", "permit", "ALE_FLOW_ESTABLISHED_V4", None, "no_match"),
    3: ("out", "permit", "OUTBOUND_IPPACKET_V4", None, "no_match"),
    4: ("out", "permit", "OUTBOUND_IPPACKET_V4", None, "no_match"),
    5: ("out", "block", "ALE_AUTH_CONNECT_V4", "block-dns", "filter_block"),
    7: ("in", "permit", "ALE_AUTH_RECV_ACCEPT_V4", None, "no_match"),
    8: ("in", "block", "INBOUND_TRANSPORT_V4_DISCARD", None, "no_listener"),
    9: ("out", "block", "ALE_AUTH_CONNECT_V4", 'block-telnet "23"', "filter_block"),
    10: ("in", "permit", None, None, "not_ip"),
    11: ("in", "permit", None, None, "not_local"),
    12: ("in", "block", None, None, "malformed"),
    13: ("in", "permit", "INBOUND_IPPACKET_V4", None, "held"),
    14: ("in", "permit", "INBOUND_IPPACKET_V4", None, "held"),
    15: ("in", "permit", "DATAGRAM_DATA_V4", None, "no_match"),
    16: ("out", "permit", "OUTBOUND_IPPACKET_V4", None, "no_match"),
    17: ("in", "permit", "DATAGRAM_DATA_V4", None, "no_match"),
}
keys = ["packet", "time_ns", "direction", "verdict", "layer", "filter", "reason"]
bad = 0
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
if len(lines) != 17:
    print("expected 17 JSON lines, got %d" % len(lines)); bad += 1
for n, line in enumerate(lines, 1):
    o = json.loads(line)
    if list(o) != keys:
        print("line %d: keys %s" % (n, list(o))); bad += 1
    # the exact spelling: ", " and ": " separators, as json.dumps writes them
    if json.dumps(o) != line:
        print("line %d: not in the canonical form: %s" % (n, line)); bad += 1
    t = (n - 1) * 1_000_000 if n <= 15 else 2_000_000_000 + (n - 16) * 1_000_000
    if o["packet"] != n or o["time_ns"] != t:
        print("line %d: packet %s time_ns %s, expected %d %d" % (n, o["packet"], o["time_ns"], n, t)); bad += 1
    if o["direction"] not in ("in", "out") or o["verdict"] not in ("permit", "block"):
        print("line %d: bad direction/verdict: %s" % (n, line)); bad += 1
    if n in want and (o["direction"], o["verdict"], o["layer"], o["filter"], o["reason"]) != want[n]:
        print("line %d: %s, expected %s" % (n, line, want[n])); bad += 1
print("permit=%d block=%d" % (sum(json.loads(l)["verdict"] == "permit" for l in lines),
                              sum(json.loads(l)["verdict"] == "block" for l in lines)))
sys.exit(1 if bad else 0)
EOF
if ! python3 "$tmp/check_json.py" "$tmp/r1/out.jsonl" >"$tmp/check.txt"; then
    fail "JSON lines"
    cat "$tmp/check.txt" "$tmp/r1/out.jsonl" >&2
fi
grep -q '^permit=13 block=4$' "$tmp/check.txt" || fail "verdict totals: $(tail -1 "$tmp/check.txt")"

# ---- the summary (stderr with --json, stdout without) -----------------------
for pat in '^captures: 2 \(2 read, 0 unreadable\)$' '^packets: 17$' '^permitted: 9$' '^blocked: 2$' \
    '^dropped by the stack: 2 \(no_listener 1, malformed 1\)$' '^held for reassembly: 2$' \
    '^ignored: 2 \(not_local 1, not_ip 1\)$' '^malformed: 1 \(truncated-l4 1; first: packet 12\)$' \
    '^verdicts: 13 permit, 4 block$' '^  ALE_AUTH_CONNECT_V4 +2  \(0 permit, 2 block\)$' \
    '^  block-dns +1  \(0 permit, 1 block\)$' '^  allow-web +1  \(1 permit, 0 block\)$'; do
    grep -Eq -- "$pat" "$tmp/r1/err.txt" || fail "summary: no line matching /$pat/"
done
# by deciding layer: count descending, then name
layers=$(sed -n '/^by deciding layer:/,/^by deciding filter:/p' "$tmp/r1/err.txt" | sed -n 's/^  \([A-Z0-9_]*\) .*/\1/p' | tr '\n' ' ')
[ "$layers" = "OUTBOUND_IPPACKET_V4 DATAGRAM_DATA_V4 ALE_AUTH_CONNECT_V4 INBOUND_IPPACKET_V4 ALE_AUTH_RECV_ACCEPT_V4 ALE_FLOW_ESTABLISHED_V4 INBOUND_TRANSPORT_V4_DISCARD " ] ||
    fail "layer order: $layers"
filters=$(sed -n '/^by deciding filter:/,/^classify decisions/p' "$tmp/r1/err.txt" | sed -n 's/^  \([a-z-]*\( "23"\)*\) .*/\1/p' | tr '\n' '|')
[ "$filters" = 'block-dns|block-telnet "23"|' ] || fail "filter order: $filters"

"$wfpsim" replay --policy "$tmp/bare.yaml" --local 10.0.0.2 --listen tcp:8080 --listen udp:5353 \
    "$tmp/a.pcap" "$tmp/b.pcap" >"$tmp/text.txt" 2>"$tmp/text.err" || fail "text run: exit $?"
[ -s "$tmp/text.err" ] && fail "text run wrote to stderr: $(cat "$tmp/text.err")"
diff <(sed -n '/^captures:/,$p' "$tmp/r1/err.txt") "$tmp/text.txt" >/dev/null ||
    fail "the text summary (bare policy) differs from the --json run's"

# ---- verdict captures ----------------------------------------------------
[ "$(tcount "$tmp/r1/permitted.pcap")" = 13 ] || fail "permitted.pcap: $(tcount "$tmp/r1/permitted.pcap") packets, expected 13"
[ "$(tcount "$tmp/r1/dropped.pcap")" = 4 ] || fail "dropped.pcap: $(tcount "$tmp/r1/dropped.pcap") packets, expected 4"
tcpdump -r "$tmp/r1/dropped.pcap" 2>&1 | grep -q 'link-type EN10MB' || fail "dropped.pcap: not Ethernet"
tcpdump -nr "$tmp/r1/dropped.pcap" 2>/dev/null | grep -q '10.0.0.2.49153 > 93.184.216.34.23: Flags \[S\]' ||
    fail "dropped.pcap: no telnet SYN"
head -c 4 "$tmp/r1/dropped.pcap" | od -An -tx1 | grep -q '4d 3c b2 a1' || fail "dropped.pcap: not a nanosecond pcap"

# ---- determinism ---------------------------------------------------------
run_policy "$tmp/r2"
for f in out.jsonl permitted.pcap dropped.pcap; do
    cmp -s "$tmp/r1/$f" "$tmp/r2/$f" || fail "two runs differ: $f"
done

# ---- --scenario: host, processes and policy from a scenario ---------------
cat >"$tmp/scenario.yaml" <<'EOF'
wfpsim: 1
name: replay-test-scenario
host:
  name: client
  addresses: [10.0.0.2]
  processes:
    - name: web
      app: 'C:\srv\web.exe'
      sockets:
        - {protocol: tcp, local_port: 8080, listen: true}
        - {protocol: udp, local_port: 5353}
policy:
  filters:
    - {name: block-web-inbound, layer: ALE_AUTH_RECV_ACCEPT_V4, action: block, conditions: [{field: ALE_APP_ID, value: 'C:\srv\web.exe'}]}
traffic:
  - at: 0
    packet: {ip: {src: 10.0.0.2, dst: 192.0.2.10}, tcp: {sport: 50000, dport: 443, flags: S}}
EOF
"$wfpsim" replay --json --scenario "$tmp/scenario.yaml" --write-permitted "$tmp/sp.pcap" --write-dropped "$tmp/sd.pcap" \
    "$tmp/a.pcap" >"$tmp/s.jsonl" 2>"$tmp/s.err" || fail "scenario run: exit $?"
grep -q '^{"packet": 7, "time_ns": 6000000, "direction": "in", "verdict": "block", "layer": "ALE_AUTH_RECV_ACCEPT_V4", "filter": "block-web-inbound", "reason": "filter_block"}$' "$tmp/s.jsonl" ||
    fail "scenario: packet 7 not blocked by block-web-inbound"
grep -q '^{"packet": 15,.*"verdict": "block", "layer": "ALE_AUTH_RECV_ACCEPT_V4", "filter": "block-web-inbound"' "$tmp/s.jsonl" ||
    fail "scenario: the reassembled datagram not blocked"
grep -q '^packets: 15$' "$tmp/s.err" || fail "scenario: the scenario's own traffic was replayed"
# blocked: 7 (filter), 8 (no listener), 12 (malformed), 15 (filter) and the
# held fragments 13 and 14 of that blocked datagram, which go with it
[ "$(tcount "$tmp/sd.pcap")" = 6 ] || fail "scenario dropped.pcap: $(tcount "$tmp/sd.pcap") packets, expected 6"
[ "$(tcount "$tmp/sp.pcap")" = 9 ] || fail "scenario permitted.pcap: $(tcount "$tmp/sp.pcap") packets, expected 9"

# ---- errors: exit 2, the message names the file ---------------------------
expect_error() { # NAME PATTERN -- ARGS...
    local name=$1 pattern=$2 out rc
    shift 3
    out=$("$wfpsim" replay "$@" 2>&1 >/dev/null)
    rc=$?
    [ "$rc" = 2 ] || fail "$name: exit $rc, expected 2"
    printf '%s\n' "$out" | grep -Eq -- "$pattern" || fail "$name: stderr does not match /$pattern/: $out"
}
expect_error "no capture" 'no capture' -- --policy "$tmp/policy.yaml" --local 10.0.0.2
expect_error "no --local" 'needs the host.s addresses' -- --policy "$tmp/policy.yaml" "$tmp/a.pcap"
expect_error "both sources" 'either --scenario' -- --policy "$tmp/policy.yaml" --scenario "$tmp/scenario.yaml" "$tmp/a.pcap"
expect_error "bad --listen" "--listen: expected" -- --policy "$tmp/policy.yaml" --local 10.0.0.2 --listen sctp:1 "$tmp/a.pcap"
expect_error "bad address" 'host .replay.' -- --policy "$tmp/policy.yaml" --local 10.0.0.999 "$tmp/a.pcap"
expect_error "missing capture" "$tmp/nope.pcap" -- --policy "$tmp/policy.yaml" --local 10.0.0.2 "$tmp/nope.pcap"
expect_error "unknown host" "no host named 'x'" -- --scenario "$tmp/scenario.yaml" --host x "$tmp/a.pcap"
printf 'filters: [{name: f, layer: NO_SUCH_LAYER, action: block}]\n' >"$tmp/badpol.yaml"
expect_error "bad policy" "badpol.yaml:1:" -- --policy "$tmp/badpol.yaml" --local 10.0.0.2 "$tmp/a.pcap"
# a `netsh wfp show state` dump as the policy (sim/wfp_import.h)
printf '<?xml version="1.0"?>\n<wfpdiag><filters>\n' >"$tmp/broken.xml"
expect_error "broken dump" 'broken.xml:[0-9]+: ' -- --policy "$tmp/broken.xml" --local 10.0.0.2 "$tmp/a.pcap"
printf '<?xml version="1.0"?>\n<wfpdiag/>\n' >"$tmp/empty.xml"
"$wfpsim" replay --json --policy "$tmp/empty.xml" --local 10.0.0.2 "$tmp/a.pcap" >"$tmp/empty.jsonl" 2>"$tmp/empty.err" ||
    fail "empty dump: exit $?: $(cat "$tmp/empty.err")"
[ "$(wc -l <"$tmp/empty.jsonl")" = 15 ] || fail "empty dump: $(wc -l <"$tmp/empty.jsonl") packets, expected 15"
dump="$src/../shared/data/wfpstate/keploy__wfpstate.xml"
if [ -f "$dump" ]; then
    for k in 1 2; do
        "$wfpsim" replay --json --policy "$dump" --local 10.0.0.2 --listen tcp:8080 --listen udp:5353 \
            "$tmp/a.pcap" "$tmp/b.pcap" >"$tmp/dump$k.jsonl" 2>"$tmp/dump$k.err" || fail "real dump: exit $?"
    done
    [ "$(wc -l <"$tmp/dump1.jsonl")" = 17 ] || fail "real dump: $(wc -l <"$tmp/dump1.jsonl") packets, expected 17"
    cmp -s "$tmp/dump1.jsonl" "$tmp/dump2.jsonl" || fail "real dump: two runs differ"
    # Windows Defender Firewall's filters decide: some packet names one
    grep -q '"filter": "[^"]' "$tmp/dump1.jsonl" || fail "real dump: no filter of the dump decided anything"
fi
# another link type than the verdict captures': skipped with an error; the rest runs
expect_error "link type" 'raw.pcap: link type RAW' -- --policy "$tmp/policy.yaml" --local 10.0.0.2 \
    --write-dropped "$tmp/x.pcap" "$tmp/a.pcap" "$tmp/raw.pcap" "$tmp/b.pcap"
# without verdict captures mixed link types are fine and numbers continue
n=$("$wfpsim" replay --json --policy "$tmp/policy.yaml" --local 10.0.0.2 "$tmp/a.pcap" "$tmp/raw.pcap" 2>/dev/null | tail -1)
case $n in '{"packet": 17, "time_ns": 3001000000, "direction": "in", '*) ;; *) fail "mixed link types: last line $n" ;; esac
# a corrupt capture in the middle: its packets before the damage count, the next file runs
size=$(wc -c <"$tmp/a.pcap")
head -c $((size - 20)) "$tmp/a.pcap" >"$tmp/cut.pcap"
"$wfpsim" replay --json --policy "$tmp/policy.yaml" --local 10.0.0.2 "$tmp/cut.pcap" "$tmp/b.pcap" \
    >"$tmp/cut.jsonl" 2>"$tmp/cut.err"
rc=$?
[ "$rc" = 2 ] || fail "corrupt capture: exit $rc, expected 2"
grep -q "cut.pcap: record 15" "$tmp/cut.err" || fail "corrupt capture: message: $(cat "$tmp/cut.err")"
[ "$(wc -l <"$tmp/cut.jsonl")" = 16 ] || fail "corrupt capture: $(wc -l <"$tmp/cut.jsonl") packets, expected 14 + 2"
grep -q '^captures: 2 (1 read, 1 unreadable)$' "$tmp/cut.err" || fail "corrupt capture: summary"

# ---- injection: a callout's copies re-enter after their delay ---------------
cat >"$tmp/geninj.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import mkpcap as m
S, L = "10.0.0.9", "10.0.0.2"
frames = [(1_000_000_000 * (n + 1), m.frame(m.ip(S, L, m.udp(S, L, 5000 + n, 53, b"q")), "ether", False))
          for n in range(2)]
m.write_pcap(sys.argv[2], 1, frames)
EOF
python3 "$tmp/geninj.py" "$src/tools/mkpcap" "$tmp/inj.pcap" || fail "cannot make inj.pcap"
"$wfpsim" replay --json --scenario "$src/scenarios/injection/out-of-band-inspection.yaml" "$tmp/inj.pcap" \
    >"$tmp/inj.jsonl" 2>"$tmp/inj.err"
rc=$?
[ "$rc" = 0 ] || fail "injection replay: exit $rc ($(cat "$tmp/inj.err"))"
cat >"$tmp/inj.want" <<'EOF'
{"packet": 1, "time_ns": 0, "direction": "in", "verdict": "block", "layer": "INBOUND_TRANSPORT_V4", "filter": "oob-filter", "reason": "absorbed"}
{"packet": 2, "time_ns": 5000000, "direction": "in", "verdict": "permit", "layer": "DATAGRAM_DATA_V4", "filter": null, "reason": "no_match", "injected_from": 1}
{"packet": 3, "time_ns": 1000000000, "direction": "in", "verdict": "block", "layer": "INBOUND_TRANSPORT_V4", "filter": "oob-filter", "reason": "absorbed"}
{"packet": 4, "time_ns": 1005000000, "direction": "in", "verdict": "permit", "layer": "DATAGRAM_DATA_V4", "filter": null, "reason": "no_match", "injected_from": 3}
EOF
diff -u "$tmp/inj.want" "$tmp/inj.jsonl" >&2 || fail "injection replay: JSON lines differ"
grep -q '^injected by callouts: 2 (counted in packets)$' "$tmp/inj.err" || fail "injection replay: summary line"

# ---- pended connects: printed when pended and again at the completion --------
cat >"$tmp/genpend.py" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import mkpcap as m
L, R = "10.0.0.2", "93.184.216.34"
m.write_pcap(sys.argv[2], 1, [
    (1_000_000, m.frame(m.ip(L, R, m.tcp(L, R, 50000, 443, "S", 1)), "ether", True)),
    (40_000_000, m.frame(m.ip(R, L, m.tcp(R, L, 443, 50000, "SA", 9, 2)), "ether", False)),
    (50_000_000, m.frame(m.ip(L, R, m.tcp(L, R, 50001, 8443, "S", 1)), "ether", True))])
EOF
python3 "$tmp/genpend.py" "$src/tools/mkpcap" "$tmp/pend.pcap" || fail "cannot make pend.pcap"
"$wfpsim" replay --json --scenario "$src/scenarios/ale/c36-pended-connect-completes.yaml" \
    --write-permitted "$tmp/pend-perm.pcap" --write-dropped "$tmp/pend-drop.pcap" "$tmp/pend.pcap" \
    >"$tmp/pend.jsonl" 2>"$tmp/pend.err"
rc=$?
[ "$rc" = 0 ] || fail "pend replay: exit $rc ($(cat "$tmp/pend.err"))"
cat >"$tmp/pend.want" <<'EOF'
{"packet": 1, "time_ns": 0, "direction": "out", "verdict": "block", "layer": "ALE_AUTH_CONNECT_V4", "filter": "ask-f", "reason": "pended"}
{"packet": 1, "time_ns": 20000000, "direction": "out", "verdict": "permit", "layer": "OUTBOUND_IPPACKET_V4", "filter": null, "reason": "no_match", "completion": true}
{"packet": 2, "time_ns": 39000000, "direction": "in", "verdict": "permit", "layer": "ALE_FLOW_ESTABLISHED_V4", "filter": null, "reason": "no_match"}
{"packet": 3, "time_ns": 49000000, "direction": "out", "verdict": "block", "layer": "ALE_AUTH_CONNECT_V4", "filter": "ask-f", "reason": "pended"}
{"packet": 3, "time_ns": 69000000, "direction": "out", "verdict": "block", "layer": "ALE_AUTH_CONNECT_V4", "filter": "ask-f", "reason": "callout_block", "completion": true}
EOF
diff -u "$tmp/pend.want" "$tmp/pend.jsonl" >&2 || fail "pend replay: JSON lines differ"
grep -q '^pended classifies completed: 2; still pended: 0$' "$tmp/pend.err" || fail "pend replay: summary line"
[ "$(tcount "$tmp/pend-perm.pcap")/$(tcount "$tmp/pend-drop.pcap")" = "2/1" ] ||
    fail "pend replay: verdict captures hold $(tcount "$tmp/pend-perm.pcap")/$(tcount "$tmp/pend-drop.pcap") packets, expected 2/1"

# ---- the shared real captures ----------------------------------------------
pcaps="$src/../shared/data/pcaps"
if [ -d "$pcaps" ]; then
    checked=0
    total=0
    all=()
    for f in "$pcaps"/*.pcap "$pcaps"/*.pcapng; do
        [ -f "$f" ] || continue
        name=$(basename "$f")
        want=$(tcount "$f")
        # the host: the source of the first IP packet (so the host's paths run), listening widely
        addr=$(tcpdump -nr "$f" -c 1 'ip or ip6' 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "IP" || $i == "IP6") { print $(i+1); exit }}')
        case $addr in
        *:*) addr=${addr%.*} ;;                                       # IPv6: drop ".port"
        *) addr=$(printf '%s' "$addr" | cut -d. -f1-4 | tr -d ':') ;; # IPv4
        esac
        [ -n "$addr" ] || addr=10.0.0.2
        rm -f "$tmp/rp.pcap" "$tmp/rd.pcap"
        "$wfpsim" replay --json --policy "$tmp/policy.yaml" --local "$addr" --listen tcp:1-1024 --listen udp:53 \
            --write-permitted "$tmp/rp.pcap" --write-dropped "$tmp/rd.pcap" "$f" >"$tmp/real.jsonl" 2>"$tmp/real.err"
        rc=$?
        got=$(wc -l <"$tmp/real.jsonl")
        case $name in
        22_* | 25_* | 26_*) want_rc=2 ;;
        *) want_rc=0 ;;
        esac
        if grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/real.err"; then
            fail "$name: sanitizer report"
            cat "$tmp/real.err" >&2
        fi
        [ "$rc" = "$want_rc" ] || { fail "$name (host $addr): exit $rc, expected $want_rc"; head -5 "$tmp/real.err" >&2; }
        [ "$got" = "$want" ] || fail "$name: $got packets replayed, tcpdump reads $want"
        if [ "$want_rc" = 2 ]; then
            grep -q "$name" "$tmp/real.err" || fail "$name: the error does not name the file"
        elif [ -f "$tmp/rp.pcap" ] && [ -f "$tmp/rd.pcap" ]; then
            sum=$(($(tcount "$tmp/rp.pcap") + $(tcount "$tmp/rd.pcap")))
            [ "$sum" = "$want" ] || fail "$name: the verdict captures hold $sum packets, expected $want"
        else
            fail "$name: no verdict captures"
        fi
        echo "  $name: $got packets (tcpdump $want), host $addr, exit $rc"
        checked=$((checked + 1))
        total=$((total + want))
        all+=("$f")
    done
    # all of them in one run (link types mixed, corrupt files among them),
    # adopting mid-stream connections: numbers continue past the bad files
    "$wfpsim" replay --json --policy "$tmp/policy.yaml" --local 10.64.88.105 --local 127.0.0.1 --adopt-midstream \
        "${all[@]}" >"$tmp/all.jsonl" 2>"$tmp/all.err"
    rc=$?
    got=$(wc -l <"$tmp/all.jsonl")
    [ "$rc" = 2 ] || fail "all shared captures in one run: exit $rc, expected 2"
    [ "$got" = "$total" ] || fail "all shared captures in one run: $got packets, tcpdump reads $total"
    [ "$(tail -1 "$tmp/all.jsonl" | sed 's/,.*//')" = "{\"packet\": $total" ] || fail "all shared captures: numbering"
    grep -Eq 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/all.err" && fail "all shared captures: sanitizer report"
    echo "  all in one run: $got packets (tcpdump $total), exit $rc"
    echo "shared captures checked: $checked"
else
    echo "SKIP: $pcaps not found (shared captures)"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "replay: all checks passed"
