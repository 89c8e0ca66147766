/* cmd_replay.c — `wfpsim replay`: captures through one simulated host.
 *
 *   wfpsim replay --scenario FILE [--host NAME] [options] CAPTURE...
 *   wfpsim replay --policy FILE --local ADDR [--local ADDR ...]
 *                 [--listen PROTO:PORTS ...] [options] CAPTURE...
 *
 * Every record of every capture (pcap or pcapng, in the order given;
 * packet numbers continue from one file to the next) enters the host at
 * its virtual time: its capture time minus that of the first packet of the
 * first capture, never less than the previous packet's (a capture that
 * goes back in time is clamped). The host runs the shims of
 * spec/wfp-semantics.md §6 and says what became of the packet.
 *
 * Fates (one per packet, as the host reports them):
 *   permitted  delivered or sent                        verdict "permit"
 *   blocked    by a filter or callout (absorbed,
 *              failed reauthorization included)         verdict "block"
 *   dropped    by the stack: no listener, port
 *              unreachable, malformed, reassembly…      verdict "block"
 *   held       a fragment kept for reassembly; the
 *              datagram's fate comes with its last
 *              fragment                                 verdict "permit"
 *   ignored    not for this host (neither address is
 *              one of its own) or not IP                verdict "permit"
 *
 * Output: a summary on stdout; with --json one object per packet on stdout
 * (JSON Lines, exactly the keys packet, time_ns, direction, verdict, layer,
 * filter, reason, in that order) and the summary on stderr. `layer` is the
 * deciding layer without the FWPM_LAYER_ prefix (null when nothing was
 * classified), `filter` the deciding filter's name (null when none),
 * `reason` the deciding classify's WFP_REASON name (no_match,
 * filter_block, callout_veto…), or for a packet no filter decided, why the
 * stack dropped or ignored it (no_listener, malformed, not_local, held…).
 * `direction` is "out" for the outbound and loopback paths, "in"
 * otherwise (a packet the host ignores counts as arriving, unless a Linux
 * cooked capture says it was outgoing).
 *
 * --write-permitted / --write-dropped write the packets by fate to
 * nanosecond pcaps with the input's link type and the capture timestamps:
 * permitted and ignored packets to the first, blocked and dropped ones to
 * the second. A held fragment is written when its datagram's fate is
 * known, with it (a datagram never completed, within the 60 s reassembly
 * time, counts as dropped). The bytes depend only on the input.
 *
 * FILE of --policy is a scenario (its `policy:`), a bare policy mapping
 * (as `wfpsim classify --policy` takes it) or a `netsh wfp show
 * state/filters` dump (sim/wfp_import.h: Windows' filter ids and weights,
 * callouts without drivers); --scenario takes a scenario's host (--host
 * NAME among several) with its policy, and ignores its traffic, steps and
 * expectations. The policy is added in one transaction by an
 * administrator session before the host starts (listening sockets bound
 * at time 0).
 *
 * A corrupt capture is reported naming the file and the record; the
 * packets before the damage count and the next capture still runs. Exit:
 * 0 ok, 2 unusable input (options, policy, a capture that cannot be read
 * to its end), 1 internal failure (memory, the engine, writing). */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* fileno, isatty */
#endif

#include "commands.h"
#include "json.h"
#include "policy.h"
#include "scenario.h"
#include "scenario_int.h"
#include "vec.h"
#include "wfp_capture.h"
#include "wfp_host.h"
#include "wfp_import.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef _WIN32
#include <io.h>
#define replay_isatty(f) (_isatty(_fileno(f)) != 0)
#else
#include <unistd.h>
#define replay_isatty(f) (isatty(fileno(f)) != 0)
#endif

#define NS_PER_S 1000000000ull
/* Windows' reassembly time (pcap/wfp_reasm.h) and limits: what a held
 * fragment may wait for its datagram. */
#define HELD_TIMEOUT_NS (60ull * NS_PER_S)
#define HELD_MAX (100u * 128u)
/* A progress bar for captures of at least this many bytes. */
#define PROGRESS_MIN_BYTES (1u << 20)
#define PROGRESS_WIDTH 40

static void usage(FILE *f)
{
    fputs("usage: wfpsim replay --scenario FILE [--host NAME] [OPTIONS] CAPTURE...\n"
          "       wfpsim replay --policy FILE --local ADDR [--local ADDR...] [--listen PROTO:PORTS...]\n"
          "                     [OPTIONS] CAPTURE...\n"
          "  Replays captures (pcap, pcapng) through one simulated Windows host, packet by packet,\n"
          "  in order, at virtual time (from the first packet of the first capture).\n"
          "  --scenario FILE     the host (addresses, interfaces, processes) and policy of a scenario;\n"
          "                      its traffic, steps and expectations are ignored\n"
          "  --host NAME         with a scenario of several hosts: which one (default: the first)\n"
          "  --policy FILE       a scenario (its policy: is used), a bare policy mapping, or a\n"
          "                      `netsh wfp show state/filters` dump (XML)\n"
          "  --local ADDR        an address of the host (with --policy; repeatable)\n"
          "  --listen PROTO:PORTS  a listening socket of the host: tcp:80, udp:53, tcp:8000-8080\n"
          "                      (with --policy; repeatable; at most 1024 TCP ports each)\n"
          "  --adopt-midstream   a TCP segment of an unknown connection creates its flow (captures\n"
          "                      that start mid-connection) instead of being dropped as Windows would\n"
          "  --json              one JSON object per packet on stdout (JSON Lines):\n"
          "                      {\"packet\", \"time_ns\", \"direction\", \"verdict\", \"layer\", \"filter\",\n"
          "                      \"reason\"}; the summary goes to stderr\n"
          "  --write-permitted F packets let through (and packets not for this host): nanosecond pcap\n"
          "  --write-dropped F   packets blocked by a filter or dropped by the stack: nanosecond pcap\n"
          "  --progress / --no-progress  force or suppress the progress bar (default: on a terminal,\n"
          "                      for captures of 1 MiB or more)\n"
          "Exit: 0 ok, 2 unusable input (the message names the file), 1 internal failure.\n",
          f);
}

/* ---- fates ------------------------------------------------------------- */

