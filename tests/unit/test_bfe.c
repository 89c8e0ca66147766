/* test_bfe.c — the Base Filtering Engine: transactions and the lock,
 * all-or-nothing commits, change notifications, the security model,
 * engine options, reboots, provider gating and statistics (spec §7–§12). */
#include "engine_fixture.h"
#include "wfp_enum.h"

#define L_CONNECT "ALE_AUTH_CONNECT_V4"
#define L_ACCEPT "ALE_AUTH_RECV_ACCEPT_V4"

static wfp_filter mkfilter(const char *name, const char *layer)
{
    wfp_filter f;
    memset(&f, 0, sizeof f);
    f.key = fx_key("filter", name);
    f.display.name = name;
    f.layer_key = fx_layer(layer)->key;
    f.action.type = FWP_ACTION_BLOCK;
    return f;
}

static wfp_session *open_session(wfp_engine *e, bool admin, uint32_t flags, const char *user)
{
    wfp_session *s = NULL;
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.admin = admin;
    d.flags = flags;
    d.user_sid = user;
    assert_int_equal(wfp_session_open(e, &d, &s), 0);
    return s;
}

static bool exists(fx *f, const char *name)
{
    wfp_guid k = fx_key("filter", name);
    const wfp_filter *out;
    return wfp_filter_get_by_key(f->s, &k, &out) == 0;
}

/* EVIDENCE: C45 — W32 object-management "Transactions": a failing call does not doom the transaction */
static void transaction_partial_failure_then_commit_or_abort(void **state)
{
    fx *f = *state;
    wfp_filter a = mkfilter("F1", L_CONNECT), b = mkfilter("F2", L_CONNECT), dup = mkfilter("F1", L_CONNECT);
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_filter_add(f->s, &a, NULL), 0);
    assert_int_equal(wfp_filter_add(f->s, &b, NULL), 0);
    assert_int_equal(wfp_filter_add(f->s, &dup, NULL), FWP_E_ALREADY_EXISTS);
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_true(exists(f, "F1"));
    assert_true(exists(f, "F2"));

    wfp_filter c = mkfilter("F3", L_CONNECT), d = mkfilter("F4", L_CONNECT);
    static char before[1 << 16], after[1 << 16];
    wfp_engine_dump(f->e, before, sizeof before);
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_filter_add(f->s, &c, NULL), 0);
    assert_int_equal(wfp_filter_add(f->s, &d, NULL), 0);
    assert_int_equal(wfp_filter_delete_by_key(f->s, &a.key), 0);
    assert_int_equal(wfp_txn_abort(f->s), 0);
    wfp_engine_dump(f->e, after, sizeof after);
    assert_string_equal(before, after); /* an aborted transaction leaves no trace */
    assert_false(exists(f, "F3"));
    assert_true(exists(f, "F1"));
}

/* EVIDENCE: C46 — SDK FwpmTransactionBegin0/Commit0: no nesting; read-only transactions refuse writes */
static void transaction_misuse_codes(void **state)
{
    fx *f = *state;
    wfp_filter a = mkfilter("F1", L_CONNECT);
    assert_int_equal(wfp_txn_commit(f->s), FWP_E_NO_TXN_IN_PROGRESS);
    assert_int_equal(wfp_txn_abort(f->s), FWP_E_NO_TXN_IN_PROGRESS);
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_txn_begin(f->s, 0), FWP_E_TXN_IN_PROGRESS);
    wfp_subscription sub = {WFP_OBJECT_FILTER, 0, NULL, NULL, NULL};
    assert_int_equal(wfp_subscribe_changes(f->s, &sub, (wfp_change_fn)abort, NULL, NULL), FWP_E_TXN_IN_PROGRESS);
    wfp_value one = {FWP_UINT32, {.u32 = 1}};
    assert_int_equal(wfp_engine_set_option(f->s, FWPM_ENGINE_COLLECT_NET_EVENTS, &one), FWP_E_TXN_IN_PROGRESS);
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_int_equal(wfp_txn_begin(f->s, FWPM_TXN_READ_ONLY), 0);
    assert_int_equal(wfp_filter_add(f->s, &a, NULL), FWP_E_INCOMPATIBLE_TXN);
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_false(exists(f, "F1"));
}

