/* engine.c — the object store of the filter engine: providers, sublayers,
 * callouts and filters, their validation with Windows' error codes, ids,
 * references, lifetimes and access rights, and callout registration.
 *
 * Every add validates and builds the complete new object before touching
 * the store, so a failure (including an allocation failure) leaves the
 * engine exactly as it was. Every change runs inside a transaction
 * (bfe.c): it is journaled, and the classify snapshots of the layers it
 * touched are rebuilt when the transaction commits. */
#include "engine_int.h"
#include "weight.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- memory ------------------------------------------------------------ */

void *wfpi_alloc(wfp_engine *e, size_t n)
{
    return e->alloc.alloc(e->alloc.ctx, n);
}

void *wfpi_calloc(wfp_engine *e, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = e->alloc.alloc(e->alloc.ctx, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void wfpi_free(wfp_engine *e, void *p)
{
    if (p) e->alloc.free(e->alloc.ctx, p);
}

static bool grow(wfp_engine *e, void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) ncap *= 2;
    void *nv = e->alloc.realloc(e->alloc.ctx, *v, ncap * elem);
    if (!nv) return false;
    *v = nv;
    *cap = ncap;
    return true;
}

#define VEC_RESERVE(e, vec, extra) \
    grow((e), (void **)&(vec).v, &(vec).cap, (vec).n + (extra), sizeof *(vec).v)

bool wfpi_grow_ptrvec(wfp_engine *e, void **v, size_t *cap, size_t need)
{
    return grow(e, v, cap, need, sizeof(void *));
}

static void vec_remove(void **v, size_t *n, size_t i)
{
    memmove(v + i, v + i + 1, (*n - i - 1) * sizeof *v);
    (*n)--;
}

static char *dup_str(wfp_engine *e, const char *s, bool *ok)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = wfpi_alloc(e, n);
    if (!d) {
        *ok = false;
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

static uint8_t *dup_bytes(wfp_engine *e, const uint8_t *p, uint32_t n, bool *ok)
{
    if (!n || !p) return NULL;
    uint8_t *d = wfpi_alloc(e, n);
    if (!d) {
        *ok = false;
        return NULL;
    }
    memcpy(d, p, n);
    return d;
}

/* ---- errors ------------------------------------------------------------ */

uint32_t wfpi_fail(wfp_engine *e, uint32_t code, const char *fmt, ...)
{
    va_list ap;
    const char *name = wfp_result_name(code);
    int n = snprintf(e->error, sizeof e->error, "%s: ", name ? name : "error");
    if (n < 0 || (size_t)n >= sizeof e->error) n = 0;
    va_start(ap, fmt);
    vsnprintf(e->error + n, sizeof e->error - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

const char *wfp_engine_last_error(const wfp_engine *e)
{
    return e ? e->error : "no engine";
}

static void guid_text(const wfp_guid *g, char *buf)
{
    wfp_guid_format(g, buf);
}

/* ---- lookups ----------------------------------------------------------- */

static wprovider *find_provider(const wfp_engine *e, const wfp_guid *key)
{
    for (size_t i = 0; i < e->providers.n; i++)
        if (wfp_guid_eq(&e->providers.v[i]->pub.key, key)) return e->providers.v[i];
    return NULL;
}

static wsublayer *find_sublayer(const wfp_engine *e, const wfp_guid *key)
{
    for (size_t i = 0; i < e->sublayers.n; i++)
        if (wfp_guid_eq(&e->sublayers.v[i]->pub.key, key)) return e->sublayers.v[i];
    return NULL;
}

static wcallout *find_callout(const wfp_engine *e, const wfp_guid *key)
{
    for (size_t i = 0; i < e->callouts.n; i++)
        if (wfp_guid_eq(&e->callouts.v[i]->pub.key, key)) return e->callouts.v[i];
    return NULL;
}

static wcallout *find_callout_id(const wfp_engine *e, uint32_t id)
{
    for (size_t i = 0; i < e->callouts.n; i++)
        if (e->callouts.v[i]->pub.callout_id == id) return e->callouts.v[i];
    return NULL;
}

static size_t filter_index_by_key(const wfp_engine *e, const wfp_guid *key)
{
    for (size_t i = 0; i < e->filters.n; i++)
        if (wfp_guid_eq(&e->filters.v[i]->pub.key, key)) return i;
    return SIZE_MAX;
}

/* Filters are kept in ascending id order: binary search. */
static size_t filter_index_by_id(const wfp_engine *e, uint64_t id)
{
    size_t lo = 0, hi = e->filters.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t v = e->filters.v[mid]->pub.filter_id;
        if (v == id) return mid;
        if (v < id) lo = mid + 1;
        else hi = mid;
    }
    return SIZE_MAX;
}

static wreg *find_reg(const wfp_engine *e, const wfp_guid *key)
{
    for (size_t i = 0; i < e->regs.n; i++)
        if (wfp_guid_eq(&e->regs.v[i]->reg.callout_key, key)) return e->regs.v[i];
    return NULL;
}

const wreg *wfpi_registration_by_id(const wfp_engine *e, uint32_t id)
{
    for (size_t i = 0; i < e->regs.n; i++)
        if (e->regs.v[i]->id == id) return e->regs.v[i];
    return NULL;
}

const wfp_filter *wfp_engine_filter_by_id(const wfp_engine *e, uint64_t id)
{
    size_t i = filter_index_by_id(e, id);
    return i == SIZE_MAX ? NULL : &e->filters.v[i]->pub;
}

const wfp_sublayer *wfp_engine_sublayer_by_key(const wfp_engine *e, const wfp_guid *key)
{
    wsublayer *s = find_sublayer(e, key);
    return s ? &s->pub : NULL;
}

const wfp_callout *wfp_engine_callout_by_id(const wfp_engine *e, uint32_t id)
{
    wcallout *c = find_callout_id(e, id);
    return c ? &c->pub : NULL;
}

const wfp_provider *wfp_engine_provider_by_key(const wfp_engine *e, const wfp_guid *key)
{
    wprovider *p = find_provider(e, key);
    return p ? &p->pub : NULL;
}

/* Callout ids are per key, shared by the management object and the
 * driver registration, whichever comes first. */
static bool callout_id_for_key(wfp_engine *e, const wfp_guid *key, uint32_t *id, bool *added)
{
    *added = false;
    for (size_t i = 0; i < e->ncallout_ids; i++) {
        if (wfp_guid_eq(&e->callout_ids[i].key, key)) {
            *id = e->callout_ids[i].id;
            return true;
        }
    }
    if (!grow(e, (void **)&e->callout_ids, &e->callout_ids_cap, e->ncallout_ids + 1,
              sizeof *e->callout_ids))
        return false;
    e->callout_ids[e->ncallout_ids].key = *key;
    e->callout_ids[e->ncallout_ids].id = e->next_callout_id++;
    *id = e->callout_ids[e->ncallout_ids++].id;
    *added = true;
    return true;
}

/* A key for an object added with a zero GUID: deterministic per engine. */
static void generate_key(wfp_engine *e, const char *kind, wfp_guid *key)
{
    char name[32];
    snprintf(name, sizeof name, "%llu", (unsigned long long)++e->next_generated_key);
    wfp_guid_from_name(kind, name, key);
}

/* ---- sessions ---------------------------------------------------------- */

static bool session_is_dynamic(const wfp_session *s)
{
    return (s->flags & FWPM_SESSION_FLAG_DYNAMIC) != 0;
}

/* Owner id recorded on objects added through `s`: dynamic objects belong
 * to their session, everything else to nobody. */
static uint32_t owner_of(const wfp_session *s)
{
    return session_is_dynamic(s) ? s->id : 0;
}

/* Dynamic-session rules for deleting an object (SDK Fwpm*Delete*0). */
static uint32_t check_delete_rights(wfp_session *s, const wobj *o, const char *what)
{
    wfp_engine *e = s->engine;
    if (o->builtin) return wfpi_fail(e, FWP_E_BUILTIN_OBJECT, "%s is built in", what);
    if (session_is_dynamic(s)) {
        if (o->owner_session == 0)
            return wfpi_fail(e, FWP_E_DYNAMIC_SESSION_IN_PROGRESS,
                             "a dynamic session cannot delete %s, which is not dynamic", what);
        if (o->owner_session != s->id)
            return wfpi_fail(e, FWP_E_WRONG_SESSION, "%s belongs to another dynamic session", what);
    }
    return ERROR_SUCCESS;
}

uint32_t wfp_session_open(wfp_engine *e, const wfp_session_desc *desc, wfp_session **out)
{
    wfp_session *s;
    wfp_session_desc d = {0};

    if (!e || !out) return FWP_E_NULL_POINTER;
    *out = NULL;
    if (desc) d = *desc;
    if (d.flags & ~FWPM_SESSION_FLAG_DYNAMIC)
        return wfpi_fail(e, FWP_E_INVALID_FLAGS, "session flags 0x%x", (unsigned)d.flags);
    if (!wfp_guid_is_null(&d.key)) {
        for (size_t i = 0; i < e->sessions.n; i++)
            if (wfp_guid_eq(&e->sessions.v[i]->key, &d.key))
                return wfpi_fail(e, FWP_E_ALREADY_EXISTS, "a session with this key is open");
    }
    if (d.user_sid) {
        uint8_t sid[WFP_SID_MAX];
        uint32_t len;
        if (!wfp_sid_parse(d.user_sid, sid, &len)) return wfpi_fail(e, ERROR_INVALID_SID, "user '%s'", d.user_sid);
    }
    if (!VEC_RESERVE(e, e->sessions, 1)) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "session");
    s = wfpi_calloc(e, 1, sizeof *s);
    if (!s) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "session");
    s->engine = e;
    s->flags = d.flags;
    s->admin = d.admin;
    s->kernel_mode = d.kernel_mode;
    s->txn_wait_timeout_ms = d.txn_wait_timeout_ms;
    if (!wfpi_session_token(e, s, &d)) {
        wfpi_free(e, s);
        return wfpi_fail(e, ERROR_INVALID_SID, "a group SID of the session is not valid");
    }
    if (!wfpi_engine_open_allowed(s)) {
        wfpi_free(e, s->token);
        wfpi_free(e, s);
        return wfpi_fail(e, ERROR_ACCESS_DENIED, "FWPM_ACTRL_OPEN denied on the engine");
    }
    s->id = ++e->next_session_id;
    s->key = d.key;
    if (wfp_guid_is_null(&s->key)) generate_key(e, "session", &s->key);
    e->sessions.v[e->sessions.n++] = s;
    *out = s;
    return ERROR_SUCCESS;
}

wfp_engine *wfp_session_engine(const wfp_session *s)
{
    return s ? s->engine : NULL;
}

static void free_filter(wfp_engine *e, wfilter *f);
static void free_callout(wfp_engine *e, wcallout *c);
static void free_sublayer(wfp_engine *e, wsublayer *s);
static void free_provider(wfp_engine *e, wprovider *p);

/* ---- freeing ------------------------------------------------------------ */

static void free_display(wfp_engine *e, wfp_display_data *d)
{
    wfpi_free(e, (char *)d->name);
    wfpi_free(e, (char *)d->description);
}

static void free_provider(wfp_engine *e, wprovider *p)
{
    if (!p) return;
    wfpi_free(e, p->o.sd);
    free_display(e, &p->pub.display);
    wfpi_free(e, (uint8_t *)p->pub.provider_data.data);
    wfpi_free(e, (char *)p->pub.service_name);
    wfpi_free(e, p);
}

static void free_sublayer(wfp_engine *e, wsublayer *s)
{
    if (!s) return;
    wfpi_free(e, s->o.sd);
    free_display(e, &s->pub.display);
    wfpi_free(e, (uint8_t *)s->pub.provider_data.data);
    wfpi_free(e, s);
}

static void free_callout(wfp_engine *e, wcallout *c)
{
    if (!c) return;
    wfpi_free(e, c->o.sd);
    free_display(e, &c->pub.display);
    wfpi_free(e, (uint8_t *)c->pub.provider_data.data);
    wfpi_free(e, c);
}

static void free_filter(wfp_engine *e, wfilter *f)
{
    if (!f) return;
    wfpi_free(e, f->o.sd);
    free_display(e, &f->pub.display);
    wfpi_free(e, (uint8_t *)f->pub.provider_data.data);
    if (f->conds) {
        for (uint32_t i = 0; i < f->pub.num_conditions; i++)
            wfpi_condition_value_free(&e->alloc, &f->conds[i].value);
        wfpi_free(e, f->conds);
    }
    wfpi_value_free(&e->alloc, &f->pub.weight);
    wfpi_free(e, f);
}

void wfpi_object_free(wfp_engine *e, uint32_t type, void *obj)
{
    switch (type) {
    case WFP_OBJECT_PROVIDER: free_provider(e, obj); break;
    case WFP_OBJECT_SUBLAYER: free_sublayer(e, obj); break;
    case WFP_OBJECT_CALLOUT: free_callout(e, obj); break;
    default: free_filter(e, obj); break;
    }
}

/* ---- store primitives (used by transactions) ---------------------------- */

wobj *wfpi_find_object(const wfp_engine *e, uint32_t type, const wfp_guid *key)
{
    switch (type) {
    case WFP_OBJECT_PROVIDER: {
        wprovider *p = find_provider(e, key);
        return p ? &p->o : NULL;
    }
    case WFP_OBJECT_SUBLAYER: {
        wsublayer *sl = find_sublayer(e, key);
        return sl ? &sl->o : NULL;
    }
    case WFP_OBJECT_CALLOUT: {
        wcallout *c = find_callout(e, key);
        return c ? &c->o : NULL;
    }
    case WFP_OBJECT_FILTER: {
        size_t i = filter_index_by_key(e, key);
        return i == SIZE_MAX ? NULL : &e->filters.v[i]->o;
    }
    default:
        return NULL;
    }
}

/* The references an object holds on others: +1 when it enters the store,
 * -1 when it leaves. */
static void hold_refs(wfp_engine *e, uint32_t type, void *obj, int delta)
{
    (void)e;
    switch (type) {
    case WFP_OBJECT_SUBLAYER: {
        wsublayer *sl = obj;
        if (sl->provider) sl->provider->o.refs += (uint32_t)delta;
        break;
    }
    case WFP_OBJECT_CALLOUT: {
        wcallout *c = obj;
        if (c->provider) c->provider->o.refs += (uint32_t)delta;
        break;
    }
    case WFP_OBJECT_FILTER: {
        wfilter *f = obj;
        f->sublayer->o.refs += (uint32_t)delta;
        if (f->callout) f->callout->o.refs += (uint32_t)delta;
        if (f->provider) f->provider->o.refs += (uint32_t)delta;
        break;
    }
    default:
        break;
    }
}

static size_t index_of(void **v, size_t n, const void *obj)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == obj) return i;
    return SIZE_MAX;
}

