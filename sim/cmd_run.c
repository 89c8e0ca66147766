/* cmd_run.c — `wfpsim run` and `wfpsim check`: scenario files and
 * directories in, one PASS/FAIL line per scenario and the closing
 * "N passed, M failed" line out (docs/scenario-format.md, command line).
 *
 * Exit codes: 0 every scenario passed, 1 one failed, 2 unusable input
 * (a file that does not load; its message names file:line:column).
 * Directories are walked recursively and their *.yaml / *.yml files run in
 * byte order of their paths, so the same tree gives the same output on
 * every platform. */
#include "commands.h"
#include "json.h"
#include "scenario.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <dirent.h>
#include <sys/stat.h>
#endif

typedef struct paths {
    char **v;
    size_t n, cap;
} paths;

static bool add_path(paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 32;
        char **nv = realloc(p->v, ncap * sizeof *nv);
        if (!nv) return false;
        p->v = nv;
        p->cap = ncap;
    }
    size_t len = strlen(s) + 1;
    p->v[p->n] = malloc(len);
    if (!p->v[p->n]) return false;
    memcpy(p->v[p->n++], s, len);
    return true;
}

static bool is_scenario_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the scenario files under `path` (or `path` itself). */
static int collect(paths *out, const char *path, int depth)
{
    if (depth > 64) return 0;
#ifdef _WIN32
    DWORD attr = GetFileAttributesA(path);
    if (attr == INVALID_FILE_ATTRIBUTES) return -1;
    if (!(attr & FILE_ATTRIBUTE_DIRECTORY)) return add_path(out, path) ? 0 : -1;
    char pattern[4096];
    WIN32_FIND_DATAA fd;
    snprintf(pattern, sizeof pattern, "%s\\*", path);
    HANDLE h = FindFirstFileA(pattern, &fd);
    if (h == INVALID_HANDLE_VALUE) return 0;
    paths here = {0};
    do {
        if (fd.cFileName[0] == '.') continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, fd.cFileName);
        add_path(&here, full);
    } while (FindNextFileA(h, &fd));
    FindClose(h);
#else
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) return add_path(out, path) ? 0 : -1;
    DIR *d = opendir(path);
    if (!d) return -1;
    paths here = {0};
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char full[4096];
        size_t pl = strlen(path);
        snprintf(full, sizeof full, "%s%s%s", path, pl && path[pl - 1] == '/' ? "" : "/", de->d_name);
        add_path(&here, full);
    }
    closedir(d);
#endif
    if (here.n) qsort(here.v, here.n, sizeof *here.v, cmp_str);
    for (size_t i = 0; i < here.n; i++) {
#ifdef _WIN32
        DWORD a = GetFileAttributesA(here.v[i]);
        bool dir = a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
#else
        struct stat s2;
        bool dir = stat(here.v[i], &s2) == 0 && S_ISDIR(s2.st_mode);
#endif
        if (dir) collect(out, here.v[i], depth + 1);
        else if (is_scenario_name(here.v[i])) add_path(out, here.v[i]);
        free(here.v[i]);
    }
    free(here.v);
    return 0;
}

static void xml_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') fprintf(f, "&#%d;", *s);
            else fputc(*s, f);
        }
    }
}

static const char *layer_short(uint16_t id)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_id(id);
    if (!l) return "-";
    return strncmp(l->name, "FWPM_LAYER_", 11) ? l->name : l->name + 11;
}

static const char *action_word(uint32_t a)
{
    switch (a) {
    case FWP_ACTION_PERMIT: return "permit";
    case FWP_ACTION_BLOCK: return "block";
    case FWP_ACTION_NONE: return "none";
    case FWP_ACTION_NONE_NO_MATCH: return "none_no_match";
    default: return "?";
    }
}

