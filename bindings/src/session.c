/* session.c — the Session type: a wfp_session of an engine, with the
 * management calls (add/delete/get objects, transactions, enumeration,
 * subscriptions, net events, options, security).
 *
 * Object bodies arrive as YAML text in the scenario format (the pure-Python
 * layer writes them from keyword arguments), so a filter added from Python
 * and one read from a scenario file go through the same parser
 * (wfp_policy_object_parse) and get the same keys, conditions and errors. */
#include "pywfp.h"

#include <string.h>

/* ---- helpers ----------------------------------------------------------------- */

/* The session's engine state, or NULL with an exception set. */
static pywfp_state *live(SessionObject *s)
{
    if (!s->session) {
        PyErr_SetString(PyExc_ValueError, "the session is closed");
        return NULL;
    }
    return pywfp_engine_state(s->engine);
}

static PyObject *fail(SessionObject *s, pywfp_state *st, uint32_t rc)
{
    return pywfp_raise_engine(st, rc, s->engine->engine);
}

static PyObject *done(SessionObject *s, PyObject *result)
{
    return pywfp_deliver(s->engine, result);
}

static const struct {
    const char *name;
    uint32_t type;
} object_types[] = {
    {"provider", WFP_OBJECT_PROVIDER}, {"sublayer", WFP_OBJECT_SUBLAYER}, {"callout", WFP_OBJECT_CALLOUT},
    {"filter", WFP_OBJECT_FILTER},     {"layer", WFP_OBJECT_LAYER},       {"net_events", WFP_OBJECT_NET_EVENTS},
    {"engine", WFP_OBJECT_TYPE_COUNT},
};

static int object_type_arg(PyObject *o, uint32_t *out)
{
    if (PyLong_Check(o)) {
        long v = PyLong_AsLong(o);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (v < 0 || v > WFP_OBJECT_TYPE_COUNT) {
            PyErr_Format(PyExc_ValueError, "bad object type %ld", v);
            return -1;
        }
        *out = (uint32_t)v;
        return 0;
    }
    const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
    if (s) {
        for (size_t i = 0; i < sizeof object_types / sizeof object_types[0]; i++) {
            size_t n = strlen(object_types[i].name);
            /* "filter" and "filters" both */
            if (!strncmp(s, object_types[i].name, n) && (!s[n] || (s[n] == 's' && !s[n + 1]))) {
                *out = object_types[i].type;
                return 0;
            }
        }
    }
    if (!PyErr_Occurred())
        PyErr_Format(PyExc_ValueError,
                     "object type is 'provider', 'sublayer', 'callout', 'filter', 'layer', 'net_events' or 'engine', "
                     "not %R",
                     o);
    return -1;
}

static int kind_arg(int kind)
{
    if (kind < WFP_POLICY_PROVIDER || kind > WFP_POLICY_FILTER) {
        PyErr_Format(PyExc_ValueError, "bad object kind %d", kind);
        return -1;
    }
    return 0;
}

/* Optional key argument (None: no key). */
static int opt_key(SessionObject *s, wfp_policy_kind kind, PyObject *o, wfp_guid *key, const wfp_guid **ptr)
{
    *ptr = NULL;
    if (!o || o == Py_None) return 0;
    if (pywfp_resolve_key(s->engine, kind, o, key) < 0) return -1;
    *ptr = key;
    return 0;
}

static int opt_layer(pywfp_state *st, PyObject *o, const wfp_layer_info **layer, wfp_guid *key)
{
    *layer = NULL;
    memset(key, 0, sizeof *key);
    if (!o || o == Py_None) return 0;
    const char *s = PyUnicode_AsUTF8(o);
    if (!s) return -1;
    *layer = wfp_catalog_layer_by_name(s);
    if (*layer) {
        *key = (*layer)->key;
        return 0;
    }
    if (wfp_guid_parse(s, key)) return 0;
    pywfp_raise(st, FWP_E_LAYER_NOT_FOUND, s);
    return -1;
}

/* ---- lifetime ----------------------------------------------------------------- */

static void free_sub(pywfp_sub *sub)
{
    Py_XDECREF(sub->callback);
    PyMem_Free(sub);
}

void pywfp_session_invalidate(SessionObject *s)
{
    s->session = NULL;
    for (size_t i = 0; i < s->nsubs; i++) free_sub(s->subs[i]);
    s->nsubs = 0;
}

static void session_close_impl(SessionObject *s)
{
    if (!s->session) return;
    pywfp_engine_remove_session(s->engine, s);
    wfp_session_close(s->session); /* drops its subscriptions; dynamic objects go */
    pywfp_session_invalidate(s);
}

