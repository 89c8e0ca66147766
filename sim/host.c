/* host.c — a simulated Windows host: configuration, interfaces, processes,
 * bound endpoints, statistics, the observer, and the one place the shims
 * call the filter engine (wfpi_classify), which builds the incoming values
 * for the exact layer classified from its schema in the catalogue.
 *
 * Sim-defined choices (interface LUIDs, the System process, tokens, the
 * loopback pseudo-interface index…) are listed in docs/drafts/sim-host.md. */
#include "host_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_FLOW_TIMEOUT_NS (60ull * 1000000000ull)
#define COMPARTMENT_DEFAULT 1u
#define PROFILE_PUBLIC 1u

static void seterr(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (!err || !n)
        return;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static char *dupstr(const wfp_allocator *a, const char *s)
{
    size_t n;
    char *d;
    if (!s)
        s = "";
    n = strlen(s) + 1;
    d = a->alloc(a->ctx, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- addresses ---------------------------------------------------------- */

static bool parse_addr(const char *s, uint8_t *ver, uint8_t out[16])
{
    uint8_t v;
    memset(out, 0, 16);
    if (!wfp_ip_address_parse(s, out, &v))
        return false;
    *ver = v == 4 ? FWP_IP_VERSION_V4 : FWP_IP_VERSION_V6;
    return true;
}

bool wfpi_addr_is_loopback(uint8_t ver, const uint8_t *a)
{
    static const uint8_t v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (ver == FWP_IP_VERSION_V4)
        return a[0] == 127;
    return memcmp(a, v6lo, 16) == 0;
}

uint8_t wfpi_addr_type(uint8_t ver, const uint8_t *a)
{
    if (ver == FWP_IP_VERSION_V4) {
        if (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0)
            return WFPI_NLAT_UNSPECIFIED;
        if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
            return WFPI_NLAT_BROADCAST;
        if ((a[0] & 0xf0) == 0xe0)
            return WFPI_NLAT_MULTICAST;
        return WFPI_NLAT_UNICAST;
    }
    if (a[0] == 0xff)
        return WFPI_NLAT_MULTICAST;
    for (int i = 0; i < 16; i++)
        if (a[i])
            return WFPI_NLAT_UNICAST;
    return WFPI_NLAT_UNSPECIFIED;
}

bool wfpi_host_is_local(const wfp_host *h, uint8_t ver, const uint8_t *addr)
{
    if (wfpi_addr_is_loopback(ver, addr))
        return true;
    for (size_t i = 0; i < h->naddrs; i++)
        if (h->addrs[i].ver == ver && memcmp(h->addrs[i].a, addr, ver == FWP_IP_VERSION_V4 ? 4 : 16) == 0)
            return true;
    return false;
}

bool wfp_host_is_local_v4(const wfp_host *h, uint32_t addr)
{
    uint8_t a[16] = {(uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr};
    return wfpi_host_is_local(h, FWP_IP_VERSION_V4, a);
}

bool wfp_host_is_local_v6(const wfp_host *h, const uint8_t addr[16])
{
    return wfpi_host_is_local(h, FWP_IP_VERSION_V6, addr);
}

const host_if *wfpi_host_loopback_if(const wfp_host *h)
{
    return &h->ifs[h->nifs - 1];
}

const host_if *wfpi_host_if_for(const wfp_host *h, uint8_t ver, const uint8_t *addr)
{
    if (wfpi_addr_is_loopback(ver, addr))
        return wfpi_host_loopback_if(h);
    for (size_t i = 0; i < h->naddrs; i++)
        if (h->addrs[i].ver == ver && memcmp(h->addrs[i].a, addr, ver == FWP_IP_VERSION_V4 ? 4 : 16) == 0)
            return &h->ifs[h->addrs[i].ifpos];
    return &h->ifs[0]; /* sim-defined: traffic for no local address uses the first interface */
}

/* ---- processes and endpoints --------------------------------------------- */

const host_proc *wfpi_host_proc(const wfp_host *h, uint32_t proc)
{
    return proc < h->nprocs ? &h->procs[proc] : &h->system;
}

static bool sock_proto_matches(uint8_t sock_proto, uint8_t proto)
{
    if (sock_proto == WFP_SOCK_ANY)
        return true;
    if (sock_proto == WFP_SOCK_ICMP)
        return proto == WFP_IPPROTO_ICMP || proto == WFP_IPPROTO_ICMPV6;
    return sock_proto == proto;
}

/* The process whose socket config covers (proto, port); listeners first
 * when want_listen, else non-listeners first. UINT32_MAX: System. */
const host_sock *wfpi_host_socket_of(const wfp_host *h, uint8_t proto, uint16_t port, bool want_listen)
{
    bool ports = proto == WFP_IPPROTO_TCP || proto == WFP_IPPROTO_UDP;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < h->nsocks; i++) {
            const host_sock *s = &h->socks[i];
            bool pref = pass == 0 ? s->listen == want_listen : s->listen != want_listen;
            if (!pref || !sock_proto_matches(s->proto, proto))
                continue;
            if (ports && !(s->lo == 0 && s->hi == 0) && (port < s->lo || port > s->hi))
                continue;
            return s;
        }
    }
    return NULL;
}

uint32_t wfpi_host_owner(const wfp_host *h, uint8_t proto, uint16_t port, bool want_listen)
{
    const host_sock *s = wfpi_host_socket_of(h, proto, port, want_listen);
    return s ? s->proc : UINT32_MAX;
}

host_ep *wfpi_host_ep_find(wfp_host *h, uint8_t proto, uint8_t ver, const uint8_t *addr,
                           uint16_t port, bool listen_only)
{
    host_ep *wild = NULL;
    for (size_t i = 0; i < h->neps; i++) {
        host_ep *e = &h->eps[i];
        if (e->proto != proto || e->ver != ver || e->port != port)
            continue;
        if (listen_only && !e->listen)
            continue;
        if (!e->has_addr) {
            if (!wild)
                wild = e;
            continue;
        }
        if (addr && memcmp(e->addr, addr, ver == FWP_IP_VERSION_V4 ? 4 : 16) == 0)
            return e; /* a specific bind wins over a wildcard one */
    }
    return wild;
}

bool wfpi_host_ep_add(wfp_host *h, const host_ep *ep)
{
    if (h->neps == h->capeps) {
        size_t cap = h->capeps ? h->capeps * 2 : 16;
        host_ep *n = h->a->realloc(h->a->ctx, h->eps, cap * sizeof *n);
        if (!n)
            return false;
        h->eps = n;
        h->capeps = cap;
    }
    h->eps[h->neps++] = *ep;
    return true;
}

/* Token: the user's SID, Everyone, Authenticated Users, and BUILTIN\
 * Administrators for SYSTEM or BUILTIN\Users otherwise (sim-defined). */
static bool build_token(const wfp_allocator *a, const char *user, uint8_t **tok, uint32_t *len)
{
    const char *sids[4];
    uint8_t bin[WFP_SID_MAX];
    uint32_t binlen;
    if (!user)
        user = "S-1-5-18";
    if (!wfp_sid_parse(user, bin, &binlen))
        return false;
    sids[0] = user;
    sids[1] = "S-1-1-0";
    sids[2] = "S-1-5-11";
    sids[3] = strcmp(user, "S-1-5-18") == 0 || strcmp(user, "SY") == 0 ? "S-1-5-32-544" : "S-1-5-32-545";
    return wfp_token_build(a, sids, 4, tok, len);
}

static bool init_proc(const wfp_allocator *a, host_proc *p, const char *name, const char *app,
                      const char *user, uint64_t pid, char *err, size_t errlen)
{
    p->name = dupstr(a, name);
    p->pid = pid;
    if (!p->name) {
        seterr(err, errlen, "out of memory");
        return false;
    }
    if (app && !wfp_app_id_from_path(a, app, NULL, &p->app_id, &p->app_len)) {
        seterr(err, errlen, "process %s: bad application path '%s'", p->name, app);
        return false;
    }
    if (!build_token(a, user, &p->token, &p->token_len)) {
        seterr(err, errlen, "process %s: bad user SID '%s'", p->name, user ? user : "");
        return false;
    }
    return true;
}

static void free_proc(const wfp_allocator *a, host_proc *p)
{
    a->free(a->ctx, p->name);
    a->free(a->ctx, p->app_id);
    a->free(a->ctx, p->token);
}

/* ---- field semantics ------------------------------------------------------ */

static bool build_semantics(wfp_host *h, char *err, size_t errlen)
{
    static const char *const names[SEM_COUNT_] = {
        NULL,
#define X(id, name) name,
        WFPI_SEMANTICS(X)
#undef X
    };
    wfp_guid keys[SEM_COUNT_];
    for (int s = 1; s < SEM_COUNT_; s++) {
        const wfp_condition_info *ci = wfp_catalog_condition_by_name(names[s]);
        if (!ci) {
            seterr(err, errlen, "catalogue has no condition %s", names[s]);
            return false;
        }
        keys[s] = ci->key;
    }
    h->nlayers = wfp_catalog_layer_count();
    h->sem = h->a->alloc(h->a->ctx, h->nlayers * sizeof *h->sem);
    h->layer_calls = h->a->alloc(h->a->ctx, h->nlayers * sizeof *h->layer_calls);
    if (!h->sem || !h->layer_calls) {
        seterr(err, errlen, "out of memory");
        return false;
    }
    memset(h->sem, 0, h->nlayers * sizeof *h->sem);
    memset(h->layer_calls, 0, h->nlayers * sizeof *h->layer_calls);
    for (size_t l = 0; l < h->nlayers; l++) {
        const wfp_layer_info *li = wfp_catalog_layer_by_id((uint16_t)l);
        if (!li || !li->num_fields)
            continue;
        h->sem[l] = h->a->alloc(h->a->ctx, li->num_fields);
        if (!h->sem[l]) {
            seterr(err, errlen, "out of memory");
            return false;
        }
        for (uint16_t f = 0; f < li->num_fields; f++) {
            h->sem[l][f] = SEM_NONE;
            for (int s = 1; s < SEM_COUNT_; s++)
                if (wfp_guid_eq(&li->fields[f].condition->key, &keys[s])) {
                    h->sem[l][f] = (uint8_t)s;
                    break;
                }
        }
    }
    return true;
}

/* ---- creation ------------------------------------------------------------ */

static bool add_addr(wfp_host *h, const char *s, uint32_t ifpos, char *err, size_t errlen)
{
    host_addr ha;
    memset(&ha, 0, sizeof ha);
    if (!parse_addr(s, &ha.ver, ha.a)) {
        seterr(err, errlen, "bad address '%s'", s ? s : "");
        return false;
    }
    ha.ifpos = ifpos;
    for (size_t i = 0; i < h->naddrs; i++)
        if (h->addrs[i].ver == ha.ver && memcmp(h->addrs[i].a, ha.a, 16) == 0)
            return true; /* listed twice (host and interface): first wins */
    h->addrs[h->naddrs++] = ha;
    return true;
}

static uint64_t if_luid(uint32_t type, uint32_t index)
{
    /* NET_LUID: IfType in bits 48..63, NetLuidIndex in bits 24..47
     * (sim-defined: NetLuidIndex = the interface index). */
    return ((uint64_t)(type & 0xffff) << 48) | ((uint64_t)(index & 0xffffff) << 24);
}

static uint32_t silent_drop_notify(void *ctx, uint32_t type, const wfp_guid *key, const wfp_fwps_filter *f)
{
    (void)ctx;
    (void)type;
    (void)key;
    (void)f;
    return 0;
}

/* FWPM_CALLOUT_WFP_TRANSPORT_LAYER_V{4,6}_SILENT_DROP (spec §11.4, §11.7):
 * drop silently what reaches INBOUND_TRANSPORT_DISCARD, which suppresses
 * the RST for a SYN with no listener. A hard block. */
static void silent_drop_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                                 void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                                 wfp_classify_out *out)
{
    (void)ctx;
    (void)in;
    (void)meta;
    (void)layer_data;
    (void)filter;
    (void)flow_context;
    out->action_type = FWP_ACTION_BLOCK;
    out->rights &= ~FWPS_RIGHT_ACTION_WRITE;
}

void wfpi_register_builtin_callouts(wfp_host *h, char *err, size_t errlen, bool *ok)
{
    static const char *const names[] = {"WFP_TRANSPORT_LAYER_V4_SILENT_DROP",
                                        "WFP_TRANSPORT_LAYER_V6_SILENT_DROP"};
    *ok = true;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const wfp_builtin_callout *bc = wfp_catalog_callout_by_name(names[i]);
        wfp_callout_registration r;
        uint32_t id = 0, rc;
        if (!bc) {
            seterr(err, errlen, "catalogue has no callout %s", names[i]);
            *ok = false;
            return;
        }
        memset(&r, 0, sizeof r);
        r.callout_key = bc->key;
        r.classify = silent_drop_classify;
        r.notify = silent_drop_notify;
        rc = wfp_callout_register(h->engine, &r, &id);
        if (rc != 0) {
            seterr(err, errlen, "registering %s: 0x%08x", names[i], rc);
            *ok = false;
            return;
        }
    }
}