/* EVIDENCE: C47 — W32 object-management: one writer at a time; others wait on the lock (here: FWP_E_TIMEOUT, the wait is the caller's) */
static void one_writer_at_a_time(void **state)
{
    fx *f = *state;
    wfp_session *other = open_session(f->e, true, 0, NULL);
    wfp_filter a = mkfilter("F1", L_CONNECT), b = mkfilter("F2", L_CONNECT);
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_ptr_equal(wfp_engine_lock_holder(f->e), f->s);
    assert_int_equal(wfp_filter_add(other, &b, NULL), FWP_E_TIMEOUT);
    assert_int_equal(wfp_txn_begin(other, 0), FWP_E_TIMEOUT);
    const wfp_filter *out;
    assert_int_equal(wfp_filter_get_by_key(other, &a.key, &out), FWP_E_TIMEOUT);
    assert_int_equal(wfp_filter_add(f->s, &a, NULL), 0);
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_null(wfp_engine_lock_holder(f->e));
    assert_int_equal(wfp_filter_add(other, &b, NULL), 0);
    assert_int_equal(wfp_session_txn_wait_timeout_ms(other), 15000); /* 0 means the 15 s default */
    wfp_session_close(other);
}

/* EVIDENCE: C48 — W32 object-management: a forcibly aborted transaction's next call fails with FWP_E_TXN_ABORTED */
static void forced_abort(void **state)
{
    fx *f = *state;
    wfp_filter a = mkfilter("F1", L_CONNECT), b = mkfilter("F2", L_CONNECT);
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_filter_add(f->s, &a, NULL), 0);
    assert_int_equal(wfp_txn_force_abort(f->s), 0);
    assert_null(wfp_engine_lock_holder(f->e));
    assert_int_equal(wfp_filter_add(f->s, &b, NULL), FWP_E_TXN_ABORTED);
    assert_false(exists(f, "F1"));
    assert_int_equal(wfp_filter_add(f->s, &b, NULL), 0); /* then the session goes on */
}

/* EVIDENCE: TXN-SNAPSHOT-AT-COMMIT — spec §9.2 isolation: classification sees a transaction's changes only after commit */
static void classify_sees_changes_only_at_commit(void **state)
{
    fx *f = *state;
    wfp_filter a = mkfilter("block", L_CONNECT);
    fx_values(f, L_CONNECT);
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_filter_add(f->s, &a, NULL), 0);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_NONE_NO_MATCH);
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_BLOCK);
    /* deletes too: the old snapshot stays valid until the commit */
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_filter_delete_by_key(f->s, &a.key), 0);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_BLOCK);
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_NONE_NO_MATCH);
}

/* ---- notifications ------------------------------------------------------ */

typedef struct notes {
    int n;
    wfp_change c[16];
} notes;

static void record(void *ctx, const wfp_change *c)
{
    notes *ns = ctx;
    if (ns->n < 16) ns->c[ns->n] = *c;
    ns->n++;
}