static PyObject *session_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"engine", "name", "key", "user", "admin", "dynamic", "kernel", "groups",
                             "txn_wait_timeout_ms", NULL};
    PyObject *engine, *key = Py_None, *groups = NULL, *gseq = NULL;
    const char *name = NULL, *user = NULL;
    int admin = 1, dynamic = 0, kernel = 0;
    unsigned long timeout = 0;
    PyObject *module = pywfp_module_of_type(type);
    if (!module) return NULL;
    pywfp_state *st = pywfp_state_of(module);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|$zOzpppOk:Session", kwlist, st->engine_type, &engine, &name, &key,
                                     &user, &admin, &dynamic, &kernel, &groups, &timeout))
        return NULL;
    EngineObject *eo = (EngineObject *)engine;
    if (!pywfp_engine_state(eo)) return NULL;

    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    if (key != Py_None && pywfp_guid_arg(key, &d.key) < 0) return NULL;
    d.name = name;
    d.flags = dynamic ? FWPM_SESSION_FLAG_DYNAMIC : 0;
    d.user_sid = user;
    d.admin = admin;
    d.kernel_mode = kernel;
    d.txn_wait_timeout_ms = (uint32_t)timeout;
    const char **gv = NULL;
    if (groups && groups != Py_None) {
        gseq = PySequence_Fast(groups, "groups must be a sequence of SID strings");
        if (!gseq) return NULL;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(gseq);
        gv = PyMem_Calloc((size_t)(n ? n : 1), sizeof *gv);
        if (!gv) {
            Py_DECREF(gseq);
            return PyErr_NoMemory();
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            gv[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(gseq, i));
            if (!gv[i]) {
                PyMem_Free(gv);
                Py_DECREF(gseq);
                return NULL;
            }
        }
        d.groups = gv;
        d.num_groups = (size_t)n;
    }
    SessionObject *self = (SessionObject *)type->tp_alloc(type, 0);
    if (!self) goto out;
    self->engine = (EngineObject *)Py_NewRef(engine);
    wfp_session *ws = NULL;
    uint32_t rc = wfp_session_open(eo->engine, &d, &ws);
    if (rc) {
        Py_CLEAR(self);
        pywfp_raise_engine(st, rc, eo->engine);
        goto out;
    }
    self->session = ws;
    if (pywfp_engine_add_session(eo, self) < 0) {
        wfp_session_close(ws);
        self->session = NULL;
        Py_CLEAR(self);
    }
out:
    PyMem_Free(gv);
    Py_XDECREF(gseq);
    return (PyObject *)self;
}

static int session_traverse(SessionObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->engine);
    for (size_t i = 0; i < self->nsubs; i++) Py_VISIT(self->subs[i]->callback);
    return 0;
}

static int session_clear(SessionObject *self)
{
    /* the engine stays: the C session belongs to it until dealloc */
    for (size_t i = 0; i < self->nsubs; i++) Py_CLEAR(self->subs[i]->callback);
    return 0;
}

static void session_dealloc(SessionObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) PyObject_ClearWeakRefs((PyObject *)self);
    if (self->engine) {
        if (self->engine->engine && !self->engine->in_callout) {
            session_close_impl(self);
            pywfp_deliver(self->engine, NULL);
        }
        /* else (collected while a callout runs, say from another thread):
         * the C session stays open until the engine goes, which frees it */
        pywfp_engine_remove_session(self->engine, self);
    }
    pywfp_session_invalidate(self);
    PyMem_Free(self->subs);
    Py_CLEAR(self->engine);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *session_close(SessionObject *self, PyObject *noargs)
{
    if (!self->session) Py_RETURN_NONE;
    if (!pywfp_engine_state(self->engine)) return NULL;
    session_close_impl(self);
    return done(self, Py_NewRef(Py_None));
}

static PyObject *session_enter(SessionObject *self, PyObject *noargs)
{
    if (!live(self)) return NULL;
    return Py_NewRef(self);
}

static PyObject *session_exit(SessionObject *self, PyObject *args)
{
    PyObject *r = session_close(self, NULL);
    if (!r) return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *session_closed(SessionObject *self, void *c)
{
    return PyBool_FromLong(self->session == NULL);
}

static PyObject *session_engine(SessionObject *self, void *c)
{
    return Py_NewRef((PyObject *)self->engine);
}

static PyObject *session_key(SessionObject *self, void *c)
{
    pywfp_state *st = live(self);
    return st ? pywfp_guid(st, wfp_session_key(self->session)) : NULL;
}

static PyObject *session_dynamic(SessionObject *self, void *c)
{
    return live(self) ? PyBool_FromLong(wfp_session_is_dynamic(self->session)) : NULL;
}

static PyObject *session_in_txn(SessionObject *self, void *c)
{
    return PyBool_FromLong(self->session && wfp_session_in_txn(self->session));
}

static PyObject *session_holds_lock(SessionObject *self, void *c)
{
    return PyBool_FromLong(self->session && self->engine->engine &&
                           wfp_engine_lock_holder(self->engine->engine) == self->session);
}

/* ---- transactions -------------------------------------------------------------- */

static PyObject *session_begin(SessionObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"read_only", NULL};
    int ro = 0;
    pywfp_state *st = live(self);
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "|p:begin", kwlist, &ro)) return NULL;
    uint32_t rc = wfp_txn_begin(self->session, ro ? FWPM_TXN_READ_ONLY : 0);
    return rc ? fail(self, st, rc) : done(self, Py_NewRef(Py_None));
}

static PyObject *txn_call(SessionObject *self, uint32_t (*fn)(wfp_session *))
{
    pywfp_state *st = live(self);
    if (!st) return NULL;
    uint32_t rc = fn(self->session);
    return rc ? done(self, fail(self, st, rc)) : done(self, Py_NewRef(Py_None));
}

static PyObject *session_commit(SessionObject *self, PyObject *noargs)
{
    return txn_call(self, wfp_txn_commit);
}

static PyObject *session_abort(SessionObject *self, PyObject *noargs)
{
    return txn_call(self, wfp_txn_abort);
}

static PyObject *session_force_abort(SessionObject *self, PyObject *noargs)
{
    return txn_call(self, wfp_txn_force_abort);
}

/* ---- objects --------------------------------------------------------------------- */