enum { FATE_PERMITTED, FATE_BLOCKED, FATE_DROPPED, FATE_HELD, FATE_IGNORED, FATE_PENDED, FATE_COUNT };

static int fate_of(const wfp_packet_outcome *o)
{
    if (o->held && o->pended) return FATE_PENDED; /* a connect waiting for its callout */
    if (o->held) return FATE_HELD;
    if (o->path == WFP_HOST_PATH_FORWARD || o->discard == WFP_HOST_DISCARD_NOT_IP) return FATE_IGNORED;
    if (o->permitted) return FATE_PERMITTED;
    if (o->discard == WFP_HOST_DISCARD_FILTER || o->discard == WFP_HOST_DISCARD_ABSORBED ||
        o->discard == WFP_HOST_DISCARD_REAUTH)
        return FATE_BLOCKED;
    return FATE_DROPPED;
}

static bool fate_passes(int fate)
{
    return fate == FATE_PERMITTED || fate == FATE_HELD || fate == FATE_IGNORED;
}

static const char *layer_short(uint16_t id)
{
    const wfp_layer_info *l = id == UINT16_MAX ? NULL : wfp_catalog_layer_by_id(id);
    if (!l) return NULL;
    return strncmp(l->name, "FWPM_LAYER_", 11) ? l->name : l->name + 11;
}

/* ---- statistics tables -------------------------------------------------- */

typedef struct layer_stat {
    uint16_t id;
    const char *name;
    uint64_t permit, block;
} layer_stat;

typedef struct filter_stat {
    uint64_t id; /* 0: free slot */
    uint64_t permit, block;
    const char *name; /* policy or engine name; NULL: "#id" */
} filter_stat;

/* One fragment the host holds for reassembly, waiting for its datagram's
 * fate (for the verdict captures). */
typedef struct held_frag {
    uint8_t key[38]; /* version, src, dst, id, protocol */
    uint8_t *bytes;
    uint32_t caplen, wirelen;
    uint64_t time_ns; /* capture time, as written */
    uint64_t at;      /* virtual time it arrived */
} held_frag;

/* A packet whose connect a callout pended, until the completion decides
 * (then it is printed again, and written to its verdict capture). */
typedef struct rpended {
    uint64_t handle;
    uint64_t number;
    uint8_t *bytes;
    uint32_t caplen, wirelen, linktype;
    uint64_t time_ns; /* capture time, as written */
} rpended;

/* A callout's injected copy, due at virtual time `at`. */
typedef struct rcopy {
    uint64_t at, seq;
    uint64_t from; /* the packet being classified when it was injected */
    uint8_t *bytes;
    wfp_host_injection inj;
} rcopy;

typedef struct replay {
    bool json;
    wfp_host *host;
    wfp_policy *policy;
    wfp_engine *engine;

    const char *perm_path, *drop_path;
    wfp_capture_writer *perm, *drop;
    bool writers_open;
    uint32_t linktype;

    uint64_t packets;
    bool have_t0;
    uint64_t t0, now;
    uint64_t fate[FATE_COUNT];
    uint64_t discard[WFP_HOST_DISCARD_COUNT_];
    uint64_t parse[WFP_PARSE_STATUS_COUNT];
    uint64_t malformed, first_malformed;
    size_t captures_read, captures_failed;

    layer_stat *layers;
    size_t nlayers, layers_cap;
    filter_stat *filters; /* open addressing, power-of-two capacity */
    size_t nfilters, filters_cap;

    held_frag *held;
    size_t nheld, held_cap;

    rcopy *copies;
    size_t ncopies, copies_cap;
    uint64_t copy_seq, injected;
    rpended *pended;
    size_t npended, pended_cap;
    uint64_t completed;

    bool progress;
    uint64_t total_bytes, done_bytes;
    int progress_pct;
    int rc; /* worst exit code so far */
} replay;

static void set_rc(replay *r, int rc)
{
    /* 1 (internal) outranks 2 (input) */
    if (rc == 1 || (rc == 2 && r->rc == 0)) r->rc = rc;
}

static layer_stat *layer_entry(replay *r, uint16_t id)
{
    for (size_t i = 0; i < r->nlayers; i++)
        if (r->layers[i].id == id) return &r->layers[i];
    if (r->nlayers == r->layers_cap) {
        size_t ncap = r->layers_cap ? r->layers_cap * 2 : 16;
        layer_stat *n = realloc(r->layers, ncap * sizeof *n);
        if (!n) return NULL;
        r->layers = n;
        r->layers_cap = ncap;
    }
    layer_stat *e = &r->layers[r->nlayers++];
    e->id = id;
    e->name = layer_short(id);
    e->permit = e->block = 0;
    return e;
}

