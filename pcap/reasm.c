/* reasm.c — fragment reassembly (see wfp_reasm.h for the policy choices).
 *
 * Each datagram under reassembly owns a data buffer and a bitmap of the
 * bytes received, both grown on demand up to the datagram limit, plus the
 * list of the fragments accepted (offset, end) for duplicate detection and
 * the per-datagram fragment limit. The table is an array in creation order;
 * lookups are linear (the table is small by construction: max_reassemblies)
 * and every walk is in that order, so results never depend on addresses. */
#include "wfp_reasm.h"

#include <string.h>

typedef struct frag_range {
    uint32_t start, end;
} frag_range;

typedef struct entry {
    uint8_t ipv;
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t proto;           /* v4 key part */
    uint64_t first_ns;
    uint8_t *hdr;            /* offset-0 fragment's header (v6: unfragmentable part) */
    uint32_t hdr_len;
    uint32_t nh_off;         /* v6: where, in hdr, the byte naming the Fragment header is */
    uint8_t next_header;     /* v6: from the offset-0 fragment's Fragment header */
    bool have_first;
    bool have_last;
    uint32_t total;          /* data length, known once the last fragment came */
    uint32_t max_end;        /* highest end received */
    uint8_t *data;
    uint8_t *bits;           /* 1 bit per data byte received */
    uint32_t cap;            /* bytes data can hold (multiple of 8) */
    uint32_t received;       /* bytes received (bits set) */
    frag_range *frags;
    uint32_t nfrags, frags_cap;
} entry;

struct wfp_reasm {
    wfp_allocator a;
    wfp_reasm_limits lim;
    entry **v;               /* creation order */
    size_t n, vcap;
    wfp_reasm_stats stats;
    wfp_reasm_drop_fn drop_fn;
    void *drop_ctx;
};

static const struct {
    int value;
    const char *name;
} result_names[] = {
#define WFP_REASM_RESULT_NAME_(name, value, text) {value, text},
    WFP_REASM_RESULT_MAP(WFP_REASM_RESULT_NAME_)
#undef WFP_REASM_RESULT_NAME_
};

const char *wfp_reasm_result_name(int result)
{
    size_t i;

    for (i = 0; i < sizeof result_names / sizeof result_names[0]; i++)
        if (result_names[i].value == result)
            return result_names[i].name;
    return "unknown";
}

void wfp_reasm_limits_init(wfp_reasm_limits *l)
{
    memset(l, 0, sizeof *l);
    l->timeout_ns = WFP_REASM_DEFAULT_TIMEOUT_NS;
    l->max_datagram = 65535;
    l->max_fragments = WFP_REASM_DEFAULT_MAX_FRAGMENTS;
    l->max_reassemblies = WFP_REASM_DEFAULT_MAX_REASSEMBLIES;
    l->overlap_v4 = WFP_REASM_OVERLAP_DROP;
    l->overlap_v6 = WFP_REASM_OVERLAP_DROP;
    l->full = WFP_REASM_FULL_DROP_NEW;
}

static void *r_alloc(wfp_reasm *r, size_t n)
{
    return r->a.alloc(r->a.ctx, n);
}

static void *r_realloc(wfp_reasm *r, void *p, size_t n)
{
    return r->a.realloc(r->a.ctx, p, n);
}

static void r_free(wfp_reasm *r, void *p)
{
    if (p != NULL)
        r->a.free(r->a.ctx, p);
}

wfp_reasm *wfp_reasm_create(const wfp_allocator *allocator, const wfp_reasm_limits *limits)
{
    const wfp_allocator *a = allocator != NULL ? allocator : wfp_allocator_default();
    wfp_reasm *r = a->alloc(a->ctx, sizeof *r);

    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof *r);
    r->a = *a;
    wfp_reasm_limits_init(&r->lim);
    if (limits != NULL) {
        if (limits->timeout_ns)
            r->lim.timeout_ns = limits->timeout_ns;
        if (limits->max_datagram && limits->max_datagram < 65535u)
            r->lim.max_datagram = limits->max_datagram;
        if (limits->max_fragments)
            r->lim.max_fragments = limits->max_fragments;
        if (limits->max_reassemblies)
            r->lim.max_reassemblies = limits->max_reassemblies;
        r->lim.overlap_v4 = limits->overlap_v4;
        r->lim.overlap_v6 = limits->overlap_v6;
        r->lim.full = limits->full;
    }
    return r;
}

