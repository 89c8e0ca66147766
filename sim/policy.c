/* policy.c — the `policy:` part of a scenario: YAML bodies to FWPM
 * descriptors, names to keys, condition values by field data type, and the
 * declarative classify functions of callouts.
 *
 * Parsing and adding are separate steps (wfp_policy_object_parse / _add) so
 * that the runner's add_* steps can compare the engine's code with an
 * `expect_error`. Values are parsed by the data type the field has in the
 * filter's layer (wfp_layer_field.data_type), which is what makes "443" a
 * FWP_UINT16 on IP_REMOTE_PORT and "10.0.0.0/8" a FWP_V4_ADDR_MASK on
 * IP_REMOTE_ADDRESS. Conditions that the engine would refuse are not
 * refused here (unless asked to validate), so scenarios can pin FwpmFilterAdd0's
 * codes. Choices the format leaves open are marked "sim-defined" and
 * recorded in docs/sim-defined.md. */
#include "policy.h"
#include "wfp_host.h"
#include "wfp_import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- owned storage ----------------------------------------------------- */

/* A list of malloc'd blocks freed together (condition blobs, strings). */
typedef struct owned {
    void ***v;
    size_t *n, *cap;
} owned;

static bool own(owned o, void *p)
{
    if (!p) return false;
    if (*o.n == *o.cap) {
        size_t nc = *o.cap ? *o.cap * 2 : 8;
        void **nv = realloc(*o.v, nc * sizeof *nv);
        if (!nv) {
            free(p);
            return false;
        }
        *o.v = nv;
        *o.cap = nc;
    }
    (*o.v)[(*o.n)++] = p;
    return true;
}

static void *own_alloc(owned o, size_t n)
{
    void *p = calloc(1, n ? n : 1);
    return own(o, p) ? p : NULL;
}

static void own_free(owned o)
{
    for (size_t i = 0; i < *o.n; i++) free((*o.v)[i]);
    free(*o.v);
    *o.v = NULL;
    *o.n = *o.cap = 0;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* `s` equals `name` or `prefix`+`name`, ignoring ASCII case. */
static bool name_is(const char *s, const char *prefix, const char *name)
{
    size_t pl = strlen(prefix);
    if (wfp_yaml_ascii_nieq(s, prefix, pl) && strlen(s) >= pl) {
        if (wfp_yaml_ascii_ieq(s + pl, name)) return true;
    }
    return wfp_yaml_ascii_ieq(s, name);
}

/* ---- name tables ------------------------------------------------------- */

typedef struct named {
    const char *name;
    uint64_t value;
} named;

static const named protocols[] = {{"icmp", 1},  {"igmp", 2},   {"tcp", 6},  {"udp", 17},    {"ipv6", 41},
                                  {"gre", 47},  {"esp", 50},   {"ah", 51},  {"icmpv6", 58}, {"ipv6-icmp", 58},
                                  {"sctp", 132}};
static const named directions[] = {{"outbound", FWP_DIRECTION_OUTBOUND}, {"inbound", FWP_DIRECTION_INBOUND}};
/* NL_ADDRESS_TYPE (nldef.h) */
static const named address_types[] = {{"unspecified", 0}, {"unicast", 1}, {"anycast", 2}, {"multicast", 3},
                                      {"broadcast", 4}};
static const named condition_flags[] = {
    {"is_loopback", FWP_CONDITION_FLAG_IS_LOOPBACK},
    {"is_ipsec_secured", FWP_CONDITION_FLAG_IS_IPSEC_SECURED},
    {"is_reauthorize", FWP_CONDITION_FLAG_IS_REAUTHORIZE},
    {"is_wildcard_bind", FWP_CONDITION_FLAG_IS_WILDCARD_BIND},
    {"is_raw_endpoint", FWP_CONDITION_FLAG_IS_RAW_ENDPOINT},
    {"is_fragment", FWP_CONDITION_FLAG_IS_FRAGMENT},
    {"is_fragment_group", FWP_CONDITION_FLAG_IS_FRAGMENT_GROUP},
    {"is_ipsec_natt_reclassify", FWP_CONDITION_FLAG_IS_IPSEC_NATT_RECLASSIFY},
    {"requires_ale_classify", FWP_CONDITION_FLAG_REQUIRES_ALE_CLASSIFY},
    {"is_implicit_bind", FWP_CONDITION_FLAG_IS_IMPLICIT_BIND},
    {"is_reassembled", FWP_CONDITION_FLAG_IS_REASSEMBLED},
    {"is_name_app_specified", FWP_CONDITION_FLAG_IS_NAME_APP_SPECIFIED},
    {"is_promiscuous", FWP_CONDITION_FLAG_IS_PROMISCUOUS},
    {"is_auth_fw", FWP_CONDITION_FLAG_IS_AUTH_FW},
    {"is_reclassify", FWP_CONDITION_FLAG_IS_RECLASSIFY},
    {"is_outbound_pass_thru", FWP_CONDITION_FLAG_IS_OUTBOUND_PASS_THRU},
    {"is_inbound_pass_thru", FWP_CONDITION_FLAG_IS_INBOUND_PASS_THRU},
    {"is_connection_redirected", FWP_CONDITION_FLAG_IS_CONNECTION_REDIRECTED},
    {"is_proxy_connection", FWP_CONDITION_FLAG_IS_PROXY_CONNECTION},
    {"is_appcontainer_loopback", FWP_CONDITION_FLAG_IS_APPCONTAINER_LOOPBACK},
    {"is_non_appcontainer_loopback", FWP_CONDITION_FLAG_IS_NON_APPCONTAINER_LOOPBACK},
    {"is_reserved", FWP_CONDITION_FLAG_IS_RESERVED},
    {"is_honoring_policy_authorize", FWP_CONDITION_FLAG_IS_HONORING_POLICY_AUTHORIZE},
};
static const named reauth_reasons[] = {
    {"policy_change", 0x1},          {"new_arrival_interface", 0x2},          {"new_nexthop_interface", 0x4},
    {"profile_crossing", 0x8},       {"classify_completion", 0x10},           {"ipsec_properties_changed", 0x20},
    {"mid_stream_inspection", 0x40}, {"socket_property_changed", 0x80},       {"new_inbound_mcast_bcast_packet", 0x100},
    {"edp_policy_changed", 0x200},   {"proxy_handle_changed", 0x4000},        {"check_offload", 0x10000},
};
static const named l2_flags[] = {
    {"is_native_ethernet", 0x1},  {"is_wifi", 0x2},           {"is_mobile_broadband", 0x4},
    {"is_wifi_direct_data", 0x8}, {"is_vm2vm", 0x10},         {"is_malformed_packet", 0x20},
    {"is_ip_fragment_group", 0x40}, {"if_connector_present", 0x80},
};
static const named socket_property_flags[] = {
    {"is_system_port_rpc", 0x1}, {"allow_edge_traffic", 0x2}, {"deny_edge_traffic", 0x4}};

static const named filter_flags[] = {
    {"none", FWPM_FILTER_FLAG_NONE},
    {"persistent", FWPM_FILTER_FLAG_PERSISTENT},
    {"boottime", FWPM_FILTER_FLAG_BOOTTIME},
    {"has_provider_context", FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT},
    {"clear_action_right", FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT},
    {"permit_if_callout_unregistered", FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED},
    {"disabled", FWPM_FILTER_FLAG_DISABLED},
    {"indexed", FWPM_FILTER_FLAG_INDEXED},
    {"has_security_realm_provider_context", FWPM_FILTER_FLAG_HAS_SECURITY_REALM_PROVIDER_CONTEXT},
    {"systemos_only", FWPM_FILTER_FLAG_SYSTEMOS_ONLY},
    {"gameos_only", FWPM_FILTER_FLAG_GAMEOS_ONLY},
    {"silent_mode", FWPM_FILTER_FLAG_SILENT_MODE},
    {"ipsec_no_acquire_initiate", FWPM_FILTER_FLAG_IPSEC_NO_ACQUIRE_INITIATE},
    {"reserved0", FWPM_FILTER_FLAG_RESERVED0},
    {"reserved1", FWPM_FILTER_FLAG_RESERVED1},
};
static const named provider_flags[] = {{"persistent", FWPM_PROVIDER_FLAG_PERSISTENT},
                                       {"disabled", FWPM_PROVIDER_FLAG_DISABLED}};
static const named sublayer_flags[] = {{"persistent", FWPM_SUBLAYER_FLAG_PERSISTENT}};
static const named callout_flags[] = {{"persistent", FWPM_CALLOUT_FLAG_PERSISTENT},
                                      {"uses_provider_context", FWPM_CALLOUT_FLAG_USES_PROVIDER_CONTEXT},
                                      {"registered", FWPM_CALLOUT_FLAG_REGISTERED}};

static const named actions[] = {
    {"permit", FWP_ACTION_PERMIT},
    {"block", FWP_ACTION_BLOCK},
    {"callout_terminating", FWP_ACTION_CALLOUT_TERMINATING},
    {"callout_inspection", FWP_ACTION_CALLOUT_INSPECTION},
    {"callout_unknown", FWP_ACTION_CALLOUT_UNKNOWN},
};

static bool lookup_named(const named *t, size_t n, const char *prefix, const char *s, uint64_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (name_is(s, prefix, t[i].name)) {
            *out = t[i].value;
            return true;
        }
    }
    return false;
}

static void list_named(const named *t, size_t n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", t[i].name);
        if (w < 0 || (size_t)w >= cap - used) break;
        used += (size_t)w;
    }
}

/* ---- field hints -------------------------------------------------------- */

/* What a field's values mean beyond their data type: which names an
 * integer accepts, whether a blob is an application id. */
typedef enum hint {
    H_NONE,
    H_PROTOCOL,
    H_DIRECTION,
    H_ADDRESS_TYPE,
    H_COND_FLAGS,
    H_REAUTH,
    H_L2_FLAGS,
    H_SOCKET_PROPERTY,
    H_APP_ID
} hint;

typedef struct field_info {
    const wfp_condition_info *cond; /* canonical entry */
    uint32_t data_type;             /* in this layer; FWP_EMPTY if not in the layer */
    uint32_t field_type;            /* FWPM_FIELD_* */
    hint h;
    bool in_layer;
    int index;
} field_info;

static bool cond_named(const wfp_condition_info *c, const char *suffix)
{
    const wfp_condition_info *n = wfp_catalog_condition_by_name(suffix);
    return c && n && wfp_guid_eq(&c->key, &n->key);
}

static void field_hint(field_info *f)
{
    const wfp_condition_info *c = f->cond;
    f->h = H_NONE;
    if (cond_named(c, "IP_PROTOCOL") || cond_named(c, "EMBEDDED_PROTOCOL"))
        f->h = H_PROTOCOL;
    else if (cond_named(c, "DIRECTION"))
        f->h = H_DIRECTION;
    else if (cond_named(c, "IP_LOCAL_ADDRESS_TYPE") || cond_named(c, "IP_DESTINATION_ADDRESS_TYPE") ||
             cond_named(c, "EMBEDDED_LOCAL_ADDRESS_TYPE"))
        f->h = H_ADDRESS_TYPE;
    else if (cond_named(c, "FLAGS"))
        f->h = H_COND_FLAGS;
    else if (cond_named(c, "REAUTHORIZE_REASON") || cond_named(c, "ALE_REAUTH_REASON"))
        f->h = H_REAUTH;
    else if (cond_named(c, "L2_FLAGS"))
        f->h = H_L2_FLAGS;
    else if (cond_named(c, "ALE_SIO_FIREWALL_SYSTEM_PORT"))
        f->h = H_SOCKET_PROPERTY;
    else if (cond_named(c, "ALE_APP_ID") || cond_named(c, "ALE_ORIGINAL_APP_ID"))
        f->h = H_APP_ID;
}

static bool hint_is_flags(hint h)
{
    return h == H_COND_FLAGS || h == H_REAUTH || h == H_L2_FLAGS || h == H_SOCKET_PROPERTY;
}

static const named *hint_names(hint h, size_t *n, const char **prefix)
{
    *prefix = "";
    switch (h) {
    case H_PROTOCOL: *n = COUNT_OF(protocols); return protocols;
    case H_DIRECTION: *prefix = "FWP_DIRECTION_"; *n = COUNT_OF(directions); return directions;
    case H_ADDRESS_TYPE: *prefix = "NLAT_"; *n = COUNT_OF(address_types); return address_types;
    case H_COND_FLAGS: *prefix = "FWP_CONDITION_FLAG_"; *n = COUNT_OF(condition_flags); return condition_flags;
    case H_REAUTH: *prefix = "FWP_CONDITION_REAUTHORIZE_REASON_"; *n = COUNT_OF(reauth_reasons); return reauth_reasons;
    case H_L2_FLAGS: *prefix = "FWP_CONDITION_L2_"; *n = COUNT_OF(l2_flags); return l2_flags;
    case H_SOCKET_PROPERTY:
        *prefix = "FWP_CONDITION_SOCKET_PROPERTY_FLAG_";
        *n = COUNT_OF(socket_property_flags);
        return socket_property_flags;
    default: *n = 0; return NULL;
    }
}

