/* bfe.c — the Base Filtering Engine around the object store: sessions and
 * their tokens, the engine-wide transaction lock, transactions as an undo
 * journal, change notifications, the security model, engine options,
 * reboots and statistics (spec §7–§11).
 *
 * A change made in a transaction goes into the store at once but is
 * journaled; the classify snapshots of the layers it touched are rebuilt
 * only at commit, so classification keeps seeing the committed state.
 * Commit first builds everything that can fail (the new snapshots, the
 * notification list), then passes a point after which nothing can fail:
 * it installs the snapshots, frees deleted objects, releases the lock and
 * delivers the notifications. Abort walks the journal backwards. This is
 * nf_tables' commit protocol (STYLE.md). */
#include "engine_int.h"
#include "wfp_enum.h"

#include <stdio.h>
#include <string.h>

/* Default engine security descriptor (spec §10.3): administrators and
 * SYSTEM everything; Network Configuration Operators and the service SIDs
 * of MpsSvc, NapAgent, PolicyAgent, RpcSs and WdiServiceHost read, write
 * and execute; Everyone open and classify. A service SID is S-1-5-80 and
 * the SHA-1 of the service's upper-case name in UTF-16LE as five
 * little-endian numbers (MpsSvc's is the well-known
 * S-1-5-80-3088073201-...-823218052). */
#define SERVICE_ACE(sid) "(A;;GRGWGX;;;S-1-5-80-" sid ")"
#define DEFAULT_ENGINE_SDDL                                                                  \
    "O:SYG:SYD:(A;;GA;;;BA)(A;;GA;;;SY)(A;;GRGWGX;;;NO)"                                     \
    SERVICE_ACE("3088073201-1464728630-1879813800-1107566885-823218052")  /* MpsSvc */        \
    SERVICE_ACE("2006800713-1441093265-249754844-3404434343-1444102779")  /* NapAgent */      \
    SERVICE_ACE("3044542841-3639452079-4096941652-1606687743-1256249853") /* PolicyAgent */   \
    SERVICE_ACE("979556362-403687129-3954533659-2335141334-1547273080")   /* RpcSs */         \
    SERVICE_ACE("3139157870-2983391045-3678747466-658725712-1809340420")  /* WdiServiceHost */ \
    "(A;;0x50;;;WD)"
#define TXN_DEFAULT_WAIT_MS 15000u

static const char *const object_names[WFP_OBJECT_TYPE_COUNT + 1] = {
    "provider", "sublayer", "callout", "filter", "layer", "net_events", "engine",
};

const char *wfp_object_type_name(uint32_t type)
{
    return type <= WFP_OBJECT_TYPE_COUNT ? object_names[type] : NULL;
}

/* ---- setup -------------------------------------------------------------- */

bool wfpi_bfe_init(wfp_engine *e)
{
    uint32_t rc = wfp_sddl_parse(&e->alloc, DEFAULT_ENGINE_SDDL, &e->engine_sd, &e->engine_sd_len, NULL);
    if (rc) return false;
    e->options[FWPM_ENGINE_COLLECT_NET_EVENTS] = 1;
    e->bfe_running = true;
    e->txn_layers = wfpi_calloc(e, e->nlayers, sizeof *e->txn_layers);
    e->layer_stats = wfpi_calloc(e, e->nlayers, sizeof *e->layer_stats);
    return e->txn_layers && e->layer_stats && wfpi_layer_meta_init(e);
}

static void free_sub(wfp_engine *e, wsub *w)
{
    if (!w) return;
    wfpi_filter_template_free(e, w->filter_template);
    wfpi_free(e, w);
}

void wfpi_bfe_free(wfp_engine *e)
{
    wfpi_free(e, e->engine_sd);
    for (int i = 0; i < WFP_OBJECT_TYPE_COUNT; i++) wfpi_free(e, e->container_sd[i]);
    for (size_t i = 0; i < e->subs.n; i++) free_sub(e, e->subs.v[i]);
    wfpi_free(e, e->subs.v);
    for (size_t i = 0; i < e->manual_services.n; i++) wfpi_free(e, e->manual_services.v[i]);
    wfpi_free(e, e->manual_services.v);
    wfpi_free(e, e->journal);
    wfpi_free(e, e->txn_layers);
    wfpi_free(e, e->layer_stats);
    wfpi_free(e, e->layer_meta);
    wfpi_free(e, e->reap);
}

/* ---- sessions ----------------------------------------------------------- */

wfp_session *wfpi_session_by_id(const wfp_engine *e, uint32_t id)
{
    for (size_t i = 0; i < e->sessions.n; i++)
        if (e->sessions.v[i]->id == id) return e->sessions.v[i];
    return NULL;
}

uint32_t wfp_session_txn_wait_timeout_ms(const wfp_session *s)
{
    return s && s->txn_wait_timeout_ms ? s->txn_wait_timeout_ms : TXN_DEFAULT_WAIT_MS;
}

bool wfp_session_is_dynamic(const wfp_session *s)
{
    return s && (s->flags & FWPM_SESSION_FLAG_DYNAMIC);
}

const wfp_guid *wfp_session_key(const wfp_session *s)
{
    return s ? &s->key : NULL;
}

