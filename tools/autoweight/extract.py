#!/usr/bin/env python3
"""Read a `netsh wfp show state` dump and return one row per filter.

Only reads the dump (never copies it). Usage as a module:
    rows, schemas = extract.load(path)
rows:    list of dict(layer, name, wtype, wval, eff, conds=[(field, match, vtype, value)])
         value = int | (low, high) for FWP_RANGE_TYPE | bytes-ish string otherwise
schemas: {layer: [(field, fieldType, dataType), ...]}  (the layer's <field> list, in order)
Run as a script to print a summary.
"""
import ipaddress
import sys
import xml.etree.ElementTree as ET

INT_TYPES = {'FWP_UINT8': 8, 'FWP_UINT16': 16, 'FWP_UINT32': 32, 'FWP_UINT64': 64,
             'FWP_INT8': 8, 'FWP_INT16': 16, 'FWP_INT32': 32, 'FWP_INT64': 64}


def _root(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    end = data.find(b'</wfpstate>')
    data = data[:end + len(b'</wfpstate>')]
    return ET.fromstring(data)


def _value(node):
    """Parse an FWP_VALUE-like node (<type> + one typed child)."""
    t = node.findtext('type')
    if t in INT_TYPES:
        txt = node.findtext(t[4:].lower()).strip()
        if '.' in txt:  # IPv4 address printed dotted
            a = [int(x) for x in txt.split('.')]
            return t, (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]
        return t, int(txt, 0)
    if t == 'FWP_BYTE_ARRAY16_TYPE':
        txt = node.findtext('byteArray16').strip()
        try:
            return t, int.from_bytes(ipaddress.IPv6Address(txt).packed, 'big')
        except ValueError:
            return t, txt
    kids = [c for c in node if c.tag != 'type']
    if kids:
        return t, (kids[0].text or '').strip() or ET.tostring(kids[0])[:64]
    return t, None


def _cond(item):
    field = item.findtext('fieldKey')
    match = item.findtext('matchType')
    cv = item.find('conditionValue')
    vt = cv.findtext('type')
    if vt == 'FWP_RANGE_TYPE':
        rv = cv.find('rangeValue')
        lt, lo = _value(rv.find('valueLow'))
        ht, hi = _value(rv.find('valueHigh'))
        return (field, match, 'RANGE:' + lt, (lo, hi))
    if vt in ('FWP_V4_ADDR_MASK', 'FWP_V6_ADDR_MASK'):
        kids = [c for c in cv if c.tag != 'type']
        return (field, match, vt, ET.tostring(kids[0]).decode() if kids else None)
    t, v = _value(cv)
    return (field, match, t, v)


def load(path):
    root = _root(path)
    rows, schemas = [], {}
    for litem in root.find('layers').findall('item'):
        layer = litem.find('layer')
        lkey = layer.findtext('layerKey')
        fl = layer.find('field')
        schema = []
        if fl is not None:
            for f in fl.findall('item'):
                schema.append((f.findtext('fieldKey'), f.findtext('type'), f.findtext('dataType')))
        schemas[lkey] = schema
        filters = litem.find('filters')
        if filters is None:
            continue
        for fi in filters.findall('item'):
            w = fi.find('weight')
            wt = w.findtext('type')
            wv = None
            if wt in INT_TYPES:
                wv = int(w.findtext(wt[4:].lower()), 0)
            ew = fi.find('effectiveWeight')
            eff = int(ew.findtext('uint64'), 0)
            conds = []
            fc = fi.find('filterCondition')
            if fc is not None:
                conds = [_cond(c) for c in fc.findall('item')]
            rows.append(dict(layer=lkey, name=fi.findtext('displayData/name'),
                             fid=int(fi.findtext('filterId')), sublayer=fi.findtext('subLayerKey'),
                             wtype=wt, wval=wv, eff=eff, conds=conds))
    return rows, schemas


def auto_rows(rows):
    return [r for r in rows if r['wtype'] in ('FWP_EMPTY', 'FWP_UINT8')]


if __name__ == '__main__':
    for p in sys.argv[1:]:
        rows, schemas = load(p)
        a = auto_rows(rows)
        print(p, len(rows), 'filters', len(a), 'auto', len(schemas), 'layers')
