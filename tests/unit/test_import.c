/* test_import.c — sim/import.c: real Windows WFP dumps (netsh wfp show
 * state / show filters) into a model, into an engine (ids, effective
 * weights, unregistered callouts), out as a scenario and back (round trip),
 * the automatic-weight check, and hostile XML. Fixtures are inline; the
 * real dumps in ../shared/data/wfpstate are used when present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"
#include "weight.h"
#include "wfp_import.h"

/* ---- fixtures ---------------------------------------------------------- */

#define BOM "\xEF\xBB\xBF"
#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"

#define VENDOR_PROVIDER "{aaaaaaaa-0000-0000-0000-000000000001}"
#define VENDOR_SUBLAYER "{aaaaaaaa-0000-0000-0000-0000000000b1}"
#define VENDOR_CALLOUT "{aaaaaaaa-0000-0000-0000-0000000000c1}"
#define MPSSVC_WF_SUBLAYER_GUID "{b3cdd441-af90-41ba-a745-7c6008ff2301}"

#define FILTER_HEAD(key, name, layer, sublayer)                                         \
    "<item><filterKey>" key "</filterKey>"                                              \
    "<displayData><name>" name "</name><description/></displayData>"                    \
    "<flags/><providerKey>" VENDOR_PROVIDER "</providerKey><providerData/>"              \
    "<layerKey>" layer "</layerKey><subLayerKey>" sublayer "</subLayerKey>"

#define COND(field, match, value)                                                       \
    "<item><fieldKey>" field "</fieldKey><matchType>" match "</matchType>"              \
    "<conditionValue>" value "</conditionValue></item>"

#define EW(v) "<effectiveWeight><type>FWP_UINT64</type><uint64>" v "</uint64></effectiveWeight>"

/* netsh wfp show state of a made-up machine: every value form, both key
 * spellings (names and raw GUIDs), a BOM and the trailing <firewallState>. */
