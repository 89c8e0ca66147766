#!/usr/bin/env python3
"""classbench2policy.py — ClassBench rules as a wfpsim policy (WFP filters).

Reads a ClassBench filter set and writes a bare policy mapping
(docs/scenario-format.md, "policy") that `wfpsim replay --policy`,
`wfpsim classify --policy` and `wfpsim check` accept. Python 3 standard
library only; the output depends only on the arguments.

    classbench2policy.py RULES [-n 1000] [--layers L1,L2,...]
                         [--action permit|block] [-o policy.yaml]

Input: the WUSTL/NSLab 5-field format (whitespace separated)
    @<sip>/<len> <dip>/<len> <sp_lo> : <sp_hi> <dp_lo> : <dp_hi> <proto>/<mask>
or the raw db_generator output with a 6th TCP-flags field (tab separated),
whose flags field is ignored: these layers have no TCP-flags condition.
Priority is line order (line 1 first), so rule i gets the exact filter
weight BASE - i in one sublayer: the first matching rule wins, as in
ClassBench.

Each rule becomes one filter per layer in --layers (default: the four IPv4
transport and ALE authorization layers every TCP/UDP packet or connection
of an IPv4 host meets: ALE_AUTH_CONNECT_V4, ALE_AUTH_RECV_ACCEPT_V4,
OUTBOUND_TRANSPORT_V4, INBOUND_TRANSPORT_V4), rules taken in order until
-n filters are written (1000 filters on 4 layers: the first 250 rules at
each). The 5-tuple maps onto WFP conditions by direction: at outbound
layers the rule's source is local (IP_LOCAL_ADDRESS, IP_LOCAL_PORT) and
its destination remote; at inbound layers the other way round. A wildcard
(0.0.0.0/0, 0 : 65535, protocol mask 0) gives no condition; a /32 or a
single port gives an equality; anything else a masked address or a port
range. The prefix is masked even when the file sets host bits.
"""
import argparse
import ipaddress
import re
import sys

DEFAULT_LAYERS = ["ALE_AUTH_CONNECT_V4", "ALE_AUTH_RECV_ACCEPT_V4", "OUTBOUND_TRANSPORT_V4", "INBOUND_TRANSPORT_V4"]
INBOUND = {"ALE_AUTH_RECV_ACCEPT_V4", "INBOUND_TRANSPORT_V4", "INBOUND_IPPACKET_V4", "ALE_AUTH_LISTEN_V4",
           "ALE_RESOURCE_ASSIGNMENT_V4", "INBOUND_TRANSPORT_V4_DISCARD", "ALE_AUTH_RECV_ACCEPT_V4_DISCARD"}
OUTBOUND = {"ALE_AUTH_CONNECT_V4", "OUTBOUND_TRANSPORT_V4", "OUTBOUND_IPPACKET_V4", "ALE_CONNECT_REDIRECT_V4",
            "ALE_FLOW_ESTABLISHED_V4", "DATAGRAM_DATA_V4", "OUTBOUND_TRANSPORT_V4_DISCARD",
            "ALE_AUTH_CONNECT_V4_DISCARD"}
BASE_WEIGHT = 0x1000000  # exact weights BASE - i (>= 16: taken as given)

RULE = re.compile(r"^@(\S+)/(\d+)\s+(\S+)/(\d+)\s+(\d+)\s*:\s*(\d+)\s+(\d+)\s*:\s*(\d+)\s+(0x[0-9a-fA-F]+)/(0x[0-9a-fA-F]+)")


def parse_rules(path):
    rules = []
    with open(path, encoding="ascii") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            m = RULE.match(line)
            if not m:
                raise SystemExit("%s:%d: not a ClassBench rule: %r" % (path, lineno, line[:80]))
            sip, slen, dip, dlen, splo, sphi, dplo, dphi, proto, pmask = m.groups()
            try:
                src = ipaddress.ip_network("%s/%s" % (sip, slen), strict=False)
                dst = ipaddress.ip_network("%s/%s" % (dip, dlen), strict=False)
            except ValueError as e:
                raise SystemExit("%s:%d: %s" % (path, lineno, e))
            ports = [int(x) for x in (splo, sphi, dplo, dphi)]
            if any(p > 65535 for p in ports) or ports[0] > ports[1] or ports[2] > ports[3]:
                raise SystemExit("%s:%d: bad port range" % (path, lineno))
            rules.append((lineno, src, dst, (ports[0], ports[1]), (ports[2], ports[3]), int(proto, 16), int(pmask, 16)))
    return rules


