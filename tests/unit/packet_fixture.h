/* packet_fixture.h — helpers shared by test_packet.c, test_capture.c and
 * test_reasm.c: small frames built in memory (with wfp_packet_build and by
 * hand), fragmenters, and the location of the shared captures.
 *
 * Everything is static inline so each test file takes only what it uses. */
#ifndef PACKET_FIXTURE_H
#define PACKET_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wfp_packet.h"

#define FX_MAX 70000

static inline void fx_ip4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    memset(out, 0, 16);
    out[0] = a;
    out[1] = b;
    out[2] = c;
    out[3] = d;
}

/* 2001:db8::<last> */
static inline void fx_ip6(uint8_t out[16], uint16_t last)
{
    memset(out, 0, 16);
    out[0] = 0x20;
    out[1] = 0x01;
    out[2] = 0x0d;
    out[3] = 0xb8;
    out[14] = (uint8_t)(last >> 8);
    out[15] = (uint8_t)last;
}

static inline void fx_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline uint16_t fx_rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* A v4 or v6 spec from 10.0.0.1 -> 10.0.0.2 (2001:db8::1 -> ::2). */
static inline void fx_spec(wfp_packet_spec *s, int ipv, uint8_t proto)
{
    wfp_packet_spec_init(s);
    s->ip_version = (uint8_t)ipv;
    s->protocol = proto;
    if (ipv == 4) {
        fx_ip4(s->src, 10, 0, 0, 1);
        fx_ip4(s->dst, 10, 0, 0, 2);
    } else {
        fx_ip6(s->src, 1);
        fx_ip6(s->dst, 2);
    }
}

/* Ethernet header + ethertype + body. Returns the frame length. */
static inline size_t fx_eth(uint8_t *frame, uint16_t ethertype, const uint8_t *body, size_t len)
{
    static const uint8_t macs[12] = {0, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10};

    memcpy(frame, macs, 12);
    fx_wr16(frame + 12, ethertype);
    memcpy(frame + 14, body, len);
    return 14 + len;
}

/* True if the ones'-complement sum of the bytes is 0xffff (checksum ok). */
static inline bool fx_sum_ok(uint32_t sum, const uint8_t *p, size_t len)
{
    return wfp_checksum_finish(wfp_checksum_add(sum, p, len)) == 0;
}

/* Verifies the L4 checksum of a raw IP packet parsed into *p. */
static inline bool fx_l4_checksum_ok(const wfp_packet *p)
{
    uint8_t pseudo[40];
    uint32_t l4len = p->l3_offset + p->ip_total_len - p->l4_offset;
    uint32_t sum = 0;

    if (p->protocol == WFP_IPPROTO_ICMP)
        return fx_sum_ok(0, p->data + p->l4_offset, l4len);
    if (p->ip_version == 4) {
        memcpy(pseudo, p->src, 4);
        memcpy(pseudo + 4, p->dst, 4);
        pseudo[8] = 0;
        pseudo[9] = p->protocol;
        fx_wr16(pseudo + 10, (uint16_t)l4len);
        sum = wfp_checksum_add(0, pseudo, 12);
    } else {
        memcpy(pseudo, p->src, 16);
        memcpy(pseudo + 16, p->dst, 16);
        pseudo[32] = (uint8_t)(l4len >> 24);
        pseudo[33] = (uint8_t)(l4len >> 16);
        pseudo[34] = (uint8_t)(l4len >> 8);
        pseudo[35] = (uint8_t)l4len;
        pseudo[36] = pseudo[37] = pseudo[38] = 0;
        pseudo[39] = p->protocol;
        sum = wfp_checksum_add(0, pseudo, 40);
    }
    return fx_sum_ok(sum, p->data + p->l4_offset, l4len);
}

/* One IPv4 fragment of the raw IPv4 packet pkt (20-byte header): data
 * [off, off + flen) of its payload, MF as given. Returns its length. */
static inline size_t fx_frag4(const uint8_t *pkt, size_t len, uint32_t off, uint32_t flen, bool mf,
                              uint8_t *out)
{
    uint16_t sum;
    uint16_t flags = (uint16_t)(fx_rd16(pkt + 6) & 0x4000u);

    (void)len;
    memcpy(out, pkt, 20);
    memcpy(out + 20, pkt + 20 + off, flen);
    fx_wr16(out + 2, (uint16_t)(20 + flen));
    fx_wr16(out + 6, (uint16_t)(flags | (mf ? 0x2000u : 0) | (off / 8)));
    out[10] = out[11] = 0;
    sum = wfp_checksum_finish(wfp_checksum_add(0, out, 20));
    fx_wr16(out + 10, sum);
    return 20 + flen;
}

/* One IPv6 fragment of the raw IPv6 packet pkt (40-byte header, no
 * extension headers): a Fragment header is inserted. */
static inline size_t fx_frag6(const uint8_t *pkt, size_t len, uint32_t off, uint32_t flen, bool more,
                              uint32_t id, uint8_t *out)
{
    (void)len;
    memcpy(out, pkt, 40);
    out[6] = WFP_IPPROTO_FRAGMENT;
    fx_wr16(out + 4, (uint16_t)(8 + flen));
    out[40] = pkt[6];
    out[41] = 0;
    fx_wr16(out + 42, (uint16_t)(off | (more ? 1u : 0u)));
    out[44] = (uint8_t)(id >> 24);
    out[45] = (uint8_t)(id >> 16);
    out[46] = (uint8_t)(id >> 8);
    out[47] = (uint8_t)id;
    memcpy(out + 48, pkt + 40 + off, flen);
    return 48 + flen;
}

/* Path of a shared capture, or NULL when shared data is not there. */
static inline const char *fx_shared_pcap(char *buf, size_t cap, const char *name)
{
#ifdef WFPSIM_SHARED_DATA
    FILE *f;

    snprintf(buf, cap, "%s/pcaps/%s", WFPSIM_SHARED_DATA, name);
    f = fopen(buf, "rb");
    if (f == NULL)
        return NULL;
    fclose(f);
    return buf;
#else
    (void)buf;
    (void)cap;
    (void)name;
    return NULL;
#endif
}

#endif
