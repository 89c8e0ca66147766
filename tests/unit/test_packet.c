/* test_packet.c — the frame parser and the inline-packet builder
 * (pcap/packet.c) on frames built in memory: every link type, IPv4/IPv6
 * with extension headers, TCP/UDP/ICMP/ICMPv6, ICMP errors and the packets
 * they quote, fragments, and truncation at every byte.
 *
 * Frames are copied into buffers of exactly their captured length before
 * parsing, so AddressSanitizer catches any read past the capture. Tests
 * that pin a documented WFP behavior name it with an EVIDENCE id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packet_fixture.h"
#include "wfp_packet.h"

static uint8_t payload_bytes[64] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!";

/* Parses a copy of frame[0..caplen) held in a heap block of exactly that
 * size (so an over-read is an ASan error). */
static int parse_exact(uint32_t lt, const uint8_t *frame, uint32_t caplen, uint32_t wirelen, wfp_packet *p)
{
    uint8_t *copy = malloc(caplen ? caplen : 1);
    int st;

    assert_non_null(copy);
    if (caplen)
        memcpy(copy, frame, caplen);
    st = wfp_packet_parse(lt, caplen ? copy : NULL, caplen, wirelen, 42, p);
    free(copy);
    p->data = NULL; /* freed */
    return st;
}

static size_t build(wfp_packet_spec *s, uint8_t *buf)
{
    size_t n = wfp_packet_build(s, buf, FX_MAX);

    assert_true(n > 0);
    return n;
}

/* ---- names ------------------------------------------------------------ */

static void test_names(void **state)
{
    char f[9];
    uint8_t flags = 0;

    (void)state;
    assert_string_equal(wfp_parse_status_name(WFP_PARSE_OK), "ok");
    assert_string_equal(wfp_parse_status_name(WFP_PARSE_TRUNCATED_L4), "truncated-l4");
    assert_string_equal(wfp_parse_status_name(WFP_PARSE_BAD_L4_LENGTH), "bad-l4-length");
    assert_string_equal(wfp_parse_status_name((wfp_parse_status)99), "unknown");
    for (int s = 0; s < WFP_PARSE_STATUS_COUNT; s++)
        assert_string_not_equal(wfp_parse_status_name((wfp_parse_status)s), "unknown");
    assert_string_equal(wfp_packet_linktype_name(WFP_LINKTYPE_LINUX_SLL2), "LINUX_SLL2");
    assert_string_equal(wfp_packet_linktype_name(WFP_LINKTYPE_DLT_RAW), "RAW");
    assert_null(wfp_packet_linktype_name(105));
    assert_false(wfp_packet_linktype_supported(105));

    assert_true(wfp_tcp_flags_parse("SA", &flags));
    assert_int_equal(flags, WFP_TCP_SYN | WFP_TCP_ACK);
    assert_true(wfp_tcp_flags_parse("fpauec r", &flags) == false);
    assert_true(wfp_tcp_flags_parse("fpauecrs", &flags));
    assert_int_equal(flags, 0xff);
    wfp_tcp_flags_format(flags, f);
    assert_string_equal(f, "FSRPAUEC");
    assert_true(wfp_tcp_flags_parse("", &flags));
    assert_int_equal(flags, 0);
    wfp_tcp_flags_format(WFP_TCP_FIN | WFP_TCP_ACK, f);
    assert_string_equal(f, "FA");
    assert_false(wfp_tcp_flags_parse(NULL, &flags));
}

/* ---- builder + raw ------------------------------------------------------ */

static void test_build_tcp_v4(void **state)
{
    uint8_t buf[FX_MAX];
    wfp_packet_spec s;
    wfp_packet p;
    size_t n;

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    s.sport = 50000;
    s.dport = 443;
    s.tcp_flags = WFP_TCP_SYN;
    s.seq = 0x01020304;
    s.ack = 0xa0b0c0d0;
    s.ip_id = 0x1234;
    s.df = true;
    s.ttl = 64;
    s.payload = payload_bytes;
    s.payload_len = 11; /* odd: checksum padding */
    n = build(&s, buf);
    assert_int_equal(n, 20 + 20 + 11);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 7, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.ttl, 64);
    assert_int_equal(p.ip4_id, 0x1234);
    assert_true(p.ip4_df);
    assert_false(p.ip4_mf);
    assert_false(p.is_fragment);
    assert_memory_equal(p.src, s.src, 16);
    assert_memory_equal(p.dst, s.dst, 16);
    assert_int_equal(p.protocol, WFP_IPPROTO_TCP);
    assert_true(p.has_l4);
    assert_int_equal(p.sport, 50000);
    assert_int_equal(p.dport, 443);
    assert_int_equal(p.tcp.flags, WFP_TCP_SYN);
    assert_int_equal(p.tcp.seq, 0x01020304);
    assert_int_equal(p.tcp.ack, 0xa0b0c0d0);
    assert_int_equal(p.tcp.window, 65535);
    assert_int_equal(p.l3_offset, 0);
    assert_int_equal(p.l4_offset, 20);
    assert_int_equal(p.payload_offset, 40);
    assert_int_equal(p.payload_len, 11);
    assert_int_equal(p.payload_caplen, 11);
    assert_int_equal(p.ip_header_len, 20);
    assert_int_equal(p.l4_header_len, 20);
    assert_int_equal(p.time_ns, 7);
    assert_int_equal(p.number, 0);
    assert_ptr_equal(p.data, buf);
    assert_memory_equal(buf + p.payload_offset, payload_bytes, 11);
    assert_true(fx_sum_ok(0, buf, 20)); /* IPv4 header checksum */
    assert_true(fx_l4_checksum_ok(&p));
}

static void test_build_udp_v6(void **state)
{
    uint8_t buf[FX_MAX];
    wfp_packet_spec s;
    wfp_packet p;
    size_t n;

    (void)state;
    fx_spec(&s, 6, WFP_IPPROTO_UDP);
    s.sport = 53;
    s.dport = 53000;
    s.flow_label = 0xabcde;
    s.ttl = 255;
    s.payload = payload_bytes;
    s.payload_len = 2;
    n = build(&s, buf);
    assert_int_equal(n, 40 + 8 + 2);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 0, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.flow_label, 0xabcde);
    assert_int_equal(p.ttl, 255);
    assert_int_equal(p.ip_total_len, n);
    assert_int_equal(p.protocol, WFP_IPPROTO_UDP);
    assert_int_equal(p.sport, 53);
    assert_int_equal(p.dport, 53000);
    assert_int_equal(p.udp.length, 10);
    assert_int_equal(p.payload_len, 2);
    assert_true(fx_l4_checksum_ok(&p));
    assert_int_equal(p.ext_count, 0);
}

