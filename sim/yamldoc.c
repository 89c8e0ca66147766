/* yamldoc.c — libyaml events to an immutable node tree; typed accessors.
 *
 * The tree lives in an arena owned by the document, so a node is never
 * freed on its own and aliases can simply share the anchored node. The
 * builder keeps a stack of open collections; each child carries its
 * "expanded weight" (nodes counted through aliases) and height, which is
 * how the node and depth caps hold even when aliases are nested. An alias
 * may only name a node that is complete, so alias cycles cannot be built. */
#if defined(_MSC_VER) && !defined(_CRT_SECURE_NO_WARNINGS)
#define _CRT_SECURE_NO_WARNINGS /* fopen, strerror: portable C, not "unsafe" */
#endif
#include "yamldoc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- small helpers ---------------------------------------------------- */

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

bool wfp_yaml_ascii_ieq(const char *a, const char *b)
{
    while (*a && lower((unsigned char)*a) == lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == 0 && *b == 0;
}

bool wfp_yaml_ascii_nieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return false;
        if (!a[i]) return true;
    }
    return true;
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

/* ---- errors ----------------------------------------------------------- */

void wfp_yaml_errors_init(wfp_yaml_errors *e)
{
    memset(e, 0, sizeof *e);
}

void wfp_yaml_errors_clear(wfp_yaml_errors *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->kept; i++) free(e->messages[i]);
    memset(e, 0, sizeof *e);
}

const char *wfp_yaml_errors_first(const wfp_yaml_errors *e)
{
    return e && e->kept ? e->messages[0] : NULL;
}

bool wfp_yaml_verror_at(wfp_yaml_errors *e, const char *file, uint32_t line, uint32_t column, const char *fmt,
                        va_list ap)
{
    char prefix[512], body[2048];
    int np, nb;
    char *msg;

    if (!e) return false;
    e->count++;
    if (e->kept >= WFP_YAML_ERRORS_KEPT) return false;
    if (file && line)
        np = snprintf(prefix, sizeof prefix, "%s:%u:%u: ", file, (unsigned)line, (unsigned)column);
    else if (file)
        np = snprintf(prefix, sizeof prefix, "%s: ", file);
    else
        np = snprintf(prefix, sizeof prefix, "%s", "");
    nb = vsnprintf(body, sizeof body, fmt, ap);
    if (np < 0 || nb < 0) {
        e->out_of_memory = true;
        return false;
    }
    if ((size_t)np >= sizeof prefix) np = (int)sizeof prefix - 1;
    if ((size_t)nb >= sizeof body) nb = (int)sizeof body - 1;
    msg = malloc((size_t)np + (size_t)nb + 1);
    if (!msg) {
        e->out_of_memory = true;
        return false;
    }
    memcpy(msg, prefix, (size_t)np);
    memcpy(msg + np, body, (size_t)nb);
    msg[np + nb] = 0;
    e->messages[e->kept++] = msg;
    return false;
}

bool wfp_yaml_error_at(wfp_yaml_errors *e, const char *file, uint32_t line, uint32_t column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wfp_yaml_verror_at(e, file, line, column, fmt, ap);
    va_end(ap);
    return false;
}

