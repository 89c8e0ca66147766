/* test_policy.c — sim/policy: every key of the `policy:` part of the
 * scenario contract (shared/spec/scenario-format.md), condition values by
 * field data type, errors with FILE:LINE:COL, and the declarative callout
 * rules run by the engine's arbitration. Policies are written inline and
 * loaded with wfp_yaml_load_string under the name "t.yaml". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define END ((const char *)NULL)

typedef struct fx {
    wfp_engine *e;
    wfp_session *s;
    wfp_policy *p;
    wfp_yaml_errors err;
    wfp_yaml_doc *doc;
    wfp_trace *t;
    wfp_verdict v;
    wfp_policy_object *obj;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    wfp_session_desc d;
    if (!f) return -1;
    memset(&d, 0, sizeof d);
    d.name = "default";
    d.admin = true;
    f->e = wfp_engine_create(NULL);
    f->p = wfp_policy_create();
    f->t = wfp_trace_create(NULL);
    if (!f->e || !f->p || !f->t || wfp_session_open(f->e, &d, &f->s)) return -1;
    wfp_yaml_errors_init(&f->err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    wfp_policy_object_free(f->obj);
    wfp_session_close(f->s);
    wfp_engine_destroy(f->e); /* before the policy: the engine calls into it */
    wfp_policy_destroy(f->p);
    wfp_trace_destroy(f->t);
    wfp_yaml_doc_free(f->doc);
    wfp_yaml_errors_clear(&f->err);
    free(f);
    return 0;
}

static const wfp_yaml_node *load(fx *f, const char *yaml)
{
    wfp_policy_object_free(f->obj);
    f->obj = NULL;
    wfp_yaml_doc_free(f->doc);
    wfp_yaml_errors_clear(&f->err);
    f->doc = wfp_yaml_load_string("t.yaml", yaml, strlen(yaml), &f->err);
    if (!f->doc) fail_msg("YAML: %s", wfp_yaml_errors_first(&f->err));
    return wfp_yaml_doc_root(f->doc);
}

/* Applies a policy mapping; the result of wfp_policy_apply. */
static bool apply(fx *f, const char *yaml)
{
    return wfp_policy_apply(f->p, f->s, load(f, yaml), &f->err);
}

static void apply_ok(fx *f, const char *yaml)
{
    if (!apply(f, yaml)) fail_msg("apply: %s", wfp_yaml_errors_first(&f->err));
}

static void expect_error(fx *f, const char *prefix, const char *part)
{
    const char *m = wfp_yaml_errors_first(&f->err);
    if (!m) fail_msg("expected an error starting with %s", prefix);
    if (strncmp(m, prefix, strlen(prefix)) != 0) fail_msg("error '%s' does not start with '%s'", m, prefix);
    if (part && !strstr(m, part)) fail_msg("error '%s' lacks '%s'", m, part);
}

static void apply_fails(fx *f, const char *yaml, const char *prefix, const char *part)
{
    if (apply(f, yaml)) fail_msg("applied, expected %s %s", prefix, part ? part : "");
    expect_error(f, prefix, part);
}

/* Like apply_fails, but the expected position is where `at` first occurs. */
static void apply_fails_at(fx *f, const char *yaml, const char *at, const char *part)
{
    const char *p = strstr(yaml, at);
    unsigned line = 1, col = 1;
    char prefix[64];
    assert_non_null(p);
    for (const char *q = yaml; q < p; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    snprintf(prefix, sizeof prefix, "t.yaml:%u:%u: ", line, col);
    apply_fails(f, yaml, prefix, part);
}

/* Parses one filter body (no add); the object stays in the fixture. */
static const wfp_filter *parse_filter(fx *f, const char *yaml)
{
    const wfp_yaml_node *n = load(f, yaml);
    if (!wfp_policy_object_parse(f->p, WFP_POLICY_FILTER, n, "filter", &f->obj, &f->err))
        fail_msg("parse: %s", wfp_yaml_errors_first(&f->err));
    return wfp_policy_object_filter(f->obj);
}

static void parse_filter_fails(fx *f, const char *yaml, const char *prefix, const char *part)
{
    const wfp_yaml_node *n = load(f, yaml);
    if (wfp_policy_object_parse(f->p, WFP_POLICY_FILTER, n, "filter", &f->obj, &f->err))
        fail_msg("parsed, expected %s", prefix);
    expect_error(f, prefix, part);
}

/* Classifies FIELD=VALUE strings (NULL-terminated) at a layer. */
static const wfp_verdict *classify(fx *f, const char *layer_name, ...)
{
    const wfp_layer_info *layer = wfp_catalog_layer_by_name(layer_name);
    wfp_policy_values *vals = wfp_policy_values_create(layer);
    va_list ap;
    const char *a;
    char why[2048];
    assert_non_null(vals);
    va_start(ap, layer_name);
    while ((a = va_arg(ap, const char *))) {
        char field[128];
        const char *eq = strchr(a, '=');
        assert_non_null(eq);
        memcpy(field, a, (size_t)(eq - a));
        field[eq - a] = 0;
        if (!wfp_policy_values_set(vals, field, eq + 1, why, sizeof why)) fail_msg("%s", why);
    }
    va_end(ap);
    wfp_classify_request req;
    memset(&req, 0, sizeof req);
    req.layer_id = layer->id;
    req.values = wfp_policy_values_array(vals);
    req.num_values = wfp_policy_values_count(vals);
    assert_int_equal(wfp_classify(f->e, &req, &f->v, f->t), ERROR_SUCCESS);
    wfp_policy_values_destroy(vals);
    return &f->v;
}

static uint64_t fid(fx *f, const char *name)
{
    uint64_t id = 0;
    if (!wfp_policy_filter_id(f->p, name, &id)) fail_msg("no filter %s", name);
    return id;
}

static const wfp_filter *engine_filter(fx *f, const char *name)
{
    const wfp_filter *flt = wfp_engine_filter_by_id(f->e, fid(f, name));
    assert_non_null(flt);
    return flt;
}

static wfp_guid key_of(const char *kind, const char *name)
{
    wfp_guid g;
    wfp_guid_from_name(kind, name, &g);
    return g;
}

/* ---- providers ---------------------------------------------------------- */

static void provider_name_persistent_key(void **state)
{
    fx *f = *state;
    apply_ok(f, "providers:\n"
                "  - {name: VendorA, persistent: true, description: the vendor, service_name: vsvc}\n"
                "  - {name: VendorB, persistent: false, key: '{11111111-2222-3333-4444-555555555555}'}\n"
                "  - {name: VendorC, provider_data: 'hex:0102'}\n");
    wfp_guid ka = key_of("provider", "VendorA"), kb;
    assert_true(wfp_guid_parse("{11111111-2222-3333-4444-555555555555}", &kb));
    const wfp_provider *a = wfp_engine_provider_by_key(f->e, &ka);
    const wfp_provider *b = wfp_engine_provider_by_key(f->e, &kb);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a->display.name, "VendorA");
    assert_string_equal(a->display.description, "the vendor");
    assert_string_equal(a->service_name, "vsvc");
    assert_true(a->flags & FWPM_PROVIDER_FLAG_PERSISTENT);
    assert_false(b->flags & FWPM_PROVIDER_FLAG_PERSISTENT);
    wfp_guid kc = key_of("provider", "VendorC");
    const wfp_provider *c = wfp_engine_provider_by_key(f->e, &kc);
    assert_int_equal(c->provider_data.size, 2);
    assert_int_equal(c->provider_data.data[1], 2);
    wfp_guid got;
    assert_true(wfp_policy_key(f->p, WFP_POLICY_PROVIDER, "VendorB", &got));
    assert_true(wfp_guid_eq(&got, &kb));
    assert_string_equal(wfp_policy_name_of_key(f->p, WFP_POLICY_PROVIDER, &ka), "VendorA");
}

/* ---- sublayers ---------------------------------------------------------- */

