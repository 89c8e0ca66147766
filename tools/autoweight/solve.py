#!/usr/bin/env python3
"""Per-(dump, layer) exact additive solve: low60 = sum of C[key] over conditions.
key = (field, 'EQ') for EQUAL/NOT_EQUAL/FLAGS_*, (field, 'R', lo, hi) for ranges.
Filters with several conditions on one field are skipped (OR rule unknown).
Prints, per layer, the schema and every key whose constant is determined."""
import sys
from fractions import Fraction
from collections import defaultdict
import extract

M60 = (1 << 60) - 1


def key_of(c):
    f, m, vt, v = c
    if vt.startswith('RANGE:'):
        return (f, 'R', v[0], v[1])
    if m in ('FWP_MATCH_FLAGS_ALL_SET', 'FWP_MATCH_FLAGS_NONE_SET', 'FWP_MATCH_FLAGS_ANY_SET'):
        return (f, 'F', bin(v).count('1') if isinstance(v, int) else 0)
    return (f, 'EQ')


def single_field(r):
    fs = [c[0] for c in r['conds']]
    return len(fs) == len(set(fs))


FULL = {'RANGE:FWP_UINT8': 8, 'RANGE:FWP_UINT16': 16, 'RANGE:FWP_UINT32': 32,
        'RANGE:FWP_UINT64': 64, 'RANGE:FWP_BYTE_ARRAY16_TYPE': 128}


def is_clean(v):
    """A single bit or one run of ones (how every observed slot constant looks)."""
    if v.denominator != 1 or v <= 0:
        return False
    v = int(v)
    lo = v & -v
    return ((v + lo) & (v + lo - 1)) == 0


def _clean_values(limit=60):
    out = []
    for hi in range(1, limit + 1):
        for lo in range(0, hi):
            out.append(Fraction((1 << hi) - (1 << lo)))
    return out


CLEAN = _clean_values()


def solve(rows, split=False):
    """Return (determined {key: value}, consistent bool, keys).
    A full-domain range is known to contribute 0. With split=True, one
    free unknown is given the values that make every constant 'clean'."""
    keys = sorted({key_of(c) for r in rows for c in r['conds']}, key=str)
    idx = {k: i for i, k in enumerate(keys)}
    n = len(keys)
    eqs = []
    for k in keys:
        if k[1] == 'R' and k[2] == 0:
            for r in rows:
                for c in r['conds']:
                    if key_of(c) == k and c[2] in FULL and k[3] == (1 << FULL[c[2]]) - 1:
                        v = [Fraction(0)] * (n + 1)
                        v[idx[k]] = Fraction(1)
                        eqs.append(v)
                        break
                else:
                    continue
                break
    for r in rows:
        v = [Fraction(0)] * (n + 1)
        for c in r['conds']:
            v[idx[key_of(c)]] += 1
        v[n] = Fraction(r['eff'] & M60)
        eqs.append(v)
    # RREF
    piv = []
    rowi = 0
    for col in range(n):
        p = next((i for i in range(rowi, len(eqs)) if eqs[i][col] != 0), None)
        if p is None:
            continue
        eqs[rowi], eqs[p] = eqs[p], eqs[rowi]
        pv = eqs[rowi][col]
        eqs[rowi] = [x / pv for x in eqs[rowi]]
        for i in range(len(eqs)):
            if i != rowi and eqs[i][col] != 0:
                fct = eqs[i][col]
                eqs[i] = [a - fct * b for a, b in zip(eqs[i], eqs[rowi])]
        piv.append(col)
        rowi += 1
    consistent = all(any(x != 0 for x in e[:n]) or e[n] == 0 for e in eqs)
    det = {}
    for i, col in enumerate(piv):
        if all(eqs[i][j] == 0 for j in range(n) if j != col):
            det[keys[col]] = eqs[i][n]
    if split and consistent:
        free = [j for j in range(n) if j not in piv]
        rowsof = [(i, col) for i, col in enumerate(piv) if keys[col] not in det]
        if len(free) == 1 and rowsof:
            best = None
            for vals in ((c,) for c in reversed(CLEAN)):
                dep = {}
                good = True
                for i, col in rowsof:
                    v = eqs[i][n] - sum(eqs[i][j] * vals[t] for t, j in enumerate(free))
                    if not is_clean(v):
                        good = False
                        break
                    dep[col] = v
                if good:
                    best = (vals, dep)
                    break
            if best:
                for t, j in enumerate(free):
                    det[keys[j]] = best[0][t]
                for col, v in best[1].items():
                    det[keys[col]] = v
    return det, consistent, keys



def bits(v):
    v = int(v)
    if v <= 0:
        return str(v)
    lo = (v & -v).bit_length() - 1
    hi = v.bit_length() - 1
    return '%#x [%d..%d]' % (v, lo, hi)


if __name__ == '__main__':
    path = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) > 2 else None
    rows, schemas = extract.load(path)
    by = defaultdict(list)
    for r in extract.auto_rows(rows):
        if single_field(r):
            by[r['layer']].append(r)
    for layer in sorted(by):
        if only and only not in layer:
            continue
        det, ok, keys = solve(by[layer])
        print('==', layer, 'rows', len(by[layer]), 'consistent' if ok else 'INCONSISTENT')
        for i, (f, t, d) in enumerate(schemas[layer]):
            print('   %2d %-45s %-22s %s' % (i, f.replace('FWPM_CONDITION_', ''), t.replace('FWPM_FIELD_', ''), d.replace('FWP_', '')))
        for k in keys:
            if k in det:
                print('   ', k[0].replace('FWPM_CONDITION_', ''), k[1:], bits(det[k]))
            else:
                print('   ', k[0].replace('FWPM_CONDITION_', ''), k[1:], '?')
        e = [r for r in by[layer] if not r['conds']]
        if e:
            print('    <no conds>', bits(e[0]['eff'] & M60))
