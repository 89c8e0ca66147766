/* enum.c — enumeration of BFE objects (Fwpm*CreateEnumHandle0, Fwpm*Enum0,
 * Fwpm*DestroyEnumHandle0) and the filter enum template
 * (FWPM_FILTER_ENUM_TEMPLATE0): its validation, its matching (also used to
 * filter change notifications) and its deep copy.
 *
 * A handle is a snapshot taken at creation: the ids (filters, layers) or
 * keys (providers, sublayers, callouts) of the objects that matched, in the
 * order they will be returned. Each *_next looks them up again, skips those
 * deleted since and those the session may no longer read, and lends
 * pointers into the store through an array owned by the handle.
 *
 * Template conditions are compared with a filter's conditions as sets of
 * field values, one template field at a time (docs/sim-defined.md, "Filter
 * enum templates"): on field F the template's set T is what its condition
 * accepts, the filter's set is the union of what its conditions on F accept
 * (everything, FWP_EMPTY included, when it has none). FULLY_CONTAINED asks
 * T ⊆ filter set ("filters that fully contain the enum conditions", SDK
 * FWP_FILTER_ENUM_TYPE); OVERLAPPING asks that they intersect. Over ordered
 * domains (integers, addresses, MACs) the answer is exact: the domain is cut
 * into cells on which every condition involved is constant and one witness
 * per cell is tested with wfp_condition_match itself, so enumeration agrees
 * with classification by construction. For blobs, strings, SIDs and SDs it
 * is exact when the template condition is an EQUAL and best effort
 * otherwise, leaning to exclusion for FULLY_CONTAINED and to inclusion for
 * OVERLAPPING (so FULLY_CONTAINED stays a subset of OVERLAPPING). */
#include "engine_int.h"
#include "wfp_enum.h"

#include <stdlib.h>
#include <string.h>

#define KNOWN_ENUM_FLAGS                                                                       \
    (FWP_FILTER_ENUM_FLAG_BEST_TERMINATING_MATCH | FWP_FILTER_ENUM_FLAG_SORTED |               \
     FWP_FILTER_ENUM_FLAG_BOOTTIME_ONLY | FWP_FILTER_ENUM_FLAG_INCLUDE_BOOTTIME |              \
     FWP_FILTER_ENUM_FLAG_INCLUDE_DISABLED)
#define ACTION_MASK_ANY 0xFFFFFFFFu

/* Flag conditions are decided exactly by trying every pattern of the bits
 * they name; above this many bits the answer is the conservative one. */
#define MAX_FLAG_BITS 12
/* Longest blob for which "operand followed by a NUL" is tried as a witness. */
#define WITNESS_BLOB_MAX 1024

struct wfp_enum {
    wfp_engine *e;
    uint32_t session; /* the session that created it */
    uint32_t kind;    /* WFP_OBJECT_* */
    size_t n, pos;
    uint64_t *ids;    /* filters: filter ids; layers: layer ids */
    wfp_guid *keys;   /* providers, sublayers, callouts */
    void *lent;       /* the array last handed out */
    size_t lent_cap;  /* in entries */
};

/* ---- value domains --------------------------------------------------------- */

static bool is_token_type(uint32_t t)
{
    return t == FWP_TOKEN_INFORMATION_TYPE || t == FWP_TOKEN_ACCESS_INFORMATION_TYPE;
}

static bool is_blob_type(uint32_t t)
{
    return t == FWP_BYTE_BLOB_TYPE || t == FWP_SID || t == FWP_SECURITY_DESCRIPTOR_TYPE || is_token_type(t) ||
           t == FWP_UNICODE_STRING_TYPE;
}

/* Width in bits of an ordered domain whose values map one to one, order
 * preserved, onto 0 .. 2^width - 1; 0 for the others. */
static unsigned ordered_width(uint32_t dt)
{
    switch (dt) {
    case FWP_UINT8: case FWP_INT8: return 8;
    case FWP_UINT16: case FWP_INT16: return 16;
    case FWP_UINT32: case FWP_INT32: return 32;
    case FWP_UINT64: case FWP_INT64: return 64;
    case FWP_BYTE_ARRAY6_TYPE: return 48;
    case FWP_BYTE_ARRAY16_TYPE: return 128;
    default: return 0;
    }
}

/* A point of an ordered domain (128-bit unsigned). */
typedef struct k128 {
    uint64_t hi, lo;
} k128;

static int k_cmp(k128 a, k128 b)
{
    if (a.hi != b.hi) return a.hi < b.hi ? -1 : 1;
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}

static k128 k_max(unsigned width)
{
    k128 m;
    m.hi = width > 64 ? UINT64_MAX >> (128 - width) : 0;
    m.lo = width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
    return m;
}

/* a + 1 when it stays in the domain. */
static bool k_next(k128 a, unsigned width, k128 *out)
{
    if (k_cmp(a, k_max(width)) >= 0) return false;
    out->lo = a.lo + 1;
    out->hi = a.hi + (out->lo == 0);
    return true;
}

static k128 k_from_bytes(const uint8_t *b, unsigned n)
{
    k128 k = {0, 0};
    for (unsigned i = 0; i < n; i++) {
        k.hi = (k.hi << 8) | (k.lo >> 56);
        k.lo = (k.lo << 8) | b[i];
    }
    return k;
}

static void k_to_bytes(k128 k, uint8_t *b, unsigned n)
{
    for (unsigned i = n; i-- > 0;) {
        b[i] = (uint8_t)k.lo;
        k.lo = (k.lo >> 8) | (k.hi << 56);
        k.hi >>= 8;
    }
}

#define SIGN64 (UINT64_C(1) << 63)

