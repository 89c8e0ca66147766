/* classify.c — layer snapshots and the reference classifier.
 *
 * A snapshot is the compiled, immutable view of one layer: its sublayers
 * by weight and, in each, its filters by effective weight with their
 * conditions grouped by field. It is rebuilt only when the layer changed.
 *
 * wfp_classify is a deliberately plain transcription of the documented
 * arbitration (spec §4.3, W32 filter-arbitration): every sublayer is
 * evaluated, in each the first filter that permits or blocks decides that
 * sublayer, a soft decision can be overwritten by a later sublayer, a hard
 * one only by a callout's veto. It is the oracle that any faster index is
 * tested against. */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- snapshots ----------------------------------------------------------- */

static void snap_free(wfp_engine *e, lsnap *sn)
{
    wfpi_snapshot_free(e, sn);
}

void wfpi_snapshot_free(wfp_engine *e, lsnap *sn)
{
    if (!sn) return;
    for (uint32_t i = 0; sn->subs && i < sn->nsub; i++) {
        csublayer *cs = &sn->subs[i];
        for (uint32_t j = 0; j < cs->nfilters; j++) {
            wfpi_free(e, cs->filters[j].groups);
            wfpi_free(e, cs->filters[j].order);
            wfpi_free(e, cs->filters[j].fwps_conds);
        }
        for (uint32_t k = 0; k < cs->nindex; k++) {
            wfpi_free(e, cs->index[k].starts);
            wfpi_free(e, cs->index[k].bits);
            wfpi_free(e, cs->index[k].empty_bits);
        }
        wfpi_free(e, cs->filters);
    }
    wfpi_free(e, sn->subs);
    wfpi_free(e, sn->list);
    wfpi_free(e, sn);
}

void wfpi_snapshots_free(wfp_engine *e)
{
    if (!e->layers) return;
    for (size_t i = 0; i < e->nlayers; i++) {
        snap_free(e, e->layers[i].snap);
        e->layers[i].snap = NULL;
        e->layers[i].dirty = true;
    }
}

void wfpi_layer_dirty(wfp_engine *e, uint16_t layer_id)
{
    if (layer_id < e->nlayers) e->layers[layer_id].dirty = true;
}

/* Evaluation order: sublayer weight (high first), then sublayer key for
 * determinism; inside a sublayer, effective weight (high first), then
 * ascending filter id — Windows leaves equal weights undocumented
 * (docs/sim-defined.md). */
static int cmp_eval_order(const void *pa, const void *pb)
{
    const wfilter *a = *(wfilter *const *)pa, *b = *(wfilter *const *)pb;
    if (a->sublayer != b->sublayer) {
        if (a->sublayer->pub.weight != b->sublayer->pub.weight)
            return a->sublayer->pub.weight > b->sublayer->pub.weight ? -1 : 1;
        return wfp_guid_cmp(&a->sublayer->pub.key, &b->sublayer->pub.key);
    }
    if (a->weight != b->weight) return a->weight > b->weight ? -1 : 1;
    return a->pub.filter_id < b->pub.filter_id ? -1 : a->pub.filter_id > b->pub.filter_id;
}

/* Groups a filter's conditions: by field (OR inside, AND across), or, in
 * WFP_OR_ADJACENT_ONLY mode, by runs of consecutive same-field conditions. */
static bool compile_filter(wfp_engine *e, wfilter *f, cfilter *cf)
{
    uint32_t n = f->pub.num_conditions;
    memset(cf, 0, sizeof *cf);
    cf->f = f;
    cf->fwps.filter_id = f->pub.filter_id;
    cf->fwps.weight = f->weight;
    cf->fwps.sublayer_weight = f->sublayer->pub.weight;
    cf->fwps.flags = f->fwps_flags;
    cf->fwps.action_type = f->pub.action.type;
    cf->fwps.callout_id = f->callout_id;
    cf->fwps.context = f->pub.raw_context;
    cf->fwps.management = &f->pub;
    if (!n) return true;

    int *field = wfpi_calloc(e, n, sizeof *field);
    cf->order = wfpi_calloc(e, n, sizeof *cf->order);
    cf->groups = wfpi_calloc(e, n, sizeof *cf->groups);
    cf->fwps_conds = wfpi_calloc(e, n, sizeof *cf->fwps_conds);
    if (!field || !cf->order || !cf->groups || !cf->fwps_conds) {
        wfpi_free(e, field);
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        field[i] = wfp_catalog_field_index(f->layer, &f->conds[i].field_key);
        cf->fwps_conds[i].field_id = (uint16_t)field[i];
        cf->fwps_conds[i].match_type = f->conds[i].match_type;
        cf->fwps_conds[i].value = &f->conds[i].value;
    }
    cf->fwps.num_conditions = n;
    cf->fwps.conditions = cf->fwps_conds;

    uint32_t k = 0;
    if (e->or_mode == WFP_OR_ADJACENT_ONLY) {
        for (uint32_t i = 0; i < n; i++) {
            if (i == 0 || field[i] != field[i - 1]) {
                cf->groups[cf->ngroups].field = (uint16_t)field[i];
                cf->groups[cf->ngroups].first = (uint16_t)k;
                cf->ngroups++;
            }
            cf->groups[cf->ngroups - 1].count++;
            cf->order[k++] = (uint16_t)i;
        }
    } else {
        bool *used = wfpi_calloc(e, n, sizeof *used);
        if (!used) {
            wfpi_free(e, field);
            return false;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (used[i]) continue;
            cgroup *g = &cf->groups[cf->ngroups++];
            g->field = (uint16_t)field[i];
            g->first = (uint16_t)k;
            for (uint32_t j = i; j < n; j++) {
                if (!used[j] && field[j] == field[i]) {
                    used[j] = true;
                    cf->order[k++] = (uint16_t)j;
                    g->count++;
                }
            }
        }
        wfpi_free(e, used);
    }
    wfpi_free(e, field);
    return true;
}

