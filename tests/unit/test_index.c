/* test_index.c — the fast index against the reference classifier (DESIGN
 * invariant 4): random policies and random packets through two engines,
 * one with reference_only, must give the same verdict, the same deciding
 * filter, the same hardness, veto and reason, the same decision in every
 * sublayer, and call the same callouts the same number of times. */
#include "engine_fixture.h"

#define L_CONNECT "ALE_AUTH_CONNECT_V4"

typedef struct prng {
    uint64_t s;
} prng;

static uint64_t next(prng *r)
{
    /* xorshift64*: deterministic on every platform */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

static uint64_t below(prng *r, uint64_t n)
{
    return n ? next(r) % n : 0;
}

typedef struct counter {
    int calls;
    uint32_t action;
    bool clear;
} counter;

static void counting_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                              void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                              wfp_classify_out *out)
{
    counter *c = ctx;
    c->calls++;
    if (!(out->rights & FWPS_RIGHT_ACTION_WRITE) && c->action != FWP_ACTION_BLOCK) return;
    out->action_type = c->action;
    if (c->clear) out->rights &= ~FWPS_RIGHT_ACTION_WRITE;
}

static const char *const fields[] = {"IP_PROTOCOL", "IP_REMOTE_PORT", "IP_LOCAL_PORT", "IP_REMOTE_ADDRESS", "FLAGS"};
static const uint32_t types[] = {FWP_UINT8, FWP_UINT16, FWP_UINT16, FWP_UINT32, FWP_UINT32};

/* A random condition on a random field, from small value pools so that
 * filters overlap and packets match. */
static wfp_condition random_condition(prng *r)
{
    wfp_condition c;
    memset(&c, 0, sizeof c);
    size_t f = (size_t)below(r, 5);
    uint32_t t = types[f];
    c.field_key = wfp_catalog_condition_by_name(fields[f])->key;
    uint64_t pool = f == 0 ? 4 : f == 3 ? 16 : 20;
    uint64_t v = f == 0 ? 6 + below(r, pool) : f == 3 ? 0x0a000000u + (below(r, pool) << 8) : 1000 + below(r, pool);
    if (f == 4) {
        static const uint32_t fl[] = {FWP_MATCH_FLAGS_ALL_SET, FWP_MATCH_FLAGS_ANY_SET, FWP_MATCH_FLAGS_NONE_SET};
        c.match_type = fl[below(r, 3)];
        c.value.type = c.value.u.value.type = FWP_UINT32;
        c.value.u.value.v.u32 = 1u << below(r, 4);
        return c;
    }
    switch (below(r, 9)) {
    case 0: /* range */
        c.match_type = FWP_MATCH_RANGE;
        c.value.type = FWP_RANGE_TYPE;
        c.value.u.range.low.type = c.value.u.range.high.type = t;
        if (t == FWP_UINT8) {
            c.value.u.range.low.v.u8 = (uint8_t)v;
            c.value.u.range.high.v.u8 = (uint8_t)(v + below(r, 3));
        } else if (t == FWP_UINT16) {
            c.value.u.range.low.v.u16 = (uint16_t)v;
            c.value.u.range.high.v.u16 = (uint16_t)(v + below(r, 8));
        } else {
            c.value.u.range.low.v.u32 = (uint32_t)v;
            c.value.u.range.high.v.u32 = (uint32_t)(v + below(r, 2048));
        }
        return c;
    case 1: c.match_type = FWP_MATCH_NOT_EQUAL; break;
    case 2: c.match_type = FWP_MATCH_GREATER; break;
    case 3: c.match_type = FWP_MATCH_LESS_OR_EQUAL; break;
    case 4: /* FWP_EMPTY: matches only unknown values */
        c.match_type = FWP_MATCH_EQUAL;
        c.value.type = FWP_EMPTY;
        return c;
    case 5:
        if (t == FWP_UINT32) { /* an address mask */
            c.match_type = FWP_MATCH_EQUAL;
            c.value.type = FWP_V4_ADDR_MASK;
            c.value.u.v4.addr = (uint32_t)v;
            c.value.u.v4.mask = 0xffffffffu << (8 + below(r, 6));
            return c;
        }
        c.match_type = FWP_MATCH_EQUAL;
        break;
    default: c.match_type = FWP_MATCH_EQUAL; break;
    }
    c.value.type = c.value.u.value.type = t;
    if (t == FWP_UINT8) c.value.u.value.v.u8 = (uint8_t)v;
    else if (t == FWP_UINT16) c.value.u.value.v.u16 = (uint16_t)v;
    else c.value.u.value.v.u32 = (uint32_t)v;
    return c;
}

