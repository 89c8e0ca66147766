/* test_graph.c — sim/graph (`wfpsim graph`): golden DOT text for each view
 * (layer, packet, journey; collapsed and filtered), the unreachable-filter
 * analysis, stable output, errors, and rendering to SVG, PNG and PDF
 * through Graphviz in-process.
 *
 * Goldens: each case draws a scenario of tests/graph/ and compares the
 * DOT text byte for byte with tests/graph/<case>.dot. After an intended
 * change, regenerate them and review the diff:
 *
 *   WFPSIM_UPDATE_GOLDENS=1 ./build/test_graph && git diff tests/graph
 *
 * Graphviz and the font stack of its cairo renderer keep caches that
 * LeakSanitizer reports at exit; the suppressions below (the same as
 * tests/lsan.supp) cover those libraries only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graph.h"

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libgvc.so\nleak:libcgraph.so\nleak:libcdt.so\nleak:libpathplan.so\nleak:libgvplugin_\n"
           "leak:libfontconfig.so\nleak:libpango\nleak:libcairo.so\nleak:libglib-2.0.so\n"
           "leak:libgobject-2.0.so\nleak:libharfbuzz.so\nleak:libfreetype.so\n";
}

#define DIR WFPSIM_SOURCE_DIR "/tests/graph/"

typedef struct gcase {
    const char *name; /* golden: tests/graph/<name>.dot */
    const char *file;
    const char *layer;
    uint64_t packet, journey;
    uint32_t collapse;
    const char *filter;
    const char *host;
} gcase;

static const gcase CASES[] = {
    {"arbitration-layer-recv-accept", "arbitration-example.yaml", "ALE_AUTH_RECV_ACCEPT_V4", 0, 0, 0, NULL, NULL},
    {"arbitration-layer-inbound-transport", "arbitration-example.yaml", "INBOUND_TRANSPORT", 0, 0, 0, NULL, NULL},
    {"arbitration-packet-1", "arbitration-example.yaml", NULL, 1, 0, 0, NULL, NULL},
    {"arbitration-packet-1-transport", "arbitration-example.yaml", "INBOUND_TRANSPORT_V4", 1, 0, 0, NULL, "server"},
    {"arbitration-packet-2", "arbitration-example.yaml", "FWPM_LAYER_ALE_AUTH_RECV_ACCEPT_V4", 2, 0, 0, NULL, NULL},
    {"arbitration-journey-1", "arbitration-example.yaml", NULL, 0, 1, 0, NULL, NULL},
    {"arbitration-journey-2", "arbitration-example.yaml", NULL, 0, 2, 0, NULL, NULL},
    {"veto-packet-1", "veto.yaml", NULL, 1, 0, 0, NULL, NULL},
    {"veto-journey-1", "veto.yaml", NULL, 0, 1, 0, NULL, NULL},
    {"shadowing-layer-v4", "shadowing.yaml", "ALE_AUTH_CONNECT_V4", 0, 0, 0, NULL, NULL},
    {"shadowing-layer-v6", "shadowing.yaml", "ALE_AUTH_CONNECT_V6", 0, 0, 0, NULL, NULL},
    {"shadowing-collapse-provider", "shadowing.yaml", "ALE_AUTH_CONNECT_V4", 0, 0, WFP_GRAPH_COLLAPSE_PROVIDER, NULL,
     NULL},
    {"shadowing-collapse-sublayer", "shadowing.yaml", "ALE_AUTH_CONNECT_V4", 0, 0, WFP_GRAPH_COLLAPSE_SUBLAYER, NULL,
     NULL},
    {"shadowing-packet-collapse-provider", "shadowing.yaml", NULL, 1, 0, WFP_GRAPH_COLLAPSE_PROVIDER, NULL, NULL},
    {"shadowing-packet-collapse-sublayer", "shadowing.yaml", NULL, 1, 0, WFP_GRAPH_COLLAPSE_SUBLAYER, NULL, NULL},
    {"shadowing-packet-filter", "shadowing.yaml", NULL, 1, 0, 0, "VENDOR-B", NULL},
    {"shadowing-layer-filter", "shadowing.yaml", "ALE_AUTH_CONNECT_V4", 0, 0, 0, "8443", NULL},
    {"bare-policy-layer", "bare-policy.yaml", "ALE_AUTH_CONNECT", 0, 0, 0, NULL, NULL},
};

