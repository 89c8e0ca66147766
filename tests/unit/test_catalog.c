/* test_catalog.c — the built-in catalogue (core/catalog.c over the generated
 * core/catalog_data.inc) against what the WFP documentation and headers say.
 *
 * Each test names the behavior it pins with an EVIDENCE id and the spec
 * section (shared/spec/wfp-semantics.md) it comes from. The catalogue is
 * const and has no state, so the tests need no fixtures. The full
 * layer-by-layer comparison with a real Windows dump is the CLI test
 * tests/cli/layers_match_windows.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wfp_catalog.h"

static void assert_guid(const wfp_guid *g, const char *expected)
{
    char buf[WFP_GUID_STRLEN];

    wfp_guid_format(g, buf);
    assert_string_equal(buf, expected);
}

static const wfp_layer_info *layer(const char *name)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_name(name);

    assert_non_null(l);
    return l;
}

static const wfp_condition_info *condition(const char *name)
{
    const wfp_condition_info *c = wfp_catalog_condition_by_name(name);

    assert_non_null(c);
    return c;
}

static int field_index_of(const char *layer_name, const char *condition_name)
{
    return wfp_catalog_field_index(layer(layer_name), &condition(condition_name)->key);
}

/* ---- layers ----------------------------------------------------------- */

/* EVIDENCE: CAT-LAYER-IDS — FWPS_BUILTIN_LAYERS of WDK 22621 run 0..98
 * (FWPS_LAYER_MAX = 99) and the dumped Windows reports the same 99 layers
 * (spec 1.6.1). */
static void test_layer_ids_contiguous(void **state)
{
    (void)state;
    assert_int_equal(wfp_catalog_layer_count(), 99);
    for (uint16_t id = 0; id < 99; id++) {
        const wfp_layer_info *l = wfp_catalog_layer_by_id(id);

        assert_non_null(l);
        assert_int_equal(l->id, id);
        assert_ptr_equal(wfp_catalog_layer_by_key(&l->key), l);
        assert_ptr_equal(wfp_catalog_layer_by_name(l->name), l);
    }
    assert_null(wfp_catalog_layer_by_id(99));
    assert_null(wfp_catalog_layer_by_id(UINT16_MAX));
}

/* EVIDENCE: CAT-LAYER-GUID — layer keys are the DEFINE_GUID bytes of the
 * SDK/WDK headers (spec 1.6.1; INBOUND_MAC_FRAME_ETHERNET uses the bytes,
 * not the disagreeing header comment, spec 11.6). */
static void test_layer_guids(void **state)
{
    (void)state;
    assert_guid(&layer("FWPM_LAYER_INBOUND_IPPACKET_V4")->key, "{c86fd1bf-21cd-497e-a0bb-17425c885c58}");
    assert_int_equal(layer("FWPM_LAYER_INBOUND_IPPACKET_V4")->id, 0);
    assert_guid(&layer("FWPM_LAYER_ALE_AUTH_CONNECT_V4")->key, "{c38d57d1-05a7-4c33-904f-7fbceee60e82}");
    assert_int_equal(layer("FWPM_LAYER_ALE_AUTH_CONNECT_V4")->id, 48);
    assert_guid(&layer("FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V6")->key, "{a3b42c97-9f04-4672-b87e-cee9c483257f}");
    assert_int_equal(layer("FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V6")->id, 46);
    assert_guid(&layer("FWPM_LAYER_INBOUND_MAC_FRAME_ETHERNET")->key, "{effb7edb-0055-4f9a-a231-4ff8131ad191}");
    assert_guid(&layer("FWPM_LAYER_KM_AUTHORIZATION")->key, "{4aa226e9-9020-45fb-956a-c0249d841195}");
    assert_int_equal(layer("FWPM_LAYER_KM_AUTHORIZATION")->id, 98);
    assert_string_equal(layer("FWPM_LAYER_ALE_AUTH_CONNECT_V4")->display_name, "ALE Connect v4 Layer");
}

/* EVIDENCE: CAT-RESERVED-LAYERS — ids 83 and 84 (RESERVED_LAYER_9/10) have no
 * FWPM name in the headers (spec 1.6.1); Windows lists them by GUID only,
 * so that GUID is also their name. */
