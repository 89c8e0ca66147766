/* scenario_query.h — enumerations and security descriptors for the
 * scenario steps, objects named as the scenario names them. Private. */
#ifndef WFP_SCENARIO_QUERY_H
#define WFP_SCENARIO_QUERY_H

#include "scenario_tmpl.h"

/* Names in enumeration order (owned). */
typedef struct wfps_names {
    char **v;
    size_t count, cap;
} wfps_names;

/* Fwpm<object>CreateEnumHandle0 with the template (NULL or not given: none). */
uint32_t wfps_enum_open(wfp_session *s, uint32_t object, const wfps_tmpl *t, wfp_enum **out);
/* Every entry left on the handle, as names: the policy's name, else the
 * display name, else the key (filters: "#id"). */
uint32_t wfps_enum_drain(wfp_session *s, const wfp_policy *p, uint32_t object, wfp_enum *h, wfps_names *out);
void wfps_names_free(wfps_names *n);
/* "[a, b, c]", truncated to cap. */
void wfps_names_format(const char *const *v, size_t n, char *buf, size_t cap);

/* The key of a named provider, sublayer, callout or filter for the
 * security calls (unknown names give the key derived from the name). */
bool wfps_security_key(const wfp_policy *p, uint32_t object, const char *name, wfp_guid *key);
/* The *_SECURITY_INFORMATION bits of the parts an SDDL string carries. */
uint32_t wfps_sddl_info(const char *sddl);

#endif
