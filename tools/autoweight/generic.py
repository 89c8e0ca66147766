#!/usr/bin/env python3
"""Structural fallback layout for layers (or schemas) with no learned table.
Mirrors wfpi_generic_slot() in core/weight.c. See docs/auto-weight.md §1.

Fields are ranked by class, then by schema position (earlier = more significant):
  0 IP_ADDRESS fields, 1 UINT64 raw (interface LUIDs), 2 UINT8 raw (protocol, types),
  3 UINT16 raw (ports), 4 blobs/SIDs/strings (app ids), 5 security descriptors/tokens,
  6 FLAGS fields, 7 everything else (UINT32 raw ...).
Rangeable fields (IP_ADDRESS and raw integers) get w bits, the others 1 bit, packed
from bit 1 upward least-significant class first; bit 0 is left for conditions on
fields the layer does not have. w = min(8, (59 - ones) // rangeable), at least 1.
"""

RANGEABLE = {'FWP_UINT8', 'FWP_UINT16', 'FWP_UINT32', 'FWP_UINT64', 'FWP_INT8', 'FWP_INT16',
             'FWP_INT32', 'FWP_INT64', 'FWP_BYTE_ARRAY16_TYPE'}


def field_class(ftype, dtype):
    if ftype == 'FWPM_FIELD_IP_ADDRESS':
        return 0
    if ftype == 'FWPM_FIELD_FLAGS':
        return 6
    return {'FWP_UINT64': 1, 'FWP_UINT8': 2, 'FWP_UINT16': 3, 'FWP_BYTE_BLOB_TYPE': 4,
            'FWP_SID': 4, 'FWP_UNICODE_STRING_TYPE': 4, 'FWP_SECURITY_DESCRIPTOR_TYPE': 5,
            'FWP_TOKEN_INFORMATION_TYPE': 5, 'FWP_TOKEN_ACCESS_INFORMATION_TYPE': 5}.get(dtype, 7)


def rangeable(ftype, dtype):
    return ftype != 'FWPM_FIELD_FLAGS' and dtype in RANGEABLE


def layout(schema):
    n = len(schema)
    nr = sum(1 for _, t, d in schema if rangeable(t, d))
    ones = n - nr
    w = 1
    if nr and 59 - ones >= nr:
        w = max(1, min(8, (59 - ones) // nr))
    # least significant first: higher class number, then later schema position
    order = sorted(range(n), key=lambda i: (-field_class(schema[i][1], schema[i][2]), -i))
    out = {}
    lo = 1
    for i in order:
        f, t, d = schema[i]
        width = w if rangeable(t, d) else 1
        if lo + width > 60:  # cannot happen for <= 59 fields; keep C in range anyway
            width = max(0, 60 - lo)
        if width == 0:
            out.setdefault(f, (1, 1, 0))
            continue
        C = (1 << (lo + width)) - (1 << lo)
        out.setdefault(f, (C, (1 << (lo + width)) - 1, lo))
        lo += width
    return out
