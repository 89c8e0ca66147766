/* wfp_capture.h — reading and writing capture files through libpcap.
 *
 * Reading streams one record at a time (pcap or pcapng, any byte order, at
 * nanosecond precision) and hands each record to wfp_packet_parse(); a
 * record whose headers are malformed is still returned (its status says
 * so) because the caller counts and reports it. Writing produces classic
 * nanosecond pcap files whose bytes depend only on what is written (no
 * wall clock), so golden files can be compared byte for byte.
 *
 * Handles are opaque; wfp_capture_close / wfp_capture_writer_close accept
 * NULL. Nothing here has global state. */
#ifndef WFP_CAPTURE_H
#define WFP_CAPTURE_H

#include "wfp_packet.h"

typedef struct wfp_capture wfp_capture;
typedef struct wfp_capture_writer wfp_capture_writer;

/* Opens a pcap or pcapng file. NULL on failure with a message naming the
 * file in err (errlen bytes, always NUL-terminated when errlen > 0). */
wfp_capture *wfp_capture_open(const char *path, char *err, size_t errlen);

/* Reads the next record into *out (parsed; out->number counts from 1).
 * Returns 1 for a packet, 0 at the end of the file, -1 when the file is
 * corrupt from here on (wfp_capture_error says why, naming the file and
 * the record number); after 0 or -1 every later call returns the same.
 * out->data points into the handle's buffer and stays valid until the next
 * call on the same handle or its close. */
int wfp_capture_next(wfp_capture *c, wfp_packet *out);

/* The last error ("" if none). Valid until the next call on the handle. */
const char *wfp_capture_error(const wfp_capture *c);

/* LINKTYPE_* of the file (of its first interface for pcapng). */
uint32_t wfp_capture_linktype(const wfp_capture *c);
uint32_t wfp_capture_snaplen(const wfp_capture *c);
/* Packets returned so far. */
uint64_t wfp_capture_count(const wfp_capture *c);

void wfp_capture_close(wfp_capture *c);

/* Creates (truncates) a classic pcap file with nanosecond timestamps.
 * linktype is a WFP_LINKTYPE_* value; snaplen 0 means 262144. NULL on
 * failure with a message in err. */
wfp_capture_writer *wfp_capture_writer_open(const char *path, uint32_t linktype, uint32_t snaplen,
                                            char *err, size_t errlen);

/* Appends p->data (cap_len bytes, cut to the snaplen) with p->time_ns and
 * p->wire_len. Returns 0, or -1 on a bad argument. */
int wfp_capture_write(wfp_capture_writer *w, const wfp_packet *p);

/* The same from loose values: bytes, captured and wire length, time. */
int wfp_capture_write_raw(wfp_capture_writer *w, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                          uint64_t time_ns);

/* Flushes and closes. Returns 0, or -1 if writing failed at any point. */
int wfp_capture_writer_close(wfp_capture_writer *w);

#endif
