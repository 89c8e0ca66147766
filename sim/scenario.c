/* scenario.c — loading scenario files (the contract in
 * docs/scenario-format.md) into a checked in-memory form.
 *
 * Loading validates the whole structure — every key at every place, every
 * scalar's form — and reports each mistake as FILE:LINE:COL with what was
 * expected, without running anything. Object bodies (policy entries,
 * add_* steps) are parsed by sim/policy.c when they are applied, because
 * their values depend on the layer; `wfpsim check` applies them to a
 * scratch host to catch those too (scenario_run.c). */
#include "scenario_int.h"
#include "scenario_tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------- */

static void *xcalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size ? size : 1);
}

char *wfps_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static bool grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need) ncap *= 2;
    void *nv = realloc(*v, ncap * elem);
    if (!nv) return false;
    *v = nv;
    *cap = ncap;
    return true;
}

#define PUSH(arr, n, cap, err, at)                                                         \
    (grow((void **)&(arr), &(cap), (n) + 1, sizeof *(arr))                                 \
         ? (memset(&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++])                          \
         : (wfp_yaml_error((err), (at), "out of memory"), NULL))

static const char *const OPS[] = {
#define X(id, name) name,
    WFPS_STEP_OPS(X)
#undef X
};

const char *wfps_op_name(int op)
{
    return op >= 0 && op < WFPS_OP_COUNT ? OPS[op] : "?";
}

/* A scalar string, or a plain scalar number, as text. */
static bool get_text(wfp_yaml_errors *err, const wfp_yaml_node *n, const char *what, const char **out)
{
    return wfp_yaml_get_string(err, n, what, out);
}

/* ---- engine ------------------------------------------------------------- */

static bool load_engine(wfps_scenario *sc, const wfp_yaml_node *n, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"collect_net_events", "net_event_keywords", "packet_queuing",
                                       "monitor_ipsec_connections", "txn_watchdog_timeout", "or_conditions",
                                       NULL};
    if (!wfp_yaml_check_keys(err, n, "engine", keys)) return false;
    const wfp_yaml_node *v;
    sc->engine.collect_net_events = true;
    if ((v = wfp_yaml_map_get(n, "collect_net_events")) &&
        !wfp_yaml_get_bool(err, v, "engine.collect_net_events", &sc->engine.collect_net_events))
        return false;
    if ((v = wfp_yaml_map_get(n, "net_event_keywords"))) {
        static const struct { const char *name; uint32_t bit; } kw[] = {
            {"inbound_mcast", 0x1}, {"inbound_bcast", 0x2}, {"capability_drop", 0x4},
            {"capability_allow", 0x8}, {"classify_allow", 0x10}, {"port_scanning_drop", 0x20},
            {"classify_drop", 0}, /* drops are collected by default: accepted, no bit */
        };
        if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "engine.net_event_keywords")) return false;
        for (size_t i = 0; i < v->count; i++) {
            const char *t;
            size_t k;
            if (!get_text(err, v->items[i], "a net event keyword", &t)) return false;
            for (k = 0; k < sizeof kw / sizeof kw[0]; k++)
                if (wfp_yaml_ascii_ieq(t, kw[k].name)) break;
            if (k == sizeof kw / sizeof kw[0])
                return wfp_yaml_error(err, v->items[i],
                                      "unknown net event keyword '%s' (expected one of: inbound_mcast, "
                                      "inbound_bcast, capability_drop, capability_allow, classify_allow, "
                                      "port_scanning_drop, classify_drop)",
                                      t);
            sc->engine.keywords |= kw[k].bit;
        }
    }
    if ((v = wfp_yaml_map_get(n, "packet_queuing"))) {
        const char *t;
        if (!get_text(err, v, "engine.packet_queuing", &t)) return false;
        if (!wfp_yaml_ascii_ieq(t, "none") && !wfp_yaml_ascii_ieq(t, "inbound") &&
            !wfp_yaml_ascii_ieq(t, "forward") && !wfp_yaml_ascii_ieq(t, "inbound_batch"))
            return wfp_yaml_error(err, v, "engine.packet_queuing: expected none, inbound, forward or inbound_batch");
    }
    if ((v = wfp_yaml_map_get(n, "monitor_ipsec_connections"))) {
        bool b;
        if (!wfp_yaml_get_bool(err, v, "engine.monitor_ipsec_connections", &b)) return false;
    }
    if ((v = wfp_yaml_map_get(n, "txn_watchdog_timeout"))) {
        int64_t ns;
        if (!wfp_yaml_get_duration(err, v, "engine.txn_watchdog_timeout", &ns)) return false;
    }
    if ((v = wfp_yaml_map_get(n, "or_conditions"))) {
        const char *t;
        if (!get_text(err, v, "engine.or_conditions", &t)) return false;
        if (wfp_yaml_ascii_ieq(t, "group_by_field")) sc->engine.or_mode = WFP_OR_GROUP_BY_FIELD;
        else if (wfp_yaml_ascii_ieq(t, "adjacent")) sc->engine.or_mode = WFP_OR_ADJACENT_ONLY;
        else return wfp_yaml_error(err, v, "engine.or_conditions: expected group_by_field or adjacent");
    }
    return true;
}

/* ---- hosts ------------------------------------------------------------- */

static bool load_address_list(wfp_yaml_errors *err, const wfp_yaml_node *n, const char *what, const char ***out,
                              size_t *count)
{
    if (!wfp_yaml_expect(err, n, WFP_YAML_SEQUENCE, what)) return false;
    *out = xcalloc(n->count, sizeof **out);
    if (!*out) return wfp_yaml_error(err, n, "out of memory");
    for (size_t i = 0; i < n->count; i++) {
        uint8_t a[16], ver;
        const char *t;
        if (!get_text(err, n->items[i], what, &t)) return false;
        if (!wfp_ip_address_parse(t, a, &ver))
            return wfp_yaml_error(err, n->items[i], "%s: expected an IPv4 or IPv6 address, not '%s'", what, t);
        (*out)[i] = t;
    }
    *count = n->count;
    return true;
}

/* "443", "1024-65535" */
static bool parse_port_range(wfp_yaml_errors *err, const wfp_yaml_node *n, const char *what, uint16_t *lo,
                             uint16_t *hi)
{
    const char *t;
    if (!get_text(err, n, what, &t)) return false;
    const char *dash = strchr(t, '-');
    uint64_t a, b;
    if (dash) {
        if (!wfp_yaml_parse_uint64(t, (size_t)(dash - t), &a) || !wfp_yaml_parse_uint64(dash + 1, strlen(dash + 1), &b) ||
            a > 65535 || b > 65535 || b < a)
            return wfp_yaml_error(err, n, "%s: expected a port (0-65535) or a range \"low-high\", not '%s'", what, t);
    } else {
        if (!wfp_yaml_parse_uint64(t, strlen(t), &a) || a > 65535)
            return wfp_yaml_error(err, n, "%s: expected a port (0-65535) or a range \"low-high\", not '%s'", what, t);
        b = a;
    }
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return true;
}

static bool load_interface_type(wfp_yaml_errors *err, const wfp_yaml_node *n, uint32_t *type)
{
    static const struct { const char *name; uint32_t v; } types[] = {
        {"ethernet", WFP_IF_TYPE_ETHERNET}, {"wifi", WFP_IF_TYPE_WIFI}, {"loopback", WFP_IF_TYPE_LOOPBACK},
        {"ppp", WFP_IF_TYPE_PPP}, {"tunnel", WFP_IF_TYPE_TUNNEL}, {"other", WFP_IF_TYPE_OTHER},
    };
    const char *t;
    uint64_t v;
    if (!get_text(err, n, "interface type", &t)) return false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (wfp_yaml_ascii_ieq(t, types[i].name)) {
            *type = types[i].v;
            return true;
        }
    if (wfp_yaml_parse_uint64(t, strlen(t), &v) && v <= 0xffffffffu) {
        *type = (uint32_t)v;
        return true;
    }
    return wfp_yaml_error(err, n, "interface type: expected ethernet, wifi, loopback, ppp, tunnel, other or an IANA ifType number, not '%s'", t);
}

/* host.services: Windows services and whether they start automatically
 * (providers name theirs in service_name; BFE disables the persistent
 * objects of providers whose service does not, at its start). */
static bool load_services(wfps_host *h, const wfp_yaml_node *v, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"name", "autostart", NULL};
    if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "host.services")) return false;
    h->manual_services = xcalloc(v->count, sizeof *h->manual_services);
    if (!h->manual_services) return wfp_yaml_error(err, v, "out of memory");
    for (size_t i = 0; i < v->count; i++) {
        const wfp_yaml_node *sv = v->items[i], *x;
        const char *name;
        bool autostart = true;
        if (!wfp_yaml_check_keys(err, sv, "service", keys)) return false;
        if (!wfp_yaml_require(err, sv, "name", "service", &x) || !get_text(err, x, "service.name", &name)) return false;
        if (!wfp_yaml_require(err, sv, "autostart", "service", &x) ||
            !wfp_yaml_get_bool(err, x, "service.autostart", &autostart))
            return false;
        if (!autostart) h->manual_services[h->nmanual_services++] = name;
    }
    return true;
}

