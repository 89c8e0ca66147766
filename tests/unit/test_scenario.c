/* test_scenario.c — every key of the scenario contract
 * (docs/scenario-format.md) works as specified: one test per key or key
 * group, each running a small scenario through the loader and the runner
 * and checking both a passing and a failing expectation, so a key that is
 * accepted but ignored cannot pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scenario.h"

#define HOST                                                                                 \
    "host:\n"                                                                                \
    "  name: client\n"                                                                       \
    "  addresses: [10.0.0.2, \"2001:db8::2\"]\n"                                             \
    "  processes:\n"                                                                         \
    "    - name: app\n"                                                                      \
    "      app: 'C:\\Apps\\app.exe'\n"                                                       \
    "      user: S-1-5-21-1-2-3-1001\n"                                                      \
    "      sockets: [{protocol: tcp, local_port: \"49152-65535\"}, {protocol: tcp, local_port: 80, listen: true}, {protocol: udp, local_port: 53}]\n"

#define SYN_OUT(at, sport) \
    "  - {at: " at ", packet: {ip: {src: 10.0.0.2, dst: 192.0.2.10}, tcp: {sport: " sport ", dport: 443, flags: S}}}\n"

/* Loads and runs; returns NULL and fails the test on a load error unless
 * `load_error` is given, which then receives the first message. */
static wfp_scenario_result *run_text(const char *text, char *load_error, size_t n)
{
    wfp_yaml_errors err;
    wfp_yaml_errors_init(&err);
    wfp_scenario *sc = wfp_scenario_load_string("test.yaml", text, strlen(text), &err);
    if (!sc) {
        const char *m = wfp_yaml_errors_first(&err);
        if (load_error) snprintf(load_error, n, "%s", m ? m : "");
        else fail_msg("load failed: %s", m ? m : "?");
        wfp_yaml_errors_clear(&err);
        return NULL;
    }
    wfp_run_options opt = {true};
    wfp_scenario_result *r = wfp_scenario_run(sc, &opt);
    wfp_scenario_free(sc);
    wfp_yaml_errors_clear(&err);
    assert_non_null(r);
    return r;
}

static void expect_pass(const char *text)
{
    wfp_scenario_result *r = run_text(text, NULL, 0);
    if (!wfp_scenario_result_passed(r)) fail_msg("expected a pass: %s", wfp_scenario_result_reason(r));
    wfp_scenario_result_free(r);
}

/* The scenario must fail, with `needle` in one of its failure messages. */
static void expect_fail(const char *text, const char *needle)
{
    wfp_scenario_result *r = run_text(text, NULL, 0);
    assert_false(wfp_scenario_result_passed(r));
    bool found = false;
    for (size_t i = 0; i < wfp_scenario_result_failure_count(r); i++)
        if (strstr(wfp_scenario_result_failure(r, i), needle)) found = true;
    if (!found) fail_msg("no failure mentions '%s'; first: %s", needle, wfp_scenario_result_reason(r));
    wfp_scenario_result_free(r);
}

static void expect_load_error(const char *text, const char *needle)
{
    char msg[1024] = "";
    wfp_scenario_result *r = run_text(text, msg, sizeof msg);
    assert_null(r);
    if (!strstr(msg, needle)) fail_msg("load error '%s' lacks '%s'", msg, needle);
    /* every load error names file:line:column */
    assert_non_null(strstr(msg, "test.yaml:"));
}

/* wfpsim, name, description, references: the top level */
static void top_level_keys(void **state)
{
    (void)state;
    expect_pass("wfpsim: 1\nname: n\ndescription: d\nreferences: [filter-arbitration]\n" HOST);
    expect_load_error("name: no-version\n" HOST, "needs 'wfpsim'");
    expect_load_error("wfpsim: 2\n", "version");
    expect_load_error("wfpsim: 1\nfoo: 1\n", "unknown key 'foo'");
}

/* engine: collect_net_events and net_event_keywords */
static void engine_keys(void **state)
{
    (void)state;
    const char *base = "wfpsim: 1\n" HOST
                       "policy: {filters: [{name: blk, layer: ALE_AUTH_CONNECT_V4, action: block}]}\n"
                       "traffic:\n" SYN_OUT("1ms", "50000");
    char text[4096];
    snprintf(text, sizeof text, "%sengine: {collect_net_events: true}\nexpect: {net_events: {events: [{type: classify_drop, packet: 1, layer: ALE_AUTH_CONNECT_V4, filter: blk}]}}\n", base);
    expect_pass(text);
    snprintf(text, sizeof text, "%sengine: {collect_net_events: false}\nexpect: {net_events: {events: [{type: classify_drop, packet: 1}]}}\n", base);
    expect_fail(text, "net event");
    snprintf(text, sizeof text,
             "wfpsim: 1\n" HOST "engine: {net_event_keywords: [classify_allow]}\n"
             "policy: {filters: [{name: ok, layer: ALE_AUTH_CONNECT_V4, action: permit}]}\n"
             "traffic:\n" SYN_OUT("1ms", "50000")
             "expect: {net_events: {match: subset, events: [{type: classify_allow, packet: 1, filter: ok}]}}\n");
    expect_pass(text);
    expect_load_error("wfpsim: 1\nengine: {net_event_keywords: [nonsense]}\n", "net event keyword");
}

