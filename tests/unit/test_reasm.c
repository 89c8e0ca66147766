/* test_reasm.c — IPv4/IPv6 fragment reassembly (pcap/reasm.c): in order,
 * out of order, duplicates, overlaps under both policies, timeouts on
 * virtual time, the size/fragment/table limits, allocation failure, and —
 * when ../shared/data is present — the fragment captures 10-13.
 *
 * Fragments are cut from whole packets made by wfp_packet_build, so a
 * completed datagram must equal the original packet byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packet_fixture.h"
#include "wfp_capture.h"
#include "wfp_reasm.h"

#define SEC 1000000000ull

typedef struct fixture {
    wfp_reasm *r;
    uint8_t whole[FX_MAX];
    uint32_t whole_len;
    uint8_t frag[FX_MAX];
    uint8_t out[WFP_REASM_OUT_MAX];
    wfp_packet result;
    int drops;
    wfp_reasm_dropped last_drop;
    uint8_t last_drop_header[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    if (f == NULL)
        return -1;
    f->r = wfp_reasm_create(NULL, NULL);
    if (f->r == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    wfp_reasm_destroy(f->r);
    free(f);
    return 0;
}

static void on_drop(void *ctx, const wfp_reasm_dropped *d)
{
    fixture *f = ctx;

    f->drops++;
    f->last_drop = *d;
    if (d->header_len <= sizeof f->last_drop_header && d->header != NULL)
        memcpy(f->last_drop_header, d->header, d->header_len);
    f->last_drop.header = NULL;
    f->last_drop.data = NULL;
}

/* Replaces the fixture's reassembler with one using these limits. */
static void relimit(fixture *f, const wfp_reasm_limits *l)
{
    wfp_reasm_destroy(f->r);
    f->r = wfp_reasm_create(NULL, l);
    assert_non_null(f->r);
    wfp_reasm_set_drop_callback(f->r, on_drop, f);
}

/* The whole packet: UDP (v4) or TCP (v6) with `len` payload bytes. */
static void make_whole(fixture *f, int ipv, uint32_t len, uint16_t id)
{
    static uint8_t data[65536];
    wfp_packet_spec s;

    for (uint32_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    fx_spec(&s, ipv, ipv == 4 ? WFP_IPPROTO_UDP : WFP_IPPROTO_TCP);
    s.sport = 1234;
    s.dport = 53;
    s.ip_id = id;
    s.payload = data;
    s.payload_len = len;
    f->whole_len = (uint32_t)wfp_packet_build(&s, f->whole, sizeof f->whole);
    assert_true(f->whole_len > 0);
}

/* Adds the fragment covering [off, off+len) of the whole packet's
 * payload (after its 20/40-byte IP header) at time t. */
static int add(fixture *f, int ipv, uint32_t off, uint32_t len, bool more, uint64_t t)
{
    wfp_packet p;
    size_t n = ipv == 4 ? fx_frag4(f->whole, f->whole_len, off, len, more, f->frag)
                        : fx_frag6(f->whole, f->whole_len, off, len, more, 0xabcd0001u, f->frag);

    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, f->frag, (uint32_t)n, (uint32_t)n, t, &p), WFP_PARSE_OK);
    assert_true(p.is_fragment);
    p.number = t + 1;
    return wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result);
}

static void assert_result_is_whole(fixture *f)
{
    assert_int_equal(f->result.wire_len, f->whole_len);
    assert_int_equal(f->result.cap_len, f->whole_len);
    assert_memory_equal(f->out, f->whole, f->whole_len);
    assert_true(f->result.reassembled);
    assert_false(f->result.is_fragment);
    assert_int_equal(f->result.status, WFP_PARSE_OK);
    assert_int_equal(f->result.linktype, WFP_LINKTYPE_RAW);
    assert_ptr_equal(f->result.data, f->out);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(wfp_reasm_result_name(WFP_REASM_COMPLETE), "complete");
    assert_string_equal(wfp_reasm_result_name(WFP_REASM_PENDING), "pending");
    assert_string_equal(wfp_reasm_result_name(WFP_REASM_OVERLAP), "overlap");
    assert_string_equal(wfp_reasm_result_name(WFP_REASM_EVICTED), "evicted");
    assert_string_equal(wfp_reasm_result_name(-99), "unknown");
    for (int r = WFP_REASM_RESULT_MIN; r <= 1; r++)
        assert_string_not_equal(wfp_reasm_result_name(r), "unknown");
}

