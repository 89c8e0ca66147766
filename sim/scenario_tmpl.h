/* scenario_tmpl.h — step templates (enum, create_enum_handle, subscribe,
 * enum_net_events) as engine templates. Private to the scenario runner. */
#ifndef WFP_SCENARIO_TMPL_H
#define WFP_SCENARIO_TMPL_H

#include "policy.h"
#include "wfp_catalog.h"
#include "wfp_enum.h"
#include "wfp_netevent.h"

/* One parsed template; the member for `object` is filled in and borrows
 * the rest of the struct. */
typedef struct wfps_tmpl {
    uint32_t object; /* WFP_OBJECT_*; WFP_OBJECT_NET_EVENTS: net events */
    bool given;      /* a template: key was there */
    wfp_filter_enum_template filter;
    wfp_callout_enum_template callout;
    wfp_sublayer_enum_template sublayer;
    wfp_net_event_template net;
    wfp_guid provider, callout_key;
    wfp_policy_conditions conds;
    wfp_condition *all; /* net events: conds plus the type */
} wfps_tmpl;

/* The keys a template for `object` takes (NULL: none), for load-time checks. */
const char *const *wfps_tmpl_keys(uint32_t object);
/* `n` NULL: no template. Names resolve through `p`. Free with wfps_tmpl_free,
 * also after a failure. */
bool wfps_tmpl_parse(wfps_tmpl *t, uint32_t object, const wfp_policy *p, const wfp_yaml_node *n,
                     wfp_yaml_errors *err);
void wfps_tmpl_free(wfps_tmpl *t);

#endif
