/* packet.c — frame parser and inline-packet builder (see wfp_packet.h).
 *
 * Every read goes through a bounds check against the captured length;
 * multi-byte fields are assembled byte by byte (no unaligned loads, no
 * host byte order). Two kinds of "too short" are told apart: when the wire
 * carried the bytes but the capture cut them (snaplen), the status is
 * TRUNCATED_*; when the packet itself is too short for what its headers
 * claim, it is a BAD_* status. A parse never fails as a whole: the fields
 * reached before the problem stay filled in, the rest stay zero. */
#include "wfp_packet.h"

#include <string.h>

/* ---- byte access -------------------------------------------------------- */

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint32_t rd32le(const uint8_t *p)
{
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* ---- names -------------------------------------------------------------- */

static const char *const status_names[] = {
#define WFP_PARSE_STATUS_NAME_(name, text) text,
    WFP_PARSE_STATUS_MAP(WFP_PARSE_STATUS_NAME_)
#undef WFP_PARSE_STATUS_NAME_
};

const char *wfp_parse_status_name(wfp_parse_status s)
{
    if ((unsigned)s >= (unsigned)WFP_PARSE_STATUS_COUNT)
        return "unknown";
    return status_names[s];
}

const char *wfp_packet_linktype_name(uint32_t linktype)
{
    switch (linktype) {
    case WFP_LINKTYPE_NULL: return "NULL";
    case WFP_LINKTYPE_EN10MB: return "EN10MB";
    case WFP_LINKTYPE_DLT_RAW:
    case WFP_LINKTYPE_RAW: return "RAW";
    case WFP_LINKTYPE_LOOP: return "LOOP";
    case WFP_LINKTYPE_LINUX_SLL: return "LINUX_SLL";
    case WFP_LINKTYPE_IPV4: return "IPV4";
    case WFP_LINKTYPE_IPV6: return "IPV6";
    case WFP_LINKTYPE_LINUX_SLL2: return "LINUX_SLL2";
    default: return NULL;
    }
}

bool wfp_packet_linktype_supported(uint32_t linktype)
{
    return wfp_packet_linktype_name(linktype) != NULL;
}

/* ---- parse state -------------------------------------------------------- */

typedef struct parser {
    wfp_packet *p;
    const uint8_t *d;
    uint32_t caplen;
    uint32_t wirelen;
} parser;

/* The status for "needed bytes up to `end` (exclusive) but only caplen were
 * captured": truncation if the wire had them, else the malformed status. */
static wfp_parse_status short_status(const parser *ps, uint64_t end, wfp_parse_status truncated,
                                     wfp_parse_status malformed)
{
    return end <= ps->wirelen ? truncated : malformed;
}

/* ---- link layers -------------------------------------------------------- */

#define ETH_IPV4 0x0800u
#define ETH_IPV6 0x86ddu
#define ETH_VLAN 0x8100u
#define ETH_QINQ 0x88a8u
#define ETH_QINQ_OLD 0x9100u
#define ETH_MPLS_UC 0x8847u
#define ETH_MPLS_MC 0x8848u

/* After an ethertype at data[*off - 2]: walks VLAN tags and MPLS labels and
 * leaves *off at the L3 header, *ipv at 4, 6 or 0 (guess from the nibble). */
static wfp_parse_status after_ethertype(parser *ps, uint16_t type, uint32_t *off, int *ipv)
{
    wfp_packet *p = ps->p;

    while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
        if ((uint64_t)*off + 4 > ps->caplen)
            return WFP_PARSE_TRUNCATED_LINK;
        if (p->vlan_count < WFP_PACKET_MAX_VLAN)
            p->vlan[p->vlan_count] = rd16(ps->d + *off);
        if (p->vlan_count < UINT8_MAX)
            p->vlan_count++;
        type = rd16(ps->d + *off + 2);
        *off += 4;
    }
    p->ethertype = type;
    if (type == ETH_IPV4) {
        *ipv = 4;
        return WFP_PARSE_OK;
    }
    if (type == ETH_IPV6) {
        *ipv = 6;
        return WFP_PARSE_OK;
    }
    if (type == ETH_MPLS_UC || type == ETH_MPLS_MC) {
        for (;;) {
            uint32_t lse;

            if ((uint64_t)*off + 4 > ps->caplen)
                return WFP_PARSE_TRUNCATED_LINK;
            lse = rd32(ps->d + *off);
            if (p->mpls_count < WFP_PACKET_MAX_MPLS)
                p->mpls[p->mpls_count] = lse;
            if (p->mpls_count < UINT8_MAX)
                p->mpls_count++;
            *off += 4;
            if (lse & 0x100u) /* bottom of stack */
                break;
        }
        /* No protocol field after MPLS: IPv4/IPv6 from the first nibble, as
         * tcpdump guesses. A pseudowire control word (nibble 0) or anything
         * else is not IP for us. */
        if (*off >= ps->caplen)
            return short_status(ps, (uint64_t)*off + 1, WFP_PARSE_TRUNCATED_L3, WFP_PARSE_NOT_IP);
        switch (ps->d[*off] >> 4) {
        case 4: *ipv = 4; return WFP_PARSE_OK;
        case 6: *ipv = 6; return WFP_PARSE_OK;
        default: return WFP_PARSE_NOT_IP;
        }
    }
    return WFP_PARSE_NOT_IP;
}