/* EVIDENCE: FRAG-REASSEMBLE-BEFORE-TRANSPORT — TRANSPORT and above see only
 * complete, reassembled packets; the reassembled one is indicated at
 * INBOUND_IPPACKET with IS_REASSEMBLED (spec §6.7). Only the reassembled
 * datagram has the transport header of the whole; it is flagged. */
static void test_in_order_v4(void **state)
{
    fixture *f = *state;

    make_whole(f, 4, 3000, 0x4242);
    assert_int_equal(add(f, 4, 0, 1480, true, 10), WFP_REASM_PENDING);
    assert_int_equal(wfp_reasm_pending(f->r), 1);
    assert_int_equal(add(f, 4, 1480, 1480, true, 11), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 2960, 3008 - 2960, false, 12), WFP_REASM_COMPLETE);
    assert_result_is_whole(f);
    assert_true(f->result.has_l4);
    assert_int_equal(f->result.sport, 1234);
    assert_int_equal(f->result.dport, 53);
    assert_int_equal(f->result.payload_len, 3000);
    assert_int_equal(f->result.time_ns, 12);
    assert_int_equal(f->result.number, 13);
    assert_true(fx_l4_checksum_ok(&f->result));
    assert_true(fx_sum_ok(0, f->out, 20));
    assert_int_equal(wfp_reasm_pending(f->r), 0);
    assert_int_equal(wfp_reasm_get_stats(f->r)->completed, 1);
    assert_int_equal(wfp_reasm_get_stats(f->r)->fragments, 3);
}

static void test_out_of_order_v4(void **state)
{
    fixture *f = *state;

    make_whole(f, 4, 1000, 7);
    /* last first, then middle, then first */
    assert_int_equal(add(f, 4, 800, 1008 - 800, false, 1), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 400, 400, true, 2), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 0, 400, true, 3), WFP_REASM_COMPLETE);
    assert_result_is_whole(f);
}

static void test_in_and_out_of_order_v6(void **state)
{
    fixture *f = *state;

    make_whole(f, 6, 1000, 0);
    assert_int_equal(add(f, 6, 0, 464, true, 1), WFP_REASM_PENDING);
    assert_int_equal(add(f, 6, 464, 464, true, 2), WFP_REASM_PENDING);
    assert_int_equal(add(f, 6, 928, 1020 - 928, false, 3), WFP_REASM_COMPLETE);
    assert_result_is_whole(f); /* Fragment header removed, payload length rewritten */
    assert_int_equal(f->result.protocol, WFP_IPPROTO_TCP);
    assert_int_equal(f->result.dport, 53);
    assert_false(f->result.ip6_has_frag);
    assert_true(fx_l4_checksum_ok(&f->result));

    assert_int_equal(add(f, 6, 928, 1020 - 928, false, 4), WFP_REASM_PENDING);
    assert_int_equal(add(f, 6, 0, 464, true, 5), WFP_REASM_PENDING);
    assert_int_equal(add(f, 6, 464, 464, true, 6), WFP_REASM_COMPLETE);
    assert_result_is_whole(f);
}

/* IPv6: extension headers before the Fragment header (the unfragmentable
 * part) are kept and the Next Header that named Fragment is patched. */
