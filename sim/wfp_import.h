/* wfp_import.h — real Windows WFP state in wfpsim: `netsh wfp show state`
 * (wfpstate.xml) and `netsh wfp show filters` (filters.xml) dumps.
 *
 * Three steps, each usable alone:
 *
 *  1. parse: a dump (UTF-8, with or without BOM; the trailing
 *     <firewallState> element of newer builds is ignored: only the first
 *     root element is read) becomes a wfp_import_model: providers,
 *     sublayers, callouts and filters with every field netsh prints, values
 *     in their binary FWP form. Keys may be symbolic (FWPM_SUBLAYER_…) or
 *     raw GUIDs (older builds print some that way); both resolve through
 *     the catalogue. The XML is treated as hostile: libxml2 without network,
 *     DTDs or entity expansion, and bounded sizes.
 *  2. apply: the model goes into an engine through a session. Built-in
 *     objects are already there and are skipped; filters keep the ids and
 *     effective weights Windows recorded (wfp_filter_add_with_id). Callouts
 *     are added but no driver registers them, so their filters arbitrate as
 *     filters of unregistered callouts, as on a machine without the driver.
 *     What the engine cannot hold is counted in a report, never dropped
 *     silently.
 *  3. export: the model as a scenario file (docs/scenario-format.md) that
 *     `wfpsim run`, `check` and `classify --policy` accept, followed by a
 *     machine-readable record (YAML comments) of what the policy format
 *     cannot carry; wfp_import_read_export reads both back, which is how
 *     the round trip import → export → re-import is checked
 *     (docs/import.md).
 *
 * Plus the weight check: for every filter whose weight is FWP_EMPTY or an
 * FWP_UINT8 range, wfpsim's effective weight against the one Windows
 * recorded.
 *
 * No global state; everything a model holds lives until
 * wfp_import_model_free. */
#ifndef WFP_IMPORT_H
#define WFP_IMPORT_H

#include <stdio.h>

#include "wfp_engine.h"

/* ---- limits (hostile input) -------------------------------------------- */
#define WFP_IMPORT_MAX_FILE (512u * 1024u * 1024u) /* bytes of XML */
#define WFP_IMPORT_MAX_OBJECTS 4000000u            /* objects of all kinds */
#define WFP_IMPORT_MAX_CONDITIONS 65536u           /* per filter */
#define WFP_IMPORT_MAX_BLOB (1024u * 1024u)        /* bytes of one value */

/* ---- the model ------------------------------------------------------------ */

/* A key as the dump wrote it: a GUID, or a symbolic name (FWPM_LAYER_…). A
 * symbol the catalogue does not know cannot be turned into its real GUID:
 * `resolved` is false and `key` is derived from the symbol
 * (wfp_guid_from_name("import-symbol", symbol)), so it is still unique. */
typedef struct wfp_import_ref {
    wfp_guid key;
    const char *symbol; /* NULL when the dump gave a GUID */
    bool resolved;
} wfp_import_ref;

/* A flags list (<flags><item>NAME</item>…): names wfpsim knows become
 * bits, the others are kept by name (e.g. FWPM_FILTER_FLAG_HAS_FILTER_ORIGIN,
 * which no public header defines). */
typedef struct wfp_import_flags {
    uint32_t bits;
    uint32_t num_unknown;
    const char **unknown;
} wfp_import_flags;

/* Why an object cannot go into the engine as it is (bits). */
enum {
    WFP_IMPORT_BAD_LAYER = 0x01,     /* layer not in the catalogue */
    WFP_IMPORT_BAD_FIELD = 0x02,     /* a condition field unknown, or not in the layer's schema */
    WFP_IMPORT_BAD_VALUE = 0x04,     /* a value of a type or form wfpsim cannot read */
    WFP_IMPORT_BAD_REFERENCE = 0x08, /* a symbolic key the catalogue does not know */
    WFP_IMPORT_BAD_OTHER = 0x10      /* anything else the parser could not read */
};

typedef struct wfp_import_provider {
    wfp_import_ref key;
    const char *name;
    const char *description; /* NULL when empty */
    wfp_import_flags flags;  /* FWPM_PROVIDER_FLAG_* */
    wfp_byte_blob data;
    const char *service_name; /* NULL when empty */
    bool builtin;             /* in the catalogue: the engine has it already */
    bool synthesized;         /* not listed in the dump: made up for a filter's reference (filters.xml) */
} wfp_import_provider;

