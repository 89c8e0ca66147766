#!/usr/bin/env python3
"""make_corpus.py — regenerates the committed seed corpora of tests/fuzz.

corpus/packet/*: inputs of fuzz_packet (byte 0 = options, then a frame or
records of raw IP fragments); corpus/capture/*: tiny pcap/pcapng files for
fuzz_capture. All made with tools/mkpcap/mkpcap.py, deterministic, a few KB
in all. Run from anywhere: python3 tests/fuzz/make_corpus.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "mkpcap"))
import mkpcap as m  # noqa: E402

C4, S4 = "10.0.0.2", "93.184.216.34"
C6, S6 = "2001:db8::2", "2001:db8::80"


def records(pkts):
    return b"".join(struct.pack("!H", len(p)) + p for p in pkts)


def ipv6_with_exts(pkt, exts, first_nh):
    """Inserts already-encoded extension headers after the IPv6 header."""
    body = exts + pkt[40:]
    return pkt[:4] + struct.pack("!H", len(body)) + bytes([first_nh]) + pkt[7:40] + body


def packet_seeds():
    syn = m.ip(C4, S4, m.tcp(C4, S4, 49152, 443, "S", 1))
    dns6 = m.ip(C6, S6, m.udp(C6, S6, 53000, 53, b"\x12\x34\x01\x00\x00\x01"))
    q = m.ip(C4, S4, m.udp(C4, S4, 53000, 53, b"query"))
    unreach = m.ip(S4, C4, m.icmp(3, 3, 0, 0, q[:28]))
    q6 = m.ip(C6, S6, m.udp(C6, S6, 40000, 7, b"x"))
    unreach6 = m.ip(S6, C6, m.icmp6(S6, C6, 1, 4, 0, 0, q6))
    echo = m.ip(C4, S4, m.icmp(8, 0, 7, 1, b"ping"))
    mpls = bytes(12) + b"\x88\x47" + bytes.fromhex("000120ff000101ff") + echo
    tcp6 = m.ip(C6, S6, m.tcp(C6, S6, 1111, 2222, "PA", 5, 6, payload=b"data" * 30))
    # Hop-by-hop (8) -> Destination options (8) -> Fragment (first, M=1)
    frag6 = ipv6_with_exts(m.fragment(tcp6, 64, 9)[0], bytes([60, 0]) + bytes(6) + bytes([44, 0]) + bytes(6), 0)
    big4 = m.ip(S4, C4, m.udp(S4, C4, 53, 53000, bytes(range(200))), ident=77)
    big6 = m.ip(S6, C6, m.udp(S6, C6, 53, 53000, bytes(range(200))))
    f6 = m.fragment(big6, 64, 5)
    f6_overlap = bytearray(f6[1])
    f6_overlap[-1] ^= 0xFF
    opts_tcp = bytearray(m.ip(C4, S4, m.tcp(C4, S4, 1, 2, "S", payload=bytes(12))))
    opts_tcp[32] = 0x80  # data offset 8 (options)
    return {
        "p01_eth_ipv4_tcp_syn": b"\x00" + m.frame(syn, "ether"),
        "p02_eth_vlan_ipv6_udp": b"\x01" + m.frame(dns6, "ether", vlans=(11, 22)),
        "p03_sll_icmp_unreach": b"\x02" + m.frame(unreach, "sll", outbound=False),
        "p04_null_icmp6_unreach": b"\x00" + m.frame(unreach6, "null"),
        "p05_sll2_tcp6": b"\x00" + m.frame(tcp6, "sll2"),
        "p06_eth_mpls_icmp": b"\x00" + mpls,
        "p07_raw_ipv6_exts_first_frag": b"\x00" + frag6,
        "p08_records_ipv4_frags": b"\x00" + records(list(reversed(m.fragment(big4, 64, 77)))),
        "p09_records_ipv6_overlap": b"\x08" + records([f6[0], f6[1], bytes(f6_overlap)] + f6[2:]),
        "p10_loop_be_udp": b"\x03" + struct.pack(">I", 2) + q,
        "p11_tcp_options_cut": b"\x02" + bytes(opts_tcp[:44]),
    }


def capture_seeds(tmp):
    hs = [(1_700_000_000_123_456_789 + i * 1000, m.frame(p, "ether", o))
          for i, (o, p) in enumerate(m.sample_tcp_handshake(False)[:3])]
    dns = [(1_000_000_000 + i, m.frame(p, "raw", o)) for i, (o, p) in enumerate(m.sample_udp_dns(False))]
    echo6 = [(i, m.frame(p, "sll2", o)) for i, (o, p) in enumerate(m.sample_icmp_echo(True))]
    rst = [(i * 7, m.frame(p, "null", o)) for i, (o, p) in enumerate(m.sample_tcp_rst(True))]
    unreach = [(i, m.frame(p, "sll", o)) for i, (o, p) in enumerate(m.sample_icmp_port_unreachable(False))]
    out = {}

    def make(name, writer, *args, **kw):
        path = os.path.join(tmp, name)
        writer(path, *args, **kw)
        with open(path, "rb") as f:
            out[name] = f.read()
        os.remove(path)

    make("c01_ether_ns.pcap", m.write_pcap, 1, hs)
    make("c02_raw_us_be.pcap", m.write_pcap, 101, dns, nano=False, big_endian=True)
    make("c03_sll2.pcapng", m.write_pcapng, 276, echo6)
    make("c04_null_be.pcapng", m.write_pcapng, 0, rst, big_endian=True)
    make("c05_sll_snap60.pcap", m.write_pcap, 113, unreach, snaplen=60)
    out["c06_truncated_record.pcap"] = out["c01_ether_ns.pcap"][:-30]
    return out


def main():
    pdir = os.path.join(HERE, "corpus", "packet")
    cdir = os.path.join(HERE, "corpus", "capture")
    os.makedirs(pdir, exist_ok=True)
    os.makedirs(cdir, exist_ok=True)
    for name, data in packet_seeds().items():
        with open(os.path.join(pdir, name), "wb") as f:
            f.write(data)
    for name, data in capture_seeds(cdir).items():
        with open(os.path.join(cdir, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
