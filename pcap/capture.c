/* capture.c — capture files in and out through libpcap (see wfp_capture.h).
 *
 * libpcap does the file formats (pcap in both byte orders and precisions,
 * pcapng with its blocks); this file numbers records, converts timestamps
 * to integer nanoseconds, maps the platform's DLT_* numbers to the
 * platform-independent LINKTYPE_* numbers the parser takes, and turns
 * libpcap's errors into messages that name the file and the record. */
/* libpcap's headers use the BSD u_char/u_int types, which glibc declares
 * only outside strict ISO C mode. */
#if !defined(_WIN32) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1
#endif

#include "wfp_capture.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000ull
#define DEFAULT_SNAPLEN 262144u

struct wfp_capture {
    pcap_t *pcap;
    char *path;
    uint32_t linktype;
    uint32_t snaplen;
    uint64_t count;
    int state; /* 1 reading, 0 ended, -1 failed */
    size_t errcap;
    char *err;
};

struct wfp_capture_writer {
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint32_t snaplen;
};

static void set_err(char *err, size_t errlen, const char *fmt_path, const char *detail)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: %s", fmt_path, detail);
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

/* The platform's DLT_* value -> LINKTYPE_* (they differ for RAW and LOOP
 * on some systems, e.g. OpenBSD numbers DLT_LOOP 12 and DLT_RAW 14). */
static uint32_t dlt_to_linktype(int dlt)
{
    if (dlt == DLT_RAW)
        return WFP_LINKTYPE_RAW;
#ifdef DLT_LOOP
    if (dlt == DLT_LOOP)
        return WFP_LINKTYPE_LOOP;
#endif
    return (uint32_t)dlt;
}

static int linktype_to_dlt(uint32_t linktype)
{
    if (linktype == WFP_LINKTYPE_RAW || linktype == WFP_LINKTYPE_DLT_RAW)
        return DLT_RAW;
#ifdef DLT_LOOP
    if (linktype == WFP_LINKTYPE_LOOP)
        return DLT_LOOP;
#endif
    return (int)linktype;
}

wfp_capture *wfp_capture_open(const char *path, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    wfp_capture *c = NULL;
    pcap_t *pc;
    int snap;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL) {
        set_err(err, errlen, "(null)", "no capture file named");
        return NULL;
    }
    ebuf[0] = '\0';
    pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (pc == NULL) {
        set_err(err, errlen, path, ebuf[0] ? ebuf : "cannot open capture");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL)
        goto nomem;
    c->pcap = pc;
    c->path = dup_string(path);
    c->errcap = strlen(path) + PCAP_ERRBUF_SIZE + 160;
    c->err = calloc(1, c->errcap);
    if (c->path == NULL || c->err == NULL)
        goto nomem;
    c->linktype = dlt_to_linktype(pcap_datalink(pc));
    snap = pcap_snapshot(pc);
    c->snaplen = snap > 0 ? (uint32_t)snap : 0;
    c->state = 1;
    if (!wfp_packet_linktype_supported(c->linktype)) {
        char msg[160];
        const char *name = pcap_datalink_val_to_name(pcap_datalink(pc));

        snprintf(msg, sizeof msg,
                 "link type %lu (%s) is not supported; supported: EN10MB, LINUX_SLL, LINUX_SLL2, "
                 "RAW, IPV4, IPV6, NULL, LOOP",
                 (unsigned long)c->linktype, name ? name : "unknown");
        set_err(err, errlen, path, msg);
        wfp_capture_close(c);
        return NULL;
    }
    return c;

nomem:
    set_err(err, errlen, path, "out of memory");
    if (c != NULL) {
        c->pcap = NULL;
        wfp_capture_close(c);
    }
    pcap_close(pc);
    return NULL;
}

/* A struct timeval's seconds as the unsigned count files store: on
 * platforms with a 32-bit signed tv_sec (Windows) dates past 2038 wrap. */
static uint64_t ts_to_ns(const struct pcap_pkthdr *h)
{
    uint64_t sec;

    uint64_t frac = (uint64_t)(h->ts.tv_usec >= 0 ? h->ts.tv_usec : 0);

    if (h->ts.tv_sec >= 0)
        sec = (uint64_t)h->ts.tv_sec;
    else
        sec = (uint64_t)(uint32_t)h->ts.tv_sec;
    /* pcapng can carry 64-bit times past what fits in uint64 ns: saturate. */
    if (sec > (UINT64_MAX - frac) / NS_PER_S)
        return UINT64_MAX;
    return sec * NS_PER_S + frac;
}