size_t wfpi_store_remove(wfp_engine *e, uint32_t type, void *obj)
{
    size_t i = SIZE_MAX;
    switch (type) {
    case WFP_OBJECT_PROVIDER:
        i = index_of((void **)e->providers.v, e->providers.n, obj);
        if (i != SIZE_MAX) vec_remove((void **)e->providers.v, &e->providers.n, i);
        break;
    case WFP_OBJECT_SUBLAYER:
        i = index_of((void **)e->sublayers.v, e->sublayers.n, obj);
        if (i != SIZE_MAX) vec_remove((void **)e->sublayers.v, &e->sublayers.n, i);
        break;
    case WFP_OBJECT_CALLOUT:
        i = index_of((void **)e->callouts.v, e->callouts.n, obj);
        if (i != SIZE_MAX) vec_remove((void **)e->callouts.v, &e->callouts.n, i);
        break;
    default:
        i = filter_index_by_id(e, ((wfilter *)obj)->pub.filter_id);
        if (i != SIZE_MAX) vec_remove((void **)e->filters.v, &e->filters.n, i);
        break;
    }
    if (i != SIZE_MAX) hold_refs(e, type, obj, -1);
    return i;
}

/* Capacity for a reinsert was there before the removal (the lists never
 * shrink), so this cannot fail. */
void wfpi_store_reinsert(wfp_engine *e, uint32_t type, void *obj, size_t index)
{
    void **v;
    size_t *n;
    switch (type) {
    case WFP_OBJECT_PROVIDER: v = (void **)e->providers.v; n = &e->providers.n; break;
    case WFP_OBJECT_SUBLAYER: v = (void **)e->sublayers.v; n = &e->sublayers.n; break;
    case WFP_OBJECT_CALLOUT: v = (void **)e->callouts.v; n = &e->callouts.n; break;
    default: {
        /* filters stay sorted by id */
        uint64_t id = ((wfilter *)obj)->pub.filter_id;
        v = (void **)e->filters.v;
        n = &e->filters.n;
        index = 0;
        while (index < *n && e->filters.v[index]->pub.filter_id < id) index++;
        break;
    }
    }
    if (index > *n) index = *n;
    memmove(v + index + 1, v + index, (*n - index) * sizeof *v);
    v[index] = obj;
    (*n)++;
    hold_refs(e, type, obj, +1);
}

