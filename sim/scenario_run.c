/* scenario_run.c — running a loaded scenario and checking `expect:`.
 *
 * Each run builds fresh hosts (sim/host.c) from the scenario, adds each
 * host's policy through an implicit administrator session named
 * "default", opens the declared sessions, starts the hosts (binds and
 * listens), then walks virtual time. At each instant things happen in a
 * fixed order: management steps (file order), then packets handed from
 * one simulated host to another over a link, then new packets from the
 * traffic list (time, then file order) — docs/sim-defined.md. Packets are
 * numbered in the order they enter. Every classify call is recorded; at
 * the end the observations are compared with the expectations, and every
 * mismatch is reported with expected and observed side by side. */
#include "policy.h"
#include "scenario_int.h"
#include "scenario_query.h"
#include "vec.h"
#include "wfp_capture.h"
#include "wfp_netevent.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- stats table -------------------------------------------------------- */

static const char *const STAT_NAMES[] = {
#define X(name, text) #name,
    WFPS_STATS(X)
#undef X
};
enum {
#define X(name, text) STAT_##name,
    WFPS_STATS(X)
#undef X
    STAT_COUNT
};

int wfps_stat_id(const char *name)
{
    for (int i = 0; i < STAT_COUNT; i++)
        if (!strcmp(name, STAT_NAMES[i])) return i;
    return -1;
}

void wfps_stat_names(char *buf, size_t n)
{
    buf[0] = 0;
    for (int i = 0; i < STAT_COUNT; i++) {
        strncat(buf, STAT_NAMES[i], n - strlen(buf) - 1);
        if (i + 1 < STAT_COUNT) strncat(buf, ", ", n - strlen(buf) - 1);
    }
}

/* ---- results ------------------------------------------------------------ */

typedef struct rpacket {
    wfp_packet_record pub;
    bool pending; /* its connect is pended: the fate comes with the completion */
    wfp_call_record *calls;
    size_t ncalls, calls_cap;
    char *filter_name;
} rpacket;

struct wfp_scenario_result {
    bool passed;
    char *error; /* setup failure */
    char **failures;
    size_t nfailures, failures_cap;
    rpacket *packets;
    size_t npackets, packets_cap;
    uint64_t stats[STAT_COUNT];
    uint64_t flows_live;
    size_t fail_calls; /* fail() calls, also those whose message was lost */
    wfp_net_event_record *events;
    size_t nevents, events_cap;
    wfp_notification_record *notes;
    size_t nnotes, notes_cap;
    wfp_expectation_record *expects;
    size_t nexpects, expects_cap;
};

static void fail(wfp_scenario_result *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    r->fail_calls++;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (r->nfailures == r->failures_cap) {
        size_t ncap = r->failures_cap ? r->failures_cap * 2 : 8;
        char **nf = realloc(r->failures, ncap * sizeof *nf);
        if (!nf) return;
        r->failures = nf;
        r->failures_cap = ncap;
    }
    r->failures[r->nfailures] = wfps_strdup(buf);
    if (r->failures[r->nfailures]) r->nfailures++;
}

static void set_error(wfp_scenario_result *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    if (r->error) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->error = wfps_strdup(buf);
}

static void rpacket_free(rpacket *p)
{
    for (size_t k = 0; k < p->ncalls; k++) {
        wfp_call_record *c = &p->calls[k];
        for (size_t j = 0; j < c->nsublayers; j++) {
            if (c->sublayer_names) free((void *)c->sublayer_names[j]);
            if (c->sublayer_filters) free((void *)c->sublayer_filters[j]);
        }
        free((void *)c->sublayer_names);
        free((void *)c->sublayer_filters);
        free((void *)c->sublayers);
        free((void *)c->filter_name);
    }
    free(p->calls);
    free(p->filter_name);
    free((void *)p->pub.drop_reason);
}

void wfp_scenario_result_free(wfp_scenario_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nfailures; i++) free(r->failures[i]);
    free(r->failures);
    for (size_t i = 0; i < r->npackets; i++) rpacket_free(&r->packets[i]);
    free(r->packets);
    for (size_t i = 0; i < r->nevents; i++) {
        free((void *)r->events[i].host);
        free((void *)r->events[i].filter_name);
    }
    free(r->events);
    for (size_t i = 0; i < r->nnotes; i++) {
        free((void *)r->notes[i].session);
        free((void *)r->notes[i].host);
        free((void *)r->notes[i].name);
    }
    free(r->notes);
    for (size_t i = 0; i < r->nexpects; i++) {
        free((void *)r->expects[i].what);
        free((void *)r->expects[i].file);
        free((void *)r->expects[i].message);
    }
    free(r->expects);
    free(r->error);
    free(r);
}

bool wfp_scenario_result_passed(const wfp_scenario_result *r)
{
    return r && r->passed;
}

const char *wfp_scenario_result_reason(const wfp_scenario_result *r)
{
    if (!r) return "out of memory";
    if (r->error) return r->error;
    return r->nfailures ? r->failures[0] : NULL;
}

size_t wfp_scenario_result_failure_count(const wfp_scenario_result *r)
{
    return r ? (r->error ? 1 : r->nfailures) : 0;
}

const char *wfp_scenario_result_failure(const wfp_scenario_result *r, size_t i)
{
    if (!r) return NULL;
    if (r->error) return i == 0 ? r->error : NULL;
    return i < r->nfailures ? r->failures[i] : NULL;
}

size_t wfp_scenario_result_packet_count(const wfp_scenario_result *r)
{
    return r ? r->npackets : 0;
}

const wfp_packet_record *wfp_scenario_result_packet(const wfp_scenario_result *r, size_t i)
{
    return r && i < r->npackets ? &r->packets[i].pub : NULL;
}

size_t wfp_scenario_result_net_event_count(const wfp_scenario_result *r)
{
    return r ? r->nevents : 0;
}

const wfp_net_event_record *wfp_scenario_result_net_event(const wfp_scenario_result *r, size_t i)
{
    return r && i < r->nevents ? &r->events[i] : NULL;
}

size_t wfp_scenario_result_notification_count(const wfp_scenario_result *r)
{
    return r ? r->nnotes : 0;
}

const wfp_notification_record *wfp_scenario_result_notification(const wfp_scenario_result *r, size_t i)
{
    return r && i < r->nnotes ? &r->notes[i] : NULL;
}

