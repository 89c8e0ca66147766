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
#include "wfp_capture.h"

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
};

static void fail(wfp_scenario_result *r, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
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

void wfp_scenario_result_free(wfp_scenario_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nfailures; i++) free(r->failures[i]);
    free(r->failures);
    for (size_t i = 0; i < r->npackets; i++) {
        for (size_t k = 0; k < r->packets[i].ncalls; k++) {
            free((void *)r->packets[i].calls[k].sublayers);
            free((void *)r->packets[i].calls[k].filter_name);
        }
        free(r->packets[i].calls);
        free(r->packets[i].filter_name);
        free((void *)r->packets[i].pub.drop_reason);
    }
    free(r->packets);
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

/* ---- run state ---------------------------------------------------------- */

typedef struct rhost {
    wfp_host *host;
    wfp_policy *policy;
    wfp_session *def;
} rhost;

typedef struct rsession {
    int host;
    wfp_session *s; /* NULL once closed */
} rsession;

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
    size_t record;
    size_t len;
    uint32_t linktype;
    uint8_t *bytes;
} delivery;

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
} run;

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
        wfp_engine_config ecfg = {NULL, sc->engine.or_mode};
        wfp_session_desc d = {0};
        cfg.engine = &ecfg;
        h->host = wfp_host_create(&cfg, msg, sizeof msg);
        if (!h->host)
            return wfp_yaml_error(err, sc->hosts[i].node, "host '%s': %s", sc->hosts[i].name, msg);
        h->policy = wfp_policy_create();
        if (!h->policy) return wfp_yaml_error(err, NULL, "out of memory");
        d.name = "default";
        d.admin = true;
        d.user_sid = "S-1-5-18";
        uint32_t rc = wfp_session_open(wfp_host_engine(h->host), &d, &h->def);
        if (rc) return wfp_yaml_error(err, NULL, "cannot open the default session: %s", wfp_result_name(rc));
        if (sc->hosts[i].policy && !wfp_policy_apply(h->policy, h->def, sc->hosts[i].policy, err)) return false;
    }
    for (size_t i = 0; i < sc->nsessions; i++) {
        const wfps_session *s = &sc->sessions[i];
        wfp_session_desc d = {0};
        int h = session_host(ru, s);
        d.name = s->name;
        d.user_sid = s->user;
        d.admin = s->admin;
        d.kernel_mode = s->kernel;
        d.flags = s->dynamic ? FWPM_SESSION_FLAG_DYNAMIC : 0;
        ru->sessions[i].host = h;
        uint32_t rc = wfp_session_open(wfp_host_engine(ru->hosts[h].host), &d, &ru->sessions[i].s);
        if (rc)
            return wfp_yaml_error(err, s->node, "cannot open session '%s': %s (%s)", s->name, wfp_result_name(rc),
                                  wfp_engine_last_error(wfp_host_engine(ru->hosts[h].host)));
    }
    return true;
}