static const char *const state_parts[] = {
    BOM XMLDECL
        "<wfpstate>\n",
    "<timeStamp>2026-01-01T00:00:00.000Z</timeStamp>\n",
    "<sessions numItems=\"2\"><item><sessionKey>{e9883d4f-f085-4d0b-bf8f-c90006ea147e}</sessionKey></item>"
        "<item><sessionKey>{e9883d4f-f085-4d0b-bf8f-c90006ea147f}</sessionKey></item></sessions>\n",
    "<layers numItems=\"4\">\n",
    /* ALE_AUTH_CONNECT_V4 */
        "<item><layer><layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey>"
        "<displayData><name>ALE Connect v4 Layer</name><description/></displayData>"
        "<flags numItems=\"1\"><item>FWPM_LAYER_FLAG_KERNEL</item></flags>"
        "<field numItems=\"2\"><item><fieldKey>FWPM_CONDITION_ALE_APP_ID</fieldKey><type>FWPM_FIELD_RAW_DATA</type>"
        "<dataType>FWP_BYTE_BLOB_TYPE</dataType></item><item><fieldKey>FWPM_CONDITION_ALE_USER_ID</fieldKey>"
        "<type>FWPM_FIELD_RAW_DATA</type><dataType>FWP_TOKEN_ACCESS_INFORMATION_TYPE</dataType></item></field>"
        "<defaultSubLayerKey>FWPM_SUBLAYER_UNIVERSAL</defaultSubLayerKey><layerId>48</layerId></layer>\n",
    "<callouts numItems=\"1\"><item><calloutKey>" VENDOR_CALLOUT "</calloutKey>"
        "<displayData><name>Vendor connect inspector</name><description>inspects connects</description></displayData>"
        "<flags numItems=\"1\"><item>FWPM_CALLOUT_FLAG_REGISTERED</item></flags>"
        "<providerKey>" VENDOR_PROVIDER "</providerKey><providerData/>"
        "<applicableLayer>FWPM_LAYER_ALE_AUTH_CONNECT_V4</applicableLayer><calloutId>300</calloutId></item></callouts>\n",
    "<filters numItems=\"6\">\n",
    /* A: every common value type, UINT8 weight, provider context, unknown flag */
        "<item><filterKey>{0000000a-0000-0000-0000-000000000001}</filterKey>"
        "<displayData><name>Vendor &amp; co block</name><description>blocks &lt;everything&gt;</description></displayData>"
        "<flags numItems=\"3\"><item>FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT</item><item>FWPM_FILTER_FLAG_INDEXED</item>"
        "<item>FWPM_FILTER_FLAG_HAS_FILTER_ORIGIN</item></flags>"
        "<providerKey>" VENDOR_PROVIDER "</providerKey>"
        "<providerData><data>ffffffffffffffff</data><asString>........</asString></providerData>"
        "<layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey><subLayerKey>" VENDOR_SUBLAYER "</subLayerKey>"
        "<weight><type>FWP_UINT8</type><uint8>8</uint8></weight>"
        "<filterCondition numItems=\"10\">"
        COND("FWPM_CONDITION_IP_PROTOCOL", "FWP_MATCH_EQUAL", "<type>FWP_UINT8</type><uint8>6</uint8>")
        COND("FWPM_CONDITION_IP_REMOTE_PORT", "FWP_MATCH_EQUAL", "<type>FWP_UINT16</type><uint16>443</uint16>")
        COND("FWPM_CONDITION_FLAGS", "FWP_MATCH_FLAGS_NONE_SET", "<type>FWP_UINT32</type><uint32>1</uint32>")
        COND("FWPM_CONDITION_IP_LOCAL_INTERFACE", "FWP_MATCH_EQUAL", "<type>FWP_UINT64</type><uint64>19985273152602112</uint64>")
        COND("FWPM_CONDITION_IP_REMOTE_ADDRESS", "FWP_MATCH_RANGE",
             "<type>FWP_RANGE_TYPE</type><rangeValue><valueLow><type>FWP_UINT32</type><uint32>192.168.1.0</uint32></valueLow>"
             "<valueHigh><type>FWP_UINT32</type><uint32>192.168.1.255</uint32></valueHigh></rangeValue>")
        COND("FWPM_CONDITION_ALE_APP_ID", "FWP_MATCH_EQUAL",
             "<type>FWP_BYTE_BLOB_TYPE</type><byteBlob><data>5c006400650076006900630065005c0068006100720064006400690073006b0076006f006c0075006d00650033005c0061002e006500780065000000</data>"
             "<asString>\\device\\harddiskvolume3\\a.exe</asString></byteBlob>")
        COND("FWPM_CONDITION_ALE_USER_ID", "FWP_MATCH_EQUAL",
             "<type>FWP_SECURITY_DESCRIPTOR_TYPE</type><sd>O:SYG:SYD:(A;;CCRC;;;S-1-5-80-1-2-3)</sd>")
        COND("FWPM_CONDITION_ALE_PACKAGE_ID", "FWP_MATCH_EQUAL", "<type>FWP_SID</type><sid>S-1-15-2-1-2-3</sid>")
        COND("FWPM_CONDITION_IP_LOCAL_ADDRESS", "FWP_MATCH_EQUAL",
             "<type>FWP_V4_ADDR_MASK</type><v4AddrMask><addr>10.0.0.0</addr><mask>255.0.0.0</mask></v4AddrMask>")
        COND("FWPM_CONDITION_IP_LOCAL_PORT", "FWP_MATCH_EQUAL", "<type>FWP_EMPTY</type>")
        "</filterCondition>"
        "<action><type>FWP_ACTION_BLOCK</type><filterType/></action>"
        "<providerContextKey>{93132c36-6e06-4e6f-a10b-218787cd49cf}</providerContextKey><reserved/>"
        "<filterId>70001</filterId>" EW("@EW_A@") "</item>\n",
    /* B: callout terminating; its callout is not registered here */
        FILTER_HEAD("{0000000a-0000-0000-0000-000000000002}", "Vendor inspect 8080", "FWPM_LAYER_ALE_AUTH_CONNECT_V4",
                    VENDOR_SUBLAYER)
        "<weight><type>FWP_EMPTY</type></weight><filterCondition numItems=\"1\">"
        COND("FWPM_CONDITION_IP_REMOTE_PORT", "FWP_MATCH_EQUAL", "<type>FWP_UINT16</type><uint16>8080</uint16>")
        "</filterCondition><action><type>FWP_ACTION_CALLOUT_TERMINATING</type><filterType>" VENDOR_CALLOUT
        "</filterType></action><rawContext>77</rawContext><reserved/><filterId>70002</filterId>" EW("12345") "</item>\n",
    /* C: exact UINT64 weight, MPSSVC sublayer by raw GUID (older builds) */
        "<item><filterKey>{0000000a-0000-0000-0000-000000000003}</filterKey>"
        "<displayData><name>Boot Time Filter</name><description>This filter is in effect before the service starts.</description></displayData>"
        "<flags numItems=\"1\"><item>FWPM_FILTER_FLAG_BOOTTIME</item></flags>"
        "<providerKey>{decc16ca-3f33-4346-be1e-8fb4ae0f3d62}</providerKey><providerData/>"
        "<layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey><subLayerKey>" MPSSVC_WF_SUBLAYER_GUID "</subLayerKey>"
        "<weight><type>FWP_UINT64</type><uint64>18446744073709551615</uint64></weight>"
        "<filterCondition numItems=\"1\">"
        COND("FWPM_CONDITION_IP_REMOTE_PORT", "FWP_MATCH_EQUAL", "<type>FWP_UINT16</type><uint16>9999</uint16>")
        "</filterCondition><action><type>FWP_ACTION_PERMIT</type><filterType/></action><rawContext>0</rawContext>"
        "<reserved/><filterId>70003</filterId>" EW("18446744073709551615") "</item>\n",
    /* D: a second "Boot Time Filter" (same name: export disambiguates) */
        "<item><filterKey>{0000000a-0000-0000-0000-000000000004}</filterKey>"
        "<displayData><name>Boot Time Filter</name><description/></displayData><flags/>"
        "<providerKey>FWPM_PROVIDER_MPSSVC_WF</providerKey><providerData/>"
        "<layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey><subLayerKey>FWPM_SUBLAYER_MPSSVC_WF</subLayerKey>"
        "<weight><type>FWP_UINT8</type><uint8>3</uint8></weight><filterCondition/>"
        "<action><type>FWP_ACTION_BLOCK</type><filterType/></action><rawContext>0</rawContext>"
        "<reserved/><filterId>70004</filterId>" EW("3458764513820540928") "</item>\n",
    /* E: an SDDL conditional ACE (not readable: kept raw) */
        FILTER_HEAD("{0000000a-0000-0000-0000-000000000005}", "Game Bar", "FWPM_LAYER_ALE_AUTH_CONNECT_V4",
                    "FWPM_SUBLAYER_MPSSVC_WF")
        "<weight><type>FWP_UINT8</type><uint8>9</uint8></weight><filterCondition numItems=\"1\">"
        COND("FWPM_CONDITION_ALE_PACKAGE_FAMILY_NAME", "FWP_MATCH_EQUAL",
             "\n\t\t<type>FWP_SECURITY_DESCRIPTOR_TYPE</type>\n\t\t<sd>O:SYG:SYD:(XA;;CC;;;WD;(WIN://SYSAPPID Contains \"x_8wekyb3d8bbwe\"))</sd>\n\t")
        "</filterCondition><action><type>FWP_ACTION_PERMIT</type><filterType/></action><rawContext>0</rawContext>"
        "<reserved/><filterId>70005</filterId>" EW("10376293541461622784") "</item>\n",
    /* F: values of types no field of this layer has (the engine refuses: kept as XML) */
        FILTER_HEAD("{0000000a-0000-0000-0000-000000000006}", "Odd types", "FWPM_LAYER_ALE_AUTH_CONNECT_V4",
                    VENDOR_SUBLAYER)
        "<weight><type>FWP_UINT64</type><uint64>5</uint64></weight><filterCondition numItems=\"7\">"
        COND("FWPM_CONDITION_IP_PROTOCOL", "FWP_MATCH_EQUAL", "<type>FWP_INT8</type><int8>-5</int8>")
        COND("FWPM_CONDITION_IP_PROTOCOL", "FWP_MATCH_EQUAL", "<type>FWP_INT64</type><int64>-9223372036854775808</int64>")
        COND("FWPM_CONDITION_IP_REMOTE_PORT", "FWP_MATCH_EQUAL", "<type>FWP_FLOAT</type><float32>1.5</float32>")
        COND("FWPM_CONDITION_IP_REMOTE_PORT", "FWP_MATCH_EQUAL", "<type>FWP_DOUBLE</type><double64>0.1</double64>")
        COND("FWPM_CONDITION_ALE_APP_ID", "FWP_MATCH_EQUAL", "<type>FWP_UNICODE_STRING_TYPE</type><unicodeString>caf\xc3\xa9 \"x\"</unicodeString>")
        COND("FWPM_CONDITION_ALE_USER_ID", "FWP_MATCH_EQUAL",
             "<type>FWP_TOKEN_INFORMATION_TYPE</type><tokenInformation><data>0102</data></tokenInformation>")
        COND("FWPM_CONDITION_ALE_APP_ID", "FWP_MATCH_EQUAL",
             "<type>FWP_TOKEN_ACCESS_INFORMATION_TYPE</type><tokenAccessInformation><data/></tokenAccessInformation>")
        "</filterCondition><action><type>FWP_ACTION_PERMIT</type><filterType/></action><rawContext>0</rawContext>"
        "<reserved/><filterId>70006</filterId>" EW("5") "</item>\n",
    "</filters></item>\n",
    /* ALE_AUTH_CONNECT_V6: masks and ranges of 16-byte addresses */
        "<item><layer><layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V6</layerKey><field/><layerId>50</layerId></layer>"
        "<callouts/><filters numItems=\"1\">"
        FILTER_HEAD("{0000000a-0000-0000-0000-000000000007}", "v6 link-local", "FWPM_LAYER_ALE_AUTH_CONNECT_V6",
                    VENDOR_SUBLAYER)
        "<weight><type>FWP_UINT8</type><uint8>2</uint8></weight><filterCondition numItems=\"2\">"
        COND("FWPM_CONDITION_IP_REMOTE_ADDRESS", "FWP_MATCH_EQUAL",
             "<type>FWP_V6_ADDR_MASK</type><v6AddrMask><addr>fe80::</addr><prefixLength>64</prefixLength></v6AddrMask>")
        COND("FWPM_CONDITION_IP_LOCAL_ADDRESS", "FWP_MATCH_RANGE",
             "<type>FWP_RANGE_TYPE</type><rangeValue><valueLow><type>FWP_BYTE_ARRAY16_TYPE</type><byteArray16>fe80::</byteArray16></valueLow>"
             "<valueHigh><type>FWP_BYTE_ARRAY16_TYPE</type><byteArray16>fe80:ffff:ffff:ffff:ffff:ffff:ffff:ffff</byteArray16></valueHigh></rangeValue>")
        "</filterCondition><action><type>FWP_ACTION_PERMIT</type><filterType/></action><rawContext>0</rawContext>"
        "<reserved/><filterId>70007</filterId>" EW("2305843009213693952") "</item>\n",
    "</filters></item>\n",
    /* INBOUND_MAC_FRAME_ETHERNET: a MAC address */
        "<item><filters>"
        FILTER_HEAD("{0000000a-0000-0000-0000-000000000008}", "mac", "FWPM_LAYER_INBOUND_MAC_FRAME_ETHERNET",
                    VENDOR_SUBLAYER)
        "<weight><type>FWP_UINT64</type><uint64>100</uint64></weight><filterCondition numItems=\"1\">"
        COND("FWPM_CONDITION_MAC_REMOTE_ADDRESS", "FWP_MATCH_EQUAL",
             "<type>FWP_BYTE_ARRAY6_TYPE</type><byteArray6>00-11-22-aa-bb-cc</byteArray6>")
        "</filterCondition><action><type>FWP_ACTION_PERMIT</type><filterType/></action><rawContext>0</rawContext>"
        "<reserved/><filterId>70008</filterId>" EW("100") "</item>\n",
    "</filters></item>\n",
    /* a layer this build of wfpsim does not know */
        "<item><filters>"
        FILTER_HEAD("{0000000a-0000-0000-0000-000000000009}", "future", "FWPM_LAYER_FROM_THE_FUTURE", VENDOR_SUBLAYER)
        "<weight><type>FWP_EMPTY</type></weight><filterCondition/>"
        "<action><type>FWP_ACTION_BLOCK</type><filterType/></action><rawContext>0</rawContext>"
        "<reserved/><filterId>70009</filterId>" EW("1") "</item>\n",
    "</filters></item>\n",
    "</layers>\n",
    "<providers numItems=\"2\">"
        "<item><providerKey>FWPM_PROVIDER_MPSSVC_WF</providerKey><displayData><name>Microsoft Corporation</name>"
        "<description>Microsoft Windows WFP Built-in MPSSVC WF provider.</description></displayData><flags/>"
        "<providerData/><serviceName>mpssvc</serviceName></item>"
        "<item><providerKey>" VENDOR_PROVIDER "</providerKey><displayData><name>Vendor</name><description/></displayData>"
        "<flags numItems=\"2\"><item>FWPM_PROVIDER_FLAG_PERSISTENT</item><item>FWPM_PROVIDER_FLAG_DISABLED</item></flags>"
        "<providerData><data>0102</data><asString>..</asString></providerData><serviceName>vendorsvc</serviceName></item>"
        "</providers>\n",
    "<providerContexts numItems=\"1\"><item><providerContextKey>{93132c36-6e06-4e6f-a10b-218787cd49cf}</providerContextKey></item></providerContexts>\n",
    "<subLayers numItems=\"2\">"
        "<item><subLayerKey>" MPSSVC_WF_SUBLAYER_GUID "</subLayerKey><displayData><name>WFP Built-in MPSSVC WF Sublayer</name>"
        "<description/></displayData><flags/><providerKey/><providerData/><weight>2</weight></item>"
        "<item><subLayerKey>" VENDOR_SUBLAYER "</subLayerKey><displayData><name>Vendor sublayer</name><description/></displayData>"
        "<flags numItems=\"1\"><item>FWPM_SUBLAYER_FLAG_PERSISTENT</item></flags>"
        "<providerKey>" VENDOR_PROVIDER "</providerKey><providerData/><weight>40000</weight></item>"
        "</subLayers>\n",
    "<ipsecStatistics><x>1</x></ipsecStatistics>\n",
    "</wfpstate>\n",
    "<firewallState>\n\t<dynamicKeywordAddresses/>\n</firewallState>\n"
};

