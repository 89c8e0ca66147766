/* fuzz_capture.c — fuzz target for capture reading (pcap/capture.c over
 * libpcap) and writing: the input is written to a temporary file and read
 * through wfp_capture_*; every packet read is written again with the
 * writer and must read back identical (bytes, lengths, nanosecond time).
 * A reading error must name the file and never come before the packets
 * libpcap could read. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* mkstemp, close, unlink */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wfp_capture.h"

#ifdef _WIN32
#include <io.h>
#include <process.h>
#else
#include <unistd.h>
#endif

#define MAX_PACKETS 2000

/* Creates a unique temporary file holding data; path gets its name. */
static int temp_file(const uint8_t *data, size_t size, char *path, size_t cap)
{
    FILE *f;
#ifdef _WIN32
    const char *dir = getenv("TEMP");
    static unsigned counter; /* test-only state */

    snprintf(path, cap, "%s\\wfp_fuzz_%d_%u.pcap", dir ? dir : ".", _getpid(), counter++);
    f = fopen(path, "wb");
    if (f == NULL)
        return -1;
#else
    const char *dir = getenv("TMPDIR");
    int fd;

    snprintf(path, cap, "%s/wfp_fuzz_XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0)
        return -1;
    f = fdopen(fd, "wb");
    if (f == NULL) {
        close(fd);
        unlink(path);
        return -1;
    }
#endif
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        remove(path);
        return -1;
    }
    fclose(f);
    return 0;
}

typedef struct kept {
    uint8_t *data;
    uint32_t caplen, wirelen;
    uint64_t time_ns;
} kept;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in_path[512], out_path[512], err[1024];
    wfp_capture *c;
    wfp_capture_writer *w = NULL;
    wfp_packet p;
    kept *ks = NULL;
    size_t nk = 0, i;
    int rc = 0;

    out_path[0] = '\0';
    if (size > 200000)
        return 0;
    if (temp_file(data, size, in_path, sizeof in_path) != 0)
        return 0;
    c = wfp_capture_open(in_path, err, sizeof err);
    if (c == NULL) {
        FUZZ_CHECK(strstr(err, in_path) != NULL);
        remove(in_path);
        return 0;
    }
    ks = calloc(MAX_PACKETS, sizeof *ks);
    FUZZ_CHECK(ks != NULL);
    if (temp_file(NULL, 0, out_path, sizeof out_path) == 0)
        w = wfp_capture_writer_open(out_path, wfp_capture_linktype(c), 0, err, sizeof err);
    while (nk < MAX_PACKETS && (rc = wfp_capture_next(c, &p)) == 1) {
        FUZZ_CHECK(p.number == nk + 1);
        FUZZ_CHECK(p.cap_len <= p.wire_len);
        FUZZ_CHECK(p.linktype == wfp_capture_linktype(c));
        FUZZ_CHECK((unsigned)p.status < (unsigned)WFP_PARSE_STATUS_COUNT);
        if (p.status == WFP_PARSE_OK && p.ip_version != 0)
            FUZZ_CHECK((uint64_t)p.payload_offset + p.payload_caplen <= p.cap_len);
        if (w != NULL && p.cap_len <= 262144 && wfp_capture_write(w, &p) == 0) {
            kept *k = &ks[nk];

            k->data = malloc(p.cap_len ? p.cap_len : 1);
            FUZZ_CHECK(k->data != NULL);
            if (p.cap_len)
                memcpy(k->data, p.data, p.cap_len);
            k->caplen = p.cap_len;
            k->wirelen = p.wire_len;
            k->time_ns = p.time_ns;
        }
        nk++;
    }
    FUZZ_CHECK(wfp_capture_count(c) == nk);
    if (rc < 0) {
        FUZZ_CHECK(strstr(wfp_capture_error(c), in_path) != NULL);
        FUZZ_CHECK(wfp_capture_next(c, &p) == -1);
    } else if (rc == 0) {
        FUZZ_CHECK(wfp_capture_next(c, &p) == 0);
    }
    wfp_capture_close(c);

    if (w != NULL) {
        FUZZ_CHECK(wfp_capture_writer_close(w) == 0);
        c = wfp_capture_open(out_path, err, sizeof err);
        FUZZ_CHECK(c != NULL);
        for (i = 0; i < nk; i++) {
            if (ks[i].data == NULL)
                continue; /* not written (time past the 32-bit seconds) */
            FUZZ_CHECK(wfp_capture_next(c, &p) == 1);
            FUZZ_CHECK(p.cap_len == ks[i].caplen && p.wire_len == ks[i].wirelen);
            FUZZ_CHECK(p.time_ns == ks[i].time_ns);
            FUZZ_CHECK(p.cap_len == 0 || memcmp(p.data, ks[i].data, p.cap_len) == 0);
        }
        FUZZ_CHECK(wfp_capture_next(c, &p) == 0);
        wfp_capture_close(c);
    }
    for (i = 0; i < nk; i++)
        free(ks[i].data);
    free(ks);
    remove(in_path);
    if (out_path[0])
        remove(out_path);
    return 0;
}
