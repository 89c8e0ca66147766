/* test_shim.c — the simulated host's shims: for each protocol and
 * direction, v4 and v6, the layers a packet is classified at and their
 * order (spec/wfp-semantics.md §6), ALE flow state (§5.3), reauthorization
 * (§5.4), stealth (§6.3, §11.7), and the incoming values at a few layers.
 * Packets are built with the pcap/ builder; policy goes straight into the
 * host's engine. */
#include <stdio.h>

#include "engine_fixture.h"

#include "wfp_host.h"
#include "wfp_packet.h"

#define SEC 1000000000ull

/* ---- fixture ------------------------------------------------------------ */

typedef struct obs_call {
    uint16_t layer;
    wfp_value vals[96];
    uint32_t nvals;
    uint64_t pid;
    uint32_t present;
    uint32_t direction;
    uint32_t item;
} obs_call;

typedef struct hf {
    fx f;                /* engine + admin session, for the fixture's filter helpers */
    wfp_host *h;
    wfp_packet_outcome out;
    uint8_t buf[4][70000];
    wfp_packet pkt[4];
    int nextbuf;
    uint16_t icmp_id; /* for the next ICMP packet mk() builds; 0: 7 */
    obs_call obs[64];
    size_t nobs;
} hf;

static void observer(void *ctx, const wfp_host *h, uint64_t now, const wfp_packet *p,
                     const wfp_classify_request *req, const wfp_verdict *v, const wfp_trace *t)
{
    hf *x = ctx;
    (void)h;
    (void)now;
    (void)p;
    (void)v;
    (void)t;
    if (x->nobs < sizeof x->obs / sizeof x->obs[0]) {
        obs_call *o = &x->obs[x->nobs++];
        o->layer = req->layer_id;
        o->nvals = req->num_values;
        memcpy(o->vals, req->values, req->num_values * sizeof *req->values);
        o->present = req->meta ? req->meta->present : 0;
        o->pid = req->meta ? req->meta->process_id : 0;
        o->direction = req->meta ? req->meta->packet_direction : 0;
        o->item = wfp_host_current_call(h)->item;
    }
}

static const char *const ADDRS[] = {"10.0.0.2", "2001:db8::2"};

static const wfp_host_socket_config SERVER_SOCKS[] = {
    {WFP_SOCK_TCP, 80, 80, true, NULL},
    {WFP_SOCK_UDP, 53, 53, false, NULL},
};
static const wfp_host_socket_config CLIENT_SOCKS[] = {
    {WFP_SOCK_TCP, 49152, 65535, false, NULL},
    {WFP_SOCK_UDP, 49152, 65535, false, NULL},
    {WFP_SOCK_ICMP, 0, 0, false, NULL},
};
static const wfp_host_process_config PROCS[] = {
    {"server", "C:\\srv\\server.exe", "S-1-5-21-1-2-3-1000", 500, 2, SERVER_SOCKS},
    {"client", "C:\\Program Files\\App\\app.exe", "S-1-5-21-1-2-3-1001", 4242, 3, CLIENT_SOCKS},
};

typedef void (*cfg_tweak)(wfp_host_config *cfg);

static hf *hf_new_ex(const char *name, const char *const *addrs, size_t naddrs, cfg_tweak tweak)
{
    hf *x = calloc(1, sizeof *x);
    wfp_host_config cfg;
    wfp_session_desc d;
    char err[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.name = name;
    cfg.addresses = addrs;
    cfg.num_addresses = naddrs;
    cfg.processes = PROCS;
    cfg.num_processes = 2;
    if (tweak)
        tweak(&cfg);
    x->h = wfp_host_create(&cfg, err, sizeof err);
    if (!x->h)
        fail_msg("host: %s", err);
    x->f.e = wfp_host_engine(x->h);
    memset(&d, 0, sizeof d);
    d.admin = true;
    d.name = "test";
    assert_int_equal(wfp_session_open(x->f.e, &d, &x->f.s), 0);
    wfp_host_set_observer(x->h, observer, x);
    return x;
}

static hf *hf_new(const char *name, const char *const *addrs, size_t naddrs)
{
    return hf_new_ex(name, addrs, naddrs, NULL);
}

static void hf_free(hf *x)
{
    wfp_session_close(x->f.s);
    wfp_host_destroy(x->h);
    free(x);
}

static int setup(void **state)
{
    hf *x = hf_new("B", ADDRS, 2);
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    hf_free(*state);
    return 0;
}

static void addr_of(const char *s, uint8_t out[16])
{
    uint32_t v4;
    memset(out, 0, 16);
    if (wfp_ipv4_parse(s, &v4)) {
        out[0] = (uint8_t)(v4 >> 24);
        out[1] = (uint8_t)(v4 >> 16);
        out[2] = (uint8_t)(v4 >> 8);
        out[3] = (uint8_t)v4;
    } else {
        assert_true(wfp_ipv6_parse(s, out));
    }
}

/* A packet: "tcp"/"udp"/"icmp" between two addresses. */
static const wfp_packet *mk(hf *x, const char *proto, const char *src, uint16_t sport, const char *dst,
                            uint16_t dport, const char *tcpflags, size_t payload)
{
    static const uint8_t zeros[4000];
    wfp_packet_spec s;
    uint8_t *buf = x->buf[x->nextbuf];
    wfp_packet *p = &x->pkt[x->nextbuf];
    size_t n;
    x->nextbuf = (x->nextbuf + 1) % 4;
    wfp_packet_spec_init(&s);
    s.ip_version = strchr(src, ':') ? 6 : 4;
    addr_of(src, s.src);
    addr_of(dst, s.dst);
    if (strcmp(proto, "tcp") == 0) {
        s.protocol = WFP_IPPROTO_TCP;
        s.sport = sport;
        s.dport = dport;
        assert_true(wfp_tcp_flags_parse(tcpflags ? tcpflags : "", &s.tcp_flags));
    } else if (strcmp(proto, "udp") == 0) {
        s.protocol = WFP_IPPROTO_UDP;
        s.sport = sport;
        s.dport = dport;
    } else {
        /* icmp: sport = type, dport = code, tcpflags unused; id 7 */
        s.protocol = s.ip_version == 6 ? WFP_IPPROTO_ICMPV6 : WFP_IPPROTO_ICMP;
        s.icmp_type = (uint8_t)sport;
        s.icmp_code = (uint8_t)dport;
        s.icmp_id = x->icmp_id ? x->icmp_id : 7;
        s.icmp_seq = 1;
    }
    s.payload = zeros;
    s.payload_len = payload;
    n = wfp_packet_build(&s, buf, sizeof x->buf[0]);
    assert_true(n > 0);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 0, p), 0);
    return p;
}

static const wfp_packet *parse_raw(hf *x, const uint8_t *data, size_t n)
{
    uint8_t *buf = x->buf[x->nextbuf];
    wfp_packet *p = &x->pkt[x->nextbuf];
    x->nextbuf = (x->nextbuf + 1) % 4;
    memcpy(buf, data, n);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, buf, (uint32_t)n, (uint32_t)n, 0, p), 0);
    return p;
}

static const wfp_packet_outcome *run(hf *x, uint64_t now, const wfp_packet *p)
{
    x->nobs = 0;
    assert_int_equal(wfp_host_packet(x->h, now, p, &x->out), 0);
    return &x->out;
}

/* "INBOUND_IPPACKET,INBOUND_TRANSPORT,..." with _V4/_V6 appended per `v6`. */
static void expect_layers(const wfp_packet_outcome *o, bool v6, const char *list)
{
    char want[2048], got[2048];
    size_t n = 0;
    const char *p = list;
    want[0] = got[0] = 0;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[96];
        bool discard = len > 8 && strncmp(p + len - 8, "_DISCARD", 8) == 0;
        size_t base = discard ? len - 8 : len;
        snprintf(name, sizeof name, "%.*s_V%c%s", (int)base, p, v6 ? '6' : '4', discard ? "_DISCARD" : "");
        n += (size_t)snprintf(want + n, sizeof want - n, "%s%s", n ? "," : "", name);
        p += len;
        if (*p == ',')
            p++;
    }
    n = 0;
    for (size_t i = 0; i < o->num_calls; i++) {
        const wfp_layer_info *li = wfp_catalog_layer_by_id(o->calls[i].layer_id);
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", n ? "," : "", li->name + strlen("FWPM_LAYER_"));
    }
    if (strcmp(want, got) != 0)
        fail_msg("layer sequence\n  want: %s\n  got:  %s", want, got);
}

static int value_index(uint16_t layer, const char *field)
{
    const wfp_layer_info *li = wfp_catalog_layer_by_id(layer);
    const wfp_condition_info *ci = wfp_catalog_condition_by_name(field);
    assert_non_null(ci);
    return wfp_catalog_field_index(li, &ci->key);
}

static const obs_call *obs_at(hf *x, const char *layer)
{
    const wfp_layer_info *li = fx_layer(layer);
    for (size_t i = 0; i < x->nobs; i++)
        if (x->obs[i].layer == li->id)
            return &x->obs[i];
    fail_msg("no classify at %s", layer);
    return NULL;
}

static const wfp_value *obs_val(const obs_call *o, const char *field)
{
    int i = value_index(o->layer, field);
    assert_true(i >= 0);
    return &o->vals[i];
}

static void block_filter(hf *x, const char *name, const char *layer, const wfp_condition *c, uint32_t n)
{
    (void)fx_filter_ex(&x->f, name, layer, NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0, c, n, NULL);
}

/* ---- TCP ------------------------------------------------------------------ */