bool wfp_session_in_txn(const wfp_session *s)
{
    return s && s->txn != WFPI_TXN_NONE;
}

const wfp_session *wfp_engine_lock_holder(const wfp_engine *e)
{
    return e && e->lock_owner ? wfpi_session_by_id(e, e->lock_owner) : NULL;
}

/* The token of a session: its user, then Everyone, Authenticated Users,
 * BUILTIN\Administrators (admin) and the extra groups. */
bool wfpi_session_token(wfp_engine *e, wfp_session *s, const wfp_session_desc *d)
{
    const char *sids[64];
    size_t n = 0;
    sids[n++] = d->user_sid ? d->user_sid : "S-1-5-18";
    sids[n++] = "S-1-1-0";
    sids[n++] = "S-1-5-11";
    if (d->admin) sids[n++] = "S-1-5-32-544";
    for (size_t i = 0; i < d->num_groups && n < sizeof sids / sizeof sids[0]; i++) sids[n++] = d->groups[i];
    return wfp_token_build(&e->alloc, sids, n, &s->token, &s->token_len);
}

/* ---- access checks ------------------------------------------------------ */

/* `desired` against a chain: an object's own SD (may be NULL), its
 * container's, the engine's. */
static bool access(wfp_session *s, const uint8_t *object_sd, uint32_t object_len, uint32_t container,
                   uint32_t desired, uint32_t implicit)
{
    wfp_engine *e = s->engine;
    const uint8_t *chain[3];
    uint32_t lens[3];
    size_t n = 0;
    if (s->kernel_mode) return true; /* kernel-mode callers bypass all checks (spec §10.2) */
    chain[n] = object_sd;
    lens[n++] = object_len;
    if (container < WFP_OBJECT_TYPE_COUNT) {
        chain[n] = e->container_sd[container];
        lens[n++] = e->container_sd_len[container];
    }
    chain[n] = e->engine_sd;
    lens[n++] = e->engine_sd_len;
    return wfp_sd_access_check_chain(chain, lens, n, s->token, s->token_len, desired, implicit);
}

uint32_t wfpi_check_container(wfp_session *s, uint32_t object_type, uint32_t desired)
{
    if (access(s, NULL, 0, object_type, desired, 0)) return ERROR_SUCCESS;
    return wfpi_fail(s->engine, ERROR_ACCESS_DENIED, "the session lacks rights 0x%x on the %s container",
                     (unsigned)desired, wfp_object_type_name(object_type));
}

uint32_t wfpi_check_object(wfp_session *s, uint32_t object_type, const wobj *o, uint32_t desired, const char *what)
{
    /* administrators may always take ownership (SeTakeOwnershipPrivilege) */
    uint32_t implicit = s->admin ? WFP_WRITE_OWNER : 0;
    if (access(s, o->sd, o->sd_len, object_type, desired, implicit)) return ERROR_SUCCESS;
    return wfpi_fail(s->engine, ERROR_ACCESS_DENIED, "the session lacks rights 0x%x on %s", (unsigned)desired, what);
}

bool wfpi_can_read(wfp_session *s, uint32_t object_type, const wobj *o)
{
    return access(s, o->sd, o->sd_len, object_type, FWPM_ACTRL_READ, 0);
}

bool wfpi_engine_open_allowed(wfp_session *s)
{
    /* lock-out protection: administrators can always open (spec §10.3) */
    return s->admin || access(s, NULL, 0, WFP_OBJECT_TYPE_COUNT, FWPM_ACTRL_OPEN, 0);
}

/* ---- the lock and implicit transactions -------------------------------- */

uint32_t wfpi_session_enter(wfp_session *s)
{
    wfp_engine *e = s->engine;
    if (s->txn_aborted) {
        s->txn_aborted = false;
        return wfpi_fail(e, FWP_E_TXN_ABORTED, "the session's transaction was aborted by BFE");
    }
    if (e->lock_owner && e->lock_owner != s->id)
        return wfpi_fail(e, FWP_E_TIMEOUT, "another session holds the transaction lock");
    return ERROR_SUCCESS;
}

static void txn_start(wfp_engine *e, uint32_t session)
{
    e->lock_owner = session;
    e->njournal = 0;
    e->txn_saved.next_filter_id = e->next_filter_id;
    e->txn_saved.next_generated_key = e->next_generated_key;
    e->txn_saved.next_callout_id = e->next_callout_id;
    e->txn_saved.ncallout_ids = e->ncallout_ids;
    memset(e->txn_layers, 0, e->nlayers * sizeof *e->txn_layers);
}

uint32_t wfpi_op_begin(wfp_session *s, bool write, bool *implicit)
{
    uint32_t rc = wfpi_session_enter(s);
    *implicit = false;
    if (rc) return rc;
    if (!write) return ERROR_SUCCESS;
    if (s->txn == WFPI_TXN_READ)
        return wfpi_fail(s->engine, FWP_E_INCOMPATIBLE_TXN, "a write inside a read-only transaction");
    if (s->txn == WFPI_TXN_NONE) {
        txn_start(s->engine, s->id);
        s->engine->txn_implicit = true;
        *implicit = true;
    }
    return ERROR_SUCCESS;
}

static uint32_t commit(wfp_engine *e);
static void undo(wfp_engine *e);
static void reap_pending(wfp_engine *e);

