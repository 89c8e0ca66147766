/* graph.c — `wfpsim graph`: WFP arbitration as Graphviz pictures.
 *
 * Every view is first written as DOT text by this file (so the text is
 * ours and stable: nodes named by filter id and position, attributes in a
 * fixed order, no pointers or times), then handed to Graphviz (agmemread,
 * gvLayout "dot", gvRenderData) only for layout and rendering. Labels are
 * Graphviz HTML-like labels, every piece of outside text escaped.
 *
 * The packet and journey views come from a scenario run observed call by
 * call (wfp_scenario_run_keep): the packet view of a call is built inside
 * the observer, while the engine holds exactly the filters that call saw.
 *
 * "Unreachable" is a sufficient test, not a complete one: filter g is
 * unreachable when an earlier active PERMIT/BLOCK filter f of the same
 * sublayer matches everything g matches, which we prove field by field:
 * every field f tests, g tests too, and each of g's conditions on it lies
 * inside one of f's (identical conditions; integer intervals from
 * equal/range/greater/less and IPv4 masks; IPv6 prefixes; flags all-set /
 * none-set masks). f's conditions on one field must be adjacent so the
 * OR reading (grouped or adjacent-only) does not matter. */
#include "graph.h"

#include "policy.h"
#include "scenario.h"
#include "wfp_host.h"

#include <cgraph.h> /* -I from pkg-config libcgraph */
#include <gvc.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text buffer ---------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_grow(sbuf *b, size_t extra)
{
    if (b->oom) return;
    if (b->n + extra + 1 <= b->cap) return;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->n + extra + 1) ncap *= 2;
    char *np = realloc(b->p, ncap);
    if (!np) {
        b->oom = true;
        return;
    }
    b->p = np;
    b->cap = ncap;
}

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->oom) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

#if defined(__GNUC__)
static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sb_grow(b, (size_t)n);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* Text for an HTML-like label: markup characters escaped, control
 * characters replaced. */
static void sb_html(sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        default:
            if (c < 0x20 || c == 0x7f) sb_putn(b, "?", 1);
            else sb_putn(b, s, 1);
            break;
        }
    }
}

/* At most `max` characters (UTF-8 aware) of s; longer text is cut with
 * "…" at the end, or at the start when `keep_tail` (paths). */
static void sb_trunc(sbuf *t, const char *s, size_t max, bool keep_tail)
{
    size_t chars = 0, len = strlen(s);
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) chars++;
    if (chars <= max) {
        sb_puts(t, s);
        return;
    }
    size_t want = max > 1 ? max - 1 : 1, seen = 0;
    if (keep_tail) {
        size_t i = len;
        while (i > 0 && seen < want) {
            i--;
            if (((unsigned char)s[i] & 0xc0) != 0x80) seen++;
        }
        const char *sep = strchr(s + i, '\\'); /* a path: cut at a separator */
        if (sep && sep[1]) i = (size_t)(sep - s);
        sb_puts(t, "\xe2\x80\xa6");
        sb_puts(t, s + i);
    } else {
        size_t i = 0;
        for (; i < len; i++) {
            if (((unsigned char)s[i] & 0xc0) != 0x80) {
                if (seen == want) break;
                seen++;
            }
        }
        sb_putn(t, s, i);
        sb_puts(t, "\xe2\x80\xa6");
    }
}

/* The same, escaped for an HTML-like label. */
static void sb_html_trunc(sbuf *b, const char *s, size_t max, bool keep_tail)
{
    sbuf t = {0};
    sb_trunc(&t, s, max, keep_tail);
    if (t.oom) b->oom = true;
    else sb_html(b, t.p);
    free(t.p);
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool contains_icase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (!n) return true;
    for (; hay && *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return false;
}

/* ---- names ------------------------------------------------------------------ */

static const char *layer_short(const wfp_layer_info *l)
{
    return strncmp(l->name, "FWPM_LAYER_", 11) ? l->name : l->name + 11;
}

static const char *strip_prefix(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) ? s : s + n;
}

/* A string the model owns (names built from GUIDs, condition text). */
typedef struct arena {
    char **items;
    size_t n, cap;
    bool oom;
} arena;

static const char *arena_keep(arena *a, char *s)
{
    if (!s) {
        a->oom = true;
        return "";
    }
    if (a->n == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 64;
        char **ni = realloc(a->items, ncap * sizeof *ni);
        if (!ni) {
            free(s);
            a->oom = true;
            return "";
        }
        a->items = ni;
        a->cap = ncap;
    }
    a->items[a->n++] = s;
    return s;
}

static void arena_free(arena *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->items[i]);
    free(a->items);
}

static const char *guid_text(arena *a, const wfp_guid *g)
{
    char buf[WFP_GUID_STRLEN];
    wfp_guid_format(g, buf);
    return arena_keep(a, xstrdup(buf));
}

static const char *filter_name(arena *a, const wfp_policy *p, const wfp_filter *f)
{
    const char *n = wfp_policy_filter_name(p, f->filter_id);
    if (n) return n;
    if (f->display.name && *f->display.name) return f->display.name;
    char buf[32];
    snprintf(buf, sizeof buf, "#%" PRIu64, f->filter_id);
    return arena_keep(a, xstrdup(buf));
}

static const char *provider_name(arena *a, wfp_engine *e, const wfp_policy *p, const wfp_guid *key)
{
    if (!key) return NULL;
    const char *n = wfp_policy_name_of_key(p, WFP_POLICY_PROVIDER, key);
    if (n) return strip_prefix(n, "FWPM_PROVIDER_");
    const wfp_provider *pr = wfp_engine_provider_by_key(e, key);
    if (pr && pr->display.name && *pr->display.name) return pr->display.name;
    return guid_text(a, key);
}

static const char *sublayer_name(arena *a, wfp_engine *e, const wfp_policy *p, const wfp_guid *key)
{
    const char *n = wfp_policy_name_of_key(p, WFP_POLICY_SUBLAYER, key);
    if (n) return strip_prefix(n, "FWPM_SUBLAYER_");
    const wfp_sublayer *s = wfp_engine_sublayer_by_key(e, key);
    if (s && s->display.name && *s->display.name) return s->display.name;
    return guid_text(a, key);
}

static const char *callout_name(arena *a, const wfp_policy *p, const wfp_guid *key)
{
    const char *n = wfp_policy_name_of_key(p, WFP_POLICY_CALLOUT, key);
    if (n) return strip_prefix(n, "FWPM_CALLOUT_");
    return guid_text(a, key);
}

/* ---- conditions as text ----------------------------------------------------- */

static const char *const FLAG_NAMES[32] = {
    "loopback", "ipsec_secured", "reauthorize", "wildcard_bind", "raw_endpoint", "fragment",
    "fragment_group", "ipsec_natt_reclassify", "requires_ale_classify", "implicit_bind", "reassembled",
    NULL, NULL, NULL, "name_app_specified", "promiscuous", "auth_fw", "reclassify",
    "outbound_pass_thru", "inbound_pass_thru", "connection_redirected", "proxy_connection",
    "appcontainer_loopback", "non_appcontainer_loopback", "reserved", "honoring_policy_authorize",
};

static const char *match_op(uint32_t match, uint32_t value_type)
{
    if (value_type == FWP_V4_ADDR_MASK || value_type == FWP_V6_ADDR_MASK || value_type == FWP_RANGE_TYPE)
        return match == FWP_MATCH_NOT_EQUAL ? "not in" : "in";
    switch (match) {
    case FWP_MATCH_EQUAL: return "=";
    case FWP_MATCH_GREATER: return ">";
    case FWP_MATCH_LESS: return "<";
    case FWP_MATCH_GREATER_OR_EQUAL: return ">=";
    case FWP_MATCH_LESS_OR_EQUAL: return "<=";
    case FWP_MATCH_FLAGS_ALL_SET: return "has all of";
    case FWP_MATCH_FLAGS_ANY_SET: return "has any of";
    case FWP_MATCH_FLAGS_NONE_SET: return "has none of";
    case FWP_MATCH_EQUAL_CASE_INSENSITIVE: return "= (any case)";
    case FWP_MATCH_NOT_EQUAL: return "!=";
    case FWP_MATCH_PREFIX: return "prefix";
    case FWP_MATCH_NOT_PREFIX: return "not prefix";
    default: return "?";
    }
}

static void fmt_ipv4(sbuf *o, uint32_t a)
{
    sb_printf(o, "%u.%u.%u.%u", (unsigned)(a >> 24), (unsigned)(a >> 16) & 255u, (unsigned)(a >> 8) & 255u,
              (unsigned)a & 255u);
}

