/* flows.c — the host's ALE flow table (spec §5.3).
 *
 * Flows live in a vector in creation (= id) order, which is the only order
 * anything iterates them in; a hash index keyed by the flow's tuple (never
 * by pointer) finds them. Removal marks a flow dead and leaves a tombstone
 * in the index; both are compacted when dead entries pile up. Idle UDP and
 * ICMP flows expire on virtual time, lazily when looked up and eagerly in
 * wfpi_flows_expire. TCP flows end with the connection: on RST at once, on
 * FIN in both directions after a TIME_WAIT linger (sim-defined: 120 s, the
 * Windows TcpTimedWaitDelay default). */
#include "host_int.h"

#include <string.h>

#define TCP_TIME_WAIT_NS (120ull * 1000000000ull)
/* W32 ale-multicast-broadcast-traffic: the default lifetime of the state an
 * outbound multicast/broadcast datagram creates (FWP_CLASSIFY_OPTION_
 * MCAST_BCAST_LIFETIME would change it; classify options are not modelled). */
#define MCAST_STATE_NS (4ull * 1000000000ull)

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x;
    h *= 0x100000001b3ull; /* FNV-1a prime, one step per field */
    return h;
}

static uint64_t key_hash(const flow_key *k)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = mix(h, k->ver);
    h = mix(h, k->proto);
    h = mix(h, k->lport);
    h = mix(h, k->rport);
    h = mix(h, k->icmp_id);
    for (int i = 0; i < 16; i++) {
        h = mix(h, k->laddr[i]);
        h = mix(h, k->raddr[i]);
    }
    return h ^ (h >> 29);
}

static bool key_eq(const flow_key *a, const flow_key *b)
{
    return a->ver == b->ver && a->proto == b->proto && a->lport == b->lport &&
           a->rport == b->rport && a->icmp_id == b->icmp_id &&
           memcmp(a->laddr, b->laddr, 16) == 0 && memcmp(a->raddr, b->raddr, 16) == 0;
}

bool wfpi_flows_init(wfp_host *h)
{
    memset(&h->flows, 0, sizeof h->flows);
    h->flows.next_id = 1;
    return true;
}

void wfpi_flows_free(wfp_host *h)
{
    flow_table *t = &h->flows;
    for (size_t i = 0; i < t->n; i++) {
        h->a->free(h->a->ctx, t->v[i]->ctxs);
        h->a->free(h->a->ctx, t->v[i]);
    }
    h->a->free(h->a->ctx, t->v);
    h->a->free(h->a->ctx, t->slots);
    h->a->free(h->a->ctx, t->state);
    memset(t, 0, sizeof *t);
}

/* Rebuilds the index with room for `want` live flows and drops dead ones
 * from the vector (order kept). */
static bool rebuild(wfp_host *h, size_t want)
{
    flow_table *t = &h->flows;
    size_t ns = 16, j = 0;
    host_flow **slots;
    uint8_t *state;
    while (ns < want * 2 + 8)
        ns *= 2;
    slots = h->a->alloc(h->a->ctx, ns * sizeof *slots);
    state = h->a->alloc(h->a->ctx, ns);
    if (!slots || !state) {
        h->a->free(h->a->ctx, slots);
        h->a->free(h->a->ctx, state);
        return false;
    }
    memset(state, 0, ns);
    for (size_t i = 0; i < t->n; i++) {
        host_flow *f = t->v[i];
        if (f->dead) {
            h->a->free(h->a->ctx, f);
            continue;
        }
        t->v[j++] = f;
        size_t s = (size_t)key_hash(&f->key) & (ns - 1);
        while (state[s] == 1)
            s = (s + 1) & (ns - 1);
        slots[s] = f;
        state[s] = 1;
    }
    t->n = j;
    t->dead = 0;
    h->a->free(h->a->ctx, t->slots);
    h->a->free(h->a->ctx, t->state);
    t->slots = slots;
    t->state = state;
    t->nslots = ns;
    t->used = j;
    t->tombs = 0;
    return true;
}

static size_t slot_of(const flow_table *t, const host_flow *f)
{
    size_t s = (size_t)key_hash(&f->key) & (t->nslots - 1);
    while (t->state[s] != 0) {
        if (t->state[s] == 1 && t->slots[s] == f)
            return s;
        s = (s + 1) & (t->nslots - 1);
    }
    return SIZE_MAX;
}

