/* test_arbitration.c — the reference classifier against the documented
 * arbitration rules (W32 filter-arbitration, SDK FWPS_CLASSIFY_OUT0 and
 * FWPS_ACTION0, DDI FwpsCalloutRegister0). Case numbers are those of the
 * spec's conformance list (§12.1). */
#include "engine_fixture.h"

#define L_CONNECT "ALE_AUTH_CONNECT_V4"
#define L_ACCEPT "ALE_AUTH_RECV_ACCEPT_V4"
#define L_TRANSPORT "INBOUND_TRANSPORT_V4"

/* EVIDENCE: C01 — fwptypes.idl FWP_ACTION_NONE_NO_MATCH; spec §4.8 (inferred permit) */
static void no_filters_is_none_no_match_and_permits(void **state)
{
    fx *f = *state;
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_NONE_NO_MATCH);
    assert_true(v->permitted);
    assert_int_equal(v->reason, WFP_REASON_NO_MATCH);
    assert_int_equal(v->filter_id, 0);
}

/* EVIDENCE: C02 — SDK FwpmFilterAdd0 example "block all inbound connections" */
static void zero_condition_block_matches_everything(void **state)
{
    fx *f = *state;
    uint64_t id = fx_filter(f, "block-all", L_ACCEPT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_ACCEPT);
    fx_set_u(f, "IP_LOCAL_PORT", 80);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_false(v->permitted);
    assert_true(v->hard);
    assert_int_equal(v->filter_id, id);
    assert_int_equal(v->layer_id, 44); /* FWPS_LAYER_ALE_AUTH_RECV_ACCEPT_V4 */
}

/* EVIDENCE: C03 — W32 filter-arbitration "Within a sub-layer" */
static void same_sublayer_higher_weight_wins(void **state)
{
    fx *f = *state;
    wfp_guid s = fx_sublayer(f, "S", 0x100);
    fx_filter(f, "F1", L_CONNECT, &s, 10 + 16, FWP_ACTION_PERMIT, 0);
    uint64_t f2 = fx_filter(f, "F2", L_CONNECT, &s, 20 + 16, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, f2);
    /* F1 was never evaluated: the trace holds F2 only. */
    assert_int_equal(wfp_trace_step_count(f->trace), 1);
    assert_int_equal(wfp_trace_step_at(f->trace, 0)->filter_id, f2);
}

static void same_sublayer_swapped_weights_permit(void **state)
{
    fx *f = *state;
    wfp_guid s = fx_sublayer(f, "S", 0x100);
    uint64_t f1 = fx_filter(f, "F1", L_CONNECT, &s, 20 + 16, FWP_ACTION_PERMIT, 0);
    fx_filter(f, "F2", L_CONNECT, &s, 10 + 16, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_false(v->hard); /* a static permit is soft */
    assert_int_equal(v->filter_id, f1);
}

/* EVIDENCE: C04 — W32 filter-arbitration: only a higher-weight filter in the same sublayer hides a filter */
static void terminating_filter_hides_only_its_own_sublayer(void **state)
{
    fx *f = *state;
    wfp_guid hi = fx_sublayer(f, "S200", 0x200), lo = fx_sublayer(f, "S100", 0x100);
    wfp_condition port80 = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 80);
    fx_filter_ex(f, "F1", L_CONNECT, &hi, 36, FWP_ACTION_PERMIT, NULL, 0, &port80, 1, NULL);
    fx_filter(f, "F2", L_CONNECT, &hi, 26, FWP_ACTION_BLOCK, 0);
    uint64_t f3 = fx_filter_ex(f, "F3", L_CONNECT, &lo, 26, FWP_ACTION_BLOCK, NULL, 0, &port80, 1, NULL);
    fx_values(f, L_CONNECT);
    fx_set_u(f, "IP_REMOTE_PORT", 80);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, f3);
    /* both sublayers decided; the higher one permitted (soft) and was overridden */
    assert_int_equal(wfp_trace_sublayer_count(f->trace), 2);
    assert_int_equal(wfp_trace_sublayer_at(f->trace, 0)->action, FWP_ACTION_PERMIT);
    assert_int_equal(wfp_trace_sublayer_at(f->trace, 1)->action, FWP_ACTION_BLOCK);
}

