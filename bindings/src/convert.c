/* convert.c — C results to Python: the record types (struct sequences:
 * immutable, with named fields), values and condition values as Python
 * objects (int, ipaddress, str, bytes), GUIDs as uuid.UUID, and YAML trees
 * as dicts and lists.
 *
 * Records are built eagerly: the C data they come from is lent (until the
 * next call on the engine or handle), the Python copy is not. */
#include "pywfp.h"

#include <string.h>

/* ---- record types ---------------------------------------------------------- */

static PyStructSequence_Field verdict_fields[] = {
    {"layer", "the layer's name (ALE_AUTH_CONNECT_V4)"},
    {"layer_id", "the layer's run-time id"},
    {"action", "'permit', 'block', 'none' or 'none_no_match'"},
    {"action_type", "the FWP_ACTION_* value"},
    {"permitted", "what the shim does: 'none' and 'none_no_match' permit"},
    {"hard", "the write right was cleared (a hard decision)"},
    {"vetoed", "a callout vetoed a hard permit"},
    {"absorb", "FWPS_CLASSIFY_OUT_FLAG_ABSORB: dropped silently"},
    {"reason", "why: 'no_match', 'filter_permit', 'callout_veto', ... (VERDICT_REASONS)"},
    {"filter_id", "the deciding filter (0: none)"},
    {"filter", "the deciding filter's name when known, else None"},
    {"sublayer_key", "the deciding filter's sublayer (UUID) or None"},
    {"sublayer", "that sublayer's name when known, else None"},
    {"host", "the host that classified (scenario runs), else None"},
    {"reauth", "a reauthorization (FLAGS carried IS_REAUTHORIZE)"},
    {"rights", "FWPS_RIGHT_* left at the end"},
    {"flags", "FWPS_CLASSIFY_OUT_FLAG_* at the end"},
    {"context", "the deciding filter's context"},
    {"sublayers", "every sublayer's decision, in evaluation order (SublayerDecision)"},
    {"steps", "every filter tried, in order (FilterStep)"},
    {NULL, NULL}};

static PyStructSequence_Field sublayer_decision_fields[] = {
    {"key", "the sublayer (UUID)"},
    {"name", "its name when known, else None"},
    {"weight", "its weight"},
    {"action", "its own decision: 'permit', 'block', 'none' or 'none_no_match'"},
    {"filter_id", "the filter that decided it (0: none)"},
    {"filter", "that filter's name when known, else None"},
    {"hard", "the decision was hard"},
    {"effect", "what it did to the layer verdict: 'none', 'applied', 'ignored' or 'veto'"},
    {NULL, NULL}};

static PyStructSequence_Field filter_step_fields[] = {
    {"filter_id", "the filter"},
    {"sublayer_key", "its sublayer (UUID)"},
    {"matched", "its conditions matched"},
    {"result", "'permit', 'block', 'continue', or None when not matched"},
    {"hard", "the result was hard"},
    {"effect", "'none', 'applied', 'ignored' or 'veto'"},
    {"callout_invoked", "its callout's classify function ran"},
    {NULL, NULL}};

static PyStructSequence_Field change_fields[] = {
    {"object_type", "'provider', 'sublayer', 'callout' or 'filter'"},
    {"change", "'add' or 'delete'"},
    {"key", "the object's key (UUID)"},
    {"id", "filter id, callout id; 0 otherwise"},
    {"name", "the object's name when the engine's policy knows it, else None"},
    {NULL, NULL}};

static PyStructSequence_Field net_event_fields[] = {
    {"sequence", "1, 2, 3... per engine: recording order"},
    {"time_ns", "virtual time of the classify"},
    {"type", "'classify_drop', 'classify_allow', ..."},
    {"flags", "FWPM_NET_EVENT_FLAG_*: which fields are set"},
    {"ip_version", "4, 6 or None"},
    {"ip_protocol", "IP protocol number or None"},
    {"local_address", "ipaddress object or None"},
    {"remote_address", "ipaddress object or None"},
    {"local_port", "local port (ICMP: type) or None"},
    {"remote_port", "remote port (ICMP: code) or None"},
    {"scope_id", "scope id or None"},
    {"app_id", "the application (device path) or None"},
    {"user_id", "the user SID (S-1-...) or None"},
    {"filter_id", "the filter that decided"},
    {"layer", "the layer's name"},
    {"layer_id", "the layer's run-time id"},
    {"reauth_reason", "reauthorization reason"},
    {"original_profile", "original profile"},
    {"current_profile", "current profile"},
    {"direction", "'in', 'out', 'forward' or None"},
    {"is_loopback", "loopback traffic"},
    {NULL, NULL}};

static PyStructSequence_Field provider_fields[] = {
    {"key", "UUID"},
    {"name", "display name"},
    {"description", "display description or None"},
    {"flags", "FWPM_PROVIDER_FLAG_*"},
    {"service_name", "service name or None"},
    {"provider_data", "bytes or None"},
    {NULL, NULL}};

static PyStructSequence_Field sublayer_fields[] = {
    {"key", "UUID"},
    {"name", "display name"},
    {"description", "display description or None"},
    {"flags", "FWPM_SUBLAYER_FLAG_*"},
    {"provider_key", "UUID or None"},
    {"weight", "the weight BFE assigned"},
    {"provider_data", "bytes or None"},
    {NULL, NULL}};

static PyStructSequence_Field callout_fields[] = {
    {"key", "UUID"},
    {"name", "display name"},
    {"description", "display description or None"},
    {"flags", "FWPM_CALLOUT_FLAG_*"},
    {"provider_key", "UUID or None"},
    {"layer", "applicable layer's name (or '{guid}')"},
    {"id", "run-time callout id"},
    {"provider_data", "bytes or None"},
    {NULL, NULL}};

static PyStructSequence_Field filter_fields[] = {
    {"key", "UUID"},
    {"name", "display name"},
    {"description", "display description or None"},
    {"flags", "FWPM_FILTER_FLAG_*"},
    {"provider_key", "UUID or None"},
    {"layer", "the layer's name (or '{guid}')"},
    {"sublayer_key", "UUID"},
    {"weight", "the weight as given: None (auto), 0..15 (a weight range) or a 64-bit weight"},
    {"effective_weight", "the effective weight BFE computed"},
    {"action", "'permit', 'block', 'callout_terminating', 'callout_inspection' or 'callout_unknown'"},
    {"action_type", "FWP_ACTION_* value"},
    {"callout_key", "the callout (UUID) for callout actions, else None"},
    {"context", "raw context"},
    {"id", "run-time filter id"},
    {"conditions", "tuple of Condition(field, match, value)"},
    {"provider_data", "bytes or None"},
    {NULL, NULL}};

