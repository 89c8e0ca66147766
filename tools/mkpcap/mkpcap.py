#!/usr/bin/env python3
"""mkpcap.py — small, deterministic captures for wfpsim scenarios and tests.

Python standard library only. Builds IPv4/IPv6 packets with TCP, UDP, ICMP
and ICMPv6 (correct checksums), fragments them, frames them (raw, Ethernet
with optional 802.1Q tags, Linux cooked v1/v2, BSD loopback) and writes
classic pcap (micro- or nanosecond, either byte order) or pcapng. Same
arguments, same bytes: no clock, no randomness.

Use as a module (import mkpcap) or from the command line:

    mkpcap.py list
    mkpcap.py tcp-handshake out.pcap [--ipv6] [--link raw|ether|sll|sll2|null]
                                      [--format pcap|pcap-us|pcapng] [--big-endian]

Samples: tcp-handshake (SYN, SYN/ACK, ACK, request, response, FINs),
udp-dns (query and answer), icmp-echo, icmp-port-unreachable (a UDP query
and the ICMP error quoting it), fragments (a 3000-byte UDP datagram in
fragments: IPv4, or IPv6 with --ipv6; --fragment-size sets the fragment
size), tcp-rst (SYN answered by RST), port-scan (SYNs to ten TCP ports and
three empty UDP probes from 198.51.100.7 / 2001:db8::bad).
Client 10.0.0.2 / 2001:db8::2, server 93.184.216.34 / 2001:db8::80.
"""
import argparse
import ipaddress
import struct
import sys

LINKTYPES = {"null": 0, "ether": 1, "raw": 101, "sll": 113, "sll2": 276}

TCP_FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def addr(a: str) -> bytes:
    return ipaddress.ip_address(a).packed


def _pseudo(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def tcp(src, dst, sport, dport, flags="", seq=0, ack=0, window=65535, payload=b""):
    fl = 0
    for c in flags.upper():
        fl |= TCP_FLAGS[c]
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, fl, window, 0, 0)
    seg = hdr + payload
    c = checksum(_pseudo(addr(src), addr(dst), 6, len(seg)) + seg)
    return 6, seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload=b""):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = checksum(_pseudo(addr(src), addr(dst), 17, len(seg)) + seg) or 0xFFFF
    return 17, seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp(type_, code, ident=0, seq=0, payload=b""):
    msg = struct.pack("!BBHHH", type_, code, 0, ident, seq) + payload
    return 1, msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def icmp6(src, dst, type_, code, ident=0, seq=0, payload=b""):
    msg = struct.pack("!BBHHH", type_, code, 0, ident, seq) + payload
    c = checksum(_pseudo(addr(src), addr(dst), 58, len(msg)) + msg)
    return 58, msg[:2] + struct.pack("!H", c) + msg[4:]


def ip(src, dst, l4, ttl=128, ident=0, df=False, flow_label=0):
    """An IPv4 or IPv6 packet around l4 = (protocol, bytes)."""
    proto, body = l4
    s, d = addr(src), addr(dst)
    if len(s) == 4:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, 0x4000 if df else 0,
                          ttl, proto, 0, s, d)
        return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + body
    return struct.pack("!IHBB16s16s", (6 << 28) | flow_label, len(body), proto, ttl, s, d) + body