static void notify_callout(wfp_engine *e, wfilter *f, uint32_t type)
{
    if (!f->callout) return;
    wreg *r = find_reg(e, &f->callout->pub.key);
    if (!r || !r->reg.notify) return;
    if (type == FWPS_CALLOUT_NOTIFY_ADD_FILTER_POST_COMMIT && !(r->reg.flags & FWP_CALLOUT_FLAG_ENABLE_COMMIT_ADD_NOTIFY))
        return;
    wfp_fwps_filter view = {0};
    view.filter_id = f->pub.filter_id;
    view.weight = f->weight;
    view.sublayer_weight = f->sublayer->pub.weight;
    view.flags = f->fwps_flags;
    view.action_type = f->pub.action.type;
    view.callout_id = f->callout_id;
    view.context = f->pub.raw_context;
    view.management = &f->pub;
    /* DELETE notifications cannot stop a delete (DDI notifyFn) */
    (void)r->reg.notify(r->reg.ctx, type, type == FWPS_CALLOUT_NOTIFY_DELETE_FILTER ? NULL : &f->pub.key, &view);
}

void wfpi_callout_notify_delete(wfp_engine *e, wfilter *f)
{
    notify_callout(e, f, FWPS_CALLOUT_NOTIFY_DELETE_FILTER);
}

void wfpi_callout_notify_post_commit(wfp_engine *e, wfilter *f)
{
    notify_callout(e, f, FWPS_CALLOUT_NOTIFY_ADD_FILTER_POST_COMMIT);
}

/* Objects owned by a session, in the order they must go: filters,
 * callouts, sublayers, providers. */
static bool owned(const wobj *o, uint32_t session)
{
    return session ? o->owner_session == session : false;
}

bool wfpi_delete_owned(wfp_engine *e, uint32_t session)
{
    size_t n = 0;
    for (size_t i = 0; i < e->filters.n; i++) n += owned(&e->filters.v[i]->o, session);
    for (size_t i = 0; i < e->callouts.n; i++) n += owned(&e->callouts.v[i]->o, session);
    for (size_t i = 0; i < e->sublayers.n; i++) n += owned(&e->sublayers.v[i]->o, session);
    for (size_t i = 0; i < e->providers.n; i++) n += owned(&e->providers.v[i]->o, session);
    if (!wfpi_journal_reserve(e, n)) return false;
    for (size_t i = e->filters.n; i-- > 0;) {
        wfilter *f = e->filters.v[i];
        if (!owned(&f->o, session)) continue;
        wfpi_journal_add(e, WFP_OBJECT_FILTER, FWPM_CHANGE_DELETE, f, wfpi_store_remove(e, WFP_OBJECT_FILTER, f));
    }
    for (size_t i = e->callouts.n; i-- > 0;) {
        wcallout *c = e->callouts.v[i];
        if (!owned(&c->o, session)) continue;
        wfpi_journal_add(e, WFP_OBJECT_CALLOUT, FWPM_CHANGE_DELETE, c, wfpi_store_remove(e, WFP_OBJECT_CALLOUT, c));
    }
    for (size_t i = e->sublayers.n; i-- > 0;) {
        wsublayer *sl = e->sublayers.v[i];
        if (!owned(&sl->o, session)) continue;
        wfpi_journal_add(e, WFP_OBJECT_SUBLAYER, FWPM_CHANGE_DELETE, sl, wfpi_store_remove(e, WFP_OBJECT_SUBLAYER, sl));
    }
    for (size_t i = e->providers.n; i-- > 0;) {
        wprovider *p = e->providers.v[i];
        if (!owned(&p->o, session)) continue;
        wfpi_journal_add(e, WFP_OBJECT_PROVIDER, FWPM_CHANGE_DELETE, p, wfpi_store_remove(e, WFP_OBJECT_PROVIDER, p));
    }
    return true;
}

/* Removes and frees objects for which `doomed` says so, dependants first,
 * marking their layers stale. */
static void delete_now_if(wfp_engine *e, bool (*doomed)(const wobj *o, bool persistent, uint32_t arg), uint32_t arg)
{
    for (size_t i = e->filters.n; i-- > 0;) {
        wfilter *f = e->filters.v[i];
        if (!doomed(&f->o, (f->pub.flags & (FWPM_FILTER_FLAG_PERSISTENT | FWPM_FILTER_FLAG_BOOTTIME)) != 0, arg)) continue;
        wfpi_store_remove(e, WFP_OBJECT_FILTER, f);
        wfpi_layer_dirty(e, f->layer->id);
        notify_callout(e, f, FWPS_CALLOUT_NOTIFY_DELETE_FILTER);
        free_filter(e, f);
    }
    for (size_t i = e->callouts.n; i-- > 0;) {
        wcallout *c = e->callouts.v[i];
        if (!doomed(&c->o, (c->pub.flags & FWPM_CALLOUT_FLAG_PERSISTENT) != 0, arg) || c->o.refs) continue;
        wfpi_store_remove(e, WFP_OBJECT_CALLOUT, c);
        free_callout(e, c);
    }
    for (size_t i = e->sublayers.n; i-- > 0;) {
        wsublayer *sl = e->sublayers.v[i];
        if (!doomed(&sl->o, (sl->pub.flags & FWPM_SUBLAYER_FLAG_PERSISTENT) != 0, arg) || sl->o.refs) continue;
        wfpi_store_remove(e, WFP_OBJECT_SUBLAYER, sl);
        free_sublayer(e, sl);
    }
    for (size_t i = e->providers.n; i-- > 0;) {
        wprovider *p = e->providers.v[i];
        if (!doomed(&p->o, (p->pub.flags & FWPM_PROVIDER_FLAG_PERSISTENT) != 0, arg) || p->o.refs) continue;
        wfpi_store_remove(e, WFP_OBJECT_PROVIDER, p);
        free_provider(e, p);
    }
}

static bool doomed_owned(const wobj *o, bool persistent, uint32_t session)
{
    (void)persistent;
    return owned(o, session);
}

static bool doomed_volatile(const wobj *o, bool persistent, uint32_t unused)
{
    (void)unused;
    return !o->builtin && !persistent;
}

void wfpi_delete_owned_now(wfp_engine *e, uint32_t session)
{
    delete_now_if(e, doomed_owned, session);
}

void wfpi_delete_volatile_now(wfp_engine *e)
{
    delete_now_if(e, doomed_volatile, 0);
}

/* ---- engine lifecycle ---------------------------------------------------- */

static bool add_builtins(wfp_engine *e)
{
    for (size_t i = 0; i < wfp_catalog_sublayer_count(); i++) {
        const wfp_builtin_sublayer *b = wfp_catalog_sublayer_at(i);
        wsublayer *s = wfpi_calloc(e, 1, sizeof *s);
        bool ok = true;
        if (!s || !VEC_RESERVE(e, e->sublayers, 1)) {
            wfpi_free(e, s);
            return false;
        }
        s->pub.key = b->key;
        s->pub.weight = b->weight;
        s->pub.display.name = dup_str(e, b->name, &ok);
        s->o.builtin = true;
        if (!ok) {
            free_sublayer(e, s);
            return false;
        }
        e->sublayers.v[e->sublayers.n++] = s;
    }
    for (size_t i = 0; i < wfp_catalog_provider_count(); i++) {
        const wfp_builtin_provider *b = wfp_catalog_provider_at(i);
        wprovider *p = wfpi_calloc(e, 1, sizeof *p);
        bool ok = true;
        if (!p || !VEC_RESERVE(e, e->providers, 1)) {
            wfpi_free(e, p);
            return false;
        }
        p->pub.key = b->key;
        p->pub.display.name = dup_str(e, b->name, &ok);
        p->o.builtin = true;
        if (!ok) {
            free_provider(e, p);
            return false;
        }
        e->providers.v[e->providers.n++] = p;
    }
    for (size_t i = 0; i < wfp_catalog_callout_count(); i++) {
        const wfp_builtin_callout *b = wfp_catalog_callout_at(i);
        const wfp_layer_info *l = wfp_catalog_layer_by_id(b->layer_id);
        wcallout *c = wfpi_calloc(e, 1, sizeof *c);
        bool ok = true, added;
        if (!c || !l || !VEC_RESERVE(e, e->callouts, 1)) {
            wfpi_free(e, c);
            return false;
        }
        c->pub.key = b->key;
        c->pub.applicable_layer = l->key;
        c->layer = l;
        c->pub.display.name = dup_str(e, b->name, &ok);
        c->o.builtin = true;
        if (!ok || !callout_id_for_key(e, &b->key, &c->pub.callout_id, &added)) {
            free_callout(e, c);
            return false;
        }
        e->callouts.v[e->callouts.n++] = c;
    }
    return true;
}