static bool load_host(wfps_host *h, const char *name, const wfp_yaml_node *n, bool multi, wfp_yaml_errors *err)
{
    static const char *const keys_single[] = {"name", "addresses", "interfaces", "processes", "udp_flow_timeout",
                                              "icmp_flow_timeout", "adopt_midstream_tcp", "forwarding",
                                              "closure_events", "services", NULL};
    static const char *const keys_multi[] = {"name", "addresses", "interfaces", "processes", "policy",
                                             "udp_flow_timeout", "icmp_flow_timeout", "adopt_midstream_tcp",
                                             "forwarding", "closure_events", "services", NULL};
    const wfp_yaml_node *v;
    if (!wfp_yaml_check_keys(err, n, "host", multi ? keys_multi : keys_single)) return false;
    h->node = n;
    h->name = name;
    if ((v = wfp_yaml_map_get(n, "name")) && !get_text(err, v, "host.name", &h->name)) return false;
    if (!h->name) h->name = "host";
    h->cfg.name = h->name;
    if ((v = wfp_yaml_map_get(n, "addresses"))) {
        /* the list belongs to the host at once, so a bad entry leaks nothing */
        if (!load_address_list(err, v, "host.addresses", &h->addresses, &h->cfg.num_addresses)) return false;
        h->cfg.addresses = h->addresses;
    }
    if ((v = wfp_yaml_map_get(n, "interfaces"))) {
        static const char *const ikeys[] = {"name", "index", "type", "tunnel_type", "profile", "addresses", NULL};
        if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "host.interfaces")) return false;
        h->interfaces = xcalloc(v->count, sizeof *h->interfaces);
        h->iface_addrs = xcalloc(v->count, sizeof *h->iface_addrs);
        if (!h->interfaces || !h->iface_addrs) return wfp_yaml_error(err, v, "out of memory");
        h->cfg.num_interfaces = v->count; /* before anything can fail: free_host frees them all */
        for (size_t i = 0; i < v->count; i++) {
            const wfp_yaml_node *in = v->items[i], *x;
            wfp_host_interface_config *ic = &h->interfaces[i];
            uint64_t u;
            if (!wfp_yaml_check_keys(err, in, "interface", ikeys)) return false;
            if ((x = wfp_yaml_map_get(in, "name")) && !get_text(err, x, "interface.name", &ic->name)) return false;
            if ((x = wfp_yaml_map_get(in, "index"))) {
                if (!wfp_yaml_get_uint64(err, x, "interface.index", 1, 0xffffffffu, &u)) return false;
                ic->index = (uint32_t)u;
            }
            if ((x = wfp_yaml_map_get(in, "type")) && !load_interface_type(err, x, &ic->type)) return false;
            if ((x = wfp_yaml_map_get(in, "tunnel_type"))) {
                if (!wfp_yaml_get_uint64(err, x, "interface.tunnel_type", 0, 0xffffffffu, &u)) return false;
                ic->tunnel_type = (uint32_t)u;
            }
            if ((x = wfp_yaml_map_get(in, "profile"))) {
                const char *t;
                if (!get_text(err, x, "interface.profile", &t)) return false;
                if (wfp_yaml_ascii_ieq(t, "public")) ic->profile_id = 1;
                else if (wfp_yaml_ascii_ieq(t, "private")) ic->profile_id = 2;
                else if (wfp_yaml_ascii_ieq(t, "domain")) ic->profile_id = 3;
                else if (!wfp_yaml_get_uint64(err, x, "interface.profile (public, private, domain or a number)", 0,
                                              0xffffffffu, &u))
                    return false;
                else ic->profile_id = (uint32_t)u;
            }
            if ((x = wfp_yaml_map_get(in, "addresses"))) {
                if (!load_address_list(err, x, "interface.addresses", &h->iface_addrs[i], &ic->num_addresses))
                    return false;
                ic->addresses = h->iface_addrs[i];
            }
        }
        h->cfg.interfaces = h->interfaces;
    }
    if ((v = wfp_yaml_map_get(n, "processes"))) {
        static const char *const pkeys[] = {"name", "app", "user", "pid", "sockets", NULL};
        static const char *const skeys[] = {"protocol", "local_port", "listen", "local_address", NULL};
        if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "host.processes")) return false;
        h->processes = xcalloc(v->count, sizeof *h->processes);
        h->sockets = xcalloc(v->count, sizeof *h->sockets);
        if (!h->processes || !h->sockets) return wfp_yaml_error(err, v, "out of memory");
        h->nprocesses = v->count;
        for (size_t i = 0; i < v->count; i++) {
            const wfp_yaml_node *pn = v->items[i], *x;
            wfp_host_process_config *pc = &h->processes[i];
            if (!wfp_yaml_check_keys(err, pn, "process", pkeys)) return false;
            if ((x = wfp_yaml_map_get(pn, "name")) && !get_text(err, x, "process.name", &pc->name)) return false;
            if ((x = wfp_yaml_map_get(pn, "app")) && !get_text(err, x, "process.app", &pc->app)) return false;
            if ((x = wfp_yaml_map_get(pn, "user"))) {
                uint8_t sid[WFP_SID_MAX];
                uint32_t len;
                if (!get_text(err, x, "process.user", &pc->user)) return false;
                if (!wfp_sid_parse(pc->user, sid, &len))
                    return wfp_yaml_error(err, x, "process.user: expected a SID (S-1-5-21-...), not '%s'", pc->user);
            }
            if ((x = wfp_yaml_map_get(pn, "pid")) &&
                !wfp_yaml_get_uint64(err, x, "process.pid", 0, UINT32_MAX, &pc->pid))
                return false;
            if ((x = wfp_yaml_map_get(pn, "sockets"))) {
                if (!wfp_yaml_expect(err, x, WFP_YAML_SEQUENCE, "process.sockets")) return false;
                h->sockets[i] = xcalloc(x->count, sizeof *h->sockets[i]);
                if (!h->sockets[i]) return wfp_yaml_error(err, x, "out of memory");
                for (size_t k = 0; k < x->count; k++) {
                    const wfp_yaml_node *sn = x->items[k], *y;
                    wfp_host_socket_config *s = &h->sockets[i][k];
                    if (!wfp_yaml_check_keys(err, sn, "socket", skeys)) return false;
                    if ((y = wfp_yaml_map_get(sn, "protocol"))) {
                        const char *t;
                        if (!get_text(err, y, "socket.protocol", &t)) return false;
                        if (wfp_yaml_ascii_ieq(t, "tcp")) s->protocol = WFP_SOCK_TCP;
                        else if (wfp_yaml_ascii_ieq(t, "udp")) s->protocol = WFP_SOCK_UDP;
                        else if (wfp_yaml_ascii_ieq(t, "icmp") || wfp_yaml_ascii_ieq(t, "icmp6")) s->protocol = WFP_SOCK_ICMP;
                        else if (wfp_yaml_ascii_ieq(t, "any")) s->protocol = WFP_SOCK_ANY;
                        else return wfp_yaml_error(err, y, "socket.protocol: expected tcp, udp, icmp or any, not '%s'", t);
                    }
                    if ((y = wfp_yaml_map_get(sn, "local_port")) &&
                        !parse_port_range(err, y, "socket.local_port", &s->port_lo, &s->port_hi))
                        return false;
                    if ((y = wfp_yaml_map_get(sn, "listen")) && !wfp_yaml_get_bool(err, y, "socket.listen", &s->listen))
                        return false;
                    if ((y = wfp_yaml_map_get(sn, "local_address"))) {
                        uint8_t a[16], ver;
                        if (!get_text(err, y, "socket.local_address", &s->local_address)) return false;
                        if (!wfp_ip_address_parse(s->local_address, a, &ver))
                            return wfp_yaml_error(err, y, "socket.local_address: expected an address");
                    }
                }
                pc->sockets = h->sockets[i];
                pc->num_sockets = x->count;
            }
        }
        h->cfg.processes = h->processes;
        h->cfg.num_processes = v->count;
    }
    if ((v = wfp_yaml_map_get(n, "udp_flow_timeout"))) {
        int64_t ns;
        if (!wfp_yaml_get_duration(err, v, "host.udp_flow_timeout", &ns)) return false;
        h->cfg.udp_flow_timeout_ns = (uint64_t)ns;
    }
    if ((v = wfp_yaml_map_get(n, "icmp_flow_timeout"))) {
        int64_t ns;
        if (!wfp_yaml_get_duration(err, v, "host.icmp_flow_timeout", &ns)) return false;
        h->cfg.icmp_flow_timeout_ns = (uint64_t)ns;
    }
    if ((v = wfp_yaml_map_get(n, "adopt_midstream_tcp")) &&
        !wfp_yaml_get_bool(err, v, "host.adopt_midstream_tcp", &h->cfg.adopt_midstream_tcp))
        return false;
    if ((v = wfp_yaml_map_get(n, "forwarding")) && !wfp_yaml_get_bool(err, v, "host.forwarding", &h->cfg.forwarding))
        return false;
    if ((v = wfp_yaml_map_get(n, "closure_events")) &&
        !wfp_yaml_get_bool(err, v, "host.closure_events", &h->cfg.closure_events))
        return false;
    if ((v = wfp_yaml_map_get(n, "services")) && !load_services(h, v, err)) return false;
    h->policy = multi ? wfp_yaml_map_get(n, "policy") : NULL;
    return true;
}