/* Signed integers are biased so that their order is the unsigned order. */
static k128 key_of(uint32_t dt, const wfp_value *v)
{
    k128 k = {0, 0};
    switch (dt) {
    case FWP_UINT8: k.lo = v->v.u8; break;
    case FWP_UINT16: k.lo = v->v.u16; break;
    case FWP_UINT32: k.lo = v->v.u32; break;
    case FWP_UINT64: k.lo = v->v.u64; break;
    case FWP_INT8: k.lo = (uint64_t)((int64_t)v->v.i8 + 128); break;
    case FWP_INT16: k.lo = (uint64_t)((int64_t)v->v.i16 + 32768); break;
    case FWP_INT32: k.lo = (uint64_t)((int64_t)v->v.i32 + 2147483648LL); break;
    case FWP_INT64: k.lo = (uint64_t)v->v.i64 ^ SIGN64; break;
    case FWP_BYTE_ARRAY6_TYPE: k = k_from_bytes(v->v.bytes6, 6); break;
    case FWP_BYTE_ARRAY16_TYPE: k = k_from_bytes(v->v.bytes16, 16); break;
    default: break;
    }
    return k;
}

static void value_of(uint32_t dt, k128 k, wfp_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = dt;
    switch (dt) {
    case FWP_UINT8: v->v.u8 = (uint8_t)k.lo; break;
    case FWP_UINT16: v->v.u16 = (uint16_t)k.lo; break;
    case FWP_UINT32: v->v.u32 = (uint32_t)k.lo; break;
    case FWP_UINT64: v->v.u64 = k.lo; break;
    case FWP_INT8: v->v.i8 = (int8_t)((int64_t)k.lo - 128); break;
    case FWP_INT16: v->v.i16 = (int16_t)((int64_t)k.lo - 32768); break;
    case FWP_INT32: v->v.i32 = (int32_t)((int64_t)k.lo - 2147483648LL); break;
    case FWP_INT64:
        v->v.i64 = k.lo >= SIGN64 ? (int64_t)(k.lo - SIGN64) : -(int64_t)(SIGN64 - 1 - k.lo) - 1;
        break;
    case FWP_BYTE_ARRAY6_TYPE: k_to_bytes(k, v->v.bytes6, 6); break;
    case FWP_BYTE_ARRAY16_TYPE: k_to_bytes(k, v->v.bytes16, 16); break;
    default: break;
    }
}

/* Where a condition's truth may change along an ordered domain: the first
 * point of the interval it tests and the point after it (for EQUAL x, GREATER
 * x, LESS x, … these are x and x + 1). Flag tests add their bits to *bits
 * instead. Returns the number of points written (0..2). */
static unsigned cond_points(uint32_t dt, unsigned width, const wfp_condition *c, k128 pts[2], uint64_t *bits)
{
    const wfp_condition_value *cv = &c->value;
    k128 lo, hi;
    unsigned n = 0;

    switch (cv->type) {
    case FWP_EMPTY:
        return 0;
    case FWP_V4_ADDR_MASK:
        lo.hi = hi.hi = 0;
        lo.lo = cv->u.v4.addr & cv->u.v4.mask;
        hi.lo = lo.lo | (~cv->u.v4.mask & 0xFFFFFFFFu);
        break;
    case FWP_V6_ADDR_MASK: {
        unsigned p = cv->u.v6.prefix_length > 128 ? 128 : cv->u.v6.prefix_length;
        k128 a = k_from_bytes(cv->u.v6.addr, 16), host;
        host.hi = p >= 64 ? 0 : UINT64_MAX >> p;
        host.lo = p >= 128 ? 0 : p <= 64 ? UINT64_MAX : UINT64_MAX >> (p - 64);
        lo.hi = a.hi & ~host.hi;
        lo.lo = a.lo & ~host.lo;
        hi.hi = lo.hi | host.hi;
        hi.lo = lo.lo | host.lo;
        break;
    }
    case FWP_RANGE_TYPE:
        lo = key_of(dt, &cv->u.range.low);
        hi = key_of(dt, &cv->u.range.high);
        break;
    default:
        if (c->match_type == FWP_MATCH_FLAGS_ALL_SET || c->match_type == FWP_MATCH_FLAGS_ANY_SET ||
            c->match_type == FWP_MATCH_FLAGS_NONE_SET) {
            *bits |= key_of(dt, &cv->u.value).lo;
            return 0;
        }
        lo = hi = key_of(dt, &cv->u.value);
        break;
    }
    pts[n++] = lo;
    if (k_next(hi, width, &pts[n])) n++;
    return n;
}

/* The least v >= lo (v <= max) whose bits in `fixed` equal `pattern`. */
static bool least_with_bits(uint64_t lo, uint64_t fixed, uint64_t pattern, uint64_t max, uint64_t *out)
{
    uint64_t diff = (lo ^ pattern) & fixed;
    int m = 63;
    if (!diff) {
        *out = lo;
        return lo <= max;
    }
    while (!(diff >> m & 1)) m--; /* the highest bit where lo disagrees */
    /* Keep lo's bits above some b >= m, raise bit b from 0 to 1, then the
     * pattern below: the lowest such b gives the least value. Above m lo
     * agrees with the pattern, so b > m must be a free bit. */
    for (int b = m; b < 64; b++) {
        uint64_t bit = UINT64_C(1) << b;
        if (lo & bit) continue;
        if (b == m ? !(pattern & bit) : (fixed & bit) != 0) continue;
        uint64_t above = b == 63 ? 0 : lo & ~((bit << 1) - 1);
        uint64_t v = above | bit | (pattern & (bit - 1));
        if (v > max) return false;
        *out = v;
        return true;
    }
    return false;
}

