/* test_netevent.c — the net-event log (spec §7): which classify outcomes
 * are recorded under which collection switches, the header fields, the
 * circular store, enumeration templates and subscriptions. Everything goes
 * through the public API: filters are added, wfp_classify runs, and the log
 * is read back with wfp_net_event_enum_*. Case numbers are those of the
 * spec's conformance list (§12.7); NE-* ids are sim-level behaviours. */
#include "engine_fixture.h"
#include "wfp_netevent.h"

#define L_CONNECT "ALE_AUTH_CONNECT_V4"
#define L_IN4 "INBOUND_TRANSPORT_V4"
#define L_OUT4 "OUTBOUND_TRANSPORT_V4"
#define L_IN6 "INBOUND_TRANSPORT_V6"

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* ---- helpers --------------------------------------------------------------- */

static void set_option(fx *f, uint32_t option, uint32_t value)
{
    wfp_value v;
    memset(&v, 0, sizeof v);
    v.type = FWP_UINT32;
    v.v.u32 = value;
    assert_int_equal(wfp_engine_set_option(f->s, option, &v), 0);
}

static void classify_ex(fx *f, uint64_t time_ns, const wfp_incoming_metadata *meta)
{
    wfp_classify_request r;
    memset(&r, 0, sizeof r);
    r.layer_id = f->layer->id;
    r.values = f->values;
    r.num_values = f->layer->num_fields;
    r.meta = meta;
    r.time_ns = time_ns;
    uint32_t rc = wfp_classify(f->e, &r, &f->v, f->trace);
    if (rc) fail_msg("classify: %s", wfp_engine_last_error(f->e));
}

/* One classify at `layer` with the usual transport 5-tuple. */
static void classify5(fx *f, const char *layer, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
                      uint64_t time_ns)
{
    fx_values(f, layer);
    fx_set_u(f, "IP_PROTOCOL", 6);
    fx_set_u(f, "IP_LOCAL_ADDRESS", laddr);
    fx_set_u(f, "IP_REMOTE_ADDRESS", raddr);
    fx_set_u(f, "IP_LOCAL_PORT", lport);
    fx_set_u(f, "IP_REMOTE_PORT", rport);
    classify_ex(f, time_ns, NULL);
}

static void set_v6(fx *f, const char *field, const char *text)
{
    const wfp_condition_info *ci = wfp_catalog_condition_by_name(field);
    assert_non_null(ci);
    int i = wfp_catalog_field_index(f->layer, &ci->key);
    assert_true(i >= 0);
    f->values[i].type = FWP_BYTE_ARRAY16_TYPE;
    assert_true(wfp_ipv6_parse(text, f->values[i].v.bytes16));
}

/* Enumerates with `t` in pages of 3 (checking the paging) and copies the
 * events out; returns how many there were. Blobs stay valid while the log
 * holds the events. */
static uint32_t enum_all(wfp_session *s, const wfp_net_event_template *t, wfp_net_event *out, uint32_t max)
{
    wfp_net_event_enum *h = NULL;
    uint32_t total = 0, got;
    const wfp_net_event *const *entries;
    assert_int_equal(wfp_net_event_enum_create(s, t, &h), 0);
    assert_non_null(h);
    do {
        assert_int_equal(wfp_net_event_enum_next(s, h, 3, &entries, &got), 0);
        assert_true(got <= 3);
        for (uint32_t i = 0; i < got; i++) {
            if (total < max) out[total] = *entries[i];
            total++;
        }
    } while (got == 3);
    assert_int_equal(wfp_net_event_enum_destroy(s, h), 0);
    return total;
}

static uint32_t enum_count(fx *f, const wfp_net_event_template *t)
{
    return enum_all(f->s, t, NULL, 0);
}

static wfp_condition tcond_u(const char *field, uint32_t data_type, uint64_t v)
{
    return fx_cond_u(field, FWP_MATCH_EQUAL, data_type, v);
}

/* ---- C60: default collection ---------------------------------------------------- */

/* EVIDENCE: C60 — W32 logging; SDK FwpmEngineSetOption0 (default collection:
 * outbound of all kinds and inbound unicast; inbound multicast/broadcast need
 * their keyword; COLLECT=0 records nothing; toggling keeps the keywords) */
