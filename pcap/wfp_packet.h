/* wfp_packet.h — the parsed packet descriptor the simulator's shims consume,
 * its parser and a builder for the inline packets of scenarios.
 *
 * wfp_packet_parse() turns one captured frame (any supported link type)
 * into a wfp_packet: link framing, IPv4/IPv6 header (IPv6 extension headers
 * walked), transport header (TCP, UDP, ICMP, ICMPv6) and, for ICMP errors,
 * the quoted inner packet. It never reads outside [data, data + caplen) and
 * never fails: what it could not parse is said by `status`, and every field
 * it did not reach stays zero. wfp_packet_build() writes a raw IPv4/IPv6
 * packet with correct checksums from a wfp_packet_spec.
 *
 * No libpcap, no allocation, no global state: this file and packet.c build
 * anywhere (fuzzers, the Python binding, MSVC). Link types are the
 * LINKTYPE_* numbers stored in pcap/pcapng files (tcpdump.org
 * link-layer header types), which are the same on every platform; the
 * platform DLT_RAW value 12 is accepted as an alias of LINKTYPE_RAW. */
#ifndef WFP_PACKET_H
#define WFP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- link types (LINKTYPE_* values) ------------------------------------ */
#define WFP_LINKTYPE_NULL 0u        /* BSD loopback: 4-byte AF, host byte order */
#define WFP_LINKTYPE_EN10MB 1u      /* Ethernet (+802.1Q/802.1ad tags, MPLS) */
#define WFP_LINKTYPE_DLT_RAW 12u    /* DLT_RAW as most platforms number it */
#define WFP_LINKTYPE_RAW 101u       /* raw IPv4 or IPv6, version from the first nibble */
#define WFP_LINKTYPE_LOOP 108u      /* OpenBSD loopback: 4-byte AF, network byte order */
#define WFP_LINKTYPE_LINUX_SLL 113u /* Linux cooked capture v1 */
#define WFP_LINKTYPE_IPV4 228u      /* raw IPv4 */
#define WFP_LINKTYPE_IPV6 229u      /* raw IPv6 */
#define WFP_LINKTYPE_LINUX_SLL2 276u /* Linux cooked capture v2 */

/* ---- IP protocol numbers (no <netinet/in.h> on every platform) ---------- */
enum {
    WFP_IPPROTO_HOPOPTS = 0,
    WFP_IPPROTO_ICMP = 1,
    WFP_IPPROTO_IGMP = 2,
    WFP_IPPROTO_TCP = 6,
    WFP_IPPROTO_UDP = 17,
    WFP_IPPROTO_IPV6 = 41,
    WFP_IPPROTO_ROUTING = 43,
    WFP_IPPROTO_FRAGMENT = 44,
    WFP_IPPROTO_GRE = 47,
    WFP_IPPROTO_ESP = 50,
    WFP_IPPROTO_AH = 51,
    WFP_IPPROTO_ICMPV6 = 58,
    WFP_IPPROTO_NONE = 59,
    WFP_IPPROTO_DSTOPTS = 60
};

/* TCP flag bits (byte 13 of the TCP header). */
enum {
    WFP_TCP_FIN = 0x01,
    WFP_TCP_SYN = 0x02,
    WFP_TCP_RST = 0x04,
    WFP_TCP_PSH = 0x08,
    WFP_TCP_ACK = 0x10,
    WFP_TCP_URG = 0x20,
    WFP_TCP_ECE = 0x40,
    WFP_TCP_CWR = 0x80
};

/* ---- parse status (one table: enum + names) ---------------------------- */
#define WFP_PARSE_STATUS_MAP(X)                                                        \
    X(OK, "ok")                           /* every header present was parsed */       \
    X(UNSUPPORTED_LINKTYPE, "unsupported-linktype")                                   \
    X(TRUNCATED_LINK, "truncated-link")   /* capture ends inside the link header */   \
    X(NOT_IP, "not-ip")                   /* ARP, LLC, MPLS over non-IP, unknown AF... */ \
    X(TRUNCATED_L3, "truncated-l3")       /* capture ends inside IP/extension headers */ \
    X(BAD_IP_VERSION, "bad-ip-version")   /* version nibble not 4/6 or not the framed one */ \
    X(BAD_HEADER_LENGTH, "bad-header-length") /* IPv4 IHL < 5 */                      \
    X(BAD_TOTAL_LENGTH, "bad-total-length") /* IP length < header or > wire bytes */  \
    X(BAD_EXT_HEADER, "bad-ext-header")   /* IPv6 extension header past the payload, \
                                             or a second Fragment header */           \
    X(TRUNCATED_L4, "truncated-l4")       /* capture ends inside the L4 header */     \
    X(BAD_L4_LENGTH, "bad-l4-length")     /* datagram too short for its L4 header, \
                                             TCP data offset < 5 or past the segment, \
                                             UDP length < 8 or past the datagram */

