/* wfp_engine.h — the WFP filter engine as a value: management objects
 * (providers, sublayers, callouts, filters) added through sessions, and
 * classification with Windows' full arbitration.
 *
 * The management calls have the shape of the FwpmXxx0 functions and return
 * their DWORD codes (wfp_types.h); detail text for the last failure of an
 * engine is in wfp_engine_last_error(). Descriptors passed in are copied;
 * objects handed out (get_by_*) are lent and live until the next call that
 * changes the engine. Classification runs against an immutable per-layer
 * snapshot compiled from the committed objects (spec §4.3). There is no
 * global state: a process may hold any number of engines. */
#ifndef WFP_ENGINE_H
#define WFP_ENGINE_H

#include "wfp_catalog.h"
#include "wfp_value.h"

typedef struct wfp_engine wfp_engine;
typedef struct wfp_session wfp_session;
typedef struct wfp_trace wfp_trace;

/* ---- engine ----------------------------------------------------------- */

/* How same-field conditions are OR'ed. Windows documents "consecutive"
 * conditions on one field; the common reading groups all of them. */
enum { WFP_OR_GROUP_BY_FIELD = 0, WFP_OR_ADJACENT_ONLY = 1 };

typedef struct wfp_engine_config {
    const wfp_allocator *allocator; /* NULL: malloc */
    uint32_t or_mode;               /* WFP_OR_* */
} wfp_engine_config;

/* NULL config: defaults. Returns NULL only when memory runs out. The new
 * engine holds the built-in sublayers, providers and callouts. */
wfp_engine *wfp_engine_create(const wfp_engine_config *config);
void wfp_engine_destroy(wfp_engine *engine); /* accepts NULL */
const char *wfp_engine_last_error(const wfp_engine *engine);

/* ---- sessions --------------------------------------------------------- */
#define FWPM_SESSION_FLAG_DYNAMIC 0x00000001u

typedef struct wfp_session_desc {
    wfp_guid key;        /* zero: generated */
    const char *name;
    uint32_t flags;      /* FWPM_SESSION_FLAG_* */
    const char *user_sid; /* "S-1-5-18"; NULL: SYSTEM */
    bool admin;          /* member of BUILTIN\Administrators */
    bool kernel_mode;
} wfp_session_desc;

uint32_t wfp_session_open(wfp_engine *engine, const wfp_session_desc *desc, wfp_session **out);
/* Dynamic sessions take their objects with them. Accepts NULL. */
void wfp_session_close(wfp_session *session);
wfp_engine *wfp_session_engine(const wfp_session *session);

/* ---- management objects (FWPM_*0 shapes) ------------------------------- */
typedef struct wfp_display_data {
    const char *name;
    const char *description;
} wfp_display_data;

typedef struct wfp_provider {
    wfp_guid key;
    wfp_display_data display;
    uint32_t flags; /* FWPM_PROVIDER_FLAG_* */
    wfp_byte_blob provider_data;
    const char *service_name;
} wfp_provider;

typedef struct wfp_sublayer {
    wfp_guid key;
    wfp_display_data display;
    uint32_t flags; /* FWPM_SUBLAYER_FLAG_* */
    const wfp_guid *provider_key; /* optional */
    wfp_byte_blob provider_data;
    uint16_t weight; /* on output: the weight BFE actually assigned */
} wfp_sublayer;

typedef struct wfp_callout {
    wfp_guid key;
    wfp_display_data display;
    uint32_t flags; /* FWPM_CALLOUT_FLAG_* */
    const wfp_guid *provider_key;
    wfp_byte_blob provider_data;
    wfp_guid applicable_layer;
    uint32_t callout_id; /* output */
} wfp_callout;

typedef struct wfp_action {
    uint32_t type; /* FWP_ACTION_BLOCK/PERMIT/CALLOUT_* */
    wfp_guid key;  /* calloutKey for callout actions, else filterType */
} wfp_action;