typedef struct wfp_import_sublayer {
    wfp_import_ref key;
    const char *name;
    const char *description;
    wfp_import_flags flags; /* FWPM_SUBLAYER_FLAG_* */
    bool has_provider;
    wfp_import_ref provider;
    wfp_byte_blob data;
    uint16_t weight;
    bool builtin;
    bool synthesized; /* not listed in the dump (filters.xml): its weight is unknown (0) */
} wfp_import_sublayer;

typedef struct wfp_import_callout {
    wfp_import_ref key;
    const char *name;
    const char *description;
    wfp_import_flags flags; /* FWPM_CALLOUT_FLAG_*; REGISTERED: a driver had registered it on Windows */
    bool has_provider;
    wfp_import_ref provider;
    wfp_byte_blob data;
    wfp_import_ref layer; /* applicableLayer */
    uint32_t callout_id;  /* as Windows numbered it (the engine numbers its own) */
    bool builtin;
    bool synthesized; /* not listed in the dump: made up for a filter's callout action (filters.xml) */
    uint32_t problems; /* WFP_IMPORT_BAD_* */
} wfp_import_callout;

typedef struct wfp_import_condition {
    wfp_import_ref field;
    uint32_t match_type; /* FWP_MATCH_* */
    wfp_condition_value value;
    /* When the value could not be read: the <conditionValue> element as
     * XML (kept verbatim), the data type it names (FWP_DATA_TYPE_MAX if
     * none) and why; otherwise all NULL / 0. */
    const char *raw;
    uint32_t raw_type;
    const char *why;
} wfp_import_condition;

typedef struct wfp_import_filter {
    wfp_import_ref key;
    const char *name;
    const char *description;
    wfp_import_flags flags; /* FWPM_FILTER_FLAG_* */
    bool has_provider;
    wfp_import_ref provider;
    wfp_byte_blob data;
    wfp_import_ref layer;
    wfp_import_ref sublayer;
    wfp_value weight; /* FWP_EMPTY, FWP_UINT8 or FWP_UINT64 */
    uint32_t num_conditions;
    wfp_import_condition *conditions;
    uint32_t action_type; /* FWP_ACTION_* */
    bool has_action_key;  /* calloutKey / filterType given */
    wfp_import_ref action_key;
    bool has_raw_context;
    uint64_t raw_context;
    bool has_provider_context;
    wfp_import_ref provider_context;
    uint64_t filter_id;
    bool has_effective_weight;
    uint64_t effective_weight;
    uint32_t problems; /* WFP_IMPORT_BAD_* */
} wfp_import_filter;

/* A layer as the dump describes it (its field list is the schema of that
 * Windows build, which the automatic weights depend on). Not imported:
 * layers are built in; kept for the report. */
typedef struct wfp_import_layer {
    wfp_import_ref key;
    uint16_t layer_id;
    uint32_t num_fields;
    wfp_import_ref *fields;
} wfp_import_layer;

enum { WFP_IMPORT_FORMAT_STATE = 0, WFP_IMPORT_FORMAT_FILTERS = 1, WFP_IMPORT_FORMAT_EXPORT = 2 };

typedef struct wfp_import_model {
    uint32_t format; /* WFP_IMPORT_FORMAT_* */
    const char *source; /* file name given to the parser */
    size_t num_providers, num_sublayers, num_callouts, num_filters, num_layers;
    wfp_import_provider *providers;
    wfp_import_sublayer *sublayers;
    wfp_import_callout *callouts;
    wfp_import_filter *filters; /* in dump order (per layer, ascending id) */
    wfp_import_layer *layers;
    /* listed in the dump but not modelled (counted for the report) */
    size_t num_sessions;           /* sessions (their dynamic objects come in as static) */
    size_t num_provider_contexts;  /* provider contexts (IPsec/IKE policies, …): not simulated */
    size_t num_other_sections;     /* other top-level sections (SAs, statistics, endpoints…) */
    void *arena_;                  /* private */
} wfp_import_model;

void wfp_import_model_free(wfp_import_model *m); /* accepts NULL */

/* ---- parse ---------------------------------------------------------------- */

/* Parses a dump held in memory. `name` names it in messages and in
 * model->source. On failure returns NULL and writes a one-line reason
 * ("NAME:LINE: …") into err (n bytes). */
wfp_import_model *wfp_import_parse_memory(const char *name, const void *data, size_t size, char *err, size_t n);
wfp_import_model *wfp_import_parse_file(const char *path, char *err, size_t n);

/* Does the file look like an XML dump (its first non-blank character,
 * after an optional BOM, is '<')? For commands that take a policy that is
 * either YAML or a dump. */