static void c60_default_collection(void **state)
{
    fx *f = *state;
    fx_filter(f, "block-in", L_IN4, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_filter(f, "block-out", L_OUT4, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);

    classify5(f, L_IN4, IP4(10, 0, 0, 1), 80, IP4(10, 0, 0, 2), 40000, 1); /* inbound unicast */
    assert_int_equal(f->v.action, FWP_ACTION_BLOCK);
    assert_int_equal(wfp_net_event_count(f->e), 1);
    classify5(f, L_IN4, IP4(224, 0, 0, 251), 5353, IP4(10, 0, 0, 2), 5353, 2); /* inbound multicast */
    classify5(f, L_IN4, IP4(255, 255, 255, 255), 67, IP4(10, 0, 0, 2), 68, 3); /* inbound broadcast */
    assert_int_equal(wfp_net_event_count(f->e), 1);
    classify5(f, L_OUT4, IP4(10, 0, 0, 1), 5353, IP4(224, 0, 0, 251), 5353, 4); /* outbound multicast */
    assert_int_equal(wfp_net_event_count(f->e), 2);

    /* A subnet broadcast is known by the layer's address type (NlatBroadcast 4). */
    fx_values(f, L_IN4);
    fx_set_u(f, "IP_LOCAL_ADDRESS", IP4(10, 0, 0, 255));
    fx_set_u(f, "IP_LOCAL_ADDRESS_TYPE", 4);
    classify_ex(f, 5, NULL);
    assert_int_equal(wfp_net_event_count(f->e), 2);

    set_option(f, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, FWPM_NET_EVENT_KEYWORD_INBOUND_MCAST);
    classify5(f, L_IN4, IP4(224, 0, 0, 251), 5353, IP4(10, 0, 0, 2), 5353, 6);
    assert_int_equal(wfp_net_event_count(f->e), 3);
    classify5(f, L_IN4, IP4(255, 255, 255, 255), 67, IP4(10, 0, 0, 2), 68, 7);
    assert_int_equal(wfp_net_event_count(f->e), 3);
    set_option(f, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS,
               FWPM_NET_EVENT_KEYWORD_INBOUND_MCAST | FWPM_NET_EVENT_KEYWORD_INBOUND_BCAST);
    classify5(f, L_IN4, IP4(255, 255, 255, 255), 67, IP4(10, 0, 0, 2), 68, 8);
    assert_int_equal(wfp_net_event_count(f->e), 4);

    /* IPv6 multicast is ff00::/8. */
    fx_filter(f, "block-in6", L_IN6, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    set_option(f, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, 0);
    fx_values(f, L_IN6);
    set_v6(f, "IP_LOCAL_ADDRESS", "ff02::fb");
    classify_ex(f, 9, NULL);
    assert_int_equal(wfp_net_event_count(f->e), 4);
    set_v6(f, "IP_LOCAL_ADDRESS", "2001:db8::1");
    classify_ex(f, 10, NULL);
    assert_int_equal(wfp_net_event_count(f->e), 5);

    /* Collection off: nothing is recorded and the log cannot be queried;
     * back on: the log is still there and the keywords are unchanged. */
    set_option(f, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, FWPM_NET_EVENT_KEYWORD_INBOUND_MCAST);
    set_option(f, FWPM_ENGINE_COLLECT_NET_EVENTS, 0);
    classify5(f, L_IN4, IP4(10, 0, 0, 1), 80, IP4(10, 0, 0, 2), 40000, 11);
    assert_int_equal(wfp_net_event_count(f->e), 5);
    wfp_net_event_enum *h = (wfp_net_event_enum *)1;
    assert_int_equal(wfp_net_event_enum_create(f->s, NULL, &h), FWP_E_NET_EVENTS_DISABLED);
    assert_null(h);
    set_option(f, FWPM_ENGINE_COLLECT_NET_EVENTS, 1);
    wfp_value v;
    assert_int_equal(wfp_engine_get_option(f->s, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, &v), 0);
    assert_int_equal(v.v.u32, FWPM_NET_EVENT_KEYWORD_INBOUND_MCAST);
    assert_int_equal(enum_count(f, NULL), 5);

    wfp_engine_stats st;
    wfp_engine_get_stats(f->e, &st);
    assert_int_equal(st.net_events_recorded, 5);
    assert_int_equal(st.net_events_dropped, 0);

    /* The switches are set outside transactions, from static sessions. */
    v.type = FWP_UINT32;
    v.v.u32 = 0;
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_engine_set_option(f->s, FWPM_ENGINE_COLLECT_NET_EVENTS, &v), FWP_E_TXN_IN_PROGRESS);
    assert_int_equal(wfp_txn_abort(f->s), 0);
    wfp_session *dyn = NULL;
    wfp_session_desc d = {0};
    d.admin = true;
    d.flags = FWPM_SESSION_FLAG_DYNAMIC;
    assert_int_equal(wfp_session_open(f->e, &d, &dyn), 0);
    assert_int_equal(wfp_engine_set_option(dyn, FWPM_ENGINE_COLLECT_NET_EVENTS, &v), FWP_E_DYNAMIC_SESSION_IN_PROGRESS);
    wfp_session_close(dyn);
    assert_int_equal(wfp_engine_get_option(f->s, FWPM_ENGINE_COLLECT_NET_EVENTS, &v), 0);
    assert_int_equal(v.v.u32, 1);
}

/* ---- C61: allow events -------------------------------------------------------------- */

/* EVIDENCE: C61 — fwpmtypes.idl FWPM_NET_EVENT_KEYWORD_CLASSIFY_ALLOW; SDK
 * FWPM_NET_EVENT_CLASSIFY_ALLOW0 (filterId = the permitting filter, layerId) */
static void c61_allow_needs_keyword(void **state)
{
    fx *f = *state;
    wfp_condition c = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 443);
    uint64_t id = fx_filter_ex(f, "permit-443", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_PERMIT, NULL, 0, &c, 1, NULL);

    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50000, IP4(192, 0, 2, 7), 443, 1);
    assert_int_equal(f->v.action, FWP_ACTION_PERMIT);
    assert_int_equal(wfp_net_event_count(f->e), 0);

    set_option(f, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, FWPM_NET_EVENT_KEYWORD_CLASSIFY_ALLOW);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50001, IP4(192, 0, 2, 7), 443, 2);
    /* sim-defined: traffic nothing decided (NONE_NO_MATCH) is not an "allow" */
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50002, IP4(192, 0, 2, 7), 80, 3);
    assert_int_equal(f->v.action, FWP_ACTION_NONE_NO_MATCH);

    wfp_net_event ev[4];
    assert_int_equal(enum_all(f->s, NULL, ev, 4), 1);
    assert_int_equal(ev[0].type, FWPM_NET_EVENT_TYPE_CLASSIFY_ALLOW);
    assert_string_equal(wfp_net_event_type_name(ev[0].type), "classify_allow");
    assert_int_equal(ev[0].filter_id, id);
    assert_int_equal(ev[0].layer_id, 48); /* FWPS_LAYER_ALE_AUTH_CONNECT_V4 */
    assert_int_equal(ev[0].local_port, 50001);
    assert_int_equal(ev[0].ms_fwp_direction, FWP_DIRECTION_OUT);
}

