#!/usr/bin/env python3
"""Write core/catalog_data.inc, the one table behind wfp_catalog.h.

Run from the repository root:
    python3 tools/gen_catalog.py ../shared/spec/wfp-semantics.md \\
        ../shared/data/wfpstate/python_pi_burner__wfpstate.xml

Two inputs, each trusted for what it is best at:
  - the spec (transcribed from the SDK/WDK headers) gives the GUIDs of
    layers (1.6.1), condition fields and their aliases (1.9.1, 1.9.3),
    built-in sublayers (11.2), providers (11.3) and callouts (11.4);
  - a real `netsh wfp show state` dump gives what a running Windows reports:
    the layer list with run-time ids, flags and display names, each layer's
    fields in FWPS order with their field and data types, the weights BFE
    gave the built-in sublayers, and each built-in callout's layer.
The two are cross-checked (ids, names) and the script stops on any
disagreement instead of guessing. Only public Windows constants are taken
from the dump; the dump itself stays outside the project.

Standard library only; the output depends on nothing but the two inputs."""
import os
import re
import sys
import xml.etree.ElementTree as ET

# Condition fields a current Windows reports in its layers that the spec
# table does not list. GUIDs from the Windows SDK (DEFINE_GUID in um/fwpmu.h
# of SDKs that guard ALE_PACKAGE_FAMILY_NAME with NTDDI_WIN10_CU; the same
# values are in Microsoft's Win32 metadata, windows-sys crate
# Win32::NetworkManagement::WindowsFilteringPlatform). Documented, with
# their value types, on learn.microsoft.com/windows/win32/fwp/
# filtering-condition-identifiers- (RPC_OPNUM: FWP_UINT16;
# ALE_PACKAGE_FAMILY_NAME: FWP_SECURITY_DESCRIPTOR_TYPE).
EXTRA_CONDITIONS = [
    ("RPC_OPNUM", "d58efb76-aab7-4148-a87e-9581134129b9",
     "Windows SDK fwpmu.h DEFINE_GUID(FWPM_CONDITION_RPC_OPNUM, 0xd58efb76, 0xaab7, 0x4148, ...); "
     "learn.microsoft.com filtering-condition-identifiers (FWP_UINT16)"),
    ("ALE_PACKAGE_FAMILY_NAME", "81bc78fb-f28d-4886-a604-6acc261f261b",
     "Windows SDK fwpmu.h DEFINE_GUID(FWPM_CONDITION_ALE_PACKAGE_FAMILY_NAME, 0x81bc78fb, ...) "
     "under NTDDI_WIN10_CU; learn.microsoft.com filtering-condition-identifiers"),
]

# Built-in callouts that the dump does not show (not registered on that
# machine), with the layer their name and W32 built-in-callout-identifiers
# point to. [Inferred]; callouts whose layer nothing states are left out.
CALLOUT_LAYER_FALLBACK = {
    "FWPM_CALLOUT_IPSEC_DOSP_FORWARD_V4": "FWPM_LAYER_IPFORWARD_V4",
    "FWPM_CALLOUT_IPSEC_DOSP_FORWARD_V6": "FWPM_LAYER_IPFORWARD_V6",
}

LAYER_FLAGS = {
    "FWPM_LAYER_FLAG_KERNEL": "FWPM_LAYER_FLAG_KERNEL",
    "FWPM_LAYER_FLAG_BUILTIN": "FWPM_LAYER_FLAG_BUILTIN",
    "FWPM_LAYER_FLAG_CLASSIFY_MOSTLY": "FWPM_LAYER_FLAG_CLASSIFY_MOSTLY",
    "FWPM_LAYER_FLAG_BUFFERED": "FWPM_LAYER_FLAG_BUFFERED",
}
FIELD_TYPES = {"FWPM_FIELD_RAW_DATA", "FWPM_FIELD_IP_ADDRESS", "FWPM_FIELD_FLAGS"}
DATA_TYPES = {
    "FWP_EMPTY", "FWP_UINT8", "FWP_UINT16", "FWP_UINT32", "FWP_UINT64", "FWP_INT8",
    "FWP_INT16", "FWP_INT32", "FWP_INT64", "FWP_FLOAT", "FWP_DOUBLE",
    "FWP_BYTE_ARRAY16_TYPE", "FWP_BYTE_BLOB_TYPE", "FWP_SID", "FWP_SECURITY_DESCRIPTOR_TYPE",
    "FWP_TOKEN_INFORMATION_TYPE", "FWP_TOKEN_ACCESS_INFORMATION_TYPE",
    "FWP_UNICODE_STRING_TYPE", "FWP_BYTE_ARRAY6_TYPE",
}

GUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def die(msg):
    sys.stderr.write("gen_catalog: " + msg + "\n")
    sys.exit(1)


def section(text, start, end):
    i = text.find(start)
    j = text.find(end, i + 1)
    if i < 0 or j < 0:
        die("spec section not found: " + start)
    return text[i:j]


def brace_expand(s):
    """'A_{X,Y}_B' -> ['A_X_B', 'A_Y_B'] (one brace group is all the spec uses)."""
    m = re.search(r"\{([^}]*)\}", s)
    if not m:
        return [s]
    return [s[:m.start()] + alt + s[m.end():] for alt in m.group(1).split(",")]


def parse_spec(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    spec = {}

    # 1.6.1: id | suffix | GUID or "(no FWPM GUID ...)" | mode | since | schema
    sec = section(text, "#### 1.6.1", "#### 1.6.2")
    layers = {}
    for m in re.finditer(r"^\| (\d+) \| ([A-Z0-9_]+) \| ([^|]*?) \|", sec, re.M):
        g = m.group(3).strip()
        layers["FWPM_LAYER_" + m.group(2)] = (int(m.group(1)), g.lower() if re.fullmatch(GUID_RE, g) else None)
    spec["layers"] = layers

    # 1.9.1: canonical rows carry a GUID, alias rows say "= NAME (alias, same GUID)".
    sec = section(text, "#### 1.9.1", "#### 1.9.2")
    conds, aliases = [], []
    for m in re.finditer(r"^\| ([A-Z0-9_]+) \| ([^|]*?) \|", sec, re.M):
        name, val = m.group(1), m.group(2).strip()
        if re.fullmatch(GUID_RE, val):
            conds.append((name, val.lower()))
        else:
            a = re.fullmatch(r"= ([A-Z0-9_]+) \(alias, same GUID\)", val)
            if a:
                aliases.append((name, a.group(1)))
    spec["conditions"], spec["condition_aliases"] = conds, aliases

    # 1.9.3 also names the sublayer and callout aliases.
    sec = section(text, "#### 1.9.3", "## 2. Condition evaluation")
    spec["sublayer_aliases"], spec["callout_aliases"] = [], []
    for m in re.finditer(r"(SUBLAYER|CALLOUT)_([A-Z0-9_{},]+) = \1_([A-Z0-9_{},]+)", sec):
        kind = m.group(1)
        for a, c in zip(brace_expand(m.group(2)), brace_expand(m.group(3))):
            spec[kind.lower() + "_aliases"].append(("FWPM_%s_%s" % (kind, a), "FWPM_%s_%s" % (kind, c)))

    def named_rows(start, end, prefix):
        sec = section(text, start, end)
        return [(m.group(1), m.group(2).lower())
                for m in re.finditer(r"^\| (%s[A-Z0-9_]+) \| (%s) \|" % (prefix, GUID_RE), sec, re.M)]

    spec["sublayers"] = named_rows("### 11.2 Built-in sublayers", "### 11.3", "FWPM_SUBLAYER_")
    spec["providers"] = [r for r in named_rows("### 11.3 Built-in providers", "### 11.4", "FWPM_PROVIDER_")
                         if not r[0].startswith("FWPM_PROVIDER_CONTEXT_")]
    spec["callouts"] = named_rows("### 11.4 Built-in callouts", "### 11.5", "FWPM_CALLOUT_")
    for k in ("conditions", "sublayers", "providers", "callouts"):
        if not spec[k]:
            die("no %s found in the spec" % k)
    return spec


def load_wfpstate(path):
    """The <wfpstate> element alone: newer dumps append a second root."""
    with open(path, encoding="utf-8-sig") as f:
        data = f.read()
    start = data.index("<wfpstate>")
    end = data.index("</wfpstate>") + len("</wfpstate>")
    return ET.fromstring(data[start:end])


def parse_dump(path):
    root = load_wfpstate(path)
    layers, callouts = [], {}
    for item in root.find("layers").findall("item"):
        layer = item.find("layer")
        fields = []
        for f in layer.find("field").findall("item"):
            fields.append((f.findtext("fieldKey"), f.findtext("type"), f.findtext("dataType")))
        layers.append({
            "name": layer.findtext("layerKey"),
            "display": layer.find("displayData").findtext("name") or "",
            "flags": [f.text for f in layer.find("flags").findall("item")],
            "fields": fields,
            "default_sublayer": layer.findtext("defaultSubLayerKey"),
            "id": int(layer.findtext("layerId")),
        })
        cs = item.find("callouts")
        for c in (cs.findall("item") if cs is not None else []):
            key = c.findtext("calloutKey")
            if key.startswith("FWPM_CALLOUT_"):
                callouts[key] = c.findtext("applicableLayer")
    weights = {}
    for s in root.find("subLayers").findall("item"):
        weights[s.findtext("subLayerKey")] = int(s.findtext("weight"))
    return layers, callouts, weights


def c_guid(g):
    h = g.replace("-", "")
    b = [h[i:i + 2] for i in range(16, 32, 2)]
    return "WFP_G(0x%su, 0x%s, 0x%s, %s)" % (h[0:8], h[8:12], h[12:16], ", ".join("0x" + x for x in b))


def c_string(s):
    out = []
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c in '"\\':
            out.append("\\" + c)
        elif 0x20 <= ch < 0x7f:
            out.append(c)
        else:
            out.append("\\%03o" % ch)
    return '"' + "".join(out) + '"'


def main():
    if len(sys.argv) != 3:
        die("usage: gen_catalog.py SPEC.md WFPSTATE.xml")
    spec = parse_spec(sys.argv[1])
    dlayers, dcallouts, weights = parse_dump(sys.argv[2])

    # ---- conditions ------------------------------------------------------
    cond_guid = {}
    canon = []
    for name, g in spec["conditions"] + [(n, g) for n, g, _ in EXTRA_CONDITIONS]:
        if name in cond_guid:
            die("condition listed twice: " + name)
        cond_guid[name] = g
        canon.append(name)
    seen = {}
    for name in canon:
        if cond_guid[name] in seen:
            die("conditions %s and %s share a GUID but neither is an alias" % (seen[cond_guid[name]], name))
        seen[cond_guid[name]] = name
    for alias, target in spec["condition_aliases"]:
        if target not in cond_guid:
            die("alias %s of unknown condition %s" % (alias, target))

    # ---- layers ----------------------------------------------------------
    dlayers.sort(key=lambda l: l["id"])
    if [l["id"] for l in dlayers] != list(range(len(dlayers))):
        die("dump layer ids are not 0..n-1")
    by_name = {l["name"]: l for l in dlayers}
    for l in dlayers:
        name = l["name"]
        if re.fullmatch(r"\{" + GUID_RE + r"\}", name):
            l["key"] = name[1:-1].lower()  # reserved layer: the dump knows it only by GUID
        else:
            if name not in spec["layers"]:
                die("layer %s is in the dump but not in spec 1.6.1" % name)
            sid, g = spec["layers"][name]
            if sid != l["id"]:
                die("layer %s: spec id %d, dump id %d" % (name, sid, l["id"]))
            if g is None:
                die("layer %s has no GUID in the spec" % name)
            l["key"] = g
        l["base"] = -1
        if name.endswith("_DISCARD"):
            base = by_name.get(name[:-len("_DISCARD")])
            if base is None:
                die("discard layer %s without a base layer" % name)
            l["base"] = base["id"]
        for f in l["fields"]:
            if not f[0].startswith("FWPM_CONDITION_") or f[0][len("FWPM_CONDITION_"):] not in cond_guid:
                die("layer %s: field %s has no known GUID" % (name, f[0]))
            if f[1] not in FIELD_TYPES or f[2] not in DATA_TYPES:
                die("layer %s: field %s has unknown type %s/%s" % (name, f[0], f[1], f[2]))
        for fl in l["flags"]:
            if fl not in LAYER_FLAGS:
                die("layer %s: unknown flag %s" % (name, fl))
    for name, (sid, _) in spec["layers"].items():
        if name not in by_name and not any(l["id"] == sid for l in dlayers):
            die("spec layer %s (id %d) missing from the dump" % (name, sid))

    # ---- sublayers, providers, callouts ----------------------------------
    sub_guid = dict(spec["sublayers"])
    for name, _ in spec["sublayers"]:
        if name not in weights:
            die("built-in sublayer %s has no weight in the dump" % name)
    for l in dlayers:
        if l["default_sublayer"] not in sub_guid:
            die("layer %s: default sublayer %s is not built in" % (l["name"], l["default_sublayer"]))
    callouts = []
    spec_callouts = dict(spec["callouts"])
    for name in dcallouts:
        if name not in spec_callouts:
            die("callout %s in the dump is not in spec 11.4" % name)
    omitted = []
    for name, g in spec["callouts"]:
        layer = dcallouts.get(name) or CALLOUT_LAYER_FALLBACK.get(name)
        if layer is None:
            omitted.append(name)
            continue
        if layer not in by_name:
            die("callout %s: unknown layer %s" % (name, layer))
        callouts.append((name, g, by_name[layer]["id"], name in dcallouts))
    callout_names = {c[0] for c in callouts}

    # ---- output ----------------------------------------------------------
    o = []
    w = o.append
    w("/* catalog_data.inc — the built-in WFP catalogue as X-macro tables.")
    w(" *")
    w(" * GENERATED by tools/gen_catalog.py from spec/wfp-semantics.md (GUIDs) and")
    w(" * the netsh wfp dump %s (layer ids, flags," % os.path.basename(sys.argv[2]))
    w(" * display names, fields, sublayer weights, callout layers). Do not edit;")
    w(" * rerun the script. Each section expands only if its macro is defined, and")
    w(" * every macro is #undef'd at the end, so an includer defines what it needs.")
    w(" * GUIDs are written WFP_G(data1, data2, data3, data4[0..7]). */")
    w("")
    w("/* ---- condition fields (spec 1.9.1) --------------------------------------")
    w(" * WFP_CONDITION(SUFFIX, guid): canonical fields, one per GUID, first.")
    w(" * FWPM_CONDITION_SCOPE_ID (net-event templates) is absent: no Windows")
    w(" * header or metadata defines a GUID for it. */")
    w("#ifdef WFP_CONDITION")
    cites = {n: c for n, _, c in EXTRA_CONDITIONS}
    for name in canon:
        if name in cites:
            w("/* not in the spec table: %s */" % cites[name])
        w("WFP_CONDITION(%s, %s)" % (name, c_guid(cond_guid[name])))
    w("#endif")
    w("")
    w("/* WFP_CONDITION_ALIAS(SUFFIX, CANONICAL, guid): header #defines that reuse")
    w(" * another field's GUID (spec 1.9.3); always after the canonical entries. */")
    w("#ifdef WFP_CONDITION_ALIAS")
    for alias, target in spec["condition_aliases"]:
        w("WFP_CONDITION_ALIAS(%s, %s, %s)" % (alias, target, c_guid(cond_guid[target])))
    w("#endif")
    w("")
    w("/* ---- layers, by run-time id (FWPM_LAYER0.layerId) ----------------------")
    w(" * WFP_LAYER(id, name, display_name, key, flags, default_sublayer,")
    w(" *           first_field, num_fields, base_layer_id) */")
    w("#ifdef WFP_LAYER")
    first = 0
    for l in dlayers:
        l["first"] = first
        first += len(l["fields"])
        flags = " | ".join(LAYER_FLAGS[f] for f in l["flags"]) or "0u"
        w("WFP_LAYER(%d, %s, %s,\n          %s,\n          %s,\n          %s, %d, %d, %d)" % (
            l["id"], c_string(l["name"]), c_string(l["display"]), c_guid(l["key"]), flags,
            c_guid(sub_guid[l["default_sublayer"]]), l["first"], len(l["fields"]), l["base"]))
    w("#endif")
    w("")
    w("/* ---- layer fields, all layers back to back in FWPS index order -------")
    w(" * WFP_FIELD(layer_id, CONDITION_SUFFIX, field_type, data_type) */")
    w("#ifdef WFP_FIELD")
    for l in dlayers:
        w("/* %d %s */" % (l["id"], l["name"]))
        for f in l["fields"]:
            w("WFP_FIELD(%d, %s, %s, %s)" % (l["id"], f[0][len("FWPM_CONDITION_"):], f[1], f[2]))
    w("#endif")
    w("#define WFP_CATALOG_FIELD_COUNT %d" % first)
    w("")
    w("/* ---- built-in sublayers (spec 11.2; weights as BFE reports them) ------")
    w(" * WFP_SUBLAYER(SUFFIX, key, weight) */")
    w("#ifdef WFP_SUBLAYER")
    for name, g in spec["sublayers"]:
        w("WFP_SUBLAYER(%s, %s, %d)" % (name[len("FWPM_SUBLAYER_"):], c_guid(g), weights[name]))
    w("#endif")
    w("/* WFP_SUBLAYER_ALIAS(SUFFIX, CANONICAL_SUFFIX) (spec 1.9.3) */")
    w("#ifdef WFP_SUBLAYER_ALIAS")
    for a, c in spec["sublayer_aliases"]:
        if c not in sub_guid:
            die("sublayer alias %s of unknown %s" % (a, c))
        w("WFP_SUBLAYER_ALIAS(%s, %s)" % (a[len("FWPM_SUBLAYER_"):], c[len("FWPM_SUBLAYER_"):]))
    w("#endif")
    w("")
    w("/* ---- built-in providers (spec 11.3) -----------------------------------")
    w(" * WFP_PROVIDER(SUFFIX, key) */")
    w("#ifdef WFP_PROVIDER")
    for name, g in spec["providers"]:
        w("WFP_PROVIDER(%s, %s)" % (name[len("FWPM_PROVIDER_"):], c_guid(g)))
    w("#endif")
    w("")
    w("/* ---- built-in callouts (spec 11.4) ------------------------------------")
    w(" * WFP_CALLOUT(SUFFIX, key, applicable_layer_id); the layer is the one the")
    w(" * dump reports, else [Inferred] from the callout's name. */")
    w("#ifdef WFP_CALLOUT")
    for name, g, lid, from_dump in callouts:
        w("WFP_CALLOUT(%s, %s, %d)%s" % (name[len("FWPM_CALLOUT_"):], c_guid(g), lid,
                                          "" if from_dump else " /* [Inferred] layer */"))
    for name in omitted:
        w("/* %s: left out, no source gives its layer */" % name)
    w("#endif")
    w("/* WFP_CALLOUT_ALIAS(SUFFIX, CANONICAL_SUFFIX) (spec 1.9.3) */")
    w("#ifdef WFP_CALLOUT_ALIAS")
    for a, c in spec["callout_aliases"]:
        if c not in callout_names:
            die("callout alias %s of unknown %s" % (a, c))
        w("WFP_CALLOUT_ALIAS(%s, %s)" % (a[len("FWPM_CALLOUT_"):], c[len("FWPM_CALLOUT_"):]))
    w("#endif")
    w("")
    for m in ("WFP_CONDITION", "WFP_CONDITION_ALIAS", "WFP_LAYER", "WFP_FIELD", "WFP_SUBLAYER",
              "WFP_SUBLAYER_ALIAS", "WFP_PROVIDER", "WFP_CALLOUT", "WFP_CALLOUT_ALIAS"):
        w("#undef " + m)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "catalog_data.inc")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