static void test_build_icmp(void **state)
{
    uint8_t buf[FX_MAX];
    wfp_packet_spec s;
    wfp_packet p;
    size_t n;

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_ICMP);
    s.icmp_type = 8;
    s.icmp_id = 0x4242;
    s.icmp_seq = 7;
    s.payload = payload_bytes;
    s.payload_len = 32;
    n = build(&s, buf);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_IPV4, buf, (uint32_t)n, (uint32_t)n, 0, &p), WFP_PARSE_OK);
    assert_int_equal(p.icmp.type, 8);
    assert_int_equal(p.icmp.code, 0);
    assert_int_equal(p.icmp.id, 0x4242);
    assert_int_equal(p.icmp.seq, 7);
    assert_false(p.icmp.is_error);
    assert_false(p.inner.present);
    assert_int_equal(p.sport, 0);
    assert_true(fx_l4_checksum_ok(&p));

    fx_spec(&s, 6, WFP_IPPROTO_ICMPV6);
    s.icmp_type = 128;
    s.icmp_id = 1;
    s.icmp_seq = 2;
    n = build(&s, buf);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_IPV6, buf, (uint32_t)n, (uint32_t)n, 0, &p), WFP_PARSE_OK);
    assert_int_equal(p.protocol, WFP_IPPROTO_ICMPV6);
    assert_int_equal(p.icmp.type, 128);
    assert_int_equal(p.icmp.seq, 2);
    assert_true(fx_l4_checksum_ok(&p));

    /* Another protocol: payload right after the IP header. */
    fx_spec(&s, 4, WFP_IPPROTO_GRE);
    s.payload = payload_bytes;
    s.payload_len = 4;
    n = build(&s, buf);
    assert_int_equal(n, 24);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 0, &p), WFP_PARSE_OK);
    assert_int_equal(p.protocol, WFP_IPPROTO_GRE);
    assert_false(p.has_l4);
    assert_int_equal(p.payload_offset, 20);
    assert_int_equal(p.payload_len, 4);
}

static void test_build_rejects(void **state)
{
    uint8_t buf[FX_MAX];
    wfp_packet_spec s;
    static uint8_t big[65536];

    (void)state;
    fx_spec(&s, 6, WFP_IPPROTO_ICMP);
    assert_int_equal(wfp_packet_build(&s, buf, sizeof buf), 0); /* ICMP over v6 */
    fx_spec(&s, 4, WFP_IPPROTO_ICMPV6);
    assert_int_equal(wfp_packet_build(&s, buf, sizeof buf), 0);
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    s.ip_version = 5;
    assert_int_equal(wfp_packet_build(&s, buf, sizeof buf), 0);
    fx_spec(&s, 6, WFP_IPPROTO_TCP);
    s.flow_label = 0x100000;
    assert_int_equal(wfp_packet_build(&s, buf, sizeof buf), 0);
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    assert_int_equal(wfp_packet_build(&s, buf, 39), 0); /* too small */
    assert_int_equal(wfp_packet_build(&s, buf, 40), 40);
    assert_int_equal(wfp_packet_build(NULL, buf, 40), 0);
    s.payload_len = 3; /* no payload pointer */
    assert_int_equal(wfp_packet_build(&s, buf, sizeof buf), 0);
    s.payload = big;
    s.payload_len = 65535 - 40;
    assert_int_equal(wfp_packet_build(&s, buf, sizeof buf), 65535);
    s.payload_len = 65535 - 39;
    assert_int_equal(wfp_packet_build(&s, buf, sizeof buf), 0); /* IPv4 total > 65535 */
    fx_spec(&s, 6, WFP_IPPROTO_UDP);
    s.payload = big;
    s.payload_len = 65535 - 8; /* IPv6 payload length 65535: allowed */
    assert_int_equal(wfp_packet_build(&s, buf, sizeof buf), 65535 + 40);

    /* Defaults the scenario contract promises. */
    wfp_packet_spec_init(&s);
    assert_int_equal(s.ttl, 128);
    assert_int_equal(s.window, 65535);
    assert_int_equal(s.seq, 0);
}

/* The same spec always yields the same bytes. */
static void test_build_deterministic(void **state)
{
    uint8_t a[256], b[256];
    wfp_packet_spec s;
    size_t na, nb;

    (void)state;
    memset(a, 0xaa, sizeof a);
    memset(b, 0x55, sizeof b);
    fx_spec(&s, 6, WFP_IPPROTO_TCP);
    s.tcp_flags = WFP_TCP_PSH | WFP_TCP_ACK;
    s.payload = payload_bytes;
    s.payload_len = 17;
    na = wfp_packet_build(&s, a, sizeof a);
    nb = wfp_packet_build(&s, b, sizeof b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
}

/* ---- link layers -------------------------------------------------------- */

static void test_raw_linktypes(void **state)
{
    uint8_t v4[128], v6[128];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n4, n6;

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_UDP);
    n4 = (uint32_t)build(&s, v4);
    fx_spec(&s, 6, WFP_IPPROTO_UDP);
    n6 = (uint32_t)build(&s, v6);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, v4, n4, n4, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, v6, n6, n6, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(parse_exact(WFP_LINKTYPE_DLT_RAW, v6, n6, n6, &p), WFP_PARSE_OK);
    assert_int_equal(parse_exact(WFP_LINKTYPE_IPV4, v4, n4, n4, &p), WFP_PARSE_OK);
    assert_int_equal(parse_exact(WFP_LINKTYPE_IPV6, v6, n6, n6, &p), WFP_PARSE_OK);
    /* LINKTYPE_IPV4 promises IPv4, LINKTYPE_IPV6 IPv6. */
    assert_int_equal(parse_exact(WFP_LINKTYPE_IPV4, v6, n6, n6, &p), WFP_PARSE_BAD_IP_VERSION);
    assert_int_equal(parse_exact(WFP_LINKTYPE_IPV6, v4, n4, n4, &p), WFP_PARSE_BAD_IP_VERSION);
    v4[0] = 0x55;
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, v4, n4, n4, &p), WFP_PARSE_BAD_IP_VERSION);
    v4[0] = 0x05;
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, v4, n4, n4, &p), WFP_PARSE_BAD_IP_VERSION);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, v4, 0, 0, &p), WFP_PARSE_TRUNCATED_L3);
    assert_int_equal(parse_exact(105, v6, n6, n6, &p), WFP_PARSE_UNSUPPORTED_LINKTYPE);
    assert_int_equal(p.linktype, 105);
    assert_int_equal(p.ip_version, 0);
    /* NULL data with a caplen is treated as nothing captured. */
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, NULL, 40, 40, 0, &p), WFP_PARSE_TRUNCATED_L3);
    assert_int_equal(p.cap_len, 0);
}

