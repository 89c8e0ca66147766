/* netevent.c — the net-event log (spec §7): which classify outcomes are
 * recorded, the header fields taken from the incoming values, the bounded
 * circular store, enumeration snapshots and subscriptions.
 *
 * Events are reference-counted records: the log holds one reference, every
 * enumeration snapshot that lists an event holds one, and delivery to
 * subscribers holds one for its duration. An event leaves memory when the
 * last of them lets go, so a snapshot stays valid while the log wraps or is
 * emptied by a reboot. Everything hangs off `struct wfp_netlog`, created on
 * first use; a failed allocation on the classify path drops the event
 * (stats.net_events_dropped) and never fails the classify.
 *
 * Choices where Windows is silent are marked "sim-defined" and listed in
 * docs/sim-defined.md. */
#include "engine_int.h"
#include "wfp_netevent.h"

#include <string.h>

/* ---- sizes --------------------------------------------------------------- */

/* Windows keeps 128 KiB of events (W32 logging). What an event costs is
 * sim-defined: a fixed 896 bytes (the header, the classify payload and the
 * bookkeeping of the real store; chosen so the log holds ≈100–150 events as
 * the spec observes) plus the bytes of its app id and user SID. */
#define NETLOG_BYTES (128u * 1024u)
#define NETLOG_EVENT_FIXED_COST 896u
/* Every event costs at least the fixed part: the ring never holds more. */
#define NETLOG_MAX_EVENTS (NETLOG_BYTES / NETLOG_EVENT_FIXED_COST)

/* NL_ADDRESS_TYPE (nldef.h), the values of IP_*_ADDRESS_TYPE fields. */
enum { NLAT_MULTICAST = 3, NLAT_BROADCAST = 4 };

/* ---- fields of the classified layer ---------------------------------------- */

#define NE_FIELDS(X)                                         \
    X(F_PROTOCOL, "IP_PROTOCOL")                             \
    X(F_LOCAL_ADDR, "IP_LOCAL_ADDRESS")                      \
    X(F_REMOTE_ADDR, "IP_REMOTE_ADDRESS")                    \
    X(F_SOURCE_ADDR, "IP_SOURCE_ADDRESS")                    \
    X(F_DEST_ADDR, "IP_DESTINATION_ADDRESS")                 \
    X(F_LOCAL_PORT, "IP_LOCAL_PORT")                         \
    X(F_REMOTE_PORT, "IP_REMOTE_PORT")                       \
    X(F_SOURCE_PORT, "IP_SOURCE_PORT")                       \
    X(F_DEST_PORT, "IP_DESTINATION_PORT")                    \
    X(F_APP_ID, "ALE_APP_ID")                                \
    X(F_USER_ID, "ALE_USER_ID")                              \
    X(F_FLAGS, "FLAGS")                                      \
    X(F_ALE_REAUTH, "ALE_REAUTH_REASON")                     \
    X(F_REAUTH, "REAUTHORIZE_REASON")                        \
    X(F_CURRENT_PROFILE, "CURRENT_PROFILE_ID")               \
    X(F_ORIGINAL_PROFILE, "ORIGINAL_PROFILE_ID")             \
    X(F_DIRECTION, "DIRECTION")                              \
    X(F_LOCAL_ADDR_TYPE, "IP_LOCAL_ADDRESS_TYPE")            \
    X(F_DEST_ADDR_TYPE, "IP_DESTINATION_ADDRESS_TYPE")

enum {
#define X(id, name) id,
    NE_FIELDS(X)
#undef X
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
#define X(id, name) name,
    NE_FIELDS(X)
#undef X
};

/* Template fields (FWPM_NET_EVENT_ENUM_TEMPLATE0). FWPM_CONDITION_SCOPE_ID
 * has no known GUID and is left out (catalog_data.inc). */
enum { T_PROTOCOL, T_LOCAL_ADDR, T_REMOTE_ADDR, T_LOCAL_PORT, T_REMOTE_PORT, T_APP_ID, T_USER_ID, T_TYPE, T_COUNT };
static const char *const tfield_names[T_COUNT] = {
    "IP_PROTOCOL", "IP_LOCAL_ADDRESS", "IP_REMOTE_ADDRESS", "IP_LOCAL_PORT",
    "IP_REMOTE_PORT", "ALE_APP_ID", "ALE_USER_ID", "NET_EVENT_TYPE",
};

/* ---- state ---------------------------------------------------------------- */

typedef struct nev {
    wfp_net_event pub; /* first: a `const wfp_net_event *` lent out is the record */
    uint32_t refs;
    uint32_t cost;     /* bytes charged against NETLOG_BYTES */
    /* followed by the app id, then the user SID (nev_data) */
} nev;

static uint8_t *nev_data(nev *ev)
{
    return (uint8_t *)(ev + 1);
}

/* A validated template with its fields resolved (subscriptions keep a deep
 * copy; enumeration uses the caller's for the snapshot only). */