/* The parts joined (C compilers need not take string literals over 4095
 * characters). */
static char *join_parts(const char *const *v, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++) len += strlen(v[i]);
    char *s = malloc(len);
    assert_non_null(s);
    s[0] = 0;
    for (size_t i = 0; i < n; i++) strcat(s, v[i]);
    return s;
}


/* netsh wfp show filters: only filters (and providers); the sublayer and
 * callout they use are not listed. */
static const char filters_fixture[] =
    XMLDECL "<wfpdiag>\n<filters>\n"
    "<item><filterKey>{0000000f-0000-0000-0000-000000000001}</filterKey>"
    "<displayData><name>Outbound Transport V4</name><description>Filtering flow traffic</description></displayData>"
    "<flags numItems=\"1\"><item>FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED</item></flags>"
    "<providerKey/><providerData/><layerKey>FWPM_LAYER_OUTBOUND_TRANSPORT_V4</layerKey>"
    "<subLayerKey>{262afd5d-dcc4-11f0-828b-901057cfd03b}</subLayerKey>"
    "<weight><type>FWP_UINT64</type><uint64>32768</uint64></weight><filterCondition/>"
    "<action><type>FWP_ACTION_CALLOUT_TERMINATING</type><filterType>{262afd62-dcc4-11f0-828b-901057cfd03b}</filterType></action>"
    "<rawContext>18446712231168173584</rawContext><reserved/><filterId>67559</filterId>" EW("32768") "</item>\n"
    "<item><filterKey>{0000000f-0000-0000-0000-000000000002}</filterKey>"
    "<displayData><name>Query User</name><description/></displayData><flags/>"
    "<providerKey>FWPM_PROVIDER_MPSSVC_WF</providerKey><providerData><data>1540000000000000</data><asString>.@......</asString></providerData>"
    "<layerKey>FWPM_LAYER_INBOUND_ICMP_ERROR_V4</layerKey><subLayerKey>FWPM_SUBLAYER_MPSSVC_WF</subLayerKey>"
    "<weight><type>FWP_UINT8</type><uint8>3</uint8></weight><filterCondition/>"
    "<action><type>FWP_ACTION_BLOCK</type><filterType/></action><rawContext>0</rawContext><reserved/>"
    "<filterId>130204</filterId>" EW("3458764513820540928") "</item>\n"
    "</filters>\n"
    "<providers><item><providerKey>{8e44982a-f477-11df-85ce-78e7d1810190}</providerKey><displayData>"
    "<name>Microsoft Corporation</name><description>Windows Network Data Usage (NDU) Provider</description></displayData>"
    "<flags/><providerData/><serviceName>NDU</serviceName></item></providers>\n"
    "</wfpdiag>\n";