/* wfp_flow_context_ops.get: the context the classify's flow holds for
 * (layer, callout). */
static bool flow_context_get(void *ctx, uint16_t layer_id, uint32_t callout_id, uint64_t *flow_context)
{
    const wfp_host *h = ctx;
    const host_flow *f = h->ctx_flow;
    if (!f)
        return false;
    for (uint32_t i = 0; i < f->nctx; i++)
        if (f->ctxs[i].layer == layer_id && f->ctxs[i].callout == callout_id) {
            *flow_context = f->ctxs[i].context;
            return true;
        }
    return false;
}

wfp_host *wfp_host_create(const wfp_host_config *cfg, char *err, size_t errlen)
{
    const wfp_allocator *a;
    wfp_host *h;
    size_t naddr_total, nsocks = 0;
    wfp_engine_config ec;
    bool ok;
    if (!cfg) {
        seterr(err, errlen, "no host configuration");
        return NULL;
    }
    a = cfg->allocator ? cfg->allocator : wfp_allocator_default();
    h = a->alloc(a->ctx, sizeof *h);
    if (!h) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    memset(h, 0, sizeof *h);
    h->a = a;
    h->udp_timeout = cfg->udp_flow_timeout_ns ? cfg->udp_flow_timeout_ns : DEFAULT_FLOW_TIMEOUT_NS;
    h->icmp_timeout = cfg->icmp_flow_timeout_ns ? cfg->icmp_flow_timeout_ns : DEFAULT_FLOW_TIMEOUT_NS;
    h->adopt_midstream = cfg->adopt_midstream_tcp;
    h->closure_events = cfg->closure_events;
    h->forwarding = cfg->forwarding;
    h->name = dupstr(a, cfg->name ? cfg->name : "host");
    if (!h->name)
        goto oom;

    if (cfg->engine)
        ec = *cfg->engine;
    else
        memset(&ec, 0, sizeof ec);
    if (!ec.allocator)
        ec.allocator = cfg->allocator;
    h->engine = wfp_engine_create(&ec);
    h->trace = wfp_trace_create(a);
    if (!h->engine || !h->trace)
        goto oom;

    /* interfaces: configured (or one default ethernet), then loopback */
    h->nifs = (cfg->num_interfaces ? cfg->num_interfaces : 1) + 1;
    h->ifs = a->alloc(a->ctx, h->nifs * sizeof *h->ifs);
    if (!h->ifs)
        goto oom;
    memset(h->ifs, 0, h->nifs * sizeof *h->ifs);
    naddr_total = cfg->num_addresses;
    for (size_t i = 0; i < cfg->num_interfaces; i++)
        naddr_total += cfg->interfaces[i].num_addresses;
    h->addrs = a->alloc(a->ctx, (naddr_total + 1) * sizeof *h->addrs);
    if (!h->addrs)
        goto oom;
    if (cfg->num_interfaces == 0) {
        host_if *i0 = &h->ifs[0];
        i0->name = dupstr(a, "eth0");
        if (!i0->name)
            goto oom;
        i0->index = 1;
        i0->type = WFP_IF_TYPE_ETHERNET;
        i0->profile = PROFILE_PUBLIC;
    }
    for (size_t i = 0; i < cfg->num_interfaces; i++) {
        const wfp_host_interface_config *ic = &cfg->interfaces[i];
        host_if *hi = &h->ifs[i];
        hi->name = dupstr(a, ic->name ? ic->name : "");
        if (!hi->name)
            goto oom;
        hi->index = ic->index ? ic->index : (uint32_t)i + 1;
        hi->type = ic->type ? ic->type : WFP_IF_TYPE_ETHERNET;
        hi->tunnel_type = ic->tunnel_type;
        hi->profile = ic->profile_id ? ic->profile_id : PROFILE_PUBLIC;
        for (size_t j = 0; j < i; j++)
            if (h->ifs[j].index == hi->index || (ic->name && strcmp(h->ifs[j].name, hi->name) == 0)) {
                seterr(err, errlen, "interface %s: index %u or name used twice", hi->name, hi->index);
                goto fail;
            }
        for (size_t j = 0; j < ic->num_addresses; j++)
            if (!add_addr(h, ic->addresses[j], (uint32_t)i, err, errlen))
                goto fail;
    }
    for (size_t j = 0; j < cfg->num_addresses; j++)
        if (!add_addr(h, cfg->addresses[j], 0, err, errlen))
            goto fail;
    {
        host_if *lo = &h->ifs[h->nifs - 1];
        uint32_t idx = cfg->loopback_if_index;
        lo->name = dupstr(a, "Loopback Pseudo-Interface 1");
        if (!lo->name)
            goto oom;
        if (!idx) {
            for (idx = 1;; idx++) {
                bool used = false;
                for (size_t j = 0; j + 1 < h->nifs; j++)
                    used |= h->ifs[j].index == idx;
                if (!used)
                    break;
            }
        }
        lo->index = idx;
        lo->type = WFP_IF_TYPE_LOOPBACK;
        lo->profile = PROFILE_PUBLIC;
    }
    for (size_t i = 0; i < h->nifs; i++)
        h->ifs[i].luid = if_luid(h->ifs[i].type, h->ifs[i].index);

    /* processes and their sockets */
    if (!init_proc(a, &h->system, "System", NULL, "S-1-5-18", WFP_HOST_SYSTEM_PID, err, errlen))
        goto fail;
    for (size_t i = 0; i < cfg->num_processes; i++)
        nsocks += cfg->processes[i].num_sockets;
    h->procs = a->alloc(a->ctx, (cfg->num_processes + 1) * sizeof *h->procs);
    h->socks = a->alloc(a->ctx, (nsocks + 1) * sizeof *h->socks);
    if (!h->procs || !h->socks)
        goto oom;
    memset(h->procs, 0, (cfg->num_processes + 1) * sizeof *h->procs);
    for (size_t i = 0; i < cfg->num_processes; i++) {
        const wfp_host_process_config *pc = &cfg->processes[i];
        uint64_t pid = pc->pid ? pc->pid : 1000 + i;
        h->nprocs++;
        if (!init_proc(a, &h->procs[i], pc->name ? pc->name : "process", pc->app, pc->user, pid, err, errlen))
            goto fail;
        for (size_t j = 0; j < pc->num_sockets; j++) {
            const wfp_host_socket_config *sc = &pc->sockets[j];
            host_sock *s = &h->socks[h->nsocks++];
            memset(s, 0, sizeof *s);
            s->proc = (uint32_t)i;
            s->proto = sc->protocol;
            s->lo = sc->port_lo;
            s->hi = sc->port_hi < sc->port_lo ? sc->port_lo : sc->port_hi;
            s->listen = sc->listen;
            if (sc->local_address) {
                if (!parse_addr(sc->local_address, &s->ver, s->addr)) {
                    seterr(err, errlen, "process %s: bad socket address '%s'", h->procs[i].name,
                           sc->local_address);
                    goto fail;
                }
                s->has_addr = true;
            }
            if (s->listen && (s->proto == WFP_SOCK_TCP || s->proto == WFP_SOCK_UDP) &&
                (uint32_t)(s->hi - s->lo) + 1 > WFP_HOST_MAX_LISTEN_PORTS) {
                seterr(err, errlen, "process %s: a listening socket covers more than %u ports",
                       h->procs[i].name, WFP_HOST_MAX_LISTEN_PORTS);
                goto fail;
            }
        }
    }

    h->flow_ops.get = flow_context_get;
    h->flow_ops.ctx = h;
    if (!build_semantics(h, err, errlen) || !wfpi_flows_init(h) || !wfpi_shim_init(h, err, errlen))
        goto fail;
    if (!cfg->no_builtin_callouts) {
        wfpi_register_builtin_callouts(h, err, errlen, &ok);
        if (!ok)
            goto fail;
    }
    return h;
oom:
    seterr(err, errlen, "out of memory");
fail:
    wfp_host_destroy(h);
    return NULL;
}

