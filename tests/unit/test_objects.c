/* test_objects.c — management objects: validation with Windows' error
 * codes, ids and keys, references (FWP_E_IN_USE), built-ins, lifetimes,
 * dynamic sessions, callout notifications, weights, and all-or-nothing
 * adds under allocation failure. */
#include "engine_fixture.h"

#define L_CONNECT "ALE_AUTH_CONNECT_V4"

static wfp_filter basic_filter(const char *name, const char *layer)
{
    wfp_filter f;
    memset(&f, 0, sizeof f);
    f.key = fx_key("filter", name);
    f.display.name = name;
    f.layer_key = fx_layer(layer)->key;
    f.action.type = FWP_ACTION_BLOCK;
    return f;
}

/* EVIDENCE: OBJ-DUPLICATE-KEY — spec §9.9 FWP_E_ALREADY_EXISTS; SDK FwpmFilterAdd0 */
static void duplicate_keys_are_refused(void **state)
{
    fx *f = *state;
    wfp_filter flt = basic_filter("dup", L_CONNECT);
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), 0);
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_ALREADY_EXISTS);
    wfp_sublayer s = {0};
    s.key = fx_key("sublayer", "x");
    s.display.name = "x";
    assert_int_equal(wfp_sublayer_add(f->s, &s), 0);
    assert_int_equal(wfp_sublayer_add(f->s, &s), FWP_E_ALREADY_EXISTS);
    /* GUIDs are unique per object type only: a sublayer may share a filter's key */
    s.key = flt.key;
    assert_int_equal(wfp_sublayer_add(f->s, &s), 0);
}

/* EVIDENCE: OBJ-NOT-FOUND — SDK FWPM_FILTER0 / FwpmFilterAdd0 error codes */
static void missing_references_are_refused(void **state)
{
    fx *f = *state;
    wfp_filter flt = basic_filter("f", L_CONNECT);
    flt.layer_key = fx_key("layer", "nope");
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_LAYER_NOT_FOUND);
    flt = basic_filter("f", L_CONNECT);
    flt.sublayer_key = fx_key("sublayer", "nope");
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_SUBLAYER_NOT_FOUND);
    flt = basic_filter("f", L_CONNECT);
    wfp_guid p = fx_key("provider", "nope");
    flt.provider_key = &p;
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_PROVIDER_NOT_FOUND);
    flt = basic_filter("f", L_CONNECT);
    flt.action.type = FWP_ACTION_CALLOUT_TERMINATING;
    flt.action.key = fx_key("callout", "nope");
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_CALLOUT_NOT_FOUND);
    flt = basic_filter("f", L_CONNECT);
    flt.display.name = NULL;
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_NULL_DISPLAY_NAME);
}

/* EVIDENCE: OBJ-ACTION-TYPE — SDK FWPM_ACTION0: CONTINUE/NONE are not settable */
static void only_settable_actions(void **state)
{
    fx *f = *state;
    static const uint32_t bad[] = {FWP_ACTION_CONTINUE, FWP_ACTION_NONE, FWP_ACTION_NONE_NO_MATCH, 0, 0x1234};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wfp_filter flt = basic_filter("f", L_CONNECT);
        flt.action.type = bad[i];
        assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_INVALID_ACTION_TYPE);
    }
}

/* EVIDENCE: C14 — PERMIT_IF_CALLOUT_UNREGISTERED only with terminating/unknown callout actions (inferred code) */
static void permit_if_unregistered_needs_a_callout_action(void **state)
{
    fx *f = *state;
    wfp_guid c = fx_callout(f, "c", L_CONNECT);
    uint32_t rc;
    fx_filter_ex(f, "static", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_PERMIT, NULL,
                 FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED, NULL, 0, &rc);
    assert_int_equal(rc, FWP_E_INVALID_FLAGS);
    fx_filter_ex(f, "inspect", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_INSPECTION, &c,
                 FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED, NULL, 0, &rc);
    assert_int_equal(rc, FWP_E_INVALID_FLAGS);
    fx_filter_ex(f, "term", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c,
                 FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED, NULL, 0, &rc);
    assert_int_equal(rc, 0);
}