static void free_host(wfps_host *h)
{
    for (size_t i = 0; i < h->cfg.num_interfaces; i++) free((void *)h->iface_addrs[i]);
    free(h->iface_addrs);
    free(h->interfaces);
    for (size_t i = 0; i < h->nprocesses; i++) free(h->sockets[i]);
    free(h->sockets);
    free(h->processes);
    free((void *)h->manual_services);
    free((void *)h->addresses);
}

/* ---- sessions and steps ------------------------------------------------ */

static bool load_sessions(wfps_scenario *sc, const wfp_yaml_node *n, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"name", "user", "admin", "dynamic", "host", "kernel", "groups",
                                       "txn_wait_timeout", NULL};
    if (!wfp_yaml_expect(err, n, WFP_YAML_SEQUENCE, "sessions")) return false;
    for (size_t i = 0; i < n->count; i++) {
        const wfp_yaml_node *sn = n->items[i], *v;
        wfps_session *s = PUSH(sc->sessions, sc->nsessions, sc->sessions_cap, err, sn);
        if (!s) return false;
        if (!wfp_yaml_check_keys(err, sn, "session", keys)) return false;
        s->node = sn;
        if (!wfp_yaml_require(err, sn, "name", "session", &v) || !get_text(err, v, "session.name", &s->name))
            return false;
        if (!strcmp(s->name, "default"))
            return wfp_yaml_error(err, v, "session 'default' is the implicit policy session; choose another name");
        for (size_t k = 0; k + 1 < sc->nsessions; k++)
            if (!strcmp(sc->sessions[k].name, s->name))
                return wfp_yaml_error(err, v, "session '%s' is declared twice", s->name);
        if ((v = wfp_yaml_map_get(sn, "user"))) {
            uint8_t sid[WFP_SID_MAX];
            uint32_t len;
            if (!get_text(err, v, "session.user", &s->user)) return false;
            if (!wfp_sid_parse(s->user, sid, &len))
                return wfp_yaml_error(err, v, "session.user: expected a SID, not '%s'", s->user);
        }
        s->admin = true;
        if ((v = wfp_yaml_map_get(sn, "admin")) && !wfp_yaml_get_bool(err, v, "session.admin", &s->admin)) return false;
        if ((v = wfp_yaml_map_get(sn, "dynamic")) && !wfp_yaml_get_bool(err, v, "session.dynamic", &s->dynamic))
            return false;
        if ((v = wfp_yaml_map_get(sn, "kernel")) && !wfp_yaml_get_bool(err, v, "session.kernel", &s->kernel))
            return false;
        if ((v = wfp_yaml_map_get(sn, "host")) && !get_text(err, v, "session.host", &s->host)) return false;
        if ((v = wfp_yaml_map_get(sn, "txn_wait_timeout")) &&
            !wfp_yaml_get_duration(err, v, "session.txn_wait_timeout", &s->txn_wait_timeout))
            return false;
        if ((v = wfp_yaml_map_get(sn, "groups"))) {
            if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "session.groups")) return false;
            s->groups = xcalloc(v->count, sizeof *s->groups);
            if (!s->groups) return wfp_yaml_error(err, v, "out of memory");
            for (size_t k = 0; k < v->count; k++) {
                uint8_t sid[WFP_SID_MAX];
                uint32_t len;
                if (!get_text(err, v->items[k], "session.groups", &s->groups[k])) return false;
                if (!wfp_sid_parse(s->groups[k], sid, &len))
                    return wfp_yaml_error(err, v->items[k], "session.groups: expected a SID or an SDDL alias (NO, BA…), not '%s'",
                                          s->groups[k]);
            }
            s->ngroups = v->count;
        }
    }
    return true;
}

static bool known_session(const wfps_scenario *sc, const char *name)
{
    if (!strcmp(name, "default")) return true;
    for (size_t i = 0; i < sc->nsessions; i++)
        if (!strcmp(sc->sessions[i].name, name)) return true;
    return false;
}

static bool get_layer(wfp_yaml_errors *err, const wfp_yaml_node *v, const char *what, int *layer)
{
    const char *t;
    if (!get_text(err, v, what, &t)) return false;
    const wfp_layer_info *l = wfp_catalog_layer_by_name(t);
    if (!l) return wfp_yaml_error(err, v, "%s: unknown layer '%s'", what, t);
    *layer = l->id;
    return true;
}

/* One net event of an expectation list (expect.net_events.events, the
 * enum_net_events step's expect). */
static bool load_event(wfp_yaml_errors *err, const wfp_yaml_node *en, wfps_expect_event *ee)
{
    static const char *const ekeys[] = {"type", "packet", "layer", "filter", "host", NULL};
    const wfp_yaml_node *x;
    const char *t;
    ee->node = en;
    ee->layer = -1;
    if (!wfp_yaml_check_keys(err, en, "net event", ekeys)) return false;
    if (!wfp_yaml_require(err, en, "type", "net event", &x) || !get_text(err, x, "net event type", &t)) return false;
    if (!strcmp(t, "classify_drop")) ee->type = FWPM_NET_EVENT_TYPE_CLASSIFY_DROP;
    else if (!strcmp(t, "classify_allow")) ee->type = FWPM_NET_EVENT_TYPE_CLASSIFY_ALLOW;
    else return wfp_yaml_error(err, x, "net event type: expected classify_drop or classify_allow, not '%s'", t);
    if ((x = wfp_yaml_map_get(en, "packet")) && !wfp_yaml_get_uint64(err, x, "net event packet", 1, UINT64_MAX, &ee->packet))
        return false;
    if ((x = wfp_yaml_map_get(en, "layer")) && !get_layer(err, x, "net event layer", &ee->layer)) return false;
    if ((x = wfp_yaml_map_get(en, "filter")) && !get_text(err, x, "net event filter", &ee->filter)) return false;
    if ((x = wfp_yaml_map_get(en, "host")) && !get_text(err, x, "net event host", &ee->host)) return false;
    return true;
}

/* `object:` of enumeration and security steps. `engine`: the engine itself. */
static bool load_object(wfp_yaml_errors *err, const wfp_yaml_node *v, bool security, uint32_t *out)
{
    static const char *const names[] = {"provider", "sublayer", "callout", "filter", "layer", "net_events", "engine"};
    const char *t;
    if (!get_text(err, v, "step.object", &t)) return false;
    for (uint32_t k = 0; k <= WFP_OBJECT_TYPE_COUNT; k++)
        if (!strcmp(t, names[k]) && (security || k <= WFP_OBJECT_FILTER)) {
            *out = k;
            return true;
        }
    return wfp_yaml_error(err, v, security ? "step.object: expected engine, provider, sublayer, callout, filter, layer "
                                             "or net_events, not '%s'"
                                           : "step.object: expected provider, sublayer, callout or filter, not '%s'",
                          t);
}

/* A template's keys are checked here; its values when the step runs. */
static bool load_template(wfps_step *st, const wfp_yaml_node *sn, uint32_t object, wfp_yaml_errors *err)
{
    const wfp_yaml_node *v = wfp_yaml_map_get(sn, "template");
    if (!v) return true;
    const char *const *keys = wfps_tmpl_keys(object);
    if (!keys)
        return wfp_yaml_error(err, v, "step.template: %s enumerations and subscriptions take no template",
                              object == WFP_OBJECT_TYPE_COUNT ? "provider_context" : wfp_object_type_name(object));
    if (!wfp_yaml_check_keys(err, v, "step.template", keys)) return false;
    st->tmpl = v;
    return true;
}

static bool load_subscribe_template(wfps_step *st, const wfp_yaml_node *sn, wfp_yaml_errors *err)
{
    uint32_t object = WFP_OBJECT_TYPE_COUNT;
    if (!strcmp(st->name, "net_event")) object = WFP_OBJECT_NET_EVENTS;
    for (uint32_t k = 0; k <= WFP_OBJECT_FILTER; k++)
        if (!strcmp(st->name, wfp_object_type_name(k))) object = k;
    return load_template(st, sn, object, err);
}

/* enum's expect: the names enumerated, in order ([] for none). */
static bool load_names(wfps_step *st, const wfp_yaml_node *v, wfp_yaml_errors *err)
{
    if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "step.expect")) return false;
    st->names = xcalloc(v->count, sizeof *st->names);
    if (!st->names) return wfp_yaml_error(err, v, "out of memory");
    st->nnames = v->count;
    for (size_t i = 0; i < v->count; i++)
        if (!get_text(err, v->items[i], "step.expect", &st->names[i])) return false;
    return true;
}

static bool load_events(wfps_step *st, const wfp_yaml_node *v, wfp_yaml_errors *err)
{
    if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "step.expect")) return false;
    st->events = xcalloc(v->count, sizeof *st->events);
    if (!st->events) return wfp_yaml_error(err, v, "out of memory");
    st->nevents = v->count;
    for (size_t i = 0; i < v->count; i++)
        if (!load_event(err, v->items[i], &st->events[i])) return false;
    return true;
}