static wfp_parse_status parse_ether(parser *ps, uint32_t *off, int *ipv)
{
    if (ps->caplen < 14)
        return WFP_PARSE_TRUNCATED_LINK;
    *off = 14;
    return after_ethertype(ps, rd16(ps->d + 12), off, ipv);
}

static wfp_link_direction sll_direction(uint16_t pkttype)
{
    switch (pkttype) {
    case 0: case 1: case 2: case 3: return WFP_LINK_DIR_IN;
    case 4: return WFP_LINK_DIR_OUT;
    default: return WFP_LINK_DIR_UNKNOWN;
    }
}

static wfp_parse_status parse_sll(parser *ps, uint32_t *off, int *ipv)
{
    if (ps->caplen < 16)
        return WFP_PARSE_TRUNCATED_LINK;
    ps->p->link_direction = sll_direction(rd16(ps->d));
    *off = 16;
    return after_ethertype(ps, rd16(ps->d + 14), off, ipv);
}

static wfp_parse_status parse_sll2(parser *ps, uint32_t *off, int *ipv)
{
    if (ps->caplen < 20)
        return WFP_PARSE_TRUNCATED_LINK;
    ps->p->link_direction = sll_direction(ps->d[10]);
    *off = 20;
    return after_ethertype(ps, rd16(ps->d), off, ipv);
}

/* BSD loopback: a 4-byte address family. NULL stores it in the capturing
 * host's byte order, LOOP in network order. AF_INET is 2 everywhere;
 * AF_INET6 is 24 (NetBSD/OpenBSD/BSD/OS), 28 (FreeBSD/DragonFly), 30
 * (Darwin) and 23 (Windows, as Npcap's loopback adapter writes it). */
static wfp_parse_status parse_null(parser *ps, bool loop, uint32_t *off, int *ipv)
{
    uint32_t af;

    if (ps->caplen < 4)
        return WFP_PARSE_TRUNCATED_LINK;
    if (loop) {
        af = rd32(ps->d);
    } else {
        af = rd32le(ps->d);
        if (af & 0xffff0000u) /* written big-endian (same test as tcpdump) */
            af = rd32(ps->d);
    }
    ps->p->link_af = af;
    *off = 4;
    switch (af) {
    case 2: *ipv = 4; return WFP_PARSE_OK;
    case 23: case 24: case 28: case 30: *ipv = 6; return WFP_PARSE_OK;
    default: return WFP_PARSE_NOT_IP;
    }
}

/* ---- L4 ----------------------------------------------------------------- */

static bool icmp_is_error(int ipv, uint8_t type)
{
    if (ipv == 4)
        return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    return type >= 1 && type <= 4;
}

static bool is_ext_header(uint8_t nh)
{
    return nh == WFP_IPPROTO_HOPOPTS || nh == WFP_IPPROTO_ROUTING || nh == WFP_IPPROTO_DSTOPTS ||
           nh == 135 /* mobility */ || nh == 139 /* HIP */ || nh == 140 /* shim6 */;
}

/* The quoted packet of an ICMP error: [base, end) are the captured bytes of
 * the quote. Leniently parsed: the quote is short by design. */
