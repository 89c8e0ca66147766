/* wfp_evq.h — the simulator's event queue: events in (time, sequence)
 * order, with O(1) cancellation.
 *
 * Events are totally ordered by (time_ns, seq): seq is the order in which
 * they were pushed into this queue, so events at the same virtual instant
 * come out in the order they were scheduled (ns-3 EventKey, libuv timers'
 * start_id). Cancel marks the event dead in O(1); dead events are skipped
 * and reclaimed when they reach the front. Two implementations sit behind
 * one ops table — a binary heap and a sorted doubly linked list — chosen
 * at creation; both give identical orders (tests/unit/test_evq.c checks
 * it). No global state, no clock. */
#ifndef WFP_EVQ_H
#define WFP_EVQ_H

#include "wfp_value.h" /* wfp_allocator */

typedef struct wfp_evq wfp_evq;

typedef enum wfp_evq_kind {
    WFP_EVQ_HEAP = 0, /* binary heap: O(log n) push/pop (default) */
    WFP_EVQ_LIST = 1  /* sorted list: O(n) push from the back, O(1) pop; the reference */
} wfp_evq_kind;

/* Handle of a scheduled event, for cancel. Never 0. A handle is only
 * meaningful for the queue that issued it; a stale handle (event already
 * popped or cancelled) is recognised and refused. */
typedef uint64_t wfp_event_id;

typedef struct wfp_event {
    uint64_t time_ns;  /* virtual time */
    uint64_t seq;      /* push order, 0-based, unique per queue */
    wfp_event_id id;
    uint32_t type;     /* caller-defined */
    void *data;        /* caller-defined, not owned */
    uint64_t arg;      /* caller-defined */
} wfp_event;

/* NULL allocator: malloc. Returns NULL when memory runs out. */
wfp_evq *wfp_evq_create(wfp_evq_kind kind, const wfp_allocator *allocator);
void wfp_evq_destroy(wfp_evq *q); /* accepts NULL */
wfp_evq_kind wfp_evq_get_kind(const wfp_evq *q);

/* Schedules an event. Returns false (and schedules nothing) when memory
 * runs out. `id` (optional) receives its handle. */
bool wfp_evq_push(wfp_evq *q, uint64_t time_ns, uint32_t type, void *data, uint64_t arg,
                  wfp_event_id *id);
/* O(1). True if the event was pending and is now cancelled; false for an
 * unknown, already popped or already cancelled handle. */
bool wfp_evq_cancel(wfp_evq *q, wfp_event_id id);
/* The earliest live event without removing it; false when none. */
bool wfp_evq_peek(wfp_evq *q, wfp_event *out);
/* Removes and returns the earliest live event; false when none. */
bool wfp_evq_pop(wfp_evq *q, wfp_event *out);
/* Live (pending, not cancelled) events. */
size_t wfp_evq_size(const wfp_evq *q);
/* Pushes so far (the next event's seq). */
uint64_t wfp_evq_pushed(const wfp_evq *q);

#endif