/* host: addresses decide direction; processes own sockets */
static void host_keys(void **state)
{
    (void)state;
    expect_pass("wfpsim: 1\n" HOST
                "policy: {filters: [{name: app-block, layer: ALE_AUTH_CONNECT_V4, action: block,"
                " conditions: [{field: ALE_APP_ID, value: 'C:\\Apps\\app.exe'}]}]}\n"
                "traffic:\n" SYN_OUT("1ms", "50000")
                "expect: {packets: [{packet: 1, verdict: block, filter: app-block}]}\n");
    /* the same packet is inbound on a host that does not own 10.0.0.2 */
    expect_fail("wfpsim: 1\nhost: {addresses: [192.0.2.10]}\n"
                "policy: {filters: [{name: out-block, layer: ALE_AUTH_CONNECT_V4, action: block}]}\n"
                "traffic:\n" SYN_OUT("1ms", "50000")
                "expect: {packets: [{packet: 1, verdict: block, filter: out-block}]}\n",
                "packet 1");
    expect_load_error("wfpsim: 1\nhost: {addresses: [10.0.0.300]}\n", "address");
}

/* hosts + links: two machines, a delay */
static void hosts_and_links(void **state)
{
    (void)state;
    expect_pass("wfpsim: 1\n"
                "hosts:\n"
                "  client: {addresses: [10.0.0.2], processes: [{name: c, sockets: [{protocol: tcp, local_port: \"49152-65535\"}]}]}\n"
                "  server:\n"
                "    addresses: [10.0.0.5]\n"
                "    processes: [{name: web, sockets: [{protocol: tcp, local_port: 80, listen: true}]}]\n"
                "    policy: {filters: [{name: srv-block, layer: ALE_AUTH_RECV_ACCEPT_V4, action: block}]}\n"
                "links: [{between: [client, server], delay: 1ms}]\n"
                "traffic:\n"
                "  - {at: 1ms, packet: {ip: {src: 10.0.0.2, dst: 10.0.0.5}, tcp: {sport: 50000, dport: 80, flags: S}}}\n"
                "expect: {packets: [{packet: 1, verdict: block, host: server, layer: ALE_AUTH_RECV_ACCEPT_V4, filter: srv-block}]}\n");
    expect_load_error("wfpsim: 1\nhosts: {a: {addresses: [10.0.0.1]}}\nlinks: [{between: [a, nobody]}]\n", "no host named");
}

/* policy: providers, sublayers, callouts (declarative), filters */
static void policy_keys(void **state)
{
    (void)state;
    expect_pass("wfpsim: 1\n" HOST
                "policy:\n"
                "  providers: [{name: V}]\n"
                "  sublayers: [{name: S, weight: 0x5000, provider: V}]\n"
                "  callouts:\n"
                "    - {name: c, layer: ALE_AUTH_CONNECT_V4, classify: [{when: {IP_REMOTE_PORT: 443}, action: block, clear_write_right: true}, {action: continue}]}\n"
                "  filters:\n"
                "    - {name: f, layer: ALE_AUTH_CONNECT_V4, sublayer: S, provider: V, weight: 10, action: callout_terminating, callout: c}\n"
                "traffic:\n" SYN_OUT("1ms", "50000")
                "expect: {packets: [{packet: 1, verdict: block, filter: f, reason: callout_block}]}\n");
    /* policies are checked when applied (wfpsim check, or the run): a setup failure naming the place */
    expect_fail("wfpsim: 1\npolicy: {filters: [{name: f, layer: NOPE, action: block}]}\n", "test.yaml:2");
}