static void parse_inner(wfp_packet_inner *in, const uint8_t *d, uint32_t base, uint32_t end)
{
    uint32_t l4;
    uint8_t proto;

    if (base >= end)
        return;
    in->offset = base;
    switch (d[base] >> 4) {
    case 4: {
        uint32_t ihl;

        if (end - base < 20)
            return;
        ihl = (uint32_t)(d[base] & 0x0f) * 4;
        if (ihl < 20)
            return;
        in->ip_version = 4;
        proto = d[base + 9];
        memcpy(in->src, d + base + 12, 4);
        memcpy(in->dst, d + base + 16, 4);
        in->is_fragment = (rd16(d + base + 6) & 0x1fffu) != 0;
        l4 = base + ihl;
        break;
    }
    case 6: {
        unsigned hops = 0;

        if (end - base < 40)
            return;
        in->ip_version = 6;
        memcpy(in->src, d + base + 8, 16);
        memcpy(in->dst, d + base + 24, 16);
        proto = d[base + 6];
        l4 = base + 40;
        /* Walk what was quoted of the extension headers. */
        while (hops++ < 64) {
            uint32_t len;

            if (is_ext_header(proto) || proto == WFP_IPPROTO_AH || proto == WFP_IPPROTO_FRAGMENT) {
                if (end - min_u32(l4, end) < 2) {
                    l4 = end;
                    break;
                }
                if (proto == WFP_IPPROTO_FRAGMENT) {
                    len = 8;
                    if (end - l4 >= 4 && (rd16(d + l4 + 2) & 0xfff8u) != 0)
                        in->is_fragment = true;
                } else if (proto == WFP_IPPROTO_AH) {
                    len = ((uint32_t)d[l4 + 1] + 2) * 4;
                } else {
                    len = ((uint32_t)d[l4 + 1] + 1) * 8;
                }
                proto = d[l4];
                l4 += len;
                if (in->is_fragment)
                    break;
            } else {
                break;
            }
        }
        break;
    }
    default:
        return;
    }
    in->present = true;
    in->protocol = proto;
    if (in->is_fragment || l4 >= end)
        return;
    if (proto == WFP_IPPROTO_TCP || proto == WFP_IPPROTO_UDP) {
        if (end - l4 >= 4) {
            in->has_ports = true;
            in->sport = rd16(d + l4);
            in->dport = rd16(d + l4 + 2);
        }
    } else if ((proto == WFP_IPPROTO_ICMP && in->ip_version == 4) ||
               (proto == WFP_IPPROTO_ICMPV6 && in->ip_version == 6)) {
        if (end - l4 >= 2) {
            in->has_icmp = true;
            in->icmp_type = d[l4];
            in->icmp_code = d[l4 + 1];
        }
    }
}

/* The transport header at l4. dgram_end: end of the datagram (or fragment)
 * per the IP header; cap_end: end of its captured bytes. `frag` says this is
 * the first fragment of a fragmented datagram, whose L4 lengths refer to the
 * whole datagram and may legitimately not fit. */