typedef struct ntmpl {
    uint64_t start_ns, end_ns;
    uint32_t n;
    const wfp_condition *conds;
    uint8_t field[T_COUNT]; /* T_* per condition: fields are distinct, so at most T_COUNT */
} ntmpl;

typedef struct nsub {
    uint64_t handle;
    uint32_t session;
    bool dead; /* unsubscribed while events were being delivered */
    wfp_net_event_fn fn;
    void *ctx;
    ntmpl t;
    wfp_condition *conds; /* owned; t.conds points here */
} nsub;

struct wfp_net_event_enum {
    uint32_t session;
    size_t n, pos;
    const wfp_net_event **events; /* each holds a reference */
};

struct wfp_netlog {
    nev *ring[NETLOG_MAX_EVENTS]; /* oldest at `head` */
    size_t head, n;
    size_t bytes;
    uint64_t next_sequence;

    nsub **subs; /* in subscription order */
    size_t nsubs, subs_cap;
    uint64_t next_sub_handle;
    unsigned delivering; /* nesting depth of subscriber callbacks */
    bool subs_dead;      /* some entries are dead: compact when delivery ends */

    wfp_net_event_enum **enums; /* live enumeration handles */
    size_t nenums, enums_cap;

    /* field index of each F_* per layer: -2 not looked up yet, -1 absent */
    size_t nlayers;
    int16_t *fidx;
};

static struct wfp_netlog *netlog_get(wfp_engine *e)
{
    if (e->netlog) return e->netlog;
    struct wfp_netlog *nl = wfpi_calloc(e, 1, sizeof *nl);
    if (!nl) return NULL;
    nl->nlayers = wfp_catalog_layer_count();
    nl->fidx = wfpi_calloc(e, nl->nlayers * F_COUNT, sizeof *nl->fidx);
    if (!nl->fidx) {
        wfpi_free(e, nl);
        return NULL;
    }
    for (size_t i = 0; i < nl->nlayers * F_COUNT; i++) nl->fidx[i] = -2;
    nl->next_sequence = 1;
    nl->next_sub_handle = 1;
    e->netlog = nl;
    return nl;
}

static void ev_release(wfp_engine *e, nev *ev)
{
    if (ev && --ev->refs == 0) wfpi_free(e, ev);
}

/* Grows a vector of pointers by one slot (through wfpi_alloc: no realloc
 * in the private allocator API). */