static void entry_free(wfp_reasm *r, entry *e)
{
    r_free(r, e->hdr);
    r_free(r, e->data);
    r_free(r, e->bits);
    r_free(r, e->frags);
    r_free(r, e);
}

void wfp_reasm_destroy(wfp_reasm *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++)
        entry_free(r, r->v[i]);
    r_free(r, r->v);
    r->a.free(r->a.ctx, r);
}

void wfp_reasm_set_drop_callback(wfp_reasm *r, wfp_reasm_drop_fn fn, void *ctx)
{
    if (r == NULL)
        return;
    r->drop_fn = fn;
    r->drop_ctx = ctx;
}

size_t wfp_reasm_pending(const wfp_reasm *r)
{
    return r != NULL ? r->n : 0;
}

const wfp_reasm_stats *wfp_reasm_get_stats(const wfp_reasm *r)
{
    return r != NULL ? &r->stats : NULL;
}

static int count(wfp_reasm *r, int result)
{
    if (result < 0 && -result < (int)(sizeof r->stats.by_result / sizeof r->stats.by_result[0]))
        r->stats.by_result[-result]++;
    return result;
}

static bool bit_get(const entry *e, uint32_t i)
{
    return (e->bits[i >> 3] >> (i & 7u)) & 1u;
}

/* Removes entry i from the table, keeping creation order. */
static void remove_at(wfp_reasm *r, size_t i)
{
    entry_free(r, r->v[i]);
    memmove(r->v + i, r->v + i + 1, (r->n - i - 1) * sizeof r->v[0]);
    r->n--;
}

static void report_drop(wfp_reasm *r, const entry *e, wfp_reasm_result reason)
{
    wfp_reasm_dropped d;
    uint32_t contiguous = 0;

    count(r, reason);
    if (r->drop_fn == NULL)
        return;
    memset(&d, 0, sizeof d);
    d.reason = reason;
    d.ip_version = e->ipv;
    memcpy(d.src, e->src, 16);
    memcpy(d.dst, e->dst, 16);
    d.id = e->id;
    d.protocol = e->ipv == 4 ? e->proto : (e->have_first ? e->next_header : 0);
    d.first_time_ns = e->first_ns;
    if (e->have_first) {
        while (contiguous < e->cap && bit_get(e, contiguous))
            contiguous++;
        d.header = e->hdr;
        d.header_len = e->hdr_len;
        d.data = e->data;
        d.data_len = contiguous;
    }
    r->drop_fn(r->drop_ctx, &d);
}

size_t wfp_reasm_expire(wfp_reasm *r, uint64_t now_ns)
{
    size_t i = 0, dropped = 0;

    if (r == NULL)
        return 0;
    while (i < r->n) {
        entry *e = r->v[i];

        if (now_ns >= e->first_ns && now_ns - e->first_ns >= r->lim.timeout_ns) {
            report_drop(r, e, WFP_REASM_TIMEOUT);
            remove_at(r, i);
            dropped++;
        } else {
            i++;
        }
    }
    return dropped;
}

/* Discards the datagram at index i with the given reason. */
static int discard(wfp_reasm *r, size_t i, int result)
{
    remove_at(r, i);
    return count(r, result);
}

/* Grows the data buffer and bitmap to hold `end` bytes. */
static bool ensure_cap(wfp_reasm *r, entry *e, uint32_t end)
{
    uint32_t ncap = e->cap ? e->cap : 1024;
    uint8_t *nd, *nb;

    if (end <= e->cap)
        return true;
    while (ncap < end)
        ncap *= 2;
    if (ncap > 65536u)
        ncap = 65536u; /* end never exceeds 65535 */
    nd = r_realloc(r, e->data, ncap);
    if (nd == NULL)
        return false;
    e->data = nd;
    nb = r_realloc(r, e->bits, ncap / 8);
    if (nb == NULL)
        return false;
    memset(nb + e->cap / 8, 0, (ncap - e->cap) / 8);
    e->bits = nb;
    e->cap = ncap;
    return true;
}

static bool same_key(const entry *e, const wfp_packet *f, uint32_t id)
{
    size_t alen = f->ip_version == 4 ? 4 : 16;

    return e->ipv == f->ip_version && e->id == id && memcmp(e->src, f->src, alen) == 0 &&
           memcmp(e->dst, f->dst, alen) == 0 && (f->ip_version == 6 || e->proto == f->ip_protocol);
}

