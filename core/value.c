/* value.c — FWP values and condition values: names, validation against a
 * field, matching, deep copies, equality, stable text forms and the
 * IPv4/IPv6 parsers.
 *
 * The type/match-type rules are the SDK's (FWP_MATCH_TYPE: EQUAL for every
 * type, ordering for "sortable" types, FLAGS_* for unsigned integers,
 * EQUAL_CASE_INSENSITIVE for strings, PREFIX/NOT_PREFIX — really a suffix
 * test — for blobs and strings); spec §2.2–2.4. Where Windows is silent the
 * choice is marked "sim-defined" (docs/sim-defined.md). */
#include "wfp_value.h"

#include <stdio.h>
#include <string.h>

/* ---- bounded text output (snprintf style) ----------------------------- */
typedef struct outbuf {
    char *buf;
    size_t n;
    size_t len;
} outbuf;

static void ob_putc(outbuf *o, char c)
{
    if (o->buf && o->len + 1 < o->n) o->buf[o->len] = c;
    o->len++;
}

static void ob_puts(outbuf *o, const char *s)
{
    while (*s) ob_putc(o, *s++);
}

static void ob_u64(outbuf *o, uint64_t v)
{
    char tmp[24];
    size_t i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i) ob_putc(o, tmp[--i]);
}

static void ob_i64(outbuf *o, int64_t v)
{
    if (v < 0) {
        ob_putc(o, '-');
        ob_u64(o, (uint64_t)0 - (uint64_t)v);
    } else {
        ob_u64(o, (uint64_t)v);
    }
}

static void ob_hexbyte(outbuf *o, uint8_t b)
{
    static const char hex[] = "0123456789abcdef";
    ob_putc(o, hex[b >> 4]);
    ob_putc(o, hex[b & 15]);
}

/* Appends the output of a formatter that has the snprintf contract. */
typedef size_t (*blob_formatter)(const uint8_t *, uint32_t, char *, size_t);
static void ob_call(outbuf *o, blob_formatter f, const uint8_t *p, uint32_t len)
{
    bool room = o->buf && o->len < o->n;
    o->len += f(p, len, room ? o->buf + o->len : NULL, room ? o->n - o->len : 0);
}

static size_t ob_finish(outbuf *o)
{
    if (o->buf && o->n) o->buf[o->len < o->n ? o->len : o->n - 1] = 0;
    return o->len;
}

/* ---- small helpers ---------------------------------------------------- */
static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool str_eq_ci(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (ascii_lower(*a) != ascii_lower(*b)) return false;
    return *a == *b;
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (ascii_lower(*s) != ascii_lower(*prefix)) return false;
    return true;
}

static bool is_blob_type(uint32_t t)
{
    switch (t) {
    case FWP_BYTE_BLOB_TYPE:
    case FWP_SID:
    case FWP_SECURITY_DESCRIPTOR_TYPE:
    case FWP_TOKEN_INFORMATION_TYPE:
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE:
    case FWP_UNICODE_STRING_TYPE:
        return true;
    default:
        return false;
    }
}

static bool is_unsigned_type(uint32_t t)
{
    return t == FWP_UINT8 || t == FWP_UINT16 || t == FWP_UINT32 || t == FWP_UINT64;
}

static bool is_integer_type(uint32_t t)
{
    return t >= FWP_UINT8 && t <= FWP_INT64;
}

/* SDK FWP_MATCH_TYPE: "Sortable data types consist of all integer types,
 * FWP_BYTE_ARRAY16_TYPE, FWP_BYTE_BLOB_TYPE, and FWP_UNICODE_STRING_TYPE." */
static bool is_sortable_type(uint32_t t)
{
    return is_integer_type(t) || t == FWP_BYTE_ARRAY16_TYPE || t == FWP_BYTE_BLOB_TYPE ||
           t == FWP_UNICODE_STRING_TYPE;
}

static bool is_single_type(uint32_t t)
{
    return t <= FWP_BYTE_ARRAY6_TYPE;
}

static bool is_token_type(uint32_t t)
{
    return t == FWP_TOKEN_INFORMATION_TYPE || t == FWP_TOKEN_ACCESS_INFORMATION_TYPE;
}

/* ---- names ------------------------------------------------------------ */
static const char *const data_type_names[] = {
    "FWP_EMPTY",
    "FWP_UINT8",
    "FWP_UINT16",
    "FWP_UINT32",
    "FWP_UINT64",
    "FWP_INT8",
    "FWP_INT16",
    "FWP_INT32",
    "FWP_INT64",
    "FWP_FLOAT",
    "FWP_DOUBLE",
    "FWP_BYTE_ARRAY16_TYPE",
    "FWP_BYTE_BLOB_TYPE",
    "FWP_SID",
    "FWP_SECURITY_DESCRIPTOR_TYPE",
    "FWP_TOKEN_INFORMATION_TYPE",
    "FWP_TOKEN_ACCESS_INFORMATION_TYPE",
    "FWP_UNICODE_STRING_TYPE",
    "FWP_BYTE_ARRAY6_TYPE",
};
static const char *const cond_type_names[] = {
    "FWP_V4_ADDR_MASK",
    "FWP_V6_ADDR_MASK",
    "FWP_RANGE_TYPE",
};
#define NDATA_NAMES (sizeof data_type_names / sizeof data_type_names[0])
#define NCOND_NAMES (sizeof cond_type_names / sizeof cond_type_names[0])