/* ---- C62: templates ------------------------------------------------------------------- */

/* EVIDENCE: C62 — SDK FWPM_NET_EVENT_ENUM_TEMPLATE0 (conditions AND'ed on
 * distinct fields; duplicates refused; endTime >= startTime) */
static void c62_template_by_port(void **state)
{
    fx *f = *state;
    fx_filter(f, "block", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50000, IP4(192, 0, 2, 7), 80, 100);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50001, IP4(192, 0, 2, 7), 443, 200);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50002, IP4(192, 0, 2, 8), 80, 300);
    assert_int_equal(wfp_net_event_count(f->e), 3);

    wfp_net_event ev[4];
    wfp_condition c[3];
    wfp_net_event_template t;
    memset(&t, 0, sizeof t);
    c[0] = tcond_u("IP_REMOTE_PORT", FWP_UINT16, 80);
    t.conditions = c;
    t.num_conditions = 1;
    assert_int_equal(enum_all(f->s, &t, ev, 4), 2);
    assert_int_equal(ev[0].remote_port, 80);
    assert_int_equal(ev[1].remote_port, 80);
    assert_true(ev[0].sequence < ev[1].sequence);

    /* AND across fields: port 80 and remote 192.0.2.8/32 */
    c[1].field_key = wfp_catalog_condition_by_name("IP_REMOTE_ADDRESS")->key;
    c[1].match_type = FWP_MATCH_EQUAL;
    c[1].value.type = FWP_V4_ADDR_MASK;
    c[1].value.u.v4.addr = IP4(192, 0, 2, 8);
    c[1].value.u.v4.mask = 0xffffffffu;
    t.num_conditions = 2;
    assert_int_equal(enum_all(f->s, &t, ev, 4), 1);
    assert_int_equal(ev[0].local_port, 50002);

    /* the time window is inclusive */
    t.num_conditions = 0;
    t.start_ns = 200;
    t.end_ns = 300;
    assert_int_equal(enum_count(f, &t), 2);

    /* NET_EVENT_TYPE */
    c[0] = tcond_u("NET_EVENT_TYPE", FWP_UINT32, FWPM_NET_EVENT_TYPE_CLASSIFY_ALLOW);
    t.start_ns = t.end_ns = 0;
    t.num_conditions = 1;
    assert_int_equal(enum_count(f, &t), 0);
    c[0].value.u.value.v.u32 = FWPM_NET_EVENT_TYPE_CLASSIFY_DROP;
    assert_int_equal(enum_count(f, &t), 3);

    /* errors */
    wfp_net_event_enum *h = NULL;
    c[0] = tcond_u("IP_REMOTE_PORT", FWP_UINT16, 80);
    c[1] = tcond_u("IP_REMOTE_PORT", FWP_UINT16, 443);
    t.num_conditions = 2;
    assert_int_equal(wfp_net_event_enum_create(f->s, &t, &h), FWP_E_DUPLICATE_CONDITION);
    c[1] = tcond_u("ICMP_CODE", FWP_UINT16, 3); /* an alias of IP_REMOTE_PORT is the same field */
    assert_int_equal(wfp_net_event_enum_create(f->s, &t, &h), FWP_E_DUPLICATE_CONDITION);
    t.num_conditions = 0;
    t.start_ns = 10;
    t.end_ns = 5;
    assert_int_equal(wfp_net_event_enum_create(f->s, &t, &h), FWP_E_INVALID_INTERVAL);
    t.start_ns = t.end_ns = 0;
    c[0] = tcond_u("IP_LOCAL_INTERFACE", FWP_UINT64, 1);
    t.num_conditions = 1;
    assert_int_equal(wfp_net_event_enum_create(f->s, &t, &h), FWP_E_CONDITION_NOT_FOUND);
    c[0] = tcond_u("IP_REMOTE_PORT", FWP_UINT32, 80);
    assert_int_equal(wfp_net_event_enum_create(f->s, &t, &h), FWP_E_TYPE_MISMATCH);
    assert_null(h);
}

/* ---- C63: circular log ------------------------------------------------------------------- */

/* EVIDENCE: C63 — W32 logging (circular, at most 128 KB, ≈100–150 events;
 * emptied on reboot) */