static void test_v6_unfragmentable_part(void **state)
{
    fixture *f = *state;
    uint8_t frag[2][600];
    uint32_t len[2];
    wfp_packet p;

    make_whole(f, 6, 200, 0);
    for (int k = 0; k < 2; k++) {
        uint32_t off = k == 0 ? 0 : 104, dl = k == 0 ? 104 : 220 - 104;
        uint8_t *q = frag[k];

        memcpy(q, f->whole, 40);
        q[6] = WFP_IPPROTO_HOPOPTS;
        memset(q + 40, 0, 8);
        q[40] = WFP_IPPROTO_FRAGMENT;
        q[48] = WFP_IPPROTO_TCP;
        q[49] = 0;
        fx_wr16(q + 50, (uint16_t)(off | (k == 0 ? 1 : 0)));
        q[52] = 0; q[53] = 0; q[54] = 0; q[55] = 9;
        memcpy(q + 56, f->whole + 40 + off, dl);
        len[k] = 56 + dl;
        fx_wr16(q + 4, (uint16_t)(len[k] - 40));
    }
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, frag[1], len[1], len[1], 0, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip6_frag_nh_offset, 40);
    assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_PENDING);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, frag[0], len[0], len[0], 0, &p), WFP_PARSE_OK);
    assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_COMPLETE);
    assert_int_equal(f->result.wire_len, f->whole_len + 8);
    assert_int_equal(f->result.ext_count, 1);
    assert_int_equal(f->result.ip_protocol, WFP_IPPROTO_HOPOPTS);
    assert_int_equal(f->result.protocol, WFP_IPPROTO_TCP);
    assert_false(f->result.ip6_has_frag);
    assert_int_equal(f->out[40], WFP_IPPROTO_TCP);
    assert_memory_equal(f->out + 48, f->whole + 40, f->whole_len - 40);
    assert_true(fx_l4_checksum_ok(&f->result));
}

/* Exact duplicates are dropped alone; the datagram still completes. */
static void test_duplicate(void **state)
{
    fixture *f = *state;

    make_whole(f, 4, 800, 1);
    assert_int_equal(add(f, 4, 0, 400, true, 1), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 0, 400, true, 2), WFP_REASM_DUPLICATE);
    assert_int_equal(add(f, 4, 400, 408, false, 3), WFP_REASM_COMPLETE);
    assert_result_is_whole(f);
    assert_int_equal(wfp_reasm_get_stats(f->r)->by_result[-WFP_REASM_DUPLICATE], 1);

    make_whole(f, 6, 800, 0);
    assert_int_equal(add(f, 6, 400, 420, false, 4), WFP_REASM_PENDING);
    assert_int_equal(add(f, 6, 400, 420, false, 5), WFP_REASM_DUPLICATE);
    assert_int_equal(add(f, 6, 0, 400, true, 6), WFP_REASM_COMPLETE);
    assert_result_is_whole(f);
}

/* Default policy: an overlap discards the whole datagram (RFC 5722 for
 * IPv6; sim-defined for IPv4, see wfp_reasm.h). Same range with other
 * bytes counts as an overlap. */
static void test_overlap_drop(void **state)
{
    fixture *f = *state;

    make_whole(f, 4, 800, 2);
    assert_int_equal(add(f, 4, 0, 400, true, 1), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 200, 400, true, 2), WFP_REASM_OVERLAP);
    assert_int_equal(wfp_reasm_pending(f->r), 0);
    /* the rest starts a new datagram that cannot complete without offset 0 */
    assert_int_equal(add(f, 4, 400, 408, false, 3), WFP_REASM_PENDING);
    assert_int_equal(wfp_reasm_pending(f->r), 1);

    make_whole(f, 6, 800, 0);
    assert_int_equal(add(f, 6, 0, 400, true, 4), WFP_REASM_PENDING);
    f->whole[40 + 10] ^= 0xff; /* same range, other bytes */
    assert_int_equal(add(f, 6, 0, 400, true, 5), WFP_REASM_OVERLAP);
    assert_int_equal(wfp_reasm_get_stats(f->r)->overlaps, 2);
    assert_int_equal(wfp_reasm_get_stats(f->r)->by_result[-WFP_REASM_OVERLAP], 2);
}

