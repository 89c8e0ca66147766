/* test_yamldoc.c — sim/yamldoc: the node tree, the loader's refusals
 * (duplicates, several documents, alias bombs and cycles, depth) and the
 * typed accessors, each error with FILE:LINE:COL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "yamldoc.h"

typedef struct fx {
    wfp_yaml_errors err;
    wfp_yaml_doc *doc;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f) return -1;
    wfp_yaml_errors_init(&f->err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    wfp_yaml_doc_free(f->doc);
    wfp_yaml_errors_clear(&f->err);
    free(f);
    return 0;
}

static const wfp_yaml_node *load(fx *f, const char *text)
{
    wfp_yaml_doc_free(f->doc);
    wfp_yaml_errors_clear(&f->err);
    f->doc = wfp_yaml_load_string("t.yaml", text, strlen(text), &f->err);
    return wfp_yaml_doc_root(f->doc);
}

/* The first error must start with `prefix` and contain `part`. */
static void expect_error(fx *f, const char *prefix, const char *part)
{
    const char *m = wfp_yaml_errors_first(&f->err);
    if (!m) fail_msg("expected an error starting with %s", prefix);
    if (strncmp(m, prefix, strlen(prefix)) != 0) fail_msg("error '%s' does not start with '%s'", m, prefix);
    if (part && !strstr(m, part)) fail_msg("error '%s' lacks '%s'", m, part);
}

static void tree_has_positions_and_styles(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *r = load(f, "a: 1\n"
                                     "b:\n"
                                     "  - x\n"
                                     "  - 'y z'\n"
                                     "  - \"q\"\n"
                                     "c: {d: e}\n");
    assert_non_null(r);
    assert_int_equal(r->kind, WFP_YAML_MAPPING);
    assert_int_equal(r->count, 3);
    assert_string_equal(r->pairs[0].key->text, "a");
    assert_string_equal(r->pairs[1].key->text, "b"); /* keys in file order */
    assert_string_equal(r->pairs[2].key->text, "c");
    const wfp_yaml_node *b = wfp_yaml_map_get(r, "b");
    assert_int_equal(b->kind, WFP_YAML_SEQUENCE);
    assert_int_equal(b->count, 3);
    assert_int_equal(b->line, 3);
    assert_int_equal(b->column, 3);
    assert_string_equal(b->items[1]->text, "y z");
    assert_int_equal(b->items[1]->line, 4);
    assert_int_equal(b->items[1]->column, 5);
    assert_true(wfp_yaml_is_plain(b->items[0]));
    assert_int_equal(b->items[1]->style, WFP_YAML_SINGLE_QUOTED);
    assert_int_equal(b->items[2]->style, WFP_YAML_DOUBLE_QUOTED);
    const wfp_yaml_node *d = wfp_yaml_map_get(wfp_yaml_map_get(r, "c"), "d");
    assert_string_equal(d->text, "e");
    assert_int_equal(d->line, 6);
    assert_int_equal(d->column, 8);
    assert_string_equal(d->file, "t.yaml");
    assert_null(wfp_yaml_map_get(r, "zzz"));
    assert_int_equal(wfp_yaml_map_key(r, "c")->line, 6);
}

static void nulls_and_words(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *r = load(f, "a:\nb: ~\nc: null\nd: 'null'\ne: Auto\n");
    assert_true(wfp_yaml_is_null(wfp_yaml_map_get(r, "a")));
    assert_true(wfp_yaml_is_null(wfp_yaml_map_get(r, "b")));
    assert_true(wfp_yaml_is_null(wfp_yaml_map_get(r, "c")));
    assert_false(wfp_yaml_is_null(wfp_yaml_map_get(r, "d"))); /* quoted: a string */
    assert_true(wfp_yaml_scalar_is(wfp_yaml_map_get(r, "e"), "auto"));
}

static void syntax_error_has_line_and_column(void **state)
{
    fx *f = *state;
    assert_null(load(f, "a: 1\nb: [1, 2\nc: 3\n"));
    expect_error(f, "t.yaml:", NULL);
    const char *m = wfp_yaml_errors_first(&f->err);
    unsigned line = 0, col = 0;
    assert_int_equal(sscanf(m, "t.yaml:%u:%u:", &line, &col), 2);
    assert_true(line >= 2);
    assert_true(col >= 1);
}