static PyObject *record_of_added(SessionObject *self, pywfp_state *st, wfp_policy_kind kind, const char *name)
{
    EngineObject *e = self->engine;
    wfp_guid key;
    uint64_t fid;
    uint32_t cid;
    switch (kind) {
    case WFP_POLICY_PROVIDER: {
        const wfp_provider *p =
            wfp_policy_key(e->policy, kind, name, &key) ? wfp_engine_provider_by_key(e->engine, &key) : NULL;
        if (p) return pywfp_provider(st, p);
        break;
    }
    case WFP_POLICY_SUBLAYER: {
        const wfp_sublayer *p =
            wfp_policy_key(e->policy, kind, name, &key) ? wfp_engine_sublayer_by_key(e->engine, &key) : NULL;
        if (p) return pywfp_sublayer(st, p);
        break;
    }
    case WFP_POLICY_CALLOUT: {
        const wfp_callout *p =
            wfp_policy_callout_id(e->policy, name, &cid) ? wfp_engine_callout_by_id(e->engine, cid) : NULL;
        if (p) return pywfp_callout_rec(st, p);
        break;
    }
    case WFP_POLICY_FILTER: {
        const wfp_filter *p =
            wfp_policy_filter_id(e->policy, name, &fid) ? wfp_engine_filter_by_id(e->engine, fid) : NULL;
        if (p) return pywfp_filter(st, p, e->policy);
        break;
    }
    }
    Py_RETURN_NONE;
}

/* _add(kind, body): body is one object in the scenario format (YAML text). */
static PyObject *session_add(SessionObject *self, PyObject *args)
{
    int kind;
    const char *text;
    Py_ssize_t len;
    pywfp_state *st = live(self);
    PyObject *result = NULL;
    wfp_yaml_errors err;
    wfp_yaml_doc *doc = NULL;
    wfp_policy_object *o = NULL;
    if (!st || !PyArg_ParseTuple(args, "is#:_add", &kind, &text, &len) || kind_arg(kind) < 0) return NULL;
    wfp_yaml_errors_init(&err);
    doc = wfp_yaml_load_string("<python>", text, (size_t)len, &err);
    if (!doc || !wfp_policy_object_parse(self->engine->policy, (wfp_policy_kind)kind, wfp_yaml_doc_root(doc), NULL,
                                         &o, &err)) {
        pywfp_raise_yaml(st, st->policy_error, &err);
        goto out;
    }
    uint32_t rc = wfp_policy_object_add(self->engine->policy, self->session, o);
    if (rc) {
        fail(self, st, rc);
        goto out;
    }
    result = record_of_added(self, st, (wfp_policy_kind)kind, wfp_policy_object_name(o));
out:
    wfp_policy_object_free(o);
    wfp_yaml_doc_free(doc);
    wfp_yaml_errors_clear(&err);
    return done(self, result);
}

/* _apply_policy_file(path): wfp_policy_file_load + wfp_policy_apply. */
static PyObject *session_apply_policy_file(SessionObject *self, PyObject *arg)
{
    pywfp_state *st = live(self);
    PyObject *bytes = NULL, *result = NULL;
    wfp_yaml_errors err;
    wfp_yaml_doc *doc = NULL;
    if (!st || !PyUnicode_FSConverter(arg, &bytes)) return NULL;
    wfp_yaml_errors_init(&err);
    const wfp_yaml_node *pol = wfp_policy_file_load(PyBytes_AS_STRING(bytes), &doc, &err);
    if (!pol || !wfp_policy_apply(self->engine->policy, self->session, pol, &err))
        pywfp_raise_yaml(st, st->policy_error, &err);
    else
        result = Py_NewRef(Py_None);
    wfp_yaml_doc_free(doc);
    wfp_yaml_errors_clear(&err);
    Py_DECREF(bytes);
    return done(self, result);
}

/* delete(kind, key_or_name_or_id) */
static PyObject *session_delete(SessionObject *self, PyObject *args)
{
    int kind;
    PyObject *which;
    pywfp_state *st = live(self);
    wfp_guid key;
    uint32_t rc;
    if (!st || !PyArg_ParseTuple(args, "iO:_delete", &kind, &which) || kind_arg(kind) < 0) return NULL;
    if (PyLong_Check(which)) {
        unsigned long long id = PyLong_AsUnsignedLongLong(which);
        if (PyErr_Occurred()) return NULL;
        if (kind == WFP_POLICY_FILTER) rc = wfp_filter_delete_by_id(self->session, id);
        else if (kind == WFP_POLICY_CALLOUT) rc = wfp_callout_delete_by_id(self->session, (uint32_t)id);
        else return PyErr_Format(PyExc_TypeError, "only filters and callouts have ids");
    } else {
        if (pywfp_resolve_key(self->engine, (wfp_policy_kind)kind, which, &key) < 0) return NULL;
        switch (kind) {
        case WFP_POLICY_PROVIDER: rc = wfp_provider_delete_by_key(self->session, &key); break;
        case WFP_POLICY_SUBLAYER: rc = wfp_sublayer_delete_by_key(self->session, &key); break;
        case WFP_POLICY_CALLOUT: rc = wfp_callout_delete_by_key(self->session, &key); break;
        default: rc = wfp_filter_delete_by_key(self->session, &key); break;
        }
    }
    return rc ? done(self, fail(self, st, rc)) : done(self, Py_NewRef(Py_None));
}