static void c63_circular_log(void **state)
{
    fx *f = *state;
    fx_filter(f, "block", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    for (uint32_t i = 0; i < 10000; i++)
        classify5(f, L_CONNECT, IP4(10, 0, 0, 1), (uint16_t)(1024 + i % 60000), IP4(192, 0, 2, 7), 80, i + 1);

    wfp_net_event ev[200];
    uint32_t n = enum_all(f->s, NULL, ev, 200);
    assert_int_equal(n, wfp_net_event_count(f->e));
    assert_in_range(n, 100, 150);
    /* the newest, oldest first, with nothing missing in between */
    assert_int_equal(ev[n - 1].sequence, 10000);
    assert_int_equal(ev[n - 1].time_ns, 10000);
    for (uint32_t i = 1; i < n; i++) assert_int_equal(ev[i].sequence, ev[i - 1].sequence + 1);

    wfp_engine_stats st;
    wfp_engine_get_stats(f->e, &st);
    assert_int_equal(st.net_events_recorded, 10000);

    /* Bigger events (app id + SID) take more room: fewer fit. */
    uint8_t *app = NULL;
    uint32_t app_len = 0;
    assert_true(wfp_app_id_from_path(wfp_allocator_default(),
                                     "C:\\Program Files\\Some Vendor\\Some Product\\bin\\client-application.exe",
                                     NULL, &app, &app_len));
    for (uint32_t i = 0; i < 1000; i++) {
        fx_values(f, L_CONNECT);
        fx_set_blob(f, "ALE_APP_ID", app, app_len);
        classify_ex(f, 20000 + i, NULL);
    }
    uint32_t n2 = enum_all(f->s, NULL, ev, 200);
    assert_true(n2 < n);
    assert_true((uint64_t)n2 * (896u + app_len) <= 128u * 1024u);
    free(app);

    /* A reboot empties the log (and closes every session). */
    wfp_engine_reboot(f->e);
    f->s = NULL;
    assert_int_equal(wfp_net_event_count(f->e), 0);
    wfp_session_desc d = {0};
    d.admin = true;
    assert_int_equal(wfp_session_open(f->e, &d, &f->s), 0);
    assert_int_equal(enum_count(f, NULL), 0);
}

/* ---- C17: absorb ---------------------------------------------------------------------------- */

/* EVIDENCE: C17 — DDI FWPS_CLASSIFY_OUT0 FWPS_CLASSIFY_OUT_FLAG_ABSORB (silent
 * drop: no net event, no audit) */
static void c17_absorbed_drop_not_logged(void **state)
{
    fx *f = *state;
    fx_script quiet = {FWP_ACTION_BLOCK, false, FWPS_CLASSIFY_OUT_FLAG_ABSORB, 0, 0, 0};
    wfp_guid co = fx_callout(f, "absorb", L_IN4);
    fx_register(f, &co, &quiet);
    fx_callout_filter(f, "absorb", L_IN4, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &co, 0);

    classify5(f, L_IN4, IP4(10, 0, 0, 1), 80, IP4(10, 0, 0, 2), 40000, 1);
    assert_int_equal(quiet.calls, 1);
    assert_int_equal(f->v.action, FWP_ACTION_BLOCK);
    assert_true(f->v.absorb);
    assert_int_equal(wfp_net_event_count(f->e), 0);

    quiet.flags = 0; /* the same block without ABSORB is logged */
    classify5(f, L_IN4, IP4(10, 0, 0, 1), 80, IP4(10, 0, 0, 2), 40000, 2);
    assert_false(f->v.absorb);
    assert_int_equal(wfp_net_event_count(f->e), 1);
}

/* ---- NE-NO-DISCARD-LAYER ------------------------------------------------------------------------ */

/* EVIDENCE: NE-NO-DISCARD-LAYER — spec §7.5/§13 (sim-defined: one event per
 * final block at a non-discard layer) */
static void no_event_at_discard_layers(void **state)
{
    fx *f = *state;
    fx_filter(f, "block-discard", "INBOUND_TRANSPORT_V4_DISCARD", NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    classify5(f, "INBOUND_TRANSPORT_V4_DISCARD", IP4(10, 0, 0, 1), 80, IP4(10, 0, 0, 2), 40000, 1);
    assert_int_equal(f->v.action, FWP_ACTION_BLOCK);
    assert_int_equal(wfp_net_event_count(f->e), 0);
}

/* ---- NE-HEADER-FIELDS ------------------------------------------------------------------------------ */

/* EVIDENCE: NE-HEADER-FIELDS — SDK FWPM_NET_EVENT_HEADER3, FWPM_NET_EVENT_CLASSIFY_DROP2
 * (flags mark exactly the fields set; v4 addresses; user SID; msFwpDirection) */
static void header_fields(void **state)
{
    fx *f = *state;
    uint64_t id = fx_filter(f, "block", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    const char *sids[] = {"S-1-5-21-1-2-3-1001", "S-1-1-0"};
    uint8_t *token = NULL, *app = NULL;
    uint32_t token_len = 0, app_len = 0;
    assert_true(wfp_token_build(wfp_allocator_default(), sids, 2, &token, &token_len));
    assert_true(wfp_app_id_from_path(wfp_allocator_default(), "C:\\Windows\\System32\\curl.exe", NULL, &app, &app_len));

    fx_values(f, L_CONNECT);
    fx_set_u(f, "IP_PROTOCOL", 6);
    fx_set_u(f, "IP_LOCAL_ADDRESS", IP4(10, 0, 0, 1));
    fx_set_u(f, "IP_REMOTE_ADDRESS", IP4(93, 184, 216, 34));
    fx_set_u(f, "IP_LOCAL_PORT", 50000);
    fx_set_u(f, "IP_REMOTE_PORT", 443);
    fx_set_blob(f, "ALE_APP_ID", app, app_len);
    fx_set_blob(f, "ALE_USER_ID", token, token_len);
    fx_set_u(f, "FLAGS", FWP_CONDITION_FLAG_IS_LOOPBACK);
    fx_set_u(f, "CURRENT_PROFILE_ID", 2);
    fx_set_u(f, "ORIGINAL_PROFILE_ID", 1);
    classify_ex(f, 123456789, NULL);

    wfp_net_event ev[2];
    assert_int_equal(enum_all(f->s, NULL, ev, 2), 1);
    const wfp_net_event *e = &ev[0];
    assert_int_equal(e->type, FWPM_NET_EVENT_TYPE_CLASSIFY_DROP);
    assert_string_equal(wfp_net_event_type_name(e->type), "classify_drop");
    assert_int_equal(e->sequence, 1);
    assert_int_equal(e->time_ns, 123456789);
    assert_int_equal(e->flags, FWPM_NET_EVENT_FLAG_IP_PROTOCOL_SET | FWPM_NET_EVENT_FLAG_LOCAL_ADDR_SET |
                                   FWPM_NET_EVENT_FLAG_REMOTE_ADDR_SET | FWPM_NET_EVENT_FLAG_LOCAL_PORT_SET |
                                   FWPM_NET_EVENT_FLAG_REMOTE_PORT_SET | FWPM_NET_EVENT_FLAG_APP_ID_SET |
                                   FWPM_NET_EVENT_FLAG_USER_ID_SET | FWPM_NET_EVENT_FLAG_IP_VERSION_SET);
    assert_int_equal(e->ip_version, FWP_IP_VERSION_V4);
    assert_int_equal(e->ip_protocol, 6);
    static const uint8_t la[4] = {10, 0, 0, 1}, ra[4] = {93, 184, 216, 34};
    assert_memory_equal(e->local_addr, la, 4); /* network order */
    assert_memory_equal(e->remote_addr, ra, 4);
    assert_int_equal(e->local_port, 50000);
    assert_int_equal(e->remote_port, 443);
    assert_int_equal(e->app_id.size, app_len);
    assert_memory_equal(e->app_id.data, app, app_len);
    assert_ptr_not_equal(e->app_id.data, app); /* the log keeps its own copy */
    uint8_t sid[WFP_SID_MAX];
    uint32_t sid_len = 0;
    assert_true(wfp_sid_parse("S-1-5-21-1-2-3-1001", sid, &sid_len));
    assert_int_equal(e->user_id.size, sid_len);
    assert_memory_equal(e->user_id.data, sid, sid_len);
    assert_int_equal(e->filter_id, id);
    assert_int_equal(e->layer_id, 48);
    assert_int_equal(e->ms_fwp_direction, FWP_DIRECTION_OUT);
    assert_true(e->is_loopback);
    assert_int_equal(e->current_profile, 2);
    assert_int_equal(e->original_profile, 1);
    assert_int_equal(e->reauth_reason, 0);

    /* Templates on the app id and on the user (an FWP_SID). */
    wfp_condition c[2];
    memset(c, 0, sizeof c);
    c[0].field_key = wfp_catalog_condition_by_name("ALE_APP_ID")->key;
    c[0].match_type = FWP_MATCH_EQUAL;
    c[0].value.type = c[0].value.u.value.type = FWP_BYTE_BLOB_TYPE;
    c[0].value.u.value.v.blob.data = app;
    c[0].value.u.value.v.blob.size = app_len;
    c[1].field_key = wfp_catalog_condition_by_name("ALE_USER_ID")->key;
    c[1].match_type = FWP_MATCH_EQUAL;
    c[1].value.type = c[1].value.u.value.type = FWP_SID;
    c[1].value.u.value.v.blob.data = sid;
    c[1].value.u.value.v.blob.size = sid_len;
    wfp_net_event_template t = {0, 0, 2, c};
    assert_int_equal(enum_count(f, &t), 1);
    assert_true(wfp_sid_parse("S-1-5-18", sid, &sid_len));
    c[1].value.u.value.v.blob.size = sid_len;
    assert_int_equal(enum_count(f, &t), 0);

    /* A reauthorization: the reason and its flag. */
    fx_values(f, L_CONNECT);
    fx_set_u(f, "REAUTHORIZE_REASON", FWP_CONDITION_REAUTHORIZE_REASON_POLICY_CHANGE);
    classify_ex(f, 2, NULL);
    assert_int_equal(enum_all(f->s, NULL, ev, 2), 2);
    assert_int_equal(ev[1].flags, FWPM_NET_EVENT_FLAG_REAUTH_REASON_SET | FWPM_NET_EVENT_FLAG_IP_VERSION_SET);
    assert_int_equal(ev[1].reauth_reason, FWP_CONDITION_REAUTHORIZE_REASON_POLICY_CHANGE);
    assert_false(ev[1].is_loopback);

    free(token);
    free(app);
}

/* EVIDENCE: NE-HEADER-FIELDS — v6 addresses, direction from metadata and from
 * the layer, forwarded packets */
static void header_fields_v6_and_direction(void **state)
{
    fx *f = *state;
    fx_filter(f, "block-in6", L_IN6, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_filter(f, "block-fwd", "IPFORWARD_V4", NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    fx_filter(f, "block-dgram", "DATAGRAM_DATA_V4", NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);

    fx_values(f, L_IN6);
    fx_set_u(f, "IP_PROTOCOL", 17);
    set_v6(f, "IP_LOCAL_ADDRESS", "2001:db8::1");
    set_v6(f, "IP_REMOTE_ADDRESS", "2001:db8::2");
    fx_set_u(f, "IP_LOCAL_PORT", 53);
    classify_ex(f, 1, NULL);

    fx_values(f, "IPFORWARD_V4");
    fx_set_u(f, "IP_SOURCE_ADDRESS", IP4(10, 1, 0, 5));
    fx_set_u(f, "IP_DESTINATION_ADDRESS", IP4(10, 2, 0, 9));
    classify_ex(f, 2, NULL);

    /* DATAGRAM_DATA has a DIRECTION field; metadata wins when present. */
    fx_values(f, "DATAGRAM_DATA_V4");
    fx_set_u(f, "DIRECTION", FWP_DIRECTION_INBOUND);
    classify_ex(f, 3, NULL);
    wfp_incoming_metadata meta;
    memset(&meta, 0, sizeof meta);
    meta.present = WFP_METADATA_PACKET_DIRECTION;
    meta.packet_direction = FWP_DIRECTION_OUTBOUND;
    classify_ex(f, 4, &meta);

    wfp_net_event ev[5];
    assert_int_equal(enum_all(f->s, NULL, ev, 5), 4);
    uint8_t a6[16];
    assert_true(wfp_ipv6_parse("2001:db8::1", a6));
    assert_int_equal(ev[0].ip_version, FWP_IP_VERSION_V6);
    assert_memory_equal(ev[0].local_addr, a6, 16);
    assert_int_equal(ev[0].ms_fwp_direction, FWP_DIRECTION_IN);
    assert_int_equal(ev[0].flags, FWPM_NET_EVENT_FLAG_IP_PROTOCOL_SET | FWPM_NET_EVENT_FLAG_LOCAL_ADDR_SET |
                                      FWPM_NET_EVENT_FLAG_REMOTE_ADDR_SET | FWPM_NET_EVENT_FLAG_LOCAL_PORT_SET |
                                      FWPM_NET_EVENT_FLAG_IP_VERSION_SET);

    static const uint8_t src[4] = {10, 1, 0, 5}, dst[4] = {10, 2, 0, 9};
    assert_int_equal(ev[1].ms_fwp_direction, FWP_DIRECTION_FORWARD);
    assert_memory_equal(ev[1].local_addr, src, 4);
    assert_memory_equal(ev[1].remote_addr, dst, 4);
    assert_int_equal(ev[1].layer_id, wfp_catalog_layer_by_name("IPFORWARD_V4")->id);

    assert_int_equal(ev[2].ms_fwp_direction, FWP_DIRECTION_IN);
    assert_int_equal(ev[3].ms_fwp_direction, FWP_DIRECTION_OUT);

    /* a v6 address template against v4 and v6 events */
    wfp_condition c;
    memset(&c, 0, sizeof c);
    c.field_key = wfp_catalog_condition_by_name("IP_LOCAL_ADDRESS")->key;
    c.match_type = FWP_MATCH_EQUAL;
    c.value.type = FWP_V6_ADDR_MASK;
    assert_true(wfp_ipv6_parse("2001:db8::", c.value.u.v6.addr));
    c.value.u.v6.prefix_length = 32;
    wfp_net_event_template t = {0, 0, 1, &c};
    assert_int_equal(enum_count(f, &t), 1);
}

/* ---- NE-SUBSCRIBE ------------------------------------------------------------------------------------ */

typedef struct seen {
    int n;
    uint64_t seq[16];
    uint16_t port[16];
} seen;

static void on_event(void *ctx, const wfp_net_event *ev)
{
    seen *s = ctx;
    if (s->n < 16) {
        s->seq[s->n] = ev->sequence;
        s->port[s->n] = ev->remote_port;
    }
    s->n++;
}

/* EVIDENCE: NE-SUBSCRIBE — SDK FwpmNetEventSubscribe0 (callback per new event
 * matching the template; FWPM_ACTRL_SUBSCRIBE; not inside a transaction) */
static void subscribe_receives_new_events_in_order(void **state)
{
    fx *f = *state;
    fx_filter(f, "block", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50000, IP4(192, 0, 2, 7), 80, 1); /* before: not delivered */

    seen all = {0}, http = {0}, other = {0};
    uint64_t h_all = 0, h_http = 0, h_other = 0;
    assert_int_equal(wfp_net_event_subscribe(f->s, NULL, on_event, &all, &h_all), 0);
    wfp_condition c = tcond_u("IP_REMOTE_PORT", FWP_UINT16, 80);
    wfp_net_event_template t = {0, 0, 1, &c};
    assert_int_equal(wfp_net_event_subscribe(f->s, &t, on_event, &http, &h_http), 0);
    assert_true(h_all != 0 && h_http != 0 && h_all != h_http);

    /* a second session's subscription ends with its session */
    wfp_session *s2 = NULL;
    wfp_session_desc d = {0};
    d.admin = true;
    assert_int_equal(wfp_session_open(f->e, &d, &s2), 0);
    assert_int_equal(wfp_net_event_subscribe(s2, NULL, on_event, &other, &h_other), 0);
    assert_true(h_other != h_all && h_other != h_http);

    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50001, IP4(192, 0, 2, 7), 80, 2);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50002, IP4(192, 0, 2, 7), 443, 3);
    wfp_session_close(s2);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50003, IP4(192, 0, 2, 7), 80, 4);

    assert_int_equal(all.n, 3);
    assert_int_equal(all.seq[0], 2);
    assert_int_equal(all.seq[1], 3);
    assert_int_equal(all.seq[2], 4);
    assert_int_equal(http.n, 2);
    assert_int_equal(http.port[0], 80);
    assert_int_equal(http.seq[1], 4);
    assert_int_equal(other.n, 2);

    /* unsubscribe: no more; a handle is the subscriber's only */
    assert_int_equal(wfp_net_event_unsubscribe(f->s, h_all), 0);
    assert_int_equal(wfp_net_event_unsubscribe(f->s, h_all), FWP_E_NOT_FOUND);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50004, IP4(192, 0, 2, 7), 80, 5);
    assert_int_equal(all.n, 3);
    assert_int_equal(http.n, 3);

    /* not inside a transaction; template errors as for enumeration */
    uint64_t h = 0;
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_net_event_subscribe(f->s, NULL, on_event, &all, &h), FWP_E_TXN_IN_PROGRESS);
    assert_int_equal(wfp_txn_abort(f->s), 0);
    t.start_ns = 2;
    t.end_ns = 1;
    assert_int_equal(wfp_net_event_subscribe(f->s, &t, on_event, &all, &h), FWP_E_INVALID_INTERVAL);
}

