/* json.c — streaming JSON writer (see json.h for the output format).
 *
 * The writer is a small state machine over the stack of open containers:
 * before each value or key it writes the separator the position needs
 * (comma, newline and indentation in pretty mode), and it refuses anything
 * that would make the document invalid by raising the sticky error flag. */
#include "json.h"

#include <inttypes.h>
#include <string.h>

void wfp_json_init(wfp_json *j, FILE *out, bool pretty)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
    j->pretty = pretty;
}

static void put(wfp_json *j, const char *s, size_t n)
{
    if (j->error) return;
    if (n && fwrite(s, 1, n, j->out) != n) j->error = true;
}

static void put_str(wfp_json *j, const char *s)
{
    put(j, s, strlen(s));
}

static void newline_indent(wfp_json *j, int depth)
{
    if (!j->pretty) return;
    put(j, "\n", 1);
    for (int i = 0; i < depth; i++) put(j, "  ", 2);
}

/* Called before a value is written: checks the position allows one and
 * writes the separator. Returns false (with the error flag set) if not. */
static bool before_value(wfp_json *j)
{
    if (j->error) return false;
    if (j->depth == 0) return true;
    if (j->kind[j->depth - 1] == 'o') {
        if (!j->have_key) {
            j->error = true;
            return false;
        }
        j->have_key = false;
        return true;
    }
    if (j->nonempty[j->depth - 1]) put(j, ",", 1);
    newline_indent(j, j->depth);
    j->nonempty[j->depth - 1] = true;
    return !j->error;
}

/* Called after a complete value: a finished top-level value ends the line. */
static void after_value(wfp_json *j)
{
    if (j->depth == 0) put(j, "\n", 1);
}

static void begin(wfp_json *j, char kind)
{
    if (j->depth >= WFP_JSON_MAX_DEPTH) {
        j->error = true;
        return;
    }
    if (!before_value(j)) return;
    put(j, kind == 'o' ? "{" : "[", 1);
    j->kind[j->depth] = kind;
    j->nonempty[j->depth] = false;
    j->depth++;
}

static void end(wfp_json *j, char kind)
{
    if (j->error) return;
    if (j->depth == 0 || j->kind[j->depth - 1] != kind || j->have_key) {
        j->error = true;
        return;
    }
    j->depth--;
    if (j->nonempty[j->depth]) newline_indent(j, j->depth);
    put(j, kind == 'o' ? "}" : "]", 1);
    after_value(j);
}

void wfp_json_begin_object(wfp_json *j) { begin(j, 'o'); }
void wfp_json_end_object(wfp_json *j) { end(j, 'o'); }
void wfp_json_begin_array(wfp_json *j) { begin(j, 'a'); }
void wfp_json_end_array(wfp_json *j) { end(j, 'a'); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s does not start
 * one. Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;

    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1fu; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0fu; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07u; min = 0x10000; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

static void write_string(wfp_json *j, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    const unsigned char *run = s; /* start of bytes that need no escaping */

    put(j, "\"", 1);
    while (*s) {
        const char *esc = NULL;
        char u[7];
        size_t n = 1;

        switch (*s) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (*s < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[*s >> 4];
                u[5] = hex[*s & 15];
                u[6] = 0;
                esc = u;
            } else if (*s >= 0x80) {
                n = utf8_len(s);
                if (n == 0) {
                    esc = "\\ufffd"; /* one replacement per bad byte */
                    n = 1;
                }
            }
        }
        if (esc) {
            put(j, (const char *)run, (size_t)(s - run));
            put_str(j, esc);
            run = s + n;
        }
        s += n;
    }
    put(j, (const char *)run, (size_t)(s - run));
    put(j, "\"", 1);
}

void wfp_json_write_string(FILE *out, const char *s)
{
    wfp_json j;
    wfp_json_init(&j, out, false);
    if (s) write_string(&j, s);
    else put_str(&j, "null");
}

void wfp_json_key(wfp_json *j, const char *key)
{
    if (j->error) return;
    if (j->depth == 0 || j->kind[j->depth - 1] != 'o' || j->have_key || !key) {
        j->error = true;
        return;
    }
    if (j->nonempty[j->depth - 1]) put(j, ",", 1);
    newline_indent(j, j->depth);
    j->nonempty[j->depth - 1] = true;
    write_string(j, key);
    put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
    j->have_key = true;
}

static void scalar(wfp_json *j, const char *text)
{
    if (!before_value(j)) return;
    put_str(j, text);
    after_value(j);
}

void wfp_json_string(wfp_json *j, const char *s)
{
    if (!s) {
        wfp_json_null(j);
        return;
    }
    if (!before_value(j)) return;
    write_string(j, s);
    after_value(j);
}

void wfp_json_uint(wfp_json *j, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof buf, "%" PRIu64, v);
    scalar(j, buf);
}

void wfp_json_int(wfp_json *j, int64_t v)
{
    char buf[24];

    snprintf(buf, sizeof buf, "%" PRId64, v);
    scalar(j, buf);
}

void wfp_json_bool(wfp_json *j, bool v)
{
    scalar(j, v ? "true" : "false");
}

void wfp_json_null(wfp_json *j)
{
    scalar(j, "null");
}

bool wfp_json_failed(const wfp_json *j)
{
    return j->error || j->depth != 0 || j->have_key;
}
