/* cmd_import.c — `wfpsim import`: a real Windows WFP dump into wfpsim.
 *
 *   wfpsim import DUMP.xml [-o FILE|-] [--name NAME] [--check-weights]
 *                 [--verify] [-v] [--json]
 *
 * Parses the dump (netsh wfp show state / show filters), adds it to a fresh
 * engine and reports what came in and what could not be represented.
 * `-o` writes it as a scenario file (`-o -`: to stdout; the report then
 * goes to stderr so stdout holds only YAML). `--verify` reads the export
 * back and compares it with the dump, object by object. `--check-weights`
 * compares wfpsim's automatic weights with those Windows recorded and ends
 * the report with "weights: A of B automatic weights agree with Windows".
 * `-v` lists every object not imported, every unregistered callout and
 * every weight mismatch. `--json` prints the report as JSON on stdout.
 *
 * Exit codes: 0 done; 1 the export could not be written or --verify found a
 * difference; 2 usage, or the dump cannot be read. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wfp_import.h"

static void usage(FILE *out)
{
    fputs("usage: wfpsim import DUMP.xml [-o FILE|-] [--name NAME] [--check-weights] [--verify] [-v] [--json]\n"
          "  Import a Windows WFP dump (netsh wfp show state / netsh wfp show filters).\n"
          "  -o FILE          write it as a scenario file (policy + import record); '-' for stdout\n"
          "  --name NAME      the scenario's name (default: import-<dump name>)\n"
          "  --check-weights  compare wfpsim's automatic filter weights with Windows' effectiveWeight\n"
          "  --verify         read the export back and compare it with the dump (round trip)\n"
          "  -v               list objects not imported, unregistered callouts, weight mismatches\n"
          "  --json           the report as JSON on stdout\n",
          out);
}

static char *slurp(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) return NULL;
    rewind(f);
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (!r) break;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Exports to a temporary file, reads it back, compares. */
static bool verify(const wfp_import_model *m, const char *name, char *why, size_t n)
{
    FILE *t = tmpfile();
    size_t len = 0;
    char *text;
    if (!t) {
        snprintf(why, n, "no temporary file for the export");
        return false;
    }
    if (!wfp_import_export_yaml(m, name, t)) {
        fclose(t);
        snprintf(why, n, "the export could not be written");
        return false;
    }
    text = slurp(t, &len);
    fclose(t);
    if (!text) {
        snprintf(why, n, "out of memory");
        return false;
    }
    wfp_import_model *back = wfp_import_read_export("export", text, len, why, n);
    free(text);
    if (!back) return false;
    bool same = wfp_import_model_equal(m, back, why, n);
    wfp_import_model_free(back);
    return same;
}

static void json_report(FILE *out, const wfp_import_model *m, const wfp_import_report *r, bool weights,
                        const wfp_import_weight_check *wc, int verified, const char *why)
{
    wfp_json j;
    wfp_json_init(&j, out, true);
    wfp_json_begin_object(&j);
    wfp_json_key(&j, "source");
    wfp_json_string(&j, m->source);
    wfp_json_key(&j, "format");
    wfp_json_string(&j, m->format == WFP_IMPORT_FORMAT_FILTERS ? "filters" : "state");
    struct {
        const char *key;
        size_t dump, added, builtin, failed;
    } kinds[] = {
        {"providers", m->num_providers, r->providers_added, r->builtin_providers, r->providers_failed},
        {"sublayers", m->num_sublayers, r->sublayers_added, r->builtin_sublayers, r->sublayers_failed},
        {"callouts", m->num_callouts, r->callouts_added, r->builtin_callouts, r->callouts_failed},
        {"filters", m->num_filters, r->filters_added, 0,
         r->filters_failed + r->filters_no_callout + r->filters_bad_layer + r->filters_bad_field + r->filters_bad_value +
             r->filters_bad_reference},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        wfp_json_key(&j, kinds[i].key);
        wfp_json_begin_object(&j);
        wfp_json_key(&j, "in_dump");
        wfp_json_uint(&j, kinds[i].dump);
        wfp_json_key(&j, "added");
        wfp_json_uint(&j, kinds[i].added);
        wfp_json_key(&j, "builtin");
        wfp_json_uint(&j, kinds[i].builtin);
        wfp_json_key(&j, "not_imported");
        wfp_json_uint(&j, kinds[i].failed);
        wfp_json_end_object(&j);
    }
    wfp_json_key(&j, "not_represented");
    wfp_json_begin_object(&j);
    struct {
        const char *key;
        size_t n;
    } items[] = {
        {"filters_bad_layer", r->filters_bad_layer},
        {"filters_bad_field", r->filters_bad_field},
        {"filters_bad_value", r->filters_bad_value},
        {"filters_bad_reference", r->filters_bad_reference},
        {"filters_no_callout", r->filters_no_callout},
        {"filters_refused", r->filters_failed},
        {"provider_contexts", r->provider_contexts},
        {"provider_context_refs", r->provider_context_refs},
        {"unknown_flags", r->unknown_flags},
        {"output_only_flags", r->output_only_flags},
        {"sessions", r->sessions},
        {"sublayer_weight_moved", r->sublayer_weight_moved},
        {"sublayers_synthesized", r->sublayers_synthesized},
        {"callouts_synthesized", r->callouts_synthesized},
        {"layer_schema_differs", r->layer_schema_differs},
        {"other_sections", m->num_other_sections},
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        wfp_json_key(&j, items[i].key);
        wfp_json_uint(&j, items[i].n);
    }
    wfp_json_end_object(&j);
    wfp_json_key(&j, "unregistered_callouts");
    wfp_json_uint(&j, r->callouts_unregistered + r->builtin_callouts);
    if (weights) {
        wfp_json_key(&j, "weights");
        wfp_json_begin_object(&j);
        wfp_json_key(&j, "agree");
        wfp_json_uint(&j, wc->agree);
        wfp_json_key(&j, "automatic");
        wfp_json_uint(&j, wc->automatic);
        wfp_json_end_object(&j);
    }
    if (verified >= 0) {
        wfp_json_key(&j, "round_trip");
        wfp_json_string(&j, verified ? "identical" : why);
    }
    wfp_json_end_object(&j);
}

