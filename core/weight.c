/* weight.c — Windows' automatic filter weight (the low 60 bits of
 * effectiveWeight for FWP_EMPTY / FWP_UINT8 weights).
 *
 * The rule is undocumented; this is a model recovered from real
 * `netsh wfp show state` dumps (docs/auto-weight.md, tools/autoweight/):
 *
 *  - every field of a layer owns a slot; a condition adds a per-field
 *    constant: C for an exact match (EQUAL, NOT_EQUAL, FLAGS_*, PREFIX, …),
 *    and for a range / mask the fraction spec/bits of a scale S, floored to
 *    the slot's granule 2^g, at least one granule, at most C
 *    (spec = bits − log2(number of values matched));
 *  - several conditions on one field (OR): their contributions add, capped
 *    at C;
 *  - the fields' contributions add; a layer with no fields gives 2^59 − 1.
 *
 * Slot parameters (C, S, g) come from weight_data.inc (learned per layer and
 * field, tools/autoweight/gen_table.py) when the layer has a learned table
 * for exactly its field count; otherwise from a structural layout derived
 * from the layer's field list (wfpi_generic_slot). A condition on a field
 * the table lacks (or the layer lacks) contributes 1.
 *
 * Pure: no globals (only const tables), no I/O, no allocation; fixed-point
 * integer arithmetic only, so results are identical on every platform. */
#include "weight.h"

#include <string.h>

typedef struct wfpi_weight_field {
    const char *name; /* FWPM_CONDITION_… */
    uint64_t c;       /* exact-match contribution (also the per-field cap) */
    uint64_t s;       /* scale for range/mask fractions */
    uint8_t g;        /* granule = 2^g */
} wfpi_weight_field;

typedef struct wfpi_weight_layer {
    const char *name; /* FWPM_LAYER_… */
    uint16_t num_fields; /* the schema the table was learned on */
    uint16_t first;
    uint16_t count;
} wfpi_weight_layer;

#include "weight_data.inc"

#define WFPI_M60 ((UINT64_C(1) << 60) - 1)
#define WFPI_NOFIELD_WEIGHT ((UINT64_C(1) << 59) - 1)
#define WFPI_Q 32 /* fractional bits of the fixed-point log2 */

/* ---- 128-bit helpers --------------------------------------------------- */
typedef struct wfpi_u128 {
    uint64_t hi, lo;
} wfpi_u128;

static wfpi_u128 wfpi_mul64(uint64_t a, uint64_t b)
{
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    wfpi_u128 r;
    r.lo = (mid << 32) | (p00 & 0xffffffffu);
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}

static wfpi_u128 wfpi_u128_sub(wfpi_u128 a, wfpi_u128 b)
{
    wfpi_u128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo ? 1u : 0u);
    return r;
}