static size_t filter_slot(const filter_stat *t, size_t cap, uint64_t id)
{
    size_t i = (size_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
    while (t[i].id && t[i].id != id) i = (i + 1) & (cap - 1);
    return i;
}

static const char *filter_name_of(const replay *r, uint64_t id)
{
    const char *n = r->policy ? wfp_policy_filter_name(r->policy, id) : NULL;
    if (!n) {
        const wfp_filter *f = wfp_engine_filter_by_id(r->engine, id);
        if (f && f->display.name && f->display.name[0]) n = f->display.name;
    }
    return n;
}

static filter_stat *filter_entry(replay *r, uint64_t id)
{
    if ((r->nfilters + 1) * 2 > r->filters_cap) {
        size_t ncap = r->filters_cap ? r->filters_cap * 2 : 64;
        filter_stat *n = calloc(ncap, sizeof *n);
        if (!n) return NULL;
        for (size_t i = 0; i < r->filters_cap; i++)
            if (r->filters[i].id) n[filter_slot(n, ncap, r->filters[i].id)] = r->filters[i];
        free(r->filters);
        r->filters = n;
        r->filters_cap = ncap;
    }
    filter_stat *e = &r->filters[filter_slot(r->filters, r->filters_cap, id)];
    if (!e->id) {
        e->id = id;
        e->name = filter_name_of(r, id);
        r->nfilters++;
    }
    return e;
}

/* ---- output ------------------------------------------------------------- */

static const char *reason_of(const wfp_packet_outcome *o, int fate)
{
    switch (fate) {
    case FATE_HELD: return "held";
    case FATE_PENDED: return "pended";
    case FATE_IGNORED:
    case FATE_DROPPED: return wfp_host_discard_name(o->discard);
    case FATE_BLOCKED:
        if (o->discard == WFP_HOST_DISCARD_ABSORBED) return "absorbed";
        return wfp_reason_name(o->reason);
    default:
        return o->layer_id == UINT16_MAX ? "not_classified" : wfp_reason_name(o->reason);
    }
}

static const char *direction_of(const wfp_packet_outcome *o, const wfp_packet *p)
{
    if (o->path == WFP_HOST_PATH_OUTBOUND || o->path == WFP_HOST_PATH_LOOPBACK) return "out";
    if (o->path == WFP_HOST_PATH_INBOUND) return "in";
    return p->link_direction == WFP_LINK_DIR_OUT ? "out" : "in";
}

static void json_line(replay *r, uint64_t number, const wfp_packet *p, const wfp_packet_outcome *o, int fate,
                      uint64_t from, bool completion)
{
    FILE *f = stdout;
    fprintf(f, "{\"packet\": %" PRIu64 ", \"time_ns\": %" PRIu64 ", \"direction\": \"%s\", \"verdict\": \"%s\", "
               "\"layer\": ",
            number, r->now, direction_of(o, p), fate_passes(fate) ? "permit" : "block");
    wfp_json_write_string(f, layer_short(o->layer_id));
    fputs(", \"filter\": ", f);
    if (o->filter_id) {
        const char *n = filter_name_of(r, o->filter_id);
        if (n) {
            wfp_json_write_string(f, n);
        } else {
            fprintf(f, "\"#%" PRIu64 "\"", o->filter_id);
        }
    } else {
        fputs("null", f);
    }
    fputs(", \"reason\": ", f);
    wfp_json_write_string(f, reason_of(o, fate));
    if (from)
        fprintf(f, ", \"injected_from\": %" PRIu64, from);
    if (completion)
        fputs(", \"completion\": true", f);
    fputs("}\n", f);
}

/* ---- progress ----------------------------------------------------------- */

static void progress_draw(replay *r, int pct)
{
    char bar[PROGRESS_WIDTH + 1];
    int fill = pct * PROGRESS_WIDTH / 100;
    for (int i = 0; i < PROGRESS_WIDTH; i++) bar[i] = i < fill ? '#' : '.';
    bar[PROGRESS_WIDTH] = 0;
    fprintf(stderr, "\r[%s] %3d%%  %" PRIu64 " packets", bar, pct, r->packets);
    fflush(stderr);
    r->progress_pct = pct;
}

static void progress_step(replay *r, const wfp_packet *p)
{
    if (!r->progress) return;
    r->done_bytes += 16u + p->cap_len; /* a pcap record; pcapng blocks are a little larger */
    uint64_t pct = r->total_bytes ? r->done_bytes * 100 / r->total_bytes : 0;
    if (pct > 99) pct = 99; /* 100 only when done */
    if ((int)pct != r->progress_pct) progress_draw(r, (int)pct);
}

static void progress_clear(replay *r)
{
    if (!r->progress || r->progress_pct < 0) return;
    fprintf(stderr, "\r%*s\r", PROGRESS_WIDTH + 30, "");
    fflush(stderr);
    r->progress_pct = -1;
}

/* ---- verdict captures --------------------------------------------------- */

static bool open_writers(replay *r, uint32_t linktype)
{
    char msg[512];
    r->writers_open = true;
    r->linktype = linktype;
    if (r->perm_path && !(r->perm = wfp_capture_writer_open(r->perm_path, linktype, 0, msg, sizeof msg))) {
        fprintf(stderr, "wfpsim replay: %s\n", msg);
        return false;
    }
    if (r->drop_path && !(r->drop = wfp_capture_writer_open(r->drop_path, linktype, 0, msg, sizeof msg))) {
        fprintf(stderr, "wfpsim replay: %s\n", msg);
        return false;
    }
    return true;
}

static void write_raw(replay *r, bool passed, const uint8_t *data, uint32_t caplen, uint32_t wirelen, uint64_t t)
{
    wfp_capture_writer *w = passed ? r->perm : r->drop;
    if (w && wfp_capture_write_raw(w, data, caplen, wirelen, t) != 0) set_rc(r, 1);
}

static void held_key(const wfp_packet *p, uint8_t key[38])
{
    memset(key, 0, 38);
    key[0] = p->ip_version;
    memcpy(key + 1, p->src, 16);
    memcpy(key + 17, p->dst, 16);
    uint32_t id = p->ip_version == 6 ? p->ip6_frag_id : p->ip4_id;
    key[33] = (uint8_t)(id >> 24);
    key[34] = (uint8_t)(id >> 16);
    key[35] = (uint8_t)(id >> 8);
    key[36] = (uint8_t)id;
    key[37] = p->ip_version == 6 ? 0 : p->protocol;
}

/* Writes every held fragment of the datagram `key` with the verdict given,
 * in arrival order, and forgets them. */
static void held_flush(replay *r, const uint8_t key[38], bool passed)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nheld; i++) {
        held_frag *h = &r->held[i];
        if (!memcmp(h->key, key, sizeof h->key)) {
            write_raw(r, passed, h->bytes, h->caplen, h->wirelen, h->time_ns);
            free(h->bytes);
        } else {
            r->held[k++] = *h;
        }
    }
    r->nheld = k;
}

/* Datagrams whose first held fragment is past the reassembly time (or
 * beyond the table's size) never completed: dropped. */
static void held_expire(replay *r, bool all)
{
    while (r->nheld && (all || r->nheld > HELD_MAX || r->now - r->held[0].at >= HELD_TIMEOUT_NS)) {
        uint8_t key[38];
        memcpy(key, r->held[0].key, sizeof key);
        held_flush(r, key, false);
    }
}

static bool held_add(replay *r, const wfp_packet *p)
{
    if (r->nheld == r->held_cap) {
        size_t ncap = r->held_cap ? r->held_cap * 2 : 16;
        held_frag *n = realloc(r->held, ncap * sizeof *n);
        if (!n) return false;
        r->held = n;
        r->held_cap = ncap;
    }
    held_frag *h = &r->held[r->nheld];
    held_key(p, h->key);
    h->bytes = malloc(p->cap_len ? p->cap_len : 1);
    if (!h->bytes) return false;
    if (p->cap_len) memcpy(h->bytes, p->data, p->cap_len);
    h->caplen = p->cap_len;
    h->wirelen = p->wire_len;
    h->time_ns = p->time_ns;
    h->at = r->now;
    r->nheld++;
    return true;
}