const char *wfp_data_type_name(uint32_t type)
{
    if (type < NDATA_NAMES) return data_type_names[type];
    if (type >= FWP_V4_ADDR_MASK && type < FWP_V4_ADDR_MASK + NCOND_NAMES)
        return cond_type_names[type - FWP_V4_ADDR_MASK];
    return NULL;
}

/* "FWP_BYTE_BLOB_TYPE", "BYTE_BLOB_TYPE", "byte_blob": the FWP_ prefix and
 * the _TYPE suffix are optional, case does not matter. */
static bool type_name_matches(const char *name, const char *canon)
{
    size_t n, cl;
    if (starts_with_ci(name, "FWP_")) name += 4;
    canon += 4; /* every canonical name starts with FWP_ */
    if (str_eq_ci(name, canon)) return true;
    n = strlen(name);
    cl = strlen(canon);
    if (cl > 5 && str_eq_ci(canon + cl - 5, "_TYPE") && n == cl - 5) {
        for (size_t i = 0; i < n; i++)
            if (ascii_lower(name[i]) != ascii_lower(canon[i])) return false;
        return true;
    }
    return false;
}

bool wfp_data_type_from_name(const char *name, uint32_t *type)
{
    if (!name || !type) return false;
    for (uint32_t i = 0; i < NDATA_NAMES; i++) {
        if (type_name_matches(name, data_type_names[i])) {
            *type = i;
            return true;
        }
    }
    for (uint32_t i = 0; i < NCOND_NAMES; i++) {
        if (type_name_matches(name, cond_type_names[i])) {
            *type = FWP_V4_ADDR_MASK + i;
            return true;
        }
    }
    return false;
}

static const char *const match_names[] = {
    "FWP_MATCH_EQUAL",
    "FWP_MATCH_GREATER",
    "FWP_MATCH_LESS",
    "FWP_MATCH_GREATER_OR_EQUAL",
    "FWP_MATCH_LESS_OR_EQUAL",
    "FWP_MATCH_RANGE",
    "FWP_MATCH_FLAGS_ALL_SET",
    "FWP_MATCH_FLAGS_ANY_SET",
    "FWP_MATCH_FLAGS_NONE_SET",
    "FWP_MATCH_EQUAL_CASE_INSENSITIVE",
    "FWP_MATCH_NOT_EQUAL",
    "FWP_MATCH_PREFIX",
    "FWP_MATCH_NOT_PREFIX",
};

const char *wfp_match_type_name(uint32_t match)
{
    return match < FWP_MATCH_TYPE_MAX ? match_names[match] : NULL;
}

bool wfp_match_type_from_name(const char *name, uint32_t *match)
{
    /* Operator spellings, handy in scenarios (sim-defined). */
    static const struct {
        const char *op;
        uint32_t match;
    } ops[] = {
        {"==", FWP_MATCH_EQUAL},   {"!=", FWP_MATCH_NOT_EQUAL},
        {">", FWP_MATCH_GREATER},  {"<", FWP_MATCH_LESS},
        {">=", FWP_MATCH_GREATER_OR_EQUAL}, {"<=", FWP_MATCH_LESS_OR_EQUAL},
    };
    const char *n;

    if (!name || !match) return false;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(name, ops[i].op) == 0) {
            *match = ops[i].match;
            return true;
        }
    }
    n = starts_with_ci(name, "FWP_MATCH_") ? name + 10 : name;
    for (uint32_t i = 0; i < FWP_MATCH_TYPE_MAX; i++) {
        if (str_eq_ci(n, match_names[i] + 10)) {
            *match = i;
            return true;
        }
    }
    return false;
}

const char *wfp_action_type_name(uint32_t action)
{
    switch (action) {
    case FWP_ACTION_BLOCK: return "FWP_ACTION_BLOCK";
    case FWP_ACTION_PERMIT: return "FWP_ACTION_PERMIT";
    case FWP_ACTION_CALLOUT_TERMINATING: return "FWP_ACTION_CALLOUT_TERMINATING";
    case FWP_ACTION_CALLOUT_INSPECTION: return "FWP_ACTION_CALLOUT_INSPECTION";
    case FWP_ACTION_CALLOUT_UNKNOWN: return "FWP_ACTION_CALLOUT_UNKNOWN";
    case FWP_ACTION_CONTINUE: return "FWP_ACTION_CONTINUE";
    case FWP_ACTION_NONE: return "FWP_ACTION_NONE";
    case FWP_ACTION_NONE_NO_MATCH: return "FWP_ACTION_NONE_NO_MATCH";
    default: return NULL;
    }
}

/* ---- comparison ------------------------------------------------------- */

/* Lexicographic unsigned bytes, a proper prefix first (sim-defined: the
 * SDK calls blobs/strings sortable without saying how). */
static int bytes_cmp(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
    uint32_t n = al < bl ? al : bl;
    int c;
    if (n && (!a || !b)) return a == b ? 0 : (!a ? -1 : 1); /* malformed: never read NULL */
    c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return al == bl ? 0 : (al < bl ? -1 : 1);
}