static void print_trace(const wfp_scenario_result *r)
{
    for (size_t i = 0; i < wfp_scenario_result_packet_count(r); i++) {
        const wfp_packet_record *p = wfp_scenario_result_packet(r, i);
        char from[64] = "";
        if (p->injected_from)
            snprintf(from, sizeof from, " [%s copy injected from packet %" PRIu64 "]",
                     p->injection_kind ? p->injection_kind : "injected", p->injected_from);
        printf("  packet %" PRIu64 " at %" PRId64 "ns on %s: %s%s%s%s%s%s%s\n", p->number, p->time_ns, p->host,
               p->permitted ? "permit" : "block", p->filter_name ? " by " : "", p->filter_name ? p->filter_name : "",
               p->drop_reason ? " (" : "", p->drop_reason ? p->drop_reason : "", p->drop_reason ? ")" : "", from);
        for (size_t k = 0; k < p->ncalls; k++) {
            const wfp_call_record *c = &p->calls[k];
            printf("    %-32s %s%s%s%s%s\n", layer_short(c->layer_id), action_word(c->verdict.action),
                   c->filter_name ? " by " : "", c->filter_name ? c->filter_name : "",
                   c->verdict.hard && c->verdict.action == FWP_ACTION_BLOCK ? " hard" : "",
                   c->verdict.vetoed ? " veto" : "");
            for (size_t s = 0; s < c->nsublayers; s++) {
                const wfp_trace_sublayer *t = &c->sublayers[s];
                static const char *const effects[] = {"", "applied", "ignored", "veto"};
                const char *fname = c->sublayer_filters ? c->sublayer_filters[s] : NULL;
                printf("      sublayer %-24s (weight %5u) %-14s%s%s%s%s%s\n", c->sublayer_names ? c->sublayer_names[s] : "?",
                       t->weight, action_word(t->action), fname ? " by " : "", fname ? fname : "",
                       t->hard ? " (hard)" : "", t->effect ? " — " : "", t->effect < 4 ? effects[t->effect] : "");
            }
        }
    }
}