bool wfp_yaml_error(wfp_yaml_errors *e, const wfp_yaml_node *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (at)
        wfp_yaml_verror_at(e, at->file, at->line, at->column, fmt, ap);
    else
        wfp_yaml_verror_at(e, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return false;
}

/* ---- arena ------------------------------------------------------------ */

/* A chunk header padded to max_align_t: its data follows it, aligned. */
typedef union chunk {
    struct {
        union chunk *next;
        size_t used, size;
    } h;
    max_align_t align;
} chunk;

#define CHUNK_DATA(c) ((unsigned char *)((c) + 1))

#define ARENA_CHUNK 65536u
#define ARENA_ALIGN (_Alignof(max_align_t))

struct wfp_yaml_doc {
    chunk *chunks;
    const wfp_yaml_node *root;
    char *file;
};

static void *arena_alloc(wfp_yaml_doc *d, size_t n)
{
    chunk *c = d->chunks;
    if (n > SIZE_MAX - ARENA_CHUNK) return NULL;
    n = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (!n) n = ARENA_ALIGN;
    if (!c || c->h.size - c->h.used < n) {
        size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        chunk *nc = malloc(sizeof *nc + size);
        if (!nc) return NULL;
        nc->h.used = 0;
        nc->h.size = size;
        if (c && n > ARENA_CHUNK) { /* keep filling the current chunk */
            nc->h.next = c->h.next;
            c->h.next = nc;
        } else {
            nc->h.next = c;
            d->chunks = nc;
        }
        c = nc;
    }
    void *p = CHUNK_DATA(c) + c->h.used;
    c->h.used += n;
    return p;
}

static char *arena_text(wfp_yaml_doc *d, const char *s, size_t n)
{
    char *p = arena_alloc(d, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void wfp_yaml_doc_free(wfp_yaml_doc *d)
{
    if (!d) return;
    for (chunk *c = d->chunks, *next; c; c = next) {
        next = c->h.next;
        free(c);
    }
    free(d->file);
    free(d);
}

const wfp_yaml_node *wfp_yaml_doc_root(const wfp_yaml_doc *d)
{
    return d ? d->root : NULL;
}

const char *wfp_yaml_doc_file(const wfp_yaml_doc *d)
{
    return d ? d->file : NULL;
}

/* ---- builder ---------------------------------------------------------- */

typedef struct child {
    const wfp_yaml_node *node;
    size_t weight;   /* nodes in the expanded subtree */
    uint32_t height; /* levels in the expanded subtree (a scalar: 1) */
} child;

typedef struct frame {
    wfp_yaml_kind kind;
    uint32_t line, column;
    char *anchor; /* malloc'd, or NULL */
    const char *tag;
    child *kids;
    size_t n, cap;
} frame;

typedef struct anchor_def {
    char *name; /* malloc'd */
    child c;
} anchor_def;

typedef struct builder {
    wfp_yaml_doc *doc;
    wfp_yaml_errors *err;
    frame *stack;
    size_t depth, stack_cap;
    anchor_def *anchors;
    size_t nanchors, anchors_cap;
    size_t total; /* expanded nodes so far */
    int documents;
    bool have_root;
    child root;
} builder;

static bool grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    void *p = realloc(*v, nc * elem);
    if (!p) return false;
    *v = p;
    *cap = nc;
    return true;
}

static bool oom(builder *b)
{
    return wfp_yaml_error_at(b->err, b->doc->file, 0, 0, "out of memory while reading YAML");
}

static bool bad(builder *b, const yaml_mark_t *m, const char *fmt, ...) WFP_YAML_PRINTF(3, 4);
static bool bad(builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wfp_yaml_verror_at(b->err, b->doc->file, (uint32_t)m->line + 1, (uint32_t)m->column + 1, fmt, ap);
    va_end(ap);
    return false;
}

static bool count_nodes(builder *b, size_t add, const yaml_mark_t *m)
{
    if (add > WFP_YAML_MAX_NODES || b->total > WFP_YAML_MAX_NODES - add)
        return bad(b, m, "the document expands to more than %u nodes (through aliases?)",
                   (unsigned)WFP_YAML_MAX_NODES);
    b->total += add;
    return true;
}

static bool register_anchor(builder *b, char *name, child c)
{
    if (!name) return true;
    if (!grow((void **)&b->anchors, &b->anchors_cap, b->nanchors + 1, sizeof *b->anchors)) {
        free(name);
        return oom(b);
    }
    b->anchors[b->nanchors].name = name;
    b->anchors[b->nanchors].c = c;
    b->nanchors++;
    return true;
}

/* Adds a finished node to the open collection (or makes it the root). */
static bool attach(builder *b, child c, const yaml_mark_t *m)
{
    if (!b->depth) {
        b->root = c;
        b->have_root = true;
        return true;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->kind == WFP_YAML_MAPPING && f->n % 2 == 0 && c.node->kind != WFP_YAML_SCALAR)
        return wfp_yaml_error(b->err, c.node, "a mapping key must be a scalar, not %s",
                              wfp_yaml_kind_name(c.node->kind));
    (void)m;
    if (!grow((void **)&f->kids, &f->cap, f->n + 1, sizeof *f->kids)) return oom(b);
    f->kids[f->n++] = c;
    return true;
}

static const char *take_tag(builder *b, const yaml_char_t *tag)
{
    if (!tag || !strcmp((const char *)tag, "!") || !strcmp((const char *)tag, "?")) return NULL;
    return arena_text(b->doc, (const char *)tag, strlen((const char *)tag));
}

static bool on_scalar(builder *b, const yaml_event_t *ev)
{
    wfp_yaml_node *n = arena_alloc(b->doc, sizeof *n);
    char *anchor = NULL;
    if (!n) return oom(b);
    memset(n, 0, sizeof *n);
    n->kind = WFP_YAML_SCALAR;
    n->line = (uint32_t)ev->start_mark.line + 1;
    n->column = (uint32_t)ev->start_mark.column + 1;
    n->file = b->doc->file;
    n->tag = take_tag(b, ev->data.scalar.tag);
    n->text = arena_text(b->doc, (const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (!n->text) return oom(b);
    n->length = ev->data.scalar.length;
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: n->style = WFP_YAML_SINGLE_QUOTED; break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: n->style = WFP_YAML_DOUBLE_QUOTED; break;
    case YAML_LITERAL_SCALAR_STYLE: n->style = WFP_YAML_LITERAL; break;
    case YAML_FOLDED_SCALAR_STYLE: n->style = WFP_YAML_FOLDED; break;
    default: n->style = WFP_YAML_PLAIN; break;
    }
    if (!count_nodes(b, 1, &ev->start_mark)) return false;
    if (b->depth + 1 > WFP_YAML_MAX_DEPTH)
        return bad(b, &ev->start_mark, "nesting deeper than %d levels", WFP_YAML_MAX_DEPTH);
    child c = {n, 1, 1};
    if (ev->data.scalar.anchor) {
        anchor = dup_text((const char *)ev->data.scalar.anchor);
        if (!anchor) return oom(b);
    }
    if (!register_anchor(b, anchor, c)) return false;
    return attach(b, c, &ev->start_mark);
}

static bool on_start(builder *b, const yaml_event_t *ev, wfp_yaml_kind kind)
{
    const yaml_char_t *anchor = kind == WFP_YAML_MAPPING ? ev->data.mapping_start.anchor
                                                          : ev->data.sequence_start.anchor;
    const yaml_char_t *tag = kind == WFP_YAML_MAPPING ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    frame *f;

    if (b->depth + 1 > WFP_YAML_MAX_DEPTH)
        return bad(b, &ev->start_mark, "nesting deeper than %d levels", WFP_YAML_MAX_DEPTH);
    if (!count_nodes(b, 1, &ev->start_mark)) return false;
    if (!grow((void **)&b->stack, &b->stack_cap, b->depth + 1, sizeof *b->stack)) return oom(b);
    f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->line = (uint32_t)ev->start_mark.line + 1;
    f->column = (uint32_t)ev->start_mark.column + 1;
    f->tag = take_tag(b, tag);
    if (anchor) {
        f->anchor = dup_text((const char *)anchor);
        if (!f->anchor) return oom(b);
    }
    return true;
}

static bool key_eq(const wfp_yaml_node *a, const wfp_yaml_node *b)
{
    return a->length == b->length && !memcmp(a->text, b->text, a->length);
}

static int cmp_pair_key(const void *pa, const void *pb)
{
    const wfp_yaml_pair *a = *(const wfp_yaml_pair *const *)pa, *b = *(const wfp_yaml_pair *const *)pb;
    size_t n = a->key->length < b->key->length ? a->key->length : b->key->length;
    int c = memcmp(a->key->text, b->key->text, n);
    if (c) return c;
    if (a->key->length != b->key->length) return a->key->length < b->key->length ? -1 : 1;
    /* equal keys: file order, so the later one is reported */
    if (a->key->line != b->key->line) return a->key->line < b->key->line ? -1 : 1;
    return a->key->column < b->key->column ? -1 : (a->key->column > b->key->column);
}

static bool is_merge_key(const wfp_yaml_node *k)
{
    return k->style == WFP_YAML_PLAIN && k->length == 2 && !memcmp(k->text, "<<", 2);
}

/* Pairs of a mapping frame, with `<<` merges applied and duplicates refused. */
static bool build_pairs(builder *b, frame *f, wfp_yaml_node *n)
{
    size_t np = f->n / 2, nout = 0, nmerge_src = 0;
    wfp_yaml_pair *raw = malloc((np ? np : 1) * sizeof *raw);
    const wfp_yaml_pair **sorted = malloc((np ? np : 1) * sizeof *sorted);
    wfp_yaml_pair *out = NULL;
    size_t nsorted = 0, out_cap = 0;
    bool ok = false;

    if (!raw || !sorted) {
        oom(b);
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        raw[i].key = f->kids[2 * i].node;
        raw[i].value = f->kids[2 * i + 1].node;
        if (is_merge_key(raw[i].key)) {
            const wfp_yaml_node *v = raw[i].value;
            if (v->kind == WFP_YAML_MAPPING) {
                nmerge_src += v->count;
            } else if (v->kind == WFP_YAML_SEQUENCE) {
                for (size_t j = 0; j < v->count; j++) {
                    if (v->items[j]->kind != WFP_YAML_MAPPING) {
                        wfp_yaml_error(b->err, v->items[j], "a '<<' merge takes mappings, not %s",
                                       wfp_yaml_kind_name(v->items[j]->kind));
                        goto done;
                    }
                    nmerge_src += v->items[j]->count;
                }
            } else {
                wfp_yaml_error(b->err, v, "a '<<' merge takes a mapping or a sequence of mappings");
                goto done;
            }
        } else {
            sorted[nsorted++] = &raw[i];
        }
    }
    qsort(sorted, nsorted, sizeof *sorted, cmp_pair_key);
    for (size_t i = 1; i < nsorted; i++) {
        if (key_eq(sorted[i - 1]->key, sorted[i]->key)) {
            char d[64];
            wfp_yaml_error(b->err, sorted[i]->key, "duplicate key %s in mapping (first at line %u, column %u)",
                           wfp_yaml_describe(sorted[i]->key, d, sizeof d), (unsigned)sorted[i - 1]->key->line,
                           (unsigned)sorted[i - 1]->key->column);
            goto done;
        }
    }
    out_cap = nsorted + nmerge_src;
    out = arena_alloc(b->doc, (out_cap ? out_cap : 1) * sizeof *out);
    if (!out) {
        oom(b);
        goto done;
    }
    for (size_t i = 0; i < np; i++) {
        if (!is_merge_key(raw[i].key)) {
            out[nout++] = raw[i];
            continue;
        }
        /* Explicit keys win over merged ones; an earlier merge wins over a later one. */
        const wfp_yaml_node *v = raw[i].value;
        size_t nsrc = v->kind == WFP_YAML_MAPPING ? 1 : v->count;
        for (size_t s = 0; s < nsrc; s++) {
            const wfp_yaml_node *src = v->kind == WFP_YAML_MAPPING ? v : v->items[s];
            for (size_t j = 0; j < src->count; j++) {
                const wfp_yaml_pair *p = &src->pairs[j];
                bool taken = false;
                for (size_t k = 0; k < np && !taken; k++)
                    if (!is_merge_key(raw[k].key) && key_eq(raw[k].key, p->key)) taken = true;
                for (size_t k = 0; k < nout && !taken; k++)
                    if (key_eq(out[k].key, p->key)) taken = true;
                if (!taken) out[nout++] = *p;
            }
        }
    }
    n->pairs = out;
    n->count = nout;
    ok = true;
done:
    free(raw);
    free(sorted);
    return ok;
}

static bool on_end(builder *b, const yaml_event_t *ev)
{
    frame *f = &b->stack[b->depth - 1];
    wfp_yaml_node *n = arena_alloc(b->doc, sizeof *n);
    child c;
    bool ok = false;

    if (!n) {
        oom(b);
        goto out;
    }
    memset(n, 0, sizeof *n);
    n->kind = f->kind;
    n->line = f->line;
    n->column = f->column;
    n->file = b->doc->file;
    n->tag = f->tag;
    c.node = n;
    c.weight = 1;
    c.height = 1;
    for (size_t i = 0; i < f->n; i++) {
        c.weight += f->kids[i].weight;
        if (f->kids[i].height + 1 > c.height) c.height = f->kids[i].height + 1;
    }
    if (f->kind == WFP_YAML_SEQUENCE) {
        const wfp_yaml_node **items = arena_alloc(b->doc, (f->n ? f->n : 1) * sizeof *items);
        if (!items) {
            oom(b);
            goto out;
        }
        for (size_t i = 0; i < f->n; i++) items[i] = f->kids[i].node;
        n->items = items;
        n->count = f->n;
    } else if (!build_pairs(b, f, n)) {
        goto out;
    }
    ok = true;
out:
    free(f->kids);
    char *anchor = f->anchor;
    b->depth--;
    if (!ok) {
        free(anchor);
        return false;
    }
    if (!register_anchor(b, anchor, c)) return false;
    return attach(b, c, &ev->start_mark);
}

static bool on_alias(builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = b->nanchors; i-- > 0;) {
        if (strcmp(b->anchors[i].name, name)) continue;
        child c = b->anchors[i].c;
        if (b->depth + c.height > WFP_YAML_MAX_DEPTH)
            return bad(b, &ev->start_mark, "alias '*%s' nests deeper than %d levels", name, WFP_YAML_MAX_DEPTH);
        if (!count_nodes(b, c.weight, &ev->start_mark)) return false;
        return attach(b, c, &ev->start_mark);
    }
    for (size_t i = 0; i < b->depth; i++)
        if (b->stack[i].anchor && !strcmp(b->stack[i].anchor, name))
            return bad(b, &ev->start_mark, "alias '*%s' refers to a node that contains it", name);
    return bad(b, &ev->start_mark, "alias '*%s' names no anchor defined before it", name);
}

static bool handle(builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1)
            return bad(b, &ev->start_mark, "a second YAML document: a scenario file holds exactly one");
        return true;
    case YAML_SCALAR_EVENT: return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT: return on_start(b, ev, WFP_YAML_SEQUENCE);
    case YAML_MAPPING_START_EVENT: return on_start(b, ev, WFP_YAML_MAPPING);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return on_end(b, ev);
    case YAML_ALIAS_EVENT: return on_alias(b, ev);
    default: return true;
    }
}