static bool ptrvec_reserve(wfp_engine *e, void ***v, size_t n, size_t *cap)
{
    if (n < *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void **nv = wfpi_calloc(e, ncap, sizeof *nv);
    if (!nv) return false;
    if (n) memcpy(nv, *v, n * sizeof *nv);
    wfpi_free(e, *v);
    *v = nv;
    *cap = ncap;
    return true;
}

/* ---- reading the incoming values -------------------------------------------- */

static int field_index(const wfp_layer_info *layer, int f)
{
    const wfp_condition_info *ci = wfp_catalog_condition_by_name(field_names[f]);
    return ci ? wfp_catalog_field_index(layer, &ci->key) : -1;
}

typedef struct reader {
    const wfp_layer_info *layer;
    const wfp_classify_request *req;
    int idx[F_COUNT];
} reader;

static void reader_init(reader *r, struct wfp_netlog *nl, const wfp_layer_info *layer,
                        const wfp_classify_request *req)
{
    int16_t *cache = nl && layer->id < nl->nlayers ? nl->fidx + (size_t)layer->id * F_COUNT : NULL;
    r->layer = layer;
    r->req = req;
    for (int f = 0; f < F_COUNT; f++) {
        if (cache && cache[f] != -2) {
            r->idx[f] = cache[f];
            continue;
        }
        r->idx[f] = field_index(layer, f);
        if (cache) cache[f] = (int16_t)r->idx[f];
    }
}

/* The incoming value of a field, or NULL when the layer lacks it or the
 * caller left it EMPTY. */
static const wfp_value *rd(const reader *r, int f)
{
    int i = r->idx[f];
    if (i < 0 || !r->req->values || (uint32_t)i >= r->req->num_values) return NULL;
    const wfp_value *v = &r->req->values[i];
    return v->type == FWP_EMPTY ? NULL : v;
}

static bool rd_u32(const reader *r, int f, uint32_t *out)
{
    const wfp_value *v = rd(r, f);
    if (!v) return false;
    switch (v->type) {
    case FWP_UINT8: *out = v->v.u8; return true;
    case FWP_UINT16: *out = v->v.u16; return true;
    case FWP_UINT32: *out = v->v.u32; return true;
    default: return false;
    }
}

static bool rd_blob(const reader *r, int f, uint32_t type, wfp_byte_blob *out)
{
    const wfp_value *v = rd(r, f);
    if (!v || v->type != type || !v->v.blob.size || !v->v.blob.data) return false;
    *out = v->v.blob;
    return true;
}

/* An address into 16 bytes (v4: network order in the first 4). Returns the
 * FWP_IP_VERSION, or FWP_IP_VERSION_NONE when absent. */
static uint32_t rd_addr(const reader *r, int f, uint8_t out[16])
{
    const wfp_value *v = rd(r, f);
    if (!v) return FWP_IP_VERSION_NONE;
    if (v->type == FWP_UINT32) {
        memset(out, 0, 16);
        out[0] = (uint8_t)(v->v.u32 >> 24);
        out[1] = (uint8_t)(v->v.u32 >> 16);
        out[2] = (uint8_t)(v->v.u32 >> 8);
        out[3] = (uint8_t)v->v.u32;
        return FWP_IP_VERSION_V4;
    }
    if (v->type == FWP_BYTE_ARRAY16_TYPE) {
        memcpy(out, v->v.bytes16, 16);
        return FWP_IP_VERSION_V6;
    }
    return FWP_IP_VERSION_NONE;
}

/* The first SID of a token (FWP_TOKEN_* encoding: the user comes first),
 * or the SID itself at layers whose ALE_USER_ID is an FWP_SID. */
static bool rd_user_sid(const reader *r, wfp_byte_blob *out)
{
    const wfp_value *v = rd(r, F_USER_ID);
    if (!v) return false;
    if (v->type != FWP_SID && v->type != FWP_TOKEN_INFORMATION_TYPE && v->type != FWP_TOKEN_ACCESS_INFORMATION_TYPE)
        return false;
    const wfp_byte_blob *b = &v->v.blob;
    if (!b->data || b->size < 8) return false;
    uint32_t len = 8u + 4u * b->data[1];
    if (len > b->size || !wfp_sid_valid(b->data, len)) return false;
    out->data = b->data;
    out->size = len;
    return true;
}

static bool name_has(const wfp_layer_info *layer, const char *part)
{
    return layer->name && strstr(layer->name, part) != NULL;
}

/* msFwpDirection. Forward layers first (a forwarded packet is neither in
 * nor out), then the packet direction metadata, then the layer's name,
 * then a DIRECTION field (sim-defined order). 0 when nothing tells. */
static uint32_t direction_of(const reader *r)
{
    const wfp_layer_info *l = r->layer;
    uint32_t d;
    if (name_has(l, "IPFORWARD")) return FWP_DIRECTION_FORWARD;
    if (r->req->meta && (r->req->meta->present & WFP_METADATA_PACKET_DIRECTION))
        return r->req->meta->packet_direction == FWP_DIRECTION_INBOUND ? FWP_DIRECTION_IN : FWP_DIRECTION_OUT;
    if (name_has(l, "INBOUND_") || name_has(l, "RECV_ACCEPT") || name_has(l, "INGRESS_")) return FWP_DIRECTION_IN;
    if (name_has(l, "OUTBOUND_") || name_has(l, "AUTH_CONNECT") || name_has(l, "CONNECT_REDIRECT") ||
        name_has(l, "EGRESS_"))
        return FWP_DIRECTION_OUT;
    if (rd_u32(r, F_DIRECTION, &d)) return d == FWP_DIRECTION_INBOUND ? FWP_DIRECTION_IN : FWP_DIRECTION_OUT;
    return 0;
}

/* Fills the header and payload of `ev` from the classify. Blobs point into
 * the request until the event is stored. */
static void build_event(const reader *r, const wfp_verdict *v, uint32_t type, wfp_net_event *ev)
{
    uint32_t u, ver;
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->time_ns = r->req->time_ns;
    ev->filter_id = v->filter_id;
    ev->layer_id = v->layer_id;
    ev->ms_fwp_direction = direction_of(r);
    ev->ip_version = FWP_IP_VERSION_NONE;

    if (rd_u32(r, F_PROTOCOL, &u)) {
        ev->ip_protocol = (uint8_t)u;
        ev->flags |= FWPM_NET_EVENT_FLAG_IP_PROTOCOL_SET;
    }
    /* Forward layers name the ends source and destination: the source
     * stands as the local end, as if the host sent it (sim-defined). */
    bool fwd_names = r->idx[F_LOCAL_ADDR] < 0 && r->idx[F_REMOTE_ADDR] < 0;
    int la = fwd_names ? F_SOURCE_ADDR : F_LOCAL_ADDR, ra = fwd_names ? F_DEST_ADDR : F_REMOTE_ADDR;
    if ((ver = rd_addr(r, la, ev->local_addr)) != FWP_IP_VERSION_NONE) {
        ev->ip_version = ver;
        ev->flags |= FWPM_NET_EVENT_FLAG_LOCAL_ADDR_SET;
    }
    if ((ver = rd_addr(r, ra, ev->remote_addr)) != FWP_IP_VERSION_NONE) {
        if (ev->ip_version == FWP_IP_VERSION_NONE || ev->ip_version == ver) {
            ev->ip_version = ver;
            ev->flags |= FWPM_NET_EVENT_FLAG_REMOTE_ADDR_SET;
        } else {
            memset(ev->remote_addr, 0, sizeof ev->remote_addr); /* families disagree: keep the local one */
        }
    }
    if (ev->ip_version == FWP_IP_VERSION_NONE) {
        if (name_has(r->layer, "_V4")) ev->ip_version = FWP_IP_VERSION_V4;
        else if (name_has(r->layer, "_V6")) ev->ip_version = FWP_IP_VERSION_V6;
    }
    if (ev->ip_version != FWP_IP_VERSION_NONE) ev->flags |= FWPM_NET_EVENT_FLAG_IP_VERSION_SET;

    bool fwd_ports = r->idx[F_LOCAL_PORT] < 0 && r->idx[F_REMOTE_PORT] < 0;
    if (rd_u32(r, fwd_ports ? F_SOURCE_PORT : F_LOCAL_PORT, &u)) {
        ev->local_port = (uint16_t)u;
        ev->flags |= FWPM_NET_EVENT_FLAG_LOCAL_PORT_SET;
    }
    if (rd_u32(r, fwd_ports ? F_DEST_PORT : F_REMOTE_PORT, &u)) {
        ev->remote_port = (uint16_t)u;
        ev->flags |= FWPM_NET_EVENT_FLAG_REMOTE_PORT_SET;
    }
    if (rd_blob(r, F_APP_ID, FWP_BYTE_BLOB_TYPE, &ev->app_id)) ev->flags |= FWPM_NET_EVENT_FLAG_APP_ID_SET;
    if (rd_user_sid(r, &ev->user_id)) ev->flags |= FWPM_NET_EVENT_FLAG_USER_ID_SET;

    uint32_t cflags = 0;
    bool have_flags = rd_u32(r, F_FLAGS, &cflags);
    ev->is_loopback = have_flags && (cflags & FWP_CONDITION_FLAG_IS_LOOPBACK);
    if (rd_u32(r, F_ALE_REAUTH, &u) || rd_u32(r, F_REAUTH, &u)) ev->reauth_reason = u;
    if (ev->reauth_reason || (cflags & FWP_CONDITION_FLAG_IS_REAUTHORIZE))
        ev->flags |= FWPM_NET_EVENT_FLAG_REAUTH_REASON_SET;
    if (rd_u32(r, F_CURRENT_PROFILE, &u)) ev->current_profile = u;
    if (rd_u32(r, F_ORIGINAL_PROFILE, &u)) ev->original_profile = u;
}

/* Is the event's local end (the destination of an inbound packet)
 * multicast or broadcast? The layer's address-type field decides when the
 * caller set it (it knows subnet broadcasts); else the address does:
 * v4 224.0.0.0/4 and 255.255.255.255, v6 ff00::/8. */
static void local_cast(const reader *r, const wfp_net_event *ev, bool *mcast, bool *bcast)
{
    uint32_t t;
    *mcast = *bcast = false;
    if (rd_u32(r, F_LOCAL_ADDR_TYPE, &t) || rd_u32(r, F_DEST_ADDR_TYPE, &t)) {
        *mcast = t == NLAT_MULTICAST;
        *bcast = t == NLAT_BROADCAST;
        return;
    }
    if (!(ev->flags & FWPM_NET_EVENT_FLAG_LOCAL_ADDR_SET)) return;
    const uint8_t *a = ev->local_addr;
    if (ev->ip_version == FWP_IP_VERSION_V4) {
        *mcast = (a[0] & 0xf0) == 0xe0;
        *bcast = a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255;
    } else {
        *mcast = a[0] == 0xff;
    }
}

/* ---- templates -------------------------------------------------------------- */

static int tfield_of(const wfp_guid *key)
{
    for (int i = 0; i < T_COUNT; i++) {
        const wfp_condition_info *ci = wfp_catalog_condition_by_name(tfield_names[i]);
        if (ci && wfp_guid_eq(&ci->key, key)) return i;
    }
    return -1;
}

/* The FWP data type an event value of a template field has. Addresses
 * are UINT32 for v4 and BYTE_ARRAY16 for v6: the operand's type picks. */
static uint32_t tfield_type(int f, const wfp_condition_value *c)
{
    switch (f) {
    case T_PROTOCOL: return FWP_UINT8;
    case T_LOCAL_ADDR:
    case T_REMOTE_ADDR: {
        uint32_t t = c->type == FWP_RANGE_TYPE ? c->u.range.low.type : c->type;
        return t == FWP_UINT32 || t == FWP_V4_ADDR_MASK ? FWP_UINT32 : FWP_BYTE_ARRAY16_TYPE;
    }
    case T_LOCAL_PORT:
    case T_REMOTE_PORT: return FWP_UINT16;
    case T_APP_ID: return FWP_BYTE_BLOB_TYPE;
    case T_USER_ID: return FWP_SID;
    default: return FWP_UINT32;
    }
}

static uint32_t tmpl_resolve(wfp_engine *e, const wfp_net_event_template *t, ntmpl *out)
{
    memset(out, 0, sizeof *out);
    if (!t) return ERROR_SUCCESS;
    if (t->end_ns < t->start_ns)
        return wfpi_fail(e, FWP_E_INVALID_INTERVAL, "template: end time before start time");
    if (t->num_conditions && !t->conditions) return wfpi_fail(e, FWP_E_NULL_POINTER, "template: conditions");
    for (uint32_t i = 0; i < t->num_conditions; i++) {
        const wfp_condition *c = &t->conditions[i];
        int f = tfield_of(&c->field_key);
        if (f < 0)
            return wfpi_fail(e, FWP_E_CONDITION_NOT_FOUND, "template condition %u: not a net-event field", i);
        for (uint32_t j = 0; j < i; j++)
            if (out->field[j] == f)
                return wfpi_fail(e, FWP_E_DUPLICATE_CONDITION, "template condition %u: field %s appears twice", i,
                                 tfield_names[f]);
        uint32_t rc = wfp_condition_validate(tfield_type(f, &c->value), c->match_type, &c->value);
        if (rc) return wfpi_fail(e, rc, "template condition %u on %s", i, tfield_names[f]);
        out->field[i] = (uint8_t)f; /* distinct fields: i < T_COUNT <= 16 */
    }
    out->start_ns = t->start_ns;
    out->end_ns = t->end_ns;
    out->n = t->num_conditions;
    out->conds = t->conditions;
    return ERROR_SUCCESS;
}

/* An event field as a value (EMPTY when the event lacks it). */
static wfp_value event_value(const wfp_net_event *ev, int f)
{
    wfp_value v;
    memset(&v, 0, sizeof v);
    v.type = FWP_EMPTY;
    switch (f) {
    case T_PROTOCOL:
        if (ev->flags & FWPM_NET_EVENT_FLAG_IP_PROTOCOL_SET) {
            v.type = FWP_UINT8;
            v.v.u8 = ev->ip_protocol;
        }
        break;
    case T_LOCAL_ADDR:
    case T_REMOTE_ADDR: {
        uint32_t flag = f == T_LOCAL_ADDR ? FWPM_NET_EVENT_FLAG_LOCAL_ADDR_SET : FWPM_NET_EVENT_FLAG_REMOTE_ADDR_SET;
        const uint8_t *a = f == T_LOCAL_ADDR ? ev->local_addr : ev->remote_addr;
        if (!(ev->flags & flag)) break;
        if (ev->ip_version == FWP_IP_VERSION_V4) {
            v.type = FWP_UINT32;
            v.v.u32 = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
        } else {
            v.type = FWP_BYTE_ARRAY16_TYPE;
            memcpy(v.v.bytes16, a, 16);
        }
        break;
    }
    case T_LOCAL_PORT:
    case T_REMOTE_PORT: {
        uint32_t flag = f == T_LOCAL_PORT ? FWPM_NET_EVENT_FLAG_LOCAL_PORT_SET : FWPM_NET_EVENT_FLAG_REMOTE_PORT_SET;
        if (!(ev->flags & flag)) break;
        v.type = FWP_UINT16;
        v.v.u16 = f == T_LOCAL_PORT ? ev->local_port : ev->remote_port;
        break;
    }
    case T_APP_ID:
        if (ev->flags & FWPM_NET_EVENT_FLAG_APP_ID_SET) {
            v.type = FWP_BYTE_BLOB_TYPE;
            v.v.blob = ev->app_id;
        }
        break;
    case T_USER_ID:
        if (ev->flags & FWPM_NET_EVENT_FLAG_USER_ID_SET) {
            v.type = FWP_SID;
            v.v.blob = ev->user_id;
        }
        break;
    default:
        v.type = FWP_UINT32;
        v.v.u32 = ev->type;
        break;
    }
    return v;
}

static bool tmpl_match(const ntmpl *t, const wfp_net_event *ev)
{
    if ((t->start_ns || t->end_ns) && (ev->time_ns < t->start_ns || ev->time_ns > t->end_ns)) return false;
    for (uint32_t i = 0; i < t->n; i++) {
        wfp_value v = event_value(ev, t->field[i]);
        if (!wfp_condition_match(t->conds[i].match_type, &t->conds[i].value, &v)) return false;
    }
    return true;
}

/* ---- recording --------------------------------------------------------------- */

static void ring_drop_oldest(wfp_engine *e, struct wfp_netlog *nl)
{
    nev *old = nl->ring[nl->head];
    nl->ring[nl->head] = NULL;
    nl->head = (nl->head + 1) % NETLOG_MAX_EVENTS;
    nl->n--;
    nl->bytes -= old->cost;
    ev_release(e, old);
}

static void subs_compact(wfp_engine *e, struct wfp_netlog *nl);

static void deliver(wfp_engine *e, struct wfp_netlog *nl, nev *ev)
{
    /* Subscriptions made by a callback start with the next event; those
     * cancelled by one are skipped from then on. */
    size_t n = nl->nsubs;
    nl->delivering++;
    for (size_t i = 0; i < n; i++) {
        nsub *s = nl->subs[i];
        if (!s->dead && tmpl_match(&s->t, &ev->pub)) s->fn(s->ctx, &ev->pub);
    }
    if (--nl->delivering == 0 && nl->subs_dead) subs_compact(e, nl);
}

void wfpi_netevent_on_classify(wfp_engine *e, const wfp_classify_request *req, const wfp_verdict *v)
{
    uint32_t type;
    if (!e || !req || !v || !e->options[FWPM_ENGINE_COLLECT_NET_EVENTS]) return;
    uint32_t keywords = e->options[FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS];
    const wfp_layer_info *layer = wfp_catalog_layer_by_id(v->layer_id);
    /* One event per final verdict at a non-discard layer (spec §7.5). */
    if (!layer || layer->base_layer_id >= 0) return;
    if (v->action == FWP_ACTION_BLOCK) {
        if (v->absorb) return; /* silent drops stay silent */
        type = FWPM_NET_EVENT_TYPE_CLASSIFY_DROP;
    } else if (v->action == FWP_ACTION_PERMIT && v->filter_id) {
        /* Only a permit some filter decided (sim-defined: NONE and
         * NONE_NO_MATCH let traffic through but nothing "allowed" it). */
        if (!(keywords & FWPM_NET_EVENT_KEYWORD_CLASSIFY_ALLOW)) return;
        type = FWPM_NET_EVENT_TYPE_CLASSIFY_ALLOW;
    } else {
        return;
    }

    struct wfp_netlog *nl = e->netlog;
    reader r;
    wfp_net_event tmp;
    reader_init(&r, nl, layer, req);
    build_event(&r, v, type, &tmp);
    /* Default collection: inbound unicast only; inbound multicast and
     * broadcast need their keywords (W32 logging). Forwarded traffic is not
     * inbound (sim-defined). */
    if (tmp.ms_fwp_direction == FWP_DIRECTION_IN) {
        bool mcast, bcast;
        local_cast(&r, &tmp, &mcast, &bcast);
        if (mcast && !(keywords & FWPM_NET_EVENT_KEYWORD_INBOUND_MCAST)) return;
        if (bcast && !(keywords & FWPM_NET_EVENT_KEYWORD_INBOUND_BCAST)) return;
    }

    nl = netlog_get(e);
    size_t extra = (size_t)tmp.app_id.size + tmp.user_id.size;
    nev *ev = nl && extra <= NETLOG_BYTES - NETLOG_EVENT_FIXED_COST ? wfpi_alloc(e, sizeof *ev + extra) : NULL;
    if (!ev) {
        e->stats.net_events_dropped++;
        return;
    }
    ev->pub = tmp;
    ev->refs = 1;
    ev->cost = NETLOG_EVENT_FIXED_COST + (uint32_t)extra;
    uint8_t *data = nev_data(ev);
    if (tmp.app_id.size) {
        memcpy(data, tmp.app_id.data, tmp.app_id.size);
        ev->pub.app_id.data = data;
    }
    if (tmp.user_id.size) {
        memcpy(data + tmp.app_id.size, tmp.user_id.data, tmp.user_id.size);
        ev->pub.user_id.data = data + tmp.app_id.size;
    }
    ev->pub.sequence = nl->next_sequence++;

    /* Circular: the oldest events make room. */
    while (nl->n && (nl->n == NETLOG_MAX_EVENTS || nl->bytes + ev->cost > NETLOG_BYTES)) ring_drop_oldest(e, nl);
    nl->ring[(nl->head + nl->n) % NETLOG_MAX_EVENTS] = ev;
    nl->n++;
    nl->bytes += ev->cost;
    e->stats.net_events_recorded++;

    if (nl->nsubs) {
        ev->refs++; /* a callback may wrap or clear the log */
        deliver(e, nl, ev);
        ev_release(e, ev);
    }
}

void wfpi_netlog_clear(wfp_engine *e)
{
    struct wfp_netlog *nl = e ? e->netlog : NULL;
    while (nl && nl->n) ring_drop_oldest(e, nl);
}

/* ---- enumeration ------------------------------------------------------------ */

static void enum_free(wfp_engine *e, wfp_net_event_enum *h)
{
    for (size_t i = 0; i < h->n; i++) ev_release(e, (nev *)(void *)h->events[i]);
    wfpi_free(e, h->events);
    wfpi_free(e, h);
}

static size_t enum_find(const struct wfp_netlog *nl, const wfp_net_event_enum *h)
{
    for (size_t i = 0; nl && i < nl->nenums; i++)
        if (nl->enums[i] == h) return i;
    return SIZE_MAX;
}

/* The checks every call that opens something on the log makes. */
/* What enumeration and subscription both check first: the session,
 * no transaction, the right on the net-event container, a template that
 * resolves (into *t), and collection switched on. */
static uint32_t open_checks(wfp_session *s, uint32_t right, const char *what, const wfp_net_event_template *tmpl,
                            ntmpl *t)
{
    wfp_engine *e = s->engine;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (wfp_session_in_txn(s))
        return wfpi_fail(e, FWP_E_TXN_IN_PROGRESS, "%s: not inside a transaction", what);
    if ((rc = wfpi_check_container(s, WFP_OBJECT_NET_EVENTS, right))) return rc;
    if ((rc = tmpl_resolve(e, tmpl, t))) return rc;
    if (!e->options[FWPM_ENGINE_COLLECT_NET_EVENTS])
        return wfpi_fail(e, FWP_E_NET_EVENTS_DISABLED, "net-event collection is off");
    return ERROR_SUCCESS;
}

uint32_t wfp_net_event_enum_create(wfp_session *s, const wfp_net_event_template *tmpl, wfp_net_event_enum **out)
{
    if (!s || !out) return FWP_E_NULL_POINTER;
    *out = NULL;
    wfp_engine *e = s->engine;
    ntmpl t;
    uint32_t rc = open_checks(s, FWPM_ACTRL_ENUM, "net-event enumeration", tmpl, &t);
    if (rc) return rc;

    struct wfp_netlog *nl = netlog_get(e);
    wfp_net_event_enum *h = nl ? wfpi_calloc(e, 1, sizeof *h) : NULL;
    if (!h || !ptrvec_reserve(e, (void ***)&nl->enums, nl->nenums, &nl->enums_cap)) goto oom;
    h->session = s->id;
    if (nl->n && !(h->events = wfpi_calloc(e, nl->n, sizeof *h->events))) goto oom;
    for (size_t i = 0; i < nl->n; i++) {
        nev *ev = nl->ring[(nl->head + i) % NETLOG_MAX_EVENTS];
        if (!tmpl_match(&t, &ev->pub)) continue;
        ev->refs++;
        h->events[h->n++] = &ev->pub;
    }
    nl->enums[nl->nenums++] = h;
    *out = h;
    return ERROR_SUCCESS;
oom:
    wfpi_free(e, h);
    return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "net-event enumeration");
}

