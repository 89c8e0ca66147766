/* test_enum.c — enumeration handles and filter enum templates (wfp_enum.h):
 * snapshots and paging, SORTED and BEST_TERMINATING_MATCH, boot-time and
 * disabled filters, the template's layer, provider, action mask, callout
 * and conditions (FULLY_CONTAINED vs OVERLAPPING), validation errors, access
 * rights, handle misuse, and the template copy used by subscriptions.
 *
 * Each test names the documented behaviour it pins with an EVIDENCE marker;
 * "sim-defined" marks choices recorded in docs/sim-defined.md. */
#include "engine_fixture.h"

#include <stdio.h>

#include "engine_int.h" /* wfpi_filter_template_copy / free */
#include "wfp_enum.h"

#define CONNECT_V4 "ALE_AUTH_CONNECT_V4"
#define CONNECT_V6 "ALE_AUTH_CONNECT_V6"
#define ACCEPT_V4 "ALE_AUTH_RECV_ACCEPT_V4"

/* ---- helpers -------------------------------------------------------------- */

typedef struct fspec {
    const char *layer;
    const wfp_guid *sublayer;
    uint64_t weight;
    uint32_t action;
    const wfp_guid *callout;
    uint32_t flags;
    const wfp_guid *provider;
    const wfp_condition *conds;
    uint32_t nconds;
} fspec;

static uint64_t add(fx *f, const char *name, const fspec *sp)
{
    wfp_filter flt;
    uint64_t id = 0;
    memset(&flt, 0, sizeof flt);
    flt.key = fx_key("filter", name);
    flt.display.name = name;
    flt.layer_key = fx_layer(sp->layer ? sp->layer : CONNECT_V4)->key;
    if (sp->sublayer) flt.sublayer_key = *sp->sublayer;
    if (sp->weight == FX_AUTO) {
        flt.weight.type = FWP_EMPTY;
    } else if (sp->weight < 16) {
        flt.weight.type = FWP_UINT8;
        flt.weight.v.u8 = (uint8_t)sp->weight;
    } else {
        flt.weight.type = FWP_UINT64;
        flt.weight.v.u64 = sp->weight;
    }
    flt.action.type = sp->action ? sp->action : FWP_ACTION_PERMIT;
    if (sp->callout) flt.action.key = *sp->callout;
    flt.flags = sp->flags;
    flt.provider_key = sp->provider;
    flt.conditions = sp->conds;
    flt.num_conditions = sp->nconds;
    uint32_t rc = wfp_filter_add(f->s, &flt, &id);
    if (rc) fail_msg("filter '%s': 0x%x %s", name, (unsigned)rc, wfp_engine_last_error(f->e));
    return id;
}

/* A plain permit filter with conditions at ALE_AUTH_CONNECT_V4. */
static uint64_t add_c(fx *f, const char *name, const wfp_condition *conds, uint32_t n)
{
    fspec sp = {0};
    sp.weight = FX_AUTO;
    sp.conds = conds;
    sp.nconds = n;
    return add(f, name, &sp);
}

/* Names of the filters a handle returns, comma-separated, in order. */
static void drain(fx *f, wfp_session *s, wfp_enum *h, uint32_t page, char *out, size_t n)
{
    const wfp_filter *const *entries;
    uint32_t got;
    size_t len = 0;
    out[0] = 0;
    do {
        assert_int_equal(wfp_filter_enum_next(s, h, page, &entries, &got), ERROR_SUCCESS);
        assert_true(got <= page);
        for (uint32_t i = 0; i < got; i++)
            len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", entries[i]->display.name);
    } while (got == page);
    (void)f;
}

static uint32_t list_with(fx *f, wfp_session *s, const wfp_filter_enum_template *t, char *out, size_t n)
{
    wfp_enum *h = NULL;
    uint32_t rc = wfp_filter_enum_create(s, t, &h);
    out[0] = 0;
    if (rc) {
        assert_null(h);
        return rc;
    }
    drain(f, s, h, 100, out, n);
    assert_int_equal(wfp_enum_destroy(s, h), ERROR_SUCCESS);
    return ERROR_SUCCESS;
}

static const char *list_into(fx *f, const wfp_filter_enum_template *t, char *buf, size_t n)
{
    uint32_t rc = list_with(f, f->s, t, buf, n);
    if (rc) fail_msg("enum create: 0x%x %s", (unsigned)rc, wfp_engine_last_error(f->e));
    return buf;
}

/* The names an admin session enumerates with a template (needs `lbuf` in scope). */
#define list(f, t) list_into((f), (t), lbuf, sizeof lbuf)

static wfp_filter_enum_template tmpl_layer(const char *layer)
{
    wfp_filter_enum_template t;
    memset(&t, 0, sizeof t);
    if (layer) t.layer_key = fx_layer(layer)->key;
    t.action_mask = 0xFFFFFFFFu;
    return t;
}

static wfp_condition cond_v4(const char *field, const char *addr, unsigned prefix)
{
    wfp_condition c;
    memset(&c, 0, sizeof c);
    c.field_key = wfp_catalog_condition_by_name(field)->key;
    c.match_type = FWP_MATCH_EQUAL;
    c.value.type = FWP_V4_ADDR_MASK;
    assert_true(wfp_ipv4_parse(addr, &c.value.u.v4.addr));
    c.value.u.v4.mask = prefix ? 0xFFFFFFFFu << (32 - prefix) : 0;
    return c;
}

static wfp_condition cond_v6(const char *field, const char *addr, unsigned prefix)
{
    wfp_condition c;
    memset(&c, 0, sizeof c);
    c.field_key = wfp_catalog_condition_by_name(field)->key;
    c.match_type = FWP_MATCH_EQUAL;
    c.value.type = FWP_V6_ADDR_MASK;
    assert_true(wfp_ipv6_parse(addr, c.value.u.v6.addr));
    c.value.u.v6.prefix_length = (uint8_t)prefix;
    return c;
}

static wfp_condition cond_range16(const char *field, uint16_t lo, uint16_t hi)
{
    wfp_condition c;
    memset(&c, 0, sizeof c);
    c.field_key = wfp_catalog_condition_by_name(field)->key;
    c.match_type = FWP_MATCH_RANGE;
    c.value.type = FWP_RANGE_TYPE;
    c.value.u.range.low.type = c.value.u.range.high.type = FWP_UINT16;
    c.value.u.range.low.v.u16 = lo;
    c.value.u.range.high.v.u16 = hi;
    return c;
}

static wfp_condition cond_port(uint32_t match, uint16_t port)
{
    return fx_cond_u("IP_REMOTE_PORT", match, FWP_UINT16, port);
}

static wfp_condition cond_blob(const char *field, uint32_t match, uint32_t type, const uint8_t *data, uint32_t size)
{
    wfp_condition c;
    memset(&c, 0, sizeof c);
    c.field_key = wfp_catalog_condition_by_name(field)->key;
    c.match_type = match;
    c.value.type = type;
    c.value.u.value.type = type;
    c.value.u.value.v.blob.data = data;
    c.value.u.value.v.blob.size = size;
    return c;
}

/* ---- snapshots, paging, order ------------------------------------------- */