uint32_t wfpi_op_end(wfp_session *s, bool implicit, uint32_t rc)
{
    wfp_engine *e = s->engine;
    if (!implicit) return rc;
    if (rc == ERROR_SUCCESS) {
        rc = commit(e);
    } else {
        char saved[sizeof e->error];
        memcpy(saved, e->error, sizeof saved);
        undo(e); /* the failed call journaled nothing; counters come back */
        memcpy(e->error, saved, sizeof saved);
    }
    e->txn_implicit = false;
    reap_pending(e);
    return rc;
}

/* ---- the journal -------------------------------------------------------- */

bool wfpi_journal_reserve(wfp_engine *e, size_t n)
{
    if (e->njournal + n <= e->journal_cap) return true;
    size_t ncap = e->journal_cap ? e->journal_cap * 2 : 32;
    while (ncap < e->njournal + n) ncap *= 2;
    wjournal *nj = e->alloc.realloc(e->alloc.ctx, e->journal, ncap * sizeof *nj);
    if (!nj) return false;
    e->journal = nj;
    e->journal_cap = ncap;
    return true;
}

void wfpi_journal_add(wfp_engine *e, uint32_t kind, uint32_t change, void *obj, size_t index)
{
    /* space was reserved before the store changed */
    wjournal *j = &e->journal[e->njournal++];
    j->kind = kind;
    j->change = change;
    j->obj = obj;
    j->index = index;
    if (kind == WFP_OBJECT_FILTER) e->txn_layers[((wfilter *)obj)->layer->id] = true;
}

static const wfp_guid *obj_key(uint32_t kind, void *obj)
{
    switch (kind) {
    case WFP_OBJECT_PROVIDER: return &((wprovider *)obj)->pub.key;
    case WFP_OBJECT_SUBLAYER: return &((wsublayer *)obj)->pub.key;
    case WFP_OBJECT_CALLOUT: return &((wcallout *)obj)->pub.key;
    default: return &((wfilter *)obj)->pub.key;
    }
}

static uint64_t obj_id(uint32_t kind, void *obj)
{
    if (kind == WFP_OBJECT_FILTER) return ((wfilter *)obj)->pub.filter_id;
    if (kind == WFP_OBJECT_CALLOUT) return ((wcallout *)obj)->pub.callout_id;
    return 0;
}

static wobj *obj_common(uint32_t kind, void *obj)
{
    switch (kind) {
    case WFP_OBJECT_PROVIDER: return &((wprovider *)obj)->o;
    case WFP_OBJECT_SUBLAYER: return &((wsublayer *)obj)->o;
    case WFP_OBJECT_CALLOUT: return &((wcallout *)obj)->o;
    default: return &((wfilter *)obj)->o;
    }
}

/* Walks the journal backwards: adds are taken out again, deletes put
 * back, and the id counters restored. Leaves the lock held. */
static void undo(wfp_engine *e)
{
    for (size_t i = e->njournal; i-- > 0;) {
        wjournal *j = &e->journal[i];
        if (j->change == FWPM_CHANGE_ADD) {
            wfpi_store_remove(e, j->kind, j->obj);
            if (j->kind == WFP_OBJECT_FILTER) wfpi_callout_notify_delete(e, j->obj);
            wfpi_object_free(e, j->kind, j->obj);
        } else {
            wfpi_store_reinsert(e, j->kind, j->obj, j->index);
        }
    }
    e->njournal = 0;
    e->next_filter_id = e->txn_saved.next_filter_id;
    e->next_generated_key = e->txn_saved.next_generated_key;
    e->next_callout_id = e->txn_saved.next_callout_id;
    e->ncallout_ids = e->txn_saved.ncallout_ids;
    memset(e->txn_layers, 0, e->nlayers * sizeof *e->txn_layers);
    e->lock_owner = 0;
}

typedef struct pending_note {
    wsub *sub;
    wfp_change change;
} pending_note;

static bool sub_matches(wfp_engine *e, const wsub *w, const wjournal *j)
{
    const wfp_subscription *sub = &w->sub;
    uint32_t want = sub->flags ? sub->flags : (FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_ADD | FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE);
    if (sub->object_type != j->kind) return false;
    if (j->change == FWPM_CHANGE_ADD && !(want & FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_ADD)) return false;
    if (j->change == FWPM_CHANGE_DELETE && !(want & FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE)) return false;
    switch (j->kind) {
    case WFP_OBJECT_FILTER:
        if (w->filter_template && !wfp_filter_template_match(w->filter_template, &((wfilter *)j->obj)->pub))
            return false;
        break;
    case WFP_OBJECT_SUBLAYER: {
        const wfp_sublayer *sl = &((wsublayer *)j->obj)->pub;
        if (sub->provider_key && (!sl->provider_key || !wfp_guid_eq(sl->provider_key, sub->provider_key))) return false;
        break;
    }
    case WFP_OBJECT_CALLOUT: {
        const wfp_callout *c = &((wcallout *)j->obj)->pub;
        if (sub->provider_key && (!c->provider_key || !wfp_guid_eq(c->provider_key, sub->provider_key))) return false;
        if (sub->layer_key && !wfp_guid_eq(&c->applicable_layer, sub->layer_key)) return false;
        break;
    }
    default:
        break;
    }
    /* notifications only for objects the subscriber may read */
    wfp_session *subscriber = wfpi_session_by_id(e, w->session);
    return subscriber && wfpi_can_read(subscriber, j->kind, obj_common(j->kind, j->obj));
}

