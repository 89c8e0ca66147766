#!/usr/bin/env python3
"""Measure the auto-weight model against real dumps.

    python3 eval.py                 # default: both dumps under ../shared/data/wfpstate
    python3 eval.py TRAIN.xml TEST.xml [...]
For every ordered (train, test) pair, params are fitted on TRAIN only and every
FWP_EMPTY / FWP_UINT8 filter of TEST is predicted; prints
    weights: A of B automatic weights agree with Windows
plus a breakdown. Then the shipped table (core/weight_data.inc = gen_table.py:
python_pi_burner + keploy holes) on every dump, the way core/weight.c applies it
(the catalogue carries python_pi_burner's field lists, so the table is used for
every layer it names). -v: per-layer misses; --no-schema-guard: apply a layer's
learned table even when the test dump's field list differs from the training one.
"""
import os
import sys
from collections import Counter
import extract
import fit
import generic
import model

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, '..', '..', '..', 'shared', 'data', 'wfpstate'))


def evaluate(params, rows, schemas, verbose=False, label='', guard=True):
    auto = extract.auto_rows(rows)
    ok = 0
    why = Counter()
    bad = Counter()
    for r in auto:
        schema = schemas[r['layer']]
        pred = model.auto_weight(params, r['layer'], schema, r['conds'], generic.layout, guard)
        if pred == r['eff'] & model.M60:
            ok += 1
            continue
        e = params.get(r['layer'])
        if e is None or (guard and e['nfields'] != len(schema)):
            why['layer not in table / schema differs'] += 1
        elif any(c[0] not in e['fields'] for c in r['conds']):
            why['field not in table'] += 1
        elif len({c[0] for c in r['conds']}) != len(r['conds']):
            why['several conditions on one field'] += 1
        else:
            why['all fields known, value differs'] += 1
        bad[r['layer']] += 1
    print('%sweights: %d of %d automatic weights agree with Windows' % (label, ok, len(auto)))
    for k, v in why.most_common():
        print('    %5d %s' % (v, k))
    if verbose:
        for k, v in bad.most_common():
            print('      %5d %s' % (v, k))
    return ok, len(auto)


def main(argv):
    verbose = '-v' in argv
    guard = '--no-schema-guard' not in argv
    argv = [a for a in argv if not a.startswith('-')]
    paths = argv or [os.path.join(DATA, f) for f in sorted(os.listdir(DATA)) if f.endswith('.xml')]
    dumps = {os.path.basename(p).split('__')[0]: extract.load(p) for p in paths}
    fitted = {n: fit.fit(*d) for n, d in dumps.items()}
    for tr in dumps:
        for te in dumps:
            evaluate(fitted[tr], *dumps[te], verbose=verbose, guard=guard,
                     label='train %-16s test %-16s %s ' % (tr, te, '(in-sample)' if tr == te else '(held out) '))
    if len(paths) == 2 and all(os.path.dirname(p) == DATA for p in paths) or not argv:
        import gen_table
        shipped = gen_table.shipped_params(os.path.join(DATA, 'python_pi_burner__wfpstate.xml'),
                                           os.path.join(DATA, 'keploy__wfpstate.xml'))
        for te in dumps:
            evaluate(shipped, *dumps[te], verbose=verbose, guard=False,
                     label='shipped table (core/weight.c) on %-16s ' % te)


if __name__ == '__main__':
    main(sys.argv[1:])
