/* yamldoc.h — YAML files as immutable node trees, and typed accessors that
 * report mistakes as "FILE:LINE:COL: message".
 *
 * wfp_yaml_load_file/_string parse one YAML document with libyaml into a
 * tree of scalars, sequences and mappings (keys in file order), each node
 * with its 1-based line and column and the name of its file. The loader
 * resolves aliases (an alias is the anchored node itself, shared), applies
 * `<<` merge keys, and refuses what a scenario must never contain:
 * duplicate keys in a mapping, non-scalar keys, more than one document,
 * nesting deeper than WFP_YAML_MAX_DEPTH and documents that alias-expand
 * to more than WFP_YAML_MAX_NODES nodes ("billion laughs").
 *
 * Everything in a tree belongs to its wfp_yaml_doc and lives until
 * wfp_yaml_doc_free. Accessors never allocate except to record an error in
 * a wfp_yaml_errors. No global state. */
#ifndef WFP_YAMLDOC_H
#define WFP_YAMLDOC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WFP_YAML_MAX_DEPTH 256
#define WFP_YAML_MAX_NODES 1000000u

typedef enum wfp_yaml_kind { WFP_YAML_SCALAR = 0, WFP_YAML_SEQUENCE = 1, WFP_YAML_MAPPING = 2 } wfp_yaml_kind;

typedef enum wfp_yaml_style {
    WFP_YAML_PLAIN = 0,
    WFP_YAML_SINGLE_QUOTED = 1,
    WFP_YAML_DOUBLE_QUOTED = 2,
    WFP_YAML_LITERAL = 3, /* | block */
    WFP_YAML_FOLDED = 4   /* > block */
} wfp_yaml_style;

typedef struct wfp_yaml_node wfp_yaml_node;

typedef struct wfp_yaml_pair {
    const wfp_yaml_node *key; /* always a scalar */
    const wfp_yaml_node *value;
} wfp_yaml_pair;

struct wfp_yaml_node {
    wfp_yaml_kind kind;
    uint32_t line;    /* 1-based */
    uint32_t column;  /* 1-based */
    const char *file; /* as given to the loader */
    const char *tag;  /* explicit tag ("tag:yaml.org,2002:str") or NULL */
    /* scalars: the text, NUL-terminated; `length` excludes the NUL (the
     * text may hold NUL characters of its own from "\0" escapes) */
    const char *text;
    size_t length;
    wfp_yaml_style style;
    /* sequences: `count` items; mappings: `count` pairs, in file order */
    size_t count;
    const wfp_yaml_node *const *items;
    const wfp_yaml_pair *pairs;
};

typedef struct wfp_yaml_doc wfp_yaml_doc;

/* ---- errors ----------------------------------------------------------- */

/* A list of messages, each "FILE:LINE:COL: text". The first one is the
 * one to show when only one fits; up to WFP_YAML_ERRORS_KEPT are kept and
 * `count` says how many were reported. Zero-initialise or _init; free with
 * _clear. */
#define WFP_YAML_ERRORS_KEPT 32
typedef struct wfp_yaml_errors {
    size_t count;
    size_t kept;
    char *messages[WFP_YAML_ERRORS_KEPT];
    bool out_of_memory; /* a message could not be stored */
} wfp_yaml_errors;

void wfp_yaml_errors_init(wfp_yaml_errors *e);
void wfp_yaml_errors_clear(wfp_yaml_errors *e);
/* The first message, or NULL when there is none (or none could be kept). */
const char *wfp_yaml_errors_first(const wfp_yaml_errors *e);
/* Records "FILE:LINE:COL: <fmt>" at the node's position (node NULL: no
 * position). Always returns false, so `return wfp_yaml_error(...)` reads
 * well in a parser. */
#if defined(__GNUC__)
#define WFP_YAML_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WFP_YAML_PRINTF(a, b)
#endif
bool wfp_yaml_error(wfp_yaml_errors *e, const wfp_yaml_node *at, const char *fmt, ...) WFP_YAML_PRINTF(3, 4);
bool wfp_yaml_error_at(wfp_yaml_errors *e, const char *file, uint32_t line, uint32_t column, const char *fmt,
                       ...) WFP_YAML_PRINTF(5, 6);
bool wfp_yaml_verror_at(wfp_yaml_errors *e, const char *file, uint32_t line, uint32_t column, const char *fmt,
                        va_list ap);

/* ---- loading ---------------------------------------------------------- */

/* Parses a file / a buffer (`name` is the file name used in positions).
 * Returns NULL and records an error on failure, including for a file that
 * holds no document at all. */
