/* test_value.c — condition values: validation against a field, matching
 * for every match type, EMPTY handling, copies, equality, text forms and
 * the address parsers.
 *
 * Each test names the documented behaviour it pins with an EVIDENCE
 * marker (docs/conformance.md collects them); "sim-defined" marks choices
 * Windows does not document (docs/sim-defined.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wfp_value.h"

/* ---- fixture: an allocator that counts and can fail ------------------- */
typedef struct test_alloc {
    wfp_allocator a;
    long live;    /* allocations not yet freed */
    long count;   /* allocations made */
    long fail_at; /* fail the allocation with this number (1-based); 0 = never */
} test_alloc;

static void *ta_alloc(void *ctx, size_t n)
{
    test_alloc *t = ctx;
    t->count++;
    if (t->fail_at && t->count == t->fail_at) return NULL;
    t->live++;
    return malloc(n ? n : 1);
}

static void *ta_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return realloc(p, n ? n : 1);
}

static void ta_free(void *ctx, void *p)
{
    test_alloc *t = ctx;
    if (p) t->live--;
    free(p);
}

static int setup(void **state)
{
    test_alloc *t = calloc(1, sizeof *t);
    if (!t) return -1;
    t->a.alloc = ta_alloc;
    t->a.realloc = ta_realloc;
    t->a.free = ta_free;
    t->a.ctx = t;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    test_alloc *t = *state;
    long live = t->live;
    free(t);
    return live == 0 ? 0 : -1; /* a leak fails the test */
}

/* ---- value builders (borrowing) --------------------------------------- */
static wfp_value vint(uint32_t type, int64_t x)
{
    wfp_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    switch (type) {
    case FWP_UINT8: v.v.u8 = (uint8_t)x; break;
    case FWP_UINT16: v.v.u16 = (uint16_t)x; break;
    case FWP_UINT32: v.v.u32 = (uint32_t)x; break;
    case FWP_UINT64: v.v.u64 = (uint64_t)x; break;
    case FWP_INT8: v.v.i8 = (int8_t)x; break;
    case FWP_INT16: v.v.i16 = (int16_t)x; break;
    case FWP_INT32: v.v.i32 = (int32_t)x; break;
    case FWP_INT64: v.v.i64 = x; break;
    default: break;
    }
    return v;
}

static wfp_value vempty(void)
{
    wfp_value v;
    memset(&v, 0, sizeof v);
    return v;
}

static wfp_value vblob(uint32_t type, const void *p, uint32_t n)
{
    wfp_value v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.v.blob.data = p;
    v.v.blob.size = n;
    return v;
}

static wfp_value vstr(const char *s)
{
    return vblob(FWP_UNICODE_STRING_TYPE, s, (uint32_t)strlen(s));
}

static wfp_value v6(const char *s)
{
    wfp_value v;
    memset(&v, 0, sizeof v);
    v.type = FWP_BYTE_ARRAY16_TYPE;
    assert_true(wfp_ipv6_parse(s, v.v.bytes16));
    return v;
}

static wfp_value v4(const char *s)
{
    wfp_value v;
    memset(&v, 0, sizeof v);
    v.type = FWP_UINT32;
    assert_true(wfp_ipv4_parse(s, &v.v.u32));
    return v;
}

static wfp_condition_value cond(wfp_value v)
{
    wfp_condition_value c;
    memset(&c, 0, sizeof c);
    c.type = v.type;
    c.u.value = v;
    return c;
}

static wfp_condition_value crange(wfp_value lo, wfp_value hi)
{
    wfp_condition_value c;
    memset(&c, 0, sizeof c);
    c.type = FWP_RANGE_TYPE;
    c.u.range.low = lo;
    c.u.range.high = hi;
    return c;
}

static wfp_condition_value cv4mask(const char *addr, const char *mask)
{
    wfp_condition_value c;
    memset(&c, 0, sizeof c);
    c.type = FWP_V4_ADDR_MASK;
    assert_true(wfp_ipv4_parse(addr, &c.u.v4.addr));
    assert_true(wfp_ipv4_parse(mask, &c.u.v4.mask));
    return c;
}

static wfp_condition_value cv6mask(const char *addr, unsigned prefix)
{
    wfp_condition_value c;
    memset(&c, 0, sizeof c);
    c.type = FWP_V6_ADDR_MASK;
    assert_true(wfp_ipv6_parse(addr, c.u.v6.addr));
    c.u.v6.prefix_length = (uint8_t)prefix;
    return c;
}

static bool match(uint32_t mt, wfp_value c, wfp_value v)
{
    wfp_condition_value cv = cond(c);
    return wfp_condition_match(mt, &cv, &v);
}

static uint32_t validate(uint32_t field, uint32_t mt, wfp_value c)
{
    wfp_condition_value cv = cond(c);
    return wfp_condition_validate(field, mt, &cv);
}

/* A few well-formed blobs for the typed matrices. */
static const uint8_t sid_sy[12] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}; /* S-1-5-18 */
/* O:SY D:(A;;CC;;;SY) — header, DACL, owner */
static const uint8_t sd_sy[] = {
    1, 0, 0x04, 0x80, 48, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
    2, 0, 28, 0, 1, 0, 0, 0,
    0, 0, 20, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,
    1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,
};

static wfp_value sample_of(uint32_t t)
{
    static const uint8_t bytes[4] = {1, 2, 3, 4};
    wfp_value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    switch (t) {
    case FWP_EMPTY: break;
    case FWP_FLOAT: v.v.f32 = 1.5f; break;
    case FWP_DOUBLE: v.v.f64 = 2.5; break;
    case FWP_BYTE_ARRAY16_TYPE: v.v.bytes16[15] = 1; break;
    case FWP_BYTE_ARRAY6_TYPE: v.v.bytes6[5] = 1; break;
    case FWP_SID: return vblob(t, sid_sy, sizeof sid_sy);
    case FWP_SECURITY_DESCRIPTOR_TYPE: return vblob(t, sd_sy, sizeof sd_sy);
    case FWP_TOKEN_INFORMATION_TYPE:
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE: return vblob(t, sid_sy, sizeof sid_sy);
    case FWP_BYTE_BLOB_TYPE:
    case FWP_UNICODE_STRING_TYPE: return vblob(t, bytes, sizeof bytes);
    default: return vint(t, 7);
    }
    return v;
}

/* ---- names ------------------------------------------------------------ */
static void test_names(void **state)
{
    uint32_t t, m;
    (void)state;
    for (t = 0; t <= FWP_BYTE_ARRAY6_TYPE; t++) {
        uint32_t back = 999;
        const char *n = wfp_data_type_name(t);
        assert_non_null(n);
        assert_true(wfp_data_type_from_name(n, &back));
        assert_int_equal(back, t);
    }
    assert_string_equal(wfp_data_type_name(FWP_RANGE_TYPE), "FWP_RANGE_TYPE");
    assert_null(wfp_data_type_name(FWP_SINGLE_DATA_TYPE_MAX));
    assert_null(wfp_data_type_name(FWP_DATA_TYPE_MAX));
    assert_true(wfp_data_type_from_name("uint16", &t));
    assert_int_equal(t, FWP_UINT16);
    assert_true(wfp_data_type_from_name("byte_blob", &t));
    assert_int_equal(t, FWP_BYTE_BLOB_TYPE);
    assert_true(wfp_data_type_from_name("Security_Descriptor", &t));
    assert_int_equal(t, FWP_SECURITY_DESCRIPTOR_TYPE);
    assert_true(wfp_data_type_from_name("v6_addr_mask", &t));
    assert_int_equal(t, FWP_V6_ADDR_MASK);
    assert_true(wfp_data_type_from_name("range", &t));
    assert_int_equal(t, FWP_RANGE_TYPE);
    assert_false(wfp_data_type_from_name("uint128", &t));
    assert_false(wfp_data_type_from_name("", &t));

    for (m = 0; m < FWP_MATCH_TYPE_MAX; m++) {
        uint32_t back = 999;
        assert_true(wfp_match_type_from_name(wfp_match_type_name(m), &back));
        assert_int_equal(back, m);
    }
    assert_null(wfp_match_type_name(FWP_MATCH_TYPE_MAX));
    assert_true(wfp_match_type_from_name("not_prefix", &m));
    assert_int_equal(m, FWP_MATCH_NOT_PREFIX);
    assert_true(wfp_match_type_from_name("Equal_Case_Insensitive", &m));
    assert_int_equal(m, FWP_MATCH_EQUAL_CASE_INSENSITIVE);
    assert_true(wfp_match_type_from_name(">=", &m));
    assert_int_equal(m, FWP_MATCH_GREATER_OR_EQUAL);
    assert_false(wfp_match_type_from_name("suffix", &m));

    assert_string_equal(wfp_action_type_name(FWP_ACTION_BLOCK), "FWP_ACTION_BLOCK");
    assert_string_equal(wfp_action_type_name(FWP_ACTION_CALLOUT_INSPECTION),
                        "FWP_ACTION_CALLOUT_INSPECTION");
    assert_null(wfp_action_type_name(0x1234));
}