static void test_ethernet_vlan(void **state)
{
    uint8_t ip[128], frame[256];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n;
    size_t f;

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    s.sport = 1;
    s.dport = 2;
    n = (uint32_t)build(&s, ip);

    f = fx_eth(frame, 0x0800, ip, n);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, (uint32_t)f, (uint32_t)f, &p), WFP_PARSE_OK);
    assert_int_equal(p.ethertype, 0x0800);
    assert_int_equal(p.vlan_count, 0);
    assert_int_equal(p.l3_offset, 14);
    assert_int_equal(p.l4_offset, 34);
    assert_int_equal(p.dport, 2);

    /* 802.1ad outer + 802.1Q inner + 2 more tags: five in all. */
    {
        static const uint16_t tpid[5] = {0x88a8, 0x8100, 0x9100, 0x8100, 0x8100};
        uint8_t *q = frame + 12;

        for (int i = 0; i < 5; i++) {
            fx_wr16(q, tpid[i]);
            fx_wr16(q + 2, (uint16_t)(0x2000 | (i + 1) * 10)); /* PCP 1, VID */
            q += 4;
        }
        fx_wr16(q, 0x0800);
        memcpy(q + 2, ip, n);
        f = (size_t)(q + 2 - frame) + n;
    }
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, (uint32_t)f, (uint32_t)f, &p), WFP_PARSE_OK);
    assert_int_equal(p.vlan_count, 5);
    assert_int_equal(p.vlan[0] & 0x0fff, 10);
    assert_int_equal(p.vlan[0] >> 13, 1);
    assert_int_equal(p.vlan[3] & 0x0fff, 40);
    assert_int_equal(p.l3_offset, 14 + 20);
    assert_int_equal(p.dport, 2);
    /* cut inside the tags */
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 20, (uint32_t)f, &p), WFP_PARSE_TRUNCATED_LINK);

    /* ARP, and an 802.3 length field with LLC. */
    f = fx_eth(frame, 0x0806, ip, 28);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, (uint32_t)f, (uint32_t)f, &p), WFP_PARSE_NOT_IP);
    assert_int_equal(p.ethertype, 0x0806);
    f = fx_eth(frame, 46, ip, 46);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, (uint32_t)f, (uint32_t)f, &p), WFP_PARSE_NOT_IP);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 13, 60, &p), WFP_PARSE_TRUNCATED_LINK);
    /* Ethertype says IPv6, the header says 4. */
    f = fx_eth(frame, 0x86dd, ip, n);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, (uint32_t)f, (uint32_t)f, &p), WFP_PARSE_BAD_IP_VERSION);
}

/* Ethernet pads short frames to 60 bytes: the IP total length decides. */
static void test_ethernet_padding(void **state)
{
    uint8_t ip[128], frame[128];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n;

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_UDP);
    s.payload = payload_bytes;
    s.payload_len = 2;
    n = (uint32_t)build(&s, ip);
    memset(frame, 0, sizeof frame);
    fx_eth(frame, 0x0800, ip, n);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 60, 60, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip_total_len, 30);
    assert_int_equal(p.payload_len, 2);
    assert_int_equal(p.payload_caplen, 2);
}

static void test_mpls(void **state)
{
    uint8_t ip[128], frame[256];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n4, n6;
    uint8_t v6[128];

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_ICMP);
    s.icmp_type = 8;
    n4 = (uint32_t)build(&s, ip);
    fx_spec(&s, 6, WFP_IPPROTO_UDP);
    n6 = (uint32_t)build(&s, v6);

    /* two labels: 18 then 16 (bottom of stack) */
    memset(frame, 0, 14);
    fx_wr16(frame + 12, 0x8847);
    frame[14] = 0x00; frame[15] = 0x01; frame[16] = 0x20; frame[17] = 0xff; /* label 18, S=0 */
    frame[18] = 0x00; frame[19] = 0x01; frame[20] = 0x01; frame[21] = 0xff; /* label 16, S=1 */
    memcpy(frame + 22, ip, n4);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 22 + n4, 22 + n4, &p), WFP_PARSE_OK);
    assert_int_equal(p.mpls_count, 2);
    assert_int_equal(p.mpls[0] >> 12, 18);
    assert_int_equal(p.mpls[1] >> 12, 16);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.icmp.type, 8);
    assert_int_equal(p.l3_offset, 22);

    memcpy(frame + 22, v6, n6);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 22 + n6, 22 + n6, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip_version, 6);

    /* A pseudowire control word (first nibble 0) is not IP for us. */
    memset(frame + 22, 0, 4);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 60, 60, &p), WFP_PARSE_NOT_IP);
    /* The stack never reaches bottom before the capture ends. */
    frame[20] = 0x00;
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 22, 22, &p), WFP_PARSE_TRUNCATED_LINK);
    /* Labels end exactly at the end of the capture. */
    frame[20] = 0x01;
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 22, 100, &p), WFP_PARSE_TRUNCATED_L3);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 22, 22, &p), WFP_PARSE_NOT_IP);
    /* MPLS multicast ethertype, behind a VLAN tag. */
    fx_wr16(frame + 12, 0x8100);
    fx_wr16(frame + 14, 5);
    fx_wr16(frame + 16, 0x8848);
    frame[18] = 0; frame[19] = 0; frame[20] = 0x11; frame[21] = 0x40; /* label 1, S */
    memcpy(frame + 22, ip, n4);
    assert_int_equal(parse_exact(WFP_LINKTYPE_EN10MB, frame, 22 + n4, 22 + n4, &p), WFP_PARSE_OK);
    assert_int_equal(p.vlan_count, 1);
    assert_int_equal(p.mpls_count, 1);
    assert_int_equal(p.ethertype, 0x8848);
}

