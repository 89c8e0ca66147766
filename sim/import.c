/* import.c — `netsh wfp show state` / `show filters` dumps: parse (libxml2),
 * apply to an engine, check automatic weights, export as a scenario and
 * read the export back (wfp_import.h; docs/import.md).
 *
 * Layout of this file:
 *   1. arena and small helpers
 *   2. reading the XML (hostile input: no network, no DTD, no entities)
 *   3. the dump → model
 *   4. model → engine (apply) and the report
 *   5. automatic weights
 *   6. model → XML (the record keeps objects the engine cannot hold)
 *   7. model → scenario YAML (export)
 *   8. export → model (read back) and model comparison */
#include "wfp_import.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

/* The structured-error callback takes a const pointer from libxml2 2.12 on. */
#if LIBXML_VERSION >= 21200
typedef const xmlError *wfpi_xml_error;
#else
typedef xmlErrorPtr wfpi_xml_error;
#endif

#include "policy.h"
#include "weight.h"
#include "yamldoc.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ======================================================================
 * 1. arena and small helpers
 * ====================================================================== */

typedef struct ablock {
    struct ablock *next;
    size_t cap, used;
    max_align_t data[];
} ablock;

typedef struct arena {
    ablock *head;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
    const size_t al = sizeof(max_align_t);
    n = (n + al - 1) / al * al;
    if (!n) n = al;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        ablock *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->cap = cap;
        b->used = 0;
        a->head = b;
    }
    void *p = (unsigned char *)a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

static char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static char *arena_strdup(arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

static void *arena_memdup(arena *a, const void *p, size_t n)
{
    void *q = arena_alloc(a, n);
    if (q && n) memcpy(q, p, n);
    return q;
}

static void arena_free(arena *a)
{
    while (a && a->head) {
        ablock *n = a->head->next;
        free(a->head);
        a->head = n;
    }
}

/* Growing arrays of model objects (plain malloc, freed with the model). */
static bool grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap) return true;
    size_t nc = *cap ? *cap * 2 : 16;
    if (nc > SIZE_MAX / elem) return false;
    void *nv = realloc(*v, nc * elem);
    if (!nv) return false;
    memset((char *)nv + *cap * elem, 0, (nc - *cap) * elem);
    *v = nv;
    *cap = nc;
    return true;
}

typedef struct mstate {
    wfp_import_model *m;
    arena ar;
    size_t cap_providers, cap_sublayers, cap_callouts, cap_filters, cap_layers;
    size_t objects; /* all kinds, for the limit */
    char *err;
    size_t errn;
    bool failed;
} mstate;

static bool fail(mstate *st, const xmlNode *at, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    if (st->failed) return false;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st->err && st->errn) {
        long line = at ? xmlGetLineNo(at) : -1;
        if (line > 0)
            snprintf(st->err, st->errn, "%s:%ld: %s", st->m->source ? st->m->source : "dump", line, msg);
        else
            snprintf(st->err, st->errn, "%s: %s", st->m->source ? st->m->source : "dump", msg);
    }
    st->failed = true;
    return false;
}

static bool oom(mstate *st)
{
    return fail(st, NULL, "out of memory");
}

static const char *short_name(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) ? s : s + n;
}

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decimal or 0x-hex unsigned integer, whole string. */
static bool parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s) return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (!*s) return false;
        for (; *s; s++) {
            int d = hexval((unsigned char)*s);
            if (d < 0 || v > (UINT64_MAX >> 4)) return false;
            v = v << 4 | (uint64_t)d;
        }
    } else {
        for (; *s; s++) {
            if (*s < '0' || *s > '9') return false;
            uint64_t d = (uint64_t)(*s - '0');
            if (v > (UINT64_MAX - d) / 10) return false;
            v = v * 10 + d;
        }
    }
    *out = v;
    return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
    bool neg = false;
    uint64_t u;
    if (!s) return false;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (!parse_u64(s, &u)) return false;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1) return false;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)u;
    }
    return true;
}

/* Hex digits (blanks, ':' and '-' ignored) into bytes. */
static bool parse_hex_bytes(arena *a, const char *s, uint8_t **out, uint32_t *len)
{
    size_t digits = 0;
    for (const char *p = s; *p; p++) {
        if (hexval((unsigned char)*p) >= 0) digits++;
        else if (!strchr(" \t\r\n:-", *p)) return false;
    }
    if (digits % 2 || digits / 2 > WFP_IMPORT_MAX_BLOB) return false;
    uint8_t *b = arena_alloc(a, digits / 2 + 1);
    if (!b) return false;
    size_t n = 0;
    int hi = -1;
    for (const char *p = s; *p; p++) {
        int d = hexval((unsigned char)*p);
        if (d < 0) continue;
        if (hi < 0) hi = d;
        else {
            b[n++] = (uint8_t)(hi << 4 | d);
            hi = -1;
        }
    }
    *out = b;
    *len = (uint32_t)n;
    return true;
}

/* ======================================================================
 * 2. reading the XML
 * ====================================================================== */

typedef struct xml_state {
    int first_code;
    int first_line;
    char first_msg[200];
    bool dtd;
} xml_state;

static void on_xml_error(void *data, wfpi_xml_error e)
{
    xmlParserCtxtPtr c = data;
    xml_state *st = c ? c->_private : NULL;
    if (!st || !e || e->level < XML_ERR_ERROR || st->first_code) return;
    st->first_code = e->code ? e->code : -1;
    st->first_line = e->line;
    snprintf(st->first_msg, sizeof st->first_msg, "%s", e->message ? e->message : "malformed XML");
    size_t l = strlen(st->first_msg);
    while (l && (st->first_msg[l - 1] == '\n' || st->first_msg[l - 1] == ' ')) st->first_msg[--l] = 0;
}

static void on_internal_subset(void *data, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    xmlParserCtxtPtr c = data;
    xml_state *st = c ? c->_private : NULL;
    (void)name;
    (void)ext;
    (void)sys;
    if (st) st->dtd = true;
    if (c) xmlStopParser(c);
}

/* One document from memory. Only the first root element counts: content
 * after it (newer builds append <firewallState>) is ignored, but anything
 * malformed before its end is an error. DTDs are refused outright (no
 * entities, internal or external), and libxml2 never touches the network. */
static xmlDocPtr read_xml(const char *name, const void *data, size_t size, char *err, size_t n)
{
    xml_state st;
    xmlParserCtxtPtr c;
    xmlDocPtr doc = NULL;

    memset(&st, 0, sizeof st);
    if (size > WFP_IMPORT_MAX_FILE || size > INT_MAX) {
        snprintf(err, n, "%s: too large (%zu bytes; at most %u)", name, size, WFP_IMPORT_MAX_FILE);
        return NULL;
    }
    /* netsh writes UTF-8: skip its BOM and read nothing else (no encoding
     * declaration or detection, so no converter and no global error output) */
    const unsigned char *b = data;
    if (size >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) {
        data = b + 3;
        size -= 3;
    }
    c = xmlCreateMemoryParserCtxt(size ? data : "", (int)size);
    if (!c) {
        snprintf(err, n, "%s: out of memory", name);
        return NULL;
    }
    xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
                             XML_PARSE_IGNORE_ENC);
    if (!c->encoding) c->encoding = xmlStrdup((const xmlChar *)"UTF-8");
    c->_private = &st;
    if (c->sax) {
        c->sax->serror = on_xml_error;
        c->sax->internalSubset = on_internal_subset;
        c->sax->externalSubset = NULL;
        c->sax->entityDecl = NULL;
        c->sax->resolveEntity = NULL;
    }
    c->userData = c;
    xmlParseDocument(c);
    doc = c->myDoc;
    c->myDoc = NULL;
    if (st.dtd) {
        snprintf(err, n, "%s: a DTD (<!DOCTYPE …>) is not accepted in a WFP dump", name);
    } else if (!c->wellFormed && st.first_code != XML_ERR_DOCUMENT_END) {
        if (st.first_code)
            snprintf(err, n, "%s:%d: not well-formed XML: %s", name, st.first_line, st.first_msg);
        else
            snprintf(err, n, "%s: not well-formed XML", name);
    } else if (!doc || !xmlDocGetRootElement(doc)) {
        snprintf(err, n, "%s: no XML element", name);
    } else {
        xmlFreeParserCtxt(c);
        return doc;
    }
    if (doc) xmlFreeDoc(doc);
    xmlFreeParserCtxt(c);
    return NULL;
}

static bool is_el(const xmlNode *x, const char *name)
{
    return x && x->type == XML_ELEMENT_NODE && !strcmp((const char *)x->name, name);
}

static xmlNode *first_el(xmlNode *x)
{
    for (; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE) return x;
    return NULL;
}

static xmlNode *next_el(xmlNode *x)
{
    return x ? first_el(x->next) : NULL;
}

static xmlNode *child(xmlNode *x, const char *name)
{
    if (!x) return NULL;
    for (xmlNode *c = first_el(x->children); c; c = next_el(c))
        if (is_el(c, name)) return c;
    return NULL;
}

/* The element's text (all its text and entity content), in the arena;
 * "" for an empty element, NULL for a missing one (or out of memory). */
static const char *text_of(mstate *st, xmlNode *x)
{
    if (!x) return NULL;
    xmlChar *t = xmlNodeGetContent(x);
    const char *r = arena_strdup(&st->ar, t ? (const char *)t : "");
    xmlFree(t);
    if (!r) oom(st);
    return r;
}

/* The same without blanks at either end (numbers, keys, names of types). */
static const char *trimmed_text(mstate *st, xmlNode *x)
{
    const char *t = text_of(st, x);
    if (!t) return NULL;
    while (*t && isspace((unsigned char)*t)) t++;
    size_t n = strlen(t);
    while (n && isspace((unsigned char)t[n - 1])) n--;
    return arena_strndup(&st->ar, t, n);
}

/* An element serialised back to XML (kept for values wfpsim cannot read). */
static const char *raw_xml(mstate *st, xmlNode *x)
{
    xmlBufferPtr b = xmlBufferCreate();
    const char *r = NULL;
    if (!b) return NULL;
    if (xmlNodeDump(b, x->doc, x, 0, 0) >= 0) r = arena_strdup(&st->ar, (const char *)xmlBufferContent(b));
    xmlBufferFree(b);
    return r;
}

/* ======================================================================
 * 3. the dump → model
 * ====================================================================== */

typedef enum ref_kind { R_LAYER, R_SUBLAYER, R_PROVIDER, R_CALLOUT, R_CONDITION, R_CONTEXT, R_OTHER } ref_kind;

static const wfp_builtin_provider *builtin_provider_by_name(const char *s)
{
    for (size_t i = 0; i < wfp_catalog_provider_count(); i++) {
        const wfp_builtin_provider *p = wfp_catalog_provider_at(i);
        if (ieq(s, p->name) || ieq(s, short_name(p->name, "FWPM_PROVIDER_"))) return p;
    }
    return NULL;
}

static bool builtin_provider_key(const wfp_guid *k)
{
    for (size_t i = 0; i < wfp_catalog_provider_count(); i++)
        if (wfp_guid_eq(&wfp_catalog_provider_at(i)->key, k)) return true;
    return false;
}

static const wfp_builtin_sublayer *builtin_sublayer_by_key(const wfp_guid *k)
{
    for (size_t i = 0; i < wfp_catalog_sublayer_count(); i++)
        if (wfp_guid_eq(&wfp_catalog_sublayer_at(i)->key, k)) return wfp_catalog_sublayer_at(i);
    return NULL;
}

static const wfp_builtin_callout *builtin_callout_by_key(const wfp_guid *k)
{
    for (size_t i = 0; i < wfp_catalog_callout_count(); i++)
        if (wfp_guid_eq(&wfp_catalog_callout_at(i)->key, k)) return wfp_catalog_callout_at(i);
    return NULL;
}

static const char *builtin_provider_name(const wfp_guid *k)
{
    for (size_t i = 0; i < wfp_catalog_provider_count(); i++)
        if (wfp_guid_eq(&wfp_catalog_provider_at(i)->key, k)) return wfp_catalog_provider_at(i)->name;
    return NULL;
}

/* Text → key. A GUID ("{…}" or bare) is taken as it is; a symbolic name
 * resolves through the catalogue, or, unknown, gets a key derived from it. */
static void ref_from_text(mstate *st, const char *t, ref_kind kind, wfp_import_ref *out)
{
    memset(out, 0, sizeof *out);
    out->resolved = true;
    if (wfp_guid_parse(t, &out->key)) return;
    out->symbol = arena_strdup(&st->ar, t);
    if (!out->symbol) oom(st);
    switch (kind) {
    case R_LAYER: {
        const wfp_layer_info *l = wfp_catalog_layer_by_name(t);
        if (l) {
            out->key = l->key;
            return;
        }
        break;
    }
    case R_SUBLAYER: {
        const wfp_builtin_sublayer *s = wfp_catalog_sublayer_by_name(t);
        if (s) {
            out->key = s->key;
            return;
        }
        break;
    }
    case R_PROVIDER: {
        const wfp_builtin_provider *p = builtin_provider_by_name(t);
        if (p) {
            out->key = p->key;
            return;
        }
        break;
    }
    case R_CALLOUT: {
        const wfp_builtin_callout *c = wfp_catalog_callout_by_name(t);
        if (c) {
            out->key = c->key;
            return;
        }
        break;
    }
    case R_CONDITION: {
        const wfp_condition_info *c = wfp_catalog_condition_by_name(t);
        if (c) {
            out->key = c->key;
            return;
        }
        break;
    }
    default: break;
    }
    out->resolved = false;
    wfp_guid_from_name("import-symbol", t, &out->key);
}

/* An optional key element: false when absent or empty. */
static bool ref_of(mstate *st, xmlNode *x, ref_kind kind, wfp_import_ref *out)
{
    const char *t = trimmed_text(st, x);
    memset(out, 0, sizeof *out);
    if (!t || !*t) return false;
    ref_from_text(st, t, kind, out);
    return true;
}

/* ---- flags --------------------------------------------------------------- */

typedef struct flag_name {
    const char *name;
    uint32_t bit;
} flag_name;

static const flag_name provider_flag_names[] = {
    {"FWPM_PROVIDER_FLAG_PERSISTENT", FWPM_PROVIDER_FLAG_PERSISTENT},
    {"FWPM_PROVIDER_FLAG_DISABLED", FWPM_PROVIDER_FLAG_DISABLED},
};
static const flag_name sublayer_flag_names[] = {
    {"FWPM_SUBLAYER_FLAG_PERSISTENT", FWPM_SUBLAYER_FLAG_PERSISTENT},
};
static const flag_name callout_flag_names[] = {
    {"FWPM_CALLOUT_FLAG_PERSISTENT", FWPM_CALLOUT_FLAG_PERSISTENT},
    {"FWPM_CALLOUT_FLAG_USES_PROVIDER_CONTEXT", FWPM_CALLOUT_FLAG_USES_PROVIDER_CONTEXT},
    {"FWPM_CALLOUT_FLAG_REGISTERED", FWPM_CALLOUT_FLAG_REGISTERED},
};
static const flag_name filter_flag_names[] = {
    {"FWPM_FILTER_FLAG_PERSISTENT", FWPM_FILTER_FLAG_PERSISTENT},
    {"FWPM_FILTER_FLAG_BOOTTIME", FWPM_FILTER_FLAG_BOOTTIME},
    {"FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT", FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT},
    {"FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT", FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT},
    {"FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED", FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED},
    {"FWPM_FILTER_FLAG_DISABLED", FWPM_FILTER_FLAG_DISABLED},
    {"FWPM_FILTER_FLAG_INDEXED", FWPM_FILTER_FLAG_INDEXED},
    {"FWPM_FILTER_FLAG_HAS_SECURITY_REALM_PROVIDER_CONTEXT", FWPM_FILTER_FLAG_HAS_SECURITY_REALM_PROVIDER_CONTEXT},
    {"FWPM_FILTER_FLAG_SYSTEMOS_ONLY", FWPM_FILTER_FLAG_SYSTEMOS_ONLY},
    {"FWPM_FILTER_FLAG_GAMEOS_ONLY", FWPM_FILTER_FLAG_GAMEOS_ONLY},
    {"FWPM_FILTER_FLAG_SILENT_MODE", FWPM_FILTER_FLAG_SILENT_MODE},
    {"FWPM_FILTER_FLAG_IPSEC_NO_ACQUIRE_INITIATE", FWPM_FILTER_FLAG_IPSEC_NO_ACQUIRE_INITIATE},
    {"FWPM_FILTER_FLAG_RESERVED0", FWPM_FILTER_FLAG_RESERVED0},
    {"FWPM_FILTER_FLAG_RESERVED1", FWPM_FILTER_FLAG_RESERVED1},
};

typedef struct flag_table {
    const flag_name *v;
    size_t n;
} flag_table;

#define FLAG_TABLE(t) ((flag_table){(t), COUNT_OF(t)})

/* <flags><item>NAME</item>…</flags>. Names are matched exactly. */
static bool flags_of(mstate *st, xmlNode *x, flag_table t, wfp_import_flags *out)
{
    size_t n = 0;
    memset(out, 0, sizeof *out);
    if (!x) return true;
    for (xmlNode *c = first_el(x->children); c; c = next_el(c)) n++;
    if (n > 64) return fail(st, x, "more than 64 flags");
    const char **unknown = n ? arena_alloc(&st->ar, n * sizeof *unknown) : NULL;
    if (n && !unknown) return oom(st);
    for (xmlNode *c = first_el(x->children); c; c = next_el(c)) {
        const char *s = trimmed_text(st, c);
        bool known = false;
        if (!s) return oom(st);
        if (!*s) continue;
        for (size_t i = 0; i < t.n && !known; i++)
            if (!strcmp(s, t.v[i].name)) {
                out->bits |= t.v[i].bit;
                known = true;
            }
        if (!known) unknown[out->num_unknown++] = s;
    }
    out->unknown = unknown;
    return true;
}

/* <providerData>/<byteBlob>: <data>hex</data> (and <asString>, ignored). */
static bool blob_of(mstate *st, xmlNode *x, wfp_byte_blob *out)
{
    memset(out, 0, sizeof *out);
    if (!x) return true;
    xmlNode *d = child(x, "data");
    if (!d) return true;
    const char *t = text_of(st, d);
    uint8_t *b;
    uint32_t len;
    if (!t) return false;
    if (!parse_hex_bytes(&st->ar, t, &b, &len)) return fail(st, d, "<data> is not hex (or longer than %u bytes)", WFP_IMPORT_MAX_BLOB);
    out->data = len ? b : NULL;
    out->size = len;
    return true;
}

static void display_of(mstate *st, xmlNode *item, const char **name, const char **description)
{
    xmlNode *d = child(item, "displayData");
    const char *n = d ? text_of(st, child(d, "name")) : NULL;
    const char *s = d ? text_of(st, child(d, "description")) : NULL;
    *name = n ? n : arena_strdup(&st->ar, "");
    *description = s && *s ? s : NULL;
    if (!*name) oom(st);
}

/* ---- values ---------------------------------------------------------------- */

/* The element holding a value: the first child that is not <type>. */
static xmlNode *value_el(xmlNode *x)
{
    for (xmlNode *c = first_el(x ? x->children : NULL); c; c = next_el(c))
        if (!is_el(c, "type")) return c;
    return NULL;
}

static bool parse_ipv4_or_number(const char *s, uint32_t *out)
{
    uint64_t v;
    if (wfp_ipv4_parse(s, out)) return true;
    if (parse_u64(s, &v) && v <= UINT32_MAX) {
        *out = (uint32_t)v;
        return true;
    }
    return false;
}

static bool parse_mac(const char *s, uint8_t out[6])
{
    int n = 0, hi = -1;
    for (; *s; s++) {
        int d = hexval((unsigned char)*s);
        if (d < 0) {
            if ((*s != ':' && *s != '-') || hi >= 0) return false;
            continue;
        }
        if (hi < 0) hi = d;
        else {
            if (n == 6) return false;
            out[n++] = (uint8_t)(hi << 4 | d);
            hi = -1;
        }
    }
    return n == 6 && hi < 0;
}

/* A single-typed value (FWP_VALUE0) from its type and element. False when
 * the form is not understood (the caller keeps the raw XML). */