/* get(kind, key_or_name_or_id) */
static PyObject *session_get(SessionObject *self, PyObject *args)
{
    int kind;
    PyObject *which;
    pywfp_state *st = live(self);
    wfp_guid key;
    uint32_t rc;
    if (!st || !PyArg_ParseTuple(args, "iO:_get", &kind, &which) || kind_arg(kind) < 0) return NULL;
    if (PyLong_Check(which)) {
        unsigned long long id = PyLong_AsUnsignedLongLong(which);
        if (PyErr_Occurred()) return NULL;
        if (kind == WFP_POLICY_FILTER) {
            const wfp_filter *f;
            rc = wfp_filter_get_by_id(self->session, id, &f);
            return rc ? fail(self, st, rc) : pywfp_filter(st, f, self->engine->policy);
        }
        if (kind == WFP_POLICY_CALLOUT) {
            const wfp_callout *c;
            rc = wfp_callout_get_by_id(self->session, (uint32_t)id, &c);
            return rc ? fail(self, st, rc) : pywfp_callout_rec(st, c);
        }
        return PyErr_Format(PyExc_TypeError, "only filters and callouts have ids");
    }
    if (pywfp_resolve_key(self->engine, (wfp_policy_kind)kind, which, &key) < 0) return NULL;
    switch (kind) {
    case WFP_POLICY_PROVIDER: {
        const wfp_provider *p;
        rc = wfp_provider_get_by_key(self->session, &key, &p);
        return rc ? fail(self, st, rc) : pywfp_provider(st, p);
    }
    case WFP_POLICY_SUBLAYER: {
        const wfp_sublayer *p;
        rc = wfp_sublayer_get_by_key(self->session, &key, &p);
        return rc ? fail(self, st, rc) : pywfp_sublayer(st, p);
    }
    case WFP_POLICY_CALLOUT: {
        const wfp_callout *p;
        rc = wfp_callout_get_by_key(self->session, &key, &p);
        return rc ? fail(self, st, rc) : pywfp_callout_rec(st, p);
    }
    default: {
        const wfp_filter *p;
        rc = wfp_filter_get_by_key(self->session, &key, &p);
        return rc ? fail(self, st, rc) : pywfp_filter(st, p, self->engine->policy);
    }
    }
}

/* ---- enumeration ---------------------------------------------------------------- */

/* Parsed conditions from YAML text (scenario format); layer NULL: typed only. */
static int parse_conditions(pywfp_state *st, const wfp_layer_info *layer, const char *text, Py_ssize_t len,
                            wfp_yaml_doc **doc, wfp_policy_conditions *conds)
{
    wfp_yaml_errors err;
    wfp_yaml_errors_init(&err);
    memset(conds, 0, sizeof *conds);
    *doc = wfp_yaml_load_string("<python>", text, (size_t)len, &err);
    if (!*doc || !wfp_policy_conditions_parse(layer, wfp_yaml_doc_root(*doc), "conditions", false, conds, &err)) {
        pywfp_raise_yaml(st, st->policy_error, &err);
        wfp_yaml_errors_clear(&err);
        return -1;
    }
    wfp_yaml_errors_clear(&err);
    return 0;
}

typedef uint32_t (*enum_next_fn)(wfp_session *, wfp_enum *, uint32_t, const void *const **, uint32_t *);

static PyObject *drain_enum(SessionObject *self, pywfp_state *st, wfp_enum *h, int kind)
{
    PyObject *list = PyList_New(0);
    if (!list) goto fail;
    for (;;) {
        const void *const *entries = NULL;
        uint32_t n = 0, rc;
        switch (kind) {
        case WFP_OBJECT_PROVIDER:
            rc = wfp_provider_enum_next(self->session, h, 64, (const wfp_provider *const **)&entries, &n);
            break;
        case WFP_OBJECT_SUBLAYER:
            rc = wfp_sublayer_enum_next(self->session, h, 64, (const wfp_sublayer *const **)&entries, &n);
            break;
        case WFP_OBJECT_CALLOUT:
            rc = wfp_callout_enum_next(self->session, h, 64, (const wfp_callout *const **)&entries, &n);
            break;
        case WFP_OBJECT_FILTER:
            rc = wfp_filter_enum_next(self->session, h, 64, (const wfp_filter *const **)&entries, &n);
            break;
        default: rc = wfp_layer_enum_next(self->session, h, 64, (const wfp_layer_info *const **)&entries, &n); break;
        }
        if (rc) {
            fail(self, st, rc);
            goto fail;
        }
        if (!n) break;
        for (uint32_t i = 0; i < n; i++) {
            PyObject *x;
            switch (kind) {
            case WFP_OBJECT_PROVIDER: x = pywfp_provider(st, entries[i]); break;
            case WFP_OBJECT_SUBLAYER: x = pywfp_sublayer(st, entries[i]); break;
            case WFP_OBJECT_CALLOUT: x = pywfp_callout_rec(st, entries[i]); break;
            case WFP_OBJECT_FILTER: x = pywfp_filter(st, entries[i], self->engine->policy); break;
            default: x = pywfp_layer(st, entries[i]); break;
            }
            if (!x || PyList_Append(list, x) < 0) {
                Py_XDECREF(x);
                goto fail;
            }
            Py_DECREF(x);
        }
    }
    wfp_enum_destroy(self->session, h);
    return list;
fail:
    wfp_enum_destroy(self->session, h);
    Py_XDECREF(list);
    return NULL;
}