int wfp_cmd_import(int argc, char **argv)
{
    const char *dump = NULL, *outpath = NULL, *name = NULL;
    bool check = false, verbose = false, json = false, do_verify = false;
    char err[512];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--name")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "wfpsim import: %s needs a value\n", a);
                usage(stderr);
                return 2;
            }
            if (!strcmp(a, "--name")) name = argv[++i];
            else outpath = argv[++i];
        } else if (!strcmp(a, "--check-weights")) {
            check = true;
        } else if (!strcmp(a, "--verify")) {
            do_verify = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = true;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "wfpsim import: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else if (!dump) {
            dump = a;
        } else {
            fprintf(stderr, "wfpsim import: one dump at a time (%s, %s)\n", dump, a);
            return 2;
        }
    }
    if (!dump) {
        fprintf(stderr, "wfpsim import: which dump? (netsh wfp show state > wfpstate.xml)\n");
        usage(stderr);
        return 2;
    }
    bool yaml_to_stdout = outpath && !strcmp(outpath, "-");
    if (json && yaml_to_stdout) {
        fprintf(stderr, "wfpsim import: --json prints on stdout; give -o a file\n");
        return 2;
    }
    FILE *rep = yaml_to_stdout || json ? stderr : stdout;

    wfp_import_model *m = wfp_import_parse_file(dump, err, sizeof err);
    if (!m) {
        fprintf(stderr, "wfpsim import: %s\n", err);
        return 2;
    }

    /* into a fresh engine, for the report */
    int rc = 0;
    wfp_import_report r;
    wfp_engine *e = wfp_engine_create(NULL);
    wfp_session *s = NULL;
    wfp_session_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.name = "import";
    sd.admin = true;
    if (!e || wfp_session_open(e, &sd, &s) != ERROR_SUCCESS ||
        !wfp_import_apply(m, s, &r, verbose ? rep : NULL)) {
        fprintf(stderr, "wfpsim import: out of memory\n");
        wfp_session_close(s);
        wfp_engine_destroy(e);
        wfp_import_model_free(m);
        return 2;
    }
    wfp_session_close(s);
    wfp_engine_destroy(e);

    if (outpath) {
        FILE *o = yaml_to_stdout ? stdout : fopen(outpath, "w");
        if (!o) {
            perror(outpath);
            rc = 1;
        } else {
            bool ok = wfp_import_export_yaml(m, name, o);
            if (!yaml_to_stdout && fclose(o)) ok = false;
            if (yaml_to_stdout && fflush(o)) ok = false;
            if (!ok) {
                fprintf(stderr, "wfpsim import: could not write %s\n", outpath);
                rc = 1;
            }
        }
    }

    int verified = -1;
    char why[512] = "";
    if (do_verify) {
        verified = verify(m, name, why, sizeof why) ? 1 : 0;
        if (!verified) rc = 1;
    }

    wfp_import_weight_check wc;
    memset(&wc, 0, sizeof wc);
    if (check) wfp_import_check_weights(m, &wc, NULL);

    if (json) {
        json_report(stdout, m, &r, check, &wc, verified, why);
        if (check) {
            if (verbose) wfp_import_check_weights(m, &wc, stderr);
            fprintf(stderr, "weights: %zu of %zu automatic weights agree with Windows\n", wc.agree, wc.automatic);
        }
    } else {
        wfp_import_report_print(m, &r, rep);
        if (verified >= 0) {
            if (verified) fprintf(rep, "round trip: the export reads back identical to the dump\n");
            else fprintf(rep, "round trip: DIFFERS: %s\n", why);
        }
        if (outpath && !yaml_to_stdout && !rc) fprintf(rep, "wrote %s\n", outpath);
        if (check) {
            if (verbose) wfp_import_check_weights(m, &wc, rep);
            fprintf(rep, "weights: %zu of %zu automatic weights agree with Windows\n", wc.agree, wc.automatic);
        }
    }
    wfp_import_model_free(m);
    return rc;
}
