/* evq.c — event queue: a slab of event slots plus an ordering structure
 * (binary heap or sorted doubly linked list) behind an ops table.
 *
 * Every pushed event lives in a slot until it is popped (or, if cancelled,
 * until it reaches the front). A handle is (generation << 32) | (slot + 1),
 * so cancel finds its slot in O(1) and recognises stale handles; cancel
 * only sets a flag. Order is (time_ns, seq) with seq the push counter,
 * so both orderings are total and agree exactly. */
#include "wfp_evq.h"

#include <string.h>

typedef struct slot {
    wfp_event ev;
    uint32_t gen;
    bool used;
    bool cancelled;
    /* list implementation links (slot indices, UINT32_MAX = none) */
    uint32_t prev, next;
    /* free-list link */
    uint32_t free_next;
} slot;

#define NIL UINT32_MAX

typedef struct evq_ops {
    bool (*insert)(wfp_evq *q, uint32_t s);
    uint32_t (*front)(const wfp_evq *q); /* NIL when empty */
    void (*remove_front)(wfp_evq *q);
} evq_ops;

struct wfp_evq {
    wfp_evq_kind kind;
    const evq_ops *ops;
    const wfp_allocator *a;
    slot *slots;
    uint32_t nslots, capslots;
    uint32_t free_head;
    uint64_t seq;
    size_t live;   /* pending, not cancelled */
    size_t queued; /* in the ordering structure (live + cancelled-not-reclaimed) */
    /* heap */
    uint32_t *heap;
    size_t heap_cap;
    /* list */
    uint32_t head, tail;
};

static bool ev_less(const slot *a, const slot *b)
{
    if (a->ev.time_ns != b->ev.time_ns)
        return a->ev.time_ns < b->ev.time_ns;
    return a->ev.seq < b->ev.seq;
}

/* ---- heap ------------------------------------------------------------- */

static void heap_sift_up(wfp_evq *q, size_t i)
{
    uint32_t x = q->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(&q->slots[x], &q->slots[q->heap[p]]))
            break;
        q->heap[i] = q->heap[p];
        i = p;
    }
    q->heap[i] = x;
}

static void heap_sift_down(wfp_evq *q, size_t i)
{
    size_t n = q->queued;
    uint32_t x = q->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, m;
        if (l >= n)
            break;
        m = l;
        if (l + 1 < n && ev_less(&q->slots[q->heap[l + 1]], &q->slots[q->heap[l]]))
            m = l + 1;
        if (!ev_less(&q->slots[q->heap[m]], &q->slots[x]))
            break;
        q->heap[i] = q->heap[m];
        i = m;
    }
    q->heap[i] = x;
}

static bool heap_insert(wfp_evq *q, uint32_t s)
{
    if (q->queued == q->heap_cap) {
        size_t cap = q->heap_cap ? q->heap_cap * 2 : 64;
        uint32_t *nh = q->a->realloc(q->a->ctx, q->heap, cap * sizeof *nh);
        if (!nh)
            return false;
        q->heap = nh;
        q->heap_cap = cap;
    }
    q->heap[q->queued] = s;
    q->queued++;
    heap_sift_up(q, q->queued - 1);
    return true;
}

static uint32_t heap_front(const wfp_evq *q)
{
    return q->queued ? q->heap[0] : NIL;
}

static void heap_remove_front(wfp_evq *q)
{
    q->queued--;
    if (q->queued) {
        q->heap[0] = q->heap[q->queued];
        heap_sift_down(q, 0);
    }
}

static const evq_ops heap_ops = {heap_insert, heap_front, heap_remove_front};

/* ---- sorted list ------------------------------------------------------ */

static bool list_insert(wfp_evq *q, uint32_t s)
{
    slot *n = &q->slots[s];
    uint32_t at = q->tail; /* scan from the back: new events are usually the latest */
    while (at != NIL && ev_less(n, &q->slots[at]))
        at = q->slots[at].prev;
    /* insert after `at` */
    n->prev = at;
    if (at == NIL) {
        n->next = q->head;
        q->head = s;
    } else {
        n->next = q->slots[at].next;
        q->slots[at].next = s;
    }
    if (n->next == NIL)
        q->tail = s;
    else
        q->slots[n->next].prev = s;
    q->queued++;
    return true;
}

static uint32_t list_front(const wfp_evq *q)
{
    return q->head;
}

static void list_remove_front(wfp_evq *q)
{
    uint32_t s = q->head;
    q->head = q->slots[s].next;
    if (q->head == NIL)
        q->tail = NIL;
    else
        q->slots[q->head].prev = NIL;
    q->queued--;
}