/* ---- one packet --------------------------------------------------------- */

static void oom_message(replay *r);

/* Counts one outcome (layer, filter, fate) and prints its --json line. */
static bool account_ex(replay *r, uint64_t number, const wfp_packet *p, const wfp_packet_outcome *o, int fate,
                       uint64_t from, bool completion)
{
    bool passed = fate_passes(fate);
    r->fate[fate]++;
    if (o->discard < WFP_HOST_DISCARD_COUNT_) r->discard[o->discard]++;
    if (o->layer_id != UINT16_MAX) {
        layer_stat *ls = layer_entry(r, o->layer_id);
        if (!ls) return false;
        if (passed) ls->permit++;
        else ls->block++;
    }
    if (o->filter_id) {
        filter_stat *fs = filter_entry(r, o->filter_id);
        if (!fs) return false;
        if (passed) fs->permit++;
        else fs->block++;
    }
    if (r->json) json_line(r, number, p, o, fate, from, completion);
    return true;
}

static bool account(replay *r, const wfp_packet *p, const wfp_packet_outcome *o, int fate, uint64_t from)
{
    return account_ex(r, r->packets, p, o, fate, from, false);
}

/* Completes the pended classifies due by `upto` (all with `all`): each
 * pended packet's final fate is counted (its pended count undone), printed
 * again with "completion": true, and written to its verdict capture. */
static bool replay_completions(replay *r, uint64_t upto, bool all)
{
    uint64_t at, handle;
    while (wfp_host_next_completion(r->host, &at, &handle) && (all || at <= upto)) {
        wfp_packet_outcome o;
        if (at > r->now) r->now = at;
        uint32_t code = wfp_host_complete_operation(r->host, r->now, handle, &o);
        if (code) {
            const char *n = wfp_result_name(code);
            progress_clear(r);
            fprintf(stderr, "wfpsim replay: completing a pended classify failed: %s (%s)\n", n ? n : "error",
                    wfp_engine_last_error(r->engine));
            set_rc(r, 1);
            return false;
        }
        r->completed++;
        size_t k = 0;
        while (k < r->npended && r->pended[k].handle != handle) k++;
        if (k == r->npended) continue; /* flushed data or RECV_ACCEPT: the packet's fate stands */
        rpended pd = r->pended[k];
        r->pended[k] = r->pended[--r->npended];
        wfp_packet p;
        wfp_packet_parse(pd.linktype, pd.bytes, pd.caplen, pd.wirelen, pd.time_ns, &p);
        int fate = fate_of(&o);
        r->fate[FATE_PENDED]--;
        bool ok = account_ex(r, pd.number, &p, &o, fate, 0, true);
        if (ok && (r->perm || r->drop)) write_raw(r, fate_passes(fate), pd.bytes, pd.caplen, pd.wirelen, pd.time_ns);
        free(pd.bytes);
        if (!ok) {
            oom_message(r);
            return false;
        }
    }
    return true;
}

static void oom_message(replay *r)
{
    progress_clear(r);
    fprintf(stderr, "wfpsim replay: out of memory\n");
    set_rc(r, 1);
}

/* A callout injected a copy of the packet being classified: it re-enters
 * after its delay, numbered as the packet after those before it. */
