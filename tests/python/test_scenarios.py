"""Scenarios from Python: load, check, run (per-packet records, classify
calls, pass/fail per expectation), build from dicts, save as YAML that
`wfpsim run` accepts, and round trips of the whole corpus through the
writer."""

import glob
import ipaddress
import os
import shutil
import subprocess
import tempfile
import unittest

import wfpsim
from wfpsim import Condition

from support import SCENARIOS, wfpsim_binary

C07 = os.path.join(SCENARIOS, "arbitration", "c07-callout-vetoes-hard-permit.yaml")


def built_scenario():
    """A scenario written in Python, with Python values."""
    return wfpsim.Scenario(
        name="python-built",
        description="Built from Python dicts: HTTPS to 10/8 blocked, the rest permitted.",
        host={"name": "client", "addresses": [ipaddress.ip_address("10.0.0.2")],
              "processes": [{"name": "app", "app": r"C:\Apps\app.exe", "user": "S-1-5-21-1-2-3-1001",
                             "sockets": [{"protocol": "tcp", "local_port": "49152-65535"}]}]},
        policy={
            "sublayers": [{"name": "fw", "weight": 0x5000}],
            "filters": [
                {"name": "block-https-10", "layer": "ALE_AUTH_CONNECT_V4", "sublayer": "fw", "action": "block",
                 "conditions": [Condition("IP_REMOTE_PORT", "equal", 443),
                                Condition("IP_REMOTE_ADDRESS", "equal", ipaddress.ip_network("10.0.0.0/8")),
                                Condition("IP_LOCAL_PORT", "range", (49152, 65535))]},
                {"name": "app-only", "layer": "ALE_AUTH_CONNECT_V4", "sublayer": "fw", "action": "permit",
                 "conditions": {"ALE_APP_ID": r"C:\Apps\app.exe", "IP_REMOTE_PORT": range(80, 81)}},
            ]},
        traffic=[
            {"at": "1ms", "packet": {"ip": {"src": "10.0.0.2", "dst": "10.1.1.1"},
                                     "tcp": {"sport": 50000, "dport": 443, "flags": "S"}}},
            {"at": "2ms", "packet": {"ip": {"src": "10.0.0.2", "dst": "192.0.2.1"},
                                     "tcp": {"sport": 50001, "dport": 80, "flags": "S"}}},
        ],
        expect={"packets": [
            {"packet": 1, "verdict": "block", "layer": "ALE_AUTH_CONNECT_V4", "filter": "block-https-10",
             "reason": "filter_block"},
            {"packet": 2, "verdict": "permit"}]},
    )


class LoadAndRun(unittest.TestCase):
    def test_load_check_run(self):
        sc = wfpsim.Scenario.load(C07)
        self.assertEqual(sc.name, "callout-vetoes-hard-permit")
        self.assertEqual(sc.path, C07)
        self.assertTrue(sc.check())
        r = sc.run()
        self.assertIsInstance(r, wfpsim.ScenarioResult)
        self.assertTrue(r.passed, r.reason)
        self.assertEqual((r.name, r.failures, r.reason), ("callout-vetoes-hard-permit", (), None))
        p = r.packets[0]
        self.assertIsInstance(p, wfpsim.PacketRecord)
        self.assertEqual((p.number, p.host, p.inbound, p.permitted, p.verdict),
                         (1, "client", False, False, "block"))
        self.assertEqual((p.layer, p.filter, p.reason, p.drop_reason),
                         ("ALE_AUTH_CONNECT_V4", "veto", "callout_veto", "blocked_by_filter"))
        self.assertEqual(p.time_ns, 1_000_000)
        connect = [c for c in p.calls if c.layer == "ALE_AUTH_CONNECT_V4"]
        self.assertEqual(len(connect), 1)
        self.assertIsInstance(connect[0], wfpsim.Verdict)
        self.assertEqual((connect[0].action, connect[0].vetoed, connect[0].filter), ("block", True, "veto"))
        # without trace the sublayer decisions are not kept; with it they are
        self.assertEqual(connect[0].sublayers, ())
        self.assertEqual((connect[0].host, connect[0].reauth), ("client", False))
        traced = sc.run(trace=True).packets[0]
        call = [c for c in traced.calls if c.layer == "ALE_AUTH_CONNECT_V4"][0]
        names = {d.name: d for d in call.sublayers}
        self.assertEqual((names["vpn"].action, names["vpn"].filter), ("permit", "vpn-permit"))
        self.assertEqual((names["security"].effect, names["security"].filter), ("veto", "veto"))
        self.assertEqual(call.sublayer, "security")

    def test_failures_are_reported(self):
        sc = wfpsim.Scenario.load(C07)
        sc.data["expect"]["packets"][0]["verdict"] = "permit"
        sc.data["expect"]["packets"][0]["filter"] = "vpn-permit"
        r = sc.run()
        self.assertFalse(r.passed)
        self.assertEqual(len(r.failures), 2)
        self.assertIn("expected", r.reason)
        # the file itself is unchanged
        self.assertTrue(wfpsim.Scenario.load(C07).run().passed)

    def test_bad_file(self):
        d = tempfile.mkdtemp()
        try:
            path = os.path.join(d, "bad.yaml")
            with open(path, "w") as f:
                f.write("wfpsim: 1\nname: bad\nhost: {addresses: [10.0.0.2]}\nfrobnicate: 1\n")
            with self.assertRaises(wfpsim.ScenarioError) as cm:
                wfpsim.Scenario.load(path)
            self.assertIn("%s:4:1" % path, str(cm.exception))
            self.assertIn("frobnicate", cm.exception.messages[0])
            with open(path, "w") as f:
                f.write("wfpsim: 1\nname: bad-ref\nhost: {addresses: [10.0.0.2]}\n"
                        "policy:\n  filters:\n    - {name: f, layer: ALE_AUTH_CONNECT_V4, sublayer: nowhere, "
                        "action: block}\n")
            with self.assertRaises(wfpsim.ScenarioError) as cm:
                wfpsim.Scenario.load(path).check()
            self.assertIn("nowhere", str(cm.exception))
        finally:
            shutil.rmtree(d)

    def test_yaml_load(self):
        doc = wfpsim.yaml_load(text="a: 1\nb: '2'\nc: empty\nd: 'empty'\ne: ~\nf: [x, true]\ng: 0x10\n")
        self.assertEqual(doc, {"a": 1, "b": "2", "c": "empty", "d": "empty", "e": None, "f": ["x", True],
                               "g": "0x10"})
        self.assertIsInstance(doc["d"], wfpsim.Quoted)
        self.assertNotIsInstance(doc["c"], wfpsim.Quoted)
        with self.assertRaises(wfpsim.ScenarioError):
            wfpsim.yaml_load(text="a: 1\na: 2\n")
        pol = wfpsim.policy_file(C07)
        self.assertEqual([f["name"] for f in pol["filters"]], ["vpn-permit", "veto"])