/* Commits the open transaction: all or nothing. Releases the lock. */
static uint32_t commit(wfp_engine *e)
{
    uint32_t origin = e->lock_owner;
    lsnap **snaps = NULL;
    pending_note *notes = NULL;
    size_t nnotes = 0;

    /* 1. everything that can fail */
    snaps = wfpi_calloc(e, e->nlayers, sizeof *snaps);
    bool ok = snaps != NULL;
    e->commit_view = true;
    for (uint16_t l = 0; ok && l < e->nlayers; l++) {
        if (!e->txn_layers[l]) continue;
        snaps[l] = wfpi_snapshot_build(e, l);
        if (!snaps[l]) ok = false;
    }
    e->commit_view = false;
    for (size_t i = 0; ok && i < e->njournal; i++)
        for (size_t k = 0; k < e->subs.n; k++)
            if (e->subs.v[k]->session != origin && sub_matches(e, e->subs.v[k], &e->journal[i])) nnotes++;
    if (ok && nnotes) {
        notes = wfpi_calloc(e, nnotes, sizeof *notes);
        if (!notes) ok = false;
    }
    if (!ok) {
        for (uint16_t l = 0; snaps && l < e->nlayers; l++) wfpi_snapshot_free(e, snaps[l]);
        wfpi_free(e, snaps);
        undo(e);
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "the transaction could not be committed and was aborted");
    }
    nnotes = 0;
    for (size_t i = 0; i < e->njournal; i++) {
        for (size_t k = 0; k < e->subs.n; k++) {
            wsub *w = e->subs.v[k];
            if (w->session == origin || !sub_matches(e, w, &e->journal[i])) continue;
            notes[nnotes].sub = w;
            notes[nnotes].change.object_type = e->journal[i].kind;
            notes[nnotes].change.change_type = e->journal[i].change;
            notes[nnotes].change.key = *obj_key(e->journal[i].kind, e->journal[i].obj);
            notes[nnotes].change.id = obj_id(e->journal[i].kind, e->journal[i].obj);
            nnotes++;
        }
    }

    /* 2. nothing below can fail */
    for (uint16_t l = 0; l < e->nlayers; l++)
        if (e->txn_layers[l]) wfpi_snapshot_install(e, l, snaps[l]);
    wfpi_free(e, snaps);
    for (size_t i = 0; i < e->njournal; i++) {
        wjournal *j = &e->journal[i];
        if (j->change == FWPM_CHANGE_ADD && j->kind == WFP_OBJECT_FILTER) {
            /* an object added and deleted in one transaction is freed below */
            bool deleted_later = false;
            for (size_t k = i + 1; k < e->njournal; k++)
                if (e->journal[k].obj == j->obj && e->journal[k].change == FWPM_CHANGE_DELETE) deleted_later = true;
            if (!deleted_later) wfpi_callout_notify_post_commit(e, j->obj);
        }
    }
    for (size_t i = 0; i < e->njournal; i++) {
        wjournal *j = &e->journal[i];
        if (j->change != FWPM_CHANGE_DELETE) continue;
        if (j->kind == WFP_OBJECT_FILTER) wfpi_callout_notify_delete(e, j->obj);
        wfpi_object_free(e, j->kind, j->obj);
    }
    e->njournal = 0;
    memset(e->txn_layers, 0, e->nlayers * sizeof *e->txn_layers);
    e->lock_owner = 0;

    /* 3. notifications, after the commit, in operation order */
    for (size_t i = 0; i < nnotes; i++) {
        notes[i].sub->fn(notes[i].sub->ctx, &notes[i].change);
        e->stats.notifications_delivered++;
    }
    wfpi_free(e, notes);
    return ERROR_SUCCESS;
}

void wfpi_txn_discard(wfp_engine *e)
{
    if (e->lock_owner) undo(e);
}

/* ---- explicit transactions ---------------------------------------------- */

uint32_t wfp_txn_begin(wfp_session *s, uint32_t flags)
{
    if (!s) return FWP_E_NULL_POINTER;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (s->txn != WFPI_TXN_NONE)
        return wfpi_fail(s->engine, FWP_E_TXN_IN_PROGRESS, "the session has a transaction open already");
    if (flags & ~FWPM_TXN_READ_ONLY)
        return wfpi_fail(s->engine, FWP_E_INVALID_FLAGS, "transaction flags 0x%x", (unsigned)flags);
    rc = wfpi_check_container(s, WFP_OBJECT_TYPE_COUNT,
                              (flags & FWPM_TXN_READ_ONLY) ? FWPM_ACTRL_BEGIN_READ_TXN : FWPM_ACTRL_BEGIN_WRITE_TXN);
    if (rc) return rc;
    /* one lock for read and write transactions alike (spec §9.2 suggests) */
    txn_start(s->engine, s->id);
    s->engine->txn_implicit = false;
    s->txn = (flags & FWPM_TXN_READ_ONLY) ? WFPI_TXN_READ : WFPI_TXN_WRITE;
    return ERROR_SUCCESS;
}

