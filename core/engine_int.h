/* engine_int.h — private structures shared by engine.c (objects) and
 * classify.c (snapshots and arbitration). Not installed. */
#ifndef WFP_ENGINE_INT_H
#define WFP_ENGINE_INT_H

#include "wfp_engine.h"

/* Ownership of a stored object: the public struct comes first so a
 * `const wfp_filter *` can be lent straight out of the store. */
typedef struct wobj {
    uint32_t owner_session; /* dynamic objects: the session id; 0 otherwise */
    bool builtin;
    uint32_t refs;          /* objects that reference this one */
    uint8_t *sd;            /* the object's own security descriptor (self-relative); NULL: inherits only */
    uint32_t sd_len;
} wobj;

typedef struct wprovider {
    wfp_provider pub;
    wobj o;
} wprovider;

typedef struct wsublayer {
    wfp_sublayer pub;
    wobj o;
    wfp_guid provider_storage;
    struct wprovider *provider;
} wsublayer;

typedef struct wreg {
    wfp_callout_registration reg;
    uint32_t id;
} wreg;

typedef struct wcallout {
    wfp_callout pub;
    wobj o;
    wfp_guid provider_storage;
    struct wprovider *provider;
    const wfp_layer_info *layer;
} wcallout;

typedef struct wfilter {
    wfp_filter pub;
    wobj o;
    wfp_guid provider_storage;
    wfp_condition *conds; /* deep copies; pub.conditions points here */
    const wfp_layer_info *layer;
    wsublayer *sublayer;
    wcallout *callout; /* callout actions only */
    wprovider *provider;
    uint64_t weight;   /* effective weight */
    uint16_t fwps_flags;
    uint32_t callout_id;
} wfilter;

/* A compiled filter in a layer snapshot: conditions grouped by field
 * (OR inside a group, AND across groups). */
typedef struct cgroup {
    uint16_t field;
    uint16_t first; /* index into cfilter.order */
    uint16_t count;
} cgroup;

typedef struct cfilter {
    wfilter *f;
    uint32_t ngroups;
    cgroup *groups;
    uint16_t *order; /* condition indices grouped by field */
    wfp_fwps_condition *fwps_conds;
    wfp_fwps_filter fwps;
} cfilter;

/* A bit-vector index of one field over a sublayer's filters (Lakshman &
 * Stiliadis): the field's values are cut into elementary intervals, and
 * each interval has the set of filters that can match a value in it.
 * Filters with no condition on the field (or ones the index cannot
 * express) are in every set. */
typedef struct cindex {
    uint16_t field;
    uint32_t data_type;   /* the field's FWP type; other values use empty_bits */
    uint32_t nintervals;
    uint64_t *starts;     /* first value of each elementary interval, ascending; starts[0] == 0 */
    uint64_t *bits;       /* nintervals rows of `words` words */
    uint64_t *empty_bits; /* candidates for an FWP_EMPTY (or mistyped) value */
} cindex;

#define WFPI_MAX_INDEX 2
#define WFPI_INDEX_MIN_FILTERS 8
#define WFPI_INDEX_MAX_WORDS 256 /* 16384 filters per sublayer */

typedef struct csublayer {
    wsublayer *s;
    uint32_t nfilters;
    cfilter *filters; /* by effective weight, highest first; ties by id */
    uint32_t words;   /* 64-bit words of a filter set */
    uint32_t nindex;
    cindex index[WFPI_MAX_INDEX];
} csublayer;

typedef struct lsnap {
    uint32_t nsub;
    csublayer *subs; /* by weight, highest first */
    uint32_t nfilters;
    const wfp_filter **list; /* evaluation order, for wfp_filter_list */
} lsnap;

typedef struct lstate {
    bool dirty;
    lsnap *snap;
} lstate;

struct wfp_session {
    wfp_engine *engine;
    uint32_t id;
    wfp_guid key;
    uint32_t flags;
    bool admin;
    bool kernel_mode;
    uint32_t txn_wait_timeout_ms;
    uint8_t *token;         /* FWP_TOKEN encoding: user SID, then groups */
    uint32_t token_len;
    uint32_t txn;           /* WFPI_TXN_* of an explicit transaction */
    bool txn_aborted;       /* forcibly aborted: its next call fails */
    char *sddl;             /* wfp_get_security's lent text */
};

enum { WFPI_TXN_NONE = 0, WFPI_TXN_READ = 1, WFPI_TXN_WRITE = 2 };

/* One journal entry of the open transaction: enough to undo the change,
 * and to publish it at commit. */
