/* scenario.h — scenario files (docs/scenario-format.md): loading,
 * running and checking their expectations.
 *
 * wfp_scenario_load reads and checks a whole file (every key, every value
 * form) without running anything; wfp_scenario_run simulates it on fresh
 * hosts and compares what happened with `expect:`. A result keeps the
 * observations (per-packet fates, every classify call) for printing and
 * for the Python module. Nothing here has global state. */
#ifndef WFP_SCENARIO_H
#define WFP_SCENARIO_H

#include "wfp_engine.h"
#include "yamldoc.h"

typedef struct wfp_scenario wfp_scenario;
typedef struct wfp_scenario_result wfp_scenario_result;

/* NULL (and messages in err, each "FILE:LINE:COL: …") when the file is
 * unusable. */
wfp_scenario *wfp_scenario_load(const char *path, wfp_yaml_errors *err);
/* The same from text in memory; `name` stands for the file in messages
 * and relative capture paths. */
wfp_scenario *wfp_scenario_load_string(const char *name, const char *text, size_t length, wfp_yaml_errors *err);
void wfp_scenario_free(wfp_scenario *sc); /* accepts NULL */
const char *wfp_scenario_name(const wfp_scenario *sc);
const char *wfp_scenario_path(const wfp_scenario *sc);

/* Applies the policy and parses every step and packet against a scratch
 * host without running traffic: what `wfpsim check` does beyond loading. */
bool wfp_scenario_check(const wfp_scenario *sc, wfp_yaml_errors *err);

typedef struct wfp_run_options {
    bool trace; /* keep every classify's sublayer decisions for printing */
} wfp_run_options;

/* Runs the scenario. Returns NULL only when memory runs out; a scenario
 * that cannot run (a bad step, a missing capture) gives a result with
 * `error` set. */
wfp_scenario_result *wfp_scenario_run(const wfp_scenario *sc, const wfp_run_options *opt);
void wfp_scenario_result_free(wfp_scenario_result *r); /* accepts NULL */

/* Passed: ran and every expectation held. */
bool wfp_scenario_result_passed(const wfp_scenario_result *r);
/* Why it failed: a setup error or the first failing expectation (expected
 * and observed side by side); NULL when it passed. */
const char *wfp_scenario_result_reason(const wfp_scenario_result *r);
/* Every failing expectation, one message each. */
size_t wfp_scenario_result_failure_count(const wfp_scenario_result *r);
const char *wfp_scenario_result_failure(const wfp_scenario_result *r, size_t i);

/* ---- observations ------------------------------------------------------- */

typedef struct wfp_call_record {
    uint16_t layer_id;
    const char *host;  /* the host that classified */
    bool reauth;       /* a reauthorization (FLAGS carried IS_REAUTHORIZE) */
    wfp_verdict verdict;
    const char *filter_name; /* deciding filter's scenario name, or NULL */
    /* with opt.trace: every sublayer's decision, with the scenario names of
     * each sublayer and of the filter that decided it (NULL if none) */
    size_t nsublayers;
    const wfp_trace_sublayer *sublayers;
    const char *const *sublayer_names;
    const char *const *sublayer_filters;
} wfp_call_record;

typedef struct wfp_packet_record {
    uint64_t number;   /* 1, 2, 3… in the order packets entered the simulation */
    int64_t time_ns;
    const char *host;
    bool inbound;
    bool permitted;
    bool absorbed;
    uint16_t layer_id; /* the deciding layer (the one that dropped it, or the last one classified) */
    uint64_t filter_id;
    const char *filter_name;
    uint32_t reason;   /* WFP_REASON_* of the deciding classify */
    const char *drop_reason; /* stack discard reason text, or NULL */
    size_t ncalls;
    const wfp_call_record *calls;
} wfp_packet_record;

size_t wfp_scenario_result_packet_count(const wfp_scenario_result *r);
const wfp_packet_record *wfp_scenario_result_packet(const wfp_scenario_result *r, size_t i);

/* ---- policy files --------------------------------------------------------- */

/* The policy mapping of FILE as `wfpsim classify --policy` and `wfpsim
 * replay --policy` take it: a scenario's `policy:`, or the whole document
 * when it is a bare policy mapping (providers, sublayers, callouts,
 * filters). The document is left in *doc (free it with wfp_yaml_doc_free,
 * also after a failure); NULL with messages in err when unusable. */
const wfp_yaml_node *wfp_policy_file_load(const char *path, wfp_yaml_doc **doc, wfp_yaml_errors *err);

/* ---- keeping the hosts for inspection (wfpsim graph) -------------------- */

typedef struct wfp_scenario_state wfp_scenario_state;
struct wfp_policy;
struct wfp_host_call;

/* Called after every classify of the run: the host, the number of the
 * packet being classified (0: socket events at start), the host's engine
 * and policy as they are at that moment, the call (item, direction,
 * reauth; wfp_host.h), the request, the verdict and the trace. */
typedef void (*wfp_scenario_observer)(void *ctx, const char *host, uint64_t packet, wfp_engine *engine,
                                      struct wfp_policy *policy, const struct wfp_host_call *call,
                                      const wfp_classify_request *req, const wfp_verdict *verdict,
                                      const wfp_trace *trace);

/* Runs the scenario as wfp_scenario_run does (the result goes to *result,
 * NULL when memory runs out) and keeps every host's engine and policy as
 * they are at the end, for inspection only: classifying with them or
 * changing them is not supported (the run's subscribers are gone).
 * `observe` (optional) sees every classify while the run lasts. Returns
 * NULL when memory runs out or the setup failed (then *result says why). */
wfp_scenario_state *wfp_scenario_run_keep(const wfp_scenario *sc, const wfp_run_options *opt,
                                          wfp_scenario_observer observe, void *ctx,
                                          wfp_scenario_result **result);
/* NULL host: the first host. NULL when there is no such host. */
wfp_engine *wfp_scenario_state_engine(wfp_scenario_state *st, const char *host);
struct wfp_policy *wfp_scenario_state_policy(wfp_scenario_state *st, const char *host);
void wfp_scenario_state_free(wfp_scenario_state *st); /* accepts NULL */

#endif