/* Resolves a field name against a layer (layer NULL: not in any layer). */
static bool field_lookup(const wfp_layer_info *layer, const char *name, field_info *out)
{
    const wfp_condition_info *c = wfp_catalog_condition_by_name(name);
    memset(out, 0, sizeof *out);
    out->index = -1;
    if (!c) return false;
    out->cond = wfp_catalog_condition_by_key(&c->key);
    if (!out->cond) out->cond = c;
    if (layer) {
        out->index = wfp_catalog_field_index(layer, &c->key);
        if (out->index >= 0) {
            out->in_layer = true;
            out->data_type = layer->fields[out->index].data_type;
            out->field_type = layer->fields[out->index].field_type;
        }
    }
    field_hint(out);
    return true;
}

static const char *short_name(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) ? s : s + n;
}

static void list_layer_fields(const wfp_layer_info *layer, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (uint16_t i = 0; i < layer->num_fields; i++) {
        const char *nm = short_name(layer->fields[i].condition->name, "FWPM_CONDITION_");
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", nm);
        if (w < 0 || (size_t)w >= cap - used) break;
        used += (size_t)w;
    }
}

/* ---- scalar value parsing ---------------------------------------------- */

typedef struct vctx {
    owned store;
    const field_info *f;
    uint32_t match;     /* for app-id fragments (PREFIX) */
    char why[512];       /* what was expected, on failure */
} vctx;

static bool why(vctx *c, const char *fmt, ...) WFP_YAML_PRINTF(2, 3);
static bool why(vctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    return false;
}

static uint64_t type_max(uint32_t type)
{
    switch (type) {
    case FWP_UINT8: return UINT8_MAX;
    case FWP_UINT16: return UINT16_MAX;
    case FWP_UINT32: return UINT32_MAX;
    default: return UINT64_MAX;
    }
}

static void set_uint(wfp_value *v, uint32_t type, uint64_t x)
{
    v->type = type;
    switch (type) {
    case FWP_UINT8: v->v.u8 = (uint8_t)x; break;
    case FWP_UINT16: v->v.u16 = (uint16_t)x; break;
    case FWP_UINT32: v->v.u32 = (uint32_t)x; break;
    default: v->v.u64 = x; break;
    }
}

static const char *type_label(uint32_t type)
{
    const char *n = wfp_data_type_name(type);
    return n ? n : "?";
}

/* Trims ASCII blanks from both ends of [s, s+n) into buf. */
static bool trimmed(const char *s, size_t n, char *buf, size_t cap)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (!n || n >= cap) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    return true;
}

/* An unsigned integer: a number, or a name the field knows; flags fields
 * also take names/numbers joined by '|' or ','. */
static bool parse_uint_text(vctx *c, uint32_t type, const char *s, uint64_t *out)
{
    uint64_t max = type_max(type), v = 0;
    hint h = c->f ? c->f->h : H_NONE;
    size_t nn;
    const char *prefix;
    const named *names = hint_names(h, &nn, &prefix);
    char list[768];

    if (wfp_yaml_parse_uint64(s, strlen(s), &v)) {
        if (v > max) return why(c, "a number from 0 to %llu for %s", (unsigned long long)max, type_label(type));
        *out = v;
        return true;
    }
    if (names && !hint_is_flags(h) && lookup_named(names, nn, prefix, s, &v) && v <= max) {
        *out = v;
        return true;
    }
    if (names && hint_is_flags(h)) {
        const char *p = s;
        v = 0;
        for (;;) {
            const char *q = p;
            while (*q && *q != '|' && *q != ',') q++;
            char part[96];
            uint64_t x;
            if (!trimmed(p, (size_t)(q - p), part, sizeof part)) break;
            if (!wfp_yaml_parse_uint64(part, strlen(part), &x) && !lookup_named(names, nn, prefix, part, &x)) break;
            v |= x;
            if (!*q) {
                if (v > max) break;
                *out = v;
                return true;
            }
            p = q + 1;
        }
        list_named(names, nn, list, sizeof list);
        return why(c, "a number, or flag names joined by '|' (%s)", list);
    }
    if (names) {
        list_named(names, nn, list, sizeof list);
        return why(c, "a number from 0 to %llu or one of: %s", (unsigned long long)max, list);
    }
    return why(c, "a number from 0 to %llu (%s, decimal or 0x hex)", (unsigned long long)max, type_label(type));
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch = lower(ch);
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

static bool is_hex_form(const char *s)
{
    return wfp_yaml_ascii_nieq(s, "hex:", 4) && strlen(s) >= 4;
}

/* "hex:01 02ab": pairs of hex digits, blanks ignored. */
static bool parse_hex(vctx *c, const char *s, uint8_t **data, uint32_t *len)
{
    size_t n = 0;
    uint8_t *buf;
    int hi = -1;
    s += 4;
    buf = own_alloc(c->store, strlen(s) / 2 + 1);
    if (!buf) return why(c, "memory");
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == ':' || *s == '_') continue;
        int d = hexval((unsigned char)*s);
        if (d < 0) return why(c, "hex:… with an even number of hex digits");
        if (hi < 0) {
            hi = d;
        } else {
            buf[n++] = (uint8_t)(hi << 4 | d);
            hi = -1;
        }
    }
    if (hi >= 0) return why(c, "hex:… with an even number of hex digits");
    *data = buf;
    *len = (uint32_t)n;
    return true;
}

/* UTF-8 text to UTF-16LE with a terminating NUL (what Windows keeps in
 * string blobs); `fold` lower-cases ASCII letters. */