/* EVIDENCE: C55 — SDK FwpmFilterCreateEnumHandle0 ("the enumerator is not live"), FwpmFilterEnum0 (fewer than requested ⇒ done) */
static void test_snapshot_and_paging(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    const wfp_filter *const *entries;
    wfp_enum *h;
    uint32_t got;
    char buf[256];

    add_c(f, "a", NULL, 0);
    add_c(f, "b", NULL, 0);
    add_c(f, "c", NULL, 0);
    assert_int_equal(wfp_filter_enum_create(f->s, &t, &h), ERROR_SUCCESS);
    add_c(f, "d", NULL, 0); /* after the snapshot: not returned */
    assert_int_equal(wfp_filter_enum_next(f->s, h, 10, &entries, &got), ERROR_SUCCESS);
    assert_int_equal(got, 3); /* 3 < 10: exhausted */
    assert_string_equal(entries[0]->display.name, "a");
    assert_string_equal(entries[2]->display.name, "c");
    assert_int_equal(wfp_filter_enum_next(f->s, h, 10, &entries, &got), ERROR_SUCCESS);
    assert_int_equal(got, 0);
    assert_null(entries);
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);

    /* pages of two */
    assert_int_equal(wfp_filter_enum_create(f->s, &t, &h), ERROR_SUCCESS);
    assert_int_equal(wfp_filter_enum_next(f->s, h, 2, &entries, &got), ERROR_SUCCESS);
    assert_int_equal(got, 2);
    assert_string_equal(entries[1]->display.name, "b");
    assert_int_equal(wfp_filter_enum_next(f->s, h, 0, &entries, &got), ERROR_SUCCESS);
    assert_int_equal(got, 0);
    assert_int_equal(wfp_filter_enum_next(f->s, h, 2, &entries, &got), ERROR_SUCCESS);
    assert_int_equal(got, 2);
    assert_string_equal(entries[0]->display.name, "c");
    assert_string_equal(entries[1]->display.name, "d");
    assert_int_equal(wfp_filter_enum_next(f->s, h, 2, &entries, &got), ERROR_SUCCESS);
    assert_int_equal(got, 0);
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);

    /* sim-defined: a filter deleted after the snapshot is skipped */
    assert_int_equal(wfp_filter_enum_create(f->s, &t, &h), ERROR_SUCCESS);
    wfp_guid kb = fx_key("filter", "b");
    assert_int_equal(wfp_filter_delete_by_key(f->s, &kb), ERROR_SUCCESS);
    drain(f, f->s, h, 3, buf, sizeof buf);
    assert_string_equal(buf, "a,c,d");
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);

    /* no template: every (non-boot-time, enabled) filter */
    assert_string_equal(list(f, NULL), "a,c,d");
}

/* EVIDENCE: C55 — SDK FWPM_FILTER_ENUM_TEMPLATE0 flags: SORTED returns filters by weight, highest first */
static void test_sorted(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_guid hi = fx_sublayer(f, "hi", 0x9000), lo = fx_sublayer(f, "lo", 0x1000);
    fspec sp = {0};
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    const wfp_filter *const *order;
    uint32_t n;
    char expect[256] = "";
    size_t len = 0;

    sp.sublayer = &lo;
    sp.weight = 3;
    add(f, "lo3", &sp);
    sp.weight = 9;
    add(f, "lo9", &sp);
    sp.sublayer = &hi;
    sp.weight = 1;
    add(f, "hi1", &sp);
    sp.weight = 12;
    add(f, "hi12", &sp);
    sp.weight = 12;
    sp.flags = 0;
    add(f, "hi12b", &sp); /* same weight: ascending id */

    assert_string_equal(list(f, &t), "lo3,lo9,hi1,hi12,hi12b"); /* sim-defined: filter id order */
    t.flags = FWP_FILTER_ENUM_FLAG_SORTED;
    assert_string_equal(list(f, &t), "hi12,hi12b,hi1,lo9,lo3");
    /* the same order as the engine evaluates them */
    assert_int_equal(wfp_filter_list(f->e, &t.layer_key, &order, &n), ERROR_SUCCESS);
    for (uint32_t i = 0; i < n; i++) len += (size_t)snprintf(expect + len, sizeof expect - len, "%s%s", i ? "," : "", order[i]->display.name);
    assert_string_equal(list(f, &t), expect);
}

/* EVIDENCE: C55 — SDK FWPM_FILTER_ENUM_TEMPLATE0 flags: BEST_TERMINATING_MATCH returns only the terminating filter with the highest weight */
static void test_best_terminating_match(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_guid hi = fx_sublayer(f, "hi", 0x9000), lo = fx_sublayer(f, "lo", 0x1000);
    wfp_guid co = fx_callout(f, "inspect", CONNECT_V4);
    fspec sp = {0};
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);

    sp.sublayer = &hi;
    sp.weight = 15;
    sp.action = FWP_ACTION_CALLOUT_INSPECTION; /* not terminating */
    sp.callout = &co;
    add(f, "inspect15", &sp);
    sp.callout = NULL;
    sp.action = FWP_ACTION_BLOCK;
    sp.weight = 2;
    add(f, "block2", &sp);
    sp.action = FWP_ACTION_PERMIT;
    sp.weight = 7;
    add(f, "permit7", &sp);
    sp.sublayer = &lo;
    sp.weight = 14;
    add(f, "lo_permit14", &sp);
    sp.layer = ACCEPT_V4;
    sp.sublayer = NULL;
    sp.weight = 1;
    add(f, "accept1", &sp);

    t.flags = FWP_FILTER_ENUM_FLAG_BEST_TERMINATING_MATCH;
    /* the first terminating filter in evaluation order: the higher sublayer wins */
    assert_string_equal(list(f, &t), "permit7");
    t.action_mask = FWP_ACTION_BLOCK ^ FWP_ACTION_FLAG_TERMINATING;
    assert_string_equal(list(f, &t), "block2");
    /* wfpsim extension: every layer ⇒ one per layer, by layer id */
    t = tmpl_layer(NULL);
    t.flags = FWP_FILTER_ENUM_FLAG_BEST_TERMINATING_MATCH | FWP_FILTER_ENUM_FLAG_SORTED;
    assert_string_equal(list(f, &t), "accept1,permit7");
}

/* ---- boot-time and disabled filters ---------------------------------------- */

/* EVIDENCE: C51 — fwptypes.idl / SDK FWPM_FILTER_ENUM_TEMPLATE0: boot-time filters are listed only with INCLUDE_BOOTTIME (or BOOTTIME_ONLY) */
static void test_boottime_filters(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    fspec sp = {0};
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);

    sp.weight = FX_AUTO;
    add(f, "normal", &sp);
    sp.flags = FWPM_FILTER_FLAG_BOOTTIME;
    add(f, "boot", &sp);

    assert_string_equal(list(f, &t), "normal");
    assert_string_equal(list(f, NULL), "normal");
    t.flags = FWP_FILTER_ENUM_FLAG_INCLUDE_BOOTTIME;
    assert_string_equal(list(f, &t), "normal,boot");
    t.flags = FWP_FILTER_ENUM_FLAG_BOOTTIME_ONLY;
    assert_string_equal(list(f, &t), "boot");
    t.flags = FWP_FILTER_ENUM_FLAG_BOOTTIME_ONLY | FWP_FILTER_ENUM_FLAG_INCLUDE_BOOTTIME;
    assert_string_equal(list(f, &t), "boot"); /* INCLUDE_BOOTTIME ignored with BOOTTIME_ONLY */
}

