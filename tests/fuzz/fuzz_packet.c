/* fuzz_packet.c — fuzz target for the packet parser, the builder and the
 * reassembler (pcap/packet.c, pcap/reasm.c).
 *
 * Input: byte 0 selects options (bits 0-1: how much longer the wire was
 * than the capture; bit 2/3: "first wins" overlap policy for IPv4/IPv6;
 * bit 4: evict-oldest when the table is full). The rest is used three
 * ways: (1) parsed as a frame of every supported link type (and one
 * unsupported), checking the descriptor's invariants; (2) read as a
 * wfp_packet_spec plus payload, built, parsed back and compared; (3) cut
 * into records (2-byte big-endian length + bytes) of raw IP packets whose
 * fragments go through a small reassembler on a moving virtual clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wfp_packet.h"
#include "wfp_reasm.h"

static const uint32_t linktypes[] = {
    WFP_LINKTYPE_NULL,      WFP_LINKTYPE_EN10MB, WFP_LINKTYPE_DLT_RAW, WFP_LINKTYPE_RAW,
    WFP_LINKTYPE_LOOP,      WFP_LINKTYPE_LINUX_SLL, WFP_LINKTYPE_IPV4, WFP_LINKTYPE_IPV6,
    WFP_LINKTYPE_LINUX_SLL2, 105 /* unsupported */
};

static void check_packet(const wfp_packet *p, const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
    FUZZ_CHECK((unsigned)p->status < (unsigned)WFP_PARSE_STATUS_COUNT);
    FUZZ_CHECK(p->cap_len == caplen);
    FUZZ_CHECK(p->wire_len == (wirelen < caplen ? caplen : wirelen));
    FUZZ_CHECK(p->data == data || caplen == 0);
    FUZZ_CHECK(p->ip_version == 0 || p->ip_version == 4 || p->ip_version == 6);
    if (p->ip_version != 0)
        FUZZ_CHECK(p->l3_offset < caplen);
    if (p->status == WFP_PARSE_OK && p->ip_version != 0) {
        FUZZ_CHECK(p->l3_offset <= p->l4_offset);
        FUZZ_CHECK(p->l4_offset <= p->payload_offset);
        FUZZ_CHECK(p->payload_offset <= caplen);
        FUZZ_CHECK(p->payload_caplen <= p->payload_len);
        FUZZ_CHECK((uint64_t)p->payload_offset + p->payload_caplen <= caplen);
        FUZZ_CHECK((uint64_t)p->l3_offset + p->ip_total_len <= p->wire_len);
        FUZZ_CHECK(p->l4_offset - p->l3_offset == p->ip_header_len);
    }
    if (p->has_l4) {
        FUZZ_CHECK(p->l4_header_len >= 8);
        FUZZ_CHECK((uint64_t)p->l4_offset + 8 <= caplen);
    }
    if (p->inner.present) {
        FUZZ_CHECK(p->icmp.is_error);
        FUZZ_CHECK(p->inner.offset < caplen);
    }
    FUZZ_CHECK(!(p->is_fragment && p->ip6_frag_atomic));
    FUZZ_CHECK(wfp_parse_status_name(p->status) != NULL);
}

