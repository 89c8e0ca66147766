/* engine.c — the Engine type (a wfp_engine, its name registry and its
 * Python callouts), the ClassifyOut type a Python callout receives, and
 * the delivery of queued notifications.
 *
 * Notifications (change and net-event subscriptions) are queued by the C
 * callbacks and delivered to their Python callbacks, in order, when the
 * call that produced them returns to Python: a callback then runs with the
 * engine in a consistent state and may call back into it. A callback that
 * raises is reported through sys.unraisablehook (the change it reports
 * has happened). A Python callout runs inside wfp_classify; engine calls
 * from inside a callout are refused (RuntimeError), and an exception it
 * raises ends the classify with CalloutError (the exception as __cause__). */
#include "pywfp.h"

#include <string.h>

typedef struct {
    PyObject_HEAD
    wfp_classify_out *out; /* NULL once the callout returned */
    unsigned long long filter_id, filter_context, filter_weight;
    unsigned int filter_flags, filter_action;
    uint16_t layer_id;
    PyObject *callout; /* its name */
} ClassifyOutObject;

/* ---- engine helpers ------------------------------------------------------------ */

pywfp_state *pywfp_engine_state(EngineObject *e)
{
    if (!e->engine) {
        PyErr_SetString(PyExc_ValueError, "the engine is closed");
        return NULL;
    }
    if (e->in_callout) {
        PyErr_SetString(PyExc_RuntimeError, "the engine is running a Python callout: engine calls from inside a "
                                            "callout (or from another thread meanwhile) are refused");
        return NULL;
    }
    return pywfp_state_of(e->module);
}

PyObject *pywfp_deliver(EngineObject *e, PyObject *result)
{
    if (e->draining || !e->pending || PyList_GET_SIZE(e->pending) == 0) return result;
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    e->draining = true;
    Py_INCREF(e);
    while (e->pending && PyList_GET_SIZE(e->pending) > 0) {
        PyObject *batch = e->pending, *fresh = PyList_New(0);
        if (!fresh) {
            PyErr_WriteUnraisable((PyObject *)e);
            break;
        }
        e->pending = fresh;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(batch); i++) {
            PyObject *item = PyList_GET_ITEM(batch, i);
            PyObject *cb = PyTuple_GET_ITEM(item, 0), *arg = Py_NewRef(PyTuple_GET_ITEM(item, 1)), *r = NULL;
            if (PyBytes_Check(arg) && PyBytes_GET_SIZE(arg) == (Py_ssize_t)sizeof(wfp_change)) {
                /* a change queued raw: named now that the call has returned */
                wfp_change c;
                memcpy(&c, PyBytes_AS_STRING(arg), sizeof c);
                Py_SETREF(arg, pywfp_change(pywfp_state_of(e->module), &c, e->policy));
            }
            if (arg) r = PyObject_CallOneArg(cb, arg);
            if (!r) PyErr_WriteUnraisable(cb);
            Py_XDECREF(r);
            Py_XDECREF(arg);
        }
        Py_DECREF(batch);
    }
    e->draining = false;
    Py_DECREF(e);
    PyErr_Restore(et, ev, etb);
    return result;
}

int pywfp_engine_add_session(EngineObject *e, SessionObject *s)
{
    if (e->nsessions == e->capsessions) {
        size_t nc = e->capsessions ? e->capsessions * 2 : 4;
        SessionObject **nv = PyMem_Realloc(e->sessions, nc * sizeof *nv);
        if (!nv) {
            PyErr_NoMemory();
            return -1;
        }
        e->sessions = nv;
        e->capsessions = nc;
    }
    e->sessions[e->nsessions++] = s;
    return 0;
}

void pywfp_engine_remove_session(EngineObject *e, SessionObject *s)
{
    for (size_t i = 0; i < e->nsessions; i++) {
        if (e->sessions[i] == s) {
            memmove(e->sessions + i, e->sessions + i + 1, (e->nsessions - i - 1) * sizeof *e->sessions);
            e->nsessions--;
            return;
        }
    }
}

/* Every open session of the engine loses its handle (reboot, close: the
 * engine frees the C sessions itself). */
static void invalidate_sessions(EngineObject *e)
{
    while (e->nsessions) pywfp_session_invalidate(e->sessions[--e->nsessions]);
}

static void free_callout(pywfp_callout *c)
{
    Py_XDECREF(c->fn);
    Py_XDECREF(c->name);
    PyMem_Free(c);
}

static void engine_close_impl(EngineObject *e)
{
    if (!e->engine) return;
    invalidate_sessions(e);
    /* the engine calls into the policy and the callouts: it goes first */
    wfp_engine_destroy(e->engine);
    e->engine = NULL;
    wfp_policy_destroy(e->policy);
    e->policy = NULL;
    wfp_trace_destroy(e->trace);
    e->trace = NULL;
    for (size_t i = 0; i < e->ncallouts; i++) free_callout(e->callouts[i]);
    PyMem_Free(e->callouts);
    e->callouts = NULL;
    e->ncallouts = e->capcallouts = 0;
}

