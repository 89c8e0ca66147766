/* policy.h — the `policy:` part of a scenario file, applied to an engine.
 *
 * A wfp_policy is the name registry of one simulated host: it turns the
 * names a scenario uses (providers, sublayers, callouts, filters) into
 * keys and ids, owns the declarative classify rules of the callouts it
 * registered, and counts how often each of them ran. wfp_policy_apply adds
 * a whole `policy:` mapping through a session; the scenario runner reuses
 * the pieces (one object body, a condition list, incoming values) for its
 * steps. The format is docs/scenario-format.md; what it leaves open and we
 * chose is in docs/sim-defined.md.
 *
 * Ownership: the engine calls back into the policy (callout classify
 * rules), so destroy the engine — or unregister the policy's callouts —
 * before destroying the policy. Nothing here keeps pointers into a YAML
 * document after a call returns, except wfp_policy_object (see below). */
#ifndef WFP_POLICY_H
#define WFP_POLICY_H

#include "wfp_engine.h"
#include "yamldoc.h"

typedef struct wfp_policy wfp_policy;

typedef enum wfp_policy_kind {
    WFP_POLICY_PROVIDER = 0,
    WFP_POLICY_SUBLAYER = 1,
    WFP_POLICY_CALLOUT = 2,
    WFP_POLICY_FILTER = 3
} wfp_policy_kind;

/* "provider", "sublayer", "callout", "filter" (also the `kind` given to
 * wfp_guid_from_name for keys derived from names). */
const char *wfp_policy_kind_name(wfp_policy_kind kind);

/* NULL when memory runs out. */
wfp_policy *wfp_policy_create(void);
/* The host whose callouts the policy declares: classify rules with
 * `inject:` or `injection_state:` inject into it and ask it (none: such
 * rules never inject, and see every packet as not injected). */
struct wfp_host;
void wfp_policy_set_host(wfp_policy *p, struct wfp_host *h);
void wfp_policy_destroy(wfp_policy *p); /* accepts NULL */

/* Adds a `policy:` mapping (keys providers, sublayers, callouts, filters,
 * each a sequence; added in that order, each list in file order) through
 * session `s`. Stops at the first problem: a YAML error, or an add that
 * the engine refuses ("F:L:C: cannot add filter 'x': FWP_E_... (detail)").
 * Objects added before the failure stay in the engine. */
bool wfp_policy_apply(wfp_policy *p, wfp_session *s, const wfp_yaml_node *policy_map, wfp_yaml_errors *err);

/* ---- one object body (policy list entries and add_* step bodies) ------ */

/* A parsed object: the FWPM descriptor plus the storage it borrows, and
 * the YAML nodes it came from (for error positions; they belong to the
 * document, which must outlive the object). */
typedef struct wfp_policy_object wfp_policy_object;

/* `what` names the object in messages ("policy.filters[3]"). References
 * by name (provider, sublayer, callout) resolve through the policy, then
 * the built-in WFP names, then "{guid}" text. */
bool wfp_policy_object_parse(wfp_policy *p, wfp_policy_kind kind, const wfp_yaml_node *body, const char *what,
                             wfp_policy_object **out, wfp_yaml_errors *err);
/* The FwpmXxxAdd0 call; returns its code. On success the name is recorded
 * (a later object of the same kind and name replaces the entry) and a
 * callout with `registered: true` is registered with its classify rules
 * (unless its key is registered already). */
uint32_t wfp_policy_object_add(wfp_policy *p, wfp_session *s, wfp_policy_object *o);
/* Records "F:L:C: cannot add <kind> '<name>': <CODE> (<engine detail>)" for
 * a failed add, pointing at the offending condition when the code is about
 * one. Returns false. */
bool wfp_policy_object_report(const wfp_policy_object *o, uint32_t code, const wfp_engine *e,
                              wfp_yaml_errors *err);
void wfp_policy_object_free(wfp_policy_object *o); /* accepts NULL */
wfp_policy_kind wfp_policy_object_kind(const wfp_policy_object *o);
const char *wfp_policy_object_name(const wfp_policy_object *o);
const wfp_yaml_node *wfp_policy_object_node(const wfp_policy_object *o);
/* The descriptor for the object's kind; NULL for the other kinds. */
const wfp_filter *wfp_policy_object_filter(const wfp_policy_object *o);
const wfp_callout *wfp_policy_object_callout(const wfp_policy_object *o);
const wfp_sublayer *wfp_policy_object_sublayer(const wfp_policy_object *o);
const wfp_provider *wfp_policy_object_provider(const wfp_policy_object *o);

/* ---- conditions -------------------------------------------------------- */