static void sublayer_weight_provider(void **state)
{
    fx *f = *state;
    apply_ok(f, "providers: [{name: VendorA}]\n"
                "sublayers:\n"
                "  - {name: A, weight: 0x7000, provider: VendorA}\n"
                "  - {name: B, weight: 100, persistent: true}\n");
    wfp_guid ka = key_of("sublayer", "A"), kv = key_of("provider", "VendorA");
    const wfp_sublayer *a = wfp_engine_sublayer_by_key(f->e, &ka);
    assert_non_null(a);
    assert_int_equal(a->weight, 0x7000);
    assert_non_null(a->provider_key);
    assert_true(wfp_guid_eq(a->provider_key, &kv));
    assert_string_equal(wfp_policy_sublayer_name(f->p, &ka), "A");
    wfp_guid kb = key_of("sublayer", "B");
    assert_true(wfp_engine_sublayer_by_key(f->e, &kb)->flags & FWPM_SUBLAYER_FLAG_PERSISTENT);
    /* a built-in one by its WFP name */
    wfp_guid u;
    assert_true(wfp_policy_key(f->p, WFP_POLICY_SUBLAYER, "FWPM_SUBLAYER_UNIVERSAL", &u));
    assert_string_equal(wfp_policy_sublayer_name(f->p, &u), "FWPM_SUBLAYER_UNIVERSAL");
}

static void sublayer_weight_out_of_range(void **state)
{
    fx *f = *state;
    apply_fails(f,
                "sublayers:\n"
                "  - {name: A, weight: 65536}\n",
                "t.yaml:2:23: ", "between 0 and 65535");
}

static void unknown_provider_reference(void **state)
{
    fx *f = *state;
    apply_fails(f,
                "sublayers:\n"
                "  - {name: A, provider: Nobody}\n",
                "t.yaml:2:25: ", "unknown provider 'Nobody'");
}

/* ---- filters: layer, sublayer, provider ------------------------------- */

static void filter_layer_sublayer_provider(void **state)
{
    fx *f = *state;
    apply_ok(f, "providers: [{name: V}]\n"
                "sublayers: [{name: S, weight: 0x100}]\n"
                "filters:\n"
                "  - {name: f1, layer: ALE_AUTH_CONNECT_V4, action: permit}\n"
                "  - {name: f2, layer: FWPM_LAYER_ALE_AUTH_CONNECT_V4, sublayer: S, provider: V, action: block}\n"
                "  - {name: f3, layer: '{c38d57d1-05a7-4c33-904f-7fbceee60e82}', sublayer: UNIVERSAL, action: block}\n"
                "  - {name: f4, layer: ale_auth_connect_v4, sublayer: FWPM_SUBLAYER_UNIVERSAL, action: block}\n");
    const wfp_layer_info *l = wfp_catalog_layer_by_name("ALE_AUTH_CONNECT_V4");
    const wfp_builtin_sublayer *u = wfp_catalog_sublayer_by_name("UNIVERSAL");
    wfp_guid ks = key_of("sublayer", "S"), kv = key_of("provider", "V");
    for (int i = 1; i <= 4; i++) {
        char n[8];
        snprintf(n, sizeof n, "f%d", i);
        assert_true(wfp_guid_eq(&engine_filter(f, n)->layer_key, &l->key));
    }
    /* absent sublayer: the layer's default, FWPM_SUBLAYER_UNIVERSAL */
    assert_true(wfp_guid_eq(&engine_filter(f, "f1")->sublayer_key, &u->key));
    assert_true(wfp_guid_eq(&engine_filter(f, "f2")->sublayer_key, &ks));
    assert_true(wfp_guid_eq(engine_filter(f, "f2")->provider_key, &kv));
    assert_true(wfp_guid_eq(&engine_filter(f, "f3")->sublayer_key, &u->key));
    assert_true(wfp_guid_eq(&engine_filter(f, "f4")->sublayer_key, &u->key));
    wfp_guid k1 = key_of("filter", "f1");
    assert_true(wfp_guid_eq(&engine_filter(f, "f1")->key, &k1));
    assert_string_equal(wfp_policy_filter_name(f->p, fid(f, "f2")), "f2");
}

static void unknown_layer(void **state)
{
    fx *f = *state;
    apply_fails(f,
                "filters:\n"
                "  - name: f\n"
                "    layer: ALE_AUTH_CONECT_V4\n"
                "    action: permit\n",
                "t.yaml:3:12: ", "unknown layer 'ALE_AUTH_CONECT_V4'");
}

/* ---- filters: weight ------------------------------------------------------ */

/* EVIDENCE: C30 — W32 filter-weight-assignment (weight forms) */
static void filter_weight_forms(void **state)
{
    fx *f = *state;
    apply_ok(f, "filters:\n"
                "  - {name: range10, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: 10}\n"
                "  - {name: exact, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: 0x1234}\n"
                "  - {name: auto, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: auto}\n"
                "  - {name: absent, layer: ALE_AUTH_CONNECT_V4, action: permit}\n"
                "  - {name: u64, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: {uint64: 5}}\n"
                "  - {name: rng, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: {range: 3}}\n"
                "  - {name: typed, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: {type: FWP_UINT64, value: 7}}\n");
    assert_int_equal(engine_filter(f, "range10")->weight.type, FWP_UINT8);
    assert_int_equal(engine_filter(f, "range10")->effective_weight.v.u64 >> 60, 10);
    assert_int_equal(engine_filter(f, "exact")->weight.type, FWP_UINT64);
    assert_int_equal(engine_filter(f, "exact")->effective_weight.v.u64, 0x1234);
    assert_int_equal(engine_filter(f, "auto")->weight.type, FWP_EMPTY);
    assert_true(engine_filter(f, "auto")->effective_weight.v.u64 < (1ull << 60));
    assert_int_equal(engine_filter(f, "absent")->weight.type, FWP_EMPTY);
    assert_int_equal(engine_filter(f, "u64")->weight.type, FWP_UINT64);
    assert_int_equal(engine_filter(f, "u64")->effective_weight.v.u64, 5);
    assert_int_equal(engine_filter(f, "rng")->effective_weight.v.u64 >> 60, 3);
    assert_int_equal(engine_filter(f, "typed")->effective_weight.v.u64, 7);
}

/* EVIDENCE: C30 — weight range above 15 / other types: FWP_E_INVALID_WEIGHT (inferred) */
static void filter_weight_engine_refusals(void **state)
{
    fx *f = *state;
    apply_fails(f,
                "filters:\n"
                "  - {name: big, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: {range: 16}}\n",
                "t.yaml:2:5: ", "cannot add filter 'big': FWP_E_INVALID_WEIGHT");
    apply_fails(f,
                "filters:\n"
                "  - {name: u32, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: {type: FWP_UINT32, value: 7}}\n",
                "t.yaml:2:5: ", "FWP_E_INVALID_WEIGHT");
    apply_fails(f,
                "filters:\n"
                "  - {name: w, layer: ALE_AUTH_CONNECT_V4, action: permit, weight: heavy}\n",
                "t.yaml:2:67: ", "weight must be an unsigned integer");
}

/* ---- filters: action, callout, flags ----------------------------------- */

static void filter_actions(void **state)
{
    fx *f = *state;
    apply_ok(f, "callouts: [{name: c, layer: ALE_AUTH_CONNECT_V4}]\n"
                "filters:\n"
                "  - {name: p, layer: ALE_AUTH_CONNECT_V4, action: permit}\n"
                "  - {name: b, layer: ALE_AUTH_CONNECT_V4, action: block}\n"
                "  - {name: t, layer: ALE_AUTH_CONNECT_V4, action: callout_terminating, callout: c}\n"
                "  - {name: i, layer: ALE_AUTH_CONNECT_V4, action: callout_inspection, callout: c}\n"
                "  - {name: u, layer: ALE_AUTH_CONNECT_V4, action: FWP_ACTION_CALLOUT_UNKNOWN, callout: c}\n");
    wfp_guid kc = key_of("callout", "c");
    assert_int_equal(engine_filter(f, "p")->action.type, FWP_ACTION_PERMIT);
    assert_int_equal(engine_filter(f, "b")->action.type, FWP_ACTION_BLOCK);
    assert_int_equal(engine_filter(f, "t")->action.type, FWP_ACTION_CALLOUT_TERMINATING);
    assert_true(wfp_guid_eq(&engine_filter(f, "t")->action.key, &kc));
    assert_int_equal(engine_filter(f, "i")->action.type, FWP_ACTION_CALLOUT_INSPECTION);
    assert_int_equal(engine_filter(f, "u")->action.type, FWP_ACTION_CALLOUT_UNKNOWN);
}