uint32_t wfp_txn_commit(wfp_session *s)
{
    if (!s) return FWP_E_NULL_POINTER;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (s->txn == WFPI_TXN_NONE)
        return wfpi_fail(s->engine, FWP_E_NO_TXN_IN_PROGRESS, "no transaction to commit");
    s->txn = WFPI_TXN_NONE;
    rc = commit(s->engine);
    reap_pending(s->engine);
    return rc;
}

uint32_t wfp_txn_abort(wfp_session *s)
{
    if (!s) return FWP_E_NULL_POINTER;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (s->txn == WFPI_TXN_NONE)
        return wfpi_fail(s->engine, FWP_E_NO_TXN_IN_PROGRESS, "no transaction to abort");
    s->txn = WFPI_TXN_NONE;
    undo(s->engine);
    reap_pending(s->engine);
    return ERROR_SUCCESS;
}

uint32_t wfp_txn_force_abort(wfp_session *s)
{
    if (!s) return FWP_E_NULL_POINTER;
    if (s->txn == WFPI_TXN_NONE)
        return wfpi_fail(s->engine, FWP_E_NO_TXN_IN_PROGRESS, "no transaction to abort");
    s->txn = WFPI_TXN_NONE;
    s->txn_aborted = true;
    undo(s->engine);
    reap_pending(s->engine);
    return ERROR_SUCCESS;
}

/* ---- session end --------------------------------------------------------- */

/* Deletes the dynamic objects of a closed session, as a transaction of
 * that session (others hear about it). Needs the lock free. */
static void reap_session(wfp_engine *e, uint32_t session)
{
    txn_start(e, session);
    e->txn_implicit = true;
    if (!wfpi_delete_owned(e, session)) {
        /* out of memory while journaling: delete without notifications */
        undo(e);
        wfpi_delete_owned_now(e, session);
        e->txn_implicit = false;
        return;
    }
    if (commit(e) != ERROR_SUCCESS) wfpi_delete_owned_now(e, session);
    e->txn_implicit = false;
}

static void reap_pending(wfp_engine *e)
{
    while (e->nreap && !e->lock_owner) {
        uint32_t id = e->reap[0];
        memmove(e->reap, e->reap + 1, (e->nreap - 1) * sizeof *e->reap);
        e->nreap--;
        reap_session(e, id);
    }
}

static void drop_subscriptions(wfp_engine *e, uint32_t session)
{
    for (size_t i = e->subs.n; i-- > 0;) {
        if (e->subs.v[i]->session != session) continue;
        free_sub(e, e->subs.v[i]);
        memmove(e->subs.v + i, e->subs.v + i + 1, (e->subs.n - i - 1) * sizeof *e->subs.v);
        e->subs.n--;
    }
}

void wfp_session_close(wfp_session *s)
{
    if (!s) return;
    wfp_engine *e = s->engine;
    uint32_t id = s->id;
    bool dynamic = wfp_session_is_dynamic(s);

    /* BFE first aborts the session's transaction (spec §9.1) */
    if (e->lock_owner == id) {
        s->txn = WFPI_TXN_NONE;
        undo(e);
    }
    drop_subscriptions(e, id);
    wfpi_netevent_session_closed(e, id);
    wfpi_enum_session_closed(e, id);
    for (size_t i = 0; i < e->sessions.n; i++) {
        if (e->sessions.v[i] == s) {
            memmove(e->sessions.v + i, e->sessions.v + i + 1, (e->sessions.n - i - 1) * sizeof *e->sessions.v);
            e->sessions.n--;
            break;
        }
    }
    wfpi_free(e, s->token);
    wfpi_free(e, s->sddl);
    wfpi_free(e, s);

    if (dynamic) {
        /* dynamic objects go with their session, when the lock allows */
        if (e->nreap == e->reap_cap) {
            size_t ncap = e->reap_cap ? e->reap_cap * 2 : 8;
            uint32_t *nr = e->alloc.realloc(e->alloc.ctx, e->reap, ncap * sizeof *nr);
            if (!nr) {
                if (!e->lock_owner) reap_session(e, id);
                else wfpi_delete_owned_now(e, id);
                return;
            }
            e->reap = nr;
            e->reap_cap = ncap;
        }
        e->reap[e->nreap++] = id;
        reap_pending(e);
    }
}

/* ---- subscriptions ------------------------------------------------------ */