static void tcp_connect_case(bool v6)
{
    hf *x = hf_new("A", ADDRS, 2);
    const char *me = v6 ? "2001:db8::2" : "10.0.0.2";
    const char *peer = v6 ? "2001:db8::5" : "10.0.0.5";
    const wfp_packet_outcome *o;
    /* EVIDENCE: PATH-TCP-CONNECT — spec §6.1 steps 4-9 (client: bind, connect, SYN out) */
    o = run(x, 1, mk(x, "tcp", me, 50000, peer, 80, "S", 0));
    expect_layers(o, v6, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                         "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_true(o->permitted);
    assert_int_equal(o->path, WFP_HOST_PATH_OUTBOUND);
    assert_true(o->flow_id != 0);
    /* implicit bind: wildcard, local address EMPTY (§5.2) */
    {
        const obs_call *b = obs_at(x, v6 ? "ALE_RESOURCE_ASSIGNMENT_V6" : "ALE_RESOURCE_ASSIGNMENT_V4");
        assert_int_equal(obs_val(b, "IP_LOCAL_ADDRESS")->type, FWP_EMPTY);
        assert_int_equal(obs_val(b, "IP_LOCAL_PORT")->v.u16, 50000);
        assert_true(obs_val(b, "FLAGS")->v.u32 & FWP_CONDITION_FLAG_IS_WILDCARD_BIND);
        assert_int_equal(b->pid, 4242);
    }
    /* EVIDENCE: PATH-TCP-CONNECT — spec §6.1 steps 15-17 (SYN-ACK in, FLOW_ESTABLISHED) */
    o = run(x, 2, mk(x, "tcp", peer, 80, me, 50000, "SA", 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_FLOW_ESTABLISHED");
    assert_true(o->permitted);
    /* EVIDENCE: PATH-TCP-CONNECT — spec §6.1 steps 18-19 (final ACK out) */
    o = run(x, 3, mk(x, "tcp", me, 50000, peer, 80, "A", 0));
    expect_layers(o, v6, "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    /* EVIDENCE: PATH-TCP-DATA — spec §6.2 sender: STREAM → OUTBOUND_TRANSPORT → OUTBOUND_IPPACKET */
    o = run(x, 4, mk(x, "tcp", me, 50000, peer, 80, "PA", 100));
    expect_layers(o, v6, "STREAM,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_int_equal(obs_val(obs_at(x, v6 ? "STREAM_V6" : "STREAM_V4"), "DIRECTION")->v.u32, FWP_DIRECTION_OUTBOUND);
    /* EVIDENCE: PATH-TCP-DATA — spec §6.2 receiver: INBOUND_IPPACKET → INBOUND_TRANSPORT → STREAM */
    o = run(x, 5, mk(x, "tcp", peer, 80, me, 50000, "PA", 100));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,STREAM");
    assert_int_equal(obs_val(obs_at(x, v6 ? "STREAM_V6" : "STREAM_V4"), "DIRECTION")->v.u32, FWP_DIRECTION_INBOUND);
    assert_int_equal(wfp_host_flow_count(x->h), 1);
    hf_free(x);
}

static void test_tcp_connect_v4(void **state)
{
    (void)state;
    tcp_connect_case(false);
}

static void test_tcp_connect_v6(void **state)
{
    (void)state;
    tcp_connect_case(true);
}

static void test_start_sockets(void **state)
{
    hf *x = hf_new("B", ADDRS, 2);
    (void)state;
    x->nobs = 0;
    /* EVIDENCE: PATH-TCP-ACCEPT — spec §6.1 steps 1-3: BIND_REDIRECT → RESOURCE_ASSIGNMENT → AUTH_LISTEN;
     * §6.5 step 1: a UDP server binds (BIND_REDIRECT → RESOURCE_ASSIGNMENT). Wildcard sockets bind
     * in each family the host has. */
    assert_int_equal(wfp_host_start(x->h, 0, &x->out), 0);
    {
        static const char *const want[] = {
            "ALE_BIND_REDIRECT_V4", "ALE_RESOURCE_ASSIGNMENT_V4", "ALE_AUTH_LISTEN_V4",
            "ALE_BIND_REDIRECT_V6", "ALE_RESOURCE_ASSIGNMENT_V6", "ALE_AUTH_LISTEN_V6",
            "ALE_BIND_REDIRECT_V4", "ALE_RESOURCE_ASSIGNMENT_V4",
            "ALE_BIND_REDIRECT_V6", "ALE_RESOURCE_ASSIGNMENT_V6"};
        assert_int_equal(x->out.num_calls, 10);
        for (size_t i = 0; i < 10; i++)
            assert_int_equal(x->out.calls[i].layer_id, fx_layer(want[i])->id);
        assert_true(x->out.permitted);
        assert_int_equal(x->out.calls[0].item, WFP_HOST_ITEM_SOCKET);
        assert_int_equal(obs_val(&x->obs[2], "IP_LOCAL_PORT")->v.u16, 80);
        assert_int_equal(obs_val(&x->obs[2], "IP_LOCAL_ADDRESS")->type, FWP_EMPTY);
        assert_int_equal(x->obs[2].pid, 500);
    }
    assert_int_equal(wfp_host_start(x->h, 0, NULL), FWP_E_INVALID_PARAMETER); /* once */
    hf_free(x);
}

static void accept_case(bool v6)
{
    hf *x = hf_new("B", ADDRS, 2);
    const char *me = v6 ? "2001:db8::2" : "10.0.0.2";
    const char *peer = v6 ? "2001:db8::5" : "10.0.0.5";
    const wfp_packet_outcome *o;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    /* EVIDENCE: PATH-TCP-ACCEPT — spec §6.1 steps 10-12 */
    o = run(x, 1, mk(x, "tcp", peer, 50000, me, 80, "S", 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT");
    assert_true(o->permitted);
    assert_true(x->obs[1].present & WFP_METADATA_ALE_CLASSIFY_REQUIRED);
    {
        const obs_call *ra = obs_at(x, v6 ? "ALE_AUTH_RECV_ACCEPT_V6" : "ALE_AUTH_RECV_ACCEPT_V4");
        const wfp_value *app = obs_val(ra, "ALE_APP_ID");
        char text[256];
        assert_int_equal(app->type, FWP_BYTE_BLOB_TYPE);
        wfp_app_id_format(app->v.blob.data, app->v.blob.size, text, sizeof text);
        assert_string_equal(text, "\\device\\harddiskvolume3\\srv\\server.exe");
        assert_int_equal(obs_val(ra, "IP_LOCAL_PORT")->v.u16, 80);
        assert_int_equal(obs_val(ra, "IP_REMOTE_PORT")->v.u16, 50000);
        assert_int_equal(obs_val(ra, "IP_PROTOCOL")->v.u8, 6);
        assert_int_equal(obs_val(ra, "INTERFACE_INDEX")->v.u32, 1);
        assert_int_equal(obs_val(ra, "INTERFACE_TYPE")->v.u32, WFP_IF_TYPE_ETHERNET);
        assert_int_equal(obs_val(ra, "FLAGS")->v.u32, 0);
        assert_int_equal(ra->pid, 500);
        if (!v6)
            assert_int_equal(obs_val(ra, "IP_REMOTE_ADDRESS")->v.u32, 0x0a000005u);
        else
            assert_int_equal(obs_val(ra, "IP_REMOTE_ADDRESS")->type, FWP_BYTE_ARRAY16_TYPE);
    }
    /* EVIDENCE: PATH-TCP-ACCEPT — spec §6.1 steps 13-14 */
    o = run(x, 2, mk(x, "tcp", me, 80, peer, 50000, "SA", 0));
    expect_layers(o, v6, "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    /* EVIDENCE: PATH-TCP-ACCEPT — spec §6.1 steps 20-22 */
    o = run(x, 3, mk(x, "tcp", peer, 50000, me, 80, "A", 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_FLOW_ESTABLISHED");
    assert_int_equal(obs_val(&x->obs[2], "DIRECTION")->v.u32, FWP_DIRECTION_INBOUND);
    o = run(x, 4, mk(x, "tcp", peer, 50000, me, 80, "PA", 10));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,STREAM");
    hf_free(x);
}

static void test_tcp_accept_v4(void **state)
{
    (void)state;
    accept_case(false);
}

static void test_tcp_accept_v6(void **state)
{
    (void)state;
    accept_case(true);
}

/* C39: two simulated hosts, permit-all: the classification sequence equals §6.1 steps 1-22. */
static void test_handshake_two_hosts(void **state)
{
    static const char *const A_ADDR[] = {"10.0.0.1"};
    static const char *const B_ADDR[] = {"10.0.0.2"};
    static const wfp_host_socket_config BS[] = {{WFP_SOCK_TCP, 80, 80, true, NULL}};
    static const wfp_host_process_config BP[] = {{"srv", NULL, NULL, 0, 1, BS}};
    static const char *const want[] = {
        "B:ALE_BIND_REDIRECT_V4", "B:ALE_RESOURCE_ASSIGNMENT_V4", "B:ALE_AUTH_LISTEN_V4",
        "A:ALE_BIND_REDIRECT_V4", "A:ALE_RESOURCE_ASSIGNMENT_V4", "A:ALE_CONNECT_REDIRECT_V4",
        "A:ALE_AUTH_CONNECT_V4", "A:OUTBOUND_TRANSPORT_V4", "A:OUTBOUND_IPPACKET_V4",
        "B:INBOUND_IPPACKET_V4", "B:INBOUND_TRANSPORT_V4", "B:ALE_AUTH_RECV_ACCEPT_V4",
        "B:OUTBOUND_TRANSPORT_V4", "B:OUTBOUND_IPPACKET_V4", "A:INBOUND_IPPACKET_V4",
        "A:INBOUND_TRANSPORT_V4", "A:ALE_FLOW_ESTABLISHED_V4", "A:OUTBOUND_TRANSPORT_V4",
        "A:OUTBOUND_IPPACKET_V4", "B:INBOUND_IPPACKET_V4", "B:INBOUND_TRANSPORT_V4",
        "B:ALE_FLOW_ESTABLISHED_V4"};
    wfp_host_config ca, cb;
    wfp_host *a, *b;
    char err[128], got[32][64];
    size_t n = 0;
    wfp_packet_outcome o;
    hf *scratch = calloc(1, sizeof *scratch);
    (void)state;
    memset(&ca, 0, sizeof ca);
    memset(&cb, 0, sizeof cb);
    ca.name = "A";
    ca.addresses = A_ADDR;
    ca.num_addresses = 1;
    cb.name = "B";
    cb.addresses = B_ADDR;
    cb.num_addresses = 1;
    cb.processes = BP;
    cb.num_processes = 1;
    a = wfp_host_create(&ca, err, sizeof err);
    b = wfp_host_create(&cb, err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
#define REC(host, tag)                                                                          \
    for (size_t i = 0; i < o.num_calls; i++)                                                    \
    snprintf(got[n++], sizeof got[0], "%s:%s", tag,                                             \
             wfp_catalog_layer_by_id(o.calls[i].layer_id)->name + strlen("FWPM_LAYER_"))
    /* EVIDENCE: PATH-TCP-CONNECT PATH-TCP-ACCEPT C39 — spec §6.1 steps 1-22, §12.5 C39 */
    assert_int_equal(wfp_host_start(b, 0, &o), 0);
    REC(b, "B");
    assert_int_equal(wfp_host_start(a, 0, &o), 0);
    REC(a, "A");
    const wfp_packet *syn = mk(scratch, "tcp", "10.0.0.1", 50000, "10.0.0.2", 80, "S", 0);
    assert_int_equal(wfp_host_packet(a, 1, syn, &o), 0);
    REC(a, "A");
    assert_true(o.permitted);
    assert_int_equal(wfp_host_packet(b, 2, syn, &o), 0);
    REC(b, "B");
    const wfp_packet *synack = mk(scratch, "tcp", "10.0.0.2", 80, "10.0.0.1", 50000, "SA", 0);
    assert_int_equal(wfp_host_packet(b, 3, synack, &o), 0);
    REC(b, "B");
    assert_int_equal(wfp_host_packet(a, 4, synack, &o), 0);
    REC(a, "A");
    const wfp_packet *ack = mk(scratch, "tcp", "10.0.0.1", 50000, "10.0.0.2", 80, "A", 0);
    assert_int_equal(wfp_host_packet(a, 5, ack, &o), 0);
    REC(a, "A");
    assert_int_equal(wfp_host_packet(b, 6, ack, &o), 0);
    REC(b, "B");
#undef REC
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(got[i], want[i]);
    wfp_host_destroy(a);
    wfp_host_destroy(b);
    free(scratch);
}

static void no_listener_case(hf *x, bool v6)
{
    const char *me = v6 ? "2001:db8::2" : "10.0.0.2";
    const char *peer = v6 ? "2001:db8::5" : "10.0.0.5";
    const wfp_packet_outcome *o;
    /* EVIDENCE: PATH-TCP-NO-LISTENER — spec §6.3: INBOUND_IPPACKET → INBOUND_TRANSPORT_DISCARD → RST
     * (OUTBOUND_TRANSPORT → OUTBOUND_IPPACKET) */
    o = run(x, 1, mk(x, "tcp", peer, 40000, me, 9999, "S", 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT_DISCARD,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_false(o->permitted);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_NO_LISTENER);
    assert_true(o->response_sent);
    assert_int_equal(o->layer_id, fx_layer(v6 ? "INBOUND_TRANSPORT_V6_DISCARD" : "INBOUND_TRANSPORT_V4_DISCARD")->id);
    assert_int_equal(o->calls[2].item, WFP_HOST_ITEM_RESPONSE);
    assert_true(x->obs[1].present & WFP_METADATA_DISCARD_REASON);
    /* the RST goes back to the peer: local port 9999, remote 40000 */
    assert_int_equal(obs_val(&x->obs[2], "IP_LOCAL_PORT")->v.u16, 9999);
    assert_int_equal(obs_val(&x->obs[2], "IP_REMOTE_PORT")->v.u16, 40000);
    /* a segment of no connection gets a RST too; a RST gets nothing back */
    o = run(x, 2, mk(x, "tcp", peer, 40001, me, 80, "A", 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT_DISCARD,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_int_equal(o->discard, WFP_HOST_DISCARD_NO_CONNECTION);
    o = run(x, 3, mk(x, "tcp", peer, 40001, me, 80, "R", 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT_DISCARD");
    assert_false(o->response_sent);
}

static void test_tcp_no_listener(void **state)
{
    no_listener_case(*state, false);
    no_listener_case(*state, true);
}

/* C40 */
static void test_stealth_silent_drop(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    wfp_condition c = fx_cond_u("FLAGS", FWP_MATCH_FLAGS_NONE_SET, FWP_UINT32, FWP_CONDITION_FLAG_IS_LOOPBACK);
    const wfp_builtin_callout *sd4 = wfp_catalog_callout_by_name("WFP_TRANSPORT_LAYER_V4_SILENT_DROP");
    const wfp_builtin_callout *sd6 = wfp_catalog_callout_by_name("WFP_TRANSPORT_LAYER_V6_SILENT_DROP");
    assert_non_null(sd4);
    assert_non_null(sd6);
    (void)fx_filter_ex(&x->f, "stealth4", "INBOUND_TRANSPORT_V4_DISCARD", NULL, FX_AUTO,
                       FWP_ACTION_CALLOUT_TERMINATING, &sd4->key, 0, &c, 1, NULL);
    (void)fx_filter_ex(&x->f, "stealth6", "INBOUND_TRANSPORT_V6_DISCARD", NULL, FX_AUTO,
                       FWP_ACTION_CALLOUT_TERMINATING, &sd6->key, 0, &c, 1, NULL);
    wfp_host_policy_changed(x->h, 0);
    /* EVIDENCE: STEALTH-SILENT-DROP C40 — spec §6.3, §11.4, §11.7, §12.5 C40: remote SYN ⇒ no RST */
    o = run(x, 1, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 9999, "S", 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT_DISCARD");
    assert_false(o->response_sent);
    assert_true(o->filter_id != 0);
    assert_true(o->calls[1].verdict.hard);
    o = run(x, 2, mk(x, "tcp", "2001:db8::5", 40000, "2001:db8::2", 9999, "S", 0));
    expect_layers(o, true, "INBOUND_IPPACKET,INBOUND_TRANSPORT_DISCARD");
    assert_false(o->response_sent);
    /* loopback SYN ⇒ RST sent (FLAGS NONE_SET IS_LOOPBACK does not match) */
    o = run(x, 3, mk(x, "tcp", "127.0.0.1", 50000, "127.0.0.1", 9999, "S", 0));
    expect_layers(o, false, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                            "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET,INBOUND_IPPACKET,INBOUND_TRANSPORT_DISCARD,"
                            "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_true(o->response_sent);
    assert_int_equal(o->path, WFP_HOST_PATH_LOOPBACK);
}

/* C42: no cross-layer arbitration. */
static void test_no_cross_layer(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    wfp_condition c = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 80);
    uint64_t blk;
    (void)fx_filter_ex(&x->f, "hard-permit", "ALE_AUTH_CONNECT_V4", NULL, FX_AUTO, FWP_ACTION_PERMIT, NULL,
                       FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT, &c, 1, NULL);
    blk = fx_filter_ex(&x->f, "block-80", "OUTBOUND_TRANSPORT_V4", NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0,
                       &c, 1, NULL);
    o = run(x, 1, mk(x, "tcp", "10.0.0.2", 50001, "10.0.0.5", 80, "S", 0));
    expect_layers(o, false, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                            "OUTBOUND_TRANSPORT,OUTBOUND_TRANSPORT_DISCARD");
    assert_false(o->permitted);
    assert_int_equal(o->filter_id, blk);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_FILTER);
    assert_int_equal(o->layer_id, fx_layer("OUTBOUND_TRANSPORT_V4")->id);
}

/* A block at ALE_AUTH_RECV_ACCEPT_V6 is re-indicated at its discard layer,
 * whose schema differs from the base layer's in the real catalogue. */
static void test_recv_accept_v6_discard(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    block_filter(x, "block-in6", "ALE_AUTH_RECV_ACCEPT_V6", NULL, 0);
    o = run(x, 1, mk(x, "tcp", "2001:db8::5", 40000, "2001:db8::2", 80, "S", 0));
    expect_layers(o, true, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_AUTH_RECV_ACCEPT_DISCARD");
    assert_false(o->permitted);
    assert_int_equal(x->obs[3].nvals, fx_layer("ALE_AUTH_RECV_ACCEPT_V6_DISCARD")->num_fields);
    /* retransmitted SYN: still no flow, classified again */
    o = run(x, 2, mk(x, "tcp", "2001:db8::5", 40000, "2001:db8::2", 80, "S", 0));
    expect_layers(o, true, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_AUTH_RECV_ACCEPT_DISCARD");
    assert_int_equal(wfp_host_flow_count(x->h), 0);
}

/* ---- UDP ------------------------------------------------------------------ */

static void udp_case(bool v6)
{
    hf *x = hf_new("A", ADDRS, 2);
    const char *me = v6 ? "2001:db8::2" : "10.0.0.2";
    const char *peer = v6 ? "2001:db8::5" : "10.0.0.5";
    const wfp_packet_outcome *o;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    /* EVIDENCE: PATH-UDP — spec §6.5 steps 2-4: client bind, connect, datagram */
    o = run(x, 1, mk(x, "udp", me, 50000, peer, 53, NULL, 20));
    expect_layers(o, v6, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                         "ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_true(o->permitted);
    assert_int_equal(obs_at(x, v6 ? "ALE_AUTH_CONNECT_V6" : "ALE_AUTH_CONNECT_V4")->pid, 4242);
    /* EVIDENCE: PATH-UDP — spec §6.5 step 6: later datagrams skip ALE */
    o = run(x, 2, mk(x, "udp", me, 50000, peer, 53, NULL, 20));
    expect_layers(o, v6, "DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    o = run(x, 3, mk(x, "udp", peer, 53, me, 50000, NULL, 20));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    assert_int_equal(obs_val(&x->obs[2], "DIRECTION")->v.u32, FWP_DIRECTION_INBOUND);
    /* EVIDENCE: PATH-UDP — spec §6.5 step 5: the server's first datagram from a peer */
    o = run(x, 4, mk(x, "udp", peer, 40000, me, 53, NULL, 20));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA");
    assert_int_equal(obs_at(x, v6 ? "ALE_AUTH_RECV_ACCEPT_V6" : "ALE_AUTH_RECV_ACCEPT_V4")->pid, 500);
    /* its reply: flow exists */
    o = run(x, 5, mk(x, "udp", me, 53, peer, 40000, NULL, 20));
    expect_layers(o, v6, "DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    /* EVIDENCE: PATH-UDP-CLOSED-PORT — spec §6.5: INBOUND_IPPACKET → INBOUND_IPPACKET_DISCARD →
     * OUTBOUND_ICMP_ERROR → OUTBOUND_TRANSPORT → OUTBOUND_IPPACKET */
    o = run(x, 6, mk(x, "udp", peer, 40000, me, 9999, NULL, 20));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_IPPACKET_DISCARD,OUTBOUND_ICMP_ERROR,OUTBOUND_TRANSPORT,"
                         "OUTBOUND_IPPACKET");
    assert_int_equal(o->discard, WFP_HOST_DISCARD_PORT_UNREACHABLE);
    assert_true(o->response_sent);
    assert_int_equal(obs_val(&x->obs[2], "ICMP_TYPE")->v.u16, v6 ? 1 : 3);
    assert_int_equal(obs_val(&x->obs[2], "ICMP_CODE")->v.u16, v6 ? 4 : 3);
    assert_int_equal(obs_val(&x->obs[3], "IP_PROTOCOL")->v.u8, v6 ? 58 : 1);
    hf_free(x);
}

static void test_udp_v4(void **state)
{
    (void)state;
    udp_case(false);
}

static void test_udp_v6(void **state)
{
    (void)state;
    udp_case(true);
}

/* C41: stealth UDP. */
static void test_udp_stealth(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    wfp_condition c = fx_cond_u("ICMP_TYPE", FWP_MATCH_EQUAL, FWP_UINT16, 3);
    block_filter(x, "no-unreach", "OUTBOUND_ICMP_ERROR_V4", &c, 1);
    /* EVIDENCE: PATH-UDP-CLOSED-PORT C41 — spec §6.5, §12.5 C41: blocking type 3 at OUTBOUND_ICMP_ERROR_V4
     * suppresses the error, which is re-indicated at OUTBOUND_ICMP_ERROR_V4_DISCARD */
    o = run(x, 1, mk(x, "udp", "10.0.0.5", 40000, "10.0.0.2", 9999, NULL, 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_IPPACKET_DISCARD,OUTBOUND_ICMP_ERROR,OUTBOUND_ICMP_ERROR_DISCARD");
    assert_false(o->response_sent);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_PORT_UNREACHABLE);
    /* blocking the datagram at INBOUND_IPPACKET_V4_DISCARD suppresses it as well */
    block_filter(x, "drop-disc", "INBOUND_IPPACKET_V4_DISCARD", NULL, 0);
    o = run(x, 2, mk(x, "udp", "10.0.0.5", 40000, "10.0.0.2", 9998, NULL, 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_IPPACKET_DISCARD");
    assert_false(o->response_sent);
}

/* C33 */
static void test_udp_flow_timeout(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    /* EVIDENCE: ALE-UDP-FLOW-TIMEOUT C33 — spec §5.3, §12.4 C33 */
    o = run(x, 1 * SEC, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    assert_int_equal(wfp_host_layer_calls(x->h, fx_layer("ALE_AUTH_CONNECT_V4")->id), 1);
    o = run(x, 2 * SEC, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    expect_layers(o, false, "DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    o = run(x, 3 * SEC, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.6", 53, NULL, 0));
    expect_layers(o, false, "ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,"
                            "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET"); /* already bound: no bind */
    /* 59.9 s idle: still the flow */
    o = run(x, 61 * SEC + SEC / 2, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    expect_layers(o, false, "DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    /* 60 s idle: expired, authorized again */
    o = run(x, 121 * SEC + SEC / 2, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    expect_layers(o, false, "ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,"
                            "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    {
        wfp_host_stats st;
        wfp_host_get_stats(x->h, &st);
        assert_int_equal(st.flows_expired, 1);
    }
}

/* ---- multicast and broadcast (C37) ------------------------------------------ */

static uint16_t lid(const char *name)
{
    return fx_layer(name)->id;
}

/* Outbound multicast creates a 4 s state admitting inbound datagrams from
 * any address to the sending port without RECV_ACCEPT; only outbound
 * traffic refreshes it; an expired one leaves replies to RECV_ACCEPT. */
static void mcast_state_case(bool v6)
{
    hf *x = hf_new("A", ADDRS, 2);
    const char *me = v6 ? "2001:db8::2" : "10.0.0.2";
    const char *group = v6 ? "ff02::c" : "239.255.255.250";
    const char *p1 = v6 ? "2001:db8::7" : "10.0.0.7";
    const char *p2 = v6 ? "2001:db8::8" : "10.0.0.8";
    const char *ra = v6 ? "ALE_AUTH_RECV_ACCEPT_V6" : "ALE_AUTH_RECV_ACCEPT_V4";
    const wfp_packet_outcome *o;
    uint64_t state_flow;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    block_filter(x, "block-in", ra, NULL, 0);
    /* EVIDENCE: C37 — W32 ale-multicast-broadcast-traffic: outbound multicast state, 4 s, any remote */
    o = run(x, 1 * SEC, mk(x, "udp", me, 50000, group, 1900, NULL, 0));
    expect_layers(o, v6, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                         "ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_true(o->permitted);
    state_flow = o->flow_id;
    assert_int_equal(obs_val(obs_at(x, v6 ? "ALE_AUTH_CONNECT_V6" : "ALE_AUTH_CONNECT_V4"),
                             "IP_DESTINATION_ADDRESS_TYPE")->v.u8, 3 /* NlatMulticast */);
    /* replies from two peers, the second 3.9 s after the send: no ALE, no new flow */
    o = run(x, 2 * SEC, mk(x, "udp", p1, 1900, me, 50000, NULL, 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    assert_true(o->permitted);
    assert_int_equal(o->flow_id, state_flow);
    assert_true(obs_at(x, v6 ? "DATAGRAM_DATA_V6" : "DATAGRAM_DATA_V4")->present & WFP_METADATA_FLOW_HANDLE);
    o = run(x, 4 * SEC + 9 * SEC / 10, mk(x, "udp", p2, 1900, me, 50000, NULL, 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    assert_int_equal(wfp_host_flow_count(x->h), 1);
    /* inbound traffic did not refresh it: 4 s after the send it is gone */
    o = run(x, 5 * SEC, mk(x, "udp", p1, 1900, me, 50000, NULL, 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_AUTH_RECV_ACCEPT_DISCARD");
    assert_false(o->permitted);
    assert_int_equal(o->layer_id, lid(ra));
    /* a new send authorizes again; a later one refreshes the state */
    o = run(x, 6 * SEC, mk(x, "udp", me, 50000, group, 1900, NULL, 0));
    expect_layers(o, v6, "ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,"
                         "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    o = run(x, 9 * SEC, mk(x, "udp", me, 50000, group, 1900, NULL, 0));
    expect_layers(o, v6, "DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    o = run(x, 12 * SEC + SEC / 2, mk(x, "udp", p2, 1900, me, 50000, NULL, 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    assert_true(o->permitted);
    /* the state is the sending port's: another port's unsolicited datagram is classified */
    o = run(x, 12 * SEC + SEC / 2, mk(x, "udp", p1, 1900, me, 53, NULL, 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_AUTH_RECV_ACCEPT_DISCARD");
    assert_int_equal(wfp_host_layer_calls(x->h, lid(ra)), 2);
    hf_free(x);
}

static void test_mcast_state_v4(void **state)
{
    (void)state;
    mcast_state_case(false);
}

static void test_mcast_state_v6(void **state)
{
    (void)state;
    mcast_state_case(true);
}

/* Broadcast state likewise, and it admits inbound multicast/broadcast too;
 * an ICMP echo to a group admits the echo replies of any member. */
static void test_bcast_state(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    block_filter(x, "block-in", "ALE_AUTH_RECV_ACCEPT_V4", NULL, 0);
    /* EVIDENCE: C37 — broadcast state; inbound unicast, multicast and broadcast admitted */
    o = run(x, 1 * SEC, mk(x, "udp", "10.0.0.2", 50001, "255.255.255.255", 67, NULL, 0));
    assert_true(o->permitted);
    assert_int_equal(obs_val(obs_at(x, "ALE_AUTH_CONNECT_V4"), "IP_DESTINATION_ADDRESS_TYPE")->v.u8,
                     4 /* NlatBroadcast */);
    o = run(x, 2 * SEC, mk(x, "udp", "10.0.0.1", 68, "255.255.255.255", 50001, NULL, 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    o = run(x, 3 * SEC, mk(x, "udp", "10.0.0.1", 68, "224.0.0.9", 50001, NULL, 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    o = run(x, 4 * SEC, mk(x, "udp", "10.0.0.1", 68, "10.0.0.2", 50001, NULL, 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    assert_true(o->permitted);
    /* ICMP: the echo id and code key the state */
    o = run(x, 5 * SEC, mk(x, "icmp", "10.0.0.2", 8, "224.0.0.1", 0, NULL, 8));
    assert_true(o->permitted);
    o = run(x, 6 * SEC, mk(x, "icmp", "10.0.0.9", 0, "10.0.0.2", 0, NULL, 8));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    x->icmp_id = 8;
    o = run(x, 6 * SEC, mk(x, "icmp", "10.0.0.9", 0, "10.0.0.2", 0, NULL, 8));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_AUTH_RECV_ACCEPT_DISCARD");
}

/* Inbound multicast/broadcast with no outbound state: every datagram is
 * classified at RECV_ACCEPT (one global flow reauthorized per packet), no
 * per-peer flow; the response to it is authorized at AUTH_CONNECT and gets
 * its own flow. */
static void inbound_mcast_case(bool v6)
{
    hf *x = hf_new("A", ADDRS, 2);
    const char *me = v6 ? "2001:db8::2" : "10.0.0.2";
    const char *group = v6 ? "ff02::fb" : "224.0.0.251";
    const char *peer = v6 ? "2001:db8::7" : "10.0.0.7";
    const char *ra = v6 ? "ALE_AUTH_RECV_ACCEPT_V6" : "ALE_AUTH_RECV_ACCEPT_V4";
    const wfp_packet_outcome *o;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    /* EVIDENCE: C37 — W32 ale-multicast-broadcast-traffic: inbound mcast/bcast, one global flow */
    for (int i = 0; i < 2; i++) {
        o = run(x, (uint64_t)(1 + i) * SEC, mk(x, "udp", peer, 5353, group, 53, NULL, 0));
        expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,DATAGRAM_DATA");
        assert_true(o->permitted);
        assert_int_equal(o->flow_id, 0);
        {
            const obs_call *r = obs_at(x, ra);
            assert_int_equal(obs_val(r, "IP_LOCAL_ADDRESS_TYPE")->v.u8, 3 /* NlatMulticast */);
            assert_true(obs_val(r, "FLAGS")->v.u32 & FWP_CONDITION_FLAG_IS_REAUTHORIZE);
            assert_int_equal(obs_val(r, "REAUTHORIZE_REASON")->v.u32,
                             FWP_CONDITION_REAUTHORIZE_REASON_NEW_INBOUND_MCAST_BCAST_PACKET);
            assert_false(r->present & WFP_METADATA_FLOW_HANDLE);
            assert_int_equal(r->pid, 500);
            /* the transport layer asks for ALE */
            assert_true(obs_at(x, v6 ? "INBOUND_TRANSPORT_V6" : "INBOUND_TRANSPORT_V4")->present &
                        WFP_METADATA_ALE_CLASSIFY_REQUIRED);
        }
    }
    assert_int_equal(wfp_host_flow_count(x->h), 0);
    /* the response: AUTH_CONNECT, its own flow */
    o = run(x, 3 * SEC, mk(x, "udp", me, 53, peer, 5353, NULL, 0));
    expect_layers(o, v6, "ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,"
                         "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_int_equal(wfp_host_flow_count(x->h), 1);
    /* a block at RECV_ACCEPT drops the datagram (and is indicated at the discard twin) */
    block_filter(x, "block-in", ra, NULL, 0);
    o = run(x, 4 * SEC, mk(x, "udp", peer, 5353, group, 53, NULL, 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_AUTH_RECV_ACCEPT_DISCARD");
    assert_false(o->permitted);
    if (!v6) {
        o = run(x, 5 * SEC, mk(x, "udp", peer, 5353, "255.255.255.255", 53, NULL, 0));
        assert_false(o->permitted);
        assert_int_equal(obs_val(obs_at(x, ra), "IP_LOCAL_ADDRESS_TYPE")->v.u8, 4 /* NlatBroadcast */);
    }
    hf_free(x);
}

static void test_inbound_mcast_v4(void **state)
{
    (void)state;
    inbound_mcast_case(false);
}

static void test_inbound_mcast_v6(void **state)
{
    (void)state;
    inbound_mcast_case(true);
}

/* ---- ICMP ------------------------------------------------------------------ */

static void icmp_case(bool v6)
{
    hf *x = hf_new("A", ADDRS, 2);
    const char *me = v6 ? "2001:db8::2" : "10.0.0.2";
    const char *peer = v6 ? "2001:db8::5" : "10.0.0.5";
    uint8_t req = v6 ? 128 : 8, rep = v6 ? 129 : 0;
    const wfp_packet_outcome *o;
    /* EVIDENCE: PATH-ICMP-ECHO — spec §6.6 (UDP pattern; type/code in the port fields; flow per
     * (type, code, id)) */
    o = run(x, 1, mk(x, "icmp", me, req, peer, 0, NULL, 8));
    expect_layers(o, v6, "ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,"
                         "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    {
        const obs_call *ac = obs_at(x, v6 ? "ALE_AUTH_CONNECT_V6" : "ALE_AUTH_CONNECT_V4");
        assert_int_equal(obs_val(ac, "ICMP_TYPE")->v.u16, req);
        assert_int_equal(obs_val(ac, "ICMP_CODE")->v.u16, 0);
        assert_int_equal(ac->pid, 4242);
    }
    o = run(x, 2, mk(x, "icmp", peer, rep, me, 0, NULL, 8));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    /* an inbound echo request (another id: another flow): the System process answers */
    x->icmp_id = 99;
    o = run(x, 3, mk(x, "icmp", peer, req, me, 0, NULL, 8));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA");
    assert_int_equal(obs_at(x, v6 ? "ALE_AUTH_RECV_ACCEPT_V6" : "ALE_AUTH_RECV_ACCEPT_V4")->pid, WFP_HOST_SYSTEM_PID);
    o = run(x, 4, mk(x, "icmp", me, rep, peer, 0, NULL, 8));
    expect_layers(o, v6, "DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    hf_free(x);
}

static void test_icmp_echo_v4(void **state)
{
    (void)state;
    icmp_case(false);
}

static void test_icmp_echo_v6(void **state)
{
    (void)state;
    icmp_case(true);
}

/* An inbound port unreachable quoting a datagram this host sent. */
static void test_icmp_error_in(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    /* build the quoted datagram, then the ICMP error around it */
    const wfp_packet *inner = mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 4);
    uint8_t quoted[64];
    size_t qn = inner->cap_len < 28 ? inner->cap_len : 28;
    wfp_packet_spec s;
    uint8_t buf[256];
    size_t n;
    memcpy(quoted, inner->data, qn);
    wfp_packet_spec_init(&s);
    s.ip_version = 4;
    addr_of("10.0.0.5", s.src);
    addr_of("10.0.0.2", s.dst);
    s.protocol = WFP_IPPROTO_ICMP;
    s.icmp_type = 3;
    s.icmp_code = 3;
    s.payload = quoted;
    s.payload_len = qn;
    n = wfp_packet_build(&s, buf, sizeof buf);
    assert_true(n > 0);
    /* EVIDENCE: PATH-ICMP-ECHO — spec §6.6: inbound ICMP error INBOUND_IPPACKET → INBOUND_ICMP_ERROR
     * with the EMBEDDED_* fields; never ALE */
    o = run(x, 1, parse_raw(x, buf, n));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_ICMP_ERROR");
    {
        const obs_call *e = obs_at(x, "INBOUND_ICMP_ERROR_V4");
        assert_int_equal(obs_val(e, "EMBEDDED_PROTOCOL")->v.u8, 17);
        assert_int_equal(obs_val(e, "EMBEDDED_REMOTE_ADDRESS")->v.u32, 0x0a000005u);
        assert_int_equal(obs_val(e, "EMBEDDED_LOCAL_PORT")->v.u16, 50000);
        assert_int_equal(obs_val(e, "EMBEDDED_REMOTE_PORT")->v.u16, 53);
        assert_int_equal(obs_val(e, "ICMP_TYPE")->v.u16, 3);
        assert_int_equal(obs_val(e, "ICMP_CODE")->v.u16, 3);
    }
    assert_true(o->permitted);
}

/* ---- fragments (§6.7) --------------------------------------------------------- */

static uint16_t csum16(const uint8_t *p, size_t n)
{
    return wfp_checksum_finish(wfp_checksum_add(0, p, n));
}

/* Splits a built IPv4 datagram into fragments of `chunk` payload bytes. */
static size_t frag4(const uint8_t *pkt, size_t n, size_t chunk, uint8_t out[][2000], size_t *lens)
{
    size_t hl = (size_t)(pkt[0] & 0x0f) * 4, off = 0, k = 0, data = n - hl;
    while (off < data) {
        size_t len = data - off > chunk ? chunk : data - off;
        bool more = off + len < data;
        uint8_t *f = out[k];
        memcpy(f, pkt, hl);
        memcpy(f + hl, pkt + hl + off, len);
        f[2] = (uint8_t)((hl + len) >> 8);
        f[3] = (uint8_t)(hl + len);
        f[6] = (uint8_t)((more ? 0x20 : 0) | ((off / 8) >> 8));
        f[7] = (uint8_t)(off / 8);
        f[10] = f[11] = 0;
        uint16_t c = csum16(f, hl);
        f[10] = (uint8_t)(c >> 8);
        f[11] = (uint8_t)c;
        lens[k++] = hl + len;
        off += len;
    }
    return k;
}

/* Splits a built IPv6 datagram (no extension headers) with Fragment headers. */
static size_t frag6(const uint8_t *pkt, size_t n, size_t chunk, uint8_t out[][2000], size_t *lens)
{
    size_t off = 0, k = 0, data = n - 40;
    uint8_t nh = pkt[6];
    while (off < data) {
        size_t len = data - off > chunk ? chunk : data - off;
        bool more = off + len < data;
        uint8_t *f = out[k];
        memcpy(f, pkt, 40);
        f[6] = 44;
        f[4] = (uint8_t)((8 + len) >> 8);
        f[5] = (uint8_t)(8 + len);
        f[40] = nh;
        f[41] = 0;
        f[42] = (uint8_t)((off >> 8) & 0xff);
        f[43] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
        f[44] = 0;
        f[45] = 0;
        f[46] = 0x12;
        f[47] = 0x34;
        memcpy(f + 48, pkt + 40 + off, len);
        lens[k++] = 48 + len;
        off += len;
    }
    return k;
}

static void fragments_case(bool v6)
{
    hf *x = hf_new("B", ADDRS, 2);
    static uint8_t frags[8][2000];
    size_t lens[8], k;
    const wfp_packet *whole;
    size_t ipp = 0, fragflag = 0, reasm = 0;
    wfp_host_start(x->h, 0, NULL);
    whole = mk(x, "udp", v6 ? "2001:db8::5" : "10.0.0.5", 40000, v6 ? "2001:db8::2" : "10.0.0.2", 53, NULL, 3000);
    k = v6 ? frag6(whole->data, whole->cap_len, 800, frags, lens)
           : frag4(whole->data, whole->cap_len, 800, frags, lens);
    assert_int_equal(k, 4);
    /* EVIDENCE: PATH-FRAGMENTS — spec §6.7: 4 fragments ⇒ 4 + 4 + 1 = 9 classifications at
     * INBOUND_IPPACKET; TRANSPORT and above see only the reassembled datagram */
    for (size_t i = 0; i < k; i++) {
        const wfp_packet_outcome *o = run(x, 10 + i, parse_raw(x, frags[i], lens[i]));
        for (size_t j = 0; j < o->num_calls; j++) {
            if (o->calls[j].layer_id != fx_layer(v6 ? "INBOUND_IPPACKET_V6" : "INBOUND_IPPACKET_V4")->id)
                continue;
            ipp++;
            fragflag += o->calls[j].item == WFP_HOST_ITEM_FRAGMENT;
            reasm += o->calls[j].item == WFP_HOST_ITEM_REASSEMBLED;
            {
                uint32_t fl = obs_val(&x->obs[j], "FLAGS")->v.u32;
                if (o->calls[j].item == WFP_HOST_ITEM_FRAGMENT)
                    assert_int_equal(fl, FWP_CONDITION_FLAG_IS_FRAGMENT);
                else if (o->calls[j].item == WFP_HOST_ITEM_REASSEMBLED)
                    assert_int_equal(fl, FWP_CONDITION_FLAG_IS_REASSEMBLED);
                else
                    assert_int_equal(fl, 0);
            }
        }
        if (i + 1 < k) {
            expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_IPPACKET");
            assert_true(o->held);
        } else {
            expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_IPPACKET,INBOUND_IPPACKET,INBOUND_TRANSPORT,"
                                 "ALE_AUTH_RECV_ACCEPT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA");
            assert_false(o->held);
            assert_true(o->permitted);
        }
    }
    assert_int_equal(ipp, 9);
    assert_int_equal(fragflag, 4);
    assert_int_equal(reasm, 1);
    hf_free(x);
}

static void test_fragments_v4(void **state)
{
    (void)state;
    fragments_case(false);
}

static void test_fragments_v6(void **state)
{
    (void)state;
    fragments_case(true);
}

/* A blocked fragment never completes its datagram. */
static void test_fragment_blocked(void **state)
{
    hf *x = *state;
    static uint8_t frags[8][2000];
    size_t lens[8], k;
    const wfp_packet_outcome *o;
    wfp_condition c = fx_cond_u("FLAGS", FWP_MATCH_FLAGS_ALL_SET, FWP_UINT32, FWP_CONDITION_FLAG_IS_FRAGMENT);
    const wfp_packet *whole = mk(x, "udp", "10.0.0.5", 40000, "10.0.0.2", 53, NULL, 1500);
    block_filter(x, "no-frag", "INBOUND_IPPACKET_V4", &c, 1);
    k = frag4(whole->data, whole->cap_len, 800, frags, lens);
    assert_int_equal(k, 2);
    o = run(x, 1, parse_raw(x, frags[0], lens[0]));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_IPPACKET,INBOUND_IPPACKET_DISCARD");
    assert_false(o->permitted);
    o = run(x, 2, parse_raw(x, frags[1], lens[1]));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_IPPACKET,INBOUND_IPPACKET_DISCARD");
}

/* ---- loopback (§6.9) ------------------------------------------------------------ */

static void test_loopback(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    /* EVIDENCE: PATH-LOOPBACK — spec §6.9: the sending path then the receiving path, IS_LOOPBACK */
    o = run(x, 1, mk(x, "tcp", "127.0.0.1", 50000, "127.0.0.1", 80, "S", 0));
    expect_layers(o, false, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                            "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET,INBOUND_IPPACKET,INBOUND_TRANSPORT,"
                            "ALE_AUTH_RECV_ACCEPT");
    assert_int_equal(o->path, WFP_HOST_PATH_LOOPBACK);
    for (size_t i = 2; i < o->num_calls; i++) {
        assert_true(o->calls[i].loopback);
        assert_true(obs_val(&x->obs[i], "FLAGS")->v.u32 & FWP_CONDITION_FLAG_IS_LOOPBACK);
    }
    assert_int_equal(obs_val(&x->obs[6], "INTERFACE_TYPE")->v.u32, WFP_IF_TYPE_LOOPBACK);
    assert_int_equal(obs_at(x, "ALE_AUTH_CONNECT_V4")->pid, 4242);
    assert_int_equal(obs_at(x, "ALE_AUTH_RECV_ACCEPT_V4")->pid, 500);
    /* SYN-ACK: server's flow outbound, client's flow inbound (FLOW_ESTABLISHED at the client) */
    o = run(x, 2, mk(x, "tcp", "127.0.0.1", 80, "127.0.0.1", 50000, "SA", 0));
    expect_layers(o, false, "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET,INBOUND_IPPACKET,INBOUND_TRANSPORT,"
                            "ALE_FLOW_ESTABLISHED");
    o = run(x, 3, mk(x, "tcp", "127.0.0.1", 50000, "127.0.0.1", 80, "A", 0));
    expect_layers(o, false, "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET,INBOUND_IPPACKET,INBOUND_TRANSPORT,"
                            "ALE_FLOW_ESTABLISHED");
    assert_int_equal(wfp_host_flow_count(x->h), 2);
    /* v6 loopback, a host address to itself */
    o = run(x, 4, mk(x, "udp", "2001:db8::2", 50001, "2001:db8::2", 53, NULL, 4));
    expect_layers(o, true, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                           "ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET,"
                           "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_FLOW_ESTABLISHED,"
                           "DATAGRAM_DATA");
}

/* ---- ALE state (§5.3, §5.4) ---------------------------------------------------- */

/* C32 */
static void test_stateful_return(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    wfp_condition c[2];
    c[0] = fx_cond_u("IP_PROTOCOL", FWP_MATCH_EQUAL, FWP_UINT8, 6);
    c[1] = fx_cond_u("IP_REMOTE_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 80);
    (void)fx_filter_ex(&x->f, "allow-out", "ALE_AUTH_CONNECT_V4", NULL, FX_AUTO, FWP_ACTION_PERMIT, NULL, 0, c, 2, NULL);
    block_filter(x, "block-in", "ALE_AUTH_RECV_ACCEPT_V4", NULL, 0);
    /* EVIDENCE: ALE-STATEFUL-RETURN C32 — spec §5.3, §12.4 C32: return traffic needs no RECV_ACCEPT */
    o = run(x, 1, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "S", 0));
    assert_true(o->permitted);
    o = run(x, 2, mk(x, "tcp", "10.0.0.5", 80, "10.0.0.2", 50000, "SA", 0));
    assert_true(o->permitted);
    o = run(x, 3, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "A", 0));
    assert_true(o->permitted);
    o = run(x, 4, mk(x, "tcp", "10.0.0.5", 80, "10.0.0.2", 50000, "PA", 50));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,STREAM");
    assert_true(o->permitted);
    assert_int_equal(wfp_host_layer_calls(x->h, fx_layer("ALE_AUTH_RECV_ACCEPT_V4")->id), 0);
    /* an unsolicited inbound connection is blocked */
    o = run(x, 5, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "S", 0));
    assert_false(o->permitted);
    assert_int_equal(o->layer_id, fx_layer("ALE_AUTH_RECV_ACCEPT_V4")->id);
}

static void establish_inbound(hf *x)
{
    assert_true(run(x, 1, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "S", 0))->permitted);
    assert_true(run(x, 2, mk(x, "tcp", "10.0.0.2", 80, "10.0.0.5", 40000, "SA", 0))->permitted);
    assert_true(run(x, 3, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "A", 0))->permitted);
}

/* C34 */
static void test_reauth_block(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    wfp_condition c = fx_cond_u("IP_LOCAL_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 80);
    uint64_t id;
    establish_inbound(x);
    id = fx_filter_ex(&x->f, "block-80", "ALE_AUTH_RECV_ACCEPT_V4", NULL, FX_AUTO, FWP_ACTION_BLOCK, NULL, 0,
                      &c, 1, NULL);
    wfp_host_policy_changed(x->h, 4);
    /* EVIDENCE: ALE-REAUTH C34 — spec §5.4, §6.4 "Failure", §12.4 C34 */
    o = run(x, 5, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "PA", 10));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_AUTH_RECV_ACCEPT_DISCARD");
    assert_false(o->permitted);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_REAUTH);
    assert_int_equal(o->filter_id, id);
    assert_true(o->calls[2].reauth);
    {
        const obs_call *r = &x->obs[2];
        assert_true(obs_val(r, "FLAGS")->v.u32 & FWP_CONDITION_FLAG_IS_REAUTHORIZE);
        assert_int_equal(obs_val(r, "REAUTHORIZE_REASON")->v.u32, FWP_CONDITION_REAUTHORIZE_REASON_POLICY_CHANGE);
        assert_int_equal(obs_val(r, "IP_NEXTHOP_INTERFACE")->type, FWP_EMPTY);
        assert_int_equal(obs_val(r, "IP_ARRIVAL_INTERFACE")->type, FWP_UINT64);
    }
    assert_int_equal(wfp_host_flow_count(x->h), 0); /* torn down */
    {
        wfp_host_stats st;
        wfp_host_get_stats(x->h, &st);
        assert_int_equal(st.reauthorizations, 1);
        assert_int_equal(st.reauth_blocked, 1);
    }
}

/* C34: an outbound packet reauthorized at RECV_ACCEPT has the arrival-interface fields EMPTY. */
static void test_reauth_outbound(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    wfp_condition c = fx_cond_u("IP_ARRIVAL_INTERFACE", FWP_MATCH_EQUAL, FWP_UINT64, 0);
    establish_inbound(x);
    c.value.type = FWP_EMPTY;
    c.value.u.value.type = FWP_EMPTY;
    block_filter(x, "kill-on-reauth", "ALE_AUTH_RECV_ACCEPT_V4", &c, 1);
    wfp_host_policy_changed(x->h, 4);
    /* EVIDENCE: ALE-REAUTH — spec §5.4: first packet in either direction goes to the creating layer */
    o = run(x, 5, mk(x, "tcp", "10.0.0.2", 80, "10.0.0.5", 40000, "PA", 10));
    expect_layers(o, false, "ALE_AUTH_RECV_ACCEPT,ALE_AUTH_RECV_ACCEPT_DISCARD");
    assert_int_equal(obs_val(&x->obs[0], "IP_ARRIVAL_INTERFACE")->type, FWP_EMPTY);
    assert_int_equal(x->obs[0].direction, FWP_DIRECTION_OUTBOUND);
    assert_false(o->permitted);
}

/* C35 */
static void test_reauth_permit(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    wfp_condition c = fx_cond_u("IP_LOCAL_PORT", FWP_MATCH_EQUAL, FWP_UINT16, 8080);
    establish_inbound(x);
    block_filter(x, "block-8080", "ALE_AUTH_RECV_ACCEPT_V4", &c, 1);
    wfp_host_policy_changed(x->h, 4);
    /* EVIDENCE: ALE-REAUTH C35 — spec §6.4 "Success", §12.4 C35 */
    o = run(x, 5, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "PA", 10));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,STREAM");
    assert_true(o->permitted);
    /* only the first packet */
    o = run(x, 6, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "PA", 10));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,STREAM");
    /* a UDP flow created by AUTH_CONNECT is reauthorized there (§6.5) */
    o = run(x, 7, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 4));
    assert_true(o->permitted);
    wfp_host_policy_changed(x->h, 8);
    o = run(x, 9, mk(x, "udp", "10.0.0.5", 53, "10.0.0.2", 50000, NULL, 4));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_CONNECT,DATAGRAM_DATA");
    assert_true(o->calls[2].reauth);
    assert_int_equal(o->calls[2].direction, FWP_DIRECTION_INBOUND);
}

/* ---- policy through values, bind/listen blocks, stats -------------------------- */

static void test_app_condition(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    wfp_condition c;
    uint8_t *blob;
    uint32_t len;
    assert_true(wfp_app_id_from_path(wfp_allocator_default(), "C:\\Program Files\\App\\app.exe", NULL, &blob, &len));
    memset(&c, 0, sizeof c);
    c.field_key = wfp_catalog_condition_by_name("ALE_APP_ID")->key;
    c.match_type = FWP_MATCH_EQUAL;
    c.value.type = FWP_BYTE_BLOB_TYPE;
    c.value.u.value.type = FWP_BYTE_BLOB_TYPE;
    c.value.u.value.v.blob.data = blob;
    c.value.u.value.v.blob.size = len;
    block_filter(x, "block-app", "ALE_AUTH_CONNECT_V4", &c, 1);
    free(blob);
    o = run(x, 1, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 443, "S", 0));
    expect_layers(o, false, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                            "ALE_AUTH_CONNECT_DISCARD");
    assert_false(o->permitted);
    /* another owner (System: a port no socket config covers) passes */
    o = run(x, 2, mk(x, "tcp", "10.0.0.2", 1234, "10.0.0.5", 443, "S", 0));
    assert_true(o->permitted);
    {
        wfp_host_stats st;
        wfp_host_get_stats(x->h, &st);
        assert_int_equal(st.packets, 2);
        assert_int_equal(st.blocked, 1);
        assert_int_equal(st.permitted, 1);
        assert_int_equal(wfp_host_filter_stat_count(x->h), 1);
        assert_int_equal(wfp_host_filter_stat_at(x->h, 0)->blocks, 1);
    }
}

static void test_listen_blocked(void **state)
{
    hf *x = hf_new("B", ADDRS, 1);
    const wfp_packet_outcome *o;
    (void)state;
    block_filter(x, "no-listen", "ALE_AUTH_LISTEN_V4", NULL, 0);
    assert_int_equal(wfp_host_start(x->h, 0, &x->out), 0);
    assert_false(x->out.permitted);
    assert_int_equal(x->out.discard, WFP_HOST_DISCARD_LISTEN_BLOCKED);
    assert_int_equal(x->out.layer_id, fx_layer("ALE_AUTH_LISTEN_V4")->id);
    /* the socket does not listen: a SYN finds no listener */
    o = run(x, 1, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "S", 0));
    assert_int_equal(o->discard, WFP_HOST_DISCARD_NO_LISTENER);
    hf_free(x);
}

static void test_not_local_and_absorb(void **state)
{
    hf *x = *state;
    const wfp_packet_outcome *o;
    o = run(x, 1, mk(x, "udp", "10.0.0.7", 1, "10.0.0.8", 2, NULL, 0));
    assert_int_equal(o->path, WFP_HOST_PATH_FORWARD);
    assert_int_equal(o->num_calls, 0);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_NOT_LOCAL);
    /* an absorbing callout: dropped without a discard-layer indication */
    {
        static fx_script s = {FWP_ACTION_BLOCK, true, FWPS_CLASSIFY_OUT_FLAG_ABSORB, 0, 0, 0};
        wfp_guid k = fx_callout(&x->f, "absorber", "INBOUND_IPPACKET_V4");
        fx_register(&x->f, &k, &s);
        (void)fx_filter_ex(&x->f, "absorb", "INBOUND_IPPACKET_V4", NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING,
                           &k, 0, NULL, 0, NULL);
    }
    o = run(x, 2, mk(x, "udp", "10.0.0.5", 1, "10.0.0.2", 53, NULL, 0));
    expect_layers(o, false, "INBOUND_IPPACKET");
    assert_true(o->absorbed);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_ABSORBED);
}

/* Many flows: the table grows, expires, compacts, and stays in id order. */
static void test_flow_table_stress(void **state)
{
    hf *x = *state;
    wfp_host_flow_info fi, prev;
    wfp_host_stats st;
    for (int i = 0; i < 3000; i++) {
        const wfp_packet *p = mk(x, "udp", "10.0.0.2", (uint16_t)(50000 + i % 1000), "10.0.0.5",
                                 (uint16_t)(1000 + i / 1000), NULL, 0);
        assert_true(run(x, (uint64_t)i * 1000, p)->permitted);
    }
    assert_int_equal(wfp_host_flow_count(x->h), 3000);
    /* refresh a third of them at 50 s; the rest expire at 61 s */
    for (int i = 0; i < 3000; i += 3) {
        const wfp_packet *p = mk(x, "udp", "10.0.0.5", (uint16_t)(1000 + i / 1000), "10.0.0.2",
                                 (uint16_t)(50000 + i % 1000), NULL, 0);
        const wfp_packet_outcome *o = run(x, 50 * SEC, p);
        expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    }
    wfp_host_expire(x->h, 61 * SEC);
    assert_int_equal(wfp_host_flow_count(x->h), 1000);
    for (size_t i = 0; i < 1000; i++) {
        assert_true(wfp_host_flow_at(x->h, i, &fi));
        if (i)
            assert_true(fi.id > prev.id);
        assert_int_equal(fi.direction, FWP_DIRECTION_OUTBOUND);
        assert_int_equal(fi.pid, 4242);
        prev = fi;
    }
    assert_false(wfp_host_flow_at(x->h, 1000, &fi));
    wfp_host_get_stats(x->h, &st);
    assert_int_equal(st.flows_created, 3000);
    assert_int_equal(st.flows_expired, 2000);
    /* every survivor is still found (no ALE classify) */
    for (int i = 0; i < 3000; i += 3) {
        const wfp_packet *p = mk(x, "udp", "10.0.0.2", (uint16_t)(50000 + i % 1000), "10.0.0.5",
                                 (uint16_t)(1000 + i / 1000), NULL, 0);
        const wfp_packet_outcome *o = run(x, 62 * SEC, p);
        expect_layers(o, false, "DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    }
    wfp_host_expire(x->h, 200 * SEC);
    assert_int_equal(wfp_host_flow_count(x->h), 0);
}

/* ---- closure: ENDPOINT_CLOSURE, RESOURCE_RELEASE ------------------------------ */

static void tweak_closure(wfp_host_config *cfg)
{
    cfg->closure_events = true;
}

static void closure_tcp_case(bool v6)
{
    hf *x = hf_new_ex("A", ADDRS, 2, tweak_closure);
    const char *me = v6 ? "2001:db8::2" : "10.0.0.2";
    const char *peer = v6 ? "2001:db8::5" : "10.0.0.5";
    const wfp_packet_outcome *o;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    (void)run(x, 1, mk(x, "tcp", me, 50000, peer, 80, "S", 0));
    (void)run(x, 2, mk(x, "tcp", peer, 80, me, 50000, "SA", 0));
    (void)run(x, 3, mk(x, "tcp", me, 50000, peer, 80, "A", 0));
    o = run(x, 4, mk(x, "tcp", me, 50000, peer, 80, "FA", 0));
    expect_layers(o, v6, "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    /* EVIDENCE: PATH-ENDPOINT-CLOSURE — spec §5.2 (connected TCP flow closed: one ENDPOINT_CLOSURE
     * per AUTH_CONNECT indication) */
    /* EVIDENCE: PATH-RESOURCE-RELEASE — spec §5.2 (one RESOURCE_RELEASE per RESOURCE_ASSIGNMENT; the
     * connect's implicit bind) */
    o = run(x, 5, mk(x, "tcp", peer, 80, me, 50000, "FA", 0));
    expect_layers(o, v6, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_ENDPOINT_CLOSURE,ALE_RESOURCE_RELEASE");
    assert_true(o->permitted);
    assert_int_equal(o->layer_id, fx_layer(v6 ? "INBOUND_TRANSPORT_V6" : "INBOUND_TRANSPORT_V4")->id);
    assert_int_equal(o->calls[2].item, WFP_HOST_ITEM_CLOSURE);
    assert_int_equal(o->calls[3].item, WFP_HOST_ITEM_CLOSURE);
    {
        const obs_call *ec = obs_at(x, v6 ? "ALE_ENDPOINT_CLOSURE_V6" : "ALE_ENDPOINT_CLOSURE_V4");
        const obs_call *rr = obs_at(x, v6 ? "ALE_RESOURCE_RELEASE_V6" : "ALE_RESOURCE_RELEASE_V4");
        assert_int_equal(obs_val(ec, "IP_LOCAL_PORT")->v.u16, 50000);
        assert_int_equal(obs_val(ec, "IP_REMOTE_PORT")->v.u16, 80);
        assert_int_equal(obs_val(ec, "IP_PROTOCOL")->v.u8, WFP_IPPROTO_TCP);
        assert_int_equal(ec->pid, 4242);
        assert_true(ec->present & WFP_METADATA_FLOW_HANDLE);
        assert_int_equal(obs_val(rr, "IP_LOCAL_ADDRESS")->type, FWP_EMPTY); /* as assigned (wildcard) */
        assert_int_equal(obs_val(rr, "IP_LOCAL_PORT")->v.u16, 50000);
        assert_int_equal(rr->pid, 4242);
    }
    /* once per flow: the last ACK and the TIME_WAIT expiry add nothing */
    o = run(x, 6, mk(x, "tcp", me, 50000, peer, 80, "A", 0));
    expect_layers(o, v6, "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    x->nobs = 0;
    wfp_host_expire(x->h, 200 * SEC);
    assert_int_equal(x->nobs, 0);
    assert_int_equal(wfp_host_flow_count(x->h), 0);
    hf_free(x);
}

static void test_closure_tcp_v4(void **state)
{
    (void)state;
    closure_tcp_case(false);
}

static void test_closure_tcp_v6(void **state)
{
    (void)state;
    closure_tcp_case(true);
}

/* A RST ends an accepted connection: ENDPOINT_CLOSURE, no release (accept binds nothing). */
static void test_closure_tcp_rst(void **state)
{
    hf *x = hf_new_ex("B", ADDRS, 2, tweak_closure);
    const wfp_packet_outcome *o;
    (void)state;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    (void)run(x, 1, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "S", 0));
    (void)run(x, 2, mk(x, "tcp", "10.0.0.2", 80, "10.0.0.5", 40000, "SA", 0));
    (void)run(x, 3, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "A", 0));
    /* EVIDENCE: PATH-ENDPOINT-CLOSURE — spec §5.2 (one per RECV_ACCEPT indication) */
    o = run(x, 4, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "R", 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_ENDPOINT_CLOSURE");
    assert_int_equal(obs_at(x, "ALE_ENDPOINT_CLOSURE_V4")->pid, 500);
    assert_int_equal(wfp_host_flow_count(x->h), 0);
    hf_free(x);
}

/* A client UDP port is released when its last flow expires; the next send binds again. */
static void test_closure_udp_release(void **state)
{
    hf *x = hf_new_ex("A", ADDRS, 2, tweak_closure);
    const wfp_packet_outcome *o;
    (void)state;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    o = run(x, 1 * SEC, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    expect_layers(o, false, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                            "ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    (void)run(x, 30 * SEC, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.6", 53, NULL, 0));
    /* the first peer's flow expires; the port still has a flow: nothing */
    x->nobs = 0;
    wfp_host_expire(x->h, 61 * SEC);
    assert_int_equal(x->nobs, 0);
    assert_int_equal(wfp_host_flow_count(x->h), 1);
    /* EVIDENCE: PATH-RESOURCE-RELEASE — spec §5.2 (non-TCP socket closed: ENDPOINT_CLOSURE once per
     * endpoint, then the release of its assignment) */
    x->nobs = 0;
    wfp_host_expire(x->h, 90 * SEC);
    assert_int_equal(x->nobs, 2);
    assert_int_equal(x->obs[0].layer, fx_layer("ALE_ENDPOINT_CLOSURE_V4")->id);
    assert_int_equal(x->obs[1].layer, fx_layer("ALE_RESOURCE_RELEASE_V4")->id);
    assert_int_equal(x->obs[0].item, WFP_HOST_ITEM_CLOSURE);
    assert_int_equal(obs_val(&x->obs[1], "IP_LOCAL_PORT")->v.u16, 50000);
    assert_int_equal(x->obs[1].pid, 4242);
    /* unbound: the next send binds again; lazily expired flows close before the packet */
    o = run(x, 100 * SEC, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    expect_layers(o, false, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                            "ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    o = run(x, 200 * SEC, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    expect_layers(o, false, "ALE_ENDPOINT_CLOSURE,ALE_RESOURCE_RELEASE,ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,"
                            "ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA,"
                            "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_true(o->permitted);
    assert_int_equal(o->layer_id, fx_layer("OUTBOUND_IPPACKET_V4")->id);
    hf_free(x);
}

/* ---- flow contexts (C16) ------------------------------------------------------ */

typedef struct ctx_callout {
    wfp_host *h;
    uint32_t action;         /* written when invoked; 0: leave it */
    int calls;
    uint64_t seen_ctx;
    /* associate a context for (assoc_layer, assoc_callout) on the classify's flow */
    bool associate;
    uint16_t assoc_layer;
    uint32_t assoc_callout;
    int deletes;
    uint16_t del_layer;
    uint32_t del_callout;
    uint64_t del_ctx;
} ctx_callout;

static void ctx_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                         void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                         wfp_classify_out *out)
{
    ctx_callout *c = ctx;
    (void)in;
    (void)layer_data;
    (void)filter;
    c->calls++;
    c->seen_ctx = flow_context;
    if (c->associate) {
        assert_true(meta->present & WFP_METADATA_FLOW_HANDLE);
        assert_int_equal(wfp_host_flow_associate_context(c->h, meta->flow_handle, c->assoc_layer,
                                                         c->assoc_callout, 0xC0FFEE),
                         0);
    }
    if (c->action)
        out->action_type = c->action;
}

static void ctx_flow_delete(void *ctx, uint16_t layer_id, uint32_t callout_id, uint64_t flow_context)
{
    ctx_callout *c = ctx;
    c->deletes++;
    c->del_layer = layer_id;
    c->del_callout = callout_id;
    c->del_ctx = flow_context;
}

static uint32_t ctx_register(hf *x, const wfp_guid *key, uint32_t flags, ctx_callout *c)
{
    wfp_callout_registration r;
    uint32_t id = 0;
    memset(&r, 0, sizeof r);
    r.callout_key = *key;
    r.flags = flags;
    r.classify = ctx_classify;
    r.flow_delete = ctx_flow_delete;
    r.ctx = c;
    c->h = x->h;
    assert_int_equal(wfp_host_callout_register(x->h, &r, &id), 0);
    return id;
}

/* an accepted connection on port 80; returns its flow id */
static uint64_t accept_conn(hf *x, uint16_t sport)
{
    const wfp_packet_outcome *o = run(x, 1, mk(x, "tcp", "10.0.0.5", sport, "10.0.0.2", 80, "S", 0));
    uint64_t flow = o->flow_id;
    assert_true(flow != 0);
    (void)run(x, 2, mk(x, "tcp", "10.0.0.2", 80, "10.0.0.5", sport, "SA", 0));
    (void)run(x, 3, mk(x, "tcp", "10.0.0.5", sport, "10.0.0.2", 80, "A", 0));
    return flow;
}

static void test_flow_context_conditional(void **state)
{
    hf *x = *state;
    ctx_callout cc;
    const wfp_packet_outcome *o;
    wfp_guid key = fx_callout(&x->f, "ctx", "STREAM_V4");
    uint16_t stream = fx_layer("STREAM_V4")->id;
    uint32_t id;
    uint64_t flow;
    memset(&cc, 0, sizeof cc);
    cc.action = FWP_ACTION_BLOCK;
    id = ctx_register(x, &key, FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW, &cc);
    (void)fx_callout_filter(&x->f, "ctx-filter", "STREAM_V4", NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &key, 0);
    flow = accept_conn(x, 40000);
    /* EVIDENCE: ALE-FLOW-CONTEXT — spec §1.7 (CONDITIONAL_ON_FLOW: classifyFn only for flows the callout
     * associated a context with) */
    o = run(x, 4, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "PA", 10));
    assert_true(o->permitted);
    assert_int_equal(cc.calls, 0);
    assert_int_equal(wfp_host_flow_associate_context(x->h, flow, stream, id, 77), 0);
    assert_int_equal(wfp_host_flow_associate_context(x->h, flow, stream, id, 78), FWP_E_ALREADY_EXISTS);
    assert_int_equal(wfp_host_flow_associate_context(x->h, flow + 100, stream, id, 78), FWP_E_NOT_FOUND);
    assert_int_equal(wfp_host_flow_associate_context(x->h, flow, stream, id + 100, 78), FWP_E_CALLOUT_NOT_FOUND);
    o = run(x, 5, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "PA", 10));
    assert_false(o->permitted);
    assert_int_equal(o->layer_id, stream);
    assert_int_equal(cc.calls, 1);
    assert_int_equal(cc.seen_ctx, 77);
    /* EVIDENCE: C16 — DDI FwpsCalloutUnregisterById0: STATUS_DEVICE_BUSY (FWP_E_IN_USE here) while a flow
     * holds a context; after FwpsFlowRemoveContext0 the retry succeeds; its TERMINATING filters then block */
    assert_int_equal(wfp_host_callout_unregister(x->h, &key), FWP_E_IN_USE);
    assert_true(wfp_callout_is_registered(x->f.e, &key));
    assert_int_equal(wfp_host_flow_remove_context(x->h, flow, stream, id), 0);
    assert_int_equal(wfp_host_flow_remove_context(x->h, flow, stream, id), FWP_E_NOT_FOUND);
    o = run(x, 6, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "PA", 10));
    assert_true(o->permitted);
    assert_int_equal(cc.calls, 1);
    assert_int_equal(wfp_host_callout_unregister(x->h, &key), 0);
    assert_false(wfp_callout_is_registered(x->f.e, &key));
    o = run(x, 7, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "PA", 10));
    assert_false(o->permitted);
    assert_int_equal(o->reason, WFP_REASON_UNREGISTERED_CALLOUT_BLOCK);
    assert_int_equal(cc.deletes, 0); /* removed by the driver: no flowDeleteFn */
    assert_int_equal(wfp_host_callout_unregister(x->h, &key), FWP_E_CALLOUT_NOT_FOUND);
}

/* A callout at FLOW_ESTABLISHED associates a STREAM context from its classifyFn; the flow's end
 * calls the STREAM callout's flowDeleteFn. */
static void test_flow_context_delete(void **state)
{
    hf *x = *state;
    ctx_callout est, strm;
    const wfp_packet_outcome *o;
    wfp_guid kest = fx_callout(&x->f, "est", "ALE_FLOW_ESTABLISHED_V4");
    wfp_guid kstrm = fx_callout(&x->f, "strm", "STREAM_V4");
    uint16_t stream = fx_layer("STREAM_V4")->id;
    uint32_t sid;
    memset(&est, 0, sizeof est);
    memset(&strm, 0, sizeof strm);
    (void)ctx_register(x, &kest, 0, &est);
    sid = ctx_register(x, &kstrm, FWP_CALLOUT_FLAG_CONDITIONAL_ON_FLOW, &strm);
    est.associate = true;
    est.assoc_layer = stream;
    est.assoc_callout = sid;
    (void)fx_callout_filter(&x->f, "est-f", "ALE_FLOW_ESTABLISHED_V4", NULL, FX_AUTO, FWP_ACTION_CALLOUT_INSPECTION,
                            &kest, 0);
    (void)fx_callout_filter(&x->f, "strm-f", "STREAM_V4", NULL, FX_AUTO, FWP_ACTION_CALLOUT_INSPECTION, &kstrm, 0);
    (void)accept_conn(x, 40001);
    assert_int_equal(est.calls, 1);
    /* EVIDENCE: ALE-FLOW-CONTEXT — spec §1.7 (context associated from a classifyFn via the FLOW_HANDLE
     * metadata; handed to the callout as flowContext) */
    o = run(x, 4, mk(x, "tcp", "10.0.0.5", 40001, "10.0.0.2", 80, "PA", 10));
    assert_true(o->permitted);
    assert_int_equal(strm.calls, 1);
    assert_int_equal(strm.seen_ctx, 0xC0FFEE);
    assert_int_equal(wfp_host_callout_unregister(x->h, &kstrm), FWP_E_IN_USE);
    /* EVIDENCE: ALE-FLOW-CONTEXT — spec §1.7 (flowDeleteFn when the flow ends; the engine removes the
     * association itself) */
    o = run(x, 5, mk(x, "tcp", "10.0.0.5", 40001, "10.0.0.2", 80, "R", 0));
    assert_int_equal(wfp_host_flow_count(x->h), 0);
    assert_int_equal(strm.deletes, 1);
    assert_int_equal(strm.del_layer, stream);
    assert_int_equal(strm.del_callout, sid);
    assert_int_equal(strm.del_ctx, 0xC0FFEE);
    assert_int_equal(est.deletes, 0);
    assert_int_equal(wfp_host_callout_unregister(x->h, &kstrm), 0);
}

/* ---- redirection (§5.5) -------------------------------------------------------- */

typedef struct redir_callout {
    int calls;
    bool bind;           /* a bind request, else a connect request */
    uint8_t addr[16];    /* new remote (connect) or local (bind; all zero: keep) */
    uint16_t port;
} redir_callout;

static void redir_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                           void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                           wfp_classify_out *out)
{
    redir_callout *r = ctx;
    (void)in;
    (void)meta;
    (void)filter;
    (void)flow_context;
    r->calls++;
    assert_non_null(layer_data);
    if (r->bind) {
        wfp_bind_request *br = layer_data;
        br->local_port = r->port;
        br->redirected = true;
    } else {
        wfp_connect_request *cr = layer_data;
        memcpy(cr->remote_address, r->addr, 16);
        cr->remote_port = r->port;
        cr->redirected = true;
    }
    out->action_type = FWP_ACTION_PERMIT;
}

static void redir_setup(hf *x, const char *layer, redir_callout *r)
{
    wfp_guid key = fx_callout(&x->f, "redir", layer);
    wfp_callout_registration reg;
    memset(&reg, 0, sizeof reg);
    reg.callout_key = key;
    reg.classify = redir_classify;
    reg.ctx = r;
    assert_int_equal(wfp_host_callout_register(x->h, &reg, NULL), 0);
    (void)fx_callout_filter(&x->f, "redir-f", layer, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &key, 0);
}

static void test_connect_redirect(void **state)
{
    hf *x = hf_new("A", ADDRS, 2);
    redir_callout r;
    const wfp_packet_outcome *o;
    wfp_host_flow_info fi;
    (void)state;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    memset(&r, 0, sizeof r);
    addr_of("10.0.0.9", r.addr);
    r.port = 8080;
    redir_setup(x, "ALE_CONNECT_REDIRECT_V4", &r);
    /* EVIDENCE: ALE-REDIRECT — spec §5.5 (a CONNECT_REDIRECT callout rewrites the remote of that
     * connection; IS_CONNECTION_REDIRECTED at later layers) */
    o = run(x, 1, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "S", 0));
    expect_layers(o, false, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT,"
                            "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_true(o->permitted);
    assert_int_equal(r.calls, 1);
    {
        const obs_call *cr = obs_at(x, "ALE_CONNECT_REDIRECT_V4");
        const obs_call *ac = obs_at(x, "ALE_AUTH_CONNECT_V4");
        const obs_call *ot = obs_at(x, "OUTBOUND_TRANSPORT_V4");
        assert_int_equal(obs_val(cr, "IP_REMOTE_PORT")->v.u16, 80);
        assert_int_equal(obs_val(ac, "IP_REMOTE_ADDRESS")->v.u32, 0x0a000009u);
        assert_int_equal(obs_val(ac, "IP_REMOTE_PORT")->v.u16, 8080);
        assert_true(obs_val(ac, "FLAGS")->v.u32 & FWP_CONDITION_FLAG_IS_CONNECTION_REDIRECTED);
        assert_int_equal(obs_val(ot, "IP_REMOTE_ADDRESS")->v.u32, 0x0a000009u);
        assert_int_equal(obs_val(ot, "IP_REMOTE_PORT")->v.u16, 8080);
    }
    assert_true(wfp_host_flow_at(x->h, 0, &fi));
    assert_int_equal(fi.remote_port, 8080);
    assert_int_equal(fi.remote_addr[3], 9);
    /* the reply comes from the new remote (wire view) */
    o = run(x, 2, mk(x, "tcp", "10.0.0.9", 8080, "10.0.0.2", 50000, "SA", 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_FLOW_ESTABLISHED");
    assert_true(obs_val(obs_at(x, "ALE_FLOW_ESTABLISHED_V4"), "FLAGS")->v.u32 &
                FWP_CONDITION_FLAG_IS_CONNECTION_REDIRECTED);
    /* the application still addresses the original remote: same flow, rewritten */
    o = run(x, 3, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "A", 0));
    expect_layers(o, false, "OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_int_equal(obs_val(obs_at(x, "OUTBOUND_TRANSPORT_V4"), "IP_REMOTE_PORT")->v.u16, 8080);
    assert_int_equal(wfp_host_flow_count(x->h), 1);
    /* a UDP send is redirected the same way */
    o = run(x, 4, mk(x, "udp", "10.0.0.2", 50001, "10.0.0.5", 53, NULL, 0));
    assert_true(o->permitted);
    assert_int_equal(obs_val(obs_at(x, "DATAGRAM_DATA_V4"), "IP_REMOTE_PORT")->v.u16, 8080);
    o = run(x, 5, mk(x, "udp", "10.0.0.9", 8080, "10.0.0.2", 50001, NULL, 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,DATAGRAM_DATA");
    assert_int_equal(r.calls, 2);
    hf_free(x);
}

static void test_bind_redirect(void **state)
{
    hf *x = hf_new("B", ADDRS, 1);
    redir_callout r;
    const wfp_packet_outcome *o;
    (void)state;
    memset(&r, 0, sizeof r);
    r.bind = true;
    r.port = 8080;
    redir_setup(x, "ALE_BIND_REDIRECT_V4", &r);
    /* EVIDENCE: ALE-REDIRECT — spec §5.2, §5.5 (BIND_REDIRECT may change the local port for the socket's
     * lifetime) */
    x->nobs = 0;
    assert_int_equal(wfp_host_start(x->h, 0, &x->out), 0);
    assert_int_equal(obs_val(obs_at(x, "ALE_RESOURCE_ASSIGNMENT_V4"), "IP_LOCAL_PORT")->v.u16, 8080);
    assert_int_equal(obs_val(obs_at(x, "ALE_AUTH_LISTEN_V4"), "IP_LOCAL_PORT")->v.u16, 8080);
    o = run(x, 1, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 8080, "S", 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT");
    assert_int_equal(obs_at(x, "ALE_AUTH_RECV_ACCEPT_V4")->pid, 500);
    o = run(x, 2, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "S", 0));
    assert_int_equal(o->discard, WFP_HOST_DISCARD_NO_LISTENER);
    /* a client's implicit bind: the connection uses the new local port */
    o = run(x, 3, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "S", 0));
    assert_true(o->permitted);
    assert_int_equal(obs_val(obs_at(x, "ALE_AUTH_CONNECT_V4"), "IP_LOCAL_PORT")->v.u16, 8080);
    assert_false(obs_val(obs_at(x, "ALE_AUTH_CONNECT_V4"), "FLAGS")->v.u32 & FWP_CONDITION_FLAG_IS_CONNECTION_REDIRECTED);
    assert_int_equal(obs_val(obs_at(x, "OUTBOUND_TRANSPORT_V4"), "IP_LOCAL_PORT")->v.u16, 8080);
    o = run(x, 4, mk(x, "tcp", "10.0.0.5", 80, "10.0.0.2", 8080, "SA", 0));
    expect_layers(o, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_FLOW_ESTABLISHED");
    hf_free(x);
}

/* ---- forwarding (§6.8) ---------------------------------------------------------- */

static void tweak_forwarding(wfp_host_config *cfg)
{
    cfg->forwarding = true;
}

static void test_forwarding(void **state)
{
    hf *x = hf_new_ex("R", ADDRS, 2, tweak_forwarding);
    const wfp_packet_outcome *o;
    wfp_host_stats st;
    wfp_condition c = fx_cond_u("IP_DESTINATION_ADDRESS", FWP_MATCH_EQUAL, FWP_UINT32, 0x0a000008u);
    (void)state;
    assert_int_equal(wfp_host_start(x->h, 0, NULL), 0);
    /* EVIDENCE: PATH-FORWARD — spec §6.8 (with IP forwarding on, packets for no local address are
     * classified at IPFORWARD) */
    o = run(x, 1, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.7", 80, "S", 0));
    expect_layers(o, false, "IPFORWARD");
    assert_int_equal(o->path, WFP_HOST_PATH_FORWARD);
    assert_true(o->permitted);
    assert_int_equal(o->layer_id, fx_layer("IPFORWARD_V4")->id);
    assert_int_equal(obs_val(&x->obs[0], "IP_SOURCE_ADDRESS")->v.u32, 0x0a000005u);
    assert_int_equal(obs_val(&x->obs[0], "IP_DESTINATION_ADDRESS")->v.u32, 0x0a000007u);
    assert_int_equal(obs_val(&x->obs[0], "DESTINATION_INTERFACE_INDEX")->v.u32, 1);
    assert_int_equal(wfp_host_flow_count(x->h), 0); /* no ALE for forwarded traffic */
    o = run(x, 2, mk(x, "udp", "2001:db8::5", 40000, "2001:db8::7", 53, NULL, 0));
    expect_layers(o, true, "IPFORWARD");
    assert_true(o->permitted);
    /* EVIDENCE: PATH-FORWARD — spec §6.8, §5.2 (*_DISCARD: a block at IPFORWARD is re-indicated at
     * IPFORWARD_DISCARD) */
    block_filter(x, "no-fwd-to-8", "IPFORWARD_V4", &c, 1);
    o = run(x, 3, mk(x, "udp", "10.0.0.5", 40000, "10.0.0.8", 53, NULL, 0));
    expect_layers(o, false, "IPFORWARD,IPFORWARD_DISCARD");
    assert_false(o->permitted);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_FILTER);
    assert_int_equal(o->layer_id, fx_layer("IPFORWARD_V4")->id);
    /* local traffic does not see IPFORWARD */
    o = run(x, 4, mk(x, "udp", "10.0.0.5", 40000, "10.0.0.2", 53, NULL, 0));
    assert_int_equal(o->path, WFP_HOST_PATH_INBOUND);
    assert_int_equal(wfp_host_layer_calls(x->h, fx_layer("IPFORWARD_V4")->id), 2);
    wfp_host_get_stats(x->h, &st);
    assert_int_equal(st.ignored, 0);
    assert_int_equal(st.blocked, 1);
    assert_int_equal(st.permitted, 3);
    hf_free(x);
}

static void test_determinism(void **state)
{
    /* the same inputs give the same call lists and flow ids on two hosts */
    hf *a = hf_new("A", ADDRS, 2), *b = hf_new("A", ADDRS, 2);
    (void)state;
    wfp_host_start(a->h, 0, NULL);
    wfp_host_start(b->h, 0, NULL);
    for (int i = 0; i < 50; i++) {
        const wfp_packet *pa = mk(a, i % 2 ? "udp" : "tcp", "10.0.0.2", (uint16_t)(50000 + i % 7), "10.0.0.5",
                                  53, "S", (size_t)i);
        const wfp_packet *pb = mk(b, i % 2 ? "udp" : "tcp", "10.0.0.2", (uint16_t)(50000 + i % 7), "10.0.0.5",
                                  53, "S", (size_t)i);
        const wfp_packet_outcome *oa = run(a, (uint64_t)i * SEC, pa);
        const wfp_packet_outcome *ob = run(b, (uint64_t)i * SEC, pb);
        assert_int_equal(oa->num_calls, ob->num_calls);
        assert_int_equal(oa->flow_id, ob->flow_id);
        for (size_t j = 0; j < oa->num_calls; j++)
            assert_int_equal(oa->calls[j].layer_id, ob->calls[j].layer_id);
    }
    hf_free(a);
    hf_free(b);
}

/* ---- packet injection (spec §4.4; DRV packet-injection-functions) ------------ */

typedef struct inj_callout {
    wfp_host *h;
    uint64_t a, b;          /* two injection handles: "ours" and another driver's */
    int step;               /* 0: inject with a; 1: re-inject with b; 2+: permit */
    bool loop;              /* inject with a every time, never checking */
    uint32_t kind;          /* WFP_INJECT_*; 0: auto */
    uint32_t state_a[8], state_b[8];
    uint64_t ctx_a[8];
    int calls;
    uint32_t rc[8];
} inj_callout;

typedef struct inj_queue {
    uint8_t bytes[20][2000];
    wfp_host_injection inj[20];
    int n;
} inj_queue;

static uint32_t inj_collect(void *ctx, wfp_host *h, const wfp_host_injection *inj)
{
    inj_queue *q = ctx;
    (void)h;
    assert_true(q->n < 20 && inj->len <= sizeof q->bytes[0]);
    memcpy(q->bytes[q->n], inj->ip, inj->len);
    q->inj[q->n] = *inj;
    q->inj[q->n].ip = q->bytes[q->n];
    q->n++;
    return 0;
}

static void inj_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                         void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                         wfp_classify_out *out)
{
    inj_callout *c = ctx;
    wfp_inject_request r;
    int i = c->calls < 8 ? c->calls : 7;
    (void)in;
    (void)meta;
    (void)layer_data;
    (void)filter;
    (void)flow_context;
    c->calls++;
    c->state_a[i] = wfp_host_query_injection_state(c->h, c->a, &c->ctx_a[i]);
    c->state_b[i] = wfp_host_query_injection_state(c->h, c->b, NULL);
    memset(&r, 0, sizeof r);
    if (c->loop || c->step < 2) {
        r.handle = c->loop || c->step == 0 ? c->a : c->b;
        r.context = 0x1000u + (uint64_t)c->step;
        r.kind = c->kind;
        if (c->step == 0) {
            r.set_sport = true; /* a modified copy: source port 5000 → 6000 */
            r.sport = 6000;
        }
        c->rc[i] = wfp_host_inject(c->h, &r);
        c->step++;
        out->action_type = FWP_ACTION_BLOCK;
        out->flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
        out->rights &= ~FWPS_RIGHT_ACTION_WRITE;
        return;
    }
    out->action_type = FWP_ACTION_PERMIT;
}

static void inj_setup(hf *x, inj_callout *c, inj_queue *q)
{
    wfp_guid key = fx_callout(&x->f, "inj", "INBOUND_TRANSPORT_V4");
    wfp_callout_registration reg;
    memset(&reg, 0, sizeof reg);
    reg.callout_key = key;
    reg.classify = inj_classify;
    reg.ctx = c;
    c->h = x->h;
    c->a = wfp_host_injection_handle_create(x->h);
    c->b = wfp_host_injection_handle_create(x->h);
    assert_true(c->a != 0 && c->b != 0 && c->a != c->b);
    assert_int_equal(wfp_host_callout_register(x->h, &reg, NULL), 0);
    (void)fx_callout_filter(&x->f, "inj-f", "INBOUND_TRANSPORT_V4", NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING,
                            &key, 0);
    wfp_host_set_injector(x->h, inj_collect, q);
}

/* NOT_INJECTED on the wire; a copy is INJECTED_BY_SELF for its injector
 * and INJECTED_BY_OTHER for anyone else; re-injected by another handle it
 * is PREVIOUSLY_INJECTED_BY_SELF for the first (DDI
 * FwpsQueryPacketInjectionState0, FWPS_PACKET_INJECTION_STATE). Copies
 * re-enter from the bottom, with their rewrites. */
static void test_injection_state(void **state)
{
    /* EVIDENCE: INJ-STATE — DDI FwpsQueryPacketInjectionState0 */
    /* EVIDENCE: INJ-REENTER — DRV packet-injection-functions: incoming copies re-enter from the bottom */
    hf *x = *state;
    inj_callout c;
    inj_queue *q = calloc(1, sizeof *q);
    wfp_packet p;
    memset(&c, 0, sizeof c);
    inj_setup(x, &c, q);

    const wfp_packet_outcome *o = run(x, 1, mk(x, "udp", "10.0.0.5", 5000, "10.0.0.2", 53, NULL, 4));
    assert_false(o->permitted);
    assert_true(o->absorbed);
    assert_int_equal(c.state_a[0], WFP_PACKET_NOT_INJECTED);
    assert_int_equal(c.state_b[0], WFP_PACKET_NOT_INJECTED);
    assert_int_equal(c.rc[0], 0);
    assert_int_equal(q->n, 1);
    assert_int_equal(q->inj[0].kind, WFP_INJECT_TRANSPORT_RECEIVE); /* a transport layer, inbound */
    assert_int_equal(q->inj[0].depth, 1);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, q->bytes[0], (uint32_t)q->inj[0].len,
                                      (uint32_t)q->inj[0].len, 0, &p),
                     0);
    assert_int_equal(p.sport, 6000);
    assert_int_equal(p.dport, 53);

    /* the copy: seen by its injector as self, by the other handle as other;
     * the callout re-injects it with the other handle */
    x->nobs = 0;
    assert_int_equal(wfp_host_packet_injected(x->h, 2, &q->inj[0], &x->out), 0);
    expect_layers(&x->out, false, "INBOUND_IPPACKET,INBOUND_TRANSPORT");
    assert_int_equal(c.state_a[1], WFP_PACKET_INJECTED_BY_SELF);
    assert_int_equal(c.ctx_a[1], 0x1000u);
    assert_int_equal(c.state_b[1], WFP_PACKET_INJECTED_BY_OTHER);
    assert_int_equal(q->n, 2);
    assert_int_equal(q->inj[1].depth, 2);
    assert_int_equal(q->inj[1].earlier[0], c.a);

    /* the re-injected copy: previously ours, now the other's */
    x->nobs = 0;
    assert_int_equal(wfp_host_packet_injected(x->h, 3, &q->inj[1], &x->out), 0);
    assert_int_equal(c.state_a[2], WFP_PACKET_PREVIOUSLY_INJECTED_BY_SELF);
    assert_int_equal(c.state_b[2], WFP_PACKET_INJECTED_BY_SELF);
    assert_true(x->out.permitted); /* step 2: permitted, up to the datagram layer */
    expect_layers(&x->out, false,
                  "INBOUND_IPPACKET,INBOUND_TRANSPORT,ALE_AUTH_RECV_ACCEPT,ALE_FLOW_ESTABLISHED,DATAGRAM_DATA");
    wfp_host_stats st;
    wfp_host_get_stats(x->h, &st);
    assert_int_equal(st.injected, 2);
    /* outside a classify there is no packet to inject or to ask about */
    assert_int_equal(wfp_host_query_injection_state(x->h, c.a, NULL), WFP_PACKET_NOT_INJECTED);
    wfp_inject_request r;
    memset(&r, 0, sizeof r);
    r.handle = c.a;
    assert_int_equal(wfp_host_inject(x->h, &r), FWP_E_INVALID_PARAMETER);
    free(q);
}

/* Refusals: a handle never created, a send of an inbound packet (its
 * source is not ours), no injector; and a callout that re-injects its own
 * copies without looking stops at WFP_INJECT_MAX_DEPTH. */
static void test_injection_refused(void **state)
{
    hf *x = *state;
    inj_callout c;
    inj_queue *q = calloc(1, sizeof *q);
    memset(&c, 0, sizeof c);
    inj_setup(x, &c, q);
    c.loop = true;
    uint64_t good = c.a;
    c.a = 999; /* never created */
    (void)run(x, 1, mk(x, "udp", "10.0.0.5", 5000, "10.0.0.2", 53, NULL, 0));
    assert_int_equal(c.rc[0], FWP_E_INVALID_PARAMETER);
    assert_int_equal(q->n, 0);
    c.a = good;
    wfp_host_set_injector(x->h, NULL, NULL);
    (void)run(x, 2, mk(x, "udp", "10.0.0.5", 5000, "10.0.0.2", 53, NULL, 0));
    assert_int_equal(c.rc[1], FWP_E_INVALID_PARAMETER);
    wfp_host_set_injector(x->h, inj_collect, q);

    /* the loop: every copy is injected again until the history is full */
    c.calls = 0;
    (void)run(x, 3, mk(x, "udp", "10.0.0.5", 5000, "10.0.0.2", 53, NULL, 0));
    int rounds = 0;
    while (q->n > 0) {
        wfp_host_injection inj = q->inj[q->n - 1];
        static uint8_t keep[2000];
        memcpy(keep, inj.ip, inj.len);
        inj.ip = keep;
        q->n = 0;
        c.calls = 0;
        assert_int_equal(wfp_host_packet_injected(x->h, 4, &inj, &x->out), 0);
        rounds++;
        assert_true(rounds <= WFP_INJECT_MAX_DEPTH);
        if (inj.depth == WFP_INJECT_MAX_DEPTH)
            assert_int_equal(c.rc[0], FWP_E_INVALID_PARAMETER);
    }
    assert_int_equal(rounds, WFP_INJECT_MAX_DEPTH);
    free(q);
}

/* A send must leave from one of the host's addresses (DRV
 * packet-injection-functions: the destination path); an inbound packet's
 * source is not. */
static void test_injection_wrong_direction(void **state)
{
    hf *x = *state;
    inj_callout c;
    inj_queue *q = calloc(1, sizeof *q);
    memset(&c, 0, sizeof c);
    inj_setup(x, &c, q);
    c.kind = WFP_INJECT_TRANSPORT_SEND;
    (void)run(x, 1, mk(x, "udp", "10.0.0.5", 5000, "10.0.0.2", 53, NULL, 0));
    assert_int_equal(c.rc[0], FWP_E_INVALID_PARAMETER);
    assert_int_equal(q->n, 0);
    c.kind = WFP_INJECT_NETWORK_RECEIVE;
    c.step = 0;
    (void)run(x, 2, mk(x, "udp", "10.0.0.5", 5000, "10.0.0.2", 53, NULL, 0));
    assert_int_equal(c.rc[1], 0);
    assert_int_equal(q->n, 1);
    assert_int_equal(q->inj[0].kind, WFP_INJECT_NETWORK_RECEIVE);
    /* forwarding is off here: nothing can be forward-injected */
    c.kind = WFP_INJECT_FORWARD;
    c.step = 0;
    (void)run(x, 3, mk(x, "udp", "10.0.0.5", 5000, "10.0.0.2", 53, NULL, 0));
    assert_int_equal(c.rc[2], FWP_E_INVALID_PARAMETER);
    assert_int_equal(q->n, 1);
    free(q);
}

/* ---- pended classifies (spec §4.6, C36) ----------------------------------------- */

typedef struct pend_callout {
    wfp_host *h;
    bool absorb;            /* return BLOCK + ABSORB after pending (else PERMIT) */
    uint64_t after;         /* complete_after for wfp_host_pend_operation */
    int calls;
    uint32_t rc[8];         /* what each call's FwpsPendOperation0 returned */
    bool reauth[8];
    uint64_t handle;
} pend_callout;

static void pend_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                          void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                          wfp_classify_out *out)
{
    pend_callout *c = ctx;
    int i = c->calls < 8 ? c->calls : 7;
    int fi = value_index(in->layer_id, "FLAGS");
    (void)meta;
    (void)layer_data;
    (void)filter;
    (void)flow_context;
    c->calls++;
    c->reauth[i] = fi >= 0 && (in->values[fi].v.u32 & FWP_CONDITION_FLAG_IS_REAUTHORIZE);
    if (c->reauth[i]) { /* the completion: the final verdict */
        c->rc[i] = wfp_host_pend_operation(c->h, WFP_PEND_MANUAL, &c->handle);
        out->action_type = FWP_ACTION_PERMIT;
        return;
    }
    c->rc[i] = wfp_host_pend_operation(c->h, c->after, &c->handle);
    out->action_type = c->absorb ? FWP_ACTION_BLOCK : FWP_ACTION_PERMIT;
    if (c->absorb) {
        out->flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
        out->rights &= ~FWPS_RIGHT_ACTION_WRITE;
    }
}

static void pend_setup(hf *x, const char *name, const char *layer, pend_callout *c)
{
    wfp_guid key = fx_callout(&x->f, name, layer);
    wfp_callout_registration reg;
    memset(&reg, 0, sizeof reg);
    reg.callout_key = key;
    reg.classify = pend_classify;
    reg.ctx = c;
    c->h = x->h;
    assert_int_equal(wfp_host_callout_register(x->h, &reg, NULL), 0);
    (void)fx_callout_filter(&x->f, name, layer, NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &key, 0);
}

/* A pended TCP connect: the SYN waits; FwpsCompleteOperation0
 * reauthorizes at AUTH_CONNECT (IS_REAUTHORIZE, CLASSIFY_COMPLETION), where
 * a second pend is refused, and the SYN goes on. Only once. */
static void test_pend_tcp_connect(void **state)
{
    /* EVIDENCE: C36 — W32 ale-re-authorization; DDI FwpsPendOperation0 */
    hf *x = *state;
    pend_callout c;
    uint64_t at, handle;
    memset(&c, 0, sizeof c);
    c.absorb = true;
    c.after = 5 * SEC;
    pend_setup(x, "pend", "ALE_AUTH_CONNECT_V4", &c);
    const wfp_packet_outcome *o = run(x, 1, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 443, "S", 0));
    assert_int_equal(c.rc[0], 0);
    assert_true(o->held);
    assert_false(o->permitted);
    assert_int_equal(o->pended, c.handle);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_NONE);
    expect_layers(o, false, "ALE_BIND_REDIRECT,ALE_RESOURCE_ASSIGNMENT,ALE_CONNECT_REDIRECT,ALE_AUTH_CONNECT");
    assert_int_equal(wfp_host_flow_count(x->h), 0);
    assert_true(wfp_host_next_completion(x->h, &at, &handle));
    assert_int_equal(at, 1 + 5 * SEC);
    assert_int_equal(handle, c.handle);

    x->nobs = 0;
    assert_int_equal(wfp_host_complete_operation(x->h, at, handle, &x->out), 0);
    assert_true(x->out.permitted);
    expect_layers(&x->out, false, "ALE_AUTH_CONNECT,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_true(x->out.calls[0].reauth);
    assert_int_equal(obs_val(&x->obs[0], "REAUTHORIZE_REASON")->v.u32,
                     FWP_CONDITION_REAUTHORIZE_REASON_CLASSIFY_COMPLETION);
    assert_true(c.reauth[1]);
    assert_int_equal(c.rc[1], STATUS_FWP_CANNOT_PEND); /* only the initial authorization */
    assert_int_equal(wfp_host_flow_count(x->h), 1);
    assert_false(wfp_host_next_completion(x->h, NULL, NULL));
    assert_int_equal(wfp_host_complete_operation(x->h, at, handle, &x->out), FWP_E_NOT_FOUND);
    wfp_host_stats st;
    wfp_host_get_stats(x->h, &st);
    assert_int_equal(st.pended, 1);
    assert_int_equal(st.completed, 1);
    assert_int_equal(st.permitted, 1);
}

/* Non-TCP: the pended datagram is flushed; the completion authorizes the
 * flow, which the next datagram uses without AUTH_CONNECT. */
static void test_pend_udp_flushed(void **state)
{
    hf *x = *state;
    pend_callout c;
    memset(&c, 0, sizeof c);
    c.absorb = true;
    c.after = WFP_PEND_MANUAL;
    pend_setup(x, "pend", "ALE_AUTH_CONNECT_V4", &c);
    const wfp_packet_outcome *o = run(x, 1, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    assert_false(o->held);
    assert_false(o->permitted);
    assert_int_equal(o->discard, WFP_HOST_DISCARD_PEND_FLUSHED);
    assert_false(wfp_host_next_completion(x->h, NULL, NULL)); /* manual */
    assert_int_equal(wfp_host_complete_operation(x->h, 2, c.handle, &x->out), 0);
    expect_layers(&x->out, false, "ALE_AUTH_CONNECT,ALE_FLOW_ESTABLISHED");
    assert_int_equal(x->out.discard, WFP_HOST_DISCARD_PEND_FLUSHED);
    o = run(x, 3, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    assert_true(o->permitted);
    expect_layers(o, false, "DATAGRAM_DATA,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
}

/* Refused: outside a classify, at a layer that cannot pend, and a pend
 * the callout does not honour with BLOCK + ABSORB is dropped. A pended
 * RECV_ACCEPT completes without a reauthorization. */
static void test_pend_refused_and_recv_accept(void **state)
{
    hf *x = *state;
    pend_callout c, t;
    uint64_t handle;
    assert_int_equal(wfp_host_pend_operation(x->h, 0, &handle), STATUS_FWP_CANNOT_PEND);
    memset(&t, 0, sizeof t);
    t.absorb = true;
    pend_setup(x, "pend-transport", "OUTBOUND_TRANSPORT_V4", &t);
    (void)run(x, 1, mk(x, "udp", "10.0.0.2", 50000, "10.0.0.5", 53, NULL, 0));
    assert_int_equal(t.rc[0], STATUS_FWP_CANNOT_PEND);

    memset(&c, 0, sizeof c);
    c.absorb = false; /* pends, then permits: the pend is dropped */
    pend_setup(x, "pend-accept", "ALE_AUTH_RECV_ACCEPT_V4", &c);
    const wfp_packet_outcome *o = run(x, 2, mk(x, "tcp", "10.0.0.5", 40000, "10.0.0.2", 80, "S", 0));
    assert_int_equal(c.rc[0], 0);
    assert_int_equal(o->pended, 0);
    assert_int_equal(wfp_host_complete_operation(x->h, 3, c.handle, &x->out), FWP_E_NOT_FOUND);

    c.absorb = true;
    c.after = 0;
    o = run(x, 4, mk(x, "tcp", "10.0.0.5", 40001, "10.0.0.2", 80, "S", 0));
    assert_true(o->absorbed);
    assert_int_equal(o->pended, c.handle);
    x->nobs = 0;
    assert_int_equal(wfp_host_complete_operation(x->h, 4, c.handle, &x->out), 0);
    assert_int_equal(x->out.num_calls, 0);
    assert_int_equal(x->nobs, 0);
}

/* ---- stream injection (DDI FwpsStreamInjectAsync0) ------------------------------ */

typedef struct sinj_callout {
    wfp_host *h;
    uint64_t handle;
    int calls;
    uint32_t rc;
} sinj_callout;

static void sinj_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                          void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                          wfp_classify_out *out)
{
    static const uint8_t data[] = "xyz";
    sinj_callout *c = ctx;
    wfp_stream_inject_request r;
    (void)in;
    (void)layer_data;
    (void)flow_context;
    c->calls++;
    memset(&r, 0, sizeof r);
    r.handle = c->handle;
    r.send = meta->packet_direction == FWP_DIRECTION_OUTBOUND;
    r.data = data;
    r.len = 3;
    r.sublayer_weight = filter->sublayer_weight;
    c->rc = wfp_host_stream_inject(c->h, &r);
    out->action_type = FWP_ACTION_BLOCK;
    out->rights &= ~FWPS_RIGHT_ACTION_WRITE;
}

/* Outbound data replaced in the send stream: the injected segment is not
 * shown to the injecting callout again (its sublayer and higher ones are
 * skipped at STREAM) and is sent through OUTBOUND_TRANSPORT and
 * OUTBOUND_IPPACKET. Outside a STREAM classify nothing can be injected. */
static void test_stream_inject_send(void **state)
{
    /* EVIDENCE: INJ-STREAM — DDI FwpsStreamInjectAsync0 remarks */
    hf *x = *state;
    sinj_callout c;
    inj_queue *q = calloc(1, sizeof *q);
    wfp_stream_inject_request r;
    wfp_packet p;
    memset(&c, 0, sizeof c);
    c.h = x->h;
    c.handle = wfp_host_injection_handle_create(x->h);
    wfp_host_set_injector(x->h, inj_collect, q);
    memset(&r, 0, sizeof r);
    r.handle = c.handle;
    assert_int_equal(wfp_host_stream_inject(x->h, &r), FWP_E_INVALID_PARAMETER);

    (void)run(x, 1, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "S", 0));
    (void)run(x, 2, mk(x, "tcp", "10.0.0.5", 80, "10.0.0.2", 50000, "SA", 0));
    (void)run(x, 3, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "A", 0));
    wfp_guid key = fx_callout(&x->f, "sinj", "STREAM_V4");
    wfp_callout_registration reg;
    memset(&reg, 0, sizeof reg);
    reg.callout_key = key;
    reg.classify = sinj_classify;
    reg.ctx = &c;
    assert_int_equal(wfp_host_callout_register(x->h, &reg, NULL), 0);
    (void)fx_callout_filter(&x->f, "sinj", "STREAM_V4", NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &key, 0);

    const wfp_packet_outcome *o = run(x, 4, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "PA", 10));
    assert_false(o->permitted);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.rc, 0);
    assert_int_equal(q->n, 1);
    assert_int_equal(q->inj[0].kind, WFP_INJECT_STREAM);
    assert_int_equal(wfp_packet_parse(WFP_LINKTYPE_RAW, q->bytes[0], (uint32_t)q->inj[0].len,
                                      (uint32_t)q->inj[0].len, 0, &p),
                     0);
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(p.dport, 80);
    x->nobs = 0;
    assert_int_equal(wfp_host_packet_injected(x->h, 5, &q->inj[0], &x->out), 0);
    assert_true(x->out.permitted);
    expect_layers(&x->out, false, "STREAM,OUTBOUND_TRANSPORT,OUTBOUND_IPPACKET");
    assert_int_equal(c.calls, 1); /* not indicated to the injecting callout again */
    free(q);
}

/* A client socket configured with a local address binds there, not to
 * the wildcard: RESOURCE_ASSIGNMENT sees the address, without
 * IS_WILDCARD_BIND; a port of the same process's wildcard socket still
 * binds to the wildcard. */
static const wfp_host_socket_config BOUND_SOCKS[] = {
    {WFP_SOCK_TCP, 50000, 50099, false, "10.0.0.2"},
    {WFP_SOCK_TCP, 50100, 50199, false, NULL},
};
static const wfp_host_process_config BOUND_PROCS[] = {
    {"bound", "C:\\Apps\\bound.exe", "S-1-5-21-1-2-3-1001", 77, 2, BOUND_SOCKS},
};
static void tweak_bound(wfp_host_config *cfg)
{
    cfg->processes = BOUND_PROCS;
    cfg->num_processes = 1;
}

static void test_client_bound_address(void **state)
{
    hf *x = hf_new_ex("A", ADDRS, 2, tweak_bound);
    const obs_call *b;
    (void)state;
    (void)run(x, 1, mk(x, "tcp", "10.0.0.2", 50000, "10.0.0.5", 80, "S", 0));
    b = obs_at(x, "ALE_RESOURCE_ASSIGNMENT_V4");
    assert_int_equal(obs_val(b, "IP_LOCAL_ADDRESS")->type, FWP_UINT32);
    assert_int_equal(obs_val(b, "IP_LOCAL_ADDRESS")->v.u32, 0x0a000002u);
    assert_false(obs_val(b, "FLAGS")->v.u32 & FWP_CONDITION_FLAG_IS_WILDCARD_BIND);
    assert_int_equal(b->pid, 77);
    (void)run(x, 2, mk(x, "tcp", "10.0.0.2", 50100, "10.0.0.5", 80, "S", 0));
    b = obs_at(x, "ALE_RESOURCE_ASSIGNMENT_V4");
    assert_int_equal(obs_val(b, "IP_LOCAL_ADDRESS")->type, FWP_EMPTY);
    assert_true(obs_val(b, "FLAGS")->v.u32 & FWP_CONDITION_FLAG_IS_WILDCARD_BIND);
    hf_free(x);
}

/* A forward injection (the default kind at IPFORWARD) leaves the host
 * without any classify (spec §4.4). */
static void test_injection_forward(void **state)
{
    /* EVIDENCE: INJ-FORWARD — spec §4.4: forward-injected packets are not presented to any WFP layer */
    hf *x = hf_new_ex("R", ADDRS, 2, tweak_forwarding);
    inj_callout c;
    inj_queue *q = calloc(1, sizeof *q);
    (void)state;
    memset(&c, 0, sizeof c);
    wfp_guid key = fx_callout(&x->f, "fwd", "IPFORWARD_V4");
    wfp_callout_registration reg;
    memset(&reg, 0, sizeof reg);
    reg.callout_key = key;
    reg.classify = inj_classify;
    reg.ctx = &c;
    c.h = x->h;
    c.a = wfp_host_injection_handle_create(x->h);
    c.b = wfp_host_injection_handle_create(x->h);
    assert_int_equal(wfp_host_callout_register(x->h, &reg, NULL), 0);
    (void)fx_callout_filter(&x->f, "fwd", "IPFORWARD_V4", NULL, FX_AUTO, FWP_ACTION_CALLOUT_TERMINATING, &key, 0);
    wfp_host_set_injector(x->h, inj_collect, q);
    c.step = 1; /* inject with handle b, unmodified */
    (void)run(x, 1, mk(x, "udp", "10.0.0.5", 5000, "10.0.0.8", 53, NULL, 0));
    assert_int_equal(c.rc[0], 0);
    assert_int_equal(q->n, 1);
    assert_int_equal(q->inj[0].kind, WFP_INJECT_FORWARD);
    x->nobs = 0;
    assert_int_equal(wfp_host_packet_injected(x->h, 2, &q->inj[0], &x->out), 0);
    assert_true(x->out.permitted);
    assert_int_equal(x->out.path, WFP_HOST_PATH_FORWARD);
    assert_int_equal(x->out.num_calls, 0);
    assert_int_equal(x->nobs, 0);
    free(q);
    hf_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_connect_v4),
        cmocka_unit_test(test_tcp_connect_v6),
        cmocka_unit_test(test_start_sockets),
        cmocka_unit_test(test_tcp_accept_v4),
        cmocka_unit_test(test_tcp_accept_v6),
        cmocka_unit_test(test_handshake_two_hosts),
        cmocka_unit_test_setup_teardown(test_tcp_no_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stealth_silent_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_cross_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_accept_v6_discard, setup, teardown),
        cmocka_unit_test(test_udp_v4),
        cmocka_unit_test(test_udp_v6),
        cmocka_unit_test_setup_teardown(test_udp_stealth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp_flow_timeout, setup, teardown),
        cmocka_unit_test(test_mcast_state_v4),
        cmocka_unit_test(test_mcast_state_v6),
        cmocka_unit_test_setup_teardown(test_bcast_state, setup, teardown),
        cmocka_unit_test(test_inbound_mcast_v4),
        cmocka_unit_test(test_inbound_mcast_v6),
        cmocka_unit_test(test_icmp_echo_v4),
        cmocka_unit_test(test_icmp_echo_v6),
        cmocka_unit_test_setup_teardown(test_icmp_error_in, setup, teardown),
        cmocka_unit_test(test_fragments_v4),
        cmocka_unit_test(test_fragments_v6),
        cmocka_unit_test_setup_teardown(test_fragment_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stateful_return, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reauth_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reauth_outbound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reauth_permit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_condition, setup, teardown),
        cmocka_unit_test(test_listen_blocked),
        cmocka_unit_test_setup_teardown(test_not_local_and_absorb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_table_stress, setup, teardown),
        cmocka_unit_test(test_closure_tcp_v4),
        cmocka_unit_test(test_closure_tcp_v6),
        cmocka_unit_test(test_closure_tcp_rst),
        cmocka_unit_test(test_closure_udp_release),
        cmocka_unit_test_setup_teardown(test_flow_context_conditional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_context_delete, setup, teardown),
        cmocka_unit_test(test_connect_redirect),
        cmocka_unit_test(test_bind_redirect),
        cmocka_unit_test(test_forwarding),
        cmocka_unit_test(test_client_bound_address),
        cmocka_unit_test_setup_teardown(test_injection_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injection_wrong_direction, setup, teardown),
        cmocka_unit_test(test_injection_forward),
        cmocka_unit_test_setup_teardown(test_stream_inject_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pend_tcp_connect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pend_udp_flushed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pend_refused_and_recv_accept, setup, teardown),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