static void request_of(const gcase *c, wfp_graph_request *req, char *path, size_t n)
{
    snprintf(path, n, DIR "%s", c->file);
    memset(req, 0, sizeof *req);
    req->path = path;
    req->layer = c->layer;
    req->packet = c->packet;
    req->journey = c->journey;
    req->host = c->host;
    req->options.collapse = c->collapse;
    req->options.filter_text = c->filter;
}

static char *draw(const gcase *c, size_t *len)
{
    wfp_graph_request req;
    char path[1024], err[512];
    char *dot = NULL;
    request_of(c, &req, path, sizeof path);
    int rc = wfp_graph_dot(&req, &dot, len, err, sizeof err);
    if (rc) print_error("%s: %s\n", c->name, err);
    assert_int_equal(rc, 0);
    assert_non_null(dot);
    assert_int_equal(strlen(dot), *len);
    return dot;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

static void test_goldens(void **state)
{
    (void)state;
    const char *update = getenv("WFPSIM_UPDATE_GOLDENS");
    size_t failed = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        const gcase *c = &CASES[i];
        char golden[1024];
        size_t len, glen = 0;
        char *dot = draw(c, &len);
        snprintf(golden, sizeof golden, DIR "%s.dot", c->name);
        if (update && *update && strcmp(update, "0")) {
            FILE *f = fopen(golden, "wb");
            assert_non_null(f);
            assert_int_equal(fwrite(dot, 1, len, f), len);
            assert_int_equal(fclose(f), 0);
        } else {
            char *want = slurp(golden, &glen);
            if (!want) {
                print_error("%s: missing golden %s (WFPSIM_UPDATE_GOLDENS=1 writes it)\n", c->name, golden);
                failed++;
            } else if (glen != len || memcmp(want, dot, len)) {
                size_t at = 0;
                while (at < len && at < glen && want[at] == dot[at]) at++;
                size_t line = 1;
                for (size_t k = 0; k < at; k++) line += dot[k] == '\n';
                print_error("%s: DOT differs from %s at line %zu (WFPSIM_UPDATE_GOLDENS=1 rewrites it)\n", c->name,
                            golden, line);
                failed++;
            }
            free(want);
        }
        free(dot);
    }
    assert_int_equal(failed, 0);
}

/* The same request twice gives the same bytes (no pointers, no hash order). */
static void test_stable(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i += 3) {
        size_t a_len, b_len;
        char *a = draw(&CASES[i], &a_len);
        char *b = draw(&CASES[i], &b_len);
        assert_int_equal(a_len, b_len);
        assert_memory_equal(a, b, a_len);
        free(a);
        free(b);
    }
}

/* The node line of the filter named `name` in a layer view. */
static char *node_line(const char *dot, const char *name)
{
    char key[256];
    snprintf(key, sizeof key, "<b>%s</b>", name);
    const char *hit = strstr(dot, key);
    if (!hit) return NULL;
    const char *start = hit, *end = strchr(hit, '\n');
    while (start > dot && start[-1] != '\n') start--;
    size_t n = end ? (size_t)(end - start) : strlen(start);
    char *line = malloc(n + 1);
    if (!line) return NULL;
    memcpy(line, start, n);
    line[n] = '\0';
    return line;
}

static void expect_reachable(const char *dot, const char *name, const char *hidden_by)
{
    char *line = node_line(dot, name);
    if (!line) print_error("no node for %s\n", name);
    assert_non_null(line);
    if (hidden_by) {
        char want[256];
        snprintf(want, sizeof want, "unreachable: hidden by %s</i>", hidden_by);
        if (!strstr(line, want)) print_error("%s: expected hidden by %s: %s\n", name, hidden_by, line);
        assert_non_null(strstr(line, want));
        assert_non_null(strstr(line, "style=\"rounded,filled,dashed\""));
    } else {
        if (strstr(line, "unreachable")) print_error("%s: expected reachable: %s\n", name, line);
        assert_null(strstr(line, "unreachable"));
    }
    free(line);
}