static void json_result(wfp_json *j, const char *path, const char *name, const wfp_scenario_result *r,
                        const char *load_error)
{
    wfp_json_begin_object(j);
    wfp_json_key(j, "file");
    wfp_json_string(j, path);
    wfp_json_key(j, "name");
    if (name) wfp_json_string(j, name);
    else wfp_json_null(j);
    wfp_json_key(j, "status");
    wfp_json_string(j, load_error ? "error" : wfp_scenario_result_passed(r) ? "pass" : "fail");
    wfp_json_key(j, "failures");
    wfp_json_begin_array(j);
    if (load_error) wfp_json_string(j, load_error);
    for (size_t i = 0; r && i < wfp_scenario_result_failure_count(r); i++)
        wfp_json_string(j, wfp_scenario_result_failure(r, i));
    wfp_json_end_array(j);
    wfp_json_key(j, "packets");
    wfp_json_begin_array(j);
    for (size_t i = 0; r && i < wfp_scenario_result_packet_count(r); i++) {
        const wfp_packet_record *p = wfp_scenario_result_packet(r, i);
        wfp_json_begin_object(j);
        wfp_json_key(j, "packet");
        wfp_json_uint(j, p->number);
        wfp_json_key(j, "time_ns");
        wfp_json_int(j, p->time_ns);
        wfp_json_key(j, "host");
        wfp_json_string(j, p->host);
        wfp_json_key(j, "verdict");
        wfp_json_string(j, p->permitted ? "permit" : "block");
        wfp_json_key(j, "layer");
        if (p->layer_id == UINT16_MAX) wfp_json_null(j);
        else wfp_json_string(j, layer_short(p->layer_id));
        wfp_json_key(j, "filter");
        if (p->filter_name) wfp_json_string(j, p->filter_name);
        else wfp_json_null(j);
        wfp_json_key(j, "reason");
        wfp_json_string(j, p->drop_reason ? p->drop_reason : wfp_reason_name(p->reason));
        wfp_json_key(j, "injected_from");
        if (p->injected_from) wfp_json_uint(j, p->injected_from);
        else wfp_json_null(j);
        wfp_json_key(j, "calls");
        wfp_json_begin_array(j);
        for (size_t k = 0; k < p->ncalls; k++) {
            const wfp_call_record *c = &p->calls[k];
            wfp_json_begin_object(j);
            wfp_json_key(j, "layer");
            wfp_json_string(j, layer_short(c->layer_id));
            wfp_json_key(j, "action");
            wfp_json_string(j, action_word(c->verdict.action));
            wfp_json_key(j, "filter");
            if (c->filter_name) wfp_json_string(j, c->filter_name);
            else wfp_json_null(j);
            wfp_json_key(j, "hard");
            wfp_json_bool(j, c->verdict.hard);
            wfp_json_key(j, "veto");
            wfp_json_bool(j, c->verdict.vetoed);
            wfp_json_end_object(j);
        }
        wfp_json_end_array(j);
        wfp_json_end_object(j);
    }
    wfp_json_end_array(j);
    /* one outcome per item of `expect:`, so CI can point at the exact line */
    wfp_json_key(j, "expectations");
    wfp_json_begin_array(j);
    for (size_t i = 0; r && i < wfp_scenario_result_expectation_count(r); i++) {
        const wfp_expectation_record *e = wfp_scenario_result_expectation(r, i);
        wfp_json_begin_object(j);
        wfp_json_key(j, "kind");
        wfp_json_string(j, wfp_expectation_kind_name(e->kind));
        wfp_json_key(j, "what");
        wfp_json_string(j, e->what ? e->what : "");
        wfp_json_key(j, "line");
        wfp_json_uint(j, e->line);
        wfp_json_key(j, "passed");
        wfp_json_bool(j, e->passed);
        wfp_json_key(j, "message");
        if (e->message) wfp_json_string(j, e->message);
        else wfp_json_null(j);
        wfp_json_end_object(j);
    }
    wfp_json_end_array(j);
    wfp_json_end_object(j);
}

static int usage(const char *cmd, FILE *f)
{
    if (!strcmp(cmd, "check"))
        fprintf(f, "usage: wfpsim check PATH...\n  validate scenario files without running them\n");
    else
        fprintf(f, "usage: wfpsim run [--json] [--junit FILE] [--trace] [--shard K/N] PATH...\n"
                   "  run scenario files (and directories of them); exit 0 all passed, 1 a failure, 2 bad input\n");
    return 2;
}

