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

typedef struct csublayer {
    wsublayer *s;
    uint32_t nfilters;
    cfilter *filters; /* by effective weight, highest first; ties by id */
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
};

#define WFP_PTRVEC(T) struct { T **v; size_t n, cap; }

struct wfp_engine {
    wfp_allocator alloc;
    uint32_t or_mode;
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

    size_t nlayers;
    lstate *layers;
    const wfp_filter **all_list; /* scratch for wfp_filter_list(NULL) */
    size_t all_list_cap;
};

/* engine.c */
void *wfpi_alloc(wfp_engine *e, size_t n);
void *wfpi_calloc(wfp_engine *e, size_t n, size_t size);
void wfpi_free(wfp_engine *e, void *p);
uint32_t wfpi_fail(wfp_engine *e, uint32_t code, const char *fmt, ...);
const wreg *wfpi_registration_by_id(const wfp_engine *e, uint32_t id);

/* classify.c */
void wfpi_layer_dirty(wfp_engine *e, uint16_t layer_id);
void wfpi_snapshots_free(wfp_engine *e);
/* Builds the snapshot of a layer if it changed; NULL if memory ran out. */
const lsnap *wfpi_layer_snapshot(wfp_engine *e, uint16_t layer_id);

#endif
