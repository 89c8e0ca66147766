/* security.c — SIDs, SDDL, self-relative security descriptors, tokens,
 * access checks and application ids.
 *
 * Binary layouts are Windows' own (winnt.h): a SID is revision 1, a
 * sub-authority count (<= 15), a 48-bit big-endian identifier authority and
 * little-endian 32-bit sub-authorities; a self-relative SD is a 20-byte
 * header (revision 1, control with SE_SELF_RELATIVE) followed by SACL,
 * DACL, owner and group (the order RtlMakeSelfRelativeSD uses); ACLs are
 * ACL_REVISION (2) headers followed by ACEs. Every byte that comes from
 * outside is bounds-checked before it is read: wfp_sd_valid() is the gate,
 * and the other SD functions re-check what they walk.
 *
 * Choices Windows leaves open are marked "sim-defined" and recorded in
 * docs/sim-defined.md. */
#include "wfp_value.h"

#include <string.h>

/* ---- winnt.h constants ------------------------------------------------ */
#define SD_REVISION 1u
#define SD_HEADER 20u
#define SE_DACL_PRESENT 0x0004u
#define SE_SACL_PRESENT 0x0010u
#define SE_DACL_AUTO_INHERIT_REQ 0x0100u
#define SE_SACL_AUTO_INHERIT_REQ 0x0200u
#define SE_DACL_AUTO_INHERITED 0x0400u
#define SE_SACL_AUTO_INHERITED 0x0800u
#define SE_DACL_PROTECTED 0x1000u
#define SE_SACL_PROTECTED 0x2000u
#define SE_SELF_RELATIVE 0x8000u

#define ACL_REVISION 2u
#define ACL_REVISION_DS 4u
#define ACL_HEADER 8u

#define ACCESS_ALLOWED_ACE_TYPE 0u
#define ACCESS_DENIED_ACE_TYPE 1u
#define SYSTEM_AUDIT_ACE_TYPE 2u
#define SYSTEM_ALARM_ACE_TYPE 3u

#define OBJECT_INHERIT_ACE 0x01u
#define CONTAINER_INHERIT_ACE 0x02u
#define NO_PROPAGATE_INHERIT_ACE 0x04u
#define INHERIT_ONLY_ACE 0x08u
#define INHERITED_ACE 0x10u
#define SUCCESSFUL_ACCESS_ACE_FLAG 0x40u
#define FAILED_ACCESS_ACE_FLAG 0x80u

#define DELETE_RIGHT 0x00010000u
#define READ_CONTROL 0x00020000u
#define WRITE_DAC 0x00040000u
#define WRITE_OWNER 0x00080000u
#define GENERIC_ALL 0x10000000u
#define GENERIC_EXECUTE 0x20000000u
#define GENERIC_WRITE 0x40000000u
#define GENERIC_READ 0x80000000u

/* fwpmu.h generic mapping (spec §10.1). */
#define FWPM_GENERIC_READ 0x000201D4u
#define FWPM_GENERIC_EXECUTE 0x00020220u
#define FWPM_GENERIC_WRITE 0x0003040Bu
#define FWPM_GENERIC_ALL 0x000F07FFu

#define SID_MAX_SUBAUTH 15u

/* ---- bounded text output (snprintf style) ----------------------------- */
typedef struct outbuf {
    char *buf;
    size_t n;
    size_t len;
} outbuf;

static void ob_putc(outbuf *o, char c)
{
    if (o->buf && o->len + 1 < o->n) o->buf[o->len] = c;
    o->len++;
}

static void ob_puts(outbuf *o, const char *s)
{
    while (*s) ob_putc(o, *s++);
}

static void ob_u64(outbuf *o, uint64_t v)
{
    char tmp[24];
    size_t i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i) ob_putc(o, tmp[--i]);
}

static void ob_hex(outbuf *o, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[20];
    size_t i = 0;
    do {
        tmp[i++] = hex[v & 15];
        v >>= 4;
    } while (v);
    ob_puts(o, "0x");
    while (i) ob_putc(o, tmp[--i]);
}

static size_t ob_finish(outbuf *o)
{
    if (o->buf && o->n) o->buf[o->len < o->n ? o->len : o->n - 1] = 0;
    return o->len;
}