static wfp_parse_status parse_l4(parser *ps, uint32_t l4, uint32_t dgram_end, uint32_t cap_end, bool frag)
{
    wfp_packet *p = ps->p;
    const uint8_t *d = ps->d;
    uint32_t seg = dgram_end - l4;
    uint32_t need = 0;
    uint32_t payload_end = dgram_end;
    uint32_t cap_payload_end;
    wfp_parse_status st = WFP_PARSE_OK;
    uint8_t proto = p->protocol;
    bool icmp = (proto == WFP_IPPROTO_ICMP && p->ip_version == 4) ||
                (proto == WFP_IPPROTO_ICMPV6 && p->ip_version == 6);

    if (proto == WFP_IPPROTO_TCP)
        need = 20;
    else if (proto == WFP_IPPROTO_UDP || icmp)
        need = 8;

    if (need == 0) {
        /* not a transport we parse: everything after IP is payload */
    } else if (seg < need) {
        /* A first fragment may end before its L4 header does. */
        st = frag ? WFP_PARSE_OK : WFP_PARSE_BAD_L4_LENGTH;
    } else if (cap_end - l4 < need) {
        st = WFP_PARSE_TRUNCATED_L4;
    } else if (proto == WFP_IPPROTO_TCP) {
        uint32_t doff = (uint32_t)(d[l4 + 12] >> 4) * 4;

        p->has_l4 = true;
        p->sport = rd16(d + l4);
        p->dport = rd16(d + l4 + 2);
        p->tcp.seq = rd32(d + l4 + 4);
        p->tcp.ack = rd32(d + l4 + 8);
        p->tcp.flags = d[l4 + 13];
        p->tcp.window = rd16(d + l4 + 14);
        if (doff < 20) {
            st = WFP_PARSE_BAD_L4_LENGTH;
            p->l4_header_len = 20;
        } else if (doff > seg) {
            /* Only a first fragment may end inside its TCP options. */
            st = frag ? WFP_PARSE_OK : WFP_PARSE_BAD_L4_LENGTH;
            p->l4_header_len = seg;
        } else {
            p->l4_header_len = doff;
        }
        if (st == WFP_PARSE_OK && p->l4_header_len > cap_end - l4)
            st = WFP_PARSE_TRUNCATED_L4; /* options cut by the snaplen */
    } else if (proto == WFP_IPPROTO_UDP) {
        uint16_t ulen = rd16(d + l4 + 4);

        p->has_l4 = true;
        p->l4_header_len = 8;
        p->sport = rd16(d + l4);
        p->dport = rd16(d + l4 + 2);
        p->udp.length = ulen;
        /* In a first fragment the UDP length covers the whole datagram. */
        if (ulen < 8 || (!frag && ulen > seg))
            st = WFP_PARSE_BAD_L4_LENGTH;
        else if (!frag)
            payload_end = l4 + ulen;
    } else {
        p->has_l4 = true;
        p->l4_header_len = 8;
        p->icmp.type = d[l4];
        p->icmp.code = d[l4 + 1];
        p->icmp.id = rd16(d + l4 + 4);
        p->icmp.seq = rd16(d + l4 + 6);
        p->icmp.is_error = icmp_is_error(p->ip_version, p->icmp.type);
        if (p->icmp.is_error)
            parse_inner(&p->inner, d, l4 + 8, cap_end);
    }

    p->payload_offset = l4 + p->l4_header_len;
    if (p->payload_offset > payload_end)
        p->payload_offset = payload_end;
    p->payload_len = payload_end - p->payload_offset;
    cap_payload_end = min_u32(cap_end, payload_end);
    p->payload_caplen = cap_payload_end > p->payload_offset ? cap_payload_end - p->payload_offset : 0;
    return st;
}

/* ---- IPv4 / IPv6 -------------------------------------------------------- */

static wfp_parse_status parse_ipv4(parser *ps, uint32_t off)
{
    wfp_packet *p = ps->p;
    const uint8_t *d = ps->d;
    uint32_t ihl, tl, dgram_end, cap_end;
    uint16_t frag;

    if (ps->caplen - off < 20)
        return short_status(ps, (uint64_t)off + 20, WFP_PARSE_TRUNCATED_L3, WFP_PARSE_BAD_TOTAL_LENGTH);
    p->ip_version = 4;
    ihl = (uint32_t)(d[off] & 0x0f) * 4;
    tl = rd16(d + off + 2);
    p->tos = d[off + 1];
    p->ip4_id = rd16(d + off + 4);
    frag = rd16(d + off + 6);
    p->ip4_df = (frag & 0x4000u) != 0;
    p->ip4_mf = (frag & 0x2000u) != 0;
    p->ip4_frag_offset = (uint16_t)((frag & 0x1fffu) * 8u);
    p->ttl = d[off + 8];
    p->ip_protocol = p->protocol = d[off + 9];
    memcpy(p->src, d + off + 12, 4);
    memcpy(p->dst, d + off + 16, 4);
    p->ip_total_len = tl;
    p->is_fragment = p->ip4_mf || p->ip4_frag_offset != 0;
    p->frag_offset = p->ip4_frag_offset;
    p->l4_offset = off + 20;
    p->payload_offset = off + 20;
    if (ihl < 20)
        return WFP_PARSE_BAD_HEADER_LENGTH;
    p->ip_header_len = ihl;
    if (tl < ihl || tl > ps->wirelen - off)
        return WFP_PARSE_BAD_TOTAL_LENGTH;
    if (ps->caplen - off < ihl)
        return WFP_PARSE_TRUNCATED_L3;
    p->l4_offset = off + ihl;
    dgram_end = off + tl;
    cap_end = min_u32(ps->caplen, dgram_end);
    if (p->ip4_frag_offset != 0) { /* non-first fragment: no L4 header */
        p->payload_offset = p->l4_offset;
        p->payload_len = dgram_end - p->l4_offset;
        p->payload_caplen = cap_end - p->l4_offset;
        return WFP_PARSE_OK;
    }
    return parse_l4(ps, p->l4_offset, dgram_end, cap_end, p->ip4_mf);
}