/* ---- one template field against a filter's conditions --------------------- */

typedef struct fieldcmp {
    uint32_t dt;              /* the field's data type in the filter's layer */
    const wfp_condition *t;   /* the template's condition */
    const wfp_condition *f;   /* all of the filter's conditions */
    uint32_t nf;
    bool contained, overlap;  /* results: T ⊆ F, T ∩ F ≠ ∅ */
} fieldcmp;

static bool same_field(const fieldcmp *c, uint32_t i)
{
    return wfp_guid_eq(&c->f[i].field_key, &c->t->field_key);
}

static bool filter_constrains(const fieldcmp *c)
{
    for (uint32_t i = 0; i < c->nf; i++)
        if (same_field(c, i)) return true;
    return false;
}

/* Does the filter accept `w` on this field? (OR of its conditions on it.) */
static bool filter_accepts(const fieldcmp *c, const wfp_value *w)
{
    bool any = false;
    for (uint32_t i = 0; i < c->nf; i++) {
        if (!same_field(c, i)) continue;
        any = true;
        if (wfp_condition_match(c->f[i].match_type, &c->f[i].value, w)) return true;
    }
    return !any;
}

/* Tests one witness; true once nothing more can be learnt. */
static bool witness(fieldcmp *c, const wfp_value *w)
{
    if (wfp_condition_match(c->t->match_type, &c->t->value, w)) {
        if (filter_accepts(c, w)) c->overlap = true;
        else c->contained = false;
    }
    return c->overlap && !c->contained;
}

/* Ordered domains: every cell (an interval between change points, times a
 * pattern of the flag bits in play) gets its least member as witness. */
static bool compare_ordered(fieldcmp *c, unsigned width)
{
    uint64_t bits = 0, max = k_max(width).lo;
    k128 pts[2];
    wfp_value w;
    unsigned nbits = 0;

    cond_points(c->dt, width, c->t, pts, &bits);
    for (uint32_t i = 0; i < c->nf; i++)
        if (same_field(c, i)) cond_points(c->dt, width, &c->f[i], pts, &bits);
    for (uint64_t b = bits; b; b &= b - 1) nbits++;
    if (nbits > MAX_FLAG_BITS) return false;

    memset(&w, 0, sizeof w); /* FWP_EMPTY */
    if (witness(c, &w)) return true;
    /* sources: -1 is the domain's least point, 0 the template, 1.. the filter */
    for (int64_t s = -1; s <= (int64_t)c->nf; s++) {
        unsigned np;
        if (s < 0) {
            pts[0].hi = pts[0].lo = 0;
            np = 1;
        } else if (s == 0) {
            np = cond_points(c->dt, width, c->t, pts, &bits);
        } else {
            if (!same_field(c, (uint32_t)(s - 1))) continue;
            np = cond_points(c->dt, width, &c->f[s - 1], pts, &bits);
        }
        for (unsigned k = 0; k < np; k++) {
            uint64_t p = 0;
            for (;;) { /* every pattern of `bits`, ascending */
                k128 q = pts[k];
                if (bits) {
                    uint64_t v;
                    if (!least_with_bits(q.lo, bits, p, max, &v)) goto next_pattern;
                    q.lo = v;
                }
                value_of(c->dt, q, &w);
                if (witness(c, &w)) return true;
            next_pattern:
                if (p == bits) break;
                p = ((p | ~bits) + 1) & bits;
            }
        }
    }
    return true;
}

/* Does every value `t` accepts pass `f`? Only the cases that are certain. */
static bool syntactically_contains(const wfp_condition *f, const wfp_condition *t)
{
    if (f->match_type != t->match_type) return false;
    if (wfp_condition_value_equal(&f->value, &t->value)) return true;
    /* ends with s, and s ends with s' ⇒ ends with s'; likewise for
     * case-insensitive equality, which is transitive */
    if ((t->match_type == FWP_MATCH_PREFIX || t->match_type == FWP_MATCH_EQUAL_CASE_INSENSITIVE) &&
        t->value.type == f->value.type && t->value.type < FWP_SINGLE_DATA_TYPE_MAX)
        return wfp_condition_match(f->match_type, &f->value, &t->value.u.value);
    return false;
}

/* Witnesses for blobs and strings: a value and the value after it. */
static bool witness_blob(fieldcmp *c, const wfp_value *v, bool *skipped)
{
    uint8_t buf[WITNESS_BLOB_MAX];
    wfp_value w;
    if (v->type != c->dt || !is_blob_type(v->type)) return false;
    if (witness(c, v)) return true;
    if (v->v.blob.size >= sizeof buf) {
        *skipped = true;
        return false;
    }
    if (v->v.blob.size) memcpy(buf, v->v.blob.data, v->v.blob.size);
    buf[v->v.blob.size] = 0; /* the least value greater than v */
    w = *v;
    w.v.blob.data = buf;
    w.v.blob.size = v->v.blob.size + 1;
    return witness(c, &w);
}

static bool witness_operand(fieldcmp *c, const wfp_condition *cond, bool *skipped)
{
    if (cond->value.type == FWP_RANGE_TYPE)
        return witness_blob(c, &cond->value.u.range.low, skipped) ||
               witness_blob(c, &cond->value.u.range.high, skipped);
    if (cond->value.type < FWP_SINGLE_DATA_TYPE_MAX) return witness_blob(c, &cond->value.u.value, skipped);
    return false;
}