wfp_yaml_doc *wfp_yaml_load_string(const char *name, const char *text, size_t length, wfp_yaml_errors *err)
{
    yaml_parser_t parser;
    builder b;
    wfp_yaml_doc *doc = calloc(1, sizeof *doc);
    bool ok = false, done = false;

    if (!doc || !(doc->file = dup_text(name ? name : "<string>"))) {
        free(doc);
        wfp_yaml_error_at(err, name, 0, 0, "out of memory while reading YAML");
        return NULL;
    }
    memset(&b, 0, sizeof b);
    b.doc = doc;
    b.err = err;
    if (!yaml_parser_initialize(&parser)) {
        oom(&b);
        wfp_yaml_doc_free(doc);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, length);
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            const char *problem = parser.problem ? parser.problem : "malformed YAML";
            yaml_mark_t m = parser.problem_mark;
            if (parser.error == YAML_READER_ERROR) {
                /* reader errors carry a byte offset, not a mark */
                wfp_yaml_error_at(err, doc->file, 0, 0, "%s at byte %lu", problem,
                                  (unsigned long)parser.problem_offset);
            } else if (parser.context) {
                wfp_yaml_error_at(err, doc->file, (uint32_t)m.line + 1, (uint32_t)m.column + 1, "%s %s", problem,
                                  parser.context);
            } else {
                wfp_yaml_error_at(err, doc->file, (uint32_t)m.line + 1, (uint32_t)m.column + 1, "%s", problem);
            }
            break;
        }
        bool good = handle(&b, &ev);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (!good) break;
        if (done) ok = true;
    }
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < b.depth; i++) {
        free(b.stack[i].kids);
        free(b.stack[i].anchor);
    }
    free(b.stack);
    for (size_t i = 0; i < b.nanchors; i++) free(b.anchors[i].name);
    free(b.anchors);
    if (ok && !b.have_root) {
        wfp_yaml_error_at(err, doc->file, 1, 1, "the file holds no YAML document");
        ok = false;
    }
    if (!ok) {
        wfp_yaml_doc_free(doc);
        return NULL;
    }
    doc->root = b.root.node;
    return doc;
}