/* EVIDENCE: OBJ-BOOTTIME-PERSISTENT C51 — spec §1.8.2: PERSISTENT and BOOTTIME are mutually exclusive */
static void persistent_and_boottime_exclude_each_other(void **state)
{
    fx *f = *state;
    wfp_filter flt = basic_filter("f", L_CONNECT);
    flt.flags = FWPM_FILTER_FLAG_PERSISTENT | FWPM_FILTER_FLAG_BOOTTIME;
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_INVALID_FLAGS);
}

/* EVIDENCE: OBJ-CALLOUT-LAYER — FWPM_CALLOUT0.applicableLayer: only filters in that layer may use it */
static void callout_must_match_the_filter_layer(void **state)
{
    fx *f = *state;
    wfp_guid c = fx_callout(f, "c", "ALE_AUTH_RECV_ACCEPT_V4");
    uint32_t rc;
    fx_filter_ex(f, "f", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0, NULL, 0, &rc);
    assert_int_equal(rc, FWP_E_INCOMPATIBLE_LAYER);
}

/* EVIDENCE: OBJ-CALLOUT-KERNEL-ONLY — W32 basic-operation: callouts only at kernel-mode layers */
static void callouts_only_at_kernel_layers(void **state)
{
    fx *f = *state;
    wfp_callout c;
    memset(&c, 0, sizeof c);
    c.display.name = "rpc";
    c.applicable_layer = fx_layer("RPC_UM")->key;
    assert_int_equal(wfp_callout_add(f->s, &c, NULL), FWP_E_INCOMPATIBLE_LAYER);
    c.applicable_layer = fx_layer(L_CONNECT)->key;
    c.flags = FWPM_CALLOUT_FLAG_REGISTERED; /* output only */
    assert_int_equal(wfp_callout_add(f->s, &c, NULL), FWP_E_INVALID_FLAGS);
}

/* EVIDENCE: OBJ-IN-USE C49 — spec §9.4: a referenced sublayer/callout/provider cannot be deleted */
static void referenced_objects_are_in_use(void **state)
{
    fx *f = *state;
    wfp_provider p;
    memset(&p, 0, sizeof p);
    p.key = fx_key("provider", "vendor");
    p.display.name = "vendor";
    assert_int_equal(wfp_provider_add(f->s, &p), 0);
    wfp_sublayer s;
    memset(&s, 0, sizeof s);
    s.key = fx_key("sublayer", "S");
    s.display.name = "S";
    s.weight = 10;
    s.provider_key = &p.key;
    assert_int_equal(wfp_sublayer_add(f->s, &s), 0);
    wfp_guid c = fx_callout(f, "c", L_CONNECT);
    uint64_t id = fx_callout_filter(f, "f", L_CONNECT, &s.key, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0);

    assert_int_equal(wfp_sublayer_delete_by_key(f->s, &s.key), FWP_E_IN_USE);
    assert_int_equal(wfp_callout_delete_by_key(f->s, &c), FWP_E_IN_USE);
    assert_int_equal(wfp_provider_delete_by_key(f->s, &p.key), FWP_E_IN_USE);
    assert_int_equal(wfp_filter_delete_by_id(f->s, id), 0);
    assert_int_equal(wfp_filter_delete_by_id(f->s, id), FWP_E_FILTER_NOT_FOUND);
    assert_int_equal(wfp_callout_delete_by_key(f->s, &c), 0);
    assert_int_equal(wfp_sublayer_delete_by_key(f->s, &s.key), 0);
    assert_int_equal(wfp_provider_delete_by_key(f->s, &p.key), 0);
    assert_int_equal(wfp_provider_delete_by_key(f->s, &p.key), FWP_E_PROVIDER_NOT_FOUND);
}