static void build(wfp_engine *e, uint64_t seed, int nfilters, counter *counters)
{
    prng r = {seed};
    wfp_session *s;
    wfp_session_desc d = {0};
    d.admin = true;
    assert_int_equal(wfp_session_open(e, &d, &s), 0);
    const wfp_layer_info *l = wfp_catalog_layer_by_name(L_CONNECT);
    wfp_guid subs[3];
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        wfp_sublayer sl = {0};
        wfp_guid_from_name("sublayer", name, &sl.key);
        sl.display.name = name;
        sl.weight = (uint16_t)(0x4000 + 0x100 * i);
        assert_int_equal(wfp_sublayer_add(s, &sl), 0);
        subs[i] = sl.key;
    }
    wfp_guid callouts[4];
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        wfp_callout co = {0};
        wfp_guid_from_name("callout", name, &co.key);
        co.display.name = name;
        co.applicable_layer = l->key;
        assert_int_equal(wfp_callout_add(s, &co, NULL), 0);
        callouts[i] = co.key;
        counters[i].action = i == 0 ? FWP_ACTION_CONTINUE : i == 1 ? FWP_ACTION_BLOCK : FWP_ACTION_PERMIT;
        counters[i].clear = i != 3;
        wfp_callout_registration reg = {co.key, 0, counting_classify, NULL, NULL, &counters[i]};
        assert_int_equal(wfp_callout_register(e, &reg, NULL), 0);
    }
    for (int i = 0; i < nfilters; i++) {
        wfp_condition conds[4];
        uint32_t n = (uint32_t)below(&r, 5);
        for (uint32_t k = 0; k < n; k++) conds[k] = random_condition(&r);
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        wfp_filter f;
        memset(&f, 0, sizeof f);
        wfp_guid_from_name("filter", name, &f.key);
        f.display.name = name;
        f.layer_key = l->key;
        f.sublayer_key = subs[below(&r, 3)];
        f.weight.type = FWP_UINT64;
        f.weight.v.u64 = 16 + below(&r, 50); /* ties happen: broken by id in both */
        static const uint32_t actions[] = {FWP_ACTION_PERMIT, FWP_ACTION_BLOCK, FWP_ACTION_CALLOUT_TERMINATING,
                                           FWP_ACTION_CALLOUT_INSPECTION, FWP_ACTION_CALLOUT_UNKNOWN};
        f.action.type = actions[below(&r, 5)];
        if (f.action.type & FWP_ACTION_FLAG_CALLOUT) f.action.key = callouts[below(&r, 4)];
        if (f.action.type == FWP_ACTION_PERMIT && below(&r, 3) == 0) f.flags = FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT;
        f.num_conditions = n;
        f.conditions = conds;
        assert_int_equal(wfp_filter_add(s, &f, NULL), 0);
    }
    wfp_session_close(s);
}

static void random_values(prng *r, const wfp_layer_info *l, wfp_value *v)
{
    memset(v, 0, 64 * sizeof *v);
    for (size_t f = 0; f < 5; f++) {
        if (below(r, 8) == 0) continue; /* FWP_EMPTY now and then */
        int i = wfp_catalog_field_index(l, &wfp_catalog_condition_by_name(fields[f])->key);
        v[i].type = types[f];
        uint64_t x = f == 0 ? 5 + below(r, 6) : f == 3 ? 0x0a000000u + below(r, 0x2000) : f == 4 ? below(r, 16)
                                                                                               : 998 + below(r, 24);
        if (types[f] == FWP_UINT8) v[i].v.u8 = (uint8_t)x;
        else if (types[f] == FWP_UINT16) v[i].v.u16 = (uint16_t)x;
        else v[i].v.u32 = (uint32_t)x;
    }
}

/* EVIDENCE: INV-INDEX-AGREES — DESIGN invariant 4: every fast path agrees with the reference classifier */
static void index_agrees_with_reference(void **state)
{
    (void)state;
    static const int sizes[] = {5, 40, 300, 1500};
    int total_blocks = 0, total = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (uint64_t seed = 1; seed <= 6; seed++) {
            wfp_engine_config ref_cfg = {NULL, WFP_OR_GROUP_BY_FIELD, true}, fast_cfg = {NULL, WFP_OR_GROUP_BY_FIELD, false};
            wfp_engine *ref = wfp_engine_create(&ref_cfg), *fast = wfp_engine_create(&fast_cfg);
            counter cref[4] = {0}, cfast[4] = {0};
            build(ref, seed * 7919, sizes[si], cref);
            build(fast, seed * 7919, sizes[si], cfast);
            const wfp_layer_info *l = wfp_catalog_layer_by_name(L_CONNECT);
            wfp_trace *tr = wfp_trace_create(NULL), *tf = wfp_trace_create(NULL);
            prng r = {seed * 104729};
            int blocks = 0;
            for (int p = 0; p < 400; p++) {
                wfp_value v[64];
                random_values(&r, l, v);
                wfp_classify_request q = {l->id, v, l->num_fields, NULL, NULL, NULL, 0, false, 0};
                wfp_verdict a, b;
                assert_int_equal(wfp_classify(ref, &q, &a, tr), 0);
                assert_int_equal(wfp_classify(fast, &q, &b, tf), 0);
                assert_int_equal(a.action, b.action);
                assert_int_equal(a.filter_id, b.filter_id);
                assert_int_equal(a.hard, b.hard);
                assert_int_equal(a.vetoed, b.vetoed);
                assert_int_equal(a.reason, b.reason);
                assert_int_equal(wfp_trace_sublayer_count(tr), wfp_trace_sublayer_count(tf));
                for (size_t k = 0; k < wfp_trace_sublayer_count(tr); k++) {
                    const wfp_trace_sublayer *x = wfp_trace_sublayer_at(tr, k), *y = wfp_trace_sublayer_at(tf, k);
                    assert_int_equal(x->action, y->action);
                    assert_int_equal(x->filter_id, y->filter_id);
                    assert_int_equal(x->effect, y->effect);
                }
                /* the index never tries more filters than the reference */
                assert_true(wfp_trace_step_count(tf) <= wfp_trace_step_count(tr));
                blocks += a.action == FWP_ACTION_BLOCK;
            }
            for (int i = 0; i < 4; i++) assert_int_equal(cref[i].calls, cfast[i].calls);
            total_blocks += blocks;
            total += 400;
            wfp_trace_destroy(tr);
            wfp_trace_destroy(tf);
            wfp_engine_destroy(ref);
            wfp_engine_destroy(fast);
        }
    }
    /* the workload exercised both outcomes */
    assert_true(total_blocks > total / 10 && total_blocks < total - total / 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(index_agrees_with_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