int pywfp_resolve_key(EngineObject *e, wfp_policy_kind kind, PyObject *o, wfp_guid *out)
{
    if (PyUnicode_Check(o)) {
        const char *s = PyUnicode_AsUTF8(o);
        if (!s) return -1;
        if (wfp_guid_parse(s, out)) return 0;
        if (e->policy && wfp_policy_key(e->policy, kind, s, out)) return 0;
        wfp_guid_from_name(wfp_policy_kind_name(kind), s, out);
        return 0;
    }
    return pywfp_guid_arg(o, out);
}

/* ---- ClassifyOut --------------------------------------------------------------- */

static wfp_classify_out *live_out(ClassifyOutObject *self)
{
    if (!self->out) PyErr_SetString(PyExc_ValueError, "this ClassifyOut belongs to a callout call that has returned");
    return self->out;
}

static int parse_action(PyObject *v, uint32_t *action)
{
    if (PyLong_Check(v)) {
        unsigned long a = PyLong_AsUnsignedLong(v);
        if (a == (unsigned long)-1 && PyErr_Occurred()) return -1;
        *action = (uint32_t)a;
        return 0;
    }
    const char *s = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
    if (!s) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "an action is 'permit', 'block', 'continue' or an int");
        return -1;
    }
    if (wfp_yaml_ascii_ieq(s, "permit")) *action = FWP_ACTION_PERMIT;
    else if (wfp_yaml_ascii_ieq(s, "block")) *action = FWP_ACTION_BLOCK;
    else if (wfp_yaml_ascii_ieq(s, "continue")) *action = FWP_ACTION_CONTINUE;
    else {
        PyErr_Format(PyExc_ValueError, "unknown action %R (expected 'permit', 'block' or 'continue')", v);
        return -1;
    }
    return 0;
}

static PyObject *co_get_action(ClassifyOutObject *self, void *c)
{
    wfp_classify_out *o = live_out(self);
    return o ? pywfp_action_name(o->action_type) : NULL;
}

static int co_set_action(ClassifyOutObject *self, PyObject *v, void *c)
{
    wfp_classify_out *o = live_out(self);
    uint32_t a;
    if (!o) return -1;
    if (!v) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete the action");
        return -1;
    }
    if (parse_action(v, &a) < 0) return -1;
    o->action_type = a;
    return 0;
}

static int set_u32(ClassifyOutObject *self, PyObject *v, bool rights)
{
    wfp_classify_out *o = live_out(self);
    if (!o) return -1;
    if (!v) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete this attribute");
        return -1;
    }
    unsigned long x = PyLong_AsUnsignedLong(v);
    if (x == (unsigned long)-1 && PyErr_Occurred()) return -1;
    if (rights) o->rights = (uint32_t)x;
    else o->flags = (uint32_t)x;
    return 0;
}

static PyObject *co_get_rights(ClassifyOutObject *self, void *c)
{
    wfp_classify_out *o = live_out(self);
    return o ? PyLong_FromUnsignedLong(o->rights) : NULL;
}

static int co_set_rights(ClassifyOutObject *self, PyObject *v, void *c)
{
    return set_u32(self, v, true);
}

static PyObject *co_get_flags(ClassifyOutObject *self, void *c)
{
    wfp_classify_out *o = live_out(self);
    return o ? PyLong_FromUnsignedLong(o->flags) : NULL;
}

static int co_set_flags(ClassifyOutObject *self, PyObject *v, void *c)
{
    return set_u32(self, v, false);
}

static PyObject *co_write_allowed(ClassifyOutObject *self, void *c)
{
    wfp_classify_out *o = live_out(self);
    return o ? PyBool_FromLong(o->rights & FWPS_RIGHT_ACTION_WRITE) : NULL;
}

static PyObject *co_absorbed(ClassifyOutObject *self, void *c)
{
    wfp_classify_out *o = live_out(self);
    return o ? PyBool_FromLong(o->flags & FWPS_CLASSIFY_OUT_FLAG_ABSORB) : NULL;
}

static PyObject *co_layer(ClassifyOutObject *self, void *c)
{
    return pywfp_layer_name(self->layer_id);
}

static PyObject *co_set(ClassifyOutObject *self, uint32_t action)
{
    wfp_classify_out *o = live_out(self);
    if (!o) return NULL;
    o->action_type = action;
    Py_RETURN_NONE;
}

static PyObject *co_permit(ClassifyOutObject *self, PyObject *noargs)
{
    return co_set(self, FWP_ACTION_PERMIT);
}

static PyObject *co_block(ClassifyOutObject *self, PyObject *noargs)
{
    return co_set(self, FWP_ACTION_BLOCK);
}