/* EVIDENCE: OBJ-BUILTIN C53 — spec §9.3: built-in objects cannot be deleted (FWP_E_BUILTIN_OBJECT) */
static void builtins_exist_and_cannot_be_deleted(void **state)
{
    fx *f = *state;
    const wfp_builtin_sublayer *u = wfp_catalog_sublayer_by_name("FWPM_SUBLAYER_UNIVERSAL");
    assert_non_null(u);
    const wfp_sublayer *s = NULL;
    assert_int_equal(wfp_sublayer_get_by_key(f->s, &u->key, &s), 0);
    assert_int_equal(s->weight, u->weight);
    assert_int_equal(wfp_sublayer_delete_by_key(f->s, &u->key), FWP_E_BUILTIN_OBJECT);
    const wfp_builtin_callout *bc = wfp_catalog_callout_by_name("FWPM_CALLOUT_WFP_TRANSPORT_LAYER_V4_SILENT_DROP");
    assert_non_null(bc);
    assert_int_equal(wfp_callout_delete_by_key(f->s, &bc->key), FWP_E_BUILTIN_OBJECT);
}

/* EVIDENCE: OBJ-DEFAULT-SUBLAYER — spec §1.5: a filter without a sublayer goes to the layer's default (UNIVERSAL) */
static void default_sublayer_is_universal(void **state)
{
    fx *f = *state;
    uint64_t id = fx_filter(f, "f", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);
    const wfp_filter *flt = wfp_engine_filter_by_id(f->e, id);
    const wfp_builtin_sublayer *u = wfp_catalog_sublayer_by_name("UNIVERSAL");
    assert_true(wfp_guid_eq(&flt->sublayer_key, &u->key));
}

/* EVIDENCE: C30 — W32 filter-weight-assignment / filter-weight-identifiers */
static void effective_weight_forms(void **state)
{
    fx *f = *state;
    uint32_t rc;
    wfp_condition port = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 443);
    uint64_t a = fx_filter_ex(f, "empty", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0, &port, 1, NULL);
    uint64_t b = fx_filter_ex(f, "range5", L_CONNECT, NULL, 5, FWP_ACTION_BLOCK, NULL, 0, &port, 1, NULL);
    uint64_t c = fx_filter(f, "exact", L_CONNECT, NULL, 0x123, FWP_ACTION_BLOCK, 0);
    uint64_t wa = wfp_engine_filter_by_id(f->e, a)->effective_weight.v.u64;
    uint64_t wb = wfp_engine_filter_by_id(f->e, b)->effective_weight.v.u64;
    assert_true(wa < (1ull << 60));
    assert_int_equal(wb >> 60, 5);
    assert_int_equal(wb & FWPM_AUTO_WEIGHT_MAX, wa); /* the auto part is the same (auto-weight findings §1.8) */
    assert_int_equal(wfp_engine_filter_by_id(f->e, c)->effective_weight.v.u64, 0x123);
    assert_int_equal(wfp_engine_filter_by_id(f->e, c)->effective_weight.type, FWP_UINT64);

    wfp_filter flt = basic_filter("bad16", L_CONNECT);
    flt.weight.type = FWP_UINT8;
    flt.weight.v.u8 = 16;
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_INVALID_WEIGHT);
    flt.weight.type = FWP_UINT32;
    flt.weight.v.u32 = 7;
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_INVALID_WEIGHT);
    (void)rc;
}

/* EVIDENCE: C31 — W32 filter-weight-assignment: a weight range outranks lower ranges and EMPTY */
static void weight_range_dominates_auto(void **state)
{
    fx *f = *state;
    wfp_condition c[3] = {
        fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 443),
        fx_cond_u("IP_PROTOCOL", FWP_MATCH_EQUAL, FWP_UINT8, 6),
        fx_cond_u("IP_LOCAL_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 5000),
    };
    uint64_t p = fx_filter(f, "r13", L_CONNECT, NULL, 13, FWP_ACTION_PERMIT, 0);
    fx_filter_ex(f, "specific", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0, c, 3, NULL);
    fx_values(f, L_CONNECT);
    fx_set_u(f, "IP_REMOTE_PORT", 443);
    fx_set_u(f, "IP_PROTOCOL", 6);
    fx_set_u(f, "IP_LOCAL_PORT", 5000);
    const wfp_verdict *v = fx_classify(f);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(v->filter_id, p);
}

