/* wfp_host.h — a simulated Windows host: interfaces, processes and their
 * sockets, the ALE flow table, and the shims that call its filter engine
 * at the layers, in the order and with the incoming values Windows would
 * (spec/wfp-semantics.md §5, §6).
 *
 * The host owns one filter engine (wfp_host_engine); policy is added to it
 * through sessions on that engine, and wfp_host_policy_changed() must be
 * called after every committed change so live ALE flows are reauthorized.
 * Packets are handed in one at a time with their virtual arrival time;
 * nothing here reads a clock, and flows expire on virtual time only.
 *
 * Lifetimes: the outcome filled by wfp_host_packet / wfp_host_start (its
 * call list, sublayer and step copies) is lent and lives until the next
 * wfp_host_* call on the same host. Configs are copied at creation.
 *
 * Where Windows is silent the choices are sim-defined and written down in
 * docs/sim-defined.md (draft: docs/drafts/sim-host.md). */
#ifndef WFP_HOST_H
#define WFP_HOST_H

#include "wfp_engine.h"

typedef struct wfp_packet wfp_packet; /* pcap/wfp_packet.h */
typedef struct wfp_host wfp_host;

/* ---- configuration ---------------------------------------------------- */

/* IANA ifType values as Windows reports them in INTERFACE_TYPE. */
enum {
    WFP_IF_TYPE_OTHER = 1,
    WFP_IF_TYPE_ETHERNET = 6,
    WFP_IF_TYPE_PPP = 23,
    WFP_IF_TYPE_LOOPBACK = 24, /* IF_TYPE_SOFTWARE_LOOPBACK */
    WFP_IF_TYPE_WIFI = 71,     /* IF_TYPE_IEEE80211 */
    WFP_IF_TYPE_TUNNEL = 131
};

typedef struct wfp_host_interface_config {
    const char *name;      /* "eth0" */
    uint32_t index;        /* IF_INDEX; 0: position in the list + 1 */
    uint32_t type;         /* WFP_IF_TYPE_*; 0: ethernet */
    uint32_t tunnel_type;  /* TUNNEL_TYPE; 0: none */
    uint32_t profile_id;   /* network category for the *_PROFILE_ID fields; 0: public (1) */
    size_t num_addresses;
    const char *const *addresses; /* "10.0.0.2", "2001:db8::2" */
} wfp_host_interface_config;

/* Socket protocols: IP protocol numbers. ICMP matches ICMPv6 too. */
enum {
    WFP_SOCK_ANY = 0,
    WFP_SOCK_ICMP = 1,
    WFP_SOCK_TCP = 6,
    WFP_SOCK_UDP = 17
};

/* Which traffic belongs to a process. A socket owns the local ports
 * [port_lo, port_hi] (both 0: every port) of its protocol.
 *  - TCP with listen: a listening socket on each port of the range
 *    (at most WFP_HOST_MAX_LISTEN_PORTS); bound and listened at
 *    wfp_host_start. Without listen: the ports its connect()s use; each
 *    connection binds implicitly at its SYN.
 *  - UDP with listen, or with a single port: a server socket bound at
 *    wfp_host_start. Otherwise: client ports, bound implicitly on the first
 *    datagram sent from that port.
 *  - ICMP / any: ownership only (which process sends echo requests). */
#define WFP_HOST_MAX_LISTEN_PORTS 1024
typedef struct wfp_host_socket_config {
    uint8_t protocol;      /* WFP_SOCK_* */
    uint16_t port_lo, port_hi; /* inclusive; port_hi < port_lo means port_hi = port_lo */
    bool listen;
    const char *local_address; /* bind address; NULL: wildcard (IP_LOCAL_ADDRESS EMPTY at bind) */
} wfp_host_socket_config;

typedef struct wfp_host_process_config {
    const char *name;
    const char *app;  /* Windows path for ALE_APP_ID; NULL: no app id (EMPTY) */
    const char *user; /* SID string for ALE_USER_ID; NULL: S-1-5-18 (SYSTEM) */
    uint64_t pid;     /* 0: 1000 + position in the list */
    size_t num_sockets;
    const wfp_host_socket_config *sockets;
} wfp_host_process_config;

