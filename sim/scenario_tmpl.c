/* scenario_tmpl.c — the `template:` of enumeration, subscription and
 * net-event steps (docs/scenario-format.md), turned into the engine's
 * FWPM_*_ENUM_TEMPLATE0 equivalents (wfp_enum.h, wfp_netevent.h).
 *
 * Templates are parsed when the step runs (and by `wfpsim check`), not
 * when the file loads: their conditions take the layer's field types and
 * their names resolve through the host's policy, as object bodies do.
 * Names the policy does not know give the key derived from the name, so a
 * template may name an object a later step adds (or one that never
 * exists: the template then matches nothing). */
#include "scenario_tmpl.h"

#include <stdlib.h>
#include <string.h>

typedef struct tname {
    const char *name;
    uint32_t value;
} tname;

static const tname enum_flags[] = {
    {"best_terminating_match", FWP_FILTER_ENUM_FLAG_BEST_TERMINATING_MATCH},
    {"sorted", FWP_FILTER_ENUM_FLAG_SORTED},
    {"boottime_only", FWP_FILTER_ENUM_FLAG_BOOTTIME_ONLY},
    {"include_boottime", FWP_FILTER_ENUM_FLAG_INCLUDE_BOOTTIME},
    {"include_disabled", FWP_FILTER_ENUM_FLAG_INCLUDE_DISABLED},
};

/* actionMask bits by name: the flag bits, or an action type's bits */
static const tname action_bits[] = {
    {"terminating", FWP_ACTION_FLAG_TERMINATING},
    {"non_terminating", FWP_ACTION_FLAG_NON_TERMINATING},
    {"callout", FWP_ACTION_FLAG_CALLOUT},
    {"block", FWP_ACTION_BLOCK},
    {"permit", FWP_ACTION_PERMIT},
    {"callout_terminating", FWP_ACTION_CALLOUT_TERMINATING},
    {"callout_inspection", FWP_ACTION_CALLOUT_INSPECTION},
    {"callout_unknown", FWP_ACTION_CALLOUT_UNKNOWN},
};

#define COUNT_OF(a) (sizeof(a) / sizeof *(a))

static bool lookup(const tname *t, size_t n, const char *s, uint32_t *out)
{
    for (size_t i = 0; i < n; i++)
        if (wfp_yaml_ascii_ieq(t[i].name, s)) {
            *out = t[i].value;
            return true;
        }
    return false;
}

static void names_of(const tname *t, size_t n, char *buf, size_t cap)
{
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) strncat(buf, ", ", cap - strlen(buf) - 1);
        strncat(buf, t[i].name, cap - strlen(buf) - 1);
    }
}

/* A name or a list of names OR'ed together (or a number). */
static bool get_bits(const wfp_yaml_node *n, const tname *t, size_t nt, const char *what, uint32_t *out,
                     wfp_yaml_errors *err)
{
    size_t count = n->kind == WFP_YAML_SEQUENCE ? n->count : 1;
    char list[256];
    for (size_t i = 0; i < count; i++) {
        const wfp_yaml_node *item = n->kind == WFP_YAML_SEQUENCE ? n->items[i] : n;
        const char *s;
        uint64_t v;
        uint32_t bit;
        if (!wfp_yaml_get_string(err, item, what, &s)) return false;
        if (wfp_yaml_parse_uint64(s, strlen(s), &v) && v <= UINT32_MAX) {
            *out |= (uint32_t)v;
        } else if (lookup(t, nt, s, &bit)) {
            *out |= bit;
        } else {
            names_of(t, nt, list, sizeof list);
            return wfp_yaml_error(err, item, "%s: unknown name '%s' (expected one of: %s)", what, s, list);
        }
    }
    return true;
}

static void ref_key(const wfp_policy *p, wfp_policy_kind kind, const char *name, wfp_guid *key)
{
    if (!wfp_policy_key(p, kind, name, key)) wfp_guid_from_name(wfp_policy_kind_name(kind), name, key);
}