#define CMP(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)

/* Order of two values of the same sortable type; false if not sortable. */
static bool value_cmp(const wfp_value *a, const wfp_value *b, int *out)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case FWP_UINT8: *out = CMP(a->v.u8, b->v.u8); return true;
    case FWP_UINT16: *out = CMP(a->v.u16, b->v.u16); return true;
    case FWP_UINT32: *out = CMP(a->v.u32, b->v.u32); return true;
    case FWP_UINT64: *out = CMP(a->v.u64, b->v.u64); return true;
    case FWP_INT8: *out = CMP(a->v.i8, b->v.i8); return true;
    case FWP_INT16: *out = CMP(a->v.i16, b->v.i16); return true;
    case FWP_INT32: *out = CMP(a->v.i32, b->v.i32); return true;
    case FWP_INT64: *out = CMP(a->v.i64, b->v.i64); return true;
    case FWP_BYTE_ARRAY16_TYPE: *out = bytes_cmp(a->v.bytes16, 16, b->v.bytes16, 16); return true;
    case FWP_BYTE_BLOB_TYPE:
    case FWP_UNICODE_STRING_TYPE:
        *out = bytes_cmp(a->v.blob.data, a->v.blob.size, b->v.blob.data, b->v.blob.size);
        return true;
    default:
        return false;
    }
}

/* Value equality as EQUAL tests it (floats compare as numbers). */
static bool value_match_equal(const wfp_value *a, const wfp_value *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case FWP_EMPTY: return true;
    case FWP_FLOAT: return a->v.f32 == b->v.f32;
    case FWP_DOUBLE: return a->v.f64 == b->v.f64;
    default: return wfp_value_equal(a, b);
    }
}

bool wfp_value_equal(const wfp_value *a, const wfp_value *b)
{
    if (!a || !b) return a == b;
    if (a->type != b->type) return false;
    switch (a->type) {
    case FWP_EMPTY: return true;
    case FWP_UINT8: return a->v.u8 == b->v.u8;
    case FWP_UINT16: return a->v.u16 == b->v.u16;
    case FWP_UINT32: return a->v.u32 == b->v.u32;
    case FWP_UINT64: return a->v.u64 == b->v.u64;
    case FWP_INT8: return a->v.i8 == b->v.i8;
    case FWP_INT16: return a->v.i16 == b->v.i16;
    case FWP_INT32: return a->v.i32 == b->v.i32;
    case FWP_INT64: return a->v.i64 == b->v.i64;
    /* structural: bit patterns, so NaN equals itself */
    case FWP_FLOAT: return memcmp(&a->v.f32, &b->v.f32, sizeof a->v.f32) == 0;
    case FWP_DOUBLE: return memcmp(&a->v.f64, &b->v.f64, sizeof a->v.f64) == 0;
    case FWP_BYTE_ARRAY16_TYPE: return memcmp(a->v.bytes16, b->v.bytes16, 16) == 0;
    case FWP_BYTE_ARRAY6_TYPE: return memcmp(a->v.bytes6, b->v.bytes6, 6) == 0;
    default:
        if (!is_blob_type(a->type)) return false;
        return bytes_cmp(a->v.blob.data, a->v.blob.size, b->v.blob.data, b->v.blob.size) == 0;
    }
}

bool wfp_condition_value_equal(const wfp_condition_value *a, const wfp_condition_value *b)
{
    if (!a || !b) return a == b;
    if (a->type != b->type) return false;
    switch (a->type) {
    case FWP_V4_ADDR_MASK:
        return a->u.v4.addr == b->u.v4.addr && a->u.v4.mask == b->u.v4.mask;
    case FWP_V6_ADDR_MASK:
        return memcmp(a->u.v6.addr, b->u.v6.addr, 16) == 0 &&
               a->u.v6.prefix_length == b->u.v6.prefix_length;
    case FWP_RANGE_TYPE:
        return wfp_value_equal(&a->u.range.low, &b->u.range.low) &&
               wfp_value_equal(&a->u.range.high, &b->u.range.high);
    default:
        return is_single_type(a->type) && wfp_value_equal(&a->u.value, &b->u.value);
    }
}

/* ---- validation ------------------------------------------------------- */

/* Are a value's blob pointers present? */
static bool value_shape_ok(const wfp_value *v)
{
    return !(is_blob_type(v->type) && v->v.blob.size && !v->v.blob.data);
}

/* May `match` be used with an operand of condition type `t`?
 * (SDK FWP_MATCH_TYPE; masks only with EQUAL and ranges only with RANGE
 * are inferred, spec §2.2.) */