uint32_t wfp_subscribe_changes(wfp_session *s, const wfp_subscription *sub, wfp_change_fn fn, void *ctx,
                               uint64_t *handle)
{
    if (!s || !sub || !fn) return FWP_E_NULL_POINTER;
    wfp_engine *e = s->engine;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (s->txn != WFPI_TXN_NONE)
        return wfpi_fail(e, FWP_E_TXN_IN_PROGRESS, "subscribe inside a transaction");
    if (sub->object_type > WFP_OBJECT_FILTER)
        return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "object type %u has no change notifications",
                         (unsigned)sub->object_type);
    if (sub->flags & ~(FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_ADD | FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE))
        return wfpi_fail(e, FWP_E_INVALID_FLAGS, "subscription flags 0x%x", (unsigned)sub->flags);
    rc = wfpi_check_container(s, sub->object_type, FWPM_ACTRL_SUBSCRIBE);
    if (rc) return rc;
    if (sub->filter_template && sub->object_type == WFP_OBJECT_FILTER) {
        rc = wfp_filter_template_validate(e, sub->filter_template);
        if (rc) return rc;
    }
    if (!wfpi_grow_ptrvec(e, (void **)&e->subs.v, &e->subs.cap, e->subs.n + 1))
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "subscription");
    wsub *w = wfpi_calloc(e, 1, sizeof *w);
    if (!w) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "subscription");
    w->sub = *sub;
    w->sub.filter_template = NULL;
    if (sub->filter_template && sub->object_type == WFP_OBJECT_FILTER) {
        w->filter_template = wfpi_filter_template_copy(e, sub->filter_template);
        if (!w->filter_template) {
            wfpi_free(e, w);
            return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "subscription");
        }
    }
    if (sub->provider_key) {
        w->provider_storage = *sub->provider_key;
        w->sub.provider_key = &w->provider_storage;
    }
    if (sub->layer_key) {
        w->layer_storage = *sub->layer_key;
        w->sub.layer_key = &w->layer_storage;
    }
    w->fn = fn;
    w->ctx = ctx;
    w->session = s->id;
    w->handle = ++e->next_sub_handle;
    e->subs.v[e->subs.n++] = w;
    if (handle) *handle = w->handle;
    return ERROR_SUCCESS;
}

uint32_t wfp_unsubscribe_changes(wfp_session *s, uint64_t handle)
{
    if (!s) return FWP_E_NULL_POINTER;
    wfp_engine *e = s->engine;
    for (size_t i = 0; i < e->subs.n; i++) {
        wsub *w = e->subs.v[i];
        if (w->handle != handle || w->session != s->id) continue;
        free_sub(e, w);
        memmove(e->subs.v + i, e->subs.v + i + 1, (e->subs.n - i - 1) * sizeof *e->subs.v);
        e->subs.n--;
        return ERROR_SUCCESS;
    }
    return wfpi_fail(e, FWP_E_NOT_FOUND, "no subscription %llu in this session", (unsigned long long)handle);
}

/* ---- options ------------------------------------------------------------ */

uint32_t wfp_engine_set_option(wfp_session *s, uint32_t option, const wfp_value *value)
{
    if (!s || !value) return FWP_E_NULL_POINTER;
    wfp_engine *e = s->engine;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (s->txn != WFPI_TXN_NONE) return wfpi_fail(e, FWP_E_TXN_IN_PROGRESS, "set option inside a transaction");
    if (wfp_session_is_dynamic(s))
        return wfpi_fail(e, FWP_E_DYNAMIC_SESSION_IN_PROGRESS, "set option from a dynamic session");
    if (option >= FWPM_ENGINE_OPTION_MAX || option == FWPM_ENGINE_NAME_CACHE)
        return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "engine option %u", (unsigned)option);
    if (value->type != FWP_UINT32) return wfpi_fail(e, FWP_E_TYPE_MISMATCH, "engine options are FWP_UINT32");
    rc = wfpi_check_container(s, WFP_OBJECT_TYPE_COUNT, FWPM_ACTRL_WRITE);
    if (rc) return rc;
    uint32_t v = value->v.u32;
    if ((option == FWPM_ENGINE_COLLECT_NET_EVENTS || option == FWPM_ENGINE_MONITOR_IPSEC_CONNECTIONS) && v > 1)
        return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "option %u takes 0 or 1", (unsigned)option);
    if (option == FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS && (v & ~0x3fu))
        return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "unknown net event keywords 0x%x", (unsigned)v);
    if (option == FWPM_ENGINE_PACKET_QUEUING && (v & ~0x7u))
        return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "packet queuing flags 0x%x", (unsigned)v);
    e->options[option] = v;
    return ERROR_SUCCESS;
}

uint32_t wfp_engine_get_option(wfp_session *s, uint32_t option, wfp_value *value)
{
    if (!s || !value) return FWP_E_NULL_POINTER;
    wfp_engine *e = s->engine;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (option >= FWPM_ENGINE_OPTION_MAX || option == FWPM_ENGINE_NAME_CACHE)
        return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "engine option %u", (unsigned)option);
    rc = wfpi_check_container(s, WFP_OBJECT_TYPE_COUNT, FWPM_ACTRL_READ);
    if (rc) return rc;
    memset(value, 0, sizeof *value);
    value->type = FWP_UINT32;
    value->v.u32 = e->options[option];
    return ERROR_SUCCESS;
}

/* ---- security descriptors ----------------------------------------------- */