/* Traffic no configured socket owns is the "System" process (sim-defined):
 * pid 4, app id EMPTY, user S-1-5-18. */
#define WFP_HOST_SYSTEM_PID 4u

typedef struct wfp_host_config {
    const char *name;
    size_t num_addresses;
    const char *const *addresses; /* every local address; with no interfaces, one
                                     ethernet interface (index 1, "eth0") holds them */
    size_t num_interfaces;
    const wfp_host_interface_config *interfaces;
    size_t num_processes;
    const wfp_host_process_config *processes;

    uint64_t udp_flow_timeout_ns;  /* 0: 60 s (spec §5.3) */
    uint64_t icmp_flow_timeout_ns; /* 0: 60 s */
    uint32_t loopback_if_index;    /* 0: 1 if free, else the lowest unused index */
    bool adopt_midstream_tcp;      /* a TCP segment of an unknown connection (capture that
                                      starts mid-stream) creates the flow as its SYN would,
                                      instead of being dropped as Windows would (RST) */
    bool no_builtin_callouts;      /* do not register the built-in SILENT_DROP callouts */
    bool forwarding;               /* IP forwarding on: packets for no local address are
                                      classified at IPFORWARD (spec §6.8); off: ignored */
    bool closure_events;           /* classify ALE_ENDPOINT_CLOSURE / ALE_RESOURCE_RELEASE when a
                                      TCP connection ends or a client UDP port is released
                                      (off: the layer sequences of earlier versions, unchanged) */

    const wfp_allocator *allocator;      /* NULL: malloc; also the engine's if engine is NULL */
    const wfp_engine_config *engine;     /* NULL: defaults */
} wfp_host_config;

/* NULL config is refused. On failure returns NULL with a message in err. */
wfp_host *wfp_host_create(const wfp_host_config *config, char *err, size_t errlen);
void wfp_host_destroy(wfp_host *h); /* accepts NULL */
wfp_engine *wfp_host_engine(wfp_host *h);
const char *wfp_host_name(const wfp_host *h);
/* Is this address (v4 host order, or 16 bytes) one of the host's? */
bool wfp_host_is_local_v4(const wfp_host *h, uint32_t addr);
bool wfp_host_is_local_v6(const wfp_host *h, const uint8_t addr[16]);

/* ---- outcomes --------------------------------------------------------- */

/* Why the stack (not WFP) dropped or did not deliver a packet. */
#define WFP_HOST_DISCARDS(X)                                                              \
    X(WFP_HOST_DISCARD_NONE, "none", "not dropped")                                       \
    X(WFP_HOST_DISCARD_FILTER, "blocked_by_filter", "a WFP filter or callout blocked it") \
    X(WFP_HOST_DISCARD_ABSORBED, "absorbed", "a callout absorbed it")                     \
    X(WFP_HOST_DISCARD_REAUTH, "reauth_blocked", "its flow failed reauthorization")       \
    X(WFP_HOST_DISCARD_NO_LISTENER, "no_listener", "TCP SYN to a port with no listener")  \
    X(WFP_HOST_DISCARD_NO_CONNECTION, "no_connection", "TCP segment of no connection")    \
    X(WFP_HOST_DISCARD_PORT_UNREACHABLE, "port_unreachable", "datagram to a port with no socket") \
    X(WFP_HOST_DISCARD_PROTOCOL_UNREACHABLE, "protocol_unreachable", "no socket for its IP protocol") \
    X(WFP_HOST_DISCARD_LISTEN_BLOCKED, "listen_blocked", "the socket's bind or listen was blocked") \
    X(WFP_HOST_DISCARD_NOT_LOCAL, "not_local", "neither address is the host's (not forwarded)") \
    X(WFP_HOST_DISCARD_REASSEMBLY_FAILED, "reassembly_failed", "fragment could not be reassembled") \
    X(WFP_HOST_DISCARD_MALFORMED, "malformed", "the packet could not be parsed")           \
    X(WFP_HOST_DISCARD_NOT_IP, "not_ip", "not an IP packet: no WFP layer sees it")          \
    X(WFP_HOST_DISCARD_PEND_FLUSHED, "pend_flushed", "non-TCP data of a pended classify is flushed")