static void test_linux_sll(void **state)
{
    uint8_t ip[128], frame[256];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n;

    (void)state;
    fx_spec(&s, 6, WFP_IPPROTO_TCP);
    s.sport = 80;
    n = (uint32_t)build(&s, ip);

    /* SLL v1: pkttype 4 (outgoing), ARPHRD_ETHER, 6-byte address. */
    memset(frame, 0, 16);
    fx_wr16(frame, 4);
    fx_wr16(frame + 2, 1);
    fx_wr16(frame + 4, 6);
    fx_wr16(frame + 14, 0x86dd);
    memcpy(frame + 16, ip, n);
    assert_int_equal(parse_exact(WFP_LINKTYPE_LINUX_SLL, frame, 16 + n, 16 + n, &p), WFP_PARSE_OK);
    assert_int_equal(p.link_direction, WFP_LINK_DIR_OUT);
    assert_int_equal(p.ethertype, 0x86dd);
    assert_int_equal(p.l3_offset, 16);
    assert_int_equal(p.sport, 80);
    fx_wr16(frame, 0);
    assert_int_equal(parse_exact(WFP_LINKTYPE_LINUX_SLL, frame, 16 + n, 16 + n, &p), WFP_PARSE_OK);
    assert_int_equal(p.link_direction, WFP_LINK_DIR_IN);
    fx_wr16(frame, 9);
    assert_int_equal(parse_exact(WFP_LINKTYPE_LINUX_SLL, frame, 16 + n, 16 + n, &p), WFP_PARSE_OK);
    assert_int_equal(p.link_direction, WFP_LINK_DIR_UNKNOWN);
    assert_int_equal(parse_exact(WFP_LINKTYPE_LINUX_SLL, frame, 15, 100, &p), WFP_PARSE_TRUNCATED_LINK);

    /* SLL v2: protocol first, pkttype at byte 10. */
    memset(frame, 0, 20);
    fx_wr16(frame, 0x86dd);
    frame[7] = 3;      /* ifindex */
    fx_wr16(frame + 8, 1);
    frame[10] = 4;     /* outgoing */
    frame[11] = 6;
    memcpy(frame + 20, ip, n);
    assert_int_equal(parse_exact(WFP_LINKTYPE_LINUX_SLL2, frame, 20 + n, 20 + n, &p), WFP_PARSE_OK);
    assert_int_equal(p.link_direction, WFP_LINK_DIR_OUT);
    assert_int_equal(p.l3_offset, 20);
    assert_int_equal(p.sport, 80);
    frame[10] = 0;
    assert_int_equal(parse_exact(WFP_LINKTYPE_LINUX_SLL2, frame, 20 + n, 20 + n, &p), WFP_PARSE_OK);
    assert_int_equal(p.link_direction, WFP_LINK_DIR_IN);
    fx_wr16(frame, 0x0806);
    assert_int_equal(parse_exact(WFP_LINKTYPE_LINUX_SLL2, frame, 20 + n, 20 + n, &p), WFP_PARSE_NOT_IP);
    assert_int_equal(parse_exact(WFP_LINKTYPE_LINUX_SLL2, frame, 19, 100, &p), WFP_PARSE_TRUNCATED_LINK);
}

static void test_null_loop(void **state)
{
    uint8_t v4[128], v6[128], frame[256];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n4, n6;
    static const uint32_t v6_afs[] = {23, 24, 28, 30};

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    n4 = (uint32_t)build(&s, v4);
    fx_spec(&s, 6, WFP_IPPROTO_TCP);
    n6 = (uint32_t)build(&s, v6);

    /* DLT_NULL, little-endian AF_INET (written on x86). */
    frame[0] = 2; frame[1] = 0; frame[2] = 0; frame[3] = 0;
    memcpy(frame + 4, v4, n4);
    assert_int_equal(parse_exact(WFP_LINKTYPE_NULL, frame, 4 + n4, 4 + n4, &p), WFP_PARSE_OK);
    assert_int_equal(p.link_af, 2);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.l3_offset, 4);
    /* big-endian writer */
    frame[0] = 0; frame[3] = 2;
    assert_int_equal(parse_exact(WFP_LINKTYPE_NULL, frame, 4 + n4, 4 + n4, &p), WFP_PARSE_OK);
    assert_int_equal(p.link_af, 2);
    /* DLT_LOOP is always network order */
    assert_int_equal(parse_exact(WFP_LINKTYPE_LOOP, frame, 4 + n4, 4 + n4, &p), WFP_PARSE_OK);
    frame[0] = 2; frame[3] = 0;
    assert_int_equal(parse_exact(WFP_LINKTYPE_LOOP, frame, 4 + n4, 4 + n4, &p), WFP_PARSE_NOT_IP);

    memcpy(frame + 4, v6, n6);
    for (size_t i = 0; i < sizeof v6_afs / sizeof v6_afs[0]; i++) {
        memset(frame, 0, 4);
        frame[0] = (uint8_t)v6_afs[i];
        assert_int_equal(parse_exact(WFP_LINKTYPE_NULL, frame, 4 + n6, 4 + n6, &p), WFP_PARSE_OK);
        assert_int_equal(p.ip_version, 6);
        assert_int_equal(p.link_af, v6_afs[i]);
        memset(frame, 0, 4);
        frame[3] = (uint8_t)v6_afs[i];
        assert_int_equal(parse_exact(WFP_LINKTYPE_NULL, frame, 4 + n6, 4 + n6, &p), WFP_PARSE_OK);
        assert_int_equal(parse_exact(WFP_LINKTYPE_LOOP, frame, 4 + n6, 4 + n6, &p), WFP_PARSE_OK);
        assert_int_equal(p.ip_version, 6);
    }
    memset(frame, 0, 4);
    frame[0] = 7; /* unknown family */
    assert_int_equal(parse_exact(WFP_LINKTYPE_NULL, frame, 4 + n6, 4 + n6, &p), WFP_PARSE_NOT_IP);
    assert_int_equal(parse_exact(WFP_LINKTYPE_NULL, frame, 3, 3, &p), WFP_PARSE_TRUNCATED_LINK);
    /* AF says IPv4 but the packet is IPv6 */
    frame[0] = 2;
    assert_int_equal(parse_exact(WFP_LINKTYPE_NULL, frame, 4 + n6, 4 + n6, &p), WFP_PARSE_BAD_IP_VERSION);
}

/* ---- IPv4 / IPv6 details ------------------------------------------------ */