static uint32_t on_inject(void *ctx, wfp_host *h, const wfp_host_injection *inj)
{
    replay *r = ctx;
    (void)h;
    if (inj->depth >= WFP_INJECT_MAX_DEPTH) {
        progress_clear(r);
        fprintf(stderr,
                "wfpsim replay: packet %" PRIu64 ": a copy injected %u times over: a callout re-injects its own "
                "copies (give its inject rule an injection_state: not_injected)\n",
                r->packets, inj->depth);
        set_rc(r, 1);
        return FWP_E_INVALID_PARAMETER;
    }
    uint8_t *bytes = malloc(inj->len ? inj->len : 1);
    if (!bytes) return ERROR_NOT_ENOUGH_MEMORY;
    rcopy *c = wfps_push((void **)&r->copies, &r->ncopies, &r->copies_cap, sizeof *c);
    if (!c) {
        free(bytes);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    if (inj->len) memcpy(bytes, inj->ip, inj->len);
    c->bytes = bytes;
    c->at = r->now + inj->delay_ns;
    c->seq = r->copy_seq++;
    c->from = r->packets;
    c->inj = *inj;
    c->inj.ip = NULL;
    return ERROR_SUCCESS;
}

/* Replays the copies due by `upto` (all of them with `all`), earliest
 * first. Copies have no link header: they go to no verdict capture. */
static bool replay_copies(replay *r, uint64_t upto, bool all)
{
    while (r->ncopies) {
        size_t k = 0;
        for (size_t i = 1; i < r->ncopies; i++)
            if (r->copies[i].at < r->copies[k].at ||
                (r->copies[i].at == r->copies[k].at && r->copies[i].seq < r->copies[k].seq))
                k = i;
        if (!all && r->copies[k].at > upto) return true;
        rcopy c = r->copies[k];
        memmove(r->copies + k, r->copies + k + 1, (r->ncopies - k - 1) * sizeof *r->copies);
        r->ncopies--;
        if (c.at > r->now) r->now = c.at;
        r->packets++;
        r->injected++;
        c.inj.ip = c.bytes;
        wfp_packet p;
        wfp_packet_outcome o;
        wfp_packet_parse(WFP_LINKTYPE_RAW, c.bytes, (uint32_t)c.inj.len, (uint32_t)c.inj.len, r->now, &p);
        uint32_t code = wfp_host_packet_injected(r->host, r->now, &c.inj, &o);
        bool ok = !code && account(r, &p, &o, fate_of(&o), c.from);
        free(c.bytes);
        if (code) {
            const char *n = wfp_result_name(code);
            progress_clear(r);
            fprintf(stderr, "wfpsim replay: packet %" PRIu64 " (injected): the simulation failed: %s (%s)\n",
                    r->packets, n ? n : "error", wfp_engine_last_error(r->engine));
            set_rc(r, 1);
            return false;
        }
        if (!ok) {
            oom_message(r);
            return false;
        }
    }
    return true;
}

/* Returns false when replay cannot go on (memory, the engine). */
static bool replay_packet(replay *r, const char *file, const wfp_packet *p)
{
    wfp_packet_outcome o;
    if (!r->have_t0) {
        r->t0 = p->time_ns;
        r->have_t0 = true;
    }
    uint64_t t = p->time_ns > r->t0 ? p->time_ns - r->t0 : 0;
    if (r->ncopies && !replay_copies(r, t, false)) return false;
    if (!replay_completions(r, t, false)) return false;
    r->packets++;
    if (t > r->now) r->now = t;
    if ((unsigned)p->status < WFP_PARSE_STATUS_COUNT) r->parse[p->status]++;
    if (p->status != WFP_PARSE_OK && p->status != WFP_PARSE_NOT_IP) {
        if (!r->malformed) r->first_malformed = r->packets;
        r->malformed++;
    }
    held_expire(r, false);

    uint32_t code = wfp_host_packet(r->host, r->now, p, &o);
    if (code) {
        const char *n = wfp_result_name(code);
        progress_clear(r);
        fprintf(stderr, "wfpsim replay: %s: record %" PRIu64 " (packet %" PRIu64 "): the simulation failed: %s (%s)\n",
                file, p->number, r->packets, n ? n : "error", wfp_engine_last_error(r->engine));
        set_rc(r, 1);
        return false;
    }
    int fate = fate_of(&o);
    bool passed = fate_passes(fate);
    if (!account(r, p, &o, fate, 0)) goto oom;

    if (fate == FATE_PENDED) {
        /* its verdict capture and final line come with the completion */
        uint8_t *bytes = malloc(p->cap_len ? p->cap_len : 1);
        if (!bytes) goto oom;
        rpended *pd = wfps_push((void **)&r->pended, &r->npended, &r->pended_cap, sizeof *pd);
        if (!pd) {
            free(bytes);
            goto oom;
        }
        if (p->cap_len) memcpy(bytes, p->data, p->cap_len);
        pd->bytes = bytes;
        pd->handle = o.pended;
        pd->number = r->packets;
        pd->caplen = p->cap_len;
        pd->wirelen = p->wire_len;
        pd->linktype = p->linktype;
        pd->time_ns = p->time_ns;
    } else if (r->perm || r->drop) {
        if (fate == FATE_HELD) {
            if (!held_add(r, p)) goto oom;
        } else {
            if (p->is_fragment && r->nheld) {
                uint8_t key[38];
                held_key(p, key);
                held_flush(r, key, passed);
            }
            write_raw(r, passed, p->data, p->cap_len, p->wire_len, p->time_ns);
        }
    }
    progress_step(r, p);
    return true;
oom:
    oom_message(r);
    return false;
}

/* Returns false when replay cannot go on. */
static bool replay_capture(replay *r, const char *path)
{
    char msg[1024];
    wfp_packet p;
    int rc;
    wfp_capture *c = wfp_capture_open(path, msg, sizeof msg);
    if (!c) {
        progress_clear(r);
        fprintf(stderr, "wfpsim replay: %s\n", msg);
        r->captures_failed++;
        set_rc(r, 2);
        return true;
    }
    uint32_t lt = wfp_capture_linktype(c);
    if ((r->perm_path || r->drop_path) && !r->writers_open) {
        if (!open_writers(r, lt)) {
            wfp_capture_close(c);
            set_rc(r, 1);
            return false;
        }
    } else if ((r->perm_path || r->drop_path) && lt != r->linktype) {
        const char *a = wfp_packet_linktype_name(lt), *b = wfp_packet_linktype_name(r->linktype);
        progress_clear(r);
        fprintf(stderr,
                "wfpsim replay: %s: link type %s (%u) differs from the first capture's, %s (%u), which the "
                "verdict captures have: skipped\n",
                path, a ? a : "?", (unsigned)lt, b ? b : "?", (unsigned)r->linktype);
        wfp_capture_close(c);
        r->captures_failed++;
        set_rc(r, 2);
        return true;
    }
    while ((rc = wfp_capture_next(c, &p)) == 1)
        if (!replay_packet(r, path, &p)) {
            wfp_capture_close(c);
            return false;
        }
    if (rc < 0) {
        progress_clear(r);
        fprintf(stderr, "wfpsim replay: %s (%" PRIu64 " packet%s before it replayed)\n", wfp_capture_error(c),
                wfp_capture_count(c), wfp_capture_count(c) == 1 ? "" : "s");
        r->captures_failed++;
        set_rc(r, 2);
    } else {
        r->captures_read++;
    }
    wfp_capture_close(c);
    return true;
}

/* ---- summary ------------------------------------------------------------ */

typedef struct row {
    const char *name;
    char idname[32];
    uint64_t permit, block;
} row;

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    uint64_t cx = x->permit + x->block, cy = y->permit + y->block;
    if (cx != cy) return cx > cy ? -1 : 1;
    int c = strcmp(x->name ? x->name : x->idname, y->name ? y->name : y->idname);
    if (c) return c;
    return 0;
}

static void print_rows(FILE *f, row *rows, size_t n)
{
    size_t w = 0;
    qsort(rows, n, sizeof *rows, cmp_row);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(rows[i].name ? rows[i].name : rows[i].idname);
        if (l > w) w = l;
    }
    if (w > 60) w = 60;
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-*s %10" PRIu64 "  (%" PRIu64 " permit, %" PRIu64 " block)\n", (int)w,
                rows[i].name ? rows[i].name : rows[i].idname, rows[i].permit + rows[i].block, rows[i].permit,
                rows[i].block);
    if (!n) fprintf(f, "  (none)\n");
}