static void test_unreachable(void **state)
{
    (void)state;
    size_t len;
    char *v4 = draw(&CASES[9], &len);
    expect_reachable(v4, "a-block-ports-80-90", NULL);
    expect_reachable(v4, "a-permit-85", "a-block-ports-80-90");            /* equal inside a range */
    expect_reachable(v4, "a-permit-85-to-net", "a-block-ports-80-90");     /* more fields than the hider */
    expect_reachable(v4, "a-permit-95", NULL);                              /* outside the range */
    expect_reachable(v4, "a-permit-8443-host", "a-block-443-or-8443");     /* OR'ed values, host in a mask */
    expect_reachable(v4, "a-permit-8443-anywhere", NULL);                   /* lacks a field the hider tests */
    expect_reachable(v4, "a-inspect", NULL);                                /* a callout hides nothing */
    expect_reachable(v4, "a-block-loopback", NULL);
    expect_reachable(v4, "a-permit-loopback-reauth", "a-block-loopback");  /* more flags */
    expect_reachable(v4, "a-block-everything-else", NULL);
    expect_reachable(v4, "a-permit-after-catch-all", "a-block-everything-else"); /* zero-condition block */
    expect_reachable(v4, "b-permit-85", NULL);                              /* another sublayer */
    free(v4);
    char *v6 = draw(&CASES[10], &len);
    expect_reachable(v6, "b-block-v6-doc", NULL);
    expect_reachable(v6, "b-permit-v6-doc-sub", "b-block-v6-doc");          /* /48 inside /32 */
    expect_reachable(v6, "b-permit-v6-other", NULL);
    free(v6);
}

/* The packet view says what each sublayer's decision did. */
static void test_packet_effects(void **state)
{
    (void)state;
    size_t len;
    char *p = draw(&CASES[2], &len); /* arbitration example, packet 1 */
    assert_non_null(strstr(p, "<b>ALE_AUTH_RECV_ACCEPT_V4</b>"));
    assert_non_null(strstr(p, "applied: overrides the soft PERMIT of FW1-permit-iis"));
    assert_non_null(strstr(p, "verdict: BLOCK</b> (hard)"));
    assert_non_null(strstr(p, "label=\" rest skipped\""));
    free(p);
    char *v = draw(&CASES[7], &len); /* veto */
    assert_non_null(strstr(v, "<b>VETO</b>: overrides the hard PERMIT of vpn-permit"));
    assert_non_null(strstr(v, "(hard, veto)"));
    free(v);
    char *f = draw(&CASES[15], &len); /* --filter VENDOR-B keeps what the packet matched */
    assert_non_null(strstr(f, "<b>a-block-ports-80-90</b>"));
    assert_null(strstr(f, "<b>a-permit-95</b>"));
    assert_non_null(strstr(f, "ignored: the hard BLOCK of a-block-ports-80-90 stands"));
    free(f);
    char *j = draw(&CASES[5], &len); /* journey of packet 1 */
    const char *ipp = strstr(j, "INBOUND_IPPACKET_V4"), *tr = strstr(j, "INBOUND_TRANSPORT_V4"),
               *ale = strstr(j, "3 · ALE_AUTH_RECV_ACCEPT_V4");
    assert_true(ipp && tr && ale && ipp < tr && tr < ale);
    assert_non_null(strstr(j, "tcp · remote 192.0.2.9:40000 → local 10.0.0.5:80"));
    assert_non_null(strstr(j, "at ALE_AUTH_RECV_ACCEPT_V4 by FW2-block-port-80"));
    free(j);
}