/* TCP flows are connections: their end is indicated at ENDPOINT_CLOSURE
 * (and RESOURCE_RELEASE if the connect bound the port). A UDP flow's end
 * may release its client port; the shim decides when the queue drains. */
void wfpi_flow_queue_closure(wfp_host *h, host_flow *f)
{
    if (!h->closure_events || f->closure_done)
        return;
    if (f->key.proto != WFP_IPPROTO_TCP && f->key.proto != WFP_IPPROTO_UDP)
        return;
    f->closure_done = true;
    if (h->nclosing == h->capclosing) {
        size_t cap = h->capclosing ? h->capclosing * 2 : 8;
        host_flow *n = h->a->realloc(h->a->ctx, h->closing, cap * sizeof *n);
        if (!n) {
            h->closing_oom = true;
            return;
        }
        h->closing = n;
        h->capclosing = cap;
    }
    h->closing[h->nclosing++] = *f;
}

/* The flow ended: the engine drops its contexts and tells each callout
 * through its flowDeleteFn (spec §1.7), in association order. */
static void delete_contexts(wfp_host *h, host_flow *f)
{
    flow_ctx *v = f->ctxs;
    uint32_t n = f->nctx;
    f->ctxs = NULL;
    f->nctx = f->capctx = 0;
    for (uint32_t i = 0; i < n; i++) {
        const host_reg *r = wfpi_host_reg_by_id(h, v[i].callout);
        if (r && r->flow_delete)
            r->flow_delete(r->ctx, v[i].layer, v[i].callout, v[i].context);
    }
    h->a->free(h->a->ctx, v);
}

host_flow *wfpi_flow_by_id(wfp_host *h, uint64_t id)
{
    flow_table *t = &h->flows;
    size_t lo = 0, hi = t->n;
    while (lo < hi) { /* the vector is in id order */
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n && t->v[lo]->id == id && !t->v[lo]->dead ? t->v[lo] : NULL;
}

static void unlink_flow(wfp_host *h, host_flow *f)
{
    flow_table *t = &h->flows;
    size_t s;
    wfpi_flow_queue_closure(h, f);
    delete_contexts(h, f);
    if (f->redirected)
        h->nredirected--;
    if (f->mcast)
        h->nmcast--;
    s = slot_of(t, f);
    if (s != SIZE_MAX) {
        t->state[s] = 2;
        t->used--;
        t->tombs++;
    }
    f->dead = true;
    t->dead++;
    if (t->dead > 64 && t->dead > t->n / 2)
        (void)rebuild(h, t->n - t->dead); /* on failure the tables stay valid */
}

void wfpi_flow_remove(wfp_host *h, host_flow *f)
{
    if (!f || f->dead)
        return;
    h->stats.flows_removed++;
    unlink_flow(h, f);
}

static void expire_flow(wfp_host *h, host_flow *f)
{
    h->stats.flows_expired++;
    unlink_flow(h, f);
}

static bool expired(const wfp_host *h, const host_flow *f, uint64_t now)
{
    uint64_t idle = now >= f->last_ns ? now - f->last_ns : 0;
    if (f->mcast)
        return idle >= MCAST_STATE_NS;
    if (f->key.proto == WFP_IPPROTO_TCP)
        return f->tcp == TCP_CLOSED && idle >= TCP_TIME_WAIT_NS;
    if (f->key.proto == WFP_IPPROTO_ICMP || f->key.proto == WFP_IPPROTO_ICMPV6)
        return idle >= h->icmp_timeout;
    return idle >= h->udp_timeout;
}

host_flow *wfpi_flow_find(wfp_host *h, const flow_key *k, uint64_t now)
{
    flow_table *t = &h->flows;
    size_t s;
    if (!t->nslots)
        return NULL;
    s = (size_t)key_hash(k) & (t->nslots - 1);
    while (t->state[s] != 0) {
        if (t->state[s] == 1 && key_eq(&t->slots[s]->key, k)) {
            host_flow *f = t->slots[s];
            if (expired(h, f, now)) {
                expire_flow(h, f);
                return NULL;
            }
            return f;
        }
        s = (s + 1) & (t->nslots - 1);
    }
    return NULL;
}

host_flow *wfpi_flow_add(wfp_host *h, const flow_key *k, uint64_t now)
{
    flow_table *t = &h->flows;
    host_flow *f;
    size_t s;
    if ((t->used + t->tombs + 1) * 10 >= t->nslots * 7 && !rebuild(h, t->used + 1))
        return NULL;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        host_flow **nv = h->a->realloc(h->a->ctx, t->v, cap * sizeof *nv);
        if (!nv)
            return NULL;
        t->v = nv;
        t->cap = cap;
    }
    f = h->a->alloc(h->a->ctx, sizeof *f);
    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    f->id = t->next_id++;
    f->key = *k;
    f->proc = UINT32_MAX;
    f->created_ns = f->last_ns = now;
    t->v[t->n++] = f;
    s = (size_t)key_hash(k) & (t->nslots - 1);
    while (t->state[s] == 1)
        s = (s + 1) & (t->nslots - 1);
    if (t->state[s] == 2)
        t->tombs--;
    t->slots[s] = f;
    t->state[s] = 1;
    t->used++;
    h->stats.flows_created++;
    return f;
}