/* EVIDENCE: C56 — W32 change-notifications: a session never hears its own changes; ADD and DELETE with key and id */
static void notifications_skip_own_changes(void **state)
{
    fx *f = *state;
    wfp_session *b = open_session(f->e, true, 0, NULL);
    notes ns = {0};
    wfp_subscription sub = {WFP_OBJECT_FILTER, 0, NULL, NULL, NULL};
    assert_int_equal(wfp_subscribe_changes(f->s, &sub, record, &ns, NULL), 0);
    wfp_filter mine = mkfilter("mine", L_CONNECT), theirs = mkfilter("theirs", L_CONNECT);
    uint64_t id;
    assert_int_equal(wfp_filter_add(f->s, &mine, NULL), 0);
    assert_int_equal(ns.n, 0);
    assert_int_equal(wfp_filter_add(b, &theirs, &id), 0);
    assert_int_equal(ns.n, 1);
    assert_int_equal(ns.c[0].change_type, FWPM_CHANGE_ADD);
    assert_true(wfp_guid_eq(&ns.c[0].key, &theirs.key));
    assert_int_equal(ns.c[0].id, id);
    assert_int_equal(wfp_filter_delete_by_id(b, id), 0);
    assert_int_equal(ns.n, 2);
    assert_int_equal(ns.c[1].change_type, FWPM_CHANGE_DELETE);

    /* delete-only subscriptions hear only deletes */
    notes del = {0};
    wfp_subscription delsub = {WFP_OBJECT_FILTER, FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE, NULL, NULL, NULL};
    assert_int_equal(wfp_subscribe_changes(f->s, &delsub, record, &del, NULL), 0);
    assert_int_equal(wfp_filter_add(b, &theirs, &id), 0);
    assert_int_equal(wfp_filter_delete_by_id(b, id), 0);
    assert_int_equal(del.n, 1);
    assert_int_equal(del.c[0].change_type, FWPM_CHANGE_DELETE);
    wfp_session_close(b);
}

/* EVIDENCE: C57 — W32 monitoring-filter-changes: a template filters notifications */
static void notifications_follow_the_template(void **state)
{
    fx *f = *state;
    wfp_session *b = open_session(f->e, true, 0, NULL);
    notes ns = {0};
    wfp_filter_enum_template t;
    memset(&t, 0, sizeof t);
    t.layer_key = fx_layer(L_ACCEPT)->key;
    t.action_mask = 0xffffffffu;
    wfp_subscription sub = {WFP_OBJECT_FILTER, 0, &t, NULL, NULL};
    assert_int_equal(wfp_subscribe_changes(f->s, &sub, record, &ns, NULL), 0);
    wfp_filter x = mkfilter("accept", L_ACCEPT), y = mkfilter("connect", L_CONNECT);
    assert_int_equal(wfp_filter_add(b, &x, NULL), 0);
    assert_int_equal(wfp_filter_add(b, &y, NULL), 0);
    assert_int_equal(ns.n, 1);
    assert_true(wfp_guid_eq(&ns.c[0].key, &x.key));
    wfp_session_close(b);
}

/* EVIDENCE: C59 — spec §8.2 (inferred): notifications after commit, in operation order; none for an aborted transaction */
static void notifications_after_commit_only(void **state)
{
    fx *f = *state;
    wfp_session *b = open_session(f->e, true, 0, NULL);
    notes ns = {0};
    wfp_subscription sub = {WFP_OBJECT_FILTER, 0, NULL, NULL, NULL};
    assert_int_equal(wfp_subscribe_changes(f->s, &sub, record, &ns, NULL), 0);
    wfp_filter x = mkfilter("x", L_CONNECT), y = mkfilter("y", L_CONNECT);
    assert_int_equal(wfp_txn_begin(b, 0), 0);
    assert_int_equal(wfp_filter_add(b, &x, NULL), 0);
    assert_int_equal(wfp_txn_abort(b), 0);
    assert_int_equal(ns.n, 0);
    assert_int_equal(wfp_txn_begin(b, 0), 0);
    assert_int_equal(wfp_filter_add(b, &x, NULL), 0);
    assert_int_equal(wfp_filter_add(b, &y, NULL), 0);
    assert_int_equal(ns.n, 0); /* nothing before the commit */
    assert_int_equal(wfp_txn_commit(b), 0);
    assert_int_equal(ns.n, 2);
    assert_true(wfp_guid_eq(&ns.c[0].key, &x.key));
    assert_true(wfp_guid_eq(&ns.c[1].key, &y.key));
    wfp_session_close(b);
}