uint32_t wfp_net_event_enum_next(wfp_session *s, wfp_net_event_enum *h, uint32_t requested,
                                 const wfp_net_event *const **entries, uint32_t *returned)
{
    if (!s || !h || !entries || !returned) return FWP_E_NULL_POINTER;
    *entries = NULL;
    *returned = 0;
    wfp_engine *e = s->engine;
    uint32_t rc = wfpi_session_enter(s);
    if (rc) return rc;
    if (wfp_session_in_txn(s)) return wfpi_fail(e, FWP_E_TXN_IN_PROGRESS, "net-event enumeration: in a transaction");
    if (enum_find(e->netlog, h) == SIZE_MAX || h->session != s->id)
        return wfpi_fail(e, FWP_E_INVALID_ENUMERATOR, "not a net-event enumeration handle of this session");
    size_t left = h->n - h->pos;
    uint32_t k = left < requested ? (uint32_t)left : requested;
    if (k) *entries = (const wfp_net_event *const *)&h->events[h->pos];
    h->pos += k;
    *returned = k;
    return ERROR_SUCCESS;
}

uint32_t wfp_net_event_enum_destroy(wfp_session *s, wfp_net_event_enum *h)
{
    if (!h) return ERROR_SUCCESS;
    if (!s) return FWP_E_NULL_POINTER;
    wfp_engine *e = s->engine;
    struct wfp_netlog *nl = e->netlog;
    size_t i = enum_find(nl, h);
    if (i == SIZE_MAX || h->session != s->id)
        return wfpi_fail(e, FWP_E_INVALID_ENUMERATOR, "not a net-event enumeration handle of this session");
    memmove(nl->enums + i, nl->enums + i + 1, (nl->nenums - i - 1) * sizeof *nl->enums);
    nl->nenums--;
    enum_free(e, h);
    return ERROR_SUCCESS;
}