/* Writes the whole datagram; returns its length or a negative result. */
static int assemble(wfp_reasm *r, const entry *e, uint8_t *out, size_t out_cap)
{
    uint32_t len = e->hdr_len + e->total;

    if (e->ipv == 4) {
        uint16_t sum;

        if (len > r->lim.max_datagram)
            return WFP_REASM_TOO_BIG;
        if (len > out_cap)
            return WFP_REASM_BUFFER_TOO_SMALL;
        memcpy(out, e->hdr, e->hdr_len);
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        out[6] &= 0xc0; /* keep the reserved bit and DF; clear MF and the offset */
        out[7] = 0;
        out[10] = out[11] = 0;
        sum = wfp_checksum_finish(wfp_checksum_add(0, out, e->hdr_len));
        out[10] = (uint8_t)(sum >> 8);
        out[11] = (uint8_t)sum;
    } else {
        uint32_t pl = len - 40;

        if (pl > r->lim.max_datagram)
            return WFP_REASM_TOO_BIG;
        if (len > out_cap)
            return WFP_REASM_BUFFER_TOO_SMALL;
        memcpy(out, e->hdr, e->hdr_len);
        out[4] = (uint8_t)(pl >> 8);
        out[5] = (uint8_t)pl;
        out[e->nh_off] = e->next_header;
    }
    memcpy(out + e->hdr_len, e->data, e->total);
    return (int)len;
}