wfp_yaml_doc *wfp_yaml_load_file(const char *path, wfp_yaml_errors *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    wfp_yaml_doc *doc;

    if (!f) {
        wfp_yaml_error_at(err, path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    for (;;) {
        if (cap - len < 4096) {
            size_t nc = cap ? cap * 2 : 65536;
            char *p = realloc(buf, nc);
            if (!p) {
                free(buf);
                fclose(f);
                wfp_yaml_error_at(err, path, 0, 0, "out of memory while reading");
                return NULL;
            }
            buf = p;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        wfp_yaml_error_at(err, path, 0, 0, "cannot read: %s", strerror(errno));
        return NULL;
    }
    fclose(f);
    doc = wfp_yaml_load_string(path, buf, len, err);
    free(buf);
    return doc;
}

/* ---- inspection ------------------------------------------------------- */

const char *wfp_yaml_kind_name(wfp_yaml_kind kind)
{
    switch (kind) {
    case WFP_YAML_SCALAR: return "a scalar";
    case WFP_YAML_SEQUENCE: return "a sequence";
    case WFP_YAML_MAPPING: return "a mapping";
    }
    return "?";
}

const char *wfp_yaml_describe(const wfp_yaml_node *node, char *buf, size_t n)
{
    if (!n) return "";
    if (!node) {
        snprintf(buf, n, "nothing");
    } else if (node->kind != WFP_YAML_SCALAR) {
        snprintf(buf, n, "%s", wfp_yaml_kind_name(node->kind));
    } else if (wfp_yaml_is_plain(node) && node->length == 0) {
        snprintf(buf, n, "nothing");
    } else {
        size_t max = 40, len = strlen(node->text);
        if (len > max)
            snprintf(buf, n, "'%.*s...'", (int)max, node->text);
        else
            snprintf(buf, n, "'%s'", node->text);
    }
    return buf;
}

bool wfp_yaml_is_scalar(const wfp_yaml_node *node)
{
    return node && node->kind == WFP_YAML_SCALAR;
}

bool wfp_yaml_is_plain(const wfp_yaml_node *node)
{
    return node && node->kind == WFP_YAML_SCALAR && node->style == WFP_YAML_PLAIN;
}

bool wfp_yaml_is_null(const wfp_yaml_node *node)
{
    if (!wfp_yaml_is_plain(node)) return false;
    return node->length == 0 || !strcmp(node->text, "~") || !strcmp(node->text, "null") ||
           !strcmp(node->text, "Null") || !strcmp(node->text, "NULL");
}

bool wfp_yaml_scalar_is(const wfp_yaml_node *node, const char *word)
{
    return wfp_yaml_is_scalar(node) && strlen(node->text) == node->length && wfp_yaml_ascii_ieq(node->text, word);
}

const wfp_yaml_node *wfp_yaml_map_key(const wfp_yaml_node *map, const char *key)
{
    size_t n;
    if (!map || map->kind != WFP_YAML_MAPPING || !key) return NULL;
    n = strlen(key);
    for (size_t i = 0; i < map->count; i++)
        if (map->pairs[i].key->length == n && !memcmp(map->pairs[i].key->text, key, n)) return map->pairs[i].key;
    return NULL;
}

const wfp_yaml_node *wfp_yaml_map_get(const wfp_yaml_node *map, const char *key)
{
    size_t n;
    if (!map || map->kind != WFP_YAML_MAPPING || !key) return NULL;
    n = strlen(key);
    for (size_t i = 0; i < map->count; i++)
        if (map->pairs[i].key->length == n && !memcmp(map->pairs[i].key->text, key, n))
            return map->pairs[i].value;
    return NULL;
}

/* ---- checked accessors ------------------------------------------------ */

bool wfp_yaml_expect(wfp_yaml_errors *e, const wfp_yaml_node *node, wfp_yaml_kind kind, const char *what)
{
    char d[64];
    if (node && node->kind == kind) return true;
    return wfp_yaml_error(e, node, "%s must be %s, not %s", what, wfp_yaml_kind_name(kind),
                          wfp_yaml_describe(node, d, sizeof d));
}

bool wfp_yaml_check_keys(wfp_yaml_errors *e, const wfp_yaml_node *map, const char *what,
                         const char *const *allowed)
{
    bool ok = true;
    if (!wfp_yaml_expect(e, map, WFP_YAML_MAPPING, what)) return false;
    for (size_t i = 0; i < map->count; i++) {
        const wfp_yaml_node *k = map->pairs[i].key;
        bool found = false;
        for (size_t j = 0; allowed[j] && !found; j++)
            found = strlen(allowed[j]) == k->length && !memcmp(allowed[j], k->text, k->length);
        if (found) continue;
        char list[1024];
        size_t used = 0;
        list[0] = 0;
        for (size_t j = 0; allowed[j]; j++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", allowed[j]);
            if (w < 0 || (size_t)w >= sizeof list - used) break;
            used += (size_t)w;
        }
        char d[64];
        wfp_yaml_error(e, k, "unknown key %s in %s (expected one of: %s)", wfp_yaml_describe(k, d, sizeof d), what,
                       list);
        ok = false;
    }
    return ok;
}

bool wfp_yaml_require(wfp_yaml_errors *e, const wfp_yaml_node *map, const char *key, const char *what,
                      const wfp_yaml_node **out)
{
    const wfp_yaml_node *v = wfp_yaml_map_get(map, key);
    if (!v) return wfp_yaml_error(e, map, "%s needs '%s'", what, key);
    *out = v;
    return true;
}

bool wfp_yaml_get_string(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, const char **out)
{
    char d[64];
    if (!node || node->kind != WFP_YAML_SCALAR || (wfp_yaml_is_plain(node) && node->length == 0))
        return wfp_yaml_error(e, node, "%s must be a string, not %s", what, wfp_yaml_describe(node, d, sizeof d));
    if (strlen(node->text) != node->length)
        return wfp_yaml_error(e, node, "%s must not contain a NUL character", what);
    *out = node->text;
    return true;
}

static int hexdig(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool wfp_yaml_parse_uint64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !len) return false;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (size_t i = 2; i < len; i++) {
            int d = hexdig((unsigned char)s[i]);
            if (d < 0 || v > (UINT64_MAX >> 4)) return false;
            v = v << 4 | (uint64_t)d;
        }
    } else {
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') return false;
            uint64_t d = (uint64_t)(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10) return false;
            v = v * 10 + d;
        }
    }
    *out = v;
    return true;
}