static PyStructSequence_Field layer_fields[] = {
    {"name", "ALE_AUTH_CONNECT_V4 (FWPM_LAYER_ without the prefix)"},
    {"display_name", "Windows' display name"},
    {"key", "UUID"},
    {"id", "run-time id"},
    {"flags", "FWPM_LAYER_FLAG_*"},
    {"default_sublayer", "UUID"},
    {"fields", "tuple of Field, in run-time index order"},
    {"base_layer_id", "for *_DISCARD layers the base layer's id, else None"},
    {NULL, NULL}};

static PyStructSequence_Field field_fields[] = {
    {"name", "IP_REMOTE_PORT (FWPM_CONDITION_ without the prefix)"},
    {"key", "UUID"},
    {"field_type", "'raw_data', 'ip_address' or 'flags'"},
    {"data_type", "FWP_UINT16, FWP_BYTE_BLOB_TYPE, ..."},
    {NULL, NULL}};

static PyStructSequence_Field engine_stats_fields[] = {
    {"classify_count", NULL},
    {"inbound_allowed_v4", NULL},
    {"inbound_blocked_v4", NULL},
    {"outbound_allowed_v4", NULL},
    {"outbound_blocked_v4", NULL},
    {"inbound_allowed_v6", NULL},
    {"inbound_blocked_v6", NULL},
    {"outbound_allowed_v6", NULL},
    {"outbound_blocked_v6", NULL},
    {"reauth_dir_inbound", NULL},
    {"reauth_dir_outbound", NULL},
    {"reauth_family_v4", NULL},
    {"reauth_family_v6", NULL},
    {"reauth_reason_policy_change", NULL},
    {"notifications_delivered", NULL},
    {"net_events_recorded", NULL},
    {"net_events_dropped", NULL},
    {NULL, NULL}};

static PyStructSequence_Field layer_stats_fields[] = {
    {"classify_count", NULL}, {"permit_count", NULL}, {"block_count", NULL}, {"veto_count", NULL}, {NULL, NULL}};

static PyStructSequence_Field packet_fields[] = {
    {"number", "1, 2, 3... in the order packets entered the simulation"},
    {"time_ns", "virtual time"},
    {"host", "the host it was seen at"},
    {"inbound", "direction at that host"},
    {"permitted", "delivered or sent"},
    {"absorbed", "dropped silently by a callout"},
    {"verdict", "'permit' or 'block'"},
    {"layer", "the deciding layer's name (None when no layer classified it)"},
    {"layer_id", "the deciding layer's id (None when none)"},
    {"filter_id", "the deciding filter (0: none)"},
    {"filter", "the deciding filter's scenario name, or None"},
    {"reason", "verdict reason of the deciding classify ('filter_block', ...)"},
    {"drop_reason", "the stack's discard reason ('no_listener', ...) or None"},
    {"injected_from", "a callout's injected copy: the packet classified when it was injected; else None"},
    {"calls", "every classify call for the packet, in order (Verdict)"},
    {NULL, NULL}};

static PyStructSequence_Field scenario_result_fields[] = {
    {"name", "the scenario's name"},
    {"passed", "it ran and every expectation held"},
    {"reason", "why it failed (setup error or first failing expectation), or None"},
    {"failures", "every failing expectation's message"},
    {"packets", "per-packet records (PacketRecord)"},
    {"net_events", "every host's net-event log at the end of the run (ScenarioNetEvent)"},
    {"notifications", "change notifications delivered to the scenario's subscriptions (Notification)"},
    {"expectations", "one outcome per item of expect: (ExpectationOutcome), in checking order"},
    {NULL, NULL}};

static PyStructSequence_Field scenario_net_event_fields[] = {
    {"host", "the host whose log holds it"},
    {"sequence", "1, 2, 3... per host engine: recording order"},
    {"time_ns", "virtual time of the classify"},
    {"type", "'classify_drop', 'classify_allow', ..."},
    {"packet", "the packet being classified (0: none)"},
    {"layer", "the layer's name"},
    {"layer_id", "the layer's run-time id"},
    {"filter_id", "the filter that decided (0: none)"},
    {"filter", "its scenario name (else display name, else '#id'), or None"},
    {"ip_version", "4, 6 or None"},
    {"ip_protocol", "IP protocol number or None"},
    {"local_address", "ipaddress object or None"},
    {"remote_address", "ipaddress object or None"},
    {"local_port", "local port (ICMP: type) or None"},
    {"remote_port", "remote port (ICMP: code) or None"},
    {"direction", "'in', 'out', 'forward' or None"},
    {"flags", "FWPM_NET_EVENT_FLAG_*: which fields are set"},
    {NULL, NULL}};

static PyStructSequence_Field notification_fields[] = {
    {"session", "the subscribing session's scenario name"},
    {"host", "its host"},
    {"change", "'add' or 'delete'"},
    {"object_type", "'provider', 'sublayer', 'callout' or 'filter'"},
    {"key", "the object's key (UUID)"},
    {"id", "filter id, callout id; 0 otherwise"},
    {"name", "the object's scenario name, or None"},
    {NULL, NULL}};

static PyStructSequence_Field expectation_fields[] = {
    {"kind", "'packets', 'classifications', 'net_events', 'notifications', 'stats' or 'flows'"},
    {"what", "which item: 'packet 3', 'packets 1-4', 'notification 2', 'stats.blocked', ..."},
    {"file", "the scenario file holding the item, or None"},
    {"line", "its line (0: unknown)"},
    {"column", "its column (0: unknown)"},
    {"passed", "the item held"},
    {"message", "why it failed (the first mismatch), or None"},
    {NULL, NULL}};

typedef struct {
    const char *name;
    const char *doc;
    PyStructSequence_Field *fields;
} record_desc;