enum wfp_host_discard {
#define X(id, name, text) id,
    WFP_HOST_DISCARDS(X)
#undef X
    WFP_HOST_DISCARD_COUNT_
};
const char *wfp_host_discard_name(uint32_t discard);
const char *wfp_host_discard_message(uint32_t discard);

/* Which item a classify call was about. */
enum wfp_host_item {
    WFP_HOST_ITEM_PACKET = 0,      /* the packet itself */
    WFP_HOST_ITEM_FRAGMENT = 1,    /* the fragment indicated as a fragment (IS_FRAGMENT) */
    WFP_HOST_ITEM_REASSEMBLED = 2, /* the datagram reassembled from it (IS_REASSEMBLED) */
    WFP_HOST_ITEM_RESPONSE = 3,    /* a reply the stack generated: RST, ICMP error */
    WFP_HOST_ITEM_SOCKET = 4,      /* bind / listen at wfp_host_start */
    WFP_HOST_ITEM_CLOSURE = 5      /* ENDPOINT_CLOSURE / RESOURCE_RELEASE of an ended flow or socket */
};

/* Which path a packet took. Loopback packets take both halves. */
enum wfp_host_path {
    WFP_HOST_PATH_NONE = 0,
    WFP_HOST_PATH_INBOUND = 1,
    WFP_HOST_PATH_OUTBOUND = 2,
    WFP_HOST_PATH_LOOPBACK = 3,
    WFP_HOST_PATH_FORWARD = 4 /* not local: IPFORWARD with forwarding on, else ignored */
};

/* One classify call. The sublayer decisions and filter steps of its trace
 * are copied into the outcome's arrays. */
typedef struct wfp_host_call {
    uint16_t layer_id;
    uint32_t item;           /* WFP_HOST_ITEM_* */
    uint32_t direction;      /* FWP_DIRECTION_* of the item (packet direction) */
    bool reauth;             /* FLAGS carried IS_REAUTHORIZE */
    bool loopback;           /* FLAGS carried IS_LOOPBACK */
    wfp_verdict verdict;
    size_t first_sublayer, num_sublayers; /* into wfp_packet_outcome.sublayers */
    size_t first_step, num_steps;         /* into wfp_packet_outcome.steps */
} wfp_host_call;

typedef struct wfp_packet_outcome {
    uint32_t path;       /* WFP_HOST_PATH_* */
    bool permitted;      /* delivered (inbound, loopback) or sent (outbound) */
    bool absorbed;       /* dropped silently by a callout (no discard layer) */
    uint32_t discard;    /* WFP_HOST_DISCARD_*: NONE when permitted */
    /* The deciding layer: where it was dropped; for a permitted packet the
     * last layer classified for it. UINT16_MAX when none was classified. */
    uint16_t layer_id;
    uint64_t filter_id;  /* the filter that blocked (or permitted) there; 0: none */
    uint32_t reason;     /* WFP_REASON_* of that classify */
    uint64_t flow_id;    /* the ALE flow it belongs to; 0: none */
    bool response_sent;  /* the stack sent a RST or an ICMP error in reply */
    bool held;           /* a fragment kept for reassembly: passed so far, not yet
                            delivered; the datagram's fate comes with its last fragment;
                            or a TCP SYN whose connect is pended (`pended`) */
    uint64_t pended;     /* the completion handle when a callout pended a classify of it */
    size_t num_calls;
    const wfp_host_call *calls;        /* every classify call, in order */
    const wfp_trace_sublayer *sublayers;
    const wfp_trace_step *steps;
} wfp_packet_outcome;

/* ---- redirection (spec §5.5) ---------------------------------------------- */

/* The writable layer data (FWPS_CONNECT_REQUEST0, reduced) a callout gets
 * as `layer_data` at ALE_CONNECT_REDIRECT_V4/V6. To redirect the
 * connection, write the new remote and set `redirected`; the host then
 * classifies AUTH_CONNECT, FLOW_ESTABLISHED and the packet paths of the
 * connection with the new remote, with FWP_CONDITION_FLAG_IS_CONNECTION_
 * REDIRECTED in FLAGS at the ALE layers. ICMP: the port is not used. */
typedef struct wfp_connect_request {
    uint8_t ip_version;         /* FWP_IP_VERSION_* (read-only) */
    uint8_t remote_address[16]; /* v4: first 4 bytes, network order */
    uint16_t remote_port;
    bool redirected;
} wfp_connect_request;