/* A callback that cancels its own subscription and classifies again. */
typedef struct reentrant {
    fx *f;
    uint64_t handle;
    int calls;
} reentrant;

static void on_event_reenter(void *ctx, const wfp_net_event *ev)
{
    reentrant *r = ctx;
    r->calls++;
    assert_int_equal(wfp_net_event_unsubscribe(r->f->s, r->handle), 0);
    classify5(r->f, L_CONNECT, IP4(10, 0, 0, 1), 1, IP4(192, 0, 2, 7), 80, ev->time_ns + 1);
}

/* EVIDENCE: NE-SUBSCRIBE — callbacks run at the end of the classify that
 * recorded the event (sim-defined: they may unsubscribe and classify) */
static void subscribe_callback_may_reenter(void **state)
{
    fx *f = *state;
    fx_filter(f, "block", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    reentrant r = {f, 0, 0};
    seen all = {0};
    uint64_t h = 0;
    assert_int_equal(wfp_net_event_subscribe(f->s, NULL, on_event_reenter, &r, &r.handle), 0);
    assert_int_equal(wfp_net_event_subscribe(f->s, NULL, on_event, &all, &h), 0);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 50000, IP4(192, 0, 2, 7), 80, 10);
    assert_int_equal(r.calls, 1);
    /* the nested classify's event reached the other subscriber first */
    assert_int_equal(all.n, 2);
    assert_int_equal(all.seq[0], 2);
    assert_int_equal(all.seq[1], 1);
    assert_int_equal(wfp_net_event_count(f->e), 2);
}