/* A parsed condition list for one layer. `items` are FWPM conditions (as
 * wfp_filter.conditions wants them); `field_index[i]` is the layer schema
 * index of items[i] (-1 for a field the layer lacks, possible only with the
 * typed {type:, value:} form). The struct owns all storage; free with
 * wfp_policy_conditions_free. */
typedef struct wfp_policy_conditions {
    wfp_condition *items;
    int32_t *field_index;
    const wfp_yaml_node **nodes; /* where each came from (borrowed) */
    uint32_t count;
    /* private */
    void **owned_;
    size_t nowned_, capowned_, cap_;
} wfp_policy_conditions;

/* Accepts a sequence of {field, match, value} mappings, or the short form
 * {FIELD: VALUE, ...} (match inferred: equal, or range for "a-b" and
 * {low, high}). A sequence as a value gives one condition per item (OR'ed,
 * as same-field conditions are), except on flags fields, where it is a
 * list of flag names. `layer` NULL: only typed values are accepted.
 * With `validate`, every condition must also pass wfp_condition_validate
 * (callout rules need it; filters leave it to the engine so scenarios can
 * pin its error codes). */
bool wfp_policy_conditions_parse(const wfp_layer_info *layer, const wfp_yaml_node *node, const char *what,
                                 bool validate, wfp_policy_conditions *out, wfp_yaml_errors *err);
void wfp_policy_conditions_free(wfp_policy_conditions *c);
/* WFP's rule: AND across fields, OR among conditions on one field; an
 * empty list matches. `values` holds the layer's fields in schema order.
 * The conditions must be validated. */
bool wfp_policy_conditions_match(const wfp_policy_conditions *c, const wfp_value *values, uint32_t count);

/* ---- incoming values (wfpsim classify, tests) ------------------------- */

/* The layer's fields, all FWP_EMPTY until set. */
typedef struct wfp_policy_values wfp_policy_values;
wfp_policy_values *wfp_policy_values_create(const wfp_layer_info *layer);
void wfp_policy_values_destroy(wfp_policy_values *v); /* accepts NULL */
/* FIELD by name, alias or GUID; TEXT as the field's data type wants it:
 * integers (decimal/0x; protocol, direction and address-type names; flag
 * names joined by | or ,), IPv4/IPv6 addresses, MAC addresses, Windows
 * paths for app ids, SIDs, tokens as comma-separated SID lists (user
 * first), SDDL, text, hex:…, or "empty". On failure writes why into
 * `why` (n bytes) and returns false. */
bool wfp_policy_values_set(wfp_policy_values *v, const char *field, const char *text, char *why, size_t n);
const wfp_value *wfp_policy_values_array(const wfp_policy_values *v);
uint32_t wfp_policy_values_count(const wfp_policy_values *v);
const wfp_layer_info *wfp_policy_values_layer(const wfp_policy_values *v);

/* ---- lookups by name --------------------------------------------------- */

/* Key of an object named in this policy, else a built-in WFP object
 * (sublayers, providers, callouts: "FWPM_SUBLAYER_UNIVERSAL" or
 * "UNIVERSAL"), else "{guid}" text. */
bool wfp_policy_key(const wfp_policy *p, wfp_policy_kind kind, const char *name, wfp_guid *key);
/* Name of an object by key: this policy's names first, then built-ins.
 * NULL if unknown. */
const char *wfp_policy_name_of_key(const wfp_policy *p, wfp_policy_kind kind, const wfp_guid *key);
bool wfp_policy_filter_id(const wfp_policy *p, const char *name, uint64_t *id);
/* Every id a filter of that name was ever added with answers. */
const char *wfp_policy_filter_name(const wfp_policy *p, uint64_t id);
bool wfp_policy_callout_id(const wfp_policy *p, const char *name, uint32_t *id);
const char *wfp_policy_callout_name(const wfp_policy *p, uint32_t id);
const char *wfp_policy_sublayer_name(const wfp_policy *p, const wfp_guid *key);

/* ---- declarative callouts ---------------------------------------------- */

/* How many times the callout's classify function ran (0 if unknown). */
uint64_t wfp_policy_callout_calls(const wfp_policy *p, const char *name);
/* Driver side of a callout this policy declared (register_callout /
 * unregister_callout steps, reboots). Return the engine's code;
 * FWP_E_CALLOUT_NOT_FOUND when the policy has no callout of that name. */
uint32_t wfp_policy_callout_register(wfp_policy *p, wfp_engine *e, const char *name);
uint32_t wfp_policy_callout_unregister(wfp_policy *p, wfp_engine *e, const char *name);

#endif