/* ---- validation: the match-type table --------------------------------- */
static void test_match_type_table(void **state)
{
    /* EVIDENCE: COND-MATCH-TYPE-TABLE — SDK ne-fwptypes-fwp_match_type (EQUAL: all types;
     * ordering/NOT_EQUAL/RANGE: sortable = integers, BYTE_ARRAY16, BYTE_BLOB, UNICODE_STRING;
     * FLAGS_*: unsigned integers; EQUAL_CASE_INSENSITIVE: UNICODE_STRING; PREFIX: blob, string) */
    static const uint32_t sortable[] = {FWP_UINT8, FWP_UINT16, FWP_UINT32, FWP_UINT64,
                                        FWP_INT8, FWP_INT16, FWP_INT32, FWP_INT64,
                                        FWP_BYTE_ARRAY16_TYPE, FWP_BYTE_BLOB_TYPE,
                                        FWP_UNICODE_STRING_TYPE};
    (void)state;
    for (uint32_t mt = 0; mt < FWP_MATCH_TYPE_MAX; mt++) {
        for (uint32_t t = 0; t <= FWP_BYTE_ARRAY6_TYPE; t++) {
            bool allowed = false, is_sortable = false;
            uint32_t field = t;
            for (size_t i = 0; i < sizeof sortable / sizeof sortable[0]; i++)
                if (sortable[i] == t) is_sortable = true;
            switch (mt) {
            case FWP_MATCH_EQUAL: allowed = true; break;
            case FWP_MATCH_GREATER:
            case FWP_MATCH_LESS:
            case FWP_MATCH_GREATER_OR_EQUAL:
            case FWP_MATCH_LESS_OR_EQUAL: allowed = is_sortable; break;
            case FWP_MATCH_NOT_EQUAL: allowed = is_sortable || t == FWP_SID; break;
            case FWP_MATCH_RANGE: allowed = false; break; /* needs FWP_RANGE_TYPE */
            case FWP_MATCH_FLAGS_ALL_SET:
            case FWP_MATCH_FLAGS_ANY_SET:
            case FWP_MATCH_FLAGS_NONE_SET: allowed = t >= FWP_UINT8 && t <= FWP_UINT64; break;
            case FWP_MATCH_EQUAL_CASE_INSENSITIVE: allowed = t == FWP_UNICODE_STRING_TYPE; break;
            case FWP_MATCH_PREFIX:
            case FWP_MATCH_NOT_PREFIX:
                allowed = t == FWP_BYTE_BLOB_TYPE || t == FWP_UNICODE_STRING_TYPE;
                break;
            default: break;
            }
            if (t == FWP_EMPTY) field = FWP_UINT32;
            assert_int_equal(validate(field, mt, sample_of(t)),
                             allowed ? ERROR_SUCCESS : FWP_E_MATCH_TYPE_MISMATCH);
        }
        /* RANGE over each type: only sortable ones. */
        for (uint32_t t = 0; t <= FWP_BYTE_ARRAY6_TYPE; t++) {
            bool is_sortable = false;
            wfp_condition_value c = crange(sample_of(t), sample_of(t));
            for (size_t i = 0; i < sizeof sortable / sizeof sortable[0]; i++)
                if (sortable[i] == t) is_sortable = true;
            assert_int_equal(wfp_condition_validate(t, mt, &c),
                             mt == FWP_MATCH_RANGE && is_sortable ? ERROR_SUCCESS
                                                                  : FWP_E_MATCH_TYPE_MISMATCH);
        }
    }
    assert_int_equal(validate(FWP_UINT8, FWP_MATCH_TYPE_MAX, vint(FWP_UINT8, 1)),
                     FWP_E_INVALID_ENUMERATOR);
    {
        wfp_condition_value bad;
        memset(&bad, 0, sizeof bad);
        bad.type = 19;
        assert_int_equal(wfp_condition_validate(FWP_UINT8, FWP_MATCH_EQUAL, &bad),
                         FWP_E_INVALID_ENUMERATOR);
        bad.type = FWP_UINT8; /* u.value.type disagrees with type */
        bad.u.value.type = FWP_UINT16;
        assert_int_equal(wfp_condition_validate(FWP_UINT8, FWP_MATCH_EQUAL, &bad),
                         FWP_E_INVALID_PARAMETER);
        bad = cond(vblob(FWP_BYTE_BLOB_TYPE, NULL, 4)); /* size without data */
        assert_int_equal(wfp_condition_validate(FWP_BYTE_BLOB_TYPE, FWP_MATCH_EQUAL, &bad),
                         FWP_E_NULL_POINTER);
    }
}

static void test_c23_no_type_conversion(void **state)
{
    /* EVIDENCE: COND-NO-TYPE-CONVERSION C23 — spec C23; SDK ne-fwptypes-fwp_match_type remarks; spec §2.2 */
    (void)state;
    assert_int_equal(validate(FWP_UINT16, FWP_MATCH_EQUAL, vint(FWP_UINT32, 80)),
                     FWP_E_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_UINT16, FWP_MATCH_EQUAL, vint(FWP_UINT16, 80)), ERROR_SUCCESS);
    assert_int_equal(validate(FWP_UINT8, FWP_MATCH_GREATER, vint(FWP_INT8, 1)),
                     FWP_E_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_BYTE_BLOB_TYPE, FWP_MATCH_EQUAL, vstr("x")),
                     FWP_E_TYPE_MISMATCH);
    /* and at classify time a differently typed value never matches */
    assert_false(match(FWP_MATCH_EQUAL, vint(FWP_UINT16, 80), vint(FWP_UINT32, 80)));
    assert_false(match(FWP_MATCH_NOT_EQUAL, vint(FWP_UINT16, 80), vint(FWP_UINT32, 81)));
    assert_true(match(FWP_MATCH_EQUAL, vint(FWP_UINT16, 80), vint(FWP_UINT16, 80)));
}