wfp_engine *wfp_engine_create(const wfp_engine_config *config)
{
    const wfp_allocator *a = config && config->allocator ? config->allocator : wfp_allocator_default();
    wfp_engine *e = a->alloc(a->ctx, sizeof *e);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->alloc = *a;
    e->or_mode = config ? config->or_mode : WFP_OR_GROUP_BY_FIELD;
    e->reference_only = config ? config->reference_only : false;
    /* Sim-defined id spaces (docs/sim-defined.md): filter ids start above
     * the range a fresh Windows BFE uses for its own boot-time filters. */
    e->next_filter_id = 65536;
    e->next_callout_id = 1;
    e->nlayers = wfp_catalog_layer_count();
    e->layers = wfpi_calloc(e, e->nlayers, sizeof *e->layers);
    if (!e->layers || !wfpi_bfe_init(e) || !add_builtins(e)) {
        wfp_engine_destroy(e);
        return NULL;
    }
    return e;
}

void wfp_engine_destroy(wfp_engine *e)
{
    if (!e) return;
    wfpi_txn_discard(e);
    wfpi_netlog_destroy(e);
    wfpi_snapshots_free(e);
    for (size_t i = 0; i < e->filters.n; i++) free_filter(e, e->filters.v[i]);
    for (size_t i = 0; i < e->callouts.n; i++) free_callout(e, e->callouts.v[i]);
    for (size_t i = 0; i < e->sublayers.n; i++) free_sublayer(e, e->sublayers.v[i]);
    for (size_t i = 0; i < e->providers.n; i++) free_provider(e, e->providers.v[i]);
    for (size_t i = 0; i < e->regs.n; i++) wfpi_free(e, e->regs.v[i]);
    for (size_t i = 0; i < e->sessions.n; i++) {
        wfpi_free(e, e->sessions.v[i]->token);
        wfpi_free(e, e->sessions.v[i]->sddl);
        wfpi_free(e, e->sessions.v[i]);
    }
    wfpi_bfe_free(e);
    wfpi_free(e, e->filters.v);
    wfpi_free(e, e->callouts.v);
    wfpi_free(e, e->sublayers.v);
    wfpi_free(e, e->providers.v);
    wfpi_free(e, e->regs.v);
    wfpi_free(e, e->sessions.v);
    wfpi_free(e, e->callout_ids);
    wfpi_free(e, e->layers);
    wfpi_free(e, e->all_list);
    wfp_allocator a = e->alloc;
    a.free(a.ctx, e);
}

/* ---- lifetimes ----------------------------------------------------------- */

/* Lifetimes, from shortest to longest (spec §9.3–9.5): an object may
 * reference only objects that live at least as long as it does. */
enum { LIFE_DYNAMIC = 0, LIFE_STATIC = 1, LIFE_PERSISTENT = 2, LIFE_BUILTIN = 3 };

static int life_of(const wobj *o, bool persistent)
{
    if (o->builtin) return LIFE_BUILTIN;
    if (o->owner_session) return LIFE_DYNAMIC;
    return persistent ? LIFE_PERSISTENT : LIFE_STATIC;
}

static int new_life(const wfp_session *s, bool persistent)
{
    if (session_is_dynamic(s)) return LIFE_DYNAMIC;
    return persistent ? LIFE_PERSISTENT : LIFE_STATIC;
}

/* May a new object (added through `s`, persistent or not, owned by
 * `own_provider`) reference `target`? Spec §9.4: not an object that can
 * live shorter; a dynamic object only the same session's dynamic objects;
 * a persistent object no persistent object of a different provider. */
static uint32_t may_reference(wfp_session *s, bool persistent, const wfp_guid *own_provider, const wobj *target,
                              bool target_persistent, const wfp_guid *target_provider, const char *what,
                              const char *target_name)
{
    wfp_engine *e = s->engine;
    int life = new_life(s, persistent);
    if (life_of(target, target_persistent) < life)
        return wfpi_fail(e, FWP_E_LIFETIME_MISMATCH, "%s '%s' lives shorter than the new object", what, target_name);
    if (target->owner_session && target->owner_session != s->id)
        return wfpi_fail(e, FWP_E_LIFETIME_MISMATCH, "%s '%s' belongs to another dynamic session", what, target_name);
    if (life == LIFE_PERSISTENT && !target->builtin && target_persistent && own_provider && target_provider &&
        !wfp_guid_eq(own_provider, target_provider))
        return wfpi_fail(e, FWP_E_LIFETIME_MISMATCH, "%s '%s' is owned by another provider", what, target_name);
    return ERROR_SUCCESS;
}

/* ---- providers ----------------------------------------------------------- */

static uint32_t provider_add(wfp_session *s, const wfp_provider *in)
{
    wfp_engine *e = s->engine;
    wprovider *p;
    bool ok = true;

    if (!in->display.name) return wfpi_fail(e, FWP_E_NULL_DISPLAY_NAME, "a provider needs a name");
    if (!wfp_guid_is_null(&in->key) && find_provider(e, &in->key))
        return wfpi_fail(e, FWP_E_ALREADY_EXISTS, "provider '%s' exists already", in->display.name);
    if (in->flags & ~(FWPM_PROVIDER_FLAG_PERSISTENT | FWPM_PROVIDER_FLAG_DISABLED))
        return wfpi_fail(e, FWP_E_INVALID_FLAGS, "provider flags 0x%x", (unsigned)in->flags);
    if (!VEC_RESERVE(e, e->providers, 1) || !wfpi_journal_reserve(e, 1))
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "provider");
    p = wfpi_calloc(e, 1, sizeof *p);
    if (!p) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "provider");
    p->pub = *in;
    /* DISABLED is output only: ignored on add (FWPM_PROVIDER0). */
    p->pub.flags &= ~FWPM_PROVIDER_FLAG_DISABLED;
    p->pub.display.name = dup_str(e, in->display.name, &ok);
    p->pub.display.description = dup_str(e, in->display.description, &ok);
    p->pub.service_name = dup_str(e, in->service_name, &ok);
    p->pub.provider_data.data = dup_bytes(e, in->provider_data.data, in->provider_data.size, &ok);
    if (!p->pub.provider_data.data) p->pub.provider_data.size = 0;
    if (!ok) {
        free_provider(e, p);
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "provider");
    }
    if (wfp_guid_is_null(&p->pub.key)) generate_key(e, "provider", &p->pub.key);
    p->o.owner_session = owner_of(s);
    e->providers.v[e->providers.n++] = p;
    wfpi_journal_add(e, WFP_OBJECT_PROVIDER, FWPM_CHANGE_ADD, p, 0);
    return ERROR_SUCCESS;
}

/* Wraps a change in the session's transaction (or an implicit one) after
 * checking `desired` on the object type's container. */
#define WRITE_OP(s, container, desired, call)                                  \
    do {                                                                       \
        bool imp_;                                                             \
        if (!(s)) return FWP_E_NULL_POINTER;                                   \
        uint32_t rc_ = wfpi_op_begin((s), true, &imp_);                        \
        if (rc_) return rc_;                                                   \
        if ((desired) != 0) rc_ = wfpi_check_container((s), (container), (desired)); \
        if (!rc_) rc_ = (call);                                                \
        return wfpi_op_end((s), imp_, rc_);                                    \
    } while (0)

uint32_t wfp_provider_add(wfp_session *s, const wfp_provider *in)
{
    if (!in) return FWP_E_NULL_POINTER;
    WRITE_OP(s, WFP_OBJECT_PROVIDER, FWPM_ACTRL_ADD, provider_add(s, in));
}

/* Deletes a stored object inside the open transaction (journaled: freed
 * at commit, put back by an abort). */
static uint32_t journal_delete(wfp_session *s, uint32_t type, void *obj, wobj *o, const char *what)
{
    wfp_engine *e = s->engine;
    uint32_t rc = check_delete_rights(s, o, what);
    if (rc) return rc;
    rc = wfpi_check_object(s, type, o, WFP_DELETE, what);
    if (rc) return rc;
    if (o->refs) return wfpi_fail(e, FWP_E_IN_USE, "%s is referenced by %u objects", what, (unsigned)o->refs);
    if (!wfpi_journal_reserve(e, 1)) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "delete");
    size_t index = wfpi_store_remove(e, type, obj);
    wfpi_journal_add(e, type, FWPM_CHANGE_DELETE, obj, index);
    return ERROR_SUCCESS;
}