static bool utf16_blob(vctx *c, const char *s, bool fold, uint8_t **data, uint32_t *len)
{
    size_t n = strlen(s);
    uint8_t *out = own_alloc(c->store, n * 4 + 2);
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    if (!out) return why(c, "memory");
    while (*p) {
        uint32_t cp;
        size_t k;
        if (*p < 0x80) {
            cp = *p;
            k = 1;
        } else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
            cp = (uint32_t)(*p & 0x1f) << 6 | (p[1] & 0x3f);
            k = 2;
            if (cp < 0x80) return why(c, "valid UTF-8 text");
        } else if ((*p & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
            cp = (uint32_t)(*p & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
            k = 3;
            if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) return why(c, "valid UTF-8 text");
        } else if ((*p & 0xf8) == 0xf0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
            cp = (uint32_t)(*p & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 |
                 (p[3] & 0x3f);
            k = 4;
            if (cp < 0x10000 || cp > 0x10ffff) return why(c, "valid UTF-8 text");
        } else {
            return why(c, "valid UTF-8 text");
        }
        if (fold && cp < 0x80) cp = (uint32_t)lower((int)cp);
        if (cp >= 0x10000) {
            uint32_t x = cp - 0x10000, hi = 0xd800 + (x >> 10), lo = 0xdc00 + (x & 0x3ff);
            out[o++] = (uint8_t)hi;
            out[o++] = (uint8_t)(hi >> 8);
            out[o++] = (uint8_t)lo;
            out[o++] = (uint8_t)(lo >> 8);
        } else {
            out[o++] = (uint8_t)cp;
            out[o++] = (uint8_t)(cp >> 8);
        }
        p += k;
    }
    out[o++] = 0;
    out[o++] = 0;
    *data = out;
    *len = (uint32_t)o;
    return true;
}

static bool parse_mac(const char *s, uint8_t out[6])
{
    for (int i = 0; i < 6; i++) {
        int a = hexval((unsigned char)s[0]), b = a < 0 ? -1 : hexval((unsigned char)s[1]);
        if (a < 0 || b < 0) return false;
        out[i] = (uint8_t)(a << 4 | b);
        s += 2;
        if (i < 5) {
            if (*s != ':' && *s != '-') return false;
            s++;
        }
    }
    return *s == 0;
}

static bool is_ip_field(const field_info *f)
{
    return f && f->in_layer && f->field_type == FWPM_FIELD_IP_ADDRESS;
}

/* Builds a token blob from "S-1-5-21-…,BA" (user first). */
static bool parse_token(vctx *c, const char *s, wfp_value *out, uint32_t type)
{
    const char *sids[64];
    char buf[2048];
    size_t n = 0, len = strlen(s);
    uint8_t *tok = NULL;
    uint32_t toklen = 0;
    if (len >= sizeof buf) return why(c, "a shorter SID list");
    memcpy(buf, s, len + 1);
    for (char *p = buf; *p;) {
        char *q = p;
        while (*q && *q != ',') q++;
        char *end = q;
        bool last = !*q;
        *q = 0;
        while (*p == ' ') p++;
        while (end > p && end[-1] == ' ') *--end = 0;
        uint8_t sid[WFP_SID_MAX];
        uint32_t sl;
        if (!*p || !wfp_sid_parse(p, sid, &sl) || n == COUNT_OF(sids))
            return why(c, "a token: SIDs (S-1-5-21-… or aliases like BA) separated by commas, the user first");
        sids[n++] = p;
        if (last) break;
        p = q + 1;
    }
    if (!n) return why(c, "a token: SIDs separated by commas, the user first");
    if (!wfp_token_build(wfp_allocator_default(), sids, n, &tok, &toklen)) return why(c, "memory");
    if (!own(c->store, tok)) return why(c, "memory");
    out->type = type;
    out->v.blob.data = tok;
    out->v.blob.size = toklen;
    return true;
}

static bool parse_sd(vctx *c, const char *s, wfp_value *out)
{
    uint8_t *sd = NULL;
    uint32_t len = 0;
    size_t at = 0;
    char sddl[256];
    uint8_t sid[WFP_SID_MAX];
    uint32_t sl;
    /* Sim-defined shorthand: a bare SID grants that SID FWP_ACTRL_MATCH_FILTER. */
    if (!strchr(s, ':') && !strchr(s, '(') && wfp_sid_parse(s, sid, &sl)) {
        snprintf(sddl, sizeof sddl, "O:SYD:(A;;CC;;;%s)", s);
        s = sddl;
    }
    uint32_t rc = wfp_sddl_parse(wfp_allocator_default(), s, &sd, &len, &at);
    if (rc == ERROR_NOT_ENOUGH_MEMORY) return why(c, "memory");
    if (rc) return why(c, "an SDDL security descriptor like \"O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1001)\" or a SID (bad at offset %lu)",
                       (unsigned long)at);
    if (!own(c->store, sd)) return why(c, "memory");
    out->type = FWP_SECURITY_DESCRIPTOR_TYPE;
    out->v.blob.data = sd;
    out->v.blob.size = len;
    return true;
}

/* One value of a single data type from text. */
static bool parse_value(vctx *c, uint32_t type, const char *s, wfp_value *out)
{
    memset(out, 0, sizeof *out);
    out->type = type;
    switch (type) {
    case FWP_EMPTY:
        if (wfp_yaml_ascii_ieq(s, "empty")) return true;
        return why(c, "'empty'");
    case FWP_UINT8:
    case FWP_UINT16:
    case FWP_UINT32:
    case FWP_UINT64: {
        uint64_t x;
        if (type == FWP_UINT32 && is_ip_field(c->f) && c->f->data_type == FWP_UINT32) {
            uint32_t a;
            if (wfp_ipv4_parse(s, &a)) {
                set_uint(out, type, a);
                return true;
            }
            if (!wfp_yaml_parse_uint64(s, strlen(s), &x))
                return why(c, "an IPv4 address like 10.0.0.1 (or 10.0.0.0/8, or a range 10.0.0.1-10.0.0.9)");
        }
        if (!parse_uint_text(c, type, s, &x)) return false;
        set_uint(out, type, x);
        return true;
    }
    case FWP_INT8:
    case FWP_INT16:
    case FWP_INT32:
    case FWP_INT64: {
        int64_t x, lo = INT64_MIN, hi = INT64_MAX;
        if (type == FWP_INT8) lo = INT8_MIN, hi = INT8_MAX;
        if (type == FWP_INT16) lo = INT16_MIN, hi = INT16_MAX;
        if (type == FWP_INT32) lo = INT32_MIN, hi = INT32_MAX;
        if (!wfp_yaml_parse_int64(s, strlen(s), &x) || x < lo || x > hi)
            return why(c, "an integer from %lld to %lld (%s)", (long long)lo, (long long)hi, type_label(type));
        if (type == FWP_INT8) out->v.i8 = (int8_t)x;
        else if (type == FWP_INT16) out->v.i16 = (int16_t)x;
        else if (type == FWP_INT32) out->v.i32 = (int32_t)x;
        else out->v.i64 = x;
        return true;
    }
    case FWP_FLOAT:
    case FWP_DOUBLE: {
        char *end = NULL;
        double d = strtod(s, &end);
        if (!*s || !end || *end) return why(c, "a decimal number (%s)", type_label(type));
        if (type == FWP_FLOAT) out->v.f32 = (float)d;
        else out->v.f64 = d;
        return true;
    }
    case FWP_BYTE_ARRAY16_TYPE: {
        wfp_guid g;
        if (wfp_ipv6_parse(s, out->v.bytes16)) return true;
        if (wfp_guid_parse(s, &g)) {
            wfp_guid_to_bytes(&g, out->v.bytes16);
            return true;
        }
        if (is_hex_form(s)) {
            uint8_t *d;
            uint32_t n;
            if (parse_hex(c, s, &d, &n) && n == 16) {
                memcpy(out->v.bytes16, d, 16);
                return true;
            }
        }
        if (is_ip_field(c->f)) return why(c, "an IPv6 address like 2001:db8::1 (or 2001:db8::/32)");
        return why(c, "16 bytes: an IPv6 address, a {GUID} or hex:<32 hex digits>");
    }
    case FWP_BYTE_ARRAY6_TYPE:
        if (parse_mac(s, out->v.bytes6)) return true;
        return why(c, "a MAC address like 00:11:22:33:44:55");
    case FWP_BYTE_BLOB_TYPE: {
        uint8_t *d = NULL;
        uint32_t n = 0;
        if (is_hex_form(s)) {
            if (!parse_hex(c, s, &d, &n)) return false;
        } else if (c->f && c->f->h == H_APP_ID) {
            if (wfp_app_id_from_path(wfp_allocator_default(), s, NULL, &d, &n)) {
                if (!own(c->store, d)) return why(c, "memory");
            } else if (c->match == FWP_MATCH_PREFIX || c->match == FWP_MATCH_NOT_PREFIX) {
                /* a path suffix ("\\app.exe"), in the app id's form */
                if (!utf16_blob(c, s, true, &d, &n)) return false;
            } else {
                return why(c, "a Windows path like 'C:\\Program Files\\App\\app.exe' (or hex:…)");
            }
        } else if (!utf16_blob(c, s, false, &d, &n)) {
            return false;
        }
        out->v.blob.data = d;
        out->v.blob.size = n;
        return true;
    }
    case FWP_SID: {
        uint8_t sid[WFP_SID_MAX];
        uint32_t n;
        if (!wfp_sid_parse(s, sid, &n)) return why(c, "a SID like S-1-5-21-1-2-3-1001 (or an alias like BA)");
        uint8_t *d = own_alloc(c->store, n);
        if (!d) return why(c, "memory");
        memcpy(d, sid, n);
        out->v.blob.data = d;
        out->v.blob.size = n;
        return true;
    }
    case FWP_SECURITY_DESCRIPTOR_TYPE:
        return parse_sd(c, s, out);
    case FWP_TOKEN_INFORMATION_TYPE:
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE:
        if (is_hex_form(s)) {
            uint8_t *d;
            uint32_t n;
            if (!parse_hex(c, s, &d, &n)) return false;
            out->v.blob.data = d;
            out->v.blob.size = n;
            return true;
        }
        return parse_token(c, s, out, type);
    case FWP_UNICODE_STRING_TYPE: {
        size_t n = strlen(s);
        uint8_t *d = own_alloc(c->store, n + 1);
        if (!d) return why(c, "memory");
        memcpy(d, s, n);
        out->v.blob.data = d;
        out->v.blob.size = (uint32_t)n;
        return true;
    }
    default:
        return why(c, "a value of a single data type, not %s", type_label(type));
    }
}

/* "a.b.c.d/len", "a.b.c.d/m.m.m.m", "x::/len". */
static bool parse_mask(vctx *c, uint32_t type, const char *s, wfp_condition_value *out)
{
    char addr[128];
    const char *slash = strchr(s, '/');
    uint64_t len;
    if (!slash || (size_t)(slash - s) >= sizeof addr) return why(c, "an address/prefix");
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = 0;
    memset(out, 0, sizeof *out);
    out->type = type;
    if (type == FWP_V4_ADDR_MASK) {
        uint32_t m;
        if (!wfp_ipv4_parse(addr, &out->u.v4.addr)) return why(c, "an IPv4 address/prefix like 10.0.0.0/8");
        if (wfp_yaml_parse_uint64(slash + 1, strlen(slash + 1), &len)) {
            if (len > 32) return why(c, "an IPv4 prefix length from 0 to 32");
            out->u.v4.mask = len ? (uint32_t)(0xffffffffu << (32 - len)) : 0;
            return true;
        }
        if (wfp_ipv4_parse(slash + 1, &m)) {
            out->u.v4.mask = m; /* the engine judges contiguity */
            return true;
        }
        return why(c, "an IPv4 address/prefix like 10.0.0.0/8 or 10.0.0.0/255.0.0.0");
    }
    if (!wfp_ipv6_parse(addr, out->u.v6.addr)) return why(c, "an IPv6 address/prefix like 2001:db8::/32");
    /* up to 255 passes so that scenarios can pin FWP_E_INVALID_NET_MASK */
    if (!wfp_yaml_parse_uint64(slash + 1, strlen(slash + 1), &len) || len > 255)
        return why(c, "an IPv6 address/prefix like 2001:db8::/32");
    out->u.v6.prefix_length = (uint8_t)len;
    return true;
}

/* Where a range "low-high" splits: the first '-' after the first character. */
static const char *range_dash(const char *s)
{
    return *s ? strchr(s + 1, '-') : NULL;
}

static bool rangeable(const field_info *f)
{
    if (!f || !f->in_layer) return false;
    switch (f->data_type) {
    case FWP_UINT8:
    case FWP_UINT16:
    case FWP_UINT32:
    case FWP_UINT64: return true;
    case FWP_BYTE_ARRAY16_TYPE: return is_ip_field(f);
    default: return false;
    }
}

/* ---- conditions -------------------------------------------------------- */

static owned cond_store(wfp_policy_conditions *c)
{
    owned o = {&c->owned_, &c->nowned_, &c->capowned_};
    return o;
}

void wfp_policy_conditions_free(wfp_policy_conditions *c)
{
    if (!c) return;
    own_free(cond_store(c));
    free(c->items);
    free(c->field_index);
    free(c->nodes);
    memset(c, 0, sizeof *c);
}

static bool cond_push(wfp_policy_conditions *c, const wfp_condition *cond, int32_t index, const wfp_yaml_node *at)
{
    if (c->count == c->cap_) {
        size_t nc = c->cap_ ? c->cap_ * 2 : 4;
        wfp_condition *ni = realloc(c->items, nc * sizeof *ni);
        if (!ni) return false;
        c->items = ni;
        int32_t *nf = realloc(c->field_index, nc * sizeof *nf);
        if (!nf) return false;
        c->field_index = nf;
        const wfp_yaml_node **nn = realloc((void *)c->nodes, nc * sizeof *nn);
        if (!nn) return false;
        c->nodes = nn;
        c->cap_ = nc;
    }
    c->items[c->count] = *cond;
    c->field_index[c->count] = index;
    c->nodes[c->count] = at;
    c->count++;
    return true;
}

typedef struct cparse {
    const wfp_layer_info *layer;
    wfp_policy_conditions *out;
    wfp_yaml_errors *err;
    bool validate;
} cparse;

static bool value_error(cparse *p, const wfp_yaml_node *at, const field_info *f, vctx *c)
{
    char d[64];
    return wfp_yaml_error(p->err, at, "bad value %s for %s: expected %s", wfp_yaml_describe(at, d, sizeof d),
                          f->cond ? short_name(f->cond->name, "FWPM_CONDITION_") : "the weight", c->why);
}

/* The {type: T, value: V} escape hatch: V parsed as T, whatever the field. */
static bool parse_typed(cparse *p, const wfp_yaml_node *m, const field_info *f, vctx *c, wfp_condition_value *out)
{
    static const char *const keys[] = {"type", "value", NULL};
    const wfp_yaml_node *tn, *vn;
    const char *tname, *text;
    uint32_t type;
    char d[64];
    if (!wfp_yaml_check_keys(p->err, m, "a typed value", keys)) return false;
    if (!wfp_yaml_require(p->err, m, "type", "a typed value", &tn) ||
        !wfp_yaml_require(p->err, m, "value", "a typed value", &vn))
        return false;
    if (!wfp_yaml_get_string(p->err, tn, "type", &tname)) return false;
    if (!wfp_data_type_from_name(tname, &type) || type == FWP_RANGE_TYPE)
        return wfp_yaml_error(p->err, tn,
                              "unknown data type %s (expected an FWP_* data type like FWP_UINT16, "
                              "FWP_V4_ADDR_MASK or FWP_V6_ADDR_MASK; ranges are {low:, high:})",
                              wfp_yaml_describe(tn, d, sizeof d));
    if (!wfp_yaml_get_string(p->err, vn, "value", &text)) return false;
    memset(out, 0, sizeof *out);
    if (type == FWP_V4_ADDR_MASK || type == FWP_V6_ADDR_MASK) {
        if (!parse_mask(c, type, text, out)) return value_error(p, vn, f, c);
        return true;
    }
    out->type = type;
    if (!parse_value(c, type, text, &out->u.value)) return value_error(p, vn, f, c);
    return true;
}

/* One bound of a range: a scalar of the field's type or a typed value. */
static bool parse_bound(cparse *p, const wfp_yaml_node *n, const field_info *f, vctx *c, wfp_value *out)
{
    const char *text;
    if (n->kind == WFP_YAML_MAPPING) {
        wfp_condition_value cv;
        if (!parse_typed(p, n, f, c, &cv)) return false;
        if (cv.type > FWP_SINGLE_DATA_TYPE_MAX)
            return wfp_yaml_error(p->err, n, "a range bound must have a single data type");
        *out = cv.u.value;
        return true;
    }
    if (!f->in_layer) return wfp_yaml_error(p->err, n, "a field outside the layer takes only typed values");
    if (!wfp_yaml_get_string(p->err, n, "a range bound", &text)) return false;
    if (!parse_value(c, f->data_type, text, out)) return value_error(p, n, f, c);
    return true;
}

/* One condition value from one node; *match may be inferred. */
static bool parse_cond_value(cparse *p, const wfp_yaml_node *vn, const field_info *f, bool match_given,
                             uint32_t *match, wfp_condition_value *out)
{
    vctx c;
    char fields[1536], d[64];
    const char *text;

    memset(&c, 0, sizeof c);
    c.store = cond_store(p->out);
    c.f = f;
    c.match = *match;
    memset(out, 0, sizeof *out);

    if (vn->kind == WFP_YAML_MAPPING) {
        if (wfp_yaml_map_get(vn, "type")) return parse_typed(p, vn, f, &c, out);
        if (wfp_yaml_map_get(vn, "low") || wfp_yaml_map_get(vn, "high")) {
            static const char *const keys[] = {"low", "high", NULL};
            const wfp_yaml_node *lo, *hi;
            if (!wfp_yaml_check_keys(p->err, vn, "a range", keys) ||
                !wfp_yaml_require(p->err, vn, "low", "a range", &lo) ||
                !wfp_yaml_require(p->err, vn, "high", "a range", &hi))
                return false;
            if (!match_given) *match = FWP_MATCH_RANGE;
            out->type = FWP_RANGE_TYPE;
            return parse_bound(p, lo, f, &c, &out->u.range.low) && parse_bound(p, hi, f, &c, &out->u.range.high);
        }
        return wfp_yaml_error(p->err, vn,
                              "a condition value mapping is {low:, high:} (a range) or {type:, value:} (a typed "
                              "value)");
    }
    if (vn->kind != WFP_YAML_SCALAR)
        return wfp_yaml_error(p->err, vn, "a condition value must be a scalar, a range or a typed value, not %s",
                              wfp_yaml_kind_name(vn->kind));
    if (!f->in_layer) {
        if (p->layer) list_layer_fields(p->layer, fields, sizeof fields);
        return wfp_yaml_error(p->err, vn, "%s is not a field of %s%s%s%s",
                              short_name(f->cond->name, "FWPM_CONDITION_"),
                              p->layer ? p->layer->name : "this layer", p->layer ? " (its fields: " : "",
                              p->layer ? fields : "", p->layer ? ")" : "");
    }
    if (!wfp_yaml_get_string(p->err, vn, "a condition value", &text)) return false;

    if (wfp_yaml_is_plain(vn) && wfp_yaml_ascii_ieq(text, "empty")) {
        out->type = FWP_EMPTY;
        out->u.value.type = FWP_EMPTY;
        return true;
    }
    bool want_range = *match == FWP_MATCH_RANGE || (!match_given && rangeable(f) && range_dash(text));
    if (want_range) {
        const char *dash = range_dash(text);
        char lo[256];
        if (!dash || (size_t)(dash - text) >= sizeof lo)
            return wfp_yaml_error(p->err, vn, "bad value %s for %s: match range needs 'low-high' or {low:, high:}",
                                  wfp_yaml_describe(vn, d, sizeof d), short_name(f->cond->name, "FWPM_CONDITION_"));
        memcpy(lo, text, (size_t)(dash - text));
        lo[dash - text] = 0;
        if (!match_given) *match = FWP_MATCH_RANGE;
        out->type = FWP_RANGE_TYPE;
        if (!parse_value(&c, f->data_type, lo, &out->u.range.low) ||
            !parse_value(&c, f->data_type, dash + 1, &out->u.range.high))
            return value_error(p, vn, f, &c);
        return true;
    }
    if (is_ip_field(f) && strchr(text, '/')) {
        uint32_t t = f->data_type == FWP_UINT32 ? FWP_V4_ADDR_MASK : FWP_V6_ADDR_MASK;
        if (!parse_mask(&c, t, text, out)) return value_error(p, vn, f, &c);
        return true;
    }
    if (f->data_type == FWP_TOKEN_INFORMATION_TYPE || f->data_type == FWP_TOKEN_ACCESS_INFORMATION_TYPE) {
        /* conditions on token fields carry a security descriptor (spec §2.2) */
        out->type = FWP_SECURITY_DESCRIPTOR_TYPE;
        if (!parse_sd(&c, text, &out->u.value)) return value_error(p, vn, f, &c);
        return true;
    }
    out->type = f->data_type;
    if (!parse_value(&c, f->data_type, text, &out->u.value)) return value_error(p, vn, f, &c);
    return true;
}

static bool add_cond(cparse *p, const field_info *f, uint32_t match, const wfp_condition_value *v,
                     const wfp_yaml_node *at)
{
    wfp_condition cond;
    memset(&cond, 0, sizeof cond);
    cond.field_key = f->cond->key;
    cond.match_type = match;
    cond.value = *v;
    if (p->validate) {
        if (!f->in_layer)
            return wfp_yaml_error(p->err, at, "%s is not a field of %s", short_name(f->cond->name, "FWPM_CONDITION_"),
                                  p->layer ? p->layer->name : "this layer");
        uint32_t rc = wfp_condition_validate(f->data_type, match, v);
        if (rc) {
            const char *rn = wfp_result_name(rc);
            return wfp_yaml_error(p->err, at, "condition on %s: %s with a %s value does not fit a %s field (%s)",
                                  short_name(f->cond->name, "FWPM_CONDITION_"), wfp_match_type_name(match),
                                  type_label(v->type), type_label(f->data_type), rn ? rn : "invalid");
        }
    }
    if (!cond_push(p->out, &cond, f->in_layer ? f->index : -1, at))
        return wfp_yaml_error(p->err, at, "out of memory");
    return true;
}

/* One condition entry: field name, optional match, value (maybe a list). */
static bool parse_entry(cparse *p, const wfp_yaml_node *fn, const wfp_yaml_node *mn, const wfp_yaml_node *vn,
                        const wfp_yaml_node *at)
{
    const char *fname, *mname;
    field_info f;
    uint32_t match = FWP_MATCH_EQUAL;
    char d[64];

    if (!wfp_yaml_get_string(p->err, fn, "a condition field", &fname)) return false;
    if (!field_lookup(p->layer, fname, &f))
        return wfp_yaml_error(p->err, fn, "unknown condition field %s (expected an FWPM_CONDITION_* name or {GUID})",
                              wfp_yaml_describe(fn, d, sizeof d));
    if (mn) {
        if (!wfp_yaml_get_string(p->err, mn, "match", &mname)) return false;
        if (!wfp_match_type_from_name(mname, &match))
            return wfp_yaml_error(p->err, mn,
                                  "unknown match %s (expected one of: equal, greater, less, greater_or_equal, "
                                  "less_or_equal, range, flags_all_set, flags_any_set, flags_none_set, "
                                  "equal_case_insensitive, not_equal, prefix, not_prefix)",
                                  wfp_yaml_describe(mn, d, sizeof d));
    }
    if (vn->kind == WFP_YAML_SEQUENCE && hint_is_flags(f.h) && match != FWP_MATCH_RANGE) {
        /* a list of flag names (or numbers): one value with all of them */
        uint64_t all = 0;
        vctx c;
        memset(&c, 0, sizeof c);
        c.store = cond_store(p->out);
        c.f = &f;
        if (!f.in_layer)
            return wfp_yaml_error(p->err, vn, "%s is not a field of %s", short_name(f.cond->name, "FWPM_CONDITION_"),
                                  p->layer ? p->layer->name : "this layer");
        for (size_t i = 0; i < vn->count; i++) {
            const char *t;
            uint64_t x;
            if (!wfp_yaml_get_string(p->err, vn->items[i], "a flag", &t)) return false;
            if (!parse_uint_text(&c, f.data_type, t, &x)) return value_error(p, vn->items[i], &f, &c);
            all |= x;
        }
        wfp_condition_value v;
        memset(&v, 0, sizeof v);
        v.type = f.data_type;
        set_uint(&v.u.value, f.data_type, all);
        return add_cond(p, &f, match, &v, at);
    }
    if (vn->kind == WFP_YAML_SEQUENCE) {
        if (!vn->count) return wfp_yaml_error(p->err, vn, "an empty list of values");
        for (size_t i = 0; i < vn->count; i++) {
            uint32_t m = match;
            wfp_condition_value v;
            if (vn->items[i]->kind == WFP_YAML_SEQUENCE)
                return wfp_yaml_error(p->err, vn->items[i], "a list of values cannot hold another list");
            if (!parse_cond_value(p, vn->items[i], &f, mn != NULL, &m, &v)) return false;
            if (!add_cond(p, &f, m, &v, vn->items[i])) return false;
        }
        return true;
    }
    wfp_condition_value v;
    if (!parse_cond_value(p, vn, &f, mn != NULL, &match, &v)) return false;
    return add_cond(p, &f, match, &v, at);
}

bool wfp_policy_conditions_parse(const wfp_layer_info *layer, const wfp_yaml_node *node, const char *what,
                                 bool validate, wfp_policy_conditions *out, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"field", "match", "value", NULL};
    cparse p = {layer, out, err, validate};
    char d[64];

    memset(out, 0, sizeof *out);
    if (!node || wfp_yaml_is_null(node)) return true;
    if (node->kind == WFP_YAML_SEQUENCE) {
        for (size_t i = 0; i < node->count; i++) {
            const wfp_yaml_node *c = node->items[i], *fn, *vn;
            if (!wfp_yaml_check_keys(err, c, "condition", keys)) goto fail;
            if (!wfp_yaml_require(err, c, "field", "a condition", &fn) ||
                !wfp_yaml_require(err, c, "value", "a condition", &vn))
                goto fail;
            if (!parse_entry(&p, fn, wfp_yaml_map_get(c, "match"), vn, c)) goto fail;
        }
        return true;
    }
    if (node->kind == WFP_YAML_MAPPING) {
        for (size_t i = 0; i < node->count; i++)
            if (!parse_entry(&p, node->pairs[i].key, NULL, node->pairs[i].value, node->pairs[i].key)) goto fail;
        return true;
    }
    wfp_yaml_error(err, node, "%s must be a list of {field, match, value} or a mapping FIELD: VALUE, not %s", what,
                   wfp_yaml_describe(node, d, sizeof d));
fail:
    wfp_policy_conditions_free(out);
    return false;
}