const char *wfp_expectation_kind_name(uint32_t kind)
{
    static const char *const names[] = {"packets", "classifications", "net_events", "notifications", "stats", "flows"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

size_t wfp_scenario_result_expectation_count(const wfp_scenario_result *r)
{
    return r ? r->nexpects : 0;
}

const wfp_expectation_record *wfp_scenario_result_expectation(const wfp_scenario_result *r, size_t i)
{
    return r && i < r->nexpects ? &r->expects[i] : NULL;
}

/* ---- run state ---------------------------------------------------------- */

typedef struct rhost {
    wfp_host *host;
    wfp_policy *policy;
    wfp_session *def;
    wfp_session *observer; /* kernel-mode: tags net events with packets */
    int64_t bfe_start_at;   /* after a reboot with bfe_start: when BFE starts; -1: running */
} rhost;

typedef struct rsession {
    int host;
    wfp_session *s; /* NULL once closed */
    int64_t txn_since; /* explicit transaction open since; -1: none */
} rsession;

/* One delivered change notification. */
typedef struct rnote {
    const char *session;
    int host;
    wfp_change change;
} rnote;

/* A subscription's callback context. */
typedef struct rsub {
    struct run *ru;
    const char *session;
    int host;
    uint32_t object;   /* WFP_OBJECT_* or WFP_OBJECT_NET_EVENTS */
    uint64_t handle;
    bool active;
} rsub;

/* Which packet a net event was recorded for. */
typedef struct rtag {
    int host;
    uint64_t sequence;
    uint64_t packet;
} rtag;

/* An enumeration handle a create_enum_handle step opened. */
typedef struct rhandle {
    const char *name;
    const char *session;
    int host;
    uint32_t object;
    wfp_enum *h; /* NULL once destroyed */
} rhandle;

/* A step waiting for the transaction lock. */
typedef struct rpending {
    const wfps_step *step;
    size_t number;
    int64_t deadline;
} rpending;

typedef struct source {
    wfps_traffic *t;
    wfp_capture *cap;
    bool have;        /* `pkt` holds the next packet */
    bool done;
    wfp_packet pkt;
    uint64_t first_ns; /* capture time of its first packet */
    bool have_first;
    int64_t next_at;
    uint64_t emitted;  /* inline repeats */
    uint8_t buf[65536];
} source;

typedef struct delivery {
    int64_t at;
    uint64_t seq;
    int host;
    size_t record; /* SIZE_MAX: an injected copy, recorded when it enters */
    size_t len;
    uint32_t linktype;
    uint8_t *bytes;
    uint64_t injected_from;  /* injected copies: the packet classified when injected */
    wfp_host_injection inj;  /* its history; inj.ip is `bytes` */
} delivery;

typedef struct rpend {
    int host;
    uint64_t handle;
    size_t record;
    uint8_t *bytes; /* the packet, for its delivery once the completion sends it */
    size_t len;
    uint32_t linktype;
} rpend;

typedef struct run {
    const wfps_scenario *sc;
    const wfp_run_options *opt;
    wfp_scenario_result *r;
    rhost *hosts;
    rsession *sessions; /* scenario order; the default sessions live in rhost */
    source *sources;
    delivery *deliveries;
    size_t ndeliveries, deliveries_cap;
    uint64_t delivery_seq;
    int64_t now;
    uint64_t current_packet; /* the packet being classified (net-event tags) */
    rnote *notes;
    size_t nnotes, notes_cap;
    rsub **subs;
    size_t nsubs, subs_cap;
    rtag *tags;
    size_t ntags, tags_cap;
    rpending *pending;
    size_t npending, pending_cap;
    rpend *pends; /* pended classifies: which record each completion belongs to */
    size_t npends, pends_cap;
    rhandle *handles;
    size_t nhandles, handles_cap;
    rpacket *starts; /* per host: the classifies of its start (binds, listens); number 0 */
} run;


static void on_change(void *ctx, const wfp_change *c)
{
    rsub *sub = ctx;
    rnote *n = wfps_push((void **)&sub->ru->notes, &sub->ru->nnotes, &sub->ru->notes_cap, sizeof *n);
    if (!n) return;
    n->session = sub->session;
    n->host = sub->host;
    n->change = *c;
}

typedef struct rtagctx {
    struct run *ru;
    int host;
} rtagctx;

static void on_net_event(void *ctx, const wfp_net_event *ev)
{
    rsub *sub = ctx;
    rtag *t = wfps_push((void **)&sub->ru->tags, &sub->ru->ntags, &sub->ru->tags_cap, sizeof *t);
    if (!t) return;
    t->host = sub->host;
    t->sequence = ev->sequence;
    t->packet = sub->ru->current_packet;
}

static rsub *new_sub(run *ru, const char *session, int host)
{
    rsub **slot = wfps_push((void **)&ru->subs, &ru->nsubs, &ru->subs_cap, sizeof *slot);
    if (!slot) return NULL;
    *slot = calloc(1, sizeof **slot);
    if (!*slot) {
        ru->nsubs--;
        return NULL;
    }
    (*slot)->ru = ru;
    (*slot)->session = session;
    (*slot)->host = host;
    return *slot;
}

static const char *layer_short(uint16_t id)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_id(id);
    if (!l) return "?";
    return strncmp(l->name, "FWPM_LAYER_", 11) ? l->name : l->name + 11;
}

static const char *action_word(uint32_t a)
{
    switch (a) {
    case FWP_ACTION_PERMIT: return "permit";
    case FWP_ACTION_BLOCK: return "block";
    case FWP_ACTION_NONE: return "none";
    case FWP_ACTION_NONE_NO_MATCH: return "none_no_match";
    case FWP_ACTION_CONTINUE: return "continue";
    default: return "?";
    }
}

/* Scenario name of a filter id on a host: the policy's name, else the
 * engine's display name, else "#id". Returned in a fresh string. */
static char *filter_name(run *ru, int h, uint64_t id)
{
    char buf[64];
    if (!id) return NULL;
    const char *n = wfp_policy_filter_name(ru->hosts[h].policy, id);
    if (!n) {
        const wfp_filter *f = wfp_engine_filter_by_id(wfp_host_engine(ru->hosts[h].host), id);
        if (f && f->display.name) n = f->display.name;
    }
    if (!n) {
        snprintf(buf, sizeof buf, "#%" PRIu64, id);
        n = buf;
    }
    return wfps_strdup(n);
}

/* ---- setup -------------------------------------------------------------- */

static int session_host(const run *ru, const wfps_session *s)
{
    return s->host ? wfps_host_index(ru->sc, s->host) : 0;
}

/* A kernel-mode session per host that tags every net event with the
 * packet being classified (sees everything: kernel mode skips access checks). */
static bool open_observer(run *ru, int h)
{
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.name = "wfpsim-observer";
    d.kernel_mode = true;
    rhost *rh = &ru->hosts[h];
    if (wfp_session_open(wfp_host_engine(rh->host), &d, &rh->observer)) return false;
    rsub *sub = new_sub(ru, "wfpsim-observer", h);
    if (!sub) return false;
    /* subscribing needs collection on: switch it on for the moment if the
     * scenario has it off (the observer is the runner's, not the scenario's) */
    wfp_value was, on = {FWP_UINT32, {.u32 = 1}};
    if (wfp_engine_get_option(rh->observer, FWPM_ENGINE_COLLECT_NET_EVENTS, &was)) return false;
    if (!was.v.u32 && wfp_engine_set_option(rh->observer, FWPM_ENGINE_COLLECT_NET_EVENTS, &on)) return false;
    uint32_t rc = wfp_net_event_subscribe(rh->observer, NULL, on_net_event, sub, &sub->handle);
    if (!was.v.u32) wfp_engine_set_option(rh->observer, FWPM_ENGINE_COLLECT_NET_EVENTS, &was);
    sub->object = WFP_OBJECT_NET_EVENTS;
    sub->active = rc == 0;
    return rc == 0;
}

static bool open_declared(run *ru, size_t i)
{
    const wfps_session *s = &ru->sc->sessions[i];
    wfp_session_desc d = {0};
    int h = ru->sessions[i].host;
    d.name = s->name;
    d.user_sid = s->user;
    d.admin = s->admin;
    d.kernel_mode = s->kernel;
    d.groups = s->groups;
    d.num_groups = s->ngroups;
    d.txn_wait_timeout_ms = s->txn_wait_timeout ? (uint32_t)((s->txn_wait_timeout + 999999) / 1000000) : 0;
    d.flags = s->dynamic ? FWPM_SESSION_FLAG_DYNAMIC : 0;
    return wfp_session_open(wfp_host_engine(ru->hosts[h].host), &d, &ru->sessions[i].s) == 0;
}

static uint32_t on_inject(void *ctx, wfp_host *host, const wfp_host_injection *inj);

static bool setup(run *ru, wfp_yaml_errors *err)
{
    const wfps_scenario *sc = ru->sc;
    char msg[512];
    ru->hosts = calloc(sc->nhosts, sizeof *ru->hosts);
    ru->sessions = calloc(sc->nsessions ? sc->nsessions : 1, sizeof *ru->sessions);
    if (!ru->hosts || !ru->sessions) return wfp_yaml_error(err, NULL, "out of memory");
    for (size_t i = 0; i < sc->nhosts; i++) {
        rhost *h = &ru->hosts[i];
        wfp_host_config cfg = sc->hosts[i].cfg;
        wfp_engine_config ecfg = {NULL, sc->engine.or_mode, false};
        wfp_session_desc d = {0};
        cfg.engine = &ecfg;
        h->host = wfp_host_create(&cfg, msg, sizeof msg);
        if (!h->host)
            return wfp_yaml_error(err, sc->hosts[i].node, "host '%s': %s", sc->hosts[i].name, msg);
        h->policy = wfp_policy_create();
        if (!h->policy) return wfp_yaml_error(err, NULL, "out of memory");
        wfp_policy_set_host(h->policy, h->host);
        wfp_host_set_injector(h->host, on_inject, ru);
        for (size_t k = 0; k < sc->hosts[i].nmanual_services; k++)
            if (wfp_engine_set_service_autostart(wfp_host_engine(h->host), sc->hosts[i].manual_services[k], false))
                return wfp_yaml_error(err, sc->hosts[i].node, "host '%s': cannot record service '%s'",
                                      sc->hosts[i].name, sc->hosts[i].manual_services[k]);
        d.name = "default";
        d.admin = true;
        d.user_sid = "S-1-5-18";
        uint32_t rc = wfp_session_open(wfp_host_engine(h->host), &d, &h->def);
        if (rc) return wfp_yaml_error(err, NULL, "cannot open the default session: %s", wfp_result_name(rc));
        /* one transaction for the whole policy: one snapshot build per layer, not one per filter */
        if (sc->hosts[i].policy) {
            if (wfp_txn_begin(h->def, 0))
                return wfp_yaml_error(err, NULL, "cannot begin: %s", wfp_engine_last_error(wfp_host_engine(h->host)));
            if (!wfp_policy_apply(h->policy, h->def, sc->hosts[i].policy, err)) return false;
            if (wfp_txn_commit(h->def))
                return wfp_yaml_error(err, NULL, "cannot commit the policy: %s",
                                      wfp_engine_last_error(wfp_host_engine(h->host)));
        }
        h->bfe_start_at = -1;
        /* engine: options */
        wfp_value v = {FWP_UINT32, {.u32 = sc->engine.collect_net_events ? 1u : 0u}};
        wfp_value kw = {FWP_UINT32, {.u32 = sc->engine.keywords}};
        if (wfp_engine_set_option(h->def, FWPM_ENGINE_COLLECT_NET_EVENTS, &v) ||
            wfp_engine_set_option(h->def, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, &kw))
            return wfp_yaml_error(err, NULL, "cannot set engine options: %s", wfp_engine_last_error(wfp_host_engine(h->host)));
        if (!open_observer(ru, (int)i)) return wfp_yaml_error(err, NULL, "cannot observe net events");
    }
    for (size_t i = 0; i < sc->nsessions; i++) {
        const wfps_session *s = &sc->sessions[i];
        int h = session_host(ru, s);
        ru->sessions[i].host = h;
        ru->sessions[i].txn_since = -1;
        if (!open_declared(ru, i))
            return wfp_yaml_error(err, s->node, "cannot open session '%s': %s", s->name,
                                  wfp_engine_last_error(wfp_host_engine(ru->hosts[h].host)));
    }
    return true;
}

static void close_handles(run *ru);

static void teardown(run *ru)
{
    const wfps_scenario *sc = ru->sc;
    close_handles(ru);
    free(ru->handles);
    if (ru->sources) {
        for (size_t i = 0; i < sc->ntraffic; i++) wfp_capture_close(ru->sources[i].cap);
        free(ru->sources);
    }
    for (size_t i = 0; i < ru->ndeliveries; i++) free(ru->deliveries[i].bytes);
    for (size_t i = 0; i < ru->npends; i++) free(ru->pends[i].bytes);
    free(ru->pends);
    for (size_t h = 0; ru->starts && h < sc->nhosts; h++) rpacket_free(&ru->starts[h]);
    free(ru->starts);
    free(ru->deliveries);
    if (ru->hosts) {
        /* the engines call back into the policies: hosts (and engines) go first */
        for (size_t i = 0; i < sc->nhosts; i++) wfp_host_destroy(ru->hosts[i].host);
        for (size_t i = 0; i < sc->nhosts; i++) wfp_policy_destroy(ru->hosts[i].policy);
        free(ru->hosts);
    }
    free(ru->sessions);
    for (size_t i = 0; i < ru->nsubs; i++) free(ru->subs[i]);
    free(ru->subs);
    free(ru->notes);
    free(ru->tags);
    free(ru->pending);
}

/* ---- steps -------------------------------------------------------------- */

static int step_host(const run *ru, const wfps_step *st)
{
    if (st->host) return wfps_host_index(ru->sc, st->host);
    if (strcmp(st->session, "default"))
        for (size_t i = 0; i < ru->sc->nsessions; i++)
            if (!strcmp(ru->sc->sessions[i].name, st->session)) return ru->sessions[i].host;
    return 0;
}

static wfp_session *named_session(const run *ru, const char *name, int h)
{
    if (!strcmp(name, "default")) return ru->hosts[h].def;
    for (size_t i = 0; i < ru->sc->nsessions; i++)
        if (!strcmp(ru->sc->sessions[i].name, name)) return ru->sessions[i].s;
    return NULL;
}

static wfp_session *step_session(const run *ru, const wfps_step *st, int h)
{
    return named_session(ru, st->session, h);
}

static const char *code_name(uint32_t code, char *buf, size_t n)
{
    const char *name = wfp_result_name(code);
    if (name) return name;
    snprintf(buf, n, "0x%08" PRIX32, code);
    return buf;
}

static rsession *declared(run *ru, const char *name)
{
    for (size_t i = 0; i < ru->sc->nsessions; i++)
        if (!strcmp(ru->sc->sessions[i].name, name)) return &ru->sessions[i];
    return NULL;
}

/* Does this op take the transaction lock (so it waits while another
 * session holds it)? Driver-side and host-wide ops do not. */
static bool needs_lock(int op)
{
    return op != WFPS_OP_REGISTER_CALLOUT && op != WFPS_OP_UNREGISTER_CALLOUT && op != WFPS_OP_REBOOT &&
           op != WFPS_OP_CLOSE_SESSION;
}

/* ---- enumeration, net-event and security steps --------------------------- */

static rhandle *find_handle(run *ru, const char *name)
{
    for (size_t i = 0; i < ru->nhandles; i++)
        if (ru->handles[i].h && !strcmp(ru->handles[i].name, name)) return &ru->handles[i];
    return NULL;
}

/* Handles still open at the end go with the session that made them (or,
 * that one closed, with any session of the engine). */
static void close_handles(run *ru)
{
    for (size_t i = 0; i < ru->nhandles; i++) {
        rhandle *hd = &ru->handles[i];
        if (!hd->h || !ru->hosts || !ru->hosts[hd->host].host) continue;
        wfp_session *s = named_session(ru, hd->session, hd->host);
        if (wfp_enum_destroy(s ? s : ru->hosts[hd->host].def, hd->h) == ERROR_SUCCESS) hd->h = NULL;
    }
}

/* Which template a step takes: the enumerated object, net events, or
 * for subscribe the subscribed object. */
static uint32_t tmpl_object(const wfps_step *st)
{
    if (st->op != WFPS_OP_SUBSCRIBE) return st->object;
    if (!strcmp(st->name, "net_event")) return WFP_OBJECT_NET_EVENTS;
    for (uint32_t k = 0; k <= WFP_OBJECT_FILTER; k++)
        if (!strcmp(st->name, wfp_object_type_name(k))) return k;
    return WFP_OBJECT_TYPE_COUNT;
}

/* Parses a step's template into *t (free it in any case); errors go to err. */
static bool parse_step_tmpl(const run *ru, const wfps_step *st, int h, wfps_tmpl *t, wfp_yaml_errors *err)
{
    return wfps_tmpl_parse(t, tmpl_object(st), ru->hosts[h].policy, st->tmpl, err);
}

/* The same for a running step: a malformed template stops the run. */
static bool step_tmpl(run *ru, const wfps_step *st, int h, wfps_tmpl *t)
{
    wfp_yaml_errors err;
    wfp_yaml_errors_init(&err);
    bool ok = parse_step_tmpl(ru, st, h, t, &err);
    if (!ok) set_error(ru->r, "%s", wfp_yaml_errors_first(&err) ? wfp_yaml_errors_first(&err) : "bad template");
    wfp_yaml_errors_clear(&err);
    return ok;
}

static void check_names(run *ru, const wfps_step *st, size_t number, const wfps_names *got)
{
    bool same = got->count == st->nnames;
    for (size_t i = 0; same && i < got->count; i++) same = !strcmp(got->v[i], st->names[i]);
    if (same) return;
    char e[1024], o[1024];
    wfps_names_format(st->names, st->nnames, e, sizeof e);
    wfps_names_format((const char *const *)got->v, got->count, o, sizeof o);
    fail(ru->r, "%s:%u:%u: step %zu (enum): expected %s, observed %s", st->expect->file, st->expect->line,
         st->expect->column, number, e, o);
}

/* enum: from a fresh handle (template) or what is left on an open one. */
static bool step_enum(run *ru, const wfps_step *st, size_t number, int h, wfp_session *s, uint32_t *code)
{
    wfps_names got = {0};
    if (st->handle) {
        rhandle *hd = find_handle(ru, st->handle);
        if (!hd) {
            set_error(ru->r, "%s:%u:%u: step %zu: no open enum handle '%s'", st->node->file, st->node->line,
                      st->node->column, number, st->handle);
            return false;
        }
        *code = wfps_enum_drain(s, ru->hosts[hd->host].policy, hd->object, hd->h, &got);
    } else {
        wfps_tmpl t;
        wfp_enum *e = NULL;
        bool ok = step_tmpl(ru, st, h, &t);
        *code = ok ? wfps_enum_open(s, st->object, &t, &e) : ERROR_SUCCESS;
        wfps_tmpl_free(&t);
        if (!ok) return false;
        if (!*code) *code = wfps_enum_drain(s, ru->hosts[h].policy, st->object, e, &got);
        wfp_enum_destroy(s, e);
    }
    if (!*code) check_names(ru, st, number, &got);
    wfps_names_free(&got);
    return true;
}

static bool step_create_handle(run *ru, const wfps_step *st, size_t number, int h, wfp_session *s, uint32_t *code)
{
    wfps_tmpl t;
    wfp_enum *e = NULL;
    if (find_handle(ru, st->handle)) {
        set_error(ru->r, "%s:%u:%u: step %zu: enum handle '%s' is open already", st->node->file, st->node->line,
                  st->node->column, number, st->handle);
        return false;
    }
    bool ok = step_tmpl(ru, st, h, &t);
    *code = ok ? wfps_enum_open(s, st->object, &t, &e) : ERROR_SUCCESS;
    wfps_tmpl_free(&t);
    if (!ok || *code) return ok;
    rhandle *hd = wfps_push((void **)&ru->handles, &ru->nhandles, &ru->handles_cap, sizeof *hd);
    if (!hd) {
        wfp_enum_destroy(s, e);
        return false;
    }
    hd->name = st->handle;
    hd->session = st->session;
    hd->host = h;
    hd->object = st->object;
    hd->h = e;
    return true;
}

static bool step_destroy_handle(run *ru, const wfps_step *st, size_t number, wfp_session *s, uint32_t *code)
{
    rhandle *hd = find_handle(ru, st->handle);
    if (!hd) {
        set_error(ru->r, "%s:%u:%u: step %zu: no open enum handle '%s'", st->node->file, st->node->line,
                  st->node->column, number, st->handle);
        return false;
    }
    *code = wfp_enum_destroy(s, hd->h);
    if (!*code) hd->h = NULL;
    return true;
}

/* The packet a host's net event was recorded for (the newest tag: sequences
 * restart after a reboot). */
static uint64_t packet_of_event(const run *ru, int h, uint64_t sequence)
{
    for (size_t i = ru->ntags; i-- > 0;)
        if (ru->tags[i].host == h && ru->tags[i].sequence == sequence) return ru->tags[i].packet;
    return 0;
}

static void describe_event(run *ru, int h, const wfp_net_event *ev, char *buf, size_t n)
{
    char *f = filter_name(ru, h, ev->filter_id);
    snprintf(buf, n, "%s packet %" PRIu64 " at %s by %s", wfp_net_event_type_name(ev->type),
             packet_of_event(ru, h, ev->sequence), layer_short(ev->layer_id), f ? f : "-");
    free(f);
}

static void describe_expected(const wfps_expect_event *ee, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "%s", wfp_net_event_type_name(ee->type));
    if (ee->packet && len < n) len += (size_t)snprintf(buf + len, n - len, " packet %" PRIu64, ee->packet);
    if (ee->layer >= 0 && len < n) len += (size_t)snprintf(buf + len, n - len, " at %s", layer_short((uint16_t)ee->layer));
    if (ee->filter && len < n) snprintf(buf + len, n - len, " by %s", ee->filter);
}

