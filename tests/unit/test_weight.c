/* test_weight.c — the automatic filter weight (core/weight.c,
 * docs/auto-weight.md).
 *
 * Windows does not document how BFE computes the low 60 bits of an
 * automatic weight; wfpsim's rule is a model learned from real
 * `netsh wfp show state` dumps. These tests pin (1) the properties the
 * documentation does promise or the model guarantees, on many random
 * condition sets in every layer of the catalogue, and (2) a handful of exact
 * values that Windows recorded, rebuilt here from the filter's conditions
 * (the dumps themselves are not read). Accuracy over whole dumps is measured
 * by tools/autoweight/eval.py, not here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "weight.h"
#include "wfp_catalog.h"

#define M60 ((UINT64_C(1) << 60) - 1)

/* ---- helpers ----------------------------------------------------------- */

static const wfp_layer_info *layer(const char *name)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_name(name);

    assert_non_null(l);
    return l;
}

static wfp_guid field(const char *name)
{
    const wfp_condition_info *c = wfp_catalog_condition_by_name(name);

    assert_non_null(c);
    return c->key;
}

static wfp_condition cond_eq_u8(const char *f, uint8_t v)
{
    wfp_condition c;

    memset(&c, 0, sizeof c);
    c.field_key = field(f);
    c.match_type = FWP_MATCH_EQUAL;
    c.value.type = FWP_UINT8;
    c.value.u.value.type = FWP_UINT8;
    c.value.u.value.v.u8 = v;
    return c;
}

static wfp_condition cond_flags(const char *f, uint32_t match, uint32_t mask)
{
    wfp_condition c;

    memset(&c, 0, sizeof c);
    c.field_key = field(f);
    c.match_type = match;
    c.value.type = FWP_UINT32;
    c.value.u.value.type = FWP_UINT32;
    c.value.u.value.v.u32 = mask;
    return c;
}

/* An exact match on a blob-like field (app id, SD, SID): the weight never
 * looks at the bytes. */
static wfp_condition cond_blob(const char *f, uint32_t type)
{
    wfp_condition c;

    memset(&c, 0, sizeof c);
    c.field_key = field(f);
    c.match_type = FWP_MATCH_EQUAL;
    c.value.type = type;
    c.value.u.value.type = type;
    return c;
}

static wfp_condition cond_range_u16(const char *f, uint16_t lo, uint16_t hi)
{
    wfp_condition c;

    memset(&c, 0, sizeof c);
    c.field_key = field(f);
    c.match_type = FWP_MATCH_RANGE;
    c.value.type = FWP_RANGE_TYPE;
    c.value.u.range.low.type = FWP_UINT16;
    c.value.u.range.high.type = FWP_UINT16;
    c.value.u.range.low.v.u16 = lo;
    c.value.u.range.high.v.u16 = hi;
    return c;
}

static wfp_condition cond_range_u32(const char *f, uint32_t lo, uint32_t hi)
{
    wfp_condition c;

    memset(&c, 0, sizeof c);
    c.field_key = field(f);
    c.match_type = FWP_MATCH_RANGE;
    c.value.type = FWP_RANGE_TYPE;
    c.value.u.range.low.type = FWP_UINT32;
    c.value.u.range.high.type = FWP_UINT32;
    c.value.u.range.low.v.u32 = lo;
    c.value.u.range.high.v.u32 = hi;
    return c;
}

/* Seeded PRNG (xorshift64*), so every run tests the same condition sets. */
typedef struct prng {
    uint64_t s;
} prng;

static uint64_t next(prng *p)
{
    p->s ^= p->s >> 12;
    p->s ^= p->s << 25;
    p->s ^= p->s >> 27;
    return p->s * UINT64_C(2685821657736338717);
}

static uint32_t below(prng *p, uint32_t n)
{
    return (uint32_t)(next(p) % n);
}

/* Random condition on field `i` of `l` that the model understands and that
 * is not a full-domain range (those weigh 0 by design). */