/* EVIDENCE: ENUM-INCLUDE-DISABLED C52 — W32 object-management / SDK FWPM_FILTER_ENUM_TEMPLATE0: disabled filters are listed with INCLUDE_DISABLED */
static void test_disabled_filters(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_provider p;
    fspec sp = {0};
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_guid pk = fx_key("provider", "manual");
    const wfp_filter *got;

    memset(&p, 0, sizeof p);
    p.key = pk;
    p.display.name = "manual";
    p.flags = FWPM_PROVIDER_FLAG_PERSISTENT;
    p.service_name = "Svc";
    assert_int_equal(wfp_provider_add(f->s, &p), ERROR_SUCCESS);
    sp.weight = FX_AUTO;
    add(f, "enabled", &sp);
    sp.flags = FWPM_FILTER_FLAG_PERSISTENT;
    sp.provider = &pk;
    uint64_t id = add(f, "gated", &sp);
    assert_int_equal(wfp_engine_set_service_autostart(f->e, "Svc", false), ERROR_SUCCESS);
    wfp_engine_bfe_start(f->e);
    assert_int_equal(wfp_filter_get_by_id(f->s, id, &got), ERROR_SUCCESS);
    assert_true(got->flags & FWPM_FILTER_FLAG_DISABLED);

    assert_string_equal(list(f, &t), "enabled");
    t.flags = FWP_FILTER_ENUM_FLAG_INCLUDE_DISABLED;
    assert_string_equal(list(f, &t), "enabled,gated");
}

/* ---- template: layer, provider, action ------------------------------------- */

/* EVIDENCE: ENUM-TEMPLATE-LAYER — SDK FWPM_FILTER_ENUM_TEMPLATE0.layerKey; zero key = every layer is a wfpsim extension */
static void test_template_layer(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    fspec sp = {0};
    wfp_filter_enum_template t;
    char buf[64];

    sp.weight = FX_AUTO;
    add(f, "c4", &sp);
    sp.layer = CONNECT_V6;
    add(f, "c6", &sp);
    sp.layer = ACCEPT_V4;
    add(f, "a4", &sp);

    t = tmpl_layer(CONNECT_V6);
    assert_string_equal(list(f, &t), "c6");
    t = tmpl_layer(ACCEPT_V4);
    assert_string_equal(list(f, &t), "a4");
    t = tmpl_layer(NULL);
    assert_string_equal(list(f, &t), "c4,c6,a4");
    t.flags = FWP_FILTER_ENUM_FLAG_SORTED; /* every layer: by layer id, then evaluation order */
    assert_string_equal(list(f, &t), "a4,c4,c6");
    t.layer_key = fx_key("layer", "nonexistent");
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_LAYER_NOT_FOUND);
}

/* EVIDENCE: ENUM-TEMPLATE-PROVIDER — SDK FWPM_FILTER_ENUM_TEMPLATE0.providerKey */
static void test_template_provider(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_provider p;
    fspec sp = {0};
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_guid pk = fx_key("provider", "mine"), other = fx_key("provider", "other");

    memset(&p, 0, sizeof p);
    p.key = pk;
    p.display.name = "mine";
    assert_int_equal(wfp_provider_add(f->s, &p), ERROR_SUCCESS);
    p.key = other;
    p.display.name = "other";
    assert_int_equal(wfp_provider_add(f->s, &p), ERROR_SUCCESS);
    sp.weight = FX_AUTO;
    add(f, "none", &sp);
    sp.provider = &pk;
    add(f, "mine1", &sp);
    sp.provider = &other;
    add(f, "theirs", &sp);
    sp.provider = &pk;
    add(f, "mine2", &sp);

    t.provider_key = &pk;
    assert_string_equal(list(f, &t), "mine1,mine2");
    t.provider_key = &other;
    assert_string_equal(list(f, &t), "theirs");
    t.provider_key = NULL;
    assert_string_equal(list(f, &t), "none,mine1,theirs,mine2");
}

/* EVIDENCE: ENUM-TEMPLATE-ACTION-MASK — SDK FWPM_FILTER_ENUM_TEMPLATE0.actionMask ("at least one of the bits"; XOR examples; 0xFFFFFFFF ignores the action; calloutKey) */
static void test_template_action_mask(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_guid c1 = fx_callout(f, "c1", CONNECT_V4), c2 = fx_callout(f, "c2", CONNECT_V4);
    fspec sp = {0};
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    char buf[64];

    sp.weight = FX_AUTO;
    sp.action = FWP_ACTION_BLOCK;
    add(f, "block", &sp);
    sp.action = FWP_ACTION_PERMIT;
    add(f, "permit", &sp);
    sp.action = FWP_ACTION_CALLOUT_INSPECTION;
    sp.callout = &c1;
    add(f, "inspect_c1", &sp);
    sp.action = FWP_ACTION_CALLOUT_UNKNOWN;
    sp.callout = &c2;
    add(f, "unknown_c2", &sp);

    assert_string_equal(list(f, &t), "block,permit,inspect_c1,unknown_c2");
    t.action_mask = FWP_ACTION_BLOCK ^ FWP_ACTION_FLAG_TERMINATING; /* 0x1: BLOCK, and CALLOUT_UNKNOWN (0x4005) */
    assert_string_equal(list(f, &t), "block,unknown_c2");
    t.action_mask = FWP_ACTION_PERMIT ^ FWP_ACTION_FLAG_TERMINATING; /* 0x2 */
    assert_string_equal(list(f, &t), "permit");
    t.action_mask = FWP_ACTION_FLAG_TERMINATING;
    assert_string_equal(list(f, &t), "block,permit");
    t.action_mask = FWP_ACTION_FLAG_CALLOUT;
    assert_string_equal(list(f, &t), "inspect_c1,unknown_c2");
    t.callout_key = &c2;
    assert_string_equal(list(f, &t), "unknown_c2");
    t.action_mask = 0xFFFFFFFFu; /* ignores the action type, the callout key still applies */
    assert_string_equal(list(f, &t), "unknown_c2");

    /* templates that can match nothing */
    t.action_mask = FWP_ACTION_FLAG_TERMINATING;
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_NEVER_MATCH);
    t.callout_key = NULL;
    t.action_mask = 0;
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_NEVER_MATCH);
}

/* ---- template: conditions ------------------------------------------------- */