/* ---- subscriptions ------------------------------------------------------------ */

static void sub_free(wfp_engine *e, nsub *s)
{
    for (uint32_t i = 0; s->conds && i < s->t.n; i++) wfpi_condition_value_free(&e->alloc, &s->conds[i].value);
    wfpi_free(e, s->conds);
    wfpi_free(e, s);
}

static void subs_compact(wfp_engine *e, struct wfp_netlog *nl)
{
    size_t k = 0;
    for (size_t i = 0; i < nl->nsubs; i++) {
        if (nl->subs[i]->dead) sub_free(e, nl->subs[i]);
        else nl->subs[k++] = nl->subs[i];
    }
    nl->nsubs = k;
    nl->subs_dead = false;
}

/* Cancels a subscription now, or marks it while callbacks run (the
 * delivery loop holds indices into the array). */
static void sub_remove(wfp_engine *e, struct wfp_netlog *nl, size_t i)
{
    if (nl->delivering) {
        nl->subs[i]->dead = true;
        nl->subs_dead = true;
        return;
    }
    sub_free(e, nl->subs[i]);
    memmove(nl->subs + i, nl->subs + i + 1, (nl->nsubs - i - 1) * sizeof *nl->subs);
    nl->nsubs--;
}

uint32_t wfp_net_event_subscribe(wfp_session *s, const wfp_net_event_template *tmpl, wfp_net_event_fn fn, void *ctx,
                                 uint64_t *handle)
{
    if (!s || !fn || !handle) return FWP_E_NULL_POINTER;
    *handle = 0;
    wfp_engine *e = s->engine;
    ntmpl t;
    uint32_t rc = open_checks(s, FWPM_ACTRL_SUBSCRIBE, "net-event subscription", tmpl, &t);
    if (rc) return rc;

    struct wfp_netlog *nl = netlog_get(e);
    nsub *sub = nl ? wfpi_calloc(e, 1, sizeof *sub) : NULL;
    if (!sub || !ptrvec_reserve(e, (void ***)&nl->subs, nl->nsubs, &nl->subs_cap)) goto oom;
    sub->t = t;
    if (t.n) {
        sub->conds = wfpi_calloc(e, t.n, sizeof *sub->conds);
        if (!sub->conds) goto oom;
        bool ok = true;
        for (uint32_t i = 0; i < t.n; i++) {
            sub->conds[i].field_key = t.conds[i].field_key;
            sub->conds[i].match_type = t.conds[i].match_type;
            if (!wfpi_condition_value_copy(&e->alloc, &sub->conds[i].value, &t.conds[i].value)) ok = false;
        }
        if (!ok) goto oom;
    }
    sub->t.conds = sub->conds;
    sub->handle = nl->next_sub_handle++;
    sub->session = s->id;
    sub->fn = fn;
    sub->ctx = ctx;
    nl->subs[nl->nsubs++] = sub;
    *handle = sub->handle;
    return ERROR_SUCCESS;
oom:
    if (sub) sub_free(e, sub);
    return wfpi_fail(e, ERROR_NOT_ENOUGH_MEMORY, "net-event subscription");
}

