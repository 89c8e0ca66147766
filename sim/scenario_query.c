/* scenario_query.c — what the enumeration and security steps ask the
 * engine (Fwpm*CreateEnumHandle0 / Fwpm*Enum0, Fwpm*GetSecurityInfoByKey0 /
 * SetSecurityInfoByKey0), with objects named as the scenario names them. */
#include "scenario_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENUM_PAGE 1024u

uint32_t wfps_enum_open(wfp_session *s, uint32_t object, const wfps_tmpl *t, wfp_enum **out)
{
    bool given = t && t->given;
    switch (object) {
    case WFP_OBJECT_FILTER: return wfp_filter_enum_create(s, given ? &t->filter : NULL, out);
    case WFP_OBJECT_CALLOUT: return wfp_callout_enum_create(s, given ? &t->callout : NULL, out);
    case WFP_OBJECT_SUBLAYER: return wfp_sublayer_enum_create(s, given ? &t->sublayer : NULL, out);
    case WFP_OBJECT_PROVIDER: return wfp_provider_enum_create(s, out);
    default: return FWP_E_INVALID_ENUMERATOR;
    }
}

static bool push_name(wfps_names *n, const char *name)
{
    if (n->count == n->cap) {
        size_t ncap = n->cap ? n->cap * 2 : 16;
        char **v = realloc(n->v, ncap * sizeof *v);
        if (!v) return false;
        n->v = v;
        n->cap = ncap;
    }
    size_t len = strlen(name) + 1;
    if (!(n->v[n->count] = malloc(len))) return false;
    memcpy(n->v[n->count++], name, len);
    return true;
}

void wfps_names_free(wfps_names *n)
{
    for (size_t i = 0; i < n->count; i++) free(n->v[i]);
    free(n->v);
    memset(n, 0, sizeof *n);
}

/* The scenario's name of an object, else its display name, else its key. */
static const char *object_name(const wfp_policy *p, uint32_t object, const wfp_guid *key, const char *display,
                               char *buf, size_t n)
{
    const char *name = wfp_policy_name_of_key(p, (wfp_policy_kind)object, key);
    if (name) return name;
    if (display) return display;
    (void)n; /* buf holds WFP_GUID_STRLEN */
    wfp_guid_format(key, buf);
    return buf;
}

static const char *filter_label(const wfp_policy *p, const wfp_filter *f, char *buf, size_t n)
{
    const char *name = wfp_policy_filter_name(p, f->filter_id);
    if (name) return name;
    if (f->display.name) return f->display.name;
    snprintf(buf, n, "#%llu", (unsigned long long)f->filter_id);
    return buf;
}

/* One page of entries as names; *got says how many. */
static uint32_t page(wfp_session *s, const wfp_policy *p, uint32_t object, wfp_enum *h, wfps_names *out,
                     uint32_t *got)
{
    char buf[64];
    const void *const *entries = NULL;
    uint32_t rc;
    switch (object) {
    case WFP_OBJECT_FILTER:
        rc = wfp_filter_enum_next(s, h, ENUM_PAGE, (const wfp_filter *const **)&entries, got);
        break;
    case WFP_OBJECT_CALLOUT:
        rc = wfp_callout_enum_next(s, h, ENUM_PAGE, (const wfp_callout *const **)&entries, got);
        break;
    case WFP_OBJECT_SUBLAYER:
        rc = wfp_sublayer_enum_next(s, h, ENUM_PAGE, (const wfp_sublayer *const **)&entries, got);
        break;
    default:
        rc = wfp_provider_enum_next(s, h, ENUM_PAGE, (const wfp_provider *const **)&entries, got);
        break;
    }
    for (uint32_t i = 0; !rc && i < *got; i++) {
        const char *name;
        if (object == WFP_OBJECT_FILTER) {
            name = filter_label(p, entries[i], buf, sizeof buf);
        } else if (object == WFP_OBJECT_CALLOUT) {
            const wfp_callout *c = entries[i];
            name = object_name(p, object, &c->key, c->display.name, buf, sizeof buf);
        } else if (object == WFP_OBJECT_SUBLAYER) {
            const wfp_sublayer *sl = entries[i];
            name = object_name(p, object, &sl->key, sl->display.name, buf, sizeof buf);
        } else {
            const wfp_provider *pr = entries[i];
            name = object_name(p, object, &pr->key, pr->display.name, buf, sizeof buf);
        }
        if (!push_name(out, name)) return ERROR_NOT_ENOUGH_MEMORY;
    }
    return rc;
}

uint32_t wfps_enum_drain(wfp_session *s, const wfp_policy *p, uint32_t object, wfp_enum *h, wfps_names *out)
{
    uint32_t got = ENUM_PAGE, rc = ERROR_SUCCESS;
    /* fewer than asked for: the enumeration is exhausted (SDK FwpmFilterEnum0) */
    while (!rc && got == ENUM_PAGE) rc = page(s, p, object, h, out, &got);
    return rc;
}

void wfps_names_format(const char *const *v, size_t n, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = 0;
    len += (size_t)snprintf(buf + len, cap - len, "[");
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", v[i]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

bool wfps_security_key(const wfp_policy *p, uint32_t object, const char *name, wfp_guid *key)
{
    if (object > WFP_OBJECT_FILTER) return false;
    if (!wfp_policy_key(p, (wfp_policy_kind)object, name, key))
        wfp_guid_from_name(wfp_policy_kind_name((wfp_policy_kind)object), name, key);
    return true;
}

uint32_t wfps_sddl_info(const char *sddl)
{
    uint32_t info = 0;
    if (strstr(sddl, "O:")) info |= OWNER_SECURITY_INFORMATION;
    if (strstr(sddl, "G:")) info |= GROUP_SECURITY_INFORMATION;
    if (strstr(sddl, "D:")) info |= DACL_SECURITY_INFORMATION;
    return info;
}
