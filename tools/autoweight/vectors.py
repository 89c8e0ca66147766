#!/usr/bin/env python3
"""Write test vectors for cross-checking core/weight.c against model.py:
one line per auto-weighted filter of a dump:
    LAYER WINDOWS_LOW60 PYTHON_PREDICTION(shipped table) N {FIELD MATCH VTYPE A B}*N
(values: integers in hex; A/B = low/high for ranges, A = value otherwise).
Used only by a throw-away C driver; the vectors are not kept in the project."""
import sys
import extract
import eval as ev
import gen_table
import os
import generic
import model

MATCH = {'FWP_MATCH_EQUAL': 0, 'FWP_MATCH_RANGE': 5, 'FWP_MATCH_FLAGS_ALL_SET': 6,
         'FWP_MATCH_FLAGS_ANY_SET': 7, 'FWP_MATCH_FLAGS_NONE_SET': 8, 'FWP_MATCH_NOT_EQUAL': 10}
VT = {'FWP_UINT8': 1, 'FWP_UINT16': 2, 'FWP_UINT32': 3, 'FWP_UINT64': 4, 'FWP_BYTE_ARRAY16_TYPE': 11,
      'FWP_BYTE_BLOB_TYPE': 12, 'FWP_SID': 13, 'FWP_SECURITY_DESCRIPTOR_TYPE': 14}


def main(test_dump):
    params = gen_table.shipped_params(os.path.join(ev.DATA, 'python_pi_burner__wfpstate.xml'),
                                      os.path.join(ev.DATA, 'keploy__wfpstate.xml'))
    rows, schemas = extract.load(test_dump)
    for r in extract.auto_rows(rows):
        pred = model.auto_weight(params, r['layer'], schemas[r['layer']], r['conds'], generic.layout)
        parts = [r['layer'], '%x' % (r['eff'] & model.M60), '%x' % pred, str(len(r['conds']))]
        for f, m, vt, v in r['conds']:
            if vt.startswith('RANGE:'):
                parts += [f, str(MATCH[m]), '%d' % (0x100 + VT[vt[6:]]), '%x' % v[0], '%x' % v[1]]
            else:
                parts += [f, str(MATCH[m]), str(VT[vt]), '%x' % v if isinstance(v, int) else '0', '0']
        print(' '.join(parts))


if __name__ == '__main__':
    main(sys.argv[1])
