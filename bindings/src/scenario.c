/* scenario.c — the ScenarioFile type: a loaded scenario (wfp_scenario),
 * checked and run by sim/. The run happens without the GIL: the loaded
 * scenario is immutable while it runs and the runner calls no Python code. */
#include "pywfp.h"

#include "graph.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    PyObject *module;
    wfp_scenario *sc;
} ScenarioObject;

static PyObject *scenario_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", NULL};
    PyObject *path;
    PyObject *module = pywfp_module_of_type(type);
    if (!module) return NULL;
    pywfp_state *st = pywfp_state_of(module);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&:ScenarioFile", kwlist, PyUnicode_FSConverter, &path)) return NULL;
    wfp_yaml_errors err;
    wfp_yaml_errors_init(&err);
    wfp_scenario *sc;
    Py_BEGIN_ALLOW_THREADS
    sc = wfp_scenario_load(PyBytes_AS_STRING(path), &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (!sc) {
        pywfp_raise_yaml(st, st->scenario_error, &err);
        wfp_yaml_errors_clear(&err);
        return NULL;
    }
    wfp_yaml_errors_clear(&err);
    ScenarioObject *self = (ScenarioObject *)type->tp_alloc(type, 0);
    if (!self) {
        wfp_scenario_free(sc);
        return NULL;
    }
    self->module = Py_NewRef(module);
    self->sc = sc;
    return (PyObject *)self;
}

static void scenario_dealloc(ScenarioObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    wfp_scenario_free(self->sc);
    Py_XDECREF(self->module);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *scenario_name(ScenarioObject *self, void *c)
{
    return pywfp_str_or_none(wfp_scenario_name(self->sc));
}

static PyObject *scenario_path(ScenarioObject *self, void *c)
{
    return pywfp_str_or_none(wfp_scenario_path(self->sc));
}

static PyObject *scenario_check(ScenarioObject *self, PyObject *noargs)
{
    pywfp_state *st = pywfp_state_of(self->module);
    wfp_yaml_errors err;
    bool ok;
    wfp_yaml_errors_init(&err);
    Py_BEGIN_ALLOW_THREADS
    ok = wfp_scenario_check(self->sc, &err);
    Py_END_ALLOW_THREADS
    if (!ok) pywfp_raise_yaml(st, st->scenario_error, &err);
    wfp_yaml_errors_clear(&err);
    if (!ok) return NULL;
    Py_RETURN_TRUE;
}

static PyObject *scenario_run(ScenarioObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"trace", NULL};
    int trace = 0;
    pywfp_state *st = pywfp_state_of(self->module);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:run", kwlist, &trace)) return NULL;
    wfp_run_options opt = {trace != 0};
    wfp_scenario_result *r;
    Py_BEGIN_ALLOW_THREADS
    r = wfp_scenario_run(self->sc, &opt);
    Py_END_ALLOW_THREADS
    if (!r) return PyErr_NoMemory();
    PyObject *res = pywfp_scenario_result(st, wfp_scenario_name(self->sc), r);
    wfp_scenario_result_free(r);
    return res;
}

/* The DOT text is made without the GIL (it runs the scenario and calls no
 * Python code); Graphviz lays it out with the GIL held, through the
 * module's one renderer, so renders never run concurrently. */
