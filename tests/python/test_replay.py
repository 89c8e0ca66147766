"""Replaying a capture from Python through a simulated host: with a policy
and the host's addresses, or with a scenario's hosts and policy."""

import ipaddress
import os
import shutil
import tempfile
import unittest

import wfpsim

from support import SCENARIOS, ipv4_tcp, ipv4_udp, write_pcap

POLICY = {"filters": [{"name": "no-https", "layer": "ALE_AUTH_CONNECT_V4", "action": "block",
                       "conditions": [wfpsim.Condition("IP_REMOTE_PORT", "equal", 443)]}]}


class Replay(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wfpsim-replay-")
        self.pcap = write_pcap(os.path.join(self.dir, "c.pcap"), [
            ipv4_tcp("10.0.0.2", "93.184.216.34", 50000, 443),   # outbound HTTPS: blocked by the policy
            ipv4_tcp("10.0.0.2", "93.184.216.34", 50001, 80),    # outbound HTTP: permitted
            ipv4_udp("8.8.8.8", "10.0.0.2", 53, 53000),          # inbound to a closed port: the stack drops it
        ])

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_replay_with_a_policy(self):
        r = wfpsim.replay(self.pcap, policy=POLICY, local=[ipaddress.ip_address("10.0.0.2")])
        self.assertIsInstance(r, wfpsim.ScenarioResult)
        self.assertTrue(r.passed, r.reason)
        got = [(p.number, p.verdict, p.inbound, p.layer, p.filter, p.reason, p.drop_reason) for p in r.packets]
        self.assertEqual(got[0], (1, "block", False, "ALE_AUTH_CONNECT_V4", "no-https", "filter_block",
                                  "blocked_by_filter"))
        self.assertEqual(got[1][:3], (2, "permit", False))
        self.assertEqual((got[2][1], got[2][2], got[2][6]), ("block", True, "port_unreachable"))
        self.assertEqual([p.time_ns for p in r.packets], [0, 1_000_000, 2_000_000])
        # every classify call of a packet is there, in order
        self.assertIn("ALE_AUTH_CONNECT_V4", [c.layer for c in r.packets[0].calls])
        connect = [c for c in r.packets[0].calls if c.layer == "ALE_AUTH_CONNECT_V4"][0]
        self.assertEqual((connect.action, connect.filter), ("block", "no-https"))

    def test_replay_with_a_policy_file_and_trace(self):
        path = os.path.join(self.dir, "policy.yaml")
        with open(path, "w") as f:
            f.write(wfpsim.yaml_dump({"policy": POLICY}))
        r = wfpsim.replay(self.pcap, policy=path, local=["10.0.0.2"], trace=True)
        self.assertEqual([p.verdict for p in r.packets][:2], ["block", "permit"])
        call = [c for c in r.packets[0].calls if c.layer == "ALE_AUTH_CONNECT_V4"][0]
        self.assertGreaterEqual(len(call.sublayers), 1)

    def test_replay_with_a_scenario(self):
        scenario = os.path.join(SCENARIOS, "arbitration", "c07-callout-vetoes-hard-permit.yaml")
        r = wfpsim.replay([self.pcap, self.pcap], scenario=scenario)
        self.assertEqual(len(r.packets), 6)
        self.assertEqual([p.reason for p in r.packets[:2]], ["callout_veto", "callout_veto"])
        self.assertEqual(r.packets[0].host, "client")

    def test_midstream_and_host_name(self):
        # an ACK of a connection the capture never saw the start of: dropped
        # as Windows would, unless adopt_midstream_tcp adopts it as a flow
        mid = write_pcap(os.path.join(self.dir, "mid.pcap"), [
            ipv4_tcp("10.0.0.2", "93.184.216.34", 50005, 80, flags=0x10, seq=7, ack=9)])
        r = wfpsim.replay(mid, policy=POLICY, local=["10.0.0.2"], host="pc")
        self.assertEqual((r.packets[0].verdict, r.packets[0].drop_reason, r.packets[0].host),
                         ("block", "no_connection", "pc"))
        r = wfpsim.replay(mid, policy=POLICY, local=["10.0.0.2"], adopt_midstream_tcp=True)
        self.assertEqual(r.packets[0].verdict, "permit")
        self.assertIn("ALE_AUTH_CONNECT_V4", [c.layer for c in r.packets[0].calls])

    def test_injected_copies_in_a_replay(self):
        # a scenario's callout absorbs each datagram and injects a copy 5 ms later
        dns = write_pcap(os.path.join(self.dir, "dns.pcap"), [ipv4_udp("10.0.0.9", "10.0.0.2", 5000, 53)])
        r = wfpsim.replay(dns, scenario=os.path.join(SCENARIOS, "injection", "out-of-band-inspection.yaml"))
        got = [(p.number, p.verdict, p.injected_from, p.time_ns) for p in r.packets]
        self.assertEqual(got, [(1, "block", None, 0), (2, "permit", 1, 5_000_000)])

    def test_bad_arguments(self):
        with self.assertRaises(TypeError):
            wfpsim.replay(self.pcap)
        with self.assertRaises(TypeError):
            wfpsim.replay(self.pcap, policy=POLICY)
        r = wfpsim.replay(os.path.join(self.dir, "missing.pcap"), policy=POLICY, local=["10.0.0.2"])
        self.assertFalse(r.passed)
        self.assertIn("missing.pcap", r.reason)


if __name__ == "__main__":
    unittest.main()