static bool match_allowed(uint32_t match, uint32_t t, uint32_t range_elem)
{
    switch (match) {
    case FWP_MATCH_EQUAL:
        return t != FWP_RANGE_TYPE;
    case FWP_MATCH_GREATER:
    case FWP_MATCH_LESS:
    case FWP_MATCH_GREATER_OR_EQUAL:
    case FWP_MATCH_LESS_OR_EQUAL:
        return is_sortable_type(t);
    case FWP_MATCH_NOT_EQUAL:
        /* FWP_SID too: Windows stores such filters (Windows Defender
         * Firewall's AppContainer rules test ALE_PACKAGE_ID != S-1-0-0;
         * shared wfpstate dumps), although the SDK lists only sortable
         * types. docs/sim-defined.md. */
        return is_sortable_type(t) || t == FWP_SID;
    case FWP_MATCH_RANGE:
        return t == FWP_RANGE_TYPE && is_sortable_type(range_elem);
    case FWP_MATCH_FLAGS_ALL_SET:
    case FWP_MATCH_FLAGS_ANY_SET:
    case FWP_MATCH_FLAGS_NONE_SET:
        return is_unsigned_type(t);
    case FWP_MATCH_EQUAL_CASE_INSENSITIVE:
        return t == FWP_UNICODE_STRING_TYPE;
    case FWP_MATCH_PREFIX:
    case FWP_MATCH_NOT_PREFIX:
        return t == FWP_BYTE_BLOB_TYPE || t == FWP_UNICODE_STRING_TYPE;
    default:
        return false;
    }
}

/* Can a condition operand of type t stand on a field of type field? */
static bool field_accepts(uint32_t field, uint32_t t)
{
    if (t == FWP_EMPTY) return true; /* "EQUAL FWP_EMPTY" on any field (§2.3) */
    if (t == field) return true;
    switch (t) {
    case FWP_V4_ADDR_MASK: return field == FWP_UINT32;
    case FWP_V6_ADDR_MASK: return field == FWP_BYTE_ARRAY16_TYPE;
    case FWP_SECURITY_DESCRIPTOR_TYPE: return is_token_type(field);
    default: return false;
    }
}

/* A v4 mask is ones then zeros (sim: [Inferred] FWP_E_INVALID_NET_MASK). */
static bool v4_mask_contiguous(uint32_t mask)
{
    uint32_t inv = ~mask;
    return (inv & (inv + 1)) == 0;
}

uint32_t wfp_condition_validate(uint32_t field_data_type, uint32_t match_type,
                                const wfp_condition_value *c)
{
    uint32_t t, elem = FWP_EMPTY;
    int order;

    if (!c) return FWP_E_NULL_POINTER;
    t = c->type;
    if (match_type >= FWP_MATCH_TYPE_MAX) return FWP_E_INVALID_ENUMERATOR;
    if (!is_single_type(t) && t != FWP_V4_ADDR_MASK && t != FWP_V6_ADDR_MASK &&
        t != FWP_RANGE_TYPE)
        return FWP_E_INVALID_ENUMERATOR;

    /* 1. Shape of the operand. */
    if (is_single_type(t)) {
        if (c->u.value.type != t) return FWP_E_INVALID_PARAMETER;
        if (!value_shape_ok(&c->u.value)) return FWP_E_NULL_POINTER;
    } else if (t == FWP_RANGE_TYPE) {
        /* FWP_RANGE0 bounds are FWP_VALUE0s "of the same type". */
        if (!is_single_type(c->u.range.low.type) || c->u.range.low.type != c->u.range.high.type)
            return FWP_E_INVALID_RANGE;
        if (!value_shape_ok(&c->u.range.low) || !value_shape_ok(&c->u.range.high))
            return FWP_E_NULL_POINTER;
        elem = c->u.range.low.type;
    }

    /* 2. Match type against the operand type (C24). */
    if (!match_allowed(match_type, t, elem)) return FWP_E_MATCH_TYPE_MISMATCH;

    /* 3. Operand type against the field type: no conversion (C23). */
    if (t == FWP_RANGE_TYPE) {
        if (elem != field_data_type) return FWP_E_TYPE_MISMATCH;
    } else if (!field_accepts(field_data_type, t)) {
        return FWP_E_TYPE_MISMATCH;
    }

    /* 4. Contents. */
    switch (t) {
    case FWP_V4_ADDR_MASK:
        if (!v4_mask_contiguous(c->u.v4.mask)) return FWP_E_INVALID_NET_MASK;
        break;
    case FWP_V6_ADDR_MASK:
        if (c->u.v6.prefix_length > 128) return FWP_E_INVALID_NET_MASK;
        break;
    case FWP_RANGE_TYPE:
        if (!value_cmp(&c->u.range.low, &c->u.range.high, &order) || order > 0)
            return FWP_E_INVALID_RANGE;
        break;
    case FWP_SECURITY_DESCRIPTOR_TYPE:
        if (!wfp_sd_valid(c->u.value.v.blob.data, c->u.value.v.blob.size))
            return ERROR_INVALID_SECURITY_DESCR;
        break;
    case FWP_SID:
        if (!wfp_sid_valid(c->u.value.v.blob.data, c->u.value.v.blob.size))
            return ERROR_INVALID_SID;
        break;
    default:
        break;
    }
    return ERROR_SUCCESS;
}

/* ---- matching --------------------------------------------------------- */

static bool flags_match(uint32_t match, uint64_t v, uint64_t c)
{
    switch (match) {
    case FWP_MATCH_FLAGS_ALL_SET: return (v & c) == c;
    case FWP_MATCH_FLAGS_ANY_SET: return (v & c) != 0;
    case FWP_MATCH_FLAGS_NONE_SET: return (v & c) == 0;
    default: return false;
    }
}

