"""Scenario.graph(): the pictures of `wfpsim graph` from Python (SVG and
DOT text, PNG bytes), drawn for the arbitration example of the spec."""

import html
import os
import unittest

import wfpsim

from support import SOURCE_DIR

EXAMPLE = os.path.join(SOURCE_DIR, "tests", "graph", "arbitration-example.yaml")
FILTERS = ["FW1-permit-iis", "FW2-block-port-80", "FW2-permit-web", "log-all"]


class Graph(unittest.TestCase):
    def setUp(self):
        self.sc = wfpsim.Scenario.load(EXAMPLE)

    def test_layer_view_svg(self):
        svg = self.sc.graph(layer="ALE_AUTH_RECV_ACCEPT_V4")
        self.assertIsInstance(svg, str)
        self.assertIn("<svg", svg)
        text = html.unescape(svg)
        for name in FILTERS:
            self.assertIn(name, text)
        self.assertIn("unreachable", text)

    def test_dot_matches_the_golden_file(self):
        for args, golden in [({"layer": "ALE_AUTH_RECV_ACCEPT_V4"}, "arbitration-layer-recv-accept.dot"),
                             ({"packet": 1}, "arbitration-packet-1.dot"),
                             ({"journey": 2}, "arbitration-journey-2.dot")]:
            with self.subTest(golden=golden):
                with open(os.path.join(SOURCE_DIR, "tests", "graph", golden), encoding="utf-8") as f:
                    want = f.read()
                self.assertEqual(self.sc.graph(format="dot", **args), want)

    def test_packet_and_journey_views(self):
        svg = html.unescape(self.sc.graph(layer="ALE_AUTH_RECV_ACCEPT", packet=1))
        self.assertIn("<svg", svg)
        self.assertIn("FW2-block-port-80", svg)
        png = self.sc.graph(journey=2, format="png")
        self.assertIsInstance(png, bytes)
        self.assertTrue(png.startswith(b"\x89PNG"))
        # deterministic
        self.assertEqual(self.sc.graph(journey=2, format="dot"), self.sc.graph(journey=2, format="dot"))

    def test_options(self):
        dot = self.sc.graph(layer="ALE_AUTH_RECV_ACCEPT_V4", filter="FW2", format="dot")
        self.assertIn("FW2-block-port-80", dot)
        self.assertNotIn("FW1-permit-iis", dot)
        collapsed = self.sc.graph(layer="ALE_AUTH_RECV_ACCEPT_V4", collapse="provider", format="dot")
        self.assertNotEqual(collapsed, self.sc.graph(layer="ALE_AUTH_RECV_ACCEPT_V4", format="dot"))

    def test_edited_scenario(self):
        sc = wfpsim.Scenario.load(EXAMPLE)
        sc.data["policy"]["filters"][3]["name"] = "renamed-iis-permit"
        text = html.unescape(sc.graph(layer="ALE_AUTH_RECV_ACCEPT_V4"))
        self.assertIn("renamed-iis-permit", text)
        self.assertNotIn("FW1-permit-iis", text)

    def test_errors(self):
        with self.assertRaises(wfpsim.ScenarioError) as cm:
            self.sc.graph(layer="NO_SUCH_LAYER")
        self.assertIn("NO_SUCH_LAYER", str(cm.exception))
        with self.assertRaises(wfpsim.ScenarioError):
            self.sc.graph(layer="ALE_AUTH_RECV_ACCEPT_V4", packet=99)
        with self.assertRaises(ValueError):
            self.sc.graph(layer="ALE_AUTH_RECV_ACCEPT_V4", collapse="everything")
        with self.assertRaises(ValueError):
            self.sc.graph(layer="ALE_AUTH_RECV_ACCEPT_V4", format="gif")
        with self.assertRaises(TypeError):
            self.sc.graph()


if __name__ == "__main__":
    unittest.main()
