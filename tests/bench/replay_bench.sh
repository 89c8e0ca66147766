#!/usr/bin/env bash
# replay_bench.sh — how fast `wfpsim replay` runs, against tcpdump reading
# the same capture in the same run. Not a CTest test: run it on demand with
# a Release (non-sanitized) build; see tests/bench/README.md.
#
#   bash tests/bench/replay_bench.sh WFPSIM [SOURCE_DIR] [RUNS]
#
# The capture is ../shared/data/pcaps/31_throughput_real_lan_10k.pcap when
# present (10 000 packets of a real LAN; the host is 10.64.88.105, the
# busiest address), else 10 000 packets made with tools/mkpcap (1 000 TCP
# connections of 10.0.0.2). Policies: none; 1 000 filters made from the
# ClassBench acl1_1K rules by tools/classbench2policy.py (250 rules at each
# of ALE_AUTH_CONNECT_V4, ALE_AUTH_RECV_ACCEPT_V4, OUTBOUND_TRANSPORT_V4,
# INBOUND_TRANSPORT_V4; permit, so every packet's fate is unchanged and
# the difference is the cost of evaluating them); the same with --json;
# and 4 000 filters (1 000 rules at each layer) to show how the cost grows.
# Without the ClassBench data the rules are made up (random prefixes and
# ports, fixed seed).
#
# Every command runs RUNS times (default 7); the best wall and CPU
# (user + system) times count. "setup" is the best time of the same
# command on a 1-packet capture (process start, policy load, host
# creation), subtracted to give the replay time proper. Packets per
# second = packets / replay CPU time.
set -u
wfpsim=${1:?usage: replay_bench.sh WFPSIM [SOURCE_DIR] [RUNS]}
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
runs=${3:-7}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in python3 tcpdump; do
    command -v $t >/dev/null || { echo "replay_bench: $t is required" >&2; exit 2; }
done

capture="$src/../shared/data/pcaps/31_throughput_real_lan_10k.pcap"
local_addr=10.64.88.105
if [ ! -f "$capture" ]; then
    capture="$tmp/synthetic_10k.pcap"
    local_addr=10.0.0.2
    python3 - "$src/tools/mkpcap" "$capture" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import mkpcap as m
L, frames, t = "10.0.0.2", [], 1_700_000_000_000_000_000
for c in range(1000):
    R = "93.184.%d.%d" % (c // 250, c % 250 + 1)
    sp, dp = 20000 + c, (80, 443, 8080, 25)[c % 4]
    seg = [(1, "S", b""), (0, "SA", b""), (1, "A", b""), (1, "PA", b"GET / HTTP/1.1\r\n\r\n"), (0, "A", b""),
           (0, "PA", b"HTTP/1.1 200 OK\r\n\r\n" + bytes(400)), (1, "A", b""), (1, "FA", b""), (0, "FA", b""), (1, "A", b"")]
    for out, fl, pl in seg:
        s, d, a, b = (L, R, sp, dp) if out else (R, L, dp, sp)
        frames.append((t, m.frame(m.ip(s, d, m.tcp(s, d, a, b, fl, payload=pl)), "ether", bool(out))))
        t += 100_000
m.write_pcap(sys.argv[2], 1, frames)
EOF
fi
tcpdump -r "$capture" -c 1 -w "$tmp/one.pcap" 2>/dev/null
# The same traffic REPEAT times (default 20), each copy shifted past the end
# of the previous one plus an hour, so that per-packet work dominates the
# process start: the 10k file alone replays in tens of milliseconds.
# Later copies meet the TCP flows the earlier ones left open, so the fates
# differ a little from the single file's; the work per packet is the same kind.
repeat=${REPEAT:-20}
python3 - "$src/tools/mkpcap" "$capture" "$tmp/repeated.pcap" "$repeat" <<'EOF'
import struct, sys
sys.path.insert(0, sys.argv[1])
import mkpcap as m
data = open(sys.argv[2], "rb").read()
magic = data[:4]
e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
linktype = struct.unpack(e + "I", data[20:24])[0]
recs, off = [], 24
while off + 16 <= len(data):
    sec, frac, cap, wire = struct.unpack(e + "IIII", data[off:off + 16])
    recs.append((sec * 10**9 + (frac if nano else frac * 1000), data[off + 16:off + 16 + cap], wire))
    off += 16 + cap
span = recs[-1][0] - recs[0][0] + 3600 * 10**9
out = [(t + k * span, b, w) for k in range(int(sys.argv[4])) for t, b, w in recs]
m.write_pcap(sys.argv[3], linktype, out)
EOF

rules="$src/../shared/data/classbench/wustl_nslab/acl1_1K"
if [ ! -f "$rules" ]; then
    rules="$tmp/rules.txt"
    python3 - >"$rules" <<'EOF'
import random
r = random.Random(1)
for _ in range(1000):
    a = ".".join(str(r.randrange(256)) for _ in range(4))
    b = ".".join(str(r.randrange(256)) for _ in range(4))
    p = r.randrange(1024)
    print("@%s/32 %s/%d 0 : 65535 %d : %d 0x06/0xFF" % (a, b, r.choice((16, 24, 32)), p, p))
EOF
fi
echo 'filters: []' >"$tmp/none.yaml"
python3 "$src/tools/classbench2policy.py" "$rules" -n 1000 -o "$tmp/f1000.yaml" || exit 2
python3 "$src/tools/classbench2policy.py" "$rules" -n 4000 -o "$tmp/f4000.yaml" 2>/dev/null ||
    python3 "$src/tools/classbench2policy.py" "$rules" -n $(($(grep -c '^@' "$rules") * 4)) -o "$tmp/f4000.yaml"
n4000=$(grep -c '^  - name:' "$tmp/f4000.yaml")

# best of RUNS runs of "$@" (output to /dev/null): "WALL_NS CPU_NS", each
# the minimum over the runs; CPU is user + system time of the process,
# which other load on the machine disturbs less than wall time.
cat >"$tmp/timeit.py" <<'EOF'
import resource, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
wall = cpu = None
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter_ns()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t1 = time.perf_counter_ns()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    c = int(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1e9)
    wall = t1 - t0 if wall is None else min(wall, t1 - t0)
    cpu = c if cpu is None else min(cpu, c)
print(wall, cpu)
EOF
best() { python3 "$tmp/timeit.py" "$runs" "$@"; }
ms() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e6 }'; }
pps() { awk -v p="$packets" -v n="$1" 'BEGIN { if (n <= 0) print "-"; else printf "%.0f", p / (n / 1e9) }'; }

