/* guid.c — GUID parsing, printing, ordering and name-derived keys. */
#include "wfp_value.h"

#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool wfp_guid_parse(const char *s, wfp_guid *out)
{
    uint8_t b[16];
    size_t n = 0;
    bool brace;

    if (!s) return false;
    brace = (*s == '{');
    if (brace) s++;
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
            continue;
        }
        int hi = hexval(s[i]), lo;
        if (hi < 0) return false;
        i++;
        lo = hexval(s[i]);
        if (lo < 0) return false;
        b[n++] = (uint8_t)(hi << 4 | lo);
    }
    s += 36;
    if (brace && *s++ != '}') return false;
    if (*s) return false;
    out->data1 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    out->data2 = (uint16_t)(b[4] << 8 | b[5]);
    out->data3 = (uint16_t)(b[6] << 8 | b[7]);
    memcpy(out->data4, b + 8, 8);
    return true;
}

void wfp_guid_format(const wfp_guid *g, char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    char *p = out;

    b[0] = (uint8_t)(g->data1 >> 24); b[1] = (uint8_t)(g->data1 >> 16);
    b[2] = (uint8_t)(g->data1 >> 8); b[3] = (uint8_t)g->data1;
    b[4] = (uint8_t)(g->data2 >> 8); b[5] = (uint8_t)g->data2;
    b[6] = (uint8_t)(g->data3 >> 8); b[7] = (uint8_t)g->data3;
    memcpy(b + 8, g->data4, 8);
    *p++ = '{';
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p++ = '}';
    *p = 0;
}

void wfp_guid_to_bytes(const wfp_guid *g, uint8_t out[16])
{
    out[0] = (uint8_t)g->data1;
    out[1] = (uint8_t)(g->data1 >> 8);
    out[2] = (uint8_t)(g->data1 >> 16);
    out[3] = (uint8_t)(g->data1 >> 24);
    out[4] = (uint8_t)g->data2;
    out[5] = (uint8_t)(g->data2 >> 8);
    out[6] = (uint8_t)g->data3;
    out[7] = (uint8_t)(g->data3 >> 8);
    memcpy(out + 8, g->data4, 8);
}

int wfp_guid_cmp(const wfp_guid *a, const wfp_guid *b)
{
    if (a->data1 != b->data1) return a->data1 < b->data1 ? -1 : 1;
    if (a->data2 != b->data2) return a->data2 < b->data2 ? -1 : 1;
    if (a->data3 != b->data3) return a->data3 < b->data3 ? -1 : 1;
    int c = memcmp(a->data4, b->data4, 8);
    return c < 0 ? -1 : c > 0;
}

bool wfp_guid_eq(const wfp_guid *a, const wfp_guid *b)
{
    return wfp_guid_cmp(a, b) == 0;
}

bool wfp_guid_is_null(const wfp_guid *g)
{
    static const wfp_guid zero;
    return wfp_guid_eq(g, &zero);
}

/* Two independent 64-bit FNV-1a hashes over "kind\0name", shaped as an
 * RFC 4122 variant-1 "version 8" (custom) GUID. Sim-defined: all that
 * matters is that the same name gives the same key everywhere. */
void wfp_guid_from_name(const char *kind, const char *name, wfp_guid *out)
{
    uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
    const char *parts[2] = {kind ? kind : "", name ? name : ""};
    uint8_t b[16];

    for (int k = 0; k < 2; k++) {
        const unsigned char *p = (const unsigned char *)parts[k];
        for (;; p++) {
            h1 = (h1 ^ *p) * 0x100000001b3ull;
            h2 = (h2 ^ (uint8_t)(*p + 0x5b)) * 0x100000001b3ull;
            if (!*p) break;
        }
    }
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(h1 >> (56 - 8 * i));
        b[8 + i] = (uint8_t)(h2 >> (56 - 8 * i));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x80);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    out->data1 = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    out->data2 = (uint16_t)(b[4] << 8 | b[5]);
    out->data3 = (uint16_t)(b[6] << 8 | b[7]);
    memcpy(out->data4, b + 8, 8);
}