static PyObject *co_continue(ClassifyOutObject *self, PyObject *noargs)
{
    return co_set(self, FWP_ACTION_CONTINUE);
}

static PyObject *co_clear_write_right(ClassifyOutObject *self, PyObject *noargs)
{
    wfp_classify_out *o = live_out(self);
    if (!o) return NULL;
    o->rights &= ~FWPS_RIGHT_ACTION_WRITE;
    Py_RETURN_NONE;
}

static PyObject *co_absorb(ClassifyOutObject *self, PyObject *noargs)
{
    wfp_classify_out *o = live_out(self);
    if (!o) return NULL;
    o->action_type = FWP_ACTION_BLOCK;
    o->flags |= FWPS_CLASSIFY_OUT_FLAG_ABSORB;
    Py_RETURN_NONE;
}

static PyObject *co_repr(ClassifyOutObject *self)
{
    if (!self->out) return PyUnicode_FromString("<ClassifyOut (returned)>");
    PyObject *a = pywfp_action_name(self->out->action_type);
    if (!a) return NULL;
    PyObject *r = PyUnicode_FromFormat("<ClassifyOut action=%S rights=%lu flags=%lu filter_id=%llu>", a,
                                       (unsigned long)self->out->rights, (unsigned long)self->out->flags,
                                       self->filter_id);
    Py_DECREF(a);
    return r;
}

static void co_dealloc(ClassifyOutObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(self->callout);
    PyObject_Free(self);
    Py_DECREF(tp);
}