static void filter_action_errors(void **state)
{
    fx *f = *state;
    apply_fails(f, "filters:\n  - {name: x, layer: ALE_AUTH_CONNECT_V4, action: allow}\n", "t.yaml:2:51: ",
                "unknown action 'allow' (expected one of: permit, block, callout_terminating");
    apply_fails(f, "filters:\n  - {name: x, layer: ALE_AUTH_CONNECT_V4, action: callout_terminating}\n",
                "t.yaml:2:51: ", "needs 'callout:'");
    apply_fails(f, "filters:\n  - {name: x, layer: ALE_AUTH_CONNECT_V4, action: permit, callout: c}\n",
                "t.yaml:2:68: ", "goes only with a callout action");
    apply_fails(f, "filters:\n  - {name: x, layer: ALE_AUTH_CONNECT_V4, action: callout_terminating, callout: nope}\n",
                "t.yaml:2:81: ", "unknown callout 'nope'");
    apply_fails(f, "filters:\n  - {layer: ALE_AUTH_CONNECT_V4, action: permit}\n", "t.yaml:2:5: ",
                "filter needs 'name'");
}

static void filter_flags(void **state)
{
    fx *f = *state;
    static const struct {
        const char *name;
        uint32_t bit;
    } cases[] = {{"clear_action_right", FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT},
                 {"permit_if_callout_unregistered", FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED},
                 {"persistent", FWPM_FILTER_FLAG_PERSISTENT},
                 {"boottime", FWPM_FILTER_FLAG_BOOTTIME},
                 {"disabled", FWPM_FILTER_FLAG_DISABLED},
                 {"indexed", FWPM_FILTER_FLAG_INDEXED},
                 {"FWPM_FILTER_FLAG_SILENT_MODE", FWPM_FILTER_FLAG_SILENT_MODE},
                 {"Clear_Action_Right", FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT},
                 {"0x8", 0x8}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: permit, flags: [%s]}",
                 cases[i].name);
        const wfp_filter *d = parse_filter(f, yaml);
        if (d->flags != cases[i].bit) fail_msg("%s: 0x%x", cases[i].name, (unsigned)d->flags);
    }
    /* through the engine: the flags it keeps */
    apply_ok(f, "callouts: [{name: c, layer: ALE_AUTH_CONNECT_V4, registered: false}]\n"
                "filters:\n"
                "  - {name: hp, layer: ALE_AUTH_CONNECT_V4, action: permit, flags: [clear_action_right, persistent]}\n"
                "  - {name: pu, layer: ALE_AUTH_CONNECT_V4, action: callout_terminating, callout: c,\n"
                "     flags: [permit_if_callout_unregistered]}\n"
                "  - {name: bt, layer: ALE_AUTH_CONNECT_V4, action: block, flags: [boottime]}\n"
                "  - {name: di, layer: ALE_AUTH_CONNECT_V4, action: block, flags: [disabled, indexed]}\n");
    assert_int_equal(engine_filter(f, "hp")->flags,
                     FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT | FWPM_FILTER_FLAG_PERSISTENT);
    assert_int_equal(engine_filter(f, "pu")->flags, FWPM_FILTER_FLAG_PERMIT_IF_CALLOUT_UNREGISTERED);
    assert_int_equal(engine_filter(f, "bt")->flags, FWPM_FILTER_FLAG_BOOTTIME);
    parse_filter_fails(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: permit, flags: [sticky]}", "t.yaml:1:63: ",
                       "unknown flag 'sticky' in flags (expected one of: none, persistent");
}

static void filter_context_and_description(void **state)
{
    fx *f = *state;
    apply_ok(f, "filters:\n"
                "  - {name: x, description: hello, layer: ALE_AUTH_CONNECT_V4, action: permit, context: 0xabc,\n"
                "     key: '{aaaaaaaa-0000-0000-0000-000000000001}'}\n");
    const wfp_filter *x = engine_filter(f, "x");
    wfp_guid k;
    assert_true(wfp_guid_parse("{aaaaaaaa-0000-0000-0000-000000000001}", &k));
    assert_true(wfp_guid_eq(&x->key, &k));
    assert_string_equal(x->display.description, "hello");
    assert_int_equal(x->raw_context, 0xabc);
}

static void unknown_keys_are_errors(void **state)
{
    fx *f = *state;
    apply_fails(f,
                "filters:\n"
                "  - name: x\n"
                "    layer: ALE_AUTH_CONNECT_V4\n"
                "    action: permit\n"
                "    colour: red\n",
                "t.yaml:5:5: ",
                "unknown key 'colour' in filter (expected one of: name, key, description, layer, sublayer, provider, "
                "weight, action, callout, flags, conditions, context, provider_data)");
    apply_fails(f, "filter: []\n", "t.yaml:1:1: ",
                "unknown key 'filter' in policy (expected one of: import, providers, sublayers, callouts, filters)");
    apply_fails(f, "providers: [{name: p, persistant: true}]\n", "t.yaml:1:23: ", "unknown key 'persistant' in provider");
    apply_fails(f, "sublayers: [{name: s, wieght: 1}]\n", "t.yaml:1:23: ", "unknown key 'wieght' in sublayer");
    apply_fails(f, "callouts: [{name: c, layer: ALE_AUTH_CONNECT_V4, regsitered: true}]\n", "t.yaml:1:50: ",
                "unknown key 'regsitered' in callout");
    apply_fails(f, "filters: {name: x}\n", "t.yaml:1:10: ", "policy.filters must be a sequence");
}

/* ---- conditions: values by data type ----------------------------------- */

static const wfp_condition *cond(fx *f, const char *yaml, uint32_t *count)
{
    const wfp_filter *d = parse_filter(f, yaml);
    if (count) *count = d->num_conditions;
    assert_true(d->num_conditions > 0);
    return d->conditions;
}

static void condition_integers_and_names(void **state)
{
    fx *f = *state;
    const wfp_condition *c;
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, match: equal, value: 443}]}",
             NULL);
    assert_int_equal(c->match_type, FWP_MATCH_EQUAL);
    assert_int_equal(c->value.type, FWP_UINT16);
    assert_int_equal(c->value.u.value.v.u16, 443);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: FWPM_CONDITION_IP_REMOTE_PORT, value: 0x1bb}]}",
             NULL);
    assert_int_equal(c->value.u.value.v.u16, 443); /* match defaults to equal */
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_PROTOCOL: tcp}}", NULL);
    assert_int_equal(c->value.type, FWP_UINT8);
    assert_int_equal(c->value.u.value.v.u8, 6);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ip_protocol: ICMPv6}}", NULL);
    assert_int_equal(c->value.u.value.v.u8, 58);
    c = cond(f, "{name: x, layer: ALE_FLOW_ESTABLISHED_V4, action: block, conditions: {DIRECTION: inbound}}", NULL);
    assert_int_equal(c->value.type, FWP_UINT32);
    assert_int_equal(c->value.u.value.v.u32, FWP_DIRECTION_INBOUND);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_LOCAL_INTERFACE, value: 0x100000001}]}",
             NULL);
    assert_int_equal(c->value.type, FWP_UINT64);
    assert_true(c->value.u.value.v.u64 == 0x100000001ull);
}

static void condition_flags(void **state)
{
    fx *f = *state;
    const wfp_condition *c;
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: FLAGS, match: flags_all_set, value: [is_loopback, FWP_CONDITION_FLAG_IS_REAUTHORIZE]}]}",
             NULL);
    assert_int_equal(c->match_type, FWP_MATCH_FLAGS_ALL_SET);
    assert_int_equal(c->value.type, FWP_UINT32);
    assert_int_equal(c->value.u.value.v.u32, FWP_CONDITION_FLAG_IS_LOOPBACK | FWP_CONDITION_FLAG_IS_REAUTHORIZE);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: FLAGS, match: flags_any_set, value: 'is_loopback|IS_IPSEC_SECURED'}]}",
             NULL);
    assert_int_equal(c->value.u.value.v.u32, FWP_CONDITION_FLAG_IS_LOOPBACK | FWP_CONDITION_FLAG_IS_IPSEC_SECURED);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: FLAGS, match: flags_none_set, value: 0x5}]}",
             NULL);
    assert_int_equal(c->value.u.value.v.u32, 5);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: REAUTHORIZE_REASON, match: flags_any_set, value: [policy_change, classify_completion]}]}",
             NULL);
    assert_int_equal(c->value.u.value.v.u32, 0x11);
}