static bool unsigned_of(const wfp_value *v, uint64_t *out)
{
    switch (v->type) {
    case FWP_UINT8: *out = v->v.u8; return true;
    case FWP_UINT16: *out = v->v.u16; return true;
    case FWP_UINT32: *out = v->v.u32; return true;
    case FWP_UINT64: *out = v->v.u64; return true;
    default: return false;
    }
}

/* ASCII case folding on UTF-8 bytes (sim-defined: Windows folds the full
 * Unicode range; non-ASCII letters compare exactly here). */
static bool equal_ci(const wfp_byte_blob *a, const wfp_byte_blob *b)
{
    if (a->size != b->size) return false;
    for (uint32_t i = 0; i < a->size; i++)
        if (ascii_lower((char)a->data[i]) != ascii_lower((char)b->data[i])) return false;
    return true;
}

static bool ends_with(const uint8_t *v, uint32_t vl, const uint8_t *c, uint32_t cl)
{
    if (cl > vl) return false;
    return cl == 0 || memcmp(v + vl - cl, c, cl) == 0;
}

/* Length of a blob without one terminating UTF-16 NUL, if it has one. */
static uint32_t strip_utf16_nul(const wfp_byte_blob *b)
{
    if (b->size >= 2 && !(b->size & 1) && b->data[b->size - 1] == 0 && b->data[b->size - 2] == 0)
        return b->size - 2;
    return b->size;
}

/* FWP_MATCH_PREFIX "tests whether the value ends with the condition value"
 * (SDK). For byte blobs (ALE_APP_ID: UTF-16LE, NUL-terminated) both sides
 * lose their terminating NUL and, when both are whole UTF-16 strings, the
 * suffix must start on a code-unit boundary (sim-defined). */
static bool suffix_match(uint32_t type, const wfp_byte_blob *v, const wfp_byte_blob *c)
{
    if (type == FWP_BYTE_BLOB_TYPE) {
        uint32_t vl = strip_utf16_nul(v), cl = strip_utf16_nul(c);
        if (!(vl & 1) && !(cl & 1) && (vl != v->size || cl != c->size)) {
            /* UTF-16 aware: both even, so any suffix start is aligned */
            return ends_with(v->data, vl, c->data, cl);
        }
        return ends_with(v->data, v->size, c->data, c->size);
    }
    return ends_with(v->data, v->size, c->data, c->size);
}

/* Is the SID (FWP_SID condition) one of the token's SIDs? Only reachable
 * through enumeration templates (§2.2), never through filters. */
static bool token_contains_sid(const wfp_byte_blob *tok, const wfp_byte_blob *sid)
{
    uint32_t pos = 0;
    while (pos < tok->size) {
        const uint8_t *p = tok->data + pos;
        uint32_t left = tok->size - pos, l;
        if (left < 8 || p[0] != 1 || p[1] > 15) return false;
        l = 8u + 4u * p[1];
        if (l > left) return false;
        if (l == sid->size && memcmp(p, sid->data, l) == 0) return true;
        pos += l;
    }
    return false;
}

static bool v6_prefix_match(const uint8_t *v, const uint8_t *addr, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (prefix > 128) return false;
    if (full && memcmp(v, addr, full) != 0) return false;
    if (rest) {
        uint8_t m = (uint8_t)(0xff << (8 - rest));
        if ((v[full] & m) != (addr[full] & m)) return false;
    }
    return true;
}