static PyGetSetDef co_getset[] = {
    {"action", (getter)co_get_action, (setter)co_set_action,
     "The callout's action: 'permit', 'block', 'continue' (settable; an FWP_ACTION_* int works too).", NULL},
    {"rights", (getter)co_get_rights, (setter)co_set_rights, "FWPS_RIGHT_* bits (settable).", NULL},
    {"flags", (getter)co_get_flags, (setter)co_set_flags, "FWPS_CLASSIFY_OUT_FLAG_* bits (settable).", NULL},
    {"write_allowed", (getter)co_write_allowed, NULL,
     "FWPS_RIGHT_ACTION_WRITE is set: no hard decision stands yet (cleared: a block now is a veto).", NULL},
    {"absorbed", (getter)co_absorbed, NULL, "FWPS_CLASSIFY_OUT_FLAG_ABSORB is set.", NULL},
    {"layer", (getter)co_layer, NULL, "The layer being classified.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef co_members[] = {
    {"filter_id", T_ULONGLONG, offsetof(ClassifyOutObject, filter_id), READONLY, "The filter that invoked the callout."},
    {"filter_context", T_ULONGLONG, offsetof(ClassifyOutObject, filter_context), READONLY, "Its raw context."},
    {"filter_weight", T_ULONGLONG, offsetof(ClassifyOutObject, filter_weight), READONLY, "Its effective weight."},
    {"filter_flags", T_UINT, offsetof(ClassifyOutObject, filter_flags), READONLY,
     "FWPS_FILTER_FLAG_* of the filter (1: CLEAR_ACTION_RIGHT)."},
    {"filter_action", T_UINT, offsetof(ClassifyOutObject, filter_action), READONLY, "The filter's FWP_ACTION_* type."},
    {"callout", T_OBJECT, offsetof(ClassifyOutObject, callout), READONLY, "The callout's name (as registered)."},
    {NULL, 0, 0, 0, NULL}};

static PyMethodDef co_methods[] = {
    {"permit", (PyCFunction)co_permit, METH_NOARGS, "Set the action to FWP_ACTION_PERMIT."},
    {"block", (PyCFunction)co_block, METH_NOARGS,
     "Set the action to FWP_ACTION_BLOCK (with the write right already cleared, a block vetoes a hard permit)."},
    {"continue_", (PyCFunction)co_continue, METH_NOARGS, "Set the action to FWP_ACTION_CONTINUE (no decision)."},
    {"clear_write_right", (PyCFunction)co_clear_write_right, METH_NOARGS,
     "Clear FWPS_RIGHT_ACTION_WRITE: this decision becomes hard."},
    {"absorb", (PyCFunction)co_absorb, METH_NOARGS,
     "Block and set FWPS_CLASSIFY_OUT_FLAG_ABSORB: the packet is dropped silently."},
    {NULL, NULL, 0, NULL}};


PyTypeObject *pywfp_classify_out_type_new(PyObject *module)
{
    PyType_Slot slots[] = {
        {Py_tp_doc, "FWPS_CLASSIFY_OUT0 as a Python callout sees it; valid only during the callout call."},
        {Py_tp_dealloc, PYWFP_FN(co_dealloc)},
        {Py_tp_repr, PYWFP_FN(co_repr)},
        {Py_tp_getset, co_getset},
        {Py_tp_members, co_members},
        {Py_tp_methods, co_methods},
        {0, NULL}};
    PyType_Spec spec = {"wfpsim._wfpsim.ClassifyOut", sizeof(ClassifyOutObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION, slots};
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &spec, NULL);
}

/* ---- Python callouts ----------------------------------------------------------- */

/* The wfp_callout_classify_fn of every Python callout. */
static void python_classify(void *ctx, const wfp_incoming_values *in, const wfp_incoming_metadata *meta,
                            void *layer_data, const wfp_fwps_filter *filter, uint64_t flow_context,
                            wfp_classify_out *out)
{
    pywfp_callout *c = ctx;
    EngineObject *e = c->engine;
    PyGILState_STATE g = PyGILState_Ensure();
    pywfp_state *st = pywfp_state_of(e->module);
    PyObject *values = NULL, *r = NULL;
    ClassifyOutObject *co = NULL;

    /* an earlier callout of this classify failed: the result is an error anyway */
    if (e->callout_exc || !c->fn) goto out;
    values = pywfp_values_dict(st, in);
    if (!values) goto fail;
    co = PyObject_New(ClassifyOutObject, st->classify_out_type);
    if (!co) goto fail;
    co->out = out;
    co->filter_id = filter ? filter->filter_id : 0;
    co->filter_context = filter ? filter->context : 0;
    co->filter_weight = filter ? filter->weight : 0;
    co->filter_flags = filter ? filter->flags : 0;
    co->filter_action = filter ? filter->action_type : 0;
    co->layer_id = in->layer_id;
    co->callout = Py_NewRef(c->name);
    e->in_callout++;
    r = PyObject_CallFunctionObjArgs(c->fn, values, (PyObject *)co, NULL);
    e->in_callout--;
    co->out = NULL;
    if (r) goto out;
fail: {
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    PyErr_NormalizeException(&t, &v, &tb);
    if (v && tb) PyException_SetTraceback(v, tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    if (!v) v = PyObject_CallFunction(PyExc_RuntimeError, "s", "unknown error");
    Py_XSETREF(e->callout_exc, v);
    Py_XSETREF(e->callout_name, Py_NewRef(c->name));
}
out:
    if (co) co->out = NULL;
    Py_XDECREF(r);
    Py_XDECREF((PyObject *)co);
    Py_XDECREF(values);
    PyGILState_Release(g);
}

static PyObject *engine_register_callout(EngineObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"callout", "fn", "flags", NULL};
    PyObject *which, *fn;
    unsigned long flags = 0;
    pywfp_state *st = pywfp_engine_state(self);
    if (!st) return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|k:register_callout", kwlist, &which, &fn, &flags)) return NULL;
    if (!PyCallable_Check(fn)) return PyErr_Format(PyExc_TypeError, "the classify function must be callable");
    wfp_guid key;
    if (pywfp_resolve_key(self, WFP_POLICY_CALLOUT, which, &key) < 0) return NULL;
    if (self->ncallouts == self->capcallouts) {
        size_t nc = self->capcallouts ? self->capcallouts * 2 : 4;
        pywfp_callout **nv = PyMem_Realloc(self->callouts, nc * sizeof *nv);
        if (!nv) return PyErr_NoMemory();
        self->callouts = nv;
        self->capcallouts = nc;
    }
    pywfp_callout *c = PyMem_Calloc(1, sizeof *c);
    if (!c) return PyErr_NoMemory();
    c->engine = self;
    c->fn = Py_NewRef(fn);
    c->name = PyObject_Str(which);
    c->key = key;
    if (!c->name) {
        free_callout(c);
        return NULL;
    }
    wfp_callout_registration reg;
    memset(&reg, 0, sizeof reg);
    reg.callout_key = key;
    reg.flags = (uint32_t)flags;
    reg.classify = python_classify;
    reg.ctx = c;
    uint32_t id = 0;
    uint32_t rc = wfp_callout_register(self->engine, &reg, &id);
    if (rc) {
        free_callout(c);
        return pywfp_raise_engine(st, rc, self->engine);
    }
    self->callouts[self->ncallouts++] = c;
    return pywfp_deliver(self, PyLong_FromUnsignedLong(id));
}

static PyObject *engine_unregister_callout(EngineObject *self, PyObject *which)
{
    pywfp_state *st = pywfp_engine_state(self);
    wfp_guid key;
    if (!st || pywfp_resolve_key(self, WFP_POLICY_CALLOUT, which, &key) < 0) return NULL;
    uint32_t rc = wfp_callout_unregister_by_key(self->engine, &key);
    if (rc) return pywfp_raise_engine(st, rc, self->engine);
    for (size_t i = 0; i < self->ncallouts; i++) {
        if (wfp_guid_eq(&self->callouts[i]->key, &key)) {
            free_callout(self->callouts[i]);
            memmove(self->callouts + i, self->callouts + i + 1, (self->ncallouts - i - 1) * sizeof *self->callouts);
            self->ncallouts--;
            break;
        }
    }
    return pywfp_deliver(self, Py_NewRef(Py_None));
}

static PyObject *engine_is_callout_registered(EngineObject *self, PyObject *which)
{
    wfp_guid key;
    if (!pywfp_engine_state(self) || pywfp_resolve_key(self, WFP_POLICY_CALLOUT, which, &key) < 0) return NULL;
    return PyBool_FromLong(wfp_callout_is_registered(self->engine, &key));
}

/* ---- classify ----------------------------------------------------------------- */

static PyObject *raise_callout_error(pywfp_state *st, EngineObject *self)
{
    PyObject *exc = self->callout_exc, *name = self->callout_name ? self->callout_name : Py_None;
    PyObject *msg = PyUnicode_FromFormat("Python callout %R raised %s: %S", name, Py_TYPE(exc)->tp_name, exc);
    PyObject *ce = msg ? PyObject_CallOneArg(st->callout_error, msg) : NULL;
    Py_XDECREF(msg);
    if (ce && PyObject_SetAttrString(ce, "callout", name) == 0) {
        PyException_SetCause(ce, Py_NewRef(exc));
        PyErr_SetObject(st->callout_error, ce);
    }
    Py_XDECREF(ce);
    Py_CLEAR(self->callout_exc);
    Py_CLEAR(self->callout_name);
    return NULL;
}

/* FLAGS carried IS_REAUTHORIZE. */
static bool reauthorizing(const wfp_layer_info *layer, const wfp_classify_request *req)
{
    const wfp_condition_info *flags = wfp_catalog_condition_by_name("FLAGS");
    int fi = flags ? wfp_catalog_field_index(layer, &flags->key) : -1;
    return fi >= 0 && (uint32_t)fi < req->num_values && req->values[fi].type == FWP_UINT32 &&
           (req->values[fi].v.u32 & FWP_CONDITION_FLAG_IS_REAUTHORIZE);
}

/* _classify(layer, items, time_ns=0, direction=None, process_id=None, trace=True)
 * items: a sequence of (field, text) pairs, set with wfp_policy_values_set. */
static PyObject *engine_classify(EngineObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"layer", "items", "time_ns", "direction", "process_id", "trace", NULL};
    const char *layer_name;
    PyObject *items, *direction = Py_None, *pid = Py_None, *seq = NULL, *result = NULL;
    unsigned long long time_ns = 0;
    int trace = 1;
    pywfp_state *st = pywfp_engine_state(self);
    wfp_policy_values *vals = NULL;
    if (!st) return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sO|KOOp:_classify", kwlist, &layer_name, &items, &time_ns,
                                     &direction, &pid, &trace))
        return NULL;
    const wfp_layer_info *layer = wfp_catalog_layer_by_name(layer_name);
    if (!layer) {
        char why[160];
        snprintf(why, sizeof why, "no layer named '%s'", layer_name);
        return pywfp_raise(st, FWP_E_LAYER_NOT_FOUND, why);
    }
    seq = PySequence_Fast(items, "items must be a sequence of (field, text) pairs");
    if (!seq) return NULL;
    vals = wfp_policy_values_create(layer);
    if (!vals) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        const char *field, *text;
        char why[1024];
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "ss:a (field, text) pair", &field, &text)) goto out;
        if (!wfp_policy_values_set(vals, field, text, why, sizeof why)) {
            pywfp_raise(st, FWP_E_INVALID_PARAMETER, why);
            goto out;
        }
    }
    wfp_incoming_metadata meta;
    memset(&meta, 0, sizeof meta);
    if (direction != Py_None) {
        const char *d = PyUnicode_Check(direction) ? PyUnicode_AsUTF8(direction) : NULL;
        if (d && wfp_yaml_ascii_ieq(d, "inbound")) meta.packet_direction = FWP_DIRECTION_INBOUND;
        else if (d && wfp_yaml_ascii_ieq(d, "outbound")) meta.packet_direction = FWP_DIRECTION_OUTBOUND;
        else {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "direction is 'inbound' or 'outbound', not %R", direction);
            goto out;
        }
        meta.present |= WFP_METADATA_PACKET_DIRECTION;
    }
    if (pid != Py_None) {
        meta.process_id = PyLong_AsUnsignedLongLong(pid);
        if (PyErr_Occurred()) goto out;
        meta.present |= WFP_METADATA_PROCESS_ID;
    }
    wfp_classify_request req;
    wfp_verdict v;
    memset(&req, 0, sizeof req);
    req.layer_id = layer->id;
    req.values = wfp_policy_values_array(vals);
    req.num_values = wfp_policy_values_count(vals);
    req.meta = meta.present ? &meta : NULL;
    req.time_ns = time_ns;
    Py_CLEAR(self->callout_exc);
    Py_CLEAR(self->callout_name);
    uint32_t rc = wfp_classify(self->engine, &req, &v, trace ? self->trace : NULL);
    if (self->callout_exc) {
        /* a Python callout raised: that is the classify's result */
        raise_callout_error(st, self);
        goto out;
    }
    if (rc) {
        pywfp_raise_engine(st, rc, self->engine);
        goto out;
    }
    const char *fname = v.filter_id ? wfp_policy_filter_name(self->policy, v.filter_id) : NULL;
    if (!fname && v.filter_id) {
        const wfp_filter *f = wfp_engine_filter_by_id(self->engine, v.filter_id);
        fname = f ? f->display.name : NULL;
    }
    pywfp_verdict_in in;
    memset(&in, 0, sizeof in);
    in.verdict = &v;
    in.filter_name = fname;
    in.names = self->policy;
    in.trace = trace ? self->trace : NULL;
    in.reauth = reauthorizing(layer, &req);
    result = pywfp_verdict(st, &in);