static bool single_value(mstate *st, uint32_t type, xmlNode *v, wfp_value *out)
{
    const char *t;
    uint64_t u;
    int64_t i;
    memset(out, 0, sizeof *out);
    out->type = type;
    if (type == FWP_EMPTY) return true;
    if (!v) return false;
    switch (type) {
    case FWP_UINT8:
    case FWP_UINT16:
    case FWP_UINT64:
        t = trimmed_text(st, v);
        if (!t || !parse_u64(t, &u)) return false;
        if ((type == FWP_UINT8 && u > UINT8_MAX) || (type == FWP_UINT16 && u > UINT16_MAX)) return false;
        if (type == FWP_UINT8) out->v.u8 = (uint8_t)u;
        else if (type == FWP_UINT16) out->v.u16 = (uint16_t)u;
        else out->v.u64 = u;
        return true;
    case FWP_UINT32:
        t = trimmed_text(st, v);
        return t && parse_ipv4_or_number(t, &out->v.u32);
    case FWP_INT8:
    case FWP_INT16:
    case FWP_INT32:
    case FWP_INT64:
        t = trimmed_text(st, v);
        if (!t || !parse_i64(t, &i)) return false;
        if (type == FWP_INT8) {
            if (i < INT8_MIN || i > INT8_MAX) return false;
            out->v.i8 = (int8_t)i;
        } else if (type == FWP_INT16) {
            if (i < INT16_MIN || i > INT16_MAX) return false;
            out->v.i16 = (int16_t)i;
        } else if (type == FWP_INT32) {
            if (i < INT32_MIN || i > INT32_MAX) return false;
            out->v.i32 = (int32_t)i;
        } else {
            out->v.i64 = i;
        }
        return true;
    case FWP_FLOAT:
    case FWP_DOUBLE: {
        char *end = NULL;
        t = trimmed_text(st, v);
        if (!t || !*t) return false;
        errno = 0;
        double d = strtod(t, &end);
        if (!end || *end || d != d) return false; /* NaN: no exact text form (kept raw) */
        if (type == FWP_FLOAT) out->v.f32 = (float)d;
        else out->v.f64 = d;
        return true;
    }
    case FWP_BYTE_ARRAY16_TYPE: {
        wfp_guid g;
        uint8_t *b;
        uint32_t len;
        t = trimmed_text(st, v);
        if (!t) return false;
        if (wfp_ipv6_parse(t, out->v.bytes16)) return true;
        if (wfp_guid_parse(t, &g)) {
            wfp_guid_to_bytes(&g, out->v.bytes16);
            return true;
        }
        if (parse_hex_bytes(&st->ar, t, &b, &len) && len == 16) {
            memcpy(out->v.bytes16, b, 16);
            return true;
        }
        return false;
    }
    case FWP_BYTE_ARRAY6_TYPE:
        t = trimmed_text(st, v);
        return t && parse_mac(t, out->v.bytes6);
    case FWP_BYTE_BLOB_TYPE:
    case FWP_TOKEN_INFORMATION_TYPE:
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE: {
        xmlNode *d = child(v, "data");
        uint8_t *b;
        uint32_t len;
        if (!d) return false;
        t = text_of(st, d);
        if (!t || !parse_hex_bytes(&st->ar, t, &b, &len)) return false;
        out->v.blob.data = b;
        out->v.blob.size = len;
        return true;
    }
    case FWP_SID: {
        uint8_t sid[WFP_SID_MAX];
        uint32_t len;
        t = trimmed_text(st, v);
        if (!t || !wfp_sid_parse(t, sid, &len)) return false;
        out->v.blob.data = arena_memdup(&st->ar, sid, len);
        out->v.blob.size = len;
        return out->v.blob.data != NULL;
    }
    case FWP_SECURITY_DESCRIPTOR_TYPE: {
        uint8_t *sd = NULL;
        uint32_t len = 0;
        size_t at = 0;
        t = trimmed_text(st, v);
        if (!t || strlen(t) > WFP_IMPORT_MAX_BLOB) return false;
        if (wfp_sddl_parse(wfp_allocator_default(), t, &sd, &len, &at) != ERROR_SUCCESS) return false;
        out->v.blob.data = arena_memdup(&st->ar, sd, len);
        out->v.blob.size = len;
        free(sd);
        return out->v.blob.data != NULL;
    }
    case FWP_UNICODE_STRING_TYPE:
        t = text_of(st, v);
        if (!t || strlen(t) > WFP_IMPORT_MAX_BLOB) return false;
        out->v.blob.data = (const uint8_t *)t;
        out->v.blob.size = (uint32_t)strlen(t);
        return true;
    default: return false;
    }
}

/* <type>T</type><elem>…</elem> (FWP_VALUE0). */
static bool fwp_value_of(mstate *st, xmlNode *x, wfp_value *out)
{
    const char *tn = trimmed_text(st, child(x, "type"));
    uint32_t type;
    if (!tn || !wfp_data_type_from_name(tn, &type) || type >= FWP_SINGLE_DATA_TYPE_MAX) return false;
    return single_value(st, type, value_el(x), out);
}

/* <conditionValue> (FWP_CONDITION_VALUE0). */
static bool condition_value_of(mstate *st, xmlNode *x, wfp_condition_value *out)
{
    const char *tn = trimmed_text(st, child(x, "type"));
    uint32_t type;
    xmlNode *v = value_el(x);
    memset(out, 0, sizeof *out);
    if (!tn || !wfp_data_type_from_name(tn, &type)) return false;
    out->type = type;
    if (type < FWP_SINGLE_DATA_TYPE_MAX) return single_value(st, type, v, &out->u.value);
    if (!v) return false;
    if (type == FWP_V4_ADDR_MASK) {
        const char *a = trimmed_text(st, child(v, "addr")), *m = trimmed_text(st, child(v, "mask"));
        return a && m && parse_ipv4_or_number(a, &out->u.v4.addr) && parse_ipv4_or_number(m, &out->u.v4.mask);
    }
    if (type == FWP_V6_ADDR_MASK) {
        const char *a = trimmed_text(st, child(v, "addr"));
        xmlNode *pn = child(v, "prefixLength");
        const char *p = trimmed_text(st, pn ? pn : child(v, "prefix"));
        uint64_t len;
        if (!a || !p || !wfp_ipv6_parse(a, out->u.v6.addr) || !parse_u64(p, &len) || len > 255) return false;
        out->u.v6.prefix_length = (uint8_t)len;
        return true;
    }
    if (type == FWP_RANGE_TYPE) {
        xmlNode *lo = child(v, "valueLow"), *hi = child(v, "valueHigh");
        return lo && hi && fwp_value_of(st, lo, &out->u.range.low) && fwp_value_of(st, hi, &out->u.range.high);
    }
    return false;
}

static bool match_of(const char *s, uint32_t *out)
{
    return s && wfp_match_type_from_name(s, out);
}

static bool action_type_of(const char *s, uint32_t *out)
{
    static const struct {
        const char *name;
        uint32_t v;
    } t[] = {{"FWP_ACTION_BLOCK", FWP_ACTION_BLOCK},
             {"FWP_ACTION_PERMIT", FWP_ACTION_PERMIT},
             {"FWP_ACTION_CALLOUT_TERMINATING", FWP_ACTION_CALLOUT_TERMINATING},
             {"FWP_ACTION_CALLOUT_INSPECTION", FWP_ACTION_CALLOUT_INSPECTION},
             {"FWP_ACTION_CALLOUT_UNKNOWN", FWP_ACTION_CALLOUT_UNKNOWN},
             {"FWP_ACTION_CONTINUE", FWP_ACTION_CONTINUE},
             {"FWP_ACTION_NONE", FWP_ACTION_NONE},
             {"FWP_ACTION_NONE_NO_MATCH", FWP_ACTION_NONE_NO_MATCH}};
    uint64_t v;
    if (!s) return false;
    for (size_t i = 0; i < COUNT_OF(t); i++)
        if (!strcmp(s, t[i].name)) {
            *out = t[i].v;
            return true;
        }
    if (parse_u64(s, &v) && v <= UINT32_MAX) {
        *out = (uint32_t)v;
        return true;
    }
    return false;
}

/* ---- objects --------------------------------------------------------------- */

static bool count_object(mstate *st, xmlNode *at)
{
    if (++st->objects > WFP_IMPORT_MAX_OBJECTS) return fail(st, at, "more than %u objects", WFP_IMPORT_MAX_OBJECTS);
    return true;
}

static bool u64_of(mstate *st, xmlNode *x, uint64_t *out)
{
    const char *t = trimmed_text(st, x);
    return t && parse_u64(t, out);
}

static bool parse_provider(mstate *st, xmlNode *item)
{
    wfp_import_model *m = st->m;
    if (!count_object(st, item)) return false;
    if (!grow((void **)&m->providers, &st->cap_providers, m->num_providers, sizeof *m->providers)) return oom(st);
    wfp_import_provider *p = &m->providers[m->num_providers];
    memset(p, 0, sizeof *p);
    if (!ref_of(st, child(item, "providerKey"), R_PROVIDER, &p->key)) return fail(st, item, "a provider without <providerKey>");
    display_of(st, item, &p->name, &p->description);
    if (!flags_of(st, child(item, "flags"), FLAG_TABLE(provider_flag_names), &p->flags)) return false;
    if (!blob_of(st, child(item, "providerData"), &p->data)) return false;
    const char *sn = text_of(st, child(item, "serviceName"));
    p->service_name = sn && *sn ? sn : NULL;
    m->num_providers++;
    return !st->failed;
}

static bool parse_sublayer(mstate *st, xmlNode *item)
{
    wfp_import_model *m = st->m;
    uint64_t w = 0;
    if (!count_object(st, item)) return false;
    if (!grow((void **)&m->sublayers, &st->cap_sublayers, m->num_sublayers, sizeof *m->sublayers)) return oom(st);
    wfp_import_sublayer *s = &m->sublayers[m->num_sublayers];
    memset(s, 0, sizeof *s);
    if (!ref_of(st, child(item, "subLayerKey"), R_SUBLAYER, &s->key)) return fail(st, item, "a sublayer without <subLayerKey>");
    display_of(st, item, &s->name, &s->description);
    if (!flags_of(st, child(item, "flags"), FLAG_TABLE(sublayer_flag_names), &s->flags)) return false;
    s->has_provider = ref_of(st, child(item, "providerKey"), R_PROVIDER, &s->provider);
    if (!blob_of(st, child(item, "providerData"), &s->data)) return false;
    xmlNode *wn = child(item, "weight");
    if (wn && !u64_of(st, wn, &w)) return fail(st, wn, "sublayer weight is not a number");
    if (w > UINT16_MAX) return fail(st, wn, "sublayer weight %llu is above 65535", (unsigned long long)w);
    s->weight = (uint16_t)w;
    m->num_sublayers++;
    return !st->failed;
}

static bool parse_callout(mstate *st, xmlNode *item, const wfp_import_ref *layer_hint)
{
    wfp_import_model *m = st->m;
    uint64_t id = 0;
    if (!count_object(st, item)) return false;
    if (!grow((void **)&m->callouts, &st->cap_callouts, m->num_callouts, sizeof *m->callouts)) return oom(st);
    wfp_import_callout *c = &m->callouts[m->num_callouts];
    memset(c, 0, sizeof *c);
    if (!ref_of(st, child(item, "calloutKey"), R_CALLOUT, &c->key)) return fail(st, item, "a callout without <calloutKey>");
    display_of(st, item, &c->name, &c->description);
    if (!flags_of(st, child(item, "flags"), FLAG_TABLE(callout_flag_names), &c->flags)) return false;
    c->has_provider = ref_of(st, child(item, "providerKey"), R_PROVIDER, &c->provider);
    if (!blob_of(st, child(item, "providerData"), &c->data)) return false;
    if (!ref_of(st, child(item, "applicableLayer"), R_LAYER, &c->layer)) {
        if (!layer_hint) return fail(st, item, "a callout without <applicableLayer>");
        c->layer = *layer_hint;
    }
    xmlNode *idn = child(item, "calloutId");
    if (idn && (!u64_of(st, idn, &id) || id > UINT32_MAX)) return fail(st, idn, "callout id is not a 32-bit number");
    c->callout_id = (uint32_t)id;
    m->num_callouts++;
    return !st->failed;
}

static bool parse_filter(mstate *st, xmlNode *item, const wfp_import_ref *layer_hint)
{
    wfp_import_model *m = st->m;
    const char *t;
    if (!count_object(st, item)) return false;
    if (!grow((void **)&m->filters, &st->cap_filters, m->num_filters, sizeof *m->filters)) return oom(st);
    wfp_import_filter *f = &m->filters[m->num_filters];
    memset(f, 0, sizeof *f);
    if (!ref_of(st, child(item, "filterKey"), R_OTHER, &f->key)) return fail(st, item, "a filter without <filterKey>");
    if (!f->key.resolved || f->key.symbol) return fail(st, item, "filter key '%s' is not a GUID", f->key.symbol);
    display_of(st, item, &f->name, &f->description);
    if (!flags_of(st, child(item, "flags"), FLAG_TABLE(filter_flag_names), &f->flags)) return false;
    f->has_provider = ref_of(st, child(item, "providerKey"), R_PROVIDER, &f->provider);
    if (!blob_of(st, child(item, "providerData"), &f->data)) return false;
    if (!ref_of(st, child(item, "layerKey"), R_LAYER, &f->layer)) {
        if (!layer_hint) return fail(st, item, "a filter without <layerKey>");
        f->layer = *layer_hint;
    }
    if (!ref_of(st, child(item, "subLayerKey"), R_SUBLAYER, &f->sublayer)) {
        /* FWPM_FILTER0 with a zero sublayer: the layer's default one */
        const wfp_layer_info *l = wfp_catalog_layer_by_key(&f->layer.key);
        f->sublayer.resolved = true;
        f->sublayer.key = l ? l->default_sublayer : f->sublayer.key;
    }
    xmlNode *wn = child(item, "weight");
    if (wn && !fwp_value_of(st, wn, &f->weight)) {
        if (st->failed) return false;
        return fail(st, wn, "filter weight not understood (expected FWP_EMPTY, FWP_UINT8 or FWP_UINT64)");
    }
    /* conditions */
    xmlNode *cl = child(item, "filterCondition");
    size_t n = 0;
    for (xmlNode *c = first_el(cl ? cl->children : NULL); c; c = next_el(c)) n++;
    if (n > WFP_IMPORT_MAX_CONDITIONS) return fail(st, cl, "more than %u conditions", WFP_IMPORT_MAX_CONDITIONS);
    if (n) {
        f->conditions = arena_alloc(&st->ar, n * sizeof *f->conditions);
        if (!f->conditions) return oom(st);
    }
    for (xmlNode *c = first_el(cl ? cl->children : NULL); c; c = next_el(c)) {
        wfp_import_condition *ic = &f->conditions[f->num_conditions++];
        xmlNode *cv = child(c, "conditionValue");
        if (!ref_of(st, child(c, "fieldKey"), R_CONDITION, &ic->field)) return fail(st, c, "a condition without <fieldKey>");
        t = trimmed_text(st, child(c, "matchType"));
        if (!match_of(t, &ic->match_type)) return fail(st, c, "unknown match type '%s'", t ? t : "");
        if (!cv) return fail(st, c, "a condition without <conditionValue>");
        if (!condition_value_of(st, cv, &ic->value)) {
            if (st->failed) return false;
            memset(&ic->value, 0, sizeof ic->value);
            ic->raw = raw_xml(st, cv);
            if (!ic->raw) return oom(st);
            f->problems |= WFP_IMPORT_BAD_VALUE;
            const char *tn = trimmed_text(st, child(cv, "type"));
            if (!tn || !wfp_data_type_from_name(tn, &ic->raw_type)) ic->raw_type = FWP_DATA_TYPE_MAX;
            const char *sd = ic->raw_type == FWP_SECURITY_DESCRIPTOR_TYPE ? text_of(st, value_el(cv)) : NULL;
            if (sd && (strstr(sd, "(XA;") || strstr(sd, "(XD;") || strstr(sd, "(ZA;")))
                ic->why = "an SDDL conditional ACE (XA/XD), which wfpsim's SDDL parser does not read";
            else if (ic->raw_type == FWP_DATA_TYPE_MAX)
                ic->why = "an unknown data type";
            else
                ic->why = "a value in a form wfpsim does not read";
        }
    }
    /* action */
    xmlNode *an = child(item, "action");
    t = an ? trimmed_text(st, child(an, "type")) : NULL;
    if (!action_type_of(t, &f->action_type)) return fail(st, an ? an : item, "unknown action type '%s'", t ? t : "");
    xmlNode *kn = child(an, "calloutKey");
    if (!kn || !trimmed_text(st, kn) || !*trimmed_text(st, kn)) kn = child(an, "filterType");
    f->has_action_key = ref_of(st, kn, R_CALLOUT, &f->action_key);
    xmlNode *rc = child(item, "rawContext"), *pc = child(item, "providerContextKey");
    if (rc) {
        f->has_raw_context = true;
        if (!u64_of(st, rc, &f->raw_context)) return fail(st, rc, "rawContext is not a number");
    }
    f->has_provider_context = ref_of(st, pc, R_CONTEXT, &f->provider_context);
    if (f->has_provider_context) f->provider_context.resolved = true; /* contexts are not simulated: no catalogue */
    xmlNode *idn = child(item, "filterId");
    if (idn && !u64_of(st, idn, &f->filter_id)) return fail(st, idn, "filterId is not a number");
    xmlNode *ew = child(item, "effectiveWeight");
    if (ew) {
        wfp_value v;
        if (!fwp_value_of(st, ew, &v) || v.type != FWP_UINT64) {
            if (st->failed) return false;
            return fail(st, ew, "effectiveWeight is not an FWP_UINT64");
        }
        f->has_effective_weight = true;
        f->effective_weight = v.v.u64;
    }
    m->num_filters++;
    return !st->failed;
}

static bool parse_layer_item(mstate *st, xmlNode *item)
{
    wfp_import_model *m = st->m;
    xmlNode *ln = child(item, "layer");
    wfp_import_ref key, *hint = NULL;
    memset(&key, 0, sizeof key);
    if (ln) {
        uint64_t id = 0;
        if (!count_object(st, ln)) return false;
        if (!grow((void **)&m->layers, &st->cap_layers, m->num_layers, sizeof *m->layers)) return oom(st);
        wfp_import_layer *l = &m->layers[m->num_layers];
        memset(l, 0, sizeof *l);
        if (!ref_of(st, child(ln, "layerKey"), R_LAYER, &l->key)) return fail(st, ln, "a layer without <layerKey>");
        xmlNode *idn = child(ln, "layerId");
        if (idn && (!u64_of(st, idn, &id) || id > UINT16_MAX)) return fail(st, idn, "layerId is not a 16-bit number");
        l->layer_id = (uint16_t)id;
        xmlNode *fl = child(ln, "field");
        size_t n = 0;
        for (xmlNode *c = first_el(fl ? fl->children : NULL); c; c = next_el(c)) n++;
        if (n > 4096) return fail(st, fl, "more than 4096 fields");
        if (n && !(l->fields = arena_alloc(&st->ar, n * sizeof *l->fields))) return oom(st);
        for (xmlNode *c = first_el(fl ? fl->children : NULL); c; c = next_el(c))
            if (ref_of(st, child(c, "fieldKey"), R_CONDITION, &l->fields[l->num_fields])) l->num_fields++;
        key = l->key;
        hint = &key;
        m->num_layers++;
    }
    for (xmlNode *c = first_el(child(item, "callouts") ? child(item, "callouts")->children : NULL); c; c = next_el(c))
        if (!parse_callout(st, c, hint)) return false;
    for (xmlNode *c = first_el(child(item, "filters") ? child(item, "filters")->children : NULL); c; c = next_el(c))
        if (!parse_filter(st, c, hint)) return false;
    return !st->failed;
}

static size_t count_items(xmlNode *x)
{
    size_t n = 0;
    for (xmlNode *c = first_el(x->children); c; c = next_el(c)) n++;
    return n;
}

/* ---- after parsing: built-ins, references, problems ------------------------- */

static wfp_import_callout *find_callout(const wfp_import_model *m, const wfp_guid *k)
{
    for (size_t i = 0; i < m->num_callouts; i++)
        if (wfp_guid_eq(&m->callouts[i].key.key, k)) return &m->callouts[i];
    return NULL;
}

static bool model_has_sublayer(const wfp_import_model *m, const wfp_guid *k)
{
    for (size_t i = 0; i < m->num_sublayers; i++)
        if (wfp_guid_eq(&m->sublayers[i].key.key, k)) return true;
    return builtin_sublayer_by_key(k) != NULL;
}

static bool model_has_provider(const wfp_import_model *m, const wfp_guid *k)
{
    for (size_t i = 0; i < m->num_providers; i++)
        if (wfp_guid_eq(&m->providers[i].key.key, k)) return true;
    return builtin_provider_key(k);
}

static char *guid_text(arena *a, const wfp_guid *g)
{
    char b[WFP_GUID_STRLEN];
    wfp_guid_format(g, b);
    return arena_strdup(a, b);
}

/* filters.xml lists no sublayers or callouts: make up the ones filters
 * use (the report counts them; a made-up sublayer's weight is unknown). */
static bool synthesize(mstate *st)
{
    wfp_import_model *m = st->m;
    for (size_t i = 0; i < m->num_filters; i++) {
        wfp_import_filter *f = &m->filters[i];
        if (f->has_action_key && (f->action_type & FWP_ACTION_FLAG_CALLOUT) && f->action_key.resolved &&
            !wfp_guid_is_null(&f->action_key.key) && !find_callout(m, &f->action_key.key) && !builtin_callout_by_key(&f->action_key.key)) {
            if (!grow((void **)&m->callouts, &st->cap_callouts, m->num_callouts, sizeof *m->callouts)) return oom(st);
            wfp_import_callout *c = &m->callouts[m->num_callouts++];
            memset(c, 0, sizeof *c);
            c->key = f->action_key;
            c->name = guid_text(&st->ar, &f->action_key.key);
            c->layer = f->layer;
            c->synthesized = true;
            if (!c->name) return oom(st);
        }
        if (f->sublayer.resolved && !wfp_guid_is_null(&f->sublayer.key) && !model_has_sublayer(m, &f->sublayer.key)) {
            if (!grow((void **)&m->sublayers, &st->cap_sublayers, m->num_sublayers, sizeof *m->sublayers))
                return oom(st);
            wfp_import_sublayer *s = &m->sublayers[m->num_sublayers++];
            memset(s, 0, sizeof *s);
            s->key = f->sublayer;
            s->name = guid_text(&st->ar, &f->sublayer.key);
            s->synthesized = true; /* weight unknown: 0 */
            if (!s->name) return oom(st);
        }
        if (f->has_provider && f->provider.resolved && !wfp_guid_is_null(&f->provider.key) &&
            !model_has_provider(m, &f->provider.key)) {
            if (!grow((void **)&m->providers, &st->cap_providers, m->num_providers, sizeof *m->providers))
                return oom(st);
            wfp_import_provider *p = &m->providers[m->num_providers++];
            memset(p, 0, sizeof *p);
            p->key = f->provider;
            p->name = guid_text(&st->ar, &f->provider.key);
            p->synthesized = true;
            if (!p->name) return oom(st);
        }
    }
    return true;
}