/* WFP_REASM_OVERLAP_FIRST: the bytes that arrived first win. */
static void test_overlap_first(void **state)
{
    fixture *f = *state;
    wfp_reasm_limits l;
    uint8_t expect[FX_MAX];

    memset(&l, 0, sizeof l);
    l.overlap_v4 = WFP_REASM_OVERLAP_FIRST;
    l.overlap_v6 = WFP_REASM_OVERLAP_FIRST;
    relimit(f, &l);
    make_whole(f, 4, 800, 3);
    memcpy(expect, f->whole, f->whole_len);
    assert_int_equal(add(f, 4, 0, 400, true, 1), WFP_REASM_PENDING);
    /* a later fragment rewriting bytes 200..600: only 400..600 are taken */
    memset(f->whole + 20 + 200, 0xee, 400);
    memset(expect + 20 + 400, 0xee, 200);
    assert_int_equal(add(f, 4, 200, 400, true, 2), WFP_REASM_PENDING);
    /* fully covered, different bytes: accepted, nothing new */
    assert_int_equal(add(f, 4, 0, 200, true, 3), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 600, 208, false, 4), WFP_REASM_COMPLETE);
    assert_int_equal(f->result.wire_len, f->whole_len);
    assert_memory_equal(f->out + 20, expect + 20, f->whole_len - 20);
    assert_int_equal(wfp_reasm_get_stats(f->r)->overlaps, 2);

    make_whole(f, 6, 800, 0);
    memcpy(expect, f->whole, f->whole_len);
    assert_int_equal(add(f, 6, 400, 400, true, 5), WFP_REASM_PENDING);
    memset(f->whole + 40 + 400, 0x11, 8);
    assert_int_equal(add(f, 6, 0, 408, true, 6), WFP_REASM_PENDING);
    assert_int_equal(add(f, 6, 800, 20, false, 7), WFP_REASM_COMPLETE);
    assert_memory_equal(f->out, expect, f->whole_len);
}

/* Virtual-time expiry: 60 s from the first fragment by default. */
static void test_timeout(void **state)
{
    fixture *f = *state;
    wfp_reasm_limits l;

    wfp_reasm_set_drop_callback(f->r, on_drop, f);
    make_whole(f, 4, 800, 9);
    assert_int_equal(add(f, 4, 0, 400, true, 5 * SEC), WFP_REASM_PENDING);
    assert_int_equal(wfp_reasm_expire(f->r, 64 * SEC), 0);
    assert_int_equal(wfp_reasm_expire(f->r, 1 * SEC), 0); /* earlier than its start */
    /* the last fragment comes exactly 60 s later: too late */
    assert_int_equal(add(f, 4, 400, 408, false, 65 * SEC), WFP_REASM_PENDING);
    assert_int_equal(f->drops, 1);
    assert_int_equal(f->last_drop.reason, WFP_REASM_TIMEOUT);
    assert_int_equal(f->last_drop.id, 9);
    assert_int_equal(f->last_drop.ip_version, 4);
    assert_int_equal(f->last_drop.protocol, WFP_IPPROTO_UDP);
    assert_int_equal(f->last_drop.first_time_ns, 5 * SEC);
    assert_int_equal(f->last_drop.header_len, 20); /* the offset-0 fragment's header */
    assert_int_equal(f->last_drop.data_len, 400);
    assert_int_equal(f->last_drop_header[9], WFP_IPPROTO_UDP);
    assert_int_equal(wfp_reasm_pending(f->r), 1);
    assert_int_equal(wfp_reasm_expire(f->r, 125 * SEC), 1);
    assert_int_equal(f->drops, 2);
    assert_int_equal(f->last_drop.header_len, 0); /* offset 0 never came */
    assert_int_equal(wfp_reasm_pending(f->r), 0);
    assert_int_equal(wfp_reasm_get_stats(f->r)->by_result[-WFP_REASM_TIMEOUT], 2);

    /* a configured timeout */
    memset(&l, 0, sizeof l);
    l.timeout_ns = 2 * SEC;
    relimit(f, &l);
    make_whole(f, 6, 800, 0);
    assert_int_equal(add(f, 6, 0, 400, true, 0), WFP_REASM_PENDING);
    assert_int_equal(add(f, 6, 400, 420, false, 2 * SEC - 1), WFP_REASM_COMPLETE);
    assert_int_equal(add(f, 6, 0, 400, true, 3 * SEC), WFP_REASM_PENDING);
    assert_int_equal(wfp_reasm_expire(f->r, 5 * SEC), 1);
    assert_int_equal(f->last_drop.ip_version, 6);
    assert_int_equal(f->last_drop.id, 0xabcd0001u);
    assert_int_equal(f->last_drop.protocol, WFP_IPPROTO_TCP);
    assert_int_equal(f->last_drop.header_len, 40);
}

