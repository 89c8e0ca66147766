/* wfp_catalog.h — the built-in WFP catalogue: layers with their ordered
 * fields, condition fields with their aliases, built-in sublayers,
 * providers and callouts.
 *
 * Everything comes from one generated table (catalog_data.inc, written by
 * tools/gen_catalog.py) that matches the newest Windows build we have a
 * dump of: same layer ids, same fields in the same order, same data types.
 * The tables are const: there is no state to set up or tear down. */
#ifndef WFP_CATALOG_H
#define WFP_CATALOG_H

#include "wfp_value.h"

typedef struct wfp_condition_info {
    const char *name; /* "FWPM_CONDITION_IP_LOCAL_PORT" */
    wfp_guid key;
} wfp_condition_info;

typedef struct wfp_layer_field {
    const wfp_condition_info *condition;
    uint32_t field_type; /* FWPM_FIELD_RAW_DATA / IP_ADDRESS / FLAGS */
    uint32_t data_type;  /* FWP_DATA_TYPE of the incoming value */
} wfp_layer_field;

typedef struct wfp_layer_info {
    const char *name;         /* "FWPM_LAYER_ALE_AUTH_CONNECT_V4" (or "{guid}" for unnamed reserved layers) */
    const char *display_name; /* "ALE Connect v4 Layer" */
    wfp_guid key;
    uint16_t id;              /* FWPS run-time id */
    uint32_t flags;           /* FWPM_LAYER_FLAG_* */
    wfp_guid default_sublayer;
    uint16_t num_fields;
    const wfp_layer_field *fields; /* FWPS field index order */
    int16_t base_layer_id;    /* for *_DISCARD layers: the base layer's id; else -1 */
} wfp_layer_info;

typedef struct wfp_builtin_sublayer {
    const char *name; /* "FWPM_SUBLAYER_UNIVERSAL" */
    wfp_guid key;
    uint16_t weight;  /* as a real Windows BFE reports it */
} wfp_builtin_sublayer;

typedef struct wfp_builtin_provider {
    const char *name;
    wfp_guid key;
} wfp_builtin_provider;

typedef struct wfp_builtin_callout {
    const char *name;
    wfp_guid key;
    uint16_t layer_id; /* applicable layer */
} wfp_builtin_callout;

/* Layers, sorted by id; ids are 0..count-1 with no gaps. */
size_t wfp_catalog_layer_count(void);
const wfp_layer_info *wfp_catalog_layer_by_id(uint16_t id);
const wfp_layer_info *wfp_catalog_layer_by_key(const wfp_guid *key);
/* "ALE_AUTH_CONNECT_V4", "FWPM_LAYER_ALE_AUTH_CONNECT_V4" or "{guid}", any case. */
const wfp_layer_info *wfp_catalog_layer_by_name(const char *name);

/* Index of a field in a layer's schema (aliases resolve through their
 * shared GUID), or -1 when the layer has no such field. */
int wfp_catalog_field_index(const wfp_layer_info *layer, const wfp_guid *field_key);

/* Condition fields: every FWPM_CONDITION_* we know, including those that
 * appear in no layer (net-event templates) and the alias names, which share
 * their GUID with the field they alias. */
size_t wfp_catalog_condition_count(void);
const wfp_condition_info *wfp_catalog_condition_at(size_t i);
/* The canonical (non-alias) entry for a GUID. */
const wfp_condition_info *wfp_catalog_condition_by_key(const wfp_guid *key);
/* "IP_REMOTE_PORT", "FWPM_CONDITION_IP_REMOTE_PORT", "ICMP_TYPE" (alias) or "{guid}", any case. */
const wfp_condition_info *wfp_catalog_condition_by_name(const char *name);

size_t wfp_catalog_sublayer_count(void);
const wfp_builtin_sublayer *wfp_catalog_sublayer_at(size_t i);
const wfp_builtin_sublayer *wfp_catalog_sublayer_by_name(const char *name); /* with or without FWPM_SUBLAYER_ */
size_t wfp_catalog_provider_count(void);
const wfp_builtin_provider *wfp_catalog_provider_at(size_t i);
size_t wfp_catalog_callout_count(void);
const wfp_builtin_callout *wfp_catalog_callout_at(size_t i);
const wfp_builtin_callout *wfp_catalog_callout_by_name(const char *name);

#endif