/* Reads: not while another session holds the lock; READ on the object. */
static uint32_t read_check(wfp_session *s, uint32_t type, const wobj *o, const char *what)
{
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    return wfpi_check_object(s, type, o, FWPM_ACTRL_READ, what);
}

static uint32_t provider_delete(wfp_session *s, const wfp_guid *key)
{
    wprovider *p = find_provider(s->engine, key);
    if (!p) return wfpi_fail(s->engine, FWP_E_PROVIDER_NOT_FOUND, "no such provider");
    return journal_delete(s, WFP_OBJECT_PROVIDER, p, &p->o, "the provider");
}

uint32_t wfp_provider_delete_by_key(wfp_session *s, const wfp_guid *key)
{
    if (!key) return FWP_E_NULL_POINTER;
    WRITE_OP(s, 0, 0, provider_delete(s, key));
}

uint32_t wfp_provider_get_by_key(wfp_session *s, const wfp_guid *key, const wfp_provider **out)
{
    if (!s || !key || !out) return FWP_E_NULL_POINTER;
    wprovider *p = find_provider(s->engine, key);
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (!p) return wfpi_fail(s->engine, FWP_E_PROVIDER_NOT_FOUND, "no such provider");
    rc = read_check(s, WFP_OBJECT_PROVIDER, &p->o, "the provider");
    if (rc) return rc;
    *out = &p->pub;
    return ERROR_SUCCESS;
}

/* Resolves an optional provider reference for an object with lifetime `life`. */
static uint32_t link_provider(wfp_session *s, const wfp_guid *key, bool persistent, wprovider **out)
{
    wfp_engine *e = s->engine;
    *out = NULL;
    if (!key) return ERROR_SUCCESS;
    wprovider *p = find_provider(e, key);
    if (!p) return wfpi_fail(e, FWP_E_PROVIDER_NOT_FOUND, "no such provider");
    uint32_t rc = wfpi_check_object(s, WFP_OBJECT_PROVIDER, &p->o, FWPM_ACTRL_ADD_LINK, "the provider");
    if (rc) return rc;
    rc = may_reference(s, persistent, NULL, &p->o, (p->pub.flags & FWPM_PROVIDER_FLAG_PERSISTENT) != 0, NULL,
                       "provider", p->pub.display.name);
    if (rc) return rc;
    *out = p;
    return ERROR_SUCCESS;
}

/* ---- sublayers ----------------------------------------------------------- */

static bool sublayer_weight_taken(const wfp_engine *e, uint32_t w)
{
    for (size_t i = 0; i < e->sublayers.n; i++)
        if (e->sublayers.v[i]->pub.weight == w) return true;
    return false;
}

/* BFE keeps sublayer weights distinct and gives a colliding request "the
 * closest available" weight (W32 installing-a-provider sample). Which one
 * on a tie is undocumented: we take the lower (docs/sim-defined.md). */
static bool closest_free_weight(const wfp_engine *e, uint16_t want, uint16_t *got)
{
    for (uint32_t d = 0; d <= 0xffff; d++) {
        if ((uint32_t)want >= d && !sublayer_weight_taken(e, want - d)) {
            *got = (uint16_t)(want - d);
            return true;
        }
        if ((uint32_t)want + d <= 0xffff && !sublayer_weight_taken(e, want + d)) {
            *got = (uint16_t)(want + d);
            return true;
        }
    }
    return false;
}

static uint32_t sublayer_add(wfp_session *s, const wfp_sublayer *in)
{
    wfp_engine *e = s->engine;
    wsublayer *sl;
    wprovider *prov;
    uint16_t weight;
    uint32_t rc;
    bool ok = true, persistent;

    if (!in->display.name) return wfpi_fail(e, FWP_E_NULL_DISPLAY_NAME, "a sublayer needs a name");
    if (!wfp_guid_is_null(&in->key) && find_sublayer(e, &in->key))
        return wfpi_fail(e, FWP_E_ALREADY_EXISTS, "sublayer '%s' exists already", in->display.name);
    if (in->flags & ~FWPM_SUBLAYER_FLAG_PERSISTENT)
        return wfpi_fail(e, FWP_E_INVALID_FLAGS, "sublayer flags 0x%x", (unsigned)in->flags);
    persistent = (in->flags & FWPM_SUBLAYER_FLAG_PERSISTENT) != 0;
    rc = link_provider(s, in->provider_key, persistent, &prov);
    if (rc) return rc;
    if (!closest_free_weight(e, in->weight, &weight))
        return wfpi_fail(e, FWP_E_TOO_MANY_SUBLAYERS, "every sublayer weight is taken");
    if (!VEC_RESERVE(e, e->sublayers, 1) || !wfpi_journal_reserve(e, 1))
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "sublayer");
    sl = wfpi_calloc(e, 1, sizeof *sl);
    if (!sl) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "sublayer");
    sl->pub = *in;
    sl->pub.weight = weight;
    sl->pub.display.name = dup_str(e, in->display.name, &ok);
    sl->pub.display.description = dup_str(e, in->display.description, &ok);
    sl->pub.provider_data.data = dup_bytes(e, in->provider_data.data, in->provider_data.size, &ok);
    if (!sl->pub.provider_data.data) sl->pub.provider_data.size = 0;
    if (!ok) {
        free_sublayer(e, sl);
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "sublayer");
    }
    if (prov) {
        sl->provider_storage = prov->pub.key;
        sl->pub.provider_key = &sl->provider_storage;
        sl->provider = prov;
        prov->o.refs++;
    }
    if (wfp_guid_is_null(&sl->pub.key)) generate_key(e, "sublayer", &sl->pub.key);
    sl->o.owner_session = owner_of(s);
    e->sublayers.v[e->sublayers.n++] = sl;
    wfpi_journal_add(e, WFP_OBJECT_SUBLAYER, FWPM_CHANGE_ADD, sl, 0);
    return ERROR_SUCCESS;
}

uint32_t wfp_sublayer_add(wfp_session *s, const wfp_sublayer *in)
{
    if (!in) return FWP_E_NULL_POINTER;
    WRITE_OP(s, WFP_OBJECT_SUBLAYER, FWPM_ACTRL_ADD, sublayer_add(s, in));
}

static uint32_t sublayer_delete(wfp_session *s, const wfp_guid *key)
{
    wsublayer *sl = find_sublayer(s->engine, key);
    if (!sl) return wfpi_fail(s->engine, FWP_E_SUBLAYER_NOT_FOUND, "no such sublayer");
    return journal_delete(s, WFP_OBJECT_SUBLAYER, sl, &sl->o, "the sublayer");
}

uint32_t wfp_sublayer_delete_by_key(wfp_session *s, const wfp_guid *key)
{
    if (!key) return FWP_E_NULL_POINTER;
    WRITE_OP(s, 0, 0, sublayer_delete(s, key));
}

uint32_t wfp_sublayer_get_by_key(wfp_session *s, const wfp_guid *key, const wfp_sublayer **out)
{
    if (!s || !key || !out) return FWP_E_NULL_POINTER;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    wsublayer *sl = find_sublayer(s->engine, key);
    if (!sl) return wfpi_fail(s->engine, FWP_E_SUBLAYER_NOT_FOUND, "no such sublayer");
    rc = read_check(s, WFP_OBJECT_SUBLAYER, &sl->o, "the sublayer");
    if (rc) return rc;
    *out = &sl->pub;
    return ERROR_SUCCESS;
}

/* ---- callouts (management side) ------------------------------------------ */