typedef enum wfp_parse_status {
#define WFP_PARSE_STATUS_ENUM_(name, text) WFP_PARSE_##name,
    WFP_PARSE_STATUS_MAP(WFP_PARSE_STATUS_ENUM_)
#undef WFP_PARSE_STATUS_ENUM_
    WFP_PARSE_STATUS_COUNT
} wfp_parse_status;

/* "ok", "truncated-l4", ...; "unknown" for a value outside the enum. */
const char *wfp_parse_status_name(wfp_parse_status s);

/* Direction as the link header tells it (Linux cooked captures only). */
typedef enum wfp_link_direction {
    WFP_LINK_DIR_UNKNOWN = 0,
    WFP_LINK_DIR_IN = 1,  /* SLL packet type host/broadcast/multicast/otherhost */
    WFP_LINK_DIR_OUT = 2  /* SLL packet type outgoing (4) */
} wfp_link_direction;

#define WFP_PACKET_MAX_VLAN 4
#define WFP_PACKET_MAX_MPLS 4

/* The packet quoted inside an ICMP/ICMPv6 error message (WFP's EMBEDDED_*
 * fields). Quotes are short by design: the inner IP length field usually
 * exceeds what is quoted, and that is not an error. */
typedef struct wfp_packet_inner {
    bool present;          /* an inner IP header was parsed */
    uint8_t ip_version;    /* 4 or 6 */
    uint8_t protocol;      /* after the inner IPv6 extension headers */
    uint8_t src[16];       /* IPv4 in the first 4 bytes, network order */
    uint8_t dst[16];
    bool has_ports;        /* TCP/UDP: the first 4 bytes of L4 were quoted */
    uint16_t sport, dport;
    bool has_icmp;         /* inner ICMP/ICMPv6: type and code were quoted */
    uint8_t icmp_type, icmp_code;
    bool is_fragment;      /* the quoted datagram is a non-first fragment: no ports */
    uint32_t offset;       /* of the inner IP header in data */
} wfp_packet_inner;

/* One parsed packet. `data` is borrowed: it points into the caller's buffer
 * (for wfp_capture_next, libpcap's, valid until the next call). Offsets are
 * from `data`. Fields of headers that were not reached are zero. */
typedef struct wfp_packet {
    uint64_t number;        /* 1-based position in its capture; 0 if not from one */
    uint64_t time_ns;
    uint32_t wire_len;      /* length on the wire (pcap "len") */
    uint32_t cap_len;       /* bytes captured (pcap "caplen"), <= wire_len */
    const uint8_t *data;    /* cap_len bytes */
    uint32_t linktype;      /* WFP_LINKTYPE_* as given to the parser */
    wfp_parse_status status;

    /* ---- link ---- */
    wfp_link_direction link_direction;
    uint16_t ethertype;     /* the one that carried L3 (after tags/SLL); 0 for raw/null */
    uint32_t link_af;       /* NULL/LOOP: the address-family value as decoded */
    uint8_t vlan_count;     /* 802.1Q/802.1ad tags seen (saturates at 255) */
    uint16_t vlan[WFP_PACKET_MAX_VLAN]; /* TCI (PCP|DEI|VID) of the outermost tags */
    uint8_t mpls_count;     /* MPLS labels seen (saturates at 255) */
    uint32_t mpls[WFP_PACKET_MAX_MPLS]; /* label stack entries, outermost first */

    /* ---- IP ---- */
    uint8_t ip_version;     /* 4 or 6; 0 = not IP */
    uint8_t src[16];        /* IPv4 in the first 4 bytes, network order */
    uint8_t dst[16];
    uint8_t ttl;            /* IPv4 TTL or IPv6 hop limit */
    uint8_t tos;            /* IPv4 TOS or IPv6 traffic class */
    uint32_t flow_label;    /* IPv6 */
    uint32_t ip_header_len; /* IPv4 IHL*4; IPv6 40 + extension headers walked */
    uint32_t ip_total_len;  /* datagram length per the header (v6: 40 + payload length) */
    uint8_t ip_protocol;    /* IPv4 protocol or IPv6 first Next Header */
    uint8_t protocol;       /* upper-layer protocol after the extension headers */
    uint8_t ext_count;      /* IPv6 extension headers walked */

    /* IPv4 fragmentation fields */
    uint16_t ip4_id;
    bool ip4_df, ip4_mf;
    uint16_t ip4_frag_offset;      /* bytes */

    /* IPv6 Fragment header */
    bool ip6_has_frag;             /* a Fragment header was present */
    bool ip6_frag_atomic;          /* ...with offset 0 and M=0 (RFC 6946) */
    uint32_t ip6_frag_id;
    uint16_t ip6_frag_offset;      /* bytes */
    bool ip6_frag_more;
    uint32_t ip6_frag_hdr_offset;  /* of the Fragment header in data */
    uint32_t ip6_frag_nh_offset;   /* of the Next Header byte that names it */

    bool is_fragment;       /* v4 MF or offset > 0; v6 non-atomic Fragment header */
    uint32_t frag_offset;   /* of this fragment's data in the datagram, bytes */
    bool reassembled;       /* built by wfp_reasm from fragments */

    uint32_t l3_offset;
    uint32_t l4_offset;     /* first byte after the IP (and extension) headers */
    uint32_t payload_offset;/* first byte after the L4 header (== l4_offset if none) */
    uint32_t payload_len;   /* L4 payload per the IP length fields */
    uint32_t payload_caplen;/* ...of which captured */

    /* ---- transport ---- */
    bool has_l4;            /* the TCP/UDP/ICMP header was parsed */
    uint32_t l4_header_len; /* TCP data offset*4, 8 for UDP/ICMP */
    uint16_t sport, dport;  /* TCP, UDP */
    struct {
        uint8_t flags;      /* WFP_TCP_* */
        uint32_t seq, ack;
        uint16_t window;
    } tcp;
    struct {
        uint16_t length;    /* the UDP length field */
    } udp;
    struct {
        uint8_t type, code;
        uint16_t id, seq;   /* echo-style messages; the raw bytes 4..7 otherwise */
        bool is_error;      /* v4 types 3,4,5,11,12; v6 types 1-4 */
    } icmp;
    wfp_packet_inner inner; /* ICMP errors only */
} wfp_packet;