static void classify_objects(wfp_import_model *m)
{
    for (size_t i = 0; i < m->num_providers; i++)
        m->providers[i].builtin = builtin_provider_key(&m->providers[i].key.key);
    for (size_t i = 0; i < m->num_sublayers; i++)
        m->sublayers[i].builtin = builtin_sublayer_by_key(&m->sublayers[i].key.key) != NULL;
    for (size_t i = 0; i < m->num_callouts; i++) {
        wfp_import_callout *c = &m->callouts[i];
        c->builtin = builtin_callout_by_key(&c->key.key) != NULL;
        c->problems = 0;
        if (!c->key.resolved || (c->has_provider && !c->provider.resolved)) c->problems |= WFP_IMPORT_BAD_REFERENCE;
        if (!c->layer.resolved || !wfp_catalog_layer_by_key(&c->layer.key)) c->problems |= WFP_IMPORT_BAD_LAYER;
    }
    for (size_t i = 0; i < m->num_filters; i++) {
        wfp_import_filter *f = &m->filters[i];
        const wfp_layer_info *l = f->layer.resolved ? wfp_catalog_layer_by_key(&f->layer.key) : NULL;
        f->problems &= WFP_IMPORT_BAD_VALUE;
        if (!l) f->problems |= WFP_IMPORT_BAD_LAYER;
        if (!f->sublayer.resolved || (f->has_provider && !f->provider.resolved) ||
            (f->has_action_key && (f->action_type & FWP_ACTION_FLAG_CALLOUT) && !f->action_key.resolved))
            f->problems |= WFP_IMPORT_BAD_REFERENCE;
        for (uint32_t k = 0; k < f->num_conditions; k++) {
            const wfp_import_condition *c = &f->conditions[k];
            if (c->raw) f->problems |= WFP_IMPORT_BAD_VALUE;
            if (!c->field.resolved) f->problems |= WFP_IMPORT_BAD_REFERENCE | WFP_IMPORT_BAD_FIELD;
            else if (l && wfp_catalog_field_index(l, &c->field.key) < 0) f->problems |= WFP_IMPORT_BAD_FIELD;
        }
    }
}

static bool parse_root(mstate *st, xmlNode *root)
{
    wfp_import_model *m = st->m;
    if (is_el(root, "wfpstate")) m->format = WFP_IMPORT_FORMAT_STATE;
    else if (is_el(root, "wfpdiag")) m->format = WFP_IMPORT_FORMAT_FILTERS;
    else if (is_el(root, "wfpimport")) m->format = WFP_IMPORT_FORMAT_EXPORT;
    else return fail(st, root, "not a netsh wfp dump: the root element is <%s>, not <wfpstate> or <wfpdiag>", (const char *)root->name);
    for (xmlNode *s = first_el(root->children); s && !st->failed; s = next_el(s)) {
        if (is_el(s, "sessions")) m->num_sessions += count_items(s);
        else if (is_el(s, "providerContexts")) m->num_provider_contexts += count_items(s);
        else if (is_el(s, "layers")) {
            for (xmlNode *c = first_el(s->children); c; c = next_el(c))
                if (!parse_layer_item(st, c)) return false;
        } else if (is_el(s, "providers")) {
            for (xmlNode *c = first_el(s->children); c; c = next_el(c))
                if (!parse_provider(st, c)) return false;
        } else if (is_el(s, "subLayers")) {
            for (xmlNode *c = first_el(s->children); c; c = next_el(c))
                if (!parse_sublayer(st, c)) return false;
        } else if (is_el(s, "callouts")) {
            for (xmlNode *c = first_el(s->children); c; c = next_el(c))
                if (!parse_callout(st, c, NULL)) return false;
        } else if (is_el(s, "filters")) {
            for (xmlNode *c = first_el(s->children); c; c = next_el(c))
                if (!parse_filter(st, c, NULL)) return false;
        } else if (!is_el(s, "timeStamp")) {
            m->num_other_sections++;
        }
    }
    if (st->failed) return false;
    if (m->format != WFP_IMPORT_FORMAT_EXPORT && !synthesize(st)) return false;
    classify_objects(m);
    return true;
}

void wfp_import_model_free(wfp_import_model *m)
{
    if (!m) return;
    arena a = {m->arena_};
    arena_free(&a);
    free(m->providers);
    free(m->sublayers);
    free(m->callouts);
    free(m->filters);
    free(m->layers);
    free(m);
}

wfp_import_model *wfp_import_parse_memory(const char *name, const void *data, size_t size, char *err, size_t n)
{
    char dummy[8];
    mstate st;
    xmlDocPtr doc;
    if (!err || !n) {
        err = dummy;
        n = sizeof dummy;
    }
    err[0] = 0;
    if (!name) name = "dump";
    doc = read_xml(name, data, size, err, n);
    if (!doc) return NULL;
    memset(&st, 0, sizeof st);
    st.m = calloc(1, sizeof *st.m);
    st.err = err;
    st.errn = n;
    if (!st.m) {
        xmlFreeDoc(doc);
        snprintf(err, n, "%s: out of memory", name);
        return NULL;
    }
    st.m->source = arena_strdup(&st.ar, name);
    if (!st.m->source || !parse_root(&st, xmlDocGetRootElement(doc))) {
        if (!st.failed) snprintf(err, n, "%s: out of memory", name);
        st.m->arena_ = st.ar.head;
        wfp_import_model_free(st.m);
        xmlFreeDoc(doc);
        return NULL;
    }
    st.m->arena_ = st.ar.head;
    xmlFreeDoc(doc);
    return st.m;
}

static char *read_whole_file(const char *path, size_t *size, char *err, size_t n)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (!f) {
        snprintf(err, n, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 1 << 16;
            if (nc > (size_t)WFP_IMPORT_MAX_FILE + 1) nc = (size_t)WFP_IMPORT_MAX_FILE + 1;
            if (nc == cap) {
                snprintf(err, n, "%s: too large (more than %u bytes)", path, WFP_IMPORT_MAX_FILE);
                free(buf);
                fclose(f);
                return NULL;
            }
            char *nb = realloc(buf, nc + 1);
            if (!nb) {
                snprintf(err, n, "%s: out of memory", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        snprintf(err, n, "%s: read error", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = 0;
    *size = len;
    return buf;
}

wfp_import_model *wfp_import_parse_file(const char *path, char *err, size_t n)
{
    size_t size = 0;
    char dummy[8];
    if (!err || !n) {
        err = dummy;
        n = sizeof dummy;
    }
    char *buf = read_whole_file(path, &size, err, n);
    if (!buf) return NULL;
    wfp_import_model *m = wfp_import_parse_memory(path, buf, size, err, n);
    free(buf);
    return m;
}

bool wfp_import_looks_like_dump(const char *path)
{
    unsigned char b[512];
    FILE *f = path ? fopen(path, "rb") : NULL;
    size_t n, i = 0;
    if (!f) return false;
    n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) i = 3;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
    return i < n && b[i] == '<';
}

/* ======================================================================
 * 4. model → engine
 * ====================================================================== */

enum { ST_NOT_ADDED = 0, ST_ADDED = 1, ST_BUILTIN = 2 };

/* Per-object outcome of an apply (export uses it to know what the policy
 * can hold). Arrays parallel to the model's. */
typedef struct apply_status {
    uint8_t *providers, *sublayers, *callouts, *filters;
} apply_status;

static void status_free(apply_status *s)
{
    free(s->providers);
    free(s->sublayers);
    free(s->callouts);
    free(s->filters);
    memset(s, 0, sizeof *s);
}

static bool status_alloc(const wfp_import_model *m, apply_status *s)
{
    memset(s, 0, sizeof *s);
    s->providers = calloc(m->num_providers + 1, 1);
    s->sublayers = calloc(m->num_sublayers + 1, 1);
    s->callouts = calloc(m->num_callouts + 1, 1);
    s->filters = calloc(m->num_filters + 1, 1);
    if (s->providers && s->sublayers && s->callouts && s->filters) return true;
    status_free(s);
    return false;
}

static const char *err_name(uint32_t rc, char *buf, size_t n)
{
    const char *s = wfp_result_name(rc);
    if (s) return s;
    snprintf(buf, n, "0x%08lx", (unsigned long)rc);
    return buf;
}

static void log_refused(FILE *log, const char *kind, const char *name, const wfp_guid *key, uint64_t id,
                        const char *why, const char *detail)
{
    char g[WFP_GUID_STRLEN];
    if (!log) return;
    wfp_guid_format(key, g);
    if (id) fprintf(log, "not imported: %s '%s' (id %llu, key %s): %s", kind, name, (unsigned long long)id, g, why);
    else fprintf(log, "not imported: %s '%s' (key %s): %s", kind, name, g, why);
    if (detail && *detail) fprintf(log, " (%s)", detail);
    fputc('\n', log);
}

static bool layer_schema_differs(const wfp_import_layer *l)
{
    const wfp_layer_info *c = l->key.resolved ? wfp_catalog_layer_by_key(&l->key.key) : NULL;
    if (!c || c->num_fields != l->num_fields) return true;
    for (uint32_t i = 0; i < l->num_fields; i++)
        if (!wfp_guid_eq(&c->fields[i].condition->key, &l->fields[i].key)) return true;
    return false;
}

static const char *problem_text(uint32_t p)
{
    if (p & WFP_IMPORT_BAD_LAYER) return "its layer is not in wfpsim's catalogue";
    if (p & WFP_IMPORT_BAD_REFERENCE) return "it names an object by a symbol wfpsim does not know";
    if (p & WFP_IMPORT_BAD_FIELD) return "a condition is on a field the layer does not have in wfpsim's catalogue";
    if (p & WFP_IMPORT_BAD_VALUE) return "a condition value has a type or form wfpsim cannot read";
    return "it could not be read";
}

static bool apply_ex(const wfp_import_model *m, wfp_session *s, wfp_import_report *r, FILE *log, apply_status *st)
{
    wfp_engine *e = wfp_session_engine(s);
    char num[16];
    memset(r, 0, sizeof *r);
    r->provider_contexts = m->num_provider_contexts;
    r->sessions = m->num_sessions;
    for (size_t i = 0; i < m->num_layers; i++)
        if (layer_schema_differs(&m->layers[i])) r->layer_schema_differs++;

    for (size_t i = 0; i < m->num_providers; i++) {
        const wfp_import_provider *p = &m->providers[i];
        if (p->flags.num_unknown) r->unknown_flags++;
        if (p->flags.bits & FWPM_PROVIDER_FLAG_DISABLED) r->output_only_flags++;
        if (p->builtin) {
            r->builtin_providers++;
            st->providers[i] = ST_BUILTIN;
            continue;
        }
        wfp_provider d;
        memset(&d, 0, sizeof d);
        d.key = p->key.key;
        d.display.name = p->name;
        d.display.description = p->description;
        d.flags = p->flags.bits & FWPM_PROVIDER_FLAG_PERSISTENT;
        d.provider_data = p->data;
        d.service_name = p->service_name;
        /* a null key would make the engine invent one: not the dump's object */
        uint32_t rc = p->key.resolved && !wfp_guid_is_null(&p->key.key) ? wfp_provider_add(s, &d) : FWP_E_PROVIDER_NOT_FOUND;
        if (rc == ERROR_NOT_ENOUGH_MEMORY) return false;
        if (rc) {
            r->providers_failed++;
            log_refused(log, "provider", p->name, &p->key.key, 0,
                        p->key.resolved ? err_name(rc, num, sizeof num) : problem_text(WFP_IMPORT_BAD_REFERENCE),
                        p->key.resolved ? wfp_engine_last_error(e) : p->key.symbol);
            continue;
        }
        r->providers_added++;
        st->providers[i] = ST_ADDED;
    }

    for (size_t i = 0; i < m->num_sublayers; i++) {
        const wfp_import_sublayer *sl = &m->sublayers[i];
        if (sl->flags.num_unknown) r->unknown_flags++;
        if (sl->synthesized) r->sublayers_synthesized++;
        if (sl->builtin) {
            r->builtin_sublayers++;
            st->sublayers[i] = ST_BUILTIN;
            continue;
        }
        wfp_sublayer d;
        memset(&d, 0, sizeof d);
        d.key = sl->key.key;
        d.display.name = sl->name;
        d.display.description = sl->description;
        d.flags = sl->flags.bits & FWPM_SUBLAYER_FLAG_PERSISTENT;
        d.provider_key = sl->has_provider ? &sl->provider.key : NULL;
        d.provider_data = sl->data;
        d.weight = sl->weight;
        bool ok_refs = sl->key.resolved && !wfp_guid_is_null(&sl->key.key) && (!sl->has_provider || sl->provider.resolved);
        uint32_t rc = ok_refs ? wfp_sublayer_add(s, &d) : FWP_E_SUBLAYER_NOT_FOUND;
        if (rc == ERROR_NOT_ENOUGH_MEMORY) return false;
        if (rc) {
            r->sublayers_failed++;
            log_refused(log, "sublayer", sl->name, &sl->key.key, 0,
                        ok_refs ? err_name(rc, num, sizeof num) : problem_text(WFP_IMPORT_BAD_REFERENCE),
                        ok_refs ? wfp_engine_last_error(e) : NULL);
            continue;
        }
        const wfp_sublayer *got = wfp_engine_sublayer_by_key(e, &sl->key.key);
        if (got && got->weight != sl->weight) {
            r->sublayer_weight_moved++;
            if (log)
                fprintf(log, "note: sublayer '%s' has weight %u in the dump; wfpsim gave it %u (taken by another)\n",
                        sl->name, (unsigned)sl->weight, (unsigned)got->weight);
        }
        r->sublayers_added++;
        st->sublayers[i] = ST_ADDED;
    }

    for (size_t i = 0; i < m->num_callouts; i++) {
        const wfp_import_callout *c = &m->callouts[i];
        if (c->flags.num_unknown) r->unknown_flags++;
        if (c->synthesized) r->callouts_synthesized++;
        if (c->builtin) {
            r->builtin_callouts++;
            st->callouts[i] = ST_BUILTIN;
            continue;
        }
        if (c->problems || wfp_guid_is_null(&c->key.key)) {
            r->callouts_failed++;
            log_refused(log, "callout", c->name, &c->key.key, 0,
                        c->problems ? problem_text(c->problems) : "its key is the null GUID", NULL);
            continue;
        }
        wfp_callout d;
        memset(&d, 0, sizeof d);
        d.key = c->key.key;
        d.display.name = c->name;
        d.display.description = c->description;
        d.flags = c->flags.bits & (FWPM_CALLOUT_FLAG_PERSISTENT | FWPM_CALLOUT_FLAG_USES_PROVIDER_CONTEXT);
        d.provider_key = c->has_provider ? &c->provider.key : NULL;
        d.provider_data = c->data;
        d.applicable_layer = c->layer.key;
        uint32_t rc = wfp_callout_add(s, &d, NULL);
        if (rc == ERROR_NOT_ENOUGH_MEMORY) return false;
        if (rc) {
            r->callouts_failed++;
            log_refused(log, "callout", c->name, &c->key.key, 0, err_name(rc, num, sizeof num), wfp_engine_last_error(e));
            continue;
        }
        r->callouts_added++;
        r->callouts_unregistered++;
        if (c->flags.bits & FWPM_CALLOUT_FLAG_REGISTERED) {
            r->callouts_were_registered++;
            if (log) fprintf(log, "unregistered: callout '%s' (its driver registered it on Windows; not here)\n", c->name);
        }
        st->callouts[i] = ST_ADDED;
    }

    wfp_condition *conds = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < m->num_filters; i++) {
        const wfp_import_filter *f = &m->filters[i];
        if (f->flags.num_unknown) r->unknown_flags++;
        if (f->flags.bits & (FWPM_FILTER_FLAG_DISABLED | FWPM_FILTER_FLAG_INDEXED)) r->output_only_flags++;
        if (f->has_provider_context || (f->flags.bits & FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT)) r->provider_context_refs++;
        if (f->problems) {
            if (f->problems & WFP_IMPORT_BAD_LAYER) r->filters_bad_layer++;
            else if (f->problems & WFP_IMPORT_BAD_REFERENCE) r->filters_bad_reference++;
            else if (f->problems & WFP_IMPORT_BAD_FIELD) r->filters_bad_field++;
            else r->filters_bad_value++;
            const char *detail = NULL;
            char dbuf[300];
            for (uint32_t k = 0; k < f->num_conditions && !detail; k++) {
                const wfp_import_condition *c = &f->conditions[k];
                const wfp_condition_info *ci = wfp_catalog_condition_by_key(&c->field.key);
                const char *fname = ci ? ci->name : c->field.symbol ? c->field.symbol : "?";
                if (c->raw) {
                    const char *tn = wfp_data_type_name(c->raw_type);
                    snprintf(dbuf, sizeof dbuf, "%s, %s: %s", short_name(fname, "FWPM_CONDITION_"), tn ? tn : "?", c->why);
                    detail = dbuf;
                } else if (!c->field.resolved) {
                    snprintf(dbuf, sizeof dbuf, "field %s", fname);
                    detail = dbuf;
                }
            }
            log_refused(log, "filter", f->name, &f->key.key, f->filter_id, problem_text(f->problems), detail);
            continue;
        }
        if (f->num_conditions > cap) {
            wfp_condition *nc = realloc(conds, f->num_conditions * sizeof *nc);
            if (!nc) {
                free(conds);
                return false;
            }
            conds = nc;
            cap = f->num_conditions;
        }
        for (uint32_t k = 0; k < f->num_conditions; k++) {
            conds[k].field_key = f->conditions[k].field.key;
            conds[k].match_type = f->conditions[k].match_type;
            conds[k].value = f->conditions[k].value;
        }
        wfp_filter d;
        memset(&d, 0, sizeof d);
        d.key = f->key.key;
        d.display.name = f->name;
        d.display.description = f->description;
        /* provider contexts are not simulated; DISABLED/INDEXED are output only */
        d.flags = f->flags.bits &
                  ~(FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT | FWPM_FILTER_FLAG_DISABLED | FWPM_FILTER_FLAG_INDEXED);
        d.provider_key = f->has_provider ? &f->provider.key : NULL;
        d.provider_data = f->data;
        d.layer_key = f->layer.key;
        d.sublayer_key = f->sublayer.key;
        d.weight = f->weight;
        d.num_conditions = f->num_conditions;
        d.conditions = f->num_conditions ? conds : NULL;
        d.action.type = f->action_type;
        if (f->has_action_key) d.action.key = f->action_key.key;
        d.raw_context = f->has_raw_context ? f->raw_context : 0;
        uint32_t rc;
        if (wfp_guid_is_null(&f->key.key)) {
            r->filters_failed++;
            log_refused(log, "filter", f->name, &f->key.key, f->filter_id, "its key is the null GUID", NULL);
            continue;
        }
        if (f->filter_id)
            rc = wfp_filter_add_with_id(s, &d, f->filter_id, f->has_effective_weight ? &f->effective_weight : NULL);
        else
            rc = wfp_filter_add(s, &d, NULL);
        if (rc == ERROR_NOT_ENOUGH_MEMORY) {
            free(conds);
            return false;
        }
        if (rc) {
            if (rc == FWP_E_CALLOUT_NOT_FOUND) r->filters_no_callout++;
            else r->filters_failed++;
            log_refused(log, "filter", f->name, &f->key.key, f->filter_id, err_name(rc, num, sizeof num),
                        wfp_engine_last_error(e));
            continue;
        }
        r->filters_added++;
        st->filters[i] = ST_ADDED;
    }
    free(conds);
    return true;
}

bool wfp_import_apply(const wfp_import_model *m, wfp_session *s, wfp_import_report *report, FILE *log)
{
    wfp_import_report dummy;
    apply_status st;
    if (!report) report = &dummy;
    memset(report, 0, sizeof *report);
    if (!m || !s) return false;
    if (!status_alloc(m, &st)) return false;
    bool ok = apply_ex(m, s, report, log, &st);
    status_free(&st);
    return ok;
}

bool wfp_import_load_file(const char *path, wfp_session *s, wfp_import_report *report, FILE *log, char *err,
                          size_t n)
{
    wfp_import_model *m = wfp_import_parse_file(path, err, n);
    if (!m) return false;
    bool ok = wfp_import_apply(m, s, report, log);
    if (!ok && err && n) snprintf(err, n, "%s: out of memory while adding its objects", path);
    wfp_import_model_free(m);
    return ok;
}

static size_t count_registered(const wfp_import_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->num_callouts; i++)
        if (m->callouts[i].flags.bits & FWPM_CALLOUT_FLAG_REGISTERED) n++;
    return n;
}

void wfp_import_report_print(const wfp_import_model *m, const wfp_import_report *r, FILE *out)
{
    const char *fmt = m->format == WFP_IMPORT_FORMAT_STATE     ? "netsh wfp show state"
                      : m->format == WFP_IMPORT_FORMAT_FILTERS ? "netsh wfp show filters"
                                                               : "wfpsim import record";
    fprintf(out, "source: %s (%s)\n", m->source ? m->source : "?", fmt);
    fprintf(out, "providers: %zu in the dump, %zu added, %zu built in, %zu not imported\n", m->num_providers,
            r->providers_added, r->builtin_providers, r->providers_failed);
    fprintf(out, "sublayers: %zu in the dump, %zu added, %zu built in, %zu not imported\n", m->num_sublayers,
            r->sublayers_added, r->builtin_sublayers, r->sublayers_failed);
    fprintf(out, "callouts: %zu in the dump, %zu added, %zu built in, %zu not imported\n", m->num_callouts,
            r->callouts_added, r->builtin_callouts, r->callouts_failed);
    size_t fnot = r->filters_failed + r->filters_no_callout + r->filters_bad_layer + r->filters_bad_field +
                  r->filters_bad_value + r->filters_bad_reference;
    fprintf(out, "filters: %zu in the dump, %zu added, %zu not imported\n", m->num_filters, r->filters_added, fnot);
    fprintf(out, "unregistered callouts: %zu (no driver in the simulation; %zu of them were registered on Windows; "
                 "their filters arbitrate as unregistered callouts)\n",
            r->callouts_unregistered + r->builtin_callouts, count_registered(m));
    fprintf(out, "not represented:\n");
    struct {
        size_t n;
        const char *what;
    } items[] = {
        {r->filters_bad_layer, "filters on a layer not in wfpsim's catalogue"},
        {r->filters_bad_field, "filters with a condition on a field the layer lacks in wfpsim's catalogue"},
        {r->filters_bad_value, "filters with a condition value wfpsim cannot read"},
        {r->filters_bad_reference, "filters naming an object by an unknown symbol"},
        {r->filters_no_callout, "filters whose callout could not be added"},
        {r->filters_failed, "filters the engine refused"},
        {r->providers_failed, "providers the engine refused"},
        {r->sublayers_failed, "sublayers the engine refused"},
        {r->callouts_failed, "callouts the engine refused"},
        {r->provider_contexts, "provider contexts (IPsec/IKE policies and the like; not simulated)"},
        {r->provider_context_refs, "filters referencing a provider context (the reference is kept in the export record, "
                                   "not simulated)"},
        {r->unknown_flags, "objects with flag names wfpsim does not know (kept in the export record, not applied)"},
        {r->output_only_flags, "objects with output-only flags (INDEXED, DISABLED: kept in the export record; the "
                               "engine sets its own)"},
        {r->sessions, "sessions (not simulated; objects of dynamic sessions are imported as static objects)"},
        {r->sublayer_weight_moved, "sublayers whose weight was taken (the engine gave the closest free one)"},
        {r->sublayers_synthesized, "sublayers referenced but not listed in the dump (weight unknown: 0)"},
        {r->callouts_synthesized, "callouts referenced but not listed in the dump (layer taken from the filter)"},
        {r->layer_schema_differs, "layers whose field list differs from wfpsim's catalogue (another Windows build)"},
        {m->num_other_sections, "other sections (SAs, statistics, endpoints, subscriptions, …; not simulated)"},
    };
    size_t shown = 0;
    for (size_t i = 0; i < COUNT_OF(items); i++) {
        if (!items[i].n) continue;
        fprintf(out, "  %zu %s\n", items[i].n, items[i].what);
        shown++;
    }
    if (!shown) fprintf(out, "  nothing\n");
}

/* ======================================================================
 * 5. automatic weights
 * ====================================================================== */

static bool is_automatic(const wfp_import_filter *f)
{
    return f->weight.type == FWP_EMPTY || f->weight.type == FWP_UINT8;
}

bool wfp_import_computed_weight(const wfp_import_filter *f, uint64_t *out)
{
    const wfp_layer_info *l;
    wfp_condition stackbuf[32], *conds = stackbuf;
    if (f->weight.type == FWP_UINT64) {
        *out = f->weight.v.u64;
        return true;
    }
    if (!is_automatic(f) || (f->weight.type == FWP_UINT8 && f->weight.v.u8 > FWPM_WEIGHT_RANGE_MAX)) return false;
    l = f->layer.resolved ? wfp_catalog_layer_by_key(&f->layer.key) : NULL;
    if (!l || (f->problems & (WFP_IMPORT_BAD_FIELD | WFP_IMPORT_BAD_REFERENCE))) return false;
    if (f->num_conditions > COUNT_OF(stackbuf)) {
        conds = malloc(f->num_conditions * sizeof *conds);
        if (!conds) return false;
    }
    for (uint32_t k = 0; k < f->num_conditions; k++) {
        const wfp_import_condition *c = &f->conditions[k];
        conds[k].field_key = c->field.key;
        conds[k].match_type = c->match_type;
        conds[k].value = c->value;
        if (c->raw) {
            /* an exact match weighs the same whatever its value (docs/auto-weight.md):
             * a value that could not be read still counts, by its type */
            bool ordering = c->match_type == FWP_MATCH_RANGE || c->match_type == FWP_MATCH_GREATER ||
                            c->match_type == FWP_MATCH_LESS || c->match_type == FWP_MATCH_GREATER_OR_EQUAL ||
                            c->match_type == FWP_MATCH_LESS_OR_EQUAL;
            if (ordering || c->raw_type >= FWP_SINGLE_DATA_TYPE_MAX) {
                if (conds != stackbuf) free(conds);
                return false;
            }
            memset(&conds[k].value, 0, sizeof conds[k].value);
            conds[k].value.type = c->raw_type;
            conds[k].value.u.value.type = c->raw_type;
        }
    }
    uint64_t a = wfpi_auto_weight(l, conds, f->num_conditions) & FWPM_AUTO_WEIGHT_MAX;
    if (conds != stackbuf) free(conds);
    *out = f->weight.type == FWP_UINT8 ? ((uint64_t)f->weight.v.u8 << FWPM_AUTO_WEIGHT_BITS) | a : a;
    return true;
}

void wfp_import_check_weights(const wfp_import_model *m, wfp_import_weight_check *out, FILE *mismatches)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < m->num_filters; i++) {
        const wfp_import_filter *f = &m->filters[i];
        uint64_t w = 0;
        if (!is_automatic(f)) continue;
        out->automatic++;
        bool have = wfp_import_computed_weight(f, &w);
        if (have && f->has_effective_weight && w == f->effective_weight) {
            out->agree++;
            continue;
        }
        if (!mismatches) continue;
        const char *ln = f->layer.symbol ? f->layer.symbol : "?";
        const wfp_layer_info *l = f->layer.resolved ? wfp_catalog_layer_by_key(&f->layer.key) : NULL;
        if (l) ln = l->name;
        fprintf(mismatches, "weight: filter %llu '%s' (%s, ", (unsigned long long)f->filter_id, f->name,
                short_name(ln, "FWPM_LAYER_"));
        if (f->weight.type == FWP_UINT8) fprintf(mismatches, "FWP_UINT8 %u", (unsigned)f->weight.v.u8);
        else fprintf(mismatches, "FWP_EMPTY");
        fprintf(mismatches, ", %u conditions): Windows ", (unsigned)f->num_conditions);
        if (f->has_effective_weight) fprintf(mismatches, "0x%016llx", (unsigned long long)f->effective_weight);
        else fprintf(mismatches, "(not recorded)");
        if (have) fprintf(mismatches, ", wfpsim 0x%016llx\n", (unsigned long long)w);
        else fprintf(mismatches, ", wfpsim cannot compute it (%s)\n", problem_text(f->problems ? f->problems : WFP_IMPORT_BAD_LAYER));
    }
}