static int wfpi_bitlen64(uint64_t v)
{
    int n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

/* log2(count) in Q32, count >= 1 and < 2^128 (a count of 2^128 is passed
 * as {hi = 0, lo = 0} with `full` set). Exact for powers of two; the same
 * algorithm as tools/autoweight/model.py log2_q. */
static uint64_t wfpi_log2_q32(wfpi_u128 count, int full)
{
    int n;
    uint64_t x, frac = 0;
    if (full)
        return (uint64_t)128 << WFPI_Q;
    n = count.hi ? 64 + wfpi_bitlen64(count.hi) - 1 : wfpi_bitlen64(count.lo) - 1;
    if (n < 0)
        return 0; /* count 0: treated as 1 */
    if (n <= 63) {
        x = count.lo << (63 - n);
    } else {
        int sh = n - 63; /* 1..64 */
        x = sh == 64 ? count.hi : (count.hi << (64 - sh)) | (count.lo >> sh);
    }
    for (int i = 0; i < WFPI_Q; i++) {
        wfpi_u128 sq = wfpi_mul64(x, x);
        frac <<= 1;
        if (sq.hi >> 63) {
            frac |= 1;
            x = sq.hi;
        } else {
            x = (sq.hi << 1) | (sq.lo >> 63);
        }
    }
    return ((uint64_t)n << WFPI_Q) | frac;
}

/* ---- slot parameters --------------------------------------------------- */
typedef struct wfpi_slot {
    uint64_t c, s;
    int g;
} wfpi_slot;

static int wfpi_guid_same(const wfp_guid *a, const wfp_guid *b)
{
    return a->data1 == b->data1 && a->data2 == b->data2 && a->data3 == b->data3 &&
           memcmp(a->data4, b->data4, sizeof a->data4) == 0;
}

/* The learned table of a layer: by name, or for a *_DISCARD layer the
 * table of its base layer (same schema in Windows); only used when it was
 * learned on a schema with exactly this many fields. */
static const wfpi_weight_layer *wfpi_table_for(const wfp_layer_info *layer)
{
    static const char suffix[] = "_DISCARD";
    size_t n = sizeof WFPI_WEIGHT_LAYERS / sizeof WFPI_WEIGHT_LAYERS[0];
    size_t len, cmp_len, sl = sizeof suffix - 1;
    if (!layer->name)
        return NULL;
    len = strlen(layer->name);
    cmp_len = len;
    if (len > sl && strcmp(layer->name + len - sl, suffix) == 0)
        cmp_len = len - sl;
    for (int pass = 0; pass < 2; pass++) {
        size_t want = pass == 0 ? len : cmp_len;
        if (pass == 1 && cmp_len == len)
            break;
        for (size_t i = 0; i < n; i++) {
            const char *tn = WFPI_WEIGHT_LAYERS[i].name;
            if (strlen(tn) == want && strncmp(tn, layer->name, want) == 0)
                return WFPI_WEIGHT_LAYERS[i].num_fields == layer->num_fields
                           ? &WFPI_WEIGHT_LAYERS[i]
                           : NULL;
        }
    }
    return NULL;
}

static int wfpi_rangeable(const wfp_layer_field *f)
{
    if (f->field_type == FWPM_FIELD_FLAGS)
        return 0;
    switch (f->data_type) {
    case FWP_UINT8: case FWP_UINT16: case FWP_UINT32: case FWP_UINT64:
    case FWP_INT8: case FWP_INT16: case FWP_INT32: case FWP_INT64:
    case FWP_BYTE_ARRAY16_TYPE:
        return 1;
    default:
        return 0;
    }
}

static int wfpi_field_class(const wfp_layer_field *f)
{
    if (f->field_type == FWPM_FIELD_IP_ADDRESS)
        return 0;
    if (f->field_type == FWPM_FIELD_FLAGS)
        return 6;
    switch (f->data_type) {
    case FWP_UINT64: return 1;
    case FWP_UINT8: return 2;
    case FWP_UINT16: return 3;
    case FWP_BYTE_BLOB_TYPE: case FWP_SID: case FWP_UNICODE_STRING_TYPE: return 4;
    case FWP_SECURITY_DESCRIPTOR_TYPE: case FWP_TOKEN_INFORMATION_TYPE:
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE: return 5;
    default: return 7;
    }
}

/* Structural layout for layers without a learned table (docs/auto-weight.md
 * §1; tools/autoweight/generic.py): fields ranked by class then schema
 * position, packed from bit 1 upward least significant first; rangeable
 * fields get w bits, the others one. */
static int wfpi_generic_slot(const wfp_layer_info *layer, uint32_t idx, wfpi_slot *out)
{
    uint32_t n = layer->num_fields, nr = 0, ones, w = 1, lo = 1, width;
    const wfp_layer_field *me = &layer->fields[idx];
    int mc = wfpi_field_class(me);
    for (uint32_t i = 0; i < n; i++)
        nr += (uint32_t)wfpi_rangeable(&layer->fields[i]);
    ones = n - nr;
    if (nr && ones <= 59 && 59 - ones >= nr) {
        w = (59 - ones) / nr;
        if (w > 8)
            w = 8;
        if (w < 1)
            w = 1;
    }
    /* fields below this one: higher class, or same class and later index */
    for (uint32_t i = 0; i < n; i++) {
        const wfp_layer_field *f = &layer->fields[i];
        int c = wfpi_field_class(f);
        if (c > mc || (c == mc && i > idx))
            lo += wfpi_rangeable(f) ? w : 1;
    }
    width = wfpi_rangeable(me) ? w : 1;
    if (lo >= 60)
        return 0;
    if (lo + width > 60)
        width = 60 - lo;
    out->c = (UINT64_C(1) << (lo + width)) - (UINT64_C(1) << lo);
    out->s = (UINT64_C(1) << (lo + width)) - 1;
    out->g = (int)lo;
    return 1;
}

/* Index of the condition's field in the layer schema, or -1. */
static int wfpi_field_index(const wfp_layer_info *layer, const wfp_guid *key)
{
    for (uint32_t i = 0; i < layer->num_fields; i++) {
        const wfp_condition_info *ci = layer->fields[i].condition;
        if (ci && wfpi_guid_same(&ci->key, key))
            return (int)i;
    }
    return -1;
}

static int wfpi_slot_for(const wfp_layer_info *layer, const wfpi_weight_layer *t, int idx,
                         wfpi_slot *out)
{
    if (idx < 0)
        return 0;
    if (t) {
        const char *name = layer->fields[idx].condition->name;
        for (uint16_t i = 0; i < t->count; i++) {
            const wfpi_weight_field *f = &WFPI_WEIGHT_FIELDS[t->first + i];
            if (name && strcmp(f->name, name) == 0) {
                out->c = f->c;
                out->s = f->s;
                out->g = f->g;
                return 1;
            }
        }
        return 0;
    }
    return wfpi_generic_slot(layer, (uint32_t)idx, out);
}

/* ---- specificity of one condition --------------------------------------- */
static int wfpi_type_bits(uint32_t type)
{
    switch (type) {
    case FWP_UINT8: case FWP_INT8: return 8;
    case FWP_UINT16: case FWP_INT16: return 16;
    case FWP_UINT32: case FWP_INT32: return 32;
    case FWP_UINT64: case FWP_INT64: return 64;
    case FWP_BYTE_ARRAY16_TYPE: return 128;
    default: return 0;
    }
}

/* An integer value as a 128-bit unsigned, signed types offset so that order
 * is preserved. */
static wfpi_u128 wfpi_ordinal(const wfp_value *v)
{
    wfpi_u128 r = {0, 0};
    switch (v->type) {
    case FWP_UINT8: r.lo = v->v.u8; break;
    case FWP_UINT16: r.lo = v->v.u16; break;
    case FWP_UINT32: r.lo = v->v.u32; break;
    case FWP_UINT64: r.lo = v->v.u64; break;
    case FWP_INT8: r.lo = (uint64_t)((int64_t)v->v.i8 + 128); break;
    case FWP_INT16: r.lo = (uint64_t)((int64_t)v->v.i16 + 32768); break;
    case FWP_INT32: r.lo = (uint64_t)((int64_t)v->v.i32 + 2147483648LL); break;
    case FWP_INT64: r.lo = (uint64_t)v->v.i64 ^ (UINT64_C(1) << 63); break;
    case FWP_BYTE_ARRAY16_TYPE:
        for (int i = 0; i < 8; i++) {
            r.hi = (r.hi << 8) | v->v.bytes16[i];
            r.lo = (r.lo << 8) | v->v.bytes16[8 + i];
        }
        break;
    default: break;
    }
    return r;
}

static int wfpi_u128_lt(wfpi_u128 a, wfpi_u128 b)
{
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

/* Specificity in Q32 bits of a fractional condition; returns 0 and sets
 * *exact when the condition is an exact-match kind. */
static uint64_t wfpi_spec_q32(const wfp_condition *c, int *bits, int *exact)
{
    const wfp_condition_value *v = &c->value;
    *exact = 0;
    if (v->type == FWP_V4_ADDR_MASK) {
        uint32_t m = v->u.v4.mask, p = 0;
        while (m & 0x80000000u) {
            p++;
            m <<= 1;
        }
        *bits = 32;
        return (uint64_t)p << WFPI_Q;
    }
    if (v->type == FWP_V6_ADDR_MASK) {
        *bits = 128;
        return (uint64_t)(v->u.v6.prefix_length > 128 ? 128 : v->u.v6.prefix_length) << WFPI_Q;
    }
    if (v->type == FWP_RANGE_TYPE) {
        wfpi_u128 lo, hi, cnt;
        int b = wfpi_type_bits(v->u.range.low.type), full = 0;
        uint64_t l2, total;
        if (!b || v->u.range.high.type != v->u.range.low.type) {
            *exact = 1;
            return 0;
        }
        lo = wfpi_ordinal(&v->u.range.low);
        hi = wfpi_ordinal(&v->u.range.high);
        if (wfpi_u128_lt(hi, lo)) {
            wfpi_u128 t = lo;
            lo = hi;
            hi = t;
        }
        cnt = wfpi_u128_sub(hi, lo);
        cnt.lo += 1;
        if (cnt.lo == 0) {
            cnt.hi += 1;
            if (cnt.hi == 0)
                full = 1; /* 2^128 values */
        }
        *bits = b;
        l2 = wfpi_log2_q32(cnt, full);
        total = (uint64_t)b << WFPI_Q;
        return l2 >= total ? 0 : total - l2;
    }
    if (v->type < FWP_SINGLE_DATA_TYPE_MAX &&
        (c->match_type == FWP_MATCH_GREATER || c->match_type == FWP_MATCH_LESS ||
         c->match_type == FWP_MATCH_GREATER_OR_EQUAL || c->match_type == FWP_MATCH_LESS_OR_EQUAL)) {
        int b = wfpi_type_bits(v->u.value.type);
        wfpi_u128 x, cnt = {0, 0};
        uint64_t l2, total;
        if (!b || b == 128) {
            *exact = 1;
            return 0;
        }
        x = wfpi_ordinal(&v->u.value);
        {
            /* domain is [0, 2^b - 1] in ordinal space; b <= 64 here */
            wfpi_u128 maxv = {0, b == 64 ? UINT64_MAX : (UINT64_C(1) << b) - 1};
            switch (c->match_type) {
            case FWP_MATCH_GREATER: cnt = wfpi_u128_sub(maxv, x); break;
            case FWP_MATCH_GREATER_OR_EQUAL: cnt = wfpi_u128_sub(maxv, x); cnt.lo++; break;
            case FWP_MATCH_LESS: cnt = x; break;
            default: cnt = x; cnt.lo++; break;
            }
            if (cnt.lo == 0 && c->match_type != FWP_MATCH_LESS && c->match_type != FWP_MATCH_GREATER)
                cnt.hi++; /* 2^64 values */
        }
        *bits = b;
        if (cnt.hi == 0 && cnt.lo == 0)
            return (uint64_t)b << WFPI_Q; /* matches nothing: as specific as it gets */
        l2 = wfpi_log2_q32(cnt, 0);
        total = (uint64_t)b << WFPI_Q;
        return l2 >= total ? 0 : total - l2;
    }
    *exact = 1;
    return 0;
}

static uint64_t wfpi_cond_value(const wfpi_slot *s, const wfp_condition *c)
{
    int bits = 0, exact = 0, shift;
    uint64_t sq = wfpi_spec_q32(c, &bits, &exact), v, gran;
    wfpi_u128 p;
    if (exact)
        return s->c;
    if (sq == 0)
        return 0;
    shift = WFPI_Q + wfpi_bitlen64((uint64_t)bits) - 1; /* bits is a power of two */
    p = wfpi_mul64(s->s, sq);
    v = (p.lo >> shift) | (shift ? p.hi << (64 - shift) : 0);
    gran = UINT64_C(1) << s->g;
    v &= ~(gran - 1);
    if (v < gran)
        v = gran;
    return v < s->c ? v : s->c;
}

uint64_t wfpi_auto_weight(const wfp_layer_info *layer, const wfp_condition *conds, uint32_t n)
{
    const wfpi_weight_layer *t;
    uint64_t total = 0;
    if (layer && layer->num_fields == 0)
        return WFPI_NOFIELD_WEIGHT;
    if (!layer) {
        /* no schema: every condition counts one */
        return n;
    }
    t = wfpi_table_for(layer);
    for (uint32_t i = 0; i < n; i++) {
        int idx = wfpi_field_index(layer, &conds[i].field_key), first = 1;
        wfpi_slot s;
        uint64_t sum = 0;
        int have;
        /* each field is summed once, at its first condition */
        for (uint32_t j = 0; j < i; j++) {
            if (wfpi_guid_same(&conds[j].field_key, &conds[i].field_key)) {
                first = 0;
                break;
            }
        }
        if (!first)
            continue;
        have = wfpi_slot_for(layer, t, idx, &s);
        if (!have) {
            s.c = 1;
            s.s = 1;
            s.g = 0;
        }
        for (uint32_t j = i; j < n; j++) {
            if (j != i && !wfpi_guid_same(&conds[j].field_key, &conds[i].field_key))
                continue;
            sum += have ? wfpi_cond_value(&s, &conds[j]) : 1;
            if (sum > s.c)
                sum = s.c; /* OR'd values on one field: add, capped at C */
        }
        total += sum;
        if (total > WFPI_M60)
            total = WFPI_M60;
    }
    return total;
}