/* ---- small portable helpers ------------------------------------------- */
static char ascii_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitive "does s start with the upper-case word w". */
static bool starts_with_ci(const char *s, const char *w)
{
    for (; *w; s++, w++)
        if (ascii_upper(*s) != *w) return false;
    return true;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* ---- SIDs ------------------------------------------------------------- */

/* SDDL SID strings (sddl.h). Only machine-independent aliases: the
 * domain-relative ones (DA, DU, LA, …) need a domain SID we don't have.
 * CO/CG are kept as the plain SIDs S-1-3-0/S-1-3-1 (no creator
 * substitution: sim-defined). Order matters for formatting: the first
 * alias of a SID is the one printed. */
static const struct {
    const char *alias;
    const char *sid;
} sid_aliases[] = {
    {"WD", "S-1-1-0"},       {"CO", "S-1-3-0"},       {"CG", "S-1-3-1"},
    {"OW", "S-1-3-4"},       {"NU", "S-1-5-2"},       {"IU", "S-1-5-4"},
    {"SU", "S-1-5-6"},       {"AN", "S-1-5-7"},       {"ED", "S-1-5-9"},
    {"PS", "S-1-5-10"},      {"AU", "S-1-5-11"},      {"RC", "S-1-5-12"},
    {"SY", "S-1-5-18"},      {"LS", "S-1-5-19"},      {"NS", "S-1-5-20"},
    {"WR", "S-1-5-33"},      {"BA", "S-1-5-32-544"},  {"BU", "S-1-5-32-545"},
    {"BG", "S-1-5-32-546"},  {"PU", "S-1-5-32-547"},  {"AO", "S-1-5-32-548"},
    {"SO", "S-1-5-32-549"},  {"PO", "S-1-5-32-550"},  {"BO", "S-1-5-32-551"},
    {"RE", "S-1-5-32-552"},  {"RU", "S-1-5-32-554"},  {"RD", "S-1-5-32-555"},
    {"NO", "S-1-5-32-556"},  {"MU", "S-1-5-32-558"},  {"LU", "S-1-5-32-559"},
    {"IS", "S-1-5-32-568"},  {"CY", "S-1-5-32-569"},  {"ER", "S-1-5-32-573"},
    {"AC", "S-1-15-2-1"},    {"LW", "S-1-16-4096"},   {"ME", "S-1-16-8192"},
    {"MP", "S-1-16-8448"},   {"HI", "S-1-16-12288"},  {"SI", "S-1-16-16384"},
};
#define NALIASES (sizeof sid_aliases / sizeof sid_aliases[0])

/* Size of the SID at p if one fits in avail bytes, else 0. */
static uint32_t sid_size_at(const uint8_t *p, uint32_t avail)
{
    if (avail < 8 || p[0] != 1 || p[1] > SID_MAX_SUBAUTH) return 0;
    uint32_t size = 8u + 4u * p[1];
    return size <= avail ? size : 0;
}

bool wfp_sid_valid(const uint8_t *sid, uint32_t len)
{
    return sid && len && sid_size_at(sid, len) == len;
}

static bool sid_equal(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* Length of the decimal (or 0x-hex) number at s, and its value; 0 if none
 * or if it exceeds max. */
static size_t parse_number(const char *s, uint64_t max, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        i = 2;
        size_t start = i;
        for (;; i++) {
            int d;
            char c = s[i];
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else break;
            if (v > (max >> 4)) return 0;
            v = v << 4 | (uint64_t)d;
            if (v > max) return 0;
        }
        if (i == start) return 0;
    } else {
        for (; s[i] >= '0' && s[i] <= '9'; i++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (v > (max - d) / 10) return 0;
            v = v * 10 + d;
        }
        if (i == 0) return 0;
    }
    *out = v;
    return i;
}

/* Parse an "S-1-…" string or a two-letter alias at the start of s; returns
 * the number of characters used (0 on error). The SID goes to out (which
 * holds WFP_SID_MAX bytes). */
static size_t sid_parse_prefix(const char *s, uint8_t *out, uint32_t *len)
{
    uint64_t v;
    size_t i, k;
    unsigned count = 0;

    if ((s[0] == 'S' || s[0] == 's') && s[1] == '-') {
        if (s[2] != '1' || s[3] != '-') return 0; /* revision 1, spelled "1" */
        i = 4;
        k = parse_number(s + i, 0xffffffffffffull, &v);
        if (!k) return 0;
        i += k;
        out[0] = 1;
        for (int b = 0; b < 6; b++) out[2 + b] = (uint8_t)(v >> (40 - 8 * b));
        while (s[i] == '-' && s[i + 1] >= '0' && s[i + 1] <= '9') {
            k = parse_number(s + i + 1, 0xffffffffu, &v);
            if (!k || count == SID_MAX_SUBAUTH) return 0;
            wr32(out + 8 + 4 * count, (uint32_t)v);
            count++;
            i += 1 + k;
        }
        out[1] = (uint8_t)count;
        *len = 8u + 4u * count;
        return i;
    }
    for (size_t a = 0; a < NALIASES; a++) {
        if (ascii_upper(s[0]) == sid_aliases[a].alias[0] &&
            ascii_upper(s[1]) == sid_aliases[a].alias[1]) {
            size_t used = sid_parse_prefix(sid_aliases[a].sid, out, len);
            return used ? 2 : 0;
        }
    }
    return 0;
}

bool wfp_sid_parse(const char *s, uint8_t *out, uint32_t *len)
{
    uint8_t tmp[WFP_SID_MAX];
    uint32_t n = 0;
    size_t used;

    if (!s || !out || !len) return false;
    used = sid_parse_prefix(s, tmp, &n);
    if (!used || s[used] != 0) return false;
    memcpy(out, tmp, n);
    *len = n;
    return true;
}

static void ob_sid(outbuf *o, const uint8_t *sid, uint32_t len)
{
    uint64_t auth = 0;
    if (!wfp_sid_valid(sid, len)) {
        ob_puts(o, "<invalid-sid>");
        return;
    }
    for (int b = 0; b < 6; b++) auth = auth << 8 | sid[2 + b];
    ob_puts(o, "S-1-");
    /* ConvertSidToStringSid prints authorities >= 2^32 in hex. */
    if (auth >> 32) ob_hex(o, auth);
    else ob_u64(o, auth);
    for (unsigned i = 0; i < sid[1]; i++) {
        ob_putc(o, '-');
        ob_u64(o, rd32(sid + 8 + 4 * i));
    }
}

size_t wfp_sid_format(const uint8_t *sid, uint32_t len, char *buf, size_t n)
{
    outbuf o = {buf, n, 0};
    ob_sid(&o, sid, len);
    return ob_finish(&o);
}

/* SID in SDDL: the alias when there is one. */
static void ob_sid_sddl(outbuf *o, const uint8_t *sid, uint32_t len)
{
    for (size_t a = 0; a < NALIASES; a++) {
        uint8_t tmp[WFP_SID_MAX];
        uint32_t tl = 0;
        if (sid_parse_prefix(sid_aliases[a].sid, tmp, &tl) && sid_equal(tmp, tl, sid, len)) {
            ob_puts(o, sid_aliases[a].alias);
            return;
        }
    }
    ob_sid(o, sid, len);
}

/* ---- access rights in SDDL -------------------------------------------- */
static const struct {
    const char *code;
    uint32_t mask;
} right_combos[] = {
    /* printed when the mask is exactly one of these (file/registry) */
    {"FA", 0x001F01FFu}, {"FR", 0x00120089u}, {"FW", 0x00120116u}, {"FX", 0x001200A0u},
    {"KA", 0x000F003Fu}, {"KR", 0x00020019u}, {"KW", 0x00020006u}, {"KX", 0x00020019u},
};
static const struct {
    const char *code;
    uint32_t mask;
} right_bits[] = {
    /* print order: generic rights, then by bit value, as Windows prints
     * e.g. "CCDCLCSWRPWPDTLOCRSDRCWDWO" */
    {"GA", GENERIC_ALL},  {"GR", GENERIC_READ},  {"GW", GENERIC_WRITE}, {"GX", GENERIC_EXECUTE},
    {"CC", 0x00000001u},  {"DC", 0x00000002u},   {"LC", 0x00000004u},   {"SW", 0x00000008u},
    {"RP", 0x00000010u},  {"WP", 0x00000020u},   {"DT", 0x00000040u},   {"LO", 0x00000080u},
    {"CR", 0x00000100u},  {"SD", DELETE_RIGHT},  {"RC", READ_CONTROL},  {"WD", WRITE_DAC},
    {"WO", WRITE_OWNER},
};
#define NCOMBOS (sizeof right_combos / sizeof right_combos[0])
#define NBITS (sizeof right_bits / sizeof right_bits[0])

static void ob_rights(outbuf *o, uint32_t mask)
{
    uint32_t covered = 0;
    /* KX duplicates KR; the first match wins, so KR is printed. */
    for (size_t i = 0; i < NCOMBOS; i++) {
        if (mask == right_combos[i].mask) {
            ob_puts(o, right_combos[i].code);
            return;
        }
    }
    for (size_t i = 0; i < NBITS; i++) covered |= right_bits[i].mask;
    if (mask == 0 || (mask & ~covered)) {
        ob_hex(o, mask);
        return;
    }
    for (size_t i = 0; i < NBITS; i++)
        if (mask & right_bits[i].mask) ob_puts(o, right_bits[i].code);
}

/* Rights field of an ACE string up to the next ';'. Returns characters
 * used or 0 on error. */
static size_t parse_rights(const char *s, uint32_t *mask)
{
    size_t i = 0;
    uint32_t m = 0;

    if (s[0] >= '0' && s[0] <= '9') {
        uint64_t v;
        i = parse_number(s, 0xffffffffu, &v);
        if (!i) return 0;
        *mask = (uint32_t)v;
        return i;
    }
    while (s[i] && s[i] != ';') {
        bool found = false;
        if (!s[i + 1]) return 0;
        for (size_t k = 0; k < NCOMBOS && !found; k++) {
            if (ascii_upper(s[i]) == right_combos[k].code[0] &&
                ascii_upper(s[i + 1]) == right_combos[k].code[1]) {
                m |= right_combos[k].mask;
                found = true;
            }
        }
        for (size_t k = 0; k < NBITS && !found; k++) {
            if (ascii_upper(s[i]) == right_bits[k].code[0] &&
                ascii_upper(s[i + 1]) == right_bits[k].code[1]) {
                m |= right_bits[k].mask;
                found = true;
            }
        }
        if (!found) return 0;
        i += 2;
    }
    if (i == 0) return 0;
    *mask = m;
    return i;
}

static const struct {
    const char *code;
    uint8_t flag;
} ace_flag_codes[] = {
    /* print order, as ConvertSecurityDescriptorToStringSecurityDescriptor */
    {"OI", OBJECT_INHERIT_ACE}, {"CI", CONTAINER_INHERIT_ACE}, {"NP", NO_PROPAGATE_INHERIT_ACE},
    {"IO", INHERIT_ONLY_ACE},   {"ID", INHERITED_ACE},         {"SA", SUCCESSFUL_ACCESS_ACE_FLAG},
    {"FA", FAILED_ACCESS_ACE_FLAG},
};
#define NFLAGS (sizeof ace_flag_codes / sizeof ace_flag_codes[0])

/* ---- SDDL → binary ---------------------------------------------------- */

/* One SDDL run writes nothing (out == NULL, sizing pass) or writes the
 * component into out. */
typedef struct sddl_ctx {
    const char *s;
    size_t err; /* offset of the first bad character */
} sddl_ctx;

static size_t skip_ws(const char *s, size_t i)
{
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') i++;
    return i;
}

/* Parses "(type;flags;rights;;;sid)" at i. `sacl` selects which ACE types
 * are allowed. Writes the ACE to out when out != NULL. Returns the new
 * position or 0 with ctx->err set. */
static size_t parse_ace(sddl_ctx *c, size_t i, bool sacl, uint8_t *out, uint32_t *ace_size)
{
    const char *s = c->s;
    uint8_t type, flags = 0;
    uint32_t mask = 0, sidlen = 0;
    uint8_t sid[WFP_SID_MAX];
    size_t k;

    if (s[i] != '(') goto bad;
    i++;
    /* ace_type */
    if (!sacl && ascii_upper(s[i]) == 'A' && s[i + 1] == ';') {
        type = ACCESS_ALLOWED_ACE_TYPE;
        i += 1;
    } else if (!sacl && ascii_upper(s[i]) == 'D' && s[i + 1] == ';') {
        type = ACCESS_DENIED_ACE_TYPE;
        i += 1;
    } else if (sacl && starts_with_ci(s + i, "AU") && s[i + 2] == ';') {
        type = SYSTEM_AUDIT_ACE_TYPE;
        i += 2;
    } else if (sacl && starts_with_ci(s + i, "AL") && s[i + 2] == ';') {
        type = SYSTEM_ALARM_ACE_TYPE;
        i += 2;
    } else {
        goto bad;
    }
    i++; /* ';' */
    /* ace_flags */
    while (s[i] && s[i] != ';') {
        bool found = false;
        for (size_t f = 0; f < NFLAGS && !found; f++) {
            if (ascii_upper(s[i]) == ace_flag_codes[f].code[0] && s[i + 1] &&
                ascii_upper(s[i + 1]) == ace_flag_codes[f].code[1]) {
                flags |= ace_flag_codes[f].flag;
                found = true;
            }
        }
        if (!found) goto bad;
        i += 2;
    }
    if (s[i] != ';') goto bad;
    i++;
    /* rights */
    k = parse_rights(s + i, &mask);
    if (!k) goto bad;
    i += k;
    if (s[i] != ';') goto bad;
    i++;
    /* object_guid and inherit_object_guid: only object ACEs have them */
    if (s[i] != ';') goto bad;
    i++;
    if (s[i] != ';') goto bad;
    i++;
    /* account_sid */
    k = sid_parse_prefix(s + i, sid, &sidlen);
    if (!k) goto bad;
    i += k;
    if (s[i] != ')') goto bad; /* resource attributes are not supported */
    i++;
    *ace_size = 8u + sidlen;
    if (out) {
        out[0] = type;
        out[1] = flags;
        wr16(out + 2, (uint16_t)*ace_size);
        wr32(out + 4, mask);
        memcpy(out + 8, sid, sidlen);
    }
    return i;
bad:
    c->err = i;
    return 0;
}

/* Parses the body of a "D:" or "S:" component starting at i (just after
 * the colon): flags then ACEs. *acl_size is 0 for a NULL ACL
 * (NO_ACCESS_CONTROL). Writes the ACL into out when out != NULL. Sets
 * *control to the SE_* bits the flags ask for. */
static size_t parse_acl(sddl_ctx *c, size_t i, bool sacl, uint8_t *out, uint32_t *acl_size,
                        uint16_t *control)
{
    const char *s = c->s;
    bool null_acl = false;
    uint32_t size = ACL_HEADER, count = 0;

    *control = 0;
    for (;;) {
        if (starts_with_ci(s + i, "NO_ACCESS_CONTROL")) {
            null_acl = true;
            i += 17;
        } else if (starts_with_ci(s + i, "AR")) {
            *control |= sacl ? SE_SACL_AUTO_INHERIT_REQ : SE_DACL_AUTO_INHERIT_REQ;
            i += 2;
        } else if (starts_with_ci(s + i, "AI")) {
            *control |= sacl ? SE_SACL_AUTO_INHERITED : SE_DACL_AUTO_INHERITED;
            i += 2;
        } else if (ascii_upper(s[i]) == 'P' && s[i + 1] != ':') {
            *control |= sacl ? SE_SACL_PROTECTED : SE_DACL_PROTECTED;
            i += 1;
        } else {
            break;
        }
    }
    for (;;) {
        uint32_t ace_size = 0;
        size_t at = skip_ws(s, i);
        if (s[at] != '(') break;
        if (null_acl) {
            c->err = at;
            return 0;
        }
        i = parse_ace(c, at, sacl, out ? out + size : NULL, &ace_size);
        if (!i) return 0;
        if (size + ace_size > 0xffffu || count == 0xffffu) {
            c->err = at; /* AclSize and AceCount are 16-bit */
            return 0;
        }
        size += ace_size;
        count++;
    }
    if (null_acl) {
        *acl_size = 0;
        return i;
    }
    if (out) {
        out[0] = ACL_REVISION;
        out[1] = 0;
        wr16(out + 2, (uint16_t)size);
        wr16(out + 4, (uint16_t)count);
        wr16(out + 6, 0);
    }
    *acl_size = size;
    return i;
}

enum { COMP_OWNER, COMP_GROUP, COMP_DACL, COMP_SACL, COMP_N };

uint32_t wfp_sddl_parse(const wfp_allocator *a, const char *sddl, uint8_t **sd, uint32_t *sd_len,
                        size_t *err_offset)
{
    sddl_ctx c = {sddl, 0};
    size_t start[COMP_N];
    bool present[COMP_N] = {false, false, false, false};
    uint32_t size[COMP_N] = {0, 0, 0, 0};
    uint16_t control = SE_SELF_RELATIVE, cbits;
    uint32_t off[COMP_N] = {0, 0, 0, 0}, total = SD_HEADER;
    uint8_t *buf;
    size_t i = 0;

    if (err_offset) *err_offset = 0;
    if (!a || !sddl || !sd || !sd_len) return ERROR_INVALID_PARAMETER;
    *sd = NULL;
    *sd_len = 0;

    /* Pass 1: find the components, check them, size them. */
    for (;;) {
        int comp;
        i = skip_ws(sddl, i);
        if (!sddl[i]) break;
        switch (ascii_upper(sddl[i])) {
        case 'O': comp = COMP_OWNER; break;
        case 'G': comp = COMP_GROUP; break;
        case 'D': comp = COMP_DACL; break;
        case 'S': comp = COMP_SACL; break;
        default: comp = -1; break;
        }
        if (comp < 0 || sddl[i + 1] != ':' || present[comp]) {
            c.err = i;
            goto bad;
        }
        present[comp] = true;
        i += 2;
        start[comp] = i;
        if (comp == COMP_OWNER || comp == COMP_GROUP) {
            uint8_t sid[WFP_SID_MAX];
            size_t k = sid_parse_prefix(sddl + i, sid, &size[comp]);
            if (!k) {
                c.err = i;
                goto bad;
            }
            i += k;
        } else {
            i = parse_acl(&c, i, comp == COMP_SACL, NULL, &size[comp], &cbits);
            if (!i) goto bad;
            control |= cbits;
            control |= comp == COMP_SACL ? SE_SACL_PRESENT : SE_DACL_PRESENT;
        }
    }

    /* Layout: header, SACL, DACL, owner, group (RtlMakeSelfRelativeSD). */
    {
        static const int order[COMP_N] = {COMP_SACL, COMP_DACL, COMP_OWNER, COMP_GROUP};
        for (int k = 0; k < COMP_N; k++) {
            int comp = order[k];
            if (present[comp] && size[comp]) {
                off[comp] = total;
                total += size[comp];
            }
        }
    }
    buf = a->alloc(a->ctx, total);
    if (!buf) return ERROR_NOT_ENOUGH_MEMORY;
    memset(buf, 0, total);
    buf[0] = SD_REVISION;
    wr16(buf + 2, control);
    wr32(buf + 4, off[COMP_OWNER]);
    wr32(buf + 8, off[COMP_GROUP]);
    wr32(buf + 12, off[COMP_SACL]);
    wr32(buf + 16, off[COMP_DACL]);

    /* Pass 2: write each component where it goes. Pass 1 proved that
     * every one parses, so these cannot fail. */
    for (int comp = 0; comp < COMP_N; comp++) {
        if (!present[comp] || !size[comp]) continue;
        if (comp == COMP_OWNER || comp == COMP_GROUP) {
            uint32_t l = 0;
            (void)sid_parse_prefix(sddl + start[comp], buf + off[comp], &l);
        } else {
            uint32_t l = 0;
            (void)parse_acl(&c, start[comp], comp == COMP_SACL, buf + off[comp], &l, &cbits);
        }
    }
    *sd = buf;
    *sd_len = total;
    return ERROR_SUCCESS;
bad:
    if (err_offset) *err_offset = c.err;
    return ERROR_INVALID_SECURITY_DESCR;
}

/* ---- binary SD: validation -------------------------------------------- */

/* Checks the ACL at off (len bytes of SD). */
static bool acl_valid(const uint8_t *sd, uint32_t len, uint32_t off)
{
    uint32_t acl_size, count, pos;

    if (off < SD_HEADER || (off & 3) || off > len || len - off < ACL_HEADER) return false;
    const uint8_t *acl = sd + off;
    if (acl[0] < ACL_REVISION || acl[0] > ACL_REVISION_DS) return false;
    acl_size = rd16(acl + 2);
    count = rd16(acl + 4);
    if (acl_size < ACL_HEADER || acl_size > len - off) return false;
    pos = ACL_HEADER;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t ace_size, sidlen;
        if (acl_size - pos < 8) return false;
        const uint8_t *ace = acl + pos;
        ace_size = rd16(ace + 2);
        if (ace_size < 8 || (ace_size & 3) || ace_size > acl_size - pos) return false;
        if (ace[0] > SYSTEM_ALARM_ACE_TYPE) return false; /* sim supports A, D, AU, AL */
        sidlen = sid_size_at(ace + 8, ace_size - 8);
        if (!sidlen || 8 + sidlen != ace_size) return false;
        pos += ace_size;
    }
    return true;
}