/* Was this object added by the open transaction? */
static bool journal_added(const wfp_engine *e, const void *obj)
{
    for (size_t i = 0; i < e->njournal; i++)
        if (e->journal[i].obj == obj && e->journal[i].change == FWPM_CHANGE_ADD) return true;
    return false;
}

/* The committed filters of a layer: the store, less what the open
 * transaction added, plus what it deleted (still alive in its journal). A
 * snapshot built while a transaction is open must not show its changes. */
static size_t committed_filters(const wfp_engine *e, uint16_t layer_id, wfilter **out)
{
    size_t n = 0;
    size_t njournal = e->commit_view ? 0 : e->njournal;
    for (size_t i = 0; i < e->filters.n; i++) {
        wfilter *f = e->filters.v[i];
        if (f->layer->id != layer_id || !wfpi_filter_active(e, f)) continue;
        if (njournal && journal_added(e, f)) continue;
        if (out) out[n] = f;
        n++;
    }
    for (size_t i = 0; i < njournal; i++) {
        const wjournal *j = &e->journal[i];
        if (j->kind != WFP_OBJECT_FILTER || j->change != FWPM_CHANGE_DELETE) continue;
        wfilter *f = j->obj;
        if (f->layer->id != layer_id || !wfpi_filter_active(e, f) || journal_added(e, f)) continue;
        if (out) out[n] = f;
        n++;
    }
    return n;
}


/* ---- the bit-vector index ------------------------------------------------ */

/* Unsigned integer fields only: their values order as uint64. */
static bool index_type(uint32_t t, uint64_t *max)
{
    switch (t) {
    case FWP_UINT8: *max = UINT8_MAX; return true;
    case FWP_UINT16: *max = UINT16_MAX; return true;
    case FWP_UINT32: *max = UINT32_MAX; return true;
    case FWP_UINT64: *max = UINT64_MAX; return true;
    default: return false;
    }
}

static uint64_t scalar_key(const wfp_value *v)
{
    switch (v->type) {
    case FWP_UINT8: return v->v.u8;
    case FWP_UINT16: return v->v.u16;
    case FWP_UINT32: return v->v.u32;
    default: return v->v.u64;
    }
}

/* ---- coverage: does one filter match everything another does? ---------- */

/* The set of unsigned values a condition matches as an interval over the
 * domain of type *dom (IPv4 masks: UINT32). */
static bool cover_interval(const wfp_condition *c, uint32_t *dom, uint64_t *lo, uint64_t *hi)
{
    uint64_t max, x;
    const wfp_condition_value *v = &c->value;
    if (v->type == FWP_V4_ADDR_MASK) {
        uint32_t m = v->u.v4.mask;
        if (c->match_type != FWP_MATCH_EQUAL || (m & (~m >> 1)) != 0) return false; /* contiguous only */
        *dom = FWP_UINT32;
        *lo = v->u.v4.addr & m;
        *hi = (v->u.v4.addr & m) | (uint32_t)~m;
        return true;
    }
    if (v->type == FWP_RANGE_TYPE) {
        if (c->match_type != FWP_MATCH_RANGE || v->u.range.low.type != v->u.range.high.type ||
            !index_type(v->u.range.low.type, &max))
            return false;
        *dom = v->u.range.low.type;
        *lo = scalar_key(&v->u.range.low);
        *hi = scalar_key(&v->u.range.high);
        return *lo <= *hi;
    }
    if (!index_type(v->type, &max)) return false;
    *dom = v->type;
    x = scalar_key(&v->u.value);
    switch (c->match_type) {
    case FWP_MATCH_EQUAL: *lo = *hi = x; return true;
    case FWP_MATCH_GREATER_OR_EQUAL: *lo = x; *hi = max; return true;
    case FWP_MATCH_LESS_OR_EQUAL: *lo = 0; *hi = x; return true;
    case FWP_MATCH_GREATER:
        if (x == max) return false;
        *lo = x + 1;
        *hi = max;
        return true;
    case FWP_MATCH_LESS:
        if (x == 0) return false;
        *lo = 0;
        *hi = x - 1;
        return true;
    default: return false;
    }
}

static bool cond_prefix6(const wfp_condition *c, const uint8_t **addr, unsigned *len)
{
    if (c->match_type != FWP_MATCH_EQUAL) return false;
    if (c->value.type == FWP_V6_ADDR_MASK) {
        *addr = c->value.u.v6.addr;
        *len = c->value.u.v6.prefix_length;
        return *len <= 128;
    }
    if (c->value.type == FWP_BYTE_ARRAY16_TYPE) {
        *addr = c->value.u.value.v.bytes16;
        *len = 128;
        return true;
    }
    return false;
}