static PyObject *session_enum(SessionObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"object_type", "layer", "provider", "conditions", "enum_type", "flags", "action_mask",
                             "callout", NULL};
    PyObject *otype, *layer_o = Py_None, *provider_o = Py_None, *callout_o = Py_None;
    const char *ctext = NULL;
    Py_ssize_t clen = 0;
    unsigned long enum_type = FWP_FILTER_ENUM_OVERLAPPING, flags = 0, action_mask = 0xFFFFFFFFul;
    pywfp_state *st = live(self);
    uint32_t type, rc;
    wfp_enum *h = NULL;
    wfp_guid pkey, ckey, lkey;
    const wfp_guid *pk, *ck;
    const wfp_layer_info *layer;
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "O|OOz#kkkO:_enum", kwlist, &otype, &layer_o, &provider_o,
                                            &ctext, &clen, &enum_type, &flags, &action_mask, &callout_o))
        return NULL;
    if (object_type_arg(otype, &type) < 0) return NULL;
    if (opt_key(self, WFP_POLICY_PROVIDER, provider_o, &pkey, &pk) < 0 ||
        opt_key(self, WFP_POLICY_CALLOUT, callout_o, &ckey, &ck) < 0 || opt_layer(st, layer_o, &layer, &lkey) < 0)
        return NULL;
    switch (type) {
    case WFP_OBJECT_PROVIDER: rc = wfp_provider_enum_create(self->session, &h); break;
    case WFP_OBJECT_SUBLAYER: {
        wfp_sublayer_enum_template t = {pk};
        rc = wfp_sublayer_enum_create(self->session, &t, &h);
        break;
    }
    case WFP_OBJECT_CALLOUT: {
        wfp_callout_enum_template t = {pk, lkey};
        rc = wfp_callout_enum_create(self->session, &t, &h);
        break;
    }
    case WFP_OBJECT_FILTER: {
        wfp_filter_enum_template t;
        wfp_policy_conditions conds;
        wfp_yaml_doc *doc = NULL;
        memset(&t, 0, sizeof t);
        memset(&conds, 0, sizeof conds);
        if (ctext && parse_conditions(st, layer, ctext, clen, &doc, &conds) < 0) {
            wfp_yaml_doc_free(doc);
            return NULL;
        }
        t.provider_key = pk;
        t.layer_key = lkey;
        t.enum_type = (uint32_t)enum_type;
        t.flags = (uint32_t)flags;
        t.num_conditions = conds.count;
        t.conditions = conds.items;
        t.action_mask = (uint32_t)action_mask;
        t.callout_key = ck;
        rc = wfp_filter_enum_create(self->session, &t, &h);
        wfp_policy_conditions_free(&conds);
        wfp_yaml_doc_free(doc);
        break;
    }
    case WFP_OBJECT_LAYER: rc = wfp_layer_enum_create(self->session, &h); break;
    default: return PyErr_Format(PyExc_ValueError, "cannot enumerate %R", otype);
    }
    if (rc) return fail(self, st, rc);
    return drain_enum(self, st, h, (int)type);
}

/* ---- subscriptions ------------------------------------------------------------- */

static int queue(EngineObject *e, PyObject *callback, PyObject *item)
{
    if (!item) return -1;
    PyObject *t = PyTuple_Pack(2, callback, item);
    Py_DECREF(item);
    if (!t) return -1;
    int rc = e->pending ? PyList_Append(e->pending, t) : 0;
    Py_DECREF(t);
    return rc;
}

/* The change is queued raw (its bytes) and becomes a Change record when it
 * is delivered: the name of an object being added is recorded only after
 * the call that notifies returns. */
static void change_cb(void *ctx, const wfp_change *change)
{
    pywfp_sub *sub = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    EngineObject *e = sub->session->engine;
    if (sub->callback &&
        queue(e, sub->callback, PyBytes_FromStringAndSize((const char *)change, (Py_ssize_t)sizeof *change)) < 0)
        PyErr_WriteUnraisable(sub->callback);
    PyGILState_Release(g);
}

static void net_event_cb(void *ctx, const wfp_net_event *event)
{
    pywfp_sub *sub = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    EngineObject *e = sub->session->engine;
    if (sub->callback && queue(e, sub->callback, pywfp_net_event(pywfp_state_of(e->module), event)) < 0)
        PyErr_WriteUnraisable(sub->callback);
    PyGILState_Release(g);
}

static pywfp_sub *new_sub(SessionObject *self, PyObject *callback, bool net_events)
{
    if (!PyCallable_Check(callback)) {
        PyErr_SetString(PyExc_TypeError, "the callback must be callable");
        return NULL;
    }
    if (self->nsubs == self->capsubs) {
        size_t nc = self->capsubs ? self->capsubs * 2 : 4;
        pywfp_sub **nv = PyMem_Realloc(self->subs, nc * sizeof *nv);
        if (!nv) {
            PyErr_NoMemory();
            return NULL;
        }
        self->subs = nv;
        self->capsubs = nc;
    }
    pywfp_sub *sub = PyMem_Calloc(1, sizeof *sub);
    if (!sub) {
        PyErr_NoMemory();
        return NULL;
    }
    sub->session = self;
    sub->callback = Py_NewRef(callback);
    sub->net_events = net_events;
    return sub;
}

static void drop_sub(SessionObject *self, uint64_t handle, bool net_events)
{
    for (size_t i = 0; i < self->nsubs; i++) {
        if (self->subs[i]->handle == handle && self->subs[i]->net_events == net_events) {
            free_sub(self->subs[i]);
            memmove(self->subs + i, self->subs + i + 1, (self->nsubs - i - 1) * sizeof *self->subs);
            self->nsubs--;
            return;
        }
    }
}