void wfpi_flows_expire(wfp_host *h, uint64_t now)
{
    flow_table *t = &h->flows;
    for (size_t i = 0; i < t->n; i++) {
        host_flow *f = t->v[i];
        if (!f->dead && expired(h, f, now)) {
            expire_flow(h, f);
            /* a rebuild may have compacted the vector: restart the scan */
            if (t->dead == 0)
                i = (size_t)-1;
        }
    }
}

void wfpi_flows_mark_reauth(wfp_host *h)
{
    flow_table *t = &h->flows;
    for (size_t i = 0; i < t->n; i++)
        if (!t->v[i]->dead)
            t->v[i]->reauth_pending = true;
}

size_t wfpi_flows_live(const wfp_host *h)
{
    return h->flows.n - h->flows.dead;
}

const host_flow *wfpi_flow_at(const wfp_host *h, size_t i)
{
    const flow_table *t = &h->flows;
    for (size_t j = 0; j < t->n; j++) {
        if (t->v[j]->dead)
            continue;
        if (i == 0)
            return t->v[j];
        i--;
    }
    return NULL;
}

/* ---- multicast/broadcast state (C37; W32 ale-multicast-broadcast-traffic) ----
 *
 * An outbound non-TCP datagram to a multicast or broadcast address creates
 * an ordinary outbound flow marked `mcast`: it lives 4 s (not the unicast
 * idle timeout), only outbound traffic refreshes it, and while it lives it
 * admits inbound datagrams from any remote address to its local endpoint
 * without an ALE_AUTH_RECV_ACCEPT classify. */

bool wfpi_addr_is_mcast_bcast(uint8_t ver, const uint8_t *addr)
{
    uint8_t t = wfpi_addr_type(ver, addr);
    return t == WFPI_NLAT_MULTICAST || t == WFPI_NLAT_BROADCAST;
}

void wfpi_flow_set_mcast(wfp_host *h, host_flow *f)
{
    if (f->mcast)
        return;
    f->mcast = true;
    h->nmcast++;
}

/* The live mcast flow whose state admits an inbound datagram keyed `k`:
 * same family, protocol and local endpoint (port; ICMP: type, code, echo
 * id). Any remote address and any local address match, since replies come
 * from anyone and inbound multicast/broadcast is addressed to the group.
 * Sim-defined: a flow waiting for reauthorization admits nothing (the
 * datagram takes the RECV_ACCEPT path); the scan is O(flows) but runs only
 * while such a flow exists, and never expires flows itself (no compaction
 * under the caller). */
host_flow *wfpi_flow_mcast_state(wfp_host *h, const flow_key *k, uint64_t now)
{
    flow_table *t = &h->flows;
    bool icmp = k->proto == WFP_IPPROTO_ICMP || k->proto == WFP_IPPROTO_ICMPV6;
    if (!h->nmcast)
        return NULL;
    for (size_t i = 0; i < t->n; i++) {
        host_flow *f = t->v[i];
        if (f->dead || !f->mcast || f->reauth_pending || expired(h, f, now))
            continue;
        if (f->key.ver != k->ver || f->key.proto != k->proto || f->key.lport != k->lport)
            continue;
        if (icmp && (f->key.rport != k->rport || f->key.icmp_id != k->icmp_id))
            continue;
        return f;
    }
    return NULL;
}