/* ======================================================================
 * 6. model → XML (netsh's own form)
 * ====================================================================== */

static size_t utf8_next(const unsigned char *p, uint32_t *cp);
static bool yaml_printable(uint32_t c);

/* Text content: markup characters and anything a YAML comment line could
 * not hold escaped as character references. */
static void xml_text(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (p && *p) {
        uint32_t cp;
        size_t k = utf8_next(p, &cp);
        if (!k) { /* not UTF-8 (cannot come from libxml2): drop the byte */
            p++;
            continue;
        }
        if (cp == '&') fputs("&amp;", out);
        else if (cp == '<') fputs("&lt;", out);
        else if (cp == '>') fputs("&gt;", out);
        else if (cp < 0x20 || cp == 0x85 || !yaml_printable(cp)) fprintf(out, "&#x%X;", (unsigned)cp);
        else fwrite(p, 1, k, out);
        p += k;
    }
}

static void xml_indent(FILE *out, int level)
{
    for (int i = 0; i < level; i++) fputs("  ", out);
}

static void xml_elem(FILE *out, int level, const char *tag, const char *text)
{
    xml_indent(out, level);
    if (!text || !*text) {
        fprintf(out, "<%s/>\n", tag);
        return;
    }
    fprintf(out, "<%s>", tag);
    xml_text(out, text);
    fprintf(out, "</%s>\n", tag);
}

static void xml_ref(FILE *out, int level, const char *tag, const wfp_import_ref *r, bool present)
{
    char g[WFP_GUID_STRLEN];
    if (!present) {
        xml_elem(out, level, tag, NULL);
        return;
    }
    if (r->symbol) {
        xml_elem(out, level, tag, r->symbol);
        return;
    }
    wfp_guid_format(&r->key, g);
    xml_elem(out, level, tag, g);
}

static void xml_hex(FILE *out, const uint8_t *d, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) fprintf(out, "%02x", d[i]);
}

static void xml_blob(FILE *out, int level, const char *tag, const wfp_byte_blob *b)
{
    xml_indent(out, level);
    if (!b->size) {
        fprintf(out, "<%s/>\n", tag);
        return;
    }
    fprintf(out, "<%s><data>", tag);
    xml_hex(out, b->data, b->size);
    fputs("</data><asString>", out);
    for (uint32_t i = 0; i < b->size; i++) fputc(b->data[i] >= 0x20 && b->data[i] < 0x7f && !strchr("&<>", b->data[i]) ? b->data[i] : '.', out);
    fprintf(out, "</asString></%s>\n", tag);
}

static void xml_flags(FILE *out, int level, const wfp_import_flags *f, flag_table t)
{
    size_t n = f->num_unknown;
    for (size_t i = 0; i < t.n; i++)
        if (t.v[i].bit && (f->bits & t.v[i].bit)) n++;
    xml_indent(out, level);
    if (!n) {
        fputs("<flags/>\n", out);
        return;
    }
    fprintf(out, "<flags numItems=\"%zu\">\n", n);
    for (size_t i = 0; i < t.n; i++)
        if (t.v[i].bit && (f->bits & t.v[i].bit)) xml_elem(out, level + 1, "item", t.v[i].name);
    for (uint32_t i = 0; i < f->num_unknown; i++) xml_elem(out, level + 1, "item", f->unknown[i]);
    xml_indent(out, level);
    fputs("</flags>\n", out);
}

static void xml_display(FILE *out, int level, const char *name, const char *description)
{
    xml_indent(out, level);
    fputs("<displayData>\n", out);
    xml_elem(out, level + 1, "name", name);
    xml_elem(out, level + 1, "description", description);
    xml_indent(out, level);
    fputs("</displayData>\n", out);
}

static const char *value_tag(uint32_t type)
{
    switch (type) {
    case FWP_UINT8: return "uint8";
    case FWP_UINT16: return "uint16";
    case FWP_UINT32: return "uint32";
    case FWP_UINT64: return "uint64";
    case FWP_INT8: return "int8";
    case FWP_INT16: return "int16";
    case FWP_INT32: return "int32";
    case FWP_INT64: return "int64";
    case FWP_FLOAT: return "float32";
    case FWP_DOUBLE: return "double64";
    case FWP_BYTE_ARRAY16_TYPE: return "byteArray16";
    case FWP_BYTE_BLOB_TYPE: return "byteBlob";
    case FWP_SID: return "sid";
    case FWP_SECURITY_DESCRIPTOR_TYPE: return "sd";
    case FWP_TOKEN_INFORMATION_TYPE: return "tokenInformation";
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE: return "tokenAccessInformation";
    case FWP_UNICODE_STRING_TYPE: return "unicodeString";
    case FWP_BYTE_ARRAY6_TYPE: return "byteArray6";
    default: return "value";
    }
}

/* A value's text in the forms the parser reads back exactly: integers in
 * decimal, floats with enough digits, 16 bytes as IPv6, SIDs and SDs as
 * text, MACs with '-'. Blobs are written by the caller. Returns a malloc'd
 * string (NULL: out of memory). */
static char *value_text(const wfp_value *v)
{
    char b[128];
    switch (v->type) {
    case FWP_UINT8: snprintf(b, sizeof b, "%u", (unsigned)v->v.u8); break;
    case FWP_UINT16: snprintf(b, sizeof b, "%u", (unsigned)v->v.u16); break;
    case FWP_UINT32: snprintf(b, sizeof b, "%lu", (unsigned long)v->v.u32); break;
    case FWP_UINT64: snprintf(b, sizeof b, "%llu", (unsigned long long)v->v.u64); break;
    case FWP_INT8: snprintf(b, sizeof b, "%d", (int)v->v.i8); break;
    case FWP_INT16: snprintf(b, sizeof b, "%d", (int)v->v.i16); break;
    case FWP_INT32: snprintf(b, sizeof b, "%ld", (long)v->v.i32); break;
    case FWP_INT64: snprintf(b, sizeof b, "%lld", (long long)v->v.i64); break;
    case FWP_FLOAT: snprintf(b, sizeof b, "%.9g", (double)v->v.f32); break;
    case FWP_DOUBLE: snprintf(b, sizeof b, "%.17g", v->v.f64); break;
    case FWP_BYTE_ARRAY16_TYPE: wfp_value_format(v, b, sizeof b); break;
    case FWP_BYTE_ARRAY6_TYPE:
        snprintf(b, sizeof b, "%02x-%02x-%02x-%02x-%02x-%02x", v->v.bytes6[0], v->v.bytes6[1], v->v.bytes6[2],
                 v->v.bytes6[3], v->v.bytes6[4], v->v.bytes6[5]);
        break;
    case FWP_SID: wfp_sid_format(v->v.blob.data, v->v.blob.size, b, sizeof b); break;
    case FWP_SECURITY_DESCRIPTOR_TYPE: {
        size_t need = wfp_sd_format(v->v.blob.data, v->v.blob.size, NULL, 0) + 1;
        char *s = malloc(need);
        if (s) wfp_sd_format(v->v.blob.data, v->v.blob.size, s, need);
        return s;
    }
    case FWP_UNICODE_STRING_TYPE: {
        char *s = malloc(v->v.blob.size + 1);
        if (s) {
            if (v->v.blob.size) memcpy(s, v->v.blob.data, v->v.blob.size);
            s[v->v.blob.size] = 0;
        }
        return s;
    }
    default: b[0] = 0; break;
    }
    size_t n = strlen(b) + 1;
    char *s = malloc(n);
    if (s) memcpy(s, b, n);
    return s;
}

static void xml_single(FILE *out, int level, const wfp_value *v)
{
    const char *tn = wfp_data_type_name(v->type);
    xml_elem(out, level, "type", tn ? tn : "FWP_EMPTY");
    if (v->type == FWP_EMPTY) return;
    if (v->type == FWP_BYTE_BLOB_TYPE || v->type == FWP_TOKEN_INFORMATION_TYPE ||
        v->type == FWP_TOKEN_ACCESS_INFORMATION_TYPE) {
        if (v->v.blob.size) {
            xml_blob(out, level, value_tag(v->type), &v->v.blob);
        } else { /* an explicit empty <data/>, so the value reads back */
            xml_indent(out, level);
            fprintf(out, "<%s><data/></%s>\n", value_tag(v->type), value_tag(v->type));
        }
        return;
    }
    char *t = value_text(v);
    xml_elem(out, level, value_tag(v->type), t ? t : "");
    free(t);
}

static void xml_fwp_value(FILE *out, int level, const char *tag, const wfp_value *v)
{
    xml_indent(out, level);
    fprintf(out, "<%s>\n", tag);
    xml_single(out, level + 1, v);
    xml_indent(out, level);
    fprintf(out, "</%s>\n", tag);
}

static void xml_condition_value(FILE *out, int level, const wfp_import_condition *c)
{
    char b[128];
    const wfp_condition_value *v = &c->value;
    if (c->raw) {
        xml_indent(out, level);
        fputs(c->raw, out);
        fputc('\n', out);
        return;
    }
    xml_indent(out, level);
    fputs("<conditionValue>\n", out);
    if (v->type < FWP_SINGLE_DATA_TYPE_MAX) {
        xml_single(out, level + 1, &v->u.value);
    } else {
        const char *tn = wfp_data_type_name(v->type);
        xml_elem(out, level + 1, "type", tn ? tn : "?");
        if (v->type == FWP_V4_ADDR_MASK) {
            xml_indent(out, level + 1);
            fprintf(out, "<v4AddrMask><addr>%u.%u.%u.%u</addr>", (unsigned)(v->u.v4.addr >> 24),
                    (unsigned)(v->u.v4.addr >> 16 & 255), (unsigned)(v->u.v4.addr >> 8 & 255),
                    (unsigned)(v->u.v4.addr & 255));
            fprintf(out, "<mask>%u.%u.%u.%u</mask></v4AddrMask>\n", (unsigned)(v->u.v4.mask >> 24),
                    (unsigned)(v->u.v4.mask >> 16 & 255), (unsigned)(v->u.v4.mask >> 8 & 255),
                    (unsigned)(v->u.v4.mask & 255));
        } else if (v->type == FWP_V6_ADDR_MASK) {
            wfp_value a;
            memset(&a, 0, sizeof a);
            a.type = FWP_BYTE_ARRAY16_TYPE;
            memcpy(a.v.bytes16, v->u.v6.addr, 16);
            wfp_value_format(&a, b, sizeof b);
            xml_indent(out, level + 1);
            fprintf(out, "<v6AddrMask><addr>%s</addr><prefixLength>%u</prefixLength></v6AddrMask>\n", b,
                    (unsigned)v->u.v6.prefix_length);
        } else if (v->type == FWP_RANGE_TYPE) {
            xml_indent(out, level + 1);
            fputs("<rangeValue>\n", out);
            xml_fwp_value(out, level + 2, "valueLow", &v->u.range.low);
            xml_fwp_value(out, level + 2, "valueHigh", &v->u.range.high);
            xml_indent(out, level + 1);
            fputs("</rangeValue>\n", out);
        }
    }
    xml_indent(out, level);
    fputs("</conditionValue>\n", out);
}

static void xml_open(FILE *out, int level, const char *tag)
{
    xml_indent(out, level);
    fprintf(out, "<%s>\n", tag);
}

static void xml_close(FILE *out, int level, const char *tag)
{
    xml_indent(out, level);
    fprintf(out, "</%s>\n", tag);
}

static void xml_u64(FILE *out, int level, const char *tag, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    xml_elem(out, level, tag, b);
}

static void write_filter_xml(const wfp_import_filter *f, FILE *out, int level)
{
    xml_open(out, level, "item");
    xml_ref(out, level + 1, "filterKey", &f->key, true);
    xml_display(out, level + 1, f->name, f->description);
    xml_flags(out, level + 1, &f->flags, FLAG_TABLE(filter_flag_names));
    xml_ref(out, level + 1, "providerKey", &f->provider, f->has_provider);
    xml_blob(out, level + 1, "providerData", &f->data);
    xml_ref(out, level + 1, "layerKey", &f->layer, true);
    xml_ref(out, level + 1, "subLayerKey", &f->sublayer, true);
    xml_fwp_value(out, level + 1, "weight", &f->weight);
    xml_indent(out, level + 1);
    if (!f->num_conditions) {
        fputs("<filterCondition/>\n", out);
    } else {
        fprintf(out, "<filterCondition numItems=\"%u\">\n", (unsigned)f->num_conditions);
        for (uint32_t i = 0; i < f->num_conditions; i++) {
            const wfp_import_condition *c = &f->conditions[i];
            xml_open(out, level + 2, "item");
            xml_ref(out, level + 3, "fieldKey", &c->field, true);
            xml_elem(out, level + 3, "matchType", wfp_match_type_name(c->match_type));
            xml_condition_value(out, level + 3, c);
            xml_close(out, level + 2, "item");
        }
        xml_close(out, level + 1, "filterCondition");
    }
    xml_open(out, level + 1, "action");
    const char *an = wfp_action_type_name(f->action_type);
    char num[16];
    if (!an) {
        snprintf(num, sizeof num, "%lu", (unsigned long)f->action_type);
        an = num;
    }
    xml_elem(out, level + 2, "type", an);
    xml_ref(out, level + 2, "filterType", &f->action_key, f->has_action_key);
    xml_close(out, level + 1, "action");
    if (f->has_raw_context) xml_u64(out, level + 1, "rawContext", f->raw_context);
    if (f->has_provider_context) xml_ref(out, level + 1, "providerContextKey", &f->provider_context, true);
    xml_elem(out, level + 1, "reserved", NULL);
    xml_u64(out, level + 1, "filterId", f->filter_id);
    if (f->has_effective_weight) {
        wfp_value ew;
        memset(&ew, 0, sizeof ew);
        ew.type = FWP_UINT64;
        ew.v.u64 = f->effective_weight;
        xml_fwp_value(out, level + 1, "effectiveWeight", &ew);
    }
    xml_close(out, level, "item");
}

