"""engine.classify with Python values of every kind, and the Verdict: the
same detail as the C verdict (action, permitted, hard, veto, absorb, reason,
filter, sublayer) plus every sublayer's decision and every filter tried."""

import ipaddress
import unittest

import wfpsim
from wfpsim import Condition

V4 = "ALE_AUTH_CONNECT_V4"
V6 = "ALE_AUTH_CONNECT_V6"
APP = r"C:\Program Files\Browser\browser.exe"
USER = "S-1-5-21-1-2-3-1001"


class Values(unittest.TestCase):
    def setUp(self):
        self.engine = wfpsim.Engine()
        self.s = self.engine.session()

    def tearDown(self):
        self.engine.close()

    def permits(self, layer=V4, **values):
        return self.engine.classify(layer, values).action == "permit"

    def test_ints_and_ranges(self):
        self.s.add_filter("port", V4, "permit", conditions=[Condition("IP_REMOTE_PORT", "equal", 443)])
        self.s.add_filter("range", V4, "permit", conditions={"IP_LOCAL_PORT": range(8000, 8081)})
        self.s.add_filter("tuple", V4, "permit", conditions=[("IP_LOCAL_PORT", "range", (9000, 9010))])
        self.s.add_filter("gt", V4, "permit", conditions=[Condition("IP_LOCAL_PORT", "greater", 60000)])
        self.assertTrue(self.permits(IP_REMOTE_PORT=443))
        self.assertFalse(self.permits(IP_REMOTE_PORT=444))
        self.assertTrue(self.permits(IP_LOCAL_PORT=8080))
        self.assertFalse(self.permits(IP_LOCAL_PORT=8081))
        self.assertTrue(self.permits(IP_LOCAL_PORT=9005))
        self.assertTrue(self.permits(IP_LOCAL_PORT=60001))
        self.assertEqual(self.s.get_filter("range").conditions[0], Condition("IP_LOCAL_PORT", "range", (8000, 8080)))

    def test_addresses_and_networks(self):
        self.s.add_filter("net4", V4, "permit",
                          conditions={"IP_REMOTE_ADDRESS": ipaddress.ip_network("10.0.0.0/8")})
        self.s.add_filter("host4", V4, "permit",
                          conditions={"IP_REMOTE_ADDRESS": ipaddress.ip_address("192.0.2.1")})
        self.s.add_filter("net6", V6, "permit",
                          conditions={"IP_REMOTE_ADDRESS": ipaddress.ip_network("2001:db8::/32")})
        self.s.add_filter("range4", V4, "permit",
                          conditions={"IP_REMOTE_ADDRESS": (ipaddress.ip_address("172.16.0.1"),
                                                            ipaddress.ip_address("172.16.0.9"))})
        self.assertTrue(self.permits(IP_REMOTE_ADDRESS=ipaddress.ip_address("10.9.8.7")))
        self.assertTrue(self.permits(IP_REMOTE_ADDRESS="10.9.8.7"))
        self.assertFalse(self.permits(IP_REMOTE_ADDRESS=ipaddress.ip_address("11.0.0.1")))
        self.assertTrue(self.permits(IP_REMOTE_ADDRESS=ipaddress.ip_address("192.0.2.1")))
        self.assertTrue(self.permits(IP_REMOTE_ADDRESS=ipaddress.ip_address("172.16.0.5")))
        self.assertTrue(self.permits(V6, IP_REMOTE_ADDRESS=ipaddress.ip_address("2001:db8::1")))
        self.assertFalse(self.permits(V6, IP_REMOTE_ADDRESS=ipaddress.ip_address("2001:db9::1")))
        conds = {f.name: f.conditions[0].value for f in self.engine.filters()}
        self.assertEqual(conds["net4"], ipaddress.ip_network("10.0.0.0/8"))
        self.assertEqual(conds["host4"], ipaddress.ip_address("192.0.2.1"))
        self.assertEqual(conds["net6"], ipaddress.ip_network("2001:db8::/32"))

    def test_strings_app_ids_sids_and_flags(self):
        self.s.add_filter("app", V4, "permit", conditions={"ALE_APP_ID": APP})
        self.s.add_filter("user", V4, "permit", conditions={"ALE_USER_ID": "O:LSD:(A;;CC;;;%s)" % USER})
        self.s.add_filter("loop", V4, "permit",
                          conditions=[Condition("FLAGS", "flags_all_set", ["is_loopback"])])
        self.s.add_filter("proto", V4, "permit", conditions={"IP_PROTOCOL": "udp"})
        self.assertTrue(self.permits(ALE_APP_ID=APP))
        self.assertTrue(self.permits(ALE_APP_ID=APP.upper()))  # device paths are lower-cased
        self.assertFalse(self.permits(ALE_APP_ID=r"C:\other.exe"))
        self.assertTrue(self.permits(ALE_USER_ID=[USER, "S-1-1-0"]))
        self.assertFalse(self.permits(ALE_USER_ID=["S-1-5-18"]))
        self.assertTrue(self.permits(FLAGS=["is_loopback", "is_reauthorize"]))
        self.assertFalse(self.permits(FLAGS=["is_reauthorize"]))
        self.assertTrue(self.permits(IP_PROTOCOL=17))
        self.assertFalse(self.permits(IP_PROTOCOL="tcp"))
        app = self.s.get_filter("app").conditions[0].value
        self.assertEqual(app, r"\device\harddiskvolume3\program files\browser\browser.exe")

    def test_empty_and_typed(self):
        self.s.add_filter("empty", V4, "permit", conditions={"IP_REMOTE_PORT": None})
        self.assertFalse(self.permits(IP_REMOTE_PORT=80))
        # a typed condition never matches an FWP_EMPTY value; EMPTY matches EMPTY
        self.assertTrue(self.permits())
        with self.assertRaises(wfpsim.TypeMismatchError):
            self.s.add_filter("typed", V4, "permit",
                              conditions={"IP_REMOTE_PORT": wfpsim.Typed("FWP_UINT8", 6)})

    def test_bad_values(self):
        with self.assertRaises(wfpsim.InvalidParameterError):
            self.engine.classify(V4, IP_REMOTE_PORT="not a port")
        with self.assertRaises(wfpsim.InvalidParameterError):
            self.engine.classify(V4, NO_SUCH_FIELD=1)
        with self.assertRaises(wfpsim.NotFoundError):
            self.engine.classify("NO_SUCH_LAYER")
        with self.assertRaises(wfpsim.PolicyError) as cm:
            self.s.add_filter("bad", V4, "permit", conditions={"NO_SUCH_FIELD": 1})
        self.assertIn("NO_SUCH_FIELD", str(cm.exception))
        self.assertNotIn("<python>", str(cm.exception))