int wfp_reasm_add(wfp_reasm *r, const wfp_packet *f, uint8_t *out_buf, size_t out_cap, wfp_packet *out_whole)
{
    const uint8_t *fdata;
    uint32_t start, len, end, id, dgram_end, unfrag = 0;
    bool more;
    size_t i;
    entry *e = NULL;
    uint32_t covered = 0, k;
    wfp_reasm_overlap policy;

    if (r == NULL || f == NULL)
        return WFP_REASM_MALFORMED;
    r->stats.fragments++;
    if (!f->is_fragment || (f->ip_version != 4 && f->ip_version != 6))
        return count(r, WFP_REASM_NOT_FRAGMENT);
    /* The IP header must have parsed; an L4 complaint about a first
     * fragment's partial transport header does not matter here. */
    if (f->status != WFP_PARSE_OK && f->status != WFP_PARSE_TRUNCATED_L4 &&
        f->status != WFP_PARSE_BAD_L4_LENGTH)
        return count(r, WFP_REASM_MALFORMED);
    dgram_end = f->l3_offset + f->ip_total_len;
    if (dgram_end > f->cap_len || f->data == NULL)
        return count(r, WFP_REASM_TRUNCATED);

    if (f->ip_version == 4) {
        start = f->ip4_frag_offset;
        more = f->ip4_mf;
        id = f->ip4_id;
        if (f->ip_header_len < 20 || f->l3_offset + f->ip_header_len > dgram_end)
            return count(r, WFP_REASM_MALFORMED);
        fdata = f->data + f->l3_offset + f->ip_header_len;
        len = dgram_end - (f->l3_offset + f->ip_header_len);
    } else {
        uint32_t after = f->ip6_frag_hdr_offset + 8;

        start = f->ip6_frag_offset;
        more = f->ip6_frag_more;
        id = f->ip6_frag_id;
        if (after > dgram_end || f->ip6_frag_hdr_offset < f->l3_offset + 40)
            return count(r, WFP_REASM_MALFORMED);
        fdata = f->data + after;
        len = dgram_end - after;
        unfrag = f->ip6_frag_hdr_offset - f->l3_offset - 40; /* extension headers kept */
    }
    if ((more && (len == 0 || len % 8 != 0)) || (!more && len == 0 && start == 0))
        return count(r, WFP_REASM_MALFORMED);
    end = start + len;

    wfp_reasm_expire(r, f->time_ns);

    for (i = 0; i < r->n; i++)
        if (same_key(r->v[i], f, id)) {
            e = r->v[i];
            break;
        }

    /* RFC 8200 §4.5: a fragment that would make the datagram too long is
     * discarded; the datagram cannot complete either, so it goes too. */
    if ((f->ip_version == 4 && (uint64_t)end + 20 > r->lim.max_datagram) ||
        (f->ip_version == 6 && (uint64_t)end + unfrag > r->lim.max_datagram))
        return e != NULL ? discard(r, i, WFP_REASM_TOO_BIG) : count(r, WFP_REASM_TOO_BIG);

    if (e == NULL) {
        if (r->n >= r->lim.max_reassemblies) {
            if (r->lim.full == WFP_REASM_FULL_DROP_NEW || r->n == 0)
                return count(r, WFP_REASM_TABLE_FULL);
            report_drop(r, r->v[0], WFP_REASM_EVICTED);
            remove_at(r, 0);
        }
        if (r->n == r->vcap) {
            size_t ncap = r->vcap ? r->vcap * 2 : 8;
            entry **nv = r_realloc(r, r->v, ncap * sizeof *nv);

            if (nv == NULL)
                return count(r, WFP_REASM_NO_MEMORY);
            r->v = nv;
            r->vcap = ncap;
        }
        e = r_alloc(r, sizeof *e);
        if (e == NULL)
            return count(r, WFP_REASM_NO_MEMORY);
        memset(e, 0, sizeof *e);
        e->ipv = f->ip_version;
        memcpy(e->src, f->src, 16);
        memcpy(e->dst, f->dst, 16);
        e->id = id;
        e->proto = f->ip_version == 4 ? f->ip_protocol : 0;
        e->first_ns = f->time_ns;
        i = r->n;
        r->v[r->n++] = e;
    }

    /* Where does the datagram end? Only one answer is acceptable. */
    if (!more) {
        if ((e->have_last && e->total != end) || (!e->have_last && e->max_end > end))
            return discard(r, i, WFP_REASM_INCONSISTENT);
    } else if (e->have_last && end > e->total) {
        return discard(r, i, WFP_REASM_INCONSISTENT);
    }

    if (!ensure_cap(r, e, end))
        return discard(r, i, WFP_REASM_NO_MEMORY);
    for (k = start; k < end; k++)
        covered += bit_get(e, k);
    policy = f->ip_version == 4 ? r->lim.overlap_v4 : r->lim.overlap_v6;
    if (covered != 0) {
        uint32_t j;

        for (j = 0; j < e->nfrags; j++)
            if (e->frags[j].start == start && e->frags[j].end == end)
                break;
        if (j < e->nfrags && covered == len && memcmp(e->data + start, fdata, len) == 0)
            return count(r, WFP_REASM_DUPLICATE);
        r->stats.overlaps++;
        if (policy == WFP_REASM_OVERLAP_DROP)
            return discard(r, i, WFP_REASM_OVERLAP);
    }
    if (e->nfrags >= r->lim.max_fragments)
        return discard(r, i, WFP_REASM_TOO_MANY_FRAGMENTS);
    if (e->nfrags == e->frags_cap) {
        uint32_t ncap = e->frags_cap ? e->frags_cap * 2 : 8;
        frag_range *nf = r_realloc(r, e->frags, ncap * sizeof *nf);

        if (nf == NULL)
            return discard(r, i, WFP_REASM_NO_MEMORY);
        e->frags = nf;
        e->frags_cap = ncap;
    }
    e->frags[e->nfrags].start = start;
    e->frags[e->nfrags].end = end;
    e->nfrags++;

    if (start == 0 && !e->have_first) {
        uint32_t hl = f->ip_version == 4 ? f->ip_header_len : f->ip6_frag_hdr_offset - f->l3_offset;

        e->hdr = r_alloc(r, hl);
        if (e->hdr == NULL)
            return discard(r, i, WFP_REASM_NO_MEMORY);
        memcpy(e->hdr, f->data + f->l3_offset, hl);
        e->hdr_len = hl;
        if (f->ip_version == 6) {
            e->nh_off = f->ip6_frag_nh_offset - f->l3_offset;
            e->next_header = f->data[f->ip6_frag_hdr_offset];
        }
        e->have_first = true;
    }
    if (!more) {
        e->have_last = true;
        e->total = end;
    }
    if (end > e->max_end)
        e->max_end = end;
    /* First-arrived bytes win: only bytes not yet received are taken. */
    for (k = start; k < end; k++) {
        if (!bit_get(e, k)) {
            e->data[k] = fdata[k - start];
            e->bits[k >> 3] = (uint8_t)(e->bits[k >> 3] | (1u << (k & 7u)));
            e->received++;
        }
    }

    if (e->have_first && e->have_last && e->received == e->total) {
        int n = out_buf != NULL && out_whole != NULL ? assemble(r, e, out_buf, out_cap)
                                                     : WFP_REASM_BUFFER_TOO_SMALL;

        if (n < 0)
            return discard(r, i, n);
        wfp_packet_parse(WFP_LINKTYPE_RAW, out_buf, (uint32_t)n, (uint32_t)n, f->time_ns, out_whole);
        out_whole->reassembled = true;
        out_whole->number = f->number;
        remove_at(r, i);
        r->stats.completed++;
        return WFP_REASM_COMPLETE;
    }
    return WFP_REASM_PENDING;
}