out:
    wfp_policy_values_destroy(vals);
    Py_XDECREF(seq);
    return pywfp_deliver(self, result);
}

/* ---- the rest of the engine ------------------------------------------------------ */

static PyObject *engine_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"or_mode", NULL};
    const char *or_mode = "group_by_field";
    PyObject *module = pywfp_module_of_type(type);
    if (!module) return NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$s:Engine", kwlist, &or_mode)) return NULL;
    wfp_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!strcmp(or_mode, "group_by_field")) cfg.or_mode = WFP_OR_GROUP_BY_FIELD;
    else if (!strcmp(or_mode, "adjacent")) cfg.or_mode = WFP_OR_ADJACENT_ONLY;
    else return PyErr_Format(PyExc_ValueError, "or_mode is 'group_by_field' or 'adjacent', not '%s'", or_mode);

    EngineObject *self = (EngineObject *)type->tp_alloc(type, 0);
    if (!self) return NULL;
    self->module = Py_NewRef(module);
    self->pending = PyList_New(0);
    self->engine = wfp_engine_create(&cfg);
    self->policy = wfp_policy_create();
    self->trace = wfp_trace_create(NULL);
    if (!self->pending || !self->engine || !self->policy || !self->trace) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static int engine_traverse(EngineObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    Py_VISIT(self->pending);
    Py_VISIT(self->callout_exc);
    Py_VISIT(self->callout_name);
    for (size_t i = 0; i < self->ncallouts; i++) {
        Py_VISIT(self->callouts[i]->fn);
        Py_VISIT(self->callouts[i]->name);
    }
    return 0;
}