static void test_too_big(void **state)
{
    fixture *f = *state;
    wfp_reasm_limits l;

    make_whole(f, 4, 200, 1);
    /* payload bytes up to 65528 + 16 > 65535 - 20 */
    {
        uint8_t frag[64];
        wfp_packet p;

        memcpy(frag, f->whole, 20);
        fx_wr16(frag + 2, 36);
        fx_wr16(frag + 6, 65512 / 8); /* offset 65512, 16 bytes -> 65528 + 20 > 65535 */
        memset(frag + 20, 0, 16);
        assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, frag, 36, 36, 0, &p), WFP_PARSE_OK);
        assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_TOO_BIG);
        fx_wr16(frag + 6, 65496 / 8); /* 65512 + 20 = 65532: fits */
        assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, frag, 36, 36, 0, &p), WFP_PARSE_OK);
        assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_PENDING);
    }
    /* a configured, smaller limit discards the datagram under way */
    memset(&l, 0, sizeof l);
    l.max_datagram = 1000;
    relimit(f, &l);
    make_whole(f, 4, 2000, 2);
    assert_int_equal(add(f, 4, 0, 800, true, 1), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 800, 800, true, 2), WFP_REASM_TOO_BIG);
    assert_int_equal(wfp_reasm_pending(f->r), 0);
    /* IPv6: payload length limit */
    make_whole(f, 6, 2000, 0);
    assert_int_equal(add(f, 6, 0, 976, true, 3), WFP_REASM_PENDING);
    assert_int_equal(add(f, 6, 976, 32, false, 3), WFP_REASM_TOO_BIG);
}

static void test_too_many_fragments(void **state)
{
    fixture *f = *state;
    wfp_reasm_limits l;

    memset(&l, 0, sizeof l);
    l.max_fragments = 4;
    relimit(f, &l);
    make_whole(f, 4, 80, 5);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(add(f, 4, i * 16, 16, true, i), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 64, 24, false, 4), WFP_REASM_TOO_MANY_FRAGMENTS);
    assert_int_equal(wfp_reasm_pending(f->r), 0);
    /* duplicates do not count toward the limit */
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(add(f, 4, i * 16, 16, true, 10 + i), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 0, 16, true, 20), WFP_REASM_DUPLICATE);
    assert_int_equal(add(f, 4, 48, 88 - 48, false, 21), WFP_REASM_COMPLETE);
    assert_result_is_whole(f);
}

/* Table full: drop the new datagram's fragment (default, KB 252366) or
 * evict the oldest-created datagram. */