void wfp_host_destroy(wfp_host *h)
{
    const wfp_allocator *a;
    if (!h)
        return;
    a = h->a;
    wfpi_flows_free(h);
    wfpi_pends_free(h);
    a->free(a->ctx, h->closing);
    a->free(a->ctx, h->regs);
    if (h->reasm)
        wfp_reasm_destroy(h->reasm);
    a->free(a->ctx, h->reasm_buf);
    if (h->sem)
        for (size_t l = 0; l < h->nlayers; l++)
            a->free(a->ctx, h->sem[l]);
    a->free(a->ctx, h->sem);
    a->free(a->ctx, h->layer_calls);
    if (h->ifs)
        for (size_t i = 0; i < h->nifs; i++)
            a->free(a->ctx, h->ifs[i].name);
    a->free(a->ctx, h->ifs);
    a->free(a->ctx, h->addrs);
    for (size_t i = 0; i < h->nprocs; i++)
        free_proc(a, &h->procs[i]);
    free_proc(a, &h->system);
    a->free(a->ctx, h->procs);
    a->free(a->ctx, h->socks);
    a->free(a->ctx, h->eps);
    a->free(a->ctx, h->calls);
    a->free(a->ctx, h->subs);
    a->free(a->ctx, h->steps);
    a->free(a->ctx, h->fstats.v);
    wfp_trace_destroy(h->trace);
    wfp_engine_destroy(h->engine);
    a->free(a->ctx, h->name);
    a->free(a->ctx, h);
}