/* FWPS_BIND_REQUEST0, reduced: `layer_data` at ALE_BIND_REDIRECT_V4/V6.
 * local_address_set false is the wildcard (IP_LOCAL_ADDRESS EMPTY). With
 * `redirected` the socket is bound at the new local address/port:
 * RESOURCE_ASSIGNMENT, AUTH_LISTEN, the listener or the connection use it. */
typedef struct wfp_bind_request {
    uint8_t ip_version;        /* read-only */
    bool local_address_set;
    uint8_t local_address[16];
    uint16_t local_port;
    bool redirected;
} wfp_bind_request;

/* ---- running ---------------------------------------------------------- */

/* Binds and listens the configured server sockets (§6.1 steps 1–3, §6.5
 * step 1): ALE_BIND_REDIRECT → ALE_RESOURCE_ASSIGNMENT → ALE_AUTH_LISTEN
 * for TCP listeners, the first two for UDP servers. A blocked bind or
 * listen leaves the socket closed. `out` (optional) receives the calls of
 * every socket; permitted is false if any was blocked. Call once, before
 * the first packet; returns ERROR_SUCCESS or an FWP_E_* / Win32 code. */
uint32_t wfp_host_start(wfp_host *h, uint64_t now_ns, wfp_packet_outcome *out);

/* One packet seen at this host at virtual time now_ns (non-decreasing).
 * Direction from the addresses: destination local ⇒ inbound, source local
 * ⇒ outbound, both ⇒ loopback (outbound half then inbound half, IS_LOOPBACK),
 * neither ⇒ WFP_HOST_PATH_FORWARD: IPFORWARD if forwarding is on, else not
 * classified. Runs the shim sequence
 * of spec §6 and fills *out. Returns ERROR_SUCCESS, or an error code when
 * the engine failed (out then says what ran before). */
uint32_t wfp_host_packet(wfp_host *h, uint64_t now_ns, const wfp_packet *p, wfp_packet_outcome *out);
/* The same, for a packet that names the interface it crosses (inline
 * `interface:`); NULL: chosen from the addresses. An unknown name is
 * FWP_E_INVALID_PARAMETER. */
uint32_t wfp_host_packet_on(wfp_host *h, uint64_t now_ns, const wfp_packet *p,
                            const char *interface, wfp_packet_outcome *out);

/* Call after every committed policy change: every live ALE flow is marked
 * for reauthorization (§5.4); the first packet of a marked flow in either
 * direction is classified at the layer that created it with IS_REAUTHORIZE
 * and ALE_REAUTH_REASON = POLICY_CHANGE. */
void wfp_host_policy_changed(wfp_host *h, uint64_t now_ns);

/* Drops flows idle past their timeout (done lazily anyway; this makes the
 * flow count exact at a given time). With closure_events, the closure
 * classifications of what ended are made here (observer only). */
void wfp_host_expire(wfp_host *h, uint64_t now_ns);

/* ---- observer --------------------------------------------------------- */

typedef void (*wfp_host_classify_cb)(void *ctx, const wfp_host *h, uint64_t now,
                                     const wfp_packet *p /* NULL for socket events */,
                                     const wfp_classify_request *req, const wfp_verdict *v,
                                     const wfp_trace *t);
/* Called after every classify, in order. NULL cb: none. `p` is the packet
 * handed in; for a reassembled datagram the whole datagram (host-owned,
 * valid during the call); for a stack response (RST, ICMP error) the packet
 * that triggered it; NULL for socket events at wfp_host_start. */
void wfp_host_set_observer(wfp_host *h, wfp_host_classify_cb cb, void *ctx);
/* Inside an observer call: the call being reported (item, direction,
 * reauth, loopback), else NULL. */
const wfp_host_call *wfp_host_current_call(const wfp_host *h);

/* ---- flows ------------------------------------------------------------ */