/* EVIDENCE: OBJ-SUBLAYER-WEIGHT-COLLISION C49C — W32 installing-a-provider: BFE assigns the closest available weight */
static void sublayer_weights_stay_distinct(void **state)
{
    fx *f = *state;
    wfp_guid a = fx_sublayer(f, "a", 100);
    wfp_guid b = fx_sublayer(f, "b", 100);
    wfp_guid c = fx_sublayer(f, "c", 100);
    const wfp_sublayer *sa, *sb, *sc;
    assert_int_equal(wfp_sublayer_get_by_key(f->s, &a, &sa), 0);
    assert_int_equal(sa->weight, 100);
    assert_int_equal(wfp_sublayer_get_by_key(f->s, &b, &sb), 0);
    assert_int_equal(sb->weight, 99); /* sim-defined tie: the lower neighbour */
    assert_int_equal(wfp_sublayer_get_by_key(f->s, &c, &sc), 0);
    assert_int_equal(sc->weight, 101);
}

/* EVIDENCE: OBJ-LIFETIME C50 — spec §9.5 FWP_E_LIFETIME_MISMATCH: persistent filter in a non-persistent sublayer */
static void lifetimes_must_nest(void **state)
{
    fx *f = *state;
    wfp_guid s = fx_sublayer(f, "static", 10);
    wfp_filter flt = basic_filter("persist", L_CONNECT);
    flt.flags = FWPM_FILTER_FLAG_PERSISTENT;
    flt.sublayer_key = s;
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), FWP_E_LIFETIME_MISMATCH);
    flt.sublayer_key = wfp_catalog_sublayer_by_name("UNIVERSAL")->key; /* built-in: fine */
    assert_int_equal(wfp_filter_add(f->s, &flt, NULL), 0);

    /* EVIDENCE: OBJ-LIFETIME-SAME-PROVIDER — spec §9.4: no persistent reference to another provider's persistent object */
    wfp_provider pa, pb;
    memset(&pa, 0, sizeof pa);
    memset(&pb, 0, sizeof pb);
    pa.key = fx_key("provider", "A");
    pa.display.name = "A";
    pa.flags = FWPM_PROVIDER_FLAG_PERSISTENT;
    pb = pa;
    pb.key = fx_key("provider", "B");
    pb.display.name = "B";
    assert_int_equal(wfp_provider_add(f->s, &pa), 0);
    assert_int_equal(wfp_provider_add(f->s, &pb), 0);
    wfp_sublayer sa;
    memset(&sa, 0, sizeof sa);
    sa.key = fx_key("sublayer", "A-sub");
    sa.display.name = "A-sub";
    sa.flags = FWPM_SUBLAYER_FLAG_PERSISTENT;
    sa.provider_key = &pa.key;
    sa.weight = 0x4000;
    assert_int_equal(wfp_sublayer_add(f->s, &sa), 0);
    wfp_filter fb = basic_filter("B-filter", L_CONNECT);
    fb.flags = FWPM_FILTER_FLAG_PERSISTENT;
    fb.provider_key = &pb.key;
    fb.sublayer_key = sa.key;
    assert_int_equal(wfp_filter_add(f->s, &fb, NULL), FWP_E_LIFETIME_MISMATCH);
    fb.provider_key = &pa.key;
    assert_int_equal(wfp_filter_add(f->s, &fb, NULL), 0);
}