/* EVIDENCE: ENUM-TEMPLATE-CONDITIONS — SDK FWP_FILTER_ENUM_TYPE: FULLY_CONTAINED returns filters that fully contain the enum conditions; OVERLAPPING those that overlap them, including those */
static void test_template_conditions_ports(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_condition c80 = cond_port(FWP_MATCH_EQUAL, 80), c443 = cond_port(FWP_MATCH_EQUAL, 443);
    wfp_condition c8080 = cond_port(FWP_MATCH_EQUAL, 8080);
    wfp_condition low = cond_range16("IP_REMOTE_PORT", 1, 1024);
    wfp_condition web[2] = {c80, c443};
    wfp_condition net = cond_v4("IP_REMOTE_ADDRESS", "10.0.0.0", 8);
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_condition tc;

    add_c(f, "eq80", &c80, 1);
    add_c(f, "low", &low, 1);
    add_c(f, "web", web, 2);
    add_c(f, "any", NULL, 0);
    add_c(f, "eq8080", &c8080, 1);
    add_c(f, "net10", &net, 1); /* no port condition: every port */

    t.num_conditions = 1;
    t.conditions = &tc;
    tc = cond_port(FWP_MATCH_EQUAL, 80);
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "eq80,low,web,any,net10");
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "eq80,low,web,any,net10");

    tc = cond_range16("IP_REMOTE_PORT", 50, 100);
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "low,any,net10");
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "eq80,low,web,any,net10");

    tc = cond_port(FWP_MATCH_GREATER, 1024); /* 1025..65535 */
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "any,net10");
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "any,eq8080,net10");

    tc = cond_port(FWP_MATCH_NOT_EQUAL, 80); /* overlaps 443 and 8080, contained only by "everything" */
    assert_string_equal(list(f, &t), "low,web,any,eq8080,net10");
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "any,net10");

    /* EQUAL FWP_EMPTY: only filters that accept an unknown port */
    memset(&tc, 0, sizeof tc);
    tc.field_key = wfp_catalog_condition_by_name("IP_REMOTE_PORT")->key;
    tc.match_type = FWP_MATCH_EQUAL;
    assert_string_equal(list(f, &t), "any,net10");
}

/* EVIDENCE: ENUM-TEMPLATE-CONDITIONS — Microsoft WFPSampler HlprFwpmFilterConditionPrune: a template holding the first of a filter's same-field conditions finds it with FULLY_CONTAINED */
static void test_template_conditions_wfpsampler(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_condition web[3] = {cond_port(FWP_MATCH_EQUAL, 80), cond_port(FWP_MATCH_EQUAL, 443),
                            fx_cond_u("IP_PROTOCOL", FWP_MATCH_EQUAL, FWP_UINT8, 6)};
    wfp_condition pruned[2] = {web[0], web[2]};
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);

    add_c(f, "web", web, 3);
    wfp_condition udp = fx_cond_u("IP_PROTOCOL", FWP_MATCH_EQUAL, FWP_UINT8, 17);
    add_c(f, "udp", &udp, 1);
    t.conditions = pruned;
    t.num_conditions = 2;
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    t.flags = FWP_FILTER_ENUM_FLAG_INCLUDE_BOOTTIME | FWP_FILTER_ENUM_FLAG_INCLUDE_DISABLED;
    assert_string_equal(list(f, &t), "web");
}

/* EVIDENCE: ENUM-TEMPLATE-CONDITIONS — addresses: v4 masks and v6 prefixes compare as intervals */
static void test_template_conditions_addresses(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_condition n8 = cond_v4("IP_REMOTE_ADDRESS", "10.0.0.0", 8);
    wfp_condition n16 = cond_v4("IP_REMOTE_ADDRESS", "10.1.0.0", 16);
    wfp_condition host = fx_cond_u("IP_REMOTE_ADDRESS", FWP_MATCH_EQUAL, FWP_UINT32, 0x0A010203u); /* 10.1.2.3 */
    wfp_condition other = cond_v4("IP_REMOTE_ADDRESS", "192.168.0.0", 16);
    wfp_condition v6a = cond_v6("IP_REMOTE_ADDRESS", "2001:db8::", 32);
    wfp_condition v6b = cond_v6("IP_REMOTE_ADDRESS", "2001:db8:1::", 48);
    wfp_condition v6all = cond_v6("IP_REMOTE_ADDRESS", "::", 0);
    fspec sp = {0};
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_condition tc;

    add_c(f, "n8", &n8, 1);
    add_c(f, "n16", &n16, 1);
    add_c(f, "host", &host, 1);
    add_c(f, "other", &other, 1);
    t.num_conditions = 1;
    t.conditions = &tc;

    tc = cond_v4("IP_REMOTE_ADDRESS", "10.1.0.0", 16);
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "n8,n16");
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "n8,n16,host");
    tc = fx_cond_u("IP_REMOTE_ADDRESS", FWP_MATCH_EQUAL, FWP_UINT32, 0x0A010203u);
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "n8,n16,host");
    tc = cond_v4("IP_REMOTE_ADDRESS", "0.0.0.0", 0); /* everything */
    assert_string_equal(list(f, &t), "");
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "n8,n16,host,other");

    sp.layer = CONNECT_V6;
    sp.weight = FX_AUTO;
    sp.nconds = 1;
    sp.conds = &v6a;
    add(f, "v6a", &sp);
    sp.conds = &v6b;
    add(f, "v6b", &sp);
    sp.conds = &v6all;
    add(f, "v6all", &sp);
    t = tmpl_layer(CONNECT_V6);
    t.num_conditions = 1;
    t.conditions = &tc;
    tc = cond_v6("IP_REMOTE_ADDRESS", "2001:db8:1:2::", 64);
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "v6a,v6b,v6all");
    tc = cond_v6("IP_REMOTE_ADDRESS", "2001:db8::", 31);
    assert_string_equal(list(f, &t), "v6all");
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "v6a,v6b,v6all");
    tc = cond_v6("IP_REMOTE_ADDRESS", "2001:db9::", 32);
    assert_string_equal(list(f, &t), "v6all");
}

/* EVIDENCE: ENUM-TEMPLATE-CONDITIONS — flag tests (FLAGS_ALL_SET / ANY_SET / NONE_SET) compare exactly */
static void test_template_conditions_flags(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    const uint32_t LB = FWP_CONDITION_FLAG_IS_LOOPBACK, IPSEC = FWP_CONDITION_FLAG_IS_IPSEC_SECURED;
    wfp_condition lb = fx_cond_u("FLAGS", FWP_MATCH_FLAGS_ALL_SET, FWP_UINT32, LB);
    wfp_condition nolb = fx_cond_u("FLAGS", FWP_MATCH_FLAGS_NONE_SET, FWP_UINT32, LB);
    wfp_condition eq0 = fx_cond_u("FLAGS", FWP_MATCH_EQUAL, FWP_UINT32, 0);
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_condition tc;

    add_c(f, "loopback", &lb, 1);
    add_c(f, "not_loopback", &nolb, 1);
    add_c(f, "no_flags", &eq0, 1);
    t.num_conditions = 1;
    t.conditions = &tc;

    tc = fx_cond_u("FLAGS", FWP_MATCH_FLAGS_ALL_SET, FWP_UINT32, LB | IPSEC);
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "loopback");
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "loopback");
    tc = fx_cond_u("FLAGS", FWP_MATCH_FLAGS_ANY_SET, FWP_UINT32, LB | IPSEC);
    assert_string_equal(list(f, &t), "loopback,not_loopback");
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "");
    tc = fx_cond_u("FLAGS", FWP_MATCH_FLAGS_NONE_SET, FWP_UINT32, LB | IPSEC);
    assert_string_equal(list(f, &t), "not_loopback");
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "not_loopback,no_flags");
    /* flags mixed with order: LESS 2 is {0, 1} */
    tc = fx_cond_u("FLAGS", FWP_MATCH_LESS, FWP_UINT32, 2);
    assert_string_equal(list(f, &t), "loopback,not_loopback,no_flags");
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "");
    tc = fx_cond_u("FLAGS", FWP_MATCH_EQUAL, FWP_UINT32, 0);
    assert_string_equal(list(f, &t), "not_loopback,no_flags");
}