static uint32_t callout_add(wfp_session *s, const wfp_callout *in, uint32_t *id)
{
    wfp_engine *e = s->engine;
    wcallout *c;
    wprovider *prov;
    const wfp_layer_info *layer;
    uint32_t rc, cid;
    bool ok = true, persistent, added;
    wfp_guid key;

    if (!in->display.name) return wfpi_fail(e, FWP_E_NULL_DISPLAY_NAME, "a callout needs a name");
    if (!wfp_guid_is_null(&in->key) && find_callout(e, &in->key))
        return wfpi_fail(e, FWP_E_ALREADY_EXISTS, "callout '%s' exists already", in->display.name);
    if (in->flags & ~(FWPM_CALLOUT_FLAG_PERSISTENT | FWPM_CALLOUT_FLAG_USES_PROVIDER_CONTEXT))
        return wfpi_fail(e, FWP_E_INVALID_FLAGS, "callout flags 0x%x (REGISTERED is output only)",
                         (unsigned)in->flags);
    layer = wfp_catalog_layer_by_key(&in->applicable_layer);
    if (!layer) return wfpi_fail(e, FWP_E_LAYER_NOT_FOUND, "callout '%s': no such layer", in->display.name);
    /* Callouts run in the kernel only (W32 basic-operation). */
    if (!(layer->flags & FWPM_LAYER_FLAG_KERNEL))
        return wfpi_fail(e, FWP_E_INCOMPATIBLE_LAYER, "callout '%s': %s is a user-mode layer",
                         in->display.name, layer->name);
    rc = wfpi_check_container(s, WFP_OBJECT_LAYER, FWPM_ACTRL_ADD_LINK);
    if (rc) return rc;
    persistent = (in->flags & FWPM_CALLOUT_FLAG_PERSISTENT) != 0;
    rc = link_provider(s, in->provider_key, persistent, &prov);
    if (rc) return rc;
    if (!wfpi_journal_reserve(e, 1)) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "callout");
    uint64_t saved_keys = e->next_generated_key;
    key = in->key;
    if (wfp_guid_is_null(&key)) generate_key(e, "callout", &key);
    if (!VEC_RESERVE(e, e->callouts, 1) || !callout_id_for_key(e, &key, &cid, &added)) {
        e->next_generated_key = saved_keys;
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "callout");
    }
    c = wfpi_calloc(e, 1, sizeof *c);
    if (c) {
        c->pub = *in;
        c->pub.display.name = dup_str(e, in->display.name, &ok);
        c->pub.display.description = dup_str(e, in->display.description, &ok);
        c->pub.provider_data.data = dup_bytes(e, in->provider_data.data, in->provider_data.size, &ok);
        if (!c->pub.provider_data.data) c->pub.provider_data.size = 0;
    }
    if (!c || !ok) {
        if (added) { /* the id was new: forget it again, leaving no trace */
            e->ncallout_ids--;
            e->next_callout_id--;
        }
        e->next_generated_key = saved_keys;
        free_callout(e, c);
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "callout");
    }
    c->pub.key = key;
    c->pub.callout_id = cid;
    c->layer = layer;
    if (prov) {
        c->provider_storage = prov->pub.key;
        c->pub.provider_key = &c->provider_storage;
        c->provider = prov;
        prov->o.refs++;
    }
    c->o.owner_session = owner_of(s);
    e->callouts.v[e->callouts.n++] = c;
    wfpi_journal_add(e, WFP_OBJECT_CALLOUT, FWPM_CHANGE_ADD, c, 0);
    if (id) *id = cid;
    return ERROR_SUCCESS;
}

uint32_t wfp_callout_add(wfp_session *s, const wfp_callout *in, uint32_t *id)
{
    if (!in) return FWP_E_NULL_POINTER;
    WRITE_OP(s, WFP_OBJECT_CALLOUT, FWPM_ACTRL_ADD, callout_add(s, in, id));
}

static uint32_t callout_delete(wfp_session *s, wcallout *c)
{
    if (!c) return wfpi_fail(s->engine, FWP_E_CALLOUT_NOT_FOUND, "no such callout");
    return journal_delete(s, WFP_OBJECT_CALLOUT, c, &c->o, "the callout");
}

uint32_t wfp_callout_delete_by_key(wfp_session *s, const wfp_guid *key)
{
    if (!key) return FWP_E_NULL_POINTER;
    WRITE_OP(s, 0, 0, callout_delete(s, find_callout(s->engine, key)));
}

uint32_t wfp_callout_delete_by_id(wfp_session *s, uint32_t id)
{
    WRITE_OP(s, 0, 0, callout_delete(s, find_callout_id(s->engine, id)));
}

/* The FLAG_REGISTERED output flag mirrors the registration table. */
static void refresh_registered_flag(wfp_engine *e, wcallout *c)
{
    if (find_reg(e, &c->pub.key)) c->pub.flags |= FWPM_CALLOUT_FLAG_REGISTERED;
    else c->pub.flags &= ~FWPM_CALLOUT_FLAG_REGISTERED;
}

uint32_t wfp_callout_get_by_key(wfp_session *s, const wfp_guid *key, const wfp_callout **out)
{
    if (!s || !key || !out) return FWP_E_NULL_POINTER;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    wcallout *c = find_callout(s->engine, key);
    if (!c) return wfpi_fail(s->engine, FWP_E_CALLOUT_NOT_FOUND, "no such callout");
    rc = read_check(s, WFP_OBJECT_CALLOUT, &c->o, "the callout");
    if (rc) return rc;
    refresh_registered_flag(s->engine, c);
    *out = &c->pub;
    return ERROR_SUCCESS;
}

uint32_t wfp_callout_get_by_id(wfp_session *s, uint32_t id, const wfp_callout **out)
{
    if (!s || !out) return FWP_E_NULL_POINTER;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    wcallout *c = find_callout_id(s->engine, id);
    if (!c) return wfpi_fail(s->engine, FWP_E_CALLOUT_NOT_FOUND, "no callout with id %u", (unsigned)id);
    rc = read_check(s, WFP_OBJECT_CALLOUT, &c->o, "the callout");
    if (rc) return rc;
    refresh_registered_flag(s->engine, c);
    *out = &c->pub;
    return ERROR_SUCCESS;
}

/* ---- callouts (driver side) ---------------------------------------------- */

uint32_t wfp_callout_register(wfp_engine *e, const wfp_callout_registration *reg, uint32_t *callout_id)
{
    wreg *r;
    uint32_t id;
    bool added;

    if (!e || !reg) return FWP_E_NULL_POINTER;
    if (!reg->classify) return wfpi_fail(e, FWP_E_NULL_POINTER, "a callout needs a classify function");
    if (find_reg(e, &reg->callout_key))
        return wfpi_fail(e, FWP_E_ALREADY_EXISTS, "the callout is registered already");
    if (!VEC_RESERVE(e, e->regs, 1)) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "registration");
    r = wfpi_calloc(e, 1, sizeof *r);
    if (!r) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "registration");
    if (!callout_id_for_key(e, &reg->callout_key, &id, &added)) {
        wfpi_free(e, r);
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "registration");
    }
    r->reg = *reg;
    r->id = id;
    e->regs.v[e->regs.n++] = r;
    if (callout_id) *callout_id = id;
    return ERROR_SUCCESS;
}

uint32_t wfp_callout_unregister_by_key(wfp_engine *e, const wfp_guid *key)
{
    if (!e || !key) return FWP_E_NULL_POINTER;
    for (size_t i = 0; i < e->regs.n; i++) {
        if (wfp_guid_eq(&e->regs.v[i]->reg.callout_key, key)) {
            wfpi_free(e, e->regs.v[i]);
            vec_remove((void **)e->regs.v, &e->regs.n, i);
            return ERROR_SUCCESS;
        }
    }
    return wfpi_fail(e, FWP_E_CALLOUT_NOT_FOUND, "the callout is not registered");
}

bool wfp_callout_is_registered(const wfp_engine *e, const wfp_guid *key)
{
    return e && key && find_reg(e, key) != NULL;
}

/* ---- filters ------------------------------------------------------------- */

static bool settable_action(uint32_t t)
{
    return t == FWP_ACTION_BLOCK || t == FWP_ACTION_PERMIT || t == FWP_ACTION_CALLOUT_TERMINATING ||
           t == FWP_ACTION_CALLOUT_INSPECTION || t == FWP_ACTION_CALLOUT_UNKNOWN;
}

/* effectiveWeight from FWPM_FILTER0.weight (W32 filter-weight-assignment):
 * UINT64 exact; UINT8 r in 0..15 puts r in the top 4 bits over the auto
 * weight; EMPTY is the auto weight alone. */
static uint32_t effective_weight(wfp_engine *e, const wfp_filter *f, const wfp_layer_info *layer,
                                 uint64_t *w)
{
    switch (f->weight.type) {
    case FWP_UINT64:
        *w = f->weight.v.u64;
        return ERROR_SUCCESS;
    case FWP_UINT8:
        if (f->weight.v.u8 > FWPM_WEIGHT_RANGE_MAX)
            return wfpi_fail(e, FWP_E_INVALID_WEIGHT, "weight range %u is above 15", (unsigned)f->weight.v.u8);
        *w = ((uint64_t)f->weight.v.u8 << FWPM_AUTO_WEIGHT_BITS) |
             (wfpi_auto_weight(layer, f->conditions, f->num_conditions) & FWPM_AUTO_WEIGHT_MAX);
        return ERROR_SUCCESS;
    case FWP_EMPTY:
        *w = wfpi_auto_weight(layer, f->conditions, f->num_conditions) & FWPM_AUTO_WEIGHT_MAX;
        return ERROR_SUCCESS;
    default:
        return wfpi_fail(e, FWP_E_INVALID_WEIGHT, "a weight must be FWP_EMPTY, FWP_UINT8 or FWP_UINT64, not %s",
                         wfp_data_type_name(f->weight.type) ? wfp_data_type_name(f->weight.type) : "?");
    }
}

