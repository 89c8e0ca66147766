/* json.h — a small streaming JSON writer for wfpsim's machine-readable output.
 *
 * Every command that prints JSON goes through this writer, so all of them
 * share one formatting: pretty mode indents by two spaces and writes
 * `"key": value`; compact mode writes no whitespace at all. Strings are
 * escaped as RFC 8259 requires (control characters as \u00XX), invalid
 * UTF-8 is replaced by U+FFFD so the output is always valid JSON, and
 * numbers are plain decimal integers, so the output does not depend on the
 * locale. A top-level value is followed by a newline.
 *
 * Misuse (a value where a key is expected, unbalanced ends, nesting deeper
 * than WFP_JSON_MAX_DEPTH) sets the error flag; from then on nothing more
 * is written, and nothing crashes. The writer holds no heap memory. */
#ifndef WFP_JSON_H
#define WFP_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define WFP_JSON_MAX_DEPTH 64

typedef struct wfp_json {
    FILE *out;
    bool pretty;
    bool error;            /* sticky: misuse, too deep, or a write failed */
    bool have_key;         /* inside an object, a key awaits its value */
    int depth;             /* open containers */
    char kind[WFP_JSON_MAX_DEPTH];     /* 'o' object or 'a' array, per level */
    bool nonempty[WFP_JSON_MAX_DEPTH]; /* the container has a member already */
} wfp_json;

void wfp_json_init(wfp_json *j, FILE *out, bool pretty);

void wfp_json_begin_object(wfp_json *j);
void wfp_json_end_object(wfp_json *j);
void wfp_json_begin_array(wfp_json *j);
void wfp_json_end_array(wfp_json *j);

/* Inside an object: the key of the next value. */
void wfp_json_key(wfp_json *j, const char *key);

/* Values. wfp_json_string(j, NULL) writes null. */
void wfp_json_string(wfp_json *j, const char *s);
void wfp_json_uint(wfp_json *j, uint64_t v);
void wfp_json_int(wfp_json *j, int64_t v);
void wfp_json_bool(wfp_json *j, bool v);
void wfp_json_null(wfp_json *j);

/* One string value (or null) written straight to `out`, with the escapes
 * above: for line formats (replay's JSON lines) that need no document. */
void wfp_json_write_string(FILE *out, const char *s);

/* True once anything went wrong (see above); the output is then incomplete.
 * Also true when containers are still open, so call it after the last end. */
bool wfp_json_failed(const wfp_json *j);

#endif