typedef struct wfp_host_flow_info {
    uint64_t id;
    uint8_t ip_version;     /* FWP_IP_VERSION_* */
    uint8_t protocol;
    uint8_t local_addr[16]; /* v4: first 4 bytes, network order */
    uint8_t remote_addr[16];
    uint16_t local_port, remote_port; /* ICMP: type, code */
    uint16_t icmp_id;
    uint32_t direction;     /* FWP_DIRECTION_* of the packet that created it */
    uint16_t auth_layer_id; /* ALE_AUTH_CONNECT_* or ALE_AUTH_RECV_ACCEPT_* */
    bool established;       /* TCP: handshake completed */
    bool reauth_pending;
    uint64_t pid;
    uint64_t created_ns, last_seen_ns;
} wfp_host_flow_info;

size_t wfp_host_flow_count(const wfp_host *h);
/* Live flows sorted by id. False past the end. */
bool wfp_host_flow_at(const wfp_host *h, size_t i, wfp_host_flow_info *out);

/* ---- callouts and flow contexts (spec §1.7, C16) ------------------------ */

/* FwpsCalloutRegister on the host's engine, remembering the flowDeleteFn.
 * Only callouts registered here can hold flow contexts. Codes as
 * wfp_callout_register. */
uint32_t wfp_host_callout_register(wfp_host *h, const wfp_callout_registration *reg, uint32_t *callout_id);
/* FwpsCalloutUnregisterByKey. While a live flow holds a context for the
 * callout it fails with FWP_E_IN_USE — the simulator's code for Windows'
 * STATUS_DEVICE_BUSY — and changes nothing; remove the contexts and retry.
 * Otherwise as wfp_callout_unregister_by_key (FWP_E_CALLOUT_NOT_FOUND…). */
uint32_t wfp_host_callout_unregister(wfp_host *h, const wfp_guid *key);
/* FwpsFlowAssociateContext0: flow_id is the FLOW_HANDLE metadata (the
 * flow id in outcomes); layer_id a catalogue layer id. One context per
 * (layer, callout): FWP_E_ALREADY_EXISTS (remove first to replace).
 * FWP_E_NOT_FOUND for no live flow, FWP_E_LAYER_NOT_FOUND,
 * FWP_E_CALLOUT_NOT_FOUND unless registered with wfp_host_callout_register.
 * May be called from inside a classifyFn. Classifies of the flow then hand
 * the context to the callout at that layer, and a CONDITIONAL_ON_FLOW
 * callout is invoked only for flows holding one. When the flow ends
 * (RST, TIME_WAIT over, idle expiry, teardown) the callout's flowDeleteFn
 * is called with (layer, callout, context). Not at wfp_host_destroy. */
uint32_t wfp_host_flow_associate_context(wfp_host *h, uint64_t flow_id, uint16_t layer_id, uint32_t callout_id,
                                         uint64_t context);
/* FwpsFlowRemoveContext0: no flowDeleteFn call. FWP_E_NOT_FOUND if the
 * flow holds no such context. */
uint32_t wfp_host_flow_remove_context(wfp_host *h, uint64_t flow_id, uint16_t layer_id, uint32_t callout_id);

/* ---- packet injection (FwpsInject*, spec §4.4) ----------------------------- */

/* FWPS_PACKET_INJECTION_STATE. */
enum {
    WFP_PACKET_NOT_INJECTED = 0,
    WFP_PACKET_INJECTED_BY_SELF = 1,
    WFP_PACKET_INJECTED_BY_OTHER = 2,
    WFP_PACKET_PREVIOUSLY_INJECTED_BY_SELF = 3
};

/* Which FwpsInject*Async0 function: the path the copy re-enters. Incoming
 * copies re-enter from the bottom (IPPACKET, TRANSPORT, ALE, DATAGRAM_DATA),
 * outgoing ones from the top (ALE, TRANSPORT, IPPACKET), so network and
 * transport injection differ only in the layers they may be called from
 * (DRV packet-injection-functions). */
enum {
    WFP_INJECT_NETWORK_SEND = 1,
    WFP_INJECT_NETWORK_RECEIVE = 2,
    WFP_INJECT_TRANSPORT_SEND = 3,
    WFP_INJECT_TRANSPORT_RECEIVE = 4,
    WFP_INJECT_STREAM = 5, /* FwpsStreamInjectAsync0: data into a flow's stream */
    WFP_INJECT_FORWARD = 6 /* FwpsInjectForwardAsync0: the forwarding path, no WFP layer sees it */
};
const char *wfp_inject_kind_name(uint32_t kind); /* "transport_send"…; NULL if unknown */