static uint32_t validate_conditions(wfp_engine *e, const wfp_filter *f, const wfp_layer_info *layer)
{
    if (f->num_conditions && !f->conditions)
        return wfpi_fail(e, FWP_E_NULL_POINTER, "filter '%s': conditions missing", f->display.name);
    for (uint32_t i = 0; i < f->num_conditions; i++) {
        const wfp_condition *c = &f->conditions[i];
        int idx = wfp_catalog_field_index(layer, &c->field_key);
        if (idx < 0) {
            const wfp_condition_info *ci = wfp_catalog_condition_by_key(&c->field_key);
            char g[WFP_GUID_STRLEN];
            guid_text(&c->field_key, g);
            return wfpi_fail(e, FWP_E_CONDITION_NOT_FOUND, "filter '%s': %s is not a field of %s",
                             f->display.name, ci ? ci->name : g, layer->name);
        }
        uint32_t rc = wfp_condition_validate(layer->fields[idx].data_type, c->match_type, &c->value);
        /* address masks only on address fields (FWPM_FIELD0.type), not any UINT32 */
        if (!rc && (c->value.type == FWP_V4_ADDR_MASK || c->value.type == FWP_V6_ADDR_MASK) &&
            layer->fields[idx].field_type != FWPM_FIELD_IP_ADDRESS)
            rc = FWP_E_TYPE_MISMATCH;
        if (rc)
            return wfpi_fail(e, rc, "filter '%s': condition %u on %s (%s, %s)", f->display.name,
                             (unsigned)i + 1, layer->fields[idx].condition->name,
                             wfp_match_type_name(c->match_type),
                             wfp_data_type_name(c->value.type) ? wfp_data_type_name(c->value.type) : "?");
    }
    return ERROR_SUCCESS;
}

static uint32_t filter_add(wfp_session *s, const wfp_filter *in, uint64_t *id, uint64_t preset_id,
                           const uint64_t *preset_weight)
{
    wfp_engine *e;
    const wfp_layer_info *layer;
    wsublayer *sub;
    wcallout *callout = NULL;
    wprovider *prov;
    wfilter *f;
    uint64_t weight = 0;
    uint32_t rc, flags;
    bool ok = true, persistent, is_callout;
    const char *name;

    e = s->engine;
    name = in->display.name;
    if (!name) return wfpi_fail(e, FWP_E_NULL_DISPLAY_NAME, "a filter needs a name");
    if (!wfp_guid_is_null(&in->key) && filter_index_by_key(e, &in->key) != SIZE_MAX)
        return wfpi_fail(e, FWP_E_ALREADY_EXISTS, "filter '%s' exists already", name);

    /* DISABLED and INDEXED are output only; we drop them on add. */
    flags = in->flags & ~(FWPM_FILTER_FLAG_DISABLED | FWPM_FILTER_FLAG_INDEXED);
    if ((flags & FWPM_FILTER_FLAG_PERSISTENT) && (flags & FWPM_FILTER_FLAG_BOOTTIME))
        return wfpi_fail(e, FWP_E_INVALID_FLAGS, "filter '%s': PERSISTENT and BOOTTIME exclude each other", name);
    if (flags & ~0x3fffu) return wfpi_fail(e, FWP_E_INVALID_FLAGS, "filter '%s': flags 0x%x", name, (unsigned)flags);

    layer = wfp_catalog_layer_by_key(&in->layer_key);
    if (!layer) return wfpi_fail(e, FWP_E_LAYER_NOT_FOUND, "filter '%s': no such layer", name);
    if ((flags & FWPM_FILTER_FLAG_BOOTTIME) && !(layer->flags & FWPM_LAYER_FLAG_KERNEL))
        return wfpi_fail(e, FWP_E_INCOMPATIBLE_LAYER, "filter '%s': boot-time filters need a kernel layer", name);

    sub = find_sublayer(e, wfp_guid_is_null(&in->sublayer_key) ? &layer->default_sublayer : &in->sublayer_key);
    if (!sub) return wfpi_fail(e, FWP_E_SUBLAYER_NOT_FOUND, "filter '%s': no such sublayer", name);
    rc = wfpi_check_object(s, WFP_OBJECT_SUBLAYER, &sub->o, FWPM_ACTRL_ADD_LINK, "the sublayer");
    if (!rc) rc = wfpi_check_container(s, WFP_OBJECT_LAYER, FWPM_ACTRL_ADD_LINK);
    if (rc) return rc;

    if (!settable_action(in->action.type))
        return wfpi_fail(e, FWP_E_INVALID_ACTION_TYPE, "filter '%s': action 0x%x", name, (unsigned)in->action.type);
    is_callout = (in->action.type & FWP_ACTION_FLAG_CALLOUT) != 0;
    if ((flags & FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED) &&
        !(in->action.type == FWP_ACTION_CALLOUT_TERMINATING || in->action.type == FWP_ACTION_CALLOUT_UNKNOWN))
        return wfpi_fail(e, FWP_E_INVALID_FLAGS,
                         "filter '%s': PERMIT_IF_CALLOUT_UNREGISTERED needs a terminating or unknown callout action", name);
    if (is_callout) {
        callout = find_callout(e, &in->action.key);
        if (!callout) return wfpi_fail(e, FWP_E_CALLOUT_NOT_FOUND, "filter '%s': no such callout", name);
        rc = wfpi_check_object(s, WFP_OBJECT_CALLOUT, &callout->o, FWPM_ACTRL_ADD_LINK, "the callout");
        if (rc) return rc;
        if (callout->layer != layer)
            return wfpi_fail(e, FWP_E_INCOMPATIBLE_LAYER, "filter '%s': callout '%s' belongs to %s, not %s", name,
                             callout->pub.display.name, callout->layer->name, layer->name);
    }
    if (flags & FWPM_FILTER_FLAG_HAS_PROVIDER_CONTEXT)
        return wfpi_fail(e, FWP_E_PROVIDER_CONTEXT_NOT_FOUND, "filter '%s': no such provider context", name);

    rc = validate_conditions(e, in, layer);
    if (rc) return rc;
    rc = effective_weight(e, in, layer, &weight);
    if (rc) return rc;
    if (preset_weight) weight = *preset_weight;
    if (preset_id && filter_index_by_id(e, preset_id) != SIZE_MAX)
        return wfpi_fail(e, FWP_E_ALREADY_EXISTS, "filter id %llu is taken", (unsigned long long)preset_id);

    /* Lifetimes: a filter may reference only what lives at least as long. */
    persistent = (flags & FWPM_FILTER_FLAG_PERSISTENT) != 0;
    rc = may_reference(s, persistent, in->provider_key, &sub->o, (sub->pub.flags & FWPM_SUBLAYER_FLAG_PERSISTENT) != 0,
                       sub->pub.provider_key, "sublayer", sub->pub.display.name);
    if (!rc && callout)
        rc = may_reference(s, persistent, in->provider_key, &callout->o,
                           (callout->pub.flags & FWPM_CALLOUT_FLAG_PERSISTENT) != 0, callout->pub.provider_key, "callout",
                           callout->pub.display.name);
    if (!rc) rc = link_provider(s, in->provider_key, persistent, &prov);
    if (rc) return rc;

    /* Build the whole object before anything in the store changes. */
    if (!VEC_RESERVE(e, e->filters, 1) || !wfpi_journal_reserve(e, 1))
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "filter");
    f = wfpi_calloc(e, 1, sizeof *f);
    if (!f) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "filter");
    f->pub = *in;
    f->pub.flags = flags;
    f->pub.conditions = NULL;
    f->pub.num_conditions = 0;
    f->pub.weight.type = FWP_EMPTY;
    f->pub.provider_key = NULL;
    f->pub.display.name = dup_str(e, in->display.name, &ok);
    f->pub.display.description = dup_str(e, in->display.description, &ok);
    f->pub.provider_data.data = dup_bytes(e, in->provider_data.data, in->provider_data.size, &ok);
    if (!f->pub.provider_data.data) f->pub.provider_data.size = 0;
    if (ok && !wfpi_value_copy(&e->alloc, &f->pub.weight, &in->weight)) ok = false;
    if (ok && in->num_conditions) {
        f->conds = wfpi_calloc(e, in->num_conditions, sizeof *f->conds);
        if (!f->conds) ok = false;
        for (uint32_t i = 0; ok && i < in->num_conditions; i++) {
            f->conds[i].field_key = in->conditions[i].field_key;
            f->conds[i].match_type = in->conditions[i].match_type;
            /* count as we go so a partial copy is freed correctly */
            f->pub.num_conditions = i + 1;
            if (!wfpi_condition_value_copy(&e->alloc, &f->conds[i].value, &in->conditions[i].value)) ok = false;
        }
        f->pub.conditions = f->conds;
    }
    if (!ok) {
        free_filter(e, f);
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "filter '%s'", name);
    }
    f->layer = layer;
    f->sublayer = sub;
    f->callout = callout;
    f->provider = prov;
    f->weight = weight;
    f->pub.effective_weight.type = FWP_UINT64;
    f->pub.effective_weight.v.u64 = weight;
    f->pub.layer_key = layer->key;
    f->pub.sublayer_key = sub->pub.key;
    if (prov) {
        f->provider_storage = prov->pub.key;
        f->pub.provider_key = &f->provider_storage;
    }
    if (callout) f->callout_id = callout->pub.callout_id;
    if (flags & FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT) f->fwps_flags |= FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT;
    if (flags & FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED)
        f->fwps_flags |= FWPS_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED;
    if (flags & FWPM_FILTER_FLAG_SILENT_MODE) f->fwps_flags |= FWPS_FILTER_FLAG_SILENT_MODE;
    for (uint32_t i = 0; i < f->pub.num_conditions; i++)
        for (uint32_t j = 0; j < i; j++)
            if (wfp_catalog_field_index(layer, &f->conds[i].field_key) ==
                wfp_catalog_field_index(layer, &f->conds[j].field_key))
                f->fwps_flags |= FWPS_FILTER_FLAG_OR_CONDITIONS;
    uint64_t saved_keys = e->next_generated_key;
    if (wfp_guid_is_null(&f->pub.key)) generate_key(e, "filter", &f->pub.key);
    f->pub.filter_id = preset_id ? preset_id : e->next_filter_id;
    f->o.owner_session = owner_of(s);

    /* A registered callout may refuse the filter (notifyFn ADD). */
    if (callout) {
        wreg *r = find_reg(e, &callout->pub.key);
        if (r && r->reg.notify) {
            wfp_fwps_filter view = {0};
            view.filter_id = f->pub.filter_id;
            view.weight = f->weight;
            view.sublayer_weight = sub->pub.weight;
            view.flags = f->fwps_flags;
            view.action_type = f->pub.action.type;
            view.callout_id = f->callout_id;
            view.context = f->pub.raw_context;
            view.management = &f->pub;
            if (r->reg.notify(r->reg.ctx, FWPS_CALLOUT_NOTIFY_ADD_FILTER, &f->pub.key, &view)) {
                free_filter(e, f);
                e->next_generated_key = saved_keys;
                return wfpi_fail(e, FWP_E_CALLOUT_NOTIFICATION_FAILED,
                                 "filter '%s': callout '%s' refused it", name, callout->pub.display.name);
            }
        }
    }

    /* Past this point nothing can fail. */
    if (preset_id) {
        /* keep the list sorted by id; later ids continue above the largest */
        size_t at = e->filters.n;
        while (at > 0 && e->filters.v[at - 1]->pub.filter_id > preset_id) at--;
        memmove(e->filters.v + at + 1, e->filters.v + at, (e->filters.n - at) * sizeof *e->filters.v);
        e->filters.v[at] = f;
        e->filters.n++;
        if (preset_id >= e->next_filter_id) e->next_filter_id = preset_id + 1;
    } else {
        e->next_filter_id++;
        e->filters.v[e->filters.n++] = f;
    }
    sub->o.refs++;
    if (callout) callout->o.refs++;
    if (prov) prov->o.refs++;
    wfpi_journal_add(e, WFP_OBJECT_FILTER, FWPM_CHANGE_ADD, f, 0);
    if (id) *id = f->pub.filter_id;
    return ERROR_SUCCESS;
}