wfp_engine *wfp_host_engine(wfp_host *h)
{
    return h->engine;
}

const char *wfp_host_name(const wfp_host *h)
{
    return h->name;
}

void wfp_host_set_observer(wfp_host *h, wfp_host_classify_cb cb, void *ctx)
{
    h->cb = cb;
    h->cb_ctx = ctx;
}

const wfp_host_call *wfp_host_current_call(const wfp_host *h)
{
    return h->cur_call;
}

/* ---- incoming values -------------------------------------------------------- */

static void set_uint(wfp_value *v, uint32_t data_type, uint64_t x)
{
    v->type = data_type;
    switch (data_type) {
    case FWP_UINT8: v->v.u8 = (uint8_t)x; break;
    case FWP_UINT16: v->v.u16 = (uint16_t)x; break;
    case FWP_UINT32: v->v.u32 = (uint32_t)x; break;
    case FWP_UINT64: v->v.u64 = x; break;
    default: v->type = FWP_EMPTY; break;
    }
}

static void set_addr(wfp_value *v, uint32_t data_type, uint8_t ver, const uint8_t *a)
{
    if (data_type == FWP_UINT32 && ver == FWP_IP_VERSION_V4) {
        v->type = FWP_UINT32;
        v->v.u32 = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
    } else if (data_type == FWP_BYTE_ARRAY16_TYPE && ver == FWP_IP_VERSION_V6) {
        v->type = FWP_BYTE_ARRAY16_TYPE;
        memcpy(v->v.bytes16, a, 16);
    } else {
        v->type = FWP_EMPTY;
    }
}

static void set_blob(wfp_value *v, uint32_t data_type, const uint8_t *p, uint32_t n)
{
    if (!p) {
        v->type = FWP_EMPTY;
        return;
    }
    v->type = data_type;
    v->v.blob.data = p;
    v->v.blob.size = n;
}

