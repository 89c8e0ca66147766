/* host_int.h — private to sim/host*.c, sim/flows.c and sim/shim*.c: the
 * host's state, its flow table, and the classify plumbing the shims use.
 * Nothing here is part of the public API (wfp_host.h). */
#ifndef WFP_HOST_INT_H
#define WFP_HOST_INT_H

#include "wfp_host.h"
#include "wfp_packet.h"
#include "wfp_reasm.h"

/* ---- NL_ADDRESS_TYPE, discard metadata (fwpsk.h) ------------------------ */
enum { WFPI_NLAT_UNSPECIFIED = 0, WFPI_NLAT_UNICAST = 1, WFPI_NLAT_ANYCAST = 2, WFPI_NLAT_MULTICAST = 3, WFPI_NLAT_BROADCAST = 4 };
enum { WFPI_DISCARD_MODULE_NETWORK = 0, WFPI_DISCARD_MODULE_TRANSPORT = 1, WFPI_DISCARD_MODULE_GENERAL = 2 };
enum { WFPI_DISCARD_FIREWALL_POLICY = 0 };
enum { WFPI_IP_DISCARD_PROTOCOL_UNREACHABLE = 2, WFPI_IP_DISCARD_PORT_UNREACHABLE = 3 };
enum { WFPI_INET_DISCARD_ENDPOINT_NOT_FOUND = 4 };

/* ---- what each schema field means to the shims ------------------------- */
#define WFPI_SEMANTICS(X)                                        \
    X(SEM_LOCAL_ADDR, "IP_LOCAL_ADDRESS")                        \
    X(SEM_REMOTE_ADDR, "IP_REMOTE_ADDRESS")                      \
    X(SEM_LOCAL_ADDR_TYPE, "IP_LOCAL_ADDRESS_TYPE")              \
    X(SEM_DEST_ADDR_TYPE, "IP_DESTINATION_ADDRESS_TYPE")         \
    X(SEM_LOCAL_PORT, "IP_LOCAL_PORT")                           \
    X(SEM_REMOTE_PORT, "IP_REMOTE_PORT")                         \
    X(SEM_PROTOCOL, "IP_PROTOCOL")                               \
    X(SEM_LOCAL_IF, "IP_LOCAL_INTERFACE")                        \
    X(SEM_IF_INDEX, "INTERFACE_INDEX")                           \
    X(SEM_SUB_IF_INDEX, "SUB_INTERFACE_INDEX")                   \
    X(SEM_IF_TYPE, "INTERFACE_TYPE")                             \
    X(SEM_TUNNEL_TYPE, "TUNNEL_TYPE")                            \
    X(SEM_ARRIVAL_IF, "IP_ARRIVAL_INTERFACE")                    \
    X(SEM_ARRIVAL_IF_INDEX, "ARRIVAL_INTERFACE_INDEX")           \
    X(SEM_ARRIVAL_IF_TYPE, "ARRIVAL_INTERFACE_TYPE")             \
    X(SEM_ARRIVAL_TUNNEL_TYPE, "ARRIVAL_TUNNEL_TYPE")            \
    X(SEM_ARRIVAL_PROFILE, "ARRIVAL_INTERFACE_PROFILE_ID")       \
    X(SEM_NEXTHOP_IF, "IP_NEXTHOP_INTERFACE")                    \
    X(SEM_NEXTHOP_IF_INDEX, "NEXTHOP_INTERFACE_INDEX")           \
    X(SEM_NEXTHOP_SUB_IF_INDEX, "NEXTHOP_SUB_INTERFACE_INDEX")   \
    X(SEM_NEXTHOP_IF_TYPE, "NEXTHOP_INTERFACE_TYPE")             \
    X(SEM_NEXTHOP_TUNNEL_TYPE, "NEXTHOP_TUNNEL_TYPE")            \
    X(SEM_NEXTHOP_PROFILE, "NEXTHOP_INTERFACE_PROFILE_ID")       \
    X(SEM_CURRENT_PROFILE, "CURRENT_PROFILE_ID")                 \
    X(SEM_LOCAL_IF_PROFILE, "LOCAL_INTERFACE_PROFILE_ID")        \
    X(SEM_ORIGINAL_PROFILE, "ORIGINAL_PROFILE_ID")               \
    X(SEM_FLAGS, "FLAGS")                                        \
    X(SEM_DIRECTION, "DIRECTION")                                \
    X(SEM_COMPARTMENT, "COMPARTMENT_ID")                         \
    X(SEM_APP_ID, "ALE_APP_ID")                                  \
    X(SEM_USER_ID, "ALE_USER_ID")                                \
    X(SEM_REAUTH_REASON, "REAUTHORIZE_REASON")                   \
    X(SEM_EMB_PROTOCOL, "EMBEDDED_PROTOCOL")                     \
    X(SEM_EMB_REMOTE_ADDR, "EMBEDDED_REMOTE_ADDRESS")            \
    X(SEM_EMB_LOCAL_ADDR_TYPE, "EMBEDDED_LOCAL_ADDRESS_TYPE")    \
    X(SEM_EMB_LOCAL_PORT, "EMBEDDED_LOCAL_PORT")                 \
    X(SEM_EMB_REMOTE_PORT, "EMBEDDED_REMOTE_PORT")              \
    X(SEM_SRC_ADDR, "IP_SOURCE_ADDRESS")                         \
    X(SEM_DST_ADDR, "IP_DESTINATION_ADDRESS")                    \
    X(SEM_FWD_IF, "IP_FORWARD_INTERFACE")                        \
    X(SEM_SRC_IF_INDEX, "SOURCE_INTERFACE_INDEX")                \
    X(SEM_SRC_SUB_IF_INDEX, "SOURCE_SUB_INTERFACE_INDEX")        \
    X(SEM_DST_IF_INDEX, "DESTINATION_INTERFACE_INDEX")           \
    X(SEM_DST_SUB_IF_INDEX, "DESTINATION_SUB_INTERFACE_INDEX")   \
    X(SEM_PHYS_ARRIVAL_IF, "IP_PHYSICAL_ARRIVAL_INTERFACE")      \
    X(SEM_PHYS_NEXTHOP_IF, "IP_PHYSICAL_NEXTHOP_INTERFACE")

