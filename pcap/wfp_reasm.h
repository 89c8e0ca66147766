/* wfp_reasm.h — IPv4 and IPv6 fragment reassembly on virtual time.
 *
 * Windows indicates every inbound fragment at INBOUND_IPPACKET and the
 * reassembled datagram once more (FWP_CONDITION_FLAG_IS_REASSEMBLED);
 * TRANSPORT and above see only whole datagrams (spec/wfp-semantics.md
 * §6.7). The simulator feeds each fragment to wfp_reasm_add() and, when a
 * datagram completes, runs the returned whole packet up the stack.
 *
 * Datagrams are keyed as the RFCs say: IPv4 by (src, dst, id, protocol)
 * (RFC 791), IPv6 by (src, dst, id) (RFC 8200 §4.5). Time is the caller's
 * virtual clock: the packets' time_ns. Everything is deterministic: the
 * table is kept in creation order and expiry, eviction and callbacks follow
 * it. A wfp_reasm is a value (no globals); it is not thread-safe.
 *
 * Choices Windows does not document (also in docs/, sim-defined
 * behaviour):
 *  - Overlaps: by default a datagram with overlapping fragments is
 *    discarded whole, for IPv4 as for IPv6 (RFC 5722 / RFC 8200 §4.5 for
 *    IPv6; the post-Vista Windows stack is reported to treat IPv4 the same
 *    way). An exact duplicate (same offset, length and bytes) is dropped
 *    alone and the datagram goes on (the exception RFC 8200 allows).
 *    WFP_REASM_OVERLAP_FIRST instead keeps the bytes that arrived first
 *    and takes only the new bytes of an overlapping fragment (the "first"
 *    target policy of older Windows stacks).
 *  - Timeout 60 s from the first fragment (RFC 8200; RFC 1122 suggests
 *    60-120 s for IPv4), checked against each added fragment's time and
 *    by wfp_reasm_expire().
 *  - At most 100 datagrams under reassembly (Windows' historical
 *    MaximumReassemblyHeaders default, KB 252366): a fragment of a new
 *    datagram beyond that is dropped (WFP_REASM_FULL_DROP_NEW, as that
 *    KB describes) or evicts the oldest datagram (WFP_REASM_FULL_EVICT_OLDEST).
 *  - At most 128 fragments per datagram. */
#ifndef WFP_REASM_H
#define WFP_REASM_H

#include "wfp_packet.h"
#include "wfp_value.h" /* wfp_allocator */

/* Results of wfp_reasm_add (1 and 0) and reasons a fragment or datagram
 * was dropped (negative). TIMEOUT and EVICTED are only reported through
 * the expiry callback and the statistics. */
#define WFP_REASM_RESULT_MAP(X)                                                              \
    X(COMPLETE, 1, "complete")           /* *out_whole holds the datagram */               \
    X(PENDING, 0, "pending")             /* kept, waiting for more fragments */            \
    X(NOT_FRAGMENT, -1, "not-fragment")  /* not an IP fragment (or atomic): nothing done */ \
    X(MALFORMED, -2, "malformed")        /* IP header unusable, empty fragment, or a     \
                                            non-last fragment not a multiple of 8 bytes */ \
    X(TRUNCATED, -3, "truncated")        /* the capture cut the fragment: cannot use it */ \
    X(DUPLICATE, -4, "duplicate")        /* exact duplicate dropped; datagram goes on */  \
    X(OVERLAP, -5, "overlap")            /* overlapping fragment: datagram discarded */   \
    X(TOO_BIG, -6, "too-big")            /* would exceed max_datagram: discarded */      \
    X(TOO_MANY_FRAGMENTS, -7, "too-many-fragments") /* datagram discarded */             \
    X(INCONSISTENT, -8, "inconsistent")  /* two different ends, data past the end:    \
                                            datagram discarded */                         \
    X(TABLE_FULL, -9, "table-full")      /* max_reassemblies reached: fragment dropped */ \
    X(NO_MEMORY, -10, "no-memory")       /* allocation failed: datagram discarded */      \
    X(BUFFER_TOO_SMALL, -11, "buffer-too-small") /* out_cap too small: discarded */      \
    X(TIMEOUT, -12, "timeout")           /* timer ran out (callback/statistics only) */   \
    X(EVICTED, -13, "evicted")           /* made room for a new one (callback/stats) */

typedef enum wfp_reasm_result {
#define WFP_REASM_RESULT_ENUM_(name, value, text) WFP_REASM_##name = value,
    WFP_REASM_RESULT_MAP(WFP_REASM_RESULT_ENUM_)
#undef WFP_REASM_RESULT_ENUM_
    WFP_REASM_RESULT_MIN = -13
} wfp_reasm_result;

/* "complete", "overlap", ...; "unknown" outside the enum. */
const char *wfp_reasm_result_name(int result);