bool wfp_import_looks_like_dump(const char *path);

/* ---- apply ---------------------------------------------------------------- */

/* What one apply did. Counters per object type, then what could not be
 * represented (each a count; details go to the optional log). */
typedef struct wfp_import_report {
    size_t providers_added, sublayers_added, callouts_added, filters_added;
    size_t builtin_providers, builtin_sublayers, builtin_callouts; /* skipped: already in the engine */
    size_t providers_failed, sublayers_failed, callouts_failed, filters_failed; /* the engine refused them */
    size_t filters_bad_layer;     /* on a layer not in the catalogue */
    size_t filters_bad_field;     /* a condition on a field the layer (catalogue) lacks */
    size_t filters_bad_value;     /* a value wfpsim cannot read */
    size_t filters_bad_reference; /* a symbolic key wfpsim does not know */
    size_t filters_no_callout;    /* their callout could not be added */
    size_t callouts_unregistered; /* added without a driver (REGISTERED on Windows: see next) */
    size_t callouts_were_registered; /* …of which a driver had registered on Windows */
    size_t callouts_synthesized;  /* not listed in the dump (filters.xml) */
    size_t sublayer_weight_moved; /* the engine gave another weight (collision) */
    size_t sublayers_synthesized; /* referenced by filters but not listed (filters.xml): weight unknown */
    size_t provider_context_refs; /* filters referencing a provider context (not simulated) */
    size_t unknown_flags;         /* objects carrying flag names wfpsim does not know (kept, not applied) */
    size_t output_only_flags;     /* objects with output-only flags (DISABLED, INDEXED, REGISTERED…): not settable */
    size_t provider_contexts;     /* provider contexts in the dump: not simulated */
    size_t sessions;              /* sessions in the dump: not simulated */
    size_t layer_schema_differs;  /* dump layers whose field list differs from the catalogue */
} wfp_import_report;

/* Adds the model through `s` (providers, sublayers, callouts, filters, in
 * that order). Objects the engine refuses are counted and named in `log`
 * (optional, one line each) and the rest goes on. Returns false only when
 * memory runs out. */
bool wfp_import_apply(const wfp_import_model *m, wfp_session *s, wfp_import_report *report, FILE *log);

/* Parse + apply. On a parse failure: false, reason in err. */
bool wfp_import_load_file(const char *path, wfp_session *s, wfp_import_report *report, FILE *log, char *err,
                          size_t n);

/* The report as text ("imported: …" lines), for `wfpsim import`. */
void wfp_import_report_print(const wfp_import_model *m, const wfp_import_report *r, FILE *out);

/* ---- automatic weights ------------------------------------------------------ */

/* The weight wfpsim computes for a filter: UINT64 w → w; UINT8 r →
 * (r << 60) | auto; EMPTY → auto, with auto = wfpi_auto_weight over the
 * catalogue layer. False when the filter's layer or a field is unknown. */
bool wfp_import_computed_weight(const wfp_import_filter *f, uint64_t *out);

typedef struct wfp_import_weight_check {
    size_t automatic; /* B: filters with an FWP_EMPTY or FWP_UINT8 weight */
    size_t agree;     /* A: …whose computed weight equals Windows' effectiveWeight */
} wfp_import_weight_check;

/* Checks every automatic weight; with `mismatches` (optional) prints one
 * line per disagreement. */
void wfp_import_check_weights(const wfp_import_model *m, wfp_import_weight_check *out, FILE *mismatches);

/* ---- export ----------------------------------------------------------------- */

/* Writes the model as a scenario file (wfpsim: 1, name, description,
 * policy) followed by the import record. `scenario_name` NULL: derived from
 * the source name. Returns false when writing fails. */
bool wfp_import_export_yaml(const wfp_import_model *m, const char *scenario_name, FILE *out);

/* Reads an export back into a model: the policy through the scenario
 * loader's policy code into a fresh engine, then the record. NULL and a
 * reason in err on failure. */
wfp_import_model *wfp_import_read_export(const char *name, const char *text, size_t len, char *err, size_t n);

/* Compares two models object by object (every field and value). Returns
 * true when identical; otherwise writes the first difference into why. */
bool wfp_import_model_equal(const wfp_import_model *a, const wfp_import_model *b, char *why, size_t n);

/* Writes one filter / callout in the dump's own XML form (the record keeps
 * objects the engine cannot hold this way). */
void wfp_import_write_filter_xml(const wfp_import_filter *f, FILE *out);

#endif