void wfp_import_write_filter_xml(const wfp_import_filter *f, FILE *out)
{
    write_filter_xml(f, out, 0);
}

static void write_provider_xml(const wfp_import_provider *p, FILE *out, int level)
{
    xml_open(out, level, "item");
    xml_ref(out, level + 1, "providerKey", &p->key, true);
    xml_display(out, level + 1, p->name, p->description);
    xml_flags(out, level + 1, &p->flags, FLAG_TABLE(provider_flag_names));
    xml_blob(out, level + 1, "providerData", &p->data);
    xml_elem(out, level + 1, "serviceName", p->service_name);
    xml_close(out, level, "item");
}

static void write_sublayer_xml(const wfp_import_sublayer *s, FILE *out, int level)
{
    xml_open(out, level, "item");
    xml_ref(out, level + 1, "subLayerKey", &s->key, true);
    xml_display(out, level + 1, s->name, s->description);
    xml_flags(out, level + 1, &s->flags, FLAG_TABLE(sublayer_flag_names));
    xml_ref(out, level + 1, "providerKey", &s->provider, s->has_provider);
    xml_blob(out, level + 1, "providerData", &s->data);
    xml_u64(out, level + 1, "weight", s->weight);
    xml_close(out, level, "item");
}

static void write_callout_xml(const wfp_import_callout *c, FILE *out, int level)
{
    xml_open(out, level, "item");
    xml_ref(out, level + 1, "calloutKey", &c->key, true);
    xml_display(out, level + 1, c->name, c->description);
    xml_flags(out, level + 1, &c->flags, FLAG_TABLE(callout_flag_names));
    xml_ref(out, level + 1, "providerKey", &c->provider, c->has_provider);
    xml_blob(out, level + 1, "providerData", &c->data);
    xml_ref(out, level + 1, "applicableLayer", &c->layer, true);
    xml_u64(out, level + 1, "calloutId", c->callout_id);
    xml_close(out, level, "item");
}

static void write_layer_xml(const wfp_import_layer *l, FILE *out, int level)
{
    xml_open(out, level, "item");
    xml_open(out, level + 1, "layer");
    xml_ref(out, level + 2, "layerKey", &l->key, true);
    xml_indent(out, level + 2);
    fprintf(out, "<field numItems=\"%u\">\n", (unsigned)l->num_fields);
    for (uint32_t i = 0; i < l->num_fields; i++) {
        xml_open(out, level + 3, "item");
        xml_ref(out, level + 4, "fieldKey", &l->fields[i], true);
        xml_close(out, level + 3, "item");
    }
    xml_close(out, level + 2, "field");
    xml_u64(out, level + 2, "layerId", l->layer_id);
    xml_close(out, level + 1, "layer");
    xml_close(out, level, "item");
}

/* ======================================================================
 * 7. model → scenario YAML
 * ====================================================================== */

/* Decodes one UTF-8 character; 0 bytes on invalid input. */
static size_t utf8_next(const unsigned char *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if ((p[0] & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
        *cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
        return *cp >= 0x80 ? 2 : 0;
    }
    if ((p[0] & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
        *cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
        return *cp >= 0x800 && (*cp < 0xd800 || *cp > 0xdfff) ? 3 : 0;
    }
    if ((p[0] & 0xf8) == 0xf0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
        *cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 |
              (p[3] & 0x3f);
        return *cp >= 0x10000 && *cp <= 0x10ffff ? 4 : 0;
    }
    return 0;
}

/* YAML 1.1's printable set (what libyaml accepts inside a scalar). */
static bool yaml_printable(uint32_t c)
{
    return c == 0x9 || (c >= 0x20 && c <= 0x7e) || c == 0x85 || (c >= 0xa0 && c <= 0xd7ff) ||
           (c >= 0xe000 && c <= 0xfffd && c != 0xfeff) || (c >= 0x10000 && c <= 0x10ffff);
}

static bool plain_safe(const char *s)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "empty", "auto"};
    if (!*s || !isalnum((unsigned char)*s)) return false;
    size_t n = strlen(s);
    if (s[n - 1] == ' ') return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(" _.-/+", *p)) return false;
    for (size_t i = 0; i < COUNT_OF(words); i++)
        if (ieq(s, words[i])) return false;
    return true;
}

/* A scalar, in the simplest style that reads back as exactly `s`. */
static void y_str(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    bool single = true;
    if (plain_safe((const char *)p)) {
        fputs((const char *)p, out);
        return;
    }
    for (const unsigned char *q = p; *q;) {
        uint32_t cp;
        size_t k = utf8_next(q, &cp);
        if (!k || !yaml_printable(cp) || cp == 0x9 || cp == 0x85) {
            single = false;
            break;
        }
        q += k;
    }
    if (single) {
        fputc('\'', out);
        for (; *p; p++) {
            if (*p == '\'') fputc('\'', out);
            fputc(*p, out);
        }
        fputc('\'', out);
        return;
    }
    fputc('"', out);
    while (*p) {
        uint32_t cp;
        size_t k = utf8_next(p, &cp);
        if (!k) { /* not UTF-8: the byte as a Latin-1 character */
            fprintf(out, "\\x%02x", *p);
            p++;
            continue;
        }
        if (cp == '"' || cp == '\\') fprintf(out, "\\%c", (char)cp);
        else if (cp == '\n') fputs("\\n", out);
        else if (cp == '\t') fputs("\\t", out);
        else if (cp == '\r') fputs("\\r", out);
        else if (!yaml_printable(cp) || cp == 0x85) {
            if (cp <= 0xff) fprintf(out, "\\x%02x", (unsigned)cp);
            else if (cp <= 0xffff) fprintf(out, "\\u%04x", (unsigned)cp);
            else fprintf(out, "\\U%08x", (unsigned)cp);
        } else fwrite(p, 1, k, out);
        p += k;
    }
    fputc('"', out);
}

static void y_guid(FILE *out, const wfp_guid *g)
{
    char b[WFP_GUID_STRLEN];
    wfp_guid_format(g, b);
    fprintf(out, "'%s'", b);
}

static void y_hex(FILE *out, const wfp_byte_blob *b)
{
    fputs("'hex:", out);
    for (uint32_t i = 0; i < b->size; i++) fprintf(out, "%02x", b->data[i]);
    fputc('\'', out);
}

static const char *layer_short(const wfp_guid *k)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_key(k);
    return l ? short_name(l->name, "FWPM_LAYER_") : NULL;
}

/* ---- names --------------------------------------------------------------- */

typedef struct ename {
    const char *base;
    wfp_guid key;
    uint64_t id;
    size_t index;
    char *name;
} ename;

static int cmp_ename_base(const void *a, const void *b)
{
    const ename *x = *(const ename *const *)a, *y = *(const ename *const *)b;
    int c = strcmp(x->base, y->base);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int cmp_ename_name(const void *a, const void *b)
{
    const ename *x = *(const ename *const *)a, *y = *(const ename *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static char *str_printf(const char *fmt, ...) WFP_YAML_PRINTF(1, 2);
static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Unique names for one kind: a display name stays as it is when no other
 * object of the kind (nor a built-in) has it; otherwise filters get
 * " #<filter id>" and the others " <key>". Deterministic. */
static bool unique_names(ename *v, size_t n, bool filters, const char *const *reserved, size_t nreserved)
{
    ename **p = malloc((n ? n : 1) * sizeof *p);
    if (!p) return false;
    for (size_t i = 0; i < n; i++) p[i] = &v[i];
    qsort(p, n, sizeof *p, cmp_ename_base);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !strcmp(p[j]->base, p[i]->base)) j++;
        bool clash = j - i > 1;
        for (size_t r = 0; r < nreserved && !clash; r++) clash = !strcmp(p[i]->base, reserved[r]);
        for (size_t k = i; k < j; k++) {
            char g[WFP_GUID_STRLEN];
            wfp_guid_format(&p[k]->key, g);
            if (!clash) p[k]->name = str_printf("%s", p[k]->base);
            else if (filters && p[k]->id) p[k]->name = str_printf("%s #%llu", p[k]->base, (unsigned long long)p[k]->id);
            else p[k]->name = str_printf("%s %s", p[k]->base, g);
            if (!p[k]->name) {
                free(p);
                return false;
            }
        }
        i = j;
    }
    for (int round = 0; round < 8; round++) {
        bool dup = false;
        qsort(p, n, sizeof *p, cmp_ename_name);
        for (size_t i = 0; i + 1 < n; i++) {
            if (strcmp(p[i]->name, p[i + 1]->name)) continue;
            for (size_t k = i; k < n && !strcmp(p[k]->name, p[i]->name); k++) {
                char g[WFP_GUID_STRLEN];
                wfp_guid_format(&p[k]->key, g);
                char *nn = str_printf("%s %s #%zu", p[k]->base, g, p[k]->index + (size_t)round * n);
                if (!nn) {
                    free(p);
                    return false;
                }
                free(p[k]->name);
                p[k]->name = nn;
            }
            dup = true;
        }
        for (size_t r = 0; r < nreserved; r++)
            for (size_t i = 0; i < n; i++)
                if (!strcmp(p[i]->name, reserved[r])) {
                    char *nn = str_printf("%s #%zu", p[i]->name, p[i]->index);
                    if (!nn) {
                        free(p);
                        return false;
                    }
                    free(p[i]->name);
                    p[i]->name = nn;
                    dup = true;
                }
        if (!dup) {
            free(p);
            return true;
        }
    }
    free(p);
    return false;
}

typedef struct export_ctx {
    const wfp_import_model *m;
    apply_status st;
    ename *prov, *subl, *call, *filt; /* parallel to the model arrays (name NULL: not in the policy) */
    FILE *out;
} export_ctx;

static void ename_free(ename *v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i].name);
    free(v);
}

static bool build_names(export_ctx *x)
{
    const wfp_import_model *m = x->m;
    x->prov = calloc(m->num_providers + 1, sizeof *x->prov);
    x->subl = calloc(m->num_sublayers + 1, sizeof *x->subl);
    x->call = calloc(m->num_callouts + 1, sizeof *x->call);
    x->filt = calloc(m->num_filters + 1, sizeof *x->filt);
    if (!x->prov || !x->subl || !x->call || !x->filt) return false;
    /* each kind: gather the objects in the policy, name them, scatter back */
    for (int kind = 0; kind < 4; kind++) {
        size_t total = kind == 0 ? m->num_providers : kind == 1 ? m->num_sublayers : kind == 2 ? m->num_callouts : m->num_filters;
        const uint8_t *st = kind == 0 ? x->st.providers : kind == 1 ? x->st.sublayers : kind == 2 ? x->st.callouts : x->st.filters;
        ename *dst = kind == 0 ? x->prov : kind == 1 ? x->subl : kind == 2 ? x->call : x->filt;
        ename *v = calloc(total + 1, sizeof *v);
        size_t n = 0, nres = 0;
        const char *const *res = NULL;
        char **reserved = NULL;
        if (!v) return false;
        for (size_t i = 0; i < total; i++) {
            if (st[i] != ST_ADDED) continue;
            ename *e = &v[n++];
            e->index = i;
            switch (kind) {
            case 0: e->base = m->providers[i].name; e->key = m->providers[i].key.key; break;
            case 1: e->base = m->sublayers[i].name; e->key = m->sublayers[i].key.key; break;
            case 2: e->base = m->callouts[i].name; e->key = m->callouts[i].key.key; break;
            default: e->base = m->filters[i].name; e->key = m->filters[i].key.key; e->id = m->filters[i].filter_id; break;
            }
        }
        /* built-in names are referenced in full (FWPM_SUBLAYER_…): a policy
         * object must not take one */
        size_t nb = kind == 0 ? wfp_catalog_provider_count() : kind == 1 ? wfp_catalog_sublayer_count()
                  : kind == 2 ? wfp_catalog_callout_count() : 0;
        if (nb) {
            reserved = calloc(nb, sizeof *reserved);
            if (!reserved) {
                free(v);
                return false;
            }
            for (size_t i = 0; i < nb; i++)
                reserved[i] = (char *)(kind == 0 ? wfp_catalog_provider_at(i)->name
                                       : kind == 1 ? wfp_catalog_sublayer_at(i)->name
                                                   : wfp_catalog_callout_at(i)->name);
            res = (const char *const *)reserved;
            nres = nb;
        }
        bool ok = unique_names(v, n, kind == 3, res, nres);
        free(reserved);
        if (!ok) {
            ename_free(v, n);
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            dst[v[i].index] = v[i];
            v[i].name = NULL;
        }
        free(v);
    }
    return true;
}

static void free_names(export_ctx *x)
{
    ename_free(x->prov, x->m->num_providers);
    ename_free(x->subl, x->m->num_sublayers);
    ename_free(x->call, x->m->num_callouts);
    ename_free(x->filt, x->m->num_filters);
}

/* The name a policy uses for a referenced object: a built-in's WFP name,
 * else the exported name, else the key ({guid}). */
static void y_ref(export_ctx *x, int kind, const wfp_guid *k)
{
    const wfp_import_model *m = x->m;
    const char *bn = NULL;
    if (kind == 0) bn = builtin_provider_name(k);
    else if (kind == 1) {
        const wfp_builtin_sublayer *b = builtin_sublayer_by_key(k);
        bn = b ? b->name : NULL;
    } else {
        const wfp_builtin_callout *b = builtin_callout_by_key(k);
        bn = b ? b->name : NULL;
    }
    if (bn) {
        y_str(x->out, bn);
        return;
    }
    size_t total = kind == 0 ? m->num_providers : kind == 1 ? m->num_sublayers : m->num_callouts;
    for (size_t i = 0; i < total; i++) {
        const ename *e = kind == 0 ? &x->prov[i] : kind == 1 ? &x->subl[i] : &x->call[i];
        const wfp_guid *ok = kind == 0 ? &m->providers[i].key.key : kind == 1 ? &m->sublayers[i].key.key : &m->callouts[i].key.key;
        if (e->name && wfp_guid_eq(ok, k)) {
            y_str(x->out, e->name);
            return;
        }
    }
    y_guid(x->out, k);
}

static void y_flag_list(FILE *out, uint32_t bits, flag_table t, const char *prefix)
{
    bool first = true;
    fputc('[', out);
    for (size_t i = 0; i < t.n; i++) {
        if (!t.v[i].bit || !(bits & t.v[i].bit)) continue;
        const char *s = short_name(t.v[i].name, prefix);
        if (!first) fputs(", ", out);
        first = false;
        for (; *s; s++) fputc(tolower((unsigned char)*s), out);
    }
    fputc(']', out);
}

static bool is_app_id_field(const wfp_guid *k)
{
    const wfp_condition_info *a = wfp_catalog_condition_by_name("ALE_APP_ID");
    const wfp_condition_info *b = wfp_catalog_condition_by_name("ALE_ORIGINAL_APP_ID");
    return (a && wfp_guid_eq(&a->key, k)) || (b && wfp_guid_eq(&b->key, k));
}

/* The app id's Windows path, when the policy's path → app id conversion
 * gives back exactly these bytes. */
static char *app_id_path(const wfp_byte_blob *b)
{
    size_t need = wfp_app_id_format(b->data, b->size, NULL, 0) + 1;
    char *s = malloc(need);
    uint8_t *back = NULL;
    uint32_t len = 0;
    if (!s) return NULL;
    wfp_app_id_format(b->data, b->size, s, need);
    if (!*s || !wfp_app_id_from_path(wfp_allocator_default(), s, NULL, &back, &len) || len != b->size ||
        memcmp(back, b->data, len)) {
        free(back);
        free(s);
        return NULL;
    }
    free(back);
    return s;
}

typedef struct fctx {
    const wfp_layer_field *lf; /* the field in the filter's layer */
    bool app_id;
} fctx;

/* One single-typed value as the policy reads it for this field. `natural`:
 * the field's own type (parsed by the field's data type); else the text
 * goes into a typed {type:, value:} form. */
static void y_value_text(FILE *out, const wfp_value *v, const fctx *fc, bool natural)
{
    bool ip = fc->lf && fc->lf->field_type == FWPM_FIELD_IP_ADDRESS;
    char b[128];
    switch (v->type) {
    case FWP_EMPTY: fputs(natural ? "empty" : "'empty'", out); return;
    case FWP_UINT32:
        if (ip && fc->lf->data_type == FWP_UINT32) {
            snprintf(b, sizeof b, "%u.%u.%u.%u", (unsigned)(v->v.u32 >> 24), (unsigned)(v->v.u32 >> 16 & 255),
                     (unsigned)(v->v.u32 >> 8 & 255), (unsigned)(v->v.u32 & 255));
            y_str(out, b);
            return;
        }
        break;
    case FWP_BYTE_BLOB_TYPE:
        if (natural && fc->app_id) {
            char *path = app_id_path(&v->v.blob);
            if (path) {
                y_str(out, path);
                free(path);
                return;
            }
        }
        y_hex(out, &v->v.blob);
        return;
    case FWP_TOKEN_INFORMATION_TYPE:
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE: y_hex(out, &v->v.blob); return;
    case FWP_BYTE_ARRAY16_TYPE:
        if (!ip) {
            wfp_byte_blob bb = {16, v->v.bytes16};
            y_hex(out, &bb);
            return;
        }
        break;
    case FWP_BYTE_ARRAY6_TYPE:
        snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", v->v.bytes6[0], v->v.bytes6[1], v->v.bytes6[2],
                 v->v.bytes6[3], v->v.bytes6[4], v->v.bytes6[5]);
        y_str(out, b);
        return;
    default: break;
    }
    char *t = value_text(v);
    y_str(out, t ? t : "");
    free(t);
}

static void y_typed(FILE *out, const wfp_value *v, const fctx *fc)
{
    fprintf(out, "{type: %s, value: ", wfp_data_type_name(v->type));
    y_value_text(out, v, fc, false);
    fputc('}', out);
}

/* Does a value of this type read naturally (as the field's data type)? */
static bool natural_single(const wfp_value *v, const fctx *fc)
{
    if (!fc->lf) return false;
    if (v->type == FWP_EMPTY) return true;
    uint32_t ft = fc->lf->data_type;
    if (ft == FWP_TOKEN_INFORMATION_TYPE || ft == FWP_TOKEN_ACCESS_INFORMATION_TYPE) return false;
    return v->type == ft;
}

static void y_condition(export_ctx *x, const wfp_import_condition *c, const wfp_layer_info *l)
{
    FILE *out = x->out;
    const wfp_condition_info *ci = wfp_catalog_condition_by_key(&c->field.key);
    const wfp_condition_value *v = &c->value;
    int idx = l ? wfp_catalog_field_index(l, &c->field.key) : -1;
    fctx fc = {idx >= 0 ? &l->fields[idx] : NULL, is_app_id_field(&c->field.key)};
    char mname[64];
    fputs("{field: ", out);
    if (ci) fputs(short_name(ci->name, "FWPM_CONDITION_"), out);
    else y_guid(out, &c->field.key);
    if (c->match_type != FWP_MATCH_EQUAL || v->type == FWP_RANGE_TYPE) {
        const char *mn = wfp_match_type_name(c->match_type);
        size_t i = 0;
        mn = mn ? short_name(mn, "FWP_MATCH_") : "equal";
        for (; mn[i] && i + 1 < sizeof mname; i++) mname[i] = (char)tolower((unsigned char)mn[i]);
        mname[i] = 0;
        fprintf(out, ", match: %s", mname);
    }
    fputs(", value: ", out);
    if (v->type < FWP_SINGLE_DATA_TYPE_MAX) {
        const wfp_value *sv = &v->u.value;
        bool sd_on_token = sv->type == FWP_SECURITY_DESCRIPTOR_TYPE && fc.lf &&
                           (fc.lf->data_type == FWP_TOKEN_INFORMATION_TYPE ||
                            fc.lf->data_type == FWP_TOKEN_ACCESS_INFORMATION_TYPE);
        if (natural_single(sv, &fc) || sd_on_token) y_value_text(out, sv, &fc, true);
        else y_typed(out, sv, &fc);
    } else if (v->type == FWP_V4_ADDR_MASK || v->type == FWP_V6_ADDR_MASK) {
        char b[128], a[64];
        if (v->type == FWP_V4_ADDR_MASK) {
            snprintf(b, sizeof b, "%u.%u.%u.%u/%u.%u.%u.%u", (unsigned)(v->u.v4.addr >> 24),
                     (unsigned)(v->u.v4.addr >> 16 & 255), (unsigned)(v->u.v4.addr >> 8 & 255),
                     (unsigned)(v->u.v4.addr & 255), (unsigned)(v->u.v4.mask >> 24),
                     (unsigned)(v->u.v4.mask >> 16 & 255), (unsigned)(v->u.v4.mask >> 8 & 255),
                     (unsigned)(v->u.v4.mask & 255));
        } else {
            wfp_value t;
            memset(&t, 0, sizeof t);
            t.type = FWP_BYTE_ARRAY16_TYPE;
            memcpy(t.v.bytes16, v->u.v6.addr, 16);
            wfp_value_format(&t, a, sizeof a);
            snprintf(b, sizeof b, "%s/%u", a, (unsigned)v->u.v6.prefix_length);
        }
        bool natural = fc.lf && fc.lf->field_type == FWPM_FIELD_IP_ADDRESS &&
                       fc.lf->data_type == (v->type == FWP_V4_ADDR_MASK ? FWP_UINT32 : FWP_BYTE_ARRAY16_TYPE);
        if (natural) y_str(out, b);
        else {
            fprintf(out, "{type: %s, value: ", wfp_data_type_name(v->type));
            y_str(out, b);
            fputc('}', out);
        }
    } else if (v->type == FWP_RANGE_TYPE) {
        fputs("{low: ", out);
        if (natural_single(&v->u.range.low, &fc) && v->u.range.low.type != FWP_EMPTY)
            y_value_text(out, &v->u.range.low, &fc, true);
        else y_typed(out, &v->u.range.low, &fc);
        fputs(", high: ", out);
        if (natural_single(&v->u.range.high, &fc) && v->u.range.high.type != FWP_EMPTY)
            y_value_text(out, &v->u.range.high, &fc, true);
        else y_typed(out, &v->u.range.high, &fc);
        fputc('}', out);
    }
    fputc('}', out);
}

