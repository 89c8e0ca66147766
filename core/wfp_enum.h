/* wfp_enum.h — enumeration of BFE objects with enum templates
 * (FwpmXxxCreateEnumHandle0 / FwpmXxxEnum0 / FwpmXxxDestroyEnumHandle0).
 *
 * An enumeration handle is a snapshot taken at creation: objects added
 * later are not returned; objects deleted since are skipped (sim-defined:
 * Windows hands out copies). Only objects the session may READ are
 * returned; creating a handle needs FWPM_ACTRL_ENUM on the object type's
 * container. Entries are lent until the next call on the same handle. */
#ifndef WFP_ENUM_H
#define WFP_ENUM_H

#include "wfp_engine.h"

/* FWP_FILTER_ENUM_TYPE */
enum { FWP_FILTER_ENUM_FULLY_CONTAINED = 0, FWP_FILTER_ENUM_OVERLAPPING = 1 };

/* FWPM_FILTER_ENUM_TEMPLATE0.flags */
#define FWP_FILTER_ENUM_FLAG_BEST_TERMINATING_MATCH 0x00000001u
#define FWP_FILTER_ENUM_FLAG_SORTED 0x00000002u
#define FWP_FILTER_ENUM_FLAG_BOOTTIME_ONLY 0x00000004u
#define FWP_FILTER_ENUM_FLAG_INCLUDE_BOOTTIME 0x00000008u
#define FWP_FILTER_ENUM_FLAG_INCLUDE_DISABLED 0x00000010u

/* FWPM_FILTER_ENUM_TEMPLATE0 */
typedef struct wfp_filter_enum_template {
    const wfp_guid *provider_key; /* optional */
    wfp_guid layer_key;           /* required by Windows; zero: every layer (wfpsim extension) */
    uint32_t enum_type;           /* FWP_FILTER_ENUM_* */
    uint32_t flags;               /* FWP_FILTER_ENUM_FLAG_* */
    uint32_t num_conditions;      /* must be distinct fields */
    const wfp_condition *conditions;
    uint32_t action_mask;         /* filters whose action has any of these bits; 0xFFFFFFFF: any */
    const wfp_guid *callout_key;  /* needs FWP_ACTION_FLAG_CALLOUT in action_mask */
} wfp_filter_enum_template;

/* FWPM_CALLOUT_ENUM_TEMPLATE0 */
typedef struct wfp_callout_enum_template {
    const wfp_guid *provider_key;
    wfp_guid layer_key; /* zero: every layer */
} wfp_callout_enum_template;

/* FWPM_SUBLAYER_ENUM_TEMPLATE0 */
typedef struct wfp_sublayer_enum_template {
    const wfp_guid *provider_key;
} wfp_sublayer_enum_template;

typedef struct wfp_enum wfp_enum;

/* Templates are validated on creation: FWP_E_INVALID_ENUMERATOR for a
 * bad enum type or flags, FWP_E_DUPLICATE_CONDITION for two conditions on
 * one field, FWP_E_CONDITION_NOT_FOUND / type errors for conditions that
 * do not fit the layer, FWP_E_NEVER_MATCH for a template that matches
 * nothing (a callout key without the callout action bit), FWP_E_LAYER_NOT_FOUND. */
uint32_t wfp_filter_enum_create(wfp_session *s, const wfp_filter_enum_template *tmpl, wfp_enum **out);
uint32_t wfp_filter_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_filter *const **entries,
                              uint32_t *returned);
uint32_t wfp_callout_enum_create(wfp_session *s, const wfp_callout_enum_template *tmpl, wfp_enum **out);
uint32_t wfp_callout_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_callout *const **entries,
                               uint32_t *returned);
uint32_t wfp_sublayer_enum_create(wfp_session *s, const wfp_sublayer_enum_template *tmpl, wfp_enum **out);
uint32_t wfp_sublayer_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_sublayer *const **entries,
                                uint32_t *returned);
uint32_t wfp_provider_enum_create(wfp_session *s, wfp_enum **out);
uint32_t wfp_provider_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_provider *const **entries,
                                uint32_t *returned);
uint32_t wfp_layer_enum_create(wfp_session *s, wfp_enum **out);
uint32_t wfp_layer_enum_next(wfp_session *s, wfp_enum *h, uint32_t requested, const wfp_layer_info *const **entries,
                             uint32_t *returned);
/* Any kind of handle; accepts NULL. FWP_E_INVALID_ENUMERATOR for a handle
 * of another session. */
uint32_t wfp_enum_destroy(wfp_session *s, wfp_enum *h);

/* Does a filter match a template? (Also used to filter change
 * notifications.) The template must have been validated. */
bool wfp_filter_template_match(const wfp_filter_enum_template *tmpl, const wfp_filter *f);
/* Validates a template for a session's engine (see wfp_filter_enum_create). */
uint32_t wfp_filter_template_validate(wfp_engine *e, const wfp_filter_enum_template *tmpl);

#endif