static void fmt_value_for_field(sbuf *o, const wfp_layer_info *layer, const wfp_condition *c)
{
    int idx = layer ? wfp_catalog_field_index(layer, &c->field_key) : -1;
    uint32_t ftype = idx >= 0 ? layer->fields[idx].field_type : FWPM_FIELD_RAW_DATA;
    const wfp_condition_info *ci = wfp_catalog_condition_by_key(&c->field_key);
    const char *fname = ci ? ci->name : "";
    const wfp_condition_value *v = &c->value;
    if (ftype == FWPM_FIELD_IP_ADDRESS && v->type == FWP_UINT32) {
        fmt_ipv4(o, v->u.value.v.u32);
        return;
    }
    if (ftype == FWPM_FIELD_IP_ADDRESS && v->type == FWP_RANGE_TYPE && v->u.range.low.type == FWP_UINT32) {
        fmt_ipv4(o, v->u.range.low.v.u32);
        sb_puts(o, "-");
        fmt_ipv4(o, v->u.range.high.v.u32);
        return;
    }
    if (!strcmp(fname, "FWPM_CONDITION_FLAGS") && v->type == FWP_UINT32) {
        uint32_t x = v->u.value.v.u32;
        bool first = true;
        for (int bit = 0; bit < 32; bit++) {
            if (!(x & (1u << bit))) continue;
            if (!first) sb_puts(o, "|");
            first = false;
            if (FLAG_NAMES[bit]) sb_puts(o, FLAG_NAMES[bit]);
            else sb_printf(o, "0x%x", 1u << bit);
        }
        if (first) sb_puts(o, "0");
        return;
    }
    if (!strcmp(fname, "FWPM_CONDITION_IP_PROTOCOL") && v->type == FWP_UINT8) {
        switch (v->u.value.v.u8) {
        case 1: sb_puts(o, "icmp"); return;
        case 6: sb_puts(o, "tcp"); return;
        case 17: sb_puts(o, "udp"); return;
        case 58: sb_puts(o, "icmpv6"); return;
        default: break;
        }
    }
    if (!strcmp(fname, "FWPM_CONDITION_DIRECTION") && v->type == FWP_UINT32 && v->u.value.v.u32 <= 1) {
        sb_puts(o, v->u.value.v.u32 == FWP_DIRECTION_INBOUND ? "inbound" : "outbound");
        return;
    }
    if (ftype == FWPM_FIELD_FLAGS && v->type == FWP_UINT32) {
        sb_printf(o, "0x%" PRIx32, v->u.value.v.u32);
        return;
    }
    size_t need = wfp_condition_value_format(v, NULL, 0);
    char *t = malloc(need + 1);
    if (!t) {
        o->oom = true;
        return;
    }
    wfp_condition_value_format(v, t, need + 1);
    sb_puts(o, t);
    free(t);
}

#define COND_LINE_MAX 56
#define COND_VALUE_MAX 36
#define COND_LINES_MAX 5

/* One line per field (same-field conditions OR'ed: "IP_LOCAL_PORT = 80 or
 * 443"), as escaped HTML lines ending in <br align="left"/>. */
static void fmt_conditions(sbuf *out, const wfp_layer_info *layer, const wfp_filter *f)
{
    uint32_t lines = 0, fields = 0;
    for (uint32_t i = 0; i < f->num_conditions; i++) {
        bool seen = false;
        for (uint32_t j = 0; j < i && !seen; j++)
            seen = wfp_guid_eq(&f->conditions[j].field_key, &f->conditions[i].field_key);
        if (seen) continue;
        fields++;
        if (lines == COND_LINES_MAX) continue;
        sbuf line = {0};
        const wfp_condition_info *ci = wfp_catalog_condition_by_key(&f->conditions[i].field_key);
        if (ci) {
            sb_puts(&line, strip_prefix(ci->name, "FWPM_CONDITION_"));
        } else {
            char g[WFP_GUID_STRLEN];
            wfp_guid_format(&f->conditions[i].field_key, g);
            sb_puts(&line, g);
        }
        const char *prev_op = NULL;
        for (uint32_t j = i; j < f->num_conditions; j++) {
            const wfp_condition *c = &f->conditions[j];
            if (!wfp_guid_eq(&c->field_key, &f->conditions[i].field_key)) continue;
            const char *op = match_op(c->match_type, c->value.type);
            if (prev_op) sb_puts(&line, " or");
            if (!prev_op || strcmp(op, prev_op)) {
                sb_puts(&line, " ");
                sb_puts(&line, op);
            }
            sb_puts(&line, " ");
            sbuf val = {0};
            fmt_value_for_field(&val, layer, c);
            if (val.oom) line.oom = true;
            else sb_trunc(&line, val.p ? val.p : "", COND_VALUE_MAX, val.p && val.p[0] == '\\');
            free(val.p);
            prev_op = op;
        }
        if (line.oom) out->oom = true;
        else sb_html_trunc(out, line.p, COND_LINE_MAX, false);
        sb_puts(out, "<br align=\"left\"/>");
        free(line.p);
        lines++;
    }
    if (fields > lines) sb_printf(out, "+%" PRIu32 " more fields<br align=\"left\"/>", fields - lines);
}

/* ---- the layer model -------------------------------------------------------- */

typedef struct gfilt {
    const wfp_filter *f;
    size_t sub;
    const char *name, *provider, *callout;
    bool active;
    bool visible;
    long shadow; /* index of the filter that hides it; -1: reachable */
    const wfp_trace_step *step; /* packet view: NULL when not tried */
} gfilt;

typedef struct gsub {
    wfp_guid key;
    const char *name;
    uint16_t weight;
    size_t first, count, shown;
    const wfp_trace_sublayer *tr;
} gsub;

typedef struct gmodel {
    wfp_engine *engine;
    const wfp_policy *policy;
    const wfp_layer_info *layer;
    const wfp_graph_options *opt;
    const wfp_trace *trace;
    const wfp_verdict *verdict;
    gfilt *f;
    size_t nf;
    gsub *s;
    size_t ns;
    arena a;
} gmodel;

static bool is_terminating_static(const wfp_filter *f)
{
    return f->action.type == FWP_ACTION_PERMIT || f->action.type == FWP_ACTION_BLOCK;
}

static bool is_callout(const wfp_filter *f)
{
    return (f->action.type & FWP_ACTION_FLAG_CALLOUT) != 0;
}

static bool filter_hard(const wfp_filter *f)
{
    return f->action.type == FWP_ACTION_BLOCK || (f->flags & FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT);
}

static const gfilt *model_by_id(const gmodel *m, uint64_t id)
{
    for (size_t i = 0; i < m->nf; i++)
        if (m->f[i].f->filter_id == id) return &m->f[i];
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = ((const uint64_t *)a)[0], y = ((const uint64_t *)b)[0];
    return x < y ? -1 : x > y;
}

static bool model_build(gmodel *m)
{
    const wfp_filter *const *list;
    uint32_t count;
    if (wfp_filter_list(m->engine, &m->layer->key, &list, &count)) return false;
    m->f = calloc(count ? count : 1, sizeof *m->f);
    m->s = calloc(count ? count : 1, sizeof *m->s);
    if (!m->f || !m->s) return false;
    bool bfe = wfp_engine_bfe_running(m->engine);
    for (uint32_t i = 0; i < count; i++) {
        const wfp_filter *f = list[i];
        gfilt *g = &m->f[m->nf++];
        wfp_guid sk = wfp_guid_is_null(&f->sublayer_key) ? m->layer->default_sublayer : f->sublayer_key;
        if (!m->ns || !wfp_guid_eq(&m->s[m->ns - 1].key, &sk)) {
            gsub *s = &m->s[m->ns++];
            const wfp_sublayer *sl = wfp_engine_sublayer_by_key(m->engine, &sk);
            s->key = sk;
            s->name = sublayer_name(&m->a, m->engine, m->policy, &sk);
            s->weight = sl ? sl->weight : 0;
            s->first = i;
        }
        g->f = f;
        g->sub = m->ns - 1;
        m->s[g->sub].count++;
        g->name = filter_name(&m->a, m->policy, f);
        g->provider = provider_name(&m->a, m->engine, m->policy, f->provider_key);
        g->callout = is_callout(f) ? callout_name(&m->a, m->policy, &f->action.key) : NULL;
        g->active = !(f->flags & FWPM_FILTER_FLAG_DISABLED) &&
                    (bfe ? !(f->flags & FWPM_FILTER_FLAG_BOOTTIME) : (f->flags & FWPM_FILTER_FLAG_BOOTTIME) != 0);
        g->shadow = -1;
        const char *ft = m->opt ? m->opt->filter_text : NULL;
        g->visible = !ft || !*ft || contains_icase(g->name, ft) || (g->provider && contains_icase(g->provider, ft));
    }
    /* unreachable: the first earlier active PERMIT/BLOCK filter of the sublayer that covers it */
    for (size_t si = 0; si < m->ns; si++) {
        const gsub *s = &m->s[si];
        for (size_t i = s->first; i < s->first + s->count; i++)
            for (size_t j = s->first; j < i && m->f[i].shadow < 0; j++)
                if (m->f[j].active && is_terminating_static(m->f[j].f) && wfp_filter_covers(m->f[j].f, m->f[i].f))
                    m->f[i].shadow = (long)j;
    }
    /* the trace: steps onto filters (by id), sublayer decisions onto sublayers (by key) */
    if (m->trace) {
        size_t nsteps = wfp_trace_step_count(m->trace);
        uint64_t(*idx)[2] = calloc(m->nf ? m->nf : 1, sizeof *idx);
        if (!idx) return false;
        for (size_t i = 0; i < m->nf; i++) {
            idx[i][0] = m->f[i].f->filter_id;
            idx[i][1] = i;
        }
        qsort(idx, m->nf, sizeof *idx, cmp_u64);
        for (size_t k = 0; k < nsteps; k++) {
            const wfp_trace_step *st = wfp_trace_step_at(m->trace, k);
            uint64_t key[2] = {st->filter_id, 0};
            uint64_t(*hit)[2] = bsearch(key, idx, m->nf, sizeof *idx, cmp_u64);
            if (hit) m->f[(*hit)[1]].step = st;
        }
        free(idx);
        for (size_t k = 0; k < wfp_trace_sublayer_count(m->trace); k++) {
            const wfp_trace_sublayer *ts = wfp_trace_sublayer_at(m->trace, k);
            for (size_t si = 0; si < m->ns; si++)
                if (wfp_guid_eq(&m->s[si].key, &ts->key)) m->s[si].tr = ts;
        }
        /* what the packet touched stays visible whatever --filter says */
        for (size_t i = 0; i < m->nf; i++)
            if (m->f[i].step && m->f[i].step->matched) m->f[i].visible = true;
    }
    for (size_t i = 0; i < m->nf; i++)
        if (m->f[i].visible) m->s[m->f[i].sub].shown++;
    return !m->a.oom;
}

