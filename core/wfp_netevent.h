/* wfp_netevent.h — net events: the engine's diagnostic log of classify
 * drops and allows (FWPM_NET_EVENT*), with enumeration templates and
 * subscriptions (spec §7).
 *
 * The engine records an event when a classification ends in a block at
 * a layer that is not a discard layer (CLASSIFY_DROP), or in a permit when
 * the CLASSIFY_ALLOW keyword is on, subject to the collection options
 * (FWPM_ENGINE_COLLECT_NET_EVENTS, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS,
 * wfp_engine_set_option). The log is a bounded circular buffer (128 KiB of
 * events, as Windows sizes it); it is emptied by a reboot. Times are the
 * virtual time of the classify (wfp_classify_request.time_ns). */
#ifndef WFP_NETEVENT_H
#define WFP_NETEVENT_H

#include "wfp_engine.h"

/* FWPM_NET_EVENT_TYPE */
enum {
    FWPM_NET_EVENT_TYPE_IKEEXT_MM_FAILURE = 0,
    FWPM_NET_EVENT_TYPE_IKEEXT_QM_FAILURE = 1,
    FWPM_NET_EVENT_TYPE_IKEEXT_EM_FAILURE = 2,
    FWPM_NET_EVENT_TYPE_CLASSIFY_DROP = 3,
    FWPM_NET_EVENT_TYPE_IPSEC_KERNEL_DROP = 4,
    FWPM_NET_EVENT_TYPE_IPSEC_DOSP_DROP = 5,
    FWPM_NET_EVENT_TYPE_CLASSIFY_ALLOW = 6,
    FWPM_NET_EVENT_TYPE_CAPABILITY_DROP = 7,
    FWPM_NET_EVENT_TYPE_CAPABILITY_ALLOW = 8,
    FWPM_NET_EVENT_TYPE_CLASSIFY_DROP_MAC = 9,
    FWPM_NET_EVENT_TYPE_LPM_PACKET_ARRIVAL = 10,
    FWPM_NET_EVENT_TYPE_MAX = 11
};

/* FWPM_NET_EVENT_HEADER flags */
#define FWPM_NET_EVENT_FLAG_IP_PROTOCOL_SET 0x00000001u
#define FWPM_NET_EVENT_FLAG_LOCAL_ADDR_SET 0x00000002u
#define FWPM_NET_EVENT_FLAG_REMOTE_ADDR_SET 0x00000004u
#define FWPM_NET_EVENT_FLAG_LOCAL_PORT_SET 0x00000008u
#define FWPM_NET_EVENT_FLAG_REMOTE_PORT_SET 0x00000010u
#define FWPM_NET_EVENT_FLAG_APP_ID_SET 0x00000020u
#define FWPM_NET_EVENT_FLAG_USER_ID_SET 0x00000040u
#define FWPM_NET_EVENT_FLAG_SCOPE_ID_SET 0x00000080u
#define FWPM_NET_EVENT_FLAG_IP_VERSION_SET 0x00000100u
#define FWPM_NET_EVENT_FLAG_REAUTH_REASON_SET 0x00000200u
#define FWPM_NET_EVENT_FLAG_PACKAGE_ID_SET 0x00000400u

/* FWPM_NET_EVENT_KEYWORD_* (FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS) */
#define FWPM_NET_EVENT_KEYWORD_INBOUND_MCAST 0x00000001u
#define FWPM_NET_EVENT_KEYWORD_INBOUND_BCAST 0x00000002u
#define FWPM_NET_EVENT_KEYWORD_CAPABILITY_DROP 0x00000004u
#define FWPM_NET_EVENT_KEYWORD_CAPABILITY_ALLOW 0x00000008u
#define FWPM_NET_EVENT_KEYWORD_CLASSIFY_ALLOW 0x00000010u
#define FWPM_NET_EVENT_KEYWORD_PORT_SCANNING_DROP 0x00000020u