static void test_ipv4_malformed(void **state)
{
    uint8_t ip[128];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n;

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_UDP);
    s.payload = payload_bytes;
    s.payload_len = 8;
    n = (uint32_t)build(&s, ip);

    ip[0] = 0x44; /* IHL 4 */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_HEADER_LENGTH);
    assert_int_equal(p.ip_version, 4);
    assert_memory_equal(p.src, s.src, 4); /* what was reached stays filled */
    ip[0] = 0x46; /* IHL 6 (24 bytes): options present, fine */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_L4_LENGTH);
    assert_int_equal(p.ip_header_len, 24);
    ip[0] = 0x4f; /* 60 > total length 36 */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_TOTAL_LENGTH);
    ip[0] = 0x45;
    fx_wr16(ip + 2, 19); /* total < header */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_TOTAL_LENGTH);
    fx_wr16(ip + 2, (uint16_t)(n + 1)); /* more than the wire carried */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_TOTAL_LENGTH);
    /* ...but fine when the wire had it and the snaplen cut it */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n + 1, &p), WFP_PARSE_OK);
    assert_int_equal(p.payload_len, 8); /* per the UDP length */
    fx_wr16(ip + 2, (uint16_t)n);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n - 3, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.payload_len, 8);
    assert_int_equal(p.payload_caplen, 5);
    /* UDP length field */
    fx_wr16(ip + 24, 7);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_L4_LENGTH);
    assert_true(p.has_l4); /* ports were read */
    fx_wr16(ip + 24, 17);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_L4_LENGTH);
    fx_wr16(ip + 24, 12); /* shorter than the datagram: trailing bytes ignored */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.payload_len, 4);
    /* header shorter than 20 bytes on the wire */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, 19, 19, &p), WFP_PARSE_BAD_TOTAL_LENGTH);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, 19, 40, &p), WFP_PARSE_TRUNCATED_L3);
    /* wirelen below caplen is raised to caplen */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, 3, &p), WFP_PARSE_OK);
    assert_int_equal(p.wire_len, n);
}

static void test_tcp_malformed(void **state)
{
    uint8_t ip[128];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n;

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    s.payload = payload_bytes;
    s.payload_len = 8;
    n = (uint32_t)build(&s, ip);
    ip[32] = 0x40; /* data offset 4 */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_L4_LENGTH);
    ip[32] = 0x70; /* 28 bytes: options, fits */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.l4_header_len, 28);
    assert_int_equal(p.payload_len, 0);
    ip[32] = 0xf0; /* 60 bytes > 28-byte segment */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, n, n, &p), WFP_PARSE_BAD_L4_LENGTH);
    ip[32] = 0x70; /* options cut by the snaplen */
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, 44, n, &p), WFP_PARSE_TRUNCATED_L4);
    assert_true(p.has_l4);
    /* no TCP header at all (shared capture 27 has these) */
    fx_wr16(ip + 2, 20);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, ip, 20, 20, &p), WFP_PARSE_BAD_L4_LENGTH);
    assert_false(p.has_l4);
    assert_int_equal(p.payload_len, 0);
}

/* An IPv6 packet: base header, then `exts` (already encoded), then TCP. */
static uint32_t ipv6_with_exts(uint8_t *out, uint8_t first_nh, const uint8_t *exts, uint32_t elen)
{
    wfp_packet_spec s;
    uint8_t tcp[128];
    uint32_t n;

    fx_spec(&s, 6, WFP_IPPROTO_TCP);
    s.sport = 1111;
    s.dport = 2222;
    n = (uint32_t)build(&s, tcp);
    memcpy(out, tcp, 40);
    memcpy(out + 40, exts, elen);
    memcpy(out + 40 + elen, tcp + 40, n - 40);
    out[6] = first_nh;
    fx_wr16(out + 4, (uint16_t)(n - 40 + elen));
    return n + elen;
}

static void test_ipv6_ext_walk(void **state)
{
    uint8_t pkt[512], ext[256];
    wfp_packet p;
    uint32_t n, e = 0;

    (void)state;
    /* Hop-by-hop (8) -> Routing (24) -> Dest options (16) -> AH (24) -> TCP */
    memset(ext, 0, sizeof ext);
    ext[e] = WFP_IPPROTO_ROUTING; ext[e + 1] = 0; e += 8;
    ext[e] = WFP_IPPROTO_DSTOPTS; ext[e + 1] = 2; e += 24;
    ext[e] = WFP_IPPROTO_AH; ext[e + 1] = 1; e += 16;
    ext[e] = WFP_IPPROTO_TCP; ext[e + 1] = 4; e += 24; /* AH: (4+2)*4 */
    n = ipv6_with_exts(pkt, WFP_IPPROTO_HOPOPTS, ext, e);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip_protocol, WFP_IPPROTO_HOPOPTS);
    assert_int_equal(p.protocol, WFP_IPPROTO_TCP);
    assert_int_equal(p.ext_count, 4);
    assert_int_equal(p.ip_header_len, 40 + 72);
    assert_int_equal(p.l4_offset, 112);
    assert_int_equal(p.sport, 1111);
    assert_int_equal(p.dport, 2222);
    assert_false(p.ip6_has_frag);
    assert_false(p.is_fragment);

    /* Every cut inside the extension headers is truncated-l3. */
    for (uint32_t cut = 40; cut < 112; cut++)
        assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, cut, n, &p), WFP_PARSE_TRUNCATED_L3);
    /* An extension header running past the payload is malformed. */
    pkt[41 + 8] = 200;
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_BAD_EXT_HEADER);
    pkt[41 + 8] = 2;

    /* ESP stops the walk; No Next Header too. */
    e = 0;
    memset(ext, 0, sizeof ext);
    ext[e] = WFP_IPPROTO_ESP; ext[e + 1] = 0; e += 8;
    n = ipv6_with_exts(pkt, WFP_IPPROTO_DSTOPTS, ext, e);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.protocol, WFP_IPPROTO_ESP);
    assert_false(p.has_l4);
    assert_int_equal(p.payload_offset, 48);
    assert_int_equal(p.payload_len, n - 48);
    ext[0] = WFP_IPPROTO_NONE;
    n = ipv6_with_exts(pkt, WFP_IPPROTO_DSTOPTS, ext, e);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.protocol, WFP_IPPROTO_NONE);
    assert_false(p.has_l4);
    /* A payload length claiming more than the wire had. */
    fx_wr16(pkt + 4, 1000);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_BAD_TOTAL_LENGTH);
    /* Two Fragment headers. */
    e = 0;
    memset(ext, 0, sizeof ext);
    ext[e] = WFP_IPPROTO_FRAGMENT; e += 8;
    ext[e] = WFP_IPPROTO_TCP; e += 8;
    n = ipv6_with_exts(pkt, WFP_IPPROTO_FRAGMENT, ext, e);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_BAD_EXT_HEADER);
}

/* EVIDENCE: FRAG-ATOMIC-NOT-FRAGMENT — an IPv6 Fragment header with offset 0
 * and M=0 ("atomic", RFC 6946) does not make the packet a fragment: its
 * transport header is parsed and it is processed whole (shared capture 28:
 * the flow must still be accepted). */