uint32_t wfp_net_event_unsubscribe(wfp_session *s, uint64_t handle)
{
    if (!s) return FWP_E_NULL_POINTER;
    wfp_engine *e = s->engine;
    struct wfp_netlog *nl = e->netlog;
    for (size_t i = 0; nl && i < nl->nsubs; i++) {
        nsub *sub = nl->subs[i];
        if (sub->dead || sub->handle != handle || sub->session != s->id) continue;
        sub_remove(e, nl, i);
        return ERROR_SUCCESS;
    }
    return wfpi_fail(e, FWP_E_NOT_FOUND, "no net-event subscription %llu in this session",
                     (unsigned long long)handle);
}

void wfpi_netevent_session_closed(wfp_engine *e, uint32_t session_id)
{
    struct wfp_netlog *nl = e ? e->netlog : NULL;
    if (!nl) return;
    for (size_t i = nl->nsubs; i-- > 0;)
        if (nl->subs[i]->session == session_id && !nl->subs[i]->dead) sub_remove(e, nl, i);
    /* Its enumeration handles go too: they are invalid from now on. */
    size_t k = 0;
    for (size_t i = 0; i < nl->nenums; i++) {
        if (nl->enums[i]->session == session_id) enum_free(e, nl->enums[i]);
        else nl->enums[k++] = nl->enums[i];
    }
    nl->nenums = k;
}