static PyObject *session_subscribe(SessionObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"object_type", "callback", "flags", "layer", "provider", NULL};
    PyObject *otype, *callback, *layer_o = Py_None, *provider_o = Py_None;
    unsigned long flags = 0;
    pywfp_state *st = live(self);
    uint32_t type;
    wfp_guid pkey, lkey;
    const wfp_guid *pk;
    const wfp_layer_info *layer;
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "OO|kOO:subscribe", kwlist, &otype, &callback, &flags,
                                            &layer_o, &provider_o))
        return NULL;
    if (object_type_arg(otype, &type) < 0) return NULL;
    if (type > WFP_OBJECT_FILTER)
        return PyErr_Format(PyExc_ValueError, "subscriptions are to providers, sublayers, callouts or filters");
    if (opt_key(self, WFP_POLICY_PROVIDER, provider_o, &pkey, &pk) < 0 || opt_layer(st, layer_o, &layer, &lkey) < 0)
        return NULL;
    wfp_subscription s;
    wfp_filter_enum_template t;
    memset(&s, 0, sizeof s);
    memset(&t, 0, sizeof t);
    s.object_type = type;
    s.flags = (uint32_t)flags;
    if (type == WFP_OBJECT_FILTER && (pk || layer_o != Py_None)) {
        t.provider_key = pk;
        t.layer_key = lkey;
        t.enum_type = FWP_FILTER_ENUM_OVERLAPPING;
        t.action_mask = 0xFFFFFFFFu;
        s.filter_template = &t;
    } else {
        s.provider_key = pk;
        s.layer_key = layer_o != Py_None ? &lkey : NULL;
    }
    pywfp_sub *sub = new_sub(self, callback, false);
    if (!sub) return NULL;
    uint32_t rc = wfp_subscribe_changes(self->session, &s, change_cb, sub, &sub->handle);
    if (rc) {
        free_sub(sub);
        return fail(self, st, rc);
    }
    self->subs[self->nsubs++] = sub;
    return PyLong_FromUnsignedLongLong(sub->handle);
}

static PyObject *session_unsubscribe(SessionObject *self, PyObject *arg)
{
    pywfp_state *st = live(self);
    if (!st) return NULL;
    unsigned long long h = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred()) return NULL;
    uint32_t rc = wfp_unsubscribe_changes(self->session, h);
    if (rc) return fail(self, st, rc);
    drop_sub(self, h, false);
    Py_RETURN_NONE;
}

/* ---- net events ------------------------------------------------------------------ */

static int net_template(pywfp_state *st, unsigned long long start, unsigned long long end, const char *ctext,
                        Py_ssize_t clen, wfp_net_event_template *t, wfp_yaml_doc **doc, wfp_policy_conditions *conds)
{
    memset(t, 0, sizeof *t);
    memset(conds, 0, sizeof *conds);
    *doc = NULL;
    t->start_ns = start;
    t->end_ns = end;
    if (ctext && parse_conditions(st, NULL, ctext, clen, doc, conds) < 0) return -1;
    t->num_conditions = conds->count;
    t->conditions = conds->items;
    return 0;
}

static PyObject *session_net_events(SessionObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"start_ns", "end_ns", "conditions", NULL};
    unsigned long long start = 0, end = 0;
    const char *ctext = NULL;
    Py_ssize_t clen = 0;
    pywfp_state *st = live(self);
    wfp_net_event_template t;
    wfp_policy_conditions conds;
    wfp_yaml_doc *doc = NULL;
    wfp_net_event_enum *h = NULL;
    PyObject *list = NULL;
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "|KKz#:_net_events", kwlist, &start, &end, &ctext, &clen))
        return NULL;
    if (net_template(st, start, end, ctext, clen, &t, &doc, &conds) < 0) goto out;
    uint32_t rc = wfp_net_event_enum_create(self->session, &t, &h);
    if (rc) {
        fail(self, st, rc);
        goto out;
    }
    list = PyList_New(0);
    while (list) {
        const wfp_net_event *const *entries;
        uint32_t n = 0;
        rc = wfp_net_event_enum_next(self->session, h, 64, &entries, &n);
        if (rc) {
            fail(self, st, rc);
            Py_CLEAR(list);
            break;
        }
        if (!n) break;
        for (uint32_t i = 0; i < n; i++) {
            PyObject *x = pywfp_net_event(st, entries[i]);
            if (!x || PyList_Append(list, x) < 0) {
                Py_XDECREF(x);
                Py_CLEAR(list);
                break;
            }
            Py_DECREF(x);
        }
    }
out:
    wfp_net_event_enum_destroy(self->session, h);
    wfp_policy_conditions_free(&conds);
    wfp_yaml_doc_free(doc);
    return list;
}

static PyObject *session_subscribe_net_events(SessionObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"callback", "start_ns", "end_ns", "conditions", NULL};
    PyObject *callback;
    unsigned long long start = 0, end = 0;
    const char *ctext = NULL;
    Py_ssize_t clen = 0;
    pywfp_state *st = live(self);
    wfp_net_event_template t;
    wfp_policy_conditions conds;
    wfp_yaml_doc *doc = NULL;
    PyObject *result = NULL;
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "O|KKz#:_subscribe_net_events", kwlist, &callback, &start,
                                            &end, &ctext, &clen))
        return NULL;
    if (net_template(st, start, end, ctext, clen, &t, &doc, &conds) < 0) goto out;
    pywfp_sub *sub = new_sub(self, callback, true);
    if (!sub) goto out;
    uint32_t rc = wfp_net_event_subscribe(self->session, &t, net_event_cb, sub, &sub->handle);
    if (rc) {
        free_sub(sub);
        fail(self, st, rc);
        goto out;
    }
    self->subs[self->nsubs++] = sub;
    result = PyLong_FromUnsignedLongLong(sub->handle);