static wfp_condition random_condition(prng *p, const wfp_layer_info *l, uint32_t i)
{
    const wfp_layer_field *f = &l->fields[i];
    wfp_condition c;
    uint32_t dt = f->data_type;

    memset(&c, 0, sizeof c);
    c.field_key = f->condition->key;
    c.match_type = FWP_MATCH_EQUAL;
    if (f->field_type == FWPM_FIELD_FLAGS) {
        c.match_type = below(p, 2) ? FWP_MATCH_FLAGS_ALL_SET : FWP_MATCH_FLAGS_NONE_SET;
        c.value.type = FWP_UINT32;
        c.value.u.value.type = FWP_UINT32;
        c.value.u.value.v.u32 = (uint32_t)next(p) | 1u;
        return c;
    }
    if (dt == FWP_UINT32 && f->field_type == FWPM_FIELD_IP_ADDRESS && below(p, 3) == 0) {
        uint32_t prefix = 1 + below(p, 32);
        c.value.type = FWP_V4_ADDR_MASK;
        c.value.u.v4.addr = (uint32_t)next(p);
        c.value.u.v4.mask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
        return c;
    }
    if ((dt >= FWP_UINT8 && dt <= FWP_UINT64) || dt == FWP_BYTE_ARRAY16_TYPE) {
        if (below(p, 2)) {
            /* a range that leaves out at least value 0 or the maximum */
            uint64_t a = next(p), b = next(p);
            c.match_type = FWP_MATCH_RANGE;
            c.value.type = FWP_RANGE_TYPE;
            c.value.u.range.low.type = dt;
            c.value.u.range.high.type = dt;
            switch (dt) {
            case FWP_UINT8:
                c.value.u.range.low.v.u8 = (uint8_t)(1 + a % 200);
                c.value.u.range.high.v.u8 = (uint8_t)(c.value.u.range.low.v.u8 + b % 50);
                break;
            case FWP_UINT16:
                c.value.u.range.low.v.u16 = (uint16_t)(1 + a % 60000);
                c.value.u.range.high.v.u16 = (uint16_t)(c.value.u.range.low.v.u16 + b % 5000);
                break;
            case FWP_UINT32:
                c.value.u.range.low.v.u32 = (uint32_t)(1 + a % 0x7fffffffu);
                c.value.u.range.high.v.u32 = c.value.u.range.low.v.u32 + (uint32_t)(b % 0x7fffffffu);
                break;
            case FWP_UINT64:
                c.value.u.range.low.v.u64 = 1 + (a >> 1);
                c.value.u.range.high.v.u64 = c.value.u.range.low.v.u64 + (b >> 2);
                break;
            default:
                for (int k = 0; k < 16; k++) {
                    c.value.u.range.low.v.bytes16[k] = (uint8_t)(next(p));
                    c.value.u.range.high.v.bytes16[k] = c.value.u.range.low.v.bytes16[k];
                }
                c.value.u.range.low.v.bytes16[0] = 0x20;
                c.value.u.range.high.v.bytes16[0] = 0x20;
                for (uint32_t k = 15; k > 15 - below(p, 15); k--) {
                    c.value.u.range.low.v.bytes16[k] = 0;
                    c.value.u.range.high.v.bytes16[k] = 0xff;
                }
                break;
            }
            return c;
        }
        c.value.type = dt;
        c.value.u.value.type = dt;
        c.value.u.value.v.u64 = next(p);
        return c;
    }
    c.value.type = FWP_BYTE_BLOB_TYPE;
    c.value.u.value.type = FWP_BYTE_BLOB_TYPE;
    return c;
}

/* ---- properties ----------------------------------------------------------- */

/* EVIDENCE: WEIGHT-SUPERSET — W32 reserving-ports.md (spec §3.2, C31b): with
 * automatic weights, a filter whose conditions are a strict superset of
 * another's is more specific and gets the higher weight. Checked in every
 * layer of the catalogue on seeded random sets: adding a condition on a field
 * not yet used strictly raises the weight; adding a further value for a field
 * already used (an OR) never lowers it (docs/auto-weight.md §5). */