/* sessions and steps: add/delete, expect_error, close_session */
static void session_and_step_keys(void **state)
{
    (void)state;
    const char *text = "wfpsim: 1\n" HOST
                       "sessions: [{name: vpn, user: S-1-5-18, admin: true, dynamic: true}, {name: viewer, user: S-1-5-21-1-2-3-1001, admin: false}]\n"
                       "steps:\n"
                       "  - {at: 2ms, session: vpn, op: add_filter, filter: {name: vpn-block, layer: ALE_AUTH_CONNECT_V4, action: block}}\n"
                       "  - {at: 3ms, session: viewer, op: delete_filter, name: vpn-block, expect_error: ERROR_ACCESS_DENIED}\n"
                       "  - {at: 4ms, op: close_session, session: vpn}\n"
                       "traffic:\n" SYN_OUT("1ms", "50000") SYN_OUT("3500us", "50001") SYN_OUT("5ms", "50002")
                       "expect: {packets: [{packet: 1, verdict: permit}, {packet: 2, verdict: block, filter: vpn-block}, {packet: 3, verdict: permit}]}\n";
    expect_pass(text);
    expect_fail("wfpsim: 1\n" HOST "steps: [{at: 1ms, op: delete_filter, name: ghost}]\n", "FWP_E_FILTER_NOT_FOUND");
    expect_fail("wfpsim: 1\n" HOST "steps: [{at: 1ms, op: delete_filter, name: ghost, expect_error: FWP_E_IN_USE}]\n",
                "expected FWP_E_IN_USE, observed FWP_E_FILTER_NOT_FOUND");
    expect_load_error("wfpsim: 1\nsteps: [{at: 1ms, op: explode}]\n", "unknown op");
}

/* transactions: begin, commit, abort; the lock */
static void transaction_steps(void **state)
{
    (void)state;
    expect_pass("wfpsim: 1\n" HOST
                "sessions: [{name: a}, {name: b, txn_wait_timeout: 10ms}]\n"
                "steps:\n"
                "  - {at: 1ms, session: a, op: begin}\n"
                "  - {at: 1ms, session: a, op: add_filter, filter: {name: x, layer: ALE_AUTH_CONNECT_V4, action: block}}\n"
                "  - {at: 2ms, session: b, op: add_filter, filter: {name: y, layer: ALE_AUTH_CONNECT_V4, action: block}, expect_error: FWP_E_TIMEOUT}\n"
                "  - {at: 20ms, session: a, op: abort}\n"
                "traffic:\n" SYN_OUT("1500us", "50000") SYN_OUT("30ms", "50001")
                "expect: {packets: [{packet: 1, verdict: permit}, {packet: 2, verdict: permit}]}\n");
    expect_fail("wfpsim: 1\n" HOST "steps: [{at: 1ms, op: commit}]\n", "FWP_E_NO_TXN_IN_PROGRESS");
}

/* subscribe + expect.notifications */
static void notification_keys(void **state)
{
    (void)state;
    const char *base = "wfpsim: 1\n" HOST
                       "sessions: [{name: watcher}, {name: writer}]\n"
                       "steps:\n"
                       "  - {at: 1ms, session: watcher, op: subscribe, object: filter}\n"
                       "  - {at: 2ms, session: writer, op: add_filter, filter: {name: f1, layer: ALE_AUTH_CONNECT_V4, action: block}}\n"
                       "  - {at: 3ms, session: writer, op: delete_filter, name: f1}\n";
    char text[4096];
    snprintf(text, sizeof text, "%sexpect: {notifications: [{session: watcher, change: add, object: filter, name: f1}, {session: watcher, change: delete, object: filter, name: f1}]}\n", base);
    expect_pass(text);
    snprintf(text, sizeof text, "%sexpect: {notifications: [{session: watcher, change: add, object: filter, name: f1}]}\n", base);
    expect_fail(text, "notification 2");
}

/* traffic: inline packet keys (ip, ip6, tcp, udp, icmp, icmp6, payload), repeat/every */
static void traffic_keys(void **state)
{
    (void)state;
    expect_pass("wfpsim: 1\n" HOST
                "policy: {filters: [{name: dns-block, layer: DATAGRAM_DATA_V4, action: block, conditions: [{field: IP_REMOTE_PORT, value: 53}]}]}\n"
                "traffic:\n"
                "  - {at: 1ms, packet: {ip: {src: 10.0.0.2, dst: 8.8.8.8, ttl: 64, id: 7, df: true}, udp: {sport: 53000, dport: 53}, payload: \"hex:0102\"}}\n"
                "  - {at: 2ms, packet: {ip6: {src: \"2001:db8::2\", dst: \"2001:db8::9\", hop_limit: 64, flow_label: 5}, icmp6: {type: 128, code: 0, id: 1, seq: 1}}}\n"
                "  - {at: 3ms, packet: {ip: {src: 10.0.0.2, dst: 192.0.2.1}, icmp: {type: 8, code: 0, id: 9, seq: 1}}, repeat: 3, every: 1s}\n"
                "expect:\n"
                "  packets: [{packet: 1, verdict: block, filter: dns-block}, {packets: \"2-5\", verdict: permit}]\n"
                "  stats: {packets: 5, blocked: 1, permitted: 4}\n");
    expect_load_error("wfpsim: 1\ntraffic: [{at: 1ms, packet: {ip: {src: 10.0.0.2, dst: 10.0.0.3}}}]\n", "tcp, udp");
    expect_load_error("wfpsim: 1\ntraffic: [{at: 1ms, packet: {ip6: {src: 10.0.0.2, dst: 10.0.0.3}, udp: {}}}]\n", "IPv6");
}