bool wfp_yaml_parse_int64(const char *s, size_t len, int64_t *out)
{
    bool neg = false;
    uint64_t u;
    if (!s || !len) return false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        s++;
        len--;
    }
    if (!wfp_yaml_parse_uint64(s, len, &u)) return false;
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1) return false;
        *out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX) return false;
        *out = (int64_t)u;
    }
    return true;
}

bool wfp_yaml_parse_bool(const char *s, size_t len, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    if (!s || strlen(s) != len) return false;
    for (size_t i = 0; i < 3; i++) {
        if (wfp_yaml_ascii_ieq(s, yes[i])) {
            *out = true;
            return true;
        }
        if (wfp_yaml_ascii_ieq(s, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

const char *wfp_yaml_parse_duration(const char *s, size_t len, int64_t *ns)
{
    static const struct {
        const char *unit;
        uint64_t ns;
    } units[] = {{"ns", 1},
                 {"us", 1000},
                 {"\xc2\xb5s", 1000},
                 {"ms", 1000000},
                 {"s", 1000000000},
                 {"m", 60000000000},
                 {"h", 3600000000000}};
    size_t i = 0, int_start, int_end, frac_start = 0, frac_end = 0;
    uint64_t ip = 0, frac = 0, mult = 0, total;

    if (!s || !len) return "is empty";
    if (s[0] == '-') return "must not be negative";
    int_start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9') i++;
    int_end = i;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9') i++;
        frac_end = i;
        if (frac_end == frac_start) return "has no digits after the decimal point";
    }
    if (int_end == int_start && frac_end == frac_start) return "does not start with a number";
    if (i == len) {
        /* no unit: only zero is unambiguous */
        bool zero = true;
        for (size_t k = 0; k < len; k++)
            if (s[k] != '0' && s[k] != '.') zero = false;
        if (!zero) return "needs a unit (ns, us, ms, s, m or h)";
        *ns = 0;
        return NULL;
    }
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        if (strlen(units[u].unit) == len - i && !memcmp(units[u].unit, s + i, len - i)) {
            mult = units[u].ns;
            break;
        }
    }
    if (!mult) return "has an unknown unit (expected ns, us, ms, s, m or h)";
    if (int_end > int_start && !wfp_yaml_parse_uint64(s + int_start, int_end - int_start, &ip)) return "is too large";
    if (ip > (uint64_t)INT64_MAX / mult) return "is too large";
    total = ip * mult;
    /* The fraction, exactly: drop trailing zeros, then frac/10^k * mult
     * must be a whole number of nanoseconds. */
    while (frac_end > frac_start && s[frac_end - 1] == '0') frac_end--;
    if (frac_end > frac_start) {
        size_t k = frac_end - frac_start;
        uint64_t p10 = 1;
        if (k > 18) return "is finer than a nanosecond";
        for (size_t j = 0; j < k; j++) p10 *= 10;
        if (!wfp_yaml_parse_uint64(s + frac_start, k, &frac)) return "is malformed";
        uint64_t g = gcd64(mult, p10), m2 = mult / g, q = p10 / g;
        if (frac % q) return "is finer than a nanosecond";
        uint64_t part = frac / q;
        if (part > (uint64_t)INT64_MAX / m2 || total > (uint64_t)INT64_MAX - part * m2) return "is too large";
        total += part * m2;
    }
    *ns = (int64_t)total;
    return NULL;
}

static bool scalar_text(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, const char *expected)
{
    char d[64];
    if (node && node->kind == WFP_YAML_SCALAR && strlen(node->text) == node->length && node->length) return true;
    return wfp_yaml_error(e, node, "%s must be %s, not %s", what, expected, wfp_yaml_describe(node, d, sizeof d));
}

bool wfp_yaml_get_uint64(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, uint64_t min, uint64_t max,
                         uint64_t *out)
{
    uint64_t v;
    char d[64];
    if (!scalar_text(e, node, what, "an unsigned integer (decimal or 0x hex)")) return false;
    if (!wfp_yaml_parse_uint64(node->text, node->length, &v))
        return wfp_yaml_error(e, node, "%s must be an unsigned integer (decimal or 0x hex), not %s", what,
                              wfp_yaml_describe(node, d, sizeof d));
    if (v < min || v > max)
        return wfp_yaml_error(e, node, "%s must be between %llu and %llu, not %llu", what, (unsigned long long)min,
                              (unsigned long long)max, (unsigned long long)v);
    *out = v;
    return true;
}

bool wfp_yaml_get_int64(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, int64_t min, int64_t max,
                        int64_t *out)
{
    int64_t v;
    char d[64];
    if (!scalar_text(e, node, what, "an integer")) return false;
    if (!wfp_yaml_parse_int64(node->text, node->length, &v))
        return wfp_yaml_error(e, node, "%s must be an integer (decimal or 0x hex), not %s", what,
                              wfp_yaml_describe(node, d, sizeof d));
    if (v < min || v > max)
        return wfp_yaml_error(e, node, "%s must be between %lld and %lld, not %lld", what, (long long)min,
                              (long long)max, (long long)v);
    *out = v;
    return true;
}

bool wfp_yaml_get_bool(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, bool *out)
{
    char d[64];
    if (!scalar_text(e, node, what, "true or false")) return false;
    if (!wfp_yaml_parse_bool(node->text, node->length, out))
        return wfp_yaml_error(e, node, "%s must be true or false, not %s", what, wfp_yaml_describe(node, d, sizeof d));
    return true;
}

bool wfp_yaml_get_bytes(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, uint8_t **out,
                        size_t *len)
{
    const char *txt;
    uint8_t *b;
    *out = NULL;
    *len = 0;
    if (!wfp_yaml_expect(e, node, WFP_YAML_SCALAR, what)) return false;
    txt = node->text;
    if (strncmp(txt, "hex:", 4) != 0) {
        if (!(b = malloc(node->length + 1))) return wfp_yaml_error(e, node, "out of memory");
        memcpy(b, txt, node->length);
        *out = b;
        *len = node->length;
        return true;
    }
    size_t hl = strlen(txt + 4);
    if (hl % 2) return wfp_yaml_error(e, node, "%s: hex: needs an even number of digits", what);
    if (!(b = malloc(hl / 2 + 1))) return wfp_yaml_error(e, node, "out of memory");
    for (size_t k = 0; k < hl / 2; k++) {
        char two[3] = {txt[4 + 2 * k], txt[5 + 2 * k], 0};
        char *end;
        unsigned long byte = strtoul(two, &end, 16);
        if (*end || !isxdigit((unsigned char)two[0])) {
            free(b);
            return wfp_yaml_error(e, node, "%s: '%s' is not hex", what, two);
        }
        b[k] = (uint8_t)byte;
    }
    *out = b;
    *len = hl / 2;
    return true;
}

bool wfp_yaml_get_duration(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, int64_t *ns)
{
    char d[64];
    const char *why;
    if (!scalar_text(e, node, what, "a duration (0, 250us, 1.5ms, 2s, 1m)")) return false;
    why = wfp_yaml_parse_duration(node->text, node->length, ns);
    if (why)
        return wfp_yaml_error(e, node, "%s must be a duration like 0, 250us, 1.5ms, 2s or 1m: %s %s", what,
                              wfp_yaml_describe(node, d, sizeof d), why);
    return true;
}