static void model_free(gmodel *m)
{
    free(m->f);
    free(m->s);
    arena_free(&m->a);
}

/* ---- styles ----------------------------------------------------------------- */

#define C_PERMIT_FILL "#dff2d8"
#define C_PERMIT_LINE "#2e7d32"
#define C_BLOCK_FILL "#fadbd8"
#define C_BLOCK_LINE "#c62828"
#define C_CALLOUT_FILL "#dde7f7"
#define C_CALLOUT_LINE "#2f5597"
#define C_GREY_FILL "#f4f4f4"
#define C_GREY_LINE "#b5b5b5"
#define C_GREY_FONT "#8c8c8c"
#define C_EDGE "#9e9e9e"
#define C_PATH "#37474f"

static const char *fill_of_action(uint32_t a)
{
    if (a == FWP_ACTION_PERMIT) return C_PERMIT_FILL;
    if (a == FWP_ACTION_BLOCK) return C_BLOCK_FILL;
    return C_CALLOUT_FILL;
}

static const char *line_of_action(uint32_t a)
{
    if (a == FWP_ACTION_PERMIT) return C_PERMIT_LINE;
    if (a == FWP_ACTION_BLOCK) return C_BLOCK_LINE;
    return C_CALLOUT_LINE;
}

static const char *action_word(uint32_t a)
{
    switch (a) {
    case FWP_ACTION_PERMIT: return "PERMIT";
    case FWP_ACTION_BLOCK: return "BLOCK";
    case FWP_ACTION_CONTINUE: return "continue";
    case FWP_ACTION_NONE: return "none";
    case FWP_ACTION_NONE_NO_MATCH: return "no match";
    default: return "?";
    }
}

static const char *callout_kind(uint32_t a)
{
    if (a == FWP_ACTION_CALLOUT_TERMINATING) return "terminating";
    if (a == FWP_ACTION_CALLOUT_INSPECTION) return "inspection";
    return "unknown";
}

static void graph_header(sbuf *o, const char *rankdir)
{
    sb_puts(o, "digraph wfp {\n");
    sb_printf(o,
              "  graph [rankdir=%s, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=0.28, "
              "labelloc=t, labeljust=l, newrank=true, bgcolor=white, pad=0.2];\n",
              rankdir);
    sb_puts(o, "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, "
               "fillcolor=white, color=\"#555555\", margin=\"0.14,0.06\"];\n");
    sb_puts(o, "  edge [color=\"" C_EDGE "\", arrowsize=0.6, fontname=\"Helvetica\", fontsize=9];\n");
}

/* The key to the colours, as a table row of the heading. */
static void legend(sbuf *o, bool packet)
{
    sb_puts(o, "<tr><td align=\"left\"><font point-size=\"9\"><table border=\"0\" cellborder=\"1\" cellspacing=\"3\" cellpadding=\"2\"><tr>"
               "<td bgcolor=\"" C_PERMIT_FILL "\" color=\"" C_PERMIT_LINE "\">permit</td>"
               "<td bgcolor=\"" C_BLOCK_FILL "\" color=\"" C_BLOCK_LINE "\">block</td>"
               "<td bgcolor=\"" C_CALLOUT_FILL "\" color=\"" C_CALLOUT_LINE "\">callout</td>"
               "<td border=\"3\">thick border: hard</td>");
    if (packet)
        sb_puts(o, "<td bgcolor=\"" C_GREY_FILL "\" color=\"" C_GREY_LINE "\"><font color=\"" C_GREY_FONT
                   "\">grey: not evaluated</font></td>");
    else
        sb_puts(o, "<td bgcolor=\"" C_GREY_FILL "\" color=\"" C_GREY_LINE "\"><font color=\"" C_GREY_FONT
                   "\">grey, dashed: unreachable / inactive</font></td>");
    sb_puts(o, "</tr></table></font></td></tr>");
}

/* ---- layer and packet views ------------------------------------------------ */

/* The sublayer decisions in order, with what each did to the running
 * decision of the layer (spec §4.3 apply()). */
static void decision_text(const gmodel *m, size_t si, sbuf *o, const char **fill, const char **line,
                          int *pen, bool *dashed, const char *br)
{
    const wfp_trace_sublayer *ts = m->s[si].tr;
    *fill = C_GREY_FILL;
    *line = C_GREY_LINE;
    *pen = 1;
    *dashed = false;
    if (!ts || (ts->action != FWP_ACTION_PERMIT && ts->action != FWP_ACTION_BLOCK)) {
        sb_printf(o, "<font color=\"" C_GREY_FONT "\">sublayer decides nothing (%s)</font>",
                  ts && ts->action == FWP_ACTION_NONE ? "matched, no decision" : "no filter matched");
        return;
    }
    /* the decision standing before this sublayer */
    const wfp_trace_sublayer *cur = NULL;
    for (size_t k = 0; k < si; k++) {
        const wfp_trace_sublayer *p = m->s[k].tr;
        if (p && (p->effect == WFP_EFFECT_APPLIED || p->effect == WFP_EFFECT_VETO)) cur = p;
    }
    const gfilt *by = model_by_id(m, ts->filter_id);
    const gfilt *cur_by = cur ? model_by_id(m, cur->filter_id) : NULL;
    *fill = fill_of_action(ts->action);
    *line = line_of_action(ts->action);
    *pen = ts->hard ? 3 : 1;
    sb_printf(o, "<b>sublayer decides %s (%s)</b>", action_word(ts->action), ts->hard ? "hard" : "soft");
    if (by) {
        sb_puts(o, " by ");
        sb_html_trunc(o, by->name, 40, false);
    }
    sb_puts(o, br);
    switch (ts->effect) {
    case WFP_EFFECT_APPLIED:
        if (cur) {
            sb_printf(o, "applied: overrides the soft %s", action_word(cur->action));
            if (cur_by) {
                sb_puts(o, " of ");
                sb_html_trunc(o, cur_by->name, 40, false);
            }
        } else {
            sb_puts(o, "applied: the first decision");
        }
        break;
    case WFP_EFFECT_IGNORED:
        *fill = C_GREY_FILL;
        *dashed = true;
        sb_printf(o, "ignored: the hard %s", cur ? action_word(cur->action) : "decision");
        if (cur_by) {
            sb_puts(o, " of ");
            sb_html_trunc(o, cur_by->name, 40, false);
        }
        sb_puts(o, " stands");
        break;
    case WFP_EFFECT_VETO:
        *pen = 4;
        sb_puts(o, "<b>VETO</b>: overrides the hard PERMIT");
        if (cur_by) {
            sb_puts(o, " of ");
            sb_html_trunc(o, cur_by->name, 40, false);
        }
        break;
    default: break;
    }
}