/* EVIDENCE: ENUM-TEMPLATE-CONDITIONS — spec §2.2: a SID on a token field in an enum template; blobs and strings by value */
static void test_template_conditions_users_and_apps(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    const wfp_allocator *a = wfp_allocator_default();
    uint8_t *sd = NULL, *app = NULL, *app2 = NULL, *suffix = NULL;
    uint32_t sd_len, app_len, app2_len, suffix_len;
    uint8_t sid[WFP_SID_MAX], sid2[WFP_SID_MAX];
    uint32_t sid_len, sid2_len;
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_condition tc, user, byapp, byapp2, bysuffix;

    assert_int_equal(wfp_sddl_parse(a, "O:SYG:SYD:(A;;CC;;;S-1-5-21-1-2-3-1001)", &sd, &sd_len, NULL), ERROR_SUCCESS);
    assert_true(wfp_sid_parse("S-1-5-21-1-2-3-1001", sid, &sid_len));
    assert_true(wfp_sid_parse("S-1-5-21-1-2-3-1002", sid2, &sid2_len));
    assert_true(wfp_app_id_from_path(a, "C:\\Apps\\Browser\\browser.exe", NULL, &app, &app_len));
    assert_true(wfp_app_id_from_path(a, "C:\\Other\\browser.exe", NULL, &app2, &app2_len));
    assert_true(wfp_app_id_from_path(a, "\\device\\x\\browser.exe", NULL, &suffix, &suffix_len));

    user = cond_blob("ALE_USER_ID", FWP_MATCH_EQUAL, FWP_SECURITY_DESCRIPTOR_TYPE, sd, sd_len);
    byapp = cond_blob("ALE_APP_ID", FWP_MATCH_EQUAL, FWP_BYTE_BLOB_TYPE, app, app_len);
    byapp2 = cond_blob("ALE_APP_ID", FWP_MATCH_EQUAL, FWP_BYTE_BLOB_TYPE, app2, app2_len);
    /* "\browser.exe" with its NUL: a suffix of both paths */
    bysuffix = cond_blob("ALE_APP_ID", FWP_MATCH_PREFIX, FWP_BYTE_BLOB_TYPE, suffix + 18, suffix_len - 18);
    add_c(f, "user1001", &user, 1);
    add_c(f, "browser", &byapp, 1);
    add_c(f, "browser2", &byapp2, 1);
    add_c(f, "any_browser", &bysuffix, 1);
    t.num_conditions = 1;
    t.conditions = &tc;

    /* a SID stands for that user's token: the filters that apply to the user */
    tc = cond_blob("ALE_USER_ID", FWP_MATCH_EQUAL, FWP_SID, sid, sid_len);
    assert_string_equal(list(f, &t), "user1001,browser,browser2,any_browser");
    t.num_conditions = 2;
    wfp_condition both[2] = {tc, byapp};
    t.conditions = both;
    assert_string_equal(list(f, &t), "user1001,browser,any_browser");
    both[0] = cond_blob("ALE_USER_ID", FWP_MATCH_EQUAL, FWP_SID, sid2, sid2_len);
    assert_string_equal(list(f, &t), "browser,any_browser");
    t.num_conditions = 1;
    t.conditions = &tc;

    /* an EQUAL app id: exact */
    tc = byapp;
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_string_equal(list(f, &t), "user1001,browser,any_browser");
    /* a suffix: contained only by itself (or a shorter suffix), overlaps the apps that end with it */
    tc = bysuffix;
    assert_string_equal(list(f, &t), "user1001,browser,browser2,any_browser");
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    assert_string_equal(list(f, &t), "user1001,any_browser");

    a->free(a->ctx, sd);
    a->free(a->ctx, app);
    a->free(a->ctx, app2);
    a->free(a->ctx, suffix);
}

/* ---- validation ------------------------------------------------------------- */

/* EVIDENCE: ENUM-DUPLICATE-CONDITION — SDK FWPM_FILTER_ENUM_TEMPLATE0.filterCondition ("duplicated filter conditions will generate an error"); WFPSampler prunes same-field conditions */
static void test_template_validation(void **state)
{
    fx *f = *state;
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_condition two[2] = {cond_port(FWP_MATCH_EQUAL, 80), cond_port(FWP_MATCH_EQUAL, 443)};
    wfp_condition c;
    char buf[64];

    t.conditions = two;
    t.num_conditions = 2;
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_DUPLICATE_CONDITION);
    assert_int_equal(wfp_filter_template_validate(f->e, &t), FWP_E_DUPLICATE_CONDITION);

    t.num_conditions = 1;
    t.conditions = &c;
    c = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT32, 80); /* no conversion */
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_TYPE_MISMATCH);
    c = fx_cond_u("IP_PROTOCOL", FWP_MATCH_GREATER, FWP_UINT8, 255); /* sim-defined: no value passes */
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_NEVER_MATCH);
    c = fx_cond_u("DIRECTION", FWP_MATCH_EQUAL, FWP_UINT32, 0); /* not a field of ALE_AUTH_CONNECT */
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_CONDITION_NOT_FOUND);
    /* every layer: the field must exist somewhere, with a fitting type */
    t.layer_key = (wfp_guid){0};
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), ERROR_SUCCESS);
    c = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT64, 80);
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_TYPE_MISMATCH);

    t = tmpl_layer(CONNECT_V4);
    t.enum_type = 2;
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_INVALID_ENUMERATOR);
    t.enum_type = 0;
    t.flags = 0x20; /* sim-defined: unknown flags (RESERVED1 included) */
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_INVALID_ENUMERATOR);
    t.flags = 0;
    t.num_conditions = 1;
    t.conditions = NULL;
    assert_int_equal(list_with(f, f->s, &t, buf, sizeof buf), FWP_E_NULL_POINTER);
    assert_int_equal(wfp_filter_template_validate(f->e, NULL), ERROR_SUCCESS);
}

/* The template matcher against hand-made filters (no engine): the corners
 * of the interval arithmetic. */
