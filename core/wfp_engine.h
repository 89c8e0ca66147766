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
    bool reference_only;            /* classify without the fast index (the oracle; tests) */
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
    bool kernel_mode;    /* kernel-mode callers bypass every access check */
    const char *const *groups; /* further group SIDs of the token ("S-1-5-32-556", "NO") */
    size_t num_groups;
    uint32_t txn_wait_timeout_ms; /* FWPM_SESSION0.txnWaitTimeoutInMSec; 0: 15 s; UINT32_MAX: infinite */
} wfp_session_desc;

/* FwpmEngineOpen0: needs FWPM_ACTRL_OPEN on the engine (administrators
 * always have it). The session's token is its user SID, Everyone,
 * Authenticated Users, BUILTIN\Administrators when `admin`, and `groups`. */
uint32_t wfp_session_open(wfp_engine *engine, const wfp_session_desc *desc, wfp_session **out);
/* Dynamic sessions take their objects with them. Accepts NULL. */
void wfp_session_close(wfp_session *session);
wfp_engine *wfp_session_engine(const wfp_session *session);
uint32_t wfp_session_txn_wait_timeout_ms(const wfp_session *session); /* effective: 0 means 15000 */
bool wfp_session_is_dynamic(const wfp_session *session);
const wfp_guid *wfp_session_key(const wfp_session *session);

/* ---- transactions (FwpmTransaction*0) ----------------------------------- */
#define FWPM_TXN_READ_ONLY 0x00000001u

/* One engine-wide lock: while a session's transaction (explicit, or the
 * implicit one of a single call) holds it, every other session's call
 * fails with FWP_E_TIMEOUT. The engine has no clock: waiting for the lock
 * on virtual time is the caller's business (the scenario runner retries a
 * blocked step when the lock frees, until the session's wait timeout). */
uint32_t wfp_txn_begin(wfp_session *s, uint32_t flags);
/* All or nothing: either every change of the transaction becomes visible
 * (one new classify snapshot per changed layer, then the notifications),
 * or none does and the transaction is aborted (ERROR_NOT_ENOUGH_MEMORY). */
uint32_t wfp_txn_commit(wfp_session *s);
uint32_t wfp_txn_abort(wfp_session *s);
/* BFE's forced abort of a transaction held too long: its changes are
 * undone, the lock is released, and the session's next call in it fails
 * with FWP_E_TXN_ABORTED. */
uint32_t wfp_txn_force_abort(wfp_session *s);
/* The session holding the lock, or NULL. */
const wfp_session *wfp_engine_lock_holder(const wfp_engine *engine);
bool wfp_session_in_txn(const wfp_session *s);

/* ---- engine options (FwpmEngineGetOption0 / SetOption0) ------------------ */
enum {
    FWPM_ENGINE_COLLECT_NET_EVENTS = 0,
    FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS = 1,
    FWPM_ENGINE_NAME_CACHE = 2,
    FWPM_ENGINE_MONITOR_IPSEC_CONNECTIONS = 3,
    FWPM_ENGINE_PACKET_QUEUING = 4,
    FWPM_ENGINE_TXN_WATCHDOG_TIMEOUT_IN_MSEC = 5,
    FWPM_ENGINE_OPTION_MAX = 6
};
/* Values are FWP_UINT32. Set: not inside a transaction
 * (FWP_E_TXN_IN_PROGRESS), not from a dynamic session
 * (FWP_E_DYNAMIC_SESSION_IN_PROGRESS), needs FWPM_ACTRL_WRITE; get needs
 * FWPM_ACTRL_READ. */
uint32_t wfp_engine_set_option(wfp_session *s, uint32_t option, const wfp_value *value);
uint32_t wfp_engine_get_option(wfp_session *s, uint32_t option, wfp_value *value);

/* ---- change notifications (Fwpm*SubscribeChanges0) ----------------------- */
#define FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_ADD 0x00000001u
#define FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE 0x00000002u