/* An injection: the copy, who injected it and its injection history. */
#define WFP_INJECT_MAX_DEPTH 16
typedef struct wfp_host_injection {
    uint32_t kind;             /* WFP_INJECT_* */
    uint64_t handle;           /* the injecting handle */
    uint64_t context;          /* injectionContext, returned by the state query */
    uint64_t delay_ns;         /* out-of-band: re-enters this much later */
    const uint8_t *ip;         /* the IP packet (LINKTYPE_RAW), lent to the injector */
    size_t len;
    uint32_t depth;            /* injections in its history, this one included */
    uint64_t flow_id;          /* WFP_INJECT_STREAM: the flow whose stream it joins */
    uint16_t below_sublayer_weight; /* WFP_INJECT_STREAM: only sublayers weighted below it see it */
    uint64_t earlier[WFP_INJECT_MAX_DEPTH]; /* handles of the earlier ones, oldest first */
} wfp_host_injection;

/* Who re-enters injected copies into the simulation (the runner owns
 * time): called from inside wfp_host_inject with the copy, valid during
 * the call. Returns ERROR_SUCCESS or a code wfp_host_inject passes back. */
typedef uint32_t (*wfp_host_injector_fn)(void *ctx, wfp_host *h, const wfp_host_injection *inj);
void wfp_host_set_injector(wfp_host *h, wfp_host_injector_fn fn, void *ctx);

/* FwpsInjectionHandleCreate0: a new non-zero handle. */
uint64_t wfp_host_injection_handle_create(wfp_host *h);

/* FwpsQueryPacketInjectionState0 for the packet being classified (inside a
 * classifyFn at a layer that carries the packet); NOT_INJECTED elsewhere.
 * `context` (optional) receives the injectionContext for the two *_SELF
 * states. */
uint32_t wfp_host_query_injection_state(const wfp_host *h, uint64_t handle, uint64_t *context);

/* What a callout asks to inject. */
typedef struct wfp_inject_request {
    uint64_t handle;      /* from wfp_host_injection_handle_create */
    uint64_t context;
    uint32_t kind;        /* WFP_INJECT_*; 0: by the packet's direction and layer */
    uint64_t delay_ns;    /* 0: inline (re-enters right after the original's walk) */
    /* Rewrites of the clone (a modified copy); checksums are fixed. */
    bool set_src, set_dst, set_sport, set_dport;
    uint8_t src[16], dst[16]; /* v4: first 4 bytes */
    uint16_t sport, dport;
} wfp_inject_request;

/* FwpsInject*Async0 of a clone (optionally modified) of the packet being
 * classified. A forward injection (default at IPFORWARD) needs forwarding
 * on and a destination that is not the host's; the copy is forwarded
 * without being indicated to any WFP layer (spec §4.4). Only inside a classifyFn at a layer that carries the packet
 * (not ALE-only classifies such as bind or closure): else
 * FWP_E_INVALID_PARAMETER, as for a handle never created, a kind whose
 * direction is not the packet's own addresses' (a send needs a local source,
 * a receive a local destination), no injector, or a history of
 * WFP_INJECT_MAX_DEPTH injections already (a callout that re-injects its
 * own packets without checking their state would loop forever in Windows). */
uint32_t wfp_host_inject(wfp_host *h, const wfp_inject_request *req);

/* FwpsStreamInjectAsync0 from a classifyFn at STREAM_V4/V6: `len` bytes
 * of new data (NULL: a clone of the segment's payload) into the send or
 * the receive stream of the flow being classified. The data is not
 * indicated again to the injecting callout: at STREAM only sublayers
 * weighted below `sublayer_weight` (the sublayer of the filter that
 * invoked the callout, wfp_fwps_filter.sublayer_weight) classify it (DDI
 * FwpsStreamInjectAsync0 remarks); sent data then takes OUTBOUND_TRANSPORT
 * and OUTBOUND_IPPACKET, received data goes to the application. The
 * injector gets it as one TCP segment (kind WFP_INJECT_STREAM).
 * FWP_E_INVALID_PARAMETER outside a STREAM classify, for a handle never
 * created, no injector or more than 65000 bytes. */