enum wfpi_sem {
    SEM_NONE = 0,
#define X(id, name) id,
    WFPI_SEMANTICS(X)
#undef X
    SEM_COUNT_
};

/* ---- the layers the shims classify at (v4 and v6 ids) --------------- */
#define WFPI_SHIM_LAYERS(X)                                  \
    X(LK_IN_IPPACKET, "INBOUND_IPPACKET")                    \
    X(LK_OUT_IPPACKET, "OUTBOUND_IPPACKET")                  \
    X(LK_IN_TRANSPORT, "INBOUND_TRANSPORT")                  \
    X(LK_OUT_TRANSPORT, "OUTBOUND_TRANSPORT")                \
    X(LK_STREAM, "STREAM")                                   \
    X(LK_DATAGRAM, "DATAGRAM_DATA")                          \
    X(LK_IN_ICMP_ERR, "INBOUND_ICMP_ERROR")                  \
    X(LK_OUT_ICMP_ERR, "OUTBOUND_ICMP_ERROR")                \
    X(LK_BIND_REDIRECT, "ALE_BIND_REDIRECT")                 \
    X(LK_RESOURCE_ASSIGNMENT, "ALE_RESOURCE_ASSIGNMENT")     \
    X(LK_LISTEN, "ALE_AUTH_LISTEN")                          \
    X(LK_CONNECT_REDIRECT, "ALE_CONNECT_REDIRECT")           \
    X(LK_CONNECT, "ALE_AUTH_CONNECT")                        \
    X(LK_RECV_ACCEPT, "ALE_AUTH_RECV_ACCEPT")                \
    X(LK_FLOW_ESTABLISHED, "ALE_FLOW_ESTABLISHED")            \
    X(LK_ENDPOINT_CLOSURE, "ALE_ENDPOINT_CLOSURE")           \
    X(LK_RESOURCE_RELEASE, "ALE_RESOURCE_RELEASE")           \
    X(LK_IPFORWARD, "IPFORWARD")

enum wfpi_shim_layer {
#define X(id, name) id,
    WFPI_SHIM_LAYERS(X)
#undef X
    LK_COUNT_
};

/* ---- host objects ------------------------------------------------------ */
typedef struct host_if {
    char *name;
    uint32_t index, type, tunnel_type, profile;
    uint64_t luid;
} host_if;

typedef struct host_addr {
    uint8_t ver; /* FWP_IP_VERSION_* */
    uint8_t a[16];
    uint32_t ifpos; /* into wfp_host.ifs */
} host_addr;

typedef struct host_proc {
    char *name;
    uint64_t pid;
    uint8_t *app_id; /* NULL: EMPTY */
    uint32_t app_len;
    uint8_t *token;
    uint32_t token_len;
} host_proc;