static const record_desc record_descs[REC_COUNT] = {
    [REC_VERDICT] = {"wfpsim.Verdict", "The outcome of one classify at one layer, with its trace.", verdict_fields},
    [REC_SUBLAYER_DECISION] = {"wfpsim.SublayerDecision", "One sublayer's decision in a classify.",
                               sublayer_decision_fields},
    [REC_FILTER_STEP] = {"wfpsim.FilterStep", "One filter tried in a classify.", filter_step_fields},
    [REC_CHANGE] = {"wfpsim.Change", "A change notification (FWPM_*_CHANGE0).", change_fields},
    [REC_NET_EVENT] = {"wfpsim.NetEvent", "A net event (FWPM_NET_EVENT header and classify payload).",
                       net_event_fields},
    [REC_PROVIDER] = {"wfpsim.Provider", "A provider (FWPM_PROVIDER0).", provider_fields},
    [REC_SUBLAYER] = {"wfpsim.Sublayer", "A sublayer (FWPM_SUBLAYER0).", sublayer_fields},
    [REC_CALLOUT] = {"wfpsim.Callout", "A callout (FWPM_CALLOUT0).", callout_fields},
    [REC_FILTER] = {"wfpsim.Filter", "A filter (FWPM_FILTER0).", filter_fields},
    [REC_LAYER] = {"wfpsim.Layer", "A built-in layer (FWPM_LAYER0) and its fields.", layer_fields},
    [REC_FIELD] = {"wfpsim.Field", "A field of a layer (FWPM_FIELD0).", field_fields},
    [REC_ENGINE_STATS] = {"wfpsim.EngineStats", "Engine statistics (FWPM_STATISTICS0).", engine_stats_fields},
    [REC_LAYER_STATS] = {"wfpsim.LayerStats", "Per-layer classify counters.", layer_stats_fields},
    [REC_PACKET] = {"wfpsim.PacketRecord", "What happened to one packet of a scenario or replay.", packet_fields},
    [REC_SCENARIO_RESULT] = {"wfpsim.ScenarioResult", "The result of a scenario run or a replay.",
                             scenario_result_fields},
    [REC_SCENARIO_NET_EVENT] = {"wfpsim.ScenarioNetEvent", "A net event of a scenario run, with its host and packet.",
                                scenario_net_event_fields},
    [REC_NOTIFICATION] = {"wfpsim.Notification", "A change notification delivered during a scenario run.",
                          notification_fields},
    [REC_EXPECTATION] = {"wfpsim.ExpectationOutcome", "The outcome of one item of a scenario's expect:.",
                         expectation_fields},
};

int pywfp_records_init(PyObject *module, pywfp_state *st)
{
    for (int i = 0; i < REC_COUNT; i++) {
        PyStructSequence_Desc d;
        int n = 0;
        while (record_descs[i].fields[n].name) n++;
        d.name = record_descs[i].name;
        d.doc = record_descs[i].doc;
        d.fields = record_descs[i].fields;
        d.n_in_sequence = n;
        st->records[i] = PyStructSequence_NewType(&d);
        if (!st->records[i]) return -1;
        if (PyModule_AddObjectRef(module, strchr(d.name, '.') + 1, (PyObject *)st->records[i]) < 0) return -1;
    }
    return 0;
}

/* A new record from `n` new references; a NULL among them fails the whole
 * (the others are released). */
static PyObject *record(pywfp_state *st, int rec, PyObject **items, int n)
{
    PyObject *r = NULL;
    for (int i = 0; i < n; i++)
        if (!items[i]) goto fail;
    r = PyStructSequence_New(st->records[rec]);
    if (!r) goto fail;
    for (int i = 0; i < n; i++) PyStructSequence_SetItem(r, i, items[i]);
    return r;
fail:
    for (int i = 0; i < n; i++) Py_XDECREF(items[i]);
    return NULL;
}

#define RECORD(st, rec, ...)                                                     \
    do {                                                                        \
        PyObject *items_[] = {__VA_ARGS__};                                     \
        return record(st, rec, items_, (int)(sizeof items_ / sizeof items_[0])); \
    } while (0)

/* ---- small conversions ----------------------------------------------------- */

const char *pywfp_short(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    return name && !strncmp(name, prefix, n) ? name + n : name;
}

PyObject *pywfp_str_or_none(const char *s)
{
    if (!s) Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *u64(uint64_t v)
{
    return PyLong_FromUnsignedLongLong(v);
}

static PyObject *boolean(bool b)
{
    return PyBool_FromLong(b);
}

PyObject *pywfp_guid(pywfp_state *st, const wfp_guid *g)
{
    char buf[WFP_GUID_STRLEN];
    wfp_guid_format(g, buf);
    return PyObject_CallFunction(st->uuid, "s", buf);
}

PyObject *pywfp_guid_or_none(pywfp_state *st, const wfp_guid *g)
{
    if (!g) Py_RETURN_NONE;
    return pywfp_guid(st, g);
}

int pywfp_guid_arg(PyObject *o, wfp_guid *out)
{
    PyObject *s = PyObject_Str(o);
    if (!s) return -1;
    const char *t = PyUnicode_AsUTF8(s);
    int rc = -1;
    if (t && wfp_guid_parse(t, out)) rc = 0;
    else if (t) PyErr_Format(PyExc_ValueError, "not a GUID: %R", o);
    Py_DECREF(s);
    return rc;
}

static PyObject *lower_short(const char *n, const char *prefix)
{
    char low[64];
    size_t i = 0;
    n = pywfp_short(n, prefix);
    for (; n[i] && i + 1 < sizeof low; i++) low[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
    low[i] = 0;
    return PyUnicode_FromString(low);
}

PyObject *pywfp_action_name(uint32_t action)
{
    const char *n = wfp_action_type_name(action);
    if (!n) return PyLong_FromUnsignedLong(action);
    return lower_short(n, "FWP_ACTION_");
}

PyObject *pywfp_layer_name(uint16_t layer_id)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_id(layer_id);
    if (!l) Py_RETURN_NONE;
    return PyUnicode_FromString(pywfp_short(l->name, "FWPM_LAYER_"));
}

static PyObject *layer_name_by_key(const wfp_guid *key)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_key(key);
    if (l) return PyUnicode_FromString(pywfp_short(l->name, "FWPM_LAYER_"));
    char buf[WFP_GUID_STRLEN];
    wfp_guid_format(key, buf);
    return PyUnicode_FromString(buf);
}

