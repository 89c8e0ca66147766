/* cmd_classify.c — `wfpsim classify`: one classification against a policy.
 *
 *   wfpsim classify --policy FILE --layer NAME [FIELD=VALUE ...]
 *                   [--json [--compact]] [--trace]
 *
 * FILE is a scenario (its `policy:` is used, the rest ignored) or a bare
 * policy mapping (providers, sublayers, callouts, filters). The policy is
 * added by an administrator session, as a scenario's default session does.
 * Every field of the layer is FWP_EMPTY unless given; VALUE is read by the
 * field's data type (see wfp_policy_values_set). The verdict is printed as
 * text, or with --json as one object:
 *   {"layer", "action": "permit"|"block"|"none"|"none_no_match",
 *    "permitted", "hard", "veto", "absorb", "filter": name|null,
 *    "filter_id": n|null, "sublayer": name|null, "reason", "message",
 *    "sublayers": [{"name", "weight", "action", "filter", "filter_id",
 *                   "hard", "effect"}],
 *    "steps": [{"filter", "filter_id", "sublayer", "matched", "result",
 *               "hard", "effect", "callout_invoked"}]   (with --trace)}
 * Exit 0 after a classification (whatever its verdict), 2 on unusable
 * input (the message names FILE:LINE:COL), 1 on internal failure. */
#include "commands.h"
#include "json.h"
#include "policy.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: wfpsim classify --policy FILE --layer NAME [FIELD=VALUE ...] [--json [--compact]] [--trace]\n"
          "  Classify one set of field values at one layer against a policy.\n"
          "  --policy FILE  a scenario file (its policy: is used) or a bare policy mapping\n"
          "  --layer NAME   ALE_AUTH_CONNECT_V4, FWPM_LAYER_ALE_AUTH_CONNECT_V4 or {guid}\n"
          "  FIELD=VALUE    a field of the layer (IP_REMOTE_PORT=443, IP_REMOTE_ADDRESS=10.0.0.5,\n"
          "                 ALE_APP_ID='C:\\x.exe', ALE_USER_ID=S-1-5-21-1-2-3-1001,BA,\n"
          "                 FLAGS=is_loopback|is_reauthorize); the others are FWP_EMPTY\n"
          "  --json         one JSON object; --compact: without indentation\n"
          "  --trace        every sublayer's decision and every filter tried\n",
          f);
}

static const char *action_name(uint32_t a)
{
    switch (a) {
    case FWP_ACTION_PERMIT: return "permit";
    case FWP_ACTION_BLOCK: return "block";
    case FWP_ACTION_NONE: return "none";
    case FWP_ACTION_NONE_NO_MATCH: return "none_no_match";
    case FWP_ACTION_CONTINUE: return "continue";
    default: return NULL;
    }
}

static const char *effect_name(uint32_t e)
{
    switch (e) {
    case WFP_EFFECT_APPLIED: return "applied";
    case WFP_EFFECT_IGNORED: return "ignored";
    case WFP_EFFECT_VETO: return "veto";
    default: return "none";
    }
}

static const char *filter_name(const wfp_engine *e, uint64_t id)
{
    const wfp_filter *f = id ? wfp_engine_filter_by_id(e, id) : NULL;
    return f ? f->display.name : NULL;
}

static const char *sublayer_name(const wfp_engine *e, const wfp_guid *key)
{
    const wfp_sublayer *s = wfp_engine_sublayer_by_key(e, key);
    return s ? s->display.name : NULL;
}

static void print_errors(const wfp_yaml_errors *err)
{
    for (size_t i = 0; i < err->kept; i++) fprintf(stderr, "%s\n", err->messages[i]);
    if (err->count > err->kept) fprintf(stderr, "(%lu more errors)\n", (unsigned long)(err->count - err->kept));
    if (!err->kept) fprintf(stderr, "wfpsim classify: unusable policy\n");
}