wfp_yaml_doc *wfp_yaml_load_file(const char *path, wfp_yaml_errors *err);
wfp_yaml_doc *wfp_yaml_load_string(const char *name, const char *text, size_t length, wfp_yaml_errors *err);
void wfp_yaml_doc_free(wfp_yaml_doc *doc); /* accepts NULL */
const wfp_yaml_node *wfp_yaml_doc_root(const wfp_yaml_doc *doc);
const char *wfp_yaml_doc_file(const wfp_yaml_doc *doc);

/* ---- inspection (no errors recorded) ---------------------------------- */

const char *wfp_yaml_kind_name(wfp_yaml_kind kind); /* "a scalar", "a sequence", "a mapping" */
/* What a node is, for messages: "a mapping", "a sequence", "'text'" (a
 * scalar, cut after 40 characters). Writes into buf (n bytes). */
const char *wfp_yaml_describe(const wfp_yaml_node *node, char *buf, size_t n);
bool wfp_yaml_is_scalar(const wfp_yaml_node *node);
bool wfp_yaml_is_plain(const wfp_yaml_node *node); /* an unquoted scalar */
/* An unquoted "", "~", "null", "Null" or "NULL". */
bool wfp_yaml_is_null(const wfp_yaml_node *node);
/* A scalar whose text equals `word` ignoring ASCII case (plain or quoted). */
bool wfp_yaml_scalar_is(const wfp_yaml_node *node, const char *word);
/* The value of `key` in a mapping (exact, case-sensitive), or NULL when
 * absent or when `map` is not a mapping. */
const wfp_yaml_node *wfp_yaml_map_get(const wfp_yaml_node *map, const char *key);
/* The key node of `key` (for positions), or NULL. */
const wfp_yaml_node *wfp_yaml_map_key(const wfp_yaml_node *map, const char *key);

/* ---- checked accessors (record an error and return false) ------------- */
/* `what` names the place in messages: "filter", "policy.filters[2].weight". */

bool wfp_yaml_expect(wfp_yaml_errors *e, const wfp_yaml_node *node, wfp_yaml_kind kind, const char *what);
/* `node` must be a mapping whose keys are all in `allowed` (NULL-terminated):
 * "F:L:C: unknown key 'foo' in filter (expected one of: name, layer, ...)". */
bool wfp_yaml_check_keys(wfp_yaml_errors *e, const wfp_yaml_node *map, const char *what,
                         const char *const *allowed);
/* A key that must be present: "F:L:C: filter needs 'layer'" at the map. */
bool wfp_yaml_require(wfp_yaml_errors *e, const wfp_yaml_node *map, const char *key, const char *what,
                      const wfp_yaml_node **out);
/* A scalar without NUL characters; *out points into the document. */
bool wfp_yaml_get_string(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, const char **out);
/* Unsigned decimal or 0x hex, within [min, max]. */
bool wfp_yaml_get_uint64(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, uint64_t min,
                         uint64_t max, uint64_t *out);
/* Optional sign, then decimal or 0x hex, within [min, max]. */
bool wfp_yaml_get_int64(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, int64_t min,
                        int64_t max, int64_t *out);
/* true/false (any case), also yes/no and on/off. */
bool wfp_yaml_get_bool(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, bool *out);
/* A duration: "0", or a decimal number with a unit ns, us (µs), ms, s, m
 * or h ("250us", "1.5ms", "2s", "1m"), in integer nanoseconds, exact. */
bool wfp_yaml_get_duration(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, int64_t *ns);
/* Bytes given as text (taken as they are) or `hex:0102…`: *out is
 * malloc'ed (free it), *len its length. */
bool wfp_yaml_get_bytes(wfp_yaml_errors *e, const wfp_yaml_node *node, const char *what, uint8_t **out,
                        size_t *len);

/* ---- the same parsers on plain text (for command lines) -------------- */
bool wfp_yaml_parse_uint64(const char *s, size_t len, uint64_t *out);
bool wfp_yaml_parse_int64(const char *s, size_t len, int64_t *out);
bool wfp_yaml_parse_bool(const char *s, size_t len, bool *out);
/* Returns NULL on success, else what is wrong ("needs a unit", ...). */
const char *wfp_yaml_parse_duration(const char *s, size_t len, int64_t *ns);

/* ASCII-only, locale-independent case-insensitive comparisons. */
bool wfp_yaml_ascii_ieq(const char *a, const char *b);
bool wfp_yaml_ascii_nieq(const char *a, const char *b, size_t n);

#endif