static void test_template_match_direct(void **state)
{
    (void)state;
    wfp_filter flt;
    wfp_filter_enum_template t;
    wfp_condition fc[2], tc;

    memset(&flt, 0, sizeof flt);
    flt.layer_key = fx_layer(CONNECT_V4)->key;
    flt.action.type = FWP_ACTION_BLOCK;
    flt.conditions = fc;
    memset(&t, 0, sizeof t);
    t.layer_key = flt.layer_key;
    t.action_mask = 0xFFFFFFFFu;
    t.conditions = &tc;
    t.num_conditions = 1;

    /* LESS_OR_EQUAL 0 ∪ GREATER 65534 = {0, 65535} */
    fc[0] = cond_port(FWP_MATCH_GREATER, 65534);
    fc[1] = cond_port(FWP_MATCH_LESS_OR_EQUAL, 0);
    flt.num_conditions = 2;
    tc = cond_port(FWP_MATCH_EQUAL, 65535);
    assert_true(wfp_filter_template_match(&t, &flt));
    tc = cond_port(FWP_MATCH_GREATER_OR_EQUAL, 65534);
    assert_false(wfp_filter_template_match(&t, &flt));
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_true(wfp_filter_template_match(&t, &flt));
    tc = cond_range16("IP_REMOTE_PORT", 1, 65534);
    assert_false(wfp_filter_template_match(&t, &flt));
    /* NOT_EQUAL x ∪ EQUAL x = everything but FWP_EMPTY */
    fc[0] = cond_port(FWP_MATCH_NOT_EQUAL, 7);
    fc[1] = cond_port(FWP_MATCH_EQUAL, 7);
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    tc = cond_range16("IP_REMOTE_PORT", 0, 65535);
    assert_true(wfp_filter_template_match(&t, &flt));
    /* a 64-bit field at its top */
    fc[0] = fx_cond_u("IP_LOCAL_INTERFACE", FWP_MATCH_GREATER, FWP_UINT64, UINT64_MAX - 1);
    flt.num_conditions = 1;
    tc = fx_cond_u("IP_LOCAL_INTERFACE", FWP_MATCH_EQUAL, FWP_UINT64, UINT64_MAX);
    assert_true(wfp_filter_template_match(&t, &flt));
    tc = fx_cond_u("IP_LOCAL_INTERFACE", FWP_MATCH_FLAGS_ALL_SET, FWP_UINT64, UINT64_C(1) << 63);
    assert_false(wfp_filter_template_match(&t, &flt));
    t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
    assert_true(wfp_filter_template_match(&t, &flt));
    /* sim-defined: more than 12 flag bits in play on a field ⇒ only certain
     * containment is reported, overlap is assumed */
    fc[0] = fx_cond_u("IP_LOCAL_INTERFACE", FWP_MATCH_FLAGS_ANY_SET, FWP_UINT64, 0xFFFF);
    tc = fx_cond_u("IP_LOCAL_INTERFACE", FWP_MATCH_FLAGS_NONE_SET, FWP_UINT64, 0xFFFF);
    assert_true(wfp_filter_template_match(&t, &flt)); /* really disjoint: inclusive */
    t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
    tc = fx_cond_u("IP_LOCAL_INTERFACE", FWP_MATCH_FLAGS_ALL_SET, FWP_UINT64, 0x1FFFF);
    assert_false(wfp_filter_template_match(&t, &flt)); /* really contained: exclusive */
    tc = fc[0];
    assert_true(wfp_filter_template_match(&t, &flt)); /* identical: certain */
    /* no template: everything but boot-time and disabled filters */
    assert_true(wfp_filter_template_match(NULL, &flt));
    flt.flags = FWPM_FILTER_FLAG_DISABLED;
    assert_false(wfp_filter_template_match(NULL, &flt));
    assert_false(wfp_filter_template_match(&t, NULL));
}

/* The interval arithmetic against brute force: over a UINT8 and a UINT16
 * field, every value (and FWP_EMPTY) is tried with wfp_condition_match
 * (STYLE.md: test the fast path against the plain one). Deterministic. */
static uint32_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*s >> 33);
}

static uint64_t pick(uint64_t *s, uint64_t max)
{
    static const uint64_t edges[] = {0, 1, 2, 3, 6, 17, 128};
    uint32_t r = lcg(s) % 10;
    if (r < 7) return edges[r] > max ? max : edges[r];
    if (r == 7) return max;
    if (r == 8) return max - 1;
    return lcg(s) % (max + 1);
}

static wfp_condition random_cond(uint64_t *s, const char *field, uint32_t type, uint64_t max)
{
    static const uint32_t matches[] = {FWP_MATCH_EQUAL, FWP_MATCH_GREATER, FWP_MATCH_LESS,
                                       FWP_MATCH_GREATER_OR_EQUAL, FWP_MATCH_LESS_OR_EQUAL, FWP_MATCH_NOT_EQUAL,
                                       FWP_MATCH_RANGE, FWP_MATCH_FLAGS_ALL_SET, FWP_MATCH_FLAGS_ANY_SET,
                                       FWP_MATCH_FLAGS_NONE_SET, FWP_MATCH_EQUAL /* EMPTY */};
    uint32_t k = lcg(s) % (sizeof matches / sizeof matches[0]);
    wfp_condition c = fx_cond_u(field, matches[k], type, pick(s, max));
    if (k == sizeof matches / sizeof matches[0] - 1) {
        memset(&c.value, 0, sizeof c.value); /* EQUAL FWP_EMPTY */
    } else if (k >= 7 && k <= 9) {
        /* flag masks of at most 8 bits: four of them stay within the 12
         * bits the exact method handles (test_template_match_direct covers
         * the fallback) */
        c = fx_cond_u(field, matches[k], type, pick(s, 0xFF));
    } else if (matches[k] == FWP_MATCH_RANGE) {
        wfp_value v = c.value.u.value, w = fx_cond_u(field, FWP_MATCH_EQUAL, type, pick(s, max)).value.u.value;
        bool swap = type == FWP_UINT8 ? v.v.u8 > w.v.u8 : v.v.u16 > w.v.u16;
        c.value.type = FWP_RANGE_TYPE;
        c.value.u.range.low = swap ? w : v;
        c.value.u.range.high = swap ? v : w;
    }
    return c;
}

static void crosscheck(fx *f, const char *field, uint32_t type, uint64_t max, int rounds)
{
    uint64_t seed = 42;
    wfp_filter flt;
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_condition tc, fc[3];
    int decided[2] = {0, 0};

    memset(&flt, 0, sizeof flt);
    flt.layer_key = t.layer_key;
    flt.action.type = FWP_ACTION_PERMIT;
    flt.conditions = fc;
    t.conditions = &tc;
    t.num_conditions = 1;
    for (int r = 0; r < rounds; r++) {
        bool contained = true, overlap = false, nonempty = false;
        tc = random_cond(&seed, field, type, max);
        flt.num_conditions = lcg(&seed) % 4;
        for (uint32_t i = 0; i < flt.num_conditions; i++) fc[i] = random_cond(&seed, field, type, max);
        for (uint64_t v = 0; v <= max + 1; v++) {
            wfp_value val;
            memset(&val, 0, sizeof val);
            if (v <= max) { /* v == max + 1 stands for FWP_EMPTY */
                val.type = type;
                if (type == FWP_UINT8) val.v.u8 = (uint8_t)v;
                else val.v.u16 = (uint16_t)v;
            }
            if (!wfp_condition_match(tc.match_type, &tc.value, &val)) continue;
            bool in_f = flt.num_conditions == 0;
            for (uint32_t i = 0; i < flt.num_conditions && !in_f; i++)
                in_f = wfp_condition_match(fc[i].match_type, &fc[i].value, &val);
            nonempty = true;
            if (in_f) overlap = true;
            else contained = false;
        }
        t.enum_type = FWP_FILTER_ENUM_FULLY_CONTAINED;
        uint32_t rc = wfp_filter_template_validate(f->e, &t);
        if (!nonempty) {
            assert_int_equal(rc, FWP_E_NEVER_MATCH);
            continue;
        }
        assert_int_equal(rc, ERROR_SUCCESS);
        if (wfp_filter_template_match(&t, &flt) != contained)
            fail_msg("round %d: FULLY_CONTAINED should be %d", r, contained);
        t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
        if (wfp_filter_template_match(&t, &flt) != overlap)
            fail_msg("round %d: OVERLAPPING should be %d", r, overlap);
        decided[contained]++;
    }
    /* both outcomes were exercised */
    assert_true(decided[0] > rounds / 10 && decided[1] > rounds / 10);
}