/* Unordered domains (floats, blobs, strings, SIDs, SDs, tokens). */
static void compare_unordered(fieldcmp *c)
{
    const wfp_condition *t = c->t;
    bool constrained = filter_constrains(c);
    wfp_value w;

    memset(&w, 0, sizeof w);
    if (witness(c, &w)) return; /* FWP_EMPTY */

    /* EQUAL to one value: the set is that value. A SID on a token field
     * (templates only, spec §2.2) stands for the token of that SID alone:
     * the filters that apply to that user. */
    if (t->match_type == FWP_MATCH_EQUAL && t->value.type < FWP_SINGLE_DATA_TYPE_MAX &&
        t->value.type != FWP_SECURITY_DESCRIPTOR_TYPE) {
        w = t->value.u.value;
        if (t->value.type == FWP_SID && is_token_type(c->dt)) w.type = c->dt;
        witness(c, &w);
        return;
    }

    /* Otherwise containment only when certain. */
    c->contained = !constrained;
    for (uint32_t i = 0; i < c->nf && !c->contained; i++)
        if (same_field(c, i) && syntactically_contains(&c->f[i], t)) c->contained = true;
    if (c->contained || !constrained) {
        c->overlap = true;
        return;
    }
    if (t->value.type == FWP_SECURITY_DESCRIPTOR_TYPE) {
        /* two access checks rarely exclude each other: assume they overlap
         * unless the filter only tests for FWP_EMPTY */
        for (uint32_t i = 0; i < c->nf; i++)
            if (same_field(c, i) && c->f[i].value.type != FWP_EMPTY) c->overlap = true;
        return;
    }
    /* Overlap on witnesses: the empty value, every operand and the value
     * right after it. Exact when one side is an EQUAL; otherwise best
     * effort, and inclusive when a witness had to be left out. */
    {
        bool skipped = false, contained = c->contained;
        if (is_blob_type(c->dt)) {
            w.type = c->dt;
            w.v.blob.data = NULL;
            w.v.blob.size = 0;
            witness(c, &w);
        }
        witness_operand(c, t, &skipped);
        for (uint32_t i = 0; i < c->nf && !c->overlap; i++)
            if (same_field(c, i)) witness_operand(c, &c->f[i], &skipped);
        if (skipped) c->overlap = true;
        c->contained = contained; /* witnesses only refute; containment was settled above */
    }
}

/* Compares one template condition with the filter's conditions. */
static void compare_field(fieldcmp *c)
{
    unsigned width = ordered_width(c->dt);
    c->contained = true;
    c->overlap = false;
    if (width && compare_ordered(c, width)) return;
    if (width) {
        /* too many flag bits to try them all: certain cases only */
        bool constrained = filter_constrains(c);
        c->contained = !constrained;
        for (uint32_t i = 0; i < c->nf && !c->contained; i++)
            if (same_field(c, i) && syntactically_contains(&c->f[i], c->t)) c->contained = true;
        c->overlap = true;
        return;
    }
    compare_unordered(c);
}

/* ---- filter templates -------------------------------------------------------- */

/* Can a template condition stand on a field of this data type? Like a
 * filter's, plus FWP_SID on a token field (spec §2.2: templates only). */
static uint32_t template_condition_validate(uint32_t dt, const wfp_condition *c)
{
    if (is_token_type(dt) && c->value.type == FWP_SID) {
        if (c->match_type != FWP_MATCH_EQUAL) return FWP_E_MATCH_TYPE_MISMATCH;
        if (c->value.u.value.type != FWP_SID) return FWP_E_INVALID_PARAMETER;
        if (!wfp_sid_valid(c->value.u.value.v.blob.data, c->value.u.value.v.blob.size)) return ERROR_INVALID_SID;
        return ERROR_SUCCESS;
    }
    return wfp_condition_validate(dt, c->match_type, &c->value);
}

/* Can anything pass this condition? (Compared with a filter without conditions.) */
static bool satisfiable(uint32_t dt, const wfp_condition *c)
{
    fieldcmp fc;
    memset(&fc, 0, sizeof fc);
    fc.dt = dt;
    fc.t = c;
    compare_field(&fc);
    return fc.overlap;
}

static uint32_t validate_condition(wfp_engine *e, const wfp_layer_info *layer, const wfp_condition *c, uint32_t i)
{
    const wfp_condition_info *ci = wfp_catalog_condition_by_key(&c->field_key);
    const char *name = ci ? ci->name : "an unknown field";
    uint32_t rc = FWP_E_CONDITION_NOT_FOUND;

    if (layer) {
        int fi = wfp_catalog_field_index(layer, &c->field_key);
        if (fi < 0)
            return wfpi_fail(e, FWP_E_CONDITION_NOT_FOUND, "enum template condition %u: %s is not a field of %s",
                             (unsigned)i, name, layer->name);
        rc = template_condition_validate(layer->fields[fi].data_type, c);
        if (!rc && !satisfiable(layer->fields[fi].data_type, c))
            return wfpi_fail(e, FWP_E_NEVER_MATCH, "enum template condition %u on %s accepts no value",
                             (unsigned)i, name);
    } else if (ci) {
        /* every layer: the condition must fit the field in at least one
         * layer that has it (wfpsim extension) */
        for (size_t l = 0; l < wfp_catalog_layer_count(); l++) {
            const wfp_layer_info *li = wfp_catalog_layer_by_id((uint16_t)l);
            int fi = wfp_catalog_field_index(li, &c->field_key);
            if (fi < 0) continue;
            uint32_t r = template_condition_validate(li->fields[fi].data_type, c);
            if (!r && satisfiable(li->fields[fi].data_type, c)) return ERROR_SUCCESS;
            if (rc == FWP_E_CONDITION_NOT_FOUND) rc = r ? r : FWP_E_NEVER_MATCH;
        }
    }
    if (rc)
        return wfpi_fail(e, rc, "enum template condition %u on %s does not fit %s (%s)", (unsigned)i, name,
                         layer ? layer->name : "any layer", wfp_result_name(rc) ? wfp_result_name(rc) : "error");
    return ERROR_SUCCESS;
}