static bool event_matches(run *ru, int h, const wfps_expect_event *ee, const wfp_net_event *ev)
{
    char *f = ee->filter ? filter_name(ru, h, ev->filter_id) : NULL;
    bool ok = ev->type == ee->type && (!ee->packet || packet_of_event(ru, h, ev->sequence) == ee->packet) &&
              (ee->layer < 0 || ev->layer_id == ee->layer) && (!ee->filter || (f && !strcmp(f, ee->filter))) &&
              (!ee->host || !strcmp(ee->host, ru->sc->hosts[h].name));
    free(f);
    return ok;
}

/* The enumerated events must be the expected ones, in order, and no more. */
static void check_events(run *ru, const wfps_step *st, size_t number, int h, const wfp_net_event *const *ev,
                         uint32_t got)
{
    char obs[256], exp[256];
    for (size_t i = 0; i < st->nevents || i < got; i++) {
        const wfps_expect_event *ee = i < st->nevents ? &st->events[i] : NULL;
        const wfp_yaml_node *at = ee ? ee->node : st->expect;
        if (ee && i < got && event_matches(ru, h, ee, ev[i])) continue;
        if (i < got) describe_event(ru, h, ev[i], obs, sizeof obs);
        else snprintf(obs, sizeof obs, "no more events (%" PRIu32 " enumerated)", got);
        if (ee) describe_expected(ee, exp, sizeof exp);
        else snprintf(exp, sizeof exp, "no more events (%zu listed)", st->nevents);
        fail(ru->r, "%s:%u:%u: step %zu (enum_net_events): event %zu: expected %s, observed %s", at->file, at->line,
             at->column, number, i + 1, exp, obs);
        return;
    }
}

static bool step_net_events(run *ru, const wfps_step *st, size_t number, int h, wfp_session *s, uint32_t *code)
{
    wfps_tmpl t;
    wfp_net_event_enum *e = NULL;
    const wfp_net_event *const *ev = NULL;
    uint32_t got = 0;
    bool ok = step_tmpl(ru, st, h, &t);
    *code = ok ? wfp_net_event_enum_create(s, t.given ? &t.net : NULL, &e) : ERROR_SUCCESS;
    wfps_tmpl_free(&t);
    if (!ok || *code) return ok;
    *code = wfp_net_event_enum_next(s, e, 1u << 20, &ev, &got);
    if (!*code) check_events(ru, st, number, h, ev, got);
    wfp_net_event_enum_destroy(s, e);
    return true;
}

static bool step_security(run *ru, const wfps_step *st, size_t number, int h, wfp_session *s, uint32_t *code)
{
    wfp_guid key;
    const char *sddl = NULL;
    if (st->name) wfps_security_key(ru->hosts[h].policy, st->object, st->name, &key);
    if (st->op == WFPS_OP_SET_SECURITY) {
        *code = wfp_set_security(s, st->object, st->name ? &key : NULL, wfps_sddl_info(st->sddl), st->sddl);
        return true;
    }
    *code = wfp_get_security(s, st->object, st->name ? &key : NULL, &sddl);
    if (!*code && st->sddl && strcmp(st->sddl, sddl))
        fail(ru->r, "%s:%u:%u: step %zu (get_security): expected %s, observed %s", st->expect->file, st->expect->line,
             st->expect->column, number, st->sddl, sddl);
    return true;
}

/* The enumeration and security ops; false when the run cannot go on. */
static bool query_step(run *ru, const wfps_step *st, size_t number, int h, wfp_session *s, uint32_t *code)
{
    switch (st->op) {
    case WFPS_OP_ENUM: return step_enum(ru, st, number, h, s, code);
    case WFPS_OP_CREATE_ENUM_HANDLE: return step_create_handle(ru, st, number, h, s, code);
    case WFPS_OP_DESTROY_ENUM_HANDLE: return step_destroy_handle(ru, st, number, s, code);
    case WFPS_OP_ENUM_NET_EVENTS: return step_net_events(ru, st, number, h, s, code);
    default: return step_security(ru, st, number, h, s, code);
    }
}

static bool run_pending(run *ru);

/* Runs one step; false when the scenario cannot go on. `timed_out`: the
 * step waited for the lock until its session's timeout. */