/* EVIDENCE: C43 — W32 object-management: a dynamic session's objects go when it closes, and others hear the deletes (inferred) */
static void dynamic_session_close_publishes_deletes(void **state)
{
    fx *f = *state;
    wfp_session *d = open_session(f->e, true, FWPM_SESSION_FLAG_DYNAMIC, NULL);
    notes ns = {0};
    wfp_subscription sub = {WFP_OBJECT_FILTER, FWPM_SUBSCRIPTION_FLAG_NOTIFY_ON_DELETE, NULL, NULL, NULL};
    assert_int_equal(wfp_subscribe_changes(f->s, &sub, record, &ns, NULL), 0);
    wfp_filter x = mkfilter("vpn", L_CONNECT);
    assert_int_equal(wfp_filter_add(d, &x, NULL), 0);
    wfp_session_close(d);
    assert_false(exists(f, "vpn"));
    assert_int_equal(ns.n, 1);
    assert_int_equal(ns.c[0].change_type, FWPM_CHANGE_DELETE);
}

/* A dynamic session closed while another holds the lock takes its objects when the lock frees. */
static void dynamic_close_waits_for_the_lock(void **state)
{
    fx *f = *state;
    wfp_session *d = open_session(f->e, true, FWPM_SESSION_FLAG_DYNAMIC, NULL);
    wfp_filter x = mkfilter("vpn", L_CONNECT);
    assert_int_equal(wfp_filter_add(d, &x, NULL), 0);
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    wfp_session_close(d);
    assert_true(exists(f, "vpn"));
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_false(exists(f, "vpn"));
}

/* EVIDENCE: C58 — W32 access-control: notifications only for objects the subscriber may READ */
static void notifications_need_read(void **state)
{
    fx *f = *state;
    static const char *const nco[] = {"NO"};
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.user_sid = "S-1-5-21-1-2-3-1002";
    d.groups = nco;
    d.num_groups = 1;
    wfp_session *op = NULL;
    assert_int_equal(wfp_session_open(f->e, &d, &op), 0);
    notes ns = {0};
    wfp_subscription sub = {WFP_OBJECT_FILTER, 0, NULL, NULL, NULL};
    assert_int_equal(wfp_subscribe_changes(op, &sub, record, &ns, NULL), 0);
    /* the filter container now refuses that user READ: no notification */
    assert_int_equal(wfp_set_security(f->s, WFP_OBJECT_FILTER, NULL, DACL_SECURITY_INFORMATION,
                                      "D:(D;;0x80;;;S-1-5-21-1-2-3-1002)"), 0);
    wfp_filter x = mkfilter("hidden", L_CONNECT);
    assert_int_equal(wfp_filter_add(f->s, &x, NULL), 0);
    assert_int_equal(ns.n, 0);
    assert_int_equal(wfp_set_security(f->s, WFP_OBJECT_FILTER, NULL, DACL_SECURITY_INFORMATION, "D:(A;;GR;;;BA)"), 0);
    wfp_filter y = mkfilter("visible", L_CONNECT);
    assert_int_equal(wfp_filter_add(f->s, &y, NULL), 0);
    assert_int_equal(ns.n, 1);
    /* no SUBSCRIBE right on the container: refused */
    wfp_session *user = open_session(f->e, false, 0, "S-1-5-21-1-2-3-1001");
    assert_int_equal(wfp_subscribe_changes(user, &sub, record, &ns, NULL), ERROR_ACCESS_DENIED);
    wfp_session_close(user);
    wfp_session_close(op);
}