static void duplicate_keys_rejected(void **state)
{
    fx *f = *state;
    assert_null(load(f, "a: 1\nb: 2\na: 3\n"));
    expect_error(f, "t.yaml:3:1: ", "duplicate key 'a'");
    expect_error(f, "t.yaml:3:1: ", "line 1, column 1");
    assert_null(load(f, "top:\n  - {x: 1, y: 2, x: 3}\n"));
    expect_error(f, "t.yaml:2:18: ", "duplicate key 'x'");
}

static void several_documents_rejected(void **state)
{
    fx *f = *state;
    assert_null(load(f, "a: 1\n---\nb: 2\n"));
    expect_error(f, "t.yaml:2:1: ", "second YAML document");
    /* one explicit document is fine */
    assert_non_null(load(f, "---\na: 1\n...\n"));
}

static void empty_stream_rejected(void **state)
{
    fx *f = *state;
    assert_null(load(f, ""));
    expect_error(f, "t.yaml:1:1: ", "no YAML document");
    assert_null(load(f, "# only a comment\n"));
}

static void aliases_resolve_to_the_anchor(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *r = load(f, "base: &b {x: 1, y: [2, 3]}\nuse: *b\nport: &p 443\nagain: *p\n");
    assert_non_null(r);
    const wfp_yaml_node *use = wfp_yaml_map_get(r, "use");
    assert_ptr_equal(use, wfp_yaml_map_get(r, "base"));
    assert_string_equal(wfp_yaml_map_get(use, "x")->text, "1");
    assert_string_equal(wfp_yaml_map_get(r, "again")->text, "443");
}

static void merge_keys(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *r = load(f, "base: &b {layer: L, action: permit, weight: 1}\n"
                                     "more: &m {weight: 5, sublayer: S}\n"
                                     "f: {name: x, <<: [*b, *m], action: block}\n");
    assert_non_null(r);
    const wfp_yaml_node *m = wfp_yaml_map_get(r, "f");
    assert_int_equal(m->count, 5);
    assert_string_equal(wfp_yaml_map_get(m, "action")->text, "block"); /* explicit wins */
    assert_string_equal(wfp_yaml_map_get(m, "weight")->text, "1");     /* earlier merge wins */
    assert_string_equal(wfp_yaml_map_get(m, "sublayer")->text, "S");
    assert_string_equal(m->pairs[0].key->text, "name");
    assert_string_equal(m->pairs[1].key->text, "layer"); /* merged where '<<' stood */
    assert_null(load(f, "a: {<<: 3}\n"));
    expect_error(f, "t.yaml:1:9: ", "merge");
}

static void alias_bomb_capped(void **state)
{
    fx *f = *state;
    /* 10^7 nodes when expanded */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    assert_null(load(f, bomb));
    expect_error(f, "t.yaml:", "more than 1000000 nodes");
}

static void alias_cycle_and_unknown_alias(void **state)
{
    fx *f = *state;
    assert_null(load(f, "a: &a [1, *a]\n"));
    expect_error(f, "t.yaml:1:11: ", "contains it");
    assert_null(load(f, "a: *nope\n"));
    expect_error(f, "t.yaml:", "names no anchor");
}

static void depth_capped(void **state)
{
    fx *f = *state;
    size_t n = 300;
    char *s = malloc(2 * n + 2);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) s[i] = '[';
    for (size_t i = 0; i < n; i++) s[n + i] = ']';
    s[2 * n] = '\n';
    s[2 * n + 1] = 0;
    assert_null(load(f, s));
    expect_error(f, "t.yaml:1:", "deeper than 256");
    s[200] = 0; /* 200 levels: fine */
    memset(s + 100, ']', 100);
    assert_non_null(load(f, s));
    free(s);
}

static void mapping_keys_must_be_scalars(void **state)
{
    fx *f = *state;
    assert_null(load(f, "? [a, b]\n: 1\n"));
    expect_error(f, "t.yaml:1:3: ", "key must be a scalar");
}

static void unknown_keys_list_valid_keys(void **state)
{
    fx *f = *state;
    static const char *const keys[] = {"name", "layer", "action", NULL};
    const wfp_yaml_node *r = load(f, "name: x\n"
                                     "colour: red\n");
    assert_false(wfp_yaml_check_keys(&f->err, r, "filter", keys));
    expect_error(f, "t.yaml:2:1: ", "unknown key 'colour' in filter (expected one of: name, layer, action)");
    wfp_yaml_errors_clear(&f->err);
    r = load(f, "name: x\nlayer: y\n");
    assert_true(wfp_yaml_check_keys(&f->err, r, "filter", keys));
    const wfp_yaml_node *v;
    assert_false(wfp_yaml_require(&f->err, r, "action", "filter", &v));
    expect_error(f, "t.yaml:1:1: ", "filter needs 'action'");
    /* a scalar where a mapping belongs */
    wfp_yaml_errors_clear(&f->err);
    r = load(f, "- a\n");
    assert_false(wfp_yaml_check_keys(&f->err, r, "filter", keys));
    expect_error(f, "t.yaml:1:1: ", "filter must be a mapping, not a sequence");
}