/* The state fixture with @EW_A@ replaced. */
static char *state_with(const char *ew_a)
{
    char *t = join_parts(state_parts, sizeof state_parts / sizeof state_parts[0]);
    const char *at = strstr(t, "@EW_A@");
    size_t n = strlen(t) + strlen(ew_a) + 1;
    char *s = malloc(n);
    assert_non_null(s);
    assert_non_null(at);
    snprintf(s, n, "%.*s%s%s", (int)(at - t), t, ew_a, at + 6);
    free(t);
    return s;
}

/* What was written to a temporary file, as a string. */
static char *drain(FILE *t)
{
    long n = ftell(t);
    assert_true(n >= 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    rewind(t);
    assert_int_equal(fread(buf, 1, (size_t)n, t), (size_t)n);
    buf[n] = 0;
    fclose(t);
    return buf;
}

static wfp_import_model *parse_text(const char *text)
{
    char err[512];
    wfp_import_model *m = wfp_import_parse_memory("fixture.xml", text, strlen(text), err, sizeof err);
    if (!m) print_message("parse failed: %s\n", err);
    assert_non_null(m);
    return m;
}

static const wfp_import_filter *filter_by_id(const wfp_import_model *m, uint64_t id)
{
    for (size_t i = 0; i < m->num_filters; i++)
        if (m->filters[i].filter_id == id) return &m->filters[i];
    return NULL;
}

static char *export_text(const wfp_import_model *m, size_t *len)
{
    FILE *t = tmpfile();
    assert_non_null(t);
    assert_true(wfp_import_export_yaml(m, NULL, t));
    long n = ftell(t);
    assert_true(n > 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    rewind(t);
    assert_int_equal(fread(buf, 1, (size_t)n, t), (size_t)n);
    buf[n] = 0;
    fclose(t);
    *len = (size_t)n;
    return buf;
}

static void assert_round_trip(const wfp_import_model *m)
{
    size_t len;
    char err[512], why[512];
    char *y = export_text(m, &len);
    wfp_import_model *back = wfp_import_read_export("export.yaml", y, len, err, sizeof err);
    if (!back) print_message("read back failed: %s\n", err);
    assert_non_null(back);
    bool same = wfp_import_model_equal(m, back, why, sizeof why);
    if (!same) print_message("round trip differs: %s\n", why);
    assert_true(same);
    wfp_import_model_free(back);
    free(y);
}

/* ---- parsing ------------------------------------------------------------ */

static void test_state_parse(void **state)
{
    (void)state;
    char *t = state_with("0");
    wfp_import_model *m = parse_text(t);
    assert_int_equal(m->format, WFP_IMPORT_FORMAT_STATE);
    assert_int_equal(m->num_filters, 9);
    assert_int_equal(m->num_providers, 2);
    assert_int_equal(m->num_sublayers, 2);
    assert_int_equal(m->num_callouts, 1);
    assert_int_equal(m->num_layers, 2);
    assert_int_equal(m->num_sessions, 2);
    assert_int_equal(m->num_provider_contexts, 1);
    assert_int_equal(m->num_other_sections, 1);
    /* built-ins by name and by raw GUID */
    assert_true(m->providers[0].builtin);
    assert_false(m->providers[1].builtin);
    assert_true(m->sublayers[0].builtin);
    assert_false(m->sublayers[1].builtin);
    assert_int_equal(m->sublayers[1].weight, 40000);
    assert_true(m->providers[1].flags.bits & FWPM_PROVIDER_FLAG_DISABLED);
    assert_int_equal(m->providers[1].data.size, 2);
    assert_string_equal(m->providers[1].service_name, "vendorsvc");
    assert_true(m->callouts[0].flags.bits & FWPM_CALLOUT_FLAG_REGISTERED);
    assert_int_equal(m->callouts[0].callout_id, 300);

    const wfp_import_filter *a = filter_by_id(m, 70001);
    assert_non_null(a);
    assert_string_equal(a->name, "Vendor & co block");
    assert_string_equal(a->description, "blocks <everything>");
    assert_int_equal(a->weight.type, FWP_UINT8);
    assert_int_equal(a->weight.v.u8, 8);
    assert_int_equal(a->num_conditions, 10);
    assert_int_equal(a->conditions[0].value.u.value.v.u8, 6);
    assert_int_equal(a->conditions[1].value.u.value.v.u16, 443);
    assert_int_equal(a->conditions[2].match_type, FWP_MATCH_FLAGS_NONE_SET);
    assert_true(a->conditions[3].value.u.value.v.u64 == 19985273152602112ull);
    assert_int_equal(a->conditions[4].value.type, FWP_RANGE_TYPE);
    assert_int_equal(a->conditions[4].value.u.range.low.v.u32, 0xc0a80100u);
    assert_int_equal(a->conditions[4].value.u.range.high.v.u32, 0xc0a801ffu);
    assert_int_equal(a->conditions[5].value.u.value.type, FWP_BYTE_BLOB_TYPE);
    assert_int_equal(a->conditions[5].value.u.value.v.blob.size, 2 * 30);
    assert_int_equal(a->conditions[6].value.u.value.type, FWP_SECURITY_DESCRIPTOR_TYPE);
    assert_int_equal(a->conditions[7].value.u.value.type, FWP_SID);
    assert_int_equal(a->conditions[8].value.type, FWP_V4_ADDR_MASK);
    assert_int_equal(a->conditions[8].value.u.v4.mask, 0xff000000u);
    assert_int_equal(a->conditions[9].value.type, FWP_EMPTY);
    assert_true(a->has_provider_context);
    assert_false(a->has_raw_context);
    assert_int_equal(a->flags.num_unknown, 1);
    assert_string_equal(a->flags.unknown[0], "FWPM_FILTER_FLAG_HAS_FILTER_ORIGIN");
    assert_true(a->flags.bits & FWPM_FILTER_FLAG_INDEXED);
    assert_int_equal(a->problems, 0);

    const wfp_import_filter *b = filter_by_id(m, 70002);
    assert_int_equal(b->action_type, FWP_ACTION_CALLOUT_TERMINATING);
    assert_true(b->has_raw_context);
    assert_int_equal(b->raw_context, 77);

    const wfp_import_filter *e = filter_by_id(m, 70005);
    assert_int_equal(e->problems, WFP_IMPORT_BAD_VALUE);
    assert_non_null(e->conditions[0].raw);
    assert_int_equal(e->conditions[0].raw_type, FWP_SECURITY_DESCRIPTOR_TYPE);

    const wfp_import_filter *f = filter_by_id(m, 70006);
    assert_int_equal(f->conditions[0].value.u.value.v.i8, -5);
    assert_true(f->conditions[1].value.u.value.v.i64 == INT64_MIN);
    assert_true(f->conditions[2].value.u.value.v.f32 == 1.5f);
    assert_true(f->conditions[3].value.u.value.v.f64 == 0.1);
    assert_int_equal(f->conditions[4].value.u.value.v.blob.size, strlen("caf\xc3\xa9 \"x\""));
    assert_int_equal(f->conditions[5].value.u.value.v.blob.size, 2);
    assert_int_equal(f->conditions[6].value.u.value.v.blob.size, 0);

    const wfp_import_filter *g = filter_by_id(m, 70007);
    assert_int_equal(g->conditions[0].value.type, FWP_V6_ADDR_MASK);
    assert_int_equal(g->conditions[0].value.u.v6.prefix_length, 64);
    assert_int_equal(g->conditions[1].value.u.range.low.type, FWP_BYTE_ARRAY16_TYPE);

    const wfp_import_filter *h = filter_by_id(m, 70008);
    assert_int_equal(h->conditions[0].value.u.value.v.bytes6[5], 0xcc);

    const wfp_import_filter *j = filter_by_id(m, 70009);
    assert_true(j->problems & WFP_IMPORT_BAD_LAYER);
    assert_false(j->layer.resolved);
    assert_string_equal(j->layer.symbol, "FWPM_LAYER_FROM_THE_FUTURE");
    wfp_import_model_free(m);
    free(t);
}

static void test_filters_format(void **state)
{
    (void)state;
    wfp_import_model *m = parse_text(filters_fixture);
    assert_int_equal(m->format, WFP_IMPORT_FORMAT_FILTERS);
    assert_int_equal(m->num_filters, 2);
    /* the callout and sublayer the first filter uses are made up */
    assert_int_equal(m->num_callouts, 1);
    assert_true(m->callouts[0].synthesized);
    assert_int_equal(m->num_sublayers, 1);
    assert_true(m->sublayers[0].synthesized);
    assert_int_equal(m->num_providers, 1);

    wfp_engine *e = wfp_engine_create(NULL);
    wfp_session *s = NULL;
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.admin = true;
    assert_int_equal(wfp_session_open(e, &d, &s), ERROR_SUCCESS);
    wfp_import_report r;
    assert_true(wfp_import_apply(m, s, &r, NULL));
    assert_int_equal(r.filters_added, 2);
    assert_int_equal(r.callouts_synthesized, 1);
    assert_int_equal(r.sublayers_synthesized, 1);
    assert_round_trip(m);
    wfp_session_close(s);
    wfp_engine_destroy(e);
    wfp_import_model_free(m);
}

/* ---- apply -------------------------------------------------------------- */

static void test_apply_keeps_ids_and_weights(void **state)
{
    (void)state;
    char *t = state_with("1152921504606846976");
    wfp_import_model *m = parse_text(t);
    wfp_engine *e = wfp_engine_create(NULL);
    wfp_session *s = NULL;
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.admin = true;
    assert_int_equal(wfp_session_open(e, &d, &s), ERROR_SUCCESS);
    wfp_import_report r;
    FILE *log = tmpfile();
    assert_non_null(log);
    assert_true(wfp_import_apply(m, s, &r, log));
    char *logbuf = drain(log);
    assert_int_equal(r.builtin_providers, 1);
    assert_int_equal(r.providers_added, 1);
    assert_int_equal(r.builtin_sublayers, 1);
    assert_int_equal(r.sublayers_added, 1);
    assert_int_equal(r.callouts_added, 1);
    assert_int_equal(r.callouts_were_registered, 1);
    /* A, B, C, D, v6, mac added; E (conditional ACE), F (odd types), future layer not */
    assert_int_equal(r.filters_added, 6);
    assert_int_equal(r.filters_bad_value, 1);
    assert_int_equal(r.filters_bad_layer, 1);
    assert_int_equal(r.filters_failed, 1);
    assert_int_equal(r.provider_contexts, 1);
    assert_int_equal(r.provider_context_refs, 1);
    assert_int_equal(r.unknown_flags, 1);
    assert_int_equal(r.sessions, 2);
    assert_non_null(strstr(logbuf, "not imported: filter 'Game Bar' (id 70005"));
    assert_non_null(strstr(logbuf, "conditional ACE"));
    assert_non_null(strstr(logbuf, "not imported: filter 'future'"));
    free(logbuf);

    /* ids and Windows' effective weights are kept */
    const wfp_filter *a = wfp_engine_filter_by_id(e, 70001);
    assert_non_null(a);
    assert_string_equal(a->display.name, "Vendor & co block");
    assert_true(a->effective_weight.v.u64 == 1152921504606846976ull);
    const wfp_filter *b = wfp_engine_filter_by_id(e, 70002);
    assert_non_null(b);
    assert_int_equal(b->effective_weight.v.u64, 12345);
    assert_int_equal(b->raw_context, 77);
    const wfp_sublayer *sl = wfp_engine_sublayer_by_key(e, &m->sublayers[1].key.key);
    assert_non_null(sl);
    assert_int_equal(sl->weight, 40000);

    /* the callout has no driver: its filter blocks as an unregistered callout */
    assert_false(wfp_callout_is_registered(e, &m->callouts[0].key.key));
    const wfp_layer_info *l = wfp_catalog_layer_by_name("ALE_AUTH_CONNECT_V4");
    wfp_policy_values *v = wfp_policy_values_create(l);
    char why[256];
    assert_true(wfp_policy_values_set(v, "IP_REMOTE_PORT", "8080", why, sizeof why));
    assert_true(wfp_policy_values_set(v, "IP_PROTOCOL", "tcp", why, sizeof why));
    wfp_classify_request req;
    memset(&req, 0, sizeof req);
    req.layer_id = l->id;
    req.values = wfp_policy_values_array(v);
    req.num_values = wfp_policy_values_count(v);
    wfp_verdict out;
    assert_int_equal(wfp_classify(e, &req, &out, NULL), ERROR_SUCCESS);
    assert_false(out.permitted);
    assert_int_equal(out.reason, WFP_REASON_UNREGISTERED_CALLOUT_BLOCK);
    assert_int_equal(out.filter_id, 70002);
    wfp_policy_values_destroy(v);

    wfp_session_close(s);
    wfp_engine_destroy(e);
    wfp_import_model_free(m);
    free(t);
}

static void test_load_file_and_sniff(void **state)
{
    (void)state;
    const char *path = "test_import_fixture.xml"; /* in the test's working directory */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(filters_fixture, f);
    fclose(f);
    assert_true(wfp_import_looks_like_dump(path));
    wfp_engine *e = wfp_engine_create(NULL);
    wfp_session *s = NULL;
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.admin = true;
    assert_int_equal(wfp_session_open(e, &d, &s), ERROR_SUCCESS);
    wfp_import_report r;
    char err[256];
    assert_true(wfp_import_load_file(path, s, &r, NULL, err, sizeof err));
    assert_int_equal(r.filters_added, 2);
    assert_non_null(wfp_engine_filter_by_id(e, 130204));
    wfp_session_close(s);
    wfp_engine_destroy(e);
    f = fopen(path, "w");
    fputs("wfpsim: 1\n", f);
    fclose(f);
    assert_false(wfp_import_looks_like_dump(path));
    assert_false(wfp_import_load_file(path, NULL, &r, NULL, err, sizeof err));
    remove(path);
    assert_false(wfp_import_load_file("/nonexistent/dump.xml", NULL, &r, NULL, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dump.xml"));
}

/* ---- round trip --------------------------------------------------------- */

static void test_round_trip_state(void **state)
{
    (void)state;
    char *t = state_with("1152921504606846976");
    wfp_import_model *m = parse_text(t);
    assert_round_trip(m);

    /* the export is a scenario wfpsim accepts, names made unique */
    size_t len;
    char *y = export_text(m, &len);
    assert_non_null(strstr(y, "wfpsim: 1\n"));
    assert_non_null(strstr(y, "name: 'Boot Time Filter #70003'"));
    assert_non_null(strstr(y, "name: 'Boot Time Filter #70004'"));
    assert_non_null(strstr(y, "sublayer: FWPM_SUBLAYER_MPSSVC_WF"));
    assert_non_null(strstr(y, "registered: false"));
    assert_non_null(strstr(y, "value: '\\device\\harddiskvolume3\\a.exe'"));
    assert_non_null(strstr(y, "{low: 192.168.1.0, high: 192.168.1.255}"));
    /* B's recorded weight (12345) is not wfpsim's: pinned */
    assert_non_null(strstr(y, "weight: {uint64: 12345}"));
    free(y);

    /* a model read back exports the same text again */
    char err[256];
    y = export_text(m, &len);
    wfp_import_model *back = wfp_import_read_export("x.yaml", y, len, err, sizeof err);
    assert_non_null(back);
    size_t len2;
    char *y2 = export_text(back, &len2);
    char *p1 = strstr(y, "policy:"), *p2 = strstr(y2, "policy:");
    assert_non_null(p1);
    assert_non_null(p2);
    /* the same up to the record's source line (the file name differs) */
    char *e1 = strstr(p1, "#~ source:"), *e2 = strstr(p2, "#~ source:");
    assert_non_null(e1);
    assert_non_null(e2);
    *e1 = *e2 = 0;
    size_t at = 0;
    while (p1[at] && p1[at] == p2[at]) at++;
    if (p1[at] != p2[at])
        print_message("re-export differs at: ...%.200s...\nvs ...%.200s...\n", p1 + (at > 80 ? at - 80 : 0),
                      p2 + (at > 80 ? at - 80 : 0));
    assert_true(p1[at] == p2[at]);
    free(y2);
    wfp_import_model_free(back);
    free(y);
    wfp_import_model_free(m);
    free(t);
}

static void test_read_export_errors(void **state)
{
    (void)state;
    char err[256];
    static const char *const bad[] = {
        "not: [yaml",
        "wfpsim: 1\npolicy: {filters: [{name: x, layer: NOPE, action: permit}]}\n",
        "wfpsim: 1\npolicy: {}\n",                        /* no record */
        "wfpsim: 1\n#~ wfpsim_import: 1\n#~ filters: [{id: 1}]\n", /* entry without key */
        "wfpsim: 1\n#~ wfpsim_import: 1\n#~ xml: '<wfpimport><filters><item/></filters></wfpimport>'\n",
        "wfpsim: 1\n#~ wfpsim_import: 1\n#~ xml: ['<wfpimport><filters><item/></filters></wfpimport>']\n",
        "wfpsim: 1\n#~ wfpsim_import: 1\n#~ xml: [[1]]\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wfp_import_model *m = wfp_import_read_export("bad.yaml", bad[i], strlen(bad[i]), err, sizeof err);
        if (m) print_message("accepted: %s\n", bad[i]);
        assert_null(m);
        assert_true(err[0] != 0);
    }
}

/* ---- weights ------------------------------------------------------------ */

static void test_weight_check(void **state)
{
    (void)state;
    char *t = state_with("0");
    wfp_import_model *m = parse_text(t);
    const wfp_import_filter *a = filter_by_id(m, 70001);
    const wfp_layer_info *l = wfp_catalog_layer_by_name("ALE_AUTH_CONNECT_V4");
    wfp_condition c[16];
    for (uint32_t i = 0; i < a->num_conditions; i++) {
        c[i].field_key = a->conditions[i].field.key;
        c[i].match_type = a->conditions[i].match_type;
        c[i].value = a->conditions[i].value;
    }
    uint64_t autow = wfpi_auto_weight(l, c, a->num_conditions) & FWPM_AUTO_WEIGHT_MAX;
    uint64_t want = (UINT64_C(8) << 60) | autow, got = 0;
    assert_true(wfp_import_computed_weight(a, &got));
    assert_true(got == want);
    /* an EMPTY weight is the automatic part alone; UINT64 is used as it is */
    const wfp_import_filter *b = filter_by_id(m, 70002);
    c[0].field_key = b->conditions[0].field.key;
    c[0].match_type = b->conditions[0].match_type;
    c[0].value = b->conditions[0].value;
    assert_true(wfp_import_computed_weight(b, &got));
    assert_true(got == (wfpi_auto_weight(l, c, 1) & FWPM_AUTO_WEIGHT_MAX));
    assert_true(wfp_import_computed_weight(filter_by_id(m, 70003), &got));
    assert_true(got == UINT64_MAX);
    /* no layer: no weight */
    assert_false(wfp_import_computed_weight(filter_by_id(m, 70009), &got));
    /* a value wfpsim cannot read still weighs by its type (EQUAL) */
    assert_true(wfp_import_computed_weight(filter_by_id(m, 70005), &got));
    assert_true(got >> 60 == 9);

    wfp_import_weight_check wc;
    wfp_import_check_weights(m, &wc, NULL);
    /* automatic: A, B, D, E, v6, future (EMPTY/UINT8) */
    assert_int_equal(wc.automatic, 6);
    size_t agree0 = wc.agree;
    wfp_import_model_free(m);
    free(t);

    /* with A's real effective weight recorded, one more agrees */
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)want);
    t = state_with(num);
    m = parse_text(t);
    FILE *mm = tmpfile();
    assert_non_null(mm);
    wfp_import_check_weights(m, &wc, mm);
    char *out = drain(mm);
    assert_int_equal(wc.automatic, 6);
    assert_int_equal(wc.agree, agree0 + 1);
    assert_null(strstr(out, "filter 70001 "));
    assert_non_null(strstr(out, "weight: filter 70002 'Vendor inspect 8080' (ALE_AUTH_CONNECT_V4, FWP_EMPTY, 1 conditions): Windows 0x0000000000003039"));
    assert_non_null(strstr(out, "filter 70009 'future'"));
    assert_non_null(strstr(out, "cannot compute"));
    free(out);
    wfp_import_model_free(m);
    free(t);
}

/* ---- hostile input ------------------------------------------------------- */

static void test_bad_xml(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "not xml at all",
        "<wfpstate>",
        "<wfpstate><layers></wfpstate>",
        "<other/>",
        "<?xml version=\"1.0\"?><!DOCTYPE wfpstate [<!ENTITY a \"aaaa\">]><wfpstate>&a;</wfpstate>",
        "<!DOCTYPE wfpstate SYSTEM \"http://example.com/x.dtd\"><wfpstate/>",
        "<wfpstate>&undefined;</wfpstate>",
        "<wfpstate><layers><item><filters><item><filterKey>not-a-guid</filterKey></item></filters></item></layers></wfpstate>",
        "<wfpstate><layers><item><filters><item><filterKey>{0000000a-0000-0000-0000-000000000001}</filterKey>"
        "<layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey><weight><type>FWP_UINT32</type><uint32>1</uint32></weight>"
        "</item></filters></item></layers></wfpstate>",
        "<wfpstate><subLayers><item><subLayerKey>{0000000a-0000-0000-0000-000000000001}</subLayerKey>"
        "<weight>70000</weight></item></subLayers></wfpstate>",
        "<wfpstate><providers><item><providerKey>{0000000a-0000-0000-0000-000000000001}</providerKey>"
        "<providerData><data>zz</data></providerData></item></providers></wfpstate>",
        "<wfpstate><layers><item><filters><item><filterKey>{0000000a-0000-0000-0000-000000000001}</filterKey>"
        "<layerKey>FWPM_LAYER_ALE_AUTH_CONNECT_V4</layerKey><action><type>FWP_ACTION_JUMP</type></action>"
        "</item></filters></item></layers></wfpstate>",
    };
    char err[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wfp_import_model *m = wfp_import_parse_memory("bad.xml", bad[i], strlen(bad[i]), err, sizeof err);
        if (m) print_message("accepted: %s\n", bad[i]);
        assert_null(m);
        assert_true(strncmp(err, "bad.xml", 7) == 0);
    }
    /* content after the first root element is ignored; an empty dump is fine */
    const char *ok = BOM "<wfpstate/>\n<firewallState><x/></firewallState>\ntrailing text";
    wfp_import_model *m = wfp_import_parse_memory("ok.xml", ok, strlen(ok), err, sizeof err);
    assert_non_null(m);
    assert_int_equal(m->num_filters, 0);
    assert_round_trip(m);
    wfp_import_model_free(m);
}

/* ---- the real dumps ------------------------------------------------------ */

static void real_dump(const char *file, size_t filters, size_t automatic)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/wfpstate/%s", WFPSIM_SHARED_DATA, file);
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_message("%s not present: skipped\n", path);
        skip();
    }
    fclose(f);
    wfp_import_model *m = wfp_import_parse_file(path, err, sizeof err);
    if (!m) print_message("%s\n", err);
    assert_non_null(m);
    assert_int_equal(m->num_filters, filters);
    wfp_engine *e = wfp_engine_create(NULL);
    wfp_session *s = NULL;
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.admin = true;
    assert_int_equal(wfp_session_open(e, &d, &s), ERROR_SUCCESS);
    wfp_import_report r;
    assert_true(wfp_import_apply(m, s, &r, NULL));
    /* every added filter kept its id and Windows' effective weight */
    for (size_t i = 0; i < m->num_filters; i++) {
        const wfp_filter *ef = wfp_engine_filter_by_id(e, m->filters[i].filter_id);
        if (!ef) continue;
        assert_true(wfp_guid_eq(&ef->key, &m->filters[i].key.key));
        assert_true(ef->effective_weight.v.u64 == m->filters[i].effective_weight);
    }
    assert_round_trip(m);
    wfp_import_weight_check wc;
    wfp_import_check_weights(m, &wc, NULL);
    assert_int_equal(wc.automatic, automatic);
    print_message("%s: %zu providers, %zu sublayers, %zu callouts, %zu/%zu filters added; "
                  "weights: %zu of %zu automatic weights agree with Windows\n",
                  file, r.providers_added, r.sublayers_added, r.callouts_added, r.filters_added, m->num_filters,
                  wc.agree, wc.automatic);
    wfp_session_close(s);
    wfp_engine_destroy(e);
    wfp_import_model_free(m);
}

static void test_real_pi_burner(void **state)
{
    (void)state;
    real_dump("python_pi_burner__wfpstate.xml", 1050, 912);
}

static void test_real_keploy(void **state)
{
    (void)state;
    real_dump("keploy__wfpstate.xml", 1254, 1139);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_parse),
        cmocka_unit_test(test_filters_format),
        cmocka_unit_test(test_apply_keeps_ids_and_weights),
        cmocka_unit_test(test_load_file_and_sniff),
        cmocka_unit_test(test_round_trip_state),
        cmocka_unit_test(test_read_export_errors),
        cmocka_unit_test(test_weight_check),
        cmocka_unit_test(test_bad_xml),
        cmocka_unit_test(test_real_pi_burner),
        cmocka_unit_test(test_real_keploy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
