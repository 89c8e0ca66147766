/* dump.c — a stable, canonical text form of an engine's whole state.
 *
 * Objects are listed sorted by key (not by address or insertion), values
 * through the stable printers of wfp_value.h, and the id counters are
 * included, so two dumps are equal exactly when the engines hold the same
 * state — which is how tests prove that a failed operation left no trace. */
#include "engine_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    char *buf;
    size_t n, len;
} out;

static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    char tmp[512];
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k >= sizeof tmp) k = (int)sizeof tmp - 1;
    for (int i = 0; i < k; i++, o->len++)
        if (o->len + 1 < o->n) o->buf[o->len] = tmp[i];
    if (o->n) o->buf[o->len < o->n ? o->len : o->n - 1] = 0;
}

static const char *s_or(const char *s)
{
    return s ? s : "-";
}

static int cmp_key(const void *a, const void *b)
{
    /* every stored object starts with its public struct, whose first member is the key */
    return wfp_guid_cmp(*(const wfp_guid *const *)a, *(const wfp_guid *const *)b);
}

/* Sorted copy of a pointer vector (by the key at the start of each object).
 * Plain malloc on purpose: a dump must work while a test is failing the
 * engine's own allocator. */
static const void **sorted(const void *const *v, size_t n)
{
    const void **s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return NULL;
    if (n) memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_key);
    return s;
}

static void put_guid(out *o, const char *label, const wfp_guid *g)
{
    char t[WFP_GUID_STRLEN];
    wfp_guid_format(g, t);
    put(o, " %s=%s", label, t);
}

size_t wfp_engine_dump(wfp_engine *e, char *buf, size_t n)
{
    out o = {buf, n, 0};
    char val[512];
    if (n) buf[0] = 0;

    put(&o, "counters filter_id=%llu callout_id=%u session=%u key=%llu\n",
        (unsigned long long)e->next_filter_id, (unsigned)e->next_callout_id, (unsigned)e->next_session_id,
        (unsigned long long)e->next_generated_key);
    put(&o, "callout_ids %zu\n", e->ncallout_ids);

    const void **v = sorted((const void *const *)e->providers.v, e->providers.n);
    for (size_t i = 0; v && i < e->providers.n; i++) {
        const wprovider *p = v[i];
        put(&o, "provider");
        put_guid(&o, "key", &p->pub.key);
        put(&o, " name=%s flags=0x%x service=%s owner=%u builtin=%d refs=%u\n", s_or(p->pub.display.name),
            (unsigned)p->pub.flags, s_or(p->pub.service_name), (unsigned)p->o.owner_session, p->o.builtin,
            (unsigned)p->o.refs);
    }
    free(v);
    v = sorted((const void *const *)e->sublayers.v, e->sublayers.n);
    for (size_t i = 0; v && i < e->sublayers.n; i++) {
        const wsublayer *s = v[i];
        put(&o, "sublayer");
        put_guid(&o, "key", &s->pub.key);
        put(&o, " name=%s weight=%u flags=0x%x owner=%u builtin=%d refs=%u", s_or(s->pub.display.name),
            (unsigned)s->pub.weight, (unsigned)s->pub.flags, (unsigned)s->o.owner_session, s->o.builtin,
            (unsigned)s->o.refs);
        if (s->pub.provider_key) put_guid(&o, "provider", s->pub.provider_key);
        put(&o, "\n");
    }
    free(v);
    v = sorted((const void *const *)e->callouts.v, e->callouts.n);
    for (size_t i = 0; v && i < e->callouts.n; i++) {
        const wcallout *c = v[i];
        put(&o, "callout");
        put_guid(&o, "key", &c->pub.key);
        put(&o, " id=%u name=%s layer=%s flags=0x%x owner=%u builtin=%d refs=%u", (unsigned)c->pub.callout_id,
            s_or(c->pub.display.name), c->layer->name, (unsigned)c->pub.flags, (unsigned)c->o.owner_session,
            c->o.builtin, (unsigned)c->o.refs);
        if (c->pub.provider_key) put_guid(&o, "provider", c->pub.provider_key);
        put(&o, "\n");
    }
    free(v);
    v = sorted((const void *const *)e->regs.v, e->regs.n);
    for (size_t i = 0; v && i < e->regs.n; i++) {
        const wreg *r = v[i];
        put(&o, "registration");
        put_guid(&o, "key", &r->reg.callout_key);
        put(&o, " id=%u flags=0x%x\n", (unsigned)r->id, (unsigned)r->reg.flags);
    }
    free(v);
    v = sorted((const void *const *)e->filters.v, e->filters.n);
    for (size_t i = 0; v && i < e->filters.n; i++) {
        const wfilter *f = v[i];
        put(&o, "filter");
        put_guid(&o, "key", &f->pub.key);
        put(&o, " id=%llu name=%s layer=%s", (unsigned long long)f->pub.filter_id, s_or(f->pub.display.name),
            f->layer->name);
        put_guid(&o, "sublayer", &f->pub.sublayer_key);
        wfp_value_format(&f->pub.weight, val, sizeof val);
        put(&o, " weight=%s:%s effective=0x%016llx flags=0x%x action=0x%x", s_or(wfp_data_type_name(f->pub.weight.type)),
            val, (unsigned long long)f->weight, (unsigned)f->pub.flags, (unsigned)f->pub.action.type);
        if (f->callout) put(&o, " callout=%u", (unsigned)f->callout_id);
        if (f->pub.provider_key) put_guid(&o, "provider", f->pub.provider_key);
        put(&o, " context=%llu owner=%u\n", (unsigned long long)f->pub.raw_context, (unsigned)f->o.owner_session);
        for (uint32_t k = 0; k < f->pub.num_conditions; k++) {
            const wfp_condition *c = &f->conds[k];
            const wfp_condition_info *ci = wfp_catalog_condition_by_key(&c->field_key);
            wfp_condition_value_format(&c->value, val, sizeof val);
            put(&o, "  condition %s %s %s %s\n", ci ? ci->name : "?", s_or(wfp_match_type_name(c->match_type)),
                s_or(wfp_data_type_name(c->value.type)), val);
        }
    }
    free(v);
    for (size_t i = 0; i < e->sessions.n; i++) {
        const wfp_session *s = e->sessions.v[i];
        put(&o, "session id=%u flags=0x%x admin=%d\n", (unsigned)s->id, (unsigned)s->flags, s->admin);
    }
    return o.len;
}