static void filter_node(sbuf *o, const gmodel *m, const gfilt *g)
{
    const wfp_filter *f = g->f;
    bool packet = m->trace != NULL;
    const char *fill = fill_of_action(f->action.type), *line = line_of_action(f->action.type);
    const char *font = "black";
    const char *style = "rounded,filled";
    int pen = filter_hard(f) ? 3 : 1;
    bool grey = !g->active || (packet ? g->step == NULL : g->shadow >= 0);
    const char *dim = grey ? C_GREY_FONT : "#555555";
    sbuf l = {0};

    sb_puts(&l, "<b>");
    sb_html_trunc(&l, g->name, 44, false);
    sb_puts(&l, "</b><br align=\"left\"/>");
    if (is_callout(f)) {
        sb_puts(&l, "CALLOUT ");
        sb_html_trunc(&l, g->callout ? g->callout : "?", 30, false);
        sb_printf(&l, " (%s)", callout_kind(f->action.type));
        if (f->flags & FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT) sb_puts(&l, " · clear_action_right");
    } else if (f->action.type == FWP_ACTION_PERMIT) {
        sb_puts(&l, (f->flags & FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT) ? "PERMIT · hard (clear_action_right)"
                                                                    : "PERMIT · soft");
    } else if (f->action.type == FWP_ACTION_BLOCK) {
        sb_puts(&l, "BLOCK · hard");
    } else {
        sb_html(&l, wfp_action_type_name(f->action.type) ? wfp_action_type_name(f->action.type) : "?");
    }
    if (f->flags & FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED) sb_puts(&l, " · permit if unregistered");
    sb_puts(&l, "<br align=\"left\"/>");
    sb_printf(&l, "<font point-size=\"9\" color=\"%s\">weight 0x%016" PRIx64, dim,
              f->effective_weight.type == FWP_UINT64 ? f->effective_weight.v.u64 : 0);
    if (g->provider) {
        sb_puts(&l, " · ");
        sb_html_trunc(&l, g->provider, 28, false);
    }
    sb_puts(&l, "</font><br align=\"left\"/>");
    if (f->num_conditions) {
        sb_puts(&l, "<font point-size=\"9\">");
        fmt_conditions(&l, m->layer, f);
        sb_puts(&l, "</font>");
    } else {
        sb_puts(&l, "<font point-size=\"9\"><i>all traffic (no conditions)</i></font><br align=\"left\"/>");
    }
    if (!g->active) {
        sb_puts(&l, "<i>inactive (disabled or not enforced now)</i><br align=\"left\"/>");
        fill = C_GREY_FILL;
        line = C_GREY_LINE;
        font = C_GREY_FONT;
        style = "rounded,filled,dashed";
        pen = 1;
    } else if (g->shadow >= 0) {
        sb_puts(&l, "<i>unreachable: hidden by ");
        sb_html_trunc(&l, m->f[g->shadow].name, 32, false);
        sb_puts(&l, "</i><br align=\"left\"/>");
        if (!packet) {
            fill = C_GREY_FILL;
            line = C_GREY_LINE;
            font = C_GREY_FONT;
            style = "rounded,filled,dashed";
            pen = 1;
        }
    }
    if (packet) {
        const wfp_trace_step *st = g->step;
        if (!st) {
            sb_puts(&l, "<i>not evaluated</i><br align=\"left\"/>");
            fill = C_GREY_FILL;
            line = C_GREY_LINE;
            font = C_GREY_FONT;
            style = "rounded,filled,dashed";
            pen = 1;
        } else if (!st->matched) {
            sb_puts(&l, "<b>tried: no match</b><br align=\"left\"/>");
            fill = "white";
            pen = 1;
            style = "rounded,filled,dashed";
        } else {
            sb_puts(&l, "<b>matched");
            if (is_callout(f)) sb_puts(&l, st->callout_invoked ? ", callout ran" : ", callout not run");
            if (st->result == FWP_ACTION_PERMIT || st->result == FWP_ACTION_BLOCK) {
                sb_printf(&l, " → %s (%s)", action_word(st->result), st->hard ? "hard" : "soft");
                fill = fill_of_action(st->result);
                line = line_of_action(st->result);
                pen = st->hard ? 3 : 1;
            } else {
                sb_puts(&l, " → continue");
                fill = C_CALLOUT_FILL;
                line = C_CALLOUT_LINE;
                pen = 1;
            }
            sb_puts(&l, "</b><br align=\"left\"/>");
        }
    }
    sb_printf(o, "    f%" PRIu64 " [fillcolor=\"%s\", color=\"%s\", fontcolor=\"%s\", style=\"%s\", penwidth=%d, "
                 "label=<",
              f->filter_id, fill, line, font, style, pen);
    if (l.oom) o->oom = true;
    else sb_puts(o, l.p);
    sb_puts(o, ">];\n");
    free(l.p);
}

typedef struct counts {
    size_t n, permit, block, callout, hard, unreachable, inactive, tried, matched;
    uint64_t wmax, wmin;
    const gfilt *decider;
} counts;

static void count_add(counts *c, const gmodel *m, const gfilt *g)
{
    uint64_t w = g->f->effective_weight.type == FWP_UINT64 ? g->f->effective_weight.v.u64 : 0;
    if (!c->n || w > c->wmax) c->wmax = w;
    if (!c->n || w < c->wmin) c->wmin = w;
    c->n++;
    if (g->f->action.type == FWP_ACTION_PERMIT) c->permit++;
    else if (g->f->action.type == FWP_ACTION_BLOCK) c->block++;
    else c->callout++;
    if (filter_hard(g->f) && !is_callout(g->f)) c->hard++;
    if (!g->active) c->inactive++;
    else if (g->shadow >= 0) c->unreachable++;
    if (g->step) {
        c->tried++;
        if (g->step->matched) c->matched++;
    }
    const wfp_trace_sublayer *ts = m->s[g->sub].tr;
    if (ts && ts->filter_id == g->f->filter_id && ts->filter_id) c->decider = g;
}

static void counts_text(sbuf *l, const gmodel *m, const counts *c)
{
    sb_printf(l, "%zu filter%s:", c->n, c->n == 1 ? "" : "s");
    bool first = true;
    if (c->permit) {
        sb_printf(l, " %zu permit", c->permit);
        first = false;
    }
    if (c->block) {
        sb_printf(l, "%s %zu block", first ? "" : ",", c->block);
        first = false;
    }
    if (c->callout) sb_printf(l, "%s %zu callout", first ? "" : ",", c->callout);
    sb_puts(l, "<br align=\"left\"/>");
    sb_printf(l, "<font point-size=\"9\" color=\"#555555\">weights 0x%016" PRIx64 "<br align=\"left\"/>"
                 "   to 0x%016" PRIx64 "</font><br align=\"left\"/>",
              c->wmax, c->wmin);
    if (c->unreachable) sb_printf(l, "<i>%zu unreachable</i><br align=\"left\"/>", c->unreachable);
    if (c->inactive) sb_printf(l, "<i>%zu inactive</i><br align=\"left\"/>", c->inactive);
    if (m->trace) {
        sb_printf(l, "<b>tried %zu, matched %zu</b><br align=\"left\"/>", c->tried, c->matched);
        if (c->decider) {
            sb_printf(l, "<b>decided %s by ", action_word(m->s[c->decider->sub].tr->action));
            sb_html_trunc(l, c->decider->name, 36, false);
            sb_puts(l, "</b><br align=\"left\"/>");
        }
    }
}

static const char *counts_fill(const gmodel *m, const counts *c, const char **line, int *pen)
{
    *pen = 1;
    if (m->trace) {
        if (c->decider) {
            const wfp_trace_sublayer *ts = m->s[c->decider->sub].tr;
            *line = line_of_action(ts->action);
            *pen = ts->hard ? 3 : 1;
            return fill_of_action(ts->action);
        }
        *line = c->tried ? "#555555" : C_GREY_LINE;
        return c->tried ? "white" : C_GREY_FILL;
    }
    if (c->block && !c->permit && !c->callout) {
        *line = C_BLOCK_LINE;
        return C_BLOCK_FILL;
    }
    if (c->permit && !c->block && !c->callout) {
        *line = C_PERMIT_LINE;
        return C_PERMIT_FILL;
    }
    if (c->callout && !c->block && !c->permit) {
        *line = C_CALLOUT_LINE;
        return C_CALLOUT_FILL;
    }
    *line = "#555555";
    return "white";
}

/* A chain node: its id text, and whether the classification went through it. */
typedef struct cnode {
    char id[40];
    bool reached;
    bool terminated; /* a filter that ended its sublayer */
    size_t sub;      /* SIZE_MAX: start/end */
    bool decision;   /* the sublayer's decision node */
} cnode;

typedef struct chain {
    cnode *v;
    size_t n, cap;
    bool oom;
} chain;

static cnode *chain_add(chain *c, size_t sub)
{
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        cnode *nv = realloc(c->v, ncap * sizeof *nv);
        if (!nv) {
            c->oom = true;
            return NULL;
        }
        c->v = nv;
        c->cap = ncap;
    }
    cnode *n = &c->v[c->n++];
    memset(n, 0, sizeof *n);
    n->sub = sub;
    return n;
}

/* Past this many filters a layer is collapsed by provider whatever was
 * asked: dot would take minutes and nobody could read the result. */
#define WFP_GRAPH_MAX_NODES 300

