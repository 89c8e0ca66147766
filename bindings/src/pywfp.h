/* pywfp.h — private declarations shared by the files of the _wfpsim
 * extension module (the CPython binding of wfpsim).
 *
 * The module is thin: each method converts its arguments, makes one call
 * into core/ or sim/, and converts the result. There is no global mutable
 * state: the types, exception classes and the Python classes the module
 * needs (ipaddress, uuid) live in the module state, and every object keeps
 * a strong reference to the module so its state outlives it. Children keep
 * their parents alive (a session holds its engine); close() is idempotent;
 * the GIL is released around scenario runs. */
#ifndef PYWFP_H
#define PYWFP_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "scenario.h"
#include "wfp_catalog.h"
#include "wfp_engine.h"
#include "wfp_enum.h"
#include "wfp_netevent.h"
#include "wfp_value.h"
#include "yamldoc.h"

/* ---- exception families (one class each; every result code maps to one) -- */
#define PYWFP_FAMILIES(X)                                                                                  \
    X(FAM_BASE, "WfpError", NULL, "A WFP management call failed: .code is the DWORD, .name its name.")   \
    X(FAM_NOT_FOUND, "NotFoundError", "LookupError", "No object, layer or condition with that key/id.")  \
    X(FAM_ALREADY_EXISTS, "AlreadyExistsError", NULL, "An object with that key or id exists already.")   \
    X(FAM_IN_USE, "InUseError", NULL, "The object is still referenced, or is built in.")                  \
    X(FAM_ACCESS_DENIED, "AccessDeniedError", NULL, "The session's token lacks the access right.")       \
    X(FAM_SESSION, "SessionError", NULL, "The call does not fit the session (dynamic, wrong, aborted).")  \
    X(FAM_TRANSACTION, "TransactionError", NULL, "A transaction is (not) in progress, aborted or read-only.") \
    X(FAM_TIMEOUT, "LockTimeoutError", "TimeoutError", "The transaction lock could not be obtained in time.") \
    X(FAM_TYPE_MISMATCH, "TypeMismatchError", "TypeError", "A value, match, layer or lifetime does not fit.") \
    X(FAM_INVALID_PARAMETER, "InvalidParameterError", "ValueError", "A parameter is malformed or out of range.") \
    X(FAM_LIMIT, "LimitError", NULL, "A limit (callouts, sublayers, notifications) is reached.")            \
    X(FAM_UNAVAILABLE, "NotAvailableError", NULL, "The feature is switched off or not available now.")      \
    X(FAM_OUT_OF_MEMORY, "OutOfMemoryError", NULL, "The engine ran out of memory.")

enum pywfp_family {
#define X(id, name, builtin, doc) id,
    PYWFP_FAMILIES(X)
#undef X
    FAM_COUNT
};

/* ---- record types (struct sequences: immutable, named fields) ------------- */
enum pywfp_record {
    REC_VERDICT,
    REC_SUBLAYER_DECISION,
    REC_FILTER_STEP,
    REC_CHANGE,
    REC_NET_EVENT,
    REC_PROVIDER,
    REC_SUBLAYER,
    REC_CALLOUT,
    REC_FILTER,
    REC_LAYER,
    REC_FIELD,
    REC_ENGINE_STATS,
    REC_LAYER_STATS,
    REC_PACKET,
    REC_SCENARIO_RESULT,
    REC_SCENARIO_NET_EVENT,
    REC_NOTIFICATION,
    REC_EXPECTATION,
    REC_COUNT
};

typedef struct pywfp_state {
    PyTypeObject *engine_type;
    PyTypeObject *session_type;
    PyTypeObject *classify_out_type;
    PyTypeObject *scenario_type;
    PyTypeObject *records[REC_COUNT];
    struct wfp_graph_renderer *renderer; /* Graphviz context, made on first use (one per process is safest) */
    PyObject *families[FAM_COUNT];
    PyObject *callout_error;  /* CalloutError(RuntimeError): a Python callout raised */
    PyObject *policy_error;   /* PolicyError(ValueError): a body the loader refused */
    PyObject *scenario_error; /* ScenarioError(ValueError): a scenario file unusable */
    /* Python classes used to build values */
    PyObject *ipv4_address, *ipv6_address, *ipv4_network, *ipv6_network, *uuid;
    /* set by the pure-Python layer (wfpsim/__init__.py) through _set_classes */
    PyObject *condition; /* Condition(field, match, value); NULL: plain tuples */
    PyObject *quoted;    /* Quoted(str): a quoted YAML scalar; NULL: str */
} pywfp_state;