static void expect_error(const char *file, const char *layer, uint64_t packet, uint64_t journey, const char *host,
                         const char *msg)
{
    wfp_graph_request req;
    char path[1024], err[512] = "";
    char *out = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, DIR "%s", file);
    memset(&req, 0, sizeof req);
    req.path = path;
    req.layer = layer;
    req.packet = packet;
    req.journey = journey;
    req.host = host;
    assert_int_equal(wfp_graph_dot(&req, &out, &len, err, sizeof err), 2);
    assert_null(out);
    if (!strstr(err, msg)) print_error("expected '%s' in '%s'\n", msg, err);
    assert_non_null(strstr(err, msg));
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("arbitration-example.yaml", "NO_SUCH_LAYER", 0, 0, NULL, "no layer named 'NO_SUCH_LAYER'");
    expect_error("arbitration-example.yaml", NULL, 0, 0, NULL, "which layer?");
    expect_error("arbitration-example.yaml", NULL, 9, 0, NULL, "no packet 9: the scenario has 2");
    expect_error("arbitration-example.yaml", "ALE_AUTH_CONNECT_V4", 1, 0, NULL, "packet 1 was not classified at");
    expect_error("arbitration-example.yaml", "ALE_AUTH_CONNECT_V4", 0, 0, "nobody", "no host named 'nobody'");
    expect_error("bare-policy.yaml", NULL, 0, 1, NULL, "need a scenario");
    expect_error("no-such-file.yaml", "ALE_AUTH_CONNECT_V4", 0, 0, NULL, "no-such-file.yaml");
}

static void test_formats(void **state)
{
    (void)state;
    assert_string_equal(wfp_graph_format_from_path("a/b.svg"), "svg");
    assert_string_equal(wfp_graph_format_from_path("x.PNG"), "png");
    assert_string_equal(wfp_graph_format_from_path("x.pdf"), "pdf");
    assert_string_equal(wfp_graph_format_from_path("x.dot"), "dot");
    assert_string_equal(wfp_graph_format_from_path("x.gv"), "dot");
    assert_null(wfp_graph_format_from_path("x.jpeg2"));
    assert_null(wfp_graph_format_from_path("noext"));
}

static void test_render(void **state)
{
    wfp_graph_renderer *r = *state;
    wfp_graph_request req;
    char path[1024], err[512] = "";
    char *out = NULL;
    size_t len = 0;
    request_of(&CASES[2], &req, path, sizeof path);

    assert_int_equal(wfp_graph_render_with(r, &req, "svg", &out, &len, err, sizeof err), 0);
    assert_true(len > 4000);
    const char *svg = strstr(out, "<svg");
    assert_non_null(svg);
    assert_true(svg - out < 400);
    assert_non_null(strstr(out, "FW2&#45;block&#45;port&#45;80") ? out : strstr(out, "FW2-block-port-80"));
    assert_non_null(strstr(out, "</svg>"));
    free(out);

    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_int_equal(wfp_graph_render_with(r, &req, "png", &out, &len, err, sizeof err), 0);
    assert_true(len > 10000);
    assert_memory_equal(out, png_sig, sizeof png_sig);
    free(out);

    assert_int_equal(wfp_graph_render_with(r, &req, "pdf", &out, &len, err, sizeof err), 0);
    assert_true(len > 1000);
    assert_memory_equal(out, "%PDF", 4);
    free(out);

    assert_int_equal(wfp_graph_render_with(r, &req, "dot", &out, &len, err, sizeof err), 0);
    assert_memory_equal(out, "digraph wfp {", 13);
    free(out);

    /* the journey renders too */
    request_of(&CASES[5], &req, path, sizeof path);
    assert_int_equal(wfp_graph_render_with(r, &req, "svg", &out, &len, err, sizeof err), 0);
    assert_non_null(strstr(out, "<svg"));
    free(out);

    /* unusable DOT and unknown formats fail without output */
    assert_int_not_equal(wfp_graph_render_dot(r, "digraph { a -> ", "svg", &out, &len, err, sizeof err), 0);
    assert_null(out);
    assert_int_not_equal(wfp_graph_render_dot(r, "digraph { a -> b }", "no-such-format", &out, &len, err, sizeof err),
                         0);
    assert_null(out);
}

/* One Graphviz context for every render of the process (graph.h says why). */
static int renderer_up(void **state)
{
    *state = wfp_graph_renderer_create();
    return *state ? 0 : -1;
}

static int renderer_down(void **state)
{
    wfp_graph_renderer_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goldens),   cmocka_unit_test(test_stable), cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_packet_effects), cmocka_unit_test(test_errors), cmocka_unit_test(test_formats),
        cmocka_unit_test_setup_teardown(test_render, renderer_up, renderer_down),
    };
    return cmocka_run_group_tests_name("graph", tests, NULL, NULL);
}