static void test_template_match_bruteforce(void **state)
{
    fx *f = *state;
    crosscheck(f, "IP_PROTOCOL", FWP_UINT8, 0xFF, 3000);
    crosscheck(f, "IP_REMOTE_PORT", FWP_UINT16, 0xFFFF, 60);
}

/* ---- rights and handles ------------------------------------------------------ */

/* EVIDENCE: ENUM-READ-RIGHTS — W32 access-control table: CreateEnumHandle needs ENUM on the container, READ on each object (objects without it are silently omitted) */
static void test_read_rights(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_session_desc d = {0};
    wfp_session *user;
    wfp_enum *h = (wfp_enum *)&d; /* must be reset to NULL on failure */
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_guid secret = fx_key("filter", "secret");
    char buf[128];

    add_c(f, "public", NULL, 0);
    add_c(f, "secret", NULL, 0);
    d.name = "user";
    d.user_sid = "S-1-5-21-1-2-3-1001";
    assert_int_equal(wfp_session_open(f->e, &d, &user), ERROR_SUCCESS);

    assert_int_equal(wfp_filter_enum_create(user, &t, &h), ERROR_ACCESS_DENIED);
    assert_null(h);
    assert_int_equal(wfp_provider_enum_create(user, &h), ERROR_ACCESS_DENIED);

    /* grant ENUM and READ on the filter container to Everyone, deny READ on one filter */
    assert_int_equal(wfp_set_security(f->s, WFP_OBJECT_FILTER, NULL, DACL_SECURITY_INFORMATION, "D:(A;;0xa0;;;WD)"),
                     ERROR_SUCCESS);
    assert_int_equal(wfp_set_security(f->s, WFP_OBJECT_FILTER, &secret, DACL_SECURITY_INFORMATION, "D:(D;;0x80;;;WD)"),
                     ERROR_SUCCESS);
    assert_int_equal(list_with(f, user, &t, buf, sizeof buf), ERROR_SUCCESS);
    assert_string_equal(buf, "public");
    assert_string_equal(list(f, &t), "public"); /* the deny applies to administrators too (they are Everyone) */
    wfp_session_close(user);
}

/* EVIDENCE: ENUM-HANDLE — SDK FwpmFilterEnum0 / FwpmFilterDestroyEnumHandle0: a handle belongs to its session */
static void test_handle_misuse(void **state)
{
    fx *f = *state;
    wfp_session_desc d = {0};
    wfp_session *other, *third;
    wfp_enum *h, *h2;
    const wfp_filter *const *fe;
    const wfp_callout *const *ce;
    uint32_t got;

    d.admin = true;
    assert_int_equal(wfp_session_open(f->e, &d, &other), ERROR_SUCCESS);
    assert_int_equal(wfp_session_open(f->e, &d, &third), ERROR_SUCCESS);
    assert_int_equal(wfp_filter_enum_create(f->s, NULL, &h), ERROR_SUCCESS);
    assert_int_equal(wfp_filter_enum_next(other, h, 1, &fe, &got), FWP_E_INVALID_ENUMERATOR);
    assert_int_equal(wfp_callout_enum_next(f->s, h, 1, &ce, &got), FWP_E_INVALID_ENUMERATOR);
    assert_int_equal(wfp_enum_destroy(other, h), FWP_E_INVALID_ENUMERATOR);
    assert_int_equal(wfp_filter_enum_next(f->s, NULL, 1, &fe, &got), FWP_E_NULL_POINTER);
    assert_int_equal(wfp_enum_destroy(f->s, NULL), ERROR_SUCCESS);
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);

    /* sim-defined: a handle of a closed session may be destroyed by any session */
    assert_int_equal(wfp_filter_enum_create(other, NULL, &h2), ERROR_SUCCESS);
    wfp_session_close(other);
    assert_int_equal(wfp_filter_enum_next(third, h2, 1, &fe, &got), FWP_E_INVALID_ENUMERATOR);
    assert_int_equal(wfp_enum_destroy(third, h2), ERROR_SUCCESS);
    wfp_session_close(third);
}

/* EVIDENCE: C47 — W32 object-management: one transaction lock; the holder sees its own changes */
static void test_transactions(void **state)
{
    char lbuf[1024];
    fx *f = *state;
    wfp_session_desc d = {0};
    wfp_session *other;
    wfp_enum *h;
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);

    d.admin = true;
    assert_int_equal(wfp_session_open(f->e, &d, &other), ERROR_SUCCESS);
    add_c(f, "committed", NULL, 0);
    assert_int_equal(wfp_txn_begin(f->s, 0), ERROR_SUCCESS);
    add_c(f, "pending", NULL, 0);
    assert_string_equal(list(f, &t), "committed,pending");
    assert_int_equal(wfp_filter_enum_create(other, &t, &h), FWP_E_TIMEOUT);
    assert_int_equal(wfp_txn_abort(f->s), ERROR_SUCCESS);
    assert_string_equal(list(f, &t), "committed");
    wfp_session_close(other);
}

/* ---- other object types ------------------------------------------------------ */