/* enum (from a template, or from a handle), create_enum_handle,
 * destroy_enum_handle, enum_net_events. */
static bool load_enum_step(wfps_step *st, const wfp_yaml_node *sn, const char *op, wfp_yaml_errors *err)
{
    const wfp_yaml_node *v, *h = wfp_yaml_map_get(sn, "handle");
    if (h && st->op != WFPS_OP_ENUM_NET_EVENTS && !get_text(err, h, "step.handle", &st->handle)) return false;
    if (st->op == WFPS_OP_ENUM_NET_EVENTS) {
        st->object = WFP_OBJECT_NET_EVENTS;
    } else if (st->op == WFPS_OP_DESTROY_ENUM_HANDLE || (st->op == WFPS_OP_ENUM && h)) {
        if (!h) return wfp_yaml_require(err, sn, "handle", op, &v);
        if ((v = wfp_yaml_map_get(sn, "object")) || (v = wfp_yaml_map_get(sn, "template")))
            return wfp_yaml_error(err, v, "op '%s' with a handle takes the handle's object and template", op);
        if (st->op == WFPS_OP_DESTROY_ENUM_HANDLE || (st->has_expect_error && !wfp_yaml_map_get(sn, "expect")))
            return true;
        return wfp_yaml_require(err, sn, "expect", op, &st->expect) && load_names(st, st->expect, err);
    } else {
        if (st->op == WFPS_OP_CREATE_ENUM_HANDLE && !wfp_yaml_require(err, sn, "handle", op, &v)) return false;
        if (!wfp_yaml_require(err, sn, "object", op, &v) || !load_object(err, v, false, &st->object)) return false;
    }
    if (!load_template(st, sn, st->object, err)) return false;
    if (st->op == WFPS_OP_CREATE_ENUM_HANDLE) return true;
    /* a step expected to fail needs no list */
    if (st->has_expect_error && !wfp_yaml_map_get(sn, "expect")) return true;
    if (!wfp_yaml_require(err, sn, "expect", op, &st->expect)) return false;
    return st->op == WFPS_OP_ENUM ? load_names(st, st->expect, err) : load_events(st, st->expect, err);
}

/* get_security / set_security: object, name (none: the object type's
 * container), sddl (set), expect (get: the SDDL text). */
static bool load_security_step(wfps_step *st, const wfp_yaml_node *sn, const char *op, wfp_yaml_errors *err)
{
    const wfp_yaml_node *v;
    if (!wfp_yaml_require(err, sn, "object", op, &v) || !load_object(err, v, true, &st->object)) return false;
    if ((v = wfp_yaml_map_get(sn, "name"))) {
        /* layers have no descriptors of their own in wfpsim: only their container */
        if (st->object > WFP_OBJECT_FILTER)
            return wfp_yaml_error(err, v, "step.name: only providers, sublayers, callouts and filters are named; "
                                          "object: %s stands for one descriptor",
                                  st->object == WFP_OBJECT_TYPE_COUNT ? "engine" : wfp_object_type_name(st->object));
        if (!get_text(err, v, "step.name", &st->name)) return false;
    }
    if (st->op == WFPS_OP_SET_SECURITY) {
        if (!wfp_yaml_require(err, sn, "sddl", op, &v) || !get_text(err, v, "step.sddl", &st->sddl)) return false;
        if (!strstr(st->sddl, "O:") && !strstr(st->sddl, "G:") && !strstr(st->sddl, "D:"))
            return wfp_yaml_error(err, v, "step.sddl: expected SDDL with an owner (O:), group (G:) or DACL (D:), not '%s'",
                                  st->sddl);
    } else if ((st->expect = wfp_yaml_map_get(sn, "expect")) && !get_text(err, st->expect, "step.expect", &st->sddl)) {
        return false;
    }
    return true;
}

/* Operands of the enumeration and security ops (the others are checked inline). */
static bool step_takes(const wfps_step *st, const char *key)
{
    switch (st->op) {
    case WFPS_OP_ENUM:
        return !strcmp(key, "object") || !strcmp(key, "template") || !strcmp(key, "handle") || !strcmp(key, "expect");
    case WFPS_OP_CREATE_ENUM_HANDLE:
        return !strcmp(key, "object") || !strcmp(key, "template") || !strcmp(key, "handle");
    case WFPS_OP_DESTROY_ENUM_HANDLE: return !strcmp(key, "handle");
    case WFPS_OP_ENUM_NET_EVENTS: return !strcmp(key, "template") || !strcmp(key, "expect");
    case WFPS_OP_GET_SECURITY: return !strcmp(key, "object") || !strcmp(key, "name") || !strcmp(key, "expect");
    case WFPS_OP_SET_SECURITY: return !strcmp(key, "object") || !strcmp(key, "name") || !strcmp(key, "sddl");
    default: return false;
    }
}

static bool load_steps(wfps_scenario *sc, const wfp_yaml_node *n, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"at", "session", "op", "provider", "sublayer", "callout", "filter", "name",
                                       "object", "expect_error", "host", "enable", "read_only", "bfe_start",
                                       "template", "handle", "expect", "sddl", NULL};
    if (!wfp_yaml_expect(err, n, WFP_YAML_SEQUENCE, "steps")) return false;
    for (size_t i = 0; i < n->count; i++) {
        const wfp_yaml_node *sn = n->items[i], *v;
        wfps_step *st = PUSH(sc->steps, sc->nsteps, sc->steps_cap, err, sn);
        const char *op;
        if (!st) return false;
        st->node = sn;
        st->index = i;
        if (!wfp_yaml_check_keys(err, sn, "step", keys)) return false;
        if ((v = wfp_yaml_map_get(sn, "at"))) {
            if (!wfp_yaml_get_duration(err, v, "step.at", &st->at)) return false;
            if (st->at < 0) return wfp_yaml_error(err, v, "step.at: time cannot be negative");
        }
        if (!wfp_yaml_require(err, sn, "op", "step", &v) || !get_text(err, v, "step.op", &op)) return false;
        st->op = -1;
        for (int k = 0; k < WFPS_OP_COUNT; k++)
            if (!strcmp(op, OPS[k])) st->op = k;
        if (st->op < 0) {
            char list[512] = "";
            for (int k = 0; k < WFPS_OP_COUNT; k++) {
                strncat(list, OPS[k], sizeof list - strlen(list) - 1);
                if (k + 1 < WFPS_OP_COUNT) strncat(list, ", ", sizeof list - strlen(list) - 1);
            }
            return wfp_yaml_error(err, v, "unknown op '%s' (expected one of: %s)", op, list);
        }
        st->session = "default";
        if ((v = wfp_yaml_map_get(sn, "session")) && !get_text(err, v, "step.session", &st->session)) return false;
        if (!known_session(sc, st->session))
            return wfp_yaml_error(err, v, "step.session: no session named '%s'", st->session);
        if ((v = wfp_yaml_map_get(sn, "host")) && !get_text(err, v, "step.host", &st->host)) return false;
        if ((v = wfp_yaml_map_get(sn, "expect_error"))) {
            const char *t;
            if (!get_text(err, v, "step.expect_error", &t)) return false;
            if (!wfp_result_from_name(t, &st->expect_error))
                return wfp_yaml_error(err, v, "step.expect_error: unknown result code '%s' (a name like FWP_E_IN_USE, "
                                              "ERROR_ACCESS_DENIED, or a hex code)", t);
            st->has_expect_error = true;
        }
        /* the operand each op needs */
        static const char *const body_key[] = {"provider", "sublayer", "callout", "filter"};
        switch (st->op) {
        case WFPS_OP_ADD_PROVIDER:
        case WFPS_OP_ADD_SUBLAYER:
        case WFPS_OP_ADD_CALLOUT:
        case WFPS_OP_ADD_FILTER: {
            const char *k = body_key[st->op - WFPS_OP_ADD_PROVIDER];
            if (!wfp_yaml_require(err, sn, k, op, &st->body) ||
                !wfp_yaml_expect(err, st->body, WFP_YAML_MAPPING, k))
                return false;
            break;
        }
        case WFPS_OP_DELETE_PROVIDER:
        case WFPS_OP_DELETE_SUBLAYER:
        case WFPS_OP_DELETE_CALLOUT:
        case WFPS_OP_DELETE_FILTER:
        case WFPS_OP_REGISTER_CALLOUT:
        case WFPS_OP_UNREGISTER_CALLOUT:
            if (!wfp_yaml_require(err, sn, "name", op, &v) || !get_text(err, v, "step.name", &st->name)) return false;
            break;
        case WFPS_OP_SUBSCRIBE:
        case WFPS_OP_UNSUBSCRIBE: {
            const char *t;
            if (!wfp_yaml_require(err, sn, "object", op, &v) || !get_text(err, v, "step.object", &t)) return false;
            if (strcmp(t, "provider") && strcmp(t, "sublayer") && strcmp(t, "callout") && strcmp(t, "filter") &&
                strcmp(t, "provider_context") && strcmp(t, "net_event"))
                return wfp_yaml_error(err, v, "step.object: expected provider, sublayer, callout, filter, "
                                              "provider_context or net_event, not '%s'", t);
            st->name = t;
            if (st->op == WFPS_OP_SUBSCRIBE && !load_subscribe_template(st, sn, err)) return false;
            break;
        }
        case WFPS_OP_ENUM:
        case WFPS_OP_CREATE_ENUM_HANDLE:
        case WFPS_OP_DESTROY_ENUM_HANDLE:
        case WFPS_OP_ENUM_NET_EVENTS:
            if (!load_enum_step(st, sn, op, err)) return false;
            break;
        case WFPS_OP_GET_SECURITY:
        case WFPS_OP_SET_SECURITY:
            if (!load_security_step(st, sn, op, err)) return false;
            break;
        case WFPS_OP_ENABLE_NET_EVENTS:
            st->enable = true;
            if ((v = wfp_yaml_map_get(sn, "enable")) && !wfp_yaml_get_bool(err, v, "step.enable", &st->enable))
                return false;
            break;
        case WFPS_OP_BEGIN:
            if ((v = wfp_yaml_map_get(sn, "read_only")) && !wfp_yaml_get_bool(err, v, "step.read_only", &st->read_only))
                return false;
            break;
        case WFPS_OP_REBOOT:
            if ((v = wfp_yaml_map_get(sn, "bfe_start"))) {
                if (!wfp_yaml_get_duration(err, v, "step.bfe_start", &st->bfe_start)) return false;
                st->has_bfe_start = true;
            }
            break;
        default:
            break;
        }
        /* an operand the op does not take is a mistake, not something to ignore */
        for (size_t k = 0; k < sn->count; k++) {
            const char *key = sn->pairs[k].key->text;
            bool used = !strcmp(key, "at") || !strcmp(key, "session") || !strcmp(key, "op") ||
                        !strcmp(key, "expect_error") || !strcmp(key, "host") ||
                        (st->body && sn->pairs[k].value == st->body) ||
                        (!strcmp(key, "name") && st->name &&
                         ((st->op >= WFPS_OP_DELETE_PROVIDER && st->op <= WFPS_OP_DELETE_FILTER) ||
                          st->op == WFPS_OP_REGISTER_CALLOUT || st->op == WFPS_OP_UNREGISTER_CALLOUT)) ||
                        step_takes(st, key) ||
                        (!strcmp(key, "object") && (st->op == WFPS_OP_SUBSCRIBE || st->op == WFPS_OP_UNSUBSCRIBE)) ||
                        (!strcmp(key, "template") && st->op == WFPS_OP_SUBSCRIBE && st->tmpl) ||
                        (!strcmp(key, "enable") && st->op == WFPS_OP_ENABLE_NET_EVENTS) ||
                        (!strcmp(key, "read_only") && st->op == WFPS_OP_BEGIN) ||
                        (!strcmp(key, "bfe_start") && st->op == WFPS_OP_REBOOT);
            if (!used)
                return wfp_yaml_error(err, sn->pairs[k].key, "op '%s' takes no '%s'", op, key);
        }
    }
    return true;
}