uint32_t wfp_filter_add(wfp_session *s, const wfp_filter *in, uint64_t *id)
{
    if (!in) return FWP_E_NULL_POINTER;
    WRITE_OP(s, WFP_OBJECT_FILTER, FWPM_ACTRL_ADD, filter_add(s, in, id, 0, NULL));
}

uint32_t wfp_filter_add_with_id(wfp_session *s, const wfp_filter *in, uint64_t filter_id, const uint64_t *effective_weight)
{
    if (!in || !filter_id) return FWP_E_NULL_POINTER;
    WRITE_OP(s, WFP_OBJECT_FILTER, FWPM_ACTRL_ADD, filter_add(s, in, NULL, filter_id, effective_weight));
}

static uint32_t filter_delete(wfp_session *s, size_t index)
{
    if (index == SIZE_MAX) return wfpi_fail(s->engine, FWP_E_FILTER_NOT_FOUND, "no such filter");
    wfilter *f = s->engine->filters.v[index];
    return journal_delete(s, WFP_OBJECT_FILTER, f, &f->o, "the filter");
}

uint32_t wfp_filter_delete_by_key(wfp_session *s, const wfp_guid *key)
{
    if (!key) return FWP_E_NULL_POINTER;
    WRITE_OP(s, 0, 0, filter_delete(s, filter_index_by_key(s->engine, key)));
}

uint32_t wfp_filter_delete_by_id(wfp_session *s, uint64_t id)
{
    WRITE_OP(s, 0, 0, filter_delete(s, filter_index_by_id(s->engine, id)));
}

uint32_t wfp_filter_get_by_key(wfp_session *s, const wfp_guid *key, const wfp_filter **out)
{
    if (!s || !key || !out) return FWP_E_NULL_POINTER;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    size_t i = filter_index_by_key(s->engine, key);
    if (i == SIZE_MAX) return wfpi_fail(s->engine, FWP_E_FILTER_NOT_FOUND, "no such filter");
    rc = read_check(s, WFP_OBJECT_FILTER, &s->engine->filters.v[i]->o, "the filter");
    if (rc) return rc;
    *out = &s->engine->filters.v[i]->pub;
    return ERROR_SUCCESS;
}

uint32_t wfp_filter_get_by_id(wfp_session *s, uint64_t id, const wfp_filter **out)
{
    if (!s || !out) return FWP_E_NULL_POINTER;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    size_t i = filter_index_by_id(s->engine, id);
    if (i == SIZE_MAX)
        return wfpi_fail(s->engine, FWP_E_FILTER_NOT_FOUND, "no filter with id %llu", (unsigned long long)id);
    rc = read_check(s, WFP_OBJECT_FILTER, &s->engine->filters.v[i]->o, "the filter");
    if (rc) return rc;
    *out = &s->engine->filters.v[i]->pub;
    return ERROR_SUCCESS;
}

uint32_t wfp_filter_list(wfp_engine *e, const wfp_guid *layer_key, const wfp_filter *const **out, uint32_t *count)
{
    if (!e || !out || !count) return FWP_E_NULL_POINTER;
    if (layer_key) {
        const wfp_layer_info *l = wfp_catalog_layer_by_key(layer_key);
        if (!l) return wfpi_fail(e, FWP_E_LAYER_NOT_FOUND, "no such layer");
        const lsnap *sn = wfpi_layer_snapshot(e, l->id);
        if (!sn) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "snapshot");
        *out = sn->list;
        *count = sn->nfilters;
        return ERROR_SUCCESS;
    }
    /* every layer, in layer id order */
    size_t total = 0;
    for (uint16_t l = 0; l < e->nlayers; l++) {
        const lsnap *sn = wfpi_layer_snapshot(e, l);
        if (!sn) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "snapshot");
        total += sn->nfilters;
    }
    if (!grow(e, (void **)&e->all_list, &e->all_list_cap, total ? total : 1, sizeof *e->all_list))
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "filter list");
    total = 0;
    for (uint16_t l = 0; l < e->nlayers; l++) {
        const lsnap *sn = wfpi_layer_snapshot(e, l);
        if (sn->nfilters) memcpy(e->all_list + total, sn->list, sn->nfilters * sizeof *sn->list);
        total += sn->nfilters;
    }
    *out = e->all_list;
    *count = (uint32_t)total;
    return ERROR_SUCCESS;
}