/* The SD slot of an object, a container or the engine. */
static uint32_t sd_slot(wfp_session *s, uint32_t type, const wfp_guid *key, uint8_t ***sd, uint32_t **len,
                        wobj **owner_obj)
{
    wfp_engine *e = s->engine;
    *owner_obj = NULL;
    if (type == WFP_OBJECT_TYPE_COUNT) {
        *sd = &e->engine_sd;
        *len = &e->engine_sd_len;
        return ERROR_SUCCESS;
    }
    if (type >= WFP_OBJECT_TYPE_COUNT) return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "object type %u", (unsigned)type);
    if (!key || wfp_guid_is_null(key)) {
        *sd = &e->container_sd[type];
        *len = &e->container_sd_len[type];
        return ERROR_SUCCESS;
    }
    wobj *o = wfpi_find_object(e, type, key);
    if (!o) {
        static const uint32_t nf[] = {FWP_E_PROVIDER_NOT_FOUND, FWP_E_SUBLAYER_NOT_FOUND, FWP_E_CALLOUT_NOT_FOUND,
                                      FWP_E_FILTER_NOT_FOUND, FWP_E_LAYER_NOT_FOUND, FWP_E_NOT_FOUND};
        return wfpi_fail(e, nf[type], "no such %s", wfp_object_type_name(type));
    }
    *sd = &o->sd;
    *len = &o->sd_len;
    *owner_obj = o;
    return ERROR_SUCCESS;
}

/* Access to an SD slot: an object (its SD, container, engine), a container
 * (its SD, then the engine's) or the engine itself. */
static bool slot_access(wfp_session *s, uint32_t type, const wobj *o, uint32_t desired, uint32_t implicit)
{
    if (o) return access(s, o->sd, o->sd_len, type, desired, implicit);
    return access(s, NULL, 0, type < WFP_OBJECT_TYPE_COUNT ? type : WFP_OBJECT_TYPE_COUNT, desired, implicit);
}

uint32_t wfp_get_security(wfp_session *s, uint32_t type, const wfp_guid *key, const char **sddl)
{
    if (!s || !sddl) return FWP_E_NULL_POINTER;
    wfp_engine *e = s->engine;
    uint8_t **sd = NULL;
    uint32_t *len = NULL;
    wobj *o = NULL;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    rc = sd_slot(s, type, key, &sd, &len, &o);
    if (rc) return rc;
    if (!slot_access(s, type, o, WFP_READ_CONTROL, 0))
        return wfpi_fail(e, ERROR_ACCESS_DENIED, "READ_CONTROL denied");
    size_t need = *sd ? wfp_sd_format(*sd, *len, NULL, 0) + 1 : 1;
    char *text = wfpi_alloc(e, need);
    if (!text) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "security text");
    if (*sd) wfp_sd_format(*sd, *len, text, need);
    else text[0] = 0;
    wfpi_free(e, s->sddl);
    s->sddl = text;
    *sddl = text;
    return ERROR_SUCCESS;
}

/* Component `tag` ("O:", "G:", "D:") of SDDL text: [start, end). */
static bool sddl_part(const char *t, char tag, const char **start, const char **end)
{
    for (const char *p = t; *p; p++) {
        if (p[0] == tag && p[1] == ':' && (p == t || p[-1] == ')' || (p > t + 1 && p[-2] != '(' && p[-1] != ';'))) {
            /* a component runs until the next X: at top level */
            const char *q = p + 2;
            int depth = 0;
            for (; *q; q++) {
                if (*q == '(') depth++;
                else if (*q == ')') depth--;
                else if (!depth && (q[0] == 'O' || q[0] == 'G' || q[0] == 'D' || q[0] == 'S') && q[1] == ':') break;
            }
            *start = p;
            *end = q;
            return true;
        }
    }
    return false;
}

uint32_t wfp_set_security(wfp_session *s, uint32_t type, const wfp_guid *key, uint32_t info, const char *sddl)
{
    if (!s || !sddl) return FWP_E_NULL_POINTER;
    wfp_engine *e = s->engine;
    uint8_t **sd = NULL, *parsed = NULL, *result = NULL;
    uint32_t *len = NULL, parsed_len = 0, result_len = 0, need = 0;
    wobj *o = NULL;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (s->txn != WFPI_TXN_NONE) return wfpi_fail(e, FWP_E_TXN_IN_PROGRESS, "set security inside a transaction");
    if (!info || (info & ~(OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION)))
        return wfpi_fail(e, FWP_E_INVALID_PARAMETER, "security information 0x%x", (unsigned)info);
    rc = sd_slot(s, type, key, &sd, &len, &o);
    if (rc) return rc;
    if (o && wfp_session_is_dynamic(s)) {
        if (o->owner_session == 0)
            return wfpi_fail(e, FWP_E_DYNAMIC_SESSION_IN_PROGRESS, "not a dynamic object of this session");
        if (o->owner_session != s->id) return wfpi_fail(e, FWP_E_WRONG_SESSION, "another session's object");
    }
    if (o && o->builtin) return wfpi_fail(e, FWP_E_BUILTIN_OBJECT, "built-in objects keep their security");
    if (info & OWNER_SECURITY_INFORMATION) need |= WFP_WRITE_OWNER;
    if (info & (DACL_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION)) need |= WFP_WRITE_DAC;
    uint32_t implicit = s->admin ? WFP_WRITE_OWNER : 0;
    if (!slot_access(s, type, o, need, implicit))
        return wfpi_fail(e, ERROR_ACCESS_DENIED, "the session may not change this security descriptor");
    rc = wfp_sddl_parse(&e->alloc, sddl, &parsed, &parsed_len, NULL);
    if (rc) return wfpi_fail(e, rc, "bad SDDL '%s'", sddl);

    /* merge: the requested parts from the new SD, the rest from the old */
    char oldt[4096] = "", newt[4096] = "", merged[8192] = "";
    if (*sd) wfp_sd_format(*sd, *len, oldt, sizeof oldt);
    wfp_sd_format(parsed, parsed_len, newt, sizeof newt);
    wfpi_free(e, parsed);
    static const struct { char tag; uint32_t bit; } parts[] = {
        {'O', OWNER_SECURITY_INFORMATION}, {'G', GROUP_SECURITY_INFORMATION}, {'D', DACL_SECURITY_INFORMATION}};
    for (size_t i = 0; i < 3; i++) {
        const char *src = (info & parts[i].bit) ? newt : oldt, *a, *b;
        if (sddl_part(src, parts[i].tag, &a, &b)) strncat(merged, a, (size_t)(b - a) < sizeof merged - strlen(merged) - 1 ? (size_t)(b - a) : sizeof merged - strlen(merged) - 1);
    }
    rc = wfp_sddl_parse(&e->alloc, merged, &result, &result_len, NULL);
    if (rc) return wfpi_fail(e, rc, "cannot build the security descriptor");
    wfpi_free(e, *sd);
    *sd = result;
    *len = result_len;
    return ERROR_SUCCESS;
}