/* EVIDENCE: C20 — fwptypes.idl FWP_V4_ADDR_AND_MASK "host order" */
static void condition_ipv4(void **state)
{
    fx *f = *state;
    const wfp_condition *c;
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_ADDRESS: 10.0.0.1}}", NULL);
    assert_int_equal(c->value.type, FWP_UINT32);
    assert_int_equal(c->value.u.value.v.u32, 0x0a000001u);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_ADDRESS: 10.0.0.0/8}}", NULL);
    assert_int_equal(c->value.type, FWP_V4_ADDR_MASK);
    assert_int_equal(c->value.u.v4.addr, 0x0a000000u);
    assert_int_equal(c->value.u.v4.mask, 0xff000000u);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_ADDRESS: 192.168.0.0/255.255.0.0}}", NULL);
    assert_int_equal(c->value.u.v4.mask, 0xffff0000u);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_ADDRESS: 0.0.0.0/0}}", NULL);
    assert_int_equal(c->value.u.v4.mask, 0);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_ADDRESS: 10.0.0.1-10.0.0.9}}", NULL);
    assert_int_equal(c->match_type, FWP_MATCH_RANGE);
    assert_int_equal(c->value.type, FWP_RANGE_TYPE);
    assert_int_equal(c->value.u.range.low.type, FWP_UINT32);
    assert_int_equal(c->value.u.range.low.v.u32, 0x0a000001u);
    assert_int_equal(c->value.u.range.high.v.u32, 0x0a000009u);
}

/* EVIDENCE: C21 — fwptypes.idl FWP_V6_ADDR_AND_MASK */
static void condition_ipv6(void **state)
{
    fx *f = *state;
    const wfp_condition *c;
    static const uint8_t db8_1[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V6, action: block, conditions: {IP_REMOTE_ADDRESS: '2001:db8::1'}}", NULL);
    assert_int_equal(c->value.type, FWP_BYTE_ARRAY16_TYPE);
    assert_memory_equal(c->value.u.value.v.bytes16, db8_1, 16);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V6, action: block, conditions: {IP_REMOTE_ADDRESS: '2001:db8::/32'}}", NULL);
    assert_int_equal(c->value.type, FWP_V6_ADDR_MASK);
    assert_int_equal(c->value.u.v6.prefix_length, 32);
    assert_int_equal(c->value.u.v6.addr[1], 0x01);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V6, action: block, conditions: {IP_REMOTE_ADDRESS: '2001:db8::1-2001:db8::9'}}", NULL);
    assert_int_equal(c->value.type, FWP_RANGE_TYPE);
    assert_int_equal(c->value.u.range.high.type, FWP_BYTE_ARRAY16_TYPE);
    assert_int_equal(c->value.u.range.high.v.bytes16[15], 9);
    /* prefix 129: passed on, the engine refuses it */
    apply_fails(f,
                "filters:\n"
                "  - name: x\n"
                "    layer: ALE_AUTH_CONNECT_V6\n"
                "    action: block\n"
                "    conditions:\n"
                "      - {field: IP_REMOTE_ADDRESS, value: '2001:db8::/129'}\n",
                "t.yaml:6:9: ", "cannot add filter 'x': FWP_E_INVALID_NET_MASK");
}

/* EVIDENCE: C22 — fwptypes.idl FWP_RANGE0 (inclusive, same type, high >= low) */
static void condition_ranges(void **state)
{
    fx *f = *state;
    const wfp_condition *c;
    uint32_t n;
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, match: range, value: '8000-8080'}]}",
             NULL);
    assert_int_equal(c->match_type, FWP_MATCH_RANGE);
    assert_int_equal(c->value.u.range.low.type, FWP_UINT16);
    assert_int_equal(c->value.u.range.low.v.u16, 8000);
    assert_int_equal(c->value.u.range.high.v.u16, 8080);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, value: {low: 1024, high: 65535}}]}",
             NULL);
    assert_int_equal(c->match_type, FWP_MATCH_RANGE); /* inferred */
    assert_int_equal(c->value.u.range.high.v.u16, 65535);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_PORT: '1024-65535'}}", &n);
    assert_int_equal(c->match_type, FWP_MATCH_RANGE);
    /* a range with high < low reaches the engine */
    apply_fails(f,
                "filters:\n"
                "  - name: x\n"
                "    layer: ALE_AUTH_CONNECT_V4\n"
                "    action: block\n"
                "    conditions:\n"
                "      - {field: IP_REMOTE_PORT, match: range, value: '2000-1000'}\n",
                "t.yaml:6:9: ", "FWP_E_INVALID_RANGE");
    parse_filter_fails(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, match: range, value: 80}]}",
                       "t.yaml:1:112: ", "match range needs 'low-high'");
}

static void condition_app_id_sd_sid(void **state)
{
    fx *f = *state;
    const wfp_condition *c;
    uint8_t *blob = NULL;
    uint32_t len = 0;
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ALE_APP_ID: 'C:\\Program Files\\Browser\\browser.exe'}}",
             NULL);
    assert_int_equal(c->value.type, FWP_BYTE_BLOB_TYPE);
    assert_true(wfp_app_id_from_path(wfp_allocator_default(), "C:\\Program Files\\Browser\\browser.exe", NULL, &blob,
                                     &len));
    assert_int_equal(c->value.u.value.v.blob.size, len);
    assert_memory_equal(c->value.u.value.v.blob.data, blob, len);
    free(blob);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ALE_USER_ID: 'O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1001)'}}",
             NULL);
    assert_int_equal(c->value.type, FWP_SECURITY_DESCRIPTOR_TYPE);
    assert_true(wfp_sd_valid(c->value.u.value.v.blob.data, c->value.u.value.v.blob.size));
    /* a bare SID is short for an SD granting it FWP_ACTRL_MATCH_FILTER (sim-defined) */
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ALE_USER_ID: S-1-5-21-1-2-3-1001}}", NULL);
    assert_int_equal(c->value.type, FWP_SECURITY_DESCRIPTOR_TYPE);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ALE_PACKAGE_ID: S-1-15-2-1}}", NULL);
    assert_int_equal(c->value.type, FWP_SID);
    assert_true(wfp_sid_valid(c->value.u.value.v.blob.data, c->value.u.value.v.blob.size));
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ALE_APP_ID: 'hex:0a00 0000'}}", NULL);
    assert_int_equal(c->value.u.value.v.blob.size, 4);
    assert_int_equal(c->value.u.value.v.blob.data[0], 0x0a);
    /* a suffix for PREFIX (which tests suffixes) */
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: ALE_APP_ID, match: prefix, value: '\\Browser.EXE'}]}",
             NULL);
    assert_int_equal(c->match_type, FWP_MATCH_PREFIX);
    assert_int_equal(c->value.u.value.v.blob.size, 2 * 12 + 2);
    assert_int_equal(c->value.u.value.v.blob.data[2], 'b');
}

static void condition_mac_empty_typed(void **state)
{
    fx *f = *state;
    const wfp_condition *c;
    c = cond(f, "{name: x, layer: INBOUND_MAC_FRAME_ETHERNET, action: block, conditions: {MAC_LOCAL_ADDRESS: '00:11:22:aa:bb:cc'}}",
             NULL);
    assert_int_equal(c->value.type, FWP_BYTE_ARRAY6_TYPE);
    assert_int_equal(c->value.u.value.v.bytes6[5], 0xcc);
    /* EVIDENCE: C27 — EQUAL FWP_EMPTY matches an unknown field (W32 ale-re-authorization) */
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_LOCAL_ADDRESS: empty}}", NULL);
    assert_int_equal(c->value.type, FWP_EMPTY);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, value: {type: FWP_UINT32, value: 80}}]}",
             NULL);
    assert_int_equal(c->value.type, FWP_UINT32);
    assert_int_equal(c->value.u.value.v.u32, 80);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, value: {type: unicode_string, value: abc}}]}",
             NULL);
    assert_int_equal(c->value.type, FWP_UNICODE_STRING_TYPE);
    assert_int_equal(c->value.u.value.v.blob.size, 3);
    c = cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_ADDRESS, value: {type: FWP_V4_ADDR_MASK, value: 10.0.0.0/8}}]}",
             NULL);
    assert_int_equal(c->value.type, FWP_V4_ADDR_MASK);
}