/* Object types: for subscriptions, security containers and changes. */
enum {
    WFP_OBJECT_PROVIDER = 0,
    WFP_OBJECT_SUBLAYER = 1,
    WFP_OBJECT_CALLOUT = 2,
    WFP_OBJECT_FILTER = 3,
    WFP_OBJECT_LAYER = 4,
    WFP_OBJECT_NET_EVENTS = 5,
    WFP_OBJECT_TYPE_COUNT = 6
};
const char *wfp_object_type_name(uint32_t type); /* "provider", "sublayer", "callout", "filter", … */

/* FWPM_*_CHANGE0 */
typedef struct wfp_change {
    uint32_t object_type; /* WFP_OBJECT_* */
    uint32_t change_type; /* FWPM_CHANGE_ADD / FWPM_CHANGE_DELETE */
    wfp_guid key;
    uint64_t id;          /* filter id, callout id; 0 otherwise */
} wfp_change;
typedef void (*wfp_change_fn)(void *ctx, const wfp_change *change);

struct wfp_filter_enum_template; /* wfp_enum.h */
typedef struct wfp_subscription {
    uint32_t object_type; /* WFP_OBJECT_PROVIDER … FILTER */
    uint32_t flags;       /* FWPM_SUBSCRIPTION_FLAG_*; 0 means both */
    const struct wfp_filter_enum_template *filter_template; /* filters: optional, copied */
    const wfp_guid *provider_key; /* sublayers, callouts: optional template */
    const wfp_guid *layer_key;    /* callouts: optional template */
} wfp_subscription;

/* Changes are delivered after the transaction that made them commits, in
 * the order they were made, to every other session's matching
 * subscriptions (in the order they subscribed), and only for objects the
 * subscriber may read. A session never hears its own changes. Not inside a
 * transaction (FWP_E_TXN_IN_PROGRESS); needs FWPM_ACTRL_SUBSCRIBE on the
 * object type's container. */
uint32_t wfp_subscribe_changes(wfp_session *s, const wfp_subscription *sub, wfp_change_fn fn, void *ctx,
                               uint64_t *handle);
uint32_t wfp_unsubscribe_changes(wfp_session *s, uint64_t handle);

/* ---- security (Fwpm*GetSecurityInfo* / SetSecurityInfo*) ----------------- */
#define OWNER_SECURITY_INFORMATION 0x00000001u
#define GROUP_SECURITY_INFORMATION 0x00000002u
#define DACL_SECURITY_INFORMATION 0x00000004u
#define WFP_DELETE 0x00010000u       /* standard DELETE right */
#define WFP_READ_CONTROL 0x00020000u
#define WFP_WRITE_DAC 0x00040000u
#define WFP_WRITE_OWNER 0x00080000u

/* The security descriptor of an object (key), of an object type's
 * container (key NULL), or of the engine (WFP_OBJECT_TYPE_COUNT). SDDL text,
 * lent until the next call on the session. Needs READ_CONTROL. */
uint32_t wfp_get_security(wfp_session *s, uint32_t object_type, const wfp_guid *key, const char **sddl);
/* Replaces the parts named by `info` (OWNER/GROUP/DACL_SECURITY_INFORMATION)
 * with those of `sddl`. Needs WRITE_OWNER / WRITE_DAC (the owner always has
 * WRITE_DAC; an administrator may take ownership). Not inside a
 * transaction; from a dynamic session only for its own objects. An object's
 * own ACEs come before those it inherits from its container and the engine
 * (unless its DACL is protected, "D:P"). */
uint32_t wfp_set_security(wfp_session *s, uint32_t object_type, const wfp_guid *key, uint32_t info,
                          const char *sddl);

/* ---- lifetimes: reboot and BFE start ------------------------------------ */

/* A reboot: every session ends (dynamic objects go), static objects go,
 * persistent and boot-time objects stay; the net-event log is emptied.
 * Until wfp_engine_bfe_start only boot-time filters are enforced; after it
 * persistent filters are enforced again and boot-time filters no longer
 * (the hand-over is atomic). Callout registrations stay (the drivers load
 * at boot). Sessions are closed: their handles become invalid. */