static bool do_step_now(run *ru, const wfps_step *st, size_t number, bool timed_out)
{
    int h = step_host(ru, st);
    rhost *rh = &ru->hosts[h];
    wfp_engine *e = wfp_host_engine(rh->host);
    wfp_session *s = step_session(ru, st, h);
    rsession *rs = strcmp(st->session, "default") ? declared(ru, st->session) : NULL;
    const char *op = wfps_op_name(st->op);
    uint32_t code = ERROR_SUCCESS;
    bool changed = false;
    char detail[512] = "";
    wfp_yaml_errors err;
    wfp_yaml_errors_init(&err);

    if (!s && st->op != WFPS_OP_REGISTER_CALLOUT && st->op != WFPS_OP_UNREGISTER_CALLOUT && st->op != WFPS_OP_REBOOT) {
        set_error(ru->r, "%s:%u:%u: step %zu (%s): session '%s' is closed", st->node->file, st->node->line,
                  st->node->column, number, op, st->session);
        return false;
    }
    /* waiting for the lock: the step runs when it frees, or fails at the timeout */
    const wfp_session *holder = wfp_engine_lock_holder(e);
    if (!timed_out && needs_lock(st->op) && holder && holder != s) {
        rpending *pd = wfps_push((void **)&ru->pending, &ru->npending, &ru->pending_cap, sizeof *pd);
        if (!pd) return false;
        pd->step = st;
        pd->number = number;
        pd->deadline = ru->now + (int64_t)wfp_session_txn_wait_timeout_ms(s) * 1000000;
        return true;
    }
    switch (st->op) {
    case WFPS_OP_ADD_PROVIDER:
    case WFPS_OP_ADD_SUBLAYER:
    case WFPS_OP_ADD_CALLOUT:
    case WFPS_OP_ADD_FILTER: {
        static const wfp_policy_kind kinds[] = {WFP_POLICY_PROVIDER, WFP_POLICY_SUBLAYER, WFP_POLICY_CALLOUT,
                                                WFP_POLICY_FILTER};
        wfp_policy_object *o = NULL;
        char what[64];
        snprintf(what, sizeof what, "step %zu", number);
        if (!wfp_policy_object_parse(rh->policy, kinds[st->op - WFPS_OP_ADD_PROVIDER], st->body, what, &o, &err)) {
            set_error(ru->r, "%s", wfp_yaml_errors_first(&err) ? wfp_yaml_errors_first(&err) : "bad object");
            wfp_yaml_errors_clear(&err);
            return false;
        }
        code = wfp_policy_object_add(rh->policy, s, o);
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        wfp_policy_object_free(o);
        changed = code == ERROR_SUCCESS;
        break;
    }
    case WFPS_OP_DELETE_PROVIDER:
    case WFPS_OP_DELETE_SUBLAYER:
    case WFPS_OP_DELETE_CALLOUT:
    case WFPS_OP_DELETE_FILTER: {
        static const wfp_policy_kind kinds[] = {WFP_POLICY_PROVIDER, WFP_POLICY_SUBLAYER, WFP_POLICY_CALLOUT,
                                                WFP_POLICY_FILTER};
        wfp_policy_kind kind = kinds[st->op - WFPS_OP_DELETE_PROVIDER];
        wfp_guid key;
        if (!wfp_policy_key(rh->policy, kind, st->name, &key)) {
            /* an unknown name is simply an object that does not exist */
            wfp_guid_from_name(wfp_policy_kind_name(kind), st->name, &key);
        }
        switch (kind) {
        case WFP_POLICY_PROVIDER: code = wfp_provider_delete_by_key(s, &key); break;
        case WFP_POLICY_SUBLAYER: code = wfp_sublayer_delete_by_key(s, &key); break;
        case WFP_POLICY_CALLOUT: code = wfp_callout_delete_by_key(s, &key); break;
        default: code = wfp_filter_delete_by_key(s, &key); break;
        }
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        changed = code == ERROR_SUCCESS;
        break;
    }
    case WFPS_OP_REGISTER_CALLOUT:
        code = wfp_policy_callout_register(rh->policy, e, st->name);
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        changed = code == ERROR_SUCCESS;
        break;
    case WFPS_OP_UNREGISTER_CALLOUT:
        code = wfp_policy_callout_unregister(rh->policy, e, st->name);
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        changed = code == ERROR_SUCCESS;
        break;
    case WFPS_OP_BEGIN:
        code = wfp_txn_begin(s, st->read_only ? FWPM_TXN_READ_ONLY : 0);
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        else if (rs) rs->txn_since = ru->now;
        break;
    case WFPS_OP_COMMIT:
    case WFPS_OP_ABORT:
        code = st->op == WFPS_OP_COMMIT ? wfp_txn_commit(s) : wfp_txn_abort(s);
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        if (rs) rs->txn_since = -1;
        changed = st->op == WFPS_OP_COMMIT && code == ERROR_SUCCESS;
        break;
    case WFPS_OP_SUBSCRIBE: {
        rsub *sub = new_sub(ru, st->session, h);
        wfps_tmpl t;
        if (!sub) return false;
        if (!step_tmpl(ru, st, h, &t)) {
            wfps_tmpl_free(&t);
            return false;
        }
        if (!strcmp(st->name, "net_event")) {
            sub->object = WFP_OBJECT_NET_EVENTS;
            code = wfp_net_event_subscribe(s, t.given ? &t.net : NULL, on_net_event, sub, &sub->handle);
        } else {
            wfp_subscription ws;
            memset(&ws, 0, sizeof ws);
            ws.object_type = tmpl_object(st);
            if (t.given) { /* the engine copies the template */
                ws.filter_template = ws.object_type == WFP_OBJECT_FILTER ? &t.filter : NULL;
                ws.provider_key = t.callout.provider_key;
                ws.layer_key = wfp_guid_is_null(&t.callout.layer_key) ? NULL : &t.callout.layer_key;
            }
            sub->object = ws.object_type;
            code = !strcmp(st->name, "provider_context")
                       ? FWP_E_NOT_FOUND /* provider contexts are not modelled */
                       : wfp_subscribe_changes(s, &ws, on_change, sub, &sub->handle);
        }
        wfps_tmpl_free(&t);
        sub->active = code == ERROR_SUCCESS;
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        break;
    }
    case WFPS_OP_ENUM:
    case WFPS_OP_CREATE_ENUM_HANDLE:
    case WFPS_OP_DESTROY_ENUM_HANDLE:
    case WFPS_OP_ENUM_NET_EVENTS:
    case WFPS_OP_GET_SECURITY:
    case WFPS_OP_SET_SECURITY: {
        if (!query_step(ru, st, number, h, s, &code)) return false;
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        break;
    }
    case WFPS_OP_UNSUBSCRIBE: {
        /* that session's subscriptions to that object type, and only those */
        bool net = !strcmp(st->name, "net_event");
        code = FWP_E_NOT_FOUND;
        for (size_t i = 0; i < ru->nsubs; i++) {
            rsub *sub = ru->subs[i];
            if (!sub->active || sub->host != h || strcmp(sub->session, st->session)) continue;
            if (net ? sub->object != WFP_OBJECT_NET_EVENTS
                    : (sub->object == WFP_OBJECT_NET_EVENTS || strcmp(wfp_object_type_name(sub->object), st->name)))
                continue;
            uint32_t rc = net ? wfp_net_event_unsubscribe(s, sub->handle) : wfp_unsubscribe_changes(s, sub->handle);
            if (rc == ERROR_SUCCESS) {
                sub->active = false;
                code = ERROR_SUCCESS;
            } else {
                code = rc;
            }
        }
        if (code) snprintf(detail, sizeof detail, "no subscription to %s in session '%s'", st->name, st->session);
        break;
    }
    case WFPS_OP_ENABLE_NET_EVENTS: {
        wfp_value v = {FWP_UINT32, {.u32 = st->enable ? 1u : 0u}};
        code = wfp_engine_set_option(s, FWPM_ENGINE_COLLECT_NET_EVENTS, &v);
        if (code) snprintf(detail, sizeof detail, "%s", wfp_engine_last_error(e));
        break;
    }
    case WFPS_OP_CLOSE_SESSION:
        if (!strcmp(st->session, "default")) {
            set_error(ru->r, "%s:%u:%u: step %zu: the default session cannot be closed", st->node->file,
                      st->node->line, st->node->column, number);
            return false;
        }
        if (rs) {
            wfp_session_close(rs->s);
            rs->s = NULL;
            rs->txn_since = -1;
        }
        changed = true;
        break;
    case WFPS_OP_REBOOT: {
        /* every session ends; persistent and boot-time objects stay; the
         * implicit default session and the observer come back at once */
        wfp_engine_reboot(e);
        for (size_t i = 0; i < ru->sc->nsessions; i++)
            if (ru->sessions[i].host == h) {
                ru->sessions[i].s = NULL;
                ru->sessions[i].txn_since = -1;
            }
        wfp_session_desc d = {0};
        d.name = "default";
        d.admin = true;
        d.user_sid = "S-1-5-18";
        if (wfp_session_open(e, &d, &rh->def) || !open_observer(ru, h)) {
            set_error(ru->r, "step %zu: cannot reopen sessions after the reboot", number);
            return false;
        }
        if (st->has_bfe_start && st->bfe_start > 0) {
            rh->bfe_start_at = ru->now + st->bfe_start;
        } else {
            wfp_engine_bfe_start(e);
        }
        changed = true;
        break;
    }
    default:
        set_error(ru->r, "%s:%u:%u: step %zu: unknown op", st->node->file, st->node->line, st->node->column, number);
        return false;
    }
    char b1[16], b2[16];
    if (st->has_expect_error) {
        if (code != st->expect_error)
            fail(ru->r, "%s:%u:%u: step %zu (%s): expected %s, observed %s%s%s", st->node->file, st->node->line,
                 st->node->column, number, op, code_name(st->expect_error, b1, sizeof b1), code_name(code, b2, sizeof b2),
                 *detail ? " — " : "", detail);
    } else if (code) {
        fail(ru->r, "%s:%u:%u: step %zu (%s) failed: %s — %s", st->node->file, st->node->line, st->node->column,
             number, op, code_name(code, b1, sizeof b1), detail);
    }
    if (changed) wfp_host_policy_changed(rh->host, (uint64_t)ru->now);
    /* a released lock lets waiting steps run, in the order they came */
    return run_pending(ru);
}

static bool do_step(run *ru, const wfps_step *st, size_t number)
{
    return do_step_now(ru, st, number, false);
}

/* Runs the waiting steps whose lock is free now. */
static bool run_pending(run *ru)
{
    for (size_t i = 0; i < ru->npending;) {
        rpending pd = ru->pending[i];
        int h = step_host(ru, pd.step);
        wfp_session *s = step_session(ru, pd.step, h);
        const wfp_session *holder = wfp_engine_lock_holder(wfp_host_engine(ru->hosts[h].host));
        if (holder && holder != s) {
            i++;
            continue;
        }
        memmove(ru->pending + i, ru->pending + i + 1, (ru->npending - i - 1) * sizeof *ru->pending);
        ru->npending--;
        if (!do_step_now(ru, pd.step, pd.number, false)) return false;
        i = 0; /* the list may have changed */
    }
    return true;
}

/* ---- packets ------------------------------------------------------------ */

static rpacket *new_record(run *ru, const char *host, bool inbound)
{
    wfp_scenario_result *r = ru->r;
    if (r->npackets == r->packets_cap) {
        size_t ncap = r->packets_cap ? r->packets_cap * 2 : 64;
        rpacket *np = realloc(r->packets, ncap * sizeof *np);
        if (!np) return NULL;
        r->packets = np;
        r->packets_cap = ncap;
    }
    rpacket *p = &r->packets[r->npackets++];
    memset(p, 0, sizeof *p);
    p->pub.number = r->npackets;
    p->pub.time_ns = ru->now;
    p->pub.host = host;
    p->pub.inbound = inbound;
    p->pub.layer_id = UINT16_MAX;
    return p;
}

/* Copies a host outcome into the record (appending its calls). */
/* Copies a host outcome into the record: its calls are appended; with
 * `fate`, the outcome's verdict becomes the packet's. */
static bool record_outcome_ex(run *ru, int h, rpacket *p, const wfp_packet_outcome *out, bool fate)
{
    for (size_t i = 0; i < out->num_calls; i++) {
        const wfp_host_call *c = &out->calls[i];
        if (p->ncalls == p->calls_cap) {
            size_t ncap = p->calls_cap ? p->calls_cap * 2 : 8;
            wfp_call_record *nc = realloc(p->calls, ncap * sizeof *nc);
            if (!nc) return false;
            p->calls = nc;
            p->calls_cap = ncap;
        }
        wfp_call_record *cr = &p->calls[p->ncalls++];
        memset(cr, 0, sizeof *cr);
        cr->layer_id = c->layer_id;
        cr->host = ru->sc->hosts[h].name;
        cr->reauth = c->reauth;
        cr->verdict = c->verdict;
        cr->filter_name = filter_name(ru, h, c->verdict.filter_id);
        if (ru->opt && ru->opt->trace && c->num_sublayers) {
            wfp_trace_sublayer *subs = malloc(c->num_sublayers * sizeof *subs);
            char **names = calloc(c->num_sublayers, sizeof *names);
            char **filters = calloc(c->num_sublayers, sizeof *filters);
            if (!subs || !names || !filters) {
                free(subs);
                free(names);
                free(filters);
                return false;
            }
            memcpy(subs, out->sublayers + c->first_sublayer, c->num_sublayers * sizeof *subs);
            for (size_t k = 0; k < c->num_sublayers; k++) {
                const char *sn = wfp_policy_sublayer_name(ru->hosts[h].policy, &subs[k].key);
                char g[WFP_GUID_STRLEN];
                if (!sn) {
                    wfp_guid_format(&subs[k].key, g);
                    sn = g;
                }
                names[k] = wfps_strdup(sn);
                filters[k] = filter_name(ru, h, subs[k].filter_id);
            }
            cr->sublayers = subs;
            cr->nsublayers = c->num_sublayers;
            cr->sublayer_names = (const char *const *)names;
            cr->sublayer_filters = (const char *const *)filters;
        }
        if (!p->pub.number) continue; /* a host's start: not a packet's, not in the stats */
        ru->r->stats[STAT_classify_calls]++;
        if (c->verdict.vetoed) ru->r->stats[STAT_vetoes]++;
        /* a reauthorization is one classify at the creating layer, not its discard twin */
        const wfp_layer_info *li = wfp_catalog_layer_by_id(c->layer_id);
        if (c->reauth && li && li->base_layer_id < 0) ru->r->stats[STAT_reauthorizations]++;
    }
    p->pub.calls = p->calls;
    p->pub.ncalls = p->ncalls;
    if (!fate) return true;
    p->pub.permitted = out->permitted;
    p->pub.absorbed = out->absorbed;
    p->pub.inbound = out->path == WFP_HOST_PATH_INBOUND;
    p->pub.host = ru->sc->hosts[h].name;
    if (out->layer_id != UINT16_MAX) p->pub.layer_id = out->layer_id;
    p->pub.filter_id = out->filter_id;
    free(p->filter_name);
    p->filter_name = filter_name(ru, h, out->filter_id);
    p->pub.filter_name = p->filter_name;
    p->pub.reason = out->reason;
    free((void *)p->pub.drop_reason);
    p->pub.drop_reason = out->discard != WFP_HOST_DISCARD_NONE ? wfps_strdup(wfp_host_discard_name(out->discard)) : NULL;
    return true;
}

static bool record_outcome(run *ru, int h, rpacket *p, const wfp_packet_outcome *out)
{
    return record_outcome_ex(ru, h, p, out, true);
}