/* EVIDENCE: OBJ-DYNAMIC-SESSION C43 C44 — SDK FWPM_SESSION0 FWPM_SESSION_FLAG_DYNAMIC; Fwpm*Delete* WRONG_SESSION / DYNAMIC_SESSION_IN_PROGRESS */
static void dynamic_sessions_own_their_objects(void **state)
{
    fx *f = *state;
    wfp_session *dyn1 = NULL, *dyn2 = NULL;
    wfp_session_desc d = {0};
    d.flags = FWPM_SESSION_FLAG_DYNAMIC;
    d.admin = true;
    assert_int_equal(wfp_session_open(f->e, &d, &dyn1), 0);
    assert_int_equal(wfp_session_open(f->e, &d, &dyn2), 0);

    wfp_filter flt = basic_filter("vpn", L_CONNECT);
    uint64_t id = 0;
    assert_int_equal(wfp_filter_add(dyn1, &flt, &id), 0);
    uint64_t static_id = fx_filter(f, "static", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, 0);

    assert_int_equal(wfp_filter_delete_by_id(dyn2, id), FWP_E_WRONG_SESSION);
    assert_int_equal(wfp_filter_delete_by_id(dyn1, static_id), FWP_E_DYNAMIC_SESSION_IN_PROGRESS);
    /* a static object may not reference a dynamic one */
    wfp_sublayer s;
    memset(&s, 0, sizeof s);
    s.key = fx_key("sublayer", "dyn");
    s.display.name = "dyn";
    s.weight = 7;
    assert_int_equal(wfp_sublayer_add(dyn1, &s), 0);
    wfp_filter in_dyn = basic_filter("static-in-dyn", L_CONNECT);
    in_dyn.sublayer_key = s.key;
    assert_int_equal(wfp_filter_add(f->s, &in_dyn, NULL), FWP_E_LIFETIME_MISMATCH);

    /* EVIDENCE: OBJ-LIFETIME-SAME-SESSION — spec §9.4: a dynamic object may reference only its own session's dynamic objects */
    wfp_filter cross = basic_filter("cross", L_CONNECT);
    cross.sublayer_key = s.key;
    assert_int_equal(wfp_filter_add(dyn2, &cross, NULL), FWP_E_LIFETIME_MISMATCH);
    wfp_filter own = basic_filter("own", L_CONNECT);
    own.sublayer_key = s.key;
    assert_int_equal(wfp_filter_add(dyn1, &own, NULL), 0);

    wfp_session_close(dyn1); /* takes the filter and the sublayer with it */
    assert_null(wfp_engine_filter_by_id(f->e, id));
    assert_null(wfp_engine_sublayer_by_key(f->e, &s.key));
    assert_non_null(wfp_engine_filter_by_id(f->e, static_id));
    wfp_session_close(dyn2);
}

static int refuse_calls;
static uint32_t refuse_notify(void *ctx, uint32_t type, const wfp_guid *key, const wfp_fwps_filter *flt)
{
    int *log = ctx;
    *log = *log * 10 + (int)type + 1;
    refuse_calls++;
    return type == FWPS_CALLOUT_NOTIFY_ADD_FILTER && flt->filter_id && flt->management &&
                   !strcmp(flt->management->display.name, "refused")
               ? 1u
               : 0u;
}

static void noop_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                          void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                          wfp_classify_out *out)
{
}

/* EVIDENCE: OBJ-CALLOUT-NOTIFY C54 — DDI notifyFn: an ADD failure aborts the add (FWP_E_CALLOUT_NOTIFICATION_FAILED); DELETE cannot */
static void callout_notify_can_refuse_adds(void **state)
{
    fx *f = *state;
    int log = 0;
    wfp_guid c = fx_callout(f, "picky", L_CONNECT);
    wfp_callout_registration r;
    memset(&r, 0, sizeof r);
    r.callout_key = c;
    r.classify = noop_classify;
    r.notify = refuse_notify;
    r.ctx = &log;
    assert_int_equal(wfp_callout_register(f->e, &r, NULL), 0);
    assert_int_equal(wfp_callout_register(f->e, &r, NULL), FWP_E_ALREADY_EXISTS);

    char before[16384], after[16384];
    wfp_engine_dump(f->e, before, sizeof before);
    uint32_t rc;
    fx_filter_ex(f, "refused", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0, NULL, 0, &rc);
    assert_int_equal(rc, FWP_E_CALLOUT_NOTIFICATION_FAILED);
    wfp_engine_dump(f->e, after, sizeof after);
    assert_string_equal(before, after);

    uint64_t id = fx_callout_filter(f, "accepted", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &c, 0);
    assert_int_equal(wfp_filter_delete_by_id(f->s, id), 0);
    assert_int_equal(log, 1 * 100 + 1 * 10 + 2); /* add(refused), add, delete */
    const wfp_callout *co;
    assert_int_equal(wfp_callout_get_by_key(f->s, &c, &co), 0);
    assert_true(co->flags & FWPM_CALLOUT_FLAG_REGISTERED);
}