static bool sid_at_valid(const uint8_t *sd, uint32_t len, uint32_t off)
{
    if (off < SD_HEADER || (off & 3) || off >= len) return false;
    return sid_size_at(sd + off, len - off) != 0;
}

bool wfp_sd_valid(const uint8_t *sd, uint32_t len)
{
    uint16_t control;
    uint32_t owner, group, sacl, dacl;

    if (!sd || len < SD_HEADER) return false;
    if (sd[0] != SD_REVISION) return false;
    control = rd16(sd + 2);
    /* Only self-relative SDs can be carried in a condition (spec §2.3);
     * an absolute SD holds pointers, not offsets. */
    if (!(control & SE_SELF_RELATIVE)) return false;
    owner = rd32(sd + 4);
    group = rd32(sd + 8);
    sacl = rd32(sd + 12);
    dacl = rd32(sd + 16);
    if (owner && !sid_at_valid(sd, len, owner)) return false;
    if (group && !sid_at_valid(sd, len, group)) return false;
    if ((control & SE_SACL_PRESENT) && sacl && !acl_valid(sd, len, sacl)) return false;
    if ((control & SE_DACL_PRESENT) && dacl && !acl_valid(sd, len, dacl)) return false;
    return true;
}

/* ---- binary SD → SDDL ------------------------------------------------- */
static void ob_acl(outbuf *o, const uint8_t *sd, uint32_t off, uint16_t control, bool sacl)
{
    uint16_t prot = sacl ? SE_SACL_PROTECTED : SE_DACL_PROTECTED;
    uint16_t req = sacl ? SE_SACL_AUTO_INHERIT_REQ : SE_DACL_AUTO_INHERIT_REQ;
    uint16_t inh = sacl ? SE_SACL_AUTO_INHERITED : SE_DACL_AUTO_INHERITED;
    const uint8_t *acl;
    uint32_t pos = ACL_HEADER, count;

    ob_puts(o, sacl ? "S:" : "D:");
    if (control & prot) ob_putc(o, 'P');
    if (control & req) ob_puts(o, "AR");
    if (control & inh) ob_puts(o, "AI");
    if (!off) {
        ob_puts(o, "NO_ACCESS_CONTROL");
        return;
    }
    acl = sd + off;
    count = rd16(acl + 4);
    for (uint32_t k = 0; k < count; k++) {
        const uint8_t *ace = acl + pos;
        static const char *const types[] = {"A", "D", "AU", "AL"};
        uint16_t size = rd16(ace + 2);
        ob_putc(o, '(');
        ob_puts(o, types[ace[0]]);
        ob_putc(o, ';');
        for (size_t f = 0; f < NFLAGS; f++)
            if (ace[1] & ace_flag_codes[f].flag) ob_puts(o, ace_flag_codes[f].code);
        ob_putc(o, ';');
        ob_rights(o, rd32(ace + 4));
        ob_puts(o, ";;;");
        ob_sid_sddl(o, ace + 8, (uint32_t)size - 8);
        ob_putc(o, ')');
        pos += size;
    }
}

