#!/usr/bin/env python3
"""Learn per-(layer, field) parameters (C, S, g) of the auto-weight model from one dump.

    python3 fit.py DUMP.xml            # print the learned table
Used as a module by eval.py and gen_table.py: fit.fit(rows, schemas) -> params.
Only filters with at most one condition per field are used for fitting.
"""
import sys
from collections import defaultdict
import extract
import model
import solve


def lowbit(v):
    return (v & -v).bit_length() - 1


def _range_obs(det, field):
    out = []
    for k, v in det.items():
        if k[0] == field and k[1] == 'R' and v.denominator == 1:
            out.append((k[2], k[3], int(v)))
    return out


def _fits(C, S, g, obs, bits):
    return sum(1 for lo, hi, v in obs
               if model.fraction_value(C, S, g, bits, model.spec_q(bits, hi - lo + 1)) == v)


def fit_layer(rows, schema):
    det, _, keys = solve.solve(rows, split=True)
    dtype = {f: d for f, _, d in schema}
    fields = defaultdict(dict)
    for k, v in det.items():
        if v.denominator != 1 or v <= 0:
            continue
        fields[k[0]][k[1:]] = int(v)
    params = {}
    # all determined constants, to guess granules of slots seen only as one bit
    allc = sorted({int(v) for v in det.values() if v.denominator == 1 and v > 0})
    for f, ks in fields.items():
        eq = ks.get(('EQ',))
        if eq is None:
            fl = [v for k, v in ks.items() if k[0] == 'F']
            eq = fl[0] if fl else None
        obs = _range_obs(det, f)
        bits = model.INT_BITS.get(dtype.get(f), 32)
        if obs:
            bits = model.INT_BITS.get(dtype.get(f), bits)
        cands = []
        if eq is not None:
            gmin = lowbit(eq)
            for v in [x for _, _, x in obs if x > 0]:
                gmin = min(gmin, lowbit(v))
            if eq & (eq - 1) == 0 and not obs:
                # single bit, no range seen: granule = just above the next lower slot
                lower = [c for c in allc if c < eq]
                gmin = min(lowbit(eq), max(lower).bit_length()) if lower else lowbit(eq)
            S1 = eq if eq & (eq - 1) == 0 else (1 << eq.bit_length()) - 1
            cands = [(eq, S1, gmin), (eq, 1 << eq.bit_length(), gmin), (eq, eq, gmin)]
        else:
            if not any(v > 0 for _, _, v in obs):
                continue
            gmin = min(lowbit(v) for _, _, v in obs if v > 0)
            for k in range(gmin + 1, 61):
                cands.append(((1 << k) - (1 << gmin), (1 << k) - 1, gmin))
                cands.append((1 << k, 1 << k, gmin))
        best = max(cands, key=lambda c: _fits(c[0], c[1], c[2], obs, bits)) if obs else cands[0]
        params[f] = best
    return params


def refit_missing(params, layer, schema, rows):
    """Fields that occur only with several values (OR) or never alone: search
    (C, S, g) maximising exact agreement on the rows that use the field."""
    table = params[layer]['fields']
    missing = sorted({c[0] for r in rows for c in r['conds'] if c[0] not in table})
    for f in missing:
        use = [r for r in rows if any(c[0] == f for c in r['conds'])]
        if all(solve.FULL.get(c[2]) is not None and c[3] == (0, (1 << solve.FULL[c[2]]) - 1)
               for r in use for c in r['conds'] if c[0] == f):
            continue  # only ever seen as a full-domain range (contributes 0): nothing to learn
        best, score = None, 0
        for k in range(1, 61):
            for g in range(max(0, k - 8), k + 1):
                for cand in (((1 << k), (1 << k), g), ((1 << k) - (1 << g), (1 << k) - 1, g)):
                    if cand[0] <= 0 or cand[0] >= (1 << 60):
                        continue
                    table[f] = cand
                    n = sum(1 for r in use if model.auto_weight(params, layer, schema, r['conds'])
                            == r['eff'] & model.M60)
                    if n > score:
                        best, score = cand, n
        if best:
            table[f] = best
        else:
            del table[f]


def fit(rows, schemas):
    by = defaultdict(list)
    allr = defaultdict(list)
    for r in extract.auto_rows(rows):
        allr[r['layer']].append(r)
        if solve.single_field(r):
            by[r['layer']].append(r)
    params = {}
    for layer, lrows in by.items():
        params[layer] = {'nfields': len(schemas[layer]),
                         'fields': fit_layer(lrows, schemas[layer])}
    for layer, lrows in allr.items():
        if layer in params:
            refit_missing(params, layer, schemas[layer], lrows)
    return params


if __name__ == '__main__':
    rows, schemas = extract.load(sys.argv[1])
    for layer, e in sorted(fit(rows, schemas).items()):
        print(layer, e['nfields'])
        for f, (C, S, g) in sorted(e['fields'].items(), key=lambda x: -x[1][0]):
            print('   %-45s C=%#x S=%#x g=%d' % (f, C, S, g))