static void test_ipv6_atomic_fragment(void **state)
{
    uint8_t pkt[256], ext[8] = {WFP_IPPROTO_TCP, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef};
    wfp_packet p;
    uint32_t n;

    (void)state;
    n = ipv6_with_exts(pkt, WFP_IPPROTO_FRAGMENT, ext, 8);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_true(p.ip6_has_frag);
    assert_true(p.ip6_frag_atomic);
    assert_false(p.is_fragment);
    assert_int_equal(p.ip6_frag_id, 0xdeadbeef);
    assert_int_equal(p.ip6_frag_hdr_offset, 40);
    assert_int_equal(p.ip6_frag_nh_offset, 6);
    assert_true(p.has_l4);
    assert_int_equal(p.sport, 1111);
}

/* EVIDENCE: FRAG-INDICATED-AT-IPPACKET — INBOUND_IPPACKET sees every
 * fragment (spec §6.7, DRV wfp-layer-requirements "Network Layer"): the
 * parser marks each fragment (IS_FRAGMENT) with its offset; only the first
 * one carries the transport header. */
static void test_fragments_parsed(void **state)
{
    uint8_t whole[2048], frag[2048];
    static uint8_t data[1200];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n, f;

    (void)state;
    memset(data, 'x', sizeof data);
    fx_spec(&s, 4, WFP_IPPROTO_UDP);
    s.sport = 5353;
    s.dport = 53;
    s.payload = data;
    s.payload_len = sizeof data;
    n = (uint32_t)build(&s, whole);
    f = (uint32_t)fx_frag4(whole, n, 0, 800, true, frag);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, frag, f, f, &p), WFP_PARSE_OK);
    assert_true(p.is_fragment);
    assert_true(p.ip4_mf);
    assert_int_equal(p.frag_offset, 0);
    assert_true(p.has_l4); /* UDP length (1208) covers the datagram, not this fragment */
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.udp.length, 1208);
    f = (uint32_t)fx_frag4(whole, n, 800, n - 20 - 800, false, frag);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, frag, f, f, &p), WFP_PARSE_OK);
    assert_true(p.is_fragment);
    assert_false(p.ip4_mf);
    assert_int_equal(p.ip4_frag_offset, 800);
    assert_int_equal(p.frag_offset, 800);
    assert_false(p.has_l4);
    assert_int_equal(p.protocol, WFP_IPPROTO_UDP);
    assert_int_equal(p.payload_offset, 20);
    assert_int_equal(p.payload_len, n - 20 - 800);
    /* A tiny first fragment ending inside the TCP header: no L4, not an error. */
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    n = (uint32_t)build(&s, whole);
    f = (uint32_t)fx_frag4(whole, n, 0, 8, true, frag);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, frag, f, f, &p), WFP_PARSE_OK);
    assert_false(p.has_l4);
    /* A first fragment of 28 bytes whose TCP options run past it (data
     * offset 60): fine whole, truncated when the snaplen cuts inside
     * (found by fuzz_packet; corpus/packet/crash-first-fragment-*). */
    f = (uint32_t)fx_frag4(whole, n, 0, 24, true, frag);
    frag[20 + 12] = 0xf0;
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, frag, f, f, &p), WFP_PARSE_OK);
    assert_int_equal(p.l4_header_len, 24);
    assert_int_equal(p.payload_offset, f);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, frag, f - 2, f, &p), WFP_PARSE_TRUNCATED_L4);

    /* IPv6 */
    fx_spec(&s, 6, WFP_IPPROTO_TCP);
    s.dport = 8080;
    s.payload = data;
    s.payload_len = 1000;
    n = (uint32_t)build(&s, whole);
    f = (uint32_t)fx_frag6(whole, n, 0, 464, true, 77, frag);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, frag, f, f, &p), WFP_PARSE_OK);
    assert_true(p.is_fragment);
    assert_true(p.ip6_has_frag);
    assert_false(p.ip6_frag_atomic);
    assert_true(p.ip6_frag_more);
    assert_int_equal(p.ip6_frag_id, 77);
    assert_true(p.has_l4);
    assert_int_equal(p.dport, 8080);
    f = (uint32_t)fx_frag6(whole, n, 464, n - 40 - 464, false, 77, frag);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, frag, f, f, &p), WFP_PARSE_OK);
    assert_true(p.is_fragment);
    assert_int_equal(p.ip6_frag_offset, 464);
    assert_false(p.ip6_frag_more);
    assert_false(p.has_l4);
    assert_int_equal(p.protocol, WFP_IPPROTO_TCP);
    assert_int_equal(p.l4_offset, 48);
}

/* ---- ICMP errors -------------------------------------------------------- */

/* An ICMP(v6) error of `type`/`code` quoting `quoted` (quote_len bytes). */
static uint32_t icmp_error(uint8_t *out, int ipv, uint8_t type, uint8_t code, const uint8_t *quoted,
                           uint32_t quote_len)
{
    wfp_packet_spec s;

    fx_spec(&s, ipv, ipv == 4 ? WFP_IPPROTO_ICMP : WFP_IPPROTO_ICMPV6);
    s.icmp_type = type;
    s.icmp_code = code;
    s.payload = quoted;
    s.payload_len = quote_len;
    return (uint32_t)build(&s, out);
}

/* EVIDENCE: ICMP-ERROR-EMBEDDED — INBOUND_ICMP_ERROR classifies on the
 * quoted packet: EMBEDDED_PROTOCOL, EMBEDDED_REMOTE_ADDRESS,
 * EMBEDDED_LOCAL_PORT / EMBEDDED_REMOTE_PORT (spec §1.6.3, §6.6). */