static void parse_all(const uint8_t *d, uint32_t n, uint32_t wire)
{
    wfp_packet p;

    for (size_t i = 0; i < sizeof linktypes / sizeof linktypes[0]; i++) {
        int st = wfp_packet_parse(linktypes[i], d, n, wire, 1, &p);

        FUZZ_CHECK(st == (int)p.status);
        check_packet(&p, d, n, wire);
        if (!wfp_packet_linktype_supported(linktypes[i]))
            FUZZ_CHECK(p.status == WFP_PARSE_UNSUPPORTED_LINKTYPE);
    }
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Builds a packet from the first 44 bytes and parses it back. */
static void build_round_trip(const uint8_t *d, size_t n)
{
    static const uint8_t protos4[] = {WFP_IPPROTO_TCP, WFP_IPPROTO_UDP, WFP_IPPROTO_ICMP, WFP_IPPROTO_GRE};
    static const uint8_t protos6[] = {WFP_IPPROTO_TCP, WFP_IPPROTO_UDP, WFP_IPPROTO_ICMPV6, WFP_IPPROTO_GRE};
    uint8_t buf[2048];
    wfp_packet_spec s;
    wfp_packet p;
    size_t len, plen;

    if (n < 44)
        return;
    wfp_packet_spec_init(&s);
    s.ip_version = (d[0] & 1) ? 6 : 4;
    s.protocol = s.ip_version == 4 ? protos4[d[1] % 4] : protos6[d[1] % 4];
    memcpy(s.src, d + 2, 16);
    memcpy(s.dst, d + 18, 16);
    if (s.ip_version == 4) {
        memset(s.src + 4, 0, 12);
        memset(s.dst + 4, 0, 12);
    }
    s.ttl = d[34];
    s.ip_id = rd16(d + 35);
    s.df = (d[0] & 2) != 0;
    s.flow_label = rd32(d + 36) & 0xfffffu;
    s.sport = rd16(d + 37);
    s.dport = rd16(d + 39);
    s.tcp_flags = d[41];
    s.seq = rd32(d + 36);
    s.ack = rd32(d + 40);
    s.window = rd16(d + 42);
    s.icmp_type = d[41];
    s.icmp_code = d[42];
    s.icmp_id = rd16(d + 38);
    s.icmp_seq = rd16(d + 40);
    plen = n - 44 > 1500 ? 1500 : n - 44;
    s.payload = plen ? d + 44 : NULL;
    s.payload_len = plen;
    len = wfp_packet_build(&s, buf, sizeof buf);
    FUZZ_CHECK(len > 0);
    FUZZ_CHECK(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)len, (uint32_t)len, 0, &p) == WFP_PARSE_OK);
    check_packet(&p, buf, (uint32_t)len, (uint32_t)len);
    FUZZ_CHECK(p.ip_version == s.ip_version);
    FUZZ_CHECK(memcmp(p.src, s.src, 16) == 0 && memcmp(p.dst, s.dst, 16) == 0);
    FUZZ_CHECK(p.ttl == s.ttl && p.protocol == s.protocol && p.ip_total_len == len);
    FUZZ_CHECK(!p.is_fragment);
    if (s.ip_version == 4) {
        FUZZ_CHECK(p.ip4_id == s.ip_id && p.ip4_df == s.df);
        FUZZ_CHECK(wfp_checksum_finish(wfp_checksum_add(0, buf, 20)) == 0);
    } else {
        FUZZ_CHECK(p.flow_label == s.flow_label);
    }
    FUZZ_CHECK(p.payload_len == plen && p.payload_caplen == plen);
    FUZZ_CHECK(plen == 0 || memcmp(buf + p.payload_offset, s.payload, plen) == 0);
    switch (s.protocol) {
    case WFP_IPPROTO_TCP:
        FUZZ_CHECK(p.has_l4 && p.sport == s.sport && p.dport == s.dport);
        FUZZ_CHECK(p.tcp.flags == s.tcp_flags && p.tcp.seq == s.seq && p.tcp.ack == s.ack &&
                   p.tcp.window == s.window);
        break;
    case WFP_IPPROTO_UDP:
        FUZZ_CHECK(p.has_l4 && p.sport == s.sport && p.dport == s.dport && p.udp.length == plen + 8);
        break;
    case WFP_IPPROTO_ICMP:
    case WFP_IPPROTO_ICMPV6:
        FUZZ_CHECK(p.has_l4 && p.icmp.type == s.icmp_type && p.icmp.code == s.icmp_code);
        FUZZ_CHECK(p.icmp.id == s.icmp_id && p.icmp.seq == s.icmp_seq);
        /* ICMP: the whole message sums to zero (v6 adds the pseudo-header). */
        if (s.protocol == WFP_IPPROTO_ICMP)
            FUZZ_CHECK(wfp_checksum_finish(wfp_checksum_add(0, buf + 20, len - 20)) == 0);
        break;
    default:
        FUZZ_CHECK(!p.has_l4);
        break;
    }
}