static const evq_ops list_ops = {list_insert, list_front, list_remove_front};

/* ---- common ----------------------------------------------------------- */

wfp_evq *wfp_evq_create(wfp_evq_kind kind, const wfp_allocator *allocator)
{
    const wfp_allocator *a = allocator ? allocator : wfp_allocator_default();
    wfp_evq *q;
    if (kind != WFP_EVQ_HEAP && kind != WFP_EVQ_LIST)
        return NULL;
    q = a->alloc(a->ctx, sizeof *q);
    if (!q)
        return NULL;
    memset(q, 0, sizeof *q);
    q->kind = kind;
    q->ops = kind == WFP_EVQ_HEAP ? &heap_ops : &list_ops;
    q->a = a;
    q->free_head = NIL;
    q->head = q->tail = NIL;
    return q;
}

void wfp_evq_destroy(wfp_evq *q)
{
    if (!q)
        return;
    q->a->free(q->a->ctx, q->slots);
    q->a->free(q->a->ctx, q->heap);
    q->a->free(q->a->ctx, q);
}

wfp_evq_kind wfp_evq_get_kind(const wfp_evq *q)
{
    return q->kind;
}

static bool slot_alloc(wfp_evq *q, uint32_t *out)
{
    if (q->free_head != NIL) {
        *out = q->free_head;
        q->free_head = q->slots[*out].free_next;
        return true;
    }
    if (q->nslots == q->capslots) {
        uint32_t cap = q->capslots ? q->capslots * 2 : 64;
        slot *ns;
        if (cap <= q->capslots || cap >= NIL)
            return false;
        ns = q->a->realloc(q->a->ctx, q->slots, (size_t)cap * sizeof *ns);
        if (!ns)
            return false;
        q->slots = ns;
        q->capslots = cap;
    }
    *out = q->nslots++;
    q->slots[*out].gen = 0;
    return true;
}

static void slot_release(wfp_evq *q, uint32_t s)
{
    q->slots[s].used = false;
    q->slots[s].gen++;
    q->slots[s].free_next = q->free_head;
    q->free_head = s;
}

bool wfp_evq_push(wfp_evq *q, uint64_t time_ns, uint32_t type, void *data, uint64_t arg,
                  wfp_event_id *id)
{
    uint32_t s;
    slot *n;
    if (!slot_alloc(q, &s))
        return false;
    n = &q->slots[s];
    n->used = true;
    n->cancelled = false;
    n->prev = n->next = NIL;
    n->ev.time_ns = time_ns;
    n->ev.seq = q->seq;
    n->ev.type = type;
    n->ev.data = data;
    n->ev.arg = arg;
    n->ev.id = ((uint64_t)n->gen << 32) | ((uint64_t)s + 1);
    if (!q->ops->insert(q, s)) {
        slot_release(q, s);
        return false;
    }
    q->seq++;
    q->live++;
    if (id)
        *id = n->ev.id;
    return true;
}

bool wfp_evq_cancel(wfp_evq *q, wfp_event_id id)
{
    uint64_t lo = id & 0xffffffffu;
    uint32_t s;
    slot *n;
    if (lo == 0 || lo > q->nslots)
        return false;
    s = (uint32_t)(lo - 1);
    n = &q->slots[s];
    if (!n->used || n->cancelled || n->gen != (uint32_t)(id >> 32))
        return false;
    n->cancelled = true;
    q->live--;
    return true;
}

/* Reclaims cancelled events at the front; returns the live front or NIL. */
static uint32_t live_front(wfp_evq *q)
{
    for (;;) {
        uint32_t s = q->ops->front(q);
        if (s == NIL || !q->slots[s].cancelled)
            return s;
        q->ops->remove_front(q);
        slot_release(q, s);
    }
}

bool wfp_evq_peek(wfp_evq *q, wfp_event *out)
{
    uint32_t s = live_front(q);
    if (s == NIL)
        return false;
    if (out)
        *out = q->slots[s].ev;
    return true;
}

bool wfp_evq_pop(wfp_evq *q, wfp_event *out)
{
    uint32_t s = live_front(q);
    if (s == NIL)
        return false;
    if (out)
        *out = q->slots[s].ev;
    q->ops->remove_front(q);
    slot_release(q, s);
    q->live--;
    return true;
}

size_t wfp_evq_size(const wfp_evq *q)
{
    return q->live;
}

uint64_t wfp_evq_pushed(const wfp_evq *q)
{
    return q->seq;
}