static bool packet_is_local(const run *ru, int h, const uint8_t *addr, uint8_t ver)
{
    const wfp_host *host = ru->hosts[h].host;
    if (ver == 4) {
        uint32_t a = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
        return wfp_host_is_local_v4(host, a);
    }
    return ver == 6 && wfp_host_is_local_v6(host, addr);
}

static int64_t link_delay(const run *ru, int a, int b)
{
    for (size_t i = 0; i < ru->sc->nlinks; i++) {
        const wfps_link *l = &ru->sc->links[i];
        if ((l->host[0] == a && l->host[1] == b) || (l->host[0] == b && l->host[1] == a)) return l->delay;
    }
    return 0;
}

static bool schedule_delivery(run *ru, int h, size_t record, const wfp_packet *p)
{
    delivery *d = wfps_push((void **)&ru->deliveries, &ru->ndeliveries, &ru->deliveries_cap, sizeof *d);
    if (!d) return false;
    d->host = h;
    d->record = record;
    d->seq = ru->delivery_seq++;
    d->len = p->cap_len;
    d->linktype = p->linktype;
    d->bytes = malloc(p->cap_len ? p->cap_len : 1);
    if (!d->bytes) return false;
    if (p->cap_len) memcpy(d->bytes, p->data, p->cap_len);
    d->at = ru->now + link_delay(ru, ru->r->packets[record].pub.host ? wfps_host_index(ru->sc, ru->r->packets[record].pub.host) : 0, h);
    return true;
}

static void count_fate(run *ru, const rpacket *p)
{
    uint64_t *st = ru->r->stats;
    if (p->pub.permitted) st[STAT_permitted]++;
    else if (p->pub.absorbed) {
        st[STAT_absorbed]++;
        st[STAT_blocked]++;
    } else if (p->pub.drop_reason && strcmp(p->pub.drop_reason, "blocked_by_filter") &&
               strcmp(p->pub.drop_reason, "reauth_blocked"))
        st[STAT_dropped]++;
    else st[STAT_blocked]++;
}

/* The simulated host, other than `h`, that owns the destination of a
 * packet `h` sent; -1 if none. */
static int receiver_of(const run *ru, int h, const wfp_packet_outcome *out, const wfp_packet *p)
{
    if (!out->permitted || (out->path != WFP_HOST_PATH_OUTBOUND && out->path != WFP_HOST_PATH_FORWARD)) return -1;
    for (size_t k = 0; k < ru->sc->nhosts; k++)
        if ((int)k != h && packet_is_local(ru, (int)k, p->dst, p->ip_version)) return (int)k;
    return -1;
}

/* After a walk at host `h` for record `ri`: a pended classify is mapped to
 * its record (a held connect's fate waits for the completion); a permitted
 * packet for another simulated host (`dst`) goes there; else its fate is
 * final. */
static bool settle(run *ru, int h, size_t ri, const wfp_packet_outcome *out, const wfp_packet *p, int dst)
{
    if (out->pended) {
        rpend *pd = wfps_push((void **)&ru->pends, &ru->npends, &ru->pends_cap, sizeof *ru->pends);
        if (!pd) return false;
        pd->host = h;
        pd->handle = out->pended;
        pd->record = ri;
        pd->bytes = malloc(p->cap_len ? p->cap_len : 1);
        if (!pd->bytes) return false;
        if (p->cap_len) memcpy(pd->bytes, p->data, p->cap_len);
        pd->len = p->cap_len;
        pd->linktype = p->linktype;
        ru->r->stats[STAT_pended]++;
        if (out->held) {
            ru->r->packets[ri].pending = true;
            return true;
        }
    }
    if (dst >= 0 && out->permitted) return schedule_delivery(ru, dst, ri, p);
    count_fate(ru, &ru->r->packets[ri]);
    return true;
}

/* A pended classify completes (its callout called FwpsCompleteOperation0):
 * the calls are the original packet's; a held connect's fate is settled. */
static bool complete_pended(run *ru, int h, uint64_t handle)
{
    wfp_packet_outcome out;
    size_t k = 0;
    while (k < ru->npends && (ru->pends[k].host != h || ru->pends[k].handle != handle)) k++;
    uint32_t rc = wfp_host_complete_operation(ru->hosts[h].host, (uint64_t)ru->now, handle, &out);
    if (k == ru->npends) return rc == 0; /* not a packet's (cannot happen) */
    rpend pd = ru->pends[k];
    size_t ri = pd.record;
    ru->pends[k] = ru->pends[--ru->npends];
    rpacket *rec = &ru->r->packets[ri];
    bool held = rec->pending;
    ru->current_packet = rec->pub.number;
    if (!record_outcome_ex(ru, h, rec, &out, held)) {
        free(pd.bytes);
        return false;
    }
    if (rc) {
        free(pd.bytes);
        set_error(ru->r, "packet %" PRIu64 " at host '%s': completing its pended classify: %s", rec->pub.number,
                  ru->sc->hosts[h].name, wfp_result_name(rc) ? wfp_result_name(rc) : "error");
        return false;
    }
    bool ok = true;
    if (held) {
        /* the SYN goes on from the completion: to another simulated host, or its fate is final */
        rec->pending = false;
        wfp_packet p;
        wfp_packet_parse(pd.linktype, pd.bytes, (uint32_t)pd.len, (uint32_t)pd.len, (uint64_t)ru->now, &p);
        int dst = receiver_of(ru, h, &out, &p);
        if (dst >= 0) ok = schedule_delivery(ru, dst, ri, &p);
        else count_fate(ru, rec);
    }
    free(pd.bytes);
    return ok;
}

/* A packet entering the simulation now. `only` >= 0: the host it was
 * captured at; otherwise every host whose address it carries. */
static bool enter_packet(run *ru, const wfp_packet *p, int only)
{
    const wfps_scenario *sc = ru->sc;
    int src = -1, dst = -1;
    if (only >= 0) {
        src = only;
    } else if (sc->nhosts == 1) {
        src = 0;
    } else {
        for (size_t h = 0; h < sc->nhosts; h++) {
            if (src < 0 && packet_is_local(ru, (int)h, p->src, p->ip_version)) src = (int)h;
            if (dst < 0 && packet_is_local(ru, (int)h, p->dst, p->ip_version)) dst = (int)h;
        }
        if (src == dst) dst = -1; /* loopback inside one host */
        if (src < 0) {
            src = dst >= 0 ? dst : 0;
            dst = -1;
        }
    }
    ru->r->stats[STAT_packets]++;
    rpacket *rec = new_record(ru, sc->hosts[src].name, false);
    if (!rec) return false;
    ru->current_packet = rec->pub.number;
    wfp_packet_outcome out;
    uint32_t rc = wfp_host_packet(ru->hosts[src].host, (uint64_t)ru->now, p, &out);
    if (!record_outcome(ru, src, rec, &out)) return false;
    if (rc) {
        set_error(ru->r, "packet %" PRIu64 " at host '%s': %s (%s)", rec->pub.number, sc->hosts[src].name,
                  wfp_result_name(rc) ? wfp_result_name(rc) : "error",
                  wfp_engine_last_error(wfp_host_engine(ru->hosts[src].host)));
        return false;
    }
    return settle(ru, src, ru->r->npackets - 1, &out, p, dst);
}

/* A callout injected a copy of the packet being classified: it enters
 * this host again after its delay, as the next packet number then. */