pywfp_state *pywfp_state_of(PyObject *module);
/* The _wfpsim module of one of its types or of a Python subclass of one
 * (borrowed), or NULL with TypeError set. */
PyObject *pywfp_module_of_type(PyTypeObject *type);

/* ---- objects ------------------------------------------------------------ */
typedef struct pywfp_callout pywfp_callout;
typedef struct pywfp_sub pywfp_sub;
typedef struct SessionObject SessionObject;

typedef struct EngineObject {
    PyObject_HEAD
    PyObject *module;       /* strong: the state lives as long as the engine */
    wfp_engine *engine;     /* NULL once closed */
    wfp_policy *policy;     /* name registry (names given to add_* resolve here) */
    wfp_trace *trace;       /* reused by classify */
    PyObject *pending;      /* list of (callback, record): notifications not yet delivered */
    bool draining;
    int in_callout;         /* a Python callout is running: engine calls are refused */
    PyObject *callout_exc;  /* what a Python callout raised in the current classify, or NULL */
    PyObject *callout_name; /* and which callout */
    pywfp_callout **callouts; /* Python callouts registered on this engine (owned) */
    size_t ncallouts, capcallouts;
    SessionObject **sessions; /* open sessions (borrowed), invalidated on close/reboot */
    size_t nsessions, capsessions;
    PyObject *weakrefs;
} EngineObject;

struct SessionObject {
    PyObject_HEAD
    EngineObject *engine;   /* strong: a session keeps its engine alive */
    wfp_session *session;   /* NULL once closed */
    pywfp_sub **subs;       /* change / net-event subscriptions (owned) */
    size_t nsubs, capsubs;
    PyObject *weakrefs;
};

/* A Python callout: the ctx of a wfp_callout_registration. */
struct pywfp_callout {
    EngineObject *engine; /* borrowed: the engine owns this */
    PyObject *fn;
    PyObject *name;
    wfp_guid key;
};

/* A subscription: the ctx handed to wfp_subscribe_changes /
 * wfp_net_event_subscribe. */
struct pywfp_sub {
    SessionObject *session; /* borrowed: the session owns this */
    PyObject *callback;
    uint64_t handle;
    bool net_events;
};

/* ---- errors (module.c) --------------------------------------------------- */
/* Raises the family class of `code` with .code, .name, .message, .detail.
 * Returns NULL. */
PyObject *pywfp_raise(pywfp_state *st, uint32_t code, const char *detail);
PyObject *pywfp_raise_engine(pywfp_state *st, uint32_t code, const wfp_engine *e);
/* Raises `cls` (PolicyError, ScenarioError) with the loader's messages in
 * .messages (positions inside "<python>" bodies are dropped: they point
 * into text the user never saw). Returns NULL. */
PyObject *pywfp_raise_yaml(pywfp_state *st, PyObject *cls, const wfp_yaml_errors *err);
int pywfp_family_of(uint32_t code);

/* ---- conversions (convert.c) ------------------------------------------- */
int pywfp_records_init(PyObject *module, pywfp_state *st);
PyObject *pywfp_guid(pywfp_state *st, const wfp_guid *g);        /* uuid.UUID */
PyObject *pywfp_guid_or_none(pywfp_state *st, const wfp_guid *g); /* None for NULL */
/* uuid.UUID or "{guid}" text. 0, or -1 with ValueError set. */
int pywfp_guid_arg(PyObject *o, wfp_guid *out);
PyObject *pywfp_str_or_none(const char *s);
/* "FWP_ACTION_PERMIT" -> "permit" and the like. */
PyObject *pywfp_action_name(uint32_t action);
PyObject *pywfp_layer_name(uint16_t layer_id);
const char *pywfp_short(const char *name, const char *prefix);
PyObject *pywfp_value(pywfp_state *st, const wfp_value *v, const wfp_layer_field *f);
PyObject *pywfp_condition_value(pywfp_state *st, const wfp_condition_value *c, const wfp_layer_field *f);
PyObject *pywfp_conditions(pywfp_state *st, const wfp_layer_info *layer, const wfp_condition *c, uint32_t n);
PyObject *pywfp_values_dict(pywfp_state *st, const wfp_incoming_values *in);
/* What a Verdict record is made of: the C verdict, and either a trace
 * (engine.classify) or a scenario call record's copies. Names come from the
 * arrays when given, else from `names` (a policy), else None. */