static void json_id(wfp_json *j, uint64_t id)
{
    if (id)
        wfp_json_uint(j, id);
    else
        wfp_json_null(j);
}

static void print_json(const wfp_engine *e, const wfp_layer_info *layer, const wfp_verdict *v, const wfp_trace *t,
                       bool trace, bool pretty, bool *failed)
{
    wfp_json j;
    wfp_json_init(&j, stdout, pretty);
    wfp_json_begin_object(&j);
    wfp_json_key(&j, "layer");
    wfp_json_string(&j, layer->name);
    wfp_json_key(&j, "action");
    wfp_json_string(&j, action_name(v->action));
    wfp_json_key(&j, "permitted");
    wfp_json_bool(&j, v->permitted);
    wfp_json_key(&j, "hard");
    wfp_json_bool(&j, v->hard);
    wfp_json_key(&j, "veto");
    wfp_json_bool(&j, v->vetoed);
    wfp_json_key(&j, "absorb");
    wfp_json_bool(&j, v->absorb);
    wfp_json_key(&j, "filter");
    wfp_json_string(&j, filter_name(e, v->filter_id));
    wfp_json_key(&j, "filter_id");
    json_id(&j, v->filter_id);
    wfp_json_key(&j, "sublayer");
    wfp_json_string(&j, v->filter_id ? sublayer_name(e, &v->sublayer_key) : NULL);
    wfp_json_key(&j, "reason");
    wfp_json_string(&j, wfp_reason_name(v->reason));
    wfp_json_key(&j, "message");
    wfp_json_string(&j, wfp_reason_message(v->reason));
    wfp_json_key(&j, "sublayers");
    wfp_json_begin_array(&j);
    for (size_t i = 0; i < wfp_trace_sublayer_count(t); i++) {
        const wfp_trace_sublayer *s = wfp_trace_sublayer_at(t, i);
        wfp_json_begin_object(&j);
        wfp_json_key(&j, "name");
        wfp_json_string(&j, sublayer_name(e, &s->key));
        wfp_json_key(&j, "weight");
        wfp_json_uint(&j, s->weight);
        wfp_json_key(&j, "action");
        wfp_json_string(&j, action_name(s->action));
        wfp_json_key(&j, "filter");
        wfp_json_string(&j, filter_name(e, s->filter_id));
        wfp_json_key(&j, "filter_id");
        json_id(&j, s->filter_id);
        wfp_json_key(&j, "hard");
        wfp_json_bool(&j, s->hard);
        wfp_json_key(&j, "effect");
        wfp_json_string(&j, effect_name(s->effect));
        wfp_json_end_object(&j);
    }
    wfp_json_end_array(&j);
    if (trace) {
        wfp_json_key(&j, "steps");
        wfp_json_begin_array(&j);
        for (size_t i = 0; i < wfp_trace_step_count(t); i++) {
            const wfp_trace_step *st = wfp_trace_step_at(t, i);
            const wfp_trace_sublayer *s = wfp_trace_sublayer_at(t, st->sublayer_index);
            wfp_json_begin_object(&j);
            wfp_json_key(&j, "filter");
            wfp_json_string(&j, filter_name(e, st->filter_id));
            wfp_json_key(&j, "filter_id");
            json_id(&j, st->filter_id);
            wfp_json_key(&j, "sublayer");
            wfp_json_string(&j, s ? sublayer_name(e, &s->key) : NULL);
            wfp_json_key(&j, "matched");
            wfp_json_bool(&j, st->matched);
            wfp_json_key(&j, "result");
            wfp_json_string(&j, action_name(st->result));
            wfp_json_key(&j, "hard");
            wfp_json_bool(&j, st->hard);
            wfp_json_key(&j, "effect");
            wfp_json_string(&j, effect_name(st->effect));
            wfp_json_key(&j, "callout_invoked");
            wfp_json_bool(&j, st->callout_invoked);
            wfp_json_end_object(&j);
        }
        wfp_json_end_array(&j);
    }
    wfp_json_end_object(&j);
    *failed = wfp_json_failed(&j);
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

static void print_text(const wfp_engine *e, const wfp_layer_info *layer, const wfp_verdict *v, const wfp_trace *t,
                       bool trace)
{
    printf("layer:    %s\n", layer->name);
    printf("action:   %s\n", action_name(v->action));
    printf("verdict:  %s%s\n", v->permitted ? "permitted" : "blocked", v->absorb ? " (absorbed)" : "");
    printf("hard:     %s\n", v->hard ? "yes" : "no");
    printf("veto:     %s\n", v->vetoed ? "yes" : "no");
    if (v->filter_id) {
        printf("filter:   %s (id %llu)\n", or_dash(filter_name(e, v->filter_id)), (unsigned long long)v->filter_id);
        printf("sublayer: %s\n", or_dash(sublayer_name(e, &v->sublayer_key)));
    } else {
        printf("filter:   -\n");
        printf("sublayer: -\n");
    }
    printf("reason:   %s (%s)\n", wfp_reason_name(v->reason), wfp_reason_message(v->reason));
    if (!trace) return;
    printf("sublayers, in evaluation order:\n");
    for (size_t i = 0; i < wfp_trace_sublayer_count(t); i++) {
        const wfp_trace_sublayer *s = wfp_trace_sublayer_at(t, i);
        printf("  %s (weight %u): %s", or_dash(sublayer_name(e, &s->key)), (unsigned)s->weight,
               action_name(s->action) ? action_name(s->action) : "?");
        if (s->filter_id)
            printf(" by %s (id %llu), %s, %s", or_dash(filter_name(e, s->filter_id)),
                   (unsigned long long)s->filter_id, s->hard ? "hard" : "soft", effect_name(s->effect));
        printf("\n");
    }
    printf("filters tried:\n");
    for (size_t i = 0; i < wfp_trace_step_count(t); i++) {
        const wfp_trace_step *st = wfp_trace_step_at(t, i);
        const wfp_trace_sublayer *s = wfp_trace_sublayer_at(t, st->sublayer_index);
        printf("  [%s] %s (id %llu): ", s ? or_dash(sublayer_name(e, &s->key)) : "-",
               or_dash(filter_name(e, st->filter_id)), (unsigned long long)st->filter_id);
        if (!st->matched) {
            printf("no match\n");
            continue;
        }
        printf("%s%s", action_name(st->result) ? action_name(st->result) : "?",
               st->callout_invoked ? " (callout)" : "");
        if (st->result == FWP_ACTION_PERMIT || st->result == FWP_ACTION_BLOCK)
            printf(", %s, %s", st->hard ? "hard" : "soft", effect_name(st->effect));
        printf("\n");
    }
}

int wfp_cmd_classify(int argc, char **argv)
{
    const char *policy_path = NULL, *layer_name = NULL;
    bool json = false, compact = false, trace = false;
    char **assignments = NULL;
    size_t nassign = 0;
    int rc = 2;
    wfp_yaml_errors err;
    wfp_yaml_doc *doc = NULL;
    wfp_engine *engine = NULL;
    wfp_session *session = NULL;
    wfp_policy *policy = NULL;
    wfp_policy_values *values = NULL;
    wfp_trace *tr = NULL;
    const wfp_layer_info *layer;

    wfp_yaml_errors_init(&err);
    assignments = calloc((size_t)(argc > 0 ? argc : 1), sizeof *assignments);
    if (!assignments) {
        fprintf(stderr, "wfpsim classify: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--compact")) {
            compact = true;
        } else if (!strcmp(a, "--trace")) {
            trace = true;
        } else if (!strcmp(a, "--policy") || !strcmp(a, "--layer")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "wfpsim classify: %s needs a value\n", a);
                usage(stderr);
                goto out;
            }
            if (a[2] == 'p') policy_path = argv[++i];
            else layer_name = argv[++i];
        } else if (!strncmp(a, "--policy=", 9)) {
            policy_path = a + 9;
        } else if (!strncmp(a, "--layer=", 8)) {
            layer_name = a + 8;
        } else if (a[0] == '-') {
            fprintf(stderr, "wfpsim classify: unknown option '%s'\n", a);
            usage(stderr);
            goto out;
        } else if (strchr(a, '=') && a[0] != '=') {
            assignments[nassign++] = argv[i];
        } else {
            fprintf(stderr, "wfpsim classify: expected FIELD=VALUE, not '%s'\n", a);
            goto out;
        }
    }
    if (!policy_path || !layer_name) {
        fprintf(stderr, "wfpsim classify: --policy and --layer are required\n");
        usage(stderr);
        goto out;
    }
    layer = wfp_catalog_layer_by_name(layer_name);
    if (!layer) {
        fprintf(stderr, "wfpsim classify: no layer named '%s' ('wfpsim layers' lists them)\n", layer_name);
        goto out;
    }

    const wfp_yaml_node *pol = wfp_policy_file_load(policy_path, &doc, &err);
    if (!pol) {
        print_errors(&err);
        goto out;
    }

    engine = wfp_engine_create(NULL);
    policy = wfp_policy_create();
    values = wfp_policy_values_create(layer);
    tr = wfp_trace_create(NULL);
    if (!engine || !policy || !values || !tr) {
        fprintf(stderr, "wfpsim classify: out of memory\n");
        rc = 1;
        goto out;
    }
    wfp_session_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.name = "default";
    sd.admin = true;
    uint32_t code = wfp_session_open(engine, &sd, &session);
    if (code) {
        fprintf(stderr, "wfpsim classify: cannot open a session: %s\n", wfp_engine_last_error(engine));
        rc = 1;
        goto out;
    }
    if (!wfp_policy_apply(policy, session, pol, &err)) {
        print_errors(&err);
        goto out;
    }
    for (size_t i = 0; i < nassign; i++) {
        char *eq = strchr(assignments[i], '=');
        char field[256], why[2048];
        size_t fl = (size_t)(eq - assignments[i]);
        if (fl >= sizeof field) {
            fprintf(stderr, "wfpsim classify: field name too long in '%s'\n", assignments[i]);
            goto out;
        }
        memcpy(field, assignments[i], fl);
        field[fl] = 0;
        if (!wfp_policy_values_set(values, field, eq + 1, why, sizeof why)) {
            fprintf(stderr, "wfpsim classify: %s\n", why);
            goto out;
        }
    }

    wfp_classify_request req;
    wfp_verdict verdict;
    memset(&req, 0, sizeof req);
    req.layer_id = layer->id;
    req.values = wfp_policy_values_array(values);
    req.num_values = wfp_policy_values_count(values);
    code = wfp_classify(engine, &req, &verdict, tr);
    if (code) {
        const char *n = wfp_result_name(code);
        fprintf(stderr, "wfpsim classify: classify failed: %s (%s)\n", n ? n : "?", wfp_engine_last_error(engine));
        rc = 1;
        goto out;
    }
    if (json) {
        bool failed = false;
        print_json(engine, layer, &verdict, tr, trace, !compact, &failed);
        if (failed) {
            fprintf(stderr, "wfpsim classify: could not write the output\n");
            rc = 1;
            goto out;
        }
    } else {
        print_text(engine, layer, &verdict, tr, trace);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "wfpsim classify: could not write the output\n");
        rc = 1;
        goto out;
    }
    rc = 0;
out:
    /* the engine calls into the policy: it goes first */
    wfp_session_close(session);
    wfp_engine_destroy(engine);
    wfp_policy_destroy(policy);
    wfp_policy_values_destroy(values);
    wfp_trace_destroy(tr);
    wfp_yaml_doc_free(doc);
    wfp_yaml_errors_clear(&err);
    free(assignments);
    return rc;
}