static void uint64_parsing(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *r = load(f, "a: 443\nb: 0x8000\nc: 18446744073709551615\nd: 18446744073709551616\n"
                                     "e: -1\nf: 70000\ng: 0x\nh: '12'\n");
    uint64_t v;
    assert_true(wfp_yaml_get_uint64(&f->err, wfp_yaml_map_get(r, "a"), "a", 0, 65535, &v));
    assert_int_equal(v, 443);
    assert_true(wfp_yaml_get_uint64(&f->err, wfp_yaml_map_get(r, "b"), "b", 0, 65535, &v));
    assert_int_equal(v, 0x8000);
    assert_true(wfp_yaml_get_uint64(&f->err, wfp_yaml_map_get(r, "c"), "c", 0, UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
    assert_true(wfp_yaml_get_uint64(&f->err, wfp_yaml_map_get(r, "h"), "h", 0, 100, &v));
    assert_int_equal(v, 12);
    assert_int_equal(f->err.count, 0);
    assert_false(wfp_yaml_get_uint64(&f->err, wfp_yaml_map_get(r, "d"), "d", 0, UINT64_MAX, &v));
    expect_error(f, "t.yaml:4:4: ", "unsigned integer");
    wfp_yaml_errors_clear(&f->err);
    assert_false(wfp_yaml_get_uint64(&f->err, wfp_yaml_map_get(r, "e"), "e", 0, 10, &v));
    expect_error(f, "t.yaml:5:4: ", NULL);
    wfp_yaml_errors_clear(&f->err);
    assert_false(wfp_yaml_get_uint64(&f->err, wfp_yaml_map_get(r, "f"), "port", 0, 65535, &v));
    expect_error(f, "t.yaml:6:4: ", "port must be between 0 and 65535, not 70000");
    wfp_yaml_errors_clear(&f->err);
    assert_false(wfp_yaml_get_uint64(&f->err, wfp_yaml_map_get(r, "g"), "g", 0, 10, &v));
    int64_t i;
    assert_true(wfp_yaml_parse_int64("-5", 2, &i));
    assert_int_equal(i, -5);
    assert_true(wfp_yaml_parse_int64("-9223372036854775808", 20, &i));
    assert_true(i == INT64_MIN);
    assert_false(wfp_yaml_parse_int64("9223372036854775808", 19, &i));
}

static void bool_parsing(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *r = load(f, "a: true\nb: False\nc: yes\nd: off\ne: maybe\n");
    bool b;
    assert_true(wfp_yaml_get_bool(&f->err, wfp_yaml_map_get(r, "a"), "a", &b) && b);
    assert_true(wfp_yaml_get_bool(&f->err, wfp_yaml_map_get(r, "b"), "b", &b) && !b);
    assert_true(wfp_yaml_get_bool(&f->err, wfp_yaml_map_get(r, "c"), "c", &b) && b);
    assert_true(wfp_yaml_get_bool(&f->err, wfp_yaml_map_get(r, "d"), "d", &b) && !b);
    assert_false(wfp_yaml_get_bool(&f->err, wfp_yaml_map_get(r, "e"), "registered", &b));
    expect_error(f, "t.yaml:5:4: ", "registered must be true or false, not 'maybe'");
}

static void durations(void **state)
{
    static const struct {
        const char *text;
        int64_t ns;
    } good[] = {{"0", 0},
                {"0s", 0},
                {"250us", 250000},
                {"250\xc2\xb5s", 250000},
                {"1.5ms", 1500000},
                {"2s", 2000000000},
                {"1m", 60000000000},
                {"1h", 3600000000000},
                {"10ns", 10},
                {"0.000000001s", 1},
                {"1.25us", 1250},
                {"0.1s", 100000000},
                {"1.10s", 1100000000},
                {".5s", 500000000},
                {"9223372036854775807ns", INT64_MAX}};
    static const char *const bad[] = {"5", "-1s", "1.5", "1x", "s", "1.0000000001s", "0.5ns", "1.s",
                                      "9223372036854775808ns", "153722867281m", ""};
    int64_t ns;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = wfp_yaml_parse_duration(good[i].text, strlen(good[i].text), &ns);
        if (why) fail_msg("%s: %s", good[i].text, why);
        if (ns != good[i].ns) fail_msg("%s: %lld", good[i].text, (long long)ns);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!wfp_yaml_parse_duration(bad[i], strlen(bad[i]), &ns)) fail_msg("'%s' accepted", bad[i]);
}

static void duration_error_position(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *r = load(f, "steps:\n  - at: 5\n");
    int64_t ns;
    const wfp_yaml_node *at = wfp_yaml_map_get(wfp_yaml_map_get(r, "steps")->items[0], "at");
    assert_false(wfp_yaml_get_duration(&f->err, at, "step at", &ns));
    expect_error(f, "t.yaml:2:9: ", "needs a unit");
}

static void strings(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *r = load(f, "a: hello\nb:\nc: \"x\\0y\"\nd: [1]\n");
    const char *s;
    assert_true(wfp_yaml_get_string(&f->err, wfp_yaml_map_get(r, "a"), "a", &s));
    assert_string_equal(s, "hello");
    assert_false(wfp_yaml_get_string(&f->err, wfp_yaml_map_get(r, "b"), "name", &s));
    expect_error(f, "t.yaml:2:3: ", "name must be a string, not nothing");
    wfp_yaml_errors_clear(&f->err);
    assert_false(wfp_yaml_get_string(&f->err, wfp_yaml_map_get(r, "c"), "c", &s));
    expect_error(f, "t.yaml:3:4: ", "NUL");
    wfp_yaml_errors_clear(&f->err);
    assert_false(wfp_yaml_get_string(&f->err, wfp_yaml_map_get(r, "d"), "d", &s));
    expect_error(f, "t.yaml:4:4: ", "a sequence");
    assert_int_equal(wfp_yaml_map_get(r, "c")->length, 3);
}

static void error_list_keeps_the_first(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 40; i++) wfp_yaml_error_at(&f->err, "x.yaml", (uint32_t)i + 1, 2, "problem %d", i);
    assert_int_equal(f->err.count, 40);
    assert_int_equal(f->err.kept, WFP_YAML_ERRORS_KEPT);
    assert_string_equal(wfp_yaml_errors_first(&f->err), "x.yaml:1:2: problem 0");
    wfp_yaml_errors_clear(&f->err);
    wfp_yaml_error_at(&f->err, "x.yaml", 0, 0, "no position");
    assert_string_equal(wfp_yaml_errors_first(&f->err), "x.yaml: no position");
}