static void test_icmp_errors(void **state)
{
    uint8_t inner[256], pkt[512];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t ni, n;

    (void)state;
    /* v4 port unreachable quoting UDP 10.0.0.2:40000 -> 10.0.0.1:53 (IP header + 8 bytes) */
    fx_spec(&s, 4, WFP_IPPROTO_UDP);
    fx_ip4(s.src, 10, 0, 0, 2);
    fx_ip4(s.dst, 10, 0, 0, 1);
    s.sport = 40000;
    s.dport = 53;
    s.payload = payload_bytes;
    s.payload_len = 40;
    ni = (uint32_t)build(&s, inner);
    n = icmp_error(pkt, 4, 3, 3, inner, 28);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_true(p.icmp.is_error);
    assert_int_equal(p.icmp.type, 3);
    assert_int_equal(p.icmp.code, 3);
    assert_true(p.inner.present);
    assert_int_equal(p.inner.ip_version, 4);
    assert_int_equal(p.inner.protocol, WFP_IPPROTO_UDP);
    assert_memory_equal(p.inner.src, s.src, 4);
    assert_memory_equal(p.inner.dst, s.dst, 4);
    assert_true(p.inner.has_ports);
    assert_int_equal(p.inner.sport, 40000);
    assert_int_equal(p.inner.dport, 53);
    assert_int_equal(p.inner.offset, 28);
    /* quote cut after 4 bytes of UDP: still has the ports */
    n = icmp_error(pkt, 4, 3, 3, inner, 24);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_true(p.inner.has_ports);
    /* quote cut inside the ports */
    n = icmp_error(pkt, 4, 3, 3, inner, 22);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_true(p.inner.present);
    assert_false(p.inner.has_ports);
    /* quote shorter than an IP header */
    n = icmp_error(pkt, 4, 11, 0, inner, 12);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_true(p.icmp.is_error);
    assert_false(p.inner.present);
    /* The quoted datagram was a non-first fragment: no ports. */
    fx_wr16(inner + 6, 0x0010);
    n = icmp_error(pkt, 4, 11, 1, inner, 28);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_true(p.inner.is_fragment);
    assert_false(p.inner.has_ports);
    (void)ni;

    /* Every v4 error type quotes; echo, timestamp and others do not. */
    {
        static const uint8_t errs[] = {3, 4, 5, 11, 12};
        static const uint8_t non[] = {0, 8, 9, 10, 13, 14};

        for (size_t i = 0; i < sizeof errs; i++) {
            n = icmp_error(pkt, 4, errs[i], 0, inner, 28);
            assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
            assert_true(p.icmp.is_error);
        }
        for (size_t i = 0; i < sizeof non; i++) {
            n = icmp_error(pkt, 4, non[i], 0, inner, 28);
            assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
            assert_false(p.icmp.is_error);
            assert_false(p.inner.present);
        }
    }

    /* v4 time exceeded quoting TCP SYN */
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    s.sport = 50123;
    s.dport = 443;
    s.tcp_flags = WFP_TCP_SYN;
    ni = (uint32_t)build(&s, inner);
    n = icmp_error(pkt, 4, 11, 0, inner, ni);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.inner.protocol, WFP_IPPROTO_TCP);
    assert_int_equal(p.inner.sport, 50123);
    assert_int_equal(p.inner.dport, 443);

    /* v4 error quoting an ICMP echo: type/code instead of ports */
    fx_spec(&s, 4, WFP_IPPROTO_ICMP);
    s.icmp_type = 8;
    ni = (uint32_t)build(&s, inner);
    n = icmp_error(pkt, 4, 3, 1, inner, ni);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.inner.protocol, WFP_IPPROTO_ICMP);
    assert_false(p.inner.has_ports);
    assert_true(p.inner.has_icmp);
    assert_int_equal(p.inner.icmp_type, 8);

    /* v6 destination unreachable quoting UDP behind a Destination Options header */
    {
        uint8_t ext[8] = {WFP_IPPROTO_UDP, 0, 1, 4, 0, 0, 0, 0};
        wfp_packet_spec u;
        uint8_t udp[128];
        uint32_t nu;

        fx_spec(&u, 6, WFP_IPPROTO_UDP);
        u.sport = 33434;
        u.dport = 7;
        nu = (uint32_t)build(&u, udp);
        memcpy(inner, udp, 40);
        memcpy(inner + 40, ext, 8);
        memcpy(inner + 48, udp + 40, nu - 40);
        inner[6] = WFP_IPPROTO_DSTOPTS;
        ni = nu + 8;
        n = icmp_error(pkt, 6, 1, 4, inner, ni);
        assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
        assert_true(p.icmp.is_error);
        assert_true(p.inner.present);
        assert_int_equal(p.inner.ip_version, 6);
        assert_int_equal(p.inner.protocol, WFP_IPPROTO_UDP);
        assert_int_equal(p.inner.sport, 33434);
        assert_int_equal(p.inner.dport, 7);
        assert_memory_equal(p.inner.src, u.src, 16);
        /* packet too big (2), time exceeded (3), parameter problem (4) are errors; echo (128) and ND are not */
        for (uint8_t t = 1; t <= 4; t++) {
            n = icmp_error(pkt, 6, t, 0, inner, ni);
            assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
            assert_true(p.icmp.is_error);
        }
        n = icmp_error(pkt, 6, 135, 0, inner, 24);
        assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
        assert_false(p.icmp.is_error);
        /* every cut of the quote parses without reading past it */
        for (uint32_t cut = 0; cut <= ni; cut++) {
            n = icmp_error(pkt, 6, 1, 4, inner, cut);
            assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
            assert_int_equal(p.inner.present, cut >= 40);
            assert_int_equal(p.inner.has_ports, cut >= 52);
        }
    }
}

/* ---- truncation --------------------------------------------------------- */

/* Cutting a valid Ethernet/IPv6/TCP frame at every byte: never a crash
 * (ASan checks the reads) and the status names the layer that was cut. */