static bool get_ref(const wfp_policy *p, wfp_policy_kind kind, const wfp_yaml_node *n, const char *what,
                    wfp_guid *key, wfp_yaml_errors *err)
{
    const char *s;
    if (!wfp_yaml_get_string(err, n, what, &s)) return false;
    ref_key(p, kind, s, key);
    return true;
}

static bool get_layer(const wfp_yaml_node *n, const char *what, const wfp_layer_info **layer, wfp_guid *key,
                      wfp_yaml_errors *err)
{
    const char *s;
    if (!wfp_yaml_get_string(err, n, what, &s)) return false;
    *layer = wfp_catalog_layer_by_name(s);
    if (*layer) *key = (*layer)->key;
    else if (!wfp_guid_parse(s, key))
        return wfp_yaml_error(err, n, "%s: unknown layer '%s' (a name like ALE_AUTH_CONNECT_V4 or a {GUID})", what, s);
    return true;
}

const char *const *wfps_tmpl_keys(uint32_t object)
{
    static const char *const filter[] = {"layer", "provider", "action_mask", "callout", "enum_type", "flags",
                                         "conditions", NULL};
    static const char *const callout[] = {"provider", "layer", NULL};
    static const char *const sublayer[] = {"provider", NULL};
    static const char *const net[] = {"from", "to", "type", "conditions", NULL};
    switch (object) {
    case WFP_OBJECT_FILTER: return filter;
    case WFP_OBJECT_CALLOUT: return callout;
    case WFP_OBJECT_SUBLAYER: return sublayer;
    case WFP_OBJECT_NET_EVENTS: return net;
    default: return NULL;
    }
}

static bool parse_filter(wfps_tmpl *t, const wfp_policy *p, const wfp_yaml_node *n, wfp_yaml_errors *err)
{
    wfp_filter_enum_template *f = &t->filter;
    const wfp_layer_info *layer = NULL;
    const wfp_yaml_node *v;
    f->action_mask = 0xFFFFFFFFu;
    if ((v = wfp_yaml_map_get(n, "layer")) && !get_layer(v, "template.layer", &layer, &f->layer_key, err))
        return false;
    if ((v = wfp_yaml_map_get(n, "provider"))) {
        if (!get_ref(p, WFP_POLICY_PROVIDER, v, "template.provider", &t->provider, err)) return false;
        f->provider_key = &t->provider;
    }
    if ((v = wfp_yaml_map_get(n, "callout"))) {
        if (!get_ref(p, WFP_POLICY_CALLOUT, v, "template.callout", &t->callout_key, err)) return false;
        f->callout_key = &t->callout_key;
    }
    if ((v = wfp_yaml_map_get(n, "action_mask")) && !wfp_yaml_scalar_is(v, "any")) {
        f->action_mask = 0;
        if (!get_bits(v, action_bits, COUNT_OF(action_bits), "template.action_mask", &f->action_mask, err))
            return false;
    }
    if ((v = wfp_yaml_map_get(n, "flags")) &&
        !get_bits(v, enum_flags, COUNT_OF(enum_flags), "template.flags", &f->flags, err))
        return false;
    if ((v = wfp_yaml_map_get(n, "enum_type"))) {
        if (wfp_yaml_scalar_is(v, "overlapping")) f->enum_type = FWP_FILTER_ENUM_OVERLAPPING;
        else if (!wfp_yaml_scalar_is(v, "fully_contained"))
            return wfp_yaml_error(err, v, "template.enum_type: expected fully_contained or overlapping");
    }
    if ((v = wfp_yaml_map_get(n, "conditions"))) {
        if (!layer) return wfp_yaml_error(err, v, "template.conditions need a template.layer from the catalogue");
        if (!wfp_policy_conditions_parse(layer, v, "template.conditions", false, &t->conds, err)) return false;
        f->conditions = t->conds.items;
        f->num_conditions = t->conds.count;
    }
    return true;
}

/* The net-event fields are those of ALE_AUTH_CONNECT_V4 (protocol,
 * addresses, ports, app id); `type:` adds a NET_EVENT_TYPE condition. */