/* expect.classifications: every call, in order, exactly */
static void classification_keys(void **state)
{
    (void)state;
    const char *base = "wfpsim: 1\n" HOST
                       "policy: {filters: [{name: b, layer: OUTBOUND_TRANSPORT_V4, action: block}]}\n"
                       "traffic:\n" SYN_OUT("1ms", "50000");
    char text[4096];
    snprintf(text, sizeof text,
             "%sexpect:\n  classifications:\n    - packet: 1\n      calls:\n"
             "        - {layer: ALE_BIND_REDIRECT_V4}\n        - {layer: ALE_RESOURCE_ASSIGNMENT_V4}\n"
             "        - {layer: ALE_CONNECT_REDIRECT_V4}\n        - {layer: ALE_AUTH_CONNECT_V4, action: none_no_match}\n"
             "        - {layer: OUTBOUND_TRANSPORT_V4, action: block, filter: b, hard: true, veto: false}\n"
             "        - {layer: OUTBOUND_TRANSPORT_V4_DISCARD}\n",
             base);
    expect_pass(text);
    snprintf(text, sizeof text,
             "%sexpect:\n  classifications:\n    - packet: 1\n      calls:\n"
             "        - {layer: ALE_AUTH_CONNECT_V4}\n", base);
    expect_fail(text, "call 1");
    /* packet: start — the binds and listens of the host's sockets at time 0 (HOST: a TCP listener and a
     * UDP server, in both address families) */
    snprintf(text, sizeof text,
             "%sexpect:\n  classifications:\n    - packet: start\n      calls:\n"
             "        - {layer: ALE_BIND_REDIRECT_V4}\n        - {layer: ALE_RESOURCE_ASSIGNMENT_V4}\n"
             "        - {layer: ALE_AUTH_LISTEN_V4}\n"
             "        - {layer: ALE_BIND_REDIRECT_V6}\n        - {layer: ALE_RESOURCE_ASSIGNMENT_V6}\n"
             "        - {layer: ALE_AUTH_LISTEN_V6}\n"
             "        - {layer: ALE_BIND_REDIRECT_V4}\n        - {layer: ALE_RESOURCE_ASSIGNMENT_V4}\n"
             "        - {layer: ALE_BIND_REDIRECT_V6}\n        - {layer: ALE_RESOURCE_ASSIGNMENT_V6}\n"
             "  stats: {classify_calls: 6}\n",
             base);
    expect_pass(text);
    snprintf(text, sizeof text, "%sexpect:\n  classifications:\n    - {packet: start, calls: []}\n", base);
    expect_fail(text, "the start of host client: expected 0 calls, observed more: call 1 was ALE_BIND_REDIRECT_V4");
    snprintf(text, sizeof text, "%sexpect:\n  classifications:\n    - {packet: start, host: nope, calls: []}\n",
             base);
    expect_fail(text, "the start of host nope");
    expect_load_error("wfpsim: 1\nexpect:\n  classifications:\n    - {packet: begin, calls: []}\n",
                      "a packet number or start");
}

/* expect.stats and expect.flows */
static void stats_keys(void **state)
{
    (void)state;
    expect_pass("wfpsim: 1\n" HOST "traffic:\n" SYN_OUT("1ms", "50000") SYN_OUT("2ms", "50001")
                "expect: {stats: {packets: 2, permitted: 2, blocked: 0}, flows: 2}\n");
    expect_fail("wfpsim: 1\n" HOST "traffic:\n" SYN_OUT("1ms", "50000") "expect: {stats: {packets: 7}}\n",
                "stats.packets: expected 7, observed 1");
    expect_load_error("wfpsim: 1\nexpect: {stats: {bogus: 1}}\n", "unknown stat");
}

/* injection: inject / injection_state rules, expect.packets.injected_from,
 * stats.injected, and a callout that re-injects its own copies */