static void test_superset_is_heavier(void **state)
{
    prng p = {UINT64_C(0x9e3779b97f4a7c15)};
    size_t nl = wfp_catalog_layer_count();

    (void)state;
    for (size_t li = 0; li < nl; li++) {
        const wfp_layer_info *l = wfp_catalog_layer_by_id((uint16_t)li);
        if (!l || l->num_fields == 0)
            continue;
        for (int iter = 0; iter < 200; iter++) {
            wfp_condition conds[16];
            uint32_t used[16], n = 0, want = below(&p, l->num_fields < 8 ? l->num_fields : 8);
            uint64_t before, after;

            while (n < want) {
                uint32_t fi = below(&p, l->num_fields), dup = 0;
                for (uint32_t k = 0; k < n; k++)
                    dup |= used[k] == fi || wfp_guid_eq(&l->fields[used[k]].condition->key,
                                                        &l->fields[fi].condition->key);
                if (dup)
                    continue;
                used[n] = fi;
                conds[n++] = random_condition(&p, l, fi);
            }
            before = wfpi_auto_weight(l, conds, n);
            assert_true(before <= M60);
            /* a condition on a new field */
            for (int tries = 0; tries < 64 && n < l->num_fields; tries++) {
                uint32_t fi = below(&p, l->num_fields), dup = 0;
                for (uint32_t k = 0; k < n; k++)
                    dup |= wfp_guid_eq(&l->fields[used[k]].condition->key,
                                       &l->fields[fi].condition->key);
                if (dup)
                    continue;
                conds[n] = random_condition(&p, l, fi);
                after = wfpi_auto_weight(l, conds, n + 1);
                if (after <= before)
                    fail_msg("%s: adding field %s did not raise %#llx (got %#llx)", l->name,
                             l->fields[fi].condition->name, (unsigned long long)before,
                             (unsigned long long)after);
                assert_true(after <= M60);
                break;
            }
            /* another value on a field already used (OR) */
            if (n > 0) {
                uint32_t k = below(&p, n);
                conds[n] = random_condition(&p, l, used[k]);
                assert_true(wfpi_auto_weight(l, conds, n + 1) >= before);
            }
        }
    }
}

/* EVIDENCE: WEIGHT-RANGE-ZERO — real dumps (keploy, python_pi_burner):
 * ALE_AUTH_CONNECT_V4 filters with IP_REMOTE_ADDRESS 0.0.0.0–255.255.255.255
 * weigh the same as without it; a full-domain range contributes 0. */
static void test_full_domain_range_contributes_zero(void **state)
{
    const wfp_layer_info *l = layer("FWPM_LAYER_ALE_AUTH_CONNECT_V4");
    wfp_condition c[2];

    (void)state;
    c[0] = cond_blob("FWPM_CONDITION_ALE_APP_ID", FWP_BYTE_BLOB_TYPE);
    c[1] = cond_range_u32("FWPM_CONDITION_IP_REMOTE_ADDRESS", 0, 0xffffffffu);
    assert_int_equal(wfpi_auto_weight(l, c, 2), wfpi_auto_weight(l, c, 1));
    c[1] = cond_range_u16("FWPM_CONDITION_IP_REMOTE_PORT", 0, 0xffff);
    assert_int_equal(wfpi_auto_weight(l, c, 2), wfpi_auto_weight(l, c, 1));
    assert_int_equal(wfpi_auto_weight(l, &c[1], 1), 0);
}

/* EVIDENCE: WEIGHT-RANGE-LOG2 — real dumps: a range weighs by its log2
 * specificity; a narrower range never weighs less than a wider one, and an
 * exact value weighs at least as much as any range. Nested random ranges in
 * every learned and structural port / address slot. */
static void test_narrower_range_not_lighter(void **state)
{
    static const char *const layers[] = {
        "FWPM_LAYER_ALE_AUTH_LISTEN_V4", "FWPM_LAYER_ALE_RESOURCE_ASSIGNMENT_V4",
        "FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4", "FWPM_LAYER_ALE_AUTH_CONNECT_V4",
        "FWPM_LAYER_INBOUND_TRANSPORT_V4", "FWPM_LAYER_OUTBOUND_IPPACKET_V4"};
    prng p = {42};

    (void)state;
    for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
        const wfp_layer_info *l = layer(layers[li]);
        for (uint32_t fi = 0; fi < l->num_fields; fi++) {
            uint32_t dt = l->fields[fi].data_type;
            const char *fname = l->fields[fi].condition->name;
            if (l->fields[fi].field_type == FWPM_FIELD_FLAGS || (dt != FWP_UINT16 && dt != FWP_UINT32))
                continue;
            for (int iter = 0; iter < 100; iter++) {
                wfp_condition wide, narrow, exact;
                uint32_t max = dt == FWP_UINT16 ? 0xffffu : 0xffffffffu;
                uint32_t lo = (uint32_t)(next(&p) % max), hi = lo + (uint32_t)(next(&p) % (max - lo + 1));
                uint32_t nlo = lo + (uint32_t)(next(&p) % (hi - lo + 1));
                uint32_t nhi = nlo + (uint32_t)(next(&p) % (hi - nlo + 1));
                uint64_t ww, wn, we;

                if (dt == FWP_UINT16) {
                    wide = cond_range_u16(fname, (uint16_t)lo, (uint16_t)hi);
                    narrow = cond_range_u16(fname, (uint16_t)nlo, (uint16_t)nhi);
                } else {
                    wide = cond_range_u32(fname, lo, hi);
                    narrow = cond_range_u32(fname, nlo, nhi);
                }
                exact = narrow;
                exact.match_type = FWP_MATCH_EQUAL;
                exact.value.type = dt;
                exact.value.u.value.type = dt;
                exact.value.u.value.v.u64 = 0;
                exact.value.u.value.v.u32 = nlo;
                ww = wfpi_auto_weight(l, &wide, 1);
                wn = wfpi_auto_weight(l, &narrow, 1);
                we = wfpi_auto_weight(l, &exact, 1);
                if (wn < ww)
                    fail_msg("%s %s: [%u,%u] %#llx < [%u,%u] %#llx", l->name, fname, nlo, nhi,
                             (unsigned long long)wn, lo, hi, (unsigned long long)ww);
                assert_true(we >= wn);
            }
        }
    }
}