static void fill_value(wfp_value *v, uint32_t dt, uint8_t sem, const shim_item *it)
{
    const host_if *ifc = it->iface;
    bool arrival = ifc && !it->no_arrival, nexthop = ifc && !it->no_nexthop;
    memset(v, 0, sizeof *v);
    v->type = FWP_EMPTY;
    if (sem >= SEM_SRC_ADDR && !it->forward)
        return; /* forwarding fields: only at IPFORWARD */
    switch (sem) {
    case SEM_SRC_ADDR: set_addr(v, dt, it->ver, it->raddr); break;
    case SEM_DST_ADDR: set_addr(v, dt, it->ver, it->laddr); break;
    case SEM_FWD_IF:
    case SEM_PHYS_ARRIVAL_IF:
    case SEM_PHYS_NEXTHOP_IF:
        if (ifc)
            set_uint(v, dt, ifc->luid);
        break;
    case SEM_SRC_IF_INDEX:
    case SEM_SRC_SUB_IF_INDEX:
    case SEM_DST_IF_INDEX:
    case SEM_DST_SUB_IF_INDEX:
        if (ifc)
            set_uint(v, dt, ifc->index);
        break;
    case SEM_LOCAL_ADDR:
        if (!it->laddr_empty)
            set_addr(v, dt, it->ver, it->laddr);
        break;
    case SEM_REMOTE_ADDR: set_addr(v, dt, it->ver, it->raddr); break;
    case SEM_LOCAL_ADDR_TYPE:
        set_uint(v, dt, it->laddr_empty ? WFPI_NLAT_UNSPECIFIED : wfpi_addr_type(it->ver, it->laddr));
        break;
    case SEM_DEST_ADDR_TYPE:
        set_uint(v, dt, wfpi_addr_type(it->ver, it->direction == FWP_DIRECTION_OUTBOUND ? it->raddr : it->laddr));
        break;
    case SEM_LOCAL_PORT:
        if (it->has_ports)
            set_uint(v, dt, it->lport);
        break;
    case SEM_REMOTE_PORT:
        if (it->has_ports)
            set_uint(v, dt, it->rport);
        break;
    case SEM_PROTOCOL: set_uint(v, dt, it->proto); break;
    case SEM_LOCAL_IF:
        if (ifc)
            set_uint(v, dt, ifc->luid);
        break;
    case SEM_IF_INDEX:
    case SEM_SUB_IF_INDEX:
        if (ifc)
            set_uint(v, dt, ifc->index);
        break;
    case SEM_IF_TYPE:
        if (ifc)
            set_uint(v, dt, ifc->type);
        break;
    case SEM_TUNNEL_TYPE:
        if (ifc)
            set_uint(v, dt, ifc->tunnel_type);
        break;
    case SEM_ARRIVAL_IF:
        if (arrival)
            set_uint(v, dt, ifc->luid);
        break;
    case SEM_ARRIVAL_IF_INDEX:
        if (arrival)
            set_uint(v, dt, ifc->index);
        break;
    case SEM_ARRIVAL_IF_TYPE:
        if (arrival)
            set_uint(v, dt, ifc->type);
        break;
    case SEM_ARRIVAL_TUNNEL_TYPE:
        if (arrival)
            set_uint(v, dt, ifc->tunnel_type);
        break;
    case SEM_ARRIVAL_PROFILE:
        if (arrival)
            set_uint(v, dt, ifc->profile);
        break;
    case SEM_NEXTHOP_IF:
        if (nexthop)
            set_uint(v, dt, ifc->luid);
        break;
    case SEM_NEXTHOP_IF_INDEX:
    case SEM_NEXTHOP_SUB_IF_INDEX:
        if (nexthop)
            set_uint(v, dt, ifc->index);
        break;
    case SEM_NEXTHOP_IF_TYPE:
        if (nexthop)
            set_uint(v, dt, ifc->type);
        break;
    case SEM_NEXTHOP_TUNNEL_TYPE:
        if (nexthop)
            set_uint(v, dt, ifc->tunnel_type);
        break;
    case SEM_NEXTHOP_PROFILE:
        if (nexthop)
            set_uint(v, dt, ifc->profile);
        break;
    case SEM_CURRENT_PROFILE:
    case SEM_LOCAL_IF_PROFILE:
    case SEM_ORIGINAL_PROFILE:
        if (ifc)
            set_uint(v, dt, ifc->profile);
        break;
    case SEM_FLAGS: set_uint(v, dt, it->flags); break;
    case SEM_DIRECTION: set_uint(v, dt, it->direction); break;
    case SEM_COMPARTMENT: set_uint(v, dt, COMPARTMENT_DEFAULT); break;
    case SEM_APP_ID:
        if (it->proc)
            set_blob(v, dt, it->proc->app_id, it->proc->app_len);
        break;
    case SEM_USER_ID:
        if (it->proc)
            set_blob(v, dt, it->proc->token, it->proc->token_len);
        break;
    case SEM_REAUTH_REASON: set_uint(v, dt, it->reauth_reason); break;
    case SEM_EMB_PROTOCOL:
        if (it->has_emb)
            set_uint(v, dt, it->emb_proto);
        break;
    case SEM_EMB_REMOTE_ADDR:
        if (it->has_emb)
            set_addr(v, dt, it->ver, it->emb_raddr);
        break;
    case SEM_EMB_LOCAL_ADDR_TYPE:
        if (it->has_emb)
            set_uint(v, dt, wfpi_addr_type(it->ver, it->emb_laddr));
        break;
    case SEM_EMB_LOCAL_PORT:
        if (it->has_emb && it->emb_ports)
            set_uint(v, dt, it->emb_lport);
        break;
    case SEM_EMB_REMOTE_PORT:
        if (it->has_emb && it->emb_ports)
            set_uint(v, dt, it->emb_rport);
        break;
    default: break;
    }
}

static bool is_ale_layer_name(const char *n)
{
    return strstr(n, "_ALE_") != NULL;
}

int wfpi_discard_layer(uint16_t layer_id)
{
    const wfp_layer_info *d = wfp_catalog_layer_by_id((uint16_t)(layer_id + 1));
    if (d && d->base_layer_id == (int16_t)layer_id)
        return (int)d->id;
    return -1;
}

static bool grow(const wfp_allocator *a, void **p, size_t *cap, size_t need, size_t size)
{
    size_t c;
    void *n;
    if (need <= *cap)
        return true;
    c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    n = a->realloc(a->ctx, *p, c * size);
    if (!n)
        return false;
    *p = n;
    *cap = c;
    return true;
}