static PyObject *effect_name(uint32_t effect)
{
    static const char *const names[] = {"none", "applied", "ignored", "veto"};
    return PyUnicode_FromString(effect < 4 ? names[effect] : "none");
}

static PyObject *blob_or_none(const wfp_byte_blob *b)
{
    if (!b->size || !b->data) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)b->data, (Py_ssize_t)b->size);
}

static PyObject *formatted(const wfp_value *v)
{
    char small[256];
    size_t need = wfp_value_format(v, small, sizeof small);
    if (need < sizeof small) return PyUnicode_DecodeUTF8(small, (Py_ssize_t)need, "replace");
    char *big = PyMem_Malloc(need + 1);
    if (!big) return PyErr_NoMemory();
    wfp_value_format(v, big, need + 1);
    PyObject *r = PyUnicode_DecodeUTF8(big, (Py_ssize_t)need, "replace");
    PyMem_Free(big);
    return r;
}

static bool is_app_id(const wfp_layer_field *f)
{
    return f && f->condition && f->condition->name && strstr(f->condition->name, "APP_ID");
}

PyObject *pywfp_value(pywfp_state *st, const wfp_value *v, const wfp_layer_field *f)
{
    bool ip = f && f->field_type == FWPM_FIELD_IP_ADDRESS;
    switch (v->type) {
    case FWP_EMPTY: Py_RETURN_NONE;
    case FWP_UINT8: return PyLong_FromUnsignedLong(v->v.u8);
    case FWP_UINT16: return PyLong_FromUnsignedLong(v->v.u16);
    case FWP_UINT32:
        if (ip) return PyObject_CallFunction(st->ipv4_address, "k", (unsigned long)v->v.u32);
        return PyLong_FromUnsignedLong(v->v.u32);
    case FWP_UINT64: return u64(v->v.u64);
    case FWP_INT8: return PyLong_FromLong(v->v.i8);
    case FWP_INT16: return PyLong_FromLong(v->v.i16);
    case FWP_INT32: return PyLong_FromLong(v->v.i32);
    case FWP_INT64: return PyLong_FromLongLong(v->v.i64);
    case FWP_FLOAT: return PyFloat_FromDouble(v->v.f32);
    case FWP_DOUBLE: return PyFloat_FromDouble(v->v.f64);
    case FWP_BYTE_ARRAY16_TYPE:
        if (ip) return PyObject_CallFunction(st->ipv6_address, "y#", (const char *)v->v.bytes16, (Py_ssize_t)16);
        return PyBytes_FromStringAndSize((const char *)v->v.bytes16, 16);
    case FWP_BYTE_ARRAY6_TYPE: return PyBytes_FromStringAndSize((const char *)v->v.bytes6, 6);
    case FWP_BYTE_BLOB_TYPE:
        if (is_app_id(f)) return formatted(v);
        return PyBytes_FromStringAndSize((const char *)v->v.blob.data, (Py_ssize_t)v->v.blob.size);
    case FWP_UNICODE_STRING_TYPE:
        return PyUnicode_DecodeUTF8((const char *)v->v.blob.data, (Py_ssize_t)v->v.blob.size, "replace");
    default: return formatted(v); /* SIDs, SDs, tokens: their text forms */
    }
}

static int prefix_of_mask(uint32_t mask)
{
    int n = 0;
    while (n < 32 && (mask & (0x80000000u >> n))) n++;
    return (n == 32 || (uint32_t)(mask << n) == 0) ? n : -1;
}

PyObject *pywfp_condition_value(pywfp_state *st, const wfp_condition_value *c, const wfp_layer_field *f)
{
    if (c->type < FWP_SINGLE_DATA_TYPE_MAX) return pywfp_value(st, &c->u.value, f);
    if (c->type == FWP_V4_ADDR_MASK) {
        int prefix = prefix_of_mask(c->u.v4.mask);
        if (prefix < 0) {
            char buf[64];
            uint32_t a = c->u.v4.addr;
            snprintf(buf, sizeof buf, "%u.%u.%u.%u/0x%08x", (unsigned)(a >> 24), (unsigned)((a >> 16) & 255),
                     (unsigned)((a >> 8) & 255), (unsigned)(a & 255), (unsigned)c->u.v4.mask);
            return PyUnicode_FromString(buf);
        }
        return PyObject_CallFunction(st->ipv4_network, "((ki)O)", (unsigned long)c->u.v4.addr, prefix, Py_False);
    }
    if (c->type == FWP_V6_ADDR_MASK)
        return PyObject_CallFunction(st->ipv6_network, "((y#i)O)", (const char *)c->u.v6.addr, (Py_ssize_t)16,
                                     (int)c->u.v6.prefix_length, Py_False);
    if (c->type == FWP_RANGE_TYPE)
        return Py_BuildValue("(NN)", pywfp_value(st, &c->u.range.low, f), pywfp_value(st, &c->u.range.high, f));
    Py_RETURN_NONE;
}

static PyObject *match_name(uint32_t match)
{
    const char *n = wfp_match_type_name(match);
    if (!n) return PyLong_FromUnsignedLong(match);
    return lower_short(n, "FWP_MATCH_");
}

PyObject *pywfp_conditions(pywfp_state *st, const wfp_layer_info *layer, const wfp_condition *c, uint32_t n)
{
    PyObject *t = PyTuple_New(n);
    for (uint32_t i = 0; t && i < n; i++) {
        const wfp_condition_info *ci = wfp_catalog_condition_by_key(&c[i].field_key);
        int fi = layer ? wfp_catalog_field_index(layer, &c[i].field_key) : -1;
        const wfp_layer_field *f = fi >= 0 ? &layer->fields[fi] : NULL;
        PyObject *field;
        if (ci) {
            field = PyUnicode_FromString(pywfp_short(ci->name, "FWPM_CONDITION_"));
        } else {
            char buf[WFP_GUID_STRLEN];
            wfp_guid_format(&c[i].field_key, buf);
            field = PyUnicode_FromString(buf);
        }
        PyObject *item = Py_BuildValue("(NNN)", field, match_name(c[i].match_type),
                                       pywfp_condition_value(st, &c[i].value, f));
        if (item && st->condition) Py_SETREF(item, PyObject_Call(st->condition, item, NULL));
        if (!item) Py_CLEAR(t);
        else PyTuple_SET_ITEM(t, i, item);
    }
    return t;
}