/* ---- enumeration rules ---------------------------------------------------------------------------------- */

/* EVIDENCE: C62 — SDK FwpmNetEventCreateEnumHandle0 / FwpmNetEventEnum0
 * (snapshot at creation, paging, not inside a transaction, FWPM_ACTRL_ENUM,
 * handles belong to their session) */
static void enum_snapshot_paging_and_rules(void **state)
{
    fx *f = *state;
    fx_filter(f, "block", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    for (uint16_t i = 0; i < 5; i++) classify5(f, L_CONNECT, IP4(10, 0, 0, 1), (uint16_t)(100 + i), IP4(192, 0, 2, 7), 80, i);

    wfp_net_event_enum *h = NULL;
    const wfp_net_event *const *entries = NULL;
    uint32_t got = 0;
    assert_int_equal(wfp_net_event_enum_create(f->s, NULL, &h), 0);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 999, IP4(192, 0, 2, 7), 80, 9); /* after the snapshot */
    assert_int_equal(wfp_net_event_enum_next(f->s, h, 2, &entries, &got), 0);
    assert_int_equal(got, 2);
    assert_int_equal(entries[0]->local_port, 100);
    assert_int_equal(entries[1]->local_port, 101);

    /* another session may not use the handle */
    wfp_session *s2 = NULL;
    wfp_session_desc d = {0};
    d.admin = true;
    assert_int_equal(wfp_session_open(f->e, &d, &s2), 0);
    assert_int_equal(wfp_net_event_enum_next(s2, h, 2, &entries, &got), FWP_E_INVALID_ENUMERATOR);
    assert_int_equal(wfp_net_event_enum_destroy(s2, h), FWP_E_INVALID_ENUMERATOR);
    wfp_session_close(s2);

    assert_int_equal(wfp_net_event_enum_next(f->s, h, 10, &entries, &got), 0);
    assert_int_equal(got, 3); /* fewer than asked: exhausted */
    assert_int_equal(entries[2]->local_port, 104);
    assert_int_equal(wfp_net_event_enum_next(f->s, h, 10, &entries, &got), 0);
    assert_int_equal(got, 0);
    assert_int_equal(wfp_net_event_enum_destroy(f->s, h), 0);
    assert_int_equal(wfp_net_event_enum_destroy(f->s, NULL), 0);
    assert_int_equal(enum_count(f, NULL), 6);

    /* not inside a transaction */
    assert_int_equal(wfp_txn_begin(f->s, FWPM_TXN_READ_ONLY), 0);
    assert_int_equal(wfp_net_event_enum_create(f->s, NULL, &h), FWP_E_TXN_IN_PROGRESS);
    assert_int_equal(wfp_txn_abort(f->s), 0);

    /* a plain user has OPEN and CLASSIFY only (spec §10.3) */
    wfp_session *user = NULL;
    wfp_session_desc u = {0};
    u.user_sid = "S-1-5-21-1-2-3-1001";
    assert_int_equal(wfp_session_open(f->e, &u, &user), 0);
    uint64_t sh = 0;
    seen sn = {0};
    assert_int_equal(wfp_net_event_enum_create(user, NULL, &h), ERROR_ACCESS_DENIED);
    assert_int_equal(wfp_net_event_subscribe(user, NULL, on_event, &sn, &sh), ERROR_ACCESS_DENIED);
    wfp_session_close(user);

    assert_null(wfp_net_event_type_name(FWPM_NET_EVENT_TYPE_MAX));
    assert_string_equal(wfp_net_event_type_name(FWPM_NET_EVENT_TYPE_IKEEXT_MM_FAILURE), "ikeext_mm_failure");
}