#define INJECTOR(first_rule)                                                                     \
    "policy:\n"                                                                                  \
    "  callouts:\n"                                                                              \
    "    - name: inj\n"                                                                          \
    "      layer: OUTBOUND_TRANSPORT_V4\n"                                                       \
    "      classify:\n" first_rule                                                               \
    "        - {action: block, absorb: true, clear_write_right: true, inject: clone}\n"          \
    "  filters: [{name: f, layer: OUTBOUND_TRANSPORT_V4, action: callout_terminating, callout: inj}]\n"
static void injection_keys(void **state)
{
    (void)state;
    const char *self = "        - {injection_state: [injected_by_self, previously_injected_by_self], action: permit}\n";
    char text[2048];
    snprintf(text, sizeof text,
             "wfpsim: 1\n" HOST INJECTOR("%s") "traffic:\n" SYN_OUT("1ms", "50000")
             "expect:\n  packets: [{packet: 1, verdict: block, injected_from: 0}, {packet: 2, verdict: permit, injected_from: 1}]\n"
             "  stats: {packets: 2, injected: 1, absorbed: 1, permitted: 1}\n",
             self);
    expect_pass(text);
    snprintf(text, sizeof text,
             "wfpsim: 1\n" HOST INJECTOR("%s") "traffic:\n" SYN_OUT("1ms", "50000")
             "expect: {packets: [{packet: 2, injected_from: 2}], stats: {injected: 3}}\n",
             self);
    expect_fail(text, "expected injected while packet 2 was classified, observed injected while packet 1 was classified");
    expect_fail(text, "stats.injected: expected 3, observed 1");
    expect_load_error("wfpsim: 1\nexpect: {packets: [{packet: 1, injected_from: x}]}\n", "injected_from");

    /* no rule for its own copies: each copy is injected again, until the
     * history is full — an error naming the cause */
    wfp_scenario_result *r = run_text("wfpsim: 1\n" HOST INJECTOR("") "traffic:\n" SYN_OUT("1ms", "50000"), NULL, 0);
    assert_false(wfp_scenario_result_passed(r));
    if (!strstr(wfp_scenario_result_reason(r), "re-injects its own copies"))
        fail_msg("unexpected reason: %s", wfp_scenario_result_reason(r));
    wfp_scenario_result_free(r);
}

/* policy.import: a state dump beside the scenario; what is not a regular,
 * readable dump is an error naming the key */
static void policy_import_key(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"wfpsim: 1\n" HOST "policy: {import: no-such-dump.xml}\n", "is not a readable state dump"},
        {"wfpsim: 1\n" HOST "policy: {import: /dev/null}\n", "is not a readable state dump"},
        {"wfpsim: 1\n" HOST "policy: {import: [a]}\n", "policy.import"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char msg[1024] = "";
        wfp_scenario_result *r = run_text(cases[i][0], msg, sizeof msg);
        const char *why = r ? wfp_scenario_result_reason(r) : msg;
        if (!why || !strstr(why, cases[i][1])) fail_msg("case %zu: '%s' lacks '%s'", i, why ? why : "", cases[i][1]);
        if (r) {
            assert_false(wfp_scenario_result_passed(r));
            wfp_scenario_result_free(r);
        }
    }
}

/* reboot: persistent filters stay, static ones go, boot-time rule until BFE start */
static void reboot_step(void **state)
{
    (void)state;
    expect_pass("wfpsim: 1\n" HOST
                "policy: {filters: [{name: p, layer: ALE_AUTH_CONNECT_V4, action: block, flags: [persistent], conditions: [{field: IP_REMOTE_PORT, value: 443}]},"
                " {name: s, layer: OUTBOUND_TRANSPORT_V4, action: block}]}\n"
                "steps: [{at: 2ms, op: reboot}]\n"
                "traffic:\n" SYN_OUT("1ms", "50000") SYN_OUT("3ms", "50001")
                "expect: {packets: [{packet: 1, verdict: block, filter: p}, {packet: 2, verdict: block, filter: p}]}\n");
}

