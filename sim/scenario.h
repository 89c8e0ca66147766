/* scenario.h — scenario files (docs/scenario-format.md): loading,
 * running and checking their expectations.
 *
 * wfp_scenario_load reads and checks a whole file (every key, every value
 * form) without running anything; wfp_scenario_run simulates it on fresh
 * hosts and compares what happened with `expect:`. A result keeps the
 * observations (per-packet fates, every classify call, every host's
 * net-event log, the notifications delivered) and one outcome per
 * expectation, for printing and for the Python module. Nothing here has
 * global state. */
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
    uint64_t injected_from;  /* a callout's injected copy: the packet being classified
                                when it was injected; 0: from the traffic */
    const char *injection_kind; /* "transport_receive"…; NULL when not injected */
    size_t ncalls;
    const wfp_call_record *calls;
} wfp_packet_record;

size_t wfp_scenario_result_packet_count(const wfp_scenario_result *r);
const wfp_packet_record *wfp_scenario_result_packet(const wfp_scenario_result *r, size_t i);

/* The net-event log of every host as the run saw it at the end (hosts in
 * scenario order, each log in recording order; empty unless the engine
 * collects net events). Addresses are set as `flags` says
 * (FWPM_NET_EVENT_FLAG_*). */
typedef struct wfp_net_event_record {
    const char *host;
    uint64_t sequence;       /* per host engine: recording order */
    uint64_t time_ns;
    uint32_t type;           /* FWPM_NET_EVENT_TYPE_* */
    uint32_t flags;          /* FWPM_NET_EVENT_FLAG_*: which fields are set */
    uint64_t packet;         /* the packet being classified (0: none, e.g. socket events) */
    uint16_t layer_id;
    uint64_t filter_id;
    const char *filter_name; /* the scenario's name, else the display name, else "#id"; NULL for id 0 */
    uint32_t ip_version;     /* FWP_IP_VERSION_* */
    uint8_t ip_protocol;
    uint8_t local_addr[16];  /* v4: first 4 bytes, network order */
    uint8_t remote_addr[16];
    uint16_t local_port;
    uint16_t remote_port;
    uint32_t direction;      /* FWP_DIRECTION_* */
} wfp_net_event_record;

size_t wfp_scenario_result_net_event_count(const wfp_scenario_result *r);
const wfp_net_event_record *wfp_scenario_result_net_event(const wfp_scenario_result *r, size_t i);

/* Change notifications delivered to the scenario's subscriptions (the
 * `subscribe` steps), in delivery order. */
typedef struct wfp_notification_record {
    const char *session;     /* the subscribing session's scenario name */
    const char *host;
    uint32_t change_type;    /* FWPM_CHANGE_ADD / FWPM_CHANGE_DELETE */
    uint32_t object_type;    /* WFP_OBJECT_* */
    wfp_guid key;
    uint64_t id;             /* filter or callout id; 0 otherwise */
    const char *name;        /* the object's scenario name at the end of the run, or NULL */
} wfp_notification_record;

size_t wfp_scenario_result_notification_count(const wfp_scenario_result *r);
const wfp_notification_record *wfp_scenario_result_notification(const wfp_scenario_result *r, size_t i);

/* One outcome per item of `expect:`, in the order they are checked:
 * packets entries, classifications entries, notifications entries (then
 * one for the list as a whole: nothing observed beyond it), net_events
 * entries (then, unless `subset`, one for the list as a whole), stats
 * keys, flows. Empty when the run did not get as far as checking (a setup
 * error). */
enum {
    WFP_EXPECT_PACKETS = 0,
    WFP_EXPECT_CLASSIFICATIONS = 1,
    WFP_EXPECT_NET_EVENTS = 2,
    WFP_EXPECT_NOTIFICATIONS = 3,
    WFP_EXPECT_STATS = 4,
    WFP_EXPECT_FLOWS = 5
};

typedef struct wfp_expectation_record {
    uint32_t kind;        /* WFP_EXPECT_* */
    const char *what;     /* "packet 3", "packets 1-4", "notification 2", "stats.blocked", ... */
    const char *file;     /* position of the item in the scenario file; NULL (line 0) when unknown */
    unsigned line, column;
    bool passed;
    const char *message;  /* the first failure message for this item; NULL when it passed */
} wfp_expectation_record;

/* "packets", "classifications", "net_events", "notifications", "stats", "flows" */
const char *wfp_expectation_kind_name(uint32_t kind);
size_t wfp_scenario_result_expectation_count(const wfp_scenario_result *r);
const wfp_expectation_record *wfp_scenario_result_expectation(const wfp_scenario_result *r, size_t i);

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