/* An enumeration handle left open is freed with its session / engine. */
static void enum_handle_left_open(void **state)
{
    fx *f = *state;
    fx_filter(f, "block", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    classify5(f, L_CONNECT, IP4(10, 0, 0, 1), 1, IP4(192, 0, 2, 7), 80, 1);
    wfp_net_event_enum *h = NULL;
    assert_int_equal(wfp_net_event_enum_create(f->s, NULL, &h), 0);
    seen sn = {0};
    uint64_t sh = 0;
    assert_int_equal(wfp_net_event_subscribe(f->s, NULL, on_event, &sn, &sh), 0);
    /* teardown closes the session and destroys the engine: no leak (ASan) */
}

/* ---- allocation failure ------------------------------------------------------------------------------------ */

typedef struct failing {
    int fail_after; /* < 0: never */
} failing;

static void *fail_alloc(void *ctx, size_t n)
{
    failing *fa = ctx;
    if (fa->fail_after == 0) return NULL;
    if (fa->fail_after > 0) fa->fail_after--;
    return malloc(n);
}

static void *fail_realloc(void *ctx, void *p, size_t n)
{
    failing *fa = ctx;
    if (fa->fail_after == 0) return NULL;
    if (fa->fail_after > 0) fa->fail_after--;
    return realloc(p, n);
}

static void fail_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* EVIDENCE: NE-HEADER-FIELDS — sim-defined: a record that cannot be allocated
 * is dropped and counted; the classify itself succeeds */
static void oom_drops_event_not_classify(void **state)
{
    (void)state;
    failing fa = {-1};
    wfp_allocator a = {fail_alloc, fail_realloc, fail_free, &fa};
    wfp_engine_config cfg = {&a, WFP_OR_GROUP_BY_FIELD, false};
    fx g;
    memset(&g, 0, sizeof g);
    g.e = wfp_engine_create(&cfg);
    assert_non_null(g.e);
    wfp_session_desc d = {0};
    d.admin = true;
    assert_int_equal(wfp_session_open(g.e, &d, &g.s), 0);
    fx_filter(&g, "block", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    classify5(&g, L_CONNECT, IP4(10, 0, 0, 1), 1, IP4(192, 0, 2, 7), 80, 1); /* builds the snapshot */
    wfp_engine_stats st;
    wfp_engine_get_stats(g.e, &st);
    uint64_t recorded = st.net_events_recorded;
    fa.fail_after = 0;
    classify5(&g, L_CONNECT, IP4(10, 0, 0, 1), 2, IP4(192, 0, 2, 7), 80, 2);
    fa.fail_after = -1;
    assert_int_equal(g.v.action, FWP_ACTION_BLOCK);
    wfp_engine_get_stats(g.e, &st);
    assert_int_equal(st.net_events_recorded, recorded);
    assert_int_equal(st.net_events_dropped, 1);
    wfp_session_close(g.s);
    wfp_engine_destroy(g.e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(c60_default_collection),
        T(c61_allow_needs_keyword),
        T(c62_template_by_port),
        T(c63_circular_log),
        T(c17_absorbed_drop_not_logged),
        T(no_event_at_discard_layers),
        T(header_fields),
        T(header_fields_v6_and_direction),
        T(subscribe_receives_new_events_in_order),
        T(subscribe_callback_may_reenter),
        T(enum_snapshot_paging_and_rules),
        T(enum_handle_left_open),
        cmocka_unit_test(oom_drops_event_not_classify),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