static void reassemble(uint8_t opts, const uint8_t *d, size_t n)
{
    static uint8_t out[WFP_REASM_OUT_MAX];
    wfp_reasm_limits l;
    wfp_reasm *r;
    uint64_t t = 0;
    size_t k = 0;

    memset(&l, 0, sizeof l);
    l.timeout_ns = 5000000000ull;
    l.max_fragments = 16;
    l.max_reassemblies = 4;
    l.overlap_v4 = (opts & 4) ? WFP_REASM_OVERLAP_FIRST : WFP_REASM_OVERLAP_DROP;
    l.overlap_v6 = (opts & 8) ? WFP_REASM_OVERLAP_FIRST : WFP_REASM_OVERLAP_DROP;
    l.full = (opts & 16) ? WFP_REASM_FULL_EVICT_OLDEST : WFP_REASM_FULL_DROP_NEW;
    r = wfp_reasm_create(NULL, &l);
    if (r == NULL)
        return;
    while (n - k >= 2) {
        size_t len = rd16(d + k) % 2048;
        wfp_packet p, w;
        int rc;

        t += (uint64_t)(d[k] & 0x1f) * 250000000ull; /* 0..7.75 s */
        k += 2;
        if (len > n - k)
            len = n - k;
        wfp_packet_parse(WFP_LINKTYPE_RAW, d + k, (uint32_t)len, (uint32_t)len, t, &p);
        rc = wfp_reasm_add(r, &p, out, sizeof out, &w);
        FUZZ_CHECK(rc <= 1 && rc >= WFP_REASM_RESULT_MIN);
        FUZZ_CHECK(strcmp(wfp_reasm_result_name(rc), "unknown") != 0);
        if (rc == WFP_REASM_COMPLETE) {
            FUZZ_CHECK(w.reassembled && w.data == out && w.cap_len == w.wire_len);
            FUZZ_CHECK(w.cap_len <= sizeof out && w.ip_version == p.ip_version);
            FUZZ_CHECK(!w.is_fragment);
            check_packet(&w, out, w.cap_len, w.wire_len);
        }
        FUZZ_CHECK(wfp_reasm_pending(r) <= 4);
        k += len;
    }
    wfp_reasm_expire(r, t + 10000000000ull);
    FUZZ_CHECK(wfp_reasm_pending(r) == 0);
    wfp_reasm_destroy(r);
}

/* A callout's modified copy: the bytes as a raw IP packet, rewritten with
 * addresses and ports from the tail of the input. A rewrite that succeeds
 * must parse as before with the new values; one that fails must leave the
 * bytes alone. */
static void rewrite(uint8_t opts, const uint8_t *d, size_t n)
{
    static uint8_t buf[70000], before[70000];
    wfp_packet_edit e;
    wfp_packet p, q;
    if (n < 36 || n > sizeof buf)
        return;
    memset(&e, 0, sizeof e);
    e.set_src = opts & 0x20;
    e.set_dst = opts & 0x40;
    e.set_sport = e.set_dport = opts & 0x80;
    memcpy(e.src, d + n - 36, 16);
    memcpy(e.dst, d + n - 20, 16);
    e.sport = rd16(d + n - 4);
    e.dport = rd16(d + n - 2);
    memcpy(buf, d, n);
    memcpy(before, d, n);
    int st = wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 0, &p);
    if (p.ip_version == 4) {
        memset(e.src + 4, 0, 12);
        memset(e.dst + 4, 0, 12);
    }
    if (!wfp_packet_rewrite(buf, n, &e)) {
        FUZZ_CHECK(memcmp(buf, before, n) == 0);
        return;
    }
    FUZZ_CHECK(st == WFP_PARSE_OK);
    FUZZ_CHECK(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 0, &q) == WFP_PARSE_OK);
    FUZZ_CHECK(q.protocol == p.protocol && q.l4_offset == p.l4_offset);
    if (e.set_dst)
        FUZZ_CHECK(memcmp(q.dst, e.dst, 16) == 0);
    if (e.set_sport)
        FUZZ_CHECK(q.sport == e.sport && q.dport == e.dport);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *d;
    uint32_t n, wire;

    if (size < 1 || size > 100000)
        return 0;
    d = data + 1;
    n = (uint32_t)(size - 1);
    switch (data[0] & 3) {
    case 0: wire = n; break;
    case 1: wire = n + 1; break;
    case 2: wire = n + 64; break;
    default: wire = 0; break; /* below caplen: raised to caplen */
    }
    parse_all(n ? d : NULL, n, wire);
    build_round_trip(d, n);
    reassemble(data[0], d, n);
    rewrite(data[0], d, n);
    return 0;
}