static void missing_file(void **state)
{
    fx *f = *state;
    assert_null(wfp_yaml_load_file("/nonexistent/dir/p.yaml", &f->err));
    expect_error(f, "/nonexistent/dir/p.yaml: cannot open", NULL);
}

static void file_round_trip(void **state)
{
    fx *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/test_yamldoc_tmp.yaml", ".");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("policy:\n  filters: []\n", fp);
    fclose(fp);
    f->doc = wfp_yaml_load_file(path, &f->err);
    remove(path);
    assert_non_null(f->doc);
    assert_string_equal(wfp_yaml_doc_file(f->doc), path);
    const wfp_yaml_node *p = wfp_yaml_map_get(wfp_yaml_doc_root(f->doc), "policy");
    assert_int_equal(wfp_yaml_map_get(p, "filters")->count, 0);
    assert_string_equal(wfp_yaml_map_get(p, "filters")->file, path);
}

static void ascii_case(void **state)
{
    (void)state;
    assert_true(wfp_yaml_ascii_ieq("Equal", "EQUAL"));
    assert_false(wfp_yaml_ascii_ieq("Equal", "EQUALS"));
    assert_true(wfp_yaml_ascii_nieq("FWP_MATCH_x", "fwp_match_", 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tree_has_positions_and_styles, setup, teardown),
        cmocka_unit_test_setup_teardown(nulls_and_words, setup, teardown),
        cmocka_unit_test_setup_teardown(syntax_error_has_line_and_column, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_keys_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(several_documents_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_stream_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(aliases_resolve_to_the_anchor, setup, teardown),
        cmocka_unit_test_setup_teardown(merge_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(alias_bomb_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(alias_cycle_and_unknown_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(depth_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(mapping_keys_must_be_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_keys_list_valid_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(uint64_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(bool_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(durations, setup, teardown),
        cmocka_unit_test_setup_teardown(duration_error_position, setup, teardown),
        cmocka_unit_test_setup_teardown(strings, setup, teardown),
        cmocka_unit_test_setup_teardown(error_list_keeps_the_first, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(file_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(ascii_case, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