static void test_reserved_layers_named_by_guid(void **state)
{
    const wfp_layer_info *l83 = wfp_catalog_layer_by_id(83);
    const wfp_layer_info *l84 = wfp_catalog_layer_by_id(84);

    (void)state;
    assert_string_equal(l83->name, "{29243af8-ecaf-4436-a44e-f9fb7070aa04}");
    assert_guid(&l83->key, "{29243af8-ecaf-4436-a44e-f9fb7070aa04}");
    assert_string_equal(l84->name, "{c9809347-218f-4b7f-a742-b281a3f631b4}");
    assert_ptr_equal(layer("{29243AF8-ECAF-4436-A44E-F9FB7070AA04}"), l83);
    assert_ptr_equal(layer("c9809347-218f-4b7f-a742-b281a3f631b4"), l84);
}

/* EVIDENCE: CAT-LAYER-MODE — layers below FWPS_BUILTIN_KM_LAYER_MAX
 * (= IPSEC_KM_DEMUX_V4, id 87) are classified in the kernel; IPSEC_KM_DEMUX,
 * IPSEC, IKEEXT, RPC_* and KM_AUTHORIZATION are user mode (spec 1.6). */
static void test_kernel_and_user_layers(void **state)
{
    (void)state;
    assert_int_equal(layer("IPSEC_KM_DEMUX_V4")->id, 87);
    for (uint16_t id = 0; id < 99; id++) {
        const wfp_layer_info *l = wfp_catalog_layer_by_id(id);

        assert_true((l->flags & FWPM_LAYER_FLAG_BUILTIN) != 0);
        if (id < 87)
            assert_true((l->flags & FWPM_LAYER_FLAG_KERNEL) != 0);
        else
            assert_true((l->flags & FWPM_LAYER_FLAG_KERNEL) == 0);
    }
}

/* EVIDENCE: CAT-DEFAULT-SUBLAYER — a filter added without a sublayer goes to
 * the layer's defaultSubLayerKey, FWPM_SUBLAYER_UNIVERSAL for every built-in
 * layer (spec 1.5, [Inferred] there; the dumped Windows confirms it). */
static void test_default_sublayer_is_universal(void **state)
{
    const wfp_builtin_sublayer *u = wfp_catalog_sublayer_by_name("UNIVERSAL");

    (void)state;
    assert_non_null(u);
    for (uint16_t id = 0; id < 99; id++)
        assert_true(wfp_guid_eq(&wfp_catalog_layer_by_id(id)->default_sublayer, &u->key));
}

/* EVIDENCE: CAT-DISCARD-SCHEMA — every _DISCARD layer shares the field schema
 * of its base layer (spec 1.6). One exception is what Windows itself reports
 * and the catalogue keeps: on the dumped build ALE_AUTH_RECV_ACCEPT_V6_DISCARD
 * lists 36 fields, its base's first 35 followed by ALE_PACKAGE_FAMILY_NAME
 * (the base has RESERVED0..3 before it). */
static void test_discard_layers_share_base_schema(void **state)
{
    size_t discards = 0;

    (void)state;
    for (uint16_t id = 0; id < 99; id++) {
        const wfp_layer_info *l = wfp_catalog_layer_by_id(id);
        size_t len = strlen(l->name);
        bool is_discard = len > 8 && strcmp(l->name + len - 8, "_DISCARD") == 0;

        if (!is_discard) {
            assert_int_equal(l->base_layer_id, -1);
            continue;
        }
        discards++;
        assert_true(l->base_layer_id >= 0);
        const wfp_layer_info *base = wfp_catalog_layer_by_id((uint16_t)l->base_layer_id);
        assert_non_null(base);
        assert_int_equal(strlen(base->name), len - 8);
        assert_memory_equal(base->name, l->name, len - 8);
        assert_true(l->id == base->id + 1); /* each discard layer follows its base */
        if (strcmp(l->name, "FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V6_DISCARD") == 0) {
            assert_int_equal(l->num_fields, 36);
            assert_int_equal(base->num_fields, 40);
            for (uint16_t i = 0; i < 35; i++) {
                assert_ptr_equal(l->fields[i].condition, base->fields[i].condition);
                assert_int_equal(l->fields[i].data_type, base->fields[i].data_type);
            }
            assert_string_equal(l->fields[35].condition->name, "FWPM_CONDITION_ALE_PACKAGE_FAMILY_NAME");
            assert_string_equal(base->fields[39].condition->name, "FWPM_CONDITION_ALE_PACKAGE_FAMILY_NAME");
            continue;
        }
        assert_int_equal(l->num_fields, base->num_fields);
        for (uint16_t i = 0; i < l->num_fields; i++) {
            assert_ptr_equal(l->fields[i].condition, base->fields[i].condition);
            assert_int_equal(l->fields[i].field_type, base->fields[i].field_type);
            assert_int_equal(l->fields[i].data_type, base->fields[i].data_type);
        }
    }
    assert_int_equal(discards, 28); /* 14 base layers, v4 and v6 */
}