/* Keys and ids: zero keys are generated, ids grow, get by key and id agree. */
static void keys_and_ids(void **state)
{
    fx *f = *state;
    wfp_filter a = basic_filter("a", L_CONNECT), b = basic_filter("b", L_CONNECT);
    memset(&a.key, 0, sizeof a.key);
    memset(&b.key, 0, sizeof b.key);
    uint64_t ia, ib;
    assert_int_equal(wfp_filter_add(f->s, &a, &ia), 0);
    assert_int_equal(wfp_filter_add(f->s, &b, &ib), 0);
    assert_true(ib > ia);
    const wfp_filter *ga, *gk;
    assert_int_equal(wfp_filter_get_by_id(f->s, ia, &ga), 0);
    assert_false(wfp_guid_is_null(&ga->key));
    assert_int_equal(wfp_filter_get_by_key(f->s, &ga->key, &gk), 0);
    assert_ptr_equal(ga, gk);
    assert_int_equal(gk->filter_id, ia);
    assert_int_equal(wfp_filter_delete_by_key(f->s, &ga->key), 0);
    assert_int_equal(wfp_filter_get_by_id(f->s, ia, &ga), FWP_E_FILTER_NOT_FOUND);
}

/* EVIDENCE: OBJ-CONDITION-FIELD — a condition must name a field of the filter's layer (FWP_E_CONDITION_NOT_FOUND, inferred) */
static void conditions_must_name_layer_fields(void **state)
{
    fx *f = *state;
    uint32_t rc;
    wfp_condition c = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 80);
    fx_filter_ex(f, "f", "ALE_AUTH_LISTEN_V4", NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0, &c, 1, &rc);
    assert_int_equal(rc, FWP_E_CONDITION_NOT_FOUND);
    /* EVIDENCE: C23 — no implicit conversion: a UINT32 value on a UINT16 field */
    c = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT32, 80);
    fx_filter_ex(f, "g", L_CONNECT, NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0, &c, 1, &rc);
    assert_int_equal(rc, FWP_E_TYPE_MISMATCH);
}

/* ---- all or nothing under allocation failure -------------------------------- */

typedef struct failing {
    long countdown; /* fail when it reaches 0; negative: never */
    long calls;
} failing;

static void *fail_alloc(void *ctx, size_t n)
{
    failing *fa = ctx;
    fa->calls++;
    if (fa->countdown >= 0 && fa->countdown-- == 0) return NULL;
    return malloc(n ? n : 1);
}

static void *fail_realloc(void *ctx, void *p, size_t n)
{
    failing *fa = ctx;
    fa->calls++;
    if (fa->countdown >= 0 && fa->countdown-- == 0) return NULL;
    return realloc(p, n ? n : 1);
}

static void fail_free(void *ctx, void *p)
{
    free(p);
}