static wfp_parse_status parse_ipv6(parser *ps, uint32_t off)
{
    wfp_packet *p = ps->p;
    const uint8_t *d = ps->d;
    uint32_t pos, dgram_end, cap_end, nh_at;
    uint8_t nh;

    if (ps->caplen - off < 40)
        return short_status(ps, (uint64_t)off + 40, WFP_PARSE_TRUNCATED_L3, WFP_PARSE_BAD_TOTAL_LENGTH);
    p->ip_version = 6;
    p->tos = (uint8_t)(rd16(d + off) >> 4);
    p->flow_label = rd32(d + off) & 0xfffffu;
    p->ip_total_len = 40u + rd16(d + off + 4);
    p->ip_protocol = nh = d[off + 6];
    p->ttl = d[off + 7];
    memcpy(p->src, d + off + 8, 16);
    memcpy(p->dst, d + off + 24, 16);
    p->ip_header_len = 40;
    p->protocol = nh;
    p->l4_offset = p->payload_offset = off + 40;
    if (p->ip_total_len > ps->wirelen - off)
        return WFP_PARSE_BAD_TOTAL_LENGTH;
    dgram_end = off + p->ip_total_len;
    cap_end = min_u32(ps->caplen, dgram_end);
    pos = off + 40;
    nh_at = off + 6;

    for (;;) {
        uint32_t len;

        if (!is_ext_header(nh) && nh != WFP_IPPROTO_FRAGMENT && nh != WFP_IPPROTO_AH)
            break; /* upper layer, ESP, No Next Header, unknown */
        if (nh == WFP_IPPROTO_FRAGMENT) {
            len = 8;
        } else {
            if (pos + 2 > dgram_end)
                return WFP_PARSE_BAD_EXT_HEADER;
            if (pos + 2 > cap_end)
                return WFP_PARSE_TRUNCATED_L3;
            len = nh == WFP_IPPROTO_AH ? ((uint32_t)d[pos + 1] + 2) * 4 : ((uint32_t)d[pos + 1] + 1) * 8;
        }
        if (len > dgram_end - pos)
            return WFP_PARSE_BAD_EXT_HEADER;
        if (len > cap_end - pos)
            return WFP_PARSE_TRUNCATED_L3;
        if (nh == WFP_IPPROTO_FRAGMENT) {
            uint16_t fo;

            if (p->ip6_has_frag)
                return WFP_PARSE_BAD_EXT_HEADER;
            fo = rd16(d + pos + 2);
            p->ip6_has_frag = true;
            p->ip6_frag_offset = (uint16_t)(fo & 0xfff8u);
            p->ip6_frag_more = (fo & 1u) != 0;
            p->ip6_frag_id = rd32(d + pos + 4);
            p->ip6_frag_atomic = p->ip6_frag_offset == 0 && !p->ip6_frag_more;
            p->ip6_frag_hdr_offset = pos;
            p->ip6_frag_nh_offset = nh_at;
            p->is_fragment = !p->ip6_frag_atomic;
            p->frag_offset = p->ip6_frag_offset;
        }
        nh_at = pos;
        nh = d[pos];
        pos += len;
        if (p->ext_count < UINT8_MAX)
            p->ext_count++;
        p->protocol = nh;
        p->ip_header_len = pos - off;
        p->l4_offset = p->payload_offset = pos;
        if (p->ip6_has_frag && p->ip6_frag_offset != 0)
            break; /* the rest is fragment data */
    }
    if (p->is_fragment && p->ip6_frag_offset != 0) {
        p->payload_len = dgram_end - pos;
        p->payload_caplen = cap_end - pos;
        return WFP_PARSE_OK;
    }
    if (nh == WFP_IPPROTO_ESP || nh == WFP_IPPROTO_NONE) {
        p->payload_len = dgram_end - pos;
        p->payload_caplen = cap_end - pos;
        return WFP_PARSE_OK;
    }
    return parse_l4(ps, pos, dgram_end, cap_end, p->is_fragment);
}