typedef struct wjournal {
    uint32_t kind;        /* WFP_OBJECT_* */
    uint32_t change;      /* FWPM_CHANGE_ADD / DELETE */
    void *obj;            /* the object (a deleted one stays alive until commit) */
    size_t index;         /* its position in the store when deleted */
} wjournal;

typedef struct wsub {
    uint64_t handle;
    uint32_t session;
    wfp_subscription sub;
    wfp_guid provider_storage, layer_storage;
    void *filter_template; /* owned deep copy (wfp_filter_enum_template) */
    wfp_change_fn fn;
    void *ctx;
} wsub;

struct wfp_netlog; /* netevent.c */

#define WFP_PTRVEC(T) struct { T **v; size_t n, cap; }

struct wfp_engine {
    wfp_allocator alloc;
    uint32_t or_mode;
    bool reference_only;
    char error[256];

    WFP_PTRVEC(wprovider) providers;
    WFP_PTRVEC(wsublayer) sublayers;
    WFP_PTRVEC(wcallout) callouts;
    WFP_PTRVEC(wfilter) filters; /* ascending filter id */
    WFP_PTRVEC(wreg) regs;
    WFP_PTRVEC(wfp_session) sessions;

    /* callout ids by key: registrations and management objects share them */
    struct { wfp_guid key; uint32_t id; } *callout_ids;
    size_t ncallout_ids, callout_ids_cap;

    uint64_t next_filter_id;
    uint32_t next_callout_id;
    uint32_t next_session_id;
    uint64_t next_generated_key;

    /* transactions: one lock for the engine */
    uint32_t lock_owner; /* session id; 0: free */
    uint32_t *reap;      /* closed dynamic sessions whose objects await the lock */
    size_t nreap, reap_cap;
    bool txn_implicit;
    bool commit_view;    /* commit is building snapshots: the store as it will be */
    wjournal *journal;
    size_t njournal, journal_cap;
    struct {
        uint64_t next_filter_id, next_generated_key;
        uint32_t next_callout_id;
        size_t ncallout_ids;
    } txn_saved;
    bool *txn_layers;    /* layers the open transaction changed */

    /* notifications */
    WFP_PTRVEC(wsub) subs;
    uint64_t next_sub_handle;

    /* security: engine SD and one container SD per object type */
    uint8_t *engine_sd;
    uint32_t engine_sd_len;
    uint8_t *container_sd[WFP_OBJECT_TYPE_COUNT];
    uint32_t container_sd_len[WFP_OBJECT_TYPE_COUNT];

    /* options, lifetimes, statistics */
    uint32_t options[FWPM_ENGINE_OPTION_MAX];
    bool bfe_running;
    WFP_PTRVEC(char) manual_services;
    wfp_engine_stats stats;
    wfp_layer_stats *layer_stats;
    struct wlayer_meta *layer_meta; /* per layer, computed once (classify.c) */
    struct wfp_netlog *netlog;

    size_t nlayers;
    lstate *layers;
    const wfp_filter **all_list; /* scratch for wfp_filter_list(NULL) */
    size_t all_list_cap;
};

/* engine.c: for the other core modules (enum.c, netevent.c) */
/* ERROR_SUCCESS, or FWP_E_TIMEOUT when another session holds the lock, or
 * FWP_E_TXN_ABORTED: may this session make a call now? */
uint32_t wfpi_session_enter(wfp_session *s);
/* ERROR_SUCCESS or ERROR_ACCESS_DENIED: `desired` on an object type's
 * container (WFP_OBJECT_*), or on the engine (WFP_OBJECT_TYPE_COUNT). */
uint32_t wfpi_check_container(wfp_session *s, uint32_t object_type, uint32_t desired);
/* May the session READ this object (its SD, then its container's)? */
bool wfpi_can_read(wfp_session *s, uint32_t object_type, const wobj *o);
/* The session that holds the id, or NULL. */
wfp_session *wfpi_session_by_id(const wfp_engine *e, uint32_t id);
bool wfpi_grow_ptrvec(wfp_engine *e, void **v, size_t *cap, size_t need);

/* store primitives (engine.c), used by transactions (bfe.c) */
wobj *wfpi_find_object(const wfp_engine *e, uint32_t type, const wfp_guid *key);
/* Takes an object out of its list and drops the references it holds;
 * returns its former position. Does not free it. */
