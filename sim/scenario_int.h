/* scenario_int.h — the loaded form of a scenario, shared by the loader
 * (scenario.c) and the runner (scenario_run.c). Private. */
#ifndef WFP_SCENARIO_INT_H
#define WFP_SCENARIO_INT_H

#include "scenario.h"
#include "wfp_host.h"
#include "wfp_netevent.h"
#include "wfp_packet.h"

/* Step operations, in the contract's words. One table. */
#define WFPS_STEP_OPS(X)                         \
    X(WFPS_OP_ADD_PROVIDER, "add_provider")      \
    X(WFPS_OP_ADD_SUBLAYER, "add_sublayer")      \
    X(WFPS_OP_ADD_CALLOUT, "add_callout")        \
    X(WFPS_OP_ADD_FILTER, "add_filter")          \
    X(WFPS_OP_DELETE_PROVIDER, "delete_provider")\
    X(WFPS_OP_DELETE_SUBLAYER, "delete_sublayer")\
    X(WFPS_OP_DELETE_CALLOUT, "delete_callout")  \
    X(WFPS_OP_DELETE_FILTER, "delete_filter")    \
    X(WFPS_OP_BEGIN, "begin")                    \
    X(WFPS_OP_COMMIT, "commit")                  \
    X(WFPS_OP_ABORT, "abort")                    \
    X(WFPS_OP_SUBSCRIBE, "subscribe")            \
    X(WFPS_OP_UNSUBSCRIBE, "unsubscribe")        \
    X(WFPS_OP_ENABLE_NET_EVENTS, "enable_net_events") \
    X(WFPS_OP_CLOSE_SESSION, "close_session")    \
    X(WFPS_OP_REBOOT, "reboot")                  \
    X(WFPS_OP_REGISTER_CALLOUT, "register_callout") \
    X(WFPS_OP_UNREGISTER_CALLOUT, "unregister_callout") \
    X(WFPS_OP_ENUM, "enum")                      \
    X(WFPS_OP_CREATE_ENUM_HANDLE, "create_enum_handle") \
    X(WFPS_OP_DESTROY_ENUM_HANDLE, "destroy_enum_handle") \
    X(WFPS_OP_ENUM_NET_EVENTS, "enum_net_events") \
    X(WFPS_OP_GET_SECURITY, "get_security")      \
    X(WFPS_OP_SET_SECURITY, "set_security")

enum {
#define X(id, name) id,
    WFPS_STEP_OPS(X)
#undef X
    WFPS_OP_COUNT
};
const char *wfps_op_name(int op);

typedef struct wfps_host {
    const char *name;
    const wfp_yaml_node *node;
    const wfp_yaml_node *policy;
    wfp_host_config cfg;
    const char **addresses;
    wfp_host_interface_config *interfaces;
    const char ***iface_addrs;
    wfp_host_process_config *processes;
    wfp_host_socket_config **sockets;
    size_t nprocesses;
    const char **manual_services; /* services that do not start automatically */
    size_t nmanual_services;
} wfps_host;

typedef struct wfps_link {
    int host[2];
    int64_t delay;
} wfps_link;

typedef struct wfps_session {
    const char *name;
    const char *user;
    const char *host;
    bool admin, dynamic, kernel;
    int64_t txn_wait_timeout; /* ns; 0: the default 15 s */
    const char **groups;
    size_t ngroups;
    const wfp_yaml_node *node;
} wfps_session;

typedef struct wfps_step {
    int64_t at;
    size_t index;
    int op;
    const char *session;
    const char *host;
    const char *name; /* delete_*, *_callout; subscribe: the object kind */
    const wfp_yaml_node *body;
    const wfp_yaml_node *node;
    bool has_expect_error;
    uint32_t expect_error;
    bool enable;
    bool read_only;     /* begin */
    int64_t bfe_start;  /* reboot: BFE starts this long after (0: at once) */
    bool has_bfe_start;
    uint32_t object;    /* enum, *_enum_handle, *_security: WFP_OBJECT_*; the engine: WFP_OBJECT_TYPE_COUNT */
    const char *handle; /* *_enum_handle; enum from a handle */
    const wfp_yaml_node *tmpl;   /* enum, create_enum_handle, subscribe, enum_net_events */
    const wfp_yaml_node *expect; /* enum: names; enum_net_events: events; get_security: SDDL */
    const char *sddl;            /* set_security; get_security: the expected text */
    const char **names;          /* enum: the expected names, in order */
    size_t nnames;
    struct wfps_expect_event *events; /* enum_net_events */
    size_t nevents;
} wfps_step;