typedef struct wfp_filter {
    wfp_guid key;
    wfp_display_data display;
    uint32_t flags; /* FWPM_FILTER_FLAG_* */
    const wfp_guid *provider_key;
    wfp_byte_blob provider_data;
    wfp_guid layer_key;
    wfp_guid sublayer_key; /* zero: the layer's default sublayer */
    wfp_value weight;      /* FWP_EMPTY, FWP_UINT8 0..15 or FWP_UINT64 */
    uint32_t num_conditions;
    const wfp_condition *conditions;
    wfp_action action;
    uint64_t raw_context;
    wfp_guid provider_context_key; /* with FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT */
    uint64_t filter_id;            /* output */
    wfp_value effective_weight;    /* output: FWP_UINT64 */
} wfp_filter;

uint32_t wfp_provider_add(wfp_session *s, const wfp_provider *provider);
uint32_t wfp_provider_delete_by_key(wfp_session *s, const wfp_guid *key);
uint32_t wfp_provider_get_by_key(wfp_session *s, const wfp_guid *key, const wfp_provider **out);

uint32_t wfp_sublayer_add(wfp_session *s, const wfp_sublayer *sublayer);
uint32_t wfp_sublayer_delete_by_key(wfp_session *s, const wfp_guid *key);
uint32_t wfp_sublayer_get_by_key(wfp_session *s, const wfp_guid *key, const wfp_sublayer **out);

uint32_t wfp_callout_add(wfp_session *s, const wfp_callout *callout, uint32_t *id);
uint32_t wfp_callout_delete_by_key(wfp_session *s, const wfp_guid *key);
uint32_t wfp_callout_delete_by_id(wfp_session *s, uint32_t id);
uint32_t wfp_callout_get_by_key(wfp_session *s, const wfp_guid *key, const wfp_callout **out);
uint32_t wfp_callout_get_by_id(wfp_session *s, uint32_t id, const wfp_callout **out);

uint32_t wfp_filter_add(wfp_session *s, const wfp_filter *filter, uint64_t *id);
uint32_t wfp_filter_delete_by_key(wfp_session *s, const wfp_guid *key);
uint32_t wfp_filter_delete_by_id(wfp_session *s, uint64_t id);
uint32_t wfp_filter_get_by_key(wfp_session *s, const wfp_guid *key, const wfp_filter **out);
uint32_t wfp_filter_get_by_id(wfp_session *s, uint64_t id, const wfp_filter **out);

/* All filters of a layer (NULL layer: every layer) in the order the
 * engine evaluates them: sublayers by weight, filters by effective weight
 * (ties by ascending filter id). Lent until the next change. */
uint32_t wfp_filter_list(wfp_engine *engine, const wfp_guid *layer_key,
                         const wfp_filter *const **out, uint32_t *count);
/* Lookups without a session (printing, tests). NULL when absent. */
const wfp_filter *wfp_engine_filter_by_id(const wfp_engine *engine, uint64_t id);
const wfp_sublayer *wfp_engine_sublayer_by_key(const wfp_engine *engine, const wfp_guid *key);
const wfp_callout *wfp_engine_callout_by_id(const wfp_engine *engine, uint32_t id);
const wfp_provider *wfp_engine_provider_by_key(const wfp_engine *engine, const wfp_guid *key);

/* A canonical text dump of everything the engine holds (objects sorted by
 * key, with ids, effective weights, conditions, references, registrations
 * and the id counters), for golden tests and for proving that a failed
 * operation changed nothing. snprintf-style: returns the full length. */
size_t wfp_engine_dump(wfp_engine *engine, char *buf, size_t n);

/* ---- run-time (FWPS) side ---------------------------------------------- */

/* FWPS_INCOMING_METADATA_VALUES0, the subset the simulator provides.
 * Fields not flagged in `present` are unknown. */
#define WFP_METADATA_PACKET_DIRECTION 0x0001u
#define WFP_METADATA_FLOW_HANDLE 0x0002u
#define WFP_METADATA_PROCESS_ID 0x0004u
#define WFP_METADATA_DISCARD_REASON 0x0008u
#define WFP_METADATA_ALE_CLASSIFY_REQUIRED 0x0010u
#define WFP_METADATA_INJECTION_STATE 0x0020u
typedef struct wfp_incoming_metadata {
    uint32_t present;
    uint32_t packet_direction; /* FWP_DIRECTION_* */
    uint64_t flow_handle;
    uint64_t process_id;
    uint32_t discard_module;
    uint32_t discard_reason;
    uint32_t injection_state;
} wfp_incoming_metadata;