typedef enum wfp_reasm_overlap {
    WFP_REASM_OVERLAP_DROP = 0,  /* discard the whole datagram (default) */
    WFP_REASM_OVERLAP_FIRST = 1  /* first-arrived bytes win */
} wfp_reasm_overlap;

typedef enum wfp_reasm_full {
    WFP_REASM_FULL_DROP_NEW = 0,    /* drop the new datagram's fragment (default) */
    WFP_REASM_FULL_EVICT_OLDEST = 1 /* discard the oldest-created datagram */
} wfp_reasm_full;

/* Zero in any numeric field means its default. */
typedef struct wfp_reasm_limits {
    uint64_t timeout_ns;        /* default 60 s */
    uint32_t max_datagram;      /* IPv4 total length / IPv6 payload length; default and maximum 65535 */
    uint32_t max_fragments;     /* per datagram; default 128 */
    uint32_t max_reassemblies;  /* concurrent datagrams; default 100 */
    wfp_reasm_overlap overlap_v4;
    wfp_reasm_overlap overlap_v6;
    wfp_reasm_full full;
} wfp_reasm_limits;

#define WFP_REASM_DEFAULT_TIMEOUT_NS 60000000000ull
#define WFP_REASM_DEFAULT_MAX_FRAGMENTS 128u
#define WFP_REASM_DEFAULT_MAX_REASSEMBLIES 100u
/* An out_buf of this size holds any datagram wfp_reasm can complete. */
#define WFP_REASM_OUT_MAX (65535u + 40u)

/* Sets every field to its default (the same as zeroing the struct). */
void wfp_reasm_limits_init(wfp_reasm_limits *l);

typedef struct wfp_reasm_stats {
    uint64_t fragments;          /* fragments given to wfp_reasm_add */
    uint64_t completed;          /* datagrams returned whole */
    uint64_t overlaps;           /* overlapping fragments seen (either policy) */
    uint64_t by_result[1 - WFP_REASM_RESULT_MIN]; /* per negative result, at index -result; [0] unused */
} wfp_reasm_stats;

/* A datagram that timed out or was evicted, as the expiry callback sees it
 * (valid during the call only). `header` is the first fragment's IP header
 * (IPv6: its unfragmentable part), `data` the bytes received contiguously
 * from offset 0: what an ICMP "fragment reassembly time exceeded" quotes.
 * Both are NULL/0 when the offset-0 fragment never came. */
typedef struct wfp_reasm_dropped {
    wfp_reasm_result reason;     /* WFP_REASM_TIMEOUT or WFP_REASM_EVICTED */
    uint8_t ip_version;
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t protocol;            /* IPv4 key protocol; IPv6 first fragment's Next Header, or 0 */
    uint64_t first_time_ns;      /* arrival of its first fragment */
    const uint8_t *header;
    uint32_t header_len;
    const uint8_t *data;
    uint32_t data_len;
} wfp_reasm_dropped;

typedef void (*wfp_reasm_drop_fn)(void *ctx, const wfp_reasm_dropped *d);

typedef struct wfp_reasm wfp_reasm;

/* allocator NULL: malloc; limits NULL: defaults. NULL when out of memory. */
wfp_reasm *wfp_reasm_create(const wfp_allocator *allocator, const wfp_reasm_limits *limits);
void wfp_reasm_destroy(wfp_reasm *r);

/* Called for every datagram that times out or is evicted, in table
 * (creation) order. fn NULL: none. */
void wfp_reasm_set_drop_callback(wfp_reasm *r, wfp_reasm_drop_fn fn, void *ctx);

/* Adds one fragment (a packet parsed by wfp_packet_parse with is_fragment
 * set; its bytes are copied). First expires what has timed out at
 * frag->time_ns. Returns WFP_REASM_COMPLETE (1) when the datagram is whole:
 * out_buf[0..len) holds the raw IP datagram (header from the offset-0
 * fragment; IPv4 total length, flags and checksum rewritten; IPv6 payload
 * length rewritten and the Fragment header removed) and *out_whole is it
 * parsed as LINKTYPE_RAW, reassembled = true, time and number of the
 * completing fragment. WFP_REASM_PENDING (0) while incomplete, a negative
 * wfp_reasm_result when the fragment (and maybe its datagram) was dropped. */
int wfp_reasm_add(wfp_reasm *r, const wfp_packet *frag, uint8_t *out_buf, size_t out_cap,
                  wfp_packet *out_whole);

/* Discards datagrams whose first fragment arrived timeout_ns or more
 * before now_ns. Returns how many. */
size_t wfp_reasm_expire(wfp_reasm *r, uint64_t now_ns);

/* Datagrams under reassembly. */
size_t wfp_reasm_pending(const wfp_reasm *r);
/* Counters since create; valid while r lives. NULL for a NULL r. */
const wfp_reasm_stats *wfp_reasm_get_stats(const wfp_reasm *r);

#endif