/* EVIDENCE: WEIGHT-EMPTY-RANGE — W32 filter-weight-assignment.md (spec §3.1):
 * an automatic weight lies in [0, 2^60). */
static void test_auto_weight_below_2_60(void **state)
{
    prng p = {7};
    size_t nl = wfp_catalog_layer_count();

    (void)state;
    for (size_t li = 0; li < nl; li++) {
        const wfp_layer_info *l = wfp_catalog_layer_by_id((uint16_t)li);
        wfp_condition conds[64];
        uint32_t n = 0;
        if (!l)
            continue;
        /* every field, several times (ORs), as specific as possible */
        for (uint32_t r = 0; r < 2 && l->num_fields; r++)
            for (uint32_t fi = 0; fi < l->num_fields && n < 64; fi++)
                conds[n++] = random_condition(&p, l, fi);
        assert_true(wfpi_auto_weight(l, conds, n) <= M60);
        assert_true(wfpi_auto_weight(l, NULL, 0) <= M60);
    }
}

/* ---- exact values Windows recorded --------------------------------------- */

/* EVIDENCE: WEIGHT-DUMP-DHCP — python_pi_burner wfpstate.xml, filter
 * "dhcp allow all" (ALE_RESOURCE_ASSIGNMENT_V4 and _V6, UINT8 weight):
 * IP_LOCAL_PORT RANGE 67–68 AND IP_PROTOCOL = 17 gives low 60 bits
 * 0xeff3fc000000000 (v4) and 0xefcff0000000000 (v6). */
static void test_windows_dhcp_allow_all(void **state)
{
    wfp_condition c[2];

    (void)state;
    c[0] = cond_range_u16("FWPM_CONDITION_IP_LOCAL_PORT", 67, 68);
    c[1] = cond_eq_u8("FWPM_CONDITION_IP_PROTOCOL", 17);
    assert_int_equal(wfpi_auto_weight(layer("FWPM_LAYER_ALE_RESOURCE_ASSIGNMENT_V4"), c, 2),
                     UINT64_C(0xeff3fc000000000));
    assert_int_equal(wfpi_auto_weight(layer("FWPM_LAYER_ALE_RESOURCE_ASSIGNMENT_V6"), c, 2),
                     UINT64_C(0xefcff0000000000));
}

/* EVIDENCE: WEIGHT-DUMP-LISTEN-RANGE — python_pi_burner wfpstate.xml, filter
 * "Microsoft Media Foundation Network Source IN [TCP 554]"
 * (ALE_AUTH_LISTEN_V4): ALE_APP_ID = …, ALE_USER_ID = SD, IP_LOCAL_PORT RANGE
 * 8554–8558 gives 0x36b658c0 = floor((16 − log2 5)·2^18)·2^8 + 0x80 + 0x40. */
static void test_windows_listen_port_range(void **state)
{
    wfp_condition c[3];

    (void)state;
    c[0] = cond_blob("FWPM_CONDITION_ALE_APP_ID", FWP_BYTE_BLOB_TYPE);
    c[1] = cond_blob("FWPM_CONDITION_ALE_USER_ID", FWP_SECURITY_DESCRIPTOR_TYPE);
    c[2] = cond_range_u16("FWPM_CONDITION_IP_LOCAL_PORT", 8554, 8558);
    assert_int_equal(wfpi_auto_weight(layer("FWPM_LAYER_ALE_AUTH_LISTEN_V4"), c, 3),
                     UINT64_C(0x36b658c0));
}