static uint32_t on_inject(void *ctx, wfp_host *host, const wfp_host_injection *inj)
{
    run *ru = ctx;
    int h = 0;
    while ((size_t)h < ru->sc->nhosts && ru->hosts[h].host != host) h++;
    if ((size_t)h == ru->sc->nhosts) return FWP_E_INVALID_PARAMETER;
    if (inj->depth >= WFP_INJECT_MAX_DEPTH) {
        set_error(ru->r,
                  "packet %" PRIu64 " at host '%s': a copy injected %u times over: a callout re-injects its own "
                  "copies (give its inject rule an injection_state: not_injected, or a rule for injected_by_self first)",
                  ru->current_packet, ru->sc->hosts[h].name, inj->depth);
        return FWP_E_INVALID_PARAMETER;
    }
    uint8_t *bytes = malloc(inj->len ? inj->len : 1);
    if (!bytes) return ERROR_NOT_ENOUGH_MEMORY;
    delivery *d = wfps_push((void **)&ru->deliveries, &ru->ndeliveries, &ru->deliveries_cap, sizeof *d);
    if (!d) {
        free(bytes);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    if (inj->len) memcpy(bytes, inj->ip, inj->len);
    d->bytes = bytes;
    d->host = h;
    d->record = SIZE_MAX;
    d->seq = ru->delivery_seq++;
    d->len = inj->len;
    d->linktype = WFP_LINKTYPE_RAW;
    d->at = ru->now + (int64_t)inj->delay_ns;
    d->injected_from = ru->current_packet;
    d->inj = *inj;
    d->inj.ip = NULL; /* set from `bytes` when it enters: the array may move */
    return ERROR_SUCCESS;
}

/* An injected copy entering its host: a new packet record; if it leaves
 * for another simulated host, that host receives it after the link delay. */
static bool enter_injected(run *ru, delivery *d)
{
    const wfps_scenario *sc = ru->sc;
    wfp_packet p;
    wfp_packet_outcome out;
    ru->r->stats[STAT_packets]++;
    ru->r->stats[STAT_injected]++;
    rpacket *rec = new_record(ru, sc->hosts[d->host].name, false);
    if (!rec) return false;
    rec->pub.injected_from = d->injected_from;
    rec->pub.injection_kind = wfp_inject_kind_name(d->inj.kind);
    ru->current_packet = rec->pub.number;
    d->inj.ip = d->bytes;
    uint32_t rc = wfp_host_packet_injected(ru->hosts[d->host].host, (uint64_t)ru->now, &d->inj, &out);
    if (!record_outcome(ru, d->host, rec, &out)) return false;
    if (rc) {
        if (!ru->r->error)
            set_error(ru->r, "packet %" PRIu64 " (injected) at host '%s': %s", rec->pub.number, sc->hosts[d->host].name,
                      wfp_result_name(rc) ? wfp_result_name(rc) : "error");
        return false;
    }
    wfp_packet_parse(WFP_LINKTYPE_RAW, d->bytes, (uint32_t)d->len, (uint32_t)d->len, (uint64_t)ru->now, &p);
    return settle(ru, d->host, ru->r->npackets - 1, &out, &p, receiver_of(ru, d->host, &out, &p));
}

static bool deliver(run *ru, delivery *d)
{
    if (d->record == SIZE_MAX) return enter_injected(ru, d);
    wfp_packet p;
    wfp_packet_parse(d->linktype, d->bytes, (uint32_t)d->len, (uint32_t)d->len, (uint64_t)ru->now, &p);
    rpacket *rec = &ru->r->packets[d->record];
    ru->current_packet = rec->pub.number;
    wfp_packet_outcome out;
    uint32_t rc = wfp_host_packet(ru->hosts[d->host].host, (uint64_t)ru->now, &p, &out);
    if (!record_outcome(ru, d->host, rec, &out)) return false;
    if (rc) {
        set_error(ru->r, "packet %" PRIu64 " at host '%s': %s", rec->pub.number, ru->sc->hosts[d->host].name,
                  wfp_engine_last_error(wfp_host_engine(ru->hosts[d->host].host)));
        return false;
    }
    return settle(ru, d->host, d->record, &out, &p, -1);
}

/* Loads the next packet of a source into s->pkt; marks it done at the end. */
static bool source_advance(run *ru, source *s)
{
    wfps_traffic *t = s->t;
    s->have = false;
    if (t->is_pcap) {
        int rc = wfp_capture_next(s->cap, &s->pkt);
        if (rc < 0) {
            set_error(ru->r, "%s: %s", t->pcap_path, wfp_capture_error(s->cap));
            return false;
        }
        if (rc == 0) {
            s->done = true;
            return true;
        }
        if (!s->have_first) {
            s->first_ns = s->pkt.time_ns;
            s->have_first = true;
        }
        uint64_t rel = s->pkt.time_ns >= s->first_ns ? s->pkt.time_ns - s->first_ns : 0;
        s->next_at = t->at + (int64_t)rel;
        s->have = true;
        return true;
    }
    if (s->emitted >= t->repeat) {
        s->done = true;
        return true;
    }
    size_t len = wfp_packet_build(&t->spec, s->buf, sizeof s->buf);
    wfp_packet_parse(WFP_LINKTYPE_RAW, s->buf, (uint32_t)len, (uint32_t)len, 0, &s->pkt);
    s->next_at = t->at + (int64_t)s->emitted * t->every;
    s->emitted++;
    s->have = true;
    return true;
}

static bool open_sources(run *ru)
{
    const wfps_scenario *sc = ru->sc;
    ru->sources = calloc(sc->ntraffic ? sc->ntraffic : 1, sizeof *ru->sources);
    if (!ru->sources) return false;
    for (size_t i = 0; i < sc->ntraffic; i++) {
        source *s = &ru->sources[i];
        s->t = &sc->traffic[i];
        if (s->t->is_pcap) {
            char msg[512];
            s->cap = wfp_capture_open(s->t->pcap_path, msg, sizeof msg);
            if (!s->cap) {
                set_error(ru->r, "%s:%u:%u: %s", s->t->node->file, s->t->node->line, s->t->node->column, msg);
                return false;
            }
        }
        if (!source_advance(ru, s)) return false;
    }
    return true;
}

/* ---- the main loop ------------------------------------------------------ */

static int cmp_step_time(const void *a, const void *b)
{
    const wfps_step *x = *(const wfps_step *const *)a, *y = *(const wfps_step *const *)b;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static bool simulate(run *ru)
{
    const wfps_scenario *sc = ru->sc;
    const wfps_step **steps = calloc(sc->nsteps ? sc->nsteps : 1, sizeof *steps);
    size_t next_step = 0;
    bool ok = true;
    if (!steps) return false;
    for (size_t i = 0; i < sc->nsteps; i++) steps[i] = &sc->steps[i];
    qsort(steps, sc->nsteps, sizeof *steps, cmp_step_time);

    ru->starts = calloc(sc->nhosts, sizeof *ru->starts);
    if (!ru->starts) {
        free(steps);
        return false;
    }
    for (size_t h = 0; h < sc->nhosts; h++) {
        wfp_packet_outcome out;
        uint32_t rc = wfp_host_start(ru->hosts[h].host, 0, &out);
        if (!record_outcome_ex(ru, (int)h, &ru->starts[h], &out, false)) {
            free(steps);
            return false;
        }
        if (rc) {
            set_error(ru->r, "host '%s' did not start: %s", sc->hosts[h].name, wfp_result_name(rc));
            free(steps);
            return false;
        }
    }
    if (!open_sources(ru)) {
        free(steps);
        return false;
    }
    for (;;) {
        /* the earliest of: a BFE start, a transaction watchdog, a lock wait
         * timing out, the next step, the next delivery, the next packet */
        int kind = -1; /* 3 BFE start, 4 watchdog, 5 wait timeout, 0 step, 1 delivery, 2 packet, 6 completion */
        int64_t at = 0;
        size_t which = 0;
        for (size_t h = 0; h < sc->nhosts; h++) {
            if (ru->hosts[h].bfe_start_at < 0) continue;
            if (kind < 0 || ru->hosts[h].bfe_start_at < at) {
                kind = 3;
                at = ru->hosts[h].bfe_start_at;
                which = h;
            }
        }
        /* BFE aborts user-mode transactions held over an hour (spec §9.2) */
        for (size_t i = 0; i < sc->nsessions; i++) {
            if (ru->sessions[i].txn_since < 0 || sc->sessions[i].kernel || !ru->sessions[i].s) continue;
            int64_t due = ru->sessions[i].txn_since + 3600 * (int64_t)1000000000;
            if (kind < 0 || due < at) {
                kind = 4;
                at = due;
                which = i;
            }
        }
        for (size_t i = 0; i < ru->npending; i++) {
            if (kind < 0 || ru->pending[i].deadline < at) {
                kind = 5;
                at = ru->pending[i].deadline;
                which = i;
            }
        }
        if (next_step < sc->nsteps && (kind < 0 || steps[next_step]->at < at)) {
            kind = 0;
            at = steps[next_step]->at;
        }
        for (size_t i = 0; i < ru->ndeliveries; i++) {
            delivery *d = &ru->deliveries[i];
            if (kind < 0 || d->at < at || (d->at == at && kind > 1) ||
                (d->at == at && kind == 1 && d->seq < ru->deliveries[which].seq)) {
                kind = 1;
                at = d->at;
                which = i;
            }
        }
        for (size_t i = 0; i < sc->ntraffic; i++) {
            source *s = &ru->sources[i];
            if (!s->have) continue;
            if (kind < 0 || s->next_at < at) {
                kind = 2;
                at = s->next_at;
                which = i;
            }
        }
        /* a pended classify's completion: before a packet of the same instant */
        uint64_t completion = 0;
        for (size_t h = 0; h < sc->nhosts; h++) {
            uint64_t cat, handle;
            if (!wfp_host_next_completion(ru->hosts[h].host, &cat, &handle) || cat > INT64_MAX) continue;
            if (kind < 0 || (int64_t)cat < at || ((int64_t)cat == at && kind == 2)) {
                kind = 6;
                at = (int64_t)cat;
                which = h;
                completion = handle;
            }
        }
        if (kind < 0) break;
        ru->now = at;
        if (kind == 3) {
            ru->hosts[which].bfe_start_at = -1;
            wfp_engine_bfe_start(wfp_host_engine(ru->hosts[which].host));
            wfp_host_policy_changed(ru->hosts[which].host, (uint64_t)ru->now);
        } else if (kind == 4) {
            wfp_txn_force_abort(ru->sessions[which].s);
            ru->sessions[which].txn_since = -1;
            if (!run_pending(ru)) {
                ok = false;
                break;
            }
        } else if (kind == 5) {
            rpending pd = ru->pending[which];
            memmove(ru->pending + which, ru->pending + which + 1, (ru->npending - which - 1) * sizeof *ru->pending);
            ru->npending--;
            if (!do_step_now(ru, pd.step, pd.number, true)) {
                ok = false;
                break;
            }
        } else if (kind == 0) {
            const wfps_step *st = steps[next_step++];
            if (!do_step(ru, st, st->index + 1)) {
                ok = false;
                break;
            }
        } else if (kind == 6) {
            if (!complete_pended(ru, (int)which, completion)) {
                ok = false;
                break;
            }
        } else if (kind == 1) {
            delivery d = ru->deliveries[which];
            memmove(&ru->deliveries[which], &ru->deliveries[which + 1],
                    (ru->ndeliveries - which - 1) * sizeof *ru->deliveries);
            ru->ndeliveries--;
            bool good = deliver(ru, &d);
            free(d.bytes);
            if (!good) {
                ok = false;
                break;
            }
        } else {
            source *s = &ru->sources[which];
            int only = s->t->host ? wfps_host_index(sc, s->t->host) : -1;
            if (!enter_packet(ru, &s->pkt, only) || !source_advance(ru, s)) {
                ok = false;
                break;
            }
        }
    }
    for (size_t h = 0; ok && h < sc->nhosts; h++) {
        wfp_host_stats hs;
        wfp_host_expire(ru->hosts[h].host, (uint64_t)ru->now);
        wfp_host_get_stats(ru->hosts[h].host, &hs);
        ru->r->stats[STAT_flows_created] += hs.flows_created;
        ru->r->flows_live += wfp_host_flow_count(ru->hosts[h].host);
    }
    free(steps);
    return ok;
}

/* ---- expectations ------------------------------------------------------- */

static const rpacket *find_packet(const wfp_scenario_result *r, uint64_t n)
{
    return n >= 1 && n <= r->npackets ? &r->packets[n - 1] : NULL;
}

static const char *where(const wfp_yaml_node *n, char *buf, size_t len)
{
    snprintf(buf, len, "%s:%u:%u", n->file, n->line, n->column);
    return buf;
}

static bool name_matches(const char *expected, const char *observed)
{
    return observed && !strcmp(expected, observed);
}

/* Records the outcome of one expectation item: failed when fail() was
 * called since `before` (r->fail_calls then); its message is the first one
 * it left, else `fallback` (a failure whose message could not be kept, or
 * an item not checked). */
static void outcome(run *ru, uint32_t kind, const wfp_yaml_node *node, size_t before, size_t msg_before,
                    const char *fallback, const char *fmt, ...)
{
    wfp_scenario_result *r = ru->r;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    wfp_expectation_record *e = wfps_push((void **)&r->expects, &r->nexpects, &r->expects_cap, sizeof *e);
    if (!e) return;
    e->kind = kind;
    e->what = wfps_strdup(what);
    if (node) {
        e->file = node->file ? wfps_strdup(node->file) : NULL;
        e->line = node->line;
        e->column = node->column;
    }
    e->passed = r->fail_calls == before && !fallback;
    if (!e->passed) {
        const char *m = msg_before < r->nfailures ? r->failures[msg_before] : fallback;
        e->message = wfps_strdup(m ? m : "failed");
    }
}

/* Every host's net-event log at the end of the run, in recording order,
 * each event tagged with the packet it was recorded for (the last tag of
 * its host and sequence: sequences restart after a reboot). */
static int cmp_tag(const void *a, const void *b)
{
    const rtag *x = *(const rtag *const *)a, *y = *(const rtag *const *)b;
    if (x->host != y->host) return x->host < y->host ? -1 : 1;
    if (x->sequence != y->sequence) return x->sequence < y->sequence ? -1 : 1;
    return x < y ? -1 : x > y;
}

static uint64_t tag_of(const rtag *const *sorted, size_t n, int host, uint64_t sequence)
{
    size_t lo = 0, hi = n; /* first tag after (host, sequence) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const rtag *t = sorted[mid];
        if (t->host < host || (t->host == host && t->sequence <= sequence)) lo = mid + 1;
        else hi = mid;
    }
    if (lo && sorted[lo - 1]->host == host && sorted[lo - 1]->sequence == sequence) return sorted[lo - 1]->packet;
    return 0;
}

static void collect_net_events(run *ru)
{
    wfp_scenario_result *r = ru->r;
    const rtag **sorted = malloc((ru->ntags ? ru->ntags : 1) * sizeof *sorted);
    if (!sorted) return;
    for (size_t t = 0; t < ru->ntags; t++) sorted[t] = &ru->tags[t];
    qsort(sorted, ru->ntags, sizeof *sorted, cmp_tag);
    for (size_t h = 0; h < ru->sc->nhosts; h++) {
        wfp_net_event_enum *handle = NULL;
        const wfp_net_event *const *entries;
        uint32_t got = 0;
        if (!ru->hosts[h].observer) continue;
        if (wfp_net_event_enum_create(ru->hosts[h].observer, NULL, &handle)) continue;
        if (!wfp_net_event_enum_next(ru->hosts[h].observer, handle, 100000, &entries, &got)) {
            for (uint32_t k = 0; k < got; k++) {
                const wfp_net_event *ev = entries[k];
                wfp_net_event_record *o = wfps_push((void **)&r->events, &r->nevents, &r->events_cap, sizeof *o);
                if (!o) break;
                o->host = ru->sc->hosts[h].name ? wfps_strdup(ru->sc->hosts[h].name) : NULL;
                o->sequence = ev->sequence;
                o->time_ns = ev->time_ns;
                o->type = ev->type;
                o->flags = ev->flags;
                o->packet = tag_of(sorted, ru->ntags, (int)h, ev->sequence);
                o->layer_id = ev->layer_id;
                o->filter_id = ev->filter_id;
                o->filter_name = filter_name(ru, (int)h, ev->filter_id);
                o->ip_version = ev->ip_version;
                o->ip_protocol = ev->ip_protocol;
                memcpy(o->local_addr, ev->local_addr, sizeof o->local_addr);
                memcpy(o->remote_addr, ev->remote_addr, sizeof o->remote_addr);
                o->local_port = ev->local_port;
                o->remote_port = ev->remote_port;
                o->direction = ev->ms_fwp_direction;
            }
        }
        if (handle) wfp_net_event_enum_destroy(ru->hosts[h].observer, handle);
    }
    free(sorted);
}

static const char *note_name(run *ru, const rnote *n);

/* The notifications delivered, with names as the policies know them at
 * the end of the run. */
static void collect_notifications(run *ru)
{
    wfp_scenario_result *r = ru->r;
    for (size_t i = 0; i < ru->nnotes; i++) {
        const rnote *n = &ru->notes[i];
        wfp_notification_record *o = wfps_push((void **)&r->notes, &r->nnotes, &r->notes_cap, sizeof *o);
        if (!o) break;
        const char *nm = note_name(ru, n);
        const char *host = n->host >= 0 && (size_t)n->host < ru->sc->nhosts ? ru->sc->hosts[n->host].name : NULL;
        o->session = n->session ? wfps_strdup(n->session) : NULL;
        o->host = host ? wfps_strdup(host) : NULL;
        o->change_type = n->change.change_type;
        o->object_type = n->change.object_type;
        o->key = n->change.key;
        o->id = n->change.id;
        o->name = nm ? wfps_strdup(nm) : NULL;
    }
}

static void check_packets(run *ru)
{
    const wfps_expect *ex = &ru->sc->expect;
    wfp_scenario_result *r = ru->r;
    char pos[256];
    for (size_t i = 0; i < ex->npackets; i++) {
        const wfps_expect_packet *ep = &ex->packets[i];
        size_t before = r->fail_calls, msg_before = r->nfailures;
        for (uint64_t n = ep->lo; n <= ep->hi; n++) {
            const rpacket *p = find_packet(r, n);
            where(ep->node, pos, sizeof pos);
            if (!p) {
                fail(r, "%s: packet %" PRIu64 ": expected a packet, observed only %zu packets", pos, n, r->npackets);
                break;
            }
            const char *verdict = p->pub.permitted ? "permit" : "block";
            if (ep->verdict >= 0 && (ep->verdict == 1) != p->pub.permitted)
                fail(r, "%s: packet %" PRIu64 ": expected verdict %s, observed %s (layer %s, filter %s, %s)", pos, n,
                     ep->verdict ? "permit" : "block", verdict,
                     p->pub.layer_id == UINT16_MAX ? "-" : layer_short(p->pub.layer_id),
                     p->pub.filter_name ? p->pub.filter_name : "-",
                     p->pub.drop_reason ? p->pub.drop_reason : wfp_reason_name(p->pub.reason));
            if (ep->layer >= 0 && p->pub.layer_id != ep->layer)
                fail(r, "%s: packet %" PRIu64 ": expected deciding layer %s, observed %s", pos, n,
                     layer_short((uint16_t)ep->layer), p->pub.layer_id == UINT16_MAX ? "-" : layer_short(p->pub.layer_id));
            if (ep->filter && !name_matches(ep->filter, p->pub.filter_name))
                fail(r, "%s: packet %" PRIu64 ": expected filter %s, observed %s", pos, n, ep->filter,
                     p->pub.filter_name ? p->pub.filter_name : "none");
            if (ep->reason) {
                const char *obs = p->pub.drop_reason ? p->pub.drop_reason : wfp_reason_name(p->pub.reason);
                if (!name_matches(ep->reason, obs) && !name_matches(ep->reason, wfp_reason_name(p->pub.reason)))
                    fail(r, "%s: packet %" PRIu64 ": expected reason %s, observed %s", pos, n, ep->reason, obs);
            }
            if (ep->host && !name_matches(ep->host, p->pub.host))
                fail(r, "%s: packet %" PRIu64 ": expected host %s, observed %s", pos, n, ep->host, p->pub.host);
            if (ep->injected_from >= 0 && (uint64_t)ep->injected_from != p->pub.injected_from) {
                char want[64] = "not injected", got[64] = "not injected";
                if (ep->injected_from)
                    snprintf(want, sizeof want, "injected while packet %" PRId64 " was classified", ep->injected_from);
                if (p->pub.injected_from)
                    snprintf(got, sizeof got, "injected while packet %" PRIu64 " was classified",
                             p->pub.injected_from);
                fail(r, "%s: packet %" PRIu64 ": expected %s, observed %s", pos, n, want, got);
            }
        }
        if (ep->lo == ep->hi)
            outcome(ru, WFP_EXPECT_PACKETS, ep->node, before, msg_before, NULL, "packet %" PRIu64, ep->lo);
        else
            outcome(ru, WFP_EXPECT_PACKETS, ep->node, before, msg_before, NULL, "packets %" PRIu64 "-%" PRIu64, ep->lo,
                    ep->hi);
    }
}

static void describe_call(const wfp_call_record *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s%s%s%s%s", layer_short(c->layer_id), action_word(c->verdict.action),
             c->filter_name ? " by " : "", c->filter_name ? c->filter_name : "",
             c->verdict.action == FWP_ACTION_PERMIT || c->verdict.action == FWP_ACTION_BLOCK
                 ? (c->verdict.hard ? " (hard)" : " (soft)")
                 : "",
             c->verdict.vetoed ? " veto" : "");
}

static void check_classifications(run *ru)
{
    const wfps_expect *ex = &ru->sc->expect;
    wfp_scenario_result *r = ru->r;
    char pos[256], got[256];
    for (size_t i = 0; i < ex->nclasses; i++) {
        const wfps_expect_class *ec = &ex->classes[i];
        const rpacket *p;
        char what[160];
        size_t before = r->fail_calls, msg_before = r->nfailures;
        where(ec->node, pos, sizeof pos);
        if (ec->packet) {
            p = find_packet(r, ec->packet);
            snprintf(what, sizeof what, "packet %" PRIu64, ec->packet);
        } else {
            /* `packet: start`: the binds and listens of the host's start */
            int h = ec->host ? wfps_host_index(ru->sc, ec->host) : 0;
            p = h >= 0 && ru->starts ? &ru->starts[h] : NULL;
            snprintf(what, sizeof what, "the start of host %s", h >= 0 ? ru->sc->hosts[h].name : ec->host);
        }
        if (!p) {
            fail(r, "%s: %s: expected %zu classify calls, observed no such packet", pos, what, ec->ncalls);
            outcome(ru, WFP_EXPECT_CLASSIFICATIONS, ec->node, before, msg_before, NULL, "classifications of %s", what);
            continue;
        }
        /* with `host:`, only that host's calls */
        const wfp_call_record **calls = calloc(p->ncalls ? p->ncalls : 1, sizeof *calls);
        size_t ncalls = 0;
        if (!calls) return;
        for (size_t k = 0; k < p->ncalls; k++)
            if (!ec->host || (p->calls[k].host && !strcmp(ec->host, p->calls[k].host))) calls[ncalls++] = &p->calls[k];
        size_t n = ec->ncalls > ncalls ? ec->ncalls : ncalls;
        for (size_t k = 0; k < n; k++) {
            const wfps_expect_call *c = k < ec->ncalls ? &ec->calls[k] : NULL;
            const wfp_call_record *o = k < ncalls ? calls[k] : NULL;
            if (o) describe_call(o, got, sizeof got);
            if (c) where(c->node, pos, sizeof pos);
            if (!o) {
                fail(r, "%s: %s call %zu: expected %s, observed no more calls (%zu in all)", pos, what, k + 1,
                     layer_short((uint16_t)c->layer), ncalls);
                break;
            }
            if (!c) {
                fail(r, "%s: %s: expected %zu calls, observed more: call %zu was %s", pos, what, ec->ncalls, k + 1,
                     got);
                break;
            }
            bool bad = o->layer_id != c->layer || (c->action && o->verdict.action != c->action) ||
                       (c->filter && !name_matches(c->filter, o->filter_name)) ||
                       (c->hard >= 0 && o->verdict.hard != (c->hard == 1)) ||
                       (c->veto >= 0 && o->verdict.vetoed != (c->veto == 1)) ||
                       (c->absorb >= 0 && o->verdict.absorb != (c->absorb == 1)) ||
                       (c->reauth >= 0 && o->reauth != (c->reauth == 1));
            if (bad) {
                char want[256];
                snprintf(want, sizeof want, "%s%s%s%s%s%s%s", layer_short((uint16_t)c->layer), c->action ? " " : "",
                         c->action ? action_word(c->action) : "", c->filter ? " by " : "", c->filter ? c->filter : "",
                         c->hard < 0 ? "" : c->hard ? " (hard)" : " (soft)", c->veto == 1 ? " veto" : "");
                if (c->reauth >= 0 && o->reauth != (c->reauth == 1))
                    strncat(want, c->reauth ? " reauth" : " not reauth", sizeof want - strlen(want) - 1);
                fail(r, "%s: %s call %zu: expected %s, observed %s", pos, what, k + 1, want, got);
            }
        }
        free(calls);
        outcome(ru, WFP_EXPECT_CLASSIFICATIONS, ec->node, before, msg_before, NULL, "classifications of %s", what);
    }
}

static const char *note_name(run *ru, const rnote *n)
{
    static const wfp_policy_kind kinds[] = {WFP_POLICY_PROVIDER, WFP_POLICY_SUBLAYER, WFP_POLICY_CALLOUT,
                                            WFP_POLICY_FILTER};
    if (n->change.object_type > WFP_OBJECT_FILTER) return NULL;
    return wfp_policy_name_of_key(ru->hosts[n->host].policy, kinds[n->change.object_type], &n->change.key);
}

static void check_notifications(run *ru)
{
    const wfps_expect *ex = &ru->sc->expect;
    wfp_scenario_result *r = ru->r;
    char pos[256];
    if (!ex->notifications) return;
    size_t n = ex->nnotes > ru->nnotes ? ex->nnotes : ru->nnotes;
    size_t list_before = r->fail_calls, list_msg = r->nfailures, checked = 0;
    bool list_failed = false;
    for (size_t i = 0; i < n; i++) {
        const wfps_expect_note *en = i < ex->nnotes ? &ex->notes[i] : NULL;
        const rnote *on = i < ru->nnotes ? &ru->notes[i] : NULL;
        size_t before = r->fail_calls, msg_before = r->nfailures;
        char got[256] = "nothing";
        if (on) {
            const char *nm = note_name(ru, on);
            snprintf(got, sizeof got, "%s %s %s%s%s", on->session, on->change.change_type == FWPM_CHANGE_ADD ? "add" : "delete",
                     wfp_object_type_name(on->change.object_type), nm ? " " : "", nm ? nm : "");
        }
        where(en ? en->node : ex->notifications, pos, sizeof pos);
        if (!en) {
            list_before = r->fail_calls;
            list_msg = r->nfailures;
            fail(r, "%s: notification %zu: expected no more, observed %s", pos, i + 1, got);
            list_failed = true;
            break;
        }
        bool bad = !on || strcmp(en->session, on->session) || en->change != on->change.change_type ||
                   en->object != on->change.object_type;
        if (!bad && en->name) {
            const char *nm = note_name(ru, on);
            bad = !nm || strcmp(nm, en->name);
        }
        if (bad) {
            fail(r, "%s: notification %zu: expected %s %s %s%s%s, observed %s", pos, i + 1, en->session,
                 en->change == FWPM_CHANGE_ADD ? "add" : "delete", wfp_object_type_name(en->object), en->name ? " " : "",
                 en->name ? en->name : "", got);
        }
        outcome(ru, WFP_EXPECT_NOTIFICATIONS, en->node, before, msg_before, NULL, "notification %zu", i + 1);
        checked = i + 1;
        if (bad && !on) break;
    }
    /* items after an unobserved one are not compared */
    for (size_t i = checked; i < ex->nnotes; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: notification %zu: not compared (observed only %zu notifications)",
                 where(ex->notes[i].node, pos, sizeof pos), i + 1, ru->nnotes);
        outcome(ru, WFP_EXPECT_NOTIFICATIONS, ex->notes[i].node, r->fail_calls, r->nfailures, msg, "notification %zu",
                i + 1);
    }
    outcome(ru, WFP_EXPECT_NOTIFICATIONS, ex->notifications, list_failed ? list_before : r->fail_calls,
            list_failed ? list_msg : r->nfailures, NULL, "notifications: no more than %zu", ex->nnotes);
}

static void check_net_events(run *ru)
{
    const wfps_expect *ex = &ru->sc->expect;
    wfp_scenario_result *r = ru->r;
    char pos[256];
    if (!ex->net_events) return;
    /* the whole log of every host, in recording order (collect_net_events) */
    const wfp_net_event_record *obs = r->events;
    size_t nobs = r->nevents;
    size_t oi = 0;
    for (size_t i = 0; i < ex->nevents; i++) {
        const wfps_expect_event *ee = &ex->events[i];
        size_t before = r->fail_calls, msg_before = r->nfailures;
        where(ee->node, pos, sizeof pos);
        bool found = false;
        for (; oi < nobs; oi++) {
            const wfp_net_event_record *o = &obs[oi];
            bool match = o->type == ee->type && (!ee->packet || o->packet == ee->packet) &&
                         (ee->layer < 0 || o->layer_id == ee->layer) &&
                         (!ee->filter || (o->filter_name && !strcmp(o->filter_name, ee->filter))) &&
                         (!ee->host || (o->host && !strcmp(o->host, ee->host)));
            if (match) {
                found = true;
                oi++;
                break;
            }
            if (!ex->net_events_subset) {
                fail(r, "%s: net event %zu: expected %s packet %" PRIu64 ", observed %s packet %" PRIu64 " at %s by %s", pos,
                     i + 1, wfp_net_event_type_name(ee->type), ee->packet, wfp_net_event_type_name(o->type), o->packet,
                     layer_short(o->layer_id), o->filter_name ? o->filter_name : "-");
                oi++;
                found = true;
                break;
            }
        }
        if (!found) fail(r, "%s: net event %zu: expected %s%s, observed no such event (%zu in the log)", pos, i + 1,
                         wfp_net_event_type_name(ee->type), ee->packet ? " for that packet" : "", nobs);
        outcome(ru, WFP_EXPECT_NET_EVENTS, ee->node, before, msg_before, NULL, "net event %zu", i + 1);
    }
    if (!ex->net_events_subset) {
        size_t before = r->fail_calls, msg_before = r->nfailures;
        if (oi < nobs)
            fail(r, "%s: expected %zu net events, observed %zu (the next: %s packet %" PRIu64 ")",
                 where(ex->net_events, pos, sizeof pos), ex->nevents, nobs, wfp_net_event_type_name(obs[oi].type),
                 obs[oi].packet);
        outcome(ru, WFP_EXPECT_NET_EVENTS, ex->net_events, before, msg_before, NULL, "net_events: no more than %zu",
                ex->nevents);
    }
}

static void check_rest(run *ru)
{
    const wfps_expect *ex = &ru->sc->expect;
    wfp_scenario_result *r = ru->r;
    char pos[256];
    check_notifications(ru);
    check_net_events(ru);
    for (size_t i = 0; i < ex->nstats; i++) {
        const wfps_expect_stat *es = &ex->stats[i];
        size_t before = r->fail_calls, msg_before = r->nfailures;
        if (r->stats[es->id] != es->value)
            fail(r, "%s: stats.%s: expected %" PRIu64 ", observed %" PRIu64, where(es->node, pos, sizeof pos), es->name,
                 es->value, r->stats[es->id]);
        outcome(ru, WFP_EXPECT_STATS, es->node, before, msg_before, NULL, "stats.%s", es->name);
    }
    if (ex->has_flows) {
        size_t before = r->fail_calls, msg_before = r->nfailures;
        if (r->flows_live != ex->flows)
            fail(r, "expect.flows: expected %" PRIu64 " live flows at the end, observed %" PRIu64, ex->flows,
                 r->flows_live);
        const wfp_yaml_node *expect = wfp_yaml_map_get(wfp_yaml_doc_root(ru->sc->doc), "expect");
        outcome(ru, WFP_EXPECT_FLOWS, wfp_yaml_map_get(expect, "flows"), before, msg_before, NULL, "flows");
    }
}

/* What the run saw (net events, notifications), then `expect:`. */
static void finish(run *ru)
{
    collect_net_events(ru);
    collect_notifications(ru);
    check_packets(ru);
    check_classifications(ru);
    check_rest(ru);
}

wfp_scenario_result *wfp_scenario_run(const wfp_scenario *sc, const wfp_run_options *opt)
{
    wfp_scenario_result *r = calloc(1, sizeof *r);
    run ru;
    wfp_yaml_errors err;
    if (!r) return NULL;
    memset(&ru, 0, sizeof ru);
    ru.sc = sc;
    ru.opt = opt;
    ru.r = r;
    wfp_yaml_errors_init(&err);
    if (!setup(&ru, &err)) {
        set_error(r, "%s", wfp_yaml_errors_first(&err) ? wfp_yaml_errors_first(&err) : "setup failed");
    } else if (simulate(&ru)) {
        finish(&ru);
    } else if (!r->error) {
        set_error(r, "out of memory");
    }
    wfp_yaml_errors_clear(&err);
    teardown(&ru);
    r->passed = !r->error && r->nfailures == 0;
    return r;
}

bool wfp_scenario_check(const wfp_scenario *sc, wfp_yaml_errors *err)
{
    run ru;
    wfp_scenario_result *r = calloc(1, sizeof *r);
    bool ok;
    if (!r) return wfp_yaml_error(err, NULL, "out of memory");
    memset(&ru, 0, sizeof ru);
    ru.sc = sc;
    ru.r = r;
    ok = setup(&ru, err);
    /* add_* step bodies parse against the names known at their time: the
     * policy's and those of earlier add steps (added here through a kernel
     * session, errors ignored: only the form is checked) */
    wfp_session *scratch = NULL;
    for (size_t i = 0; ok && i < sc->nsteps; i++) {
        const wfps_step *st = &sc->steps[i];
        if (st->op < WFPS_OP_ADD_PROVIDER || st->op > WFPS_OP_ADD_FILTER) continue;
        static const wfp_policy_kind kinds[] = {WFP_POLICY_PROVIDER, WFP_POLICY_SUBLAYER, WFP_POLICY_CALLOUT,
                                                WFP_POLICY_FILTER};
        int h = step_host(&ru, st);
        wfp_policy_object *o = NULL;
        char what[64];
        snprintf(what, sizeof what, "step %zu", i + 1);
        ok = wfp_policy_object_parse(ru.hosts[h].policy, kinds[st->op - WFPS_OP_ADD_PROVIDER], st->body, what, &o, err);
        if (ok) {
            wfp_session_desc d;
            memset(&d, 0, sizeof d);
            d.kernel_mode = true;
            wfp_session_close(scratch);
            scratch = NULL;
            if (wfp_session_open(wfp_host_engine(ru.hosts[h].host), &d, &scratch) == 0)
                (void)wfp_policy_object_add(ru.hosts[h].policy, scratch, o);
        }
        wfp_policy_object_free(o);
    }
    wfp_session_close(scratch);
    for (size_t i = 0; ok && i < sc->nsteps; i++) {
        const wfps_step *st = &sc->steps[i];
        wfps_tmpl t;
        if (!st->tmpl) continue;
        ok = parse_step_tmpl(&ru, st, step_host(&ru, st), &t, err);
        wfps_tmpl_free(&t);
    }
    for (size_t i = 0; ok && i < sc->ntraffic; i++) {
        const wfps_traffic *t = &sc->traffic[i];
        if (!t->is_pcap) continue;
        char msg[512];
        wfp_capture *c = wfp_capture_open(t->pcap_path, msg, sizeof msg);
        if (!c) ok = wfp_yaml_error(err, t->node, "%s", msg);
        wfp_capture_close(c);
    }
    teardown(&ru);
    wfp_scenario_result_free(r);
    return ok;
}

/* ---- keeping the hosts for inspection (wfpsim graph) --------------------- */

struct wfp_scenario_state {
    size_t n;
    char **names;
    wfp_host **hosts;
    wfp_policy **policies;
};

typedef struct keep_ctx {
    run *ru;
    wfp_scenario_observer fn;
    void *ctx;
} keep_ctx;

static void keep_observe(void *ctx, const wfp_host *h, uint64_t now, const wfp_packet *p,
                         const wfp_classify_request *req, const wfp_verdict *v, const wfp_trace *t)
{
    keep_ctx *k = ctx;
    for (size_t i = 0; i < k->ru->sc->nhosts; i++) {
        rhost *rh = &k->ru->hosts[i];
        if (rh->host != h) continue;
        k->fn(k->ctx, k->ru->sc->hosts[i].name, k->ru->current_packet, wfp_host_engine(rh->host), rh->policy,
              wfp_host_current_call(h), req, v, t);
        return;
    }
}

wfp_scenario_state *wfp_scenario_run_keep(const wfp_scenario *sc, const wfp_run_options *opt,
                                          wfp_scenario_observer observe, void *ctx,
                                          wfp_scenario_result **result)
{
    wfp_scenario_result *r = calloc(1, sizeof *r);
    wfp_scenario_state *st = calloc(1, sizeof *st);
    size_t nh = sc->nhosts ? sc->nhosts : 1;
    run ru;
    wfp_yaml_errors err;
    keep_ctx k;
    bool ok;
    *result = NULL;
    if (st) {
        st->names = calloc(nh, sizeof *st->names);
        st->hosts = calloc(nh, sizeof *st->hosts);
        st->policies = calloc(nh, sizeof *st->policies);
    }
    if (!r || !st || !st->names || !st->hosts || !st->policies) {
        free(r);
        wfp_scenario_state_free(st);
        return NULL;
    }
    memset(&ru, 0, sizeof ru);
    ru.sc = sc;
    ru.opt = opt;
    ru.r = r;
    k.ru = &ru;
    k.fn = observe;
    k.ctx = ctx;
    wfp_yaml_errors_init(&err);
    ok = setup(&ru, &err);
    if (!ok) {
        set_error(r, "%s", wfp_yaml_errors_first(&err) ? wfp_yaml_errors_first(&err) : "setup failed");
    } else {
        for (size_t i = 0; observe && i < sc->nhosts; i++) wfp_host_set_observer(ru.hosts[i].host, keep_observe, &k);
        if (simulate(&ru)) {
            finish(&ru);
        } else if (!r->error) {
            set_error(r, "out of memory");
        }
        close_handles(&ru);
        for (size_t i = 0; i < sc->nhosts; i++) {
            wfp_host_set_observer(ru.hosts[i].host, NULL, NULL);
            st->names[i] = wfps_strdup(sc->hosts[i].name);
            st->hosts[i] = ru.hosts[i].host;
            st->policies[i] = ru.hosts[i].policy;
            ru.hosts[i].host = NULL;
            ru.hosts[i].policy = NULL;
            st->n++;
        }
    }
    wfp_yaml_errors_clear(&err);
    teardown(&ru);
    r->passed = !r->error && r->nfailures == 0;
    *result = r;
    if (!ok) {
        wfp_scenario_state_free(st);
        return NULL;
    }
    return st;
}

static int state_host(const wfp_scenario_state *st, const char *host)
{
    if (!st || !st->n) return -1;
    if (!host) return 0;
    for (size_t i = 0; i < st->n; i++)
        if (st->names[i] && !strcmp(st->names[i], host)) return (int)i;
    return -1;
}

wfp_engine *wfp_scenario_state_engine(wfp_scenario_state *st, const char *host)
{
    int i = state_host(st, host);
    return i < 0 ? NULL : wfp_host_engine(st->hosts[i]);
}

struct wfp_policy *wfp_scenario_state_policy(wfp_scenario_state *st, const char *host)
{
    int i = state_host(st, host);
    return i < 0 ? NULL : st->policies[i];
}

void wfp_scenario_state_free(wfp_scenario_state *st)
{
    if (!st) return;
    /* the engines call back into the policies: hosts (and engines) go first */
    for (size_t i = 0; i < st->n; i++) wfp_host_destroy(st->hosts[i]);
    for (size_t i = 0; i < st->n; i++) wfp_policy_destroy(st->policies[i]);
    for (size_t i = 0; i < st->n; i++) free(st->names[i]);
    free(st->names);
    free(st->hosts);
    free(st->policies);
    free(st);
}
