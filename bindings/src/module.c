/* module.c — the _wfpsim extension module: its state, the exception
 * classes (one per family of WFP result codes), and the module-level
 * functions over the catalogue, the value parsers and YAML files.
 *
 * Result codes come from core/result.def (the one table behind names and
 * messages); the family of each code is the table below, and the Python
 * tests check that every code of result.def has one. */
#include "pywfp.h"

#include "graph.h"

#include <stdlib.h>
#include <string.h>

/* ---- result codes and their families ------------------------------------ */

static const struct {
    const char *name;
    uint32_t code;
} result_codes[] = {
#define X(name, value, text) {#name, value},
#include "result.def"
#undef X
};
#define NRESULT_CODES (sizeof result_codes / sizeof result_codes[0])

/* Every code of result.def, by name. A code missing here maps to WfpError
 * itself, which the tests refuse. */
static const struct {
    const char *name;
    int family;
} code_families[] = {
    {"FWP_E_CALLOUT_NOT_FOUND", FAM_NOT_FOUND},
    {"FWP_E_CONDITION_NOT_FOUND", FAM_NOT_FOUND},
    {"FWP_E_FILTER_NOT_FOUND", FAM_NOT_FOUND},
    {"FWP_E_LAYER_NOT_FOUND", FAM_NOT_FOUND},
    {"FWP_E_PROVIDER_NOT_FOUND", FAM_NOT_FOUND},
    {"FWP_E_PROVIDER_CONTEXT_NOT_FOUND", FAM_NOT_FOUND},
    {"FWP_E_SUBLAYER_NOT_FOUND", FAM_NOT_FOUND},
    {"FWP_E_NOT_FOUND", FAM_NOT_FOUND},
    {"FWP_E_ALREADY_EXISTS", FAM_ALREADY_EXISTS},
    {"FWP_E_DUPLICATE_CONDITION", FAM_ALREADY_EXISTS},
    {"FWP_E_DUPLICATE_KEYMOD", FAM_ALREADY_EXISTS},
    {"FWP_E_DUPLICATE_AUTH_METHOD", FAM_ALREADY_EXISTS},
    {"FWP_E_KEY_DICTATOR_ALREADY_REGISTERED", FAM_ALREADY_EXISTS},
    {"FWP_E_IN_USE", FAM_IN_USE},
    {"FWP_E_BUILTIN_OBJECT", FAM_IN_USE},
    {"FWP_E_STILL_ON", FAM_IN_USE},
    {"ERROR_ACCESS_DENIED", FAM_ACCESS_DENIED},
    {"FWP_E_KM_CLIENTS_ONLY", FAM_ACCESS_DENIED},
    {"FWP_E_DYNAMIC_SESSION_IN_PROGRESS", FAM_SESSION},
    {"FWP_E_WRONG_SESSION", FAM_SESSION},
    {"FWP_E_SESSION_ABORTED", FAM_SESSION},
    {"ERROR_INVALID_HANDLE", FAM_SESSION},
    {"FWP_E_NO_TXN_IN_PROGRESS", FAM_TRANSACTION},
    {"FWP_E_TXN_IN_PROGRESS", FAM_TRANSACTION},
    {"FWP_E_TXN_ABORTED", FAM_TRANSACTION},
    {"FWP_E_INCOMPATIBLE_TXN", FAM_TRANSACTION},
    {"FWP_E_TIMEOUT", FAM_TIMEOUT},
    {"FWP_E_INCOMPATIBLE_LAYER", FAM_TYPE_MISMATCH},
    {"FWP_E_LIFETIME_MISMATCH", FAM_TYPE_MISMATCH},
    {"FWP_E_TRAFFIC_MISMATCH", FAM_TYPE_MISMATCH},
    {"FWP_E_INCOMPATIBLE_SA_STATE", FAM_TYPE_MISMATCH},
    {"FWP_E_MATCH_TYPE_MISMATCH", FAM_TYPE_MISMATCH},
    {"FWP_E_TYPE_MISMATCH", FAM_TYPE_MISMATCH},
    {"FWP_E_ACTION_INCOMPATIBLE_WITH_LAYER", FAM_TYPE_MISMATCH},
    {"FWP_E_ACTION_INCOMPATIBLE_WITH_SUBLAYER", FAM_TYPE_MISMATCH},
    {"FWP_E_CONTEXT_INCOMPATIBLE_WITH_LAYER", FAM_TYPE_MISMATCH},
    {"FWP_E_CONTEXT_INCOMPATIBLE_WITH_CALLOUT", FAM_TYPE_MISMATCH},
    {"FWP_E_INCOMPATIBLE_AUTH_METHOD", FAM_TYPE_MISMATCH},
    {"FWP_E_INCOMPATIBLE_DH_GROUP", FAM_TYPE_MISMATCH},
    {"FWP_E_PROVIDER_CONTEXT_MISMATCH", FAM_TYPE_MISMATCH},
    {"FWP_E_INCOMPATIBLE_CIPHER_TRANSFORM", FAM_TYPE_MISMATCH},
    {"FWP_E_NULL_POINTER", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_ENUMERATOR", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_FLAGS", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_NET_MASK", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_RANGE", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_INTERVAL", FAM_INVALID_PARAMETER},
    {"FWP_E_ZERO_LENGTH_ARRAY", FAM_INVALID_PARAMETER},
    {"FWP_E_NULL_DISPLAY_NAME", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_ACTION_TYPE", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_WEIGHT", FAM_INVALID_PARAMETER},
    {"FWP_E_OUT_OF_BOUNDS", FAM_INVALID_PARAMETER},
    {"FWP_E_RESERVED", FAM_INVALID_PARAMETER},
    {"FWP_E_NEVER_MATCH", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_PARAMETER", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_AUTH_TRANSFORM", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_CIPHER_TRANSFORM", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_TRANSFORM_COMBINATION", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_TUNNEL_ENDPOINT", FAM_INVALID_PARAMETER},
    {"FWP_E_KEY_DICTATION_INVALID_KEYING_MATERIAL", FAM_INVALID_PARAMETER},
    {"FWP_E_INVALID_DNS_NAME", FAM_INVALID_PARAMETER},
    {"ERROR_INVALID_PARAMETER", FAM_INVALID_PARAMETER},
    {"ERROR_INVALID_SID", FAM_INVALID_PARAMETER},
    {"ERROR_INVALID_SECURITY_DESCR", FAM_INVALID_PARAMETER},
    {"FWP_E_TOO_MANY_CALLOUTS", FAM_LIMIT},
    {"FWP_E_TOO_MANY_SUBLAYERS", FAM_LIMIT},
    {"FWP_E_NOTIFICATION_DROPPED", FAM_LIMIT},
    {"FWP_E_NET_EVENTS_DISABLED", FAM_UNAVAILABLE},
    {"FWP_E_EM_NOT_SUPPORTED", FAM_UNAVAILABLE},
    {"FWP_E_CALLOUT_NOTIFICATION_FAILED", FAM_UNAVAILABLE},
    {"FWP_E_L2_DRIVER_NOT_READY", FAM_UNAVAILABLE},
    {"FWP_E_CONNECTIONS_DISABLED", FAM_UNAVAILABLE},
    {"FWP_E_IKEEXT_NOT_RUNNING", FAM_UNAVAILABLE},
    {"FWP_E_DROP_NOICMP", FAM_UNAVAILABLE},
    {"STATUS_FWP_CANNOT_PEND", FAM_UNAVAILABLE},
    {"ERROR_NOT_ENOUGH_MEMORY", FAM_OUT_OF_MEMORY},
};

int pywfp_family_of(uint32_t code)
{
    const char *name = wfp_result_name(code);
    if (!name) return FAM_BASE;
    for (size_t i = 0; i < sizeof code_families / sizeof code_families[0]; i++)
        if (!strcmp(code_families[i].name, name)) return code_families[i].family;
    return FAM_BASE;
}

static int set_attr(PyObject *o, const char *name, PyObject *v)
{
    if (!v) return -1;
    int rc = PyObject_SetAttrString(o, name, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *make_error(pywfp_state *st, uint32_t code, const char *detail)
{
    const char *name = wfp_result_name(code), *msg = wfp_result_message(code);
    char num[16];
    PyObject *cls = st->families[pywfp_family_of(code)], *exc, *text;

    snprintf(num, sizeof num, "0x%08lX", (unsigned long)code);
    /* the engine's detail usually starts with the code's name: say it once */
    if (detail && name && !strncmp(detail, name, strlen(name)) && !strncmp(detail + strlen(name), ": ", 2))
        detail += strlen(name) + 2;
    if (detail && !*detail) detail = NULL;
    text = PyUnicode_FromFormat("%s (%s): %s", name ? name : num, num,
                                detail ? detail : msg ? msg : "unknown result code");
    if (!text) return NULL;
    exc = PyObject_CallOneArg(cls, text);
    Py_DECREF(text);
    if (!exc) return NULL;
    if (set_attr(exc, "code", PyLong_FromUnsignedLong(code)) < 0 ||
        set_attr(exc, "name", PyUnicode_FromString(name ? name : num)) < 0 ||
        set_attr(exc, "message", pywfp_str_or_none(msg)) < 0 ||
        set_attr(exc, "detail", pywfp_str_or_none(detail)) < 0) {
        Py_DECREF(exc);
        return NULL;
    }
    return exc;
}

PyObject *pywfp_raise(pywfp_state *st, uint32_t code, const char *detail)
{
    PyObject *exc = make_error(st, code, detail);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

PyObject *pywfp_raise_engine(pywfp_state *st, uint32_t code, const wfp_engine *e)
{
    return pywfp_raise(st, code, e ? wfp_engine_last_error(e) : NULL);
}

static int append_str(PyObject *list, const char *s)
{
    PyObject *o = PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
    if (!o) return -1;
    int rc = PyList_Append(list, o);
    Py_DECREF(o);
    return rc;
}

PyObject *pywfp_raise_yaml(pywfp_state *st, PyObject *cls, const wfp_yaml_errors *err)
{
    PyObject *list = PyList_New(0), *text = NULL, *exc = NULL, *sep = NULL;
    if (!list) return NULL;
    for (size_t i = 0; i < err->kept; i++) {
        const char *m = err->messages[i];
        /* "<python>:L:C: text": the position is in text we generated */
        if (!strncmp(m, "<python>:", 9)) {
            const char *p = m + 9;
            for (int k = 0; k < 2 && p; k++) {
                p = strchr(p, ':');
                if (p) p++;
            }
            if (p && *p == ' ') m = p + 1;
        }
        if (append_str(list, m) < 0) goto out;
    }
    if (PyList_GET_SIZE(list) == 0 && append_str(list, err->out_of_memory ? "out of memory" : "unusable input") < 0)
        goto out;
    if (!(sep = PyUnicode_FromString("\n")) || !(text = PyUnicode_Join(sep, list))) goto out;
    if (!(exc = PyObject_CallOneArg(cls, text))) goto out;
    if (PyObject_SetAttrString(exc, "messages", list) < 0) goto out;
    PyErr_SetObject(cls, exc);
out:
    Py_XDECREF(sep);
    Py_XDECREF(exc);
    Py_XDECREF(text);
    Py_DECREF(list);
    return NULL;
}

/* ---- module-level functions ---------------------------------------------- */

static PyObject *mod_result_name(PyObject *m, PyObject *arg)
{
    unsigned long code = PyLong_AsUnsignedLong(arg);
    if (code == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    return pywfp_str_or_none(wfp_result_name((uint32_t)code));
}

static PyObject *mod_result_message(PyObject *m, PyObject *arg)
{
    unsigned long code = PyLong_AsUnsignedLong(arg);
    if (code == (unsigned long)-1 && PyErr_Occurred()) return NULL;
    return pywfp_str_or_none(wfp_result_message((uint32_t)code));
}

static PyObject *mod_result_code(PyObject *m, PyObject *arg)
{
    const char *name = PyUnicode_AsUTF8(arg);
    uint32_t code;
    if (!name) return NULL;
    if (!wfp_result_from_name(name, &code)) return PyErr_Format(PyExc_ValueError, "unknown result code %R", arg);
    return PyLong_FromUnsignedLong(code);
}

static PyObject *mod_error_for(PyObject *m, PyObject *args)
{
    unsigned long code;
    const char *detail = NULL;
    if (!PyArg_ParseTuple(args, "k|z:error_for", &code, &detail)) return NULL;
    return make_error(pywfp_state_of(m), (uint32_t)code, detail);
}

static PyObject *mod_layers(PyObject *m, PyObject *noargs)
{
    pywfp_state *st = pywfp_state_of(m);
    size_t n = wfp_catalog_layer_count();
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *l = pywfp_layer(st, wfp_catalog_layer_by_id((uint16_t)i));
        if (!l) Py_CLEAR(list);
        else PyList_SET_ITEM(list, (Py_ssize_t)i, l);
    }
    return list;
}

static PyObject *mod_layer(PyObject *m, PyObject *arg)
{
    const wfp_layer_info *l = NULL;
    if (PyLong_Check(arg)) {
        long id = PyLong_AsLong(arg);
        if (id == -1 && PyErr_Occurred()) return NULL;
        if (id >= 0 && id <= UINT16_MAX) l = wfp_catalog_layer_by_id((uint16_t)id);
    } else {
        const char *s = PyUnicode_AsUTF8(arg);
        if (!s) return NULL;
        l = wfp_catalog_layer_by_name(s);
    }
    if (!l) return pywfp_raise(pywfp_state_of(m), FWP_E_LAYER_NOT_FOUND, "no such layer");
    return pywfp_layer(pywfp_state_of(m), l);
}

static PyObject *mod_condition_fields(PyObject *m, PyObject *noargs)
{
    size_t n = wfp_catalog_condition_count();
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < n; i++) {
        const wfp_condition_info *c = wfp_catalog_condition_at(i);
        PyObject *k = pywfp_guid(pywfp_state_of(m), &c->key);
        if (!k || PyDict_SetItemString(d, pywfp_short(c->name, "FWPM_CONDITION_"), k) < 0) Py_CLEAR(d);
        Py_XDECREF(k);
    }
    return d;
}

static PyObject *mod_builtin_sublayers(PyObject *m, PyObject *noargs)
{
    size_t n = wfp_catalog_sublayer_count();
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < n; i++) {
        const wfp_builtin_sublayer *s = wfp_catalog_sublayer_at(i);
        PyObject *v = Py_BuildValue("(NI)", pywfp_guid(pywfp_state_of(m), &s->key), (unsigned)s->weight);
        if (!v || PyDict_SetItemString(d, pywfp_short(s->name, "FWPM_SUBLAYER_"), v) < 0) Py_CLEAR(d);
        Py_XDECREF(v);
    }
    return d;
}

static PyObject *mod_guid_from_name(PyObject *m, PyObject *args)
{
    const char *kind, *name;
    wfp_guid g;
    if (!PyArg_ParseTuple(args, "ss:guid_from_name", &kind, &name)) return NULL;
    wfp_guid_from_name(kind, name, &g);
    return pywfp_guid(pywfp_state_of(m), &g);
}

static PyObject *mod_parse_guid(PyObject *m, PyObject *arg)
{
    wfp_guid g;
    if (pywfp_guid_arg(arg, &g) < 0) return NULL;
    return pywfp_guid(pywfp_state_of(m), &g);
}

static PyObject *mod_parse_sid(PyObject *m, PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    uint8_t sid[WFP_SID_MAX];
    uint32_t len = 0;
    if (!s) return NULL;
    if (!wfp_sid_parse(s, sid, &len)) return pywfp_raise(pywfp_state_of(m), ERROR_INVALID_SID, s);
    return PyBytes_FromStringAndSize((const char *)sid, (Py_ssize_t)len);
}

/* An snprintf-style formatter's text as a Python str. */
static PyObject *format_blob(size_t (*fmt)(const uint8_t *, uint32_t, char *, size_t), const uint8_t *p, uint32_t len)
{
    char small[256];
    size_t need = fmt(p, len, small, sizeof small);
    if (need < sizeof small) return PyUnicode_DecodeUTF8(small, (Py_ssize_t)need, "replace");
    char *big = PyMem_Malloc(need + 1);
    if (!big) return PyErr_NoMemory();
    fmt(p, len, big, need + 1);
    PyObject *r = PyUnicode_DecodeUTF8(big, (Py_ssize_t)need, "replace");
    PyMem_Free(big);
    return r;
}

static PyObject *mod_format_sid(PyObject *m, PyObject *arg)
{
    Py_buffer b;
    PyObject *r = NULL;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    if (!wfp_sid_valid(b.buf, (uint32_t)b.len)) pywfp_raise(pywfp_state_of(m), ERROR_INVALID_SID, "not a binary SID");
    else r = format_blob(wfp_sid_format, b.buf, (uint32_t)b.len);
    PyBuffer_Release(&b);
    return r;
}

static PyObject *mod_parse_sddl(PyObject *m, PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    uint8_t *sd = NULL;
    uint32_t len = 0;
    size_t at = 0;
    if (!s) return NULL;
    uint32_t rc = wfp_sddl_parse(wfp_allocator_default(), s, &sd, &len, &at);
    if (rc) {
        char why[96];
        snprintf(why, sizeof why, "bad SDDL at offset %zu", at);
        return pywfp_raise(pywfp_state_of(m), rc, why);
    }
    PyObject *r = PyBytes_FromStringAndSize((const char *)sd, (Py_ssize_t)len);
    free(sd);
    return r;
}

static PyObject *mod_format_sd(PyObject *m, PyObject *arg)
{
    Py_buffer b;
    PyObject *r = NULL;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    if (!wfp_sd_valid(b.buf, (uint32_t)b.len))
        pywfp_raise(pywfp_state_of(m), ERROR_INVALID_SECURITY_DESCR, "not a self-relative security descriptor");
    else r = format_blob(wfp_sd_format, b.buf, (uint32_t)b.len);
    PyBuffer_Release(&b);
    return r;
}

static PyObject *mod_app_id(PyObject *m, PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    uint8_t *blob = NULL;
    uint32_t len = 0;
    if (!s) return NULL;
    if (!wfp_app_id_from_path(wfp_allocator_default(), s, NULL, &blob, &len))
        return pywfp_raise(pywfp_state_of(m), FWP_E_INVALID_PARAMETER, "not a Windows path");
    PyObject *r = PyBytes_FromStringAndSize((const char *)blob, (Py_ssize_t)len);
    free(blob);
    return r;
}

static PyObject *mod_format_app_id(PyObject *m, PyObject *arg)
{
    Py_buffer b;
    if (PyObject_GetBuffer(arg, &b, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *r = format_blob(wfp_app_id_format, b.buf, (uint32_t)b.len);
    PyBuffer_Release(&b);
    return r;
}

static PyObject *mod_token(PyObject *m, PyObject *arg)
{
    PyObject *seq = PySequence_Fast(arg, "token() takes a sequence of SID strings (user first)");
    uint8_t *tok = NULL;
    uint32_t len = 0;
    PyObject *r = NULL;
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    const char **v = PyMem_Calloc((size_t)(n ? n : 1), sizeof *v);
    if (!v) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (!(v[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i)))) goto out;
    if (!wfp_token_build(wfp_allocator_default(), v, (size_t)n, &tok, &len))
        pywfp_raise(pywfp_state_of(m), ERROR_INVALID_SID, "a SID of the token is malformed");
    else
        r = PyBytes_FromStringAndSize((const char *)tok, (Py_ssize_t)len);
    free(tok);
out:
    PyMem_Free(v);
    Py_DECREF(seq);
    return r;
}

static PyObject *mod_access_check(PyObject *m, PyObject *args)
{
    Py_buffer sd, tok;
    unsigned long desired;
    if (!PyArg_ParseTuple(args, "y*y*k:access_check", &sd, &tok, &desired)) return NULL;
    bool ok = wfp_sd_access_check(sd.buf, (uint32_t)sd.len, tok.buf, (uint32_t)tok.len, (uint32_t)desired);
    PyBuffer_Release(&sd);
    PyBuffer_Release(&tok);
    return PyBool_FromLong(ok);
}

/* yaml_load(path=None, *, text=None, name='<string>'): a YAML document as
 * Python values, read by wfpsim's own loader. */
static PyObject *mod_yaml_load(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "text", "name", NULL};
    PyObject *path_o = Py_None, *path = NULL, *r;
    const char *text = NULL, *name = "<string>";
    Py_ssize_t len = 0;
    wfp_yaml_errors err;
    wfp_yaml_doc *doc;
    pywfp_state *st = pywfp_state_of(m);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$z#s:yaml_load", kwlist, &path_o, &text, &len, &name))
        return NULL;
    if (path_o != Py_None && !PyUnicode_FSConverter(path_o, &path)) return NULL;
    if (!path == !text) {
        Py_XDECREF(path);
        return PyErr_Format(PyExc_TypeError, "yaml_load() takes a path or text=");
    }
    wfp_yaml_errors_init(&err);
    doc = path ? wfp_yaml_load_file(PyBytes_AS_STRING(path), &err) : wfp_yaml_load_string(name, text, (size_t)len, &err);
    r = doc ? pywfp_yaml_tree(st, wfp_yaml_doc_root(doc)) : pywfp_raise_yaml(st, st->scenario_error, &err);
    wfp_yaml_doc_free(doc);
    wfp_yaml_errors_clear(&err);
    Py_XDECREF(path);
    return r;
}

/* policy_file(path): the policy mapping of a file as `wfpsim classify
 * --policy` reads it (a scenario's policy: or a bare policy mapping). */
static PyObject *mod_policy_file(PyObject *m, PyObject *arg)
{
    pywfp_state *st = pywfp_state_of(m);
    PyObject *bytes;
    wfp_yaml_errors err;
    wfp_yaml_doc *doc = NULL;
    if (!PyUnicode_FSConverter(arg, &bytes)) return NULL;
    wfp_yaml_errors_init(&err);
    const wfp_yaml_node *pol = wfp_policy_file_load(PyBytes_AS_STRING(bytes), &doc, &err);
    PyObject *r = pol ? pywfp_yaml_tree(st, pol) : pywfp_raise_yaml(st, st->scenario_error, &err);
    wfp_yaml_doc_free(doc);
    wfp_yaml_errors_clear(&err);
    Py_DECREF(bytes);
    return r;
}

static PyObject *mod_set_classes(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"condition", "quoted", NULL};
    PyObject *cond = NULL, *quoted = NULL;
    pywfp_state *st = pywfp_state_of(m);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$OO:_set_classes", kwlist, &cond, &quoted)) return NULL;
    if (cond) Py_XSETREF(st->condition, Py_NewRef(cond));
    if (quoted) Py_XSETREF(st->quoted, Py_NewRef(quoted));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"result_name", mod_result_name, METH_O, "result_name(code) -> str | None: 'FWP_E_ALREADY_EXISTS' for 0x80320009."},
    {"result_message", mod_result_message, METH_O, "result_message(code) -> str | None: what a result code means."},
    {"result_code", mod_result_code, METH_O,
     "result_code(name) -> int: the code of 'FWP_E_IN_USE', 'ERROR_ACCESS_DENIED' or '0x8032000a'."},
    {"error_for", mod_error_for, METH_VARARGS,
     "error_for(code, detail=None) -> WfpError: the exception instance the binding raises for a code."},
    {"layers", mod_layers, METH_NOARGS, "layers() -> list[Layer]: the built-in layers, sorted by id."},
    {"layer", mod_layer, METH_O,
     "layer(name_or_id) -> Layer: 'ALE_AUTH_CONNECT_V4', 'FWPM_LAYER_...', '{guid}' or a run-time id."},
    {"condition_fields", mod_condition_fields, METH_NOARGS,
     "condition_fields() -> dict[str, UUID]: every FWPM_CONDITION_* (short name) and its key, aliases included."},
    {"builtin_sublayers", mod_builtin_sublayers, METH_NOARGS,
     "builtin_sublayers() -> dict[str, (UUID, weight)]: the built-in sublayers."},
    {"guid_from_name", mod_guid_from_name, METH_VARARGS,
     "guid_from_name(kind, name) -> UUID: the key a scenario derives for an object named without a key."},
    {"parse_guid", mod_parse_guid, METH_O, "parse_guid(text_or_uuid) -> UUID."},
    {"parse_sid", mod_parse_sid, METH_O, "parse_sid('S-1-5-18' or an SDDL alias like 'BA') -> bytes (binary SID)."},
    {"format_sid", mod_format_sid, METH_O, "format_sid(bytes) -> str: a binary SID as S-1-..."},
    {"parse_sddl", mod_parse_sddl, METH_O, "parse_sddl(text) -> bytes: a self-relative security descriptor."},
    {"format_sd", mod_format_sd, METH_O, "format_sd(bytes) -> str: a security descriptor as SDDL."},
    {"app_id", mod_app_id, METH_O,
     "app_id(path) -> bytes: ALE_APP_ID of a Windows path (lower-case NT device path, UTF-16LE, NUL-terminated)."},
    {"format_app_id", mod_format_app_id, METH_O, "format_app_id(bytes) -> str: an ALE_APP_ID blob as text."},
    {"token", mod_token, METH_O, "token(sids) -> bytes: a token blob (user SID first, then its groups)."},
    {"access_check", mod_access_check, METH_VARARGS,
     "access_check(sd, token, desired) -> bool: does the DACL grant every bit of `desired` to the token?"},
    {"yaml_load", (PyCFunction)(void (*)(void))mod_yaml_load, METH_VARARGS | METH_KEYWORDS,
     "yaml_load(path=None, *, text=None, name='<string>'): a YAML document read by wfpsim's own loader, as\n"
     "dicts (file order), lists, None/bool/int/str for plain scalars and Quoted for quoted ones."},
    {"policy_file", mod_policy_file, METH_O,
     "policy_file(path) -> dict: the policy mapping of a file (a scenario's policy: or a bare policy)."},
    {"_set_classes", (PyCFunction)(void (*)(void))mod_set_classes, METH_VARARGS | METH_KEYWORDS,
     "Internal: the pure-Python classes the module builds (Condition, Quoted)."},
    {NULL, NULL, 0, NULL}};

/* ---- state and initialisation ------------------------------------------- */

static struct PyModuleDef module_def;

pywfp_state *pywfp_state_of(PyObject *module)
{
    return (pywfp_state *)PyModule_GetState(module);
}

PyObject *pywfp_module_of_type(PyTypeObject *type)
{
    PyObject *mro = type->tp_mro;
    for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!PyType_HasFeature(t, Py_TPFLAGS_HEAPTYPE)) continue;
        PyObject *m = PyType_GetModule(t);
        if (m && PyModule_GetDef(m) == &module_def) return m;
        PyErr_Clear();
    }
    PyErr_Format(PyExc_TypeError, "%R is not a _wfpsim type", (PyObject *)type);
    return NULL;
}