static const char *policy_action(uint32_t a)
{
    switch (a) {
    case FWP_ACTION_PERMIT: return "permit";
    case FWP_ACTION_BLOCK: return "block";
    case FWP_ACTION_CALLOUT_TERMINATING: return "callout_terminating";
    case FWP_ACTION_CALLOUT_INSPECTION: return "callout_inspection";
    case FWP_ACTION_CALLOUT_UNKNOWN: return "callout_unknown";
    default: return NULL;
    }
}

static int cmp_filter_order(const void *a, const void *b, const wfp_import_model *m)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    uint64_t x = m->filters[i].filter_id, y = m->filters[j].filter_id;
    if (x != y) return x < y ? -1 : 1;
    return (i > j) - (i < j);
}

/* qsort has no context argument in C11: a small merge sort does. */
static void sort_filter_indexes(size_t *v, size_t n, const wfp_import_model *m)
{
    if (n < 2) return;
    size_t h = n / 2;
    sort_filter_indexes(v, h, m);
    sort_filter_indexes(v + h, n - h, m);
    size_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp) { /* insertion sort fallback */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && cmp_filter_order(&v[j - 1], &v[j], m) > 0; j--) {
                size_t t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
        return;
    }
    size_t a = 0, b = h, k = 0;
    while (a < h && b < n) tmp[k++] = cmp_filter_order(&v[a], &v[b], m) <= 0 ? v[a++] : v[b++];
    while (a < h) tmp[k++] = v[a++];
    while (b < n) tmp[k++] = v[b++];
    memcpy(v, tmp, n * sizeof *v);
    free(tmp);
}

static void y_common(FILE *out, const char *name, const wfp_guid *key, const char *description)
{
    fputs("    - name: ", out);
    y_str(out, name);
    fputs("\n      key: ", out);
    y_guid(out, key);
    fputc('\n', out);
    if (description) {
        fputs("      description: ", out);
        y_str(out, description);
        fputc('\n', out);
    }
}

static void write_policy(export_ctx *x, const size_t *order)
{
    const wfp_import_model *m = x->m;
    FILE *out = x->out;
    size_t n;

    fputs("policy:\n", out);
    n = 0;
    for (size_t i = 0; i < m->num_providers; i++) n += x->prov[i].name != NULL;
    if (n) fputs("  providers:\n", out);
    for (size_t i = 0; i < m->num_providers; i++) {
        const wfp_import_provider *p = &m->providers[i];
        if (!x->prov[i].name) continue;
        y_common(out, x->prov[i].name, &p->key.key, p->description);
        if (p->flags.bits & FWPM_PROVIDER_FLAG_PERSISTENT) fputs("      flags: [persistent]\n", out);
        if (p->service_name) {
            fputs("      service_name: ", out);
            y_str(out, p->service_name);
            fputc('\n', out);
        }
        if (p->data.size) {
            fputs("      provider_data: ", out);
            y_hex(out, &p->data);
            fputc('\n', out);
        }
    }
    n = 0;
    for (size_t i = 0; i < m->num_sublayers; i++) n += x->subl[i].name != NULL;
    if (n) fputs("  sublayers:\n", out);
    for (size_t i = 0; i < m->num_sublayers; i++) {
        const wfp_import_sublayer *s = &m->sublayers[i];
        if (!x->subl[i].name) continue;
        y_common(out, x->subl[i].name, &s->key.key, s->description);
        fprintf(out, "      weight: %u\n", (unsigned)s->weight);
        if (s->has_provider) {
            fputs("      provider: ", out);
            y_ref(x, 0, &s->provider.key);
            fputc('\n', out);
        }
        if (s->flags.bits & FWPM_SUBLAYER_FLAG_PERSISTENT) fputs("      flags: [persistent]\n", out);
        if (s->data.size) {
            fputs("      provider_data: ", out);
            y_hex(out, &s->data);
            fputc('\n', out);
        }
    }
    n = 0;
    for (size_t i = 0; i < m->num_callouts; i++) n += x->call[i].name != NULL;
    if (n) fputs("  callouts:\n", out);
    for (size_t i = 0; i < m->num_callouts; i++) {
        const wfp_import_callout *c = &m->callouts[i];
        if (!x->call[i].name) continue;
        if (c->flags.bits & FWPM_CALLOUT_FLAG_REGISTERED)
            fputs("    # registered by its driver on Windows; no driver here\n", out);
        y_common(out, x->call[i].name, &c->key.key, c->description);
        fprintf(out, "      layer: %s\n", layer_short(&c->layer.key));
        if (c->has_provider) {
            fputs("      provider: ", out);
            y_ref(x, 0, &c->provider.key);
            fputc('\n', out);
        }
        uint32_t fl = c->flags.bits & (FWPM_CALLOUT_FLAG_PERSISTENT | FWPM_CALLOUT_FLAG_USES_PROVIDER_CONTEXT);
        if (fl) {
            fputs("      flags: ", out);
            y_flag_list(out, fl, FLAG_TABLE(callout_flag_names), "FWPM_CALLOUT_FLAG_");
            fputc('\n', out);
        }
        fputs("      registered: false\n", out);
        if (c->data.size) {
            fputs("      provider_data: ", out);
            y_hex(out, &c->data);
            fputc('\n', out);
        }
    }
    n = 0;
    for (size_t i = 0; i < m->num_filters; i++) n += x->filt[i].name != NULL;
    if (n) fputs("  filters:\n", out);
    for (size_t k = 0; k < m->num_filters; k++) {
        size_t i = order[k];
        const wfp_import_filter *f = &m->filters[i];
        if (!x->filt[i].name) continue;
        const wfp_layer_info *l = wfp_catalog_layer_by_key(&f->layer.key);
        uint64_t w = 0;
        bool pinned = false;
        if (f->has_effective_weight) /* (a UINT64 weight differs only in a doctored dump) */
            pinned = !wfp_import_computed_weight(f, &w) || w != f->effective_weight;
        fprintf(out, "    # id %llu", (unsigned long long)f->filter_id);
        if (pinned) {
            fprintf(out, "; weight pinned to Windows' effective weight (Windows: %s",
                    f->weight.type == FWP_EMPTY ? "FWP_EMPTY" : f->weight.type == FWP_UINT8 ? "FWP_UINT8" : "FWP_UINT64");
            if (f->weight.type == FWP_UINT8) fprintf(out, " %u", (unsigned)f->weight.v.u8);
            if (f->weight.type == FWP_UINT64) fprintf(out, " %llu", (unsigned long long)f->weight.v.u64);
            fprintf(out, "; wfpsim would compute 0x%016llx)", (unsigned long long)w);
        }
        fputc('\n', out);
        y_common(out, x->filt[i].name, &f->key.key, f->description);
        fprintf(out, "      layer: %s\n", l ? short_name(l->name, "FWPM_LAYER_") : "?");
        fputs("      sublayer: ", out);
        y_ref(x, 1, &f->sublayer.key);
        fputc('\n', out);
        if (f->has_provider) {
            fputs("      provider: ", out);
            y_ref(x, 0, &f->provider.key);
            fputc('\n', out);
        }
        if (f->data.size) {
            fputs("      provider_data: ", out);
            y_hex(out, &f->data);
            fputc('\n', out);
        }
        if (pinned) fprintf(out, "      weight: {uint64: %llu}\n", (unsigned long long)f->effective_weight);
        else if (f->weight.type == FWP_UINT8) fprintf(out, "      weight: {range: %u}\n", (unsigned)f->weight.v.u8);
        else if (f->weight.type == FWP_UINT64) fprintf(out, "      weight: {uint64: %llu}\n", (unsigned long long)f->weight.v.u64);
        fprintf(out, "      action: %s\n", policy_action(f->action_type));
        if (f->action_type & FWP_ACTION_FLAG_CALLOUT) {
            fputs("      callout: ", out);
            y_ref(x, 2, &f->action_key.key);
            fputc('\n', out);
        }
        uint32_t fl = f->flags.bits &
                      ~(FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT | FWPM_FILTER_FLAG_DISABLED | FWPM_FILTER_FLAG_INDEXED);
        if (fl) {
            fputs("      flags: ", out);
            y_flag_list(out, fl, FLAG_TABLE(filter_flag_names), "FWPM_FILTER_FLAG_");
            fputc('\n', out);
        }
        if (f->has_raw_context && f->raw_context) fprintf(out, "      context: %llu\n", (unsigned long long)f->raw_context);
        if (f->num_conditions) {
            fputs("      conditions:\n", out);
            for (uint32_t c = 0; c < f->num_conditions; c++) {
                fputs("        - ", out);
                y_condition(x, &f->conditions[c], l);
                fputc('\n', out);
            }
        }
    }
}

/* ---- the record ------------------------------------------------------------ */

static void r_flags(FILE *out, const wfp_import_flags *f, flag_table t)
{
    bool first = true;
    fputs("flags: [", out);
    for (size_t i = 0; i < t.n; i++) {
        if (!t.v[i].bit || !(f->bits & t.v[i].bit)) continue;
        fputs(first ? "" : ", ", out);
        fputs(t.v[i].name, out);
        first = false;
    }
    for (uint32_t i = 0; i < f->num_unknown; i++) {
        fputs(first ? "" : ", ", out);
        y_str(out, f->unknown[i]);
        first = false;
    }
    fputc(']', out);
}

static void r_name(FILE *out, const char *display, const char *exported)
{
    if (!exported || !strcmp(display, exported)) return;
    fputs(", name: ", out);
    y_str(out, display);
}

/* The XML part of the record: objects the policy does not carry, each
 * line behind "#~   ". */
static bool write_record_xml(export_ctx *x)
{
    const wfp_import_model *m = x->m;
    /* write into a temporary file, then copy it out with the prefix */
    FILE *mem = tmpfile();
    if (!mem) return false;
    fputs("<wfpimport>\n", mem);
    fputs("  <providers>\n", mem);
    for (size_t i = 0; i < m->num_providers; i++)
        if (!x->prov[i].name) write_provider_xml(&m->providers[i], mem, 2);
    fputs("  </providers>\n  <subLayers>\n", mem);
    for (size_t i = 0; i < m->num_sublayers; i++)
        if (!x->subl[i].name) write_sublayer_xml(&m->sublayers[i], mem, 2);
    fputs("  </subLayers>\n  <callouts>\n", mem);
    for (size_t i = 0; i < m->num_callouts; i++)
        if (!x->call[i].name) write_callout_xml(&m->callouts[i], mem, 2);
    fputs("  </callouts>\n  <filters>\n", mem);
    for (size_t i = 0; i < m->num_filters; i++)
        if (!x->filt[i].name) write_filter_xml(&m->filters[i], mem, 2);
    fputs("  </filters>\n  <layers>\n", mem);
    for (size_t i = 0; i < m->num_layers; i++) write_layer_xml(&m->layers[i], mem, 2);
    fputs("  </layers>\n</wfpimport>\n", mem);
    /* one YAML string per line: any character survives the comment */
    long len = ftell(mem);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    bool ok = buf && !ferror(mem);
    if (ok) {
        rewind(mem);
        size_t got = fread(buf, 1, (size_t)len, mem);
        buf[got] = 0;
        fputs("#~ xml:\n", x->out);
        for (char *line = buf; *line;) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = 0;
            fputs("#~   - ", x->out);
            y_str(x->out, line);
            fputc('\n', x->out);
            if (!nl) break;
            line = nl + 1;
        }
    }
    free(buf);
    fclose(mem);
    return ok;
}

static bool write_record(export_ctx *x, const size_t *order)
{
    const wfp_import_model *m = x->m;
    FILE *out = x->out;
    const char *src = m->source ? m->source : "";
    const char *slash = strrchr(src, '/');
    if (slash) src = slash + 1;
    fputs("\n# ---- import record -------------------------------------------------------\n"
          "# What the policy format cannot carry, for `wfpsim import` to read back\n"
          "# (wfp_import_read_export): Windows' filter ids, weights as Windows stored\n"
          "# them, flags the engine does not take, provider-context references, and\n"
          "# (as netsh XML) built-in objects and objects the engine cannot hold.\n", out);
    fputs("#~ wfpsim_import: 1\n", out);
    fprintf(out, "#~ format: %s\n", m->format == WFP_IMPORT_FORMAT_STATE ? "state"
                                   : m->format == WFP_IMPORT_FORMAT_FILTERS ? "filters" : "export");
    fputs("#~ source: ", out);
    y_str(out, src);
    fprintf(out, "\n#~ sessions: %zu\n#~ provider_contexts: %zu\n#~ other_sections: %zu\n", m->num_sessions,
            m->num_provider_contexts, m->num_other_sections);
    fputs("#~ providers:\n", out);
    for (size_t i = 0; i < m->num_providers; i++) {
        const wfp_import_provider *p = &m->providers[i];
        if (!x->prov[i].name && !p->synthesized) continue;
        fputs("#~   - {key: ", out);
        y_guid(out, &p->key.key);
        if (x->prov[i].name) fprintf(out, ", in: policy, pos: %zu, ", i);
        else fputs(", in: xml, ", out);
        r_flags(out, &p->flags, FLAG_TABLE(provider_flag_names));
        r_name(out, p->name, x->prov[i].name);
        if (p->synthesized) fputs(", synthesized: true", out);
        fputs("}\n", out);
    }
    fputs("#~ sublayers:\n", out);
    for (size_t i = 0; i < m->num_sublayers; i++) {
        const wfp_import_sublayer *s = &m->sublayers[i];
        if (!x->subl[i].name && !s->synthesized) continue;
        fputs("#~   - {key: ", out);
        y_guid(out, &s->key.key);
        if (x->subl[i].name) fprintf(out, ", in: policy, pos: %zu, ", i);
        else fputs(", in: xml, ", out);
        r_flags(out, &s->flags, FLAG_TABLE(sublayer_flag_names));
        fprintf(out, ", weight: %u", (unsigned)s->weight);
        r_name(out, s->name, x->subl[i].name);
        if (s->synthesized) fputs(", synthesized: true", out);
        fputs("}\n", out);
    }
    fputs("#~ callouts:\n", out);
    for (size_t i = 0; i < m->num_callouts; i++) {
        const wfp_import_callout *c = &m->callouts[i];
        if (!x->call[i].name && !c->synthesized) continue;
        fputs("#~   - {key: ", out);
        y_guid(out, &c->key.key);
        if (x->call[i].name) fprintf(out, ", in: policy, pos: %zu, ", i);
        else fputs(", in: xml, ", out);
        r_flags(out, &c->flags, FLAG_TABLE(callout_flag_names));
        fprintf(out, ", id: %lu", (unsigned long)c->callout_id);
        r_name(out, c->name, x->call[i].name);
        if (c->synthesized) fputs(", synthesized: true", out);
        fputs("}\n", out);
    }
    fputs("#~ filters:\n", out);
    for (size_t k = 0; k < m->num_filters; k++) {
        size_t i = order[k];
        const wfp_import_filter *f = &m->filters[i];
        if (!x->filt[i].name) continue;
        fputs("#~   - {key: ", out);
        y_guid(out, &f->key.key);
        fprintf(out, ", pos: %zu, id: %llu, weight: ", i, (unsigned long long)f->filter_id);
        if (f->weight.type == FWP_EMPTY) fputs("{type: FWP_EMPTY}", out);
        else if (f->weight.type == FWP_UINT8) fprintf(out, "{type: FWP_UINT8, value: %u}", (unsigned)f->weight.v.u8);
        else fprintf(out, "{type: FWP_UINT64, value: %llu}", (unsigned long long)f->weight.v.u64);
        if (f->has_effective_weight) fprintf(out, ", effective: %llu", (unsigned long long)f->effective_weight);
        fputs(", ", out);
        r_flags(out, &f->flags, FLAG_TABLE(filter_flag_names));
        if (f->has_raw_context) fprintf(out, ", raw_context: %llu", (unsigned long long)f->raw_context);
        if (f->has_provider_context) {
            fputs(", provider_context: ", out);
            if (f->provider_context.symbol) y_str(out, f->provider_context.symbol);
            else y_guid(out, &f->provider_context.key);
        }
        if (f->has_action_key && !(f->action_type & FWP_ACTION_FLAG_CALLOUT)) {
            fputs(", action_key: ", out);
            y_guid(out, &f->action_key.key);
        }
        r_name(out, f->name, x->filt[i].name);
        fputs("}\n", out);
    }
    return write_record_xml(x);
}

static void scenario_name_from(const char *source, char *buf, size_t n)
{
    const char *s = source ? source : "dump";
    const char *slash = strrchr(s, '/');
    if (slash) s = slash + 1;
    size_t k = (size_t)snprintf(buf, n, "import-");
    for (; *s && k + 1 < n; s++) {
        if (*s == '.' && strchr(s + 1, '.') == NULL) break; /* drop the extension */
        buf[k++] = isalnum((unsigned char)*s) || *s == '-' || *s == '_' ? *s : '-';
    }
    buf[k < n ? k : n - 1] = 0;
}

bool wfp_import_export_yaml(const wfp_import_model *m, const char *scenario_name, FILE *out)
{
    export_ctx x;
    wfp_engine *e = NULL;
    wfp_session *s = NULL;
    wfp_import_report r;
    size_t *order = NULL;
    bool ok = false;
    char sname[160];

    memset(&x, 0, sizeof x);
    x.m = m;
    x.out = out;
    if (!m || !out || !status_alloc(m, &x.st)) return false;
    /* what the engine takes goes into the policy: find out on a scratch engine */
    e = wfp_engine_create(NULL);
    wfp_session_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.name = "import";
    sd.admin = true;
    if (!e || wfp_session_open(e, &sd, &s) != ERROR_SUCCESS) goto done;
    if (!apply_ex(m, s, &r, NULL, &x.st)) goto done;
    if (!build_names(&x)) goto done;
    order = malloc((m->num_filters + 1) * sizeof *order);
    if (!order) goto done;
    for (size_t i = 0; i < m->num_filters; i++) order[i] = i;
    sort_filter_indexes(order, m->num_filters, m);

    if (!scenario_name) {
        scenario_name_from(m->source, sname, sizeof sname);
        scenario_name = sname;
    }
    const char *src = m->source ? m->source : "dump";
    const char *slash = strrchr(src, '/');
    if (slash) src = slash + 1;
    size_t nnot = 0;
    for (size_t i = 0; i < m->num_filters; i++) nnot += !x.filt[i].name;
    fprintf(out, "# Windows WFP state imported by `wfpsim import` from %s.\n", src);
    fputs("# Filters are listed in Windows' filter-id order; wfpsim numbers them in\n"
          "# that order, so ties between equal weights break as on Windows. Callouts\n"
          "# have no driver here (registered: false): their filters arbitrate as\n"
          "# filters of unregistered callouts. Weights wfpsim's automatic-weight model\n"
          "# does not reproduce are pinned to the effective weight Windows recorded.\n"
          "# docs/import.md explains the format; the import record at the end keeps\n"
          "# the rest.\n", out);
    fputs("wfpsim: 1\nname: ", out);
    y_str(out, scenario_name);
    char desc[1024];
    snprintf(desc, sizeof desc,
             "Windows WFP state from %s (%s): %zu providers, %zu sublayers, %zu callouts and %zu filters in the "
             "policy; %zu filters the engine cannot hold and the built-in objects are kept in the import record.",
             src, m->format == WFP_IMPORT_FORMAT_FILTERS ? "netsh wfp show filters" : "netsh wfp show state",
             r.providers_added, r.sublayers_added, r.callouts_added, r.filters_added, nnot);
    fputs("\ndescription: ", out);
    y_str(out, desc);
    fputc('\n', out);
    write_policy(&x, order);
    ok = write_record(&x, order) && !ferror(out);
done:
    free(order);
    free_names(&x);
    status_free(&x.st);
    wfp_session_close(s);
    wfp_engine_destroy(e);
    return ok;
}

/* ======================================================================
 * 8. export → model, and comparing models
 * ====================================================================== */

static bool copy_value(arena *a, wfp_value *dst, const wfp_value *src)
{
    *dst = *src;
    switch (src->type) {
    case FWP_BYTE_BLOB_TYPE:
    case FWP_SID:
    case FWP_SECURITY_DESCRIPTOR_TYPE:
    case FWP_TOKEN_INFORMATION_TYPE:
    case FWP_TOKEN_ACCESS_INFORMATION_TYPE:
    case FWP_UNICODE_STRING_TYPE:
        dst->v.blob.data = src->v.blob.size ? arena_memdup(a, src->v.blob.data, src->v.blob.size) : NULL;
        return !src->v.blob.size || dst->v.blob.data;
    default: return true;
    }
}

