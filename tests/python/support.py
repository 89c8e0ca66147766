"""Shared helpers of the Python tests: where things are, and a tiny pcap
writer (raw IPv4/IPv6 TCP/UDP packets with correct checksums) so the replay
tests need no capture files in the repository."""

import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("WFPSIM_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
SCENARIOS = os.path.join(SOURCE_DIR, "scenarios")
SANITIZED = bool(os.environ.get("WFPSIM_SANITIZED"))


def wfpsim_binary():
    """The `wfpsim` command of this build, or None."""
    b = os.environ.get("WFPSIM_BINARY")
    if b and os.path.exists(b):
        return b
    for cand in (os.path.join(SOURCE_DIR, "build", "wfpsim"), shutil.which("wfpsim")):
        if cand and os.path.exists(cand):
            return cand
    return None


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4_tcp(src, dst, sport, dport, flags=0x02, seq=1, ack=0, payload=b""):
    """A raw IPv4 packet carrying a TCP segment (SYN by default)."""
    import ipaddress
    s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = s + d + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp)) + tcp[18:]
    total = 20 + len(tcp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0x4000, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return ip + tcp


def ipv4_udp(src, dst, sport, dport, payload=b"x"):
    """A raw IPv4 packet carrying a UDP datagram."""
    import ipaddress
    s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = s + d + struct.pack("!BBH", 0, 17, len(udp))
    udp = udp[:6] + struct.pack("!H", _checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    total = 20 + len(udp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return ip + udp


def write_pcap(path, packets, linktype=101, start_ns=1_000_000, step_ns=1_000_000):
    """A classic microsecond pcap of raw IP packets (LINKTYPE_RAW)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i, p in enumerate(packets):
            t = start_ns + i * step_ns
            f.write(struct.pack("<IIII", t // 1_000_000_000, (t % 1_000_000_000) // 1000, len(p), len(p)))
            f.write(p)
    return path


def rss_bytes():
    """Resident set size of this process (Linux: /proc/self/statm)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r if sys.platform == "darwin" else r * 1024