/* msFwpDirection values of CLASSIFY_DROP2 */
#define FWP_DIRECTION_IN 0x00003900u
#define FWP_DIRECTION_OUT 0x00003901u
#define FWP_DIRECTION_FORWARD 0x00003902u

/* One event: FWPM_NET_EVENT_HEADER3 + the CLASSIFY_DROP2 / CLASSIFY_ALLOW0
 * payload. Blobs point into the log and are lent like the entries. */
typedef struct wfp_net_event {
    uint64_t sequence;        /* 1, 2, 3… per engine: the order they were recorded */
    uint64_t time_ns;         /* virtual time */
    uint32_t type;            /* FWPM_NET_EVENT_TYPE_* */
    uint32_t flags;           /* FWPM_NET_EVENT_FLAG_* : which fields are set */
    uint32_t ip_version;      /* FWP_IP_VERSION_* */
    uint8_t ip_protocol;
    uint8_t local_addr[16];   /* v4: first 4 bytes, network order */
    uint8_t remote_addr[16];
    uint16_t local_port;      /* ICMP: type */
    uint16_t remote_port;     /* ICMP: code */
    uint32_t scope_id;
    wfp_byte_blob app_id;
    wfp_byte_blob user_id;    /* a binary SID */
    /* classify payload */
    uint64_t filter_id;
    uint16_t layer_id;
    uint32_t reauth_reason;
    uint32_t original_profile;
    uint32_t current_profile;
    uint32_t ms_fwp_direction; /* FWP_DIRECTION_IN / OUT / FORWARD */
    bool is_loopback;
} wfp_net_event;

/* FWPM_NET_EVENT_ENUM_TEMPLATE0 (times in virtual ns instead of FILETIME).
 * Conditions are AND'ed and must be on distinct fields among IP_PROTOCOL,
 * IP_LOCAL_ADDRESS, IP_REMOTE_ADDRESS, IP_LOCAL_PORT, IP_REMOTE_PORT,
 * ALE_APP_ID, ALE_USER_ID (FWP_SID value), NET_EVENT_TYPE. */
typedef struct wfp_net_event_template {
    uint64_t start_ns;
    uint64_t end_ns; /* >= start_ns, else FWP_E_INVALID_INTERVAL; 0 and 0: all times */
    uint32_t num_conditions;
    const wfp_condition *conditions;
} wfp_net_event_template;

typedef struct wfp_net_event_enum wfp_net_event_enum;

/* FwpmNetEventCreateEnumHandle0: a snapshot of the log. Not inside a
 * transaction (FWP_E_TXN_IN_PROGRESS); FWP_E_NET_EVENTS_DISABLED while
 * collection is off; needs FWPM_ACTRL_ENUM on the net-events container. */
uint32_t wfp_net_event_enum_create(wfp_session *s, const wfp_net_event_template *tmpl, wfp_net_event_enum **out);
/* Oldest first. Entries lent until the next call on the handle. */
uint32_t wfp_net_event_enum_next(wfp_session *s, wfp_net_event_enum *h, uint32_t requested,
                                 const wfp_net_event *const **entries, uint32_t *returned);
uint32_t wfp_net_event_enum_destroy(wfp_session *s, wfp_net_event_enum *h); /* accepts NULL */

typedef void (*wfp_net_event_fn)(void *ctx, const wfp_net_event *event);
/* FwpmNetEventSubscribe: `fn` runs for each new matching event, at the end
 * of the classify that records it (the event is lent for the call). Not
 * inside a transaction; needs FWPM_ACTRL_SUBSCRIBE on the container. */
uint32_t wfp_net_event_subscribe(wfp_session *s, const wfp_net_event_template *tmpl, wfp_net_event_fn fn, void *ctx,
                                 uint64_t *handle);
uint32_t wfp_net_event_unsubscribe(wfp_session *s, uint64_t handle);

/* Events in the log now (tests and printing). */
size_t wfp_net_event_count(const wfp_engine *e);
const char *wfp_net_event_type_name(uint32_t type); /* "classify_drop" … */

#endif