bool wfp_condition_match(uint32_t match_type, const wfp_condition_value *c, const wfp_value *v)
{
    const wfp_value *cv;
    int order;

    if (!c || !v) return false;
    /* EQUAL FWP_EMPTY is true exactly for an EMPTY value (§2.3, C27). */
    if (c->type == FWP_EMPTY) return match_type == FWP_MATCH_EQUAL && v->type == FWP_EMPTY;
    /* A typed condition never matches an EMPTY value — for every match
     * type, NOT_EQUAL and FLAGS_NONE_SET included (sim-defined for those
     * two; spec §2.4 recommends false). */
    if (v->type == FWP_EMPTY) return false;
    /* Incoming values are not validated: a blob without its bytes matches
     * nothing rather than being read. */
    if (is_blob_type(v->type) && v->v.blob.size && !v->v.blob.data) return false;

    switch (c->type) {
    case FWP_V4_ADDR_MASK:
        if (match_type != FWP_MATCH_EQUAL || v->type != FWP_UINT32) return false;
        return (v->v.u32 & c->u.v4.mask) == (c->u.v4.addr & c->u.v4.mask);
    case FWP_V6_ADDR_MASK:
        if (match_type != FWP_MATCH_EQUAL || v->type != FWP_BYTE_ARRAY16_TYPE) return false;
        return v6_prefix_match(v->v.bytes16, c->u.v6.addr, c->u.v6.prefix_length);
    case FWP_RANGE_TYPE: {
        int lo, hi;
        if (match_type != FWP_MATCH_RANGE) return false;
        if (!value_cmp(v, &c->u.range.low, &lo) || !value_cmp(v, &c->u.range.high, &hi))
            return false;
        return lo >= 0 && hi <= 0; /* inclusive at both ends */
    }
    default:
        break;
    }
    if (!is_single_type(c->type)) return false;
    cv = &c->u.value;

    /* SD condition against a token: access check for
     * FWP_ACTRL_MATCH_FILTER; granted means the condition is true. */
    if (cv->type == FWP_SECURITY_DESCRIPTOR_TYPE && is_token_type(v->type)) {
        if (match_type != FWP_MATCH_EQUAL) return false;
        return wfp_sd_access_check(cv->v.blob.data, cv->v.blob.size, v->v.blob.data,
                                   v->v.blob.size, FWP_ACTRL_MATCH_FILTER);
    }
    if (cv->type == FWP_SID && is_token_type(v->type)) {
        if (match_type != FWP_MATCH_EQUAL) return false;
        return token_contains_sid(&v->v.blob, &cv->v.blob);
    }
    /* No implicit conversion (§2.2). */
    if (v->type != cv->type) return false;

    switch (match_type) {
    case FWP_MATCH_EQUAL:
        return value_match_equal(v, cv);
    case FWP_MATCH_NOT_EQUAL:
        return (is_sortable_type(cv->type) || cv->type == FWP_SID) && !value_match_equal(v, cv);
    case FWP_MATCH_GREATER:
        return value_cmp(v, cv, &order) && order > 0;
    case FWP_MATCH_LESS:
        return value_cmp(v, cv, &order) && order < 0;
    case FWP_MATCH_GREATER_OR_EQUAL:
        return value_cmp(v, cv, &order) && order >= 0;
    case FWP_MATCH_LESS_OR_EQUAL:
        return value_cmp(v, cv, &order) && order <= 0;
    case FWP_MATCH_FLAGS_ALL_SET:
    case FWP_MATCH_FLAGS_ANY_SET:
    case FWP_MATCH_FLAGS_NONE_SET: {
        uint64_t a, b;
        if (!unsigned_of(v, &a) || !unsigned_of(cv, &b)) return false;
        return flags_match(match_type, a, b);
    }
    case FWP_MATCH_EQUAL_CASE_INSENSITIVE:
        return cv->type == FWP_UNICODE_STRING_TYPE && equal_ci(&v->v.blob, &cv->v.blob);
    case FWP_MATCH_PREFIX:
    case FWP_MATCH_NOT_PREFIX: {
        bool m;
        if (cv->type != FWP_BYTE_BLOB_TYPE && cv->type != FWP_UNICODE_STRING_TYPE) return false;
        m = suffix_match(cv->type, &v->v.blob, &cv->v.blob);
        return match_type == FWP_MATCH_PREFIX ? m : !m;
    }
    default:
        return false;
    }
}

/* ---- copies ----------------------------------------------------------- */
bool wfpi_value_copy(const wfp_allocator *a, wfp_value *dst, const wfp_value *src)
{
    *dst = *src;
    if (!is_blob_type(src->type)) return true;
    dst->v.blob.data = NULL;
    dst->v.blob.size = 0;
    if (src->v.blob.size) {
        uint8_t *p;
        if (!src->v.blob.data) return false;
        p = a->alloc(a->ctx, src->v.blob.size);
        if (!p) return false;
        memcpy(p, src->v.blob.data, src->v.blob.size);
        dst->v.blob.data = p;
        dst->v.blob.size = src->v.blob.size;
    }
    return true;
}

void wfpi_value_free(const wfp_allocator *a, wfp_value *v)
{
    if (!v) return;
    if (is_blob_type(v->type) && v->v.blob.data) a->free(a->ctx, (void *)(uintptr_t)v->v.blob.data);
    memset(v, 0, sizeof *v);
}

bool wfpi_condition_value_copy(const wfp_allocator *a, wfp_condition_value *dst,
                               const wfp_condition_value *src)
{
    memset(dst, 0, sizeof *dst);
    switch (src->type) {
    case FWP_V4_ADDR_MASK:
    case FWP_V6_ADDR_MASK:
        *dst = *src;
        return true;
    case FWP_RANGE_TYPE:
        dst->type = FWP_RANGE_TYPE;
        if (!wfpi_value_copy(a, &dst->u.range.low, &src->u.range.low)) return false;
        return wfpi_value_copy(a, &dst->u.range.high, &src->u.range.high);
    default:
        dst->type = src->type;
        return wfpi_value_copy(a, &dst->u.value, &src->u.value);
    }
}

void wfpi_condition_value_free(const wfp_allocator *a, wfp_condition_value *v)
{
    if (!v) return;
    if (v->type == FWP_RANGE_TYPE) {
        wfpi_value_free(a, &v->u.range.low);
        wfpi_value_free(a, &v->u.range.high);
    } else if (is_single_type(v->type)) {
        wfpi_value_free(a, &v->u.value);
    }
    memset(v, 0, sizeof *v);
}

/* ---- text forms ------------------------------------------------------- */
static void ob_ipv4(outbuf *o, uint32_t a)
{
    for (int i = 3; i >= 0; i--) {
        ob_u64(o, (a >> (8 * i)) & 0xff);
        if (i) ob_putc(o, '.');
    }
}

/* RFC 5952: lower-case hex, no leading zeros, the longest run (>= 2) of
 * zero groups becomes "::" (the first on a tie); IPv4-mapped addresses
 * end in dotted form. */