PyObject *pywfp_values_dict(pywfp_state *st, const wfp_incoming_values *in)
{
    const wfp_layer_info *l = wfp_catalog_layer_by_id(in->layer_id);
    PyObject *d = PyDict_New();
    if (!d || !l) return d;
    for (uint32_t i = 0; i < in->count && i < l->num_fields; i++) {
        const wfp_layer_field *f = &l->fields[i];
        PyObject *v = pywfp_value(st, &in->values[i], f);
        if (!v || PyDict_SetItemString(d, pywfp_short(f->condition->name, "FWPM_CONDITION_"), v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

/* ---- records --------------------------------------------------------------- */

static PyObject *sublayer_decision(pywfp_state *st, const wfp_trace_sublayer *s, const char *name,
                                   const char *filter)
{
    RECORD(st, REC_SUBLAYER_DECISION, pywfp_guid(st, &s->key), pywfp_str_or_none(name),
           PyLong_FromUnsignedLong(s->weight), pywfp_action_name(s->action), u64(s->filter_id),
           pywfp_str_or_none(filter), boolean(s->hard), effect_name(s->effect));
}

static PyObject *step_result(uint32_t r)
{
    if (!r) Py_RETURN_NONE;
    return pywfp_action_name(r);
}

static PyObject *filter_step(pywfp_state *st, const wfp_trace *t, const wfp_trace_step *s)
{
    const wfp_trace_sublayer *sl =
        s->sublayer_index < wfp_trace_sublayer_count(t) ? wfp_trace_sublayer_at(t, s->sublayer_index) : NULL;
    RECORD(st, REC_FILTER_STEP, u64(s->filter_id), sl ? pywfp_guid(st, &sl->key) : Py_NewRef(Py_None),
           boolean(s->matched), step_result(s->result), boolean(s->hard), effect_name(s->effect),
           boolean(s->callout_invoked));
}

PyObject *pywfp_verdict(pywfp_state *st, const pywfp_verdict_in *in)
{
    const wfp_verdict *v = in->verdict;
    const wfp_trace *t = in->trace;
    size_t nsubs = t ? wfp_trace_sublayer_count(t) : in->nsublayers;
    size_t nsteps = t ? wfp_trace_step_count(t) : 0;
    PyObject *sublayers = PyTuple_New((Py_ssize_t)nsubs), *steps = PyTuple_New((Py_ssize_t)nsteps);
    for (size_t i = 0; sublayers && i < nsubs; i++) {
        const wfp_trace_sublayer *d = t ? wfp_trace_sublayer_at(t, i) : &in->sublayers[i];
        const char *name = in->sublayer_names ? in->sublayer_names[i]
                                              : in->names ? wfp_policy_sublayer_name(in->names, &d->key) : NULL;
        const char *filter = in->sublayer_filters ? in->sublayer_filters[i]
                             : in->names && d->filter_id ? wfp_policy_filter_name(in->names, d->filter_id)
                                                         : NULL;
        PyObject *x = sublayer_decision(st, d, name, filter);
        if (!x) Py_CLEAR(sublayers);
        else PyTuple_SET_ITEM(sublayers, (Py_ssize_t)i, x);
    }
    for (size_t i = 0; steps && i < nsteps; i++) {
        PyObject *x = filter_step(st, t, wfp_trace_step_at(t, i));
        if (!x) Py_CLEAR(steps);
        else PyTuple_SET_ITEM(steps, (Py_ssize_t)i, x);
    }
    bool has_sublayer = !wfp_guid_is_null(&v->sublayer_key);
    const char *sublayer_name = has_sublayer ? in->sublayer_name : NULL;
    if (has_sublayer && !sublayer_name && in->names) sublayer_name = wfp_policy_sublayer_name(in->names, &v->sublayer_key);
    RECORD(st, REC_VERDICT, pywfp_layer_name(v->layer_id), PyLong_FromUnsignedLong(v->layer_id),
           pywfp_action_name(v->action), PyLong_FromUnsignedLong(v->action), boolean(v->permitted),
           boolean(v->hard), boolean(v->vetoed), boolean(v->absorb), pywfp_str_or_none(wfp_reason_name(v->reason)),
           u64(v->filter_id), pywfp_str_or_none(in->filter_name),
           has_sublayer ? pywfp_guid(st, &v->sublayer_key) : Py_NewRef(Py_None), pywfp_str_or_none(sublayer_name),
           pywfp_str_or_none(in->host), boolean(in->reauth), PyLong_FromUnsignedLong(v->rights),
           PyLong_FromUnsignedLong(v->flags), u64(v->context), sublayers, steps);
}

PyObject *pywfp_provider(pywfp_state *st, const wfp_provider *p)
{
    RECORD(st, REC_PROVIDER, pywfp_guid(st, &p->key), pywfp_str_or_none(p->display.name),
           pywfp_str_or_none(p->display.description), PyLong_FromUnsignedLong(p->flags),
           pywfp_str_or_none(p->service_name), blob_or_none(&p->provider_data));
}

PyObject *pywfp_sublayer(pywfp_state *st, const wfp_sublayer *s)
{
    RECORD(st, REC_SUBLAYER, pywfp_guid(st, &s->key), pywfp_str_or_none(s->display.name),
           pywfp_str_or_none(s->display.description), PyLong_FromUnsignedLong(s->flags),
           pywfp_guid_or_none(st, s->provider_key), PyLong_FromUnsignedLong(s->weight),
           blob_or_none(&s->provider_data));
}

PyObject *pywfp_callout_rec(pywfp_state *st, const wfp_callout *c)
{
    RECORD(st, REC_CALLOUT, pywfp_guid(st, &c->key), pywfp_str_or_none(c->display.name),
           pywfp_str_or_none(c->display.description), PyLong_FromUnsignedLong(c->flags),
           pywfp_guid_or_none(st, c->provider_key), layer_name_by_key(&c->applicable_layer),
           PyLong_FromUnsignedLong(c->callout_id), blob_or_none(&c->provider_data));
}

static PyObject *weight_value(const wfp_value *w)
{
    switch (w->type) {
    case FWP_UINT8: return PyLong_FromUnsignedLong(w->v.u8);
    case FWP_UINT64: return u64(w->v.u64);
    case FWP_EMPTY: Py_RETURN_NONE;
    default: return formatted(w);
    }
}

PyObject *pywfp_filter(pywfp_state *st, const wfp_filter *f, wfp_policy *names)
{
    const wfp_layer_info *layer = wfp_catalog_layer_by_key(&f->layer_key);
    (void)names;
    RECORD(st, REC_FILTER, pywfp_guid(st, &f->key), pywfp_str_or_none(f->display.name),
           pywfp_str_or_none(f->display.description), PyLong_FromUnsignedLong(f->flags),
           pywfp_guid_or_none(st, f->provider_key), layer_name_by_key(&f->layer_key),
           pywfp_guid(st, &f->sublayer_key), weight_value(&f->weight), weight_value(&f->effective_weight),
           pywfp_action_name(f->action.type), PyLong_FromUnsignedLong(f->action.type),
           (f->action.type & FWP_ACTION_FLAG_CALLOUT) ? pywfp_guid(st, &f->action.key) : Py_NewRef(Py_None),
           u64(f->raw_context), u64(f->filter_id), pywfp_conditions(st, layer, f->conditions, f->num_conditions),
           blob_or_none(&f->provider_data));
}

static PyObject *field_rec(pywfp_state *st, const wfp_layer_field *f)
{
    static const char *const types[] = {"raw_data", "ip_address", "flags"};
    RECORD(st, REC_FIELD, PyUnicode_FromString(pywfp_short(f->condition->name, "FWPM_CONDITION_")),
           pywfp_guid(st, &f->condition->key), PyUnicode_FromString(f->field_type < 3 ? types[f->field_type] : "?"),
           pywfp_str_or_none(wfp_data_type_name(f->data_type)));
}

PyObject *pywfp_layer(pywfp_state *st, const wfp_layer_info *l)
{
    PyObject *fields = PyTuple_New(l->num_fields);
    for (uint16_t i = 0; fields && i < l->num_fields; i++) {
        PyObject *x = field_rec(st, &l->fields[i]);
        if (!x) Py_CLEAR(fields);
        else PyTuple_SET_ITEM(fields, i, x);
    }
    RECORD(st, REC_LAYER, PyUnicode_FromString(pywfp_short(l->name, "FWPM_LAYER_")),
           pywfp_str_or_none(l->display_name), pywfp_guid(st, &l->key), PyLong_FromUnsignedLong(l->id),
           PyLong_FromUnsignedLong(l->flags), pywfp_guid(st, &l->default_sublayer), fields,
           l->base_layer_id < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(l->base_layer_id));
}

static wfp_policy_kind kind_of_object(uint32_t object_type)
{
    switch (object_type) {
    case WFP_OBJECT_PROVIDER: return WFP_POLICY_PROVIDER;
    case WFP_OBJECT_SUBLAYER: return WFP_POLICY_SUBLAYER;
    case WFP_OBJECT_CALLOUT: return WFP_POLICY_CALLOUT;
    default: return WFP_POLICY_FILTER;
    }
}

PyObject *pywfp_change(pywfp_state *st, const wfp_change *c, wfp_policy *names)
{
    const char *name = names ? wfp_policy_name_of_key(names, kind_of_object(c->object_type), &c->key) : NULL;
    RECORD(st, REC_CHANGE, pywfp_str_or_none(wfp_object_type_name(c->object_type)),
           PyUnicode_FromString(c->change_type == FWPM_CHANGE_ADD ? "add" : "delete"), pywfp_guid(st, &c->key),
           u64(c->id), pywfp_str_or_none(name));
}

static PyObject *address(pywfp_state *st, uint32_t ipver, const uint8_t *a, bool set)
{
    if (!set) Py_RETURN_NONE;
    if (ipver == FWP_IP_VERSION_V4)
        return PyObject_CallFunction(st->ipv4_address, "y#", (const char *)a, (Py_ssize_t)4);
    return PyObject_CallFunction(st->ipv6_address, "y#", (const char *)a, (Py_ssize_t)16);
}

static PyObject *opt_u64(bool set, uint64_t v)
{
    if (!set) Py_RETURN_NONE;
    return u64(v);
}

static PyObject *text_of(size_t (*fmt)(const uint8_t *, uint32_t, char *, size_t), const wfp_byte_blob *b)
{
    char buf[1024];
    size_t n = fmt(b->data, b->size, buf, sizeof buf);
    return PyUnicode_DecodeUTF8(buf, (Py_ssize_t)(n < sizeof buf ? n : sizeof buf - 1), "replace");
}

PyObject *pywfp_net_event(pywfp_state *st, const wfp_net_event *e)
{
    uint32_t fl = e->flags;
    PyObject *dir;
    switch (e->ms_fwp_direction) {
    case FWP_DIRECTION_IN: dir = PyUnicode_FromString("in"); break;
    case FWP_DIRECTION_OUT: dir = PyUnicode_FromString("out"); break;
    case FWP_DIRECTION_FORWARD: dir = PyUnicode_FromString("forward"); break;
    default: dir = Py_NewRef(Py_None);
    }
    PyObject *ver = !(fl & FWPM_NET_EVENT_FLAG_IP_VERSION_SET)
                        ? Py_NewRef(Py_None)
                        : PyLong_FromLong(e->ip_version == FWP_IP_VERSION_V4   ? 4
                                          : e->ip_version == FWP_IP_VERSION_V6 ? 6
                                                                               : 0);
    RECORD(st, REC_NET_EVENT, u64(e->sequence), u64(e->time_ns), pywfp_str_or_none(wfp_net_event_type_name(e->type)),
           PyLong_FromUnsignedLong(fl), ver, opt_u64(fl & FWPM_NET_EVENT_FLAG_IP_PROTOCOL_SET, e->ip_protocol),
           address(st, e->ip_version, e->local_addr, fl & FWPM_NET_EVENT_FLAG_LOCAL_ADDR_SET),
           address(st, e->ip_version, e->remote_addr, fl & FWPM_NET_EVENT_FLAG_REMOTE_ADDR_SET),
           opt_u64(fl & FWPM_NET_EVENT_FLAG_LOCAL_PORT_SET, e->local_port),
           opt_u64(fl & FWPM_NET_EVENT_FLAG_REMOTE_PORT_SET, e->remote_port),
           opt_u64(fl & FWPM_NET_EVENT_FLAG_SCOPE_ID_SET, e->scope_id),
           (fl & FWPM_NET_EVENT_FLAG_APP_ID_SET) && e->app_id.size ? text_of(wfp_app_id_format, &e->app_id)
                                                                    : Py_NewRef(Py_None),
           (fl & FWPM_NET_EVENT_FLAG_USER_ID_SET) && e->user_id.size ? text_of(wfp_sid_format, &e->user_id)
                                                                      : Py_NewRef(Py_None),
           u64(e->filter_id), pywfp_layer_name(e->layer_id), PyLong_FromUnsignedLong(e->layer_id),
           PyLong_FromUnsignedLong(e->reauth_reason), PyLong_FromUnsignedLong(e->original_profile),
           PyLong_FromUnsignedLong(e->current_profile), dir, boolean(e->is_loopback));
}

PyObject *pywfp_engine_stats(pywfp_state *st, const wfp_engine_stats *s)
{
    RECORD(st, REC_ENGINE_STATS, u64(s->classify_count), u64(s->inbound_allowed_v4), u64(s->inbound_blocked_v4),
           u64(s->outbound_allowed_v4), u64(s->outbound_blocked_v4), u64(s->inbound_allowed_v6),
           u64(s->inbound_blocked_v6), u64(s->outbound_allowed_v6), u64(s->outbound_blocked_v6),
           u64(s->reauth_dir_inbound), u64(s->reauth_dir_outbound), u64(s->reauth_family_v4),
           u64(s->reauth_family_v6), u64(s->reauth_reason_policy_change), u64(s->notifications_delivered),
           u64(s->net_events_recorded), u64(s->net_events_dropped));
}

PyObject *pywfp_layer_stats(pywfp_state *st, const wfp_layer_stats *s)
{
    RECORD(st, REC_LAYER_STATS, u64(s->classify_count), u64(s->permit_count), u64(s->block_count),
           u64(s->veto_count));
}

static PyObject *packet(pywfp_state *st, const wfp_packet_record *p)
{
    PyObject *calls = PyTuple_New((Py_ssize_t)p->ncalls);
    for (size_t i = 0; calls && i < p->ncalls; i++) {
        const wfp_call_record *c = &p->calls[i];
        pywfp_verdict_in in;
        memset(&in, 0, sizeof in);
        in.verdict = &c->verdict;
        in.filter_name = c->filter_name;
        in.host = c->host;
        in.reauth = c->reauth;
        in.sublayers = c->sublayers;
        in.nsublayers = c->nsublayers;
        in.sublayer_names = c->sublayer_names;
        in.sublayer_filters = c->sublayer_filters;
        /* the deciding sublayer's name, from the trace when it was kept */
        for (size_t k = 0; k < c->nsublayers && c->sublayer_names; k++)
            if (wfp_guid_eq(&c->sublayers[k].key, &c->verdict.sublayer_key)) in.sublayer_name = c->sublayer_names[k];
        PyObject *x = pywfp_verdict(st, &in);
        if (!x) Py_CLEAR(calls);
        else PyTuple_SET_ITEM(calls, (Py_ssize_t)i, x);
    }
    bool has_layer = p->layer_id != UINT16_MAX && wfp_catalog_layer_by_id(p->layer_id);
    RECORD(st, REC_PACKET, u64(p->number), PyLong_FromLongLong(p->time_ns), pywfp_str_or_none(p->host),
           boolean(p->inbound), boolean(p->permitted), boolean(p->absorbed),
           PyUnicode_FromString(p->permitted ? "permit" : "block"),
           has_layer ? pywfp_layer_name(p->layer_id) : Py_NewRef(Py_None),
           has_layer ? PyLong_FromUnsignedLong(p->layer_id) : Py_NewRef(Py_None), u64(p->filter_id),
           pywfp_str_or_none(p->filter_name), pywfp_str_or_none(wfp_reason_name(p->reason)),
           pywfp_str_or_none(p->drop_reason), p->injected_from ? u64(p->injected_from) : Py_NewRef(Py_None), calls);
}

static PyObject *direction_name(uint32_t d)
{
    switch (d) {
    case FWP_DIRECTION_IN: return PyUnicode_FromString("in");
    case FWP_DIRECTION_OUT: return PyUnicode_FromString("out");
    case FWP_DIRECTION_FORWARD: return PyUnicode_FromString("forward");
    default: Py_RETURN_NONE;
    }
}

static PyObject *scenario_net_event(pywfp_state *st, const wfp_net_event_record *e)
{
    uint32_t fl = e->flags;
    PyObject *ver = !(fl & FWPM_NET_EVENT_FLAG_IP_VERSION_SET)
                        ? Py_NewRef(Py_None)
                        : PyLong_FromLong(e->ip_version == FWP_IP_VERSION_V4   ? 4
                                          : e->ip_version == FWP_IP_VERSION_V6 ? 6
                                                                               : 0);
    bool has_layer = wfp_catalog_layer_by_id(e->layer_id) != NULL;
    RECORD(st, REC_SCENARIO_NET_EVENT, pywfp_str_or_none(e->host), u64(e->sequence), u64(e->time_ns),
           pywfp_str_or_none(wfp_net_event_type_name(e->type)), u64(e->packet),
           has_layer ? pywfp_layer_name(e->layer_id) : Py_NewRef(Py_None), PyLong_FromUnsignedLong(e->layer_id),
           u64(e->filter_id), pywfp_str_or_none(e->filter_name), ver,
           opt_u64(fl & FWPM_NET_EVENT_FLAG_IP_PROTOCOL_SET, e->ip_protocol),
           address(st, e->ip_version, e->local_addr, fl & FWPM_NET_EVENT_FLAG_LOCAL_ADDR_SET),
           address(st, e->ip_version, e->remote_addr, fl & FWPM_NET_EVENT_FLAG_REMOTE_ADDR_SET),
           opt_u64(fl & FWPM_NET_EVENT_FLAG_LOCAL_PORT_SET, e->local_port),
           opt_u64(fl & FWPM_NET_EVENT_FLAG_REMOTE_PORT_SET, e->remote_port), direction_name(e->direction),
           PyLong_FromUnsignedLong(fl));
}

static PyObject *notification(pywfp_state *st, const wfp_notification_record *n)
{
    RECORD(st, REC_NOTIFICATION, pywfp_str_or_none(n->session), pywfp_str_or_none(n->host),
           PyUnicode_FromString(n->change_type == FWPM_CHANGE_ADD ? "add" : "delete"),
           pywfp_str_or_none(wfp_object_type_name(n->object_type)), pywfp_guid(st, &n->key), u64(n->id),
           pywfp_str_or_none(n->name));
}

static PyObject *expectation(pywfp_state *st, const wfp_expectation_record *x)
{
    RECORD(st, REC_EXPECTATION, PyUnicode_FromString(wfp_expectation_kind_name(x->kind)), pywfp_str_or_none(x->what),
           pywfp_str_or_none(x->file), PyLong_FromUnsignedLong(x->line), PyLong_FromUnsignedLong(x->column),
           boolean(x->passed), pywfp_str_or_none(x->message));
}

/* The i-th item of a result, as Python. */
typedef PyObject *(*result_item_fn)(pywfp_state *st, const wfp_scenario_result *r, size_t i);

static PyObject *failure_item(pywfp_state *st, const wfp_scenario_result *r, size_t i)
{
    (void)st;
    return pywfp_str_or_none(wfp_scenario_result_failure(r, i));
}
static PyObject *packet_item(pywfp_state *st, const wfp_scenario_result *r, size_t i)
{
    return packet(st, wfp_scenario_result_packet(r, i));
}
static PyObject *net_event_item(pywfp_state *st, const wfp_scenario_result *r, size_t i)
{
    return scenario_net_event(st, wfp_scenario_result_net_event(r, i));
}
static PyObject *notification_item(pywfp_state *st, const wfp_scenario_result *r, size_t i)
{
    return notification(st, wfp_scenario_result_notification(r, i));
}
static PyObject *expectation_item(pywfp_state *st, const wfp_scenario_result *r, size_t i)
{
    return expectation(st, wfp_scenario_result_expectation(r, i));
}

/* A tuple of n items; NULL (exception set) if one fails. */
static PyObject *result_tuple(pywfp_state *st, const wfp_scenario_result *r, size_t n, result_item_fn item)
{
    PyObject *t = PyTuple_New((Py_ssize_t)n);
    for (size_t i = 0; t && i < n; i++) {
        PyObject *x = item(st, r, i);
        if (!x) Py_CLEAR(t);
        else PyTuple_SET_ITEM(t, (Py_ssize_t)i, x);
    }
    return t;
}

PyObject *pywfp_scenario_result(pywfp_state *st, const char *name, const wfp_scenario_result *r)
{
    PyObject *failures = result_tuple(st, r, wfp_scenario_result_failure_count(r), failure_item);
    PyObject *packets = result_tuple(st, r, wfp_scenario_result_packet_count(r), packet_item);
    PyObject *events = result_tuple(st, r, wfp_scenario_result_net_event_count(r), net_event_item);
    PyObject *notes = result_tuple(st, r, wfp_scenario_result_notification_count(r), notification_item);
    PyObject *expects = result_tuple(st, r, wfp_scenario_result_expectation_count(r), expectation_item);
    RECORD(st, REC_SCENARIO_RESULT, pywfp_str_or_none(name), boolean(wfp_scenario_result_passed(r)),
           pywfp_str_or_none(wfp_scenario_result_reason(r)), failures, packets, events, notes, expects);
}

/* ---- YAML trees ------------------------------------------------------------ */

static bool all_digits(const char *s, size_t n)
{
    size_t i = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (i == n || n > 18) return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static PyObject *scalar(pywfp_state *st, const wfp_yaml_node *n)
{
    if (!wfp_yaml_is_plain(n)) {
        PyObject *s = PyUnicode_DecodeUTF8(n->text, (Py_ssize_t)n->length, "surrogateescape");
        if (s && st->quoted) Py_SETREF(s, PyObject_CallOneArg(st->quoted, s));
        return s;
    }
    if (wfp_yaml_is_null(n)) Py_RETURN_NONE;
    if (wfp_yaml_ascii_ieq(n->text, "true")) Py_RETURN_TRUE;
    if (wfp_yaml_ascii_ieq(n->text, "false")) Py_RETURN_FALSE;
    if (all_digits(n->text, n->length)) return PyLong_FromString(n->text, NULL, 10);
    return PyUnicode_DecodeUTF8(n->text, (Py_ssize_t)n->length, "surrogateescape");
}

PyObject *pywfp_yaml_tree(pywfp_state *st, const wfp_yaml_node *n)
{
    if (!n) Py_RETURN_NONE;
    if (Py_EnterRecursiveCall(" while converting a YAML document")) return NULL;
    PyObject *r = NULL;
    switch (n->kind) {
    case WFP_YAML_SCALAR: r = scalar(st, n); break;
    case WFP_YAML_SEQUENCE:
        r = PyList_New((Py_ssize_t)n->count);
        for (size_t i = 0; r && i < n->count; i++) {
            PyObject *x = pywfp_yaml_tree(st, n->items[i]);
            if (!x) Py_CLEAR(r);
            else PyList_SET_ITEM(r, (Py_ssize_t)i, x);
        }
        break;
    case WFP_YAML_MAPPING:
        r = PyDict_New();
        for (size_t i = 0; r && i < n->count; i++) {
            PyObject *k = PyUnicode_DecodeUTF8(n->pairs[i].key->text, (Py_ssize_t)n->pairs[i].key->length,
                                               "surrogateescape");
            PyObject *v = k ? pywfp_yaml_tree(st, n->pairs[i].value) : NULL;
            if (!v || PyDict_SetItem(r, k, v) < 0) Py_CLEAR(r);
            Py_XDECREF(k);
            Py_XDECREF(v);
        }
        break;
    }
    Py_LeaveRecursiveCall();
    return r;
}