def fragment(pkt: bytes, size: int, ident: int = 0x1234):
    """Splits a raw IPv4 (20-byte header) or IPv6 (no extension headers)
    packet into fragments carrying at most `size` data bytes (rounded down
    to a multiple of 8)."""
    size -= size % 8
    out = []
    if pkt[0] >> 4 == 4:
        hdr, data = bytearray(pkt[:20]), pkt[20:]
        for off in range(0, len(data), size):
            chunk = data[off:off + size]
            more = off + size < len(data)
            h = bytearray(hdr)
            struct.pack_into("!HHH", h, 2, 20 + len(chunk), struct.unpack("!H", hdr[4:6])[0],
                             (struct.unpack("!H", hdr[6:8])[0] & 0x4000) | (0x2000 if more else 0) | off // 8)
            h[10:12] = b"\0\0"
            h[10:12] = struct.pack("!H", checksum(bytes(h)))
            out.append(bytes(h) + chunk)
        return out
    hdr, data = bytearray(pkt[:40]), pkt[40:]
    nh = hdr[6]
    for off in range(0, len(data), size):
        chunk = data[off:off + size]
        more = off + size < len(data)
        h = bytearray(hdr)
        h[6] = 44
        struct.pack_into("!H", h, 4, 8 + len(chunk))
        out.append(bytes(h) + struct.pack("!BBHI", nh, 0, off | (1 if more else 0), ident) + chunk)
    return out


def frame(pkt: bytes, link: str, outbound: bool = True, vlans=()) -> bytes:
    """Puts a raw IP packet in a link-layer frame."""
    v6 = pkt[0] >> 4 == 6
    etype = 0x86DD if v6 else 0x0800
    if link == "raw":
        return pkt
    if link == "ether":
        src, dst = bytes.fromhex("020000000002"), bytes.fromhex("020000000001")
        if not outbound:
            src, dst = dst, src
        tags = b"".join(struct.pack("!HH", 0x8100, vid & 0xFFF) for vid in vlans)
        return dst + src + tags + struct.pack("!H", etype) + pkt
    if link == "sll":
        return struct.pack("!HHH8sH", 4 if outbound else 0, 1, 6, bytes.fromhex("0200000000020000"), etype) + pkt
    if link == "sll2":
        return struct.pack("!HHIHBB8s", etype, 0, 2, 1, 4 if outbound else 0, 6,
                           bytes.fromhex("0200000000020000")) + pkt
    if link == "null":
        return struct.pack("<I", 30 if v6 else 2) + pkt  # little-endian host, Darwin AF_INET6
    raise ValueError("unknown link " + link)


def write_pcap(path, linktype, packets, nano=True, big_endian=False, snaplen=262144):
    """packets: iterable of (time_ns, bytes) or (time_ns, bytes, wire_len)."""
    e = ">" if big_endian else "<"
    with open(path, "wb") as f:
        f.write(struct.pack(e + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for p in packets:
            t, data = p[0], p[1]
            wire = p[2] if len(p) > 2 else len(data)
            data = data[:snaplen]
            frac = t % 1_000_000_000 if nano else (t % 1_000_000_000) // 1000
            f.write(struct.pack(e + "IIII", t // 1_000_000_000, frac, len(data), wire) + data)


def write_pcapng(path, linktype, packets, big_endian=False, snaplen=262144):
    """One section, one interface with if_tsresol 9 (nanoseconds)."""
    e = ">" if big_endian else "<"

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)

    opts = struct.pack(e + "HH", 9, 1) + b"\x09\0\0\0" + struct.pack(e + "HH", 0, 0)
    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts))
        for p in packets:
            t, data = p[0], p[1]
            wire = p[2] if len(p) > 2 else len(data)
            data = data[:snaplen]
            body = struct.pack(e + "IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(data), wire) + data
            f.write(block(6, body))


# ---- samples ---------------------------------------------------------------

def _hosts(v6):
    return ("2001:db8::2", "2001:db8::80") if v6 else ("10.0.0.2", "93.184.216.34")


def sample_tcp_handshake(v6):
    c, s = _hosts(v6)
    req = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"
    resp = b"HTTP/1.1 204 No Content\r\n\r\n"
    seg = [
        (c, s, 49152, 80, "S", 1000, 0, b""),
        (s, c, 80, 49152, "SA", 5000, 1001, b""),
        (c, s, 49152, 80, "A", 1001, 5001, b""),
        (c, s, 49152, 80, "PA", 1001, 5001, req),
        (s, c, 80, 49152, "PA", 5001, 1001 + len(req), resp),
        (c, s, 49152, 80, "FA", 1001 + len(req), 5001 + len(resp), b""),
        (s, c, 80, 49152, "FA", 5001 + len(resp), 1002 + len(req), b""),
        (c, s, 49152, 80, "A", 1002 + len(req), 5002 + len(resp), b""),
    ]
    return [(src == c, ip(src, dst, tcp(src, dst, sp, dp, fl, sq, ak, payload=pl)))
            for src, dst, sp, dp, fl, sq, ak, pl in seg]


def _dns_query():
    return bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")


def sample_udp_dns(v6):
    c, s = _hosts(v6)
    q = _dns_query()
    a = bytearray(q)
    a[2:4] = b"\x81\x80"
    a[6:8] = b"\x00\x01"
    a += bytes.fromhex("c00c000100010000012c00045db8d822")
    return [(True, ip(c, s, udp(c, s, 53000, 53, q))), (False, ip(s, c, udp(s, c, 53, 53000, bytes(a))))]


def sample_icmp_echo(v6):
    c, s = _hosts(v6)
    data = bytes(range(32))
    if v6:
        return [(True, ip(c, s, icmp6(c, s, 128, 0, 1, 1, data))), (False, ip(s, c, icmp6(s, c, 129, 0, 1, 1, data)))]
    return [(True, ip(c, s, icmp(8, 0, 1, 1, data))), (False, ip(s, c, icmp(0, 0, 1, 1, data)))]


def sample_icmp_port_unreachable(v6):
    c, s = _hosts(v6)
    query = ip(c, s, udp(c, s, 53000, 53, _dns_query()))
    if v6:
        err = ip(s, c, icmp6(s, c, 1, 4, 0, 0, query))
    else:
        err = ip(s, c, icmp(3, 3, 0, 0, query[:28]))
    return [(True, query), (False, err)]


def sample_fragments(v6, size=None):
    """size: data bytes per fragment (default 1480, IPv6 1232); 800 gives 4."""
    c, s = _hosts(v6)
    whole = ip(s, c, udp(s, c, 53, 53000, bytes(i % 251 for i in range(3000))), ident=0x4242)
    return [(False, f) for f in fragment(whole, size or (1232 if v6 else 1480), ident=0x4242)]


def sample_tcp_rst(v6):
    c, s = _hosts(v6)
    return [(True, ip(c, s, tcp(c, s, 49153, 81, "S", 77))), (False, ip(s, c, tcp(s, c, 81, 49153, "RA", 0, 78)))]


SCANNER = {False: "198.51.100.7", True: "2001:db8::bad"}
SCAN_TCP_PORTS = (21, 22, 23, 25, 80, 135, 443, 445, 3389, 8080)
SCAN_UDP_PORTS = (53, 123, 161)


def sample_port_scan(v6):
    """A SYN scan of the client's usual ports, then empty UDP probes: all
    inbound, from the scanner 198.51.100.7 / 2001:db8::bad, source port
    61000 (TCP, sequence 424242) and 61001 (UDP)."""
    c, _ = _hosts(v6)
    x = SCANNER[v6]
    out = [(False, ip(x, c, tcp(x, c, 61000, p, "S", 424242, window=1024), ttl=52)) for p in SCAN_TCP_PORTS]
    out += [(False, ip(x, c, udp(x, c, 61001, p), ttl=52)) for p in SCAN_UDP_PORTS]
    return out


SAMPLES = {
    "tcp-handshake": sample_tcp_handshake,
    "udp-dns": sample_udp_dns,
    "icmp-echo": sample_icmp_echo,
    "icmp-port-unreachable": sample_icmp_port_unreachable,
    "fragments": sample_fragments,
    "tcp-rst": sample_tcp_rst,
    "port-scan": sample_port_scan,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sample", help="sample name, or 'list'")
    ap.add_argument("out", nargs="?", help="output file")
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--link", default="ether", choices=sorted(LINKTYPES))
    ap.add_argument("--format", default="pcap", choices=["pcap", "pcap-us", "pcapng"])
    ap.add_argument("--big-endian", action="store_true")
    ap.add_argument("--start", type=int, default=1_700_000_000_000_000_000, help="first timestamp, ns")
    ap.add_argument("--step", type=int, default=1_000_000, help="ns between packets")
    ap.add_argument("--fragment-size", type=int, default=None,
                    help="fragments sample: data bytes per fragment (multiple of 8; 800 gives 4 fragments)")
    a = ap.parse_args(argv)
    if a.sample == "list":
        print("\n".join(sorted(SAMPLES)))
        return 0
    if a.sample not in SAMPLES or not a.out:
        ap.error("need a sample (%s) and an output file" % ", ".join(sorted(SAMPLES)))
    if a.fragment_size is not None and a.sample != "fragments":
        ap.error("--fragment-size goes with the fragments sample")
    made = SAMPLES[a.sample](a.ipv6, a.fragment_size) if a.fragment_size else SAMPLES[a.sample](a.ipv6)
    pkts = [(a.start + i * a.step, frame(p, a.link, outbound)) for i, (outbound, p) in enumerate(made)]
    lt = LINKTYPES[a.link]
    if a.format == "pcapng":
        write_pcapng(a.out, lt, pkts, a.big_endian)
    else:
        write_pcap(a.out, lt, pkts, nano=a.format == "pcap", big_endian=a.big_endian)
    return 0


if __name__ == "__main__":
    sys.exit(main())