/* EVIDENCE: C23 — SDK FWP_MATCH_TYPE remarks (no implicit conversion) */
static void typed_mismatch_reaches_the_engine(void **state)
{
    fx *f = *state;
    apply_fails(f,
                "filters:\n"
                "  - name: x\n"
                "    layer: ALE_AUTH_CONNECT_V4\n"
                "    action: block\n"
                "    conditions:\n"
                "      - {field: IP_REMOTE_PORT, value: 443}\n"
                "      - {field: IP_LOCAL_PORT, value: {type: FWP_UINT32, value: 80}}\n",
                "t.yaml:7:9: ", "cannot add filter 'x': FWP_E_TYPE_MISMATCH (filter 'x': condition 2");
}

/* EVIDENCE: C19 — SDK FWPM_FILTER0 (same-field conditions OR'ed, different fields AND'ed) */
static void condition_lists_or_and(void **state)
{
    fx *f = *state;
    uint32_t n;
    const wfp_condition *c =
        cond(f, "{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_PORT: [80, 443], IP_PROTOCOL: tcp}}", &n);
    assert_int_equal(n, 3);
    assert_int_equal(c[0].value.u.value.v.u16, 80);
    assert_int_equal(c[1].value.u.value.v.u16, 443);
    apply_ok(f, "filters:\n"
                "  - name: web\n"
                "    layer: ALE_AUTH_CONNECT_V4\n"
                "    action: block\n"
                "    conditions:\n"
                "      - {field: IP_REMOTE_PORT, value: 80}\n"
                "      - {field: IP_REMOTE_PORT, value: 443}\n"
                "      - {field: IP_PROTOCOL, value: tcp}\n");
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT=443", "IP_PROTOCOL=6", END)->action,
                     FWP_ACTION_BLOCK);
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT=22", "IP_PROTOCOL=tcp", END)->action,
                     FWP_ACTION_NONE_NO_MATCH);
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT=443", "IP_PROTOCOL=udp", END)->action,
                     FWP_ACTION_NONE_NO_MATCH);
}

/* EVIDENCE: C20 — fwptypes.idl FWP_V4_ADDR_AND_MASK (10.0.0.0/8 through the engine) */
/* EVIDENCE: C22 — fwptypes.idl FWP_RANGE0 (inclusive ends through the engine) */
/* EVIDENCE: C28 — W32 permitting-and-blocking-applications-and-users (user SD condition) */
static void conditions_match_through_the_engine(void **state)
{
    fx *f = *state;
    apply_ok(f, "filters:\n"
                "  - {name: net, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_ADDRESS: 10.0.0.0/8}}\n"
                "  - {name: ports, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_PORT: 1000-2000}}\n"
                "  - {name: user, layer: ALE_AUTH_CONNECT_V4, action: block,\n"
                "     conditions: {ALE_USER_ID: 'O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1001)'}}\n"
                "  - {name: app, layer: ALE_AUTH_CONNECT_V4, action: block,\n"
                "     conditions: {ALE_APP_ID: 'C:\\Program Files\\Browser\\browser.exe'}}\n");
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_ADDRESS=10.1.2.3", END);
    assert_int_equal(v->filter_id, fid(f, "net"));
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_ADDRESS=11.0.0.1", END)->action,
                     FWP_ACTION_NONE_NO_MATCH);
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT=1000", END)->filter_id, fid(f, "ports"));
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT=2000", END)->filter_id, fid(f, "ports"));
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT=2001", END)->action, FWP_ACTION_NONE_NO_MATCH);
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "ALE_USER_ID=S-1-5-21-1-2-3-1001,BA", END)->filter_id,
                     fid(f, "user"));
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "ALE_USER_ID=S-1-5-21-1-2-3-1002", END)->action,
                     FWP_ACTION_NONE_NO_MATCH);
    assert_int_equal(classify(f, "ALE_AUTH_CONNECT_V4", "ALE_APP_ID=c:\\program files\\browser\\BROWSER.exe", END)->filter_id,
                     fid(f, "app"));
}

static void bad_values_name_position_and_expectation(void **state)
{
    fx *f = *state;
    static const struct {
        const char *yaml, *at, *part; /* the error points at the first `at` */
    } cases[] = {
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_PORT: 70000}}", "70000}",
         "bad value '70000' for IP_REMOTE_PORT: expected a number from 0 to 65535"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_PORT: http}}", "http}",
         "expected a number from 0 to 65535"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_ADDRESS: 10.0.0.256}}",
         "10.0.0.256}", "expected an IPv4 address"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_REMOTE_ADDRESS: 10.0.0.0/33}}",
         "10.0.0.0/33}", "prefix length from 0 to 32"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V6, action: block, conditions: {IP_REMOTE_ADDRESS: 10.0.0.1}}",
         "10.0.0.1}", "expected an IPv6 address"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ALE_APP_ID: browser.exe}}", "browser.exe}",
         "expected a Windows path"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ALE_USER_ID: 'O:LSD:(A;;CC;;;'}}",
         "'O:LSD", "expected an SDDL security descriptor"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {ALE_PACKAGE_ID: S-1-x}}", "S-1-x}",
         "expected a SID"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {FLAGS: is_lopback}}", "is_lopback}",
         "flag names joined by '|' (is_loopback"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {IP_PROTOCOL: tcpp}}", "tcpp}",
         "or one of: icmp, igmp, tcp"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {NO_SUCH_FIELD: 1}}", "NO_SUCH_FIELD",
         "unknown condition field 'NO_SUCH_FIELD'"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: {MAC_LOCAL_ADDRESS: 1}}", "1}}",
         "MAC_LOCAL_ADDRESS is not a field of FWPM_LAYER_ALE_AUTH_CONNECT_V4 (its fields: ALE_APP_ID, ALE_USER_ID"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, match: sorta, value: 1}]}",
         "sorta", "unknown match 'sorta' (expected one of: equal"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, valu: 1}]}",
         "valu:", "unknown key 'valu' in condition (expected one of: field, match, value)"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: [{field: IP_REMOTE_PORT, value: {type: FWP_UINT7, value: 1}}]}",
         "FWP_UINT7", "unknown data type 'FWP_UINT7'"},
        {"{name: x, layer: INBOUND_MAC_FRAME_ETHERNET, action: block, conditions: {MAC_LOCAL_ADDRESS: '00:11'}}",
         "'00:11'", "expected a MAC address"},
        {"{name: x, layer: ALE_AUTH_CONNECT_V4, action: block, conditions: 5}", "5}",
         "conditions must be a list of {field, match, value} or a mapping FIELD: VALUE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const wfp_yaml_node *n = load(f, cases[i].yaml);
        if (wfp_policy_object_parse(f->p, WFP_POLICY_FILTER, n, "filter", &f->obj, &f->err))
            fail_msg("case %u parsed", (unsigned)i);
        const char *m = wfp_yaml_errors_first(&f->err);
        char prefix[64];
        const char *at = strstr(cases[i].yaml, cases[i].at);
        assert_non_null(at);
        snprintf(prefix, sizeof prefix, "t.yaml:1:%u: ", (unsigned)(at - cases[i].yaml) + 1);
        if (!m || strncmp(m, prefix, strlen(prefix)) || !strstr(m, cases[i].part))
            fail_msg("case %u: got '%s', want '%s' ... '%s'", (unsigned)i, m ? m : "(none)", prefix, cases[i].part);
    }
}