static int engine_clear(EngineObject *self)
{
    Py_CLEAR(self->pending);
    Py_CLEAR(self->callout_exc);
    Py_CLEAR(self->callout_name);
    for (size_t i = 0; i < self->ncallouts; i++) Py_CLEAR(self->callouts[i]->fn);
    return 0;
}

static void engine_dealloc(EngineObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) PyObject_ClearWeakRefs((PyObject *)self);
    engine_close_impl(self);
    engine_clear(self);
    PyMem_Free(self->sessions);
    Py_CLEAR(self->module);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *engine_close(EngineObject *self, PyObject *noargs)
{
    if (self->in_callout)
        return PyErr_Format(PyExc_RuntimeError, "cannot close the engine from inside a callout's classify function");
    engine_close_impl(self);
    Py_RETURN_NONE;
}

static PyObject *engine_enter(EngineObject *self, PyObject *noargs)
{
    if (!self->engine) return PyErr_Format(PyExc_ValueError, "the engine is closed");
    return Py_NewRef(self);
}

static PyObject *engine_exit(EngineObject *self, PyObject *args)
{
    PyObject *r = engine_close(self, NULL);
    if (!r) return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *engine_closed(EngineObject *self, void *c)
{
    return PyBool_FromLong(self->engine == NULL);
}

static PyObject *engine_dump(EngineObject *self, PyObject *noargs)
{
    if (!pywfp_engine_state(self)) return NULL;
    size_t n = wfp_engine_dump(self->engine, NULL, 0);
    char *buf = PyMem_Malloc(n + 1);
    if (!buf) return PyErr_NoMemory();
    wfp_engine_dump(self->engine, buf, n + 1);
    PyObject *r = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)n, "replace");
    PyMem_Free(buf);
    return r;
}

static PyObject *engine_stats(EngineObject *self, PyObject *noargs)
{
    pywfp_state *st = pywfp_engine_state(self);
    wfp_engine_stats s;
    if (!st) return NULL;
    wfp_engine_get_stats(self->engine, &s);
    return pywfp_engine_stats(st, &s);
}