static bool cover_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, bytes)) return false;
    if (!rest) return true;
    uint8_t m = (uint8_t)(0xffu << (8 - rest));
    return (a[bytes] & m) == (b[bytes] & m);
}

/* Does condition f match every value condition g matches? */
static bool cond_covers(const wfp_condition *f, const wfp_condition *g)
{
    if (f->match_type == g->match_type && wfp_condition_value_equal(&f->value, &g->value)) return true;
    uint32_t df, dg;
    uint64_t lf, hf, lg, hg;
    if (cover_interval(f, &df, &lf, &hf) && cover_interval(g, &dg, &lg, &hg))
        return df == dg && lf <= lg && hg <= hf;
    const uint8_t *af, *ag;
    unsigned pf, pg;
    if (cond_prefix6(f, &af, &pf) && cond_prefix6(g, &ag, &pg)) return pg >= pf && cover_prefix_eq(af, ag, pf);
    if ((f->match_type == FWP_MATCH_FLAGS_ALL_SET || f->match_type == FWP_MATCH_FLAGS_NONE_SET) &&
        g->match_type == f->match_type && f->value.type == g->value.type && index_type(f->value.type, &lf)) {
        uint64_t mf = scalar_key(&f->value.u.value), mg = scalar_key(&g->value.u.value);
        return (mf & mg) == mf; /* g demands (or forbids) every flag f does, and maybe more */
    }
    return false;
}

/* Each field's conditions of f in one run (so both OR readings agree). */
static bool fields_adjacent(const wfp_filter *f)
{
    for (uint32_t i = 0; i < f->num_conditions; i++)
        for (uint32_t j = i + 2; j < f->num_conditions; j++)
            if (wfp_guid_eq(&f->conditions[i].field_key, &f->conditions[j].field_key) &&
                !wfp_guid_eq(&f->conditions[i].field_key, &f->conditions[j - 1].field_key))
                return false;
    return true;
}

bool wfp_filter_covers(const wfp_filter *f, const wfp_filter *g)
{
    if (!fields_adjacent(f)) return false;
    for (uint32_t i = 0; i < f->num_conditions; i++) {
        const wfp_guid *field = &f->conditions[i].field_key;
        bool any = false;
        for (uint32_t j = 0; j < g->num_conditions; j++) {
            if (!wfp_guid_eq(&g->conditions[j].field_key, field)) continue;
            any = true;
            bool covered = false;
            for (uint32_t k = 0; k < f->num_conditions && !covered; k++)
                if (wfp_guid_eq(&f->conditions[k].field_key, field))
                    covered = cond_covers(&f->conditions[k], &g->conditions[j]);
            if (!covered) return false;
        }
        if (!any) return false;
    }
    return true;
}

typedef struct ival {
    uint64_t lo, hi; /* inclusive */
} ival;

/* The values of a field (type `t`, maximum `max`) a condition accepts, as
 * at most two intervals, plus whether it accepts FWP_EMPTY. False when the
 * index cannot express it (the filter is then a candidate for every value). */
static bool cond_intervals(const wfp_condition *c, uint32_t t, uint64_t max, ival *iv, int *n, bool *empty)
{
    const wfp_condition_value *cv = &c->value;
    *n = 0;
    *empty = false;
    if (cv->type == FWP_EMPTY) {
        if (c->match_type != FWP_MATCH_EQUAL) return false;
        *empty = true;
        return true;
    }
    if (cv->type == FWP_V4_ADDR_MASK && t == FWP_UINT32 && c->match_type == FWP_MATCH_EQUAL) {
        uint32_t lo = cv->u.v4.addr & cv->u.v4.mask;
        iv[0].lo = lo;
        iv[0].hi = lo | (uint32_t)~cv->u.v4.mask;
        *n = 1;
        return true;
    }
    if (cv->type == FWP_RANGE_TYPE && c->match_type == FWP_MATCH_RANGE && cv->u.range.low.type == t) {
        iv[0].lo = scalar_key(&cv->u.range.low);
        iv[0].hi = scalar_key(&cv->u.range.high);
        *n = iv[0].lo <= iv[0].hi;
        return true;
    }
    if (cv->type != t) return false;
    uint64_t v = scalar_key(&cv->u.value);
    switch (c->match_type) {
    case FWP_MATCH_EQUAL: iv[0].lo = iv[0].hi = v; *n = 1; return true;
    case FWP_MATCH_GREATER: if (v < max) { iv[0].lo = v + 1; iv[0].hi = max; *n = 1; } return true;
    case FWP_MATCH_LESS: if (v > 0) { iv[0].lo = 0; iv[0].hi = v - 1; *n = 1; } return true;
    case FWP_MATCH_GREATER_OR_EQUAL: iv[0].lo = v; iv[0].hi = max; *n = 1; return true;
    case FWP_MATCH_LESS_OR_EQUAL: iv[0].lo = 0; iv[0].hi = v; *n = 1; return true;
    case FWP_MATCH_NOT_EQUAL:
        if (v > 0) { iv[*n].lo = 0; iv[*n].hi = v - 1; (*n)++; }
        if (v < max) { iv[*n].lo = v + 1; iv[*n].hi = max; (*n)++; }
        return true;
    default:
        return false; /* flags tests: not intervals */
    }
}