/* EVIDENCE: CAT-FWPS-ORDER — a layer's fields are in FWPS_FIELDS_<LAYER>
 * index order, the order of the incoming-value array (spec 1.6.3), with the
 * documented name mappings: PROFILE_ID -> CURRENT_PROFILE_ID, NAP_CONTEXT ->
 * ALE_NAP_CONTEXT, RPC LOCAL_ADDR_V4 -> IP_LOCAL_ADDRESS_V4. */
static void test_fields_in_fwps_order(void **state)
{
    (void)state;
    assert_int_equal(field_index_of("ALE_AUTH_CONNECT_V4", "ALE_APP_ID"), 0);
    assert_int_equal(field_index_of("ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT"), 7);
    assert_int_equal(field_index_of("ALE_AUTH_CONNECT_V4", "COMPARTMENT_ID"), 36);
    assert_int_equal(field_index_of("OUTBOUND_TRANSPORT_V4", "IP_PROTOCOL"), 0);
    assert_int_equal(field_index_of("OUTBOUND_TRANSPORT_V4", "CURRENT_PROFILE_ID"), 13);
    assert_int_equal(field_index_of("ALE_AUTH_RECV_ACCEPT_V4", "ALE_NAP_CONTEXT"), 13);
    assert_int_equal(field_index_of("RPC_UM", "IP_LOCAL_ADDRESS_V4"), 11);
    assert_int_equal(field_index_of("INBOUND_IPPACKET_V4", "FLAGS"), 6);
    assert_int_equal(layer("INBOUND_IPPACKET_V4")->fields[0].field_type, FWPM_FIELD_IP_ADDRESS);
    assert_int_equal(layer("INBOUND_IPPACKET_V4")->fields[0].data_type, FWP_UINT32);
    assert_int_equal(layer("INBOUND_IPPACKET_V6")->fields[0].data_type, FWP_BYTE_ARRAY16_TYPE);
    assert_int_equal(layer("INBOUND_IPPACKET_V4")->fields[6].field_type, FWPM_FIELD_FLAGS);
    /* INBOUND_TRANSPORT_FAST and friends carry no fields at all */
    assert_int_equal(layer("INBOUND_TRANSPORT_FAST")->num_fields, 0);
    assert_int_equal(field_index_of("INBOUND_TRANSPORT_FAST", "IP_PROTOCOL"), -1);
}

/* Every field of every layer is a canonical condition with a real key, and
 * no layer lists the same GUID twice, so field_index is unambiguous. */
static void test_fields_are_canonical_and_unique(void **state)
{
    wfp_guid null_guid;

    (void)state;
    memset(&null_guid, 0, sizeof null_guid);
    for (uint16_t id = 0; id < 99; id++) {
        const wfp_layer_info *l = wfp_catalog_layer_by_id(id);

        for (uint16_t i = 0; i < l->num_fields; i++) {
            const wfp_condition_info *c = l->fields[i].condition;

            assert_non_null(c);
            assert_false(wfp_guid_is_null(&c->key));
            assert_ptr_equal(wfp_catalog_condition_by_key(&c->key), c);
            assert_int_equal(wfp_catalog_field_index(l, &c->key), i);
        }
        assert_int_equal(wfp_catalog_field_index(l, &null_guid), -1);
    }
    assert_int_equal(wfp_catalog_field_index(NULL, &null_guid), -1);
    assert_int_equal(wfp_catalog_field_index(layer("STREAM_V4"), NULL), -1);
}

/* ---- conditions ------------------------------------------------------- */