static void ob_ipv6(outbuf *o, const uint8_t *b)
{
    static const char hex[] = "0123456789abcdef";
    uint16_t g[8];
    int best = -1, best_len = 0, groups = 8;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    for (int i = 0; i < 8; i++) g[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
    if (memcmp(b, mapped, 12) == 0) groups = 6;
    for (int i = 0; i < groups;) {
        int j = i;
        while (j < groups && g[j] == 0) j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    if (best_len < 2) {
        best = -1;
        best_len = 0;
    }
    for (int i = 0; i < groups; i++) {
        if (i == best) {
            ob_puts(o, "::");
            i += best_len - 1;
            continue;
        }
        if (i && i != best + best_len) ob_putc(o, ':');
        {
            char tmp[4];
            int k = 0;
            uint16_t x = g[i];
            do {
                tmp[k++] = hex[x & 15];
                x >>= 4;
            } while (x);
            while (k) ob_putc(o, tmp[--k]);
        }
    }
    if (groups == 6) {
        if (best + best_len != 6) ob_putc(o, ':');
        ob_ipv4(o, (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
    }
}

static void ob_float(outbuf *o, double d, int digits)
{
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.*g", digits, d);
    for (char *p = tmp; *p; p++)
        ob_putc(o, *p == ',' ? '.' : *p); /* whatever LC_NUMERIC says */
}

static void ob_hexblob(outbuf *o, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) ob_hexbyte(o, p[i]);
}

/* A blob that looks like an app id: UTF-16LE, NUL-terminated, printable,
 * well-formed surrogates. */
static bool looks_like_utf16_path(const wfp_byte_blob *b)
{
    uint32_t units;
    if (b->size < 4 || (b->size & 1) || b->data[b->size - 1] || b->data[b->size - 2]) return false;
    units = b->size / 2 - 1;
    for (uint32_t i = 0; i < units; i++) {
        uint32_t u = (uint32_t)b->data[2 * i] | (uint32_t)b->data[2 * i + 1] << 8;
        if (u < 0x20 || u == 0x7f) return false;
        if (u >= 0xd800 && u <= 0xdbff) {
            uint32_t lo;
            if (i + 1 >= units) return false;
            lo = (uint32_t)b->data[2 * i + 2] | (uint32_t)b->data[2 * i + 3] << 8;
            if (lo < 0xdc00 || lo > 0xdfff) return false;
            i++;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return false;
        }
    }
    return true;
}

static size_t token_format(const uint8_t *p, uint32_t len, char *buf, size_t n)
{
    outbuf o = {buf, n, 0};
    uint32_t pos = 0;
    while (pos < len) {
        uint32_t left = len - pos, l;
        if (left < 8 || p[pos] != 1 || p[pos + 1] > 15 || (l = 8u + 4u * p[pos + 1]) > left) {
            o.len = 0; /* malformed: hex instead */
            ob_hexblob(&o, p, len);
            return ob_finish(&o);
        }
        if (pos) ob_putc(&o, ',');
        ob_call(&o, wfp_sid_format, p + pos, l);
        pos += l;
    }
    return ob_finish(&o);
}

static void ob_value(outbuf *o, const wfp_value *v)
{
    const wfp_byte_blob *b = &v->v.blob;
    switch (v->type) {
    case FWP_EMPTY: ob_puts(o, "empty"); break;
    case FWP_UINT8: ob_u64(o, v->v.u8); break;
    case FWP_UINT16: ob_u64(o, v->v.u16); break;
    case FWP_UINT32: ob_u64(o, v->v.u32); break;
    case FWP_UINT64: ob_u64(o, v->v.u64); break;
    case FWP_INT8: ob_i64(o, v->v.i8); break;
    case FWP_INT16: ob_i64(o, v->v.i16); break;
    case FWP_INT32: ob_i64(o, v->v.i32); break;
    case FWP_INT64: ob_i64(o, v->v.i64); break;
    case FWP_FLOAT: ob_float(o, (double)v->v.f32, 9); break;
    case FWP_DOUBLE: ob_float(o, v->v.f64, 17); break;
    case FWP_BYTE_ARRAY16_TYPE: ob_ipv6(o, v->v.bytes16); break;
    case FWP_BYTE_ARRAY6_TYPE:
        for (int i = 0; i < 6; i++) {
            if (i) ob_putc(o, ':');
            ob_hexbyte(o, v->v.bytes6[i]);
        }
        break;
    case FWP_BYTE_BLOB_TYPE:
        if (b->data && looks_like_utf16_path(b)) ob_call(o, wfp_app_id_format, b->data, b->size);
        else if (b->data) ob_hexblob(o, b->data, b->size);
        break;
    case FWP_SID:
        if (b->data && wfp_sid_valid(b->data, b->size)) ob_call(o, wfp_sid_format, b->data, b->size);
        else if (b->data) ob_hexblob(o, b->data, b->size);
        break;
    case FWP_SECURITY_DESCRIPTOR_TYPE:
        if (b->data && wfp_sd_valid(b->data, b->size)) ob_call(o, wfp_sd_format, b->data, b->size);
        else if (b->data) ob_hexblob(o, b->data, b->size);
        break;
    case FWP_TOKEN_INFORMATION_TYPE:
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE:
        if (b->data) ob_call(o, token_format, b->data, b->size);
        break;
    case FWP_UNICODE_STRING_TYPE:
        for (uint32_t i = 0; b->data && i < b->size; i++) ob_putc(o, (char)b->data[i]);
        break;
    default:
        ob_puts(o, "<unknown>");
        break;
    }
}

size_t wfp_value_format(const wfp_value *v, char *buf, size_t n)
{
    outbuf o = {buf, n, 0};
    if (v) ob_value(&o, v);
    return ob_finish(&o);
}

static unsigned popcount32(uint32_t x)
{
    unsigned c = 0;
    for (; x; x &= x - 1) c++;
    return c;
}

size_t wfp_condition_value_format(const wfp_condition_value *c, char *buf, size_t n)
{
    outbuf o = {buf, n, 0};
    if (!c) return ob_finish(&o);
    switch (c->type) {
    case FWP_V4_ADDR_MASK:
        ob_ipv4(&o, c->u.v4.addr);
        ob_putc(&o, '/');
        if (v4_mask_contiguous(c->u.v4.mask)) ob_u64(&o, popcount32(c->u.v4.mask));
        else ob_ipv4(&o, c->u.v4.mask);
        break;
    case FWP_V6_ADDR_MASK:
        ob_ipv6(&o, c->u.v6.addr);
        ob_putc(&o, '/');
        ob_u64(&o, c->u.v6.prefix_length);
        break;
    case FWP_RANGE_TYPE:
        ob_value(&o, &c->u.range.low);
        ob_putc(&o, '-');
        ob_value(&o, &c->u.range.high);
        break;
    default:
        if (is_single_type(c->type)) ob_value(&o, &c->u.value);
        else ob_puts(&o, "<unknown>");
        break;
    }
    return ob_finish(&o);
}

/* ---- address parsers -------------------------------------------------- */

/* Strict dotted quad: four decimal parts 0..255, no leading zeros, nothing
 * else (no octal/hex/short forms as inet_aton would take). */
bool wfp_ipv4_parse(const char *s, uint32_t *host_order)
{
    uint32_t a = 0;
    if (!s || !host_order) return false;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        int digits = 0;
        if (part) {
            if (*s != '.') return false;
            s++;
        }
        if (s[0] == '0' && s[1] >= '0' && s[1] <= '9') return false;
        while (*s >= '0' && *s <= '9') {
            if (++digits > 3) return false;
            v = v * 10 + (unsigned)(*s - '0');
            s++;
        }
        if (!digits || v > 255) return false;
        a = a << 8 | v;
    }
    if (*s) return false;
    *host_order = a;
    return true;
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* RFC 4291 §2.2 text forms: eight groups of 1-4 hex digits, one "::" for
 * one or more zero groups, an optional dotted IPv4 tail. No zone ids. */
bool wfp_ip_address_parse(const char *s, uint8_t out[16], uint8_t *ip_version)
{
    uint32_t v4;
    if (!s || !out || !ip_version)
        return false;
    if (wfp_ipv4_parse(s, &v4)) {
        memset(out, 0, 16);
        out[0] = (uint8_t)(v4 >> 24);
        out[1] = (uint8_t)(v4 >> 16);
        out[2] = (uint8_t)(v4 >> 8);
        out[3] = (uint8_t)v4;
        *ip_version = 4;
        return true;
    }
    if (wfp_ipv6_parse(s, out)) {
        *ip_version = 6;
        return true;
    }
    return false;
}

bool wfp_ipv6_parse(const char *s, uint8_t out[16])
{
    uint16_t g[8];
    int n = 0, gap = -1;

    if (!s || !out) return false;
    if (s[0] == ':') {
        if (s[1] != ':') return false;
        gap = 0;
        s += 2;
        if (!*s) goto done;
    }
    for (;;) {
        /* An IPv4 tail? Look past the hex digits for a '.'. */
        int k = 0;
        while (hexdigit(s[k]) >= 0) k++;
        if (s[k] == '.') {
            uint32_t v4;
            if (n > 6 || !wfp_ipv4_parse(s, &v4)) return false;
            g[n++] = (uint16_t)(v4 >> 16);
            g[n++] = (uint16_t)v4;
            break;
        }
        if (k < 1 || k > 4 || n == 8) return false;
        {
            uint16_t v = 0;
            for (int i = 0; i < k; i++) v = (uint16_t)(v << 4 | hexdigit(s[i]));
            g[n++] = v;
        }
        s += k;
        if (!*s) break;
        if (*s != ':') return false;
        s++;
        if (*s == ':') {
            if (gap >= 0) return false;
            gap = n;
            s++;
            if (!*s) break;
        } else if (!*s) {
            return false;
        }
    }
done:
    if (gap >= 0) {
        if (n > 7) return false;
        uint16_t full[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int tail = n - gap;
        for (int i = 0; i < gap; i++) full[i] = g[i];
        for (int i = 0; i < tail; i++) full[8 - tail + i] = g[gap + i];
        memcpy(g, full, sizeof g);
    } else if (n != 8) {
        return false;
    }
    for (int i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(g[i] >> 8);
        out[2 * i + 1] = (uint8_t)g[i];
    }
    return true;
}