/* FWPS_FILTER0 as a callout sees it. */
typedef struct wfp_fwps_condition {
    uint16_t field_id; /* index into the layer schema */
    uint32_t match_type;
    const wfp_condition_value *value;
} wfp_fwps_condition;

typedef struct wfp_fwps_filter {
    uint64_t filter_id;
    uint64_t weight; /* effective weight */
    uint16_t sublayer_weight;
    uint16_t flags; /* FWPS_FILTER_FLAG_* */
    uint32_t num_conditions;
    const wfp_fwps_condition *conditions;
    uint32_t action_type;
    uint32_t callout_id;
    uint64_t context;
    const wfp_filter *management; /* the FWPM form (name, key, provider…) */
} wfp_fwps_filter;

/* FWPS_CLASSIFY_OUT0. */
typedef struct wfp_classify_out {
    uint32_t action_type;
    uint64_t out_context;
    uint64_t filter_id;
    uint32_t rights; /* FWPS_RIGHT_ACTION_WRITE */
    uint32_t flags;  /* FWPS_CLASSIFY_OUT_FLAG_* */
} wfp_classify_out;

typedef struct wfp_incoming_values {
    uint16_t layer_id;
    uint32_t count;
    const wfp_value *values; /* count == the layer's num_fields */
} wfp_incoming_values;

typedef void (*wfp_callout_classify_fn)(void *ctx, const wfp_incoming_values *in,
                                        const wfp_incoming_metadata *meta, void *layer_data,
                                        const wfp_fwps_filter *filter, uint64_t flow_context,
                                        wfp_classify_out *out);
/* FWPS_CALLOUT_NOTIFY_FN: non-zero from an ADD notification refuses the add. */
typedef uint32_t (*wfp_callout_notify_fn)(void *ctx, uint32_t notify_type, const wfp_guid *filter_key,
                                          const wfp_fwps_filter *filter);
typedef void (*wfp_callout_flow_delete_fn)(void *ctx, uint16_t layer_id, uint32_t callout_id,
                                           uint64_t flow_context);

/* FWPS_CALLOUT: the driver side of a callout, matched to the management
 * object by key. Either may come first. */
typedef struct wfp_callout_registration {
    wfp_guid callout_key;
    uint32_t flags; /* FWP_CALLOUT_FLAG_* */
    wfp_callout_classify_fn classify;
    wfp_callout_notify_fn notify;         /* optional */
    wfp_callout_flow_delete_fn flow_delete; /* optional */
    void *ctx;
} wfp_callout_registration;

/* FWP_E_ALREADY_EXISTS if the key is registered already. */
uint32_t wfp_callout_register(wfp_engine *engine, const wfp_callout_registration *reg,
                              uint32_t *callout_id);
/* FWP_E_CALLOUT_NOT_FOUND if not registered. Filters that reference it
 * then arbitrate as filters of an unregistered callout. */
uint32_t wfp_callout_unregister_by_key(wfp_engine *engine, const wfp_guid *key);
bool wfp_callout_is_registered(const wfp_engine *engine, const wfp_guid *key);

/* Flow contexts for FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW: the simulator
 * owns flows and tells the engine what a flow holds. */
typedef struct wfp_flow_context_ops {
    bool (*get)(void *ctx, uint16_t layer_id, uint32_t callout_id, uint64_t *flow_context);
    void *ctx;
} wfp_flow_context_ops;

typedef struct wfp_classify_request {
    uint16_t layer_id;
    const wfp_value *values; /* the layer's fields, in schema order */
    uint32_t num_values;
    const wfp_incoming_metadata *meta; /* optional */
    void *layer_data;                  /* handed to callouts */
    const wfp_flow_context_ops *flow;  /* optional */
} wfp_classify_request;