uint32_t wfp_filter_template_validate(wfp_engine *e, const wfp_filter_enum_template *t)
{
    const wfp_layer_info *layer = NULL;

    if (!e) return FWP_E_NULL_POINTER;
    if (!t) return ERROR_SUCCESS;
    if (t->enum_type > FWP_FILTER_ENUM_OVERLAPPING)
        return wfpi_fail(e, FWP_E_INVALID_ENUMERATOR, "enum template: enum type %u is not FULLY_CONTAINED or OVERLAPPING",
                         (unsigned)t->enum_type);
    if (t->flags & ~KNOWN_ENUM_FLAGS)
        return wfpi_fail(e, FWP_E_INVALID_ENUMERATOR, "enum template: unknown flags 0x%x",
                         (unsigned)(t->flags & ~KNOWN_ENUM_FLAGS));
    if (!wfp_guid_is_null(&t->layer_key)) {
        layer = wfp_catalog_layer_by_key(&t->layer_key);
        if (!layer) return wfpi_fail(e, FWP_E_LAYER_NOT_FOUND, "enum template: no such layer");
    }
    if (t->num_conditions && !t->conditions)
        return wfpi_fail(e, FWP_E_NULL_POINTER, "enum template: %u conditions but no array", (unsigned)t->num_conditions);
    for (uint32_t i = 0; i < t->num_conditions; i++) {
        for (uint32_t j = 0; j < i; j++)
            if (wfp_guid_eq(&t->conditions[j].field_key, &t->conditions[i].field_key))
                return wfpi_fail(e, FWP_E_DUPLICATE_CONDITION,
                                 "enum template conditions %u and %u are on the same field", (unsigned)j, (unsigned)i);
        uint32_t rc = validate_condition(e, layer, &t->conditions[i], i);
        if (rc) return rc;
    }
    if (t->action_mask == 0)
        return wfpi_fail(e, FWP_E_NEVER_MATCH, "enum template: action mask 0 matches no filter");
    if (t->callout_key && !(t->action_mask & FWP_ACTION_FLAG_CALLOUT))
        return wfpi_fail(e, FWP_E_NEVER_MATCH,
                         "enum template: a callout key needs FWP_ACTION_FLAG_CALLOUT in the action mask");
    return ERROR_SUCCESS;
}

/* Boot-time and disabled filters (SDK FWPM_FILTER_ENUM_TEMPLATE0 flags). */
static bool flags_admit(uint32_t tflags, uint32_t fflags)
{
    bool boot = (fflags & FWPM_FILTER_FLAG_BOOTTIME) != 0;
    if (tflags & FWP_FILTER_ENUM_FLAG_BOOTTIME_ONLY) return boot;
    if (boot) return (tflags & FWP_FILTER_ENUM_FLAG_INCLUDE_BOOTTIME) != 0;
    if (fflags & FWPM_FILTER_FLAG_DISABLED) return (tflags & FWP_FILTER_ENUM_FLAG_INCLUDE_DISABLED) != 0;
    return true;
}

bool wfp_filter_template_match(const wfp_filter_enum_template *t, const wfp_filter *f)
{
    const wfp_layer_info *layer;
    bool any_layer;

    if (!f) return false;
    if (!flags_admit(t ? t->flags : 0, f->flags)) return false;
    if (!t) return true;
    any_layer = wfp_guid_is_null(&t->layer_key);
    if (!any_layer && !wfp_guid_eq(&t->layer_key, &f->layer_key)) return false;
    if (t->provider_key && (!f->provider_key || !wfp_guid_eq(t->provider_key, f->provider_key))) return false;
    if (t->action_mask != ACTION_MASK_ANY && !(f->action.type & t->action_mask)) return false;
    if (t->callout_key &&
        (!(f->action.type & FWP_ACTION_FLAG_CALLOUT) || !wfp_guid_eq(t->callout_key, &f->action.key)))
        return false;
    if (!t->num_conditions) return true;
    layer = wfp_catalog_layer_by_key(&f->layer_key);
    if (!layer) return false;
    for (uint32_t i = 0; i < t->num_conditions; i++) {
        const wfp_condition *c = &t->conditions[i];
        int fi = wfp_catalog_field_index(layer, &c->field_key);
        fieldcmp fc;
        if (fi < 0) return false;
        if (any_layer && template_condition_validate(layer->fields[fi].data_type, c)) return false;
        memset(&fc, 0, sizeof fc);
        fc.dt = layer->fields[fi].data_type;
        fc.t = c;
        fc.f = f->conditions;
        fc.nf = f->conditions ? f->num_conditions : 0;
        compare_field(&fc);
        if (t->enum_type == FWP_FILTER_ENUM_FULLY_CONTAINED ? !fc.contained : !fc.overlap) return false;
    }
    return true;
}

/* A template that owns its pointers; the template comes first so that the
 * copy can be used (and freed) through a template pointer. */
typedef struct tcopy {
    wfp_filter_enum_template t;
    wfp_guid provider, callout;
    wfp_condition *conds;
} tcopy;

void wfpi_filter_template_free(wfp_engine *e, void *p)
{
    tcopy *c = p;
    if (!c) return;
    for (uint32_t i = 0; c->conds && i < c->t.num_conditions; i++) wfpi_condition_value_free(&e->alloc, &c->conds[i].value);
    wfpi_free(e, c->conds);
    wfpi_free(e, c);
}