size_t wfp_sd_format(const uint8_t *sd, uint32_t len, char *buf, size_t n)
{
    outbuf o = {buf, n, 0};
    uint16_t control;
    uint32_t owner, group, sacl, dacl;

    if (!wfp_sd_valid(sd, len)) {
        ob_puts(&o, "<invalid-sd>");
        return ob_finish(&o);
    }
    control = rd16(sd + 2);
    owner = rd32(sd + 4);
    group = rd32(sd + 8);
    sacl = rd32(sd + 12);
    dacl = rd32(sd + 16);
    if (owner) {
        ob_puts(&o, "O:");
        ob_sid_sddl(&o, sd + owner, sid_size_at(sd + owner, len - owner));
    }
    if (group) {
        ob_puts(&o, "G:");
        ob_sid_sddl(&o, sd + group, sid_size_at(sd + group, len - group));
    }
    if (control & SE_DACL_PRESENT) ob_acl(&o, sd, dacl, control, false);
    if (control & SE_SACL_PRESENT) ob_acl(&o, sd, sacl, control, true);
    return ob_finish(&o);
}

/* ---- tokens and the access check -------------------------------------- */

/* Is the SID in the token (FWP_TOKEN_* encoding: SIDs back to back)?
 * *ok is cleared if the token is malformed. */