static void callout_layer_and_errors(void **state)
{
    fx *f = *state;
    apply_ok(f, "providers: [{name: V, persistent: true}]\n"
                "callouts:\n"
                "  - {name: c, layer: INBOUND_TRANSPORT_V4, provider: V, persistent: true, description: d}\n");
    uint32_t id = 0;
    assert_true(wfp_policy_callout_id(f->p, "c", &id));
    const wfp_callout *c = wfp_engine_callout_by_id(f->e, id);
    assert_non_null(c);
    const wfp_layer_info *l = wfp_catalog_layer_by_name("INBOUND_TRANSPORT_V4");
    assert_true(wfp_guid_eq(&c->applicable_layer, &l->key));
    assert_true(c->flags & FWPM_CALLOUT_FLAG_PERSISTENT);
    assert_string_equal(wfp_policy_callout_name(f->p, id), "c");
    wfp_guid kc = key_of("callout", "c");
    assert_true(wfp_callout_is_registered(f->e, &kc)); /* registered: true by default */
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{action: allow}]}]\n", "allow",
                "unknown action 'allow' in a classify rule (expected one of: permit, block, continue)");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{action: permit, absorb: true}]}]\n",
                   "true", "absorb: true needs action: block");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{when: {IP_REMOTE_PORT: x}, action: block}]}]\n",
                   "x}", "bad value 'x' for IP_REMOTE_PORT");
    /* rules are validated up front: the engine never sees them */
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{when: [{field: IP_REMOTE_PORT, match: equal_case_insensitive, value: 1}], action: block}]}]\n",
                   "{field", "FWP_E_MATCH_TYPE_MISMATCH");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{when: {IP_REMOTE_PORT: 1}, action: block, sure: 1}]}]\n",
                   "sure", "unknown key 'sure' in a classify rule (expected one of: when, injection_state, action, "
                           "clear_write_right, absorb, inject, pend, associate_context, redirect)");
    /* injection keys */
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{injection_state: mine, action: permit}]}]\n",
                   "mine", "unknown injection state 'mine' (expected not_injected, injected_by_self, injected_by_other or "
                           "previously_injected_by_self)");
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{action: block, inject: copy}]}]\n",
                   "copy", "inject: expected clone or a mapping with kind, delay, set");
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{action: block, inject: {kind: tcp}}]}]\n",
                   "tcp", "unknown injection kind 'tcp' (expected network_send, network_receive, transport_send, transport_receive, stream or forward)");
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{action: block, inject: {kind: stream}}]}]\n",
                   "{kind", "inject kind: stream works at STREAM_V4/V6 only");
    apply_fails_at(f, "callouts: [{name: d, layer: STREAM_V4, classify: [{action: block, inject: {kind: stream, set: {dport: 1}}}]}]\n",
                   "{dport", "inject.set does not go with kind: stream");
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{action: block, inject: {data: x}}]}]\n",
                   "x}", "inject.data goes with kind: stream");
    apply_fails_at(f, "callouts: [{name: d, layer: STREAM_V4, classify: [{action: block, inject: {kind: stream, data: 'hex:0g'}}]}]\n",
                   "'hex:0g'", "inject.data: '0g' is not hex");
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{action: block, inject: {delay: -1s}}]}]\n",
                   "-1s", "delay must be a duration");
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{action: block, inject: {set: {dst: 10.0.0.1, src: '::1'}}}]}]\n",
                   "10.0.0.1", "src and dst must be the same IP version");
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{action: block, inject: {set: {dport: 70000}}}]}]\n",
                   "70000", "dport");
    apply_fails_at(f, "callouts: [{name: d, layer: INBOUND_TRANSPORT_V4, classify: [{action: block, inject: {set: {ttl: 1}}}]}]\n",
                   "ttl", "unknown key 'ttl' in inject.set");
    /* pend */
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{action: permit, pend: {complete_after: 1s}}]}]\n",
                   "{complete_after", "pend needs action: block and absorb: true");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{action: block, absorb: true, pend: {}}]}]\n",
                   "{}", "pend needs 'complete_after'");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{action: block, absorb: true, pend: {complete_after: soon}}]}]\n",
                   "soon", "complete_after must be a duration");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{action: block, absorb: true, pend: yes}]}]\n",
                   "yes", "pend");
    /* flow contexts and redirection */
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_FLOW_ESTABLISHED_V4, classify: [{action: continue, associate_context: {layer: NOPE, value: 1}}]}]\n",
                   "NOPE", "associate_context.layer: unknown layer 'NOPE'");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_FLOW_ESTABLISHED_V4, classify: [{action: continue, associate_context: {layer: STREAM_V4}}]}]\n",
                   "{layer", "associate_context needs 'value'");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_AUTH_CONNECT_V4, classify: [{action: permit, redirect: {port: 1}}]}]\n",
                   "{port", "redirect works at ALE_CONNECT_REDIRECT_V4/V6 and ALE_BIND_REDIRECT_V4/V6 only");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_CONNECT_REDIRECT_V4, classify: [{action: permit, redirect: {address: '::1'}}]}]\n",
                   "'::1'", "redirect.address: expected an IPv4 address");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_CONNECT_REDIRECT_V4, classify: [{action: permit, redirect: {}}]}]\n",
                   "{}", "redirect needs address or port");
    apply_fails_at(f, "callouts: [{name: d, layer: ALE_CONNECT_REDIRECT_V4, conditional_on_flow: maybe}]\n",
                   "maybe", "conditional_on_flow");
    apply_fails_at(f, "callouts: [{name: d}]\n", "{name", "callout needs 'layer'");
}

/* ---- declarative callouts in arbitration -------------------------------- */

/* EVIDENCE: C07 — W32 filter-arbitration "Veto"; SDK FWPS_CLASSIFY_OUT0 */
static void callout_veto_of_hard_permit(void **state)
{
    fx *f = *state;
    apply_ok(f, "sublayers:\n"
                "  - {name: hi, weight: 0x200}\n"
                "  - {name: lo, weight: 0x100}\n"
                "callouts:\n"
                "  - name: ids\n"
                "    layer: ALE_AUTH_CONNECT_V4\n"
                "    classify:\n"
                "      - when: {IP_REMOTE_PORT: 4444}\n"
                "        action: block\n"
                "        clear_write_right: true\n"
                "      - action: continue\n"
                "filters:\n"
                "  - {name: hard-permit, layer: ALE_AUTH_CONNECT_V4, sublayer: hi, action: permit,\n"
                "     flags: [clear_action_right]}\n"
                "  - {name: veto, layer: ALE_AUTH_CONNECT_V4, sublayer: lo, action: callout_unknown, callout: ids}\n");
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT=4444", END);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_true(v->vetoed);
    assert_true(v->hard);
    assert_int_equal(v->reason, WFP_REASON_CALLOUT_VETO);
    assert_int_equal(v->filter_id, fid(f, "veto"));
    assert_int_equal(wfp_policy_callout_calls(f->p, "ids"), 1);
    /* the continue rule leaves the hard permit alone */
    v = classify(f, "ALE_AUTH_CONNECT_V4", "IP_REMOTE_PORT=443", END);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_false(v->vetoed);
    assert_int_equal(v->filter_id, fid(f, "hard-permit"));
    assert_int_equal(wfp_policy_callout_calls(f->p, "ids"), 2);
}

/* EVIDENCE: C08 — W32 filter-arbitration (a hard block is final; lower sublayers still run) */
static void permit_rule_leaves_a_hard_decision_alone(void **state)
{
    fx *f = *state;
    apply_ok(f, "sublayers: [{name: hi, weight: 0x200}, {name: lo, weight: 0x100}]\n"
                "callouts:\n"
                "  - {name: allow, layer: ALE_AUTH_CONNECT_V4, classify: [{action: permit, clear_write_right: true}]}\n"
                "filters:\n"
                "  - {name: hard-block, layer: ALE_AUTH_CONNECT_V4, sublayer: hi, action: block}\n"
                "  - {name: late, layer: ALE_AUTH_CONNECT_V4, sublayer: lo, action: callout_unknown, callout: allow}\n");
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, fid(f, "hard-block"));
    assert_int_equal(wfp_policy_callout_calls(f->p, "allow"), 1); /* still evaluated */
}

/* EVIDENCE: C09 — W32 filter-arbitration table "callout block: soft unless the right is cleared" */
static void soft_callout_block_overridden_below(void **state)
{
    fx *f = *state;
    apply_ok(f, "sublayers: [{name: hi, weight: 0x200}, {name: lo, weight: 0x100}]\n"
                "callouts:\n"
                "  - {name: soft, layer: ALE_AUTH_CONNECT_V4, classify: [{action: block}]}\n"
                "  - {name: hard, layer: ALE_AUTH_CONNECT_V4, classify: [{action: block, clear_write_right: true}]}\n"
                "filters:\n"
                "  - {name: cb, layer: ALE_AUTH_CONNECT_V4, sublayer: hi, action: callout_unknown, callout: soft}\n"
                "  - {name: p, layer: ALE_AUTH_CONNECT_V4, sublayer: lo, action: permit}\n");
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(v->filter_id, fid(f, "p"));
    /* the same block with the right cleared is hard */
    apply_ok(f, "filters:\n"
                "  - {name: cb2, layer: ALE_AUTH_CONNECT_V4, sublayer: hi, weight: 15, action: callout_unknown, callout: hard}\n");
    v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_true(v->hard);
    assert_int_equal(v->filter_id, fid(f, "cb2"));
}