static void emit_layer(sbuf *o, const gmodel *m)
{
    const wfp_graph_options *opt = m->opt;
    uint32_t collapse = opt ? opt->collapse : WFP_GRAPH_COLLAPSE_NONE;
    bool packet = m->trace != NULL;
    chain ch = {0};
    size_t shown_filters = 0;
    for (size_t si = 0; si < m->ns; si++) shown_filters += m->s[si].shown;
    bool auto_collapse = collapse == WFP_GRAPH_COLLAPSE_NONE && shown_filters > WFP_GRAPH_MAX_NODES;
    if (auto_collapse) collapse = WFP_GRAPH_COLLAPSE_PROVIDER;

    graph_header(o, "TB");
    /* heading */
    sb_puts(o, "  label=<<table border=\"0\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"1\">"
               "<tr><td align=\"left\"><font point-size=\"14\"><b>");
    sb_html(o, layer_short(m->layer));
    sb_puts(o, "</b></font>");
    if (opt && opt->title && *opt->title) {
        sb_puts(o, " — ");
        sb_html(o, opt->title);
    }
    sb_printf(o, "</td></tr><tr><td align=\"left\"><font point-size=\"10\">%zu filter%s in %zu sublayer%s", m->nf,
              m->nf == 1 ? "" : "s", m->ns, m->ns == 1 ? "" : "s");
    if (shown_filters != m->nf) sb_printf(o, " (%zu shown)", shown_filters);
    if (opt && opt->filter_text && *opt->filter_text) {
        sb_puts(o, " · filter \"");
        sb_html(o, opt->filter_text);
        sb_puts(o, "\"");
    }
    if (collapse == WFP_GRAPH_COLLAPSE_PROVIDER)
        sb_printf(o, " · collapsed by provider%s",
                  auto_collapse ? " (too many filters to draw one by one: --filter TEXT to focus)" : "");
    if (collapse == WFP_GRAPH_COLLAPSE_SUBLAYER) sb_puts(o, " · collapsed by sublayer");
    sb_puts(o, " · sublayers by weight, filters by effective weight: top first</font></td></tr>");
    legend(o, packet);
    sb_puts(o, "</table>>;\n");

    cnode *start = chain_add(&ch, SIZE_MAX);
    if (start) {
        snprintf(start->id, sizeof start->id, "start");
        start->reached = true;
    }
    sb_puts(o, "  start [shape=box, style=\"filled\", fillcolor=\"#37474f\", fontcolor=white, color=\"#37474f\", "
               "label=<classify at <b>");
    sb_html(o, layer_short(m->layer));
    sb_puts(o, "</b>>];\n");

    for (size_t si = 0; si < m->ns; si++) {
        const gsub *s = &m->s[si];
        if (!s->shown && !packet) continue;
        if (collapse == WFP_GRAPH_COLLAPSE_SUBLAYER) {
            counts c;
            memset(&c, 0, sizeof c);
            for (size_t i = s->first; i < s->first + s->count; i++)
                if (m->f[i].visible) count_add(&c, m, &m->f[i]);
            sbuf l = {0};
            const char *line;
            int pen;
            bool dashed = false;
            const char *fill = counts_fill(m, &c, &line, &pen);
            sb_puts(&l, "<b>sublayer ");
            sb_html_trunc(&l, s->name, 40, false);
            sb_printf(&l, "</b> · weight 0x%04x<br align=\"left\"/>", s->weight);
            c.decider = NULL; /* said below, with its effect */
            counts_text(&l, m, &c);
            if (s->shown != s->count) sb_printf(&l, "<i>%zu hidden by the filter text</i><br align=\"left\"/>",
                                                s->count - s->shown);
            if (packet) {
                decision_text(m, si, &l, &fill, &line, &pen, &dashed, "<br align=\"left\"/>");
                sb_puts(&l, "<br align=\"left\"/>");
            }
            cnode *n = chain_add(&ch, si);
            if (n) {
                snprintf(n->id, sizeof n->id, "s%zu", si);
                n->reached = true;
            }
            sb_printf(o, "  s%zu [fillcolor=\"%s\", color=\"%s\", penwidth=%d,%s label=<", si, fill, line, pen,
                      dashed ? " style=\"rounded,filled,dashed\"," : "");
            if (l.oom) o->oom = true;
            else sb_puts(o, l.p);
            sb_puts(o, ">];\n");
            free(l.p);
            continue;
        }
        sb_printf(o, "  subgraph cluster_s%zu {\n", si);
        sb_puts(o, "    graph [style=\"rounded\", color=\"#90a4ae\", penwidth=1.2, fontsize=11, label=<<b>sublayer ");
        sb_html_trunc(o, s->name, 48, false);
        sb_printf(o, "</b> · weight 0x%04x", s->weight);
        if (s->shown != s->count) sb_printf(o, " · %zu of %zu filters shown", s->shown, s->count);
        sb_puts(o, ">];\n");
        if (collapse == WFP_GRAPH_COLLAPSE_PROVIDER) {
            /* groups in order of their highest filter */
            bool *done = calloc(s->count ? s->count : 1, sizeof *done);
            if (!done) {
                o->oom = true;
                break;
            }
            size_t gi = 0;
            for (size_t i = s->first; i < s->first + s->count; i++) {
                if (done[i - s->first] || !m->f[i].visible) continue;
                const char *prov = m->f[i].provider;
                counts c;
                memset(&c, 0, sizeof c);
                for (size_t j = i; j < s->first + s->count; j++) {
                    const char *pj = m->f[j].provider;
                    if (done[j - s->first] || !m->f[j].visible) continue;
                    if ((prov == NULL) != (pj == NULL) || (prov && strcmp(prov, pj))) continue;
                    done[j - s->first] = true;
                    count_add(&c, m, &m->f[j]);
                }
                sbuf l = {0};
                const char *line;
                int pen;
                const char *fill = counts_fill(m, &c, &line, &pen);
                sb_puts(&l, "<b>");
                sb_html_trunc(&l, prov ? prov : "(no provider)", 40, false);
                sb_puts(&l, "</b><br align=\"left\"/>");
                counts_text(&l, m, &c);
                cnode *n = chain_add(&ch, si);
                if (n) {
                    snprintf(n->id, sizeof n->id, "g%zu_%zu", si, gi);
                    n->reached = c.tried > 0 || !packet;
                    n->terminated = c.decider != NULL;
                }
                sb_printf(o, "    g%zu_%zu [fillcolor=\"%s\", color=\"%s\", penwidth=%d, label=<", si, gi, fill,
                          line, pen);
                if (l.oom) o->oom = true;
                else sb_puts(o, l.p);
                sb_puts(o, ">];\n");
                free(l.p);
                gi++;
            }
            free(done);
        } else {
            for (size_t i = s->first; i < s->first + s->count; i++) {
                const gfilt *g = &m->f[i];
                if (!g->visible) continue;
                filter_node(o, m, g);
                cnode *n = chain_add(&ch, si);
                if (n) {
                    snprintf(n->id, sizeof n->id, "f%" PRIu64, g->f->filter_id);
                    n->reached = !packet || g->step != NULL;
                    n->terminated = g->step && g->step->matched &&
                                    (g->step->result == FWP_ACTION_PERMIT || g->step->result == FWP_ACTION_BLOCK);
                }
            }
        }
        if (packet) {
            sbuf l = {0};
            const char *fill, *line;
            int pen;
            bool dashed;
            decision_text(m, si, &l, &fill, &line, &pen, &dashed, "<br/>");
            sb_printf(o, "    d%zu [shape=box, style=\"filled%s\", fillcolor=\"%s\", color=\"%s\", penwidth=%d, "
                         "fontsize=9, label=<",
                      si, dashed ? ",dashed" : "", fill, line, pen);
            if (l.oom) o->oom = true;
            else sb_puts(o, l.p);
            sb_puts(o, ">];\n");
            free(l.p);
            cnode *n = chain_add(&ch, si);
            if (n) {
                snprintf(n->id, sizeof n->id, "d%zu", si);
                n->reached = true;
                n->decision = true;
            }
        }
        sb_puts(o, "  }\n");
    }

    /* the end: the verdict, or what happens when nothing decides */
    cnode *end = chain_add(&ch, SIZE_MAX);
    if (end) {
        snprintf(end->id, sizeof end->id, packet ? "verdict" : "end");
        end->reached = true;
    }
    if (packet) {
        const wfp_verdict *v = m->verdict;
        const gfilt *by = v ? model_by_id(m, v->filter_id) : NULL;
        bool decided = v && (v->action == FWP_ACTION_PERMIT || v->action == FWP_ACTION_BLOCK);
        const char *fill = !v ? C_GREY_FILL : v->permitted ? C_PERMIT_FILL : C_BLOCK_FILL;
        const char *line = !v ? C_GREY_LINE : v->permitted ? C_PERMIT_LINE : C_BLOCK_LINE;
        sb_printf(o, "  verdict [shape=box, style=\"filled\", fillcolor=\"%s\", color=\"%s\", penwidth=3, "
                     "fontsize=12, label=<<b>verdict: %s</b>",
                  fill, line, !v ? "?" : v->permitted ? "PERMIT" : "BLOCK");
        if (v && decided) {
            sb_printf(o, " (%s%s)", v->hard ? "hard" : "soft", v->vetoed ? ", veto" : "");
            if (by) {
                sb_puts(o, "<br/>by ");
                sb_html_trunc(o, by->name, 44, false);
                sb_puts(o, " in ");
                sb_html_trunc(o, m->s[by->sub].name, 32, false);
            }
        } else if (v) {
            sb_printf(o, "<br/>%s: nothing decided, the shim permits",
                      v->action == FWP_ACTION_NONE ? "FWP_ACTION_NONE" : "FWP_ACTION_NONE_NO_MATCH");
        }
        if (v) {
            sb_puts(o, "<br/><font point-size=\"9\">");
            sb_html(o, wfp_reason_message(v->reason) ? wfp_reason_message(v->reason) : "");
            if (v->absorb) sb_puts(o, " · absorbed (dropped silently)");
            sb_puts(o, "</font>");
        }
        sb_puts(o, ">];\n");
    } else {
        sb_puts(o, "  end [shape=box, style=\"filled\", fillcolor=\"#eceff1\", color=\"#90a4ae\", fontsize=9, "
                   "label=<end of layer: block wins over permit, a hard decision stands (only a callout vetoes it);<br/>"
                   "nothing decided: FWP_ACTION_NONE(_NO_MATCH), the shim permits>];\n");
    }

    /* the chain: the order of evaluation; in the packet view the path taken is dark */
    for (size_t i = 0; i + 1 < ch.n; i++) {
        const cnode *a = &ch.v[i], *b = &ch.v[i + 1];
        bool taken;
        if (!packet) {
            sb_printf(o, "  %s -> %s;\n", a->id, b->id);
            continue;
        }
        /* a terminating filter jumps to its sublayer's decision */
        taken = a->reached && b->reached && (!a->terminated || b->decision);
        if (taken)
            sb_printf(o, "  %s -> %s [color=\"" C_PATH "\", penwidth=2];\n", a->id, b->id);
        else
            sb_printf(o, "  %s -> %s [style=dotted];\n", a->id, b->id);
        if (a->terminated && !b->decision) {
            for (size_t j = i + 1; j < ch.n; j++)
                if (ch.v[j].decision && ch.v[j].sub == a->sub) {
                    sb_printf(o, "  %s -> %s [color=\"" C_PATH "\", penwidth=2, label=\" rest skipped\"];\n",
                              a->id, ch.v[j].id);
                    break;
                }
        }
    }
    sb_puts(o, "}\n");
    if (ch.oom) o->oom = true;
    free(ch.v);
}