bool wfp_policy_conditions_match(const wfp_policy_conditions *c, const wfp_value *values, uint32_t count)
{
    for (uint32_t i = 0; i < c->count; i++) {
        int32_t fi = c->field_index[i];
        bool seen_before = false, any = false;
        for (uint32_t j = 0; j < i && !seen_before; j++) seen_before = c->field_index[j] == fi;
        if (seen_before) continue; /* this field's group was decided already */
        for (uint32_t j = i; j < c->count && !any; j++) {
            if (c->field_index[j] != fi) continue;
            any = fi >= 0 && (uint32_t)fi < count &&
                  wfp_condition_match(c->items[j].match_type, &c->items[j].value, &values[fi]);
        }
        if (!any) return false;
    }
    return true;
}

/* ---- the policy (name registry) ---------------------------------------- */

typedef struct prule {
    wfp_policy_conditions when;
    uint32_t states; /* bit per FWPS_PACKET_INJECTION_STATE it needs; 0: any */
    uint32_t action; /* FWP_ACTION_PERMIT / BLOCK / CONTINUE */
    bool clear_write_right;
    bool absorb;
    bool inject;            /* inject a clone (inj: kind, delay, rewrites) */
    wfp_inject_request inj; /* handle filled at classify time */
    uint8_t *stream_data;   /* kind stream: the data (NULL: the segment's own) */
    size_t stream_len;
    bool pend;              /* FwpsPendOperation0, completed complete_after later */
    uint64_t complete_after;
    bool associate;         /* FwpsFlowAssociateContext0 for (assoc_layer, assoc_callout) */
    uint16_t assoc_layer;   /* UINT16_MAX: the callout's own layer */
    char *assoc_callout;    /* NULL: this callout */
    uint64_t assoc_value;
    bool redirect;          /* write the connect / bind request (redirect layers) */
    bool redirect_addr;
    uint8_t redirect_to[16];
    bool redirect_port;
    uint16_t redirect_port_to;
} prule;

typedef struct pentry {
    const struct wfp_policy *owner;
    wfp_policy_kind kind;
    char *name;
    wfp_guid key;
    uint64_t id; /* filter id / callout id */
    /* callouts */
    const wfp_layer_info *layer;
    prule *rules;
    size_t nrules;
    uint64_t calls;
    uint64_t inj_handle; /* FwpsInjectionHandleCreate0, on first use */
    bool reject_add; /* notify: reject_add */
    bool cond_on_flow; /* FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW */
} pentry;

typedef struct idname {
    uint64_t id;
    const pentry *e;
} idname;

struct wfp_policy {
    wfp_host *host; /* where callouts inject and ask for injection state */
    pentry **by_name; /* the same entries sorted by (kind, name), for lookups */
    pentry **entries; /* pointers stay put: callouts' classify contexts */
    size_t n, cap;
    /* Every filter id recorded, once each: the newest entry given an id
     * wins (a reboot re-adding the policy gets the same ids again). Ids of
     * deleted filters stay, so net events and packet records that name a
     * filter deleted later still resolve; the table grows only with
     * distinct ids (engine ids only grow within one boot). */
    idname *filter_ids;
    size_t nids, capids;
    uint64_t max_id; /* the largest id recorded: a larger one is new */
};

const char *wfp_policy_kind_name(wfp_policy_kind kind)
{
    switch (kind) {
    case WFP_POLICY_PROVIDER: return "provider";
    case WFP_POLICY_SUBLAYER: return "sublayer";
    case WFP_POLICY_CALLOUT: return "callout";
    case WFP_POLICY_FILTER: return "filter";
    }
    return "object";
}

static void free_rules(prule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wfp_policy_conditions_free(&r[i].when);
        free(r[i].assoc_callout);
        free(r[i].stream_data);
    }
    free(r);
}

wfp_policy *wfp_policy_create(void)
{
    return calloc(1, sizeof(wfp_policy));
}

void wfp_policy_set_host(wfp_policy *p, wfp_host *h)
{
    if (p) p->host = h;
}

void wfp_policy_destroy(wfp_policy *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->entries[i]->name);
        free_rules(p->entries[i]->rules, p->entries[i]->nrules);
        free(p->entries[i]);
    }
    free(p->entries);
    free(p->by_name);
    free(p->filter_ids);
    free(p);
}

static int entry_cmp(wfp_policy_kind kind, const char *name, const pentry *e)
{
    if (kind != e->kind) return kind < e->kind ? -1 : 1;
    return strcmp(name, e->name);
}

