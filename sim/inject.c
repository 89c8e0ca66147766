/* inject.c — packet injection (FwpsInject*Async0) and injection state
 * (FwpsQueryPacketInjectionState0), spec §4.4.
 *
 * A callout injects a clone, possibly modified, of the packet it is
 * classifying. The host does not own time, so the copy goes to the
 * injector (the scenario runner or replay), which hands it back through
 * wfp_host_packet_injected when it is due. The copy then walks the shims
 * like any packet of its direction — incoming copies from the bottom,
 * outgoing ones from the top (DRV packet-injection-functions) — and every
 * classify of it can ask who injected it. */
#include <stdlib.h>
#include <string.h>

#include "host_int.h"
#include "wfp_result_codes.h"

static const char *const kind_names[] = {NULL,        "network_send", "network_receive", "transport_send",
                                         "transport_receive", "stream", "forward"};

const char *wfp_inject_kind_name(uint32_t kind)
{
    return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : NULL;
}

void wfp_host_set_injector(wfp_host *h, wfp_host_injector_fn fn, void *ctx)
{
    if (!h)
        return;
    h->injector = fn;
    h->injector_ctx = ctx;
}

uint64_t wfp_host_injection_handle_create(wfp_host *h)
{
    return h ? ++h->next_injection_handle : 0;
}

uint32_t wfp_host_query_injection_state(const wfp_host *h, uint64_t handle, uint64_t *context)
{
    const wfp_host_injection *inj = h && h->cur_pkt ? h->cur_inj : NULL;
    if (!inj || !inj->depth)
        return WFP_PACKET_NOT_INJECTED;
    if (inj->handle == handle) {
        if (context)
            *context = inj->context;
        return WFP_PACKET_INJECTED_BY_SELF;
    }
    /* injected by us once, then cloned and re-injected by someone else */
    for (uint32_t i = 0; i + 1 < inj->depth && i < WFP_INJECT_MAX_DEPTH; i++)
        if (inj->earlier[i] == handle) {
            if (context)
                *context = inj->context;
            return WFP_PACKET_PREVIOUSLY_INJECTED_BY_SELF;
        }
    return WFP_PACKET_INJECTED_BY_OTHER;
}

static bool layer_named(uint16_t layer_id, const char *part)
{
    const wfp_layer_info *li = wfp_catalog_layer_by_id(layer_id);
    return li && strstr(li->name, part);
}

/* Gives a copy (`len` bytes at `ip`, of `kind`, from the handle and
 * context of `inj`, which may carry stream fields) its injection history
 * — the packet being classified's, plus that packet's injector — and
 * hands it to the injector. */
static uint32_t hand_over(wfp_host *h, wfp_host_injection *inj, uint32_t kind, uint64_t handle, uint64_t context,
                          uint64_t delay_ns, const uint8_t *ip, size_t len)
{
    const wfp_host_injection *prev = h->cur_inj;
    uint32_t rc;
    inj->kind = kind;
    inj->handle = handle;
    inj->context = context;
    inj->delay_ns = delay_ns;
    inj->ip = ip;
    inj->len = len;
    inj->depth = prev ? prev->depth + 1 : 1;
    if (prev) {
        memcpy(inj->earlier, prev->earlier, sizeof inj->earlier);
        inj->earlier[prev->depth - 1] = prev->handle;
    }
    rc = h->injector(h->injector_ctx, h, inj);
    if (!rc)
        h->stats.injected++;
    return rc;
}

/* Inside a classify of a packet, with an injector, a handle of this host,
 * and room left in the copy's injection history. */
static bool can_inject(const wfp_host *h, uint64_t handle)
{
    return h->cur_pkt && h->injector && handle && handle <= h->next_injection_handle &&
           !(h->cur_inj && h->cur_inj->depth >= WFP_INJECT_MAX_DEPTH);
}