/* ---- traffic ----------------------------------------------------------- */

static bool get_u(wfp_yaml_errors *err, const wfp_yaml_node *m, const char *key, const char *what, uint64_t max,
                  uint64_t *out)
{
    const wfp_yaml_node *v = wfp_yaml_map_get(m, key);
    if (!v) return true;
    return wfp_yaml_get_uint64(err, v, what, 0, max, out);
}

static bool load_inline_packet(wfps_traffic *t, const wfp_yaml_node *pn, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"ip", "ip6", "tcp", "udp", "icmp", "icmp6", "payload", "interface", "protocol",
                                       NULL};
    static const char *const ip_keys[] = {"src", "dst", "ttl", "id", "df", NULL};
    static const char *const ip6_keys[] = {"src", "dst", "hop_limit", "flow_label", NULL};
    static const char *const tcp_keys[] = {"sport", "dport", "flags", "seq", "ack", "window", NULL};
    static const char *const udp_keys[] = {"sport", "dport", NULL};
    static const char *const icmp_keys[] = {"type", "code", "id", "seq", NULL};
    wfp_packet_spec *sp = &t->spec;
    const wfp_yaml_node *ip = wfp_yaml_map_get(pn, "ip"), *ip6 = wfp_yaml_map_get(pn, "ip6"), *v;
    uint64_t u;
    if (!wfp_yaml_check_keys(err, pn, "packet", keys)) return false;
    wfp_packet_spec_init(sp);
    if (!!ip == !!ip6) return wfp_yaml_error(err, pn, "packet needs exactly one of 'ip' and 'ip6'");
    const wfp_yaml_node *l3 = ip ? ip : ip6;
    if (!wfp_yaml_check_keys(err, l3, ip ? "ip" : "ip6", ip ? ip_keys : ip6_keys)) return false;
    sp->ip_version = ip ? 4 : 6;
    for (int k = 0; k < 2; k++) {
        const char *key = k ? "dst" : "src", *txt;
        uint8_t a[16], ver;
        if (!wfp_yaml_require(err, l3, key, ip ? "ip" : "ip6", &v) || !get_text(err, v, key, &txt)) return false;
        if (!wfp_ip_address_parse(txt, a, &ver) || ver != sp->ip_version)
            return wfp_yaml_error(err, v, "%s.%s: expected an IPv%d address, not '%s'", ip ? "ip" : "ip6", key,
                                  sp->ip_version, txt);
        memcpy(k ? sp->dst : sp->src, a, 16);
    }
    if (ip) {
        u = sp->ttl;
        if (!get_u(err, l3, "ttl", "ip.ttl", 255, &u)) return false;
        sp->ttl = (uint8_t)u;
        u = 0;
        if (!get_u(err, l3, "id", "ip.id", 65535, &u)) return false;
        sp->ip_id = (uint16_t)u;
        if ((v = wfp_yaml_map_get(l3, "df")) && !wfp_yaml_get_bool(err, v, "ip.df", &sp->df)) return false;
    } else {
        u = sp->ttl;
        if (!get_u(err, l3, "hop_limit", "ip6.hop_limit", 255, &u)) return false;
        sp->ttl = (uint8_t)u;
        u = 0;
        if (!get_u(err, l3, "flow_label", "ip6.flow_label", 0xfffff, &u)) return false;
        sp->flow_label = (uint32_t)u;
    }
    const char *l4names[] = {"tcp", "udp", "icmp", "icmp6"};
    const wfp_yaml_node *l4 = NULL;
    int which = -1;
    for (int k = 0; k < 4; k++) {
        const wfp_yaml_node *x = wfp_yaml_map_get(pn, l4names[k]);
        if (!x) continue;
        if (l4) return wfp_yaml_error(err, x, "packet has both '%s' and '%s'", l4names[which], l4names[k]);
        l4 = x;
        which = k;
    }
    if ((v = wfp_yaml_map_get(pn, "protocol"))) {
        if (l4) return wfp_yaml_error(err, v, "packet.protocol is for packets with no tcp/udp/icmp header");
        if (!wfp_yaml_get_uint64(err, v, "packet.protocol", 0, 255, &u)) return false;
        sp->protocol = (uint8_t)u;
    } else if (!l4) {
        return wfp_yaml_error(err, pn, "packet needs one of tcp, udp, icmp, icmp6 (or protocol: N)");
    }
    if (which == 0) {
        if (!wfp_yaml_check_keys(err, l4, "tcp", tcp_keys)) return false;
        sp->protocol = 6;
        if (!get_u(err, l4, "sport", "tcp.sport", 65535, &u)) return false;
        sp->sport = (uint16_t)u;
        u = 0;
        if (!get_u(err, l4, "dport", "tcp.dport", 65535, &u)) return false;
        sp->dport = (uint16_t)u;
        if ((v = wfp_yaml_map_get(l4, "flags"))) {
            const char *txt;
            if (!get_text(err, v, "tcp.flags", &txt)) return false;
            if (!wfp_tcp_flags_parse(txt, &sp->tcp_flags))
                return wfp_yaml_error(err, v, "tcp.flags: expected letters of S A F R P U E C, not '%s'", txt);
        }
        u = 0;
        if (!get_u(err, l4, "seq", "tcp.seq", 0xffffffffu, &u)) return false;
        sp->seq = (uint32_t)u;
        u = 0;
        if (!get_u(err, l4, "ack", "tcp.ack", 0xffffffffu, &u)) return false;
        sp->ack = (uint32_t)u;
        u = sp->window;
        if (!get_u(err, l4, "window", "tcp.window", 65535, &u)) return false;
        sp->window = (uint16_t)u;
    } else if (which == 1) {
        if (!wfp_yaml_check_keys(err, l4, "udp", udp_keys)) return false;
        sp->protocol = 17;
        u = 0;
        if (!get_u(err, l4, "sport", "udp.sport", 65535, &u)) return false;
        sp->sport = (uint16_t)u;
        u = 0;
        if (!get_u(err, l4, "dport", "udp.dport", 65535, &u)) return false;
        sp->dport = (uint16_t)u;
    } else if (which >= 2) {
        const char *nm = l4names[which];
        if ((which == 2) != (sp->ip_version == 4))
            return wfp_yaml_error(err, l4, "%s goes with %s", nm, which == 2 ? "ip" : "ip6");
        if (!wfp_yaml_check_keys(err, l4, nm, icmp_keys)) return false;
        sp->protocol = which == 2 ? 1 : 58;
        u = 0;
        if (!get_u(err, l4, "type", "icmp.type", 255, &u)) return false;
        sp->icmp_type = (uint8_t)u;
        u = 0;
        if (!get_u(err, l4, "code", "icmp.code", 255, &u)) return false;
        sp->icmp_code = (uint8_t)u;
        u = 0;
        if (!get_u(err, l4, "id", "icmp.id", 65535, &u)) return false;
        sp->icmp_id = (uint16_t)u;
        u = 0;
        if (!get_u(err, l4, "seq", "icmp.seq", 65535, &u)) return false;
        sp->icmp_seq = (uint16_t)u;
    }
    if ((v = wfp_yaml_map_get(pn, "payload"))) {
        if (!wfp_yaml_get_bytes(err, v, "payload", &t->payload, &t->payload_len)) return false;
        sp->payload = t->payload;
        sp->payload_len = t->payload_len;
    }
    if ((v = wfp_yaml_map_get(pn, "interface")) && !get_text(err, v, "packet.interface", &t->interface)) return false;
    /* build once now, so a packet the builder refuses is a load error */
    uint8_t buf[65536];
    if (!wfp_packet_build(sp, buf, sizeof buf)) return wfp_yaml_error(err, pn, "packet cannot be built (too large?)");
    return true;
}