typedef struct pywfp_verdict_in {
    const wfp_verdict *verdict;
    const char *filter_name;
    const char *sublayer_name;
    const char *host;
    bool reauth;
    wfp_policy *names;
    const wfp_trace *trace;
    const wfp_trace_sublayer *sublayers;
    size_t nsublayers;
    const char *const *sublayer_names;
    const char *const *sublayer_filters;
} pywfp_verdict_in;
PyObject *pywfp_verdict(pywfp_state *st, const pywfp_verdict_in *in);
PyObject *pywfp_provider(pywfp_state *st, const wfp_provider *p);
PyObject *pywfp_sublayer(pywfp_state *st, const wfp_sublayer *s);
PyObject *pywfp_callout_rec(pywfp_state *st, const wfp_callout *c);
PyObject *pywfp_filter(pywfp_state *st, const wfp_filter *f, wfp_policy *names);
PyObject *pywfp_layer(pywfp_state *st, const wfp_layer_info *l);
PyObject *pywfp_change(pywfp_state *st, const wfp_change *c, wfp_policy *names);
PyObject *pywfp_net_event(pywfp_state *st, const wfp_net_event *e);
PyObject *pywfp_engine_stats(pywfp_state *st, const wfp_engine_stats *s);
PyObject *pywfp_layer_stats(pywfp_state *st, const wfp_layer_stats *s);
PyObject *pywfp_scenario_result(pywfp_state *st, const char *name, const wfp_scenario_result *r);
/* A YAML tree as Python: mappings -> dict, sequences -> list, plain
 * scalars -> None/bool/int/str, quoted scalars -> Quoted. */
PyObject *pywfp_yaml_tree(pywfp_state *st, const wfp_yaml_node *n);

/* ---- types (engine.c, session.c, scenario.c) ------------------------------ */
/* The C API keeps function pointers in `void *` slots, which ISO C does
 * not convert directly: convert through a union. */
static inline void *pywfp_fn(void (*f)(void))
{
    union {
        void (*f)(void);
        void *p;
    } u;
    u.f = f;
    return u.p;
}
#define PYWFP_FN(f) pywfp_fn((void (*)(void))(f))

/* The heap types, made for `module` at its initialisation. */
PyTypeObject *pywfp_engine_type_new(PyObject *module);
PyTypeObject *pywfp_session_type_new(PyObject *module);
PyTypeObject *pywfp_classify_out_type_new(PyObject *module);
PyTypeObject *pywfp_scenario_type_new(PyObject *module);

/* The engine's state, or NULL with ValueError (closed) or RuntimeError
 * (called from inside a callout) set. */
pywfp_state *pywfp_engine_state(EngineObject *e);
/* Delivers queued notifications (in order) to their Python callbacks,
 * keeping any exception that is being raised; returns `result`. */
PyObject *pywfp_deliver(EngineObject *e, PyObject *result);
int pywfp_engine_add_session(EngineObject *e, SessionObject *s);
void pywfp_engine_remove_session(EngineObject *e, SessionObject *s);
/* Frees a session's subscriptions and forgets its handle (the C session is
 * gone, or closed by the caller). */
void pywfp_session_invalidate(SessionObject *s);
/* Key of an object: uuid.UUID, "{guid}" text, or a name known to the
 * engine's policy (or a built-in name); unknown names give the key
 * add_* would derive from them. */
int pywfp_resolve_key(EngineObject *e, wfp_policy_kind kind, PyObject *o, wfp_guid *out);

#endif