static void test_table_full(void **state)
{
    fixture *f = *state;
    wfp_reasm_limits l;

    memset(&l, 0, sizeof l);
    l.max_reassemblies = 2;
    relimit(f, &l);
    for (uint16_t id = 1; id <= 2; id++) {
        make_whole(f, 4, 800, id);
        assert_int_equal(add(f, 4, 0, 400, true, id), WFP_REASM_PENDING);
    }
    make_whole(f, 4, 800, 3);
    assert_int_equal(add(f, 4, 0, 400, true, 3), WFP_REASM_TABLE_FULL);
    assert_int_equal(wfp_reasm_pending(f->r), 2);
    /* fragments of datagrams under way still go in */
    make_whole(f, 4, 800, 1);
    assert_int_equal(add(f, 4, 400, 408, false, 4), WFP_REASM_COMPLETE);
    assert_int_equal(f->result.ip4_id, 1);

    l.full = WFP_REASM_FULL_EVICT_OLDEST;
    relimit(f, &l);
    for (uint16_t id = 1; id <= 3; id++) {
        make_whole(f, 4, 800, id);
        assert_int_equal(add(f, 4, 0, 400, true, 10 - id), WFP_REASM_PENDING);
    }
    /* the oldest-created (id 1) went, even though its time is the latest */
    assert_int_equal(f->drops, 1);
    assert_int_equal(f->last_drop.reason, WFP_REASM_EVICTED);
    assert_int_equal(f->last_drop.id, 1);
    assert_int_equal(wfp_reasm_pending(f->r), 2);
    make_whole(f, 4, 800, 1);
    assert_int_equal(add(f, 4, 400, 408, false, 11), WFP_REASM_PENDING); /* new datagram, evicts id 2 */
    assert_int_equal(f->last_drop.id, 2);
    assert_int_equal(wfp_reasm_get_stats(f->r)->by_result[-WFP_REASM_EVICTED], 2);
}

static void test_inconsistent_and_malformed(void **state)
{
    fixture *f = *state;
    wfp_packet p;

    make_whole(f, 4, 800, 4);
    assert_int_equal(add(f, 4, 400, 408, false, 1), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 400, 400, false, 2), WFP_REASM_INCONSISTENT); /* another end */
    assert_int_equal(add(f, 4, 0, 400, true, 3), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 400, 408, true, 4), WFP_REASM_PENDING);
    assert_int_equal(add(f, 4, 200, 200, false, 5), WFP_REASM_INCONSISTENT); /* end before data */
    assert_int_equal(wfp_reasm_pending(f->r), 0);

    /* MF set and a length not a multiple of 8 */
    make_whole(f, 4, 800, 5);
    assert_int_equal(add(f, 4, 0, 401, true, 7), WFP_REASM_MALFORMED);
    make_whole(f, 6, 800, 0);
    assert_int_equal(add(f, 6, 0, 404, true, 8), WFP_REASM_MALFORMED);

    /* not fragments: a whole packet, an atomic fragment */
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, f->whole, f->whole_len, f->whole_len, 0, &p), WFP_PARSE_OK);
    assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_NOT_FRAGMENT);
    {
        size_t n = fx_frag6(f->whole, f->whole_len, 0, 820, false, 1, f->frag);

        assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, f->frag, (uint32_t)n, (uint32_t)n, 0, &p), WFP_PARSE_OK);
        assert_true(p.ip6_frag_atomic);
        assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_NOT_FRAGMENT);
    }
    /* a fragment cut by the snaplen cannot be used */
    make_whole(f, 4, 800, 6);
    {
        size_t n = fx_frag4(f->whole, f->whole_len, 0, 400, true, f->frag);

        assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, f->frag, 100, (uint32_t)n, 0, &p), WFP_PARSE_OK);
        assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_TRUNCATED);
        /* an unparsable IP header */
        assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, f->frag, 10, (uint32_t)n, 0, &p),
                         WFP_PARSE_TRUNCATED_L3);
        p.is_fragment = true;
        p.ip_version = 4;
        assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_MALFORMED);
    }
    assert_int_equal(wfp_reasm_add(f->r, NULL, f->out, sizeof f->out, &f->result), WFP_REASM_MALFORMED);
}