typedef struct host_sock {
    uint32_t proc; /* into wfp_host.procs */
    uint8_t proto;
    uint16_t lo, hi;
    bool listen;
    bool has_addr;
    uint8_t ver;
    uint8_t addr[16];
} host_sock;

/* A bound endpoint (listener, UDP server, or a UDP client port bound on
 * first send). */
typedef struct host_ep {
    uint8_t proto, ver;
    uint16_t port;
    bool listen;
    bool has_addr;
    bool implicit; /* a UDP client port bound on its first send */
    uint8_t addr[16];
    uint32_t proc;
} host_ep;

enum tcp_state { TCP_NONE = 0, TCP_SYN_SENT, TCP_SYN_RCVD, TCP_ESTABLISHED, TCP_CLOSED };

typedef struct flow_key {
    uint8_t ver, proto;
    uint16_t lport, rport, icmp_id;
    uint8_t laddr[16], raddr[16];
} flow_key;

/* A flow context (FwpsFlowAssociateContext0): one per (layer, callout). */
typedef struct flow_ctx {
    uint16_t layer;
    uint32_t callout;
    uint64_t context;
} flow_ctx;

/* A callout registered through the host (so its flowDeleteFn is known). */
typedef struct host_reg {
    wfp_guid key;
    uint32_t id;
    wfp_callout_flow_delete_fn flow_delete;
    void *ctx;
} host_reg;

typedef struct host_flow {
    uint64_t id;
    flow_key key;
    uint32_t direction;   /* of the packet that created it */
    uint16_t auth_layer;  /* the layer that authorized it */
    uint32_t proc;        /* into procs; UINT32_MAX: System */
    uint32_t ifpos;
    bool loopback;
    uint8_t tcp;          /* enum tcp_state */
    bool fin_in, fin_out;
    bool reauth_pending;
    bool dead;
    bool implicit_bind;   /* TCP: its connect bound the local port (RESOURCE_ASSIGNMENT) */
    bool closure_done;    /* closure queued already (TCP FINs both ways) */
    uint64_t created_ns, last_ns;
    flow_ctx *ctxs;       /* owned by the live flow; closure copies never touch it */
    uint32_t nctx, capctx;
    bool redirected;      /* connect/bind redirected: `orig` is the application's tuple */
    bool conn_redirected; /* by ALE_CONNECT_REDIRECT: IS_CONNECTION_REDIRECTED */
    flow_key orig;
    bool mcast;           /* outbound multicast/broadcast state (C37): 4 s, admits any inbound */
} host_flow;

typedef struct flow_table {
    host_flow **v; /* by id (creation order); dead ones until compaction */
    size_t n, cap, dead;
    host_flow **slots; /* open addressing by tuple hash */
    uint8_t *state;    /* 0 empty, 1 used, 2 tombstone */
    size_t nslots, used, tombs;
    uint64_t next_id;
} flow_table;

/* A pended classify (FwpsPendOperation0) waiting for its completion. */
typedef struct host_pend {
    uint64_t handle;
    uint64_t due;          /* UINT64_MAX: completed by the caller */
    uint8_t lk;            /* LK_CONNECT or LK_RECV_ACCEPT */
    bool held;             /* honoured (the classify returned BLOCK + ABSORB) */
    bool syn_held;         /* a TCP connect: its SYN waits (other data is flushed) */
    uint8_t *bytes;        /* the packet (raw IP) to walk again at completion */
    size_t len;
    const struct host_if *iface; /* the interface it was forced onto, or NULL */
    uint8_t raddr[16];     /* the remote AUTH_CONNECT saw (after a redirect) */
    uint16_t rport;
    bool conn_redirected;
} host_pend;

/* Per-filter decision counts, sorted by filter id. */
typedef struct filter_stats {
    wfp_host_filter_stat *v;
    size_t n, cap;
} filter_stats;

struct wfp_host {
    const wfp_allocator *a;
    char *name;
    wfp_engine *engine;
    host_if *ifs;
    size_t nifs;       /* the last one is the loopback pseudo-interface */
    host_addr *addrs;
    size_t naddrs;
    host_proc *procs;
    size_t nprocs;
    host_proc system;  /* the System process (pid 4) */
    host_sock *socks;
    size_t nsocks;
    host_ep *eps;
    size_t neps, capeps;
    bool started;