/* The position of (kind, name) in by_name, or where it would go. */
static size_t entry_slot(const wfp_policy *p, wfp_policy_kind kind, const char *name, bool *found)
{
    size_t lo = 0, hi = p->n;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = entry_cmp(kind, name, p->by_name[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static pentry *find_entry(const wfp_policy *p, wfp_policy_kind kind, const char *name)
{
    bool found;
    size_t i = entry_slot(p, kind, name, &found);
    return found ? p->by_name[i] : NULL;
}

static pentry *entry_for(wfp_policy *p, wfp_policy_kind kind, const char *name)
{
    bool found;
    size_t at = entry_slot(p, kind, name, &found);
    pentry *e;
    if (found) return p->by_name[at];
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        pentry **nv = realloc(p->entries, nc * sizeof *nv);
        if (!nv) return NULL;
        p->entries = nv;
        nv = realloc(p->by_name, nc * sizeof *nv);
        if (!nv) return NULL;
        p->by_name = nv;
        p->cap = nc;
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->name = dup_str(name))) {
        free(e);
        return NULL;
    }
    e->kind = kind;
    e->owner = p;
    memmove(p->by_name + at + 1, p->by_name + at, (p->n - at) * sizeof *p->by_name);
    p->by_name[at] = e;
    p->entries[p->n++] = e;
    return e;
}

static const char *builtin_prefix(wfp_policy_kind kind)
{
    switch (kind) {
    case WFP_POLICY_PROVIDER: return "FWPM_PROVIDER_";
    case WFP_POLICY_SUBLAYER: return "FWPM_SUBLAYER_";
    case WFP_POLICY_CALLOUT: return "FWPM_CALLOUT_";
    default: return "FWPM_FILTER_";
    }
}

static bool builtin_key(wfp_policy_kind kind, const char *name, wfp_guid *key)
{
    switch (kind) {
    case WFP_POLICY_SUBLAYER: {
        const wfp_builtin_sublayer *s = wfp_catalog_sublayer_by_name(name);
        if (s) *key = s->key;
        return s != NULL;
    }
    case WFP_POLICY_CALLOUT: {
        const wfp_builtin_callout *c = wfp_catalog_callout_by_name(name);
        if (c) *key = c->key;
        return c != NULL;
    }
    case WFP_POLICY_PROVIDER:
        for (size_t i = 0; i < wfp_catalog_provider_count(); i++) {
            const wfp_builtin_provider *b = wfp_catalog_provider_at(i);
            if (name_is(name, "FWPM_PROVIDER_", short_name(b->name, "FWPM_PROVIDER_"))) {
                *key = b->key;
                return true;
            }
        }
        return false;
    default: return false;
    }
}

bool wfp_policy_key(const wfp_policy *p, wfp_policy_kind kind, const char *name, wfp_guid *key)
{
    const pentry *e;
    if (!name) return false;
    if (p && (e = find_entry(p, kind, name))) {
        *key = e->key;
        return true;
    }
    if (builtin_key(kind, name, key)) return true;
    return wfp_guid_parse(name, key);
}

const char *wfp_policy_name_of_key(const wfp_policy *p, wfp_policy_kind kind, const wfp_guid *key)
{
    if (!key) return NULL;
    if (p)
        for (size_t i = p->n; i-- > 0;)
            if (p->entries[i]->kind == kind && wfp_guid_eq(&p->entries[i]->key, key)) return p->entries[i]->name;
    switch (kind) {
    case WFP_POLICY_SUBLAYER:
        for (size_t i = 0; i < wfp_catalog_sublayer_count(); i++)
            if (wfp_guid_eq(&wfp_catalog_sublayer_at(i)->key, key)) return wfp_catalog_sublayer_at(i)->name;
        break;
    case WFP_POLICY_CALLOUT:
        for (size_t i = 0; i < wfp_catalog_callout_count(); i++)
            if (wfp_guid_eq(&wfp_catalog_callout_at(i)->key, key)) return wfp_catalog_callout_at(i)->name;
        break;
    case WFP_POLICY_PROVIDER:
        for (size_t i = 0; i < wfp_catalog_provider_count(); i++)
            if (wfp_guid_eq(&wfp_catalog_provider_at(i)->key, key)) return wfp_catalog_provider_at(i)->name;
        break;
    default: break;
    }
    return NULL;
}

bool wfp_policy_filter_id(const wfp_policy *p, const char *name, uint64_t *id)
{
    const pentry *e = p && name ? find_entry(p, WFP_POLICY_FILTER, name) : NULL;
    if (!e) return false;
    *id = e->id;
    return true;
}

const char *wfp_policy_filter_name(const wfp_policy *p, uint64_t id)
{
    if (!p) return NULL;
    for (size_t i = p->nids; i-- > 0;)
        if (p->filter_ids[i].id == id) return p->filter_ids[i].e->name;
    return NULL;
}

bool wfp_policy_callout_id(const wfp_policy *p, const char *name, uint32_t *id)
{
    const pentry *e = p && name ? find_entry(p, WFP_POLICY_CALLOUT, name) : NULL;
    if (!e) return false;
    *id = (uint32_t)e->id;
    return true;
}

const char *wfp_policy_callout_name(const wfp_policy *p, uint32_t id)
{
    if (!p) return NULL;
    for (size_t i = p->n; i-- > 0;)
        if (p->entries[i]->kind == WFP_POLICY_CALLOUT && p->entries[i]->id == id) return p->entries[i]->name;
    return NULL;
}

const char *wfp_policy_sublayer_name(const wfp_policy *p, const wfp_guid *key)
{
    return wfp_policy_name_of_key(p, WFP_POLICY_SUBLAYER, key);
}

uint64_t wfp_policy_callout_calls(const wfp_policy *p, const char *name)
{
    const pentry *e = p && name ? find_entry(p, WFP_POLICY_CALLOUT, name) : NULL;
    return e ? e->calls : 0;
}

/* ---- declarative classifyFn --------------------------------------------- */

/* The callout's injection handle (FwpsInjectionHandleCreate0), made on
 * first use: its copies are INJECTED_BY_SELF to it. */
static uint64_t injection_handle(pentry *e)
{
    if (!e->inj_handle && e->owner->host) e->inj_handle = wfp_host_injection_handle_create(e->owner->host);
    return e->inj_handle;
}

static bool rule_matches(pentry *e, const prule *r, const wfp_incoming_values *in)
{
    if (r->states) {
        wfp_host *h = e->owner->host;
        uint32_t st = h ? wfp_host_query_injection_state(h, injection_handle(e), NULL) : WFP_PACKET_NOT_INJECTED;
        if (!(r->states & (1u << st))) return false;
    }
    return wfp_policy_conditions_match(&r->when, in->values, in->count);
}

/* FwpsFlowAssociateContext0 on the classified flow (FLOW_HANDLE). A
 * context already there, or no flow: nothing (as a driver would ignore the
 * error). */
static void associate(pentry *e, const prule *r, const wfp_incoming_values *in, const wfp_incoming_metadata *meta)
{
    wfp_host *h = e->owner->host;
    const pentry *target = e;
    if (!h || !meta || !(meta->present & WFP_METADATA_FLOW_HANDLE)) return;
    if (r->assoc_callout) {
        target = NULL;
        for (size_t i = 0; i < e->owner->n && !target; i++) {
            const pentry *x = e->owner->entries[i];
            if (x->kind == WFP_POLICY_CALLOUT && !strcmp(x->name, r->assoc_callout)) target = x;
        }
        if (!target) return;
    }
    uint16_t layer = r->assoc_layer != UINT16_MAX ? r->assoc_layer : in->layer_id;
    (void)wfp_host_flow_associate_context(h, meta->flow_handle, layer, (uint32_t)target->id, r->assoc_value);
}

/* The writable layer data of the redirect layers: a connect request at
 * ALE_CONNECT_REDIRECT (remote), a bind request at ALE_BIND_REDIRECT
 * (local). */
static void redirect(const pentry *e, const prule *r, void *layer_data)
{
    if (e->layer && strstr(e->layer->name, "BIND_REDIRECT")) {
        wfp_bind_request *br = layer_data;
        if (r->redirect_addr) {
            memcpy(br->local_address, r->redirect_to, 16);
            br->local_address_set = true;
        }
        if (r->redirect_port) br->local_port = r->redirect_port_to;
        br->redirected = true;
    } else {
        wfp_connect_request *cr = layer_data;
        if (r->redirect_addr) memcpy(cr->remote_address, r->redirect_to, 16);
        if (r->redirect_port) cr->remote_port = r->redirect_port_to;
        cr->redirected = true;
    }
}

/* What a deciding rule does besides its action, as a driver's classifyFn
 * would before returning: inject a clone (and modify it) or stream data —
 * types-of-callouts: then BLOCK + ABSORB the original —, rewrite a
 * redirect request, pend. A refused injection loses the copy; a refused
 * pend (a reauthorization: STATUS_FWP_CANNOT_PEND) leaves the action as
 * it is. */
static void act(pentry *e, const prule *r, const wfp_incoming_metadata *meta, void *layer_data,
                const wfp_fwps_filter *filter)
{
    wfp_host *h = e->owner->host;
    if (r->inject && h && r->inj.kind == WFP_INJECT_STREAM) {
        wfp_stream_inject_request sr;
        memset(&sr, 0, sizeof sr);
        sr.handle = injection_handle(e);
        sr.send = meta && (meta->present & WFP_METADATA_PACKET_DIRECTION) &&
                  meta->packet_direction == FWP_DIRECTION_OUTBOUND;
        sr.data = r->stream_data;
        sr.len = r->stream_len;
        sr.delay_ns = r->inj.delay_ns;
        sr.sublayer_weight = filter ? filter->sublayer_weight : 0;
        (void)wfp_host_stream_inject(h, &sr);
    } else if (r->inject && h) {
        wfp_inject_request req = r->inj;
        req.handle = injection_handle(e);
        (void)wfp_host_inject(h, &req);
    }
    if (r->redirect && layer_data) redirect(e, r, layer_data);
    if (r->pend && h) {
        uint64_t completion;
        (void)wfp_host_pend_operation(h, r->complete_after, &completion);
    }
}

/* The classify function of every callout a policy declares. Rules are
 * tried in order; the first whose `when` matches decides; none: continue.
 * WFP's contract for callouts (SDK FWPS_CLASSIFY_OUT0, DRV samples): with
 * FWPS_RIGHT_ACTION_WRITE already clear a callout may only write BLOCK (a
 * veto of a hard permit) and otherwise returns without touching classifyOut.
 * When it decides, it clears the right if the rule says clear_write_right
 * or the filter carries FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT, as the samples
 * do. ABSORB is set only with BLOCK. */
static void rules_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                           void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                           wfp_classify_out *out)
{
    pentry *e = ctx;
    const prule *hit = NULL;
    (void)flow_context;

    e->calls++;
    for (size_t i = 0; i < e->nrules && !hit; i++)
        if (rule_matches(e, &e->rules[i], in)) hit = &e->rules[i];
    uint32_t action = hit ? hit->action : FWP_ACTION_CONTINUE;
    if (hit && hit->associate) associate(e, hit, in, meta);

    if (!(out->rights & FWPS_RIGHT_ACTION_WRITE)) {
        if (action == FWP_ACTION_BLOCK) {
            out->action_type = FWP_ACTION_BLOCK;
            if (hit->absorb) out->flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
        }
        return;
    }
    if (hit) act(e, hit, meta, layer_data, filter);
    out->action_type = action;
    if (action == FWP_ACTION_CONTINUE) return;
    if (hit->clear_write_right || (filter && (filter->flags & FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT)))
        out->rights &= ~FWPS_RIGHT_ACTION_WRITE;
    if (hit->absorb) out->flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
}

/* The declarative notifyFn of `notify: reject_add`: refuses every filter
 * added with this callout (DDI notifyFn: an error from
 * FWPS_CALLOUT_NOTIFY_ADD_FILTER makes the add fail); the other
 * notifications are accepted. */
static uint32_t reject_add_notify(void *ctx, uint32_t notify_type, const wfp_guid *filter_key,
                                  const wfp_fwps_filter *filter)
{
    (void)ctx;
    (void)filter_key;
    (void)filter;
    return notify_type == FWPS_CALLOUT_NOTIFY_ADD_FILTER ? (uint32_t)FWP_E_CALLOUT_NOTIFICATION_FAILED : 0u;
}

static uint32_t register_entry(wfp_engine *eng, pentry *e)
{
    wfp_callout_registration reg;
    wfp_host *h = e->owner->host;
    memset(&reg, 0, sizeof reg);
    reg.callout_key = e->key;
    reg.classify = rules_classify;
    if (e->reject_add) reg.notify = reject_add_notify;
    if (e->cond_on_flow) reg.flags |= FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW;
    reg.ctx = e;
    /* through the host, so flows can hold its contexts */
    if (h && wfp_host_engine(h) == eng) return wfp_host_callout_register(h, &reg, NULL);
    return wfp_callout_register(eng, &reg, NULL);
}

uint32_t wfp_policy_callout_register(wfp_policy *p, wfp_engine *eng, const char *name)
{
    pentry *e = p && name ? find_entry(p, WFP_POLICY_CALLOUT, name) : NULL;
    if (!e) return FWP_E_CALLOUT_NOT_FOUND;
    return register_entry(eng, e);
}

uint32_t wfp_policy_callout_unregister(wfp_policy *p, wfp_engine *eng, const char *name)
{
    pentry *e = p && name ? find_entry(p, WFP_POLICY_CALLOUT, name) : NULL;
    if (!e) return FWP_E_CALLOUT_NOT_FOUND;
    /* through the host: refused (FWP_E_IN_USE) while a flow holds its context (C16) */
    if (p->host && wfp_host_engine(p->host) == eng) return wfp_host_callout_unregister(p->host, &e->key);
    return wfp_callout_unregister_by_key(eng, &e->key);
}

/* ---- objects ------------------------------------------------------------ */

struct wfp_policy_object {
    wfp_policy_kind kind;
    char *name;
    const wfp_yaml_node *node;
    union {
        wfp_provider provider;
        wfp_sublayer sublayer;
        wfp_callout callout;
        wfp_filter filter;
    } d;
    wfp_guid provider_key;
    wfp_policy_conditions conds;
    void **owned;
    size_t nowned, capowned;
    /* callouts */
    const wfp_layer_info *layer;
    prule *rules;
    size_t nrules;
    bool registered;
    bool reject_add;
    bool cond_on_flow;
};

static owned obj_store(wfp_policy_object *o)
{
    owned s = {&o->owned, &o->nowned, &o->capowned};
    return s;
}

void wfp_policy_object_free(wfp_policy_object *o)
{
    if (!o) return;
    free(o->name);
    wfp_policy_conditions_free(&o->conds);
    own_free(obj_store(o));
    free_rules(o->rules, o->nrules);
    free(o);
}

wfp_policy_kind wfp_policy_object_kind(const wfp_policy_object *o)
{
    return o->kind;
}

const char *wfp_policy_object_name(const wfp_policy_object *o)
{
    return o ? o->name : NULL;
}

const wfp_yaml_node *wfp_policy_object_node(const wfp_policy_object *o)
{
    return o ? o->node : NULL;
}

const wfp_filter *wfp_policy_object_filter(const wfp_policy_object *o)
{
    return o && o->kind == WFP_POLICY_FILTER ? &o->d.filter : NULL;
}

const wfp_callout *wfp_policy_object_callout(const wfp_policy_object *o)
{
    return o && o->kind == WFP_POLICY_CALLOUT ? &o->d.callout : NULL;
}

const wfp_sublayer *wfp_policy_object_sublayer(const wfp_policy_object *o)
{
    return o && o->kind == WFP_POLICY_SUBLAYER ? &o->d.sublayer : NULL;
}

const wfp_provider *wfp_policy_object_provider(const wfp_policy_object *o)
{
    return o && o->kind == WFP_POLICY_PROVIDER ? &o->d.provider : NULL;
}

/* Common keys: name, key, description, provider_data. */
static bool parse_common(wfp_policy_object *o, const wfp_yaml_node *body, const char *what, wfp_guid *key,
                         wfp_display_data *display, wfp_byte_blob *pdata, wfp_yaml_errors *err)
{
    const wfp_yaml_node *n;
    const char *s;
    char d[64];

    if (!wfp_yaml_require(err, body, "name", what, &n) || !wfp_yaml_get_string(err, n, "name", &s)) return false;
    if (!(o->name = dup_str(s))) return wfp_yaml_error(err, n, "out of memory");
    display->name = o->name;
    if ((n = wfp_yaml_map_get(body, "description"))) {
        if (!wfp_yaml_get_string(err, n, "description", &s)) return false;
        char *copy = dup_str(s);
        if (!own(obj_store(o), copy)) return wfp_yaml_error(err, n, "out of memory");
        display->description = copy;
    }
    if ((n = wfp_yaml_map_get(body, "key"))) {
        if (!wfp_yaml_get_string(err, n, "key", &s)) return false;
        if (!wfp_guid_parse(s, key))
            return wfp_yaml_error(err, n, "key must be a GUID like {01234567-89ab-cdef-0123-456789abcdef}, not %s",
                                  wfp_yaml_describe(n, d, sizeof d));
    } else {
        wfp_guid_from_name(wfp_policy_kind_name(o->kind), o->name, key);
    }
    if ((n = wfp_yaml_map_get(body, "provider_data"))) {
        vctx c;
        uint8_t *data;
        uint32_t len;
        memset(&c, 0, sizeof c);
        c.store = obj_store(o);
        if (!wfp_yaml_get_string(err, n, "provider_data", &s)) return false;
        if (is_hex_form(s)) {
            if (!parse_hex(&c, s, &data, &len))
                return wfp_yaml_error(err, n, "provider_data: expected %s", c.why);
        } else {
            len = (uint32_t)strlen(s);
            data = own_alloc(c.store, len + 1);
            if (!data) return wfp_yaml_error(err, n, "out of memory");
            memcpy(data, s, len);
        }
        pdata->data = data;
        pdata->size = len;
    }
    return true;
}