/* EVIDENCE: C12 — SDK FWPS_ACTION0 (CALLOUT_UNKNOWN may continue); W32 basic-operation */
static void continue_rule_falls_through(void **state)
{
    fx *f = *state;
    apply_ok(f, "sublayers: [{name: s, weight: 0x100}]\n"
                "callouts:\n"
                "  - {name: log, layer: ALE_AUTH_CONNECT_V4, classify: [{action: continue}]}\n"
                "filters:\n"
                "  - {name: first, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 200, action: callout_unknown, callout: log}\n");
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_NONE); /* matched, nothing decided */
    assert_true(v->permitted);
    apply_ok(f, "filters:\n"
                "  - {name: second, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 100, action: block}\n");
    v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->filter_id, fid(f, "second"));
    assert_int_equal(wfp_policy_callout_calls(f->p, "log"), 2);
}

/* EVIDENCE: C11 — SDK FWPS_ACTION0 (a terminating callout's continue is a block) */
static void terminating_callout_continue_blocks(void **state)
{
    fx *f = *state;
    apply_ok(f, "callouts: [{name: c, layer: ALE_AUTH_CONNECT_V4}]\n" /* no rules: continue */
                "filters: [{name: t, layer: ALE_AUTH_CONNECT_V4, action: callout_terminating, callout: c}]\n");
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(wfp_policy_callout_calls(f->p, "c"), 1);
}

/* EVIDENCE: C10 — SDK FWPS_ACTION0 (an inspection callout's block counts as continue) */
static void inspection_callout_never_decides(void **state)
{
    fx *f = *state;
    apply_ok(f, "sublayers: [{name: s, weight: 0x100}]\n"
                "callouts: [{name: c, layer: ALE_AUTH_CONNECT_V4, classify: [{action: block, clear_write_right: true}]}]\n"
                "filters:\n"
                "  - {name: i, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 200, action: callout_inspection, callout: c}\n"
                "  - {name: p, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 100, action: permit}\n");
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(v->filter_id, fid(f, "p"));
    assert_int_equal(wfp_policy_callout_calls(f->p, "c"), 1);
}

/* EVIDENCE: C17 — DRV types-of-callouts; SDK FWPS_CLASSIFY_OUT0 (ABSORB) */
static void absorb_rule(void **state)
{
    fx *f = *state;
    apply_ok(f, "callouts:\n"
                "  - name: steal\n"
                "    layer: INBOUND_TRANSPORT_V4\n"
                "    classify:\n"
                "      - {when: {IP_REMOTE_PORT: 53}, action: block, clear_write_right: true, absorb: true}\n"
                "      - {action: permit}\n"
                "filters: [{name: t, layer: INBOUND_TRANSPORT_V4, action: callout_terminating, callout: steal}]\n");
    const wfp_verdict *v = classify(f, "INBOUND_TRANSPORT_V4", "IP_REMOTE_PORT=53", "IP_REMOTE_ADDRESS=8.8.8.8", END);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_true(v->absorb);
    v = classify(f, "INBOUND_TRANSPORT_V4", "IP_REMOTE_PORT=54", END);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_false(v->absorb);
}

/* The filter's clear_action_right reaches a callout as FWPS_FILTER_FLAG_CLEAR_ACTION_RIGHT,
 * and the declarative callout honours it as the DRV samples do. */
static void filter_clear_action_right_hardens_callout_decision(void **state)
{
    fx *f = *state;
    apply_ok(f, "sublayers: [{name: hi, weight: 0x200}, {name: lo, weight: 0x100}]\n"
                "callouts: [{name: ok, layer: ALE_AUTH_CONNECT_V4, classify: [{action: permit}]}]\n"
                "filters:\n"
                "  - {name: cp, layer: ALE_AUTH_CONNECT_V4, sublayer: hi, action: callout_terminating, callout: ok,\n"
                "     flags: [clear_action_right]}\n"
                "  - {name: b, layer: ALE_AUTH_CONNECT_V4, sublayer: lo, action: block}\n");
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_true(v->hard);
}

/* EVIDENCE: C13 — W32 basic-operation; DDI FwpsCalloutRegister0 (unregistered callout blocks) */
/* EVIDENCE: C14 — SDK FWPM_FILTER0 flags (PERMIT_IF_CALLOUT_UNREGISTERED) */
static void registered_false_and_later_registration(void **state)
{
    fx *f = *state;
    apply_ok(f, "sublayers: [{name: s, weight: 0x100}]\n"
                "callouts:\n"
                "  - {name: c, layer: ALE_AUTH_CONNECT_V4, registered: false, classify: [{action: permit}]}\n"
                "  - {name: d, layer: ALE_AUTH_CONNECT_V4, registered: false}\n"
                "filters:\n"
                "  - {name: t, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 20, action: callout_terminating, callout: c}\n");
    wfp_guid kc = key_of("callout", "c");
    assert_false(wfp_callout_is_registered(f->e, &kc));
    const wfp_verdict *v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_BLOCK);
    assert_int_equal(v->reason, WFP_REASON_UNREGISTERED_CALLOUT_BLOCK);
    assert_int_equal(wfp_policy_callout_register(f->p, f->e, "c"), ERROR_SUCCESS);
    assert_int_equal(wfp_policy_callout_register(f->p, f->e, "c"), FWP_E_ALREADY_EXISTS);
    v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(wfp_policy_callout_calls(f->p, "c"), 1);
    assert_int_equal(wfp_policy_callout_unregister(f->p, f->e, "c"), ERROR_SUCCESS);
    assert_int_equal(wfp_policy_callout_unregister(f->p, f->e, "nope"), FWP_E_CALLOUT_NOT_FOUND);
    apply_ok(f, "filters:\n"
                "  - {name: u, layer: ALE_AUTH_CONNECT_V4, sublayer: s, weight: 30, action: callout_terminating, callout: d,\n"
                "     flags: [permit_if_callout_unregistered]}\n");
    v = classify(f, "ALE_AUTH_CONNECT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(v->reason, WFP_REASON_UNREGISTERED_CALLOUT_PERMIT);
}

/* EVIDENCE: C18 — W32 filter-arbitration figure fwp-sub-config2.png (ids callout continues, later permit decides) */
static void published_example_inbound_transport(void **state)
{
    fx *f = *state;
    apply_ok(f, "sublayers: [{name: A, weight: 3}, {name: B, weight: 2}]\n"
                "callouts: [{name: ids_callout, layer: INBOUND_TRANSPORT_V4, classify: [{action: continue}]}]\n"
                "filters:\n"
                "  - {name: A-permit, layer: INBOUND_TRANSPORT_V4, sublayer: A, action: permit}\n"
                "  - {name: B-ids, layer: INBOUND_TRANSPORT_V4, sublayer: B, weight: 200, action: callout_inspection,\n"
                "     callout: ids_callout}\n"
                "  - {name: B-permit, layer: INBOUND_TRANSPORT_V4, sublayer: B, weight: 100, action: permit}\n");
    const wfp_verdict *v = classify(f, "INBOUND_TRANSPORT_V4", END);
    assert_int_equal(v->action, FWP_ACTION_PERMIT);
    assert_int_equal(wfp_policy_callout_calls(f->p, "ids_callout"), 1);
}

/* ---- reuse pieces ----------------------------------------------------- */

static void object_parse_add_and_report(void **state)
{
    fx *f = *state;
    const wfp_yaml_node *n = load(f, "name: x\nlayer: ALE_AUTH_CONNECT_V4\naction: block\n");
    wfp_policy_object *o = NULL;
    assert_true(wfp_policy_object_parse(f->p, WFP_POLICY_FILTER, n, "add_filter.filter", &o, &f->err));
    assert_string_equal(wfp_policy_object_name(o), "x");
    assert_int_equal(wfp_policy_object_kind(o), WFP_POLICY_FILTER);
    assert_ptr_equal(wfp_policy_object_node(o), n);
    assert_null(wfp_policy_object_callout(o));
    assert_int_equal(wfp_policy_object_add(f->p, f->s, o), ERROR_SUCCESS);
    uint32_t rc = wfp_policy_object_add(f->p, f->s, o);
    assert_int_equal(rc, FWP_E_ALREADY_EXISTS);
    assert_false(wfp_policy_object_report(o, rc, f->e, &f->err));
    expect_error(f, "t.yaml:1:1: ", "cannot add filter 'x': FWP_E_ALREADY_EXISTS (filter 'x' exists already)");
    wfp_policy_object_free(o);
    /* unknown keys name the place given */
    n = load(f, "name: x\nlayr: y\n");
    assert_false(wfp_policy_object_parse(f->p, WFP_POLICY_FILTER, n, "add_filter.filter", &o, &f->err));
    expect_error(f, "t.yaml:2:1: ", "unknown key 'layr' in add_filter.filter");
}