int wfp_packet_parse(uint32_t linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                     uint64_t time_ns, wfp_packet *out)
{
    parser ps;
    uint32_t off = 0;
    int ipv = 0;
    wfp_parse_status st;

    memset(out, 0, sizeof *out);
    if (data == NULL)
        caplen = 0;
    if (wirelen < caplen)
        wirelen = caplen;
    out->time_ns = time_ns;
    out->wire_len = wirelen;
    out->cap_len = caplen;
    out->data = data;
    out->linktype = linktype;
    ps.p = out;
    ps.d = data;
    ps.caplen = caplen;
    ps.wirelen = wirelen;

    switch (linktype) {
    case WFP_LINKTYPE_EN10MB: st = parse_ether(&ps, &off, &ipv); break;
    case WFP_LINKTYPE_LINUX_SLL: st = parse_sll(&ps, &off, &ipv); break;
    case WFP_LINKTYPE_LINUX_SLL2: st = parse_sll2(&ps, &off, &ipv); break;
    case WFP_LINKTYPE_NULL: st = parse_null(&ps, false, &off, &ipv); break;
    case WFP_LINKTYPE_LOOP: st = parse_null(&ps, true, &off, &ipv); break;
    case WFP_LINKTYPE_DLT_RAW:
    case WFP_LINKTYPE_RAW: st = WFP_PARSE_OK; break;
    case WFP_LINKTYPE_IPV4: st = WFP_PARSE_OK; ipv = 4; break;
    case WFP_LINKTYPE_IPV6: st = WFP_PARSE_OK; ipv = 6; break;
    default: st = WFP_PARSE_UNSUPPORTED_LINKTYPE; break;
    }
    if (st != WFP_PARSE_OK)
        goto out;
    out->l3_offset = off;
    if (off >= caplen) {
        st = WFP_PARSE_TRUNCATED_L3;
        goto out;
    }
    {
        int nibble = data[off] >> 4;

        if (ipv == 0 && (nibble == 4 || nibble == 6))
            ipv = nibble;
        if (ipv == 0 || ipv != nibble) {
            st = WFP_PARSE_BAD_IP_VERSION;
            goto out;
        }
    }
    st = ipv == 4 ? parse_ipv4(&ps, off) : parse_ipv6(&ps, off);
out:
    out->status = st;
    return (int)st;
}

/* ---- checksums ---------------------------------------------------------- */

uint32_t wfp_checksum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += ((uint32_t)p[i] << 8) | p[i + 1];
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    if (len & 1u) {
        sum += (uint32_t)p[len - 1] << 8;
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return sum;
}