static bool token_has(const uint8_t *tok, uint32_t tlen, const uint8_t *sid, uint32_t slen,
                      bool *ok)
{
    uint32_t pos = 0;
    while (pos < tlen) {
        uint32_t l = sid_size_at(tok + pos, tlen - pos);
        if (!l) {
            *ok = false;
            return false;
        }
        if (sid_equal(tok + pos, l, sid, slen)) return true;
        pos += l;
    }
    return false;
}

static bool token_valid(const uint8_t *tok, uint32_t tlen)
{
    uint32_t pos = 0;
    if (tlen && !tok) return false;
    while (pos < tlen) {
        uint32_t l = sid_size_at(tok + pos, tlen - pos);
        if (!l) return false;
        pos += l;
    }
    return true;
}

/* Generic rights in an ACE or a request map through the FWPM generic
 * mapping (fwpmu.h). Sim-defined: Windows maps ACE masks when the SD is
 * stored (CreatePrivateObjectSecurity); mapping at check time gives the
 * same answer for SDs that were never stored. */
static uint32_t map_generic(uint32_t m)
{
    if (m & GENERIC_READ) m |= FWPM_GENERIC_READ;
    if (m & GENERIC_WRITE) m |= FWPM_GENERIC_WRITE;
    if (m & GENERIC_EXECUTE) m |= FWPM_GENERIC_EXECUTE;
    if (m & GENERIC_ALL) m |= FWPM_GENERIC_ALL;
    return m & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
}