/* IPv4 keys include the protocol; IPv6 keys do not. */
static void test_keys(void **state)
{
    fixture *f = *state;
    wfp_packet p;
    size_t n;

    make_whole(f, 4, 800, 77);
    assert_int_equal(add(f, 4, 0, 400, true, 1), WFP_REASM_PENDING);
    n = fx_frag4(f->whole, f->whole_len, 400, 408, false, f->frag);
    f->frag[9] = WFP_IPPROTO_TCP;
    f->frag[10] = f->frag[11] = 0;
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, f->frag, (uint32_t)n, (uint32_t)n, 2, &p), WFP_PARSE_OK);
    assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_PENDING);
    assert_int_equal(wfp_reasm_pending(f->r), 2);
    /* other source address */
    n = fx_frag4(f->whole, f->whole_len, 400, 408, false, f->frag);
    f->frag[15] = 99;
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, f->frag, (uint32_t)n, (uint32_t)n, 3, &p), WFP_PARSE_OK);
    assert_int_equal(wfp_reasm_add(f->r, &p, f->out, sizeof f->out, &f->result), WFP_REASM_PENDING);
    assert_int_equal(wfp_reasm_pending(f->r), 3);
    assert_int_equal(add(f, 4, 400, 408, false, 4), WFP_REASM_COMPLETE);
    assert_int_equal(wfp_reasm_pending(f->r), 2);
}

static void test_buffer_too_small(void **state)
{
    fixture *f = *state;
    wfp_packet p;
    uint8_t last[512];
    size_t n;

    make_whole(f, 4, 800, 8);
    assert_int_equal(add(f, 4, 0, 400, true, 1), WFP_REASM_PENDING);
    n = fx_frag4(f->whole, f->whole_len, 400, 408, false, last);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, last, (uint32_t)n, (uint32_t)n, 2, &p), WFP_PARSE_OK);
    assert_int_equal(wfp_reasm_add(f->r, &p, f->out, 100, &f->result), WFP_REASM_BUFFER_TOO_SMALL);
    assert_int_equal(wfp_reasm_pending(f->r), 0);
    assert_int_equal(add(f, 4, 0, 400, true, 3), WFP_REASM_PENDING);
    assert_int_equal(wfp_reasm_add(f->r, &p, NULL, 0, NULL), WFP_REASM_BUFFER_TOO_SMALL);
}

/* ---- allocation failure ------------------------------------------------- */

typedef struct failing {
    int countdown; /* fail when it reaches 0; < 0: never */
} failing;

static void *fail_alloc(void *ctx, size_t n)
{
    failing *fl = ctx;

    if (fl->countdown >= 0 && fl->countdown-- == 0)
        return NULL;
    return malloc(n);
}

static void *fail_realloc(void *ctx, void *p, size_t n)
{
    failing *fl = ctx;

    if (fl->countdown >= 0 && fl->countdown-- == 0)
        return NULL;
    return realloc(p, n);
}

static void fail_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* Every allocation failing in turn: no crash, no leak (ASan), a clean
 * NO_MEMORY, and the reassembler still works afterwards. */
static void test_allocation_failure(void **state)
{
    fixture *f = *state;
    failing fl;
    wfp_allocator a = {fail_alloc, fail_realloc, fail_free, &fl};
    int k, saw_nomem = 0;

    make_whole(f, 6, 3000, 0);
    for (k = 0; k < 40; k++) {
        wfp_reasm *r;
        int rc = 0;
        uint32_t off;

        fl.countdown = k;
        r = wfp_reasm_create(&a, NULL);
        if (r == NULL)
            continue;
        wfp_reasm_destroy(f->r);
        f->r = r;
        for (off = 0; off < 3000 && rc >= 0; off += 1000) {
            rc = add(f, 6, off, 1000, true, off);
            saw_nomem |= rc == WFP_REASM_NO_MEMORY;
        }
        if (rc >= 0)
            rc = add(f, 6, 3000, 20, false, 5000);
        if (rc == WFP_REASM_NO_MEMORY) {
            saw_nomem = 1;
            fl.countdown = -1;
            /* recovers */
            for (off = 0; off < 3000; off += 1000)
                assert_int_equal(add(f, 6, off, 1000, true, 6000 + off), WFP_REASM_PENDING);
            assert_int_equal(add(f, 6, 3000, 20, false, 9000), WFP_REASM_COMPLETE);
        } else if (rc == WFP_REASM_COMPLETE) {
            assert_result_is_whole(f);
        }
    }
    assert_true(saw_nomem);
}

