/* cmd_graph.c — `wfpsim graph`: pictures of WFP arbitration (sim/graph.h).
 *
 *   wfpsim graph SCENARIO --layer NAME [--packet N] [--journey N]
 *                [--collapse provider|sublayer] [--filter TEXT] [--host NAME]
 *                -o OUT.svg|.png|.pdf|.dot|-
 *
 * The format comes from OUT's extension; `-o -` writes the DOT text to
 * standard output. Exit 0 when the picture was written, 2 on unusable
 * input or usage, 1 on internal failure (Graphviz, memory, writing). */
#include "commands.h"
#include "graph.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: wfpsim graph SCENARIO [--layer NAME] [--packet N | --journey N]\n"
          "                    [--collapse provider|sublayer] [--filter TEXT] [--host NAME] -o OUT\n"
          "  Draw WFP arbitration with Graphviz.\n"
          "  SCENARIO            a scenario file (a bare policy file: layer view only)\n"
          "  --layer NAME        layer view: the layer's sublayers and filters in evaluation order\n"
          "                      (ALE_AUTH_RECV_ACCEPT_V4; without _V4/_V6: the packet's, else V4)\n"
          "  --packet N          packet view: packet N's classification laid over the layer\n"
          "                      (without --layer: the layer that decided its fate)\n"
          "  --journey N         journey view: packet N's path through the layers, verdict at each\n"
          "  --collapse WHAT     provider: one node per provider in each sublayer; sublayer: one per sublayer\n"
          "  --filter TEXT       keep only filters whose name or provider contains TEXT (any case)\n"
          "  --host NAME         the host (default: the first; packet view: the first that classified it)\n"
          "  --title TEXT        a line under the heading (default: the scenario's name)\n"
          "  -o OUT              .svg, .png, .pdf or .dot (by extension); '-': DOT text on stdout\n",
          f);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-') return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0) return false;
    *out = (uint64_t)v;
    return true;
}

static int write_out(const char *path, const char *data, size_t len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "wfpsim graph: cannot write '%s': %s\n", path, strerror(errno));
        return 1;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    if (f != stdout) ok = fclose(f) == 0 && ok;
    else ok = fflush(f) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "wfpsim graph: cannot write '%s'\n", path);
        return 1;
    }
    return 0;
}

int wfp_cmd_graph(int argc, char **argv)
{
    wfp_graph_request req;
    const char *out_path = NULL;
    memset(&req, 0, sizeof req);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        static const char *const with_value[] = {"--layer", "--packet", "--journey", "--collapse",
                                                 "--filter", "--host", "--title", "-o"};
        const char *opt = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
            size_t n = strlen(with_value[k]);
            if (!strcmp(a, with_value[k])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "wfpsim graph: %s needs a value\n", a);
                    return 2;
                }
                opt = with_value[k];
                val = argv[++i];
            } else if (!strncmp(a, with_value[k], n) && a[n] == '=' && a[1] == '-') {
                opt = with_value[k];
                val = a + n + 1;
            }
            if (opt) break;
        }
        if (!opt) {
            if (a[0] == '-' && a[1]) {
                fprintf(stderr, "wfpsim graph: unknown option '%s'\n", a);
                usage(stderr);
                return 2;
            }
            if (req.path) {
                fprintf(stderr, "wfpsim graph: one scenario at a time ('%s' and '%s')\n", req.path, a);
                return 2;
            }
            req.path = a;
        } else if (!strcmp(opt, "--layer")) {
            req.layer = val;
        } else if (!strcmp(opt, "--packet") || !strcmp(opt, "--journey")) {
            if (!parse_u64(val, opt[2] == 'p' ? &req.packet : &req.journey)) {
                fprintf(stderr, "wfpsim graph: %s wants a packet number (1, 2, ...), not '%s'\n", opt, val);
                return 2;
            }
        } else if (!strcmp(opt, "--collapse")) {
            if (!strcmp(val, "provider")) req.options.collapse = WFP_GRAPH_COLLAPSE_PROVIDER;
            else if (!strcmp(val, "sublayer")) req.options.collapse = WFP_GRAPH_COLLAPSE_SUBLAYER;
            else if (!strcmp(val, "none")) req.options.collapse = WFP_GRAPH_COLLAPSE_NONE;
            else {
                fprintf(stderr, "wfpsim graph: --collapse provider|sublayer|none, not '%s'\n", val);
                return 2;
            }
        } else if (!strcmp(opt, "--filter")) {
            req.options.filter_text = val;
        } else if (!strcmp(opt, "--host")) {
            req.host = val;
        } else if (!strcmp(opt, "--title")) {
            req.options.title = val;
        } else {
            out_path = val;
        }
    }
    if (!req.path || !out_path) {
        fprintf(stderr, "wfpsim graph: %s\n", !req.path ? "which scenario?" : "-o OUT is required");
        usage(stderr);
        return 2;
    }
    if (req.packet && req.journey) {
        fprintf(stderr, "wfpsim graph: --packet or --journey, not both\n");
        return 2;
    }
    const char *format = strcmp(out_path, "-") ? wfp_graph_format_from_path(out_path) : "dot";
    if (!format) {
        fprintf(stderr, "wfpsim graph: '%s': the extension says the format: .svg, .png, .pdf or .dot\n", out_path);
        return 2;
    }
    char err[1024];
    char *data = NULL;
    size_t len = 0;
    int rc = wfp_graph_render(&req, format, &data, &len, err, sizeof err);
    if (rc) {
        fprintf(stderr, "wfpsim graph: %s\n", err[0] ? err : "failed");
        free(data);
        return rc;
    }
    rc = write_out(out_path, data, len);
    free(data);
    return rc;
}