int wfp_graph_layer_dot(wfp_engine *engine, const wfp_policy *policy, const wfp_layer_info *layer,
                        const wfp_trace *trace, const wfp_verdict *verdict, const wfp_graph_options *opt,
                        char **out, size_t *len)
{
    gmodel m;
    sbuf o = {0};
    int rc = 1;
    *out = NULL;
    *len = 0;
    if (!engine || !layer) return 2;
    memset(&m, 0, sizeof m);
    m.engine = engine;
    m.policy = policy;
    m.layer = layer;
    m.opt = opt;
    m.trace = trace;
    m.verdict = trace ? verdict : NULL;
    if (model_build(&m)) {
        emit_layer(&o, &m);
        if (!o.oom) {
            *out = o.p;
            *len = o.n;
            o.p = NULL;
            rc = 0;
        }
    }
    free(o.p);
    model_free(&m);
    return rc;
}

/* ---- journey view ----------------------------------------------------------- */

typedef struct gcall {
    char *host;
    uint16_t layer_id;
    uint32_t item, direction;
    bool reauth, loopback;
    wfp_verdict verdict;
    char *filter; /* deciding filter's name, or NULL */
    char *flow;   /* "tcp · remote 192.0.2.9:40000 → local 10.0.0.5:80", or NULL */
    int ports;    /* the flow text has ports */
    char *dot;    /* packet view of this call, when wanted */
} gcall;

static const wfp_value *field_value(const wfp_layer_info *l, const wfp_classify_request *req, const char *name)
{
    const wfp_condition_info *ci = wfp_catalog_condition_by_name(name);
    int i = ci ? wfp_catalog_field_index(l, &ci->key) : -1;
    if (i < 0 || (uint32_t)i >= req->num_values || req->values[i].type == FWP_EMPTY) return NULL;
    return &req->values[i];
}

static void fmt_endpoint(sbuf *o, const wfp_value *addr, const wfp_value *port)
{
    if (addr->type == FWP_UINT32) {
        fmt_ipv4(o, addr->v.u32);
    } else {
        char buf[64];
        wfp_value_format(addr, buf, sizeof buf);
        sb_printf(o, port ? "[%s]" : "%s", buf);
    }
    if (port && port->type == FWP_UINT16) sb_printf(o, ":%u", (unsigned)port->v.u16);
}

/* The packet as a layer saw it: protocol, addresses and ports. */
static char *flow_text(const wfp_layer_info *l, const wfp_classify_request *req, bool inbound, int *ports)
{
    const wfp_value *proto = field_value(l, req, "IP_PROTOCOL");
    const wfp_value *la = field_value(l, req, "IP_LOCAL_ADDRESS"), *ra = field_value(l, req, "IP_REMOTE_ADDRESS");
    const wfp_value *lp = field_value(l, req, "IP_LOCAL_PORT"), *rp = field_value(l, req, "IP_REMOTE_PORT");
    sbuf o = {0};
    *ports = lp && rp;
    if (!la || !ra) return NULL;
    if (proto && proto->type == FWP_UINT8) {
        switch (proto->v.u8) {
        case 1: sb_puts(&o, "icmp · "); break;
        case 6: sb_puts(&o, "tcp · "); break;
        case 17: sb_puts(&o, "udp · "); break;
        case 58: sb_puts(&o, "icmpv6 · "); break;
        default: sb_printf(&o, "protocol %u · ", (unsigned)proto->v.u8); break;
        }
    }
    sb_puts(&o, inbound ? "remote " : "local ");
    fmt_endpoint(&o, inbound ? ra : la, inbound ? rp : lp);
    sb_puts(&o, inbound ? " → local " : " → remote ");
    fmt_endpoint(&o, inbound ? la : ra, inbound ? lp : rp);
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    return o.p;
}

static const char *stage_of(const wfp_layer_info *l)
{
    const char *n = layer_short(l);
    if (strstr(n, "_DISCARD")) return "discard";
    if (!strncmp(n, "ALE_", 4)) return "ALE";
    if (strstr(n, "IPPACKET") || strstr(n, "IPFORWARD")) return "network";
    if (strstr(n, "TRANSPORT") || strstr(n, "ICMP_ERROR")) return "transport";
    if (strstr(n, "STREAM") || strstr(n, "DATAGRAM_DATA")) return "stream / datagram";
    if (strstr(n, "MAC_FRAME") || strstr(n, "VSWITCH")) return "MAC";
    if (strstr(n, "IPSEC") || strstr(n, "IKEEXT")) return "IPsec";
    return "other";
}

static const char *item_text(const gcall *c)
{
    switch (c->item) {
    case WFP_HOST_ITEM_FRAGMENT: return "fragment";
    case WFP_HOST_ITEM_REASSEMBLED: return "reassembled datagram";
    case WFP_HOST_ITEM_RESPONSE: return "stack response (RST / ICMP error)";
    case WFP_HOST_ITEM_SOCKET: return "socket event";
    default: return NULL;
    }
}