/* EVIDENCE: INV-ALL-OR-NOTHING — DESIGN invariant 5: a failed operation leaves no trace */
static void failed_adds_leave_no_trace(void **state)
{
    (void)state;
    failing fa = {-1, 0};
    wfp_allocator a = {fail_alloc, fail_realloc, fail_free, &fa};
    wfp_engine_config cfg = {&a, WFP_OR_GROUP_BY_FIELD, false};
    wfp_engine *e = wfp_engine_create(&cfg);
    assert_non_null(e);
    wfp_session *s;
    wfp_session_desc d = {0};
    d.admin = true;
    assert_int_equal(wfp_session_open(e, &d, &s), 0);

    static char before[1 << 16], after[1 << 16];
    wfp_condition c[2] = {
        fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 80),
        fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 443),
    };
    wfp_filter flt = basic_filter("f", L_CONNECT);
    flt.conditions = c;
    flt.num_conditions = 2;
    memset(&flt.key, 0, sizeof flt.key); /* exercise key generation too */

    /* every allocation of the add fails once, in turn, until the add succeeds */
    for (long k = 0;; k++) {
        wfp_engine_dump(e, before, sizeof before);
        fa.countdown = k;
        uint32_t rc = wfp_filter_add(s, &flt, NULL);
        fa.countdown = -1;
        if (rc == 0) {
            assert_true(k > 0);
            break;
        }
        assert_int_equal(rc, ERROR_NOT_ENOUGH_MEMORY);
        wfp_engine_dump(e, after, sizeof after);
        assert_string_equal(before, after);
        assert_true(k < 1000);
    }
    /* classification snapshot builds survive failures too: the verdict is right afterwards */
    const wfp_layer_info *l = wfp_catalog_layer_by_name(L_CONNECT);
    wfp_value vals[64];
    memset(vals, 0, sizeof vals);
    int port = wfp_catalog_field_index(l, &wfp_catalog_condition_by_name("IP_REMOTE_PORT")->key);
    vals[port].type = FWP_UINT16;
    vals[port].v.u16 = 443;
    wfp_classify_request r = {l->id, vals, l->num_fields, NULL, NULL, NULL, 0, false, 0};
    wfp_verdict v;
    for (long k = 0;; k++) {
        fa.countdown = k;
        uint32_t rc = wfp_classify(e, &r, &v, NULL);
        fa.countdown = -1;
        if (rc == 0) break;
        assert_int_equal(rc, ERROR_NOT_ENOUGH_MEMORY);
        assert_true(k < 1000);
    }
    assert_int_equal(v.action, FWP_ACTION_BLOCK);
    wfp_session_close(s);
    wfp_engine_destroy(e);
}

/* Many engines live side by side (DESIGN invariant 1). */
static void engines_are_independent_values(void **state)
{
    (void)state;
    wfp_engine *a = wfp_engine_create(NULL), *b = wfp_engine_create(NULL);
    wfp_session *sa, *sb;
    wfp_session_desc d = {0};
    assert_int_equal(wfp_session_open(a, &d, &sa), 0);
    assert_int_equal(wfp_session_open(b, &d, &sb), 0);
    wfp_filter flt = basic_filter("only-in-a", L_CONNECT);
    uint64_t id;
    assert_int_equal(wfp_filter_add(sa, &flt, &id), 0);
    assert_non_null(wfp_engine_filter_by_id(a, id));
    assert_null(wfp_engine_filter_by_id(b, id));
    wfp_session_close(sa);
    wfp_session_close(sb);
    wfp_engine_destroy(a);
    wfp_engine_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(duplicate_keys_are_refused),
        T(missing_references_are_refused),
        T(only_settable_actions),
        T(permit_if_unregistered_needs_a_callout_action),
        T(persistent_and_boottime_exclude_each_other),
        T(callout_must_match_the_filter_layer),
        T(callouts_only_at_kernel_layers),
        T(referenced_objects_are_in_use),
        T(builtins_exist_and_cannot_be_deleted),
        T(default_sublayer_is_universal),
        T(effective_weight_forms),
        T(weight_range_dominates_auto),
        T(sublayer_weights_stay_distinct),
        T(lifetimes_must_nest),
        T(dynamic_sessions_own_their_objects),
        T(callout_notify_can_refuse_adds),
        T(keys_and_ids),
        T(conditions_must_name_layer_fields),
        cmocka_unit_test(failed_adds_leave_no_trace),
        cmocka_unit_test(engines_are_independent_values),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