/* `flags:` as a list of names (any case, with or without the WFP prefix)
 * or numbers, or one such scalar. */
static bool parse_flags(const wfp_yaml_node *n, const named *t, size_t nt, const char *prefix, const char *what,
                        uint32_t *out, wfp_yaml_errors *err)
{
    size_t count = n->kind == WFP_YAML_SEQUENCE ? n->count : 1;
    char list[512], d[64];
    if (n->kind == WFP_YAML_MAPPING) return wfp_yaml_error(err, n, "%s must be a list of flag names", what);
    for (size_t i = 0; i < count; i++) {
        const wfp_yaml_node *item = n->kind == WFP_YAML_SEQUENCE ? n->items[i] : n;
        const char *s;
        uint64_t v;
        if (!wfp_yaml_get_string(err, item, what, &s)) return false;
        if (wfp_yaml_parse_uint64(s, strlen(s), &v) && v <= UINT32_MAX) {
            *out |= (uint32_t)v;
            continue;
        }
        if (!lookup_named(t, nt, prefix, s, &v)) {
            list_named(t, nt, list, sizeof list);
            return wfp_yaml_error(err, item, "unknown flag %s in %s (expected one of: %s)",
                                  wfp_yaml_describe(item, d, sizeof d), what, list);
        }
        *out |= (uint32_t)v;
    }
    return true;
}

static bool parse_persistent(const wfp_yaml_node *body, uint32_t bit, uint32_t *flags, wfp_yaml_errors *err)
{
    const wfp_yaml_node *n = wfp_yaml_map_get(body, "persistent");
    bool b;
    if (!n) return true;
    if (!wfp_yaml_get_bool(err, n, "persistent", &b)) return false;
    if (b) *flags |= bit;
    else *flags &= ~bit;
    return true;
}

static bool resolve_ref(const wfp_policy *p, wfp_policy_kind kind, const wfp_yaml_node *n, wfp_guid *key,
                        wfp_yaml_errors *err)
{
    const char *s;
    char d[64];
    if (!wfp_yaml_get_string(err, n, wfp_policy_kind_name(kind), &s)) return false;
    if (wfp_policy_key(p, kind, s, key)) return true;
    return wfp_yaml_error(err, n, "unknown %s %s (not named in this policy, not a built-in %s* name, not a {GUID})",
                          wfp_policy_kind_name(kind), wfp_yaml_describe(n, d, sizeof d), builtin_prefix(kind));
}

static bool parse_layer(const wfp_yaml_node *n, const wfp_layer_info **layer, wfp_guid *key, wfp_yaml_errors *err)
{
    const char *s;
    char d[64];
    if (!wfp_yaml_get_string(err, n, "layer", &s)) return false;
    *layer = wfp_catalog_layer_by_name(s);
    if (*layer) {
        *key = (*layer)->key;
        return true;
    }
    if (wfp_guid_parse(s, key)) return true; /* unknown GUID: the engine answers FWP_E_LAYER_NOT_FOUND */
    return wfp_yaml_error(err, n, "unknown layer %s (expected a name like ALE_AUTH_CONNECT_V4, FWPM_LAYER_… or a {GUID}; "
                                  "'wfpsim layers' lists them)",
                          wfp_yaml_describe(n, d, sizeof d));
}

static bool parse_provider(wfp_policy *p, wfp_policy_object *o, const wfp_yaml_node *body, const char *what,
                           wfp_yaml_errors *err)
{
    static const char *const keys[] = {"name",  "key", "description", "persistent", "flags", "service_name",
                                       "provider_data", NULL};
    wfp_provider *d = &o->d.provider;
    const wfp_yaml_node *n;
    const char *s;
    (void)p;
    if (!wfp_yaml_check_keys(err, body, what, keys)) return false;
    if (!parse_common(o, body, what, &d->key, &d->display, &d->provider_data, err)) return false;
    if ((n = wfp_yaml_map_get(body, "flags")) &&
        !parse_flags(n, provider_flags, COUNT_OF(provider_flags), "FWPM_PROVIDER_FLAG_", "flags", &d->flags, err))
        return false;
    if (!parse_persistent(body, FWPM_PROVIDER_FLAG_PERSISTENT, &d->flags, err)) return false;
    if ((n = wfp_yaml_map_get(body, "service_name"))) {
        if (!wfp_yaml_get_string(err, n, "service_name", &s)) return false;
        char *copy = dup_str(s);
        if (!own(obj_store(o), copy)) return wfp_yaml_error(err, n, "out of memory");
        d->service_name = copy;
    }
    return true;
}

static bool parse_sublayer(wfp_policy *p, wfp_policy_object *o, const wfp_yaml_node *body, const char *what,
                           wfp_yaml_errors *err)
{
    static const char *const keys[] = {"name",       "key",   "description", "weight", "provider",
                                       "persistent", "flags", "provider_data", NULL};
    wfp_sublayer *d = &o->d.sublayer;
    const wfp_yaml_node *n;
    uint64_t w;
    if (!wfp_yaml_check_keys(err, body, what, keys)) return false;
    if (!parse_common(o, body, what, &d->key, &d->display, &d->provider_data, err)) return false;
    if ((n = wfp_yaml_map_get(body, "weight"))) {
        if (!wfp_yaml_get_uint64(err, n, "sublayer weight", 0, UINT16_MAX, &w)) return false;
        d->weight = (uint16_t)w;
    }
    if ((n = wfp_yaml_map_get(body, "provider"))) {
        if (!resolve_ref(p, WFP_POLICY_PROVIDER, n, &o->provider_key, err)) return false;
        d->provider_key = &o->provider_key;
    }
    if ((n = wfp_yaml_map_get(body, "flags")) &&
        !parse_flags(n, sublayer_flags, COUNT_OF(sublayer_flags), "FWPM_SUBLAYER_FLAG_", "flags", &d->flags, err))
        return false;
    return parse_persistent(body, FWPM_SUBLAYER_FLAG_PERSISTENT, &d->flags, err);
}

/* `injection_state:` one FWPS_PACKET_INJECTION_STATE name or a list. */
static bool parse_states(const wfp_yaml_node *n, uint32_t *states, wfp_yaml_errors *err)
{
    static const named names[] = {{"not_injected", WFP_PACKET_NOT_INJECTED},
                                  {"injected_by_self", WFP_PACKET_INJECTED_BY_SELF},
                                  {"injected_by_other", WFP_PACKET_INJECTED_BY_OTHER},
                                  {"previously_injected_by_self", WFP_PACKET_PREVIOUSLY_INJECTED_BY_SELF}};
    size_t count = wfp_yaml_is_scalar(n) ? 1 : 0;
    char d[64];
    if (!count && !wfp_yaml_expect(err, n, WFP_YAML_SEQUENCE, "injection_state")) return false;
    if (!count) count = n->count;
    for (size_t i = 0; i < count; i++) {
        const wfp_yaml_node *v = wfp_yaml_is_scalar(n) ? n : n->items[i];
        const char *s;
        uint64_t st;
        if (!wfp_yaml_get_string(err, v, "injection_state", &s)) return false;
        if (!lookup_named(names, COUNT_OF(names), "FWPS_PACKET_", s, &st))
            return wfp_yaml_error(err, v,
                                  "unknown injection state %s (expected not_injected, injected_by_self, "
                                  "injected_by_other or previously_injected_by_self)",
                                  wfp_yaml_describe(v, d, sizeof d));
        *states |= 1u << st;
    }
    return true;
}

static bool parse_endpoint(const wfp_yaml_node *m, const char *akey, const char *pkey, bool *set_a, uint8_t a[16],
                           bool *set_p, uint16_t *port, uint8_t *ver, wfp_yaml_errors *err)
{
    const wfp_yaml_node *n;
    const char *s;
    uint64_t v;
    if ((n = wfp_yaml_map_get(m, akey))) {
        uint8_t av;
        if (!wfp_yaml_get_string(err, n, akey, &s)) return false;
        if (!wfp_ip_address_parse(s, a, &av))
            return wfp_yaml_error(err, n, "inject.set.%s: expected an IPv4 or IPv6 address", akey);
        if (*ver && *ver != av) return wfp_yaml_error(err, n, "inject.set: src and dst must be the same IP version");
        *ver = av;
        *set_a = true;
    }
    if ((n = wfp_yaml_map_get(m, pkey))) {
        if (!wfp_yaml_get_uint64(err, n, pkey, 0, 65535, &v)) return false;
        *port = (uint16_t)v;
        *set_p = true;
    }
    return true;
}

/* `inject: clone`, or `inject: {kind:, delay:, set: {src:, dst:, sport:, dport:}}`,
 * or at a stream layer `inject: {kind: stream, data: "text" | "hex:…"}`. */
static bool parse_inject(const wfp_yaml_node *n, prule *pr, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"kind", "delay", "set", "data", NULL};
    static const char *const set_keys[] = {"src", "dst", "sport", "dport", NULL};
    static const named kinds[] = {{"network_send", WFP_INJECT_NETWORK_SEND},
                                  {"network_receive", WFP_INJECT_NETWORK_RECEIVE},
                                  {"transport_send", WFP_INJECT_TRANSPORT_SEND},
                                  {"transport_receive", WFP_INJECT_TRANSPORT_RECEIVE},
                                  {"stream", WFP_INJECT_STREAM},
                                  {"forward", WFP_INJECT_FORWARD}};
    const wfp_yaml_node *v;
    char d[64];
    pr->inject = true;
    if (wfp_yaml_scalar_is(n, "clone")) return true;
    if (wfp_yaml_is_scalar(n))
        return wfp_yaml_error(err, n, "inject: expected clone or a mapping with kind, delay, set (got %s)",
                              wfp_yaml_describe(n, d, sizeof d));
    if (!wfp_yaml_check_keys(err, n, "inject", keys)) return false;
    if ((v = wfp_yaml_map_get(n, "kind"))) {
        const char *s;
        uint64_t k;
        if (!wfp_yaml_get_string(err, v, "kind", &s)) return false;
        if (!lookup_named(kinds, COUNT_OF(kinds), "FWPS_INJECT_", s, &k))
            return wfp_yaml_error(err, v,
                                  "unknown injection kind %s (expected network_send, network_receive, "
                                  "transport_send, transport_receive, stream or forward)",
                                  wfp_yaml_describe(v, d, sizeof d));
        pr->inj.kind = (uint32_t)k;
    }
    if ((v = wfp_yaml_map_get(n, "delay"))) {
        int64_t ns;
        if (!wfp_yaml_get_duration(err, v, "delay", &ns)) return false; /* refuses negative ones */
        pr->inj.delay_ns = (uint64_t)ns;
    }
    if ((v = wfp_yaml_map_get(n, "data"))) {
        if (pr->inj.kind != WFP_INJECT_STREAM)
            return wfp_yaml_error(err, v, "inject.data goes with kind: stream (other copies are clones, with set:)");
        if (!wfp_yaml_get_bytes(err, v, "inject.data", &pr->stream_data, &pr->stream_len)) return false;
    }
    if ((v = wfp_yaml_map_get(n, "set"))) {
        uint8_t ver = 0;
        if (pr->inj.kind == WFP_INJECT_STREAM)
            return wfp_yaml_error(err, v, "inject.set does not go with kind: stream (give data:)");
        wfp_inject_request *q = &pr->inj;
        if (!wfp_yaml_check_keys(err, v, "inject.set", set_keys)) return false;
        if (!parse_endpoint(v, "src", "sport", &q->set_src, q->src, &q->set_sport, &q->sport, &ver, err) ||
            !parse_endpoint(v, "dst", "dport", &q->set_dst, q->dst, &q->set_dport, &q->dport, &ver, err))
            return false;
    }
    return true;
}

/* `pend: {complete_after: 20ms}`: the callout pends and completes later;
 * Windows wants BLOCK + ABSORB from a callout that pends. */
static bool parse_pend(const wfp_yaml_node *n, prule *pr, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"complete_after", NULL};
    const wfp_yaml_node *v;
    int64_t ns;
    if (!wfp_yaml_expect(err, n, WFP_YAML_MAPPING, "pend") || !wfp_yaml_check_keys(err, n, "pend", keys) ||
        !wfp_yaml_require(err, n, "complete_after", "pend", &v) || !wfp_yaml_get_duration(err, v, "complete_after", &ns))
        return false;
    if (pr->action != FWP_ACTION_BLOCK || !pr->absorb)
        return wfp_yaml_error(err, n, "pend needs action: block and absorb: true (a callout that pends returns "
                                      "FWP_ACTION_BLOCK with FWPS_CLASSIFY_OUT_FLAG_ABSORB)");
    pr->pend = true;
    pr->complete_after = (uint64_t)ns;
    return true;
}