/* enum, create_enum_handle, destroy_enum_handle: snapshots and templates */
static void enum_steps(void **state)
{
    (void)state;
    const char *base = "wfpsim: 1\n" HOST
                       "policy:\n"
                       "  providers: [{name: V}]\n"
                       "  sublayers: [{name: hi, weight: 0x9000}, {name: lo, weight: 0x1000, provider: V}]\n"
                       "  filters:\n"
                       "    - {name: a, layer: ALE_AUTH_CONNECT_V4, sublayer: lo, weight: 9, action: permit, provider: V, conditions: [{field: IP_REMOTE_PORT, value: 443}]}\n"
                       "    - {name: b, layer: ALE_AUTH_CONNECT_V4, sublayer: hi, weight: 1, action: block}\n"
                       "    - {name: c, layer: ALE_AUTH_RECV_ACCEPT_V4, action: block}\n"
                       "steps:\n"
                       "  - {at: 1ms, op: create_enum_handle, handle: h, object: filter, template: {layer: ALE_AUTH_CONNECT_V4}}\n"
                       "  - {at: 2ms, op: add_filter, filter: {name: d, layer: ALE_AUTH_CONNECT_V4, action: block}}\n";
    char text[8192];
    snprintf(text, sizeof text,
             "%s  - {at: 3ms, op: enum, handle: h, expect: [a, b]}\n"
             "  - {at: 3ms, op: destroy_enum_handle, handle: h}\n"
             "  - {at: 3ms, op: enum, object: filter, template: {layer: ALE_AUTH_CONNECT_V4}, expect: [a, b, d]}\n"
             "  - {at: 3ms, op: enum, object: filter, template: {provider: V}, expect: [a]}\n"
             "  - {at: 3ms, op: enum, object: filter, template: {layer: ALE_AUTH_CONNECT_V4, flags: [sorted]}, expect: [b, d, a]}\n"
             "  - {at: 3ms, op: enum, object: filter, template: {layer: ALE_AUTH_CONNECT_V4, action_mask: [permit], callout: x}, expect_error: FWP_E_NEVER_MATCH}\n"
             "  - {at: 3ms, op: enum, object: filter, template: {layer: ALE_AUTH_CONNECT_V4, action_mask: 0x2}, expect: [a]}\n"
             "  - {at: 3ms, op: enum, object: filter, template: {layer: ALE_AUTH_CONNECT_V4, enum_type: overlapping,"
             " conditions: [{field: IP_REMOTE_PORT, match: range, value: \"400-500\"}]}, expect: [a, b, d]}\n"
             "  - {at: 3ms, op: enum, object: filter, template: {layer: ALE_AUTH_CONNECT_V4,"
             " conditions: [{field: IP_REMOTE_PORT, match: range, value: \"400-500\"}]}, expect: [b, d]}\n"
             "  - {at: 3ms, op: enum, object: sublayer, template: {provider: V}, expect: [lo]}\n"
             "  - {at: 3ms, op: enum, object: callout, template: {provider: V, layer: ALE_AUTH_CONNECT_V4}, expect: []}\n",
             base);
    expect_pass(text);
    /* the handle is a snapshot: d is not on it */
    snprintf(text, sizeof text, "%s  - {at: 3ms, op: enum, handle: h, expect: [a, b, d]}\n", base);
    expect_fail(text, "test.yaml:20:44: step 3 (enum): expected [a, b, d], observed [a, b]");
    snprintf(text, sizeof text, "%s  - {at: 3ms, op: enum, handle: nope, expect: []}\n", base);
    expect_fail(text, "no open enum handle 'nope'");
    snprintf(text, sizeof text, "%s  - {at: 3ms, op: enum, object: filter, template: {flags: [bogus]}, expect: []}\n", base);
    expect_fail(text, "test.yaml:20:60: template.flags: unknown name 'bogus'");
    snprintf(text, sizeof text, "%s  - {at: 3ms, op: enum, object: filter, template: {enum_type: partly}, expect: []}\n", base);
    expect_fail(text, "enum_type: expected fully_contained or overlapping");
    snprintf(text, sizeof text, "%s  - {at: 3ms, op: enum, object: filter, template: {conditions: {IP_REMOTE_PORT: 1}}, expect: []}\n", base);
    expect_fail(text, "need a template.layer");
    expect_load_error("wfpsim: 1\nsteps: [{op: enum, object: filter, template: {bogus: 1}, expect: []}]\n",
                      "test.yaml:2:47: unknown key 'bogus'");
    expect_load_error("wfpsim: 1\nsteps: [{op: enum, object: filter}]\n", "needs 'expect'");
    expect_load_error("wfpsim: 1\nsteps: [{op: enum, object: engine, expect: []}]\n", "expected provider, sublayer, callout or filter");
    expect_load_error("wfpsim: 1\nsteps: [{op: enum, object: provider, template: {layer: x}, expect: []}]\n", "take no template");
    expect_load_error("wfpsim: 1\nsteps: [{op: enum, handle: h, object: filter, expect: []}]\n", "takes the handle's object");
    expect_load_error("wfpsim: 1\nsteps: [{op: create_enum_handle, object: filter}]\n", "needs 'handle'");
    expect_load_error("wfpsim: 1\nsteps: [{op: destroy_enum_handle, handle: h, sddl: x}]\n", "takes no 'sddl'");
}