typedef struct wfp_stream_inject_request {
    uint64_t handle;
    uint64_t context;
    bool send;            /* into the send stream (FWPS_STREAM_FLAG_SEND), else receive */
    const uint8_t *data;  /* NULL: the segment's own payload */
    size_t len;
    uint64_t delay_ns;
    uint16_t sublayer_weight;
} wfp_stream_inject_request;
uint32_t wfp_host_stream_inject(wfp_host *h, const wfp_stream_inject_request *req);

/* The injected copy re-entering the host at now_ns; as wfp_host_packet
 * otherwise. Its classifies answer wfp_host_query_injection_state from
 * `inj`'s history. */
uint32_t wfp_host_packet_injected(wfp_host *h, uint64_t now_ns, const wfp_host_injection *inj,
                                  wfp_packet_outcome *out);

/* ---- pended classifies (FwpsPendOperation0, spec §4.6, C36) ---------------- */

/* FwpsPendOperation0 from inside a classifyFn at ALE_AUTH_CONNECT or
 * ALE_AUTH_RECV_ACCEPT; the callout must then return BLOCK with ABSORB
 * (else the pend is dropped). STATUS_FWP_CANNOT_PEND in a reauthorization
 * (only the initial authorization can be pended) and at every other layer
 * (RESOURCE_ASSIGNMENT and AUTH_LISTEN can pend in Windows but are not
 * simulated). `complete_after_ns`: the host completes it that much later
 * (wfp_host_next_completion tells when); WFP_PEND_MANUAL: the caller calls
 * wfp_host_complete_operation. The packet's outcome says `pended`. */
#define WFP_PEND_MANUAL UINT64_MAX
uint32_t wfp_host_pend_operation(wfp_host *h, uint64_t complete_after_ns, uint64_t *completion);

/* FwpsCompleteOperation0. A pended AUTH_CONNECT is reauthorized at once
 * (IS_REAUTHORIZE, reason CLASSIFY_COMPLETION): the callout gives its final
 * verdict there and, if it permits, the connection goes on — a TCP SYN is
 * sent (the outcome is the held packet's fate); other protocols' pended
 * data was flushed (discard pend_flushed), the flow serves the next
 * datagrams. A pended RECV_ACCEPT is not reauthorized: its callout
 * re-injects the clone it kept (the outcome has no calls).
 * FWP_E_NOT_FOUND for an unknown or completed handle. */
uint32_t wfp_host_complete_operation(wfp_host *h, uint64_t now_ns, uint64_t completion, wfp_packet_outcome *out);

/* The earliest operation the host completes itself (complete_after_ns);
 * false if none. */
bool wfp_host_next_completion(const wfp_host *h, uint64_t *at_ns, uint64_t *completion);

/* ---- statistics ------------------------------------------------------- */

typedef struct wfp_host_stats {
    uint64_t packets;    /* handed to wfp_host_packet */
    uint64_t permitted;
    uint64_t blocked;    /* dropped by a filter or callout (incl. absorbed, reauth) */
    uint64_t absorbed;
    uint64_t dropped_by_stack; /* no listener, port unreachable, no connection, fragments… */
    uint64_t ignored;    /* not local (forwarding off), or not IP */
    uint64_t classify_calls;
    uint64_t flows_created, flows_expired, flows_removed;
    uint64_t reauthorizations, reauth_blocked;
    uint64_t rst_sent, icmp_errors_sent;
    uint64_t injected;   /* copies injected by callouts (wfp_host_inject) */
    uint64_t pended, completed; /* classifies pended, operations completed */
} wfp_host_stats;

void wfp_host_get_stats(const wfp_host *h, wfp_host_stats *out);
/* Classify calls made at a layer. */
uint64_t wfp_host_layer_calls(const wfp_host *h, uint16_t layer_id);

/* Per deciding filter: how often it decided a classify (its verdict's
 * filter_id), split by outcome. Sorted by filter id. */
typedef struct wfp_host_filter_stat {
    uint64_t filter_id;
    uint64_t permits, blocks;
} wfp_host_filter_stat;
size_t wfp_host_filter_stat_count(const wfp_host *h);
const wfp_host_filter_stat *wfp_host_filter_stat_at(const wfp_host *h, size_t i);

#endif
