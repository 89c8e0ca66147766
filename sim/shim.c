/* shim.c — the packet paths of spec/wfp-semantics.md §6: which layers a
 * packet is classified at, in which order, and what the stack does when a
 * layer blocks or when it drops the packet itself.
 *
 *  - A block at a layer drops the item and re-indicates it at that layer's
 *    *_DISCARD twin unless the callout set ABSORB (§4.4, §6.1); nothing
 *    after that layer runs.
 *  - Stack drops are indicated at a discard layer with a discard reason:
 *    TCP to no endpoint at INBOUND_TRANSPORT_DISCARD, then a RST unless that
 *    classify blocks (stealth, §6.3); a datagram to no socket at
 *    INBOUND_IPPACKET_DISCARD, then the ICMP unreachable unless it blocks
 *    (§6.5).
 *  - ALE layers see the first packet of a flow, and the first packet after
 *    a policy change (reauthorization, §5.4); everything else sees every
 *    packet.
 * The tables of what runs when are in docs/drafts/sim-host.md. */
#include "host_int.h"

#include <stdio.h>
#include <string.h>

/* ICMP types */
enum {
    ICMP4_ECHO_REPLY = 0,
    ICMP4_UNREACH = 3,
    ICMP4_ECHO = 8,
    ICMP4_TSTAMP = 13,
    ICMP4_TSTAMP_REPLY = 14,
    ICMP4_INFO = 15,
    ICMP4_INFO_REPLY = 16,
    ICMP4_MASK = 17,
    ICMP4_MASK_REPLY = 18,
    ICMP6_UNREACH = 1,
    ICMP6_PARAM_PROBLEM = 4,
    ICMP6_ECHO = 128,
    ICMP6_ECHO_REPLY = 129
};

bool wfpi_shim_init(wfp_host *h, char *err, size_t errlen)
{
    static const char *const base[LK_COUNT_] = {
#define X(id, name) name,
        WFPI_SHIM_LAYERS(X)
#undef X
    };
    char name[64];
    for (int k = 0; k < LK_COUNT_; k++) {
        for (int v = 0; v < 2; v++) {
            const wfp_layer_info *li;
            snprintf(name, sizeof name, "%s_V%d", base[k], v ? 6 : 4);
            li = wfp_catalog_layer_by_name(name);
            if (!li) {
                snprintf(err, errlen, "catalogue has no layer %s", name);
                return false;
            }
            h->lid[k][v] = li->id;
        }
    }
    h->reasm = wfp_reasm_create(h->a, NULL);
    h->reasm_buf = h->a->alloc(h->a->ctx, WFP_REASM_OUT_MAX);
    if (!h->reasm || !h->reasm_buf) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    return true;
}

/* ---- classify helpers ----------------------------------------------------- */

static void set_drop(shim_ctx *c, uint16_t layer, const wfp_verdict *v, uint32_t discard)
{
    if (c->dropped)
        return; /* the first drop decides */
    c->dropped = true;
    c->out->permitted = false;
    c->out->layer_id = layer;
    c->out->filter_id = v ? v->filter_id : 0;
    c->out->reason = v ? v->reason : 0;
    c->out->discard = discard;
}

/* The classify that just ran pended (FwpsPendOperation0). Honoured only
 * with BLOCK + ABSORB (DRV processing-classify-callouts-asynchronously);
 * else dropped. A TCP connect's SYN waits for the completion (held); other
 * pended data is flushed. Returns true to go on as the verdict says. */
static bool pend_honoured(shim_ctx *c, const shim_item *it, const wfp_verdict *v)
{
    wfp_host *h = c->h;
    uint64_t handle = h->pend_new;
    host_pend *op = wfpi_pend_find(h, handle);
    h->pend_new = 0;
    if (!op)
        return true;
    if (v->permitted || !v->absorb) {
        wfpi_pend_drop(h, handle);
        return true;
    }
    op->held = true;
    h->stats.pended++;
    c->out->pended = handle;
    if (op->lk == LK_CONNECT && it->proto == WFP_IPPROTO_TCP) {
        op->syn_held = true;
        c->out->held = true;
        c->out->layer_id = h->cur_item_layer; /* where it waits, and who pended it */
        c->out->filter_id = v->filter_id;
        c->out->reason = v->reason;
        c->dropped = true; /* neither sent nor dropped: the fate comes with the completion */
        return false;
    }
    if (op->lk == LK_CONNECT) {
        set_drop(c, h->cur_item_layer, v, WFP_HOST_DISCARD_PEND_FLUSHED);
        return false;
    }
    return true; /* RECV_ACCEPT: absorbed; the callout re-injects its clone */
}

/* Classifies at layer id; on a block: drop (unless the item is a stack
 * response) and re-indicate at the discard twin unless absorbed. */
static bool pass_id(shim_ctx *c, uint16_t layer, const shim_item *it, uint32_t discard)
{
    wfp_verdict v;
    int dl;
    if (c->err || !wfpi_classify(c, layer, it, &v))
        return false;
    if (c->h->pend_new && !pend_honoured(c, it, &v))
        return false;
    if (v.permitted)
        return true;
    if (it->item != WFP_HOST_ITEM_RESPONSE) {
        set_drop(c, layer, &v, v.absorb ? WFP_HOST_DISCARD_ABSORBED : discard);
        if (v.absorb)
            c->out->absorbed = true;
    }
    dl = wfpi_discard_layer(layer);
    if (!v.absorb && dl >= 0) {
        shim_item d = *it;
        wfp_verdict dv;
        d.has_discard = true;
        d.discard_module = WFPI_DISCARD_MODULE_GENERAL;
        d.discard_reason = WFPI_DISCARD_FIREWALL_POLICY;
        d.ale_classify_required = false;
        (void)wfpi_classify(c, (uint16_t)dl, &d, &dv);
    }
    return false;
}

static bool pass(shim_ctx *c, int lk, const shim_item *it, uint32_t discard)
{
    return pass_id(c, c->h->lid[lk][it->ver], it, discard);
}

/* The stack dropped the packet: indicate it at the discard twin of `lk`.
 * Returns whether that classify permitted (a block there is stealth). */
static bool stack_drop(shim_ctx *c, int lk, const shim_item *it, uint32_t module, uint32_t reason,
                       uint32_t discard)
{
    shim_item d = *it;
    wfp_verdict v;
    int dl = wfpi_discard_layer(c->h->lid[lk][it->ver]);
    d.has_discard = true;
    d.discard_module = module;
    d.discard_reason = reason;
    d.ale_classify_required = false;
    if (dl < 0 || c->err || !wfpi_classify(c, (uint16_t)dl, &d, &v)) {
        set_drop(c, UINT16_MAX, NULL, discard);
        return false;
    }
    set_drop(c, (uint16_t)dl, &v, discard);
    return v.permitted;
}

/* ---- items ---------------------------------------------------------------- */