size_t wfpi_store_remove(wfp_engine *e, uint32_t type, void *obj);
/* Puts a removed object back (at `index`; filters by id) and restores its references. */
void wfpi_store_reinsert(wfp_engine *e, uint32_t type, void *obj, size_t index);
void wfpi_object_free(wfp_engine *e, uint32_t type, void *obj);
void wfpi_callout_notify_delete(wfp_engine *e, wfilter *f);
void wfpi_callout_notify_post_commit(wfp_engine *e, wfilter *f);
/* Journals the deletion of every object a (closed) dynamic session owned,
 * dependants first; false when memory runs out (nothing journaled is lost:
 * the caller undoes). */
bool wfpi_delete_owned(wfp_engine *e, uint32_t session);
/* The same without a journal or notifications (last resort). */
void wfpi_delete_owned_now(wfp_engine *e, uint32_t session);
/* Reboot: every static and dynamic object goes. */
void wfpi_delete_volatile_now(wfp_engine *e);

/* bfe.c */
bool wfpi_bfe_init(wfp_engine *e);
void wfpi_txn_discard(wfp_engine *e); /* engine destroy: undo an open transaction */
void wfpi_bfe_free(wfp_engine *e);
bool wfpi_session_token(wfp_engine *e, wfp_session *s, const wfp_session_desc *d);
bool wfpi_engine_open_allowed(wfp_session *s);
uint32_t wfpi_check_object(wfp_session *s, uint32_t object_type, const wobj *o, uint32_t desired, const char *what);
/* Every call starts with op_begin (write: joins or opens a transaction;
 * an implicit one when the session has none) and ends with op_end, which
 * commits an implicit transaction on success and undoes it on failure. */
uint32_t wfpi_op_begin(wfp_session *s, bool write, bool *implicit);
uint32_t wfpi_op_end(wfp_session *s, bool implicit, uint32_t rc);
bool wfpi_journal_reserve(wfp_engine *e, size_t n);
void wfpi_journal_add(wfp_engine *e, uint32_t kind, uint32_t change, void *obj, size_t index);
void *wfpi_alloc(wfp_engine *e, size_t n);
void *wfpi_calloc(wfp_engine *e, size_t n, size_t size);
void wfpi_free(wfp_engine *e, void *p);
uint32_t wfpi_fail(wfp_engine *e, uint32_t code, const char *fmt, ...);
const wreg *wfpi_registration_by_id(const wfp_engine *e, uint32_t id);

/* netevent.c */
void wfpi_netevent_on_classify(wfp_engine *e, const wfp_classify_request *req, const wfp_verdict *v);
void wfpi_netlog_clear(wfp_engine *e);   /* reboot */
void wfpi_netlog_destroy(wfp_engine *e); /* engine destroy */
void wfpi_netevent_session_closed(wfp_engine *e, uint32_t session_id); /* drop its subscriptions */

/* enum.c */
void wfpi_enum_session_closed(wfp_engine *e, uint32_t session_id); /* free its handles (may be a no-op) */
/* Deep copy of a filter template (for subscriptions); NULL when memory runs out. */
void *wfpi_filter_template_copy(wfp_engine *e, const struct wfp_filter_enum_template *t);
void wfpi_filter_template_free(wfp_engine *e, void *t);

/* classify.c */
/* What statistics need to know of a layer, looked up once per engine. */
typedef struct wlayer_meta {
    int16_t flags_field; /* index of FLAGS in the schema, -1 if none */
    uint8_t ale;         /* 1 ALE_AUTH_CONNECT, 2 ALE_AUTH_RECV_ACCEPT, 0 other */
    bool v6;
} wlayer_meta;
bool wfpi_layer_meta_init(wfp_engine *e);
void wfpi_layer_dirty(wfp_engine *e, uint16_t layer_id);
/* A fresh snapshot of a layer from the store (NULL when memory runs out),
 * and installing one (frees the old; cannot fail). */
lsnap *wfpi_snapshot_build(wfp_engine *e, uint16_t layer_id);
void wfpi_snapshot_install(wfp_engine *e, uint16_t layer_id, lsnap *sn);
void wfpi_snapshot_free(wfp_engine *e, lsnap *sn);
/* Is a filter enforced now (boot-time filters before BFE start only,
 * disabled filters never)? */
bool wfpi_filter_active(const wfp_engine *e, const wfilter *f);
void wfpi_snapshots_free(wfp_engine *e);
/* Builds the snapshot of a layer if it changed; NULL if memory ran out. */
const lsnap *wfpi_layer_snapshot(wfp_engine *e, uint16_t layer_id);

#endif
