/* test_evq.c — the event queue: (time, seq) order, ties in push order,
 * O(1) cancel with stale-handle detection, and the heap and the sorted
 * list agreeing on every order for seeded random workloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wfp_evq.h"

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: seeded, platform independent */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void test_order_and_ties(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        wfp_evq *q = wfp_evq_create(k ? WFP_EVQ_LIST : WFP_EVQ_HEAP, NULL);
        wfp_event ev;
        assert_non_null(q);
        assert_true(wfp_evq_push(q, 30, 1, NULL, 0, NULL));
        assert_true(wfp_evq_push(q, 10, 2, NULL, 0, NULL));
        assert_true(wfp_evq_push(q, 20, 3, NULL, 0, NULL));
        assert_true(wfp_evq_push(q, 10, 4, NULL, 0, NULL));
        assert_true(wfp_evq_push(q, 10, 5, NULL, 0, NULL));
        assert_int_equal(wfp_evq_size(q), 5);
        const uint32_t want[] = {2, 4, 5, 3, 1};
        for (size_t i = 0; i < 5; i++) {
            assert_true(wfp_evq_pop(q, &ev));
            assert_int_equal(ev.type, want[i]);
        }
        assert_false(wfp_evq_pop(q, &ev));
        assert_false(wfp_evq_peek(q, &ev));
        assert_int_equal(wfp_evq_size(q), 0);
        assert_int_equal(wfp_evq_pushed(q), 5);
        wfp_evq_destroy(q);
    }
}

static void test_cancel(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        wfp_evq *q = wfp_evq_create(k ? WFP_EVQ_LIST : WFP_EVQ_HEAP, NULL);
        wfp_event_id a, b, c;
        wfp_event ev;
        assert_true(wfp_evq_push(q, 5, 1, NULL, 0, &a));
        assert_true(wfp_evq_push(q, 6, 2, NULL, 0, &b));
        assert_true(wfp_evq_push(q, 7, 3, NULL, 0, &c));
        assert_true(a != 0 && b != 0 && c != 0);
        assert_true(wfp_evq_cancel(q, a));
        assert_false(wfp_evq_cancel(q, a)); /* already cancelled */
        assert_int_equal(wfp_evq_size(q), 2);
        assert_true(wfp_evq_peek(q, &ev));
        assert_int_equal(ev.type, 2);
        assert_true(wfp_evq_pop(q, &ev));
        assert_int_equal(ev.id, b);
        assert_false(wfp_evq_cancel(q, b)); /* already popped */
        /* the freed slot is reused: the stale handle must not cancel the new event */
        wfp_event_id d;
        assert_true(wfp_evq_push(q, 1, 4, NULL, 0, &d));
        assert_false(wfp_evq_cancel(q, a));
        assert_false(wfp_evq_cancel(q, b));
        assert_false(wfp_evq_cancel(q, 0));
        assert_false(wfp_evq_cancel(q, 0xffffffffffffull));
        assert_true(wfp_evq_pop(q, &ev));
        assert_int_equal(ev.type, 4);
        assert_true(wfp_evq_cancel(q, c));
        assert_false(wfp_evq_pop(q, &ev));
        wfp_evq_destroy(q);
    }
}

/* Both implementations under the same random workload of pushes (with
 * many equal times), cancels of random live or stale handles, and pops;
 * every popped event must be identical, and non-decreasing in (time, seq). */
static void run_workload(uint64_t seed, int ops, uint64_t time_span)
{
    wfp_evq *h = wfp_evq_create(WFP_EVQ_HEAP, NULL);
    wfp_evq *l = wfp_evq_create(WFP_EVQ_LIST, NULL);
    wfp_event_id *ids = calloc((size_t)ops, sizeof *ids);
    size_t nids = 0;
    uint64_t now = 0, last_t = 0, last_seq = 0;
    bool any = false;
    assert_non_null(h);
    assert_non_null(l);
    for (int i = 0; i < ops; i++) {
        uint64_t r = rng_next(&seed) % 100;
        if (r < 50) {
            uint64_t t = now + rng_next(&seed) % time_span;
            wfp_event_id ih, il;
            assert_true(wfp_evq_push(h, t, (uint32_t)i, NULL, (uint64_t)i, &ih));
            assert_true(wfp_evq_push(l, t, (uint32_t)i, NULL, (uint64_t)i, &il));
            assert_true(ih == il); /* same slot discipline ⇒ same handles */
            ids[nids++] = ih;
        } else if (r < 70) {
            if (nids) {
                wfp_event_id id = ids[rng_next(&seed) % nids];
                bool ch = wfp_evq_cancel(h, id);
                bool cl = wfp_evq_cancel(l, id);
                assert_true(ch == cl);
            }
        } else {
            wfp_event eh, el;
            bool ph = wfp_evq_pop(h, &eh);
            bool pl = wfp_evq_pop(l, &el);
            assert_true(ph == pl);
            if (ph) {
                assert_int_equal(eh.time_ns, el.time_ns);
                assert_int_equal(eh.seq, el.seq);
                assert_int_equal(eh.type, el.type);
                assert_true(eh.id == el.id);
                if (any && eh.time_ns == last_t)
                    assert_true(eh.seq > last_seq);
                assert_true(!any || eh.time_ns >= last_t);
                last_t = eh.time_ns;
                last_seq = eh.seq;
                any = true;
                now = eh.time_ns; /* simulation time follows the queue */
            }
        }
        assert_int_equal(wfp_evq_size(h), wfp_evq_size(l));
    }
    /* drain */
    for (;;) {
        wfp_event eh, el;
        bool ph = wfp_evq_pop(h, &eh);
        bool pl = wfp_evq_pop(l, &el);
        assert_true(ph == pl);
        if (!ph)
            break;
        assert_int_equal(eh.seq, el.seq);
        assert_true(eh.time_ns > last_t || (eh.time_ns == last_t && (!any || eh.seq > last_seq)));
        last_t = eh.time_ns;
        last_seq = eh.seq;
        any = true;
    }
    assert_int_equal(wfp_evq_size(h), 0);
    free(ids);
    wfp_evq_destroy(h);
    wfp_evq_destroy(l);
}

static void test_random_agree(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        run_workload(seed * 0x9E3779B97F4A7C15ULL, 3000, seed % 3 == 0 ? 4 : 1000);
    }
}

static void test_destroy_null(void **state)
{
    (void)state;
    wfp_evq_destroy(NULL);
    assert_null(wfp_evq_create((wfp_evq_kind)7, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_ties),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_random_agree),
        cmocka_unit_test(test_destroy_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
