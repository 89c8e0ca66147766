/* test_capture.c — capture files through libpcap (pcap/capture.c): the
 * writer/reader round trip at nanosecond precision, byte-identical output,
 * errors that name the file and record, and — when ../shared/data is
 * present — every shared capture read to the packet count that tcpdump
 * (libpcap 1.10.3) reports for it, corrupt ones failing where libpcap
 * fails. Temporary files go to the working directory (the build tree). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "packet_fixture.h"
#include "wfp_capture.h"

static void remove_file(const char *path)
{
    (void)remove(path);
}

/* Whole file into a malloc'd buffer (test files are small). */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Writes n built packets of assorted kinds; returns the count written. */
static int write_sample(const char *path, uint32_t snaplen, uint8_t (*pkts)[256], uint32_t *lens,
                        uint64_t *times)
{
    char err[256];
    wfp_capture_writer *w = wfp_capture_writer_open(path, WFP_LINKTYPE_RAW, snaplen, err, sizeof err);
    static const uint8_t protos[] = {WFP_IPPROTO_TCP, WFP_IPPROTO_UDP, WFP_IPPROTO_ICMP, WFP_IPPROTO_ICMPV6};
    static const uint8_t pl[40] = "abcdefghijklmnopqrstuvwxyz0123456789ABC";
    int i;

    assert_non_null(w);
    for (i = 0; i < 8; i++) {
        wfp_packet_spec s;
        wfp_packet p;

        fx_spec(&s, protos[i % 4] == WFP_IPPROTO_ICMPV6 || i >= 5 ? 6 : 4,
                protos[i % 4] == WFP_IPPROTO_ICMP && i >= 5 ? WFP_IPPROTO_ICMPV6 : protos[i % 4]);
        s.sport = (uint16_t)(1000 + i);
        s.dport = 80;
        s.payload = pl;
        s.payload_len = (size_t)i * 5;
        lens[i] = (uint32_t)wfp_packet_build(&s, pkts[i], 256);
        assert_true(lens[i] > 0);
        /* nanosecond digits, a second boundary, and a 2038+ time */
        times[i] = i == 7 ? 4000000000ull * 1000000000ull + 1 : 1700000000123456789ull + (uint64_t)i * 999999999ull;
        assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, pkts[i], lens[i], lens[i], times[i], &p),
                         WFP_PARSE_OK);
        assert_int_equal(wfp_capture_write(w, &p), 0);
    }
    assert_int_equal(wfp_capture_writer_close(w), 0);
    return i;
}