static PyObject *engine_layer_stats(EngineObject *self, PyObject *arg)
{
    pywfp_state *st = pywfp_engine_state(self);
    const char *name;
    wfp_layer_stats s;
    if (!st || !(name = PyUnicode_AsUTF8(arg))) return NULL;
    const wfp_layer_info *l = wfp_catalog_layer_by_name(name);
    if (!l) return pywfp_raise(st, FWP_E_LAYER_NOT_FOUND, name);
    wfp_engine_get_layer_stats(self->engine, l->id, &s);
    return pywfp_layer_stats(st, &s);
}

static PyObject *engine_reboot(EngineObject *self, PyObject *noargs)
{
    if (!pywfp_engine_state(self)) return NULL;
    invalidate_sessions(self); /* the reboot frees every session */
    wfp_engine_reboot(self->engine);
    return pywfp_deliver(self, Py_NewRef(Py_None));
}

static PyObject *engine_bfe_start(EngineObject *self, PyObject *noargs)
{
    if (!pywfp_engine_state(self)) return NULL;
    wfp_engine_bfe_start(self->engine);
    return pywfp_deliver(self, Py_NewRef(Py_None));
}

static PyObject *engine_bfe_running(EngineObject *self, void *c)
{
    return PyBool_FromLong(self->engine && wfp_engine_bfe_running(self->engine));
}

static PyObject *engine_set_service_autostart(EngineObject *self, PyObject *args)
{
    pywfp_state *st = pywfp_engine_state(self);
    const char *service;
    int autostart;
    if (!st || !PyArg_ParseTuple(args, "sp:set_service_autostart", &service, &autostart)) return NULL;
    uint32_t rc = wfp_engine_set_service_autostart(self->engine, service, autostart);
    if (rc) return pywfp_raise_engine(st, rc, self->engine);
    Py_RETURN_NONE;
}

static PyObject *engine_filter_list(EngineObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"layer", NULL};
    const char *layer_name = NULL;
    pywfp_state *st = pywfp_engine_state(self);
    const wfp_filter *const *v;
    uint32_t n;
    wfp_guid key;
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "|z:filter_list", kwlist, &layer_name)) return NULL;
    if (layer_name) {
        const wfp_layer_info *l = wfp_catalog_layer_by_name(layer_name);
        if (!l) return pywfp_raise(st, FWP_E_LAYER_NOT_FOUND, layer_name);
        key = l->key;
    }
    uint32_t rc = wfp_filter_list(self->engine, layer_name ? &key : NULL, &v, &n);
    if (rc) return pywfp_raise_engine(st, rc, self->engine);
    PyObject *list = PyList_New(n);
    for (uint32_t i = 0; list && i < n; i++) {
        PyObject *x = pywfp_filter(st, v[i], self->policy);
        if (!x) Py_CLEAR(list);
        else PyList_SET_ITEM(list, i, x);
    }
    return list;
}

static PyObject *engine_filter_by_id(EngineObject *self, PyObject *arg)
{
    pywfp_state *st = pywfp_engine_state(self);
    if (!st) return NULL;
    unsigned long long id = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred()) return NULL;
    const wfp_filter *f = wfp_engine_filter_by_id(self->engine, id);
    if (!f) Py_RETURN_NONE;
    return pywfp_filter(st, f, self->policy);
}

static PyObject *engine_key(EngineObject *self, PyObject *args)
{
    int kind;
    PyObject *which;
    pywfp_state *st = pywfp_engine_state(self);
    wfp_guid key;
    if (!st || !PyArg_ParseTuple(args, "iO:key", &kind, &which)) return NULL;
    if (kind < WFP_POLICY_PROVIDER || kind > WFP_POLICY_FILTER) return PyErr_Format(PyExc_ValueError, "bad kind");
    if (pywfp_resolve_key(self, (wfp_policy_kind)kind, which, &key) < 0) return NULL;
    return pywfp_guid(st, &key);
}

static PyObject *engine_filter_name(EngineObject *self, PyObject *arg)
{
    if (!pywfp_engine_state(self)) return NULL;
    unsigned long long id = PyLong_AsUnsignedLongLong(arg);
    if (PyErr_Occurred()) return NULL;
    return pywfp_str_or_none(wfp_policy_filter_name(self->policy, id));
}

static PyObject *engine_filter_id(EngineObject *self, PyObject *arg)
{
    const char *name;
    uint64_t id;
    if (!pywfp_engine_state(self) || !(name = PyUnicode_AsUTF8(arg))) return NULL;
    if (!wfp_policy_filter_id(self->policy, name, &id)) Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong(id);
}

static PyObject *engine_net_event_count(EngineObject *self, PyObject *noargs)
{
    if (!pywfp_engine_state(self)) return NULL;
    return PyLong_FromSize_t(wfp_net_event_count(self->engine));
}

static PyObject *engine_sessions(EngineObject *self, void *c)
{
    PyObject *list = PyList_New((Py_ssize_t)self->nsessions);
    for (size_t i = 0; list && i < self->nsessions; i++)
        PyList_SET_ITEM(list, (Py_ssize_t)i, Py_NewRef((PyObject *)self->sessions[i]));
    return list;
}