void *wfpi_filter_template_copy(wfp_engine *e, const struct wfp_filter_enum_template *t)
{
    tcopy *c;
    if (!e || !t) return NULL;
    c = wfpi_calloc(e, 1, sizeof *c);
    if (!c) return NULL;
    c->t = *t;
    c->t.conditions = NULL;
    c->t.num_conditions = 0;
    if (t->provider_key) {
        c->provider = *t->provider_key;
        c->t.provider_key = &c->provider;
    }
    if (t->callout_key) {
        c->callout = *t->callout_key;
        c->t.callout_key = &c->callout;
    }
    if (t->num_conditions && t->conditions) {
        c->conds = wfpi_calloc(e, t->num_conditions, sizeof *c->conds);
        if (!c->conds) goto fail;
        c->t.conditions = c->conds;
        for (uint32_t i = 0; i < t->num_conditions; i++) {
            c->conds[i].field_key = t->conditions[i].field_key;
            c->conds[i].match_type = t->conditions[i].match_type;
            c->t.num_conditions = i + 1; /* a failed copy is still freeable */
            if (!wfpi_condition_value_copy(&e->alloc, &c->conds[i].value, &t->conditions[i].value)) goto fail;
        }
    }
    return &c->t;
fail:
    wfpi_filter_template_free(e, c);
    return NULL;
}

/* ---- handles ------------------------------------------------------------------ */

void wfpi_enum_session_closed(wfp_engine *e, uint32_t session_id)
{
    /* Handles are owned by the caller and not listed by the engine: a
     * handle whose session has closed can no longer be used, and any live
     * session of the engine may destroy it (wfp_enum_destroy). */
    (void)e;
    (void)session_id;
}

static void handle_free(wfp_enum *h)
{
    wfp_engine *e = h->e;
    wfpi_free(e, h->ids);
    wfpi_free(e, h->keys);
    wfpi_free(e, h->lent);
    wfpi_free(e, h);
}

static wfp_enum *handle_new(wfp_session *s, uint32_t kind, size_t cap, bool keys)
{
    wfp_engine *e = s->engine;
    wfp_enum *h = wfpi_calloc(e, 1, sizeof *h);
    if (!h) return NULL;
    h->e = e;
    h->session = s->id;
    h->kind = kind;
    if (!cap) cap = 1;
    if (keys) h->keys = wfpi_calloc(e, cap, sizeof *h->keys);
    else h->ids = wfpi_calloc(e, cap, sizeof *h->ids);
    if (!h->keys && !h->ids) {
        wfpi_free(e, h);
        return NULL;
    }
    return h;
}

/* Common start of every create: the lock, then ENUM on the container. */
static uint32_t create_begin(wfp_session *s, uint32_t kind, wfp_enum **out)
{
    uint32_t rc;
    if (!s || !out) return FWP_E_NULL_POINTER;
    *out = NULL;
    rc = wfpi_session_enter(s);
    if (rc) return rc;
    return wfpi_check_container(s, kind, FWPM_ACTRL_ENUM);
}

/* Common start of every *_next: the handle must be this session's and of
 * this kind. Makes room for up to `requested` entries of `elem` bytes and
 * says how many may be returned. */
static uint32_t next_begin(wfp_session *s, wfp_enum *h, uint32_t kind, uint32_t requested, size_t elem,
                           const void *entries, const uint32_t *returned, size_t *want)
{
    wfp_engine *e;
    uint32_t rc;
    size_t left;

    if (!s || !h || !entries || !returned) return FWP_E_NULL_POINTER;
    rc = wfpi_session_enter(s);
    if (rc) return rc;
    e = s->engine;
    if (h->e != e || h->session != s->id || h->kind != kind)
        return wfpi_fail(e, FWP_E_INVALID_ENUMERATOR, "the enum handle is not a %s handle of this session",
                         wfp_object_type_name(kind));
    left = h->n - h->pos;
    *want = requested < left ? requested : left;
    if (*want > h->lent_cap) {
        void *p = wfpi_calloc(e, *want, elem);
        if (!p) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "enum entries");
        wfpi_free(e, h->lent);
        h->lent = p;
        h->lent_cap = *want;
    }
    return ERROR_SUCCESS;
}

uint32_t wfp_enum_destroy(wfp_session *s, wfp_enum *h)
{
    if (!h) return ERROR_SUCCESS;
    if (!s) return FWP_E_NULL_POINTER;
    /* Destroying never waits for the lock: it frees only the handle. A
     * handle of a closed session may be destroyed by any session. */
    if (h->e != s->engine || (h->session != s->id && wfpi_session_by_id(s->engine, h->session)))
        return wfpi_fail(s->engine, FWP_E_INVALID_ENUMERATOR, "the enum handle belongs to another session");
    handle_free(h);
    return ERROR_SUCCESS;
}

/* ---- filters ------------------------------------------------------------------ */

