/* engine_fixture.h — small builders shared by the engine tests: an engine
 * with an admin session, sublayers and filters by name, incoming values by
 * field name, and scriptable C callouts. Header-only (static functions). */
#ifndef WFP_ENGINE_FIXTURE_H
#define WFP_ENGINE_FIXTURE_H

#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "wfp_engine.h"

#if defined(__GNUC__)
#define FX_MAYBE_UNUSED __attribute__((unused))
#else
#define FX_MAYBE_UNUSED
#endif

typedef struct fx {
    wfp_engine *e;
    wfp_session *s;
    wfp_trace *trace;
    wfp_verdict v;
    wfp_value values[64];
    const wfp_layer_info *layer;
} fx;

FX_MAYBE_UNUSED static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    wfp_session_desc d = {0};
    d.admin = true;
    d.name = "test";
    f->e = wfp_engine_create(NULL);
    assert_non_null(f->e);
    assert_int_equal(wfp_session_open(f->e, &d, &f->s), 0);
    f->trace = wfp_trace_create(NULL);
    *state = f;
    return 0;
}

FX_MAYBE_UNUSED static int fx_teardown(void **state)
{
    fx *f = *state;
    wfp_trace_destroy(f->trace);
    wfp_session_close(f->s);
    wfp_engine_destroy(f->e);
    free(f);
    return 0;
}

FX_MAYBE_UNUSED static wfp_guid fx_key(const char *kind, const char *name)
{
    wfp_guid g;
    wfp_guid_from_name(kind, name, &g);
    return g;
}

FX_MAYBE_UNUSED static const wfp_layer_info *fx_layer(const char *name)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_name(name);
    assert_non_null(l);
    return l;
}

FX_MAYBE_UNUSED static wfp_guid fx_sublayer(fx *f, const char *name, uint16_t weight)
{
    wfp_sublayer s = {0};
    s.key = fx_key("sublayer", name);
    s.display.name = name;
    s.weight = weight;
    assert_int_equal(wfp_sublayer_add(f->s, &s), 0);
    return s.key;
}

/* One condition on a field of `layer`, typed as the field's data type. */
FX_MAYBE_UNUSED static wfp_condition fx_cond_u(const char *field, uint32_t match, uint32_t data_type, uint64_t v)
{
    wfp_condition c;
    memset(&c, 0, sizeof c);
    const wfp_condition_info *ci = wfp_catalog_condition_by_name(field);
    assert_non_null(ci);
    c.field_key = ci->key;
    c.match_type = match;
    c.value.type = data_type;
    c.value.u.value.type = data_type;
    switch (data_type) {
    case FWP_UINT8: c.value.u.value.v.u8 = (uint8_t)v; break;
    case FWP_UINT16: c.value.u.value.v.u16 = (uint16_t)v; break;
    case FWP_UINT32: c.value.u.value.v.u32 = (uint32_t)v; break;
    case FWP_UINT64: c.value.u.value.v.u64 = v; break;
    default: fail_msg("fx_cond_u: unsupported type");
    }
    return c;
}

/* Adds a filter; weight >= 16 is an exact UINT64, 0..15 a range, UINT64_MAX auto (EMPTY). */
#define FX_AUTO UINT64_MAX
FX_MAYBE_UNUSED static uint64_t fx_filter_ex(fx *f, const char *name, const char *layer, const wfp_guid *sublayer, uint64_t weight,
                             uint32_t action, const wfp_guid *callout, uint32_t flags, const wfp_condition *conds,
                             uint32_t nconds, uint32_t *rc_out)
{
    wfp_filter flt;
    uint64_t id = 0;
    memset(&flt, 0, sizeof flt);
    flt.key = fx_key("filter", name);
    flt.display.name = name;
    flt.layer_key = fx_layer(layer)->key;
    if (sublayer) flt.sublayer_key = *sublayer;
    if (weight == FX_AUTO) {
        flt.weight.type = FWP_EMPTY;
    } else if (weight < 16) {
        flt.weight.type = FWP_UINT8;
        flt.weight.v.u8 = (uint8_t)weight;
    } else {
        flt.weight.type = FWP_UINT64;
        flt.weight.v.u64 = weight;
    }
    flt.action.type = action;
    if (callout) flt.action.key = *callout;
    flt.flags = flags;
    flt.conditions = conds;
    flt.num_conditions = nconds;
    uint32_t rc = wfp_filter_add(f->s, &flt, &id);
    if (rc_out) *rc_out = rc;
    else if (rc) fail_msg("filter '%s': %s", name, wfp_engine_last_error(f->e));
    return id;
}