/* EVIDENCE: C49B — W32 installing-a-provider / uninstalling-a-provider: uninstall order in one transaction */
static void uninstall_order(void **state)
{
    fx *f = *state;
    wfp_provider p;
    memset(&p, 0, sizeof p);
    p.key = fx_key("provider", "P");
    p.display.name = "P";
    p.flags = FWPM_PROVIDER_FLAG_PERSISTENT;
    wfp_sublayer sl;
    memset(&sl, 0, sizeof sl);
    sl.key = fx_key("sublayer", "S");
    sl.display.name = "S";
    sl.flags = FWPM_SUBLAYER_FLAG_PERSISTENT;
    sl.provider_key = &p.key;
    sl.weight = 0x8000;
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_provider_add(f->s, &p), 0);
    assert_int_equal(wfp_sublayer_add(f->s, &sl), 0);
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_int_equal(wfp_txn_begin(f->s, 0), 0);
    assert_int_equal(wfp_provider_delete_by_key(f->s, &p.key), FWP_E_IN_USE);
    assert_int_equal(wfp_sublayer_delete_by_key(f->s, &sl.key), 0);
    assert_int_equal(wfp_provider_delete_by_key(f->s, &p.key), 0);
    assert_int_equal(wfp_txn_commit(f->s), 0);
    assert_int_equal(wfp_sublayer_delete_by_key(f->s, &sl.key), FWP_E_SUBLAYER_NOT_FOUND);
    assert_int_equal(wfp_provider_delete_by_key(f->s, &p.key), FWP_E_PROVIDER_NOT_FOUND);
    assert_int_equal(wfp_provider_add(f->s, &p), 0);
    assert_int_equal(wfp_provider_add(f->s, &p), FWP_E_ALREADY_EXISTS);
}

/* ---- security ----------------------------------------------------------- */

/* EVIDENCE: C64 — W32 access-control: default engine SD; Everyone may open, not add; NCO may add; kernel mode bypasses */
static void default_security_descriptor(void **state)
{
    fx *f = *state;
    wfp_session *user = open_session(f->e, false, 0, "S-1-5-21-1-2-3-1001");
    wfp_filter x = mkfilter("x", L_CONNECT);
    assert_int_equal(wfp_filter_add(user, &x, NULL), ERROR_ACCESS_DENIED);
    assert_int_equal(wfp_txn_begin(user, 0), ERROR_ACCESS_DENIED);
    const wfp_filter *out;
    assert_int_equal(wfp_filter_add(f->s, &x, NULL), 0);
    assert_int_equal(wfp_filter_get_by_key(user, &x.key, &out), ERROR_ACCESS_DENIED);
    wfp_session_close(user);

    static const char *const nco[] = {"NO"};
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.user_sid = "S-1-5-21-1-2-3-1002";
    d.groups = nco;
    d.num_groups = 1;
    wfp_session *op = NULL;
    assert_int_equal(wfp_session_open(f->e, &d, &op), 0);
    wfp_filter y = mkfilter("y", L_CONNECT);
    assert_int_equal(wfp_filter_add(op, &y, NULL), 0);
    wfp_session_close(op);

    memset(&d, 0, sizeof d);
    d.user_sid = "S-1-5-21-1-2-3-1003";
    d.kernel_mode = true;
    wfp_session *km = NULL;
    assert_int_equal(wfp_session_open(f->e, &d, &km), 0);
    wfp_filter z = mkfilter("z", L_CONNECT);
    assert_int_equal(wfp_filter_add(km, &z, NULL), 0);
    wfp_session_close(km);
}

/* EVIDENCE: C65 — W32 access-control: administrators can always open the engine and take ownership */
static void admin_lockout_recovery(void **state)
{
    fx *f = *state;
    assert_int_equal(wfp_set_security(f->s, WFP_OBJECT_TYPE_COUNT, NULL, DACL_SECURITY_INFORMATION, "D:(D;;GA;;;WD)"), 0);
    wfp_session *admin = open_session(f->e, true, 0, "S-1-5-21-1-2-3-500");
    wfp_filter x = mkfilter("x", L_CONNECT);
    assert_int_equal(wfp_filter_add(admin, &x, NULL), ERROR_ACCESS_DENIED);
    /* take ownership, then (as owner: WRITE_DAC) rewrite the DACL */
    assert_int_equal(wfp_set_security(admin, WFP_OBJECT_TYPE_COUNT, NULL, OWNER_SECURITY_INFORMATION, "O:S-1-5-21-1-2-3-500"), 0);
    assert_int_equal(wfp_set_security(admin, WFP_OBJECT_TYPE_COUNT, NULL, DACL_SECURITY_INFORMATION, "D:(A;;GA;;;BA)"), 0);
    assert_int_equal(wfp_filter_add(admin, &x, NULL), 0);
    wfp_session_close(admin);
}