out:
    wfp_policy_conditions_free(&conds);
    wfp_yaml_doc_free(doc);
    return result;
}

static PyObject *session_unsubscribe_net_events(SessionObject *self, PyObject *arg)
{
    pywfp_state *st = live(self);
    if (!st) return NULL;
    unsigned long long h = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred()) return NULL;
    uint32_t rc = wfp_net_event_unsubscribe(self->session, h);
    if (rc) return fail(self, st, rc);
    drop_sub(self, h, true);
    Py_RETURN_NONE;
}

/* ---- options and security ---------------------------------------------------------- */

static const char *const option_names[] = {"collect_net_events", "net_event_match_any_keywords", "name_cache",
                                           "monitor_ipsec_connections", "packet_queuing",
                                           "txn_watchdog_timeout_in_msec"};

static int option_arg(PyObject *o, uint32_t *out)
{
    if (PyLong_Check(o)) {
        long v = PyLong_AsLong(o);
        if (v == -1 && PyErr_Occurred()) return -1;
        *out = (uint32_t)v; /* the engine refuses unknown options itself */
        return 0;
    }
    const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
    if (s) {
        const char *p = !strncmp(s, "FWPM_ENGINE_", 12) ? s + 12 : s;
        for (uint32_t i = 0; i < sizeof option_names / sizeof option_names[0]; i++) {
            if (wfp_yaml_ascii_ieq(p, option_names[i])) {
                *out = i;
                return 0;
            }
        }
    }
    if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "unknown engine option %R", o);
    return -1;
}

static PyObject *session_get_option(SessionObject *self, PyObject *arg)
{
    pywfp_state *st = live(self);
    uint32_t opt;
    wfp_value v;
    if (!st || option_arg(arg, &opt) < 0) return NULL;
    memset(&v, 0, sizeof v);
    uint32_t rc = wfp_engine_get_option(self->session, opt, &v);
    if (rc) return fail(self, st, rc);
    return pywfp_value(st, &v, NULL);
}

static PyObject *session_set_option(SessionObject *self, PyObject *args)
{
    pywfp_state *st = live(self);
    PyObject *o;
    unsigned long value;
    uint32_t opt;
    wfp_value v;
    if (!st || !PyArg_ParseTuple(args, "Ok:set_option", &o, &value) || option_arg(o, &opt) < 0) return NULL;
    memset(&v, 0, sizeof v);
    v.type = FWP_UINT32;
    v.v.u32 = (uint32_t)value;
    uint32_t rc = wfp_engine_set_option(self->session, opt, &v);
    return rc ? fail(self, st, rc) : done(self, Py_NewRef(Py_None));
}

static int security_target(SessionObject *self, PyObject *otype, PyObject *key_o, uint32_t *type, wfp_guid *key,
                           const wfp_guid **kp)
{
    if (object_type_arg(otype, type) < 0) return -1;
    *kp = NULL;
    if (!key_o || key_o == Py_None) return 0;
    if (*type == WFP_OBJECT_LAYER) {
        const char *s = PyUnicode_Check(key_o) ? PyUnicode_AsUTF8(key_o) : NULL;
        const wfp_layer_info *l = s ? wfp_catalog_layer_by_name(s) : NULL;
        if (l) {
            *key = l->key;
            *kp = key;
            return 0;
        }
        PyErr_Clear();
        if (pywfp_guid_arg(key_o, key) < 0) return -1;
        *kp = key;
        return 0;
    }
    if (*type > WFP_OBJECT_FILTER) {
        PyErr_SetString(PyExc_ValueError, "only providers, sublayers, callouts, filters and layers take a key");
        return -1;
    }
    if (pywfp_resolve_key(self->engine, (wfp_policy_kind)*type, key_o, key) < 0) return -1;
    *kp = key;
    return 0;
}

static PyObject *session_get_security(SessionObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"object_type", "key", NULL};
    PyObject *otype, *key_o = Py_None;
    pywfp_state *st = live(self);
    uint32_t type;
    wfp_guid key;
    const wfp_guid *kp;
    const char *sddl = NULL;
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "O|O:get_security", kwlist, &otype, &key_o)) return NULL;
    if (security_target(self, otype, key_o, &type, &key, &kp) < 0) return NULL;
    uint32_t rc = wfp_get_security(self->session, type, kp, &sddl);
    if (rc) return fail(self, st, rc);
    return pywfp_str_or_none(sddl);
}

static PyObject *session_set_security(SessionObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"object_type", "key", "sddl", "info", NULL};
    PyObject *otype, *key_o;
    const char *sddl;
    unsigned long info = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    pywfp_state *st = live(self);
    uint32_t type;
    wfp_guid key;
    const wfp_guid *kp;
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "OOs|k:set_security", kwlist, &otype, &key_o, &sddl, &info))
        return NULL;
    if (security_target(self, otype, key_o, &type, &key, &kp) < 0) return NULL;
    uint32_t rc = wfp_set_security(self->session, type, kp, (uint32_t)info, sddl);
    return rc ? fail(self, st, rc) : done(self, Py_NewRef(Py_None));
}

/* ---- type ------------------------------------------------------------------------- */