typedef struct wfps_traffic {
    const wfp_yaml_node *node;
    size_t index;
    bool is_pcap;
    char *pcap_path;
    int64_t at; /* inline: its time; pcap: offset of its first packet */
    const char *host;
    const char *interface;
    wfp_packet_spec spec;
    uint8_t *payload;
    size_t payload_len;
    uint64_t repeat;
    int64_t every;
} wfps_traffic;

typedef struct wfps_expect_packet {
    const wfp_yaml_node *node;
    uint64_t lo, hi;
    int verdict; /* -1 any, 0 block, 1 permit */
    int layer;   /* -1 any */
    const char *filter;
    const char *reason;
    const char *host;
    int64_t injected_from; /* -1 any; 0 not injected; N: a copy injected while packet N was classified */
} wfps_expect_packet;

typedef struct wfps_expect_call {
    const wfp_yaml_node *node;
    int layer;
    uint32_t action; /* 0: any */
    const char *filter;
    int hard, veto, absorb, reauth; /* -1 any */
} wfps_expect_call;

typedef struct wfps_expect_class {
    const wfp_yaml_node *node;
    uint64_t packet; /* 0: the host's start (`packet: start`) */
    const char *host;
    size_t ncalls;
    wfps_expect_call *calls;
} wfps_expect_class;

typedef struct wfps_expect_stat {
    const wfp_yaml_node *node;
    const char *name;
    int id;
    uint64_t value;
} wfps_expect_stat;

typedef struct wfps_expect_event {
    const wfp_yaml_node *node;
    uint32_t type;      /* FWPM_NET_EVENT_TYPE_* */
    uint64_t packet;    /* 0: any */
    int layer;          /* -1: any */
    const char *filter;
    const char *host;
} wfps_expect_event;

typedef struct wfps_expect_note {
    const wfp_yaml_node *node;
    const char *session;
    uint32_t change;    /* FWPM_CHANGE_* */
    uint32_t object;    /* WFP_OBJECT_* */
    const char *name;
} wfps_expect_note;

typedef struct wfps_expect {
    wfps_expect_packet *packets;
    size_t npackets, packets_cap;
    wfps_expect_class *classes;
    size_t nclasses, classes_cap;
    const wfp_yaml_node *net_events;
    bool net_events_subset;
    wfps_expect_event *events;
    size_t nevents;
    const wfp_yaml_node *notifications;
    wfps_expect_note *notes;
    size_t nnotes;
    wfps_expect_stat *stats;
    size_t nstats, stats_cap;
    bool has_flows;
    uint64_t flows;
} wfps_expect;

struct wfp_scenario {
    char *path;
    wfp_yaml_doc *doc;
    const char *name;
    char *name_storage;
    const char *description;
    struct {
        bool collect_net_events;
        uint32_t keywords;
        uint32_t or_mode;
    } engine;
    wfps_host *hosts;
    size_t nhosts;
    wfps_link *links;
    size_t nlinks;
    wfps_session *sessions;
    size_t nsessions, sessions_cap;
    wfps_step *steps;
    size_t nsteps, steps_cap;
    wfps_traffic *traffic;
    size_t ntraffic, traffic_cap;
    wfps_expect expect;
};
typedef struct wfp_scenario wfps_scenario;

int wfps_host_index(const wfps_scenario *sc, const char *name);
char *wfps_strdup(const char *s);

/* Statistics a scenario can expect (expect.stats keys). One table. */
#define WFPS_STATS(X)                                                          \
    X(packets, "packets that entered the simulation")                         \
    X(permitted, "packets delivered or sent")                                 \
    X(blocked, "packets dropped by a filter or callout")                      \
    X(absorbed, "packets absorbed by a callout")                              \
    X(dropped, "packets dropped by the stack (no listener, closed port, ...)") \
    X(classify_calls, "classify calls at every layer")                        \
    X(vetoes, "classifications decided by a veto")                            \
    X(flows_created, "ALE flows created")                                     \
    X(reauthorizations, "reauthorization classifications")                    \
    X(injected, "copies injected by callouts (counted in packets too)")      \
    X(pended, "classifies a callout pended (FwpsPendOperation0)")
int wfps_stat_id(const char *name);
void wfps_stat_names(char *buf, size_t n);

#endif