/* enum_net_events: the template's window, conditions and type */
static void enum_net_events_step(void **state)
{
    (void)state;
    const char *base = "wfpsim: 1\n" HOST
                       "policy: {filters: [{name: blk, layer: ALE_AUTH_CONNECT_V4, action: block}]}\n"
                       "traffic:\n" SYN_OUT("1ms", "50000") SYN_OUT("2ms", "50001")
                       "steps:\n";
    char text[4096];
    snprintf(text, sizeof text,
             "%s  - {at: 3ms, op: enum_net_events, expect: [{type: classify_drop, packet: 1, filter: blk}, {type: classify_drop, packet: 2}]}\n"
             "  - {at: 3ms, op: enum_net_events, template: {from: 1500us, to: 3ms}, expect: [{type: classify_drop, packet: 2}]}\n"
             "  - {at: 3ms, op: enum_net_events, template: {conditions: {IP_LOCAL_PORT: 50000}}, expect: [{type: classify_drop, packet: 1}]}\n"
             "  - {at: 3ms, op: enum_net_events, template: {type: classify_allow}, expect: []}\n"
             "  - {at: 3ms, op: enum_net_events, template: {from: 2ms, to: 1ms}, expect_error: FWP_E_INVALID_INTERVAL}\n",
             base);
    expect_pass(text);
    snprintf(text, sizeof text, "%s  - {at: 3ms, op: enum_net_events, expect: [{type: classify_drop, packet: 2}]}\n", base);
    expect_fail(text, "event 1: expected classify_drop packet 2, observed classify_drop packet 1 at ALE_AUTH_CONNECT_V4 by blk");
    snprintf(text, sizeof text, "%s  - {at: 3ms, op: enum_net_events, expect: [{type: classify_drop}]}\n", base);
    expect_fail(text, "event 2: expected no more events (1 listed), observed classify_drop packet 2");
    snprintf(text, sizeof text, "%s  - {at: 3ms, op: enum_net_events, template: {type: nonsense}, expect: []}\n", base);
    expect_fail(text, "template.type: unknown net event type 'nonsense'");
    expect_load_error("wfpsim: 1\nsteps: [{op: enum_net_events, template: {layer: x}, expect: []}]\n", "unknown key 'layer'");
    expect_load_error("wfpsim: 1\nsteps: [{op: enum_net_events, expect: [{type: boom}]}]\n", "net event type");
}

/* subscribe with a template */
static void subscribe_template(void **state)
{
    (void)state;
    const char *base = "wfpsim: 1\n" HOST
                       "sessions: [{name: watcher}, {name: writer}]\n"
                       "steps:\n"
                       "  - {at: 1ms, session: watcher, op: subscribe, object: filter, template: {layer: ALE_AUTH_RECV_ACCEPT_V4}}\n"
                       "  - {at: 2ms, session: writer, op: add_filter, filter: {name: f1, layer: ALE_AUTH_CONNECT_V4, action: block}}\n"
                       "  - {at: 3ms, session: writer, op: add_filter, filter: {name: f2, layer: ALE_AUTH_RECV_ACCEPT_V4, action: block}}\n";
    char text[4096];
    snprintf(text, sizeof text, "%sexpect: {notifications: [{session: watcher, change: add, object: filter, name: f2}]}\n", base);
    expect_pass(text);
    snprintf(text, sizeof text, "%sexpect: {notifications: [{session: watcher, change: add, object: filter, name: f1}]}\n", base);
    expect_fail(text, "notification 1");
    expect_load_error("wfpsim: 1\nsteps: [{op: subscribe, object: provider, template: {layer: x}}]\n", "take no template");
    expect_load_error("wfpsim: 1\nsteps: [{op: unsubscribe, object: filter, template: {}}]\n", "takes no 'template'");
}