static bool load_traffic(wfps_scenario *sc, const wfp_yaml_node *n, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"pcap", "offset", "host", "at", "packet", "repeat", "every", NULL};
    if (!wfp_yaml_expect(err, n, WFP_YAML_SEQUENCE, "traffic")) return false;
    for (size_t i = 0; i < n->count; i++) {
        const wfp_yaml_node *tn = n->items[i], *v;
        wfps_traffic *t = PUSH(sc->traffic, sc->ntraffic, sc->traffic_cap, err, tn);
        if (!t) return false;
        t->node = tn;
        t->index = i;
        t->repeat = 1;
        if (!wfp_yaml_check_keys(err, tn, "traffic item", keys)) return false;
        const wfp_yaml_node *pcap = wfp_yaml_map_get(tn, "pcap"), *pkt = wfp_yaml_map_get(tn, "packet");
        if (!!pcap == !!pkt) return wfp_yaml_error(err, tn, "a traffic item needs exactly one of 'pcap' and 'packet'");
        if ((v = wfp_yaml_map_get(tn, "host")) && !get_text(err, v, "traffic.host", &t->host)) return false;
        if (pcap) {
            const char *rel;
            t->is_pcap = true;
            if (!get_text(err, pcap, "traffic.pcap", &rel)) return false;
            /* relative to the scenario file */
            const char *slash = strrchr(sc->path, '/');
#ifdef _WIN32
            const char *bs = strrchr(sc->path, '\\');
            if (bs && (!slash || bs > slash)) slash = bs;
#endif
            if (rel[0] == '/' || !slash) {
                t->pcap_path = wfps_strdup(rel);
            } else {
                size_t dl = (size_t)(slash - sc->path) + 1;
                t->pcap_path = malloc(dl + strlen(rel) + 1);
                if (t->pcap_path) {
                    memcpy(t->pcap_path, sc->path, dl);
                    strcpy(t->pcap_path + dl, rel);
                }
            }
            if (!t->pcap_path) return wfp_yaml_error(err, pcap, "out of memory");
            if ((v = wfp_yaml_map_get(tn, "offset")) && !wfp_yaml_get_duration(err, v, "traffic.offset", &t->at))
                return false;
            for (const char *k = "at"; k; k = NULL)
                if ((v = wfp_yaml_map_get(tn, k))) return wfp_yaml_error(err, v, "a pcap item takes 'offset', not 'at'");
            if ((v = wfp_yaml_map_get(tn, "repeat")) || (v = wfp_yaml_map_get(tn, "every")))
                return wfp_yaml_error(err, v, "'repeat' and 'every' are for inline packets");
        } else {
            if ((v = wfp_yaml_map_get(tn, "offset"))) return wfp_yaml_error(err, v, "an inline packet takes 'at', not 'offset'");
            if ((v = wfp_yaml_map_get(tn, "at")) && !wfp_yaml_get_duration(err, v, "traffic.at", &t->at)) return false;
            if (!wfp_yaml_expect(err, pkt, WFP_YAML_MAPPING, "packet") || !load_inline_packet(t, pkt, err))
                return false;
            if ((v = wfp_yaml_map_get(tn, "repeat")) &&
                !wfp_yaml_get_uint64(err, v, "traffic.repeat", 1, 1000000, &t->repeat))
                return false;
            if ((v = wfp_yaml_map_get(tn, "every")) && !wfp_yaml_get_duration(err, v, "traffic.every", &t->every))
                return false;
        }
        if (t->at < 0) return wfp_yaml_error(err, tn, "traffic time cannot be negative");
    }
    return true;
}

/* ---- expect ------------------------------------------------------------ */