uint16_t wfp_checksum_finish(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* ---- builder ------------------------------------------------------------ */

void wfp_packet_spec_init(wfp_packet_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->ip_version = 4;
    spec->ttl = 128;
    spec->window = 65535;
    spec->protocol = WFP_IPPROTO_TCP;
}

size_t wfp_packet_build(const wfp_packet_spec *spec, uint8_t *buf, size_t cap)
{
    size_t iphl, l4len, total;
    uint8_t *l4;
    uint32_t sum = 0;
    uint8_t pseudo[40];

    if (spec == NULL || buf == NULL)
        return 0;
    if (spec->ip_version != 4 && spec->ip_version != 6)
        return 0;
    if (spec->payload_len != 0 && spec->payload == NULL)
        return 0;
    if (spec->protocol == WFP_IPPROTO_ICMP && spec->ip_version != 4)
        return 0;
    if (spec->protocol == WFP_IPPROTO_ICMPV6 && spec->ip_version != 6)
        return 0;
    if (spec->flow_label > 0xfffffu)
        return 0;
    iphl = spec->ip_version == 4 ? 20 : 40;
    switch (spec->protocol) {
    case WFP_IPPROTO_TCP: l4len = 20; break;
    case WFP_IPPROTO_UDP:
    case WFP_IPPROTO_ICMP:
    case WFP_IPPROTO_ICMPV6: l4len = 8; break;
    default: l4len = 0; break;
    }
    if (spec->payload_len > 65535u)
        return 0;
    total = iphl + l4len + spec->payload_len;
    if (total - (spec->ip_version == 6 ? 40u : 0u) > 65535u || total > cap)
        return 0;

    memset(buf, 0, iphl + l4len);
    if (spec->payload_len)
        memcpy(buf + iphl + l4len, spec->payload, spec->payload_len);
    if (spec->ip_version == 4) {
        buf[0] = 0x45;
        wr16(buf + 2, (uint16_t)total);
        wr16(buf + 4, spec->ip_id);
        wr16(buf + 6, spec->df ? 0x4000u : 0);
        buf[8] = spec->ttl;
        buf[9] = spec->protocol;
        memcpy(buf + 12, spec->src, 4);
        memcpy(buf + 16, spec->dst, 4);
        wr16(buf + 10, wfp_checksum_finish(wfp_checksum_add(0, buf, 20)));
        memcpy(pseudo, spec->src, 4);
        memcpy(pseudo + 4, spec->dst, 4);
        pseudo[8] = 0;
        pseudo[9] = spec->protocol;
        wr16(pseudo + 10, (uint16_t)(total - iphl));
        sum = wfp_checksum_add(0, pseudo, 12);
    } else {
        wr32(buf, 0x60000000u | spec->flow_label);
        wr16(buf + 4, (uint16_t)(total - 40));
        buf[6] = spec->protocol;
        buf[7] = spec->ttl;
        memcpy(buf + 8, spec->src, 16);
        memcpy(buf + 24, spec->dst, 16);
        memcpy(pseudo, spec->src, 16);
        memcpy(pseudo + 16, spec->dst, 16);
        wr32(pseudo + 32, (uint32_t)(total - 40));
        pseudo[36] = pseudo[37] = pseudo[38] = 0;
        pseudo[39] = spec->protocol;
        sum = wfp_checksum_add(0, pseudo, 40);
    }

    l4 = buf + iphl;
    switch (spec->protocol) {
    case WFP_IPPROTO_TCP:
        wr16(l4, spec->sport);
        wr16(l4 + 2, spec->dport);
        wr32(l4 + 4, spec->seq);
        wr32(l4 + 8, spec->ack);
        l4[12] = 5 << 4;
        l4[13] = spec->tcp_flags;
        wr16(l4 + 14, spec->window);
        wr16(l4 + 16, wfp_checksum_finish(wfp_checksum_add(sum, l4, total - iphl)));
        break;
    case WFP_IPPROTO_UDP: {
        uint16_t c;

        wr16(l4, spec->sport);
        wr16(l4 + 2, spec->dport);
        wr16(l4 + 4, (uint16_t)(total - iphl));
        c = wfp_checksum_finish(wfp_checksum_add(sum, l4, total - iphl));
        wr16(l4 + 6, c ? c : 0xffffu); /* 0 means "no checksum" */
        break;
    }
    case WFP_IPPROTO_ICMP:
    case WFP_IPPROTO_ICMPV6:
        l4[0] = spec->icmp_type;
        l4[1] = spec->icmp_code;
        wr16(l4 + 4, spec->icmp_id);
        wr16(l4 + 6, spec->icmp_seq);
        /* ICMPv4 has no pseudo-header; ICMPv6 has. */
        wr16(l4 + 2, wfp_checksum_finish(wfp_checksum_add(spec->protocol == WFP_IPPROTO_ICMP ? 0 : sum,
                                                           l4, total - iphl)));
        break;
    default:
        break;
    }
    return total;
}

/* ---- rewriting --------------------------------------------------------- */

bool wfp_packet_rewrite(uint8_t *buf, size_t len, const wfp_packet_edit *edit)
{
    wfp_packet p;
    uint8_t *l4;
    size_t l4len;
    uint32_t sum;
    uint8_t pseudo[40];
    bool v4;

    if (buf == NULL || edit == NULL || len > UINT32_MAX)
        return false;
    if (wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)len, (uint32_t)len, 0, &p) != WFP_PARSE_OK)
        return false;
    v4 = p.ip_version == 4;
    if ((edit->set_sport || edit->set_dport) &&
        (p.is_fragment || !p.has_l4 || (p.protocol != WFP_IPPROTO_TCP && p.protocol != WFP_IPPROTO_UDP)))
        return false;
    if (edit->set_src)
        memcpy(buf + (v4 ? 12 : 8), edit->src, v4 ? 4 : 16);
    if (edit->set_dst)
        memcpy(buf + (v4 ? 16 : 24), edit->dst, v4 ? 4 : 16);
    l4 = buf + p.l4_offset;
    if (edit->set_sport)
        wr16(l4, edit->sport);
    if (edit->set_dport)
        wr16(l4 + 2, edit->dport);
    if (v4) {
        wr16(buf + 10, 0);
        wr16(buf + 10, wfp_checksum_finish(wfp_checksum_add(0, buf, p.ip_header_len)));
    }
    /* the transport checksum covers the addresses (pseudo-header): only a
     * whole, unfragmented segment can be summed again */
    if (p.is_fragment || !p.has_l4 || p.ip_total_len > len || p.l4_offset > p.ip_total_len)
        return true;
    l4len = p.ip_total_len - p.l4_offset;
    if (v4) {
        memcpy(pseudo, buf + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = p.protocol;
        wr16(pseudo + 10, (uint16_t)l4len);
        sum = wfp_checksum_add(0, pseudo, 12);
    } else {
        memcpy(pseudo, buf + 8, 32);
        wr32(pseudo + 32, (uint32_t)l4len);
        pseudo[36] = pseudo[37] = pseudo[38] = 0;
        pseudo[39] = p.protocol;
        sum = wfp_checksum_add(0, pseudo, 40);
    }
    if (p.protocol == WFP_IPPROTO_TCP && l4len >= 20) {
        wr16(l4 + 16, 0);
        wr16(l4 + 16, wfp_checksum_finish(wfp_checksum_add(sum, l4, l4len)));
    } else if (p.protocol == WFP_IPPROTO_UDP && l4len >= 8 && (!v4 || rd16(l4 + 6) != 0)) {
        uint16_t c;
        wr16(l4 + 6, 0);
        c = wfp_checksum_finish(wfp_checksum_add(sum, l4, l4len));
        wr16(l4 + 6, c ? c : 0xffffu);
    } else if (p.protocol == WFP_IPPROTO_ICMPV6 && l4len >= 4) {
        wr16(l4 + 2, 0);
        wr16(l4 + 2, wfp_checksum_finish(wfp_checksum_add(sum, l4, l4len)));
    }
    return true;
}