int wfp_capture_next(wfp_capture *c, wfp_packet *out)
{
    struct pcap_pkthdr *h = NULL;
    const u_char *d = NULL;
    int rc;

    if (c == NULL || out == NULL)
        return -1;
    if (c->state != 1)
        return c->state;
    rc = pcap_next_ex(c->pcap, &h, &d);
    if (rc == 1) {
        c->count++;
        wfp_packet_parse(c->linktype, d, h->caplen, h->len, ts_to_ns(h), out);
        out->number = c->count;
        return 1;
    }
    if (rc == PCAP_ERROR_BREAK) {
        c->state = 0;
        return 0;
    }
    {
        const char *why = rc == 0 ? "no packet available" : pcap_geterr(c->pcap);
        const char *hint = "";

        /* libpcap (up to at least 1.10) refuses pcapng sections whose
         * interfaces differ in link type or snaplen. */
        if (strstr(why, "different from the type of the first interface") != NULL ||
            strstr(why, "different from the snapshot length of the first interface") != NULL)
            hint = " (a pcapng whose interfaces differ in link type or snaplen: libpcap cannot read it; "
                   "split it per interface, e.g. with editcap or tshark)";
        snprintf(c->err, c->errcap, "%s: record %llu: %s%s", c->path, (unsigned long long)c->count + 1,
                 why, hint);
    }
    c->state = -1;
    return -1;
}

const char *wfp_capture_error(const wfp_capture *c)
{
    return c != NULL && c->err != NULL ? c->err : "";
}

uint32_t wfp_capture_linktype(const wfp_capture *c)
{
    return c != NULL ? c->linktype : 0;
}

uint32_t wfp_capture_snaplen(const wfp_capture *c)
{
    return c != NULL ? c->snaplen : 0;
}

uint64_t wfp_capture_count(const wfp_capture *c)
{
    return c != NULL ? c->count : 0;
}

void wfp_capture_close(wfp_capture *c)
{
    if (c == NULL)
        return;
    if (c->pcap != NULL)
        pcap_close(c->pcap);
    free(c->path);
    free(c->err);
    free(c);
}

/* ---- writing ------------------------------------------------------------ */

wfp_capture_writer *wfp_capture_writer_open(const char *path, uint32_t linktype, uint32_t snaplen,
                                            char *err, size_t errlen)
{
    wfp_capture_writer *w;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL) {
        set_err(err, errlen, "(null)", "no capture file named");
        return NULL;
    }
    if (snaplen == 0)
        snaplen = DEFAULT_SNAPLEN;
    if (snaplen > (uint32_t)INT32_MAX) {
        set_err(err, errlen, path, "snaplen too large");
        return NULL;
    }
    w = calloc(1, sizeof *w);
    if (w == NULL) {
        set_err(err, errlen, path, "out of memory");
        return NULL;
    }
    w->snaplen = snaplen;
    w->dead = pcap_open_dead_with_tstamp_precision(linktype_to_dlt(linktype), (int)snaplen,
                                                   PCAP_TSTAMP_PRECISION_NANO);
    if (w->dead == NULL) {
        set_err(err, errlen, path, "pcap_open_dead failed");
        free(w);
        return NULL;
    }
    w->dumper = pcap_dump_open(w->dead, path);
    if (w->dumper == NULL) {
        set_err(err, errlen, path, pcap_geterr(w->dead));
        pcap_close(w->dead);
        free(w);
        return NULL;
    }
    return w;
}

int wfp_capture_write_raw(wfp_capture_writer *w, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                          uint64_t time_ns)
{
    struct pcap_pkthdr h;
    uint64_t sec = time_ns / NS_PER_S;

    if (w == NULL || (data == NULL && caplen != 0))
        return -1;
    if (sec > UINT32_MAX) /* the file format stores 32-bit seconds */
        return -1;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (long)sec;
    h.ts.tv_usec = (long)(time_ns % NS_PER_S); /* nanoseconds: the dumper is NANO */
    if (caplen > w->snaplen)
        caplen = w->snaplen;
    h.caplen = caplen;
    h.len = wirelen < caplen ? caplen : wirelen;
    pcap_dump((u_char *)w->dumper, &h, data != NULL ? data : (const u_char *)"");
    return 0;
}

int wfp_capture_write(wfp_capture_writer *w, const wfp_packet *p)
{
    if (p == NULL)
        return -1;
    return wfp_capture_write_raw(w, p->data, p->cap_len, p->wire_len, p->time_ns);
}

int wfp_capture_writer_close(wfp_capture_writer *w)
{
    int rc = 0;

    if (w == NULL)
        return 0;
    /* pcap_dump_flush reports a failed write; ferror() on pcap_dump_file()
     * is avoided because on Windows that FILE belongs to libpcap's C runtime. */
    if (pcap_dump_flush(w->dumper) != 0)
        rc = -1;
    pcap_dump_close(w->dumper);
    pcap_close(w->dead);
    free(w);
    return rc;
}