static bool parse_action_word(const char *t, uint32_t *action)
{
    static const struct { const char *name; uint32_t v; } acts[] = {
        {"permit", FWP_ACTION_PERMIT}, {"block", FWP_ACTION_BLOCK}, {"none", FWP_ACTION_NONE},
        {"none_no_match", FWP_ACTION_NONE_NO_MATCH}, {"no_match", FWP_ACTION_NONE_NO_MATCH},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (wfp_yaml_ascii_ieq(t, acts[i].name)) {
            *action = acts[i].v;
            return true;
        }
    return false;
}

static bool get_tristate(wfp_yaml_errors *err, const wfp_yaml_node *m, const char *key, const char *what, int *out)
{
    const wfp_yaml_node *v = wfp_yaml_map_get(m, key);
    bool b;
    *out = -1;
    if (!v) return true;
    if (!wfp_yaml_get_bool(err, v, what, &b)) return false;
    *out = b;
    return true;
}

static bool load_expect(wfps_scenario *sc, const wfp_yaml_node *n, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"packets", "classifications", "net_events", "notifications", "stats",
                                       "flows", NULL};
    const wfp_yaml_node *v;
    wfps_expect *ex = &sc->expect;
    if (!wfp_yaml_check_keys(err, n, "expect", keys)) return false;

    if ((v = wfp_yaml_map_get(n, "packets"))) {
        static const char *const pkeys[] = {"packet", "packets", "verdict", "layer",         "filter",
                                            "reason", "host",    "injected_from", NULL};
        if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "expect.packets")) return false;
        for (size_t i = 0; i < v->count; i++) {
            const wfp_yaml_node *pn = v->items[i], *x;
            wfps_expect_packet *ep = PUSH(ex->packets, ex->npackets, ex->packets_cap, err, pn);
            if (!ep) return false;
            ep->node = pn;
            ep->layer = -1;
            if (!wfp_yaml_check_keys(err, pn, "expect.packets item", pkeys)) return false;
            const wfp_yaml_node *one = wfp_yaml_map_get(pn, "packet"), *many = wfp_yaml_map_get(pn, "packets");
            if (!!one == !!many) return wfp_yaml_error(err, pn, "give exactly one of 'packet: N' and 'packets: \"A-B\"'");
            if (one) {
                if (!wfp_yaml_get_uint64(err, one, "expect.packets.packet", 1, UINT64_MAX, &ep->lo)) return false;
                ep->hi = ep->lo;
            } else {
                const char *t;
                if (!get_text(err, many, "expect.packets.packets", &t)) return false;
                const char *dash = strchr(t, '-');
                if (!dash || !wfp_yaml_parse_uint64(t, (size_t)(dash - t), &ep->lo) ||
                    !wfp_yaml_parse_uint64(dash + 1, strlen(dash + 1), &ep->hi) || ep->lo < 1 || ep->hi < ep->lo)
                    return wfp_yaml_error(err, many, "expect.packets.packets: expected a range \"A-B\" with 1 <= A <= B");
            }
            ep->verdict = -1;
            if ((x = wfp_yaml_map_get(pn, "verdict"))) {
                const char *t;
                if (!get_text(err, x, "verdict", &t)) return false;
                if (wfp_yaml_ascii_ieq(t, "permit")) ep->verdict = 1;
                else if (wfp_yaml_ascii_ieq(t, "block")) ep->verdict = 0;
                else return wfp_yaml_error(err, x, "verdict: expected permit or block, not '%s'", t);
            }
            if ((x = wfp_yaml_map_get(pn, "layer")) && !get_layer(err, x, "expect.packets.layer", &ep->layer))
                return false;
            if ((x = wfp_yaml_map_get(pn, "filter")) && !get_text(err, x, "expect.packets.filter", &ep->filter))
                return false;
            if ((x = wfp_yaml_map_get(pn, "reason")) && !get_text(err, x, "expect.packets.reason", &ep->reason))
                return false;
            if ((x = wfp_yaml_map_get(pn, "host")) && !get_text(err, x, "expect.packets.host", &ep->host)) return false;
            ep->injected_from = -1;
            if ((x = wfp_yaml_map_get(pn, "injected_from"))) {
                uint64_t from;
                if (!wfp_yaml_get_uint64(err, x, "expect.packets.injected_from", 0, INT64_MAX, &from)) return false;
                ep->injected_from = (int64_t)from;
            }
        }
    }
    if ((v = wfp_yaml_map_get(n, "classifications"))) {
        static const char *const ckeys[] = {"packet", "calls", "host", NULL};
        static const char *const callkeys[] = {"layer", "action", "filter", "hard", "veto", "absorb", "reauth", NULL};
        if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "expect.classifications")) return false;
        for (size_t i = 0; i < v->count; i++) {
            const wfp_yaml_node *cn = v->items[i], *x, *calls;
            wfps_expect_class *ec = PUSH(ex->classes, ex->nclasses, ex->classes_cap, err, cn);
            if (!ec) return false;
            ec->node = cn;
            if (!wfp_yaml_check_keys(err, cn, "expect.classifications item", ckeys)) return false;
            if (!wfp_yaml_require(err, cn, "packet", "classification", &x)) return false;
            /* `start`: the binds and listens of the host's sockets at time 0 */
            if (!wfp_yaml_scalar_is(x, "start") &&
                !wfp_yaml_get_uint64(err, x, "classification.packet (a packet number or start)", 1, UINT64_MAX,
                                     &ec->packet))
                return false;
            if ((x = wfp_yaml_map_get(cn, "host")) && !get_text(err, x, "classification.host", &ec->host)) return false;
            if (!wfp_yaml_require(err, cn, "calls", "classification", &calls) ||
                !wfp_yaml_expect(err, calls, WFP_YAML_SEQUENCE, "classification.calls"))
                return false;
            ec->calls = xcalloc(calls->count, sizeof *ec->calls);
            if (!ec->calls) return wfp_yaml_error(err, calls, "out of memory");
            ec->ncalls = calls->count;
            for (size_t k = 0; k < calls->count; k++) {
                const wfp_yaml_node *kn = calls->items[k];
                wfps_expect_call *c = &ec->calls[k];
                c->node = kn;
                if (!wfp_yaml_check_keys(err, kn, "call", callkeys)) return false;
                if (!wfp_yaml_require(err, kn, "layer", "call", &x) || !get_layer(err, x, "call.layer", &c->layer))
                    return false;
                if ((x = wfp_yaml_map_get(kn, "action"))) {
                    const char *t;
                    if (!get_text(err, x, "call.action", &t)) return false;
                    if (!parse_action_word(t, &c->action))
                        return wfp_yaml_error(err, x, "call.action: expected permit, block, none or none_no_match, not '%s'", t);
                }
                if ((x = wfp_yaml_map_get(kn, "filter")) && !get_text(err, x, "call.filter", &c->filter)) return false;
                if (!get_tristate(err, kn, "hard", "call.hard", &c->hard) ||
                    !get_tristate(err, kn, "veto", "call.veto", &c->veto) ||
                    !get_tristate(err, kn, "absorb", "call.absorb", &c->absorb) ||
                    !get_tristate(err, kn, "reauth", "call.reauth", &c->reauth))
                    return false;
            }
        }
    }
    if ((v = wfp_yaml_map_get(n, "net_events"))) {
        static const char *const nkeys[] = {"match", "events", NULL};
        const wfp_yaml_node *x, *evs;
        if (!wfp_yaml_check_keys(err, v, "expect.net_events", nkeys)) return false;
        ex->net_events = v;
        if ((x = wfp_yaml_map_get(v, "match"))) {
            const char *t;
            if (!get_text(err, x, "net_events.match", &t)) return false;
            if (!strcmp(t, "subset")) ex->net_events_subset = true;
            else if (strcmp(t, "exact")) return wfp_yaml_error(err, x, "net_events.match: expected exact or subset, not '%s'", t);
        }
        if (!wfp_yaml_require(err, v, "events", "expect.net_events", &evs) ||
            !wfp_yaml_expect(err, evs, WFP_YAML_SEQUENCE, "net_events.events"))
            return false;
        ex->events = xcalloc(evs->count, sizeof *ex->events);
        if (!ex->events) return wfp_yaml_error(err, evs, "out of memory");
        ex->nevents = evs->count;
        for (size_t i = 0; i < evs->count; i++)
            if (!load_event(err, evs->items[i], &ex->events[i])) return false;
    }
    if ((v = wfp_yaml_map_get(n, "notifications"))) {
        static const char *const okeys[] = {"session", "change", "object", "name", NULL};
        if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "expect.notifications")) return false;
        ex->notifications = v;
        ex->notes = xcalloc(v->count, sizeof *ex->notes);
        if (!ex->notes) return wfp_yaml_error(err, v, "out of memory");
        ex->nnotes = v->count;
        for (size_t i = 0; i < v->count; i++) {
            const wfp_yaml_node *nn = v->items[i], *x;
            wfps_expect_note *en = &ex->notes[i];
            const char *t;
            en->node = nn;
            if (!wfp_yaml_check_keys(err, nn, "notification", okeys)) return false;
            if (!wfp_yaml_require(err, nn, "session", "notification", &x) || !get_text(err, x, "notification.session", &en->session))
                return false;
            if (!known_session(sc, en->session))
                return wfp_yaml_error(err, x, "notification.session: no session named '%s'", en->session);
            if (!wfp_yaml_require(err, nn, "change", "notification", &x) || !get_text(err, x, "notification.change", &t))
                return false;
            if (!strcmp(t, "add")) en->change = FWPM_CHANGE_ADD;
            else if (!strcmp(t, "delete")) en->change = FWPM_CHANGE_DELETE;
            else return wfp_yaml_error(err, x, "notification.change: expected add or delete, not '%s'", t);
            if (!wfp_yaml_require(err, nn, "object", "notification", &x) || !get_text(err, x, "notification.object", &t))
                return false;
            en->object = WFP_OBJECT_TYPE_COUNT;
            for (uint32_t k = 0; k <= WFP_OBJECT_FILTER; k++)
                if (!strcmp(t, wfp_object_type_name(k))) en->object = k;
            if (en->object == WFP_OBJECT_TYPE_COUNT)
                return wfp_yaml_error(err, x, "notification.object: expected provider, sublayer, callout or filter, not '%s'", t);
            if ((x = wfp_yaml_map_get(nn, "name")) && !get_text(err, x, "notification.name", &en->name)) return false;
        }
    }
    if ((v = wfp_yaml_map_get(n, "stats"))) {
        if (!wfp_yaml_expect(err, v, WFP_YAML_MAPPING, "expect.stats")) return false;
        for (size_t i = 0; i < v->count; i++) {
            const char *key = v->pairs[i].key->text;
            wfps_expect_stat *es = PUSH(ex->stats, ex->nstats, ex->stats_cap, err, v->pairs[i].key);
            if (!es) return false;
            es->node = v->pairs[i].value;
            es->name = key;
            es->id = wfps_stat_id(key);
            if (es->id < 0) {
                char list[512];
                wfps_stat_names(list, sizeof list);
                return wfp_yaml_error(err, v->pairs[i].key, "unknown stat '%s' (expected one of: %s)", key, list);
            }
            if (!wfp_yaml_get_uint64(err, es->node, key, 0, UINT64_MAX, &es->value)) return false;
        }
    }
    if ((v = wfp_yaml_map_get(n, "flows"))) {
        if (!wfp_yaml_get_uint64(err, v, "expect.flows", 0, UINT64_MAX, &ex->flows)) return false;
        ex->has_flows = true;
    }
    return true;
}

/* ---- top level --------------------------------------------------------- */