/* Why a verdict is what it is. One table, for enums and names. */
#define WFP_VERDICT_REASONS(X)                                                            \
    X(WFP_REASON_NO_MATCH, "no_match", "no filter matched")                                \
    X(WFP_REASON_NO_DECISION, "no_decision", "filters matched but none permitted or blocked") \
    X(WFP_REASON_FILTER_PERMIT, "filter_permit", "a filter permitted")                     \
    X(WFP_REASON_FILTER_BLOCK, "filter_block", "a filter blocked")                         \
    X(WFP_REASON_CALLOUT_PERMIT, "callout_permit", "a callout permitted")                  \
    X(WFP_REASON_CALLOUT_BLOCK, "callout_block", "a callout blocked")                      \
    X(WFP_REASON_CALLOUT_VETO, "callout_veto", "a callout vetoed a hard permit")           \
    X(WFP_REASON_UNREGISTERED_CALLOUT_BLOCK, "unregistered_callout_block",                 \
      "the filter's callout is not registered")                                            \
    X(WFP_REASON_UNREGISTERED_CALLOUT_PERMIT, "unregistered_callout_permit",               \
      "the filter's callout is not registered (permit_if_callout_unregistered)")

enum wfp_verdict_reason {
#define X(id, name, text) id,
    WFP_VERDICT_REASONS(X)
#undef X
    WFP_REASON_COUNT_
};
const char *wfp_reason_name(uint32_t reason);    /* "no_match", "callout_veto", … */
const char *wfp_reason_message(uint32_t reason);

/* The outcome of one classify at one layer. */
typedef struct wfp_verdict {
    uint16_t layer_id;
    uint32_t action;   /* FWP_ACTION_PERMIT / BLOCK / NONE / NONE_NO_MATCH */
    bool permitted;    /* what the shim does: NONE and NONE_NO_MATCH permit (spec §4.8) */
    bool hard;         /* the write right was cleared */
    bool vetoed;
    bool absorb;       /* FWPS_CLASSIFY_OUT_FLAG_ABSORB: drop silently */
    uint32_t reason;   /* WFP_REASON_* */
    uint64_t filter_id; /* the deciding filter; 0 when none */
    wfp_guid sublayer_key; /* its sublayer */
    uint32_t rights;
    uint32_t flags;
    uint64_t context;  /* the deciding filter's context */
} wfp_verdict;

/* Runs the reference classifier. Returns ERROR_SUCCESS,
 * FWP_E_LAYER_NOT_FOUND, or FWP_E_INVALID_PARAMETER (wrong value count).
 * `trace` (optional, reusable) receives every sublayer's decision and every
 * filter that was tried. */
uint32_t wfp_classify(wfp_engine *engine, const wfp_classify_request *req, wfp_verdict *out,
                      wfp_trace *trace);

/* ---- trace ------------------------------------------------------------ */
/* What happened to a terminating result in arbitration. */
enum {
    WFP_EFFECT_NONE = 0,     /* not terminating (continue / not matched) */
    WFP_EFFECT_APPLIED = 1,  /* became the current decision */
    WFP_EFFECT_IGNORED = 2,  /* a hard decision already stood */
    WFP_EFFECT_VETO = 3      /* a callout's block overrode a hard permit */
};

typedef struct wfp_trace_step {
    uint64_t filter_id;
    uint32_t sublayer_index; /* into the trace's sublayers */
    bool matched;
    uint32_t result; /* FWP_ACTION_PERMIT / BLOCK / CONTINUE; 0 when not matched */
    bool hard;
    uint32_t effect; /* WFP_EFFECT_* */
    bool callout_invoked;
} wfp_trace_step;

typedef struct wfp_trace_sublayer {
    wfp_guid key;
    uint16_t weight;
    uint32_t action;    /* this sublayer's own decision: PERMIT/BLOCK, or NONE / NONE_NO_MATCH */
    uint64_t filter_id; /* the filter that decided it */
    bool hard;
    uint32_t effect;    /* WFP_EFFECT_* of its decision on the layer verdict */
} wfp_trace_sublayer;

wfp_trace *wfp_trace_create(const wfp_allocator *allocator); /* NULL allocator: malloc */
void wfp_trace_destroy(wfp_trace *trace); /* accepts NULL */
size_t wfp_trace_sublayer_count(const wfp_trace *trace);
const wfp_trace_sublayer *wfp_trace_sublayer_at(const wfp_trace *trace, size_t i);
size_t wfp_trace_step_count(const wfp_trace *trace);
const wfp_trace_step *wfp_trace_step_at(const wfp_trace *trace, size_t i);

#endif