static bool is_icmp(uint8_t proto)
{
    return proto == WFP_IPPROTO_ICMP || proto == WFP_IPPROTO_ICMPV6;
}

static void item_from_packet(shim_ctx *c, shim_item *it, const wfp_packet *p, bool inbound,
                             const host_if *ifc, uint32_t item)
{
    memset(it, 0, sizeof *it);
    it->item = item;
    it->ver = p->ip_version == 6 ? FWP_IP_VERSION_V6 : FWP_IP_VERSION_V4;
    it->proto = p->protocol;
    memcpy(it->laddr, inbound ? p->dst : p->src, 16);
    memcpy(it->raddr, inbound ? p->src : p->dst, 16);
    if (it->ver == FWP_IP_VERSION_V4) {
        memset(it->laddr + 4, 0, 12);
        memset(it->raddr + 4, 0, 12);
    }
    if (p->protocol == WFP_IPPROTO_TCP || p->protocol == WFP_IPPROTO_UDP) {
        it->has_ports = p->has_l4;
        it->lport = inbound ? p->dport : p->sport;
        it->rport = inbound ? p->sport : p->dport;
    } else if (is_icmp(p->protocol)) {
        /* ICMP_TYPE / ICMP_CODE share the port fields' GUIDs (spec §1.9.3) */
        it->has_ports = p->has_l4;
        it->lport = p->icmp.type;
        it->rport = p->icmp.code;
    }
    it->direction = inbound ? FWP_DIRECTION_INBOUND : FWP_DIRECTION_OUTBOUND;
    it->flags = c->loopback ? FWP_CONDITION_FLAG_IS_LOOPBACK : 0;
    it->iface = ifc;
    it->pkt = p;
}

/* ICMP query/response pairs share a flow; the id is part of the key for
 * echo only (spec §5.3). */
static void key_of(const shim_item *it, const wfp_packet *p, flow_key *k)
{
    memset(k, 0, sizeof *k);
    k->ver = it->ver;
    k->proto = it->proto;
    memcpy(k->laddr, it->laddr, 16);
    memcpy(k->raddr, it->raddr, 16);
    if (it->proto == WFP_IPPROTO_TCP || it->proto == WFP_IPPROTO_UDP) {
        k->lport = it->lport;
        k->rport = it->rport;
    } else if (it->proto == WFP_IPPROTO_ICMP) {
        uint8_t t = p->icmp.type;
        if (t == ICMP4_ECHO_REPLY || t == ICMP4_ECHO) {
            t = ICMP4_ECHO;
            k->icmp_id = p->icmp.id;
        } else if (t == ICMP4_TSTAMP_REPLY || t == ICMP4_INFO_REPLY || t == ICMP4_MASK_REPLY) {
            t = (uint8_t)(t - 1);
        }
        k->lport = t;
        k->rport = p->icmp.code;
    } else if (it->proto == WFP_IPPROTO_ICMPV6) {
        uint8_t t = p->icmp.type;
        if (t == ICMP6_ECHO || t == ICMP6_ECHO_REPLY) {
            t = ICMP6_ECHO;
            k->icmp_id = p->icmp.id;
        }
        k->lport = t;
        k->rport = p->icmp.code;
    }
}

static const host_proc *proc_of(const shim_ctx *c, uint32_t proc)
{
    return wfpi_host_proc(c->h, proc);
}

static uint32_t ifpos_of(const wfp_host *h, const host_if *ifc)
{
    return ifc ? (uint32_t)(ifc - h->ifs) : 0;
}