/* ---- reboot and BFE start ---------------------------------------------- */

void wfp_engine_reboot(wfp_engine *e)
{
    if (!e) return;
    /* every session ends; an open transaction is lost */
    if (e->lock_owner) {
        wfp_session *holder = wfpi_session_by_id(e, e->lock_owner);
        if (holder) holder->txn = WFPI_TXN_NONE;
        undo(e);
    }
    while (e->sessions.n) {
        wfp_session *s = e->sessions.v[e->sessions.n - 1];
        drop_subscriptions(e, s->id);
        wfpi_netevent_session_closed(e, s->id);
        wfpi_enum_session_closed(e, s->id);
        wfpi_free(e, s->token);
        wfpi_free(e, s->sddl);
        wfpi_free(e, s);
        e->sessions.n--;
    }
    e->nreap = 0;
    /* only persistent, boot-time and built-in objects survive */
    wfpi_delete_volatile_now(e);
    wfpi_netlog_clear(e);
    e->bfe_running = false;
    wfpi_snapshots_free(e);
}

bool wfp_engine_bfe_running(const wfp_engine *e)
{
    return e && e->bfe_running;
}

static bool ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (char)(y + 32);
        if (x != y) return false;
    }
    return *a == *b;
}

static size_t manual_index(const wfp_engine *e, const char *service)
{
    for (size_t i = 0; i < e->manual_services.n; i++)
        if (ascii_ieq(e->manual_services.v[i], service)) return i;
    return SIZE_MAX;
}

uint32_t wfp_engine_set_service_autostart(wfp_engine *e, const char *service, bool autostart)
{
    if (!e || !service) return FWP_E_NULL_POINTER;
    size_t i = manual_index(e, service);
    if (autostart) {
        if (i != SIZE_MAX) {
            wfpi_free(e, e->manual_services.v[i]);
            memmove(e->manual_services.v + i, e->manual_services.v + i + 1,
                    (e->manual_services.n - i - 1) * sizeof *e->manual_services.v);
            e->manual_services.n--;
        }
        return ERROR_SUCCESS;
    }
    if (i != SIZE_MAX) return ERROR_SUCCESS;
    if (!wfpi_grow_ptrvec(e, (void **)&e->manual_services.v, &e->manual_services.cap, e->manual_services.n + 1))
        return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "service");
    size_t n = strlen(service) + 1;
    char *copy = wfpi_alloc(e, n);
    if (!copy) return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "service");
    memcpy(copy, service, n);
    e->manual_services.v[e->manual_services.n++] = copy;
    return ERROR_SUCCESS;
}

void wfp_engine_bfe_start(wfp_engine *e)
{
    if (!e) return;
    /* provider gating (spec §9.3): persistent objects of a provider whose
     * service does not start automatically are disabled */
    for (size_t i = 0; i < e->providers.n; i++) {
        wprovider *p = e->providers.v[i];
        bool off = p->pub.service_name && manual_index(e, p->pub.service_name) != SIZE_MAX;
        if (off) p->pub.flags |= FWPM_PROVIDER_FLAG_DISABLED;
        else p->pub.flags &= ~FWPM_PROVIDER_FLAG_DISABLED;
    }
    for (size_t i = 0; i < e->filters.n; i++) {
        wfilter *f = e->filters.v[i];
        bool off = f->provider && (f->provider->pub.flags & FWPM_PROVIDER_FLAG_DISABLED) &&
                   (f->pub.flags & FWPM_FILTER_FLAG_PERSISTENT);
        if (off) f->pub.flags |= FWPM_FILTER_FLAG_DISABLED;
        else f->pub.flags &= ~FWPM_FILTER_FLAG_DISABLED;
    }
    e->bfe_running = true;
    wfpi_snapshots_free(e); /* every layer rebuilds on its next classify */
}

/* ---- statistics --------------------------------------------------------- */

void wfp_engine_get_stats(const wfp_engine *e, wfp_engine_stats *out)
{
    if (out) *out = e->stats;
}

void wfp_engine_get_layer_stats(const wfp_engine *e, uint16_t layer_id, wfp_layer_stats *out)
{
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (e && layer_id < e->nlayers) *out = e->layer_stats[layer_id];
}