/* `associate_context: 7`, or `{value: 7, layer: STREAM_V4, callout: name}`
 * (default: this callout, at the layer being classified). */
static bool parse_associate(const wfp_yaml_node *n, prule *pr, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"value", "layer", "callout", NULL};
    const wfp_yaml_node *v = n;
    pr->associate = true;
    pr->assoc_layer = UINT16_MAX;
    if (!wfp_yaml_is_scalar(n)) {
        if (!wfp_yaml_expect(err, n, WFP_YAML_MAPPING, "associate_context") ||
            !wfp_yaml_check_keys(err, n, "associate_context", keys) ||
            !wfp_yaml_require(err, n, "value", "associate_context", &v))
            return false;
        const wfp_yaml_node *x;
        if ((x = wfp_yaml_map_get(n, "layer"))) {
            const char *s;
            if (!wfp_yaml_get_string(err, x, "associate_context.layer", &s)) return false;
            const wfp_layer_info *li = wfp_catalog_layer_by_name(s);
            if (!li) return wfp_yaml_error(err, x, "associate_context.layer: unknown layer '%s'", s);
            pr->assoc_layer = li->id;
        }
        if ((x = wfp_yaml_map_get(n, "callout"))) {
            const char *s;
            if (!wfp_yaml_get_string(err, x, "associate_context.callout", &s)) return false;
            if (!(pr->assoc_callout = dup_str(s))) return wfp_yaml_error(err, x, "out of memory");
        }
    }
    return wfp_yaml_get_uint64(err, v, "associate_context value", 0, UINT64_MAX, &pr->assoc_value);
}

/* `redirect: {address: A, port: P}` at ALE_CONNECT_REDIRECT (the new
 * remote) or ALE_BIND_REDIRECT (the new local). */
static bool parse_redirect(const wfp_policy_object *o, const wfp_yaml_node *n, prule *pr, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"address", "port", NULL};
    const wfp_yaml_node *x;
    if (!o->layer || (!strstr(o->layer->name, "CONNECT_REDIRECT") && !strstr(o->layer->name, "BIND_REDIRECT")))
        return wfp_yaml_error(err, n, "redirect works at ALE_CONNECT_REDIRECT_V4/V6 and ALE_BIND_REDIRECT_V4/V6 only");
    if (!wfp_yaml_expect(err, n, WFP_YAML_MAPPING, "redirect") || !wfp_yaml_check_keys(err, n, "redirect", keys))
        return false;
    if ((x = wfp_yaml_map_get(n, "address"))) {
        const char *s;
        uint8_t ver;
        bool v6 = strstr(o->layer->name, "_V6") != NULL;
        if (!wfp_yaml_get_string(err, x, "redirect.address", &s)) return false;
        if (!wfp_ip_address_parse(s, pr->redirect_to, &ver) || (ver == 6) != v6)
            return wfp_yaml_error(err, x, "redirect.address: expected an IPv%c address for %s", v6 ? '6' : '4',
                                  o->layer->name);
        pr->redirect_addr = true;
    }
    if ((x = wfp_yaml_map_get(n, "port"))) {
        uint64_t port;
        if (!wfp_yaml_get_uint64(err, x, "redirect.port", 0, 65535, &port)) return false;
        pr->redirect_port = true;
        pr->redirect_port_to = (uint16_t)port;
    }
    if (!pr->redirect_addr && !pr->redirect_port) return wfp_yaml_error(err, n, "redirect needs address or port");
    pr->redirect = true;
    return true;
}

static bool parse_rules(wfp_policy_object *o, const wfp_yaml_node *list, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"when",   "injection_state", "action",           "clear_write_right",
                                       "absorb", "inject",          "pend",             "associate_context",
                                       "redirect", NULL};
    static const named rule_actions[] = {
        {"permit", FWP_ACTION_PERMIT}, {"block", FWP_ACTION_BLOCK}, {"continue", FWP_ACTION_CONTINUE}};
    char d[64];
    if (wfp_yaml_is_null(list)) return true;
    if (!wfp_yaml_expect(err, list, WFP_YAML_SEQUENCE, "classify")) return false;
    o->rules = calloc(list->count ? list->count : 1, sizeof *o->rules);
    if (!o->rules) return wfp_yaml_error(err, list, "out of memory");
    for (size_t i = 0; i < list->count; i++) {
        const wfp_yaml_node *r = list->items[i], *n;
        prule *pr = &o->rules[i];
        const char *s;
        uint64_t a;
        if (!wfp_yaml_check_keys(err, r, "a classify rule", keys)) return false;
        o->nrules = i + 1; /* from here pr is freed with the object */
        if (!wfp_yaml_require(err, r, "action", "a classify rule", &n) || !wfp_yaml_get_string(err, n, "action", &s))
            return false;
        if (!lookup_named(rule_actions, COUNT_OF(rule_actions), "FWP_ACTION_", s, &a))
            return wfp_yaml_error(err, n, "unknown action %s in a classify rule (expected one of: permit, block, continue)",
                                  wfp_yaml_describe(n, d, sizeof d));
        pr->action = (uint32_t)a;
        if ((n = wfp_yaml_map_get(r, "clear_write_right")) &&
            !wfp_yaml_get_bool(err, n, "clear_write_right", &pr->clear_write_right))
            return false;
        if ((n = wfp_yaml_map_get(r, "absorb"))) {
            if (!wfp_yaml_get_bool(err, n, "absorb", &pr->absorb)) return false;
            if (pr->absorb && pr->action != FWP_ACTION_BLOCK)
                return wfp_yaml_error(err, n, "absorb: true needs action: block (FWPS_CLASSIFY_OUT_FLAG_ABSORB goes only "
                                              "with FWP_ACTION_BLOCK)");
        }
        if (pr->action == FWP_ACTION_CONTINUE && pr->clear_write_right)
            return wfp_yaml_error(err, r, "clear_write_right goes with permit or block, not continue");
        if ((n = wfp_yaml_map_get(r, "when")) &&
            !wfp_policy_conditions_parse(o->layer, n, "when", true, &pr->when, err))
            return false;
        if ((n = wfp_yaml_map_get(r, "injection_state")) && !parse_states(n, &pr->states, err)) return false;
        if ((n = wfp_yaml_map_get(r, "inject")) && !parse_inject(n, pr, err)) return false;
        if (n && pr->inj.kind == WFP_INJECT_STREAM && (!o->layer || strncmp(o->layer->name, "FWPM_LAYER_STREAM_V", 19)))
            return wfp_yaml_error(err, n, "inject kind: stream works at STREAM_V4/V6 only");
        if ((n = wfp_yaml_map_get(r, "pend")) && !parse_pend(n, pr, err)) return false;
        if ((n = wfp_yaml_map_get(r, "associate_context")) && !parse_associate(n, pr, err)) return false;
        if ((n = wfp_yaml_map_get(r, "redirect")) && !parse_redirect(o, n, pr, err)) return false;
    }
    return true;
}

/* `notify:` of a callout: its declarative notifyFn. `accept` (the
 * default) or `reject_add`. */
static bool parse_notify(wfp_policy_object *o, const wfp_yaml_node *body, wfp_yaml_errors *err)
{
    const wfp_yaml_node *n = wfp_yaml_map_get(body, "notify");
    char d[64];
    if (!n) return true;
    if (wfp_yaml_scalar_is(n, "reject_add")) o->reject_add = true;
    else if (!wfp_yaml_scalar_is(n, "accept"))
        return wfp_yaml_error(err, n, "unknown notify %s (expected accept or reject_add)",
                              wfp_yaml_describe(n, d, sizeof d));
    return true;
}

static bool parse_callout(wfp_policy *p, wfp_policy_object *o, const wfp_yaml_node *body, const char *what,
                          wfp_yaml_errors *err)
{
    static const char *const keys[] = {"name",          "key",      "description",   "layer",
                                       "provider",      "persistent", "flags",       "registered",
                                       "classify",      "provider_data", "notify",   "conditional_on_flow",
                                       NULL};
    wfp_callout *d = &o->d.callout;
    const wfp_yaml_node *n;
    if (!wfp_yaml_check_keys(err, body, what, keys)) return false;
    if (!parse_common(o, body, what, &d->key, &d->display, &d->provider_data, err)) return false;
    if (!wfp_yaml_require(err, body, "layer", what, &n) || !parse_layer(n, &o->layer, &d->applicable_layer, err))
        return false;
    if ((n = wfp_yaml_map_get(body, "provider"))) {
        if (!resolve_ref(p, WFP_POLICY_PROVIDER, n, &o->provider_key, err)) return false;
        d->provider_key = &o->provider_key;
    }
    if ((n = wfp_yaml_map_get(body, "flags")) &&
        !parse_flags(n, callout_flags, COUNT_OF(callout_flags), "FWPM_CALLOUT_FLAG_", "flags", &d->flags, err))
        return false;
    if (!parse_persistent(body, FWPM_CALLOUT_FLAG_PERSISTENT, &d->flags, err)) return false;
    o->registered = true;
    if ((n = wfp_yaml_map_get(body, "registered")) && !wfp_yaml_get_bool(err, n, "registered", &o->registered))
        return false;
    if (!parse_notify(o, body, err)) return false;
    if ((n = wfp_yaml_map_get(body, "conditional_on_flow")) &&
        !wfp_yaml_get_bool(err, n, "conditional_on_flow", &o->cond_on_flow))
        return false;
    if ((n = wfp_yaml_map_get(body, "classify"))) {
        if (!o->layer)
            return wfp_yaml_error(err, n, "classify rules need a layer from the catalogue, not an unknown GUID");
        if (!parse_rules(o, n, err)) return false;
    }
    return true;
}

/* weight: absent/auto → FWP_EMPTY; 0..15 → FWP_UINT8 range; 16+ → FWP_UINT64;
 * {uint64: N}, {range: N} (0..255: the engine refuses > 15), {type:, value:}. */
static bool parse_weight(wfp_policy_object *o, const wfp_yaml_node *n, wfp_value *w, wfp_yaml_errors *err)
{
    uint64_t v;
    memset(w, 0, sizeof *w);
    if (!n || wfp_yaml_scalar_is(n, "auto")) return true;
    if (n->kind == WFP_YAML_MAPPING) {
        const wfp_yaml_node *x;
        if ((x = wfp_yaml_map_get(n, "uint64")) && n->count == 1) {
            if (!wfp_yaml_get_uint64(err, x, "weight uint64", 0, UINT64_MAX, &v)) return false;
            w->type = FWP_UINT64;
            w->v.u64 = v;
            return true;
        }
        if ((x = wfp_yaml_map_get(n, "range")) && n->count == 1) {
            if (!wfp_yaml_get_uint64(err, x, "weight range", 0, UINT8_MAX, &v)) return false;
            w->type = FWP_UINT8;
            w->v.u8 = (uint8_t)v;
            return true;
        }
        if (wfp_yaml_map_get(n, "type")) {
            cparse cp;
            wfp_condition_value cv;
            field_info f;
            vctx c;
            memset(&cp, 0, sizeof cp);
            memset(&f, 0, sizeof f);
            memset(&c, 0, sizeof c);
            cp.out = &o->conds; /* storage only */
            cp.err = err;
            c.store = obj_store(o);
            if (!parse_typed(&cp, n, &f, &c, &cv)) return false;
            if (cv.type > FWP_SINGLE_DATA_TYPE_MAX)
                return wfp_yaml_error(err, n, "a weight has a single data type");
            *w = cv.u.value;
            return true;
        }
        return wfp_yaml_error(err, n, "weight must be 0..15 (a weight range), 16 or more (exact), auto, {uint64: N}, "
                                      "{range: N} or {type:, value:}");
    }
    if (!wfp_yaml_get_uint64(err, n, "weight", 0, UINT64_MAX, &v)) return false;
    if (v <= FWPM_WEIGHT_RANGE_MAX) {
        w->type = FWP_UINT8;
        w->v.u8 = (uint8_t)v;
    } else {
        w->type = FWP_UINT64;
        w->v.u64 = v;
    }
    return true;
}

