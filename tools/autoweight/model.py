#!/usr/bin/env python3
"""Reference implementation of wfpsim's automatic-weight rule (mirrors core/weight.c
bit for bit). See docs/auto-weight.md.

params: {layer_name: {'nfields': n, 'fields': {field_name: (C, S, g)}}}
  C = contribution of an exact match (EQUAL, NOT_EQUAL, FLAGS_*, PREFIX...)
  S = scale for fractional (range / mask) matches, g = log2 of the granule G.
"""
M60 = (1 << 60) - 1
NOFIELD_WEIGHT = (1 << 59) - 1
Q = 32  # fractional bits of the fixed-point log2

INT_BITS = {'FWP_UINT8': 8, 'FWP_UINT16': 16, 'FWP_UINT32': 32, 'FWP_UINT64': 64,
            'FWP_INT8': 8, 'FWP_INT16': 16, 'FWP_INT32': 32, 'FWP_INT64': 64,
            'FWP_BYTE_ARRAY16_TYPE': 128}


def log2_q(count):
    """floor-ish log2(count) in Q32, count >= 1 (< 2^129); exact for powers of two.
    Same algorithm as wfpi_log2_q32 in core/weight.c."""
    n = count.bit_length() - 1
    # normalise to Q63 in [2^63, 2^64): keep the top 64 bits
    x = (count << (63 - n)) if n <= 63 else (count >> (n - 63))
    frac = 0
    for _ in range(Q):
        x2 = x * x  # Q126, < 2^128
        frac <<= 1
        if x2 >> 127:       # x^2 >= 2
            frac |= 1
            x = x2 >> 64
        else:
            x = x2 >> 63
    return (n << Q) | frac


def spec_q(bits, count):
    """Specificity in Q32 bits: bits - log2(count), clamped at 0."""
    l = log2_q(count)
    s = (bits << Q) - l
    return s if s > 0 else 0


def fraction_value(C, S, g, bits, sq):
    """Contribution of a fractional match with specificity sq (Q32) out of `bits`."""
    if sq <= 0:
        return 0
    shift = Q + (bits.bit_length() - 1)  # bits is a power of two
    v = (S * sq) >> shift
    v = (v >> g) << g
    G = 1 << g
    if v < G:
        v = G
    return min(v, C)


def cond_value(C, S, g, cond):
    """cond = (field, match, vtype, value) as produced by extract.py."""
    f, m, vt, v = cond
    if vt.startswith('RANGE:'):
        t = vt[6:]
        bits = INT_BITS.get(t)
        if bits is None or not isinstance(v[0], int) or not isinstance(v[1], int):
            return C
        lo, hi = v
        cnt = abs(hi - lo) + 1
        return fraction_value(C, S, g, bits, spec_q(bits, cnt))
    if vt == 'FWP_V4_ADDR_MASK':
        return fraction_value(C, S, g, 32, v << Q) if isinstance(v, int) else C
    if vt == 'FWP_V6_ADDR_MASK':
        return fraction_value(C, S, g, 128, v << Q) if isinstance(v, int) else C
    return C


def auto_weight(params, layer, schema, conds, generic=None, guard=True):
    if not schema:
        return NOFIELD_WEIGHT
    entry = params.get(layer)
    if entry is None and layer.endswith('_DISCARD'):
        entry = params.get(layer[:-len('_DISCARD')])  # same schema as the base layer
    if guard and entry is not None and entry['nfields'] != len(schema):
        entry = None
    table = entry['fields'] if entry else (generic(schema) if generic else {})
    per_field = {}
    for c in conds:
        p = table.get(c[0])
        if p is None:
            val, cap = 1, 1
        else:
            val, cap = cond_value(p[0], p[1], p[2], c), p[0]
        s, _ = per_field.get(c[0], (0, cap))
        per_field[c[0]] = (min(cap, s + val), cap)
    total = sum(v for v, _ in per_field.values())
    return min(total, M60)