bool wfp_sd_access_check(const uint8_t *sd, uint32_t sd_len, const uint8_t *token,
                         uint32_t token_len, uint32_t desired)
{
    if (!wfp_sd_valid(sd, sd_len) || !token_valid(token, token_len)) return false;
    /* SeAccessCheck: asking for nothing grants nothing. */
    if (!map_generic(desired)) return false;
    /* No DACL: everyone gets everything (dacls-and-aces). In a chain such
     * a level defers to the next one instead; alone there is no next. */
    if (!(rd16(sd + 2) & SE_DACL_PRESENT)) return true;
    return wfp_sd_access_check_chain(&sd, &sd_len, 1, token, token_len, desired, 0);
}

bool wfp_sd_access_check_chain(const uint8_t *const *sds, const uint32_t *lens, size_t n, const uint8_t *token,
                               uint32_t token_len, uint32_t desired, uint32_t implicit)
{
    static const uint8_t owner_rights[12] = {1, 1, 0, 0, 0, 0, 0, 3, 4, 0, 0, 0}; /* S-1-3-4 */
    uint32_t remaining;
    bool ok = true, is_owner = false, owner_ace = false, have_owner = false;

    if (!token_valid(token, token_len)) return false;
    remaining = map_generic(desired) & ~map_generic(implicit);
    if (!map_generic(desired)) return false;
    if (!remaining) return true;
    for (size_t i = 0; i < n; i++)
        if (sds[i] && !wfp_sd_valid(sds[i], lens[i])) return false;

    /* the owner: the first level that names one */
    for (size_t i = 0; i < n && !have_owner; i++) {
        if (!sds[i]) continue;
        uint32_t owner_off = rd32(sds[i] + 4);
        if (!owner_off) continue;
        have_owner = true;
        is_owner = token_has(token, token_len, sds[i] + owner_off, sid_size_at(sds[i] + owner_off, lens[i] - owner_off), &ok);
    }
    /* OWNER RIGHTS anywhere on the walked path replaces the implicit owner rights */
    for (size_t i = 0; i < n; i++) {
        if (!sds[i]) continue;
        uint16_t control = rd16(sds[i] + 2);
        uint32_t dacl_off = rd32(sds[i] + 16);
        if ((control & SE_DACL_PRESENT) && dacl_off) {
            const uint8_t *acl = sds[i] + dacl_off;
            uint32_t count = rd16(acl + 4), acl_size = rd16(acl + 2), pos = ACL_HEADER;
            for (uint32_t k = 0; k < count && pos < acl_size; k++) {
                const uint8_t *ace = acl + pos;
                uint16_t size = rd16(ace + 2);
                if (!(ace[1] & INHERIT_ONLY_ACE) &&
                    sid_equal(ace + 8, (uint32_t)size - 8, owner_rights, sizeof owner_rights))
                    owner_ace = true;
                pos += size;
            }
        }
        if (control & SE_DACL_PROTECTED) break;
    }
    if (is_owner && !owner_ace) remaining &= ~(READ_CONTROL | WRITE_DAC);
    if (!remaining) return true;

    for (size_t i = 0; i < n; i++) {
        if (!sds[i]) continue;
        uint16_t control = rd16(sds[i] + 2);
        uint32_t dacl_off = rd32(sds[i] + 16);
        if (control & SE_DACL_PRESENT) {
            if (!dacl_off) return true; /* a NULL DACL at this level: everything */
            const uint8_t *acl = sds[i] + dacl_off;
            uint32_t count = rd16(acl + 4), pos = ACL_HEADER;
            for (uint32_t k = 0; k < count; k++) {
                const uint8_t *ace = acl + pos;
                uint16_t size = rd16(ace + 2);
                uint32_t mask = map_generic(rd32(ace + 4));
                const uint8_t *sid = ace + 8;
                uint32_t slen = (uint32_t)size - 8;
                bool applies;
                pos += size;
                if (ace[1] & INHERIT_ONLY_ACE) continue;
                if (ace[0] != ACCESS_ALLOWED_ACE_TYPE && ace[0] != ACCESS_DENIED_ACE_TYPE) continue;
                if (sid_equal(sid, slen, owner_rights, sizeof owner_rights)) applies = is_owner;
                else applies = token_has(token, token_len, sid, slen, &ok);
                if (!ok) return false;
                if (!applies) continue;
                if (ace[0] == ACCESS_DENIED_ACE_TYPE) {
                    if (mask & remaining) return false;
                } else {
                    remaining &= ~mask;
                    if (!remaining) return true;
                }
            }
        }
        if (control & SE_DACL_PROTECTED) break;
    }
    return false;
}