/* EVIDENCE: C66 — W32 hindering-filter-deletion / forcing-filter-deletion */
static void hindering_and_forcing_deletion(void **state)
{
    fx *f = *state;
    wfp_filter x = mkfilter("guarded", L_CONNECT);
    assert_int_equal(wfp_filter_add(f->s, &x, NULL), 0);
    assert_int_equal(wfp_set_security(f->s, WFP_OBJECT_FILTER, &x.key, DACL_SECURITY_INFORMATION,
                                      "D:(D;;SDWDWO;;;WD)"), 0);
    assert_int_equal(wfp_filter_delete_by_key(f->s, &x.key), ERROR_ACCESS_DENIED);
    assert_int_equal(wfp_set_security(f->s, WFP_OBJECT_FILTER, &x.key, OWNER_SECURITY_INFORMATION, "O:BA"), 0);
    assert_int_equal(wfp_set_security(f->s, WFP_OBJECT_FILTER, &x.key, DACL_SECURITY_INFORMATION, "D:(A;;SD;;;BA)"), 0);
    assert_int_equal(wfp_filter_delete_by_key(f->s, &x.key), 0);
    const char *sddl;
    assert_int_equal(wfp_get_security(f->s, WFP_OBJECT_TYPE_COUNT, NULL, &sddl), 0);
    assert_non_null(strstr(sddl, "D:"));
}

/* ---- options, reboot, statistics ----------------------------------------- */

/* EVIDENCE: C60 — SDK FwpmEngineSetOption0: defaults, not in a transaction, not from a dynamic session */
static void engine_options(void **state)
{
    fx *f = *state;
    wfp_value v;
    assert_int_equal(wfp_engine_get_option(f->s, FWPM_ENGINE_COLLECT_NET_EVENTS, &v), 0);
    assert_int_equal(v.type, FWP_UINT32);
    assert_int_equal(v.v.u32, 1);
    assert_int_equal(wfp_engine_get_option(f->s, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, &v), 0);
    assert_int_equal(v.v.u32, 0);
    wfp_value kw = {FWP_UINT32, {.u32 = 0x10}};
    assert_int_equal(wfp_engine_set_option(f->s, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, &kw), 0);
    wfp_value off = {FWP_UINT32, {.u32 = 0}}, on = {FWP_UINT32, {.u32 = 1}};
    assert_int_equal(wfp_engine_set_option(f->s, FWPM_ENGINE_COLLECT_NET_EVENTS, &off), 0);
    assert_int_equal(wfp_engine_set_option(f->s, FWPM_ENGINE_COLLECT_NET_EVENTS, &on), 0);
    assert_int_equal(wfp_engine_get_option(f->s, FWPM_ENGINE_NET_EVENT_MATCH_ANY_KEYWORDS, &v), 0);
    assert_int_equal(v.v.u32, 0x10); /* toggling collection keeps the keywords */
    wfp_session *d = open_session(f->e, true, FWPM_SESSION_FLAG_DYNAMIC, NULL);
    assert_int_equal(wfp_engine_set_option(d, FWPM_ENGINE_COLLECT_NET_EVENTS, &on), FWP_E_DYNAMIC_SESSION_IN_PROGRESS);
    wfp_session_close(d);
}