static int add_type(PyObject *m, PyTypeObject *(*make)(PyObject *), PyTypeObject **slot)
{
    *slot = make(m);
    if (!*slot) return -1;
    return PyModule_AddType(m, *slot);
}

static int import_class(const char *module, const char *name, PyObject **slot)
{
    PyObject *mod = PyImport_ImportModule(module);
    if (!mod) return -1;
    *slot = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return *slot ? 0 : -1;
}

static int new_exception(PyObject *m, const char *name, const char *doc, PyObject *bases, PyObject **slot)
{
    char qual[96];
    snprintf(qual, sizeof qual, "wfpsim.%s", name);
    *slot = PyErr_NewExceptionWithDoc(qual, doc, bases, NULL);
    if (!*slot) return -1;
    return PyModule_AddObjectRef(m, name, *slot);
}

static int add_exceptions(PyObject *m, pywfp_state *st)
{
    static const struct {
        const char *name, *builtin, *doc;
    } fams[] = {
#define X(id, name, builtin, doc) {name, builtin, doc},
        PYWFP_FAMILIES(X)
#undef X
    };
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    for (int i = 0; i < FAM_COUNT; i++) {
        PyObject *bases;
        if (i == FAM_BASE) {
            bases = Py_NewRef(PyExc_Exception);
        } else if (fams[i].builtin) {
            PyObject *b = PyDict_GetItemString(builtins, fams[i].builtin);
            if (!b) return -1;
            bases = PyTuple_Pack(2, st->families[FAM_BASE], b);
        } else {
            bases = Py_NewRef(st->families[FAM_BASE]);
        }
        if (!bases) return -1;
        int rc = new_exception(m, fams[i].name, fams[i].doc, bases, &st->families[i]);
        Py_DECREF(bases);
        if (rc < 0) return -1;
    }
    /* each family lists its codes: the classes document themselves */
    for (int i = 0; i < FAM_COUNT; i++) {
        PyObject *codes = PyList_New(0);
        if (!codes) return -1;
        for (size_t k = 0; k < NRESULT_CODES; k++) {
            if (pywfp_family_of(result_codes[k].code) != i) continue;
            if (append_str(codes, result_codes[k].name) < 0) {
                Py_DECREF(codes);
                return -1;
            }
        }
        PyObject *t = PyList_AsTuple(codes);
        Py_DECREF(codes);
        if (set_attr(st->families[i], "codes", t) < 0) return -1;
    }
    if (new_exception(m, "CalloutError", "A Python callout raised during a classify; the exception is the __cause__.",
                      PyExc_RuntimeError, &st->callout_error) < 0)
        return -1;
    if (new_exception(m, "PolicyError", "An object body or condition the policy loader refused (.messages).",
                      PyExc_ValueError, &st->policy_error) < 0)
        return -1;
    if (new_exception(m, "ScenarioError", "A scenario or YAML file that cannot be used (.messages, FILE:LINE:COL).",
                      PyExc_ValueError, &st->scenario_error) < 0)
        return -1;
    return 0;
}