static void count_filter(wfp_host *h, uint64_t id, bool permit)
{
    filter_stats *fs = &h->fstats;
    size_t lo = 0, hi = fs->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fs->v[mid].filter_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == fs->n || fs->v[lo].filter_id != id) {
        void *p = fs->v;
        if (!grow(h->a, &p, &fs->cap, fs->n + 1, sizeof *fs->v))
            return; /* statistics are best effort when memory runs out */
        fs->v = p;
        memmove(&fs->v[lo + 1], &fs->v[lo], (fs->n - lo) * sizeof *fs->v);
        memset(&fs->v[lo], 0, sizeof *fs->v);
        fs->v[lo].filter_id = id;
        fs->n++;
    }
    if (permit)
        fs->v[lo].permits++;
    else
        fs->v[lo].blocks++;
}

bool wfpi_classify(shim_ctx *c, uint16_t layer_id, const shim_item *it, wfp_verdict *v)
{
    wfp_host *h = c->h;
    const wfp_layer_info *li = wfp_catalog_layer_by_id(layer_id);
    wfp_incoming_metadata meta;
    wfp_classify_request req;
    wfp_host_call call;
    uint32_t rc;
    size_t nsub, nstep;
    void *p;
    if (!li || li->num_fields > sizeof h->vals / sizeof h->vals[0] || !h->sem[layer_id]) {
        if (!c->err)
            c->err = FWP_E_LAYER_NOT_FOUND;
        return false;
    }
    for (uint16_t f = 0; f < li->num_fields; f++)
        fill_value(&h->vals[f], li->fields[f].data_type, h->sem[layer_id][f], it);

    memset(&meta, 0, sizeof meta);
    meta.present = WFP_METADATA_PACKET_DIRECTION;
    meta.packet_direction = it->direction;
    if (it->flow_id) {
        meta.present |= WFP_METADATA_FLOW_HANDLE;
        meta.flow_handle = it->flow_id;
    }
    if (it->proc && is_ale_layer_name(li->name)) {
        meta.present |= WFP_METADATA_PROCESS_ID;
        meta.process_id = it->proc->pid;
    }
    if (it->has_discard && li->base_layer_id >= 0) {
        meta.present |= WFP_METADATA_DISCARD_REASON;
        meta.discard_module = it->discard_module;
        meta.discard_reason = it->discard_reason;
    }
    if (it->ale_classify_required) {
        meta.present |= WFP_METADATA_ALE_CLASSIFY_REQUIRED;
    }
    memset(&req, 0, sizeof req);
    req.layer_id = layer_id;
    req.values = h->vals;
    req.num_values = li->num_fields;
    req.meta = &meta;
    req.time_ns = c->now;
    req.layer_data = it->layer_data;
    req.below_sublayer = it->below_sublayer;
    req.below_sublayer_weight = it->below_sublayer_weight;
    h->ctx_flow = it->flow_id ? wfpi_flow_by_id(h, it->flow_id) : NULL;
    if (h->ctx_flow)
        req.flow = &h->flow_ops; /* flow contexts: CONDITIONAL_ON_FLOW (§1.7) */

    /* the packet itself (not a stack response, socket or closure event):
     * callouts may inject copies of it and ask for its injection state */
    h->cur_item = it;
    h->cur_item_layer = layer_id;
    h->cur_now = c->now;
    h->cur_forced = c->forced;
    h->pend_new = 0;
    if (it->pkt && (it->item == WFP_HOST_ITEM_PACKET || it->item == WFP_HOST_ITEM_FRAGMENT ||
                    it->item == WFP_HOST_ITEM_REASSEMBLED)) {
        h->cur_pkt = it->pkt;
        h->cur_inj = c->inj;
        h->cur_direction = it->direction;
        h->cur_layer = layer_id;
    }
    rc = wfp_classify(h->engine, &req, v, h->trace);
    h->ctx_flow = NULL;
    h->cur_pkt = NULL;
    h->cur_inj = NULL;
    h->cur_item = NULL;
    if (rc != 0) {
        if (!c->err)
            c->err = rc;
        return false;
    }

    memset(&call, 0, sizeof call);
    call.layer_id = layer_id;
    call.item = it->item;
    call.direction = it->direction;
    call.reauth = (it->flags & FWP_CONDITION_FLAG_IS_REAUTHORIZE) != 0;
    call.loopback = (it->flags & FWP_CONDITION_FLAG_IS_LOOPBACK) != 0;
    call.verdict = *v;

    nsub = wfp_trace_sublayer_count(h->trace);
    nstep = wfp_trace_step_count(h->trace);
    p = h->calls;
    if (!grow(h->a, &p, &h->capcalls, h->ncalls + 1, sizeof *h->calls))
        goto oom;
    h->calls = p;
    p = h->subs;
    if (!grow(h->a, &p, &h->capsubs, h->nsubs + nsub, sizeof *h->subs))
        goto oom;
    h->subs = p;
    p = h->steps;
    if (!grow(h->a, &p, &h->capsteps, h->nsteps + nstep, sizeof *h->steps))
        goto oom;
    h->steps = p;
    call.first_sublayer = h->nsubs;
    call.num_sublayers = nsub;
    call.first_step = h->nsteps;
    call.num_steps = nstep;
    for (size_t i = 0; i < nsub; i++)
        h->subs[h->nsubs++] = *wfp_trace_sublayer_at(h->trace, i);
    for (size_t i = 0; i < nstep; i++)
        h->steps[h->nsteps++] = *wfp_trace_step_at(h->trace, i);
    h->calls[h->ncalls++] = call;

    h->stats.classify_calls++;
    if (layer_id < h->nlayers)
        h->layer_calls[layer_id]++;
    if (v->filter_id)
        count_filter(h, v->filter_id, v->permitted);

    if (it->item != WFP_HOST_ITEM_RESPONSE && it->item != WFP_HOST_ITEM_SOCKET &&
        it->item != WFP_HOST_ITEM_CLOSURE && li->base_layer_id < 0) {
        c->have_last = true;
        c->last_layer = layer_id;
        c->last_verdict = *v;
    }
    if (h->cb) {
        h->cur_call = &call;
        h->cb(h->cb_ctx, h, c->now, it->pkt, &req, v, h->trace);
        h->cur_call = NULL;
    }
    return true;
oom:
    if (!c->err)
        c->err = ERROR_NOT_ENOUGH_MEMORY;
    return false;
}