static void test_c24_match_type_mismatch(void **state)
{
    /* EVIDENCE: COND-MATCH-TYPE-MISMATCH C24 — spec C24; SDK ne-fwptypes-fwp_match_type */
    static const uint8_t blob[2] = {1, 2};
    (void)state;
    assert_int_equal(validate(FWP_BYTE_BLOB_TYPE, FWP_MATCH_FLAGS_ALL_SET,
                              vblob(FWP_BYTE_BLOB_TYPE, blob, 2)),
                     FWP_E_MATCH_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_UINT16, FWP_MATCH_EQUAL_CASE_INSENSITIVE, vint(FWP_UINT16, 1)),
                     FWP_E_MATCH_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_SID, FWP_MATCH_GREATER, vblob(FWP_SID, sid_sy, sizeof sid_sy)),
                     FWP_E_MATCH_TYPE_MISMATCH);
    /* the match-type check comes first: wrong match and wrong type together */
    assert_int_equal(validate(FWP_UINT16, FWP_MATCH_FLAGS_ALL_SET,
                              vblob(FWP_BYTE_BLOB_TYPE, blob, 2)),
                     FWP_E_MATCH_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_INT32, FWP_MATCH_FLAGS_ANY_SET, vint(FWP_INT32, 1)),
                     FWP_E_MATCH_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_FLOAT, FWP_MATCH_LESS, sample_of(FWP_FLOAT)),
                     FWP_E_MATCH_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_BYTE_ARRAY6_TYPE, FWP_MATCH_NOT_EQUAL,
                              sample_of(FWP_BYTE_ARRAY6_TYPE)),
                     FWP_E_MATCH_TYPE_MISMATCH);
}

/* ---- addresses -------------------------------------------------------- */
static void test_c20_v4_mask(void **state)
{
    /* EVIDENCE: COND-V4-MASK C20 — spec C20; SDK ns-fwptypes-fwp_v4_addr_and_mask ("host order") */
    wfp_condition_value c = cv4mask("10.0.0.0", "255.0.0.0");
    wfp_value v;
    (void)state;
    assert_int_equal(c.u.v4.addr, 0x0A000000u); /* host order */
    assert_int_equal(wfp_condition_validate(FWP_UINT32, FWP_MATCH_EQUAL, &c), ERROR_SUCCESS);
    v = v4("10.1.2.3");
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    v = v4("11.0.0.1");
    assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    v = v4("10.255.255.255");
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    /* a /0 matches every address; a /32 only its own */
    c = cv4mask("0.0.0.0", "0.0.0.0");
    assert_int_equal(wfp_condition_validate(FWP_UINT32, FWP_MATCH_EQUAL, &c), ERROR_SUCCESS);
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    c = cv4mask("10.255.255.255", "255.255.255.255");
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    v = v4("10.255.255.254");
    assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    /* addr bits outside the mask are ignored */
    c = cv4mask("192.168.1.77", "255.255.255.0");
    v = v4("192.168.1.1");
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    /* EVIDENCE: COND-V4-MASK-CONTIGUOUS — spec §2.3 [Inferred] FWP_E_INVALID_NET_MASK */
    c = cv4mask("10.0.0.0", "255.0.255.0");
    assert_int_equal(wfp_condition_validate(FWP_UINT32, FWP_MATCH_EQUAL, &c),
                     FWP_E_INVALID_NET_MASK);
    /* masks stand only on UINT32 fields, only with EQUAL [Inferred] */
    c = cv4mask("10.0.0.0", "255.0.0.0");
    assert_int_equal(wfp_condition_validate(FWP_BYTE_ARRAY16_TYPE, FWP_MATCH_EQUAL, &c),
                     FWP_E_TYPE_MISMATCH);
    assert_int_equal(wfp_condition_validate(FWP_UINT32, FWP_MATCH_GREATER, &c),
                     FWP_E_MATCH_TYPE_MISMATCH);
    assert_int_equal(wfp_condition_validate(FWP_UINT32, FWP_MATCH_NOT_EQUAL, &c),
                     FWP_E_MATCH_TYPE_MISMATCH);
    /* an IPv6 value never matches a v4 mask */
    v = v6("::ffff:10.0.0.1");
    assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
}

static void test_c21_v6_prefix(void **state)
{
    /* EVIDENCE: COND-V6-PREFIX C21 — spec C21; SDK ns-fwptypes-fwp_v6_addr_and_mask (prefixLength bits) */
    wfp_condition_value c = cv6mask("2001:db8::", 32);
    wfp_value v;
    (void)state;
    assert_int_equal(wfp_condition_validate(FWP_BYTE_ARRAY16_TYPE, FWP_MATCH_EQUAL, &c),
                     ERROR_SUCCESS);
    v = v6("2001:db8:1::1");
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    v = v6("2001:db9::1");
    assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    /* a prefix that ends inside a byte */
    c = cv6mask("2001:db8:8000::", 33);
    v = v6("2001:db8:ffff::");
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    v = v6("2001:db8:7fff::");
    assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    c = cv6mask("::", 0);
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    c = cv6mask("2001:db8:7fff::", 128);
    assert_int_equal(wfp_condition_validate(FWP_BYTE_ARRAY16_TYPE, FWP_MATCH_EQUAL, &c),
                     ERROR_SUCCESS);
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    /* EVIDENCE: COND-V6-PREFIX-MAX C21 — spec C21; spec §2.3 [Inferred] prefix > 128 ⇒ FWP_E_INVALID_NET_MASK */
    c = cv6mask("2001:db8::", 129);
    assert_int_equal(wfp_condition_validate(FWP_BYTE_ARRAY16_TYPE, FWP_MATCH_EQUAL, &c),
                     FWP_E_INVALID_NET_MASK);
    c = cv6mask("2001:db8::", 32);
    assert_int_equal(wfp_condition_validate(FWP_UINT32, FWP_MATCH_EQUAL, &c),
                     FWP_E_TYPE_MISMATCH);
    v = vint(FWP_UINT32, 0x20010db8);
    assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
}