/* EVIDENCE: CAT-CONDITION-GUID — condition keys are the header GUIDs (spec
 * 1.9.1; MAC_LOCAL_ADDRESS uses the DEFINE_GUID bytes, spec 11.6). RPC_OPNUM
 * is not in the spec: d58efb76-… is DEFINE_GUID(FWPM_CONDITION_RPC_OPNUM) in
 * the Windows SDK fwpmu.h, documented as FWP_UINT16 on learn.microsoft.com
 * "Filtering condition identifiers". */
static void test_condition_guids(void **state)
{
    (void)state;
    assert_guid(&condition("FWPM_CONDITION_IP_LOCAL_PORT")->key, "{0c1ba1af-5765-453f-af22-a8f791ac775b}");
    assert_guid(&condition("FWPM_CONDITION_IP_REMOTE_ADDRESS")->key, "{b235ae9a-1d64-49b8-a44c-5ff3d9095045}");
    assert_guid(&condition("FWPM_CONDITION_ALE_APP_ID")->key, "{d78e1e87-8644-4ea5-9437-d809ecefc971}");
    assert_guid(&condition("FWPM_CONDITION_MAC_LOCAL_ADDRESS")->key, "{d999e981-7948-4c83-b742-c84e3b678f8f}");
    assert_guid(&condition("FWPM_CONDITION_NET_EVENT_TYPE")->key, "{206e9996-490e-40cf-b831-b38641eb6fcb}");
    assert_guid(&condition("FWPM_CONDITION_RPC_OPNUM")->key, "{d58efb76-aab7-4148-a87e-9581134129b9}");
    assert_int_equal(field_index_of("RPC_UM", "RPC_OPNUM"), 17);
    assert_int_equal(layer("RPC_UM")->fields[17].data_type, FWP_UINT16);
}

/* EVIDENCE: CAT-CONDITION-ALIAS — ICMP_TYPE/ICMP_CODE are #defines of
 * IP_LOCAL_PORT/IP_REMOTE_PORT (and eight more pairs share a GUID), so "ICMP
 * type == 8" and "local port == 8" are the same condition (spec 1.9.3). */