class VerdictDetail(unittest.TestCase):
    def setUp(self):
        self.engine = wfpsim.Engine()
        self.s = self.engine.session()
        self.s.add_sublayer("high", weight=0x9000)
        self.s.add_sublayer("low", weight=0x1000)

    def tearDown(self):
        self.engine.close()

    def test_no_match(self):
        v = self.engine.classify(V4, IP_REMOTE_PORT=1)
        self.assertIsInstance(v, wfpsim.Verdict)
        self.assertEqual((v.layer, v.action, v.permitted, v.reason, v.filter_id, v.filter),
                         (V4, "none_no_match", True, "no_match", 0, None))
        self.assertIsNone(v.sublayer_key)
        self.assertEqual(v.layer_id, wfpsim.layer(V4).id)

    def test_hard_permit_survives_block_and_trace(self):
        hp = self.s.add_filter("hard-permit", V4, "permit", sublayer="high", hard=True)
        b = self.s.add_filter("block", V4, "block", sublayer="low", context=99)
        v = self.engine.classify(V4, IP_REMOTE_PORT=80)
        self.assertEqual((v.action, v.permitted, v.hard, v.vetoed, v.absorb), ("permit", True, True, False, False))
        self.assertEqual((v.reason, v.filter_id, v.filter), ("filter_permit", hp.id, "hard-permit"))
        self.assertEqual(v.sublayer_key, self.s.get_sublayer("high").key)
        self.assertEqual(v.rights & wfpsim.FWPS_RIGHT_ACTION_WRITE, 0)
        by_key = {d.key: d for d in v.sublayers}
        high = by_key[self.s.get_sublayer("high").key]
        low = by_key[self.s.get_sublayer("low").key]
        self.assertEqual((high.action, high.filter_id, high.hard, high.effect), ("permit", hp.id, True, "applied"))
        self.assertEqual((high.name, high.filter, low.name, low.filter), ("high", "hard-permit", "low", "block"))
        self.assertEqual((v.sublayer, v.host, v.reauth), ("high", None, False))
        self.assertEqual((low.action, low.filter_id, low.effect), ("block", b.id, "ignored"))
        self.assertGreater(high.weight, low.weight)
        steps = {s.filter_id: s for s in v.steps}
        self.assertTrue(steps[hp.id].matched and steps[b.id].matched)
        self.assertEqual((steps[b.id].result, steps[b.id].effect), ("block", "ignored"))
        self.assertEqual(self.engine.classify(V4, trace=False).steps, ())

    def test_soft_permit_overridden(self):
        self.s.add_filter("soft-permit", V4, "permit", sublayer="high")
        b = self.s.add_filter("block", V4, "block", sublayer="low", context=5)
        v = self.engine.classify(V4)
        self.assertEqual((v.action, v.reason, v.filter_id, v.hard, v.context), ("block", "filter_block", b.id, True, 5))

    def test_metadata_and_time(self):
        self.s.add_filter("block", V4, "block")
        v = self.engine.classify(V4, {"IP_REMOTE_PORT": 1}, direction="outbound", process_id=4242, time_ns=7)
        self.assertEqual(v.action, "block")
        with self.assertRaises(ValueError):
            self.engine.classify(V4, direction="sideways")
        self.assertTrue(self.engine.classify(V4, FLAGS=["is_reauthorize"]).reauth)


if __name__ == "__main__":
    unittest.main()