def addr_cond(field, net):
    if net.prefixlen == 0:
        return None
    v = str(net.network_address) if net.prefixlen == 32 else str(net)
    return "{field: %s, value: %s}" % (field, v)


def port_cond(field, rng):
    lo, hi = rng
    if lo == 0 and hi == 65535:
        return None
    if lo == hi:
        return "{field: %s, value: %d}" % (field, lo)
    return '{field: %s, match: range, value: "%d-%d"}' % (field, lo, hi)


def conditions(rule, inbound):
    _, src, dst, sp, dp, proto, pmask = rule
    local, remote, lport, rport = (dst, src, dp, sp) if inbound else (src, dst, sp, dp)
    conds = [addr_cond("IP_LOCAL_ADDRESS", local), addr_cond("IP_REMOTE_ADDRESS", remote),
             port_cond("IP_LOCAL_PORT", lport), port_cond("IP_REMOTE_PORT", rport)]
    if pmask == 0xFF:
        conds.append("{field: IP_PROTOCOL, value: %d}" % proto)
    elif pmask != 0:
        raise SystemExit("protocol mask 0x%02x: only 0x00 and 0xff are supported" % pmask)
    return [c for c in conds if c]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rules", help="ClassBench filter set")
    ap.add_argument("-n", "--filters", type=int, default=1000, help="filters to write (default 1000)")
    ap.add_argument("--layers", default=",".join(DEFAULT_LAYERS), help="comma-separated IPv4 layers")
    ap.add_argument("--action", choices=["permit", "block"], default="permit",
                    help="every filter's action (default permit: the traffic's fate does not change)")
    ap.add_argument("-o", "--output", help="output file (default: stdout)")
    a = ap.parse_args(argv)
    layers = [x.strip().upper() for x in a.layers.split(",") if x.strip()]
    layers = [x[len("FWPM_LAYER_"):] if x.startswith("FWPM_LAYER_") else x for x in layers]
    for layer in layers:
        if layer not in INBOUND and layer not in OUTBOUND:
            ap.error("layer %s: direction unknown (known: %s)" % (layer, ", ".join(sorted(INBOUND | OUTBOUND))))
    if a.filters < 0:
        ap.error("-n must be >= 0")
    rules = parse_rules(a.rules)
    need = -(-a.filters // len(layers)) if layers else 0
    if need > len(rules):
        ap.error("%d filters on %d layers need %d rules; %s has %d" % (a.filters, len(layers), need, a.rules, len(rules)))

    out = [
        "# Generated by tools/classbench2policy.py from %s: %d filters, %d rules (in file order) x %d layers,"
        % (a.rules.replace("\\", "/").split("/")[-1], a.filters, need, len(layers)),
        "# action %s. Rule i (1-based line order) has weight %#x - i: the first matching rule wins." % (a.action, BASE_WEIGHT),
        "sublayers:",
        "  - {name: classbench, weight: 0x8000}",
        "filters:",
    ]
    written = 0
    for i, rule in enumerate(rules[:need], 1):
        for layer in layers:
            if written == a.filters:
                break
            conds = conditions(rule, layer in INBOUND)
            out.append("  - name: cb%d-%s" % (i, layer))
            out.append("    layer: %s" % layer)
            out.append("    sublayer: classbench")
            out.append("    weight: %d" % (BASE_WEIGHT - i))
            out.append("    action: %s" % a.action)
            if conds:
                out.append("    conditions:")
                out.extend("      - " + c for c in conds)
            written += 1
    text = "\n".join(out) + "\n"
    if a.output:
        with open(a.output, "w", encoding="ascii", newline="\n") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