/* The group of a compiled filter on `field`, or NULL. */
static const cgroup *group_on(const cfilter *cf, uint16_t field)
{
    for (uint32_t g = 0; g < cf->ngroups; g++)
        if (cf->groups[g].field == field) return &cf->groups[g];
    return NULL;
}

/* Can every condition of the group be expressed as intervals? */
static bool group_indexable(const cfilter *cf, const cgroup *g, uint32_t t, uint64_t max)
{
    for (uint16_t k = 0; k < g->count; k++) {
        ival iv[2];
        int n;
        bool empty;
        if (!cond_intervals(&cf->f->conds[cf->order[g->first + k]], t, max, iv, &n, &empty)) return false;
    }
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* First elementary interval holding v (starts[] ascending, starts[0] == 0). */
static uint32_t interval_of(const cindex *ix, uint64_t v)
{
    uint32_t lo = 0, hi = ix->nintervals;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->starts[mid] <= v) lo = mid;
        else hi = mid;
    }
    return lo;
}

static void set_bit(uint64_t *row, uint32_t i)
{
    row[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool build_field_index(wfp_engine *e, const csublayer *cs, const wfp_layer_info *layer, uint16_t field,
                              cindex *ix)
{
    uint32_t t = layer->fields[field].data_type, words = cs->words;
    uint64_t max = 0;
    size_t nb = 1, cap = 1;
    memset(ix, 0, sizeof *ix);
    index_type(t, &max);
    ix->field = field;
    ix->data_type = t;

    /* the interval starts: 0, each lo and each hi + 1 */
    for (uint32_t i = 0; i < cs->nfilters; i++) {
        const cgroup *g = group_on(&cs->filters[i], field);
        if (g && group_indexable(&cs->filters[i], g, t, max)) cap += 4u * g->count;
    }
    uint64_t *starts = wfpi_calloc(e, cap, sizeof *starts);
    if (!starts) return false;
    starts[0] = 0;
    for (uint32_t i = 0; i < cs->nfilters; i++) {
        const cfilter *cf = &cs->filters[i];
        const cgroup *g = group_on(cf, field);
        if (!g || !group_indexable(cf, g, t, max)) continue;
        for (uint16_t k = 0; k < g->count; k++) {
            ival iv[2];
            int n;
            bool empty;
            cond_intervals(&cf->f->conds[cf->order[g->first + k]], t, max, iv, &n, &empty);
            for (int j = 0; j < n; j++) {
                starts[nb++] = iv[j].lo;
                if (iv[j].hi < max) starts[nb++] = iv[j].hi + 1;
            }
        }
    }
    qsort(starts, nb, sizeof *starts, cmp_u64);
    size_t m = 0;
    for (size_t i = 0; i < nb; i++)
        if (m == 0 || starts[i] != starts[m - 1]) starts[m++] = starts[i];
    ix->starts = starts;
    ix->nintervals = (uint32_t)m;
    ix->bits = wfpi_calloc(e, (size_t)m * words, sizeof *ix->bits);
    ix->empty_bits = wfpi_calloc(e, words, sizeof *ix->empty_bits);
    if (!ix->bits || !ix->empty_bits) return false;

    for (uint32_t i = 0; i < cs->nfilters; i++) {
        const cfilter *cf = &cs->filters[i];
        const cgroup *g = group_on(cf, field);
        if (!g || !group_indexable(cf, g, t, max)) {
            /* no constraint the index can use: a candidate for every value */
            for (uint32_t r = 0; r < m; r++) set_bit(ix->bits + (size_t)r * words, i);
            set_bit(ix->empty_bits, i);
            continue;
        }
        for (uint16_t k = 0; k < g->count; k++) {
            ival iv[2];
            int n;
            bool empty;
            cond_intervals(&cf->f->conds[cf->order[g->first + k]], t, max, iv, &n, &empty);
            if (empty) set_bit(ix->empty_bits, i);
            for (int j = 0; j < n; j++) {
                uint32_t a = interval_of(ix, iv[j].lo);
                uint32_t b = iv[j].hi < max ? interval_of(ix, iv[j].hi + 1) : (uint32_t)m;
                for (uint32_t r = a; r < b; r++) set_bit(ix->bits + (size_t)r * words, i);
            }
        }
    }
    return true;
}

/* Indexes a sublayer on the (at most two) integer fields most of its
 * filters constrain. A sublayer too small to gain, or whose fields the
 * index cannot use, gets none. */
static bool build_index(wfp_engine *e, csublayer *cs, const wfp_layer_info *layer)
{
    cs->words = (cs->nfilters + 63) / 64;
    cs->nindex = 0;
    if (e->reference_only || cs->nfilters < WFPI_INDEX_MIN_FILTERS || cs->words > WFPI_INDEX_MAX_WORDS) return true;
    uint32_t best[WFPI_MAX_INDEX] = {0};
    int bestf[WFPI_MAX_INDEX] = {-1, -1};
    for (uint16_t f = 0; f < layer->num_fields; f++) {
        uint64_t max;
        if (!index_type(layer->fields[f].data_type, &max)) continue;
        uint32_t n = 0;
        for (uint32_t i = 0; i < cs->nfilters; i++) {
            const cgroup *g = group_on(&cs->filters[i], f);
            if (g && group_indexable(&cs->filters[i], g, layer->fields[f].data_type, max)) n++;
        }
        /* deterministic: most constrained first, then the lower field index */
        if (n > best[0]) {
            best[1] = best[0];
            bestf[1] = bestf[0];
            best[0] = n;
            bestf[0] = f;
        } else if (n > best[1]) {
            best[1] = n;
            bestf[1] = f;
        }
    }
    for (int k = 0; k < WFPI_MAX_INDEX; k++) {
        if (bestf[k] < 0 || best[k] * 4 < cs->nfilters) continue; /* too few filters constrain it */
        if (!build_field_index(e, cs, layer, (uint16_t)bestf[k], &cs->index[cs->nindex])) {
            cs->nindex++; /* so the snapshot frees what was built */
            return false;
        }
        cs->nindex++;
    }
    return true;
}

/* The filters of a sublayer that can match these values: the AND of the
 * index rows. False when the sublayer has no index. */
static bool candidates(const csublayer *cs, const wfp_value *values, uint64_t *out)
{
    if (!cs->nindex) return false;
    for (uint32_t k = 0; k < cs->nindex; k++) {
        const cindex *ix = &cs->index[k];
        const wfp_value *v = &values[ix->field];
        const uint64_t *row = v->type == ix->data_type ? ix->bits + (size_t)interval_of(ix, scalar_key(v)) * cs->words
                                                       : ix->empty_bits;
        if (k == 0) memcpy(out, row, cs->words * sizeof *out);
        else
            for (uint32_t w = 0; w < cs->words; w++) out[w] &= row[w];
    }
    return true;
}

static lsnap *snap_build(wfp_engine *e, uint16_t layer_id)
{
    lsnap *sn = wfpi_calloc(e, 1, sizeof *sn);
    wfilter **fs = NULL;
    size_t n;

    if (!sn) return NULL;
    n = committed_filters(e, layer_id, NULL);
    if (n == 0) return sn;
    fs = wfpi_calloc(e, n, sizeof *fs);
    sn->list = wfpi_calloc(e, n, sizeof *sn->list);
    if (!fs || !sn->list) goto fail;
    n = committed_filters(e, layer_id, fs);
    qsort(fs, n, sizeof *fs, cmp_eval_order);
    sn->nfilters = (uint32_t)n;

    for (size_t i = 0; i < n; i++) {
        sn->list[i] = &fs[i]->pub;
        if (i == 0 || fs[i]->sublayer != fs[i - 1]->sublayer) sn->nsub++;
    }
    sn->subs = wfpi_calloc(e, sn->nsub, sizeof *sn->subs);
    if (!sn->subs) goto fail;
    for (size_t i = 0, s = 0; i < n; s++) {
        size_t j = i;
        while (j < n && fs[j]->sublayer == fs[i]->sublayer) j++;
        csublayer *cs = &sn->subs[s];
        cs->s = fs[i]->sublayer;
        cs->filters = wfpi_calloc(e, j - i, sizeof *cs->filters);
        if (!cs->filters) goto fail;
        for (size_t k = i; k < j; k++) {
            cs->nfilters++;
            if (!compile_filter(e, fs[k], &cs->filters[k - i])) goto fail;
        }
        if (!build_index(e, cs, wfp_catalog_layer_by_id(layer_id))) goto fail;
        i = j;
    }
    wfpi_free(e, fs);
    return sn;
fail:
    wfpi_free(e, fs);
    snap_free(e, sn);
    return NULL;
}

bool wfpi_filter_active(const wfp_engine *e, const wfilter *f)
{
    if (f->pub.flags & FWPM_FILTER_FLAG_DISABLED) return false;
    /* boot-time filters rule until BFE starts, then persistent ones (spec §9.3) */
    return e->bfe_running ? !(f->pub.flags & FWPM_FILTER_FLAG_BOOTTIME)
                          : (f->pub.flags & FWPM_FILTER_FLAG_BOOTTIME) != 0;
}

lsnap *wfpi_snapshot_build(wfp_engine *e, uint16_t layer_id)
{
    return layer_id < e->nlayers ? snap_build(e, layer_id) : NULL;
}

void wfpi_snapshot_install(wfp_engine *e, uint16_t layer_id, lsnap *sn)
{
    snap_free(e, e->layers[layer_id].snap);
    e->layers[layer_id].snap = sn;
    e->layers[layer_id].dirty = false;
}

const lsnap *wfpi_layer_snapshot(wfp_engine *e, uint16_t layer_id)
{
    lstate *ls;
    if (layer_id >= e->nlayers) return NULL;
    ls = &e->layers[layer_id];
    if (ls->snap && !ls->dirty) return ls->snap;
    lsnap *sn = snap_build(e, layer_id);
    if (!sn) return NULL; /* the old snapshot stays usable */
    snap_free(e, ls->snap);
    ls->snap = sn;
    ls->dirty = false;
    return sn;
}

/* ---- trace --------------------------------------------------------------- */

struct wfp_trace {
    wfp_allocator alloc;
    wfp_trace_sublayer *subs;
    size_t nsubs, subs_cap;
    wfp_trace_step *steps;
    size_t nsteps, steps_cap;
    bool oom; /* an append failed: the trace is incomplete */
};

wfp_trace *wfp_trace_create(const wfp_allocator *a)
{
    if (!a) a = wfp_allocator_default();
    wfp_trace *t = a->alloc(a->ctx, sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->alloc = *a;
    return t;
}

void wfp_trace_destroy(wfp_trace *t)
{
    if (!t) return;
    wfp_allocator a = t->alloc;
    if (t->subs) a.free(a.ctx, t->subs);
    if (t->steps) a.free(a.ctx, t->steps);
    a.free(a.ctx, t);
}

size_t wfp_trace_sublayer_count(const wfp_trace *t) { return t ? t->nsubs : 0; }
const wfp_trace_sublayer *wfp_trace_sublayer_at(const wfp_trace *t, size_t i)
{
    return t && i < t->nsubs ? &t->subs[i] : NULL;
}
size_t wfp_trace_step_count(const wfp_trace *t) { return t ? t->nsteps : 0; }
const wfp_trace_step *wfp_trace_step_at(const wfp_trace *t, size_t i)
{
    return t && i < t->nsteps ? &t->steps[i] : NULL;
}

static void *trace_slot(wfp_trace *t, void **v, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        void *nv = t->alloc.realloc(t->alloc.ctx, *v, ncap * elem);
        if (!nv) {
            t->oom = true;
            return NULL;
        }
        *v = nv;
        *cap = ncap;
    }
    return (char *)*v + (*n)++ * elem;
}

/* ---- reason names -------------------------------------------------------- */

static const struct {
    const char *name;
    const char *message;
} reasons[] = {
#define X(id, name, text) {name, text},
    WFP_VERDICT_REASONS(X)
#undef X
};

const char *wfp_reason_name(uint32_t r)
{
    return r < WFP_REASON_COUNT_ ? reasons[r].name : NULL;
}

const char *wfp_reason_message(uint32_t r)
{
    return r < WFP_REASON_COUNT_ ? reasons[r].message : NULL;
}

/* ---- the reference classifier ------------------------------------------- */

static bool filter_matches(const cfilter *cf, const wfp_value *values)
{
    const wfilter *f = cf->f;
    for (uint32_t g = 0; g < cf->ngroups; g++) {
        const cgroup *grp = &cf->groups[g];
        const wfp_value *v = &values[grp->field];
        bool any = false;
        for (uint16_t k = 0; k < grp->count && !any; k++) {
            const wfp_condition *c = &f->conds[cf->order[grp->first + k]];
            any = wfp_condition_match(c->match_type, &c->value, v);
        }
        if (!any) return false;
    }
    return true;
}

/* Result of evaluating one matched filter (spec §4.3 evaluate()). */
typedef struct eval {
    uint32_t r;    /* FWP_ACTION_PERMIT / BLOCK / CONTINUE */
    bool hard;
    bool invoked;  /* a classifyFn ran */
    uint32_t reason;
} eval;

static eval evaluate(wfp_engine *e, const cfilter *cf, const wfp_classify_request *req,
                     const wfp_incoming_values *in, uint64_t flow_context, wfp_classify_out *out)
{
    const wfilter *f = cf->f;
    uint32_t type = f->pub.action.type;
    eval ev = {0};

    if (type == FWP_ACTION_PERMIT) {
        ev.r = FWP_ACTION_PERMIT;
        ev.hard = (f->fwps_flags & FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT) != 0;
        ev.reason = WFP_REASON_FILTER_PERMIT;
        return ev;
    }
    if (type == FWP_ACTION_BLOCK) {
        ev.r = FWP_ACTION_BLOCK;
        ev.hard = true; /* a static block always clears the write right */
        ev.reason = WFP_REASON_FILTER_BLOCK;
        return ev;
    }

    const wreg *reg = wfpi_registration_by_id(e, f->callout_id);
    if (!reg) {
        /* Unregistered callout (DDI FwpsCalloutRegister0): inspection
         * filters are skipped, the others act as block (or permit with
         * PERMIT_IF_CALLOUT_UNREGISTERED). Hardness is undocumented: the
         * block is hard like a static block, the permit soft. */
        if (type == FWP_ACTION_CALLOUT_INSPECTION) {
            ev.r = FWP_ACTION_CONTINUE;
        } else if (f->fwps_flags & FWPS_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED) {
            ev.r = FWP_ACTION_PERMIT;
            ev.reason = WFP_REASON_UNREGISTERED_CALLOUT_PERMIT;
        } else {
            ev.r = FWP_ACTION_BLOCK;
            ev.hard = true;
            ev.reason = WFP_REASON_UNREGISTERED_CALLOUT_BLOCK;
        }
        return ev;
    }

    wfp_classify_out before = *out;
    reg->reg.classify(reg->reg.ctx, in, req->meta, req->layer_data, &cf->fwps, flow_context, out);
    ev.invoked = true;
    uint32_t a = out->action_type;
    switch (type) {
    case FWP_ACTION_CALLOUT_TERMINATING:
        ev.r = (a == FWP_ACTION_PERMIT || a == FWP_ACTION_BLOCK) ? a : FWP_ACTION_BLOCK;
        break;
    case FWP_ACTION_CALLOUT_INSPECTION:
        ev.r = FWP_ACTION_CONTINUE; /* inspection callouts never decide */
        break;
    default: /* CALLOUT_UNKNOWN: whatever the callout says; anything else blocks (sim-defined) */
        ev.r = (a == FWP_ACTION_PERMIT || a == FWP_ACTION_BLOCK || a == FWP_ACTION_CONTINUE) ? a : FWP_ACTION_BLOCK;
        break;
    }
    if (ev.r == FWP_ACTION_CONTINUE) {
        *out = before; /* a continue leaves action, rights and flags as they were */
        return ev;
    }
    ev.hard = !(out->rights & FWPS_RIGHT_ACTION_WRITE);
    ev.reason = ev.r == FWP_ACTION_PERMIT ? WFP_REASON_CALLOUT_PERMIT : WFP_REASON_CALLOUT_BLOCK;
    return ev;
}

bool wfpi_layer_meta_init(wfp_engine *e)
{
    const wfp_condition_info *flags = wfp_catalog_condition_by_name("FLAGS");
    e->layer_meta = wfpi_calloc(e, e->nlayers, sizeof *e->layer_meta);
    if (!e->layer_meta) return false;
    for (uint16_t id = 0; id < e->nlayers; id++) {
        const wfp_layer_info *l = wfp_catalog_layer_by_id(id);
        wlayer_meta *m = &e->layer_meta[id];
        m->flags_field = (int16_t)(l && flags ? wfp_catalog_field_index(l, &flags->key) : -1);
        if (!l) continue;
        m->v6 = strstr(l->name, "_V6") != NULL;
        if (l->base_layer_id < 0 && strstr(l->name, "ALE_AUTH_CONNECT_V")) m->ale = 1;
        if (l->base_layer_id < 0 && strstr(l->name, "ALE_AUTH_RECV_ACCEPT_V")) m->ale = 2;
    }
    return true;
}

/* FWPM_STATISTICS0-style counters (spec §11.1; semantics inferred from
 * the names): per layer, and connection/reauthorization counts at the
 * ALE authorization layers. */
static void count(wfp_engine *e, const wfp_layer_info *layer, const wfp_classify_request *req, const wfp_verdict *v)
{
    wfp_layer_stats *ls = &e->layer_stats[layer->id];
    const wlayer_meta *m = &e->layer_meta[layer->id];
    bool block = v->action == FWP_ACTION_BLOCK;
    e->stats.classify_count++;
    ls->classify_count++;
    if (block) ls->block_count++;
    else ls->permit_count++;
    if (v->vetoed) ls->veto_count++;
    if (!m->ale) return;
    bool accept = m->ale == 2, v6 = m->v6;
    uint64_t *slot = accept ? (v6 ? (block ? &e->stats.inbound_blocked_v6 : &e->stats.inbound_allowed_v6)
                                  : (block ? &e->stats.inbound_blocked_v4 : &e->stats.inbound_allowed_v4))
                            : (v6 ? (block ? &e->stats.outbound_blocked_v6 : &e->stats.outbound_allowed_v6)
                                  : (block ? &e->stats.outbound_blocked_v4 : &e->stats.outbound_allowed_v4));
    (*slot)++;
    int fi = m->flags_field;
    if (fi >= 0 && req->values[fi].type == FWP_UINT32 && (req->values[fi].v.u32 & FWP_CONDITION_FLAG_IS_REAUTHORIZE)) {
        bool inbound = req->meta && (req->meta->present & WFP_METADATA_PACKET_DIRECTION)
                           ? req->meta->packet_direction == FWP_DIRECTION_INBOUND
                           : accept;
        if (inbound) e->stats.reauth_dir_inbound++;
        else e->stats.reauth_dir_outbound++;
        if (v6) e->stats.reauth_family_v6++;
        else e->stats.reauth_family_v4++;
        e->stats.reauth_reason_policy_change++;
    }
}

uint32_t wfp_classify(wfp_engine *e, const wfp_classify_request *req, wfp_verdict *verdict, wfp_trace *trace)
{
    const wfp_layer_info *layer;
    const lsnap *sn;
    wfp_classify_out out = {FWP_ACTION_NONE, 0, 0, FWPS_RIGHT_ACTION_WRITE, 0};
    bool any_match = false, terminating = false, vetoed = false;
    uint32_t reason = WFP_REASON_NO_MATCH;
    const wfilter *decider = NULL;

    if (!e || !req || !verdict) return FWP_E_NULL_POINTER;
    layer = wfp_catalog_layer_by_id(req->layer_id);
    if (!layer) return wfpi_fail(e, FWP_E_LAYER_NOT_FOUND, "no layer with id %u", (unsigned)req->layer_id);
    if (req->num_values != layer->num_fields || (req->num_values && !req->values))
        return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "%s takes %u values, not %u", layer->name,
                         (unsigned)layer->num_fields, (unsigned)req->num_values);
    sn = wfpi_layer_snapshot(e, req->layer_id);
    if (!sn) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "snapshot of %s", layer->name);
    if (trace) {
        trace->nsubs = trace->nsteps = 0;
        trace->oom = false;
    }

    wfp_incoming_values in = {req->layer_id, req->num_values, req->values};
    for (uint32_t si = 0; si < sn->nsub; si++) {
        const csublayer *cs = &sn->subs[si];
        wfp_trace_sublayer *ts = NULL;
        if (req->below_sublayer && cs->s->pub.weight >= req->below_sublayer_weight) continue;
        if (trace) {
            ts = trace_slot(trace, (void **)&trace->subs, &trace->nsubs, &trace->subs_cap, sizeof *ts);
            if (ts) {
                memset(ts, 0, sizeof *ts);
                ts->key = cs->s->pub.key;
                ts->weight = cs->s->pub.weight;
                ts->action = FWP_ACTION_NONE_NO_MATCH;
            }
        }
        uint64_t cand[WFPI_INDEX_MAX_WORDS];
        bool indexed = candidates(cs, req->values, cand);
        for (uint32_t fi = 0; fi < cs->nfilters; fi++) {
            /* the index rules out filters that cannot match: not tried */
            if (indexed && !(cand[fi / 64] >> (fi % 64) & 1)) continue;
            const cfilter *cf = &cs->filters[fi];
            const wfilter *f = cf->f;
            wfp_trace_step *st = NULL;
            if (trace) {
                st = trace_slot(trace, (void **)&trace->steps, &trace->nsteps, &trace->steps_cap, sizeof *st);
                if (st) {
                    memset(st, 0, sizeof *st);
                    st->filter_id = f->pub.filter_id;
                    st->sublayer_index = (uint32_t)(trace->nsubs - 1);
                }
            }
            if (!filter_matches(cf, req->values)) continue;

            /* A registered CONDITIONAL_ON_FLOW callout is only invoked for
             * flows that hold a context for it (FWPS_CALLOUT flags). */
            uint64_t flow_context = 0;
            if (f->callout) {
                const wreg *r = wfpi_registration_by_id(e, f->callout_id);
                bool have = req->flow && req->flow->get &&
                            req->flow->get(req->flow->ctx, req->layer_id, f->callout_id, &flow_context);
                if (r && (r->reg.flags & FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW) && !have) continue;
            }
            if (st) st->matched = true;
            any_match = true;
            if (ts && ts->action == FWP_ACTION_NONE_NO_MATCH) ts->action = FWP_ACTION_NONE;

            wfp_classify_out before = out;
            eval ev = evaluate(e, cf, req, &in, flow_context, &out);
            if (st) {
                st->result = ev.r;
                st->hard = ev.hard;
                st->callout_invoked = ev.invoked;
            }
            if (ev.r == FWP_ACTION_CONTINUE) continue;

            terminating = true;
            uint32_t effect;
            if (before.rights & FWPS_RIGHT_ACTION_WRITE) {
                /* the standing decision (if any) is soft: this one replaces it */
                out.action_type = ev.r;
                out.filter_id = f->pub.filter_id;
                out.rights = ev.hard ? 0 : FWPS_RIGHT_ACTION_WRITE;
                out.out_context = f->pub.raw_context;
                /* ABSORB is a callout's to set; a static filter's decision drops it */
                if (!ev.invoked) out.flags = before.flags & ~FWPS_CLASSIFY_OUT_FLAG_ABSORB;
                effect = WFP_EFFECT_APPLIED;
                decider = f;
                reason = ev.reason;
            } else if (before.action_type == FWP_ACTION_PERMIT && ev.r == FWP_ACTION_BLOCK && ev.invoked) {
                /* a callout's block against a hard permit: a veto (W32 filter-arbitration) */
                out.action_type = FWP_ACTION_BLOCK;
                out.filter_id = f->pub.filter_id;
                out.rights = 0;
                out.out_context = f->pub.raw_context;
                vetoed = true;
                effect = WFP_EFFECT_VETO;
                decider = f;
                reason = WFP_REASON_CALLOUT_VETO;
            } else {
                out = before; /* a hard decision stands */
                effect = WFP_EFFECT_IGNORED;
            }
            if (st) st->effect = effect;
            if (ts) {
                ts->action = ev.r;
                ts->filter_id = f->pub.filter_id;
                ts->hard = ev.hard;
                ts->effect = effect;
            }
            break; /* the rest of this sublayer is skipped */
        }
    }

    memset(verdict, 0, sizeof *verdict);
    verdict->layer_id = req->layer_id;
    if (!any_match) {
        verdict->action = FWP_ACTION_NONE_NO_MATCH;
        verdict->reason = WFP_REASON_NO_MATCH;
    } else if (!terminating) {
        verdict->action = FWP_ACTION_NONE;
        verdict->reason = WFP_REASON_NO_DECISION;
    } else {
        verdict->action = out.action_type;
        verdict->reason = reason;
    }
    /* NONE and NONE_NO_MATCH let the traffic through (spec §4.8). */
    verdict->permitted = verdict->action != FWP_ACTION_BLOCK;
    verdict->rights = out.rights;
    verdict->hard = terminating && !(out.rights & FWPS_RIGHT_ACTION_WRITE);
    verdict->vetoed = vetoed;
    verdict->flags = out.flags;
    verdict->absorb = verdict->action == FWP_ACTION_BLOCK && (out.flags & FWPS_CLASSIFY_OUT_FLAG_ABSORB);
    if (decider) {
        verdict->filter_id = decider->pub.filter_id;
        verdict->sublayer_key = decider->sublayer->pub.key;
        verdict->context = decider->pub.raw_context;
    }
    count(e, layer, req, verdict);
    wfpi_netevent_on_classify(e, req, verdict);
    return ERROR_SUCCESS;
}
