#!/usr/bin/env python3
"""What `wfpsim layers --json` must print, built from a real Windows dump.

    layers_from_dump.py DUMP.xml SPEC.md                 print the expected JSON
    layers_from_dump.py DUMP.xml SPEC.md --compare F     compare F with it

The dump (`netsh wfp show state`, shared/data/wfpstate) gives each layer's
name, run-time id, kernel flag and fields in order with their types; the
spec (shared/spec/wfp-semantics.md) gives the GUIDs behind the names. This
is an independent reading of the same sources tools/gen_catalog.py uses, so
a mistake in the generator or in the C catalogue shows up as a difference.
--compare prints every difference and exits 1 if there is any."""
import json
import re
import sys
import xml.etree.ElementTree as ET

GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# Two fields current Windows builds report that the spec table predates
# (GUIDs from the Windows SDK fwpmu.h; see tools/gen_catalog.py).
EXTRA_CONDITIONS = {
    "FWPM_CONDITION_RPC_OPNUM": "d58efb76-aab7-4148-a87e-9581134129b9",
    "FWPM_CONDITION_ALE_PACKAGE_FAMILY_NAME": "81bc78fb-f28d-4886-a604-6acc261f261b",
}


def spec_guids(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    layers, conds = {}, dict(EXTRA_CONDITIONS)
    lsec = text[text.index("#### 1.6.1"):text.index("#### 1.6.2")]
    for m in re.finditer(r"^\| \d+ \| ([A-Z0-9_]+) \| (%s) \|" % GUID, lsec, re.M):
        layers["FWPM_LAYER_" + m.group(1)] = m.group(2)
    csec = text[text.index("#### 1.9.1"):text.index("#### 1.9.2")]
    for m in re.finditer(r"^\| ([A-Z0-9_]+) \| (%s) \|" % GUID, csec, re.M):
        conds["FWPM_CONDITION_" + m.group(1)] = m.group(2)
    return layers, conds


def expected(dump_path, spec_path):
    layer_guid, cond_guid = spec_guids(spec_path)
    with open(dump_path, encoding="utf-8-sig") as f:
        data = f.read()
    # Newer dumps append a second root (<firewallState>): keep <wfpstate> only.
    root = ET.fromstring(data[data.index("<wfpstate>"):data.index("</wfpstate>") + len("</wfpstate>")])
    out = []
    for item in root.find("layers").findall("item"):
        layer = item.find("layer")
        name = layer.findtext("layerKey")
        if re.fullmatch(r"\{%s\}" % GUID, name):
            key = name  # reserved layers: the dump knows them only by GUID
        else:
            key = "{%s}" % layer_guid.get(name, "?")
        fields = []
        for fl in layer.find("field").findall("item"):
            fname = fl.findtext("fieldKey")
            fields.append({"name": fname, "key": "{%s}" % cond_guid.get(fname, "?"),
                           "type": fl.findtext("type"), "data_type": fl.findtext("dataType")})
        flags = [x.text for x in layer.find("flags").findall("item")]
        out.append({"name": name, "key": key, "id": int(layer.findtext("layerId")),
                    "kernel": "FWPM_LAYER_FLAG_KERNEL" in flags, "fields": fields})
    out.sort(key=lambda l: l["id"])
    return out


def compare(exp, got):
    diffs = []
    if not isinstance(got, list):
        return ["top level: expected a JSON array"]
    if len(exp) != len(got):
        diffs.append("layer count: expected %d, got %d" % (len(exp), len(got)))
    for i, (e, g) in enumerate(zip(exp, got)):
        where = "layer[%d] (%s)" % (i, e["name"])
        for k in ("name", "key", "id", "kernel"):
            if e[k] != g.get(k):
                diffs.append("%s.%s: expected %r, got %r" % (where, k, e[k], g.get(k)))
        ef, gf = e["fields"], g.get("fields") or []
        if len(ef) != len(gf):
            diffs.append("%s: expected %d fields, got %d" % (where, len(ef), len(gf)))
        for n, (a, b) in enumerate(zip(ef, gf)):
            for k in ("name", "key", "type", "data_type"):
                if a[k] != b.get(k):
                    diffs.append("%s.fields[%d].%s: expected %r, got %r" % (where, n, k, a[k], b.get(k)))
    return diffs


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 4) or (len(args) == 4 and args[2] != "--compare"):
        sys.stderr.write(__doc__)
        return 2
    exp = expected(args[0], args[1])
    if len(args) == 2:
        json.dump(exp, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    with open(args[3], encoding="utf-8") as f:
        got = json.load(f)
    diffs = compare(exp, got)
    for d in diffs[:200]:
        print("MISMATCH " + d)
    if len(diffs) > 200:
        print("... and %d more" % (len(diffs) - 200))
    if diffs:
        print("FAIL: %d differences between wfpsim layers --json and the Windows dump" % len(diffs))
        return 1
    print("OK: %d layers, %d fields match the Windows dump" % (len(exp), sum(len(l["fields"]) for l in exp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