/* ---- ranges ----------------------------------------------------------- */
static void test_c22_range(void **state)
{
    /* EVIDENCE: COND-RANGE-INCLUSIVE C22 — spec C22; fwptypes.idl FWP_RANGE0 (inclusive, same type, high >= low) */
    wfp_condition_value c = crange(vint(FWP_UINT16, 1000), vint(FWP_UINT16, 2000));
    wfp_value v;
    (void)state;
    assert_int_equal(wfp_condition_validate(FWP_UINT16, FWP_MATCH_RANGE, &c), ERROR_SUCCESS);
    v = vint(FWP_UINT16, 1000);
    assert_true(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = vint(FWP_UINT16, 2000);
    assert_true(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = vint(FWP_UINT16, 1500);
    assert_true(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = vint(FWP_UINT16, 999);
    assert_false(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = vint(FWP_UINT16, 2001);
    assert_false(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = vint(FWP_UINT32, 1500); /* no conversion */
    assert_false(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    /* single-point range */
    c = crange(vint(FWP_UINT16, 7), vint(FWP_UINT16, 7));
    assert_int_equal(wfp_condition_validate(FWP_UINT16, FWP_MATCH_RANGE, &c), ERROR_SUCCESS);
    /* high < low */
    c = crange(vint(FWP_UINT16, 2000), vint(FWP_UINT16, 1000));
    assert_int_equal(wfp_condition_validate(FWP_UINT16, FWP_MATCH_RANGE, &c), FWP_E_INVALID_RANGE);
    /* mixed bound types (spec C22: INVALID_RANGE or TYPE_MISMATCH; we say INVALID_RANGE) */
    c = crange(vint(FWP_UINT16, 1), vint(FWP_UINT32, 2));
    assert_int_equal(wfp_condition_validate(FWP_UINT16, FWP_MATCH_RANGE, &c), FWP_E_INVALID_RANGE);
    /* bounds of another type than the field */
    c = crange(vint(FWP_UINT32, 1), vint(FWP_UINT32, 2));
    assert_int_equal(wfp_condition_validate(FWP_UINT16, FWP_MATCH_RANGE, &c), FWP_E_TYPE_MISMATCH);
    /* a range needs RANGE, RANGE needs a range */
    assert_int_equal(wfp_condition_validate(FWP_UINT32, FWP_MATCH_EQUAL, &c),
                     FWP_E_MATCH_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_UINT32, FWP_MATCH_RANGE, vint(FWP_UINT32, 1)),
                     FWP_E_MATCH_TYPE_MISMATCH);
    /* signed bounds compare as signed */
    c = crange(vint(FWP_INT32, -10), vint(FWP_INT32, 10));
    assert_int_equal(wfp_condition_validate(FWP_INT32, FWP_MATCH_RANGE, &c), ERROR_SUCCESS);
    v = vint(FWP_INT32, -5);
    assert_true(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = vint(FWP_INT32, -11);
    assert_false(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    c = crange(vint(FWP_INT8, 5), vint(FWP_INT8, -5));
    assert_int_equal(wfp_condition_validate(FWP_INT8, FWP_MATCH_RANGE, &c), FWP_E_INVALID_RANGE);
    /* address ranges: UINT32 in host order, IPv6 as bytes */
    c = crange(v4("10.0.0.10"), v4("10.0.0.20"));
    v = v4("10.0.0.15");
    assert_true(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = v4("10.0.1.15");
    assert_false(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    c = crange(v6("2001:db8::1"), v6("2001:db8::ff"));
    assert_int_equal(wfp_condition_validate(FWP_BYTE_ARRAY16_TYPE, FWP_MATCH_RANGE, &c),
                     ERROR_SUCCESS);
    v = v6("2001:db8::80");
    assert_true(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = v6("2001:db8::100");
    assert_false(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    /* string range, lexicographic */
    c = crange(vstr("b"), vstr("d"));
    assert_int_equal(wfp_condition_validate(FWP_UNICODE_STRING_TYPE, FWP_MATCH_RANGE, &c),
                     ERROR_SUCCESS);
    v = vstr("c-anything");
    assert_true(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    v = vstr("d0");
    assert_false(wfp_condition_match(FWP_MATCH_RANGE, &c, &v));
    c = crange(vstr("d"), vstr("b"));
    assert_int_equal(wfp_condition_validate(FWP_UNICODE_STRING_TYPE, FWP_MATCH_RANGE, &c),
                     FWP_E_INVALID_RANGE);
}

/* ---- ordered comparisons ---------------------------------------------- */
static void test_ordering(void **state)
{
    /* EVIDENCE: COND-SORTABLE-ORDER — SDK ne-fwptypes-fwp_match_type (GREATER/LESS/GE/LE on sortable
     * types); blob/string order is sim-defined: unsigned lexicographic, shorter prefix first */
    static const uint32_t ints[] = {FWP_UINT8, FWP_UINT16, FWP_UINT32, FWP_UINT64,
                                    FWP_INT8,  FWP_INT16,  FWP_INT32,  FWP_INT64};
    static const uint8_t b1[] = {1, 2}, b2[] = {1, 2, 0}, b3[] = {1, 3}, b4[] = {0x80};
    (void)state;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        uint32_t t = ints[i];
        wfp_value c = vint(t, 10);
        assert_true(match(FWP_MATCH_GREATER, c, vint(t, 11)));
        assert_false(match(FWP_MATCH_GREATER, c, vint(t, 10)));
        assert_true(match(FWP_MATCH_GREATER_OR_EQUAL, c, vint(t, 10)));
        assert_false(match(FWP_MATCH_GREATER_OR_EQUAL, c, vint(t, 9)));
        assert_true(match(FWP_MATCH_LESS, c, vint(t, 9)));
        assert_false(match(FWP_MATCH_LESS, c, vint(t, 10)));
        assert_true(match(FWP_MATCH_LESS_OR_EQUAL, c, vint(t, 10)));
        assert_false(match(FWP_MATCH_LESS_OR_EQUAL, c, vint(t, 11)));
    }
    /* the maximum of each unsigned width is the largest, not -1 */
    assert_true(match(FWP_MATCH_GREATER, vint(FWP_UINT8, 1), vint(FWP_UINT8, 0xff)));
    assert_true(match(FWP_MATCH_GREATER, vint(FWP_UINT64, 1), vint(FWP_UINT64, -1)));
    assert_true(match(FWP_MATCH_LESS, vint(FWP_INT8, 1), vint(FWP_INT8, -128)));
    assert_true(match(FWP_MATCH_LESS, vint(FWP_INT64, 0), vint(FWP_INT64, INT64_MIN)));
    /* BYTE_ARRAY16: big-endian byte order, i.e. address order */
    assert_true(match(FWP_MATCH_GREATER, v6("2001:db8::1"), v6("2001:db8::2")));
    assert_true(match(FWP_MATCH_LESS, v6("2001:db8::1"), v6("::1")));
    /* blobs */
    assert_true(match(FWP_MATCH_LESS, vblob(FWP_BYTE_BLOB_TYPE, b2, 3),
                      vblob(FWP_BYTE_BLOB_TYPE, b1, 2))); /* prefix first */
    assert_true(match(FWP_MATCH_GREATER, vblob(FWP_BYTE_BLOB_TYPE, b2, 3),
                      vblob(FWP_BYTE_BLOB_TYPE, b3, 2)));
    assert_true(match(FWP_MATCH_GREATER, vblob(FWP_BYTE_BLOB_TYPE, b3, 2),
                      vblob(FWP_BYTE_BLOB_TYPE, b4, 1))); /* unsigned bytes */
    assert_true(match(FWP_MATCH_GREATER_OR_EQUAL, vblob(FWP_BYTE_BLOB_TYPE, NULL, 0),
                      vblob(FWP_BYTE_BLOB_TYPE, NULL, 0)));
    /* strings */
    assert_true(match(FWP_MATCH_GREATER, vstr("abc"), vstr("abd")));
    assert_true(match(FWP_MATCH_GREATER, vstr("abc"), vstr("abcd")));
    assert_true(match(FWP_MATCH_LESS, vstr("abc"), vstr("ab")));
    assert_true(match(FWP_MATCH_LESS, vstr("a"), vstr("B"))); /* byte order: 'B' < 'a' */
}

static void test_equal_and_not_equal(void **state)
{
    /* EVIDENCE: COND-NOT-EQUAL — SDK ne-fwptypes-fwp_match_type (FWP_MATCH_NOT_EQUAL, sortable types) */
    static const uint8_t mac1[6] = {0, 0x11, 0x22, 0x33, 0x44, 0x55};
    wfp_value a, b;
    (void)state;
    assert_true(match(FWP_MATCH_NOT_EQUAL, vint(FWP_UINT16, 80), vint(FWP_UINT16, 81)));
    assert_false(match(FWP_MATCH_NOT_EQUAL, vint(FWP_UINT16, 80), vint(FWP_UINT16, 80)));
    assert_true(match(FWP_MATCH_NOT_EQUAL, vstr("a"), vstr("A")));
    assert_true(match(FWP_MATCH_NOT_EQUAL, v6("::1"), v6("::2")));
    /* EQUAL on every type */
    assert_true(match(FWP_MATCH_EQUAL, vstr("abc"), vstr("abc")));
    assert_false(match(FWP_MATCH_EQUAL, vstr("abc"), vstr("ABC")));
    assert_false(match(FWP_MATCH_EQUAL, vstr("abc"), vstr("abcd")));
    a = sample_of(FWP_BYTE_ARRAY6_TYPE);
    b = a;
    memcpy(a.v.bytes6, mac1, 6);
    assert_false(match(FWP_MATCH_EQUAL, a, b));
    memcpy(b.v.bytes6, mac1, 6);
    assert_true(match(FWP_MATCH_EQUAL, a, b));
    a = sample_of(FWP_DOUBLE);
    b = a;
    assert_true(match(FWP_MATCH_EQUAL, a, b));
    b.v.f64 = 2.25;
    assert_false(match(FWP_MATCH_EQUAL, a, b));
    a = vblob(FWP_SID, sid_sy, sizeof sid_sy);
    assert_true(match(FWP_MATCH_EQUAL, a, a));
    assert_int_equal(validate(FWP_SID, FWP_MATCH_EQUAL, a), ERROR_SUCCESS);
    /* NOT_EQUAL on FWP_SID, as Windows Defender Firewall's AppContainer
     * rules use it (ALE_PACKAGE_ID != S-1-0-0; shared wfpstate dumps). */
    {
        static const uint8_t null_sid[12] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* S-1-0-0 */
        b = vblob(FWP_SID, null_sid, sizeof null_sid);
        assert_int_equal(validate(FWP_SID, FWP_MATCH_NOT_EQUAL, b), ERROR_SUCCESS);
        assert_true(match(FWP_MATCH_NOT_EQUAL, a, b));
        assert_false(match(FWP_MATCH_NOT_EQUAL, b, b));
    }
    /* EVIDENCE: COND-SID-VALID — spec §2.2 (FWP_SID operand must be a SID) */
    a = vblob(FWP_SID, sid_sy, 8);
    assert_int_equal(validate(FWP_SID, FWP_MATCH_EQUAL, a), ERROR_INVALID_SID);
}

static void test_flags(void **state)
{
    /* EVIDENCE: COND-FLAGS — SDK ne-fwptypes-fwp_match_type (FLAGS_ALL_SET/ANY_SET/NONE_SET, unsigned) */
    static const uint32_t types[] = {FWP_UINT8, FWP_UINT16, FWP_UINT32, FWP_UINT64};
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        uint32_t t = types[i];
        wfp_value c = vint(t, 0x21);
        assert_true(match(FWP_MATCH_FLAGS_ALL_SET, c, vint(t, 0x23)));
        assert_false(match(FWP_MATCH_FLAGS_ALL_SET, c, vint(t, 0x20)));
        assert_true(match(FWP_MATCH_FLAGS_ANY_SET, c, vint(t, 0x20)));
        assert_false(match(FWP_MATCH_FLAGS_ANY_SET, c, vint(t, 0x42)));
        assert_true(match(FWP_MATCH_FLAGS_NONE_SET, c, vint(t, 0x42)));
        assert_false(match(FWP_MATCH_FLAGS_NONE_SET, c, vint(t, 0x01)));
        /* zero flags: ALL_SET and NONE_SET are vacuously true, ANY_SET false */
        assert_true(match(FWP_MATCH_FLAGS_ALL_SET, vint(t, 0), vint(t, 5)));
        assert_true(match(FWP_MATCH_FLAGS_NONE_SET, vint(t, 0), vint(t, 5)));
        assert_false(match(FWP_MATCH_FLAGS_ANY_SET, vint(t, 0), vint(t, 5)));
        assert_int_equal(validate(t, FWP_MATCH_FLAGS_ANY_SET, c), ERROR_SUCCESS);
    }
    /* C25's condition: FLAGS NONE_SET IS_FRAGMENT */
    assert_true(match(FWP_MATCH_FLAGS_NONE_SET, vint(FWP_UINT32, FWP_CONDITION_FLAG_IS_FRAGMENT),
                      vint(FWP_UINT32, FWP_CONDITION_FLAG_IS_LOOPBACK)));
    assert_false(match(FWP_MATCH_FLAGS_NONE_SET, vint(FWP_UINT32, FWP_CONDITION_FLAG_IS_FRAGMENT),
                       vint(FWP_UINT32, FWP_CONDITION_FLAG_IS_FRAGMENT)));
}

static void test_case_insensitive(void **state)
{
    /* EVIDENCE: COND-CASE-INSENSITIVE — SDK ne-fwptypes-fwp_match_type (UNICODE_STRING only);
     * folding is ASCII-only (sim-defined) */
    (void)state;
    assert_true(match(FWP_MATCH_EQUAL_CASE_INSENSITIVE, vstr("Foo.EXE"), vstr("foo.exe")));
    assert_true(match(FWP_MATCH_EQUAL_CASE_INSENSITIVE, vstr(""), vstr("")));
    assert_false(match(FWP_MATCH_EQUAL_CASE_INSENSITIVE, vstr("foo"), vstr("foo.exe")));
    assert_false(match(FWP_MATCH_EQUAL_CASE_INSENSITIVE, vstr("[a]"), vstr("{a}")));
    /* non-ASCII letters compare exactly: "É" vs "é" differ (sim-defined) */
    assert_false(match(FWP_MATCH_EQUAL_CASE_INSENSITIVE, vstr("\xc3\x89"), vstr("\xc3\xa9")));
    assert_true(match(FWP_MATCH_EQUAL_CASE_INSENSITIVE, vstr("A\xc3\xa9"), vstr("a\xc3\xa9")));
}

/* ---- PREFIX is a suffix test ------------------------------------------ */
static void test_c26_prefix_is_suffix(void **state)
{
    /* EVIDENCE: COND-PREFIX-IS-SUFFIX C26 — spec C26; SDK ne-fwptypes-fwp_match_type ("The name of this flag is
     * misleading. It tests whether the value ends with the condition value") */
    test_alloc *t = *state;
    uint8_t *full, *tail, *head;
    uint32_t fl, tl, hl;
    (void)state;
    assert_true(match(FWP_MATCH_PREFIX, vstr("foo.exe"), vstr("C:\\apps\\foo.exe")));
    assert_false(match(FWP_MATCH_PREFIX, vstr("C:\\apps"), vstr("C:\\apps\\foo.exe")));
    assert_false(match(FWP_MATCH_NOT_PREFIX, vstr("foo.exe"), vstr("C:\\apps\\foo.exe")));
    assert_true(match(FWP_MATCH_NOT_PREFIX, vstr("C:\\apps"), vstr("C:\\apps\\foo.exe")));
    assert_true(match(FWP_MATCH_PREFIX, vstr(""), vstr("anything")));
    assert_true(match(FWP_MATCH_PREFIX, vstr("same"), vstr("same")));
    assert_false(match(FWP_MATCH_PREFIX, vstr("longer than"), vstr("than")));
    assert_false(match(FWP_MATCH_PREFIX, vstr("FOO.EXE"), vstr("foo.exe"))); /* case matters */

    /* App ids: UTF-16LE with a NUL on both sides; the NULs are not part of
     * the suffix (sim-defined). */
    assert_true(wfp_app_id_from_path(&t->a, "C:\\apps\\foo.exe", NULL, &full, &fl));
    assert_true(wfp_app_id_from_path(&t->a, "\\device\\foo.exe", NULL, &tail, &tl));
    assert_true(wfp_app_id_from_path(&t->a, "C:\\apps", NULL, &head, &hl));
    {
        /* "foo.exe" in UTF-16LE + NUL: take it from the tail of `tail` */
        wfp_value vfull = vblob(FWP_BYTE_BLOB_TYPE, full, fl);
        wfp_value cfoo = vblob(FWP_BYTE_BLOB_TYPE, tail + tl - 16, 16); /* "foo.exe\0" */
        wfp_value cfoo_nonul = vblob(FWP_BYTE_BLOB_TYPE, tail + tl - 16, 14);
        wfp_value chead = vblob(FWP_BYTE_BLOB_TYPE, head, hl);
        wfp_value codd = vblob(FWP_BYTE_BLOB_TYPE, tail + tl - 15, 15); /* misaligned */
        assert_int_equal(validate(FWP_BYTE_BLOB_TYPE, FWP_MATCH_PREFIX, cfoo), ERROR_SUCCESS);
        assert_true(match(FWP_MATCH_PREFIX, cfoo, vfull));
        assert_true(match(FWP_MATCH_PREFIX, cfoo_nonul, vfull));
        assert_false(match(FWP_MATCH_PREFIX, chead, vfull));
        assert_false(match(FWP_MATCH_NOT_PREFIX, cfoo, vfull));
        assert_true(match(FWP_MATCH_NOT_PREFIX, chead, vfull));
        assert_true(match(FWP_MATCH_EQUAL, vfull, vfull));
        /* odd-sized: plain byte suffix */
        assert_true(match(FWP_MATCH_PREFIX, codd, vfull));
    }
    t->a.free(t->a.ctx, full);
    t->a.free(t->a.ctx, tail);
    t->a.free(t->a.ctx, head);
}

/* ---- EMPTY ------------------------------------------------------------ */
static void test_c27_empty(void **state)
{
    /* EVIDENCE: COND-EMPTY-NO-MATCH C27 — spec C27; SDK nf-fwpmu-fwpmfilteradd0 remarks (a condition on an EMPTY
     * field does not match); NOT_EQUAL / FLAGS_NONE_SET / NOT_PREFIX vs EMPTY = false is sim-defined */
    wfp_value e = vempty();
    (void)state;
    for (uint32_t t = FWP_UINT8; t <= FWP_BYTE_ARRAY6_TYPE; t++)
        for (uint32_t mt = 0; mt < FWP_MATCH_TYPE_MAX; mt++)
            assert_false(match(mt, sample_of(t), e));
    {
        wfp_condition_value c = cv4mask("0.0.0.0", "0.0.0.0");
        assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &e));
        c = cv6mask("::", 0);
        assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &e));
        c = crange(vint(FWP_UINT16, 0), vint(FWP_UINT16, 0xffff));
        assert_false(wfp_condition_match(FWP_MATCH_RANGE, &c, &e));
    }
    assert_false(match(FWP_MATCH_NOT_EQUAL, v4("10.0.0.5"), e));
    assert_false(match(FWP_MATCH_FLAGS_NONE_SET, vint(FWP_UINT32, 1), e));
    assert_false(match(FWP_MATCH_NOT_PREFIX, vstr("x"), e));
    /* a malformed incoming blob (size without bytes) matches nothing */
    assert_false(match(FWP_MATCH_NOT_EQUAL, vstr("x"), vblob(FWP_UNICODE_STRING_TYPE, NULL, 3)));
    assert_false(match(FWP_MATCH_NOT_PREFIX, vstr("x"), vblob(FWP_UNICODE_STRING_TYPE, NULL, 3)));

    /* EVIDENCE: COND-EMPTY-MATCHES-EMPTY C27 — spec C27; W32 ale-re-authorization (EQUAL FWP_EMPTY catches
     * fields that are unknown) */
    assert_true(match(FWP_MATCH_EQUAL, e, e));
    for (uint32_t t = FWP_UINT8; t <= FWP_BYTE_ARRAY6_TYPE; t++) {
        assert_false(match(FWP_MATCH_EQUAL, e, sample_of(t)));
        assert_int_equal(validate(t, FWP_MATCH_EQUAL, e), ERROR_SUCCESS);
    }
    assert_int_equal(validate(FWP_UINT32, FWP_MATCH_NOT_EQUAL, e), FWP_E_MATCH_TYPE_MISMATCH);
    assert_int_equal(validate(FWP_UINT32, FWP_MATCH_FLAGS_NONE_SET, e), FWP_E_MATCH_TYPE_MISMATCH);
}

/* ---- security-descriptor conditions ----------------------------------- */
static void test_c28_sd_condition(void **state)
{
    /* EVIDENCE: COND-SD-ACCESS-CHECK C28 — spec C28; W32 permitting-and-blocking-applications-and-users (ALE_USER_ID
     * SD condition, FWP_ACTRL_MATCH_FILTER); SDK nf-fwpmu-fwpmfilteradd0 (self-relative SD) */
    test_alloc *t = *state;
    const char *user_u[] = {"S-1-5-21-1-2-3-1001", "BU"};
    const char *user_v[] = {"S-1-5-21-1-2-3-1002", "BU"};
    uint8_t *sd, *tu, *tv;
    uint32_t sdl, tul, tvl;
    wfp_condition_value c;
    wfp_value v;
    uint8_t absolute[sizeof sd_sy];

    assert_int_equal(wfp_sddl_parse(&t->a, "D:(A;;CC;;;S-1-5-21-1-2-3-1001)", &sd, &sdl, NULL),
                     ERROR_SUCCESS);
    assert_true(wfp_token_build(&t->a, user_u, 2, &tu, &tul));
    assert_true(wfp_token_build(&t->a, user_v, 2, &tv, &tvl));
    c = cond(vblob(FWP_SECURITY_DESCRIPTOR_TYPE, sd, sdl));
    assert_int_equal(wfp_condition_validate(FWP_TOKEN_ACCESS_INFORMATION_TYPE, FWP_MATCH_EQUAL, &c),
                     ERROR_SUCCESS);
    assert_int_equal(wfp_condition_validate(FWP_TOKEN_INFORMATION_TYPE, FWP_MATCH_EQUAL, &c),
                     ERROR_SUCCESS);
    assert_int_equal(wfp_condition_validate(FWP_UINT32, FWP_MATCH_EQUAL, &c), FWP_E_TYPE_MISMATCH);
    assert_int_equal(wfp_condition_validate(FWP_TOKEN_ACCESS_INFORMATION_TYPE,
                                            FWP_MATCH_NOT_EQUAL, &c),
                     FWP_E_MATCH_TYPE_MISMATCH);
    v = vblob(FWP_TOKEN_ACCESS_INFORMATION_TYPE, tu, tul);
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    v = vblob(FWP_TOKEN_ACCESS_INFORMATION_TYPE, tv, tvl);
    assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    v = vblob(FWP_TOKEN_INFORMATION_TYPE, tu, tul);
    assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));

    /* EVIDENCE: COND-SD-SELF-RELATIVE C28 — spec C28; spec §2.3 (absolute SD ⇒ ERROR_INVALID_SECURITY_DESCR) */
    memcpy(absolute, sd_sy, sizeof sd_sy);
    absolute[3] &= 0x7f; /* clear SE_SELF_RELATIVE */
    c = cond(vblob(FWP_SECURITY_DESCRIPTOR_TYPE, absolute, sizeof absolute));
    assert_int_equal(wfp_condition_validate(FWP_TOKEN_ACCESS_INFORMATION_TYPE, FWP_MATCH_EQUAL, &c),
                     ERROR_INVALID_SECURITY_DESCR);
    c = cond(vblob(FWP_SECURITY_DESCRIPTOR_TYPE, sd_sy, 19));
    assert_int_equal(wfp_condition_validate(FWP_TOKEN_ACCESS_INFORMATION_TYPE, FWP_MATCH_EQUAL, &c),
                     ERROR_INVALID_SECURITY_DESCR);

    /* FWP_SID against a token is only for enumeration templates (§2.2):
     * rejected on a filter, but membership is what it would test. */
    {
        uint8_t bu[WFP_SID_MAX];
        uint32_t bul;
        assert_true(wfp_sid_parse("BU", bu, &bul));
        c = cond(vblob(FWP_SID, bu, bul));
        assert_int_equal(wfp_condition_validate(FWP_TOKEN_INFORMATION_TYPE, FWP_MATCH_EQUAL, &c),
                         FWP_E_TYPE_MISMATCH);
        v = vblob(FWP_TOKEN_INFORMATION_TYPE, tu, tul);
        assert_true(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
        c = cond(vblob(FWP_SID, sid_sy, sizeof sid_sy));
        assert_false(wfp_condition_match(FWP_MATCH_EQUAL, &c, &v));
    }
    t->a.free(t->a.ctx, sd);
    t->a.free(t->a.ctx, tu);
    t->a.free(t->a.ctx, tv);
}

/* ---- copies and equality ---------------------------------------------- */
static void test_copy_free_equal(void **state)
{
    test_alloc *t = *state;
    static const uint8_t bytes[5] = {9, 8, 7, 6, 5};
    wfp_condition_value srcs[6], dst;
    size_t nsrc = 0;

    srcs[nsrc++] = cond(vblob(FWP_BYTE_BLOB_TYPE, bytes, 5));
    srcs[nsrc++] = crange(vstr("aaa"), vstr("zzz"));
    srcs[nsrc++] = cv4mask("10.0.0.0", "255.0.0.0");
    srcs[nsrc++] = cv6mask("2001:db8::", 32);
    srcs[nsrc++] = cond(vint(FWP_UINT64, 1234567890123ll));
    srcs[nsrc++] = cond(vblob(FWP_BYTE_BLOB_TYPE, NULL, 0));
    for (size_t i = 0; i < nsrc; i++) {
        assert_true(wfpi_condition_value_copy(&t->a, &dst, &srcs[i]));
        assert_true(wfp_condition_value_equal(&dst, &srcs[i]));
        if (srcs[i].type == FWP_BYTE_BLOB_TYPE && srcs[i].u.value.v.blob.size)
            assert_ptr_not_equal(dst.u.value.v.blob.data, srcs[i].u.value.v.blob.data);
        wfpi_condition_value_free(&t->a, &dst);
        assert_int_equal(t->live, 0);
    }
    /* every allocation failure leaves a freeable, leak-free copy */
    for (long fail = 1; fail <= 2; fail++) {
        t->count = 0;
        t->fail_at = fail;
        assert_false(wfpi_condition_value_copy(&t->a, &dst, &srcs[1]));
        wfpi_condition_value_free(&t->a, &dst);
        assert_int_equal(t->live, 0);
    }
    t->fail_at = 0;
    {
        wfp_value a = vstr("x"), b = vstr("x"), c = vstr("y"), d;
        assert_true(wfp_value_equal(&a, &b));
        assert_false(wfp_value_equal(&a, &c));
        b.type = FWP_BYTE_BLOB_TYPE;
        assert_false(wfp_value_equal(&a, &b));
        assert_true(wfpi_value_copy(&t->a, &d, &a));
        assert_true(wfp_value_equal(&a, &d));
        wfpi_value_free(&t->a, &d);
        /* structural equality: NaN equals itself, and 0.0 differs from -0.0 */
        a = sample_of(FWP_DOUBLE);
        a.v.f64 = 0.0;
        b = a;
        b.v.f64 = -0.0;
        assert_false(wfp_value_equal(&a, &b));
        assert_true(match(FWP_MATCH_EQUAL, a, b)); /* numerically equal */
    }
    assert_false(wfp_condition_value_equal(&srcs[2], &srcs[3]));
    {
        wfp_condition_value x = cv4mask("10.0.0.0", "255.0.0.0");
        x.u.v4.mask = 0xffff0000u;
        assert_false(wfp_condition_value_equal(&x, &srcs[2]));
    }
}

/* ---- text forms ------------------------------------------------------- */
static void assert_value_text(wfp_value v, const char *want)
{
    char buf[256];
    size_t n = wfp_value_format(&v, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void assert_cond_text(wfp_condition_value c, const char *want)
{
    char buf[256];
    size_t n = wfp_condition_value_format(&c, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_format(void **state)
{
    test_alloc *t = *state;
    static const uint8_t hexb[3] = {0x00, 0xab, 0xff};
    uint8_t *app, *tok, *sd;
    uint32_t al, tl, sl;
    const char *sids[] = {"S-1-5-21-1-2-3-1001", "BA"};
    wfp_value mac;

    assert_value_text(vempty(), "empty");
    assert_value_text(vint(FWP_UINT8, 255), "255");
    assert_value_text(vint(FWP_UINT16, 443), "443");
    assert_value_text(vint(FWP_UINT32, 0xffffffffu), "4294967295");
    assert_value_text(vint(FWP_UINT64, -1), "18446744073709551615");
    assert_value_text(vint(FWP_INT8, -128), "-128");
    assert_value_text(vint(FWP_INT64, INT64_MIN), "-9223372036854775808");
    assert_value_text(sample_of(FWP_FLOAT), "1.5");
    assert_value_text(sample_of(FWP_DOUBLE), "2.5");
    assert_value_text(vstr("hello world"), "hello world");
    assert_value_text(vblob(FWP_BYTE_BLOB_TYPE, hexb, 3), "00abff");
    assert_value_text(vblob(FWP_BYTE_BLOB_TYPE, NULL, 0), "");
    assert_value_text(vblob(FWP_SID, sid_sy, sizeof sid_sy), "S-1-5-18");
    assert_value_text(vblob(FWP_SID, sid_sy, 9), "010100000000000512");
    assert_value_text(vblob(FWP_SECURITY_DESCRIPTOR_TYPE, sd_sy, sizeof sd_sy), "O:SYD:(A;;CC;;;SY)");
    mac = sample_of(FWP_BYTE_ARRAY6_TYPE);
    mac.v.bytes6[0] = 0xaa;
    mac.v.bytes6[5] = 0x0f;
    assert_value_text(mac, "aa:00:00:00:00:0f");

    /* EVIDENCE: FMT-RFC5952 — RFC 5952 §4 (lower case, longest zero run, first on tie, no :: for one group) */
    assert_value_text(v6("2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
    assert_value_text(v6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
    assert_value_text(v6("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
    assert_value_text(v6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
    assert_value_text(v6("::"), "::");
    assert_value_text(v6("::1"), "::1");
    assert_value_text(v6("1::"), "1::");
    assert_value_text(v6("fe80:0:0:0:1:0:0:0"), "fe80::1:0:0:0");
    assert_value_text(v6("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
    assert_value_text(v6("0:0:0:0:0:ffff:c000:0201"), "::ffff:192.0.2.1");

    /* EVIDENCE: VAL-HOST-ORDER — SDK ns-fwptypes-fwp_v4_addr_and_mask (host order) */
    assert_cond_text(cv4mask("10.0.0.0", "255.0.0.0"), "10.0.0.0/8");
    assert_cond_text(cv4mask("192.168.1.7", "255.255.255.255"), "192.168.1.7/32");
    assert_cond_text(cv4mask("0.0.0.0", "0.0.0.0"), "0.0.0.0/0");
    assert_cond_text(cv4mask("10.0.0.0", "255.0.255.0"), "10.0.0.0/255.0.255.0");
    assert_cond_text(cv6mask("2001:db8::", 32), "2001:db8::/32");
    assert_cond_text(crange(vint(FWP_UINT16, 1000), vint(FWP_UINT16, 2000)), "1000-2000");
    assert_cond_text(cond(vint(FWP_UINT32, 7)), "7");

    /* app ids print as their path */
    assert_true(wfp_app_id_from_path(&t->a, "C:\\Windows\\System32\\svchost.exe", NULL, &app, &al));
    assert_value_text(vblob(FWP_BYTE_BLOB_TYPE, app, al),
                      "\\device\\harddiskvolume3\\windows\\system32\\svchost.exe");
    /* tokens as their SIDs */
    assert_true(wfp_token_build(&t->a, sids, 2, &tok, &tl));
    assert_value_text(vblob(FWP_TOKEN_INFORMATION_TYPE, tok, tl), "S-1-5-21-1-2-3-1001,S-1-5-32-544");
    assert_int_equal(wfp_sddl_parse(&t->a, "O:BAD:(A;;CC;;;BU)", &sd, &sl, NULL), ERROR_SUCCESS);
    assert_value_text(vblob(FWP_SECURITY_DESCRIPTOR_TYPE, sd, sl), "O:BAD:(A;;CC;;;BU)");

    /* snprintf contract: truncated but terminated, full length returned */
    {
        char small[6];
        wfp_value v = vblob(FWP_BYTE_BLOB_TYPE, app, al);
        size_t need = wfp_value_format(&v, small, sizeof small);
        assert_int_equal(need, strlen("\\device\\harddiskvolume3\\windows\\system32\\svchost.exe"));
        assert_string_equal(small, "\\devi");
        assert_int_equal(wfp_value_format(&v, NULL, 0), need);
        v = v6("2001:db8::1");
        assert_int_equal(wfp_value_format(&v, small, sizeof small), 11);
        assert_string_equal(small, "2001:");
        v = vblob(FWP_TOKEN_INFORMATION_TYPE, tok, tl);
        assert_int_equal(wfp_value_format(&v, small, 1), 32);
        assert_string_equal(small, "");
        {
            wfp_condition_value c = crange(vint(FWP_UINT16, 1000), vint(FWP_UINT16, 2000));
            assert_int_equal(wfp_condition_value_format(&c, small, sizeof small), 9);
            assert_string_equal(small, "1000-");
        }
    }
    t->a.free(t->a.ctx, app);
    t->a.free(t->a.ctx, tok);
    t->a.free(t->a.ctx, sd);
}

/* ---- address parsers -------------------------------------------------- */
static void test_ipv4_parse(void **state)
{
    static const char *const bad[] = {
        "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "01.2.3.4", "1.2.3.04",
        "1..3.4", ".1.2.3", "1.2.3.4.", " 1.2.3.4", "1.2.3.4 ", "0x1.2.3.4", "1.2.3.4/8",
        "1234.1.1.1", "a.b.c.d", "1.2.3.999",
    };
    uint32_t a;
    (void)state;
    assert_true(wfp_ipv4_parse("10.1.2.3", &a));
    assert_int_equal(a, 0x0A010203u);
    assert_true(wfp_ipv4_parse("0.0.0.0", &a));
    assert_int_equal(a, 0);
    assert_true(wfp_ipv4_parse("255.255.255.255", &a));
    assert_int_equal(a, 0xffffffffu);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = 42;
        assert_false(wfp_ipv4_parse(bad[i], &a));
        assert_int_equal(a, 42);
    }
    assert_false(wfp_ipv4_parse(NULL, &a));
}

static void test_ipv6_parse(void **state)
{
    static const char *const good[] = {
        "::", "::1", "1::", "1:2:3:4:5:6:7:8", "1::8", "1:2:3:4:5:6::8", "1::3:4:5:6:7:8",
        "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
        "FE80::ABCD", "2001:db8::",
    };
    static const char *const bad[] = {
        "", ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
        "g::", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", ":1::", "1::2:", "fe80::1%eth0",
        "::ffff:1.2.3", "::ffff:1.2.3.4.5", "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3.4:5",
        " ::1", "::1 ", "[::1]", "::01.2.3.4",
    };
    uint8_t b[16];
    char text[64];
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint8_t again[16];
        wfp_value v;
        assert_true(wfp_ipv6_parse(good[i], b));
        /* print, reparse: same bytes */
        memset(&v, 0, sizeof v);
        v.type = FWP_BYTE_ARRAY16_TYPE;
        memcpy(v.v.bytes16, b, 16);
        wfp_value_format(&v, text, sizeof text);
        assert_true(wfp_ipv6_parse(text, again));
        assert_memory_equal(b, again, 16);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (wfp_ipv6_parse(bad[i], b)) fail_msg("accepted bad IPv6 '%s'", bad[i]);
    }
    assert_true(wfp_ipv6_parse("1:2:3:4:5:6::8", b));
    assert_int_equal(b[12], 0);
    assert_int_equal(b[13], 0);
    assert_int_equal(b[15], 8);
    assert_true(wfp_ipv6_parse("::ffff:1.2.3.4", b));
    assert_int_equal(b[10], 0xff);
    assert_int_equal(b[12], 1);
    assert_int_equal(b[15], 4);
}

/* ---- garbage in ------------------------------------------------------- */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_parsers_survive_garbage(void **state)
{
    /* Deterministic mutations of valid inputs through every parser and
     * through validate/match/format with random blobs. ASan/UBSan do the
     * checking; the asserts only pin round-trips. */
    static const char *const seeds[] = {"10.1.2.3", "2001:db8::1", "::ffff:1.2.3.4",
                                        "1:2:3:4:5:6:7:8", "fe80::1"};
    static const char alphabet[] = "0123456789abcdefABCDEF:.%/ xg-";
    test_alloc *t = *state;
    uint32_t seed = 12345;
    char buf[64], text[128];
    uint8_t junk[96];

    for (int iter = 0; iter < 20000; iter++) {
        const char *s = seeds[iter % 5];
        size_t n = strlen(s);
        uint32_t a;
        uint8_t b[16];
        memcpy(buf, s, n + 1);
        for (int k = 0, m = 1 + (int)(lcg(&seed) % 4); k < m; k++) {
            uint32_t op = lcg(&seed) % 3, pos = (uint32_t)(lcg(&seed) % (n + 1));
            char ch = alphabet[lcg(&seed) % (sizeof alphabet - 1)];
            if (op == 0 && pos < n) buf[pos] = ch;
            else if (op == 1 && n + 1 < sizeof buf - 1) {
                memmove(buf + pos + 1, buf + pos, n - pos + 1);
                buf[pos] = ch;
                n++;
            } else if (op == 2 && pos < n) {
                memmove(buf + pos, buf + pos + 1, n - pos);
                n--;
            }
        }
        if (wfp_ipv4_parse(buf, &a)) {
            wfp_value v = vint(FWP_UINT32, a);
            wfp_condition_value c;
            memset(&c, 0, sizeof c);
            c.type = FWP_V4_ADDR_MASK;
            c.u.v4.addr = a;
            c.u.v4.mask = 0xffffffffu;
            wfp_condition_value_format(&c, text, sizeof text);
            text[strlen(text) - 3] = 0; /* drop "/32" */
            assert_true(wfp_ipv4_parse(text, &a));
            assert_int_equal(a, v.v.u32);
        }
        if (wfp_ipv6_parse(buf, b)) {
            uint8_t again[16];
            wfp_value v;
            memset(&v, 0, sizeof v);
            v.type = FWP_BYTE_ARRAY16_TYPE;
            memcpy(v.v.bytes16, b, 16);
            wfp_value_format(&v, text, sizeof text);
            assert_true(wfp_ipv6_parse(text, again));
            assert_memory_equal(b, again, 16);
        }
    }
    /* random blobs of every blob type, as condition and as value */
    for (int iter = 0; iter < 5000; iter++) {
        static const uint32_t types[] = {FWP_BYTE_BLOB_TYPE, FWP_SID, FWP_SECURITY_DESCRIPTOR_TYPE,
                                         FWP_TOKEN_INFORMATION_TYPE, FWP_UNICODE_STRING_TYPE};
        uint32_t len = lcg(&seed) % sizeof junk, type = types[lcg(&seed) % 5];
        wfp_condition_value c, copy;
        wfp_value v;
        for (uint32_t i = 0; i < len; i++) junk[i] = (uint8_t)lcg(&seed);
        if (iter & 1 && len >= 20) { /* look a little like an SD or SID */
            junk[0] = 1;
            junk[1] = (uint8_t)(junk[1] & 0x0f);
            junk[3] |= 0x80;
        }
        c = cond(vblob(type, junk, len));
        v = vblob(lcg(&seed) & 1 ? FWP_TOKEN_ACCESS_INFORMATION_TYPE : type, junk,
                  lcg(&seed) % (len + 1));
        (void)wfp_condition_validate(v.type, FWP_MATCH_EQUAL, &c);
        (void)wfp_condition_match(FWP_MATCH_EQUAL, &c, &v);
        (void)wfp_condition_match(lcg(&seed) % FWP_MATCH_TYPE_MAX, &c, &v);
        wfp_value_format(&v, text, sizeof text);
        wfp_condition_value_format(&c, text, (size_t)(lcg(&seed) % sizeof text));
        assert_true(wfpi_condition_value_copy(&t->a, &copy, &c));
        assert_true(wfp_condition_value_equal(&copy, &c));
        wfpi_condition_value_free(&t->a, &copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_match_type_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c23_no_type_conversion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c24_match_type_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c20_v4_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c21_v6_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c22_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equal_and_not_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_insensitive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c26_prefix_is_suffix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c27_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c28_sd_condition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_free_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parsers_survive_garbage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