static host_flow *new_flow(shim_ctx *c, const flow_key *k, const shim_item *it, int auth_lk, uint32_t proc)
{
    host_flow *f = wfpi_flow_add(c->h, k, c->now);
    if (!f) {
        if (!c->err)
            c->err = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    f->direction = it->direction;
    f->auth_layer = c->h->lid[auth_lk][it->ver];
    f->proc = proc;
    f->ifpos = ifpos_of(c->h, it->iface);
    f->loopback = c->loopback;
    c->out->flow_id = f->id;
    return f;
}

/* An outbound flow after CONNECT_REDIRECT / BIND_REDIRECT: keyed by the
 * (possibly rewritten) tuple of `it`; `app` is the application's. */
static host_flow *new_out_flow(shim_ctx *c, const shim_item *it, const wfp_packet *p, const flow_key *app,
                               uint32_t proc)
{
    flow_key k;
    host_flow *f;
    key_of(it, p, &k);
    f = new_flow(c, &k, it, LK_CONNECT, proc);
    if (f && memcmp(&k, app, sizeof k) != 0) {
        f->redirected = true;
        f->conn_redirected = it->conn_redirected;
        f->orig = *app;
        c->h->nredirected++;
    }
    return f;
}

/* Reauthorization of a marked flow at the layer that created it (§5.4,
 * §6.4): IS_REAUTHORIZE, reason POLICY_CHANGE, the interface fields of the
 * other direction EMPTY. A block tears the flow down. */
static bool reauth(shim_ctx *c, host_flow *f, const shim_item *it)
{
    shim_item r = *it;
    bool ok;
    r.proc = proc_of(c, f->proc);
    r.flags |= FWP_CONDITION_FLAG_IS_REAUTHORIZE;
    r.reauth_reason = FWP_CONDITION_REAUTHORIZE_REASON_POLICY_CHANGE;
    r.ale_classify_required = false;
    if (it->direction == FWP_DIRECTION_INBOUND)
        r.no_nexthop = true;
    else
        r.no_arrival = true;
    f->reauth_pending = false;
    c->h->stats.reauthorizations++;
    ok = pass_id(c, f->auth_layer, &r, WFP_HOST_DISCARD_REAUTH);
    if (!ok && !c->err) {
        c->h->stats.reauth_blocked++;
        wfpi_flow_remove(c->h, f);
    }
    return ok;
}

/* ALE_FLOW_ESTABLISHED: DIRECTION is the flow's. A block there tears the
 * flow down (DRV: only for security-relevant errors). */
static bool flow_established(shim_ctx *c, host_flow *f, const shim_item *it)
{
    shim_item e = *it;
    e.proc = proc_of(c, f->proc);
    e.direction = f->direction;
    e.ale_classify_required = false;
    if (f->conn_redirected)
        e.flags |= FWP_CONDITION_FLAG_IS_CONNECTION_REDIRECTED;
    if (!pass(c, LK_FLOW_ESTABLISHED, &e, WFP_HOST_DISCARD_FILTER)) {
        if (!c->err)
            wfpi_flow_remove(c->h, f);
        return false;
    }
    if (f->key.proto == WFP_IPPROTO_TCP)
        f->tcp = TCP_ESTABLISHED;
    return true;
}

/* ---- redirection (§5.5) ------------------------------------------------------ */

static void bind_request_init(wfp_bind_request *br, const shim_item *b)
{
    memset(br, 0, sizeof *br);
    br->ip_version = b->ver;
    br->local_address_set = !b->laddr_empty;
    memcpy(br->local_address, b->laddr, 16);
    br->local_port = b->lport;
}

/* The callout's rewrite of the local tuple, into the bind item `b` and the
 * connection's item `it` (optional). */
static void bind_apply(const wfp_bind_request *br, shim_item *b, shim_item *it)
{
    if (!br->redirected)
        return;
    if (br->local_address_set) {
        memcpy(b->laddr, br->local_address, 16);
        if (b->ver == FWP_IP_VERSION_V4)
            memset(b->laddr + 4, 0, 12);
        b->laddr_empty = false;
    }
    if (b->has_ports)
        b->lport = br->local_port;
    if (it) {
        if (br->local_address_set)
            memcpy(it->laddr, b->laddr, 16);
        it->lport = b->lport;
    }
}

/* Implicit bind of a client socket: BIND_REDIRECT then
 * RESOURCE_ASSIGNMENT with the stack-chosen port; a wildcard bind
 * (IS_WILDCARD_BIND, IP_LOCAL_ADDRESS EMPTY; §5.2, C38) unless the socket
 * is configured with the packet's local address. A bind redirect changes
 * the connection's local tuple. */
static bool bind_implicit(shim_ctx *c, shim_item *it, uint32_t proc)
{
    shim_item b = *it;
    wfp_bind_request br;
    const host_sock *s;
    if (c->inj || c->completing)
        return true; /* an injected copy is no socket call; a completed connect bound already */
    s = wfpi_host_socket_of(c->h, it->proto, it->lport, false);
    b.proc = proc_of(c, proc);
    b.laddr_empty = !(s && s->has_addr && s->ver == it->ver && memcmp(s->addr, it->laddr, 16) == 0);
    b.iface = NULL;
    b.flags = 0;
    b.flow_id = 0;
    bind_request_init(&br, &b);
    b.layer_data = &br;
    if (!pass(c, LK_BIND_REDIRECT, &b, WFP_HOST_DISCARD_FILTER))
        return false;
    b.layer_data = NULL;
    bind_apply(&br, &b, it);
    b.flags = b.laddr_empty ? FWP_CONDITION_FLAG_IS_WILDCARD_BIND : 0; /* documented at RESOURCE_ASSIGNMENT */
    return pass(c, LK_RESOURCE_ASSIGNMENT, &b, WFP_HOST_DISCARD_FILTER);
}

/* CONNECT_REDIRECT (writable wfp_connect_request) → AUTH_CONNECT. A
 * redirect rewrites the remote of `it` for AUTH_CONNECT and the rest of
 * the connection. */
static bool connect_auth(shim_ctx *c, shim_item *it, uint32_t proc)
{
    shim_item a = *it;
    wfp_connect_request cr;
    a.proc = proc_of(c, proc);
    memset(&cr, 0, sizeof cr);
    cr.ip_version = it->ver;
    memcpy(cr.remote_address, it->raddr, 16);
    cr.remote_port = it->rport;
    a.layer_data = &cr;
    if (c->completing) {
        /* FwpsCompleteOperation0: AUTH_CONNECT again at once, as a
         * reauthorization, with the remote it saw when it pended */
        memcpy(it->raddr, c->completing->raddr, 16);
        it->rport = c->completing->rport;
        it->conn_redirected = c->completing->conn_redirected;
        memcpy(a.raddr, it->raddr, 16);
        a.rport = it->rport;
        if (it->conn_redirected)
            a.flags |= FWP_CONDITION_FLAG_IS_CONNECTION_REDIRECTED;
        a.flags |= FWP_CONDITION_FLAG_IS_REAUTHORIZE;
        a.reauth_reason = FWP_CONDITION_REAUTHORIZE_REASON_CLASSIFY_COMPLETION;
        a.layer_data = NULL;
        return pass(c, LK_CONNECT, &a, WFP_HOST_DISCARD_FILTER);
    }
    /* an injected copy is authorized ("ALE, optional") but is no connect() to redirect */
    if (!c->inj && !pass(c, LK_CONNECT_REDIRECT, &a, WFP_HOST_DISCARD_FILTER))
        return false;
    a.layer_data = NULL;
    if (cr.redirected) {
        memcpy(it->raddr, cr.remote_address, 16);
        if (it->ver == FWP_IP_VERSION_V4)
            memset(it->raddr + 4, 0, 12);
        if (it->proto == WFP_IPPROTO_TCP || it->proto == WFP_IPPROTO_UDP)
            it->rport = cr.remote_port;
        it->conn_redirected = true;
        memcpy(a.raddr, it->raddr, 16);
        a.rport = it->rport;
        a.flags |= FWP_CONDITION_FLAG_IS_CONNECTION_REDIRECTED;
    }
    return pass(c, LK_CONNECT, &a, WFP_HOST_DISCARD_FILTER);
}

/* After a redirect the flow is keyed by the new (wire) tuple and remembers
 * the application's: later outbound packets addressed as the application
 * sees the connection are found through it and rewritten. Inbound packets
 * are wire packets: replies from the new remote match the flow directly. */
static host_flow *find_flow_out(shim_ctx *c, shim_item *it, flow_key *k)
{
    wfp_host *h = c->h;
    host_flow *f = wfpi_flow_find(h, k, c->now);
    if (f || !h->nredirected)
        return f;
    for (size_t i = 0; i < h->flows.n; i++) {
        host_flow *r = h->flows.v[i];
        if (r->dead || !r->redirected || memcmp(&r->orig, k, sizeof *k) != 0)
            continue;
        f = wfpi_flow_find(h, &r->key, c->now); /* NULL if it expired */
        if (!f)
            return NULL;
        memcpy(it->laddr, f->key.laddr, 16);
        memcpy(it->raddr, f->key.raddr, 16);
        if (it->proto == WFP_IPPROTO_TCP || it->proto == WFP_IPPROTO_UDP) {
            it->lport = f->key.lport;
            it->rport = f->key.rport;
        }
        *k = f->key;
        return f;
    }
    return NULL;
}

/* OUTBOUND_TRANSPORT → OUTBOUND_IPPACKET. */
static bool out_tail(shim_ctx *c, const shim_item *it, uint32_t discard)
{
    shim_item t = *it;
    if (!pass(c, LK_OUT_TRANSPORT, &t, discard))
        return false;
    t.proc = NULL;
    return pass(c, LK_OUT_IPPACKET, &t, discard);
}

/* ---- stack responses -------------------------------------------------------- */

static void send_rst(shim_ctx *c, const shim_item *in)
{
    shim_item r = *in;
    r.item = WFP_HOST_ITEM_RESPONSE;
    r.direction = FWP_DIRECTION_OUTBOUND;
    r.proc = NULL;
    r.flow_id = 0;
    r.has_discard = false;
    r.ale_classify_required = false;
    if (out_tail(c, &r, WFP_HOST_DISCARD_NONE)) {
        c->out->response_sent = true;
        c->h->stats.rst_sent++;
    }
}

static void send_unreachable(shim_ctx *c, const shim_item *in, bool port)
{
    shim_item r = *in;
    r.item = WFP_HOST_ITEM_RESPONSE;
    r.direction = FWP_DIRECTION_OUTBOUND;
    r.proc = NULL;
    r.flow_id = 0;
    r.has_discard = false;
    r.ale_classify_required = false;
    r.has_ports = true;
    if (in->ver == FWP_IP_VERSION_V4) {
        r.proto = WFP_IPPROTO_ICMP;
        r.lport = ICMP4_UNREACH;
        r.rport = port ? 3 : 2;
    } else {
        r.proto = WFP_IPPROTO_ICMPV6;
        r.lport = port ? ICMP6_UNREACH : ICMP6_PARAM_PROBLEM;
        r.rport = port ? 4 : 1;
    }
    if (pass(c, LK_OUT_ICMP_ERR, &r, WFP_HOST_DISCARD_NONE) && out_tail(c, &r, WFP_HOST_DISCARD_NONE)) {
        c->out->response_sent = true;
        c->h->stats.icmp_errors_sent++;
    }
}

/* TCP to no endpoint: INBOUND_TRANSPORT_DISCARD (InetDiscardEndpointNotFound),
 * then a RST unless that classify blocked (§6.3) or the segment was a RST. */
static void tcp_no_endpoint(shim_ctx *c, const shim_item *it, bool rst_allowed, uint32_t discard)
{
    bool permitted = stack_drop(c, LK_IN_TRANSPORT, it, WFPI_DISCARD_MODULE_TRANSPORT,
                                WFPI_INET_DISCARD_ENDPOINT_NOT_FOUND, discard);
    if (permitted && rst_allowed && !c->err)
        send_rst(c, it);
}

/* A datagram with no socket: INBOUND_IPPACKET_DISCARD, then the ICMP error
 * unless that classify blocked (§6.5) or the destination was not unicast. */
static void dgram_unreachable(shim_ctx *c, const shim_item *it, bool port)
{
    bool permitted = stack_drop(c, LK_IN_IPPACKET, it, WFPI_DISCARD_MODULE_NETWORK,
                                port ? WFPI_IP_DISCARD_PORT_UNREACHABLE : WFPI_IP_DISCARD_PROTOCOL_UNREACHABLE,
                                port ? WFP_HOST_DISCARD_PORT_UNREACHABLE : WFP_HOST_DISCARD_PROTOCOL_UNREACHABLE);
    if (permitted && !c->err && wfpi_addr_type(it->ver, it->laddr) == WFPI_NLAT_UNICAST)
        send_unreachable(c, it, port);
}

/* ---- TCP ---------------------------------------------------------------- */

static void tcp_update_close(wfp_host *h, host_flow *f, uint8_t flags, bool inbound)
{
    if (flags & WFP_TCP_RST) {
        wfpi_flow_remove(h, f);
        return;
    }
    if (flags & WFP_TCP_FIN) {
        if (inbound)
            f->fin_in = true;
        else
            f->fin_out = true;
        if (f->fin_in && f->fin_out) {
            f->tcp = TCP_CLOSED;
            wfpi_flow_queue_closure(h, f); /* the connection ended; TIME_WAIT lingers */
        }
    }
}

static void tcp_in(shim_ctx *c, const wfp_packet *p, shim_item *it)
{
    wfp_host *h = c->h;
    uint8_t fl = p->tcp.flags;
    bool syn = (fl & WFP_TCP_SYN) && !(fl & WFP_TCP_ACK);
    flow_key k;
    host_flow *f;
    key_of(it, p, &k);
    f = wfpi_flow_find(h, &k, c->now);
    if (f && f->tcp == TCP_CLOSED && syn) {
        wfpi_flow_remove(h, f); /* a new connection on a TIME_WAIT tuple */
        f = NULL;
    }
    if (!f) {
        if (syn) {
            host_ep *ep = wfpi_host_ep_find(h, WFP_IPPROTO_TCP, it->ver, it->laddr, it->lport, true);
            uint32_t proc;
            if (!ep) {
                tcp_no_endpoint(c, it, true, WFP_HOST_DISCARD_NO_LISTENER);
                return;
            }
            proc = ep->proc;
            /* §6.1 steps 10-12 */
            it->ale_classify_required = true;
            if (!pass(c, LK_IN_TRANSPORT, it, WFP_HOST_DISCARD_FILTER))
                return;
            it->ale_classify_required = false;
            it->proc = proc_of(c, proc);
            if (!pass(c, LK_RECV_ACCEPT, it, WFP_HOST_DISCARD_FILTER))
                return;
            f = new_flow(c, &k, it, LK_RECV_ACCEPT, proc);
            if (f)
                f->tcp = TCP_SYN_RCVD;
            return;
        }
        if (h->adopt_midstream && !(fl & WFP_TCP_RST)) {
            /* sim-defined: a capture that starts mid-connection */
            host_ep *ep = wfpi_host_ep_find(h, WFP_IPPROTO_TCP, it->ver, it->laddr, it->lport, true);
            uint32_t proc = ep ? ep->proc : wfpi_host_owner(h, WFP_IPPROTO_TCP, it->lport, false);
            it->ale_classify_required = true;
            if (!pass(c, LK_IN_TRANSPORT, it, WFP_HOST_DISCARD_FILTER))
                return;
            it->ale_classify_required = false;
            it->proc = proc_of(c, proc);
            if (!pass(c, LK_RECV_ACCEPT, it, WFP_HOST_DISCARD_FILTER))
                return;
            f = new_flow(c, &k, it, LK_RECV_ACCEPT, proc);
            if (!f)
                return;
            it->flow_id = f->id;
            if (!flow_established(c, f, it))
                return;
        } else {
            tcp_no_endpoint(c, it, !(fl & WFP_TCP_RST), WFP_HOST_DISCARD_NO_CONNECTION);
            return;
        }
    } else {
        it->flow_id = f->id;
        c->out->flow_id = f->id;
        it->ale_classify_required = f->reauth_pending;
        if (!pass(c, LK_IN_TRANSPORT, it, WFP_HOST_DISCARD_FILTER))
            return;
        it->ale_classify_required = false;
        if (f->reauth_pending && !reauth(c, f, it))
            return;
        f->last_ns = c->now;
        /* §6.1 step 17 (client, SYN-ACK in) and step 22 (server, final ACK in) */
        if ((f->tcp == TCP_SYN_SENT && (fl & WFP_TCP_SYN) && (fl & WFP_TCP_ACK)) ||
            (f->tcp == TCP_SYN_RCVD && (fl & WFP_TCP_ACK) && !(fl & WFP_TCP_SYN) && !(fl & WFP_TCP_RST))) {
            if (!flow_established(c, f, it))
                return;
        }
    }
    /* §6.2: receiver STREAM after TRANSPORT */
    if (p->payload_len > 0 && f->tcp == TCP_ESTABLISHED) {
        shim_item s = *it;
        s.proc = NULL;
        if (!pass(c, LK_STREAM, &s, WFP_HOST_DISCARD_FILTER))
            return;
    }
    tcp_update_close(h, f, fl, true);
}

static void tcp_out(shim_ctx *c, const wfp_packet *p, shim_item *it)
{
    wfp_host *h = c->h;
    uint8_t fl = p->tcp.flags;
    bool syn = (fl & WFP_TCP_SYN) && !(fl & WFP_TCP_ACK);
    flow_key k;
    host_flow *f;
    key_of(it, p, &k);
    f = find_flow_out(c, it, &k);
    if (f && f->tcp == TCP_CLOSED && syn) {
        wfpi_flow_remove(h, f);
        f = NULL;
    }
    if (!f) {
        uint32_t proc = wfpi_host_owner(h, WFP_IPPROTO_TCP, it->lport, false);
        if (syn) {
            /* §6.1 steps 4-9 */
            if (!bind_implicit(c, it, proc) || !connect_auth(c, it, proc))
                return;
            f = new_out_flow(c, it, p, &k, proc);
            if (!f)
                return;
            f->tcp = TCP_SYN_SENT;
            f->implicit_bind = true;
            it->flow_id = f->id;
            if (out_tail(c, it, WFP_HOST_DISCARD_FILTER))
                f->last_ns = c->now;
            return;
        }
        if (fl & WFP_TCP_RST) {
            /* a reset the stack sends for a segment of no connection */
            (void)out_tail(c, it, WFP_HOST_DISCARD_FILTER);
            return;
        }
        if (!h->adopt_midstream) {
            set_drop(c, UINT16_MAX, NULL, WFP_HOST_DISCARD_NO_CONNECTION);
            return;
        }
        if (!connect_auth(c, it, proc))
            return;
        f = new_out_flow(c, it, p, &k, proc);
        if (!f)
            return;
        it->flow_id = f->id;
        if (!flow_established(c, f, it))
            return;
    } else {
        it->flow_id = f->id;
        c->out->flow_id = f->id;
        if (f->reauth_pending && !reauth(c, f, it))
            return;
    }
    /* §6.2: sender STREAM before TRANSPORT */
    if (p->payload_len > 0 && f->tcp == TCP_ESTABLISHED) {
        shim_item s = *it;
        s.proc = NULL;
        if (!pass(c, LK_STREAM, &s, WFP_HOST_DISCARD_FILTER))
            return;
    }
    if (!out_tail(c, it, WFP_HOST_DISCARD_FILTER))
        return;
    f->last_ns = c->now;
    tcp_update_close(h, f, fl, false);
}

/* ---- UDP, ICMP queries, other protocols (the UDP pattern, §6.5, §6.6) ------ */

static bool has_proto_socket(const wfp_host *h, uint8_t proto)
{
    for (size_t i = 0; i < h->nsocks; i++)
        if (h->socks[i].proto == proto || h->socks[i].proto == WFP_SOCK_ANY)
            return true;
    return false;
}

/* ---- multicast and broadcast (C37; W32 ale-multicast-broadcast-traffic) ---- */

/* An inbound datagram with no flow of its own, its socket found. Returns
 * false to leave it to the unicast path. Admitted by a live outbound
 * multicast/broadcast state: INBOUND_TRANSPORT → DATAGRAM_DATA, no ALE,
 * FLOW_HANDLE of that state, which it does not refresh and to which it adds
 * no flow. Otherwise, addressed to a multicast/broadcast group: Windows
 * maps all such traffic to one global ALE flow and reauthorizes it per
 * packet, so every datagram is classified at RECV_ACCEPT (IS_REAUTHORIZE,
 * reason NEW_INBOUND_MCAST_BCAST_PACKET) and no per-peer flow is created
 * (sim-defined: the global flow itself is not represented; no FLOW_HANDLE,
 * no FLOW_ESTABLISHED; a block drops that datagram only). */
static bool dgram_in_mcast(shim_ctx *c, shim_item *it, const flow_key *k, uint32_t proc)
{
    host_flow *st = wfpi_flow_mcast_state(c->h, k, c->now);
    shim_item d;
    if (st) {
        it->flow_id = st->id;
        c->out->flow_id = st->id;
        if (!pass(c, LK_IN_TRANSPORT, it, WFP_HOST_DISCARD_FILTER))
            return true;
    } else if (wfpi_addr_is_mcast_bcast(it->ver, it->laddr)) {
        it->ale_classify_required = true;
        if (!pass(c, LK_IN_TRANSPORT, it, WFP_HOST_DISCARD_FILTER))
            return true;
        it->ale_classify_required = false;
        it->proc = proc_of(c, proc);
        it->flags |= FWP_CONDITION_FLAG_IS_REAUTHORIZE;
        it->reauth_reason = FWP_CONDITION_REAUTHORIZE_REASON_NEW_INBOUND_MCAST_BCAST_PACKET;
        if (!pass(c, LK_RECV_ACCEPT, it, WFP_HOST_DISCARD_FILTER))
            return true;
        it->flags &= ~FWP_CONDITION_FLAG_IS_REAUTHORIZE;
        it->reauth_reason = 0;
    } else {
        return false;
    }
    d = *it;
    d.proc = NULL;
    (void)pass(c, LK_DATAGRAM, &d, WFP_HOST_DISCARD_FILTER);
    return true;
}

static void dgram_in(shim_ctx *c, const wfp_packet *p, shim_item *it)
{
    wfp_host *h = c->h;
    flow_key k;
    host_flow *f;
    shim_item d;
    key_of(it, p, &k);
    f = wfpi_flow_find(h, &k, c->now);
    if (f) {
        it->flow_id = f->id;
        c->out->flow_id = f->id;
        it->ale_classify_required = f->reauth_pending;
        if (!pass(c, LK_IN_TRANSPORT, it, WFP_HOST_DISCARD_FILTER))
            return;
        it->ale_classify_required = false;
        if (f->reauth_pending && !reauth(c, f, it))
            return;
    } else {
        uint32_t proc = UINT32_MAX; /* System */
        if (it->proto == WFP_IPPROTO_UDP) {
            host_ep *ep = wfpi_host_ep_find(h, WFP_IPPROTO_UDP, it->ver, it->laddr, it->lport, false);
            if (!ep) {
                dgram_unreachable(c, it, true);
                return;
            }
            proc = ep->proc;
        } else if (!is_icmp(it->proto)) {
            if (!has_proto_socket(h, it->proto)) {
                dgram_unreachable(c, it, false);
                return;
            }
            proc = wfpi_host_owner(h, it->proto, 0, false);
        }
        if (dgram_in_mcast(c, it, &k, proc))
            return;
        /* §6.5 step 5: INBOUND_TRANSPORT → RECV_ACCEPT → FLOW_ESTABLISHED → DATAGRAM_DATA */
        it->ale_classify_required = true;
        if (!pass(c, LK_IN_TRANSPORT, it, WFP_HOST_DISCARD_FILTER))
            return;
        it->ale_classify_required = false;
        it->proc = proc_of(c, proc);
        if (!pass(c, LK_RECV_ACCEPT, it, WFP_HOST_DISCARD_FILTER))
            return;
        f = new_flow(c, &k, it, LK_RECV_ACCEPT, proc);
        if (!f)
            return;
        it->flow_id = f->id;
        if (!flow_established(c, f, it))
            return;
    }
    f->last_ns = c->now;
    d = *it;
    d.proc = NULL;
    (void)pass(c, LK_DATAGRAM, &d, WFP_HOST_DISCARD_FILTER);
}

static void dgram_out(shim_ctx *c, const wfp_packet *p, shim_item *it)
{
    wfp_host *h = c->h;
    flow_key k;
    host_flow *f;
    shim_item d;
    key_of(it, p, &k);
    f = find_flow_out(c, it, &k);
    if (f) {
        it->flow_id = f->id;
        c->out->flow_id = f->id;
        if (f->reauth_pending && !reauth(c, f, it))
            return;
    } else {
        uint32_t proc = wfpi_host_owner(h, it->proto, it->lport, false);
        if (it->proto == WFP_IPPROTO_UDP) {
            host_ep *ep = wfpi_host_ep_find(h, WFP_IPPROTO_UDP, it->ver, it->laddr, it->lport, false);
            if (ep) {
                proc = ep->proc;
            } else if (!c->inj && !c->completing) {
                host_ep ne;
                /* §6.5 step 2: the client's implicit bind on first send */
                if (!bind_implicit(c, it, proc))
                    return;
                memset(&ne, 0, sizeof ne);
                ne.proto = WFP_IPPROTO_UDP;
                ne.ver = it->ver;
                ne.port = it->lport;
                ne.proc = proc;
                ne.implicit = true;
                if (!wfpi_host_ep_add(h, &ne)) {
                    c->err = ERROR_NOT_ENOUGH_MEMORY;
                    return;
                }
            }
        }
        /* §6.5 step 3 */
        if (!connect_auth(c, it, proc))
            return;
        f = new_out_flow(c, it, p, &k, proc);
        if (!f)
            return;
        if (wfpi_addr_is_mcast_bcast(it->ver, it->raddr))
            wfpi_flow_set_mcast(h, f); /* C37: 4 s state admitting any inbound */
        it->flow_id = f->id;
        if (!flow_established(c, f, it))
            return;
        if (c->completing) {
            /* the pended datagram itself was flushed; the flow now admits the next */
            set_drop(c, UINT16_MAX, NULL, WFP_HOST_DISCARD_PEND_FLUSHED);
            return;
        }
    }
    /* §6.5 step 4 */
    d = *it;
    d.proc = NULL;
    if (!pass(c, LK_DATAGRAM, &d, WFP_HOST_DISCARD_FILTER) || !out_tail(c, &d, WFP_HOST_DISCARD_FILTER))
        return;
    f->last_ns = c->now;
}

/* ---- ICMP errors (§6.6) ------------------------------------------------------ */

static void icmp_err_in(shim_ctx *c, const wfp_packet *p, shim_item *it)
{
    const wfp_packet_inner *in = &p->inner;
    if (in->present) {
        it->has_emb = true;
        it->emb_proto = in->protocol;
        /* the quoted packet is one this host sent: its source is local */
        memcpy(it->emb_laddr, in->src, 16);
        memcpy(it->emb_raddr, in->dst, 16);
        if (in->has_ports) {
            it->emb_ports = true;
            it->emb_lport = in->sport;
            it->emb_rport = in->dport;
        } else if (in->has_icmp) {
            it->emb_ports = true;
            it->emb_lport = in->icmp_type;
            it->emb_rport = in->icmp_code;
        }
    }
    (void)pass(c, LK_IN_ICMP_ERR, it, WFP_HOST_DISCARD_FILTER);
}

static void icmp_err_out(shim_ctx *c, shim_item *it)
{
    if (!pass(c, LK_OUT_ICMP_ERR, it, WFP_HOST_DISCARD_FILTER))
        return;
    (void)out_tail(c, it, WFP_HOST_DISCARD_FILTER);
}

/* ---- paths ------------------------------------------------------------------ */

static void transport_in(shim_ctx *c, const wfp_packet *p, shim_item *it)
{
    if (p->protocol == WFP_IPPROTO_TCP)
        tcp_in(c, p, it);
    else if (is_icmp(p->protocol) && p->icmp.is_error)
        icmp_err_in(c, p, it);
    else
        dgram_in(c, p, it);
}

static void path_in(shim_ctx *c, const wfp_packet *p, const host_if *ifc)
{
    shim_item it;
    item_from_packet(c, &it, p, true, ifc, WFP_HOST_ITEM_PACKET);
    if (!pass(c, LK_IN_IPPACKET, &it, WFP_HOST_DISCARD_FILTER))
        return;
    transport_in(c, p, &it);
}

static void path_out(shim_ctx *c, const wfp_packet *p, const host_if *ifc)
{
    shim_item it;
    item_from_packet(c, &it, p, false, ifc, WFP_HOST_ITEM_PACKET);
    if (p->protocol == WFP_IPPROTO_TCP)
        tcp_out(c, p, &it);
    else if (is_icmp(p->protocol) && p->icmp.is_error)
        icmp_err_out(c, &it);
    else
        dgram_out(c, p, &it);
}

/* Adds a fragment; returns the whole datagram when it completes. */
static const wfp_packet *reassemble(shim_ctx *c, const wfp_packet *p)
{
    wfp_host *h = c->h;
    int rc = wfp_reasm_add(h->reasm, p, h->reasm_buf, WFP_REASM_OUT_MAX, &h->whole);
    if (rc == WFP_REASM_COMPLETE)
        return &h->whole;
    if (rc == WFP_REASM_PENDING || rc == WFP_REASM_DUPLICATE)
        c->out->held = true;
    else
        set_drop(c, UINT16_MAX, NULL, WFP_HOST_DISCARD_REASSEMBLY_FAILED);
    return NULL;
}

/* §6.7: each inbound fragment at INBOUND_IPPACKET as a packet and as a
 * fragment (IS_FRAGMENT); the datagram once more when whole
 * (IS_REASSEMBLED), then the transport path. */
static void fragment_in(shim_ctx *c, const wfp_packet *p, const host_if *ifc)
{
    shim_item it;
    const wfp_packet *w;
    item_from_packet(c, &it, p, true, ifc, WFP_HOST_ITEM_PACKET);
    it.has_ports = false; /* a fragment's ports are not known at the network layer */
    if (!pass(c, LK_IN_IPPACKET, &it, WFP_HOST_DISCARD_FILTER))
        return;
    it.item = WFP_HOST_ITEM_FRAGMENT;
    it.flags |= FWP_CONDITION_FLAG_IS_FRAGMENT;
    if (!pass(c, LK_IN_IPPACKET, &it, WFP_HOST_DISCARD_FILTER))
        return;
    w = reassemble(c, p);
    if (!w)
        return;
    item_from_packet(c, &it, w, true, ifc, WFP_HOST_ITEM_REASSEMBLED);
    it.flags |= FWP_CONDITION_FLAG_IS_REASSEMBLED;
    if (!pass(c, LK_IN_IPPACKET, &it, WFP_HOST_DISCARD_FILTER))
        return;
    it.flags &= ~FWP_CONDITION_FLAG_IS_REASSEMBLED;
    transport_in(c, w, &it);
}

/* §6.8: with forwarding on, a packet for no local address is classified
 * at IPFORWARD (a block: IPFORWARD_DISCARD) and nowhere else. Sim-defined:
 * the arrival and the forward interface are the same (the named one, else
 * the first); fragments are forwarded as they are (IS_FRAGMENT), not
 * reassembled; PACKET_DIRECTION is inbound. */
static void forward(shim_ctx *c, const wfp_packet *p, const host_if *forced)
{
    shim_item it;
    item_from_packet(c, &it, p, true, forced ? forced : &c->h->ifs[0], WFP_HOST_ITEM_PACKET);
    it.forward = true;
    it.has_ports = false;
    if (p->is_fragment)
        it.flags |= FWP_CONDITION_FLAG_IS_FRAGMENT;
    c->forwarded = true;
    (void)pass(c, LK_IPFORWARD, &it, WFP_HOST_DISCARD_FILTER);
}

void wfpi_shim_packet(shim_ctx *c, const wfp_packet *p, const host_if *forced)
{
    wfp_host *h = c->h;
    uint8_t ver;
    bool src_local, dst_local;
    const host_if *ifc;
    if (p->ip_version != 4 && p->ip_version != 6) {
        set_drop(c, UINT16_MAX, NULL,
                 p->status == WFP_PARSE_NOT_IP ? WFP_HOST_DISCARD_NOT_IP : WFP_HOST_DISCARD_MALFORMED);
        return;
    }
    ver = p->ip_version == 6 ? FWP_IP_VERSION_V6 : FWP_IP_VERSION_V4;
    src_local = wfpi_host_is_local(h, ver, p->src);
    dst_local = wfpi_host_is_local(h, ver, p->dst) ||
                (!src_local && wfpi_addr_is_mcast_bcast(ver, p->dst));
    if (!src_local && !dst_local) {
        c->out->path = WFP_HOST_PATH_FORWARD;
        if (h->forwarding)
            forward(c, p, forced);
        else
            set_drop(c, UINT16_MAX, NULL, WFP_HOST_DISCARD_NOT_LOCAL);
        return;
    }
    if (p->status != WFP_PARSE_OK || (!p->is_fragment && !p->has_l4 &&
                                      (p->protocol == WFP_IPPROTO_TCP || p->protocol == WFP_IPPROTO_UDP ||
                                       is_icmp(p->protocol)))) {
        c->out->path = src_local && dst_local ? WFP_HOST_PATH_LOOPBACK
                       : dst_local             ? WFP_HOST_PATH_INBOUND
                                               : WFP_HOST_PATH_OUTBOUND;
        set_drop(c, UINT16_MAX, NULL, WFP_HOST_DISCARD_MALFORMED);
        return;
    }
    if (src_local && dst_local) {
        /* §6.9: both halves, IS_LOOPBACK; fragments are reassembled first
         * (the loopback path does not fragment; sim-defined) */
        c->out->path = WFP_HOST_PATH_LOOPBACK;
        c->loopback = true;
        ifc = forced ? forced : wfpi_host_loopback_if(h);
        if (p->is_fragment) {
            p = reassemble(c, p);
            if (!p)
                return;
        }
        path_out(c, p, ifc);
        if (!c->dropped && !c->err)
            path_in(c, p, ifc);
        return;
    }
    if (dst_local) {
        c->out->path = WFP_HOST_PATH_INBOUND;
        ifc = forced ? forced : wfpi_host_if_for(h, ver, p->dst);
        if (p->is_fragment)
            fragment_in(c, p, ifc);
        else
            path_in(c, p, ifc);
        return;
    }
    c->out->path = WFP_HOST_PATH_OUTBOUND;
    ifc = forced ? forced : wfpi_host_if_for(h, ver, p->src);
    if (p->is_fragment) {
        /* §6.7: outbound fragments are never indicated; the datagram is
         * classified once, before fragmentation */
        p = reassemble(c, p);
        if (!p)
            return;
    }
    path_out(c, p, ifc);
}

/* ---- injected stream data (DDI FwpsStreamInjectAsync0) ---------------------- */

/* The data joins its flow's stream: classified at STREAM by the sublayers
 * below the injecting callout's only, then sent (OUTBOUND_TRANSPORT,
 * OUTBOUND_IPPACKET) or delivered. A flow that ended meanwhile takes
 * nothing. */
void wfpi_shim_stream_injected(shim_ctx *c, const wfp_packet *p)
{
    wfp_host *h = c->h;
    host_flow *f = wfpi_flow_by_id(h, c->inj->flow_id);
    uint8_t ver = p->ip_version == 6 ? FWP_IP_VERSION_V6 : FWP_IP_VERSION_V4;
    bool out = wfpi_host_is_local(h, ver, p->src);
    shim_item it;
    c->out->path = out ? WFP_HOST_PATH_OUTBOUND : WFP_HOST_PATH_INBOUND;
    if (!f || f->dead || f->tcp != TCP_ESTABLISHED) {
        set_drop(c, UINT16_MAX, NULL, WFP_HOST_DISCARD_NO_CONNECTION);
        return;
    }
    c->loopback = f->loopback;
    item_from_packet(c, &it, p, !out, f->ifpos < h->nifs ? &h->ifs[f->ifpos] : NULL, WFP_HOST_ITEM_PACKET);
    it.flow_id = f->id;
    c->out->flow_id = f->id;
    it.below_sublayer = true;
    it.below_sublayer_weight = c->inj->below_sublayer_weight;
    if (!pass(c, LK_STREAM, &it, WFP_HOST_DISCARD_FILTER))
        return;
    it.below_sublayer = false;
    if (out && !out_tail(c, &it, WFP_HOST_DISCARD_FILTER))
        return;
    f->last_ns = c->now;
}

/* ---- closure: ENDPOINT_CLOSURE, RESOURCE_RELEASE (§5.2) -------------------- */

static bool port_in_use(const wfp_host *h, uint8_t ver, uint8_t proto, uint16_t lport)
{
    for (size_t i = 0; i < h->flows.n; i++) {
        const host_flow *f = h->flows.v[i];
        if (!f->dead && f->key.ver == ver && f->key.proto == proto && f->key.lport == lport)
            return true;
    }
    return false;
}

static void closure_classify(shim_ctx *c, int lk, const shim_item *it)
{
    wfp_verdict v;
    /* notification layers: a block there changes nothing */
    if (!c->err)
        (void)wfpi_classify(c, c->h->lid[lk][it->ver], it, &v);
}

/* One queued flow: a TCP connection that ended classifies ENDPOINT_CLOSURE
 * (one per AUTH_CONNECT / RECV_ACCEPT), then RESOURCE_RELEASE if its connect
 * bound the port. A UDP flow's end releases an implicitly bound client port
 * once no live flow uses it: ENDPOINT_CLOSURE (once per endpoint) then
 * RESOURCE_RELEASE; the port is unbound (a later send binds it again). */
static void closure_one(shim_ctx *c, const host_flow *f)
{
    wfp_host *h = c->h;
    shim_item it;
    bool release;
    memset(&it, 0, sizeof it);
    it.item = WFP_HOST_ITEM_CLOSURE;
    it.ver = f->key.ver;
    it.proto = f->key.proto;
    memcpy(it.laddr, f->key.laddr, 16);
    memcpy(it.raddr, f->key.raddr, 16);
    it.has_ports = true;
    it.lport = f->key.lport;
    it.rport = f->key.rport;
    it.direction = f->direction;
    it.flags = f->loopback ? FWP_CONDITION_FLAG_IS_LOOPBACK : 0;
    it.iface = &h->ifs[f->ifpos];
    it.proc = proc_of(c, f->proc);
    it.flow_id = f->id;
    if (f->key.proto == WFP_IPPROTO_TCP) {
        release = f->implicit_bind;
    } else {
        host_ep *ep = wfpi_host_ep_find(h, f->key.proto, f->key.ver, NULL, f->key.lport, false);
        if (!ep || !ep->implicit || port_in_use(h, f->key.ver, f->key.proto, f->key.lport))
            return;
        it.proc = proc_of(c, ep->proc);
        memmove(ep, ep + 1, (size_t)(&h->eps[h->neps] - (ep + 1)) * sizeof *ep); /* unbound */
        h->neps--;
        release = true;
    }
    closure_classify(c, LK_ENDPOINT_CLOSURE, &it);
    if (release) {
        /* mirrors the implicit bind's RESOURCE_ASSIGNMENT: wildcard, local address EMPTY */
        it.laddr_empty = true;
        it.iface = NULL;
        it.flags = 0;
        it.flow_id = 0;
        closure_classify(c, LK_RESOURCE_RELEASE, &it);
    }
}

void wfpi_shim_closures(shim_ctx *c)
{
    wfp_host *h = c->h;
    if (h->closing_oom && !c->err) {
        h->closing_oom = false;
        c->err = ERROR_NOT_ENOUGH_MEMORY;
    }
    for (size_t i = 0; i < h->nclosing && !c->err; i++)
        closure_one(c, &h->closing[i]);
    h->nclosing = 0;
}

/* ---- sockets at start: bind and listen (§6.1 steps 1-3, §6.5 step 1) --------- */

static bool host_has_family(const wfp_host *h, uint8_t ver)
{
    for (size_t i = 0; i < h->naddrs; i++)
        if (h->addrs[i].ver == ver)
            return true;
    return false;
}

static void bind_socket(shim_ctx *c, const host_sock *s, uint8_t ver, uint16_t port)
{
    wfp_host *h = c->h;
    shim_item it;
    host_ep ep;
    wfp_bind_request br;
    bool ok;
    memset(&it, 0, sizeof it);
    it.item = WFP_HOST_ITEM_SOCKET;
    it.ver = ver;
    it.proto = s->proto;
    it.has_ports = true;
    it.lport = port;
    it.direction = FWP_DIRECTION_INBOUND;
    it.proc = wfpi_host_proc(h, s->proc);
    if (s->has_addr) {
        memcpy(it.laddr, s->addr, 16);
        it.iface = wfpi_host_if_for(h, ver, s->addr);
    } else {
        it.laddr_empty = true;
    }
    bind_request_init(&br, &it);
    it.layer_data = &br;
    ok = pass(c, LK_BIND_REDIRECT, &it, WFP_HOST_DISCARD_LISTEN_BLOCKED);
    it.layer_data = NULL;
    if (ok && br.redirected) {
        /* §5.5: the socket is bound where the callout says */
        bind_apply(&br, &it, NULL);
        if (!it.laddr_empty)
            it.iface = wfpi_host_if_for(h, ver, it.laddr);
        port = it.lport;
    }
    ok = ok && pass(c, LK_RESOURCE_ASSIGNMENT, &it, WFP_HOST_DISCARD_LISTEN_BLOCKED);
    if (ok && s->proto == WFP_IPPROTO_TCP)
        ok = pass(c, LK_LISTEN, &it, WFP_HOST_DISCARD_LISTEN_BLOCKED);
    if (!ok)
        return; /* a blocked bind or listen leaves the socket closed */
    memset(&ep, 0, sizeof ep);
    ep.proto = s->proto;
    ep.ver = ver;
    ep.port = port;
    ep.listen = s->proto == WFP_IPPROTO_TCP;
    ep.has_addr = !it.laddr_empty;
    memcpy(ep.addr, it.laddr, 16);
    ep.proc = s->proc;
    if (!wfpi_host_ep_add(h, &ep) && !c->err)
        c->err = ERROR_NOT_ENOUGH_MEMORY;
}

bool wfpi_shim_start(shim_ctx *c)
{
    wfp_host *h = c->h;
    for (size_t i = 0; i < h->nsocks && !c->err; i++) {
        const host_sock *s = &h->socks[i];
        bool server;
        if (s->proto == WFP_SOCK_TCP)
            server = s->listen;
        else if (s->proto == WFP_SOCK_UDP)
            server = !(s->lo == 0 && s->hi == 0) && (s->listen || s->lo == s->hi);
        else
            server = false;
        if (!server)
            continue;
        for (uint32_t port = s->lo; port <= s->hi && !c->err; port++) {
            for (uint8_t ver = FWP_IP_VERSION_V4; ver <= FWP_IP_VERSION_V6; ver++) {
                bool fam = s->has_addr ? s->ver == ver
                                       : host_has_family(h, ver) ||
                                             (ver == FWP_IP_VERSION_V4 && !h->naddrs);
                if (fam)
                    bind_socket(c, s, ver, (uint16_t)port);
            }
        }
    }
    return !c->dropped;
}