/* ---- shared captures ---------------------------------------------------- */

/* Runs every fragment of a shared capture through a reassembler; returns
 * the number of datagrams completed, or -1 if the file is absent. */
static int reassemble_file(const char *name, const wfp_reasm_limits *l, int *first_proto, uint16_t *first_dport)
{
    char path[1024], err[1024];
    static uint8_t out[WFP_REASM_OUT_MAX];
    wfp_capture *c;
    wfp_reasm *r;
    wfp_packet p, w;
    int done = 0, rc;

    if (fx_shared_pcap(path, sizeof path, name) == NULL)
        return -1;
    c = wfp_capture_open(path, err, sizeof err);
    assert_non_null(c);
    r = wfp_reasm_create(NULL, l);
    assert_non_null(r);
    while ((rc = wfp_capture_next(c, &p)) == 1) {
        if (!p.is_fragment)
            continue;
        if (wfp_reasm_add(r, &p, out, sizeof out, &w) == WFP_REASM_COMPLETE) {
            assert_int_equal(w.status, WFP_PARSE_OK);
            assert_true(w.has_l4);
            if (done++ == 0) {
                *first_proto = w.protocol;
                *first_dport = w.dport;
            }
        }
    }
    assert_int_equal(rc, 0);
    wfp_reasm_destroy(r);
    wfp_capture_close(c);
    return done;
}

/* EVIDENCE: FRAG-REASSEMBLE-BEFORE-TRANSPORT — real fragment captures:
 * 10 (an ICMP echo in 2 IPv4 fragments), 11 (82 DNS datagrams in 495 raw
 * IPv4 fragments), 12 (one IPv6 TCP segment in 3 fragments) reassemble to
 * whole datagrams; 13 holds an overlapping fragment with other bytes at
 * offset 408 (THC-IPv6), which RFC 5722 discards and the "first" policy
 * reassembles. */
static void test_shared_fragments(void **state)
{
    wfp_reasm_limits first;
    int proto = 0, any = 0, n;
    uint16_t dport = 0;

    (void)state;
    if ((n = reassemble_file("10_ipv4_fragments_icmp_echo.pcap", NULL, &proto, &dport)) >= 0) {
        any = 1;
        assert_int_equal(n, 1);
        assert_int_equal(proto, WFP_IPPROTO_ICMP);
    }
    if ((n = reassemble_file("11_rawip4_fragments_udp_dns.pcap", NULL, &proto, &dport)) >= 0) {
        any = 1;
        assert_int_equal(n, 82);
        assert_int_equal(proto, WFP_IPPROTO_UDP);
    }
    if ((n = reassemble_file("12_rawip6_fragments_tcp.pcap", NULL, &proto, &dport)) >= 0) {
        any = 1;
        assert_int_equal(n, 1);
        assert_int_equal(proto, WFP_IPPROTO_TCP);
        assert_int_equal(dport, 8080);
    }
    if ((n = reassemble_file("13_ipv6_fragments_icmpv6_thc.pcap", NULL, &proto, &dport)) >= 0) {
        any = 1;
        assert_int_equal(n, 0);
        memset(&first, 0, sizeof first);
        first.overlap_v6 = WFP_REASM_OVERLAP_FIRST;
        assert_int_equal(reassemble_file("13_ipv6_fragments_icmpv6_thc.pcap", &first, &proto, &dport), 1);
        assert_int_equal(proto, WFP_IPPROTO_ICMPV6);
    }
    if (!any)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_in_order_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_v4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_and_out_of_order_v6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v6_unfragmentable_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_fragments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inconsistent_and_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failure, setup, teardown),
        cmocka_unit_test(test_shared_fragments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