static void test_truncation_every_offset(void **state)
{
    uint8_t ip[256], frame[256];
    wfp_packet_spec s;
    wfp_packet p;
    uint32_t n, f, cut;

    (void)state;
    fx_spec(&s, 6, WFP_IPPROTO_TCP);
    s.sport = 49152;
    s.dport = 80;
    s.payload = payload_bytes;
    s.payload_len = 20;
    n = (uint32_t)build(&s, ip);
    f = (uint32_t)fx_eth(frame, 0x86dd, ip, n);
    for (cut = 0; cut <= f; cut++) {
        int st = parse_exact(WFP_LINKTYPE_EN10MB, frame, cut, f, &p);

        if (cut < 14)
            assert_int_equal(st, WFP_PARSE_TRUNCATED_LINK);
        else if (cut < 14 + 40)
            assert_int_equal(st, WFP_PARSE_TRUNCATED_L3);
        else if (cut < 14 + 40 + 20)
            assert_int_equal(st, WFP_PARSE_TRUNCATED_L4);
        else {
            assert_int_equal(st, WFP_PARSE_OK);
            assert_int_equal(p.payload_len, 20);
            assert_int_equal(p.payload_caplen, cut - 74);
            assert_int_equal(p.dport, 80);
        }
        assert_int_equal(p.cap_len, cut);
        assert_int_equal(p.wire_len, f);
        /* The same bytes as a whole (short) packet on the wire: malformed,
         * never "truncated" at L3/L4. */
        st = parse_exact(WFP_LINKTYPE_EN10MB, frame, cut, cut, &p);
        if (cut < 14)
            assert_int_equal(st, WFP_PARSE_TRUNCATED_LINK);
        else if (cut == 14)
            assert_int_equal(st, WFP_PARSE_TRUNCATED_L3);
        else if (cut < f)
            assert_int_equal(st, WFP_PARSE_BAD_TOTAL_LENGTH);
        else
            assert_int_equal(st, WFP_PARSE_OK);
    }

    /* The same for IPv4 with an ICMP error quoting TCP, on every link type. */
    {
        static const uint32_t lts[] = {WFP_LINKTYPE_RAW, WFP_LINKTYPE_NULL, WFP_LINKTYPE_LOOP,
                                       WFP_LINKTYPE_LINUX_SLL, WFP_LINKTYPE_LINUX_SLL2,
                                       WFP_LINKTYPE_EN10MB, WFP_LINKTYPE_IPV4};
        static const uint32_t hl[] = {0, 4, 4, 16, 20, 14, 0};
        uint8_t q[128];
        uint32_t nq;

        fx_spec(&s, 4, WFP_IPPROTO_TCP);
        nq = (uint32_t)build(&s, q);
        n = icmp_error(ip, 4, 3, 3, q, nq);
        for (size_t l = 0; l < sizeof lts / sizeof lts[0]; l++) {
            memset(frame, 0, hl[l]);
            if (lts[l] == WFP_LINKTYPE_NULL) frame[0] = 2;
            if (lts[l] == WFP_LINKTYPE_LOOP) frame[3] = 2;
            if (lts[l] == WFP_LINKTYPE_LINUX_SLL) fx_wr16(frame + 14, 0x0800);
            if (lts[l] == WFP_LINKTYPE_LINUX_SLL2) fx_wr16(frame, 0x0800);
            if (lts[l] == WFP_LINKTYPE_EN10MB) fx_wr16(frame + 12, 0x0800);
            memcpy(frame + hl[l], ip, n);
            f = hl[l] + n;
            for (cut = 0; cut <= f; cut++) {
                int st = parse_exact(lts[l], frame, cut, f, &p);

                if (cut < hl[l])
                    assert_int_equal(st, WFP_PARSE_TRUNCATED_LINK);
                else if (cut < hl[l] + 20)
                    assert_int_equal(st, WFP_PARSE_TRUNCATED_L3);
                else if (cut < hl[l] + 28)
                    assert_int_equal(st, WFP_PARSE_TRUNCATED_L4);
                else
                    assert_int_equal(st, WFP_PARSE_OK);
                assert_int_equal(p.inner.present, cut >= hl[l] + 48);
                assert_int_equal(p.inner.has_ports, cut >= hl[l] + 52);
            }
        }
    }
}

/* EVIDENCE: META-HEADER-SIZES — the IP_HEADER_SIZE and
 * TRANSPORT_HEADER_SIZE metadata of the network and transport layers
 * (spec §1.6.4) come from ip_header_len and l4_header_len. */
static void test_header_sizes(void **state)
{
    uint8_t pkt[256], ext[16] = {WFP_IPPROTO_TCP, 1};
    wfp_packet p;
    uint32_t n;

    (void)state;
    n = ipv6_with_exts(pkt, WFP_IPPROTO_HOPOPTS, ext, 16);
    assert_int_equal(parse_exact(WFP_LINKTYPE_RAW, pkt, n, n, &p), WFP_PARSE_OK);
    assert_int_equal(p.ip_header_len, 56);
    assert_int_equal(p.l4_header_len, 20);
}

/* A callout's modified copy: addresses and ports rewritten, checksums
 * right again (the IPv4 header and the pseudo-header sums). */
static void test_rewrite(void **state)
{
    /* EVIDENCE: INJ-MODIFY — DRV types-of-callouts: inline modification (the copy's bytes) */
    uint8_t buf[FX_MAX], before[FX_MAX];
    wfp_packet_spec s;
    wfp_packet p;
    wfp_packet_edit e;
    size_t n;

    (void)state;
    fx_spec(&s, 4, WFP_IPPROTO_TCP);
    s.sport = 50000;
    s.dport = 8080;
    s.payload = payload_bytes;
    s.payload_len = 2;
    n = build(&s, buf);
    memset(&e, 0, sizeof e);
    e.set_dst = true;
    e.dst[0] = 192, e.dst[1] = 0, e.dst[2] = 2, e.dst[3] = 9;
    e.set_dport = true;
    e.dport = 80;
    assert_true(wfp_packet_rewrite(buf, n, &e));
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 0, &p), WFP_PARSE_OK);
    assert_int_equal(p.dst[0], 192);
    assert_int_equal(p.dst[3], 9);
    assert_int_equal(p.sport, 50000);
    assert_int_equal(p.dport, 80);
    assert_int_equal(wfp_checksum_finish(wfp_checksum_add(0, buf, 20)), 0);
    assert_true(fx_l4_checksum_ok(&p));

    fx_spec(&s, 6, WFP_IPPROTO_UDP);
    s.sport = 53;
    s.dport = 53000;
    n = build(&s, buf);
    memset(&e, 0, sizeof e);
    e.set_src = true;
    e.src[0] = 0x20, e.src[1] = 0x01, e.src[15] = 0x77;
    e.set_sport = true;
    e.sport = 5353;
    assert_true(wfp_packet_rewrite(buf, n, &e));
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 0, &p), WFP_PARSE_OK);
    assert_int_equal(p.src[15], 0x77);
    assert_int_equal(p.sport, 5353);
    assert_true(fx_l4_checksum_ok(&p));

    /* ports on ICMP, or bytes that are not IP: refused, buffer unchanged */
    fx_spec(&s, 4, WFP_IPPROTO_ICMP);
    s.icmp_type = 8;
    n = build(&s, buf);
    memcpy(before, buf, n);
    memset(&e, 0, sizeof e);
    e.set_dport = true;
    assert_false(wfp_packet_rewrite(buf, n, &e));
    assert_memory_equal(buf, before, n);
    buf[0] = 0x15;
    assert_false(wfp_packet_rewrite(buf, n, &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_build_tcp_v4),
        cmocka_unit_test(test_build_udp_v6),
        cmocka_unit_test(test_build_icmp),
        cmocka_unit_test(test_build_rejects),
        cmocka_unit_test(test_build_deterministic),
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_raw_linktypes),
        cmocka_unit_test(test_ethernet_vlan),
        cmocka_unit_test(test_ethernet_padding),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_linux_sll),
        cmocka_unit_test(test_null_loop),
        cmocka_unit_test(test_ipv4_malformed),
        cmocka_unit_test(test_tcp_malformed),
        cmocka_unit_test(test_ipv6_ext_walk),
        cmocka_unit_test(test_ipv6_atomic_fragment),
        cmocka_unit_test(test_fragments_parsed),
        cmocka_unit_test(test_icmp_errors),
        cmocka_unit_test(test_truncation_every_offset),
        cmocka_unit_test(test_header_sizes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