/* ---- outcomes, running ------------------------------------------------------ */

static void outcome_begin(wfp_host *h, shim_ctx *c, uint64_t now, wfp_packet_outcome *out)
{
    h->ncalls = h->nsubs = h->nsteps = 0;
    memset(c, 0, sizeof *c);
    c->h = h;
    c->now = now;
    c->out = out;
    memset(out, 0, sizeof *out);
    out->layer_id = UINT16_MAX;
}

static void outcome_end(wfp_host *h, shim_ctx *c)
{
    wfp_packet_outcome *out = c->out;
    if (!c->dropped && (out->path != WFP_HOST_PATH_FORWARD || c->forwarded) &&
        out->discard == WFP_HOST_DISCARD_NONE) {
        out->permitted = true;
        if (c->have_last) {
            out->layer_id = c->last_layer;
            out->filter_id = c->last_verdict.filter_id;
            out->reason = c->last_verdict.reason;
        }
    }
    out->calls = h->calls;
    out->num_calls = h->ncalls;
    out->sublayers = h->subs;
    out->steps = h->steps;
}

uint32_t wfp_host_start(wfp_host *h, uint64_t now_ns, wfp_packet_outcome *out)
{
    wfp_packet_outcome local;
    shim_ctx c;
    if (!out)
        out = &local;
    outcome_begin(h, &c, now_ns, out);
    if (h->started) {
        outcome_end(h, &c);
        return FWP_E_INVALID_PARAMETER;
    }
    h->started = true;
    out->path = WFP_HOST_PATH_NONE;
    (void)wfpi_shim_start(&c);
    outcome_end(h, &c);
    return c.err;
}

uint32_t wfpi_host_run_packet(wfp_host *h, uint64_t now_ns, const wfp_packet *p, const host_if *forced,
                              const wfp_host_injection *inj, const host_pend *completing,
                              wfp_packet_outcome *out)
{
    wfp_packet_outcome local;
    shim_ctx c;
    if (!out)
        out = &local;
    outcome_begin(h, &c, now_ns, out);
    c.inj = inj;
    c.completing = completing;
    c.forced = forced;
    if (!completing)
        h->stats.packets++;
    if (h->closure_events) {
        /* what ended by now is closed before this packet (eager expiry) */
        wfpi_flows_expire(h, now_ns);
        wfpi_shim_closures(&c);
    }
    if (!c.err && inj && inj->kind == WFP_INJECT_STREAM) {
        wfpi_shim_stream_injected(&c, p);
    } else if (!c.err && inj && inj->kind == WFP_INJECT_FORWARD) {
        out->path = WFP_HOST_PATH_FORWARD; /* forwarded as it is: no WFP layer sees it (spec §4.4) */
        c.forwarded = true;
    } else if (!c.err) {
        wfpi_shim_packet(&c, p, forced);
    }
    if (h->closure_events)
        wfpi_shim_closures(&c); /* a RST or the last FIN of this packet */
    outcome_end(h, &c);
    if (completing && !completing->syn_held) {
        /* a flushed datagram's fate was counted when it was pended */
    } else if (out->held) {
        /* neither permitted nor blocked yet: the datagram's fate comes later */
    } else if (out->discard == WFP_HOST_DISCARD_NOT_LOCAL || out->discard == WFP_HOST_DISCARD_NOT_IP) {
        h->stats.ignored++;
    } else if (out->permitted) {
        h->stats.permitted++;
    } else if (out->discard == WFP_HOST_DISCARD_FILTER || out->discard == WFP_HOST_DISCARD_ABSORBED ||
               out->discard == WFP_HOST_DISCARD_REAUTH) {
        h->stats.blocked++;
        if (out->absorbed)
            h->stats.absorbed++;
    } else {
        h->stats.dropped_by_stack++;
    }
    return c.err;
}

uint32_t wfp_host_packet_on(wfp_host *h, uint64_t now_ns, const wfp_packet *p, const char *ifname,
                            wfp_packet_outcome *out)
{
    const host_if *forced = NULL;
    if (!p || !h) {
        if (out) {
            memset(out, 0, sizeof *out);
            out->layer_id = UINT16_MAX;
        }
        return FWP_E_INVALID_PARAMETER;
    }
    if (ifname) {
        for (size_t i = 0; i < h->nifs; i++)
            if (strcmp(h->ifs[i].name, ifname) == 0)
                forced = &h->ifs[i];
        if (!forced) {
            if (out) {
                memset(out, 0, sizeof *out);
                out->layer_id = UINT16_MAX;
            }
            return FWP_E_INVALID_PARAMETER;
        }
    }
    return wfpi_host_run_packet(h, now_ns, p, forced, NULL, NULL, out);
}

uint32_t wfp_host_packet(wfp_host *h, uint64_t now_ns, const wfp_packet *p, wfp_packet_outcome *out)
{
    return wfp_host_packet_on(h, now_ns, p, NULL, out);
}

/* Closure classifications outside a packet: seen by the observer only. */
static void expire_and_close(wfp_host *h, uint64_t now_ns)
{
    wfp_packet_outcome out;
    shim_ctx c;
    wfpi_flows_expire(h, now_ns);
    if (!h->nclosing && !h->closing_oom)
        return;
    outcome_begin(h, &c, now_ns, &out);
    wfpi_shim_closures(&c);
    outcome_end(h, &c);
}

void wfp_host_policy_changed(wfp_host *h, uint64_t now_ns)
{
    expire_and_close(h, now_ns);
    wfpi_flows_mark_reauth(h);
}

void wfp_host_expire(wfp_host *h, uint64_t now_ns)
{
    expire_and_close(h, now_ns);
}

/* ---- callouts and flow contexts (spec §1.7, C16) --------------------------------- */

const host_reg *wfpi_host_reg_by_id(const wfp_host *h, uint32_t callout_id)
{
    for (size_t i = 0; i < h->nregs; i++)
        if (h->regs[i].id == callout_id)
            return &h->regs[i];
    return NULL;
}