# the replay must work before it is timed
"$wfpsim" replay --policy "$tmp/f1000.yaml" --local "$local_addr" "$capture" >"$tmp/check.txt" 2>&1 ||
    { echo "replay_bench: wfpsim replay failed:" >&2; cat "$tmp/check.txt" >&2; exit 2; }

echo "wfpsim: $wfpsim"
echo "$(uname -sm), $(nproc) CPUs, $(tcpdump --version 2>&1 | head -1), best of $runs runs"
echo "times in ms (wall / CPU = user + system); setup = the same command on a 1-packet capture;"
echo "replay = total - setup; packets/s = packets / replay CPU time (in brackets: / total CPU time)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf "%.1f", a / b }'; }

declare -A replay_cpu
row() { # NAME "TOTAL_WALL TOTAL_CPU" "SETUP_WALL SETUP_CPU"
    local tw tc sw sc
    read -r tw tc <<<"$2"
    read -r sw sc <<<"$3"
    local rw=$((tw - sw)) rc=$((tc - sc))
    printf '%-40s %18s %18s %18s %10s %10s\n' "$1" "$(ms "$tw") / $(ms "$tc")" "$(ms "$sw") / $(ms "$sc")" \
        "$(ms "$rw") / $(ms "$rc")" "$(pps "$rc")" "($(pps "$tc"))"
    replay_cpu[$1]=$rc
}
names=("wfpsim replay, no filters" "wfpsim replay, 1000 filters" "wfpsim replay, 1000 filters, --json"
       "wfpsim replay, $n4000 filters")

measure() { # CAPTURE
    local cap=$1
    packets=$(tcpdump -qnr "$cap" 2>/dev/null | grep -c '^[0-9]')
    echo
    echo "capture: $cap ($packets packets), host $local_addr"
    printf '%-40s %18s %18s %18s %10s %10s\n' "command" "total" "setup" "replay" "pkts/s" "(total)"
    row "tcpdump -r FILE -w /dev/null" "$(best tcpdump -r "$cap" -w /dev/null)" "$(best tcpdump -r "$tmp/one.pcap" -w /dev/null)"
    row "tcpdump -nr FILE > /dev/null" "$(best tcpdump -nr "$cap")" "$(best tcpdump -nr "$tmp/one.pcap")"
    bench() { # NAME POLICY [extra args]
        local name=$1 pol=$2
        shift 2
        row "$name" "$(best "$wfpsim" replay --policy "$pol" --local "$local_addr" "$@" "$cap")" \
            "$(best "$wfpsim" replay --policy "$pol" --local "$local_addr" "$@" "$tmp/one.pcap")"
    }
    bench "${names[0]}" "$tmp/none.yaml"
    bench "${names[1]}" "$tmp/f1000.yaml"
    bench "${names[2]}" "$tmp/f1000.yaml" --json
    bench "${names[3]}" "$tmp/f4000.yaml"
    echo "replay CPU time relative to tcpdump's:"
    for k in "${names[@]}"; do
        printf '  %-40s x%-6s tcpdump -r FILE -w /dev/null,  x%-6s tcpdump -nr FILE\n' "$k:" \
            "$(ratio "${replay_cpu[$k]}" "${replay_cpu["tcpdump -r FILE -w /dev/null"]}")" \
            "$(ratio "${replay_cpu[$k]}" "${replay_cpu["tcpdump -nr FILE > /dev/null"]}")"
    done
}
measure "$capture"
measure "$tmp/repeated.pcap"
echo
echo "the 1000-filter replay's summary:"
sed -n '/^packets:/,/^verdicts:/p' "$tmp/check.txt" | sed 's/^/  /'