void wfp_engine_reboot(wfp_engine *engine);
/* BFE start: persistent objects of providers whose service does not start
 * automatically are disabled (FWPM_PROVIDER_FLAG_DISABLED,
 * FWPM_FILTER_FLAG_DISABLED) and not enforced. */
void wfp_engine_bfe_start(wfp_engine *engine);
bool wfp_engine_bfe_running(const wfp_engine *engine);
/* Services that do not start automatically (for provider gating at BFE
 * start). Unknown services are auto-start. */
uint32_t wfp_engine_set_service_autostart(wfp_engine *engine, const char *service, bool autostart);

/* ---- statistics (FWPM_STATISTICS0) ------------------------------------- */
typedef struct wfp_layer_stats {
    uint64_t classify_count;
    uint64_t permit_count; /* classifyPermitCount (NONE verdicts count as permits) */
    uint64_t block_count;  /* classifyBlockCount */
    uint64_t veto_count;   /* classifyVetoCount */
} wfp_layer_stats;

typedef struct wfp_engine_stats {
    uint64_t classify_count;
    uint64_t inbound_allowed_v4, inbound_blocked_v4, outbound_allowed_v4, outbound_blocked_v4;
    uint64_t inbound_allowed_v6, inbound_blocked_v6, outbound_allowed_v6, outbound_blocked_v6;
    uint64_t reauth_dir_inbound, reauth_dir_outbound, reauth_family_v4, reauth_family_v6;
    uint64_t reauth_reason_policy_change;
    uint64_t notifications_delivered;
    uint64_t net_events_recorded, net_events_dropped;
} wfp_engine_stats;

void wfp_engine_get_stats(const wfp_engine *engine, wfp_engine_stats *out);
void wfp_engine_get_layer_stats(const wfp_engine *engine, uint16_t layer_id, wfp_layer_stats *out);

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
/* For imports of real Windows state (wfpsim import): adds a filter with the
 * id a real BFE gave it and, when `effective_weight` is not NULL, the
 * effective weight it recorded (the weight is still validated). Later
 * filters get ids above the largest. FWP_E_ALREADY_EXISTS when the id is
 * taken. */
uint32_t wfp_filter_add_with_id(wfp_session *s, const wfp_filter *filter, uint64_t filter_id,
                                const uint64_t *effective_weight);
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
typedef struct wfp_incoming_metadata {
    uint32_t present;
    uint32_t packet_direction; /* FWP_DIRECTION_* */
    uint64_t flow_handle;
    uint64_t process_id;
    uint32_t discard_module;
    uint32_t discard_reason;
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
    uint64_t time_ns;                  /* virtual time, for net events */
    /* With below_sublayer: only sublayers weighted below
     * below_sublayer_weight take part (stream data a callout injected is
     * indicated to lower-weight sublayers only, DDI FwpsStreamInjectAsync0). */
    bool below_sublayer;
    uint16_t below_sublayer_weight;
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

/* Classifies: the reference algorithm, with a bit-vector index that skips
 * filters that cannot match (unless the engine was created with
 * reference_only; both give the same verdicts and sublayer decisions, and
 * tests check it). Returns ERROR_SUCCESS,
 * FWP_E_LAYER_NOT_FOUND, or FWP_E_INVALID_PARAMETER (wrong value count).
 * `trace` (optional, reusable) receives every sublayer's decision and every
 * filter that was tried (the index's rejects are not tried). */
uint32_t wfp_classify(wfp_engine *engine, const wfp_classify_request *req, wfp_verdict *out,
                      wfp_trace *trace);

/* Does filter f match every packet filter g matches, judged from their
 * conditions alone (intervals of unsigned values and IPv4 masks, IPv6
 * prefixes, flag tests, identical conditions)? Conservative: false when
 * unsure. `wfpsim graph` uses it to mark filters that a higher terminating
 * filter always decides first. */
bool wfp_filter_covers(const wfp_filter *f, const wfp_filter *g);

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