    uint64_t udp_timeout, icmp_timeout;
    bool adopt_midstream;
    bool closure_events;
    bool forwarding;
    /* flows that ended, waiting for their closure classifications (copies) */
    host_flow *closing;
    size_t nclosing, capclosing;
    bool closing_oom;
    /* callouts registered through the host; flow-context lookups */
    host_reg *regs;
    size_t nregs, capregs;
    wfp_flow_context_ops flow_ops;
    const host_flow *ctx_flow; /* the flow of the classify in progress */
    size_t nredirected;        /* live redirected flows */
    size_t nmcast;             /* live outbound multicast/broadcast flows (C37) */

    flow_table flows;
    uint16_t lid[LK_COUNT_][2]; /* [layer kind][FWP_IP_VERSION_*] */

    /* fragments (both directions) until their datagram is whole */
    wfp_reasm *reasm;
    uint8_t *reasm_buf;
    wfp_packet whole;

    /* field semantics per layer id: sem[layer][field] */
    uint8_t **sem;
    size_t nlayers;

    /* classify scratch */
    wfp_value vals[96];
    wfp_trace *trace;

    /* current outcome being built */
    wfp_host_call *calls;
    size_t ncalls, capcalls;
    wfp_trace_sublayer *subs;
    size_t nsubs, capsubs;
    wfp_trace_step *steps;
    size_t nsteps, capsteps;
    const wfp_host_call *cur_call;

    wfp_host_classify_cb cb;
    void *cb_ctx;

    /* packet injection: who re-enters copies; the packet being classified
     * (a layer that carries it) for wfp_host_inject and the state query */
    wfp_host_injector_fn injector;
    void *injector_ctx;
    uint64_t next_injection_handle;
    const wfp_packet *cur_pkt;
    const wfp_host_injection *cur_inj;
    uint32_t cur_direction;
    uint16_t cur_layer;
    /* the classify in progress (any item), for FwpsPendOperation0 */
    const struct shim_item *cur_item;
    uint16_t cur_item_layer;
    uint64_t cur_now;
    const struct host_if *cur_forced;
    /* pended classifies */
    host_pend *pends;
    size_t npends, cappends;
    uint64_t next_pend;
    uint64_t pend_new; /* pended by the classify that just ran */

    wfp_host_stats stats;
    uint64_t *layer_calls;
    filter_stats fstats;
};

/* ---- what the shims classify ------------------------------------------- */
typedef struct shim_item {
    uint32_t item;        /* WFP_HOST_ITEM_* */
    uint8_t ver;          /* FWP_IP_VERSION_* */
    uint8_t proto;
    uint8_t laddr[16], raddr[16];
    bool laddr_empty;     /* wildcard bind */
    bool has_ports;
    uint16_t lport, rport; /* ICMP: type, code */
    uint32_t direction;   /* FWP_DIRECTION_* of the packet */
    uint32_t flags;       /* FWP_CONDITION_FLAG_* */
    const host_if *iface; /* NULL: interface fields EMPTY */
    bool no_arrival, no_nexthop; /* reauth: unknown interface fields EMPTY */
    const host_proc *proc; /* NULL: ALE identity EMPTY */
    uint32_t reauth_reason;
    bool has_emb;         /* ICMP error: the quoted packet */
    uint8_t emb_proto;
    uint8_t emb_raddr[16];
    uint8_t emb_laddr[16];
    bool emb_ports;
    uint16_t emb_lport, emb_rport;
    const wfp_packet *pkt; /* for the observer; may be NULL */
    uint64_t flow_id;
    bool has_discard;
    uint32_t discard_module, discard_reason;
    bool ale_classify_required;
    void *layer_data;      /* handed to callouts (redirect requests) */
    bool conn_redirected;  /* ALE_CONNECT_REDIRECT rewrote the remote */
    bool forward;          /* IPFORWARD: raddr is the source, laddr the destination;
                              the forwarding fields are filled (else EMPTY) */
    bool below_sublayer;   /* injected stream data: only sublayers below below_sublayer_weight */
    uint16_t below_sublayer_weight;
} shim_item;

/* One packet's walk through the shims. */
typedef struct shim_ctx {
    wfp_host *h;
    uint64_t now;
    wfp_packet_outcome *out;
    uint32_t err;          /* first engine error */
    bool loopback;
    /* the packet's own last classification (not responses) */
    bool have_last;
    uint16_t last_layer;
    wfp_verdict last_verdict;
    /* the drop, once decided */
    bool dropped;
    bool forwarded;        /* classified at IPFORWARD (forwarding on) */
    const wfp_host_injection *inj; /* an injected copy's history; NULL: from the wire or a socket */
    const host_pend *completing;   /* walking a pended connect again at its completion */
    const host_if *forced;         /* the interface the packet was forced onto */
} shim_ctx;