static wfilter *filter_by_id(const wfp_engine *e, uint64_t id)
{
    size_t lo = 0, hi = e->filters.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t m = e->filters.v[mid]->pub.filter_id;
        if (m == id) return e->filters.v[mid];
        if (m < id) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* Layer, then evaluation order (the order of wfp_filter_list): sublayer
 * weight high first, sublayer key, effective weight high first, filter id. */
static int cmp_layer_eval_order(const void *pa, const void *pb)
{
    const wfilter *a = *(wfilter *const *)pa, *b = *(wfilter *const *)pb;
    if (a->layer->id != b->layer->id) return a->layer->id < b->layer->id ? -1 : 1;
    if (a->sublayer != b->sublayer && a->sublayer && b->sublayer) {
        if (a->sublayer->pub.weight != b->sublayer->pub.weight)
            return a->sublayer->pub.weight > b->sublayer->pub.weight ? -1 : 1;
        int k = wfp_guid_cmp(&a->sublayer->pub.key, &b->sublayer->pub.key);
        if (k) return k;
    }
    if (a->weight != b->weight) return a->weight > b->weight ? -1 : 1;
    return a->pub.filter_id < b->pub.filter_id ? -1 : a->pub.filter_id > b->pub.filter_id;
}

/* Keeps, per layer, the first terminating filter in evaluation order. */
static size_t keep_best_terminating(wfilter **m, size_t n)
{
    size_t k = 0;
    qsort(m, n, sizeof *m, cmp_layer_eval_order);
    for (size_t i = 0; i < n; i++) {
        if (!(m[i]->pub.action.type & FWP_ACTION_FLAG_TERMINATING)) continue;
        if (k && m[k - 1]->layer->id == m[i]->layer->id) continue;
        m[k++] = m[i];
    }
    return k;
}

uint32_t wfp_filter_enum_create(wfp_session *s, const wfp_filter_enum_template *t, wfp_enum **out)
{
    uint32_t rc = create_begin(s, WFP_OBJECT_FILTER, out);
    wfp_engine *e;
    wfilter **m;
    wfp_enum *h;
    size_t n = 0;

    if (rc) return rc;
    e = s->engine;
    rc = wfp_filter_template_validate(e, t);
    if (rc) return rc;
    m = wfpi_calloc(e, e->filters.n ? e->filters.n : 1, sizeof *m);
    h = handle_new(s, WFP_OBJECT_FILTER, e->filters.n, false);
    if (!m || !h) {
        wfpi_free(e, m);
        if (h) handle_free(h);
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "filter enum handle");
    }
    for (size_t i = 0; i < e->filters.n; i++)
        if (wfp_filter_template_match(t, &e->filters.v[i]->pub)) m[n++] = e->filters.v[i];
    /* The best match is chosen among every match, then dropped if the
     * session may not read it: an unreadable filter that decides is not
     * replaced by one that does not (sim-defined). */
    if (t && (t->flags & FWP_FILTER_ENUM_FLAG_BEST_TERMINATING_MATCH)) n = keep_best_terminating(m, n);
    else if (t && (t->flags & FWP_FILTER_ENUM_FLAG_SORTED)) qsort(m, n, sizeof *m, cmp_layer_eval_order);
    for (size_t i = 0; i < n; i++)
        if (wfpi_can_read(s, WFP_OBJECT_FILTER, &m[i]->o)) h->ids[h->n++] = m[i]->pub.filter_id;
    wfpi_free(e, m);
    *out = h;
    return ERROR_SUCCESS;
}

uint32_t wfp_filter_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_filter *const **entries,
                              uint32_t *returned)
{
    size_t want, k = 0;
    uint32_t rc = next_begin(s, h, WFP_OBJECT_FILTER, requested, sizeof(const wfp_filter *), entries, returned, &want);
    const wfp_filter **lent;
    if (rc) return rc;
    lent = h->lent;
    while (k < want && h->pos < h->n) {
        wfilter *f = filter_by_id(h->e, h->ids[h->pos++]);
        if (f && wfpi_can_read(s, WFP_OBJECT_FILTER, &f->o)) lent[k++] = &f->pub;
    }
    *entries = k ? lent : NULL;
    *returned = (uint32_t)k;
    return ERROR_SUCCESS;
}

/* ---- callouts, sublayers, providers ---------------------------------------- */

/* The next object of a keyed handle (callouts, sublayers, providers) that
 * still exists and that the session may read; NULL at the end. Handles
 * hold keys, not pointers: objects deleted since the snapshot are skipped. */
static const void *next_keyed(wfp_session *s, wfp_enum *h)
{
    const wfp_engine *e = h->e;
    while (h->pos < h->n) {
        const wfp_guid *key = &h->keys[h->pos++];
        const wobj *o = NULL;
        const void *pub = NULL;
        /* the engine keeps each object type in its own array */
#define FIND_BY_KEY(coll)                                                \
    for (size_t i = 0; i < e->coll.n && !pub; i++)                       \
        if (wfp_guid_eq(&e->coll.v[i]->pub.key, key)) {                  \
            o = &e->coll.v[i]->o;                                        \
            pub = &e->coll.v[i]->pub;                                    \
        }
        switch (h->kind) {
        case WFP_OBJECT_CALLOUT: FIND_BY_KEY(callouts) break;
        case WFP_OBJECT_SUBLAYER: FIND_BY_KEY(sublayers) break;
        case WFP_OBJECT_PROVIDER: FIND_BY_KEY(providers) break;
#undef FIND_BY_KEY
        default: return NULL;
        }
        if (pub && wfpi_can_read(s, h->kind, o)) return pub;
    }
    return NULL;
}

static bool provider_matches(const wfp_guid *want, const wfp_guid *have)
{
    return !want || (have && wfp_guid_eq(want, have));
}

uint32_t wfp_callout_enum_create(wfp_session *s, const wfp_callout_enum_template *t, wfp_enum **out)
{
    uint32_t rc = create_begin(s, WFP_OBJECT_CALLOUT, out);
    wfp_engine *e;
    wfp_enum *h;
    bool any_layer;

    if (rc) return rc;
    e = s->engine;
    any_layer = !t || wfp_guid_is_null(&t->layer_key);
    if (!any_layer && !wfp_catalog_layer_by_key(&t->layer_key))
        return wfpi_fail(e, FWP_E_LAYER_NOT_FOUND, "callout enum template: no such layer");
    h = handle_new(s, WFP_OBJECT_CALLOUT, e->callouts.n, true);
    if (!h) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "callout enum handle");
    for (size_t i = 0; i < e->callouts.n; i++) {
        const wcallout *c = e->callouts.v[i];
        if (t && !provider_matches(t->provider_key, c->pub.provider_key)) continue;
        if (!any_layer && !wfp_guid_eq(&t->layer_key, &c->pub.applicable_layer)) continue;
        if (wfpi_can_read(s, WFP_OBJECT_CALLOUT, &c->o)) h->keys[h->n++] = c->pub.key;
    }
    *out = h;
    return ERROR_SUCCESS;
}