static bool load_root(wfps_scenario *sc, wfp_yaml_errors *err)
{
    static const char *const keys[] = {"wfpsim", "name", "description", "references", "evidence", "engine", "host",
                                       "hosts", "links", "policy", "sessions", "steps", "traffic", "expect", NULL};
    const wfp_yaml_node *root = wfp_yaml_doc_root(sc->doc), *v;
    uint64_t version;
    if (!wfp_yaml_expect(err, root, WFP_YAML_MAPPING, "a scenario")) return false;
    if (!wfp_yaml_check_keys(err, root, "a scenario", keys)) return false;
    if (!wfp_yaml_require(err, root, "wfpsim", "a scenario", &v)) return false;
    if (!wfp_yaml_get_uint64(err, v, "wfpsim (the format version)", 1, UINT64_MAX, &version)) return false;
    if (version != 1) return wfp_yaml_error(err, v, "wfpsim: this is format version 1; the file says %llu", (unsigned long long)version);
    if ((v = wfp_yaml_map_get(root, "name")) && !get_text(err, v, "name", &sc->name)) return false;
    if (!sc->name) {
        /* the file name without its directory and extension */
        const char *b = strrchr(sc->path, '/');
        b = b ? b + 1 : sc->path;
        sc->name_storage = wfps_strdup(b);
        if (!sc->name_storage) return wfp_yaml_error(err, root, "out of memory");
        char *dot = strrchr(sc->name_storage, '.');
        if (dot && dot != sc->name_storage) *dot = 0;
        sc->name = sc->name_storage;
    }
    if ((v = wfp_yaml_map_get(root, "description")) && !get_text(err, v, "description", &sc->description)) return false;
    for (int k = 0; k < 2; k++) {
        const char *key = k ? "evidence" : "references";
        if (!(v = wfp_yaml_map_get(root, key))) continue;
        if (v->kind == WFP_YAML_SCALAR) continue;
        if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, key)) return false;
        for (size_t i = 0; i < v->count; i++) {
            const char *t;
            if (!get_text(err, v->items[i], key, &t)) return false;
        }
    }
    if ((v = wfp_yaml_map_get(root, "engine")) && !load_engine(sc, v, err)) return false;
    if (!wfp_yaml_map_get(root, "engine")) sc->engine.collect_net_events = true;

    const wfp_yaml_node *host = wfp_yaml_map_get(root, "host"), *hosts = wfp_yaml_map_get(root, "hosts");
    if (host && hosts) return wfp_yaml_error(err, hosts, "give either 'host' or 'hosts', not both");
    if ((v = wfp_yaml_map_get(root, "links")) && !hosts) return wfp_yaml_error(err, v, "'links' go with 'hosts'");
    if (hosts) {
        if (!wfp_yaml_expect(err, hosts, WFP_YAML_MAPPING, "hosts")) return false;
        if (!hosts->count) return wfp_yaml_error(err, hosts, "hosts: at least one host");
        sc->hosts = xcalloc(hosts->count, sizeof *sc->hosts);
        if (!sc->hosts) return wfp_yaml_error(err, hosts, "out of memory");
        for (size_t i = 0; i < hosts->count; i++) {
            sc->nhosts++;
            if (!load_host(&sc->hosts[i], hosts->pairs[i].key->text, hosts->pairs[i].value, true, err)) return false;
        }
        if ((v = wfp_yaml_map_get(root, "policy")))
            return wfp_yaml_error(err, v, "with 'hosts', each host has its own 'policy'");
        if ((v = wfp_yaml_map_get(root, "links"))) {
            static const char *const lkeys[] = {"between", "delay", NULL};
            if (!wfp_yaml_expect(err, v, WFP_YAML_SEQUENCE, "links")) return false;
            sc->links = xcalloc(v->count, sizeof *sc->links);
            if (!sc->links) return wfp_yaml_error(err, v, "out of memory");
            for (size_t i = 0; i < v->count; i++) {
                const wfp_yaml_node *ln = v->items[i], *b, *d;
                wfps_link *lk = &sc->links[sc->nlinks++];
                if (!wfp_yaml_check_keys(err, ln, "link", lkeys)) return false;
                if (!wfp_yaml_require(err, ln, "between", "link", &b) ||
                    !wfp_yaml_expect(err, b, WFP_YAML_SEQUENCE, "link.between"))
                    return false;
                if (b->count != 2) return wfp_yaml_error(err, b, "link.between: two host names");
                for (int k = 0; k < 2; k++) {
                    const char *t;
                    if (!get_text(err, b->items[k], "link.between", &t)) return false;
                    lk->host[k] = -1;
                    for (size_t h = 0; h < sc->nhosts; h++)
                        if (!strcmp(sc->hosts[h].name, t)) lk->host[k] = (int)h;
                    if (lk->host[k] < 0) return wfp_yaml_error(err, b->items[k], "link.between: no host named '%s'", t);
                }
                if ((d = wfp_yaml_map_get(ln, "delay")) && !wfp_yaml_get_duration(err, d, "link.delay", &lk->delay))
                    return false;
            }
        }
    } else {
        sc->hosts = xcalloc(1, sizeof *sc->hosts);
        if (!sc->hosts) return wfp_yaml_error(err, root, "out of memory");
        sc->nhosts = 1;
        if (host) {
            if (!load_host(&sc->hosts[0], NULL, host, false, err)) return false;
        } else {
            sc->hosts[0].name = "host";
            sc->hosts[0].cfg.name = "host";
        }
        sc->hosts[0].policy = wfp_yaml_map_get(root, "policy");
        if (sc->hosts[0].policy && !wfp_yaml_expect(err, sc->hosts[0].policy, WFP_YAML_MAPPING, "policy"))
            return false;
    }
    if ((v = wfp_yaml_map_get(root, "sessions")) && !load_sessions(sc, v, err)) return false;
    if ((v = wfp_yaml_map_get(root, "steps")) && !load_steps(sc, v, err)) return false;
    if ((v = wfp_yaml_map_get(root, "traffic")) && !load_traffic(sc, v, err)) return false;
    if ((v = wfp_yaml_map_get(root, "expect")) && !load_expect(sc, v, err)) return false;

    /* names that point at hosts must exist */
    for (size_t i = 0; i < sc->nsessions; i++)
        if (sc->sessions[i].host && wfps_host_index(sc, sc->sessions[i].host) < 0)
            return wfp_yaml_error(err, sc->sessions[i].node, "session.host: no host named '%s'", sc->sessions[i].host);
    for (size_t i = 0; i < sc->nsteps; i++)
        if (sc->steps[i].host && wfps_host_index(sc, sc->steps[i].host) < 0)
            return wfp_yaml_error(err, sc->steps[i].node, "step.host: no host named '%s'", sc->steps[i].host);
    for (size_t i = 0; i < sc->ntraffic; i++)
        if (sc->traffic[i].host && wfps_host_index(sc, sc->traffic[i].host) < 0)
            return wfp_yaml_error(err, sc->traffic[i].node, "traffic.host: no host named '%s'", sc->traffic[i].host);
    return true;
}

int wfps_host_index(const wfps_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->nhosts; i++)
        if (!strcmp(sc->hosts[i].name, name)) return (int)i;
    return -1;
}

wfp_scenario *wfp_scenario_load(const char *path, wfp_yaml_errors *err)
{
    wfps_scenario *sc = xcalloc(1, sizeof *sc);
    if (!sc) {
        wfp_yaml_error_at(err, path, 0, 0, "out of memory");
        return NULL;
    }
    sc->path = wfps_strdup(path);
    sc->doc = sc->path ? wfp_yaml_load_file(path, err) : NULL;
    if (!sc->doc || !load_root(sc, err)) {
        wfp_scenario_free(sc);
        return NULL;
    }
    return sc;
}

wfp_scenario *wfp_scenario_load_string(const char *name, const char *text, size_t length, wfp_yaml_errors *err)
{
    wfps_scenario *sc = xcalloc(1, sizeof *sc);
    if (!sc) {
        wfp_yaml_error_at(err, name, 0, 0, "out of memory");
        return NULL;
    }
    sc->path = wfps_strdup(name ? name : "<string>");
    sc->doc = sc->path ? wfp_yaml_load_string(sc->path, text, length, err) : NULL;
    if (!sc->doc || !load_root(sc, err)) {
        wfp_scenario_free(sc);
        return NULL;
    }
    return sc;
}

void wfp_scenario_free(wfp_scenario *sc)
{
    if (!sc) return;
    for (size_t i = 0; i < sc->nhosts; i++) free_host(&sc->hosts[i]);
    free(sc->hosts);
    free(sc->links);
    for (size_t i = 0; i < sc->nsessions; i++) free((void *)sc->sessions[i].groups);
    free(sc->sessions);
    for (size_t i = 0; i < sc->nsteps; i++) {
        free((void *)sc->steps[i].names);
        free(sc->steps[i].events);
    }
    free(sc->steps);
    for (size_t i = 0; i < sc->ntraffic; i++) {
        free(sc->traffic[i].pcap_path);
        free(sc->traffic[i].payload);
    }
    free(sc->traffic);
    free(sc->expect.packets);
    for (size_t i = 0; i < sc->expect.nclasses; i++) free(sc->expect.classes[i].calls);
    free(sc->expect.classes);
    free(sc->expect.stats);
    free(sc->expect.events);
    free(sc->expect.notes);
    free(sc->name_storage);
    wfp_yaml_doc_free(sc->doc);
    free(sc->path);
    free(sc);
}

const char *wfp_scenario_name(const wfp_scenario *sc)
{
    return sc->name;
}

const char *wfp_scenario_path(const wfp_scenario *sc)
{
    return sc->path;
}

/* ---- policy files (wfpsim classify --policy, wfpsim replay --policy) --- */

const wfp_yaml_node *wfp_policy_file_load(const char *path, wfp_yaml_doc **doc, wfp_yaml_errors *err)
{
    const wfp_yaml_node *root, *pol;
    *doc = wfp_yaml_load_file(path, err);
    if (!*doc) return NULL;
    root = wfp_yaml_doc_root(*doc);
    if (root->kind != WFP_YAML_MAPPING) {
        char d[64];
        wfp_yaml_error(err, root, "expected a scenario with a 'policy:' key or a policy mapping (providers, "
                                  "sublayers, callouts, filters), not %s",
                       wfp_yaml_describe(root, d, sizeof d));
        return NULL;
    }
    pol = wfp_yaml_map_get(root, "policy");
    return pol ? pol : root;
}