/* host.c */
/* One packet through the shims; `inj` for an injected copy; `completing`
 * for a pended connect walked again at its completion (not a new packet:
 * the held packet's fate is counted now, a flushed one's was already). */
uint32_t wfpi_host_run_packet(wfp_host *h, uint64_t now_ns, const wfp_packet *p, const host_if *forced,
                              const wfp_host_injection *inj, const host_pend *completing,
                              wfp_packet_outcome *out);
/* pend.c: the pend the classify just made, if the verdict honours it. */
host_pend *wfpi_pend_find(wfp_host *h, uint64_t handle);
void wfpi_pend_drop(wfp_host *h, uint64_t handle);
void wfpi_pends_free(wfp_host *h);
const host_if *wfpi_host_loopback_if(const wfp_host *h);
const host_if *wfpi_host_if_for(const wfp_host *h, uint8_t ver, const uint8_t *addr);
const host_proc *wfpi_host_proc(const wfp_host *h, uint32_t proc); /* UINT32_MAX: System */
uint32_t wfpi_host_owner(const wfp_host *h, uint8_t proto, uint16_t port, bool want_listen);
/* The configured socket that owns a port (listeners first with want_listen), or NULL. */
const host_sock *wfpi_host_socket_of(const wfp_host *h, uint8_t proto, uint16_t port, bool want_listen);
host_ep *wfpi_host_ep_find(wfp_host *h, uint8_t proto, uint8_t ver, const uint8_t *addr,
                           uint16_t port, bool listen_only);
bool wfpi_host_ep_add(wfp_host *h, const host_ep *ep);
bool wfpi_host_is_local(const wfp_host *h, uint8_t ver, const uint8_t *addr);
uint8_t wfpi_addr_type(uint8_t ver, const uint8_t *addr);
bool wfpi_addr_is_loopback(uint8_t ver, const uint8_t *addr);
/* Classify one item at one layer, record the call, tell the observer.
 * Returns false if the engine failed (c->err set); else *v holds the verdict. */
bool wfpi_classify(shim_ctx *c, uint16_t layer_id, const shim_item *it, wfp_verdict *v);
/* The *_DISCARD twin of a layer, or -1. */
int wfpi_discard_layer(uint16_t layer_id);
void wfpi_register_builtin_callouts(wfp_host *h, char *err, size_t errlen, bool *ok);

/* flows.c */
bool wfpi_flows_init(wfp_host *h);
void wfpi_flows_free(wfp_host *h);
host_flow *wfpi_flow_find(wfp_host *h, const flow_key *k, uint64_t now);
host_flow *wfpi_flow_add(wfp_host *h, const flow_key *k, uint64_t now);
void wfpi_flow_remove(wfp_host *h, host_flow *f);
void wfpi_flows_expire(wfp_host *h, uint64_t now);
void wfpi_flows_mark_reauth(wfp_host *h);
/* With closure_events: queue the flow's closure classifications (once). */
void wfpi_flow_queue_closure(wfp_host *h, host_flow *f);
/* A live flow by id, else NULL. */
host_flow *wfpi_flow_by_id(wfp_host *h, uint64_t id);
const host_reg *wfpi_host_reg_by_id(const wfp_host *h, uint32_t callout_id);
size_t wfpi_flows_live(const wfp_host *h);
const host_flow *wfpi_flow_at(const wfp_host *h, size_t i);
/* Multicast/broadcast state (C37). */
bool wfpi_addr_is_mcast_bcast(uint8_t ver, const uint8_t *addr);
void wfpi_flow_set_mcast(wfp_host *h, host_flow *f);
host_flow *wfpi_flow_mcast_state(wfp_host *h, const flow_key *k, uint64_t now);

/* shim.c */
bool wfpi_shim_init(wfp_host *h, char *err, size_t errlen);
void wfpi_shim_packet(shim_ctx *c, const wfp_packet *p, const host_if *forced_if);
bool wfpi_shim_start(shim_ctx *c);
/* Stream data a callout injected (inj->kind WFP_INJECT_STREAM), as one segment of its flow. */
void wfpi_shim_stream_injected(shim_ctx *c, const wfp_packet *p);
/* Classifies the closures queued so far (ENDPOINT_CLOSURE, RESOURCE_RELEASE). */
void wfpi_shim_closures(shim_ctx *c);

#endif