/* EVIDENCE: C05 — W32 filter-arbitration table: soft permit can be blocked in another sublayer */
static void soft_permit_overridden_by_lower_block(void **state)
{
    fx *f = *state;
    wfp_guid s2 = fx_sublayer(f, "S2", 0x1100), s1 = fx_sublayer(f, "S1", 0x1000);
    fx_filter(f, "permit", L_CONNECT, &s2, FX_AUTO, FWP_ACTION_PERMIT, 0);
    uint64_t b = fx_filter(f, "block", L_CONNECT, &s1, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, b);
    assert_int_equal(wfp_trace_sublayer_at(f->trace, 1)->effect, WFP_EFFECT_APPLIED);
}

/* EVIDENCE: C06 — W32 filter-arbitration: a hard permit is overridden only by a callout veto */
static void hard_permit_survives_static_block(void **state)
{
    fx *f = *state;
    wfp_guid s2 = fx_sublayer(f, "S2", 0x1100), s1 = fx_sublayer(f, "S1", 0x1000);
    uint64_t p = fx_filter(f, "permit", L_CONNECT, &s2, FX_AUTO, FWP_ACTION_PERMIT,
                           FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT);
    fx_filter(f, "block", L_CONNECT, &s1, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_true(v->hard);
    assert_false(v->vetoed);
    assert_int_equal(v->filter_id, p);
    assert_int_equal(wfp_trace_sublayer_at(f->trace, 1)->effect, WFP_EFFECT_IGNORED);
}

/* EVIDENCE: C07 — W32 filter-arbitration "Veto"; SDK FWPS_CLASSIFY_OUT0 rights */
static void callout_block_vetoes_hard_permit(void **state)
{
    fx *f = *state;
    wfp_guid s2 = fx_sublayer(f, "S2", 0x1100), s1 = fx_sublayer(f, "S1", 0x1000);
    wfp_guid c = fx_callout(f, "vetoer", L_CONNECT);
    fx_script script = {FWP_ACTION_BLOCK, true, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    fx_filter(f, "vpn-permit", L_CONNECT, &s2, FX_AUTO, FWP_ACTION_PERMIT, FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT);
    uint64_t cf = fx_callout_filter(f, "veto", L_CONNECT, &s1, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(script.calls, 1);
    /* the callout saw the hard permit: action PERMIT, write right clear */
    assert_int_equal(script.seen_action, FWP_ACTION_PERMIT);
    assert_int_equal(script.seen_rights & FWPS_RIGHT_ACTION_WRITE, 0);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_true(v->vetoed);
    assert_int_equal(v->reason, WFP_REASON_CALLOUT_VETO);
    assert_int_equal(v->filter_id, cf);
    assert_int_equal(wfp_trace_sublayer_at(f->trace, 1)->effect, WFP_EFFECT_VETO);
}

/* EVIDENCE: C08 — W32 filter-arbitration: a hard block is final, lower sublayers still run */
static void hard_block_is_final_but_lower_sublayers_run(void **state)
{
    fx *f = *state;
    wfp_guid s2 = fx_sublayer(f, "S2", 0x1100), s1 = fx_sublayer(f, "S1", 0x1000);
    wfp_guid c = fx_callout(f, "recorder", L_CONNECT);
    fx_script script = {FWP_ACTION_PERMIT, true, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    uint64_t b = fx_filter(f, "block", L_CONNECT, &s2, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_callout_filter(f, "permit-callout", L_CONNECT, &s1, FX_AUTO, FWP_ACTION_CALLOUT_UNKNOWN, &c, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(script.calls, 1); /* evaluated... */
    assert_int_equal(v->action, FWP_ACTION_BLOCK); /* ...and ignored */
    assert_int_equal(v->filter_id, b);
    assert_false(v->vetoed);
}

/* EVIDENCE: C09 — W32 filter-arbitration table: a callout block without clearing the right is soft */
static void soft_callout_block_overridden_by_lower_permit(void **state)
{
    fx *f = *state;
    wfp_guid s2 = fx_sublayer(f, "S2", 0x1100), s1 = fx_sublayer(f, "S1", 0x1000);
    wfp_guid c = fx_callout(f, "softblock", L_CONNECT);
    fx_script script = {FWP_ACTION_BLOCK, false, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    fx_callout_filter(f, "soft-block", L_CONNECT, &s2, FX_AUTO, FWP_ACTION_CALLOUT_UNKNOWN, &c, 0);
    uint64_t p = fx_filter(f, "permit", L_CONNECT, &s1, FX_AUTO, FWP_ACTION_PERMIT, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(v->filter_id, p);
}

/* EVIDENCE: C10 — SDK FWPS_ACTION0: inspection results other than CONTINUE are CONTINUE */
static void inspection_callout_block_is_continue(void **state)
{
    fx *f = *state;
    wfp_guid s = fx_sublayer(f, "S", 0x1000);
    wfp_guid c = fx_callout(f, "ids", L_CONNECT);
    fx_script script = {FWP_ACTION_BLOCK, true, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    fx_callout_filter(f, "inspect", L_CONNECT, &s, 36, FWP_ACTION_CALLOUT_INSPECTION, &c, 0);
    uint64_t p = fx_filter(f, "permit", L_CONNECT, &s, 26, FWP_ACTION_PERMIT, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(script.calls, 1);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(v->filter_id, p);
    assert_false(v->hard); /* the inspection callout's cleared right was undone */
}

/* EVIDENCE: C11 — SDK FWPS_ACTION0: terminating results other than PERMIT/BLOCK are BLOCK */
static void terminating_callout_continue_is_block(void **state)
{
    fx *f = *state;
    wfp_guid c = fx_callout(f, "confused", L_CONNECT);
    fx_script script = {FWP_ACTION_CONTINUE, false, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    uint64_t id = fx_callout_filter(f, "term", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, id);
}

/* EVIDENCE: C12 — SDK FWPS_ACTION0; W32 basic-operation "Continue" */
static void unknown_callout_continue_reaches_next_filter(void **state)
{
    fx *f = *state;
    wfp_guid s = fx_sublayer(f, "S", 0x1000);
    wfp_guid c = fx_callout(f, "cont", L_CONNECT);
    fx_script script = {FWP_ACTION_CONTINUE, false, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    fx_callout_filter(f, "unknown", L_CONNECT, &s, 36, FWP_ACTION_CALLOUT_UNKNOWN, &c, 0);
    uint64_t b = fx_filter(f, "block", L_CONNECT, &s, 26, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, b);

    /* without the block: filters matched, none decided => FWP_ACTION_NONE, permitted */
    assert_int_equal(wfp_filter_delete_by_id(f->s, b), 0);
    v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_NONE);
    assert_int_equal(v->reason, WFP_REASON_NO_DECISION);
    assert_true(v->permitted);
}

/* EVIDENCE: C13 — DDI FwpsCalloutRegister0: an unregistered callout's terminating filter blocks */
static void unregistered_callout_blocks(void **state)
{
    fx *f = *state;
    wfp_guid c = fx_callout(f, "missing-driver", L_CONNECT);
    uint64_t id = fx_callout_filter(f, "term", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->reason, WFP_REASON_UNREGISTERED_CALLOUT_BLOCK);
    assert_int_equal(v->filter_id, id);

    /* registering it brings the callout's own answer; unregistering takes it away */
    fx_script script = {FWP_ACTION_PERMIT, false, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_PERMIT);
    assert_int_equal(wfp_callout_unregister_by_key(f->e, &c), 0);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_BLOCK);
    assert_int_equal(wfp_callout_unregister_by_key(f->e, &c), FWP_E_CALLOUT_NOT_FOUND);
}

/* EVIDENCE: C14 — SDK FWPM_FILTER0 flags: PERMIT_IF_CALLOUT_UNREGISTERED */
static void unregistered_callout_permit_if_flag(void **state)
{
    fx *f = *state;
    wfp_guid c = fx_callout(f, "missing-driver", L_CONNECT);
    uint64_t id = fx_callout_filter(f, "term", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c,
                                    FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED);
    fx_values(f, L_CONNECT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(v->reason, WFP_REASON_UNREGISTERED_CALLOUT_PERMIT);
    assert_int_equal(v->filter_id, id);
}

/* EVIDENCE: C15 — DDI FwpsCalloutRegister0 remarks: unregistered inspection filters are skipped */
static void unregistered_inspection_callout_is_skipped(void **state)
{
    fx *f = *state;
    wfp_guid s = fx_sublayer(f, "S", 0x1000);
    wfp_guid c = fx_callout(f, "ids", L_CONNECT);
    fx_callout_filter(f, "inspect", L_CONNECT, &s, 36, FWP_ACTION_CALLOUT_INSPECTION, &c, 0);
    uint64_t b = fx_filter(f, "block", L_CONNECT, &s, 26, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_CONNECT);
    assert_int_equal(fx_classify(f)->filter_id, b);
    fx_script script = {FWP_ACTION_CONTINUE, false, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, b);
    assert_int_equal(script.calls, 1);
}

/* EVIDENCE: C17 — SDK FWPS_CLASSIFY_OUT0 FWPS_CLASSIFY_OUT_FLAG_ABSORB */
static void absorb_flag_reaches_the_verdict(void **state)
{
    fx *f = *state;
    wfp_guid c = fx_callout(f, "thief", L_TRANSPORT);
    fx_script script = {FWP_ACTION_BLOCK, true, FWPS_CLASSIFY_OUT_FLAG_ABSORB, 0, 0, 0};
    fx_register(f, &c, &script);
    fx_callout_filter(f, "steal", L_TRANSPORT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0);
    fx_values(f, L_TRANSPORT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_true(v->absorb);
}

/* A static filter's decision does not inherit an ABSORB set by a soft
 * callout block it replaces (ABSORB is the callout's to set). */
static void static_decision_drops_absorb(void **state)
{
    fx *f = *state;
    wfp_guid s2 = fx_sublayer(f, "S2", 0x1100), s1 = fx_sublayer(f, "S1", 0x1000);
    wfp_guid c = fx_callout(f, "softthief", L_TRANSPORT);
    fx_script script = {FWP_ACTION_BLOCK, false, FWPS_CLASSIFY_OUT_FLAG_ABSORB, 0, 0, 0};
    fx_register(f, &c, &script);
    fx_callout_filter(f, "soft-steal", L_TRANSPORT, &s2, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0);
    fx_filter(f, "block", L_TRANSPORT, &s1, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_TRANSPORT);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_false(v->absorb);
}

/* EVIDENCE: C18 — W32 filter-arbitration, figure fwp-sub-config2.png (the published example) */
static void published_arbitration_example(void **state)
{
    fx *f = *state;
    static const uint8_t iis[] = "\\\0d\0e\0v\0i\0c\0e\0\\\0i\0i\0s\0.\0e\0x\0e\0"; /* UTF-16LE, NUL-terminated */
    /* INBOUND_TRANSPORT_V4: A `*->PERMIT`; B `*->ids(CONTINUE)`, then `*->PERMIT` */
    wfp_guid a = fx_sublayer(f, "A", 0x1200), b = fx_sublayer(f, "B", 0x1100);
    wfp_guid ids = fx_callout(f, "ids_callout", L_TRANSPORT);
    fx_script ids_script = {FWP_ACTION_CONTINUE, false, 0, 0, 0, 0};
    fx_register(f, &ids, &ids_script);
    fx_filter(f, "A-permit", L_TRANSPORT, &a, FX_AUTO, FWP_ACTION_PERMIT, 0);
    fx_callout_filter(f, "B-ids", L_TRANSPORT, &b, 36, FWP_ACTION_CALLOUT_INSPECTION, &ids, 0);
    fx_filter(f, "B-permit", L_TRANSPORT, &b, 26, FWP_ACTION_PERMIT, 0);
    fx_values(f, L_TRANSPORT);
    fx_set_u(f, "IP_LOCAL_PORT", 80);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(ids_script.calls, 1);

    /* ALE_AUTH_RECV_ACCEPT_V4: FW1 `app == IIS -> PERMIT`; FW2 `port 80 -> BLOCK`; low `* -> log(CONTINUE)` */
    wfp_guid fw1 = fx_sublayer(f, "FW1", 30), fw2 = fx_sublayer(f, "FW2", 20), low = fx_sublayer(f, "LOG", 10);
    wfp_guid log = fx_callout(f, "log_callout", L_ACCEPT);
    fx_script log_script = {FWP_ACTION_CONTINUE, false, 0, 0, 0, 0};
    fx_register(f, &log, &log_script);
    wfp_condition app;
    memset(&app, 0, sizeof app);
    app.field_key = wfp_catalog_condition_by_name("ALE_APP_ID")->key;
    app.match_type = FWP_MATCH_EQUAL;
    app.value.type = FWP_BYTE_BLOB_TYPE;
    app.value.u.value.type = FWP_BYTE_BLOB_TYPE;
    app.value.u.value.v.blob.data = iis;
    app.value.u.value.v.blob.size = sizeof iis;
    wfp_condition port80 = fx_cond_u("IP_LOCAL_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 80);
    uint64_t p = fx_filter_ex(f, "FW1-iis", L_ACCEPT, &fw1, FX_AUTO, FWP_ACTION_PERMIT, NULL, 0, &app, 1, NULL);
    uint64_t blk = fx_filter_ex(f, "FW2-port80", L_ACCEPT, &fw2, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0, &port80, 1, NULL);
    fx_callout_filter(f, "log", L_ACCEPT, &low, FX_AUTO, FWP_ACTION_CALLOUT_INSPECTION, &log, 0);
    fx_values(f, L_ACCEPT);
    fx_set_u(f, "IP_LOCAL_PORT", 80);
    fx_set_blob(f, "ALE_APP_ID", iis, sizeof iis);
    v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, blk);
    assert_int_equal(log_script.calls, 1); /* the log callout still ran after the block */
    assert_int_equal(wfp_trace_sublayer_count(f->trace), 3);
    assert_int_equal(wfp_trace_sublayer_at(f->trace, 0)->filter_id, p);
    assert_int_equal(wfp_trace_sublayer_at(f->trace, 0)->action, FWP_ACTION_PERMIT);
    assert_int_equal(wfp_trace_sublayer_at(f->trace, 2)->action, FWP_ACTION_NONE);
}

/* EVIDENCE: ARB-NO-CROSS-LAYER C42 — W32 filter-arbitration: no arbitration across layers */
static void layers_do_not_arbitrate_with_each_other(void **state)
{
    fx *f = *state;
    fx_filter(f, "hard-permit-connect", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_PERMIT,
              FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT);
    uint64_t b = fx_filter(f, "block-transport", "OUTBOUND_TRANSPORT_V4", NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_values(f, L_CONNECT);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_PERMIT);
    fx_values(f, "OUTBOUND_TRANSPORT_V4");
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, b);
}

/* EVIDENCE: C19 — SDK FWPM_FILTER0: same-field conditions OR'ed, different fields AND'ed */
static void or_within_field_and_across_fields(void **state)
{
    fx *f = *state;
    wfp_condition c[3] = {
        fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 80),
        fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 443),
        fx_cond_u("IP_PROTOCOL", FWP_MATCH_EQUAL, FWP_UINT8, 6),
    };
    uint64_t id = fx_filter_ex(f, "web", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0, c, 3, NULL);
    const wfp_filter *stored = wfp_engine_filter_by_id(f->e, id);
    assert_non_null(stored);
    static const struct { uint16_t port; uint8_t proto; bool blocked; } cases[] = {
        {80, 6, true}, {443, 6, true}, {8080, 6, false}, {80, 17, false}, {443, 17, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_values(f, L_CONNECT);
        fx_set_u(f, "IP_REMOTE_PORT", cases[i].port);
        fx_set_u(f, "IP_PROTOCOL", cases[i].proto);
        assert_int_equal(fx_classify(f)->action == FWP_ACTION_BLOCK, cases[i].blocked);
    }
}

/* EVIDENCE: COND-EMPTY-NO-MATCH — SDK FwpmFilterAdd0 remarks (EMPTY fields do not match typed conditions) */
static void typed_condition_does_not_match_empty_field(void **state)
{
    fx *f = *state;
    wfp_condition c = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_NOT_EQUAL, FWP_UINT16, 80);
    fx_filter_ex(f, "not80", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0, &c, 1, NULL);
    fx_values(f, L_CONNECT); /* IP_REMOTE_PORT stays FWP_EMPTY */
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_NONE_NO_MATCH);
}

/* EVIDENCE: C29 — fwpmu.h aliases: ICMP_TYPE is IP_LOCAL_PORT (same GUID); W32 preventing-port-scanning */
static void icmp_type_alias_is_the_local_port_field(void **state)
{
    fx *f = *state;
    wfp_condition c = fx_cond_u("ICMP_TYPE", FWP_MATCH_EQUAL, FWP_UINT16, 3);
    uint64_t id = fx_filter_ex(f, "no-unreachable", "OUTBOUND_ICMP_ERROR_V4", NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL,
                               0, &c, 1, NULL);
    fx_values(f, "OUTBOUND_ICMP_ERROR_V4");
    fx_set_u(f, "IP_LOCAL_PORT", 3); /* the same field under its other name */
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, id);
    fx_set_u(f, "ICMP_TYPE", 11);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_NONE_NO_MATCH);
}

/* A sublayer's decision ends that sublayer even when it is ignored (spec
 * §4.3 note: "skip the remaining filters"). */
static void ignored_decision_still_ends_its_sublayer(void **state)
{
    fx *f = *state;
    wfp_guid s2 = fx_sublayer(f, "S2", 0x1100), s1 = fx_sublayer(f, "S1", 0x1000);
    wfp_guid c = fx_callout(f, "counter", L_CONNECT);
    fx_script script = {FWP_ACTION_CONTINUE, false, 0, 0, 0, 0};
    fx_register(f, &c, &script);
    fx_filter(f, "hard", L_CONNECT, &s2, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_filter(f, "permit", L_CONNECT, &s1, 40, FWP_ACTION_PERMIT, 0);
    fx_callout_filter(f, "after", L_CONNECT, &s1, 30, FWP_ACTION_CALLOUT_INSPECTION, &c, 0);
    fx_values(f, L_CONNECT);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_BLOCK);
    assert_int_equal(script.calls, 0);
}

/* Wrong number of values is refused, not read past. */
static void classify_checks_value_count(void **state)
{
    fx *f = *state;
    wfp_classify_request r;
    wfp_verdict v;
    memset(&r, 0, sizeof r);
    r.layer_id = fx_layer(L_CONNECT)->id;
    r.values = f->values;
    r.num_values = 3;
    assert_int_equal(wfp_classify(f->e, &r, &v, NULL), FWP_E_INVALID_PARAMETER);
    r.layer_id = 9999;
    assert_int_equal(wfp_classify(f->e, &r, &v, NULL), FWP_E_LAYER_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(no_filters_is_none_no_match_and_permits),
        T(zero_condition_block_matches_everything),
        T(same_sublayer_higher_weight_wins),
        T(same_sublayer_swapped_weights_permit),
        T(terminating_filter_hides_only_its_own_sublayer),
        T(soft_permit_overridden_by_lower_block),
        T(hard_permit_survives_static_block),
        T(callout_block_vetoes_hard_permit),
        T(hard_block_is_final_but_lower_sublayers_run),
        T(soft_callout_block_overridden_by_lower_permit),
        T(inspection_callout_block_is_continue),
        T(terminating_callout_continue_is_block),
        T(unknown_callout_continue_reaches_next_filter),
        T(unregistered_callout_blocks),
        T(unregistered_callout_permit_if_flag),
        T(unregistered_inspection_callout_is_skipped),
        T(absorb_flag_reaches_the_verdict),
        T(static_decision_drops_absorb),
        T(published_arbitration_example),
        T(layers_do_not_arbitrate_with_each_other),
        T(or_within_field_and_across_fields),
        T(typed_condition_does_not_match_empty_field),
        T(icmp_type_alias_is_the_local_port_field),
        T(ignored_decision_still_ends_its_sublayer),
        T(classify_checks_value_count),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