void wfpi_netlog_destroy(wfp_engine *e)
{
    struct wfp_netlog *nl = e ? e->netlog : NULL;
    if (!nl) return;
    wfpi_netlog_clear(e);
    for (size_t i = 0; i < nl->nenums; i++) enum_free(e, nl->enums[i]);
    for (size_t i = 0; i < nl->nsubs; i++) sub_free(e, nl->subs[i]);
    wfpi_free(e, nl->enums);
    wfpi_free(e, nl->subs);
    wfpi_free(e, nl->fidx);
    wfpi_free(e, nl);
    e->netlog = NULL;
}

/* ---- small queries ------------------------------------------------------------ */

size_t wfp_net_event_count(const wfp_engine *e)
{
    return e && e->netlog ? e->netlog->n : 0;
}

const char *wfp_net_event_type_name(uint32_t type)
{
    static const char *const names[FWPM_NET_EVENT_TYPE_MAX] = {
        "ikeext_mm_failure", "ikeext_qm_failure", "ikeext_em_failure", "classify_drop",
        "ipsec_kernel_drop", "ipsec_dosp_drop", "classify_allow", "capability_drop",
        "capability_allow", "classify_drop_mac", "lpm_packet_arrival",
    };
    return type < FWPM_NET_EVENT_TYPE_MAX ? names[type] : NULL;
}