static void emit_journey(sbuf *o, const gcall *calls, size_t n, const wfp_packet_record *rec, const char *title)
{
    graph_header(o, "TB");
    sb_printf(o, "  label=<<b>packet %" PRIu64 "</b> — its classify calls in order", rec->number);
    if (title && *title) {
        sb_puts(o, " · ");
        sb_html(o, title);
    }
    sb_puts(o, "<br align=\"left\"/><font point-size=\"10\">one classification per layer; every layer must permit "
               "(no arbitration across layers)</font><br align=\"left\"/>>;\n");
    sb_printf(o, "  start [shape=box, style=\"filled\", fillcolor=\"#37474f\", fontcolor=white, color=\"#37474f\", "
                 "label=<packet %" PRIu64 " enters at <b>",
              rec->number);
    sb_html(o, n ? calls[0].host : rec->host ? rec->host : "?");
    sb_puts(o, "</b>");
    const gcall *flow = NULL;
    for (size_t i = 0; i < n; i++)
        if (calls[i].flow && (!flow || (calls[i].ports && !flow->ports))) flow = &calls[i];
    if (flow) {
        sb_puts(o, "<br/><font point-size=\"9\">");
        sb_html(o, flow->flow);
        sb_puts(o, "</font>");
    }
    sb_puts(o, ">];\n");
    size_t cluster = 0;
    for (size_t i = 0; i < n; i++) {
        const gcall *c = &calls[i];
        const wfp_layer_info *l = wfp_catalog_layer_by_id(c->layer_id);
        const char *stage = l ? stage_of(l) : "other";
        bool open_new = i == 0;
        if (i) {
            const wfp_layer_info *pl = wfp_catalog_layer_by_id(calls[i - 1].layer_id);
            open_new = strcmp(calls[i - 1].host, c->host) || strcmp(pl ? stage_of(pl) : "other", stage);
        }
        if (open_new) {
            if (i) sb_puts(o, "  }\n");
            sb_printf(o, "  subgraph cluster_j%zu {\n", cluster++);
            sb_puts(o, "    graph [style=\"rounded\", color=\"#90a4ae\", fontsize=10, label=<");
            sb_html(o, c->host);
            sb_puts(o, " · <b>");
            sb_html(o, stage);
            sb_puts(o, "</b>>];\n");
        }
        const wfp_verdict *v = &c->verdict;
        bool decided = v->action == FWP_ACTION_PERMIT || v->action == FWP_ACTION_BLOCK;
        const char *fill = !v->permitted ? C_BLOCK_FILL : decided ? C_PERMIT_FILL : "white";
        const char *line = !v->permitted ? C_BLOCK_LINE : decided ? C_PERMIT_LINE : "#555555";
        sb_printf(o, "    c%zu [fillcolor=\"%s\", color=\"%s\", penwidth=%d, label=<<b>%zu · ", i, fill, line,
                  decided && v->hard ? 3 : 1, i + 1);
        sb_html(o, l ? layer_short(l) : "?");
        sb_puts(o, "</b><br align=\"left\"/>");
        const char *it = l && l->base_layer_id >= 0 ? "the dropped packet, shown to the discard layer" : item_text(c);
        if (it || c->reauth || c->loopback) {
            sb_puts(o, "<font point-size=\"9\"><i>");
            bool first = true;
            if (it) {
                sb_puts(o, it);
                first = false;
            }
            if (c->reauth) {
                sb_puts(o, first ? "reauthorization" : " · reauthorization");
                first = false;
            }
            if (c->loopback) sb_puts(o, first ? "loopback" : " · loopback");
            sb_puts(o, "</i></font><br align=\"left\"/>");
        }
        if (decided) {
            sb_printf(o, "%s (%s%s)", action_word(v->action), v->hard ? "hard" : "soft", v->vetoed ? ", veto" : "");
            if (c->filter) {
                sb_puts(o, " by ");
                sb_html_trunc(o, c->filter, 40, false);
            }
        } else {
            sb_puts(o, v->action == FWP_ACTION_NONE ? "filters matched, none decided" : "no filter matched");
            if (l && l->base_layer_id < 0) sb_puts(o, " (permit)");
        }
        sb_puts(o, "<br align=\"left\"/>");
        if (v->absorb) sb_puts(o, "<i>absorbed by the callout</i><br align=\"left\"/>");
        sb_puts(o, ">];\n");
    }
    if (n) sb_puts(o, "  }\n");
    /* the fate */
    const char *fill = rec->permitted ? C_PERMIT_FILL : C_BLOCK_FILL;
    const char *line = rec->permitted ? C_PERMIT_LINE : C_BLOCK_LINE;
    sb_printf(o, "  fate [shape=box, style=\"filled\", fillcolor=\"%s\", color=\"%s\", penwidth=3, fontsize=11, "
                 "label=<<b>",
              fill, line);
    const wfp_layer_info *dl = rec->layer_id != UINT16_MAX ? wfp_catalog_layer_by_id(rec->layer_id) : NULL;
    if (rec->permitted) {
        sb_puts(o, rec->inbound ? "delivered" : "sent");
    } else if (rec->absorbed) {
        sb_puts(o, "absorbed by a callout");
    } else if (rec->drop_reason && strcmp(rec->drop_reason, "blocked_by_filter")) {
        sb_puts(o, "dropped by the stack: ");
        sb_html(o, rec->drop_reason);
    } else {
        sb_puts(o, "blocked");
    }
    sb_puts(o, "</b>");
    if (!rec->permitted && dl) {
        sb_puts(o, "<br/>at ");
        sb_html(o, layer_short(dl));
        if (rec->filter_name) {
            sb_puts(o, " by ");
            sb_html_trunc(o, rec->filter_name, 40, false);
        }
    }
    sb_puts(o, ">];\n");
    if (!n) sb_puts(o, "  start -> fate;\n");
    bool dropped = false;
    for (size_t i = 0; i < n; i++) {
        if (!i) sb_puts(o, "  start -> c0 [color=\"" C_PATH "\", penwidth=1.5];\n");
        bool was = dropped;
        dropped = dropped || !calls[i].verdict.permitted;
        const char *to = i + 1 < n ? NULL : "fate";
        char next[32];
        if (!to) {
            snprintf(next, sizeof next, "c%zu", i + 1);
            to = next;
        }
        if (dropped && !was)
            sb_printf(o, "  c%zu -> %s [color=\"" C_BLOCK_LINE "\", penwidth=2, label=\" dropped\"];\n", i, to);
        else if (dropped)
            sb_printf(o, "  c%zu -> %s [color=\"" C_BLOCK_LINE "\"];\n", i, to);
        else
            sb_printf(o, "  c%zu -> %s [color=\"" C_PATH "\", penwidth=1.5];\n", i, to);
    }
    sb_puts(o, "}\n");
}

/* ---- scenarios -------------------------------------------------------------- */

typedef struct gobs {
    uint64_t packet;
    bool want_dot;
    const char *host; /* packet view: only calls at this host */
    uint16_t cand[2]; /* packet view: only calls at these layers (ncand 0: any) */
    size_t ncand;
    const wfp_graph_options *opt;
    const char *scenario;
    gcall *calls;
    size_t n, cap;
    bool oom;
} gobs;

static void observe(void *ctx, const char *host, uint64_t packet, wfp_engine *engine, struct wfp_policy *policy,
                    const struct wfp_host_call *call, const wfp_classify_request *req, const wfp_verdict *verdict,
                    const wfp_trace *trace)
{
    gobs *ob = ctx;
    if (ob->oom || !packet || packet != ob->packet) return;
    if (ob->n == ob->cap) {
        size_t ncap = ob->cap ? ob->cap * 2 : 16;
        gcall *nc = realloc(ob->calls, ncap * sizeof *nc);
        if (!nc) {
            ob->oom = true;
            return;
        }
        ob->calls = nc;
        ob->cap = ncap;
    }
    gcall *c = &ob->calls[ob->n];
    memset(c, 0, sizeof *c);
    c->host = xstrdup(host);
    c->layer_id = verdict->layer_id;
    if (call) {
        c->layer_id = call->layer_id;
        c->item = call->item;
        c->direction = call->direction;
        c->reauth = call->reauth;
        c->loopback = call->loopback;
    }
    c->verdict = *verdict;
    const wfp_layer_info *cl = wfp_catalog_layer_by_id(c->layer_id);
    if (cl && req) c->flow = flow_text(cl, req, c->direction == FWP_DIRECTION_INBOUND, &c->ports);
    if (verdict->filter_id) {
        const char *fn = wfp_policy_filter_name(policy, verdict->filter_id);
        const wfp_filter *f = fn ? NULL : wfp_engine_filter_by_id(engine, verdict->filter_id);
        char buf[32];
        if (!fn && f && f->display.name) fn = f->display.name;
        if (!fn) {
            snprintf(buf, sizeof buf, "#%" PRIu64, verdict->filter_id);
            fn = buf;
        }
        c->filter = xstrdup(fn);
        if (!c->filter) ob->oom = true;
    }
    if (!c->host) ob->oom = true;
    ob->n++;
    bool layer_ok = !ob->ncand;
    for (size_t i = 0; i < ob->ncand; i++) layer_ok = layer_ok || ob->cand[i] == c->layer_id;
    if (!ob->want_dot || !layer_ok || (ob->host && strcmp(ob->host, host)) || ob->oom) return;
    const wfp_layer_info *layer = wfp_catalog_layer_by_id(c->layer_id);
    if (!layer) return;
    char title[512];
    wfp_graph_options opt = ob->opt ? *ob->opt : (wfp_graph_options){0};
    const char *extra = opt.title ? opt.title : ob->scenario;
    snprintf(title, sizeof title, "packet %" PRIu64 " at %s (call %zu)%s%s", packet, host, ob->n,
             extra ? " · " : "", extra ? extra : "");
    opt.title = title;
    size_t len;
    if (wfp_graph_layer_dot(engine, policy, layer, trace, verdict, &opt, &c->dot, &len)) ob->oom = true;
}

static void gobs_free(gobs *ob)
{
    for (size_t i = 0; i < ob->n; i++) {
        free(ob->calls[i].host);
        free(ob->calls[i].filter);
        free(ob->calls[i].flow);
        free(ob->calls[i].dot);
    }
    free(ob->calls);
}

/* A layer by name, also without the _V4/_V6 suffix: up to two candidates. */
static size_t layer_candidates(const char *name, uint16_t cand[2])
{
    const wfp_layer_info *l = wfp_catalog_layer_by_name(name);
    if (l) {
        cand[0] = l->id;
        return 1;
    }
    size_t n = 0, len = strlen(name);
    char *buf = malloc(len + 4);
    if (!buf) return 0;
    static const char *const suffix[2] = {"_V4", "_V6"};
    for (int i = 0; i < 2; i++) {
        memcpy(buf, name, len);
        memcpy(buf + len, suffix[i], 4);
        l = wfp_catalog_layer_by_name(buf);
        if (l) cand[n++] = l->id;
    }
    free(buf);
    return n;
}