bool wfp_token_build(const wfp_allocator *a, const char *const *sids, size_t count,
                     uint8_t **token, uint32_t *token_len)
{
    uint8_t sid[WFP_SID_MAX];
    uint32_t l, total = 0, pos = 0;
    uint8_t *buf;

    if (!a || !token || !token_len || (count && !sids)) return false;
    *token = NULL;
    *token_len = 0;
    for (size_t i = 0; i < count; i++) {
        if (!wfp_sid_parse(sids[i], sid, &l)) return false;
        if (total > UINT32_MAX - WFP_SID_MAX) return false;
        total += l;
    }
    if (!total) return true;
    buf = a->alloc(a->ctx, total);
    if (!buf) return false;
    for (size_t i = 0; i < count; i++) {
        (void)wfp_sid_parse(sids[i], buf + pos, &l);
        pos += l;
    }
    *token = buf;
    *token_len = total;
    return true;
}

/* ---- application ids -------------------------------------------------- */

/* Next code point of UTF-8 text; returns bytes used, 0 on invalid input. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t n;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) { n = 2; c &= 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { n = 3; c &= 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { n = 4; c &= 0x07; min = 0x10000; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3fu);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return n;
}

/* Emits the UTF-16LE form of one code point (lower-cased if ASCII) into
 * out (when not NULL) and returns the byte count. */