/* ---- TCP flag letters --------------------------------------------------- */

static const struct {
    char letter;
    uint8_t bit;
} tcp_flag_letters[] = {
    {'F', WFP_TCP_FIN}, {'S', WFP_TCP_SYN}, {'R', WFP_TCP_RST}, {'P', WFP_TCP_PSH},
    {'A', WFP_TCP_ACK}, {'U', WFP_TCP_URG}, {'E', WFP_TCP_ECE}, {'C', WFP_TCP_CWR},
};

bool wfp_tcp_flags_parse(const char *letters, uint8_t *out)
{
    uint8_t flags = 0;

    if (letters == NULL)
        return false;
    for (; *letters; letters++) {
        char c = *letters;
        size_t i;

        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        for (i = 0; i < sizeof tcp_flag_letters / sizeof tcp_flag_letters[0]; i++)
            if (tcp_flag_letters[i].letter == c)
                break;
        if (i == sizeof tcp_flag_letters / sizeof tcp_flag_letters[0])
            return false;
        flags |= tcp_flag_letters[i].bit;
    }
    *out = flags;
    return true;
}

void wfp_tcp_flags_format(uint8_t flags, char out[9])
{
    size_t i, n = 0;

    for (i = 0; i < sizeof tcp_flag_letters / sizeof tcp_flag_letters[0]; i++)
        if (flags & tcp_flag_letters[i].bit)
            out[n++] = tcp_flag_letters[i].letter;
    out[n] = '\0';
}
