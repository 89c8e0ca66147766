/* cmd_layers.c — `wfpsim layers`: print the built-in layer catalogue.
 *
 *   wfpsim layers [--json] [--compact] [--fields] [LAYER...]
 *
 * Lists every built-in layer sorted by run-time id (or only the LAYERs
 * named, by name or {guid}, in the order given). The text form is a table
 * for people; --fields adds each layer's fields in FWPS index order. --json
 * prints an array of
 *   {"name", "key", "id", "kernel", "fields": [{"name", "key", "type",
 *    "data_type"}]}
 * which tests/cli/layers_match_windows.sh compares with a real Windows
 * dump; --compact drops the indentation. Output is derived from the const
 * catalogue only, so it is byte-identical on every platform. */
#include "commands.h"
#include "json.h"
#include "wfp_catalog.h"

#include <stdio.h>
#include <string.h>

static const char *field_type_name(uint32_t t)
{
    switch (t) {
    case FWPM_FIELD_RAW_DATA: return "FWPM_FIELD_RAW_DATA";
    case FWPM_FIELD_IP_ADDRESS: return "FWPM_FIELD_IP_ADDRESS";
    case FWPM_FIELD_FLAGS: return "FWPM_FIELD_FLAGS";
    default: return NULL;
    }
}

static const char *data_type_name(uint32_t t)
{
    const char *n = wfp_data_type_name(t);
    return n ? n : "?";
}

static void usage(FILE *f)
{
    fputs("usage: wfpsim layers [--json] [--compact] [--fields] [LAYER...]\n"
          "  List the built-in WFP layers sorted by run-time id.\n"
          "  --json     machine-readable output (array of layer objects)\n"
          "  --compact  with --json: no indentation\n"
          "  --fields   in the text table: also list each layer's fields\n"
          "  LAYER      only these layers (name with or without FWPM_LAYER_, or {guid})\n",
          f);
}

static void json_layer(wfp_json *j, const wfp_layer_info *l)
{
    char key[WFP_GUID_STRLEN];

    wfp_json_begin_object(j);
    wfp_json_key(j, "name");
    wfp_json_string(j, l->name);
    wfp_guid_format(&l->key, key);
    wfp_json_key(j, "key");
    wfp_json_string(j, key);
    wfp_json_key(j, "id");
    wfp_json_uint(j, l->id);
    wfp_json_key(j, "kernel");
    wfp_json_bool(j, (l->flags & FWPM_LAYER_FLAG_KERNEL) != 0);
    wfp_json_key(j, "fields");
    wfp_json_begin_array(j);
    for (uint16_t i = 0; i < l->num_fields; i++) {
        const wfp_layer_field *f = &l->fields[i];
        const char *ft = field_type_name(f->field_type);

        wfp_json_begin_object(j);
        wfp_json_key(j, "name");
        wfp_json_string(j, f->condition->name);
        wfp_guid_format(&f->condition->key, key);
        wfp_json_key(j, "key");
        wfp_json_string(j, key);
        wfp_json_key(j, "type");
        wfp_json_string(j, ft ? ft : "?");
        wfp_json_key(j, "data_type");
        wfp_json_string(j, data_type_name(f->data_type));
        wfp_json_end_object(j);
    }
    wfp_json_end_array(j);
    wfp_json_end_object(j);
}

static void text_layer(const wfp_layer_info *l, int name_width, bool with_fields)
{
    char key[WFP_GUID_STRLEN];

    wfp_guid_format(&l->key, key);
    printf("%3u  %-6s  %6u  %-*s  %s\n", (unsigned)l->id,
           (l->flags & FWPM_LAYER_FLAG_KERNEL) ? "kernel" : "user", (unsigned)l->num_fields,
           name_width, l->name, key);
    if (!with_fields) return;
    for (uint16_t i = 0; i < l->num_fields; i++) {
        const wfp_layer_field *f = &l->fields[i];
        const char *ft = field_type_name(f->field_type);

        printf("       %3u  %-50s %-22s %s\n", (unsigned)i, f->condition->name, ft ? ft : "?",
               data_type_name(f->data_type));
    }
}

int wfp_cmd_layers(int argc, char **argv)
{
    bool json = false, compact = false, with_fields = false;
    const wfp_layer_info *only[128];
    size_t n_only = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--compact") == 0) {
            compact = true;
        } else if (strcmp(a, "--fields") == 0) {
            with_fields = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "wfpsim layers: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            const wfp_layer_info *l = wfp_catalog_layer_by_name(a);

            if (!l) {
                fprintf(stderr, "wfpsim layers: no built-in layer named '%s'\n", a);
                return 2;
            }
            if (n_only == sizeof(only) / sizeof(only[0])) {
                fprintf(stderr, "wfpsim layers: too many layers named\n");
                return 2;
            }
            only[n_only++] = l;
        }
    }

    size_t count = n_only ? n_only : wfp_catalog_layer_count();
#define LAYER_AT(k) (n_only ? only[k] : wfp_catalog_layer_by_id((uint16_t)(k)))

    if (json) {
        wfp_json j;

        wfp_json_init(&j, stdout, !compact);
        wfp_json_begin_array(&j);
        for (size_t k = 0; k < count; k++) json_layer(&j, LAYER_AT(k));
        wfp_json_end_array(&j);
        if (wfp_json_failed(&j) || fflush(stdout) != 0) {
            fprintf(stderr, "wfpsim layers: could not write the output\n");
            return 1;
        }
        return 0;
    }

    int width = 4;
    for (size_t k = 0; k < count; k++) {
        int w = (int)strlen(LAYER_AT(k)->name);
        if (w > width) width = w;
    }
    printf("%3s  %-6s  %6s  %-*s  %s\n", "ID", "MODE", "FIELDS", width, "NAME", "KEY");
    for (size_t k = 0; k < count; k++) text_layer(LAYER_AT(k), width, with_fields || n_only > 0);
#undef LAYER_AT
    if (fflush(stdout) != 0) {
        fprintf(stderr, "wfpsim layers: could not write the output\n");
        return 1;
    }
    return 0;
}