/* EVIDENCE: C51 — W32 basic-operation: boot-time filters rule until BFE starts; persistent objects survive reboots */
static void reboot_keeps_persistent_and_boottime(void **state)
{
    fx *f = *state;
    wfp_filter p = mkfilter("persist", L_CONNECT), b = mkfilter("boot", L_ACCEPT), st = mkfilter("static", L_CONNECT);
    p.flags = FWPM_FILTER_FLAG_PERSISTENT;
    b.flags = FWPM_FILTER_FLAG_BOOTTIME;
    assert_int_equal(wfp_filter_add(f->s, &p, NULL), 0);
    assert_int_equal(wfp_filter_add(f->s, &b, NULL), 0);
    assert_int_equal(wfp_filter_add(f->s, &st, NULL), 0);
    fx_values(f, L_ACCEPT);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_NONE_NO_MATCH); /* boot-time filter not in force */

    wfp_engine_reboot(f->e);
    f->s = open_session(f->e, true, 0, NULL);
    assert_false(wfp_engine_bfe_running(f->e));
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_BLOCK); /* before BFE starts: boot-time */
    fx_values(f, L_CONNECT);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_NONE_NO_MATCH); /* persistent not yet */
    wfp_engine_bfe_start(f->e);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_BLOCK);
    assert_true(exists(f, "persist"));
    assert_false(exists(f, "static"));
}

/* EVIDENCE: C52 — W32 object-management: provider service gating at BFE start */
static void provider_service_gating(void **state)
{
    fx *f = *state;
    wfp_provider pr;
    memset(&pr, 0, sizeof pr);
    pr.key = fx_key("provider", "vendor");
    pr.display.name = "vendor";
    pr.flags = FWPM_PROVIDER_FLAG_PERSISTENT;
    pr.service_name = "VendorSvc";
    assert_int_equal(wfp_provider_add(f->s, &pr), 0);
    wfp_filter x = mkfilter("vendor-block", L_CONNECT);
    x.flags = FWPM_FILTER_FLAG_PERSISTENT;
    x.provider_key = &pr.key;
    assert_int_equal(wfp_filter_add(f->s, &x, NULL), 0);
    assert_int_equal(wfp_engine_set_service_autostart(f->e, "VendorSvc", false), 0);
    wfp_engine_reboot(f->e);
    wfp_engine_bfe_start(f->e);
    f->s = open_session(f->e, true, 0, NULL);
    fx_values(f, L_CONNECT);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_NONE_NO_MATCH);
    const wfp_filter *out;
    assert_int_equal(wfp_filter_get_by_key(f->s, &x.key, &out), 0);
    assert_true(out->flags & FWPM_FILTER_FLAG_DISABLED);
    const wfp_provider *po;
    assert_int_equal(wfp_provider_get_by_key(f->s, &pr.key, &po), 0);
    assert_true(po->flags & FWPM_PROVIDER_FLAG_DISABLED);
    assert_int_equal(wfp_engine_set_service_autostart(f->e, "VendorSvc", true), 0);
    wfp_engine_reboot(f->e);
    wfp_engine_bfe_start(f->e);
    f->s = open_session(f->e, true, 0, NULL);
    assert_int_equal(fx_classify(f)->action, FWP_ACTION_BLOCK);
}

/* EVIDENCE: STATS-LAYER-COUNTS — fwpmtypes.idl FWPM_LAYER_STATISTICS0 (permit/block/veto counts, inferred semantics) */
static void layer_statistics(void **state)
{
    fx *f = *state;
    wfp_filter x = mkfilter("block", L_CONNECT);
    fx_values(f, L_CONNECT);
    fx_classify(f);
    assert_int_equal(wfp_filter_add(f->s, &x, NULL), 0);
    fx_classify(f);
    fx_classify(f);
    wfp_layer_stats ls;
    wfp_engine_get_layer_stats(f->e, fx_layer(L_CONNECT)->id, &ls);
    assert_int_equal(ls.classify_count, 3);
    assert_int_equal(ls.permit_count, 1);
    assert_int_equal(ls.block_count, 2);
    wfp_engine_stats es;
    wfp_engine_get_stats(f->e, &es);
    assert_int_equal(es.outbound_blocked_v4, 2);
    assert_int_equal(es.outbound_allowed_v4, 1);
}