FX_MAYBE_UNUSED static uint64_t fx_filter(fx *f, const char *name, const char *layer, const wfp_guid *sublayer, uint64_t weight,
                          uint32_t action, uint32_t flags)
{
    return fx_filter_ex(f, name, layer, sublayer, weight, action, NULL, flags, NULL, 0, NULL);
}

FX_MAYBE_UNUSED static uint64_t fx_callout_filter(fx *f, const char *name, const char *layer, const wfp_guid *sublayer,
                                  uint64_t weight, uint32_t action, const wfp_guid *callout, uint32_t flags)
{
    return fx_filter_ex(f, name, layer, sublayer, weight, action, callout, flags, NULL, 0, NULL);
}

/* A management callout object at `layer`. */
FX_MAYBE_UNUSED static wfp_guid fx_callout(fx *f, const char *name, const char *layer)
{
    wfp_callout c;
    memset(&c, 0, sizeof c);
    c.key = fx_key("callout", name);
    c.display.name = name;
    c.applicable_layer = fx_layer(layer)->key;
    assert_int_equal(wfp_callout_add(f->s, &c, NULL), 0);
    return c.key;
}

/* A scriptable classifyFn: writes `action` (0: leaves it), clears the
 * write right if asked, sets flags, and counts its calls. It honours the
 * write right like a well-behaved driver: with the right clear it only
 * writes BLOCK. */
typedef struct fx_script {
    uint32_t action;
    bool clear_right;
    uint32_t flags;
    int calls;
    uint32_t seen_rights;
    uint32_t seen_action;
} fx_script;

FX_MAYBE_UNUSED static void fx_script_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                               void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                               wfp_classify_out *out)
{
    fx_script *s = ctx;
    s->calls++;
    s->seen_rights = out->rights;
    s->seen_action = out->action_type;
    if (!s->action) return;
    if (!(out->rights & FWPS_RIGHT_ACTION_WRITE) && s->action != FWP_ACTION_BLOCK) return;
    out->action_type = s->action;
    out->flags |= s->flags;
    if (s->clear_right) out->rights &= ~FWPS_RIGHT_ACTION_WRITE;
}

FX_MAYBE_UNUSED static void fx_register(fx *f, const wfp_guid *key, fx_script *script)
{
    wfp_callout_registration r;
    memset(&r, 0, sizeof r);
    r.callout_key = *key;
    r.classify = fx_script_classify;
    r.ctx = script;
    assert_int_equal(wfp_callout_register(f->e, &r, NULL), 0);
}

/* Incoming values: start all EMPTY for a layer, then set by field name. */
FX_MAYBE_UNUSED static void fx_values(fx *f, const char *layer)
{
    f->layer = fx_layer(layer);
    memset(f->values, 0, sizeof f->values);
}

FX_MAYBE_UNUSED static void fx_set_u(fx *f, const char *field, uint64_t v)
{
    const wfp_condition_info *ci = wfp_catalog_condition_by_name(field);
    assert_non_null(ci);
    int i = wfp_catalog_field_index(f->layer, &ci->key);
    assert_true(i >= 0);
    wfp_value *val = &f->values[i];
    val->type = f->layer->fields[i].data_type;
    switch (val->type) {
    case FWP_UINT8: val->v.u8 = (uint8_t)v; break;
    case FWP_UINT16: val->v.u16 = (uint16_t)v; break;
    case FWP_UINT32: val->v.u32 = (uint32_t)v; break;
    case FWP_UINT64: val->v.u64 = v; break;
    default: fail_msg("fx_set_u: field %s is not an integer", field);
    }
}

FX_MAYBE_UNUSED static void fx_set_blob(fx *f, const char *field, const uint8_t *data, uint32_t size)
{
    const wfp_condition_info *ci = wfp_catalog_condition_by_name(field);
    assert_non_null(ci);
    int i = wfp_catalog_field_index(f->layer, &ci->key);
    assert_true(i >= 0);
    f->values[i].type = f->layer->fields[i].data_type;
    f->values[i].v.blob.data = data;
    f->values[i].v.blob.size = size;
}

FX_MAYBE_UNUSED static const wfp_verdict *fx_classify(fx *f)
{
    wfp_classify_request r;
    memset(&r, 0, sizeof r);
    r.layer_id = f->layer->id;
    r.values = f->values;
    r.num_values = f->layer->num_fields;
    uint32_t rc = wfp_classify(f->e, &r, &f->v, f->trace);
    if (rc) fail_msg("classify: %s", wfp_engine_last_error(f->e));
    return &f->v;
}

#endif