static uint32_t put_utf16(uint8_t *out, uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    if (cp == '/') cp = '\\';
    if (cp < 0x10000) {
        if (out) wr16(out, (uint16_t)cp);
        return 2;
    }
    cp -= 0x10000;
    if (out) {
        wr16(out, (uint16_t)(0xd800 + (cp >> 10)));
        wr16(out + 2, (uint16_t)(0xdc00 + (cp & 0x3ff)));
    }
    return 4;
}

/* One pass of the conversion: measures (out == NULL) or writes. Returns
 * the byte count including the NUL, 0 on an unusable path. */
static uint32_t app_id_run(const char *path, const uint8_t *volume_of_drive, uint8_t *out)
{
    const unsigned char *p = (const unsigned char *)path;
    uint32_t len = 0;
    char prefix[40];
    size_t plen = 0;

    /* "\\?\C:\x" is the same file as "C:\x". */
    if ((p[0] == '\\' || p[0] == '/') && (p[1] == '\\' || p[1] == '/') && p[2] == '?' &&
        (p[3] == '\\' || p[3] == '/'))
        p += 4;
    if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' &&
        (p[2] == '\\' || p[2] == '/')) {
        unsigned drive = (unsigned)(ascii_upper((char)p[0]) - 'A');
        unsigned vol = volume_of_drive && volume_of_drive[drive] ? volume_of_drive[drive]
                                                                 : drive + 1;
        char num[4];
        size_t nl = 0;
        const char *head = "\\device\\harddiskvolume";
        while (*head) prefix[plen++] = *head++;
        do {
            num[nl++] = (char)('0' + vol % 10);
            vol /= 10;
        } while (vol);
        while (nl) prefix[plen++] = num[--nl];
        p += 2; /* keep the '\' after the colon */
    } else if ((p[0] == '\\' || p[0] == '/') && (p[1] == '\\' || p[1] == '/') && p[2] &&
               p[2] != '\\' && p[2] != '/') {
        /* UNC: \\server\share\x → \device\mup\server\share\x */
        const char *head = "\\device\\mup";
        while (*head) prefix[plen++] = *head++;
        p += 1;
    } else if (p[0] == '\\' && starts_with_ci((const char *)p + 1, "DEVICE\\")) {
        /* already an NT device path: only lower-cased */
    } else {
        return 0;
    }
    for (size_t i = 0; i < plen; i++) len += put_utf16(out ? out + len : NULL, (uint8_t)prefix[i]);
    while (*p) {
        uint32_t cp;
        size_t k = utf8_next(p, &cp);
        if (!k || cp == 0) return 0;
        if (len > UINT32_MAX - 8) return 0;
        len += put_utf16(out ? out + len : NULL, cp);
        p += k;
    }
    if (out) wr16(out + len, 0);
    return len + 2;
}

bool wfp_app_id_from_path(const wfp_allocator *a, const char *path,
                          const uint8_t *volume_of_drive, uint8_t **blob, uint32_t *len)
{
    uint32_t size;
    uint8_t *buf;

    if (!a || !path || !blob || !len) return false;
    *blob = NULL;
    *len = 0;
    size = app_id_run(path, volume_of_drive, NULL);
    if (!size) return false;
    buf = a->alloc(a->ctx, size);
    if (!buf) return false;
    (void)app_id_run(path, volume_of_drive, buf);
    *blob = buf;
    *len = size;
    return true;
}

static void ob_utf8(outbuf *o, uint32_t cp)
{
    if (cp < 0x80) {
        ob_putc(o, (char)cp);
    } else if (cp < 0x800) {
        ob_putc(o, (char)(0xc0 | cp >> 6));
        ob_putc(o, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        ob_putc(o, (char)(0xe0 | cp >> 12));
        ob_putc(o, (char)(0x80 | ((cp >> 6) & 0x3f)));
        ob_putc(o, (char)(0x80 | (cp & 0x3f)));
    } else {
        ob_putc(o, (char)(0xf0 | cp >> 18));
        ob_putc(o, (char)(0x80 | ((cp >> 12) & 0x3f)));
        ob_putc(o, (char)(0x80 | ((cp >> 6) & 0x3f)));
        ob_putc(o, (char)(0x80 | (cp & 0x3f)));
    }
}

size_t wfp_app_id_format(const uint8_t *blob, uint32_t len, char *buf, size_t n)
{
    outbuf o = {buf, n, 0};
    uint32_t units = blob ? len / 2 : 0;

    /* Drop the terminating NUL (and anything after an embedded one). */
    for (uint32_t i = 0; i < units; i++) {
        uint32_t u = rd16(blob + 2 * i);
        if (u == 0) break;
        if (u >= 0xd800 && u <= 0xdbff && i + 1 < units) {
            uint32_t lo = rd16(blob + 2 * i + 2);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                ob_utf8(&o, 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00));
                i++;
                continue;
            }
        }
        if (u >= 0xd800 && u <= 0xdfff) u = 0xfffd; /* lone surrogate */
        ob_utf8(&o, u);
    }
    return ob_finish(&o);
}