static bool parse_net(wfps_tmpl *t, const wfp_yaml_node *n, wfp_yaml_errors *err)
{
    wfp_net_event_template *ne = &t->net;
    const wfp_yaml_node *v;
    int64_t from = 0, to = 0;
    if ((v = wfp_yaml_map_get(n, "from")) && !wfp_yaml_get_duration(err, v, "template.from", &from)) return false;
    if ((v = wfp_yaml_map_get(n, "to")) && !wfp_yaml_get_duration(err, v, "template.to", &to)) return false;
    if (from < 0 || to < 0) return wfp_yaml_error(err, n, "template: times cannot be negative");
    ne->start_ns = (uint64_t)from;
    ne->end_ns = (uint64_t)to;
    if ((v = wfp_yaml_map_get(n, "conditions")) &&
        !wfp_policy_conditions_parse(wfp_catalog_layer_by_name("ALE_AUTH_CONNECT_V4"), v, "template.conditions",
                                     false, &t->conds, err))
        return false;
    t->all = calloc(t->conds.count + 1, sizeof *t->all);
    if (!t->all) return wfp_yaml_error(err, n, "out of memory");
    if (t->conds.count) memcpy(t->all, t->conds.items, t->conds.count * sizeof *t->all);
    ne->conditions = t->all;
    ne->num_conditions = t->conds.count;
    if ((v = wfp_yaml_map_get(n, "type"))) {
        const char *s;
        uint32_t type = FWPM_NET_EVENT_TYPE_MAX;
        if (!wfp_yaml_get_string(err, v, "template.type", &s)) return false;
        for (uint32_t k = 0; k < FWPM_NET_EVENT_TYPE_MAX; k++)
            if (!strcmp(s, wfp_net_event_type_name(k))) type = k;
        if (type == FWPM_NET_EVENT_TYPE_MAX)
            return wfp_yaml_error(err, v, "template.type: unknown net event type '%s' (classify_drop, classify_allow, …)", s);
        wfp_condition *c = &t->all[ne->num_conditions++];
        c->field_key = wfp_catalog_condition_by_name("NET_EVENT_TYPE")->key;
        c->match_type = FWP_MATCH_EQUAL;
        c->value.type = FWP_UINT32;
        c->value.u.value.type = FWP_UINT32;
        c->value.u.value.v.u32 = type;
    }
    return true;
}

bool wfps_tmpl_parse(wfps_tmpl *t, uint32_t object, const wfp_policy *p, const wfp_yaml_node *n,
                     wfp_yaml_errors *err)
{
    const wfp_yaml_node *v;
    memset(t, 0, sizeof *t);
    t->object = object;
    if (!n) return true;
    t->given = true;
    if (!wfp_yaml_expect(err, n, WFP_YAML_MAPPING, "template")) return false;
    switch (object) {
    case WFP_OBJECT_FILTER: return parse_filter(t, p, n, err);
    case WFP_OBJECT_NET_EVENTS: return parse_net(t, n, err);
    case WFP_OBJECT_CALLOUT:
    case WFP_OBJECT_SUBLAYER:
        if (object == WFP_OBJECT_CALLOUT && (v = wfp_yaml_map_get(n, "layer"))) {
            const wfp_layer_info *l;
            if (!get_layer(v, "template.layer", &l, &t->callout.layer_key, err)) return false;
        }
        if ((v = wfp_yaml_map_get(n, "provider"))) {
            if (!get_ref(p, WFP_POLICY_PROVIDER, v, "template.provider", &t->provider, err)) return false;
            t->callout.provider_key = t->sublayer.provider_key = &t->provider;
        }
        return true;
    default:
        return wfp_yaml_error(err, n, "template: %s enumerations and subscriptions take no template",
                              wfp_object_type_name(object));
    }
}

void wfps_tmpl_free(wfps_tmpl *t)
{
    if (!t) return;
    wfp_policy_conditions_free(&t->conds);
    free(t->all);
    memset(t, 0, sizeof *t);
}