static PyMethodDef engine_methods[] = {
    {"close", (PyCFunction)engine_close, METH_NOARGS,
     "Destroy the engine (idempotent). Its sessions are closed; later calls raise ValueError."},
    {"__enter__", (PyCFunction)engine_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)engine_exit, METH_VARARGS, NULL},
    {"_classify", (PyCFunction)(void (*)(void))engine_classify, METH_VARARGS | METH_KEYWORDS,
     "_classify(layer, items, time_ns=0, direction=None, process_id=None, trace=True) -> Verdict.\n"
     "`items` are (field, text) pairs, text as `wfpsim classify` takes it. Use Engine.classify."},
    {"register_callout", (PyCFunction)(void (*)(void))engine_register_callout, METH_VARARGS | METH_KEYWORDS,
     "register_callout(callout, fn, flags=0) -> int\n\n"
     "Register `fn(values, out)` as the classify function of a callout (key, '{guid}' or name; the\n"
     "driver side, FwpsCalloutRegister0). `values` is a dict field -> Python value; `out` a\n"
     "ClassifyOut. Returns the callout id (0 until the management object is added)."},
    {"unregister_callout", (PyCFunction)engine_unregister_callout, METH_O,
     "unregister_callout(callout): its filters then act as filters of an unregistered callout."},
    {"is_callout_registered", (PyCFunction)engine_is_callout_registered, METH_O,
     "is_callout_registered(callout) -> bool."},
    {"dump", (PyCFunction)engine_dump, METH_NOARGS,
     "dump() -> str: the canonical text dump of everything the engine holds (stable, sorted)."},
    {"stats", (PyCFunction)engine_stats, METH_NOARGS, "stats() -> EngineStats (FWPM_STATISTICS0)."},
    {"layer_stats", (PyCFunction)engine_layer_stats, METH_O, "layer_stats(layer) -> LayerStats."},
    {"reboot", (PyCFunction)engine_reboot, METH_NOARGS,
     "reboot(): every session ends (their objects become closed), dynamic and static objects go,\n"
     "persistent and boot-time objects stay; until bfe_start() only boot-time filters apply."},
    {"bfe_start", (PyCFunction)engine_bfe_start, METH_NOARGS, "bfe_start(): BFE starts after a reboot."},
    {"set_service_autostart", (PyCFunction)engine_set_service_autostart, METH_VARARGS,
     "set_service_autostart(service, autostart): provider gating at BFE start."},
    {"filter_list", (PyCFunction)(void (*)(void))engine_filter_list, METH_VARARGS | METH_KEYWORDS,
     "filter_list(layer=None) -> list[Filter]: filters in the order the engine evaluates them."},
    {"filter_by_id", (PyCFunction)engine_filter_by_id, METH_O,
     "filter_by_id(id) -> Filter | None (no session, no access check)."},
    {"key", (PyCFunction)engine_key, METH_VARARGS,
     "key(kind, name_or_key) -> UUID: how a name resolves (kind 0 provider, 1 sublayer, 2 callout, 3 filter)."},
    {"filter_name", (PyCFunction)engine_filter_name, METH_O,
     "filter_name(id) -> str | None: the name the filter was added with."},
    {"filter_id", (PyCFunction)engine_filter_id, METH_O, "filter_id(name) -> int | None."},
    {"net_event_count", (PyCFunction)engine_net_event_count, METH_NOARGS,
     "net_event_count() -> int: events in the log."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef engine_getset[] = {
    {"closed", (getter)engine_closed, NULL, "True once close() ran.", NULL},
    {"bfe_running", (getter)engine_bfe_running, NULL, "False between reboot() and bfe_start().", NULL},
    {"sessions", (getter)engine_sessions, NULL, "The open sessions.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef engine_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(EngineObject, weakrefs), READONLY, NULL}, {NULL, 0, 0, 0, NULL}};


PyTypeObject *pywfp_engine_type_new(PyObject *module)
{
    PyType_Slot slots[] = {
        {Py_tp_doc, "Engine(*, or_mode='group_by_field'): a WFP filter engine (no global state: have many)."},
        {Py_tp_new, PYWFP_FN(engine_new)},
        {Py_tp_dealloc, PYWFP_FN(engine_dealloc)},
        {Py_tp_traverse, PYWFP_FN(engine_traverse)},
        {Py_tp_clear, PYWFP_FN(engine_clear)},
        {Py_tp_methods, engine_methods},
        {Py_tp_getset, engine_getset},
        {Py_tp_members, engine_members},
        {0, NULL}};
    PyType_Spec spec = {"wfpsim._wfpsim.Engine", sizeof(EngineObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC, slots};
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &spec, NULL);
}