static void print_breakdown(FILE *f, const replay *r, bool ignored)
{
    bool first = true;
    for (uint32_t d = 0; d < WFP_HOST_DISCARD_COUNT_; d++) {
        bool is_ignored = d == WFP_HOST_DISCARD_NOT_LOCAL || d == WFP_HOST_DISCARD_NOT_IP;
        bool is_block = d == WFP_HOST_DISCARD_FILTER || d == WFP_HOST_DISCARD_ABSORBED || d == WFP_HOST_DISCARD_REAUTH;
        if (d == WFP_HOST_DISCARD_NONE || !r->discard[d] || is_block || is_ignored != ignored) continue;
        fprintf(f, "%s%s %" PRIu64, first ? " (" : ", ", wfp_host_discard_name(d), r->discard[d]);
        first = false;
    }
    if (!first) fputc(')', f);
    fputc('\n', f);
}

static bool print_summary(FILE *f, const replay *r, size_t ncaptures)
{
    row *rows = calloc(r->nlayers + r->nfilters + 1, sizeof *rows);
    if (!rows) return false;
    fprintf(f, "captures: %zu (%zu read, %zu unreadable)\n", ncaptures, r->captures_read, r->captures_failed);
    fprintf(f, "packets: %" PRIu64 "\n", r->packets);
    fprintf(f, "permitted: %" PRIu64 "\n", r->fate[FATE_PERMITTED]);
    fprintf(f, "blocked: %" PRIu64, r->fate[FATE_BLOCKED]);
    if (r->discard[WFP_HOST_DISCARD_ABSORBED] || r->discard[WFP_HOST_DISCARD_REAUTH])
        fprintf(f, " (absorbed %" PRIu64 ", reauth_blocked %" PRIu64 ")", r->discard[WFP_HOST_DISCARD_ABSORBED],
                r->discard[WFP_HOST_DISCARD_REAUTH]);
    fputc('\n', f);
    fprintf(f, "dropped by the stack: %" PRIu64, r->fate[FATE_DROPPED]);
    print_breakdown(f, r, false);
    fprintf(f, "held for reassembly: %" PRIu64 "\n", r->fate[FATE_HELD]);
    if (r->injected) fprintf(f, "injected by callouts: %" PRIu64 " (counted in packets)\n", r->injected);
    if (r->completed || r->fate[FATE_PENDED])
        fprintf(f, "pended classifies completed: %" PRIu64 "; still pended: %" PRIu64 "\n", r->completed,
                r->fate[FATE_PENDED]);
    fprintf(f, "ignored: %" PRIu64, r->fate[FATE_IGNORED]);
    print_breakdown(f, r, true);
    fprintf(f, "malformed: %" PRIu64, r->malformed);
    if (r->malformed) {
        bool first = true;
        for (int s = 0; s < WFP_PARSE_STATUS_COUNT; s++) {
            if (s == WFP_PARSE_OK || s == WFP_PARSE_NOT_IP || !r->parse[s]) continue;
            fprintf(f, "%s%s %" PRIu64, first ? " (" : ", ", wfp_parse_status_name((wfp_parse_status)s), r->parse[s]);
            first = false;
        }
        fprintf(f, "; first: packet %" PRIu64 ")", r->first_malformed);
    }
    fputc('\n', f);
    fprintf(f, "verdicts: %" PRIu64 " permit, %" PRIu64 " block\n",
            r->fate[FATE_PERMITTED] + r->fate[FATE_HELD] + r->fate[FATE_IGNORED],
            r->fate[FATE_BLOCKED] + r->fate[FATE_DROPPED]);

    fprintf(f, "by deciding layer:\n");
    for (size_t i = 0; i < r->nlayers; i++) {
        rows[i].name = r->layers[i].name;
        snprintf(rows[i].idname, sizeof rows[i].idname, "layer#%u", (unsigned)r->layers[i].id);
        rows[i].permit = r->layers[i].permit;
        rows[i].block = r->layers[i].block;
    }
    print_rows(f, rows, r->nlayers);

    fprintf(f, "by deciding filter:\n");
    size_t n = 0;
    for (size_t i = 0; i < r->filters_cap; i++) {
        const filter_stat *fs = &r->filters[i];
        if (!fs->id) continue;
        rows[n].name = fs->name;
        snprintf(rows[n].idname, sizeof rows[n].idname, "#%" PRIu64, fs->id);
        rows[n].permit = fs->permit;
        rows[n].block = fs->block;
        n++;
    }
    print_rows(f, rows, n);
    free(rows);

    /* every classify a filter decided, at any layer (a permitted packet's
     * deciding layer is its last one: the permits of earlier layers show here) */
    size_t nc = wfp_host_filter_stat_count(r->host);
    rows = calloc(nc + 1, sizeof *rows);
    if (!rows) return false;
    for (size_t i = 0; i < nc; i++) {
        const wfp_host_filter_stat *hs = wfp_host_filter_stat_at(r->host, i);
        rows[i].name = filter_name_of(r, hs->filter_id);
        snprintf(rows[i].idname, sizeof rows[i].idname, "#%" PRIu64, hs->filter_id);
        rows[i].permit = hs->permits;
        rows[i].block = hs->blocks;
    }
    fprintf(f, "classify decisions by filter (every layer):\n");
    print_rows(f, rows, nc);
    free(rows);
    return true;
}

/* ---- setup -------------------------------------------------------------- */

static void print_errors(const wfp_yaml_errors *err, const char *fallback)
{
    for (size_t i = 0; i < err->kept; i++) fprintf(stderr, "%s\n", err->messages[i]);
    if (err->count > err->kept) fprintf(stderr, "(%lu more errors)\n", (unsigned long)(err->count - err->kept));
    if (!err->kept) fprintf(stderr, "wfpsim replay: %s\n", fallback);
}

/* "tcp:80", "udp:53", "tcp:8000-8080". */
static bool parse_listen(const char *text, wfp_host_socket_config *s)
{
    const char *colon = strchr(text, ':');
    char *end;
    unsigned long lo, hi;
    memset(s, 0, sizeof *s);
    if (!colon) return false;
    size_t pl = (size_t)(colon - text);
    if (pl == 3 && !strncmp(text, "tcp", 3)) s->protocol = WFP_SOCK_TCP;
    else if (pl == 3 && !strncmp(text, "udp", 3)) s->protocol = WFP_SOCK_UDP;
    else return false;
    if (colon[1] < '0' || colon[1] > '9') return false;
    lo = strtoul(colon + 1, &end, 10);
    hi = lo;
    if (*end == '-') {
        if (end[1] < '0' || end[1] > '9') return false;
        hi = strtoul(end + 1, &end, 10);
    }
    if (*end || lo > 65535 || hi > 65535 || hi < lo) return false;
    if (s->protocol == WFP_SOCK_TCP && hi - lo + 1 > WFP_HOST_MAX_LISTEN_PORTS) return false;
    s->port_lo = (uint16_t)lo;
    s->port_hi = (uint16_t)hi;
    s->listen = true;
    return true;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size < 0) return 0;
    return (uint64_t)st.st_size;
}