static bool parse_filter(wfp_policy *p, wfp_policy_object *o, const wfp_yaml_node *body, const char *what,
                         wfp_yaml_errors *err)
{
    static const char *const keys[] = {"name",   "key",      "description", "layer",      "sublayer",
                                       "provider", "weight", "action",      "callout",    "flags",
                                       "conditions", "context", "provider_data", NULL};
    wfp_filter *d = &o->d.filter;
    const wfp_yaml_node *n, *cn;
    const char *s;
    uint64_t a;
    char d64[64];

    if (!wfp_yaml_check_keys(err, body, what, keys)) return false;
    if (!parse_common(o, body, what, &d->key, &d->display, &d->provider_data, err)) return false;
    if (!wfp_yaml_require(err, body, "layer", what, &n) || !parse_layer(n, &o->layer, &d->layer_key, err)) return false;
    if ((n = wfp_yaml_map_get(body, "sublayer")) && !resolve_ref(p, WFP_POLICY_SUBLAYER, n, &d->sublayer_key, err))
        return false;
    if ((n = wfp_yaml_map_get(body, "provider"))) {
        if (!resolve_ref(p, WFP_POLICY_PROVIDER, n, &o->provider_key, err)) return false;
        d->provider_key = &o->provider_key;
    }
    if (!parse_weight(o, wfp_yaml_map_get(body, "weight"), &d->weight, err)) return false;
    if (!wfp_yaml_require(err, body, "action", what, &n) || !wfp_yaml_get_string(err, n, "action", &s)) return false;
    if (!lookup_named(actions, COUNT_OF(actions), "FWP_ACTION_", s, &a))
        return wfp_yaml_error(err, n,
                              "unknown action %s (expected one of: permit, block, callout_terminating, "
                              "callout_inspection, callout_unknown)",
                              wfp_yaml_describe(n, d64, sizeof d64));
    d->action.type = (uint32_t)a;
    cn = wfp_yaml_map_get(body, "callout");
    if (d->action.type & FWP_ACTION_FLAG_CALLOUT) {
        if (!cn) return wfp_yaml_error(err, n, "action %s needs 'callout:' (the callout's name)", s);
        if (!resolve_ref(p, WFP_POLICY_CALLOUT, cn, &d->action.key, err)) return false;
    } else if (cn) {
        return wfp_yaml_error(err, cn, "'callout:' goes only with a callout action (callout_terminating, "
                                       "callout_inspection, callout_unknown)");
    }
    if ((n = wfp_yaml_map_get(body, "flags")) &&
        !parse_flags(n, filter_flags, COUNT_OF(filter_flags), "FWPM_FILTER_FLAG_", "flags", &d->flags, err))
        return false;
    if ((n = wfp_yaml_map_get(body, "context")) &&
        !wfp_yaml_get_uint64(err, n, "context", 0, UINT64_MAX, &d->raw_context))
        return false;
    if ((n = wfp_yaml_map_get(body, "conditions"))) {
        if (!wfp_policy_conditions_parse(o->layer, n, "conditions", false, &o->conds, err)) return false;
        d->conditions = o->conds.items;
        d->num_conditions = o->conds.count;
    }
    return true;
}

bool wfp_policy_object_parse(wfp_policy *p, wfp_policy_kind kind, const wfp_yaml_node *body, const char *what,
                             wfp_policy_object **out, wfp_yaml_errors *err)
{
    wfp_policy_object *o;
    bool ok = false;

    *out = NULL;
    if (!what) what = wfp_policy_kind_name(kind);
    if (!wfp_yaml_expect(err, body, WFP_YAML_MAPPING, what)) return false;
    o = calloc(1, sizeof *o);
    if (!o) return wfp_yaml_error(err, body, "out of memory");
    o->kind = kind;
    o->node = body;
    switch (kind) {
    case WFP_POLICY_PROVIDER: ok = parse_provider(p, o, body, what, err); break;
    case WFP_POLICY_SUBLAYER: ok = parse_sublayer(p, o, body, what, err); break;
    case WFP_POLICY_CALLOUT: ok = parse_callout(p, o, body, what, err); break;
    case WFP_POLICY_FILTER: ok = parse_filter(p, o, body, what, err); break;
    }
    if (!ok) {
        wfp_policy_object_free(o);
        return false;
    }
    *out = o;
    return true;
}

static bool record_filter_id(wfp_policy *p, const pentry *e, uint64_t id)
{
    if (id <= p->max_id) {
        for (size_t i = p->nids; i-- > 0;) {
            if (p->filter_ids[i].id != id) continue;
            p->filter_ids[i].e = e;
            return true;
        }
    }
    if (p->nids == p->capids) {
        size_t nc = p->capids ? p->capids * 2 : 16;
        idname *nv = realloc(p->filter_ids, nc * sizeof *nv);
        if (!nv) return false;
        p->filter_ids = nv;
        p->capids = nc;
    }
    p->filter_ids[p->nids].id = id;
    p->filter_ids[p->nids].e = e;
    p->nids++;
    if (id > p->max_id) p->max_id = id;
    return true;
}

uint32_t wfp_policy_object_add(wfp_policy *p, wfp_session *s, wfp_policy_object *o)
{
    uint32_t rc = ERROR_SUCCESS, cid = 0;
    uint64_t fid = 0;
    wfp_guid key;
    pentry *e;

    if (!p || !s || !o) return FWP_E_NULL_POINTER;
    switch (o->kind) {
    case WFP_POLICY_PROVIDER:
        rc = wfp_provider_add(s, &o->d.provider);
        key = o->d.provider.key;
        break;
    case WFP_POLICY_SUBLAYER:
        rc = wfp_sublayer_add(s, &o->d.sublayer);
        key = o->d.sublayer.key;
        break;
    case WFP_POLICY_CALLOUT:
        rc = wfp_callout_add(s, &o->d.callout, &cid);
        key = o->d.callout.key;
        break;
    case WFP_POLICY_FILTER:
        rc = wfp_filter_add(s, &o->d.filter, &fid);
        key = o->d.filter.key;
        break;
    default: return FWP_E_INVALID_PARAMETER;
    }
    if (rc) return rc;
    e = entry_for(p, o->kind, o->name);
    if (!e) return ERROR_NOT_ENOUGH_MEMORY;
    e->key = key;
    if (o->kind == WFP_POLICY_FILTER) {
        e->id = fid;
        if (!record_filter_id(p, e, fid)) return ERROR_NOT_ENOUGH_MEMORY;
    } else if (o->kind == WFP_POLICY_CALLOUT) {
        e->id = cid;
        e->layer = o->layer;
        /* the entry takes the rules: it is the classify context */
        free_rules(e->rules, e->nrules);
        e->rules = o->rules;
        e->nrules = o->nrules;
        e->reject_add = o->reject_add;
        e->cond_on_flow = o->cond_on_flow;
        o->rules = NULL;
        o->nrules = 0;
        wfp_engine *eng = wfp_session_engine(s);
        if (o->registered && !wfp_callout_is_registered(eng, &key)) return register_entry(eng, e);
    }
    return ERROR_SUCCESS;
}

bool wfp_policy_object_report(const wfp_policy_object *o, uint32_t code, const wfp_engine *e, wfp_yaml_errors *err)
{
    const wfp_yaml_node *at = o ? o->node : NULL;
    const char *name = wfp_result_name(code), *detail = e ? wfp_engine_last_error(e) : NULL;
    char num[16];

    if (!name) {
        snprintf(num, sizeof num, "0x%08lx", (unsigned long)code);
        name = num;
    }
    /* the engine's text starts with the code's name: say it once */
    if (detail && !strncmp(detail, name, strlen(name)) && !strncmp(detail + strlen(name), ": ", 2))
        detail += strlen(name) + 2;
    /* Point at the condition the code is about, when it is about one. */
    if (o && o->kind == WFP_POLICY_FILTER && o->layer) {
        for (uint32_t i = 0; i < o->conds.count; i++) {
            int32_t fi = o->conds.field_index[i];
            uint32_t rc = fi < 0 ? FWP_E_CONDITION_NOT_FOUND
                                 : wfp_condition_validate(o->layer->fields[fi].data_type,
                                                          o->conds.items[i].match_type, &o->conds.items[i].value);
            if (rc == code) {
                at = o->conds.nodes[i];
                break;
            }
        }
    }
    return wfp_yaml_error(err, at, "cannot add %s '%s': %s%s%s%s", o ? wfp_policy_kind_name(o->kind) : "object",
                          o && o->name ? o->name : "?", name, detail && *detail ? " (" : "",
                          detail && *detail ? detail : "", detail && *detail ? ")" : "");
}

/* Largest state dump `import:` reads (a real one is a few MiB). */
#define IMPORT_MAX_BYTES (64u << 20)
#if defined(_WIN32) && !defined(S_ISREG)
#define S_ISREG(m) (((m) & _S_IFMT) == _S_IFREG) /* MSVC's sys/stat.h has the bits, not the macro */
#endif

/* `import: FILE`: a `netsh wfp show state` / `show filters` dump (or a
 * `wfpsim import -o` export), relative to the file that names it, added
 * first as `wfpsim import` would. Only regular files of sane size are read
 * (a scenario is outside input). */
static bool apply_import(wfp_session *s, const wfp_yaml_node *n, wfp_yaml_errors *err)
{
    const char *rel, *file = n->file ? n->file : "";
    const char *slash = strrchr(file, '/');
    char msg[512];
    struct stat st;
#ifdef _WIN32
    const char *bs = strrchr(file, '\\');
    if (bs && (!slash || bs > slash)) slash = bs;
#endif
    if (!wfp_yaml_get_string(err, n, "policy.import", &rel)) return false;
    size_t dl = rel[0] == '/' || !slash ? 0 : (size_t)(slash - file) + 1;
    char *path = malloc(dl + strlen(rel) + 1);
    if (!path) return wfp_yaml_error(err, n, "out of memory");
    memcpy(path, file, dl);
    strcpy(path + dl, rel);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > IMPORT_MAX_BYTES) {
        wfp_yaml_error(err, n, "policy.import: %s is not a readable state dump (a regular file of at most 64 MiB)",
                       path);
        free(path);
        return false;
    }
    wfp_import_model *m = wfp_import_parse_file(path, msg, sizeof msg);
    free(path);
    if (!m) return wfp_yaml_error(err, n, "policy.import: %s", msg);
    wfp_import_report report;
    bool ok = wfp_import_apply(m, s, &report, NULL);
    wfp_import_model_free(m);
    return ok || wfp_yaml_error(err, n, "policy.import: out of memory");
}

bool wfp_policy_apply(wfp_policy *p, wfp_session *s, const wfp_yaml_node *policy_map, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"import", "providers", "sublayers", "callouts", "filters", NULL};
    static const wfp_policy_kind kinds[] = {WFP_POLICY_PROVIDER, WFP_POLICY_SUBLAYER, WFP_POLICY_CALLOUT,
                                            WFP_POLICY_FILTER};

    if (!p || !s) return wfp_yaml_error(err, policy_map, "no policy or session");
    if (!policy_map || wfp_yaml_is_null(policy_map)) return true;
    if (!wfp_yaml_check_keys(err, policy_map, "policy", keys)) return false;
    const wfp_yaml_node *imp = wfp_yaml_map_get(policy_map, "import");
    if (imp && !apply_import(s, imp, err)) return false;
    for (size_t k = 0; k < COUNT_OF(kinds); k++) {
        const wfp_yaml_node *list = wfp_yaml_map_get(policy_map, keys[k + 1]);
        char what[32];
        if (!list || wfp_yaml_is_null(list)) continue;
        snprintf(what, sizeof what, "policy.%s", keys[k + 1]);
        if (!wfp_yaml_expect(err, list, WFP_YAML_SEQUENCE, what)) return false;
        for (size_t i = 0; i < list->count; i++) {
            wfp_policy_object *o;
            if (!wfp_policy_object_parse(p, kinds[k], list->items[i], wfp_policy_kind_name(kinds[k]), &o, err))
                return false;
            uint32_t rc = wfp_policy_object_add(p, s, o);
            if (rc) {
                wfp_policy_object_report(o, rc, wfp_session_engine(s), err);
                wfp_policy_object_free(o);
                return false;
            }
            wfp_policy_object_free(o);
        }
    }
    return true;
}

/* ---- incoming values ----------------------------------------------------- */

struct wfp_policy_values {
    const wfp_layer_info *layer;
    wfp_value *values;
    void **owned;
    size_t nowned, capowned;
};

wfp_policy_values *wfp_policy_values_create(const wfp_layer_info *layer)
{
    wfp_policy_values *v;
    if (!layer) return NULL;
    v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->layer = layer;
    v->values = calloc(layer->num_fields ? layer->num_fields : 1, sizeof *v->values);
    if (!v->values) {
        free(v);
        return NULL;
    }
    return v; /* calloc: every type is FWP_EMPTY (0) */
}

void wfp_policy_values_destroy(wfp_policy_values *v)
{
    if (!v) return;
    owned s = {&v->owned, &v->nowned, &v->capowned};
    own_free(s);
    free(v->values);
    free(v);
}

bool wfp_policy_values_set(wfp_policy_values *v, const char *field, const char *text, char *whybuf, size_t n)
{
    field_info f;
    vctx c;
    wfp_value val;
    char fields[1536];

    if (!v || !field || !text) return false;
    if (!field_lookup(v->layer, field, &f) || !f.in_layer) {
        list_layer_fields(v->layer, fields, sizeof fields);
        if (whybuf && n)
            snprintf(whybuf, n, "%s is not a field of %s (its fields: %s)", field, v->layer->name, fields);
        return false;
    }
    memset(&c, 0, sizeof c);
    c.store.v = &v->owned;
    c.store.n = &v->nowned;
    c.store.cap = &v->capowned;
    c.f = &f;
    if (wfp_yaml_ascii_ieq(text, "empty")) {
        memset(&v->values[f.index], 0, sizeof val);
        return true;
    }
    if (!parse_value(&c, f.data_type, text, &val)) {
        if (whybuf && n)
            snprintf(whybuf, n, "bad value '%s' for %s (%s): expected %s", text,
                     short_name(f.cond->name, "FWPM_CONDITION_"), type_label(f.data_type), c.why);
        return false;
    }
    v->values[f.index] = val;
    return true;
}

const wfp_value *wfp_policy_values_array(const wfp_policy_values *v)
{
    return v ? v->values : NULL;
}

uint32_t wfp_policy_values_count(const wfp_policy_values *v)
{
    return v ? v->layer->num_fields : 0;
}

const wfp_layer_info *wfp_policy_values_layer(const wfp_policy_values *v)
{
    return v ? v->layer : NULL;
}