static PyMethodDef session_methods[] = {
    {"close", (PyCFunction)session_close, METH_NOARGS,
     "Close the session (idempotent): its transaction aborts, its subscriptions end, a dynamic\n"
     "session's objects are deleted."},
    {"__enter__", (PyCFunction)session_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)session_exit, METH_VARARGS, NULL},
    {"begin", (PyCFunction)(void (*)(void))session_begin, METH_VARARGS | METH_KEYWORDS,
     "begin(read_only=False): FwpmTransactionBegin0 (prefer `with session.transaction():`)."},
    {"commit", (PyCFunction)session_commit, METH_NOARGS, "commit(): FwpmTransactionCommit0."},
    {"abort", (PyCFunction)session_abort, METH_NOARGS, "abort(): FwpmTransactionAbort0."},
    {"force_abort", (PyCFunction)session_force_abort, METH_NOARGS,
     "force_abort(): BFE's forced abort of a transaction held too long (the next call fails with\n"
     "FWP_E_TXN_ABORTED)."},
    {"_add", (PyCFunction)session_add, METH_VARARGS,
     "_add(kind, body) -> record: add one object given in the scenario format (YAML text)."},
    {"_apply_policy_file", (PyCFunction)session_apply_policy_file, METH_O,
     "_apply_policy_file(path): add a policy file's objects (PolicyError names FILE:LINE:COL)."},
    {"_delete", (PyCFunction)session_delete, METH_VARARGS, "_delete(kind, key_or_name_or_id)."},
    {"_get", (PyCFunction)session_get, METH_VARARGS, "_get(kind, key_or_name_or_id) -> record."},
    {"_enum", (PyCFunction)(void (*)(void))session_enum, METH_VARARGS | METH_KEYWORDS,
     "_enum(object_type, layer=None, provider=None, conditions=None, enum_type=1, flags=0,\n"
     "action_mask=0xFFFFFFFF, callout=None) -> list: an enumeration, drained."},
    {"subscribe", (PyCFunction)(void (*)(void))session_subscribe, METH_VARARGS | METH_KEYWORDS,
     "subscribe(object_type, callback, flags=0, layer=None, provider=None) -> int (handle)\n\n"
     "Change notifications of other sessions' committed changes, in order: callback(Change)."},
    {"unsubscribe", (PyCFunction)session_unsubscribe, METH_O, "unsubscribe(handle)."},
    {"_net_events", (PyCFunction)(void (*)(void))session_net_events, METH_VARARGS | METH_KEYWORDS,
     "_net_events(start_ns=0, end_ns=0, conditions=None) -> list[NetEvent]."},
    {"_subscribe_net_events", (PyCFunction)(void (*)(void))session_subscribe_net_events,
     METH_VARARGS | METH_KEYWORDS, "_subscribe_net_events(callback, start_ns=0, end_ns=0, conditions=None) -> int."},
    {"unsubscribe_net_events", (PyCFunction)session_unsubscribe_net_events, METH_O,
     "unsubscribe_net_events(handle)."},
    {"get_option", (PyCFunction)session_get_option, METH_O,
     "get_option(option) -> int: 'collect_net_events', 'net_event_match_any_keywords', 'name_cache',\n"
     "'monitor_ipsec_connections', 'packet_queuing', 'txn_watchdog_timeout_in_msec' (or the number)."},
    {"set_option", (PyCFunction)session_set_option, METH_VARARGS, "set_option(option, value)."},
    {"get_security", (PyCFunction)(void (*)(void))session_get_security, METH_VARARGS | METH_KEYWORDS,
     "get_security(object_type, key=None) -> str (SDDL): an object's, a container's (key None) or\n"
     "the engine's ('engine') security descriptor."},
    {"set_security", (PyCFunction)(void (*)(void))session_set_security, METH_VARARGS | METH_KEYWORDS,
     "set_security(object_type, key, sddl, info=OWNER|GROUP|DACL)."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef session_getset[] = {
    {"closed", (getter)session_closed, NULL, "True once closed (or its engine closed or rebooted).", NULL},
    {"engine", (getter)session_engine, NULL, "The engine (kept alive by the session).", NULL},
    {"key", (getter)session_key, NULL, "The session's key (UUID).", NULL},
    {"dynamic", (getter)session_dynamic, NULL, "FWPM_SESSION_FLAG_DYNAMIC.", NULL},
    {"in_transaction", (getter)session_in_txn, NULL, "An explicit transaction is open.", NULL},
    {"holds_lock", (getter)session_holds_lock, NULL, "This session holds the engine's transaction lock.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef session_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(SessionObject, weakrefs), READONLY, NULL}, {NULL, 0, 0, 0, NULL}};


PyTypeObject *pywfp_session_type_new(PyObject *module)
{
    PyType_Slot slots[] = {
        {Py_tp_doc, "Session(engine, *, name=None, key=None, user=None, admin=True, dynamic=False, kernel=False,\n"
                    "groups=(), txn_wait_timeout_ms=0): FwpmEngineOpen0."},
        {Py_tp_new, PYWFP_FN(session_new)},
        {Py_tp_dealloc, PYWFP_FN(session_dealloc)},
        {Py_tp_traverse, PYWFP_FN(session_traverse)},
        {Py_tp_clear, PYWFP_FN(session_clear)},
        {Py_tp_methods, session_methods},
        {Py_tp_getset, session_getset},
        {Py_tp_members, session_members},
        {0, NULL}};
    PyType_Spec spec = {"wfpsim._wfpsim.Session", sizeof(SessionObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, slots};
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &spec, NULL);
}