/* get_security / set_security; host.services; callout notify */
static void security_steps(void **state)
{
    (void)state;
    const char *base = "wfpsim: 1\n" HOST
                       "policy: {filters: [{name: g, layer: ALE_AUTH_CONNECT_V4, action: block}]}\n"
                       "sessions: [{name: admin, user: S-1-5-21-1-2-3-500}]\n"
                       "steps:\n"
                       "  - {at: 1ms, op: set_security, object: filter, name: g, sddl: \"D:(D;;SD;;;WD)\"}\n"
                       "  - {at: 1ms, session: admin, op: delete_filter, name: g, expect_error: ERROR_ACCESS_DENIED}\n";
    char text[4096];
    snprintf(text, sizeof text,
             "%s  - {at: 1ms, op: get_security, object: filter, name: g, expect: \"D:(D;;SD;;;WD)\"}\n"
             "  - {at: 1ms, op: get_security, object: engine}\n"
             "  - {at: 1ms, op: get_security, object: layer}\n"
             "  - {at: 1ms, op: set_security, object: net_events, sddl: \"D:(A;;GA;;;BA)\"}\n",
             base);
    expect_pass(text);
    snprintf(text, sizeof text, "%s  - {at: 1ms, op: get_security, object: filter, name: g, expect: \"O:BA\"}\n", base);
    expect_fail(text, "step 3 (get_security): expected O:BA, observed D:(D;;SD;;;WD)");
    snprintf(text, sizeof text, "%s  - {at: 1ms, op: get_security, object: filter, name: nope}\n", base);
    expect_fail(text, "step 3 (get_security) failed: FWP_E_FILTER_NOT_FOUND");
    expect_load_error("wfpsim: 1\nsteps: [{op: set_security, object: engine}]\n", "needs 'sddl'");
    expect_load_error("wfpsim: 1\nsteps: [{op: set_security, object: engine, sddl: hello}]\n", "test.yaml:2:50: step.sddl");
    expect_load_error("wfpsim: 1\nsteps: [{op: get_security, object: engine, name: x}]\n", "test.yaml:2:50: step.name: only providers");
    expect_load_error("wfpsim: 1\nsteps: [{op: get_security, object: planet}]\n", "expected engine, provider");
    expect_load_error("wfpsim: 1\nsteps: [{op: get_security, object: engine, sddl: x}]\n", "takes no 'sddl'");
}

/* host.services gates a provider's persistent filters at BFE start */
static void services_key(void **state)
{
    (void)state;
    const char *fmt = "wfpsim: 1\n" HOST
                      "  services: [{name: Svc, autostart: %s}]\n"
                      "policy:\n"
                      "  providers: [{name: P, persistent: true, service_name: Svc}]\n"
                      "  filters: [{name: f, layer: ALE_AUTH_CONNECT_V4, provider: P, action: block, flags: [persistent]}]\n"
                      "steps: [{at: 1ms, op: reboot}]\n"
                      "traffic:\n" SYN_OUT("2ms", "50000")
                      "expect: {packets: [{packet: 1, verdict: permit}]}\n";
    char text[4096];
    snprintf(text, sizeof text, fmt, "false");
    expect_pass(text);
    snprintf(text, sizeof text, fmt, "true");
    expect_fail(text, "packet 1: expected verdict permit, observed block");
    expect_load_error("wfpsim: 1\nhost: {services: [{name: S}]}\n", "needs 'autostart'");
    expect_load_error("wfpsim: 1\nhost: {services: [{name: S, autostart: maybe}]}\n", "test.yaml:2:");
    expect_load_error("wfpsim: 1\nhost: {services: [{name: S, start: auto}]}\n", "unknown key 'start'");
}

/* callouts: notify: reject_add refuses their filters */
static void callout_notify_key(void **state)
{
    (void)state;
    const char *fmt = "wfpsim: 1\n" HOST
                      "policy: {callouts: [{name: c, layer: ALE_AUTH_CONNECT_V4, notify: %s}]}\n"
                      "steps: [{at: 1ms, op: add_filter, filter: {name: f, layer: ALE_AUTH_CONNECT_V4, action: callout_terminating, callout: c},"
                      " expect_error: FWP_E_CALLOUT_NOTIFICATION_FAILED}]\n";
    char text[4096];
    snprintf(text, sizeof text, fmt, "reject_add");
    expect_pass(text);
    snprintf(text, sizeof text, fmt, "accept");
    expect_fail(text, "expected FWP_E_CALLOUT_NOTIFICATION_FAILED, observed ERROR_SUCCESS");
    snprintf(text, sizeof text, fmt, "sometimes");
    expect_fail(text, "test.yaml:10:67: unknown notify 'sometimes' (expected accept or reject_add)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(top_level_keys),     cmocka_unit_test(engine_keys),
        cmocka_unit_test(host_keys),          cmocka_unit_test(hosts_and_links),
        cmocka_unit_test(policy_keys),        cmocka_unit_test(session_and_step_keys),
        cmocka_unit_test(transaction_steps),  cmocka_unit_test(notification_keys),
        cmocka_unit_test(traffic_keys),       cmocka_unit_test(classification_keys),
        cmocka_unit_test(stats_keys),         cmocka_unit_test(reboot_step),
        cmocka_unit_test(injection_keys),     cmocka_unit_test(policy_import_key),
        cmocka_unit_test(enum_steps),         cmocka_unit_test(enum_net_events_step),
        cmocka_unit_test(subscribe_template), cmocka_unit_test(security_steps),
        cmocka_unit_test(services_key),       cmocka_unit_test(callout_notify_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