static void renamed_filter_ids_remembered(void **state)
{
    fx *f = *state;
    apply_ok(f, "filters: [{name: x, layer: ALE_AUTH_CONNECT_V4, action: block}]\n");
    uint64_t first = fid(f, "x");
    wfp_guid k = key_of("filter", "x");
    assert_int_equal(wfp_filter_delete_by_key(f->s, &k), ERROR_SUCCESS);
    apply_ok(f, "filters: [{name: x, layer: ALE_AUTH_CONNECT_V4, action: permit}]\n");
    uint64_t second = fid(f, "x");
    assert_true(second != first);
    assert_string_equal(wfp_policy_filter_name(f->p, first), "x");
    assert_string_equal(wfp_policy_filter_name(f->p, second), "x");
    assert_null(wfp_policy_filter_name(f->p, 12345));
}

static void conditions_parse_standalone(void **state)
{
    fx *f = *state;
    const wfp_layer_info *l = wfp_catalog_layer_by_name("ALE_AUTH_CONNECT_V4");
    wfp_policy_conditions c;
    const wfp_yaml_node *n = load(f, "{IP_REMOTE_PORT: [80, 443], IP_REMOTE_ADDRESS: 10.0.0.0/8}");
    assert_true(wfp_policy_conditions_parse(l, n, "when", true, &c, &f->err));
    assert_int_equal(c.count, 3);
    wfp_policy_values *v = wfp_policy_values_create(l);
    char why[512];
    assert_true(wfp_policy_values_set(v, "IP_REMOTE_PORT", "443", why, sizeof why));
    assert_true(wfp_policy_values_set(v, "ip_remote_address", "10.9.9.9", why, sizeof why));
    assert_true(wfp_policy_conditions_match(&c, wfp_policy_values_array(v), wfp_policy_values_count(v)));
    assert_true(wfp_policy_values_set(v, "IP_REMOTE_ADDRESS", "11.9.9.9", why, sizeof why));
    assert_false(wfp_policy_conditions_match(&c, wfp_policy_values_array(v), wfp_policy_values_count(v)));
    assert_true(wfp_policy_values_set(v, "IP_REMOTE_ADDRESS", "empty", why, sizeof why));
    assert_false(wfp_policy_conditions_match(&c, wfp_policy_values_array(v), wfp_policy_values_count(v)));
    wfp_policy_values_destroy(v);
    wfp_policy_conditions_free(&c);
    /* an empty list matches everything */
    n = load(f, "[]");
    assert_true(wfp_policy_conditions_parse(l, n, "when", true, &c, &f->err));
    assert_true(wfp_policy_conditions_match(&c, NULL, 0));
    wfp_policy_conditions_free(&c);
}

static void incoming_values_by_type(void **state)
{
    (void)state;
    const wfp_layer_info *l = wfp_catalog_layer_by_name("ALE_AUTH_CONNECT_V4");
    wfp_policy_values *v = wfp_policy_values_create(l);
    const wfp_value *vals = wfp_policy_values_array(v);
    char why[2048];
    int port = wfp_catalog_field_index(l, &wfp_catalog_condition_by_name("IP_REMOTE_PORT")->key);
    int addr = wfp_catalog_field_index(l, &wfp_catalog_condition_by_name("IP_REMOTE_ADDRESS")->key);
    int flags = wfp_catalog_field_index(l, &wfp_catalog_condition_by_name("FLAGS")->key);
    int user = wfp_catalog_field_index(l, &wfp_catalog_condition_by_name("ALE_USER_ID")->key);
    int app = wfp_catalog_field_index(l, &wfp_catalog_condition_by_name("ALE_APP_ID")->key);
    assert_int_equal(wfp_policy_values_count(v), l->num_fields);
    for (uint32_t i = 0; i < l->num_fields; i++) assert_int_equal(vals[i].type, FWP_EMPTY);
    assert_true(wfp_policy_values_set(v, "IP_REMOTE_PORT", "443", why, sizeof why));
    assert_int_equal(vals[port].type, FWP_UINT16);
    assert_int_equal(vals[port].v.u16, 443);
    assert_true(wfp_policy_values_set(v, "IP_REMOTE_ADDRESS", "10.0.0.5", why, sizeof why));
    assert_int_equal(vals[addr].type, FWP_UINT32);
    assert_int_equal(vals[addr].v.u32, 0x0a000005u);
    assert_true(wfp_policy_values_set(v, "FLAGS", "is_loopback|is_reauthorize", why, sizeof why));
    assert_int_equal(vals[flags].v.u32, 5);
    assert_true(wfp_policy_values_set(v, "FLAGS", "0x20", why, sizeof why));
    assert_int_equal(vals[flags].v.u32, 0x20);
    assert_true(wfp_policy_values_set(v, "ALE_USER_ID", "S-1-5-21-1-2-3-1001, BA", why, sizeof why));
    assert_int_equal(vals[user].type, FWP_TOKEN_ACCESS_INFORMATION_TYPE);
    assert_true(vals[user].v.blob.size > 0);
    assert_true(wfp_policy_values_set(v, "ALE_APP_ID", "C:\\x.exe", why, sizeof why));
    assert_int_equal(vals[app].type, FWP_BYTE_BLOB_TYPE);
    assert_false(wfp_policy_values_set(v, "IP_REMOTE_PORT", "65536", why, sizeof why));
    assert_non_null(strstr(why, "bad value '65536' for IP_REMOTE_PORT (FWP_UINT16): expected a number from 0 to 65535"));
    assert_false(wfp_policy_values_set(v, "ALE_USER_ID", "S-1-5-21-1,nobody", why, sizeof why));
    assert_non_null(strstr(why, "expected a token"));
    assert_false(wfp_policy_values_set(v, "MAC_LOCAL_ADDRESS", "1", why, sizeof why));
    assert_non_null(strstr(why, "MAC_LOCAL_ADDRESS is not a field of FWPM_LAYER_ALE_AUTH_CONNECT_V4"));
    assert_true(wfp_policy_values_set(v, "ICMP_CODE", "3", why, sizeof why)); /* alias of IP_REMOTE_PORT */
    assert_int_equal(vals[port].v.u16, 3);
    wfp_policy_values_destroy(v);
}

static void empty_and_null_policy(void **state)
{
    fx *f = *state;
    apply_ok(f, "{}\n");
    apply_ok(f, "filters:\n");
    apply_ok(f, "filters: []\nsublayers: ~\n");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(provider_name_persistent_key),
        T(sublayer_weight_provider),
        T(sublayer_weight_out_of_range),
        T(unknown_provider_reference),
        T(filter_layer_sublayer_provider),
        T(unknown_layer),
        T(filter_weight_forms),
        T(filter_weight_engine_refusals),
        T(filter_actions),
        T(filter_action_errors),
        T(filter_flags),
        T(filter_context_and_description),
        T(unknown_keys_are_errors),
        T(condition_integers_and_names),
        T(condition_flags),
        T(condition_ipv4),
        T(condition_ipv6),
        T(condition_ranges),
        T(condition_app_id_sd_sid),
        T(condition_mac_empty_typed),
        T(typed_mismatch_reaches_the_engine),
        T(condition_lists_or_and),
        T(conditions_match_through_the_engine),
        T(bad_values_name_position_and_expectation),
        T(callout_layer_and_errors),
        T(callout_veto_of_hard_permit),
        T(permit_rule_leaves_a_hard_decision_alone),
        T(soft_callout_block_overridden_below),
        T(continue_rule_falls_through),
        T(terminating_callout_continue_blocks),
        T(inspection_callout_never_decides),
        T(absorb_rule),
        T(filter_clear_action_right_hardens_callout_decision),
        T(registered_false_and_later_registration),
        T(published_example_inbound_transport),
        T(object_parse_add_and_report),
        T(renamed_filter_ids_remembered),
        T(conditions_parse_standalone),
        T(incoming_values_by_type),
        T(empty_and_null_policy),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
