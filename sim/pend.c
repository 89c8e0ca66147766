/* pend.c — pended ALE classifies: FwpsPendOperation0 and
 * FwpsCompleteOperation0 (spec §4.6; DRV
 * processing-classify-callouts-asynchronously; W32 ale-re-authorization).
 *
 * Only the initial authorization can be pended. The callout pends, returns
 * BLOCK + ABSORB, and later completes: a pended AUTH_CONNECT is then
 * reauthorized at once (IS_REAUTHORIZE, reason CLASSIFY_COMPLETION) and
 * the connection goes on from there — the host keeps the packet and walks
 * it again; a pended RECV_ACCEPT is not reauthorized (its callout
 * re-injects the clone it kept). */
#include <string.h>

#include "host_int.h"
#include "wfp_result_codes.h"

host_pend *wfpi_pend_find(wfp_host *h, uint64_t handle)
{
    for (size_t i = 0; i < h->npends; i++)
        if (h->pends[i].handle == handle)
            return &h->pends[i];
    return NULL;
}

void wfpi_pend_drop(wfp_host *h, uint64_t handle)
{
    host_pend *p = wfpi_pend_find(h, handle);
    if (!p)
        return;
    h->a->free(h->a->ctx, p->bytes);
    *p = h->pends[--h->npends];
}

void wfpi_pends_free(wfp_host *h)
{
    for (size_t i = 0; i < h->npends; i++)
        h->a->free(h->a->ctx, h->pends[i].bytes);
    h->a->free(h->a->ctx, h->pends);
    h->pends = NULL;
    h->npends = h->cappends = 0;
}

uint32_t wfp_host_pend_operation(wfp_host *h, uint64_t complete_after_ns, uint64_t *completion)
{
    const shim_item *it;
    const wfp_packet *p;
    host_pend *op;
    int lk = -1;
    if (!h || !completion)
        return FWP_E_INVALID_PARAMETER;
    it = h->cur_item;
    if (!it || !it->pkt || h->pend_new)
        return STATUS_FWP_CANNOT_PEND;
    if (h->cur_item_layer == h->lid[LK_CONNECT][it->ver])
        lk = LK_CONNECT;
    else if (h->cur_item_layer == h->lid[LK_RECV_ACCEPT][it->ver])
        lk = LK_RECV_ACCEPT;
    /* only the initial authorization (W32 ale-re-authorization) */
    if (lk < 0 || (it->flags & FWP_CONDITION_FLAG_IS_REAUTHORIZE))
        return STATUS_FWP_CANNOT_PEND;
    p = it->pkt;
    if (p->l3_offset > p->cap_len)
        return STATUS_FWP_CANNOT_PEND;
    if (h->npends == h->cappends) {
        size_t nc = h->cappends ? h->cappends * 2 : 4;
        void *nv = h->a->realloc(h->a->ctx, h->pends, nc * sizeof *h->pends);
        if (!nv)
            return ERROR_NOT_ENOUGH_MEMORY;
        h->pends = nv;
        h->cappends = nc;
    }
    op = &h->pends[h->npends];
    memset(op, 0, sizeof *op);
    op->len = p->cap_len - p->l3_offset;
    if (p->ip_total_len && p->ip_total_len < op->len)
        op->len = p->ip_total_len;
    op->bytes = h->a->alloc(h->a->ctx, op->len ? op->len : 1);
    if (!op->bytes)
        return ERROR_NOT_ENOUGH_MEMORY;
    memcpy(op->bytes, p->data + p->l3_offset, op->len);
    h->npends++;
    op->handle = ++h->next_pend;
    op->lk = (uint8_t)lk;
    op->due = complete_after_ns == WFP_PEND_MANUAL || complete_after_ns > UINT64_MAX - h->cur_now
                  ? UINT64_MAX
                  : h->cur_now + complete_after_ns;
    op->iface = h->cur_forced;
    memcpy(op->raddr, it->raddr, 16);
    op->rport = it->rport;
    op->conn_redirected = it->conn_redirected;
    h->pend_new = op->handle;
    *completion = op->handle;
    return ERROR_SUCCESS;
}

bool wfp_host_next_completion(const wfp_host *h, uint64_t *at_ns, uint64_t *completion)
{
    const host_pend *best = NULL;
    if (!h)
        return false;
    for (size_t i = 0; i < h->npends; i++) {
        const host_pend *p = &h->pends[i];
        if (p->due == UINT64_MAX || !p->held)
            continue;
        if (!best || p->due < best->due || (p->due == best->due && p->handle < best->handle))
            best = p;
    }
    if (!best)
        return false;
    if (at_ns)
        *at_ns = best->due;
    if (completion)
        *completion = best->handle;
    return true;
}

uint32_t wfp_host_complete_operation(wfp_host *h, uint64_t now_ns, uint64_t completion, wfp_packet_outcome *out)
{
    host_pend *op = h ? wfpi_pend_find(h, completion) : NULL;
    host_pend copy;
    wfp_packet p;
    uint32_t rc;
    if (out) {
        memset(out, 0, sizeof *out);
        out->layer_id = UINT16_MAX;
    }
    if (!op || !op->held)
        return FWP_E_NOT_FOUND;
    copy = *op;
    /* the list may move while the walk runs: it works on a copy */
    h->npends--;
    *op = h->pends[h->npends];
    h->stats.completed++;
    if (copy.lk != LK_CONNECT) {
        h->a->free(h->a->ctx, copy.bytes);
        return ERROR_SUCCESS; /* RECV_ACCEPT: no reauthorization */
    }
    wfp_packet_parse(WFP_LINKTYPE_RAW, copy.bytes, (uint32_t)copy.len, (uint32_t)copy.len, now_ns, &p);
    rc = wfpi_host_run_packet(h, now_ns, &p, copy.iface, NULL, &copy, out);
    h->a->free(h->a->ctx, copy.bytes);
    return rc;
}