/* Parses one frame into *out (fully overwritten) and returns out->status
 * (WFP_PARSE_OK is 0). A wirelen below caplen is taken as caplen.
 * out->data = data, out->number = 0. Never reads past data[caplen - 1];
 * data may be NULL when caplen is 0. */
int wfp_packet_parse(uint32_t linktype, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen, uint64_t time_ns, wfp_packet *out);

/* True for the link types wfp_packet_parse understands. */
bool wfp_packet_linktype_supported(uint32_t linktype);
/* "EN10MB", "RAW", "LINUX_SLL2", ...; NULL if unsupported. */
const char *wfp_packet_linktype_name(uint32_t linktype);

/* ---- builder for inline scenario packets -------------------------------- */

/* The fields of a scenario's inline packet (spec/scenario-format.md
 * "traffic"). Call wfp_packet_spec_init() first: it sets the documented
 * defaults (TTL/hop limit 128, window 65535, everything else 0), so an
 * explicit 0 stays expressible. */
typedef struct wfp_packet_spec {
    uint8_t ip_version;      /* 4 or 6 */
    uint8_t src[16], dst[16];/* IPv4 in the first 4 bytes */
    uint8_t ttl;             /* ip.ttl or ip6.hop_limit */
    uint16_t ip_id;          /* ip.id */
    bool df;                 /* ip.df */
    uint32_t flow_label;     /* ip6.flow_label (20 bits) */
    uint8_t protocol;        /* WFP_IPPROTO_TCP/UDP/ICMP (v4)/ICMPV6 (v6); any
                                other number: payload follows the IP header */
    uint16_t sport, dport;   /* tcp/udp */
    uint8_t tcp_flags;       /* WFP_TCP_* */
    uint32_t seq, ack;
    uint16_t window;
    uint8_t icmp_type, icmp_code;
    uint16_t icmp_id, icmp_seq;
    const uint8_t *payload;  /* may be NULL when payload_len is 0 */
    size_t payload_len;
} wfp_packet_spec;

void wfp_packet_spec_init(wfp_packet_spec *spec);

/* Writes the packet (no link header: LINKTYPE_RAW) into buf and returns its
 * length, or 0 if the spec is invalid (version not 4/6, ICMP on v6 or
 * ICMPv6 on v4, flow label > 20 bits, datagram > 65535 bytes) or cap is too
 * small. Checksums (IPv4 header, TCP/UDP/ICMPv6 with pseudo-header, ICMP)
 * are correct. Deterministic: the same spec gives the same bytes. */
size_t wfp_packet_build(const wfp_packet_spec *spec, uint8_t *buf, size_t cap);

/* Rewrites of a raw IP packet (a callout's modified copy). */
typedef struct wfp_packet_edit {
    bool set_src, set_dst, set_sport, set_dport;
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
    uint16_t sport, dport;    /* TCP/UDP only */
} wfp_packet_edit;

/* Applies `edit` to the raw IPv4/IPv6 packet in buf (len bytes, no link
 * header) and fixes the IPv4 header checksum and, for a whole unfragmented
 * TCP/UDP/ICMPv6 packet, the transport checksum. False (buf unchanged) if
 * it does not parse as IP, or ports are set on a packet without a whole
 * TCP/UDP header. */
bool wfp_packet_rewrite(uint8_t *buf, size_t len, const wfp_packet_edit *edit);

/* "SA", "FPA" ... <-> WFP_TCP_* bits; letters S A F R P U E C, any order,
 * any case. Returns false on any other character. */
bool wfp_tcp_flags_parse(const char *letters, uint8_t *out);
/* Writes the letters in the order F S R P A U E C; out needs 9 bytes. */
void wfp_tcp_flags_format(uint8_t flags, char out[9]);

/* The Internet checksum (RFC 1071) of len bytes, folded, not complemented
 * when `sum` carries a partial sum from earlier calls. */
uint32_t wfp_checksum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t wfp_checksum_finish(uint32_t sum);

#endif