/* A bare policy (no traffic): applied to a fresh engine, layer view only. */
static int policy_layer_dot(const wfp_graph_request *req, const wfp_layer_info *layer, char **out, size_t *len,
                            char *err, size_t errlen)
{
    wfp_yaml_errors ye;
    wfp_yaml_doc *doc = NULL;
    wfp_engine *engine = NULL;
    wfp_policy *policy = NULL;
    wfp_session *s = NULL;
    int rc = 2;
    wfp_yaml_errors_init(&ye);
    const wfp_yaml_node *pol = wfp_policy_file_load(req->path, &doc, &ye);
    if (!pol) {
        set_err(err, errlen, "%s", wfp_yaml_errors_first(&ye) ? wfp_yaml_errors_first(&ye) : "unusable policy");
        goto out;
    }
    engine = wfp_engine_create(NULL);
    policy = wfp_policy_create();
    if (!engine || !policy) {
        rc = 1;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    wfp_session_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.name = "default";
    sd.admin = true;
    sd.user_sid = "S-1-5-18";
    if (wfp_session_open(engine, &sd, &s)) {
        rc = 1;
        set_err(err, errlen, "cannot open a session: %s", wfp_engine_last_error(engine));
        goto out;
    }
    if (!wfp_policy_apply(policy, s, pol, &ye)) {
        set_err(err, errlen, "%s", wfp_yaml_errors_first(&ye) ? wfp_yaml_errors_first(&ye) : "unusable policy");
        goto out;
    }
    rc = wfp_graph_layer_dot(engine, policy, layer, NULL, NULL, &req->options, out, len);
    if (rc) set_err(err, errlen, "out of memory");
out:
    wfp_engine_destroy(engine); /* the engine calls into the policy: it goes first */
    wfp_policy_destroy(policy);
    wfp_yaml_doc_free(doc);
    wfp_yaml_errors_clear(&ye);
    return rc;
}

static bool is_scenario_file(const char *path)
{
    wfp_yaml_errors ye;
    wfp_yaml_errors_init(&ye);
    wfp_yaml_doc *doc = wfp_yaml_load_file(path, &ye);
    bool yes = false;
    if (doc) {
        const wfp_yaml_node *root = wfp_yaml_doc_root(doc);
        yes = root && root->kind == WFP_YAML_MAPPING && wfp_yaml_map_get(root, "wfpsim") != NULL;
    }
    wfp_yaml_doc_free(doc);
    wfp_yaml_errors_clear(&ye);
    return yes;
}

int wfp_graph_dot(const wfp_graph_request *req, char **out, size_t *len, char *err, size_t errlen)
{
    uint16_t cand[2] = {0, 0};
    size_t ncand = 0;
    uint64_t pkt = req->journey ? req->journey : req->packet;
    bool journey = req->journey != 0;
    int rc = 2;
    *out = NULL;
    *len = 0;
    if (err && errlen) err[0] = '\0';
    if (!req->path) {
        set_err(err, errlen, "no scenario file");
        return 2;
    }
    if (req->layer && !journey) {
        ncand = layer_candidates(req->layer, cand);
        if (!ncand) {
            set_err(err, errlen, "no layer named '%s' ('wfpsim layers' lists them)", req->layer);
            return 2;
        }
    } else if (!pkt) {
        set_err(err, errlen, "which layer? --layer NAME (or --packet N / --journey N)");
        return 2;
    }
    if (!is_scenario_file(req->path)) {
        if (pkt) {
            set_err(err, errlen, "%s: the packet and journey views need a scenario (a file with 'wfpsim: 1' and traffic)",
                    req->path);
            return 2;
        }
        return policy_layer_dot(req, wfp_catalog_layer_by_id(cand[0]), out, len, err, errlen);
    }

    wfp_yaml_errors ye;
    wfp_yaml_errors_init(&ye);
    wfp_scenario *sc = wfp_scenario_load(req->path, &ye);
    if (!sc) {
        set_err(err, errlen, "%s", wfp_yaml_errors_first(&ye) ? wfp_yaml_errors_first(&ye) : "unusable scenario");
        wfp_yaml_errors_clear(&ye);
        return 2;
    }
    wfp_yaml_errors_clear(&ye);

    gobs ob;
    memset(&ob, 0, sizeof ob);
    ob.packet = pkt;
    ob.want_dot = pkt && !journey;
    ob.host = req->host;
    ob.ncand = ncand;
    memcpy(ob.cand, cand, sizeof cand);
    ob.opt = &req->options;
    ob.scenario = wfp_scenario_name(sc);
    wfp_run_options ro = {false};
    wfp_scenario_result *r = NULL;
    wfp_scenario_state *st = wfp_scenario_run_keep(sc, &ro, pkt ? observe : NULL, &ob, &r);
    if (!r) {
        rc = 1;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    if (!st) {
        set_err(err, errlen, "%s", wfp_scenario_result_reason(r) ? wfp_scenario_result_reason(r) : "setup failed");
        goto out;
    }
    if (ob.oom) {
        rc = 1;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    if (!pkt) {
        wfp_engine *e = wfp_scenario_state_engine(st, req->host);
        if (!e) {
            set_err(err, errlen, "no host named '%s'", req->host);
            goto out;
        }
        wfp_graph_options opt = req->options;
        if (!opt.title) opt.title = wfp_scenario_name(sc);
        rc = wfp_graph_layer_dot(e, wfp_scenario_state_policy(st, req->host), wfp_catalog_layer_by_id(cand[0]),
                                 NULL, NULL, &opt, out, len);
        if (rc) set_err(err, errlen, "out of memory");
        goto out;
    }
    if (pkt > wfp_scenario_result_packet_count(r)) {
        set_err(err, errlen, "no packet %" PRIu64 ": the scenario has %zu", pkt, wfp_scenario_result_packet_count(r));
        goto out;
    }
    const wfp_packet_record *rec = wfp_scenario_result_packet(r, (size_t)(pkt - 1));
    if (journey) {
        sbuf o = {0};
        emit_journey(&o, ob.calls, ob.n, rec, req->options.title ? req->options.title : wfp_scenario_name(sc));
        if (o.oom) {
            free(o.p);
            rc = 1;
            set_err(err, errlen, "out of memory");
            goto out;
        }
        *out = o.p;
        *len = o.n;
        rc = 0;
        goto out;
    }
    /* packet view: the call asked for (first at the layer), else the deciding one (last at its layer) */
    long pick = -1;
    for (size_t i = 0; i < ob.n; i++) {
        if (!ob.calls[i].dot) continue;
        if (ncand) {
            pick = (long)i;
            break;
        }
        if (ob.calls[i].layer_id == rec->layer_id || pick < 0 || ob.calls[pick].layer_id != rec->layer_id)
            pick = (long)i;
    }
    if (pick < 0) {
        set_err(err, errlen, "packet %" PRIu64 " was not classified%s%s%s%s", pkt, ncand ? " at " : "",
                ncand ? req->layer : "", req->host ? " at host " : "", req->host ? req->host : "");
        goto out;
    }
    *out = ob.calls[pick].dot;
    *len = strlen(*out);
    ob.calls[pick].dot = NULL;
    rc = 0;
out:
    gobs_free(&ob);
    wfp_scenario_state_free(st);
    wfp_scenario_result_free(r);
    wfp_scenario_free(sc);
    return rc;
}

/* ---- rendering -------------------------------------------------------------- */

const char *wfp_graph_format_from_path(const char *path)
{
    static const char *const formats[] = {"svg", "png", "pdf", "dot"};
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot) return NULL;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        const char *f = formats[i];
        size_t k = 0;
        while (f[k] && dot[1 + k] && tolower((unsigned char)dot[1 + k]) == f[k]) k++;
        if (!f[k] && !dot[1 + k]) return f;
    }
    if (!strcmp(dot, ".gv")) return "dot";
    return NULL;
}

struct wfp_graph_renderer {
    GVC_t *gvc;
};

wfp_graph_renderer *wfp_graph_renderer_create(void)
{
    wfp_graph_renderer *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->gvc = gvContext();
    if (!r->gvc) {
        free(r);
        return NULL;
    }
    return r;
}

void wfp_graph_renderer_destroy(wfp_graph_renderer *r)
{
    if (!r) return;
    gvFreeContext(r->gvc);
    free(r);
}

int wfp_graph_render_dot(wfp_graph_renderer *r, const char *dot, const char *format, char **out, size_t *len,
                         char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (!dot || !format) return 2;
    if (!strcmp(format, "dot")) {
        *out = xstrdup(dot);
        if (!*out) return 1;
        *len = strlen(dot);
        return 0;
    }
    GVC_t *gvc = r ? r->gvc : gvContext();
    if (!gvc) {
        set_err(err, errlen, "Graphviz: no context");
        return 1;
    }
    int rc = 1;
    Agraph_t *g = agmemread(dot);
    char *data = NULL;
    unsigned int n = 0;
    if (!g) {
        set_err(err, errlen, "Graphviz could not read the DOT text");
    } else if (gvLayout(gvc, g, "dot") != 0) {
        set_err(err, errlen, "Graphviz layout failed");
    } else {
        if (gvRenderData(gvc, g, format, &data, &n) != 0 || !data) {
            set_err(err, errlen, "Graphviz cannot render '%s'", format);
            rc = 2;
        } else {
            *out = malloc((size_t)n + 1);
            if (*out) {
                memcpy(*out, data, n);
                (*out)[n] = '\0';
                *len = n;
                rc = 0;
            }
        }
        if (data) gvFreeRenderData(data);
        gvFreeLayout(gvc, g);
    }
    if (g) agclose(g);
    if (!r) gvFreeContext(gvc);
    return rc;
}

int wfp_graph_render_with(wfp_graph_renderer *r, const wfp_graph_request *req, const char *format, char **out,
                          size_t *len, char *err, size_t errlen)
{
    char *dot = NULL;
    size_t dlen = 0;
    *out = NULL;
    *len = 0;
    int rc = wfp_graph_dot(req, &dot, &dlen, err, errlen);
    if (rc) return rc;
    if (!strcmp(format, "dot")) {
        *out = dot;
        *len = dlen;
        return 0;
    }
    rc = wfp_graph_render_dot(r, dot, format, out, len, err, errlen);
    free(dot);
    return rc;
}

int wfp_graph_render(const wfp_graph_request *req, const char *format, char **out, size_t *len, char *err,
                     size_t errlen)
{
    return wfp_graph_render_with(NULL, req, format, out, len, err, errlen);
}