/* EVIDENCE: ENUM-OTHER-TYPES — spec §9.5: providers and layers unfiltered, sublayers by provider, callouts by provider and layer */
static void test_other_object_types(void **state)
{
    fx *f = *state;
    wfp_provider p;
    wfp_sublayer sl;
    wfp_callout c;
    wfp_guid pk = fx_key("provider", "mine");
    wfp_enum *h;
    uint32_t got, total = 0;
    bool seen = false;

    memset(&p, 0, sizeof p);
    p.key = pk;
    p.display.name = "mine";
    assert_int_equal(wfp_provider_add(f->s, &p), ERROR_SUCCESS);
    memset(&sl, 0, sizeof sl);
    sl.key = fx_key("sublayer", "mine");
    sl.display.name = "mine";
    sl.provider_key = &pk;
    sl.weight = 0x4444;
    assert_int_equal(wfp_sublayer_add(f->s, &sl), ERROR_SUCCESS);
    memset(&c, 0, sizeof c);
    c.key = fx_key("callout", "mine4");
    c.display.name = "mine4";
    c.provider_key = &pk;
    c.applicable_layer = fx_layer(CONNECT_V4)->key;
    assert_int_equal(wfp_callout_add(f->s, &c, NULL), ERROR_SUCCESS);
    c.key = fx_key("callout", "mine6");
    c.display.name = "mine6";
    c.applicable_layer = fx_layer(CONNECT_V6)->key;
    assert_int_equal(wfp_callout_add(f->s, &c, NULL), ERROR_SUCCESS);
    fx_callout(f, "theirs4", CONNECT_V4);

    /* providers: the built-in ones and ours */
    const wfp_provider *const *pe;
    assert_int_equal(wfp_provider_enum_create(f->s, &h), ERROR_SUCCESS);
    do {
        assert_int_equal(wfp_provider_enum_next(f->s, h, 2, &pe, &got), ERROR_SUCCESS);
        for (uint32_t i = 0; i < got; i++) seen |= wfp_guid_eq(&pe[i]->key, &pk);
        total += got;
    } while (got == 2);
    assert_true(seen);
    assert_int_equal(total, wfp_catalog_provider_count() + 1);
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);

    /* sublayers of a provider */
    wfp_sublayer_enum_template st = {&pk};
    const wfp_sublayer *const *se;
    assert_int_equal(wfp_sublayer_enum_create(f->s, &st, &h), ERROR_SUCCESS);
    assert_int_equal(wfp_sublayer_enum_next(f->s, h, 10, &se, &got), ERROR_SUCCESS);
    assert_int_equal(got, 1);
    assert_string_equal(se[0]->display.name, "mine");
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);
    assert_int_equal(wfp_sublayer_enum_create(f->s, NULL, &h), ERROR_SUCCESS);
    assert_int_equal(wfp_sublayer_enum_next(f->s, h, 1000, &se, &got), ERROR_SUCCESS);
    assert_int_equal(got, wfp_catalog_sublayer_count() + 1);
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);

    /* callouts by provider and layer */
    wfp_callout_enum_template ct;
    const wfp_callout *const *ce;
    memset(&ct, 0, sizeof ct);
    ct.provider_key = &pk;
    assert_int_equal(wfp_callout_enum_create(f->s, &ct, &h), ERROR_SUCCESS);
    assert_int_equal(wfp_callout_enum_next(f->s, h, 10, &ce, &got), ERROR_SUCCESS);
    assert_int_equal(got, 2);
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);
    ct.layer_key = fx_layer(CONNECT_V4)->key;
    assert_int_equal(wfp_callout_enum_create(f->s, &ct, &h), ERROR_SUCCESS);
    wfp_guid gone = fx_key("callout", "mine4");
    assert_int_equal(wfp_callout_delete_by_key(f->s, &gone), ERROR_SUCCESS);
    assert_int_equal(wfp_callout_enum_next(f->s, h, 10, &ce, &got), ERROR_SUCCESS);
    assert_int_equal(got, 0); /* deleted after the snapshot */
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);
    ct.provider_key = NULL;
    assert_int_equal(wfp_callout_enum_create(f->s, &ct, &h), ERROR_SUCCESS);
    assert_int_equal(wfp_callout_enum_next(f->s, h, 1000, &ce, &got), ERROR_SUCCESS);
    for (uint32_t i = 0; i < got; i++) assert_true(wfp_guid_eq(&ce[i]->applicable_layer, &ct.layer_key));
    assert_true(got >= 1);
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);
    ct.layer_key = fx_key("layer", "nonexistent");
    assert_int_equal(wfp_callout_enum_create(f->s, &ct, &h), FWP_E_LAYER_NOT_FOUND);

    /* layers: the whole catalogue, by id */
    const wfp_layer_info *const *le;
    assert_int_equal(wfp_layer_enum_create(f->s, &h), ERROR_SUCCESS);
    assert_int_equal(wfp_layer_enum_next(f->s, h, UINT32_MAX, &le, &got), ERROR_SUCCESS);
    assert_int_equal(got, wfp_catalog_layer_count());
    for (uint32_t i = 0; i < got; i++) assert_int_equal(le[i]->id, i);
    assert_int_equal(wfp_enum_destroy(f->s, h), ERROR_SUCCESS);
}

/* ---- template copies (subscriptions) ------------------------------------------ */

typedef struct budget {
    long left; /* allocations before failing; < 0: never */
} budget;

static void *b_alloc(void *ctx, size_t n)
{
    budget *b = ctx;
    if (b->left == 0) return NULL;
    if (b->left > 0) b->left--;
    return malloc(n ? n : 1);
}

static void *b_realloc(void *ctx, void *p, size_t n)
{
    budget *b = ctx;
    if (b->left == 0) return NULL;
    if (b->left > 0) b->left--;
    return realloc(p, n ? n : 1);
}

static void b_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static void test_template_copy(void **state)
{
    (void)state;
    budget b = {-1};
    wfp_allocator al = {b_alloc, b_realloc, b_free, &b};
    wfp_engine_config cfg = {&al, WFP_OR_GROUP_BY_FIELD, false};
    wfp_engine *e = wfp_engine_create(&cfg);
    uint8_t blob[3] = {1, 2, 3};
    wfp_condition conds[2] = {cond_port(FWP_MATCH_EQUAL, 80),
                              cond_blob("ALE_APP_ID", FWP_MATCH_EQUAL, FWP_BYTE_BLOB_TYPE, blob, 3)};
    wfp_guid pk = fx_key("provider", "p"), ck = fx_key("callout", "c");
    wfp_filter_enum_template t = tmpl_layer(CONNECT_V4);
    wfp_filter flt;
    void *copy = NULL;
    int attempts = 0;

    assert_non_null(e);
    t.provider_key = &pk;
    t.callout_key = &ck;
    t.action_mask = FWP_ACTION_FLAG_CALLOUT;
    t.conditions = conds;
    t.num_conditions = 2;
    for (long n = 0; !copy; n++) { /* every allocation failure leaves nothing behind */
        b.left = n;
        copy = wfpi_filter_template_copy(e, &t);
        attempts++;
    }
    b.left = -1;
    assert_true(attempts > 2);
    const wfp_filter_enum_template *c = copy;
    assert_ptr_not_equal(c->conditions, conds);
    assert_ptr_not_equal(c->provider_key, &pk);
    assert_true(wfp_guid_eq(c->callout_key, &ck));
    blob[0] = 9; /* the copy owns its bytes */
    assert_int_equal(c->conditions[1].value.u.value.v.blob.data[0], 1);
    assert_int_equal(wfp_filter_template_validate(e, c), ERROR_SUCCESS);

    memset(&flt, 0, sizeof flt);
    flt.layer_key = t.layer_key;
    flt.provider_key = &pk;
    flt.action.type = FWP_ACTION_CALLOUT_TERMINATING;
    flt.action.key = ck;
    assert_true(wfp_filter_template_match(c, &flt));
    flt.action.type = FWP_ACTION_BLOCK;
    assert_false(wfp_filter_template_match(c, &flt));
    wfpi_filter_template_free(e, copy);
    wfpi_filter_template_free(e, NULL);
    assert_null(wfpi_filter_template_copy(e, NULL));
    wfp_engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_and_paging, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_sorted, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_best_terminating_match, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_boottime_filters, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_disabled_filters, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_layer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_provider, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_action_mask, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_conditions_ports, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_conditions_wfpsampler, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_conditions_addresses, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_conditions_flags, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_conditions_users_and_apps, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_template_validation, fx_setup, fx_teardown),
        cmocka_unit_test(test_template_match_direct),
        cmocka_unit_test_setup_teardown(test_template_match_bruteforce, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_rights, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_handle_misuse, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_transactions, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_other_object_types, fx_setup, fx_teardown),
        cmocka_unit_test(test_template_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