static int run_or_check(int argc, char **argv, bool check)
{
    const char *cmd = argv[0];
    bool json = false, trace = false;
    const char *junit = NULL;
    unsigned long shard_k = 1, shard_n = 1;
    paths files = {0};
    int status = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(cmd, stdout);
            return 0;
        } else if (!check && !strcmp(a, "--json")) {
            json = true;
        } else if (!check && !strcmp(a, "--trace")) {
            trace = true;
        } else if (!check && !strcmp(a, "--junit")) {
            if (++i >= argc) return usage(cmd, stderr);
            junit = argv[i];
        } else if (!check && !strcmp(a, "--shard")) {
            char *end;
            if (++i >= argc) return usage(cmd, stderr);
            shard_k = strtoul(argv[i], &end, 10);
            if (*end != '/' || shard_k < 1) return usage(cmd, stderr);
            shard_n = strtoul(end + 1, &end, 10);
            if (*end || shard_n < shard_k) {
                fprintf(stderr, "wfpsim %s: --shard wants K/N with 1 <= K <= N\n", cmd);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "wfpsim %s: unknown option '%s'\n", cmd, a);
            return usage(cmd, stderr);
        } else if (collect(&files, a, 0) != 0) {
            fprintf(stderr, "wfpsim %s: cannot read '%s'\n", cmd, a);
            status = 2;
        }
    }
    if (!files.n && status == 0) {
        fprintf(stderr, "wfpsim %s: no scenario files given\n", cmd);
        return usage(cmd, stderr);
    }

    FILE *jf = NULL;
    if (junit) {
        jf = fopen(junit, "w");
        if (!jf) {
            fprintf(stderr, "wfpsim run: cannot write '%s'\n", junit);
            return 2;
        }
        fprintf(jf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"wfpsim\">\n");
    }
    wfp_json j;
    if (json) {
        wfp_json_init(&j, stdout, true);
        wfp_json_begin_array(&j);
    }
    size_t passed = 0, failed = 0;
    wfp_run_options opt = {trace};
    for (size_t i = 0; i < files.n; i++) {
        if (shard_n > 1 && (i % shard_n) != shard_k - 1) continue;
        const char *path = files.v[i];
        wfp_yaml_errors err;
        wfp_yaml_errors_init(&err);
        wfp_scenario *sc = wfp_scenario_load(path, &err);
        const char *load_error = NULL;
        wfp_scenario_result *r = NULL;
        if (!sc) {
            load_error = wfp_yaml_errors_first(&err) ? wfp_yaml_errors_first(&err) : "cannot load";
            status = 2;
        } else if (check) {
            if (!wfp_scenario_check(sc, &err)) {
                load_error = wfp_yaml_errors_first(&err) ? wfp_yaml_errors_first(&err) : "invalid";
                status = 2;
            }
        } else {
            r = wfp_scenario_run(sc, &opt);
        }
        const char *name = sc ? wfp_scenario_name(sc) : path;
        bool ok = !load_error && (check || wfp_scenario_result_passed(r));
        if (ok) passed++;
        else failed++;
        if (json) {
            json_result(&j, path, sc ? wfp_scenario_name(sc) : NULL, r, load_error);
        } else if (ok) {
            printf("PASS %s\n", name);
        } else {
            printf("FAIL %s: %s\n", name, load_error ? load_error : wfp_scenario_result_reason(r));
            for (size_t k = 1; r && k < wfp_scenario_result_failure_count(r); k++)
                printf("     %s\n", wfp_scenario_result_failure(r, k));
        }
        if (trace && r && !json) print_trace(r);
        if (jf) {
            fprintf(jf, "<testcase classname=\"wfpsim\" name=\"");
            xml_escape(jf, name);
            fprintf(jf, "\" file=\"");
            xml_escape(jf, path);
            fprintf(jf, "\"");
            if (ok) {
                fprintf(jf, "/>\n");
            } else {
                fprintf(jf, "><failure message=\"");
                xml_escape(jf, load_error ? load_error : wfp_scenario_result_reason(r));
                fprintf(jf, "\">");
                for (size_t k = 0; r && k < wfp_scenario_result_failure_count(r); k++) {
                    xml_escape(jf, wfp_scenario_result_failure(r, k));
                    fputc('\n', jf);
                }
                fprintf(jf, "</failure></testcase>\n");
            }
        }
        wfp_scenario_result_free(r);
        wfp_scenario_free(sc);
        wfp_yaml_errors_clear(&err);
    }
    if (json) wfp_json_end_array(&j);
    if (jf) {
        fprintf(jf, "</testsuite>\n</testsuites>\n");
        fclose(jf);
    }
    for (size_t i = 0; i < files.n; i++) free(files.v[i]);
    free(files.v);
    /* the closing line goes to stderr with --json so stdout stays one JSON document */
    fprintf(json ? stderr : stdout, "%zu passed, %zu failed\n", passed, failed);
    if (status) return status;
    return failed ? 1 : 0;
}

int wfp_cmd_run(int argc, char **argv)
{
    return run_or_check(argc, argv, false);
}

int wfp_cmd_check(int argc, char **argv)
{
    return run_or_check(argc, argv, true);
}