class BuildAndSave(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wfpsim-test-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_built_scenario_runs(self):
        r = built_scenario().run()
        self.assertTrue(r.passed, r.reason)
        self.assertEqual([p.verdict for p in r.packets], ["block", "permit"])

    def test_save_load_round_trip(self):
        sc = built_scenario()
        path = sc.save(os.path.join(self.dir, "built.yaml"))
        text = open(path).read()
        self.assertTrue(text.startswith("wfpsim: 1\nname: python-built\n"))
        self.assertIn("- {field: IP_REMOTE_PORT, match: equal, value: 443}", text)
        self.assertIn("value: {low: 49152, high: 65535}", text)
        self.assertIn("app: 'C:\\Apps\\app.exe'", text)
        # saved twice: the same bytes (deterministic)
        self.assertEqual(sc.to_yaml(relative_to=self.dir), text)
        loaded = wfpsim.Scenario.load(path)
        self.assertEqual(loaded.name, "python-built")
        self.assertEqual(loaded.to_yaml(relative_to=self.dir), text)
        r = loaded.run()
        self.assertTrue(r.passed, r.reason)

    @unittest.skipIf(wfpsim_binary() is None, "the wfpsim binary is not built")
    def test_saved_file_runs_with_the_wfpsim_binary(self):
        path = built_scenario().save(os.path.join(self.dir, "built.yaml"))
        p = subprocess.run([wfpsim_binary(), "run", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("PASS python-built", p.stdout)
        p = subprocess.run([wfpsim_binary(), "check", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_pcap_paths_follow_the_file(self):
        sub = os.path.join(self.dir, "sub")
        os.mkdir(sub)
        sc = wfpsim.Scenario(name="p", host={"addresses": ["10.0.0.2"]}, traffic=[{"pcap": "caps/x.pcap"}],
                             base_dir=self.dir)
        sc.save(os.path.join(sub, "s.yaml"))
        self.assertEqual(wfpsim.yaml_load(os.path.join(sub, "s.yaml"))["traffic"][0]["pcap"], "../caps/x.pcap")
        self.assertEqual(sc.to_dict()["traffic"][0]["pcap"], "caps/x.pcap")

    def test_corpus_round_trip(self):
        """Every scenario of the corpus, written back by the Python writer,
        loads and runs with the same outcome, packet by packet."""
        files = sorted(glob.glob(os.path.join(SCENARIOS, "**", "*.yaml"), recursive=True))
        self.assertGreater(len(files), 5)
        for f in files:
            with self.subTest(scenario=os.path.relpath(f, SCENARIOS)):
                try:
                    original = wfpsim.Scenario.load(f)
                except wfpsim.ScenarioError:
                    continue  # files that pin loader errors
                copy = os.path.join(self.dir, os.path.basename(f))
                original.save(copy)
                again = wfpsim.Scenario.load(copy)
                self.assertEqual(again.name, original.name)
                a, b = original.run(), again.run()
                self.assertEqual((a.passed, a.failures and len(a.failures)), (b.passed, b.failures and len(b.failures)))
                self.assertEqual([(p.number, p.verdict, p.layer, p.filter, p.reason) for p in a.packets],
                                 [(p.number, p.verdict, p.layer, p.filter, p.reason) for p in b.packets])


if __name__ == "__main__":
    unittest.main()