static int add_constants(PyObject *m)
{
    PyObject *codes = PyDict_New();
    if (!codes) return -1;
    for (size_t k = 0; k < NRESULT_CODES; k++) {
        PyObject *v = PyLong_FromUnsignedLong(result_codes[k].code);
        if (!v || PyDict_SetItemString(codes, result_codes[k].name, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(codes);
            return -1;
        }
        Py_DECREF(v);
    }
    if (PyModule_AddObject(m, "RESULT_CODES", codes) < 0) {
        Py_DECREF(codes);
        return -1;
    }
    PyObject *reasons = PyList_New(0);
    if (!reasons) return -1;
    for (uint32_t r = 0; r < WFP_REASON_COUNT_; r++) {
        if (append_str(reasons, wfp_reason_name(r)) < 0) {
            Py_DECREF(reasons);
            return -1;
        }
    }
    PyObject *t = PyList_AsTuple(reasons);
    Py_DECREF(reasons);
    if (!t || PyModule_AddObject(m, "VERDICT_REASONS", t) < 0) {
        Py_XDECREF(t);
        return -1;
    }
    return 0;
}

static int module_exec(PyObject *m)
{
    pywfp_state *st = pywfp_state_of(m);
    if (import_class("ipaddress", "IPv4Address", &st->ipv4_address) < 0 ||
        import_class("ipaddress", "IPv6Address", &st->ipv6_address) < 0 ||
        import_class("ipaddress", "IPv4Network", &st->ipv4_network) < 0 ||
        import_class("ipaddress", "IPv6Network", &st->ipv6_network) < 0 ||
        import_class("uuid", "UUID", &st->uuid) < 0)
        return -1;
    if (add_exceptions(m, st) < 0) return -1;
    if (pywfp_records_init(m, st) < 0) return -1;
    if (add_type(m, pywfp_engine_type_new, &st->engine_type) < 0) return -1;
    if (add_type(m, pywfp_session_type_new, &st->session_type) < 0) return -1;
    if (add_type(m, pywfp_classify_out_type_new, &st->classify_out_type) < 0) return -1;
    if (add_type(m, pywfp_scenario_type_new, &st->scenario_type) < 0) return -1;
    return add_constants(m);
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    pywfp_state *st = pywfp_state_of(m);
    if (!st) return 0;
    Py_VISIT(st->engine_type);
    Py_VISIT(st->session_type);
    Py_VISIT(st->classify_out_type);
    Py_VISIT(st->scenario_type);
    for (int i = 0; i < REC_COUNT; i++) Py_VISIT(st->records[i]);
    for (int i = 0; i < FAM_COUNT; i++) Py_VISIT(st->families[i]);
    Py_VISIT(st->callout_error);
    Py_VISIT(st->policy_error);
    Py_VISIT(st->scenario_error);
    Py_VISIT(st->ipv4_address);
    Py_VISIT(st->ipv6_address);
    Py_VISIT(st->ipv4_network);
    Py_VISIT(st->ipv6_network);
    Py_VISIT(st->uuid);
    Py_VISIT(st->condition);
    Py_VISIT(st->quoted);
    return 0;
}

static int module_clear(PyObject *m)
{
    pywfp_state *st = pywfp_state_of(m);
    if (!st) return 0;
    Py_CLEAR(st->engine_type);
    Py_CLEAR(st->session_type);
    Py_CLEAR(st->classify_out_type);
    Py_CLEAR(st->scenario_type);
    for (int i = 0; i < REC_COUNT; i++) Py_CLEAR(st->records[i]);
    for (int i = 0; i < FAM_COUNT; i++) Py_CLEAR(st->families[i]);
    Py_CLEAR(st->callout_error);
    Py_CLEAR(st->policy_error);
    Py_CLEAR(st->scenario_error);
    Py_CLEAR(st->ipv4_address);
    Py_CLEAR(st->ipv6_address);
    Py_CLEAR(st->ipv4_network);
    Py_CLEAR(st->ipv6_network);
    Py_CLEAR(st->uuid);
    Py_CLEAR(st->condition);
    Py_CLEAR(st->quoted);
    return 0;
}

static void module_free(void *m)
{
    pywfp_state *st = pywfp_state_of((PyObject *)m);
    module_clear((PyObject *)m);
    if (st) {
        wfp_graph_renderer_destroy(st->renderer);
        st->renderer = NULL;
    }
}

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_wfpsim",
    "The C side of the wfpsim Python module: a thin layer over the wfpsim engine (core/) and\n"
    "simulator (sim/). Import `wfpsim`, not this module.",
    sizeof(pywfp_state),
    module_methods,
    NULL,
    module_traverse,
    module_clear,
    module_free,
};

PyMODINIT_FUNC PyInit__wfpsim(void);
PyMODINIT_FUNC PyInit__wfpsim(void)
{
    /* single-phase initialisation: Py_mod_exec would need a function
     * pointer in a void * slot of a static table */
    PyObject *m = PyModule_Create(&module_def);
    if (m && module_exec(m) < 0) Py_CLEAR(m);
    return m;
}