static void test_condition_aliases(void **state)
{
    static const char *const pairs[][2] = {
        { "INTERFACE", "IP_LOCAL_INTERFACE" },
        { "ICMP_TYPE", "IP_LOCAL_PORT" },
        { "ICMP_CODE", "IP_REMOTE_PORT" },
        { "VSWITCH_ICMP_TYPE", "IP_SOURCE_PORT" },
        { "VSWITCH_ICMP_CODE", "IP_DESTINATION_PORT" },
        { "LOCAL_INTERFACE_TYPE", "INTERFACE_TYPE" },
        { "LOCAL_TUNNEL_TYPE", "TUNNEL_TYPE" },
        { "LOCAL_INTERFACE_INDEX", "INTERFACE_INDEX" },
        { "ARRIVAL_SUB_INTERFACE_INDEX", "SUB_INTERFACE_INDEX" },
        { "ALE_SIO_FIREWALL_SOCKET_PROPERTY", "ALE_SIO_FIREWALL_SYSTEM_PORT" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const wfp_condition_info *alias = condition(pairs[i][0]);
        const wfp_condition_info *canon = condition(pairs[i][1]);

        assert_ptr_not_equal(alias, canon);
        assert_true(wfp_guid_eq(&alias->key, &canon->key));
        /* by key: always the canonical entry */
        assert_ptr_equal(wfp_catalog_condition_by_key(&alias->key), canon);
    }
    assert_string_equal(condition("icmp_type")->name, "FWPM_CONDITION_ICMP_TYPE");

    int port = field_index_of("OUTBOUND_TRANSPORT_V4", "IP_LOCAL_PORT");
    assert_int_equal(port, 4);
    assert_int_equal(field_index_of("OUTBOUND_TRANSPORT_V4", "ICMP_TYPE"), port);
    assert_int_equal(field_index_of("OUTBOUND_TRANSPORT_V4", "ICMP_CODE"),
                     field_index_of("OUTBOUND_TRANSPORT_V4", "IP_REMOTE_PORT"));
    /* spec 1.6.3 names INBOUND_ICMP_ERROR_V4 field 8 ICMP_TYPE */
    assert_int_equal(field_index_of("INBOUND_ICMP_ERROR_V4", "ICMP_TYPE"), 8);
    assert_int_equal(field_index_of("INGRESS_VSWITCH_TRANSPORT_V4", "VSWITCH_ICMP_TYPE"),
                     field_index_of("INGRESS_VSWITCH_TRANSPORT_V4", "IP_SOURCE_PORT"));
    assert_int_equal(field_index_of("ALE_AUTH_LISTEN_V4", "ALE_SIO_FIREWALL_SOCKET_PROPERTY"),
                     field_index_of("ALE_AUTH_LISTEN_V4", "ALE_SIO_FIREWALL_SYSTEM_PORT"));
}

/* The condition list holds every canonical condition once (distinct keys),
 * then the aliases; net-event-only fields are included. */
static void test_condition_list(void **state)
{
    size_t n = wfp_catalog_condition_count();
    size_t canonical = 0;

    (void)state;
    assert_int_equal(n, 148); /* 136 from spec 1.9.1, RPC_OPNUM, ALE_PACKAGE_FAMILY_NAME, 10 aliases */
    for (size_t i = 0; i < n; i++) {
        const wfp_condition_info *c = wfp_catalog_condition_at(i);

        assert_non_null(c);
        assert_memory_equal(c->name, "FWPM_CONDITION_", 15);
        assert_ptr_equal(wfp_catalog_condition_by_name(c->name), c);
        if (wfp_catalog_condition_by_key(&c->key) == c) canonical++;
    }
    assert_int_equal(canonical, n - 10); /* ten aliases */
    assert_null(wfp_catalog_condition_at(n));
    assert_non_null(wfp_catalog_condition_by_name("NET_EVENT_TYPE"));
    assert_non_null(wfp_catalog_condition_by_name("IP_NEXTHOP_ADDRESS")); /* in no layer */
}

/* ---- sublayers, providers, callouts ----------------------------------- */

/* EVIDENCE: CAT-SUBLAYER-INSPECTION-LOWEST — FWPM_SUBLAYER_INSPECTION is
 * documented as the lowest-weighted built-in sublayer (spec 1.5, 11.2); the
 * dumped BFE reports weight 0 for it and higher weights for all others. */
static void test_inspection_sublayer_lowest(void **state)
{
    const wfp_builtin_sublayer *insp = wfp_catalog_sublayer_by_name("FWPM_SUBLAYER_INSPECTION");

    (void)state;
    assert_non_null(insp);
    assert_guid(&insp->key, "{877519e1-e6a9-41a5-81b4-8c4f118e4a60}");
    assert_int_equal(wfp_catalog_sublayer_count(), 18);
    for (size_t i = 0; i < wfp_catalog_sublayer_count(); i++) {
        const wfp_builtin_sublayer *s = wfp_catalog_sublayer_at(i);

        if (s != insp) assert_true(s->weight > insp->weight);
    }
    assert_null(wfp_catalog_sublayer_at(wfp_catalog_sublayer_count()));
}

/* EVIDENCE: CAT-SUBLAYER-WEIGHTS — built-in sublayer weights are not
 * documented (spec 11.2); these are the values a real BFE reports. Callout
 * drivers are told to use a sublayer below UNIVERSAL (spec 1.5). */
static void test_builtin_sublayer_weights(void **state)
{
    (void)state;
    assert_int_equal(wfp_catalog_sublayer_by_name("UNIVERSAL")->weight, 0x8000);
    assert_int_equal(wfp_catalog_sublayer_by_name("RPC_AUDIT")->weight, 0xc000);
    assert_int_equal(wfp_catalog_sublayer_by_name("LIPS")->weight, 0x7fff);
    assert_int_equal(wfp_catalog_sublayer_by_name("MPSSVC_WF")->weight, 2);
    assert_guid(&wfp_catalog_sublayer_by_name("UNIVERSAL")->key, "{eebecc03-ced4-4380-819a-2734397b2b74}");
    /* distinct weights: BFE keeps sublayer weights unique (spec 1.5) */
    for (size_t i = 0; i < wfp_catalog_sublayer_count(); i++)
        for (size_t k = i + 1; k < wfp_catalog_sublayer_count(); k++)
            assert_int_not_equal(wfp_catalog_sublayer_at(i)->weight, wfp_catalog_sublayer_at(k)->weight);
}

/* EVIDENCE: CAT-SUBLAYER-ALIAS — FWPM_SUBLAYER_EDGE_TRAVERSAL is a #define
 * of FWPM_SUBLAYER_TEREDO (spec 1.9.3). */
static void test_sublayer_alias(void **state)
{
    (void)state;
    assert_ptr_equal(wfp_catalog_sublayer_by_name("FWPM_SUBLAYER_EDGE_TRAVERSAL"),
                     wfp_catalog_sublayer_by_name("FWPM_SUBLAYER_TEREDO"));
    assert_ptr_equal(wfp_catalog_sublayer_by_name("{ba69dc66-5176-4979-9c89-26a7b46a8327}"),
                     wfp_catalog_sublayer_by_name("teredo"));
}

/* EVIDENCE: CAT-PROVIDER-GUID — built-in provider keys are the header bytes,
 * IPSEC_DOSP_CONFIG = 3c6c05a9-… where the W32 page says 3c6c0519-…
 * (spec 11.3, 11.6). */
static void test_providers(void **state)
{
    bool dosp = false;

    (void)state;
    assert_int_equal(wfp_catalog_provider_count(), 9);
    for (size_t i = 0; i < wfp_catalog_provider_count(); i++) {
        const wfp_builtin_provider *p = wfp_catalog_provider_at(i);

        if (strcmp(p->name, "FWPM_PROVIDER_IPSEC_DOSP_CONFIG") == 0) {
            assert_guid(&p->key, "{3c6c05a9-c05c-4bb9-8338-2327814ce8bf}");
            dosp = true;
        }
    }
    assert_true(dosp);
    assert_null(wfp_catalog_provider_at(wfp_catalog_provider_count()));
}

/* EVIDENCE: CAT-CALLOUT-LAYER — the stealth-mode SILENT_DROP callouts apply
 * at INBOUND_TRANSPORT_V{4,6}_DISCARD and the IPsec ALE connect callouts at
 * ALE_AUTH_CONNECT (spec 11.4, 11.7); TEREDO/EDGE_TRAVERSAL V6 names are one
 * callout (spec 1.9.3). */
static void test_callouts(void **state)
{
    const wfp_builtin_callout *c;

    (void)state;
    c = wfp_catalog_callout_by_name("FWPM_CALLOUT_WFP_TRANSPORT_LAYER_V4_SILENT_DROP");
    assert_non_null(c);
    assert_guid(&c->key, "{eda08606-2494-4d78-89bc-67837c03b969}");
    assert_int_equal(c->layer_id, layer("INBOUND_TRANSPORT_V4_DISCARD")->id);
    c = wfp_catalog_callout_by_name("wfp_transport_layer_v6_silent_drop");
    assert_non_null(c);
    assert_int_equal(c->layer_id, layer("INBOUND_TRANSPORT_V6_DISCARD")->id);
    assert_int_equal(wfp_catalog_callout_by_name("IPSEC_ALE_CONNECT_V6")->layer_id,
                     layer("ALE_AUTH_CONNECT_V6")->id);
    assert_ptr_equal(wfp_catalog_callout_by_name("EDGE_TRAVERSAL_ALE_LISTEN_V6"),
                     wfp_catalog_callout_by_name("TEREDO_ALE_LISTEN_V6"));
    assert_ptr_equal(wfp_catalog_callout_by_name("{eda08606-2494-4d78-89bc-67837c03b969}"),
                     wfp_catalog_callout_by_name("WFP_TRANSPORT_LAYER_V4_SILENT_DROP"));
    for (size_t i = 0; i < wfp_catalog_callout_count(); i++) {
        c = wfp_catalog_callout_at(i);
        assert_non_null(wfp_catalog_layer_by_id(c->layer_id));
        assert_ptr_equal(wfp_catalog_callout_by_name(c->name), c);
    }
    assert_null(wfp_catalog_callout_at(wfp_catalog_callout_count()));
}

/* ---- name forms ------------------------------------------------------- */

static void test_name_forms(void **state)
{
    const wfp_layer_info *l = layer("FWPM_LAYER_ALE_AUTH_CONNECT_V4");
    const wfp_condition_info *c = condition("FWPM_CONDITION_IP_REMOTE_PORT");

    (void)state;
    assert_ptr_equal(layer("ALE_AUTH_CONNECT_V4"), l);
    assert_ptr_equal(layer("ale_auth_connect_v4"), l);
    assert_ptr_equal(layer("fwpm_layer_Ale_Auth_Connect_V4"), l);
    assert_ptr_equal(layer("{c38d57d1-05a7-4c33-904f-7fbceee60e82}"), l);
    assert_ptr_equal(layer("{C38D57D1-05A7-4C33-904F-7FBCEEE60E82}"), l);
    assert_ptr_equal(layer("c38d57d1-05a7-4c33-904f-7fbceee60e82"), l);

    assert_ptr_equal(condition("IP_REMOTE_PORT"), c);
    assert_ptr_equal(condition("ip_remote_port"), c);
    assert_ptr_equal(condition("Fwpm_Condition_IP_Remote_Port"), c);
    assert_ptr_equal(condition("{c35a604d-d22b-4e1a-91b4-68f674ee674b}"), c);

    assert_non_null(wfp_catalog_sublayer_by_name("fwpm_sublayer_universal"));
    assert_non_null(wfp_catalog_callout_by_name("fwpm_callout_ipsec_inbound_transport_v4"));
}

static void test_unknown_names(void **state)
{
    (void)state;
    assert_null(wfp_catalog_layer_by_name(NULL));
    assert_null(wfp_catalog_layer_by_name(""));
    assert_null(wfp_catalog_layer_by_name("FWPM_LAYER_"));
    assert_null(wfp_catalog_layer_by_name("NO_SUCH_LAYER"));
    assert_null(wfp_catalog_layer_by_name("ALE_AUTH_CONNECT_V4X"));
    assert_null(wfp_catalog_layer_by_name("ALE_AUTH_CONNECT"));
    assert_null(wfp_catalog_layer_by_name("FWPM_CONDITION_ALE_AUTH_CONNECT_V4")); /* wrong prefix */
    assert_null(wfp_catalog_layer_by_name("{00000000-0000-0000-0000-000000000000}"));
    assert_null(wfp_catalog_layer_by_name("IP_LOCAL_PORT")); /* a condition, not a layer */
    assert_null(wfp_catalog_layer_by_key(NULL));
    assert_null(wfp_catalog_condition_by_name(NULL));
    assert_null(wfp_catalog_condition_by_name("NO_SUCH_FIELD"));
    assert_null(wfp_catalog_condition_by_name("SCOPE_ID")); /* no public GUID exists */
    assert_null(wfp_catalog_condition_by_name("{c38d57d1-05a7-4c33-904f-7fbceee60e82}")); /* a layer key */
    assert_null(wfp_catalog_condition_by_key(NULL));
    assert_null(wfp_catalog_sublayer_by_name(NULL));
    assert_null(wfp_catalog_sublayer_by_name("NO_SUCH_SUBLAYER"));
    assert_null(wfp_catalog_sublayer_by_name("{00000000-0000-0000-0000-000000000001}"));
    assert_null(wfp_catalog_callout_by_name(NULL));
    assert_null(wfp_catalog_callout_by_name("NO_SUCH_CALLOUT"));
    assert_null(wfp_catalog_callout_by_name("{00000000-0000-0000-0000-000000000001}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_ids_contiguous),
        cmocka_unit_test(test_layer_guids),
        cmocka_unit_test(test_reserved_layers_named_by_guid),
        cmocka_unit_test(test_kernel_and_user_layers),
        cmocka_unit_test(test_default_sublayer_is_universal),
        cmocka_unit_test(test_discard_layers_share_base_schema),
        cmocka_unit_test(test_fields_in_fwps_order),
        cmocka_unit_test(test_fields_are_canonical_and_unique),
        cmocka_unit_test(test_condition_guids),
        cmocka_unit_test(test_condition_aliases),
        cmocka_unit_test(test_condition_list),
        cmocka_unit_test(test_inspection_sublayer_lowest),
        cmocka_unit_test(test_builtin_sublayer_weights),
        cmocka_unit_test(test_sublayer_alias),
        cmocka_unit_test(test_providers),
        cmocka_unit_test(test_callouts),
        cmocka_unit_test(test_name_forms),
        cmocka_unit_test(test_unknown_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