/* EVIDENCE: WEIGHT-DUMP-FLAGS — keploy and python_pi_burner wfpstate.xml:
 * "Boot Time Filter" (IPFORWARD_V4, FLAGS NONE_SET 0xC0000) has low bits 0x4;
 * "Query User" (ALE_AUTH_LISTEN_V4, FLAGS NONE_SET 0x1) has 0x20. */
static void test_windows_flags(void **state)
{
    wfp_condition c;

    (void)state;
    c = cond_flags("FWPM_CONDITION_FLAGS", FWP_MATCH_FLAGS_NONE_SET, 0xc0000u);
    assert_int_equal(wfpi_auto_weight(layer("FWPM_LAYER_IPFORWARD_V4"), &c, 1), 4);
    c = cond_flags("FWPM_CONDITION_FLAGS", FWP_MATCH_FLAGS_NONE_SET, 0x1u);
    assert_int_equal(wfpi_auto_weight(layer("FWPM_LAYER_ALE_AUTH_LISTEN_V4"), &c, 1), 0x20);
}

/* EVIDENCE: WEIGHT-DUMP-NOFIELDS — keploy and python_pi_burner wfpstate.xml:
 * "NDU Inbound Transport SubLayer Filter" (INBOUND_TRANSPORT_FAST, a layer
 * without fields, no conditions, FWP_EMPTY) has effectiveWeight 2^59 − 1. */
static void test_windows_layer_without_fields(void **state)
{
    (void)state;
    assert_int_equal(wfpi_auto_weight(layer("FWPM_LAYER_INBOUND_TRANSPORT_FAST"), NULL, 0),
                     (UINT64_C(1) << 59) - 1);
}

/* EVIDENCE: WEIGHT-SUPERSET — W32 reserving-ports.md, the sample itself
 * (spec C31b): port range 5000–5010 vs the same range AND ALE_USER_ID. */
static void test_reserving_ports_sample(void **state)
{
    const wfp_layer_info *l = layer("FWPM_LAYER_ALE_RESOURCE_ASSIGNMENT_V4");
    wfp_condition c[2];
    uint64_t block, permit;

    (void)state;
    c[0] = cond_range_u16("FWPM_CONDITION_IP_LOCAL_PORT", 5000, 5010);
    c[1] = cond_blob("FWPM_CONDITION_ALE_USER_ID", FWP_SECURITY_DESCRIPTOR_TYPE);
    block = wfpi_auto_weight(l, c, 1);
    permit = wfpi_auto_weight(l, c, 2);
    assert_true(block > 0);
    assert_true(permit > block);
    assert_true(permit <= M60);
}

/* Deterministic and order-independent: the same conditions in another order
 * give the same weight. */
static void test_order_independent(void **state)
{
    const wfp_layer_info *l = layer("FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4");
    wfp_condition a[4], b[4];

    (void)state;
    a[0] = cond_range_u32("FWPM_CONDITION_IP_REMOTE_ADDRESS", 0xc0a80100u, 0xc0a801ffu);
    a[1] = cond_eq_u8("FWPM_CONDITION_IP_PROTOCOL", 6);
    a[2] = cond_range_u32("FWPM_CONDITION_IP_REMOTE_ADDRESS", 0xe0000000u, 0xefffffffu);
    a[3] = cond_blob("FWPM_CONDITION_ALE_APP_ID", FWP_BYTE_BLOB_TYPE);
    b[0] = a[3];
    b[1] = a[2];
    b[2] = a[1];
    b[3] = a[0];
    assert_int_equal(wfpi_auto_weight(l, a, 4), wfpi_auto_weight(l, b, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_superset_is_heavier),
        cmocka_unit_test(test_full_domain_range_contributes_zero),
        cmocka_unit_test(test_narrower_range_not_lighter),
        cmocka_unit_test(test_auto_weight_below_2_60),
        cmocka_unit_test(test_windows_dhcp_allow_all),
        cmocka_unit_test(test_windows_listen_port_range),
        cmocka_unit_test(test_windows_flags),
        cmocka_unit_test(test_windows_layer_without_fields),
        cmocka_unit_test(test_reserving_ports_sample),
        cmocka_unit_test(test_order_independent),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
