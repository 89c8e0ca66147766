/* fuzz_import.c — WFP dumps (netsh wfp show state / show filters) are
 * outside input: any bytes go through the XML importer. A dump that parses
 * is added to a scratch engine, checked for automatic weights, exported as
 * a scenario and read back, and the read-back model must equal the parsed
 * one (the round trip of `wfpsim import --verify`). Nothing may crash, leak
 * or read out of bounds; a rejected input must say why. */
#include "fuzz.h"
#include "wfp_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *drain(FILE *f, size_t *len)
{
    long n = ftell(f);
    if (n < 0) return NULL;
    char *buf = malloc((size_t)n + 1);
    if (!buf) return NULL;
    rewind(f);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = 0;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    wfp_import_model *m = wfp_import_parse_memory("fuzz.xml", data, size, err, sizeof err);
    if (!m) {
        FUZZ_CHECK(err[0] != 0);
        return 0;
    }
    /* into an engine */
    wfp_engine *e = wfp_engine_create(NULL);
    wfp_session *s = NULL;
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.admin = true;
    FUZZ_CHECK(e && wfp_session_open(e, &d, &s) == ERROR_SUCCESS);
    wfp_import_report r;
    FUZZ_CHECK(wfp_import_apply(m, s, &r, NULL));
    FUZZ_CHECK(r.filters_added <= m->num_filters);
    wfp_session_close(s);
    wfp_engine_destroy(e);
    /* weights */
    wfp_import_weight_check wc;
    wfp_import_check_weights(m, &wc, NULL);
    FUZZ_CHECK(wc.agree <= wc.automatic && wc.automatic <= m->num_filters);
    /* export and read back: the same model */
    FILE *t = tmpfile();
    if (t) {
        FUZZ_CHECK(wfp_import_export_yaml(m, NULL, t));
        size_t len = 0;
        char *text = drain(t, &len);
        fclose(t);
        if (text) {
            char why[512];
            wfp_import_model *back = wfp_import_read_export("fuzz.yaml", text, len, why, sizeof why);
            if (!back) fprintf(stderr, "read back failed: %s\n", why);
            FUZZ_CHECK(back != NULL);
            bool same = wfp_import_model_equal(m, back, why, sizeof why);
            if (!same) fprintf(stderr, "round trip differs: %s\n", why);
            FUZZ_CHECK(same);
            wfp_import_model_free(back);
            free(text);
        }
    }
    wfp_import_model_free(m);
    return 0;
}