static void teardown(run *ru)
{
    const wfps_scenario *sc = ru->sc;
    if (ru->sources) {
        for (size_t i = 0; i < sc->ntraffic; i++) wfp_capture_close(ru->sources[i].cap);
        free(ru->sources);
    }
    for (size_t i = 0; i < ru->ndeliveries; i++) free(ru->deliveries[i].bytes);
    free(ru->deliveries);
    if (ru->hosts) {
        /* the engines call back into the policies: hosts (and engines) go first */
        for (size_t i = 0; i < sc->nhosts; i++) wfp_host_destroy(ru->hosts[i].host);
        for (size_t i = 0; i < sc->nhosts; i++) wfp_policy_destroy(ru->hosts[i].policy);
        free(ru->hosts);
    }
    free(ru->sessions);
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

static wfp_session *step_session(const run *ru, const wfps_step *st, int h)
{
    if (!strcmp(st->session, "default")) return ru->hosts[h].def;
    for (size_t i = 0; i < ru->sc->nsessions; i++)
        if (!strcmp(ru->sc->sessions[i].name, st->session)) return ru->sessions[i].s;
    return NULL;
}

static const char *code_name(uint32_t code, char *buf, size_t n)
{
    const char *name = wfp_result_name(code);
    if (name) return name;
    snprintf(buf, n, "0x%08" PRIX32, code);
    return buf;
}

/* Runs one step; false when the scenario cannot go on. */
static bool do_step(run *ru, const wfps_step *st, size_t number)
{
    int h = step_host(ru, st);
    rhost *rh = &ru->hosts[h];
    wfp_engine *e = wfp_host_engine(rh->host);
    wfp_session *s = step_session(ru, st, h);
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
    case WFPS_OP_CLOSE_SESSION:
        if (!strcmp(st->session, "default")) {
            set_error(ru->r, "%s:%u:%u: step %zu: the default session cannot be closed", st->node->file,
                      st->node->line, st->node->column, number);
            return false;
        }
        for (size_t i = 0; i < ru->sc->nsessions; i++)
            if (!strcmp(ru->sc->sessions[i].name, st->session)) {
                wfp_session_close(ru->sessions[i].s);
                ru->sessions[i].s = NULL;
            }
        changed = true;
        break;
    default:
        /* transactions, subscriptions, net events and reboots need the BFE
         * layer (sessions with transactions, notifications, net events):
         * not simulated yet, and a scenario that relies on them must not
         * pass by accident. */
        set_error(ru->r, "%s:%u:%u: step %zu: op '%s' is not simulated yet", st->node->file, st->node->line,
                  st->node->column, number, op);
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
static bool record_outcome(run *ru, int h, rpacket *p, const wfp_packet_outcome *out)
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
        cr->verdict = c->verdict;
        cr->filter_name = filter_name(ru, h, c->verdict.filter_id);
        if (ru->opt && ru->opt->trace && c->num_sublayers) {
            wfp_trace_sublayer *subs = malloc(c->num_sublayers * sizeof *subs);
            if (!subs) return false;
            memcpy(subs, out->sublayers + c->first_sublayer, c->num_sublayers * sizeof *subs);
            cr->sublayers = subs;
            cr->nsublayers = c->num_sublayers;
        }
        ru->r->stats[STAT_classify_calls]++;
        if (c->verdict.vetoed) ru->r->stats[STAT_vetoes]++;
        if (c->reauth) ru->r->stats[STAT_reauthorizations]++;
    }
    p->pub.calls = p->calls;
    p->pub.ncalls = p->ncalls;
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
    if (ru->ndeliveries == ru->deliveries_cap) {
        size_t ncap = ru->deliveries_cap ? ru->deliveries_cap * 2 : 16;
        delivery *nd = realloc(ru->deliveries, ncap * sizeof *nd);
        if (!nd) return false;
        ru->deliveries = nd;
        ru->deliveries_cap = ncap;
    }
    delivery *d = &ru->deliveries[ru->ndeliveries++];
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
    wfp_packet_outcome out;
    uint32_t rc = wfp_host_packet(ru->hosts[src].host, (uint64_t)ru->now, p, &out);
    if (!record_outcome(ru, src, rec, &out)) return false;
    if (rc) {
        set_error(ru->r, "packet %" PRIu64 " at host '%s': %s (%s)", rec->pub.number, sc->hosts[src].name,
                  wfp_result_name(rc) ? wfp_result_name(rc) : "error",
                  wfp_engine_last_error(wfp_host_engine(ru->hosts[src].host)));
        return false;
    }
    if (dst >= 0 && out.permitted) return schedule_delivery(ru, dst, ru->r->npackets - 1, p);
    count_fate(ru, rec);
    return true;
}