static bool copy_blob(arena *a, wfp_byte_blob *dst, const wfp_byte_blob *src)
{
    dst->size = src->size;
    dst->data = src->size ? arena_memdup(a, src->data, src->size) : NULL;
    return !src->size || dst->data;
}

static wfp_import_ref plain_ref(const wfp_guid *k)
{
    wfp_import_ref r;
    memset(&r, 0, sizeof r);
    r.key = *k;
    r.resolved = true;
    return r;
}

typedef struct reader {
    mstate st;
    wfp_engine *e;
    wfp_session *s;
    wfp_policy *p;
    wfp_yaml_doc *doc, *rdoc;
    wfp_yaml_errors yerr;
    /* how many objects of each kind came from the policy */
    size_t np, ns, nc, nf;
    /* their places in the dump's order (the record's pos:) */
    size_t *ppos, *spos, *cpos, *fpos;
} reader;

static bool rfail(reader *r, const char *fmt, ...) WFP_YAML_PRINTF(2, 3);
static bool rfail(reader *r, const char *fmt, ...)
{
    va_list ap;
    if (r->st.failed) return false;
    va_start(ap, fmt);
    vsnprintf(r->st.err, r->st.errn, fmt, ap);
    va_end(ap);
    r->st.failed = true;
    return false;
}

static bool key_of_item(reader *r, const wfp_yaml_node *item, wfp_guid *k)
{
    const wfp_yaml_node *kn = wfp_yaml_map_get(item, "key");
    if (!kn || kn->kind != WFP_YAML_SCALAR || !wfp_guid_parse(kn->text, k))
        return rfail(r, "%s:%u: an exported object needs its key: GUID", item->file ? item->file : "export",
                     (unsigned)item->line);
    return true;
}

static const char *adup(reader *r, const char *s)
{
    if (!s) return NULL;
    const char *d = arena_strdup(&r->st.ar, s);
    if (!d) oom(&r->st);
    return d;
}

static bool read_policy_objects(reader *r, const wfp_yaml_node *policy)
{
    wfp_import_model *m = r->st.m;
    const wfp_yaml_node *list;
    wfp_guid k;

    if ((list = wfp_yaml_map_get(policy, "providers")) && list->kind == WFP_YAML_SEQUENCE)
        for (size_t i = 0; i < list->count; i++) {
            if (!key_of_item(r, list->items[i], &k)) return false;
            const wfp_provider *p = wfp_engine_provider_by_key(r->e, &k);
            if (!p) return rfail(r, "provider %u of the export is not in the engine", (unsigned)i + 1);
            if (!grow((void **)&m->providers, &r->st.cap_providers, m->num_providers, sizeof *m->providers)) return oom(&r->st);
            wfp_import_provider *d = &m->providers[m->num_providers++];
            memset(d, 0, sizeof *d);
            d->key = plain_ref(&p->key);
            d->name = adup(r, p->display.name);
            d->description = adup(r, p->display.description);
            d->flags.bits = p->flags;
            d->service_name = adup(r, p->service_name);
            if (!copy_blob(&r->st.ar, &d->data, &p->provider_data)) return oom(&r->st);
        }
    if ((list = wfp_yaml_map_get(policy, "sublayers")) && list->kind == WFP_YAML_SEQUENCE)
        for (size_t i = 0; i < list->count; i++) {
            if (!key_of_item(r, list->items[i], &k)) return false;
            const wfp_sublayer *s = wfp_engine_sublayer_by_key(r->e, &k);
            if (!s) return rfail(r, "sublayer %u of the export is not in the engine", (unsigned)i + 1);
            if (!grow((void **)&m->sublayers, &r->st.cap_sublayers, m->num_sublayers, sizeof *m->sublayers)) return oom(&r->st);
            wfp_import_sublayer *d = &m->sublayers[m->num_sublayers++];
            memset(d, 0, sizeof *d);
            d->key = plain_ref(&s->key);
            d->name = adup(r, s->display.name);
            d->description = adup(r, s->display.description);
            d->flags.bits = s->flags;
            d->has_provider = s->provider_key != NULL;
            if (s->provider_key) d->provider = plain_ref(s->provider_key);
            d->weight = s->weight;
            if (!copy_blob(&r->st.ar, &d->data, &s->provider_data)) return oom(&r->st);
        }
    if ((list = wfp_yaml_map_get(policy, "callouts")) && list->kind == WFP_YAML_SEQUENCE)
        for (size_t i = 0; i < list->count; i++) {
            const wfp_callout *c = NULL;
            if (!key_of_item(r, list->items[i], &k)) return false;
            if (wfp_callout_get_by_key(r->s, &k, &c) != ERROR_SUCCESS || !c)
                return rfail(r, "callout %u of the export is not in the engine", (unsigned)i + 1);
            if (!grow((void **)&m->callouts, &r->st.cap_callouts, m->num_callouts, sizeof *m->callouts)) return oom(&r->st);
            wfp_import_callout *d = &m->callouts[m->num_callouts++];
            memset(d, 0, sizeof *d);
            d->key = plain_ref(&c->key);
            d->name = adup(r, c->display.name);
            d->description = adup(r, c->display.description);
            d->flags.bits = c->flags;
            d->has_provider = c->provider_key != NULL;
            if (c->provider_key) d->provider = plain_ref(c->provider_key);
            d->layer = plain_ref(&c->applicable_layer);
            d->callout_id = c->callout_id;
            if (!copy_blob(&r->st.ar, &d->data, &c->provider_data)) return oom(&r->st);
        }
    if ((list = wfp_yaml_map_get(policy, "filters")) && list->kind == WFP_YAML_SEQUENCE)
        for (size_t i = 0; i < list->count; i++) {
            const wfp_filter *f = NULL;
            if (!key_of_item(r, list->items[i], &k)) return false;
            if (wfp_filter_get_by_key(r->s, &k, &f) != ERROR_SUCCESS || !f)
                return rfail(r, "filter %u of the export is not in the engine", (unsigned)i + 1);
            if (!grow((void **)&m->filters, &r->st.cap_filters, m->num_filters, sizeof *m->filters)) return oom(&r->st);
            wfp_import_filter *d = &m->filters[m->num_filters++];
            memset(d, 0, sizeof *d);
            d->key = plain_ref(&f->key);
            d->name = adup(r, f->display.name);
            d->description = adup(r, f->display.description);
            d->flags.bits = f->flags;
            d->has_provider = f->provider_key != NULL;
            if (f->provider_key) d->provider = plain_ref(f->provider_key);
            if (!copy_blob(&r->st.ar, &d->data, &f->provider_data)) return oom(&r->st);
            d->layer = plain_ref(&f->layer_key);
            d->sublayer = plain_ref(&f->sublayer_key);
            d->weight = f->weight;
            d->num_conditions = f->num_conditions;
            if (f->num_conditions) {
                d->conditions = arena_alloc(&r->st.ar, f->num_conditions * sizeof *d->conditions);
                if (!d->conditions) return oom(&r->st);
            }
            for (uint32_t c = 0; c < f->num_conditions; c++) {
                wfp_import_condition *ic = &d->conditions[c];
                const wfp_condition_value *sv = &f->conditions[c].value;
                ic->field = plain_ref(&f->conditions[c].field_key);
                ic->match_type = f->conditions[c].match_type;
                ic->value = *sv;
                bool ok = true;
                if (sv->type < FWP_SINGLE_DATA_TYPE_MAX) ok = copy_value(&r->st.ar, &ic->value.u.value, &sv->u.value);
                else if (sv->type == FWP_RANGE_TYPE)
                    ok = copy_value(&r->st.ar, &ic->value.u.range.low, &sv->u.range.low) &&
                         copy_value(&r->st.ar, &ic->value.u.range.high, &sv->u.range.high);
                if (!ok) return oom(&r->st);
            }
            d->action_type = f->action.type;
            d->has_action_key = (f->action.type & FWP_ACTION_FLAG_CALLOUT) != 0;
            if (d->has_action_key) d->action_key = plain_ref(&f->action.key);
            d->has_raw_context = f->raw_context != 0;
            d->raw_context = f->raw_context;
            d->filter_id = f->filter_id;
            d->has_effective_weight = f->effective_weight.type == FWP_UINT64;
            d->effective_weight = f->effective_weight.v.u64;
        }
    r->np = m->num_providers;
    r->ns = m->num_sublayers;
    r->nc = m->num_callouts;
    r->nf = m->num_filters;
    r->ppos = malloc((r->np + 1) * sizeof *r->ppos);
    r->spos = malloc((r->ns + 1) * sizeof *r->spos);
    r->cpos = malloc((r->nc + 1) * sizeof *r->cpos);
    r->fpos = malloc((r->nf + 1) * sizeof *r->fpos);
    if (!r->ppos || !r->spos || !r->cpos || !r->fpos) return oom(&r->st);
    memset(r->ppos, 0xff, (r->np + 1) * sizeof *r->ppos);
    memset(r->spos, 0xff, (r->ns + 1) * sizeof *r->spos);
    memset(r->cpos, 0xff, (r->nc + 1) * sizeof *r->cpos);
    memset(r->fpos, 0xff, (r->nf + 1) * sizeof *r->fpos);
    return !r->st.failed;
}

/* Record flags: names back to bits (unknown names kept). */
static bool record_flags(reader *r, const wfp_yaml_node *n, flag_table t, wfp_import_flags *out)
{
    memset(out, 0, sizeof *out);
    if (!n || n->kind != WFP_YAML_SEQUENCE) return rfail(r, "import record: flags must be a list");
    if (n->count > 64) return rfail(r, "import record: more than 64 flags");
    out->unknown = n->count ? arena_alloc(&r->st.ar, n->count * sizeof *out->unknown) : NULL;
    if (n->count && !out->unknown) return oom(&r->st);
    for (size_t i = 0; i < n->count; i++) {
        const wfp_yaml_node *it = n->items[i];
        bool known = false;
        if (it->kind != WFP_YAML_SCALAR) return rfail(r, "import record: a flag must be a name");
        for (size_t k = 0; k < t.n && !known; k++)
            if (!strcmp(it->text, t.v[k].name)) {
                out->bits |= t.v[k].bit;
                known = true;
            }
        if (!known && !(out->unknown[out->num_unknown++] = adup(r, it->text))) return false;
    }
    return true;
}

static bool rec_u64(reader *r, const wfp_yaml_node *map, const char *key, bool required, uint64_t *out, bool *present)
{
    const wfp_yaml_node *n = wfp_yaml_map_get(map, key);
    if (present) *present = n != NULL;
    if (!n) return required ? rfail(r, "import record:%u: '%s' missing", (unsigned)map->line, key) : true;
    if (n->kind != WFP_YAML_SCALAR || !parse_u64(n->text, out))
        return rfail(r, "import record:%u: '%s' must be a number", (unsigned)n->line, key);
    return true;
}

static bool rec_bool(const wfp_yaml_node *map, const char *key)
{
    const wfp_yaml_node *n = wfp_yaml_map_get(map, key);
    return n && n->kind == WFP_YAML_SCALAR && wfp_yaml_scalar_is(n, "true");
}

static bool rec_in_policy(const wfp_yaml_node *map)
{
    const wfp_yaml_node *n = wfp_yaml_map_get(map, "in");
    return !n || wfp_yaml_scalar_is(n, "policy");
}

static bool rec_key(reader *r, const wfp_yaml_node *map, wfp_guid *k)
{
    const wfp_yaml_node *n = wfp_yaml_map_get(map, "key");
    if (!n || n->kind != WFP_YAML_SCALAR || !wfp_guid_parse(n->text, k))
        return rfail(r, "import record:%u: an entry needs key: GUID", (unsigned)map->line);
    return true;
}

static const wfp_yaml_node *rec_list(const wfp_yaml_node *root, const char *key)
{
    const wfp_yaml_node *n = wfp_yaml_map_get(root, key);
    return n && n->kind == WFP_YAML_SEQUENCE ? n : NULL;
}

static bool overlay_record(reader *r, const wfp_yaml_node *root, bool xml_pass)
{
    wfp_import_model *m = r->st.m;
    const wfp_yaml_node *list, *n;
    wfp_guid k;
    uint64_t u;

    if ((list = rec_list(root, "providers")))
        for (size_t i = 0; i < list->count; i++) {
            const wfp_yaml_node *e = list->items[i];
            if (rec_in_policy(e) == xml_pass) continue;
            if (!rec_key(r, e, &k)) return false;
            size_t lo = xml_pass ? r->np : 0, hi = xml_pass ? m->num_providers : r->np;
            wfp_import_provider *p = NULL;
            for (size_t j = lo; j < hi && !p; j++)
                if (wfp_guid_eq(&m->providers[j].key.key, &k)) p = &m->providers[j];
            if (!p) return rfail(r, "import record:%u: no provider with that key", (unsigned)e->line);
            if (!xml_pass) {
                if (!rec_u64(r, e, "pos", true, &u, NULL) || u >= SIZE_MAX) return rfail(r, "import record: pos");
                r->ppos[p - m->providers] = (size_t)u;
            }
            if (!record_flags(r, wfp_yaml_map_get(e, "flags"), FLAG_TABLE(provider_flag_names), &p->flags)) return false;
            if ((n = wfp_yaml_map_get(e, "name")) && !(p->name = adup(r, n->text))) return false;
            p->synthesized = rec_bool(e, "synthesized");
        }
    if ((list = rec_list(root, "sublayers")))
        for (size_t i = 0; i < list->count; i++) {
            const wfp_yaml_node *e = list->items[i];
            if (rec_in_policy(e) == xml_pass) continue;
            if (!rec_key(r, e, &k)) return false;
            size_t lo = xml_pass ? r->ns : 0, hi = xml_pass ? m->num_sublayers : r->ns;
            wfp_import_sublayer *s = NULL;
            for (size_t j = lo; j < hi && !s; j++)
                if (wfp_guid_eq(&m->sublayers[j].key.key, &k)) s = &m->sublayers[j];
            if (!s) return rfail(r, "import record:%u: no sublayer with that key", (unsigned)e->line);
            if (!xml_pass) {
                if (!rec_u64(r, e, "pos", true, &u, NULL) || u >= SIZE_MAX) return rfail(r, "import record: pos");
                r->spos[s - m->sublayers] = (size_t)u;
            }
            if (!record_flags(r, wfp_yaml_map_get(e, "flags"), FLAG_TABLE(sublayer_flag_names), &s->flags)) return false;
            if (!rec_u64(r, e, "weight", true, &u, NULL) || u > UINT16_MAX) return rfail(r, "import record: sublayer weight");
            s->weight = (uint16_t)u;
            if ((n = wfp_yaml_map_get(e, "name")) && !(s->name = adup(r, n->text))) return false;
            s->synthesized = rec_bool(e, "synthesized");
        }
    if ((list = rec_list(root, "callouts")))
        for (size_t i = 0; i < list->count; i++) {
            const wfp_yaml_node *e = list->items[i];
            if (rec_in_policy(e) == xml_pass) continue;
            if (!rec_key(r, e, &k)) return false;
            size_t lo = xml_pass ? r->nc : 0, hi = xml_pass ? m->num_callouts : r->nc;
            wfp_import_callout *c = NULL;
            for (size_t j = lo; j < hi && !c; j++)
                if (wfp_guid_eq(&m->callouts[j].key.key, &k)) c = &m->callouts[j];
            if (!c) return rfail(r, "import record:%u: no callout with that key", (unsigned)e->line);
            if (!xml_pass) {
                if (!rec_u64(r, e, "pos", true, &u, NULL) || u >= SIZE_MAX) return rfail(r, "import record: pos");
                r->cpos[c - m->callouts] = (size_t)u;
            }
            if (!record_flags(r, wfp_yaml_map_get(e, "flags"), FLAG_TABLE(callout_flag_names), &c->flags)) return false;
            if (!rec_u64(r, e, "id", true, &u, NULL) || u > UINT32_MAX) return rfail(r, "import record: callout id");
            c->callout_id = (uint32_t)u;
            if ((n = wfp_yaml_map_get(e, "name")) && !(c->name = adup(r, n->text))) return false;
            c->synthesized = rec_bool(e, "synthesized");
        }
    if (xml_pass) return true;
    if ((list = rec_list(root, "filters"))) {
        uint64_t last_id = 0;
        for (size_t i = 0; i < list->count; i++) {
            const wfp_yaml_node *e = list->items[i];
            bool present;
            if (!rec_key(r, e, &k)) return false;
            wfp_import_filter *f = NULL;
            for (size_t j = 0; j < r->nf && !f; j++)
                if (wfp_guid_eq(&m->filters[j].key.key, &k) && r->fpos[j] == SIZE_MAX) f = &m->filters[j];
            if (!f) return rfail(r, "import record:%u: no filter with that key", (unsigned)e->line);
            if (!rec_u64(r, e, "pos", true, &u, NULL) || u >= SIZE_MAX) return rfail(r, "import record: pos");
            r->fpos[f - m->filters] = (size_t)u;
            if (!record_flags(r, wfp_yaml_map_get(e, "flags"), FLAG_TABLE(filter_flag_names), &f->flags)) return false;
            uint64_t engine_weight = f->effective_weight;
            if (!rec_u64(r, e, "id", true, &f->filter_id, NULL)) return false;
            /* wfpsim numbers filters in file order: Windows' ids must rise with it */
            if (f->filter_id < last_id)
                return rfail(r, "import record: filter ids are not in file order (%llu after %llu)",
                             (unsigned long long)f->filter_id, (unsigned long long)last_id);
            last_id = f->filter_id;
            const wfp_yaml_node *w = wfp_yaml_map_get(e, "weight");
            const wfp_yaml_node *wt = w ? wfp_yaml_map_get(w, "type") : NULL;
            uint32_t type;
            if (!wt || wt->kind != WFP_YAML_SCALAR || !wfp_data_type_from_name(wt->text, &type) ||
                (type != FWP_EMPTY && type != FWP_UINT8 && type != FWP_UINT64))
                return rfail(r, "import record:%u: weight needs type FWP_EMPTY, FWP_UINT8 or FWP_UINT64", (unsigned)e->line);
            memset(&f->weight, 0, sizeof f->weight);
            f->weight.type = type;
            if (type != FWP_EMPTY) {
                if (!rec_u64(r, w, "value", true, &u, NULL)) return false;
                if (type == FWP_UINT8) {
                    if (u > UINT8_MAX) return rfail(r, "import record: weight value");
                    f->weight.v.u8 = (uint8_t)u;
                } else {
                    f->weight.v.u64 = u;
                }
            }
            if (!rec_u64(r, e, "effective", false, &f->effective_weight, &f->has_effective_weight)) return false;
            if (f->has_effective_weight && f->effective_weight != engine_weight)
                return rfail(r, "filter %s (id %llu): wfpsim's effective weight 0x%016llx differs from Windows' 0x%016llx",
                             f->name, (unsigned long long)f->filter_id, (unsigned long long)engine_weight,
                             (unsigned long long)f->effective_weight);
            if (!f->has_effective_weight) f->effective_weight = 0;
            if (!rec_u64(r, e, "raw_context", false, &f->raw_context, &present)) return false;
            f->has_raw_context = present;
            if ((n = wfp_yaml_map_get(e, "provider_context"))) {
                if (n->kind != WFP_YAML_SCALAR) return rfail(r, "import record: provider_context");
                f->has_provider_context = true;
                ref_from_text(&r->st, n->text, R_CONTEXT, &f->provider_context);
                f->provider_context.resolved = true;
            }
            if ((n = wfp_yaml_map_get(e, "action_key"))) {
                if (n->kind != WFP_YAML_SCALAR || !wfp_guid_parse(n->text, &k)) return rfail(r, "import record: action_key");
                f->has_action_key = true;
                f->action_key = plain_ref(&k);
            }
            if ((n = wfp_yaml_map_get(e, "name")) && !(f->name = adup(r, n->text))) return false;
        }
        if (list->count != r->nf) return rfail(r, "import record: %zu filter entries for %zu filters", list->count, r->nf);
    }
    return !r->st.failed;
}

/* Puts objects back in the dump's order: the first `k` (from the policy)
 * go to their recorded places, the rest (from the record's XML, in dump
 * order already) fill the free places in turn. */
static bool reorder(reader *r, void *arr, size_t n, size_t elem, const size_t *pos, size_t k)
{
    unsigned char *tmp, *used;
    if (!n) return true;
    tmp = malloc(n * elem);
    used = calloc(n, 1);
    if (!tmp || !used) {
        free(tmp);
        free(used);
        return oom(&r->st);
    }
    for (size_t i = 0; i < k; i++) {
        if (pos[i] >= n || used[pos[i]]) {
            free(tmp);
            free(used);
            return rfail(r, "import record: pos %zu out of place", pos[i]);
        }
        memcpy(tmp + pos[i] * elem, (unsigned char *)arr + i * elem, elem);
        used[pos[i]] = 1;
    }
    size_t next = 0;
    for (size_t i = k; i < n; i++) {
        while (used[next]) next++;
        memcpy(tmp + next * elem, (unsigned char *)arr + i * elem, elem);
        used[next] = 1;
    }
    memcpy(arr, tmp, n * elem);
    free(tmp);
    free(used);
    return true;
}