static PyObject *scenario_graph(ScenarioObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"layer", "packet", "journey", "host", "collapse", "filter", "format", "title", NULL};
    const char *layer = NULL, *host = NULL, *collapse = NULL, *filter = NULL, *format = "svg", *title = NULL;
    PyObject *packet = Py_None, *journey = Py_None;
    pywfp_state *st = pywfp_state_of(self->module);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|zOOzzzsz:graph", kwlist, &layer, &packet, &journey, &host, &collapse,
                                     &filter, &format, &title))
        return NULL;
    wfp_graph_request req;
    memset(&req, 0, sizeof req);
    req.path = wfp_scenario_path(self->sc);
    req.layer = layer;
    req.host = host;
    req.options.filter_text = filter;
    req.options.title = title;
    PyObject *nums[2] = {packet, journey};
    uint64_t *dest[2] = {&req.packet, &req.journey};
    for (int i = 0; i < 2; i++) {
        if (nums[i] == Py_None) continue;
        unsigned long long v = PyLong_AsUnsignedLongLong(nums[i]);
        if (v == (unsigned long long)-1 && PyErr_Occurred()) return NULL;
        if (v == 0) {
            PyErr_SetString(PyExc_ValueError, "packet numbers start at 1");
            return NULL;
        }
        *dest[i] = v;
    }
    if (!collapse || !strcmp(collapse, "none")) req.options.collapse = WFP_GRAPH_COLLAPSE_NONE;
    else if (!strcmp(collapse, "provider")) req.options.collapse = WFP_GRAPH_COLLAPSE_PROVIDER;
    else if (!strcmp(collapse, "sublayer")) req.options.collapse = WFP_GRAPH_COLLAPSE_SUBLAYER;
    else {
        PyErr_Format(PyExc_ValueError, "collapse must be None, 'provider' or 'sublayer', not '%s'", collapse);
        return NULL;
    }
    if (!req.journey && !req.packet && !req.layer) {
        PyErr_SetString(PyExc_TypeError, "graph() needs layer= (layer view), packet= (packet view) or journey=");
        return NULL;
    }
    bool text = !strcmp(format, "svg") || !strcmp(format, "dot");
    if (!text && strcmp(format, "png") && strcmp(format, "pdf")) {
        PyErr_Format(PyExc_ValueError, "format must be 'svg', 'dot', 'png' or 'pdf', not '%s'", format);
        return NULL;
    }
    char err[1024] = "";
    char *dot = NULL, *out = NULL;
    size_t dlen = 0, len = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = wfp_graph_dot(&req, &dot, &dlen, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (rc == 0 && !strcmp(format, "dot")) {
        out = dot;
        len = dlen;
        dot = NULL;
    } else if (rc == 0) {
        if (!st->renderer) st->renderer = wfp_graph_renderer_create();
        if (!st->renderer) {
            rc = 1;
            snprintf(err, sizeof err, "Graphviz cannot start");
        } else {
            rc = wfp_graph_render_dot(st->renderer, dot, format, &out, &len, err, sizeof err);
        }
    }
    free(dot);
    if (rc == 2) {
        PyObject *msg = PyUnicode_DecodeUTF8(err, (Py_ssize_t)strlen(err), "replace");
        if (msg) {
            PyErr_SetObject(st->scenario_error, msg);
            Py_DECREF(msg);
        }
        free(out);
        return NULL;
    }
    if (rc != 0 || !out) {
        free(out);
        if (!err[0]) return PyErr_NoMemory();
        PyErr_Format(PyExc_RuntimeError, "graph: %s", err);
        return NULL;
    }
    PyObject *res = text ? PyUnicode_DecodeUTF8(out, (Py_ssize_t)len, "replace")
                         : PyBytes_FromStringAndSize(out, (Py_ssize_t)len);
    free(out);
    return res;
}

static PyObject *scenario_repr(ScenarioObject *self)
{
    return PyUnicode_FromFormat("<ScenarioFile %s (%s)>", wfp_scenario_name(self->sc) ? wfp_scenario_name(self->sc) : "?",
                                wfp_scenario_path(self->sc) ? wfp_scenario_path(self->sc) : "?");
}

static PyMethodDef scenario_methods[] = {
    {"check", (PyCFunction)scenario_check, METH_NOARGS,
     "check() -> True: apply the policy and parse every step and packet without running traffic\n"
     "(what `wfpsim check` does); raises ScenarioError with FILE:LINE:COL messages."},
    {"run", (PyCFunction)(void (*)(void))scenario_run, METH_VARARGS | METH_KEYWORDS,
     "run(trace=False) -> ScenarioResult: simulate on fresh hosts and check `expect:` (GIL released)."},
    {"graph", (PyCFunction)(void (*)(void))scenario_graph, METH_VARARGS | METH_KEYWORDS,
     "graph(layer=None, packet=None, journey=None, host=None, collapse=None, filter=None, format='svg', title=None)\n"
     "-> str (svg, dot) or bytes (png, pdf): a picture of arbitration, as `wfpsim graph` draws it\n"
     "(docs/graphs.md). layer alone: the layer view; packet=N: that classification laid over the layer\n"
     "(default: the layer that decided the packet's fate);\n"
     "journey=N: packet N's path through the layers. Unusable input raises ScenarioError."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef scenario_getset[] = {{"name", (getter)scenario_name, NULL, "The scenario's name.", NULL},
                                        {"path", (getter)scenario_path, NULL, "The file it was loaded from.", NULL},
                                        {NULL, NULL, NULL, NULL, NULL}};


PyTypeObject *pywfp_scenario_type_new(PyObject *module)
{
    PyType_Slot slots[] = {
        {Py_tp_doc, "ScenarioFile(path): a scenario file, loaded and checked (wfp_scenario_load)."},
        {Py_tp_new, PYWFP_FN(scenario_new)},
        {Py_tp_dealloc, PYWFP_FN(scenario_dealloc)},
        {Py_tp_repr, PYWFP_FN(scenario_repr)},
        {Py_tp_methods, scenario_methods},
        {Py_tp_getset, scenario_getset},
        {0, NULL}};
    PyType_Spec spec = {"wfpsim._wfpsim.ScenarioFile", sizeof(ScenarioObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, slots};
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &spec, NULL);
}