static bool deliver(run *ru, delivery *d)
{
    wfp_packet p;
    wfp_packet_parse(d->linktype, d->bytes, (uint32_t)d->len, (uint32_t)d->len, (uint64_t)ru->now, &p);
    rpacket *rec = &ru->r->packets[d->record];
    wfp_packet_outcome out;
    uint32_t rc = wfp_host_packet(ru->hosts[d->host].host, (uint64_t)ru->now, &p, &out);
    if (!record_outcome(ru, d->host, rec, &out)) return false;
    if (rc) {
        set_error(ru->r, "packet %" PRIu64 " at host '%s': %s", rec->pub.number, ru->sc->hosts[d->host].name,
                  wfp_engine_last_error(wfp_host_engine(ru->hosts[d->host].host)));
        return false;
    }
    count_fate(ru, rec);
    return true;
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

    for (size_t h = 0; h < sc->nhosts; h++) {
        wfp_packet_outcome out;
        uint32_t rc = wfp_host_start(ru->hosts[h].host, 0, &out);
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
        /* the earliest of: next step, next delivery, next traffic packet */
        int kind = -1; /* 0 step, 1 delivery, 2 packet */
        int64_t at = 0;
        size_t which = 0;
        if (next_step < sc->nsteps) {
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
        if (kind < 0) break;
        ru->now = at;
        if (kind == 0) {
            const wfps_step *st = steps[next_step++];
            if (!do_step(ru, st, st->index + 1)) {
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

static void check_packets(run *ru)
{
    const wfps_expect *ex = &ru->sc->expect;
    wfp_scenario_result *r = ru->r;
    char pos[256];
    for (size_t i = 0; i < ex->npackets; i++) {
        const wfps_expect_packet *ep = &ex->packets[i];
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
        }
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
        const rpacket *p = find_packet(r, ec->packet);
        where(ec->node, pos, sizeof pos);
        if (!p) {
            fail(r, "%s: packet %" PRIu64 ": expected %zu classify calls, observed no such packet", pos, ec->packet,
                 ec->ncalls);
            continue;
        }
        size_t n = ec->ncalls > p->ncalls ? ec->ncalls : p->ncalls;
        for (size_t k = 0; k < n; k++) {
            const wfps_expect_call *c = k < ec->ncalls ? &ec->calls[k] : NULL;
            const wfp_call_record *o = k < p->ncalls ? &p->calls[k] : NULL;
            if (o) describe_call(o, got, sizeof got);
            if (c) where(c->node, pos, sizeof pos);
            if (!o) {
                fail(r, "%s: packet %" PRIu64 " call %zu: expected %s, observed no more calls (%zu in all)", pos,
                     ec->packet, k + 1, layer_short((uint16_t)c->layer), p->ncalls);
                break;
            }
            if (!c) {
                fail(r, "%s: packet %" PRIu64 ": expected %zu calls, observed more: call %zu was %s", pos, ec->packet,
                     ec->ncalls, k + 1, got);
                break;
            }
            bool bad = o->layer_id != c->layer || (c->action && o->verdict.action != c->action) ||
                       (c->filter && !name_matches(c->filter, o->filter_name)) ||
                       (c->hard >= 0 && o->verdict.hard != (c->hard == 1)) ||
                       (c->veto >= 0 && o->verdict.vetoed != (c->veto == 1)) ||
                       (c->absorb >= 0 && o->verdict.absorb != (c->absorb == 1));
            if (bad) {
                char want[256];
                snprintf(want, sizeof want, "%s%s%s%s%s%s%s", layer_short((uint16_t)c->layer), c->action ? " " : "",
                         c->action ? action_word(c->action) : "", c->filter ? " by " : "", c->filter ? c->filter : "",
                         c->hard < 0 ? "" : c->hard ? " (hard)" : " (soft)", c->veto == 1 ? " veto" : "");
                fail(r, "%s: packet %" PRIu64 " call %zu: expected %s, observed %s", pos, ec->packet, k + 1, want, got);
            }
        }
    }
}

static void check_rest(run *ru)
{
    const wfps_expect *ex = &ru->sc->expect;
    wfp_scenario_result *r = ru->r;
    char pos[256];
    if (ex->net_events) {
        where(ex->net_events, pos, sizeof pos);
        fail(r, "%s: net events are not simulated yet: expectations on them cannot be checked", pos);
    }
    if (ex->notifications) {
        where(ex->notifications, pos, sizeof pos);
        fail(r, "%s: change notifications are not simulated yet: expectations on them cannot be checked", pos);
    }
    for (size_t i = 0; i < ex->nstats; i++) {
        const wfps_expect_stat *es = &ex->stats[i];
        if (r->stats[es->id] != es->value)
            fail(r, "%s: stats.%s: expected %" PRIu64 ", observed %" PRIu64, where(es->node, pos, sizeof pos), es->name,
                 es->value, r->stats[es->id]);
    }
    if (ex->has_flows && r->flows_live != ex->flows)
        fail(r, "expect.flows: expected %" PRIu64 " live flows at the end, observed %" PRIu64, ex->flows, r->flows_live);
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
        check_packets(&ru);
        check_classifications(&ru);
        check_rest(&ru);
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
    /* add_* step bodies parse against the policy's names */
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
        wfp_policy_object_free(o);
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