/* Appends another model's objects (its arena moves along). */
static bool merge_model(reader *r, wfp_import_model *o)
{
    wfp_import_model *m = r->st.m;
#define APPEND(arr, num, cap)                                                             \
    for (size_t i = 0; i < o->num; i++) {                                                 \
        if (!grow((void **)&m->arr, &r->st.cap, m->num, sizeof *m->arr)) return oom(&r->st); \
        m->arr[m->num++] = o->arr[i];                                                     \
    }
    APPEND(providers, num_providers, cap_providers)
    APPEND(sublayers, num_sublayers, cap_sublayers)
    APPEND(callouts, num_callouts, cap_callouts)
    APPEND(filters, num_filters, cap_filters)
    APPEND(layers, num_layers, cap_layers)
#undef APPEND
    /* move o's arena blocks behind ours */
    ablock *b = o->arena_;
    while (b) {
        ablock *nx = b->next;
        b->next = NULL;
        if (!r->st.ar.head) r->st.ar.head = b;
        else {
            b->next = r->st.ar.head->next;
            r->st.ar.head->next = b;
        }
        b = nx;
    }
    o->arena_ = NULL;
    return true;
}

static char *record_text(const char *text, size_t len, size_t *out_len)
{
    char *buf = malloc(len + 2);
    size_t k = 0;
    if (!buf) return NULL;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && text[j] != '\n') j++;
        if (j - i >= 2 && text[i] == '#' && text[i + 1] == '~') {
            size_t from = i + 2;
            if (from < j && text[from] == ' ') from++;
            memcpy(buf + k, text + from, j - from);
            k += j - from;
            buf[k++] = '\n';
        }
        i = j + 1;
    }
    buf[k] = 0;
    *out_len = k;
    return buf;
}

wfp_import_model *wfp_import_read_export(const char *name, const char *text, size_t len, char *err, size_t n)
{
    reader r;
    char dummy[8];
    char *rtext = NULL, *xmltext = NULL;
    size_t rlen = 0;
    wfp_import_model *xm = NULL;
    if (!err || !n) {
        err = dummy;
        n = sizeof dummy;
    }
    err[0] = 0;
    memset(&r, 0, sizeof r);
    wfp_yaml_errors_init(&r.yerr);
    r.st.err = err;
    r.st.errn = n;
    r.st.m = calloc(1, sizeof *r.st.m);
    if (!name) name = "export";
    if (!r.st.m) {
        snprintf(err, n, "%s: out of memory", name);
        return NULL;
    }
    r.st.m->source = arena_strdup(&r.st.ar, name);
    r.doc = wfp_yaml_load_string(name, text, len, &r.yerr);
    if (!r.doc) {
        rfail(&r, "%s", wfp_yaml_errors_first(&r.yerr) ? wfp_yaml_errors_first(&r.yerr) : "unreadable YAML");
        goto out;
    }
    const wfp_yaml_node *root = wfp_yaml_doc_root(r.doc);
    const wfp_yaml_node *policy = wfp_yaml_map_get(root, "policy");
    wfp_session_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.name = "default";
    sd.admin = true;
    r.e = wfp_engine_create(NULL);
    r.p = wfp_policy_create();
    if (!r.e || !r.p || wfp_session_open(r.e, &sd, &r.s) != ERROR_SUCCESS) {
        oom(&r.st);
        goto out;
    }
    if (policy && !wfp_policy_apply(r.p, r.s, policy, &r.yerr)) {
        rfail(&r, "%s", wfp_yaml_errors_first(&r.yerr) ? wfp_yaml_errors_first(&r.yerr) : "the policy does not apply");
        goto out;
    }
    if (policy && !read_policy_objects(&r, policy)) goto out;
    rtext = record_text(text, len, &rlen);
    if (!rtext) {
        oom(&r.st);
        goto out;
    }
    r.rdoc = wfp_yaml_load_string("import record", rtext, rlen, &r.yerr);
    if (!r.rdoc) {
        rfail(&r, "%s", wfp_yaml_errors_first(&r.yerr) ? wfp_yaml_errors_first(&r.yerr) : "no import record");
        goto out;
    }
    const wfp_yaml_node *rec = wfp_yaml_doc_root(r.rdoc), *fmt, *xml;
    uint64_t u;
    if (!rec || rec->kind != WFP_YAML_MAPPING || !wfp_yaml_map_get(rec, "wfpsim_import")) {
        rfail(&r, "%s: no import record (#~ lines)", name);
        goto out;
    }
    fmt = wfp_yaml_map_get(rec, "format");
    r.st.m->format = fmt && wfp_yaml_scalar_is(fmt, "filters") ? WFP_IMPORT_FORMAT_FILTERS
                     : fmt && wfp_yaml_scalar_is(fmt, "export") ? WFP_IMPORT_FORMAT_EXPORT
                                                                : WFP_IMPORT_FORMAT_STATE;
    if (!rec_u64(&r, rec, "sessions", false, &u, NULL)) goto out;
    r.st.m->num_sessions = wfp_yaml_map_get(rec, "sessions") ? (size_t)u : 0;
    if (!rec_u64(&r, rec, "provider_contexts", false, &u, NULL)) goto out;
    r.st.m->num_provider_contexts = wfp_yaml_map_get(rec, "provider_contexts") ? (size_t)u : 0;
    if (!rec_u64(&r, rec, "other_sections", false, &u, NULL)) goto out;
    r.st.m->num_other_sections = wfp_yaml_map_get(rec, "other_sections") ? (size_t)u : 0;
    if (!overlay_record(&r, rec, false)) goto out;
    xml = wfp_yaml_map_get(rec, "xml");
    if (xml && xml->kind != WFP_YAML_SEQUENCE) {
        rfail(&r, "import record: xml must be a list of lines");
        goto out;
    }
    if (xml) {
        size_t total = 1;
        for (size_t i = 0; i < xml->count; i++) {
            if (xml->items[i]->kind != WFP_YAML_SCALAR) {
                rfail(&r, "import record: xml must be a list of lines");
                goto out;
            }
            total += xml->items[i]->length + 1;
        }
        xmltext = malloc(total);
        if (!xmltext) {
            oom(&r.st);
            goto out;
        }
        size_t k = 0;
        for (size_t i = 0; i < xml->count; i++) {
            memcpy(xmltext + k, xml->items[i]->text, xml->items[i]->length);
            k += xml->items[i]->length;
            xmltext[k++] = '\n';
        }
        xmltext[k] = 0;
        xm = wfp_import_parse_memory("import record xml", xmltext, k, err, n);
        if (!xm) {
            r.st.failed = true;
            goto out;
        }
        if (!merge_model(&r, xm)) goto out;
        if (!overlay_record(&r, rec, true)) goto out;
    }
    {
        wfp_import_model *m = r.st.m;
        if (!reorder(&r, m->providers, m->num_providers, sizeof *m->providers, r.ppos, r.np) ||
            !reorder(&r, m->sublayers, m->num_sublayers, sizeof *m->sublayers, r.spos, r.ns) ||
            !reorder(&r, m->callouts, m->num_callouts, sizeof *m->callouts, r.cpos, r.nc) ||
            !reorder(&r, m->filters, m->num_filters, sizeof *m->filters, r.fpos, r.nf))
            goto out;
    }
    classify_objects(r.st.m);
out:
    wfp_import_model_free(xm);
    free(rtext);
    free(xmltext);
    free(r.ppos);
    free(r.spos);
    free(r.cpos);
    free(r.fpos);
    wfp_yaml_doc_free(r.rdoc);
    wfp_yaml_doc_free(r.doc);
    wfp_yaml_errors_clear(&r.yerr);
    wfp_session_close(r.s);
    wfp_engine_destroy(r.e);
    wfp_policy_destroy(r.p);
    r.st.m->arena_ = r.st.ar.head;
    if (r.st.failed) {
        wfp_import_model_free(r.st.m);
        return NULL;
    }
    return r.st.m;
}

/* ---- comparing ---------------------------------------------------------- */

typedef struct cmpctx {
    char *why;
    size_t n;
} cmpctx;

static bool differ(cmpctx *c, const char *fmt, ...) WFP_YAML_PRINTF(2, 3);
static bool differ(cmpctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->why && c->n) vsnprintf(c->why, c->n, fmt, ap);
    va_end(ap);
    return false;
}

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return !strcmp(a, b);
}

static bool ref_eq(const wfp_import_ref *a, const wfp_import_ref *b)
{
    return wfp_guid_eq(&a->key, &b->key) && a->resolved == b->resolved;
}

static bool blob_eq(const wfp_byte_blob *a, const wfp_byte_blob *b)
{
    return a->size == b->size && (!a->size || !memcmp(a->data, b->data, a->size));
}

static bool flags_eq(const wfp_import_flags *a, const wfp_import_flags *b)
{
    if (a->bits != b->bits || a->num_unknown != b->num_unknown) return false;
    for (uint32_t i = 0; i < a->num_unknown; i++)
        if (!str_eq(a->unknown[i], b->unknown[i])) return false;
    return true;
}

static int cmp_guid_ptr(const wfp_guid *a, const wfp_guid *b)
{
    return wfp_guid_cmp(a, b);
}


/* By key (filters: then id); equal keys (only in a doctored dump) keep
 * their order in the model's array, which apply and export preserve: the
 * object the engine took comes first on both sides. */
#define CMP_BY_KEY(name, type)                                                  \
    static int name(const void *a, const void *b)                               \
    {                                                                           \
        const type *x = *(const type *const *)a, *y = *(const type *const *)b;  \
        int r = cmp_guid_ptr(&x->key.key, &y->key.key);                         \
        return r ? r : (x > y) - (x < y);                                       \
    }
CMP_BY_KEY(cmp_prov, wfp_import_provider)
CMP_BY_KEY(cmp_subl, wfp_import_sublayer)
CMP_BY_KEY(cmp_call, wfp_import_callout)
#undef CMP_BY_KEY
static int cmp_filt(const void *a, const void *b)
{
    const wfp_import_filter *x = *(const wfp_import_filter *const *)a, *y = *(const wfp_import_filter *const *)b;
    int r = cmp_guid_ptr(&x->key.key, &y->key.key);
    if (r) return r;
    if (x->filter_id != y->filter_id) return x->filter_id < y->filter_id ? -1 : 1;
    return (x > y) - (x < y);
}

static bool providers_equal(cmpctx *c, const wfp_import_model *a, const wfp_import_model *b)
{
    bool ok = true;
    if (a->num_providers != b->num_providers)
        return differ(c, "providers: %zu vs %zu", a->num_providers, b->num_providers);
    const wfp_import_provider **pa = malloc((a->num_providers + 1) * sizeof *pa);
    const wfp_import_provider **pb = malloc((b->num_providers + 1) * sizeof *pb);
    if (!pa || !pb) {
        free(pa);
        free(pb);
        return differ(c, "out of memory");
    }
    for (size_t i = 0; i < a->num_providers; i++) {
        pa[i] = &a->providers[i];
        pb[i] = &b->providers[i];
    }
    qsort((void *)pa, a->num_providers, sizeof *pa, cmp_prov);
    qsort((void *)pb, b->num_providers, sizeof *pb, cmp_prov);
    for (size_t i = 0; i < a->num_providers && ok; i++) {
        const wfp_import_provider *x = pa[i], *y = pb[i];
        char g[WFP_GUID_STRLEN];
        wfp_guid_format(&x->key.key, g);
        if (!ref_eq(&x->key, &y->key)) ok = differ(c, "provider %s: missing on one side", g);
        else if (!str_eq(x->name, y->name)) ok = differ(c, "provider %s: name '%s' vs '%s'", g, x->name, y->name);
        else if (!str_eq(x->description, y->description)) ok = differ(c, "provider %s: description", g);
        else if (!flags_eq(&x->flags, &y->flags)) ok = differ(c, "provider %s: flags", g);
        else if (!blob_eq(&x->data, &y->data)) ok = differ(c, "provider %s: provider data", g);
        else if (!str_eq(x->service_name, y->service_name)) ok = differ(c, "provider %s: service name", g);
        else if (x->builtin != y->builtin || x->synthesized != y->synthesized) ok = differ(c, "provider %s: built-in/synthesized", g);
    }
    free(pa);
    free(pb);
    return ok;
}

static bool sublayers_equal(cmpctx *c, const wfp_import_model *a, const wfp_import_model *b)
{
    bool ok = true;
    if (a->num_sublayers != b->num_sublayers)
        return differ(c, "sublayers: %zu vs %zu", a->num_sublayers, b->num_sublayers);
    const wfp_import_sublayer **pa = malloc((a->num_sublayers + 1) * sizeof *pa);
    const wfp_import_sublayer **pb = malloc((b->num_sublayers + 1) * sizeof *pb);
    if (!pa || !pb) {
        free(pa);
        free(pb);
        return differ(c, "out of memory");
    }
    for (size_t i = 0; i < a->num_sublayers; i++) {
        pa[i] = &a->sublayers[i];
        pb[i] = &b->sublayers[i];
    }
    qsort((void *)pa, a->num_sublayers, sizeof *pa, cmp_subl);
    qsort((void *)pb, b->num_sublayers, sizeof *pb, cmp_subl);
    for (size_t i = 0; i < a->num_sublayers && ok; i++) {
        const wfp_import_sublayer *x = pa[i], *y = pb[i];
        char g[WFP_GUID_STRLEN];
        wfp_guid_format(&x->key.key, g);
        if (!ref_eq(&x->key, &y->key)) ok = differ(c, "sublayer %s: missing on one side", g);
        else if (!str_eq(x->name, y->name)) ok = differ(c, "sublayer %s: name '%s' vs '%s'", g, x->name, y->name);
        else if (!str_eq(x->description, y->description)) ok = differ(c, "sublayer %s: description", g);
        else if (!flags_eq(&x->flags, &y->flags)) ok = differ(c, "sublayer %s: flags", g);
        else if (x->has_provider != y->has_provider || (x->has_provider && !ref_eq(&x->provider, &y->provider)))
            ok = differ(c, "sublayer %s: provider", g);
        else if (!blob_eq(&x->data, &y->data)) ok = differ(c, "sublayer %s: provider data", g);
        else if (x->weight != y->weight) ok = differ(c, "sublayer %s: weight %u vs %u", g, (unsigned)x->weight, (unsigned)y->weight);
        else if (x->builtin != y->builtin || x->synthesized != y->synthesized) ok = differ(c, "sublayer %s: built-in/synthesized", g);
    }
    free(pa);
    free(pb);
    return ok;
}

static bool callouts_equal(cmpctx *c, const wfp_import_model *a, const wfp_import_model *b)
{
    bool ok = true;
    if (a->num_callouts != b->num_callouts) return differ(c, "callouts: %zu vs %zu", a->num_callouts, b->num_callouts);
    const wfp_import_callout **pa = malloc((a->num_callouts + 1) * sizeof *pa);
    const wfp_import_callout **pb = malloc((b->num_callouts + 1) * sizeof *pb);
    if (!pa || !pb) {
        free(pa);
        free(pb);
        return differ(c, "out of memory");
    }
    for (size_t i = 0; i < a->num_callouts; i++) {
        pa[i] = &a->callouts[i];
        pb[i] = &b->callouts[i];
    }
    qsort((void *)pa, a->num_callouts, sizeof *pa, cmp_call);
    qsort((void *)pb, b->num_callouts, sizeof *pb, cmp_call);
    for (size_t i = 0; i < a->num_callouts && ok; i++) {
        const wfp_import_callout *x = pa[i], *y = pb[i];
        char g[WFP_GUID_STRLEN];
        wfp_guid_format(&x->key.key, g);
        if (!ref_eq(&x->key, &y->key)) ok = differ(c, "callout %s: missing on one side", g);
        else if (!str_eq(x->name, y->name)) ok = differ(c, "callout %s: name '%s' vs '%s'", g, x->name, y->name);
        else if (!str_eq(x->description, y->description)) ok = differ(c, "callout %s: description", g);
        else if (!flags_eq(&x->flags, &y->flags)) ok = differ(c, "callout %s: flags", g);
        else if (x->has_provider != y->has_provider || (x->has_provider && !ref_eq(&x->provider, &y->provider)))
            ok = differ(c, "callout %s: provider", g);
        else if (!blob_eq(&x->data, &y->data)) ok = differ(c, "callout %s: provider data", g);
        else if (!ref_eq(&x->layer, &y->layer)) ok = differ(c, "callout %s: layer", g);
        else if (x->callout_id != y->callout_id) ok = differ(c, "callout %s: id %lu vs %lu", g, (unsigned long)x->callout_id, (unsigned long)y->callout_id);
        else if (x->builtin != y->builtin || x->synthesized != y->synthesized || x->problems != y->problems)
            ok = differ(c, "callout %s: built-in/synthesized/problems", g);
    }
    free(pa);
    free(pb);
    return ok;
}

static bool filter_equal(cmpctx *c, const wfp_import_filter *x, const wfp_import_filter *y)
{
    char g[WFP_GUID_STRLEN];
    wfp_guid_format(&x->key.key, g);
    if (!ref_eq(&x->key, &y->key) || x->filter_id != y->filter_id)
        return differ(c, "filter %s (id %llu): missing on one side", g, (unsigned long long)x->filter_id);
#define FD(cond, what) \
    if (!(cond)) return differ(c, "filter %s (id %llu, '%s'): %s differs", g, (unsigned long long)x->filter_id, x->name, what)
    FD(str_eq(x->name, y->name), "name");
    FD(str_eq(x->description, y->description), "description");
    FD(flags_eq(&x->flags, &y->flags), "flags");
    FD(x->has_provider == y->has_provider && (!x->has_provider || ref_eq(&x->provider, &y->provider)), "provider");
    FD(blob_eq(&x->data, &y->data), "provider data");
    FD(ref_eq(&x->layer, &y->layer), "layer");
    FD(ref_eq(&x->sublayer, &y->sublayer), "sublayer");
    FD(wfp_value_equal(&x->weight, &y->weight), "weight");
    FD(x->num_conditions == y->num_conditions, "number of conditions");
    for (uint32_t i = 0; i < x->num_conditions; i++) {
        const wfp_import_condition *p = &x->conditions[i], *q = &y->conditions[i];
        FD(ref_eq(&p->field, &q->field), "a condition's field");
        FD(p->match_type == q->match_type, "a condition's match type");
        FD(str_eq(p->raw, q->raw), "a condition's unread value");
        FD(p->raw || wfp_condition_value_equal(&p->value, &q->value), "a condition value");
    }
    FD(x->action_type == y->action_type, "action");
    FD(x->has_action_key == y->has_action_key && (!x->has_action_key || ref_eq(&x->action_key, &y->action_key)),
       "action key");
    FD(x->has_raw_context == y->has_raw_context && x->raw_context == y->raw_context, "raw context");
    FD(x->has_provider_context == y->has_provider_context &&
           (!x->has_provider_context || ref_eq(&x->provider_context, &y->provider_context)),
       "provider context");
    FD(x->has_effective_weight == y->has_effective_weight &&
           (!x->has_effective_weight || x->effective_weight == y->effective_weight),
       "effective weight");
    FD(x->problems == y->problems, "problems");
#undef FD
    return true;
}

static bool filters_equal(cmpctx *c, const wfp_import_model *a, const wfp_import_model *b)
{
    bool ok = true;
    if (a->num_filters != b->num_filters) return differ(c, "filters: %zu vs %zu", a->num_filters, b->num_filters);
    const wfp_import_filter **pa = malloc((a->num_filters + 1) * sizeof *pa);
    const wfp_import_filter **pb = malloc((b->num_filters + 1) * sizeof *pb);
    if (!pa || !pb) {
        free(pa);
        free(pb);
        return differ(c, "out of memory");
    }
    for (size_t i = 0; i < a->num_filters; i++) {
        pa[i] = &a->filters[i];
        pb[i] = &b->filters[i];
    }
    qsort((void *)pa, a->num_filters, sizeof *pa, cmp_filt);
    qsort((void *)pb, b->num_filters, sizeof *pb, cmp_filt);
    for (size_t i = 0; i < a->num_filters && ok; i++) ok = filter_equal(c, pa[i], pb[i]);
    free(pa);
    free(pb);
    return ok;
}

bool wfp_import_model_equal(const wfp_import_model *a, const wfp_import_model *b, char *why, size_t n)
{
    cmpctx c = {why, n};
    if (why && n) why[0] = 0;
    if (!a || !b) return differ(&c, "a model is missing");
    if (a->format != b->format) return differ(&c, "format %u vs %u", (unsigned)a->format, (unsigned)b->format);
    if (a->num_sessions != b->num_sessions || a->num_provider_contexts != b->num_provider_contexts ||
        a->num_other_sections != b->num_other_sections)
        return differ(&c, "section counts differ (sessions %zu/%zu, provider contexts %zu/%zu, other %zu/%zu)",
                      a->num_sessions, b->num_sessions, a->num_provider_contexts, b->num_provider_contexts,
                      a->num_other_sections, b->num_other_sections);
    if (a->num_layers != b->num_layers) return differ(&c, "layers: %zu vs %zu", a->num_layers, b->num_layers);
    for (size_t i = 0; i < a->num_layers; i++) {
        const wfp_import_layer *x = &a->layers[i], *y = &b->layers[i];
        if (!ref_eq(&x->key, &y->key) || x->layer_id != y->layer_id || x->num_fields != y->num_fields)
            return differ(&c, "layer %zu differs", i + 1);
        for (uint32_t k = 0; k < x->num_fields; k++)
            if (!ref_eq(&x->fields[k], &y->fields[k])) return differ(&c, "layer %zu: field %u differs", i + 1, (unsigned)k + 1);
    }
    return providers_equal(&c, a, b) && sublayers_equal(&c, a, b) && callouts_equal(&c, a, b) &&
           filters_equal(&c, a, b);
}