uint32_t wfp_host_callout_register(wfp_host *h, const wfp_callout_registration *reg, uint32_t *callout_id)
{
    uint32_t id = 0, rc;
    void *p;
    if (!h || !reg)
        return FWP_E_NULL_POINTER;
    p = h->regs;
    if (!grow(h->a, &p, &h->capregs, h->nregs + 1, sizeof *h->regs))
        return ERROR_NOT_ENOUGH_MEMORY;
    h->regs = p;
    rc = wfp_callout_register(h->engine, reg, &id);
    if (rc)
        return rc;
    h->regs[h->nregs].key = reg->callout_key;
    h->regs[h->nregs].id = id;
    h->regs[h->nregs].flow_delete = reg->flow_delete;
    h->regs[h->nregs].ctx = reg->ctx;
    h->nregs++;
    if (callout_id)
        *callout_id = id;
    return ERROR_SUCCESS;
}

uint32_t wfp_host_callout_unregister(wfp_host *h, const wfp_guid *key)
{
    size_t r;
    uint32_t rc;
    if (!h || !key)
        return FWP_E_NULL_POINTER;
    for (r = 0; r < h->nregs; r++)
        if (wfp_guid_eq(&h->regs[r].key, key))
            break;
    if (r < h->nregs) {
        /* STATUS_DEVICE_BUSY while a live flow holds a context for it */
        for (size_t i = 0; i < h->flows.n; i++) {
            const host_flow *f = h->flows.v[i];
            if (f->dead)
                continue;
            for (uint32_t k = 0; k < f->nctx; k++)
                if (f->ctxs[k].callout == h->regs[r].id)
                    return FWP_E_IN_USE;
        }
    }
    rc = wfp_callout_unregister_by_key(h->engine, key);
    if (rc == ERROR_SUCCESS && r < h->nregs) {
        memmove(&h->regs[r], &h->regs[r + 1], (h->nregs - r - 1) * sizeof *h->regs);
        h->nregs--;
    }
    return rc;
}

uint32_t wfp_host_flow_associate_context(wfp_host *h, uint64_t flow_id, uint16_t layer_id, uint32_t callout_id,
                                         uint64_t context)
{
    host_flow *f;
    void *p;
    size_t cap;
    if (!h)
        return FWP_E_NULL_POINTER;
    f = wfpi_flow_by_id(h, flow_id);
    if (!f)
        return FWP_E_NOT_FOUND;
    if (!wfp_catalog_layer_by_id(layer_id))
        return FWP_E_LAYER_NOT_FOUND;
    if (!wfpi_host_reg_by_id(h, callout_id))
        return FWP_E_CALLOUT_NOT_FOUND;
    for (uint32_t i = 0; i < f->nctx; i++)
        if (f->ctxs[i].layer == layer_id && f->ctxs[i].callout == callout_id)
            return FWP_E_ALREADY_EXISTS; /* remove first to replace (§1.7) */
    p = f->ctxs;
    cap = f->capctx;
    if (!grow(h->a, &p, &cap, (size_t)f->nctx + 1, sizeof *f->ctxs))
        return ERROR_NOT_ENOUGH_MEMORY;
    f->ctxs = p;
    f->capctx = (uint32_t)cap;
    f->ctxs[f->nctx].layer = layer_id;
    f->ctxs[f->nctx].callout = callout_id;
    f->ctxs[f->nctx].context = context;
    f->nctx++;
    return ERROR_SUCCESS;
}

uint32_t wfp_host_flow_remove_context(wfp_host *h, uint64_t flow_id, uint16_t layer_id, uint32_t callout_id)
{
    host_flow *f;
    if (!h)
        return FWP_E_NULL_POINTER;
    f = wfpi_flow_by_id(h, flow_id);
    if (!f)
        return FWP_E_NOT_FOUND;
    for (uint32_t i = 0; i < f->nctx; i++)
        if (f->ctxs[i].layer == layer_id && f->ctxs[i].callout == callout_id) {
            memmove(&f->ctxs[i], &f->ctxs[i + 1], (f->nctx - i - 1) * sizeof *f->ctxs);
            f->nctx--;
            return ERROR_SUCCESS; /* removed by the driver: no flowDeleteFn */
        }
    return FWP_E_NOT_FOUND;
}

/* ---- flows and statistics ------------------------------------------------------ */

size_t wfp_host_flow_count(const wfp_host *h)
{
    return wfpi_flows_live(h);
}

bool wfp_host_flow_at(const wfp_host *h, size_t i, wfp_host_flow_info *out)
{
    const host_flow *f = wfpi_flow_at(h, i);
    if (!f)
        return false;
    memset(out, 0, sizeof *out);
    out->id = f->id;
    out->ip_version = f->key.ver;
    out->protocol = f->key.proto;
    memcpy(out->local_addr, f->key.laddr, 16);
    memcpy(out->remote_addr, f->key.raddr, 16);
    out->local_port = f->key.lport;
    out->remote_port = f->key.rport;
    out->icmp_id = f->key.icmp_id;
    out->direction = f->direction;
    out->auth_layer_id = f->auth_layer;
    out->established = f->tcp == TCP_ESTABLISHED;
    out->reauth_pending = f->reauth_pending;
    out->pid = wfpi_host_proc(h, f->proc)->pid;
    out->created_ns = f->created_ns;
    out->last_seen_ns = f->last_ns;
    return true;
}

void wfp_host_get_stats(const wfp_host *h, wfp_host_stats *out)
{
    *out = h->stats;
}

uint64_t wfp_host_layer_calls(const wfp_host *h, uint16_t layer_id)
{
    return layer_id < h->nlayers ? h->layer_calls[layer_id] : 0;
}

size_t wfp_host_filter_stat_count(const wfp_host *h)
{
    return h->fstats.n;
}

const wfp_host_filter_stat *wfp_host_filter_stat_at(const wfp_host *h, size_t i)
{
    return i < h->fstats.n ? &h->fstats.v[i] : NULL;
}

static const char *const discard_names[] = {
#define X(id, name, text) name,
    WFP_HOST_DISCARDS(X)
#undef X
};
static const char *const discard_texts[] = {
#define X(id, name, text) text,
    WFP_HOST_DISCARDS(X)
#undef X
};

const char *wfp_host_discard_name(uint32_t d)
{
    return d < WFP_HOST_DISCARD_COUNT_ ? discard_names[d] : "unknown";
}

const char *wfp_host_discard_message(uint32_t d)
{
    return d < WFP_HOST_DISCARD_COUNT_ ? discard_texts[d] : "unknown";
}