uint32_t wfp_callout_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_callout *const **entries,
                               uint32_t *returned)
{
    size_t want, k = 0;
    uint32_t rc = next_begin(s, h, WFP_OBJECT_CALLOUT, requested, sizeof(const wfp_callout *), entries, returned, &want);
    const wfp_callout **lent, *c;
    if (rc) return rc;
    lent = h->lent;
    while (k < want && (c = next_keyed(s, h))) lent[k++] = c;
    *entries = k ? lent : NULL;
    *returned = (uint32_t)k;
    return ERROR_SUCCESS;
}

uint32_t wfp_sublayer_enum_create(wfp_session *s, const wfp_sublayer_enum_template *t, wfp_enum **out)
{
    uint32_t rc = create_begin(s, WFP_OBJECT_SUBLAYER, out);
    wfp_engine *e;
    wfp_enum *h;

    if (rc) return rc;
    e = s->engine;
    h = handle_new(s, WFP_OBJECT_SUBLAYER, e->sublayers.n, true);
    if (!h) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "sublayer enum handle");
    for (size_t i = 0; i < e->sublayers.n; i++) {
        const wsublayer *sl = e->sublayers.v[i];
        if (t && !provider_matches(t->provider_key, sl->pub.provider_key)) continue;
        if (wfpi_can_read(s, WFP_OBJECT_SUBLAYER, &sl->o)) h->keys[h->n++] = sl->pub.key;
    }
    *out = h;
    return ERROR_SUCCESS;
}

uint32_t wfp_sublayer_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_sublayer *const **entries,
                                uint32_t *returned)
{
    size_t want, k = 0;
    uint32_t rc = next_begin(s, h, WFP_OBJECT_SUBLAYER, requested, sizeof(const wfp_sublayer *), entries, returned, &want);
    const wfp_sublayer **lent, *sl;
    if (rc) return rc;
    lent = h->lent;
    while (k < want && (sl = next_keyed(s, h))) lent[k++] = sl;
    *entries = k ? lent : NULL;
    *returned = (uint32_t)k;
    return ERROR_SUCCESS;
}

uint32_t wfp_provider_enum_create(wfp_session *s, wfp_enum **out)
{
    uint32_t rc = create_begin(s, WFP_OBJECT_PROVIDER, out);
    wfp_engine *e;
    wfp_enum *h;

    if (rc) return rc;
    e = s->engine;
    h = handle_new(s, WFP_OBJECT_PROVIDER, e->providers.n, true);
    if (!h) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "provider enum handle");
    for (size_t i = 0; i < e->providers.n; i++) {
        const wprovider *p = e->providers.v[i];
        if (wfpi_can_read(s, WFP_OBJECT_PROVIDER, &p->o)) h->keys[h->n++] = p->pub.key;
    }
    *out = h;
    return ERROR_SUCCESS;
}

uint32_t wfp_provider_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_provider *const **entries,
                                uint32_t *returned)
{
    size_t want, k = 0;
    uint32_t rc = next_begin(s, h, WFP_OBJECT_PROVIDER, requested, sizeof(const wfp_provider *), entries, returned, &want);
    const wfp_provider **lent, *p;
    if (rc) return rc;
    lent = h->lent;
    while (k < want && (p = next_keyed(s, h))) lent[k++] = p;
    *entries = k ? lent : NULL;
    *returned = (uint32_t)k;
    return ERROR_SUCCESS;
}

/* ---- layers ------------------------------------------------------------------- */

/* Layers are built in and have no SD of their own: READ comes from the
 * layer container and the engine. */
static bool can_read_layer(wfp_session *s)
{
    wobj o;
    memset(&o, 0, sizeof o);
    o.builtin = true;
    return wfpi_can_read(s, WFP_OBJECT_LAYER, &o);
}

uint32_t wfp_layer_enum_create(wfp_session *s, wfp_enum **out)
{
    uint32_t rc = create_begin(s, WFP_OBJECT_LAYER, out);
    size_t count = wfp_catalog_layer_count();
    wfp_enum *h;

    if (rc) return rc;
    h = handle_new(s, WFP_OBJECT_LAYER, count, false);
    if (!h) return wfpi_fail(s->engine, ERROR_NOT_ENOUGH_MEMORY, "layer enum handle");
    if (can_read_layer(s))
        for (size_t i = 0; i < count; i++) h->ids[h->n++] = i;
    *out = h;
    return ERROR_SUCCESS;
}

uint32_t wfp_layer_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_layer_info *const **entries,
                             uint32_t *returned)
{
    size_t want, k = 0;
    uint32_t rc = next_begin(s, h, WFP_OBJECT_LAYER, requested, sizeof(const wfp_layer_info *), entries, returned, &want);
    const wfp_layer_info **lent;
    bool readable;
    if (rc) return rc;
    lent = h->lent;
    readable = can_read_layer(s);
    while (k < want && h->pos < h->n) {
        const wfp_layer_info *l = wfp_catalog_layer_by_id((uint16_t)h->ids[h->pos++]);
        if (l && readable) lent[k++] = l;
    }
    *entries = k ? lent : NULL;
    *returned = (uint32_t)k;
    return ERROR_SUCCESS;
}