static void test_round_trip(void **state)
{
    static const char *path = "test_capture_rt.pcap";
    static const char *path2 = "test_capture_rt2.pcap";
    uint8_t pkts[8][256];
    uint32_t lens[8];
    uint64_t times[8];
    char err[256];
    wfp_capture *c;
    wfp_packet p;
    int n, i;
    size_t l1, l2;
    uint8_t *b1, *b2;

    (void)state;
    n = write_sample(path, 0, pkts, lens, times);
    c = wfp_capture_open(path, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(wfp_capture_linktype(c), WFP_LINKTYPE_RAW);
    assert_int_equal(wfp_capture_snaplen(c), 262144);
    for (i = 0; i < n; i++) {
        assert_int_equal(wfp_capture_next(c, &p), 1);
        assert_int_equal(p.number, (uint64_t)i + 1);
        assert_int_equal(p.time_ns, times[i]);
        assert_int_equal(p.cap_len, lens[i]);
        assert_int_equal(p.wire_len, lens[i]);
        assert_memory_equal(p.data, pkts[i], lens[i]);
        assert_int_equal(p.status, WFP_PARSE_OK);
        assert_int_equal(p.linktype, WFP_LINKTYPE_RAW);
        assert_int_equal(p.sport, i % 4 < 2 ? 1000 + i : 0);
    }
    assert_int_equal(wfp_capture_next(c, &p), 0);
    assert_int_equal(wfp_capture_next(c, &p), 0); /* stays at the end */
    assert_int_equal(wfp_capture_count(c), (uint64_t)n);
    assert_string_equal(wfp_capture_error(c), "");
    wfp_capture_close(c);

    /* Same packets, same bytes: no wall clock in the file. */
    write_sample(path2, 0, pkts, lens, times);
    b1 = slurp(path, &l1);
    b2 = slurp(path2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    /* nanosecond pcap magic, version 2.4, LINKTYPE_RAW (101) */
    assert_int_equal(b1[0] | b1[1] << 8 | b1[2] << 16 | (uint32_t)b1[3] << 24, 0xa1b23c4du);
    assert_int_equal(b1[20], 101);
    free(b1);
    free(b2);
    remove_file(path);
    remove_file(path2);
}

/* The writer cuts packets to its snaplen and keeps the wire length. */
static void test_writer_snaplen(void **state)
{
    static const char *path = "test_capture_snap.pcap";
    uint8_t pkts[8][256];
    uint32_t lens[8];
    uint64_t times[8];
    char err[256];
    wfp_capture *c;
    wfp_packet p;
    int n, i;

    (void)state;
    n = write_sample(path, 44, pkts, lens, times);
    c = wfp_capture_open(path, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(wfp_capture_snaplen(c), 44);
    for (i = 0; i < n; i++) {
        assert_int_equal(wfp_capture_next(c, &p), 1);
        assert_int_equal(p.cap_len, lens[i] < 44 ? lens[i] : 44);
        assert_int_equal(p.wire_len, lens[i]);
        assert_memory_equal(p.data, pkts[i], p.cap_len);
        if (lens[i] > 44)
            assert_true(p.payload_caplen < p.payload_len || p.status != WFP_PARSE_OK);
    }
    assert_int_equal(wfp_capture_next(c, &p), 0);
    wfp_capture_close(c);
    remove_file(path);
}

static void test_writer_raw_and_errors(void **state)
{
    static const char *path = "test_capture_raw.pcap";
    static const uint8_t eth[60] = {0};
    char err[256];
    wfp_capture_writer *w;
    wfp_capture *c;
    wfp_packet p;

    (void)state;
    w = wfp_capture_writer_open(path, WFP_LINKTYPE_EN10MB, 128, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(wfp_capture_write_raw(w, eth, 60, 1514, 5), 0);
    assert_int_equal(wfp_capture_write_raw(w, eth, 60, 10, 6), 0); /* wire raised to caplen */
    assert_int_equal(wfp_capture_write_raw(w, NULL, 0, 0, 7), 0);
    assert_int_equal(wfp_capture_write_raw(w, NULL, 4, 4, 8), -1);
    assert_int_equal(wfp_capture_write_raw(w, eth, 60, 60, (UINT32_MAX + 1ull) * 1000000000ull), -1);
    assert_int_equal(wfp_capture_write(w, NULL), -1);
    assert_int_equal(wfp_capture_write(NULL, &p), -1);
    assert_int_equal(wfp_capture_writer_close(w), 0);
    c = wfp_capture_open(path, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(wfp_capture_linktype(c), WFP_LINKTYPE_EN10MB);
    assert_int_equal(wfp_capture_next(c, &p), 1);
    assert_int_equal(p.time_ns, 5);
    assert_int_equal(p.wire_len, 1514);
    assert_int_equal(p.status, WFP_PARSE_NOT_IP); /* ethertype 0 */
    assert_int_equal(wfp_capture_next(c, &p), 1);
    assert_int_equal(p.wire_len, 60);
    assert_int_equal(wfp_capture_next(c, &p), 1);
    assert_int_equal(p.cap_len, 0);
    assert_int_equal(p.status, WFP_PARSE_TRUNCATED_LINK);
    assert_int_equal(wfp_capture_next(c, &p), 0);
    wfp_capture_close(c);
    remove_file(path);

    /* Opening what is not there names the file. */
    assert_null(wfp_capture_open("no/such/dir/x.pcap", err, sizeof err));
    assert_non_null(strstr(err, "no/such/dir/x.pcap"));
    assert_null(wfp_capture_writer_open("no/such/dir/y.pcap", WFP_LINKTYPE_RAW, 0, err, sizeof err));
    assert_non_null(strstr(err, "no/such/dir/y.pcap"));
    assert_null(wfp_capture_open(NULL, err, sizeof err));
    assert_null(wfp_capture_open("no/such/file.pcap", NULL, 0)); /* no error buffer: fine */
    wfp_capture_close(NULL);
    assert_int_equal(wfp_capture_writer_close(NULL), 0);
    assert_int_equal(wfp_capture_next(NULL, &p), -1);
    assert_string_equal(wfp_capture_error(NULL), "");
}

/* A link type the parser does not know is refused at open, by name. */
static void test_unsupported_linktype(void **state)
{
    static const char *path = "test_capture_80211.pcap";
    char err[256];
    wfp_capture_writer *w;

    (void)state;
    w = wfp_capture_writer_open(path, 105 /* IEEE802_11 */, 0, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(wfp_capture_writer_close(w), 0);
    assert_null(wfp_capture_open(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "link type 105"));
    assert_non_null(strstr(err, "not supported"));
    remove_file(path);
}

/* A record cut short and a bad header, made here: the packets before the
 * damage are returned, then -1 with a message naming file and record. */
static void test_corrupt_files(void **state)
{
    static const char *path = "test_capture_corrupt.pcap";
    uint8_t pkts[8][256];
    uint32_t lens[8];
    uint64_t times[8];
    char err[256];
    wfp_capture *c;
    wfp_packet p;
    uint8_t *b;
    size_t len;

    (void)state;
    write_sample(path, 0, pkts, lens, times);
    b = slurp(path, &len);
    /* keep the header, two records and half of the third */
    {
        size_t cut = 24 + 16 + lens[0] + 16 + lens[1] + 16 + lens[2] / 2;

        spit(path, b, cut);
    }
    c = wfp_capture_open(path, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(wfp_capture_next(c, &p), 1);
    assert_int_equal(wfp_capture_next(c, &p), 1);
    assert_int_equal(wfp_capture_next(c, &p), -1);
    assert_non_null(strstr(wfp_capture_error(c), path));
    assert_non_null(strstr(wfp_capture_error(c), "record 3"));
    assert_non_null(strstr(wfp_capture_error(c), "truncated"));
    assert_int_equal(wfp_capture_next(c, &p), -1); /* stays failed */
    assert_int_equal(wfp_capture_count(c), 2);
    wfp_capture_close(c);

    /* a record header claiming a huge caplen */
    b[24 + 8] = 0xff;
    b[24 + 9] = 0xff;
    b[24 + 10] = 0xff;
    b[24 + 11] = 0x7f;
    spit(path, b, len);
    c = wfp_capture_open(path, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(wfp_capture_next(c, &p), -1);
    assert_non_null(strstr(wfp_capture_error(c), "record 1"));
    wfp_capture_close(c);

    /* a bad magic */
    b[0] = 'X';
    spit(path, b, len);
    assert_null(wfp_capture_open(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    /* an empty file */
    spit(path, b, 0);
    assert_null(wfp_capture_open(path, err, sizeof err));
    /* only a file header: zero packets, clean end */
    write_sample(path, 0, pkts, lens, times);
    free(b);
    b = slurp(path, &len);
    spit(path, b, 24);
    c = wfp_capture_open(path, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(wfp_capture_next(c, &p), 0);
    wfp_capture_close(c);
    free(b);
    remove_file(path);
}

/* ---- the shared captures ------------------------------------------------ */

typedef struct shared_case {
    const char *file;
    bool opens;
    uint64_t packets; /* tcpdump --count -r FILE (libpcap 1.10.3) */
    int end;          /* 0: clean end; -1: error after `packets` */
    uint32_t linktype;
    const char *error_has;
} shared_case;

static const shared_case shared_cases[] = {
    {"01_ipv4_tcp_dns_full_session.pcap", true, 11, 0, 1, NULL},
    {"02_ipv4_tcp_http_multi_conn.pcap", true, 28, 0, 1, NULL},
    {"03_ipv6_tcp_http_full_session.pcap", true, 10, 0, 1, NULL},
    {"04_ipv4_udp_dns_icmp_echo.pcap", true, 133, 0, 1, NULL},
    {"05_ipv6_udp_dns.pcap", true, 2, 0, 1, NULL},
    {"06_ipv4_udp_dns_then_icmp_port_unreachable.pcap", true, 7, 0, 1, NULL},
    {"07_ipv4_icmp_echo_and_errors.pcap", true, 21, 0, 1, NULL},
    {"08_ipv6_icmpv6_echo_nd_errors.pcap", true, 36, 0, 1, NULL},
    {"09_ipv4_tcp_syn_icmp_ttl_exceeded.pcap", true, 2, 0, 1, NULL},
    {"10_ipv4_fragments_icmp_echo.pcap", true, 3, 0, 1, NULL},
    {"11_rawip4_fragments_udp_dns.pcap", true, 495, 0, 228, NULL},
    {"12_rawip6_fragments_tcp.pcap", true, 3, 0, 229, NULL},
    {"13_ipv6_fragments_icmpv6_thc.pcap", true, 13, 0, 1, NULL},
    {"14_null_loopback_ipv4_http_full_session.pcap", true, 12, 0, 0, NULL},
    {"15_null_loopback_ipv6_http.pcap", true, 24, 0, 0, NULL},
    {"16_sll_tcp_handshake_nanosec.pcap", true, 3, 0, 113, NULL},
    {"17_sll2_tcp_http.pcap", true, 5, 0, 276, NULL},
    {"18_vlan11_udp_dns_icmp_echo.pcap", true, 133, 0, 1, NULL},
    {"19_vlan_stacked_1_2_3_tags_icmp.pcap", true, 3, 0, 1, NULL},
    {"20_pcapng_tcp_openflow.pcapng", true, 174, 0, 1, NULL},
    {"21_pcapng_bigendian_simple.pcapng", true, 4, 0, 1, NULL},
    {"22_pcapng_multi_linktype_libpcap_rejects.pcapng", true, 0, -1, 1, "different from the type"},
    {"23_snaplen98_udp_dns_response_cut.pcap", true, 2, 0, 1, NULL},
    {"24_caplen_lt_len_windows_tcp_http.pcap", true, 75, 0, 1, NULL},
    {"25_corrupt_file_truncated_record.pcap", true, 1, -1, 1, "truncated dump file"},
    {"26_corrupt_header_invalid_version.pcap", false, 0, 0, 0, "archaic pcap savefile format"},
    {"27_malformed_l4_too_small_v4_v6.pcap", true, 8, 0, 1, NULL},
    {"28_malformed_ipv6_useless_fraghdr_in_tcp_session.pcap", true, 8, 0, 1, NULL},
    {"29_bigendian_pcap_tcp_pptp_gre.pcap", true, 23, 0, 1, NULL},
    {"30_mixed_v4_v6_vlan_mpls_icmp.pcap", true, 179, 0, 1, NULL},
    {"31_throughput_real_lan_10k.pcap", true, 10000, 0, 1, NULL},
};

/* Reads a shared capture to the end; NULL packet list when not wanted. */
static bool open_shared(const char *name, wfp_capture **out)
{
    char path[1024], err[1024];

    if (fx_shared_pcap(path, sizeof path, name) == NULL)
        return false;
    *out = wfp_capture_open(path, err, sizeof err);
    assert_non_null(*out);
    return true;
}

static void test_shared_counts(void **state)
{
    size_t i, seen = 0;

    (void)state;
    for (i = 0; i < sizeof shared_cases / sizeof shared_cases[0]; i++) {
        const shared_case *t = &shared_cases[i];
        char path[1024], err[1024];
        wfp_capture *c;
        wfp_packet p;
        int rc;
        uint64_t n = 0;

        if (fx_shared_pcap(path, sizeof path, t->file) == NULL)
            continue;
        seen++;
        c = wfp_capture_open(path, err, sizeof err);
        if (!t->opens) {
            assert_null(c);
            assert_non_null(strstr(err, t->file));
            assert_non_null(strstr(err, t->error_has));
            continue;
        }
        if (c == NULL)
            fail_msg("%s: %s", t->file, err);
        assert_int_equal(wfp_capture_linktype(c), t->linktype);
        while ((rc = wfp_capture_next(c, &p)) == 1) {
            n++;
            assert_int_equal(p.number, n);
            assert_true(p.cap_len <= p.wire_len);
        }
        if (n != t->packets || rc != t->end)
            fail_msg("%s: %llu packets, end %d; expected %llu, %d (%s)", t->file, (unsigned long long)n, rc,
                     (unsigned long long)t->packets, t->end, wfp_capture_error(c));
        if (t->error_has != NULL) {
            assert_non_null(strstr(wfp_capture_error(c), t->file));
            assert_non_null(strstr(wfp_capture_error(c), t->error_has));
        }
        wfp_capture_close(c);
    }
    if (seen == 0)
        skip();
}

/* Nanosecond timestamps survive (16 is a nanosecond pcap), SLL directions,
 * stacked VLANs, BSD loopback AF 30, big-endian pcap and pcapng. */
static void test_shared_details(void **state)
{
    wfp_capture *c;
    wfp_packet p;
    int any = 0;

    (void)state;
    if (open_shared("16_sll_tcp_handshake_nanosec.pcap", &c)) {
        any = 1;
        assert_int_equal(wfp_capture_next(c, &p), 1);
        assert_int_equal(p.time_ns, 1418145369924505488ull);
        assert_int_equal(p.link_direction, WFP_LINK_DIR_OUT);
        assert_int_equal(p.tcp.flags, WFP_TCP_SYN);
        assert_int_equal(p.dport, 80);
        assert_int_equal(wfp_capture_next(c, &p), 1);
        assert_int_equal(p.link_direction, WFP_LINK_DIR_IN);
        assert_int_equal(p.tcp.flags, WFP_TCP_SYN | WFP_TCP_ACK);
        wfp_capture_close(c);
    }
    if (open_shared("17_sll2_tcp_http.pcap", &c)) {
        any = 1;
        assert_int_equal(wfp_capture_next(c, &p), 1);
        assert_int_equal(p.status, WFP_PARSE_OK);
        assert_int_equal(p.protocol, WFP_IPPROTO_TCP);
        assert_true(p.link_direction != WFP_LINK_DIR_UNKNOWN);
        wfp_capture_close(c);
    }
    if (open_shared("19_vlan_stacked_1_2_3_tags_icmp.pcap", &c)) {
        static const uint16_t vids[3][3] = {{6}, {1, 10}, {1, 10, 100}};

        any = 1;
        for (int i = 0; i < 3; i++) {
            assert_int_equal(wfp_capture_next(c, &p), 1);
            assert_int_equal(p.status, WFP_PARSE_OK);
            assert_int_equal(p.vlan_count, i + 1);
            for (int k = 0; k <= i; k++)
                assert_int_equal(p.vlan[k] & 0xfff, vids[i][k]);
            assert_int_equal(p.protocol, WFP_IPPROTO_ICMP);
        }
        wfp_capture_close(c);
    }
    if (open_shared("15_null_loopback_ipv6_http.pcap", &c)) {
        any = 1;
        while (wfp_capture_next(c, &p) == 1) {
            assert_int_equal(p.link_af, 30);
            assert_int_equal(p.ip_version, 6);
            assert_int_equal(p.status, WFP_PARSE_OK);
        }
        wfp_capture_close(c);
    }
    if (open_shared("29_bigendian_pcap_tcp_pptp_gre.pcap", &c)) {
        int tcp = 0, gre = 0;

        any = 1;
        while (wfp_capture_next(c, &p) == 1) {
            assert_int_equal(p.status, WFP_PARSE_OK);
            tcp += p.protocol == WFP_IPPROTO_TCP && (p.sport == 1723 || p.dport == 1723);
            gre += p.protocol == WFP_IPPROTO_GRE;
        }
        assert_int_equal(tcp, 22);
        assert_int_equal(gre, 1);
        wfp_capture_close(c);
    }
    if (open_shared("21_pcapng_bigendian_simple.pcapng", &c)) {
        any = 1;
        while (wfp_capture_next(c, &p) == 1) {
            assert_int_equal(p.status, WFP_PARSE_OK);
            assert_int_equal(p.protocol, WFP_IPPROTO_UDP); /* DHCP */
        }
        wfp_capture_close(c);
    }
    if (!any)
        skip();
}

/* Malformed packets are returned and counted, not fatal: 27 holds L4
 * headers of 0 or 4 bytes; 23 and 24 have caplen < len; 30 one MPLS
 * packet whose IP length exceeds the frame (tcpdump: truncated-ip). */
static void test_shared_malformed(void **state)
{
    wfp_capture *c;
    wfp_packet p;
    int any = 0;

    (void)state;
    if (open_shared("27_malformed_l4_too_small_v4_v6.pcap", &c)) {
        static const wfp_parse_status want[8] = {
            WFP_PARSE_BAD_L4_LENGTH, WFP_PARSE_BAD_L4_LENGTH, WFP_PARSE_BAD_L4_LENGTH, WFP_PARSE_OK,
            WFP_PARSE_BAD_L4_LENGTH, WFP_PARSE_BAD_L4_LENGTH, WFP_PARSE_BAD_L4_LENGTH, WFP_PARSE_OK};

        any = 1;
        for (int i = 0; i < 8; i++) {
            assert_int_equal(wfp_capture_next(c, &p), 1);
            assert_int_equal(p.status, want[i]);
            assert_false(p.has_l4);
        }
        wfp_capture_close(c);
    }
    if (open_shared("23_snaplen98_udp_dns_response_cut.pcap", &c)) {
        any = 1;
        assert_int_equal(wfp_capture_next(c, &p), 1);
        assert_int_equal(wfp_capture_next(c, &p), 1);
        assert_int_equal(p.wire_len, 266);
        assert_int_equal(p.cap_len, 98);
        assert_int_equal(p.status, WFP_PARSE_OK);
        assert_int_equal(p.sport, 53);
        assert_true(p.payload_caplen < p.payload_len);
        wfp_capture_close(c);
    }
    if (open_shared("24_caplen_lt_len_windows_tcp_http.pcap", &c)) {
        int cut = 0;

        any = 1;
        while (wfp_capture_next(c, &p) == 1) {
            assert_int_equal(p.status, WFP_PARSE_OK);
            assert_true(p.has_l4);
            cut += p.cap_len < p.wire_len;
        }
        assert_int_equal(cut, 45);
        wfp_capture_close(c);
    }
    if (open_shared("30_mixed_v4_v6_vlan_mpls_icmp.pcap", &c)) {
        int bad = 0, mpls_ip = 0;

        any = 1;
        while (wfp_capture_next(c, &p) == 1) {
            bad += p.status == WFP_PARSE_BAD_TOTAL_LENGTH;
            mpls_ip += p.mpls_count > 0 && p.status == WFP_PARSE_OK;
        }
        assert_int_equal(bad, 1);
        assert_int_equal(mpls_ip, 5);
        wfp_capture_close(c);
    }
    if (!any)
        skip();
}

/* EVIDENCE: FRAG-ATOMIC-NOT-FRAGMENT — shared capture 28: the data segment
 * of an IPv6 TCP session carries an atomic Fragment header; it parses as a
 * whole TCP segment, not a fragment (RFC 6946). */
static void test_shared_atomic_fragment(void **state)
{
    wfp_capture *c;
    wfp_packet p;
    int atomic = 0;

    (void)state;
    if (!open_shared("28_malformed_ipv6_useless_fraghdr_in_tcp_session.pcap", &c))
        skip();
    while (wfp_capture_next(c, &p) == 1) {
        assert_int_equal(p.status, WFP_PARSE_OK);
        assert_true(p.has_l4);
        assert_false(p.is_fragment);
        atomic += p.ip6_frag_atomic;
    }
    assert_int_equal(atomic, 1);
    wfp_capture_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_snaplen),
        cmocka_unit_test(test_writer_raw_and_errors),
        cmocka_unit_test(test_unsupported_linktype),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_shared_counts),
        cmocka_unit_test(test_shared_details),
        cmocka_unit_test(test_shared_malformed),
        cmocka_unit_test(test_shared_atomic_fragment),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