uint32_t wfp_host_inject(wfp_host *h, const wfp_inject_request *req)
{
    const wfp_packet *p;
    wfp_host_injection inj;
    wfp_packet_edit edit;
    uint8_t ver, *copy;
    size_t len;
    uint32_t kind, rc;
    bool send;
    if (!h || !req || !can_inject(h, req->handle))
        return FWP_E_INVALID_PARAMETER;
    p = h->cur_pkt;
    kind = req->kind;
    if (!kind) {
        bool out = h->cur_direction == FWP_DIRECTION_OUTBOUND;
        if (layer_named(h->cur_layer, "IPFORWARD"))
            kind = WFP_INJECT_FORWARD;
        else if (layer_named(h->cur_layer, "IPPACKET"))
            kind = out ? WFP_INJECT_NETWORK_SEND : WFP_INJECT_NETWORK_RECEIVE;
        else
            kind = out ? WFP_INJECT_TRANSPORT_SEND : WFP_INJECT_TRANSPORT_RECEIVE;
    }
    if (!wfp_inject_kind_name(kind) || kind == WFP_INJECT_STREAM)
        return FWP_E_INVALID_PARAMETER; /* stream data: wfp_host_stream_inject */
    if (p->l3_offset > p->cap_len)
        return FWP_E_INVALID_PARAMETER;
    len = p->cap_len - p->l3_offset;
    if (p->ip_total_len && p->ip_total_len < len)
        len = p->ip_total_len; /* no link trailer */
    copy = h->a->alloc(h->a->ctx, len ? len : 1);
    if (!copy)
        return ERROR_NOT_ENOUGH_MEMORY;
    memcpy(copy, p->data + p->l3_offset, len);
    memset(&edit, 0, sizeof edit);
    edit.set_src = req->set_src;
    edit.set_dst = req->set_dst;
    edit.set_sport = req->set_sport;
    edit.set_dport = req->set_dport;
    memcpy(edit.src, req->src, 16);
    memcpy(edit.dst, req->dst, 16);
    edit.sport = req->sport;
    edit.dport = req->dport;
    if (!wfp_packet_rewrite(copy, len, &edit)) {
        h->a->free(h->a->ctx, copy);
        return FWP_E_INVALID_PARAMETER;
    }
    /* the copy's own addresses decide its path: a send must leave from
     * here, a receive must be for here */
    ver = p->ip_version == 6 ? FWP_IP_VERSION_V6 : FWP_IP_VERSION_V4;
    send = kind == WFP_INJECT_NETWORK_SEND || kind == WFP_INJECT_TRANSPORT_SEND;
    {
        const uint8_t *src = req->set_src ? req->src : p->src;
        const uint8_t *dst = req->set_dst ? req->dst : p->dst;
        bool bad = kind == WFP_INJECT_FORWARD ? !h->forwarding || wfpi_host_is_local(h, ver, dst)
                   : send                    ? !wfpi_host_is_local(h, ver, src)
                                             : !wfpi_host_is_local(h, ver, dst);
        if (bad) {
            h->a->free(h->a->ctx, copy);
            return FWP_E_INVALID_PARAMETER;
        }
    }
    memset(&inj, 0, sizeof inj);
    rc = hand_over(h, &inj, kind, req->handle, req->context, req->delay_ns, copy, len);
    h->a->free(h->a->ctx, copy);
    return rc;
}

uint32_t wfp_host_stream_inject(wfp_host *h, const wfp_stream_inject_request *req)
{
    const wfp_packet *p;
    wfp_packet_spec spec;
    wfp_host_injection inj;
    uint8_t *seg;
    size_t len, cap;
    uint32_t rc;
    bool same;
    if (!h || !req || !can_inject(h, req->handle) || !h->cur_item ||
        h->cur_layer != h->lid[LK_STREAM][h->cur_item->ver] || !h->cur_item->flow_id)
        return FWP_E_INVALID_PARAMETER;
    p = h->cur_pkt;
    if ((req->data && req->len > 65000) || p->protocol != WFP_IPPROTO_TCP || !p->has_l4)
        return FWP_E_INVALID_PARAMETER;
    /* one segment of the stream: the flow's tuple, in the stream's direction */
    same = req->send == (h->cur_direction == FWP_DIRECTION_OUTBOUND);
    wfp_packet_spec_init(&spec);
    spec.ip_version = p->ip_version;
    spec.protocol = WFP_IPPROTO_TCP;
    memcpy(spec.src, same ? p->src : p->dst, 16);
    memcpy(spec.dst, same ? p->dst : p->src, 16);
    spec.sport = same ? p->sport : p->dport;
    spec.dport = same ? p->dport : p->sport;
    spec.seq = same ? p->tcp.seq : p->tcp.ack;
    spec.ack = same ? p->tcp.ack : p->tcp.seq;
    spec.tcp_flags = WFP_TCP_PSH | WFP_TCP_ACK;
    spec.ttl = 128;
    if (req->data) {
        spec.payload = req->data;
        spec.payload_len = req->len;
    } else {
        spec.payload = p->data + p->payload_offset;
        spec.payload_len = p->payload_caplen;
    }
    cap = 60 + spec.payload_len;
    seg = h->a->alloc(h->a->ctx, cap);
    if (!seg)
        return ERROR_NOT_ENOUGH_MEMORY;
    len = wfp_packet_build(&spec, seg, cap);
    if (!len) {
        h->a->free(h->a->ctx, seg);
        return FWP_E_INVALID_PARAMETER;
    }
    memset(&inj, 0, sizeof inj);
    inj.flow_id = h->cur_item->flow_id;
    inj.below_sublayer_weight = req->sublayer_weight;
    rc = hand_over(h, &inj, WFP_INJECT_STREAM, req->handle, req->context, req->delay_ns, seg, len);
    h->a->free(h->a->ctx, seg);
    return rc;
}

uint32_t wfp_host_packet_injected(wfp_host *h, uint64_t now_ns, const wfp_host_injection *inj,
                                  wfp_packet_outcome *out)
{
    wfp_packet p;
    if (!h || !inj || !inj->ip || !inj->depth || inj->depth > WFP_INJECT_MAX_DEPTH) {
        if (out) {
            memset(out, 0, sizeof *out);
            out->layer_id = UINT16_MAX;
        }
        return FWP_E_INVALID_PARAMETER;
    }
    wfp_packet_parse(WFP_LINKTYPE_RAW, inj->ip, (uint32_t)inj->len, (uint32_t)inj->len, now_ns, &p);
    return wfpi_host_run_packet(h, now_ns, &p, NULL, inj, NULL, out);
}