static wfp_session *open_admin_session(wfp_engine *e)
{
    wfp_session *s = NULL;
    wfp_session_desc d;
    memset(&d, 0, sizeof d);
    d.name = "default";
    d.admin = true;
    d.user_sid = "S-1-5-18";
    return wfp_session_open(e, &d, &s) ? NULL : s;
}

int wfp_cmd_replay(int argc, char **argv)
{
    const char *scenario_path = NULL, *policy_path = NULL, *host_name = NULL;
    const char **locals = NULL, **captures = NULL;
    wfp_host_socket_config *listens = NULL;
    size_t nlocals = 0, ncaptures = 0, nlistens = 0;
    bool adopt = false, force_progress = false, no_progress = false, dump = false;
    int rc = 2;
    replay r;
    wfp_yaml_errors err;
    wfp_yaml_doc *doc = NULL;
    wfp_scenario *sc = NULL;
    wfp_session *session = NULL;
    wfp_host_config cfg;
    wfp_engine_config ecfg;
    wfp_host_process_config proc;
    const wfp_yaml_node *policy_node = NULL;

    memset(&r, 0, sizeof r);
    r.progress_pct = -1;
    memset(&cfg, 0, sizeof cfg);
    memset(&ecfg, 0, sizeof ecfg);
    memset(&proc, 0, sizeof proc);
    wfp_yaml_errors_init(&err);
    size_t nargs = (size_t)(argc > 0 ? argc : 1);
    locals = calloc(nargs, sizeof *locals);
    captures = calloc(nargs, sizeof *captures);
    listens = calloc(nargs, sizeof *listens);
    if (!locals || !captures || !listens) {
        fprintf(stderr, "wfpsim replay: out of memory\n");
        rc = 1;
        goto out;
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        static const char *const valued[] = {"--scenario", "--policy", "--host", "--local", "--listen",
                                             "--write-permitted", "--write-dropped", NULL};
        const char *val = NULL;
        size_t k;
        for (k = 0; valued[k]; k++) {
            size_t l = strlen(valued[k]);
            if (!strcmp(a, valued[k])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "wfpsim replay: %s needs a value\n", a);
                    usage(stderr);
                    goto out;
                }
                val = argv[++i];
                break;
            }
            if (!strncmp(a, valued[k], l) && a[l] == '=') {
                val = a + l + 1;
                break;
            }
        }
        if (val) {
            switch (k) {
            case 0: scenario_path = val; break;
            case 1: policy_path = val; break;
            case 2: host_name = val; break;
            case 3: locals[nlocals++] = val; break;
            case 4:
                if (!parse_listen(val, &listens[nlistens])) {
                    fprintf(stderr, "wfpsim replay: --listen: expected tcp:PORT, udp:PORT or tcp:LOW-HIGH "
                                    "(at most %u TCP ports), not '%s'\n",
                            (unsigned)WFP_HOST_MAX_LISTEN_PORTS, val);
                    goto out;
                }
                nlistens++;
                break;
            case 5: r.perm_path = val; break;
            default: r.drop_path = val; break;
            }
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "--json")) {
            r.json = true;
        } else if (!strcmp(a, "--adopt-midstream")) {
            adopt = true;
        } else if (!strcmp(a, "--progress")) {
            force_progress = true;
        } else if (!strcmp(a, "--no-progress")) {
            no_progress = true;
        } else if (!strcmp(a, "--")) {
            while (++i < argc) captures[ncaptures++] = argv[i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "wfpsim replay: unknown option '%s'\n", a);
            usage(stderr);
            goto out;
        } else {
            captures[ncaptures++] = a;
        }
    }
    if (!scenario_path == !policy_path) {
        fprintf(stderr, "wfpsim replay: give either --scenario FILE or --policy FILE --local ADDR\n");
        usage(stderr);
        goto out;
    }
    if (policy_path && !nlocals) {
        fprintf(stderr, "wfpsim replay: --policy needs the host's addresses: --local ADDR\n");
        goto out;
    }
    if (scenario_path && (nlocals || nlistens)) {
        fprintf(stderr, "wfpsim replay: --local and --listen go with --policy (a scenario's host has its own)\n");
        goto out;
    }
    if (host_name && !scenario_path) {
        fprintf(stderr, "wfpsim replay: --host goes with --scenario\n");
        goto out;
    }
    if (!ncaptures) {
        fprintf(stderr, "wfpsim replay: no capture given\n");
        usage(stderr);
        goto out;
    }
    if (r.perm_path && r.drop_path && !strcmp(r.perm_path, r.drop_path)) {
        fprintf(stderr, "wfpsim replay: --write-permitted and --write-dropped name the same file\n");
        goto out;
    }

    /* ---- the host and its policy ---- */
    if (scenario_path) {
        sc = wfp_scenario_load(scenario_path, &err);
        if (!sc) {
            print_errors(&err, "unusable scenario");
            goto out;
        }
        size_t h = 0;
        if (host_name) {
            int hi = wfps_host_index(sc, host_name);
            if (hi < 0) {
                fprintf(stderr, "wfpsim replay: %s: no host named '%s'\n", scenario_path, host_name);
                goto out;
            }
            h = (size_t)hi;
        }
        if (!sc->nhosts) {
            fprintf(stderr, "wfpsim replay: %s: the scenario has no host\n", scenario_path);
            goto out;
        }
        cfg = sc->hosts[h].cfg;
        ecfg.or_mode = sc->engine.or_mode;
        policy_node = sc->hosts[h].policy;
    } else {
        cfg.name = "replay";
        cfg.addresses = locals;
        cfg.num_addresses = nlocals;
        if (nlistens) {
            proc.name = "replay";
            proc.sockets = listens;
            proc.num_sockets = nlistens;
            cfg.processes = &proc;
            cfg.num_processes = 1;
        }
        dump = wfp_import_looks_like_dump(policy_path);
        if (!dump) {
            policy_node = wfp_policy_file_load(policy_path, &doc, &err);
            if (!policy_node) {
                print_errors(&err, "unusable policy");
                goto out;
            }
        }
    }
    if (adopt) cfg.adopt_midstream_tcp = true;
    cfg.engine = &ecfg;
    {
        char msg[512];
        r.host = wfp_host_create(&cfg, msg, sizeof msg);
        if (!r.host) {
            fprintf(stderr, "wfpsim replay: host '%s': %s\n", cfg.name ? cfg.name : "?", msg);
            goto out;
        }
    }
    r.engine = wfp_host_engine(r.host);
    r.policy = wfp_policy_create();
    wfp_policy_set_host(r.policy, r.host);
    wfp_host_set_injector(r.host, on_inject, &r);
    session = open_admin_session(r.engine);
    if (!r.policy || !session) {
        fprintf(stderr, "wfpsim replay: cannot set up the host: %s\n",
                r.policy ? wfp_engine_last_error(r.engine) : "out of memory");
        rc = 1;
        goto out;
    }
    {
        /* one transaction: one classify snapshot per layer at the commit,
         * not one per filter added; the end state is what a scenario's
         * policy: (or the dump) adds */
        uint32_t code = wfp_txn_begin(session, 0);
        if (code) {
            fprintf(stderr, "wfpsim replay: cannot begin a transaction: %s\n", wfp_engine_last_error(r.engine));
            rc = 1;
            goto out;
        }
        if (policy_node && !wfp_policy_apply(r.policy, session, policy_node, &err)) {
            wfp_txn_abort(session);
            print_errors(&err, "unusable policy");
            goto out;
        }
        if (dump) {
            /* a `netsh wfp show state/filters` dump: its filters keep Windows'
             * ids and weights; their names are the dump's display names */
            char msg[1024];
            wfp_import_report rep;
            memset(&rep, 0, sizeof rep);
            msg[0] = 0;
            if (!wfp_import_load_file(policy_path, session, &rep, NULL, msg, sizeof msg)) {
                wfp_txn_abort(session);
                fprintf(stderr, "wfpsim replay: %s\n", msg[0] ? msg : "unusable WFP dump");
                goto out;
            }
            size_t refused = rep.providers_failed + rep.sublayers_failed + rep.callouts_failed + rep.filters_failed;
            if (refused)
                fprintf(stderr,
                        "wfpsim replay: %s: %zu object(s) of the dump could not be added ('wfpsim import %s' "
                        "says which)\n",
                        policy_path, refused, policy_path);
        }
        if ((code = wfp_txn_commit(session)) != 0) {
            const char *n = wfp_result_name(code);
            fprintf(stderr, "wfpsim replay: the policy could not be committed: %s (%s)\n", n ? n : "error",
                    wfp_engine_last_error(r.engine));
            rc = 1;
            goto out;
        }
    }
    {
        uint32_t code = wfp_host_start(r.host, 0, NULL);
        if (code) {
            const char *n = wfp_result_name(code);
            fprintf(stderr, "wfpsim replay: the host did not start: %s (%s)\n", n ? n : "error",
                    wfp_engine_last_error(r.engine));
            rc = 1;
            goto out;
        }
    }

    /* ---- the captures ---- */
    if (!no_progress) {
        bool tty = replay_isatty(stderr) && !(r.json && replay_isatty(stdout));
        for (size_t i = 0; i < ncaptures; i++) r.total_bytes += file_size(captures[i]);
        r.progress = force_progress || (tty && r.total_bytes >= PROGRESS_MIN_BYTES);
    }
    {
        bool going = true;
        for (size_t i = 0; i < ncaptures && going; i++) going = replay_capture(&r, captures[i]);
        /* copies and completions due after the last packet, in time order */
        while (going && (r.ncopies || wfp_host_next_completion(r.host, NULL, NULL))) {
            uint64_t at = UINT64_MAX;
            (void)wfp_host_next_completion(r.host, &at, NULL);
            for (size_t i = 0; i < r.ncopies; i++)
                if (r.copies[i].at < at) at = r.copies[i].at;
            going = replay_copies(&r, at, false) && replay_completions(&r, at, false);
        }
    }
    held_expire(&r, true); /* datagrams never completed */
    if (r.progress && r.progress_pct >= 0) {
        progress_draw(&r, 100);
        progress_clear(&r);
    }
    if (r.json && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "wfpsim replay: could not write the output\n");
        set_rc(&r, 1);
    }
    if (wfp_capture_writer_close(r.perm) != 0) {
        fprintf(stderr, "wfpsim replay: %s: could not write the capture\n", r.perm_path);
        set_rc(&r, 1);
    }
    if (wfp_capture_writer_close(r.drop) != 0) {
        fprintf(stderr, "wfpsim replay: %s: could not write the capture\n", r.drop_path);
        set_rc(&r, 1);
    }
    r.perm = r.drop = NULL;
    {
        FILE *sf = r.json ? stderr : stdout;
        if (!print_summary(sf, &r, ncaptures)) {
            fprintf(stderr, "wfpsim replay: out of memory\n");
            set_rc(&r, 1);
        }
        if (fflush(sf) != 0 || ferror(sf)) set_rc(&r, 1);
    }
    rc = r.rc;
out:
    wfp_capture_writer_close(r.perm);
    wfp_capture_writer_close(r.drop);
    for (size_t i = 0; i < r.nheld; i++) free(r.held[i].bytes);
    free(r.held);
    for (size_t i = 0; i < r.ncopies; i++) free(r.copies[i].bytes);
    free(r.copies);
    for (size_t i = 0; i < r.npended; i++) free(r.pended[i].bytes);
    free(r.pended);
    free(r.layers);
    free(r.filters);
    /* the engine calls into the policy: the host (and its engine) go first */
    wfp_session_close(session);
    wfp_host_destroy(r.host);
    wfp_policy_destroy(r.policy);
    wfp_yaml_doc_free(doc);
    wfp_scenario_free(sc);
    wfp_yaml_errors_clear(&err);
    free(locals);
    free(captures);
    free(listens);
    return rc;
}
