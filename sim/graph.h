/* graph.h — pictures of WFP arbitration (`wfpsim graph`), drawn with
 * Graphviz's C libraries (cgraph + gvc), rendered in-process.
 *
 * Three views, each built first as DOT text and only then handed to
 * Graphviz for layout and rendering:
 *  - layer view: one layer's sublayers (highest weight first), inside each
 *    its filters in evaluation order with action, hard/soft, provider,
 *    effective weight and conditions; filters a higher-weight terminating
 *    filter of the same sublayer always hides are marked unreachable;
 *  - packet view: the same layer with one classification laid over it:
 *    filters tried and matched, each sublayer's decision and its effect
 *    (applied, ignored because a hard decision stood, veto), the verdict;
 *  - journey view: one packet's classify calls in order, layer by layer,
 *    with the verdict at each and the packet's fate.
 *
 * The DOT text is stable: the same input gives the same bytes (nodes are
 * named by filter id and position, never by pointer; no times). Nothing
 * here has global state of its own; Graphviz itself keeps some (its
 * parser and plugin registry), so renders must not run concurrently. */
#ifndef WFP_GRAPH_H
#define WFP_GRAPH_H

#include "wfp_engine.h"

struct wfp_policy;

/* How a large layer is drawn. */
enum {
    WFP_GRAPH_COLLAPSE_NONE = 0,     /* one node per filter */
    WFP_GRAPH_COLLAPSE_PROVIDER = 1, /* one node per (sublayer, provider), with counts */
    WFP_GRAPH_COLLAPSE_SUBLAYER = 2  /* one node per sublayer, with counts */
};

typedef struct wfp_graph_options {
    uint32_t collapse;       /* WFP_GRAPH_COLLAPSE_* */
    const char *filter_text; /* keep only filters whose name or provider contains it (any case); NULL: all */
    const char *title;       /* a line under the picture's heading; NULL: none */
} wfp_graph_options;

/* What to draw from a scenario file (or a bare policy mapping, for the
 * layer view only). */
typedef struct wfp_graph_request {
    const char *path;   /* scenario file, or a policy file as `wfpsim classify --policy` takes it */
    const char *layer;  /* layer and packet views: "ALE_AUTH_RECV_ACCEPT_V4", with or without
                           FWPM_LAYER_, or without _V4/_V6 (the packet's or else the V4 one);
                           packet view: NULL means the layer that decided the packet's fate */
    uint64_t packet;    /* packet view: the packet number (1, 2, … as `wfpsim run` numbers them) */
    uint64_t journey;   /* journey view: the packet number; wins over `packet` */
    const char *host;   /* NULL: the first host (packet view: the first host that classified it there) */
    wfp_graph_options options;
} wfp_graph_request;

/* Result codes, as the commands' exit codes: 0 done, 1 internal failure
 * (out of memory, Graphviz failed), 2 unusable input (message in err). On
 * success *out is malloc'ed (free() it), NUL-terminated for text formats,
 * and *len is its length without the NUL. */

/* The view the request asks for, as DOT text. The scenario is run
 * (layer view: the policy as it stands at the end of the run). */
int wfp_graph_dot(const wfp_graph_request *req, char **out, size_t *len, char *err, size_t errlen);
/* A Graphviz context (GVC_t) kept for many renders. Graphviz 2.43's
 * pango text layout caches a pointer into the font table of the first
 * context that laid out text and reads it again after that context is
 * freed; a process that renders more than once should therefore render
 * everything through one renderer (a Graphviz bug, fixed in later
 * releases; harmless in practice but AddressSanitizer reports it). */
typedef struct wfp_graph_renderer wfp_graph_renderer;
wfp_graph_renderer *wfp_graph_renderer_create(void); /* NULL when Graphviz cannot start */
void wfp_graph_renderer_destroy(wfp_graph_renderer *r); /* accepts NULL */

/* The view, laid out and rendered: format "svg", "png", "pdf" (anything
 * Graphviz renders) or "dot" (the DOT text itself). `r` NULL: a context of
 * its own for this one call (see above). */
int wfp_graph_render(const wfp_graph_request *req, const char *format, char **out, size_t *len, char *err,
                     size_t errlen);
int wfp_graph_render_with(wfp_graph_renderer *r, const wfp_graph_request *req, const char *format, char **out,
                          size_t *len, char *err, size_t errlen);
/* Lays out (dot) and renders DOT text; `r` as above. */
int wfp_graph_render_dot(wfp_graph_renderer *r, const char *dot, const char *format, char **out, size_t *len,
                         char *err, size_t errlen);
/* "svg", "png", "pdf" or "dot" from a file name's extension; NULL otherwise. */
const char *wfp_graph_format_from_path(const char *path);

/* Lower level: one layer of an engine. `policy` (optional) gives the
 * scenario's names; `trace` and `verdict` (optional, together) lay one
 * classification over it (packet view). Filters are read with
 * wfp_filter_list, so the engine must be the one the trace came from and
 * unchanged since. */
int wfp_graph_layer_dot(wfp_engine *engine, const struct wfp_policy *policy, const wfp_layer_info *layer,
                        const wfp_trace *trace, const wfp_verdict *verdict, const wfp_graph_options *opt,
                        char **out, size_t *len);

#endif