/* ---- all or nothing under allocation failure ------------------------------ */

typedef struct failing {
    long countdown;
} failing;

static void *fail_alloc(void *ctx, size_t n)
{
    failing *fa = ctx;
    if (fa->countdown >= 0 && fa->countdown-- == 0) return NULL;
    return malloc(n ? n : 1);
}

static void *fail_realloc(void *ctx, void *p, size_t n)
{
    failing *fa = ctx;
    if (fa->countdown >= 0 && fa->countdown-- == 0) return NULL;
    return realloc(p, n ? n : 1);
}

static void fail_free(void *ctx, void *p)
{
    free(p);
}

/* EVIDENCE: INV-ALL-OR-NOTHING TXN-COMMIT-ATOMIC — a commit that fails at any allocation leaves the engine as before */
static void failed_commits_leave_no_trace(void **state)
{
    (void)state;
    failing fa = {-1};
    wfp_allocator a = {fail_alloc, fail_realloc, fail_free, &fa};
    wfp_engine_config cfg = {&a, WFP_OR_GROUP_BY_FIELD, false};
    wfp_engine *e = wfp_engine_create(&cfg);
    assert_non_null(e);
    wfp_session *s = open_session(e, true, 0, NULL), *sub = open_session(e, true, 0, NULL);
    notes ns = {0};
    wfp_subscription subs = {WFP_OBJECT_FILTER, 0, NULL, NULL, NULL};
    assert_int_equal(wfp_subscribe_changes(sub, &subs, record, &ns, NULL), 0);
    wfp_filter base = mkfilter("base", L_CONNECT);
    assert_int_equal(wfp_filter_add(s, &base, NULL), 0);
    ns.n = 0;
    static char before[1 << 16], after[1 << 16];
    for (long k = 0;; k++) {
        wfp_engine_dump(e, before, sizeof before);
        wfp_filter x = mkfilter("x", L_CONNECT), y = mkfilter("y", L_ACCEPT);
        uint32_t rc = wfp_txn_begin(s, 0);
        assert_int_equal(rc, 0);
        fa.countdown = k;
        rc = wfp_filter_add(s, &x, NULL);
        if (!rc) rc = wfp_filter_add(s, &y, NULL);
        if (!rc) rc = wfp_filter_delete_by_key(s, &base.key);
        if (!rc) rc = wfp_txn_commit(s);
        else wfp_txn_abort(s);
        fa.countdown = -1;
        if (rc == 0) {
            assert_int_equal(ns.n, 3);
            break;
        }
        assert_int_equal(rc, ERROR_NOT_ENOUGH_MEMORY);
        assert_null(wfp_engine_lock_holder(e));
        wfp_engine_dump(e, after, sizeof after);
        assert_string_equal(before, after);
        assert_int_equal(ns.n, 0);
        assert_true(k < 1000);
    }
    wfp_session_close(s);
    wfp_session_close(sub);
    wfp_engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
        T(transaction_partial_failure_then_commit_or_abort),
        T(transaction_misuse_codes),
        T(one_writer_at_a_time),
        T(forced_abort),
        T(classify_sees_changes_only_at_commit),
        T(notifications_skip_own_changes),
        T(notifications_follow_the_template),
        T(notifications_after_commit_only),
        T(dynamic_session_close_publishes_deletes),
        T(dynamic_close_waits_for_the_lock),
        T(notifications_need_read),
        T(uninstall_order),
        T(default_security_descriptor),
        T(admin_lockout_recovery),
        T(hindering_and_forcing_deletion),
        T(engine_options),
        T(reboot_keeps_persistent_and_boottime),
        T(provider_service_gating),
        T(layer_statistics),
        cmocka_unit_test(failed_commits_leave_no_trace),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
