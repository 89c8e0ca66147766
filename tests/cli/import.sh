#!/usr/bin/env bash
# import.sh — `wfpsim import` end to end: a hand-made dump (BOM, trailing
# <firewallState>), the report, the closing weights line, the export as a
# scenario that `wfpsim check` and `classify --policy` accept, the round
# trip (--verify), JSON, and exit codes for unusable input. The real dumps
# in ../shared/data/wfpstate are imported too when present.
# Usage: bash import.sh <wfpsim> <source-dir>
set -u
wfpsim=${1:?usage: import.sh WFPSIM SOURCE_DIR}
srcdir=${2:?usage: import.sh WFPSIM SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
weights_re='^weights: [0-9]+ of [0-9]+ automatic weights agree with Windows$'

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run NAME EXPECTED_RC ARGS...: runs wfpsim; stdout in $tmp/out, stderr in $tmp/err.
run() {
    local name=$1 want_rc=$2
    shift 2
    "$wfpsim" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$name: exit $rc, expected $want_rc"
        cat "$tmp/out" "$tmp/err" >&2
        return 1
    fi
    return 0
}

# has NAME FILE PATTERN: FILE matches the extended regex PATTERN.
has() {
    if ! grep -Eq -- "$3" "$2"; then
        fail "$1: $(basename "$2") does not match /$3/"
        cat "$2" >&2
    fi
}

last_line_is_weights() {
    local last
    last=$(tail -n 1 "$2")
    if ! printf '%s\n' "$last" | grep -Eq "$weights_re"; then
        fail "$1: the last line is not the weights line: '$last'"
    fi
}

# A small state dump: the Windows Defender Firewall sublayer (by raw GUID,
# as older builds print it), a vendor provider/sublayer/callout, filters
# with an automatic and a recorded weight.
{
    printf '\xef\xbb\xbf'
    cat <<'EOF'
<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<wfpstate>
  <layers numItems="1">
    <item>
      <callouts numItems="1">
        <item>
          <calloutKey>{aaaaaaaa-0000-0000-0000-0000000000c1}</calloutKey>
          <displayData><name>Vendor inspector</name><description/></displayData>
          <flags numItems="1"><item>FWPM_CALLOUT_FLAG_REGISTERED</item></flags>
          <providerKey/><providerData/>
          <applicableLayer>FWPM_LAYER_ALE_AUTH_CONNECT_V4</applicableLayer>
          <calloutId>301</calloutId>
        </item>
      </callouts>
      <filters numItems="3">
        <item>
          <filterKey>{0000000a-0000-0000-0000-000000000001}</filterKey>
          <displayData><name>Vendor inspect 8080</name><description/></displayData>
          <flags/><providerKey/><providerData/>
          <layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey>
          <subLayerKey>{aaaaaaaa-0000-0000-0000-0000000000b1}</subLayerKey>
          <weight><type>FWP_EMPTY</type></weight>
          <filterCondition numItems="1">
            <item>
              <fieldKey>FWPM_CONDITION_IP_REMOTE_PORT</fieldKey>
              <matchType>FWP_MATCH_EQUAL</matchType>
              <conditionValue><type>FWP_UINT16</type><uint16>8080</uint16></conditionValue>
            </item>
          </filterCondition>
          <action><type>FWP_ACTION_CALLOUT_TERMINATING</type><filterType>{aaaaaaaa-0000-0000-0000-0000000000c1}</filterType></action>
          <rawContext>0</rawContext><reserved/>
          <filterId>70001</filterId>
          <effectiveWeight><type>FWP_UINT64</type><uint64>12345</uint64></effectiveWeight>
        </item>
        <item>
          <filterKey>{0000000a-0000-0000-0000-000000000002}</filterKey>
          <displayData><name>Query User</name><description/></displayData>
          <flags numItems="1"><item>FWPM_FILTER_FLAG_HAS_FILTER_ORIGIN</item></flags>
          <providerKey>FWPM_PROVIDER_MPSSVC_WF</providerKey><providerData/>
          <layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey>
          <subLayerKey>{b3cdd441-af90-41ba-a745-7c6008ff2301}</subLayerKey>
          <weight><type>FWP_UINT8</type><uint8>3</uint8></weight>
          <filterCondition/>
          <action><type>FWP_ACTION_BLOCK</type><filterType/></action>
          <rawContext>0</rawContext><reserved/>
          <filterId>70002</filterId>
          <effectiveWeight><type>FWP_UINT64</type><uint64>3458764513820540928</uint64></effectiveWeight>
        </item>
        <item>
          <filterKey>{0000000a-0000-0000-0000-000000000003}</filterKey>
          <displayData><name>Allow web</name><description/></displayData>
          <flags/><providerKey/><providerData/>
          <layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey>
          <subLayerKey>FWPM_SUBLAYER_MPSSVC_WF</subLayerKey>
          <weight><type>FWP_UINT64</type><uint64>9223372036854775808</uint64></weight>
          <filterCondition numItems="1">
            <item>
              <fieldKey>FWPM_CONDITION_IP_REMOTE_PORT</fieldKey>
              <matchType>FWP_MATCH_EQUAL</matchType>
              <conditionValue><type>FWP_UINT16</type><uint16>443</uint16></conditionValue>
            </item>
          </filterCondition>
          <action><type>FWP_ACTION_PERMIT</type><filterType/></action>
          <rawContext>0</rawContext><reserved/>
          <filterId>70003</filterId>
          <effectiveWeight><type>FWP_UINT64</type><uint64>9223372036854775808</uint64></effectiveWeight>
        </item>
      </filters>
    </item>
  </layers>
  <subLayers numItems="1">
    <item>
      <subLayerKey>{aaaaaaaa-0000-0000-0000-0000000000b1}</subLayerKey>
      <displayData><name>Vendor sublayer</name><description/></displayData>
      <flags/><providerKey/><providerData/>
      <weight>40000</weight>
    </item>
  </subLayers>
</wfpstate>
<firewallState>
  <dynamicKeywordAddresses/>
</firewallState>
EOF
} >"$tmp/state.xml"

# the report, on stdout, closing with the weights line
if run report 0 import "$tmp/state.xml" --check-weights; then
    has report "$tmp/out" '^filters: 3 in the dump, 3 added, 0 not imported$'
    has report "$tmp/out" '^unregistered callouts: '
    last_line_is_weights report "$tmp/out"
    has report "$tmp/out" '^weights: [0-9]+ of 2 automatic'
fi

# -v names the mismatches and the unregistered callout
if run verbose 0 import "$tmp/state.xml" --check-weights -v; then
    has verbose "$tmp/out" "^weight: filter 70001 'Vendor inspect 8080'"
    has verbose "$tmp/out" "^unregistered: callout 'Vendor inspector'"
    last_line_is_weights verbose "$tmp/out"
fi

# the export: a scenario wfpsim accepts; the round trip is exact
if run export 0 import "$tmp/state.xml" -o "$tmp/state.yaml" --verify --check-weights; then
    has export "$tmp/out" '^round trip: the export reads back identical to the dump$'
    last_line_is_weights export "$tmp/out"
fi
run check 0 check "$tmp/state.yaml" && has check "$tmp/out" '1 passed, 0 failed'
if run classify 0 classify --policy "$tmp/state.yaml" --layer ALE_AUTH_CONNECT_V4 IP_REMOTE_PORT=8080; then
    has classify "$tmp/out" 'reason: +unregistered_callout_block'
fi
if run classify-web 0 classify --policy "$tmp/state.yaml" --layer ALE_AUTH_CONNECT_V4 IP_REMOTE_PORT=443; then
    has classify-web "$tmp/out" 'filter: +Allow web'
fi

# -o -: only YAML on stdout, the report on stderr
if run stdout 0 import "$tmp/state.xml" -o - --check-weights; then
    has stdout "$tmp/out" '^wfpsim: 1$'
    if grep -q '^weights:' "$tmp/out"; then fail "stdout: the report leaked into the YAML"; fi
    last_line_is_weights stdout "$tmp/err"
fi

# --json
if run json 0 import "$tmp/state.xml" --json --check-weights; then
    if command -v python3 >/dev/null; then
        python3 -m json.tool "$tmp/out" >/dev/null || fail "json: not valid JSON"
    fi
    has json "$tmp/out" '"automatic": 2'
    last_line_is_weights json "$tmp/err"
fi

# unusable input and usage: exit 2
run missing 2 import "$tmp/nope.xml" && has missing "$tmp/err" 'nope.xml'
printf 'not xml\n' >"$tmp/bad.xml"
run garbage 2 import "$tmp/bad.xml" && has garbage "$tmp/err" 'bad.xml'
printf '<!DOCTYPE x [<!ENTITY a "b">]><wfpstate>&a;</wfpstate>\n' >"$tmp/dtd.xml"
run dtd 2 import "$tmp/dtd.xml" && has dtd "$tmp/err" 'DTD'
run noargs 2 import
run badopt 2 import "$tmp/state.xml" --frobnicate
run jsonstdout 2 import "$tmp/state.xml" --json -o -

# the real dumps, when the shared data is there
shared="$srcdir/../shared/data/wfpstate"
for dump in "$shared"/*.xml; do
    [ -f "$dump" ] || continue
    name=$(basename "$dump" .xml)
    if run "$name" 0 import "$dump" --check-weights --verify -o "$tmp/$name.yaml"; then
        has "$name" "$tmp/out" '^round trip: the export reads back identical to the dump$'
        last_line_is_weights "$name" "$tmp/out"
        echo "$name: $(tail -n 1 "$tmp/out")"
        run "$name-check" 0 check "$tmp/$name.yaml"
    fi
done

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "import.sh: all checks passed"
