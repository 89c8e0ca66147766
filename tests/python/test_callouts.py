"""Python callouts: a Python function as a callout's classify function. It
sees the incoming values and the current action and rights, and can permit,
block, continue, clear the write right or absorb; an exception inside it is
a clear error (CalloutError from classify), never a crash."""

import ipaddress
import unittest

import wfpsim

L = "ALE_AUTH_CONNECT_V4"


class PythonCallouts(unittest.TestCase):
    def setUp(self):
        self.engine = wfpsim.Engine()
        self.s = self.engine.session()
        self.s.add_sublayer("vpn", weight=0x6000)
        self.s.add_sublayer("security", weight=0x5000)

    def tearDown(self):
        self.engine.close()

    def test_callout_vetoes_a_hard_permit(self):
        seen = []

        def vetoer(values, out):
            seen.append((values["IP_REMOTE_PORT"], values["IP_REMOTE_ADDRESS"], out.action, out.write_allowed,
                         out.filter_id, out.layer, out.callout))
            out.block()
            out.clear_write_right()

        permit = self.s.add_filter("vpn-permit", L, "permit", sublayer="vpn", hard=True)
        self.s.add_callout("vetoer", L, classify=vetoer)
        veto = self.s.add_filter("veto", L, callout="vetoer", sublayer="security")
        v = self.engine.classify(L, IP_REMOTE_PORT=443, IP_REMOTE_ADDRESS=ipaddress.ip_address("192.0.2.10"))
        self.assertEqual((v.action, v.permitted, v.vetoed, v.reason), ("block", False, True, "callout_veto"))
        self.assertEqual((v.filter_id, v.filter), (veto.id, "veto"))
        self.assertEqual(seen, [(443, ipaddress.ip_address("192.0.2.10"), "permit", False, veto.id, L, "vetoer")])
        steps = {s.filter_id: s for s in v.steps}
        self.assertTrue(steps[veto.id].callout_invoked)
        self.assertEqual(steps[veto.id].effect, "veto")
        self.assertEqual(steps[permit.id].effect, "applied")
        self.assertEqual(self.engine.layer_stats(L).veto_count, 1)

    def test_permit_continue_and_hard_permit(self):
        decisions = {"act": "continue", "hard": False}

        def fn(values, out):
            out.action = decisions["act"]
            if decisions["hard"]:
                out.clear_write_right()

        self.s.add_callout("c", L, classify=fn)
        self.s.add_filter("c", L, callout="c", sublayer="vpn")
        self.s.add_filter("block", L, "block", sublayer="security")
        # continue: the lower sublayer's block decides
        v = self.engine.classify(L)
        self.assertEqual((v.action, v.filter), ("block", "block"))
        # a soft permit from the callout is overridden by the block below
        decisions["act"] = "permit"
        v = self.engine.classify(L)
        self.assertEqual(v.action, "block")
        # a hard permit (write right cleared) stands
        decisions["hard"] = True
        v = self.engine.classify(L)
        self.assertEqual((v.action, v.reason, v.filter, v.hard), ("permit", "callout_permit", "c", True))

    def test_absorb_and_decorator(self):
        @self.engine.callout("absorber")
        def absorber(values, out):
            out.absorb()
            self.assertTrue(out.absorbed)
            self.assertEqual(out.action, "block")

        self.s.add_callout("absorber", L)
        self.s.add_filter("a", L, callout="absorber")
        v = self.engine.classify(L)
        self.assertEqual((v.action, v.absorb, v.reason), ("block", True, "callout_block"))
        self.assertTrue(v.flags & wfpsim.FWPS_CLASSIFY_OUT_FLAG_ABSORB)

    def test_rights_and_flags_are_settable(self):
        def fn(values, out):
            out.action = wfpsim.FWP_ACTION_PERMIT
            out.rights = 0
            out.flags = 0

        self.s.add_callout("c", L, classify=fn)
        self.s.add_filter("c", L, callout="c", sublayer="vpn")
        self.s.add_filter("b", L, "block", sublayer="security")
        self.assertEqual(self.engine.classify(L).action, "permit")

    def test_exception_becomes_callout_error(self):
        def broken(values, out):
            raise KeyError("no such thing")

        self.s.add_callout("broken", L, classify=broken)
        self.s.add_filter("b", L, callout="broken")
        with self.assertRaises(wfpsim.CalloutError) as cm:
            self.engine.classify(L)
        e = cm.exception
        self.assertIsInstance(e.__cause__, KeyError)
        self.assertEqual(e.callout, "broken")
        self.assertIn("KeyError", str(e))
        self.assertIsNotNone(e.__cause__.__traceback__)
        # the engine is fine afterwards
        self.engine.unregister_callout("broken")
        self.engine.register_callout("broken", lambda values, out: out.permit())
        self.assertEqual(self.engine.classify(L).action, "permit")

    def test_engine_calls_inside_a_callout_are_refused(self):
        def reentrant(values, out):
            self.engine.classify(L)

        self.s.add_callout("r", L, classify=reentrant)
        self.s.add_filter("r", L, callout="r")
        with self.assertRaises(wfpsim.CalloutError) as cm:
            self.engine.classify(L)
        self.assertIsInstance(cm.exception.__cause__, RuntimeError)

    def test_classify_out_is_invalid_after_return(self):
        kept = []
        self.s.add_callout("k", L, classify=lambda values, out: kept.append(out))
        self.s.add_filter("k", L, callout="k")
        self.engine.classify(L)
        with self.assertRaises(ValueError):
            kept[0].block()
        with self.assertRaises(ValueError):
            kept[0].action
        self.assertIn("returned", repr(kept[0]))

    def test_values_dict_has_every_field(self):
        got = {}
        self.s.add_callout("v", L, classify=lambda values, out: got.update(values))
        self.s.add_filter("v", L, callout="v")
        self.engine.classify(L, ALE_APP_ID=r"C:\x\y.exe", IP_PROTOCOL=6, FLAGS=["is_loopback"])
        layer_fields = [f.name for f in wfpsim.layer(L).fields]
        self.assertEqual(list(got), layer_fields)
        self.assertEqual(got["ALE_APP_ID"], r"\device\harddiskvolume3\x\y.exe")
        self.assertEqual(got["IP_PROTOCOL"], 6)
        self.assertEqual(got["FLAGS"], 1)
        self.assertIsNone(got["IP_REMOTE_PORT"])

    def test_register_before_add_and_unregistered_callouts(self):
        self.engine.register_callout("early", lambda values, out: out.permit())
        self.assertTrue(self.engine.is_callout_registered("early"))
        with self.assertRaises(wfpsim.AlreadyExistsError):
            self.engine.register_callout("early", lambda values, out: None)
        self.s.add_callout("early", L)
        self.s.add_filter("early", L, callout="early")
        self.assertEqual(self.engine.classify(L).action, "permit")
        self.engine.unregister_callout("early")
        self.assertFalse(self.engine.is_callout_registered("early"))
        v = self.engine.classify(L)
        self.assertEqual((v.action, v.reason), ("block", "unregistered_callout_block"))
        with self.assertRaises(wfpsim.NotFoundError):
            self.engine.unregister_callout("early")

    def test_declarative_rules(self):
        self.s.add_callout("ids", L, classify=[
            {"when": {"IP_REMOTE_PORT": 4444}, "action": "block", "clear_write_right": True},
            {"action": "continue"}])
        # callout_unknown: whatever the callout says (a terminating one that continues blocks)
        self.s.add_filter("ids", L, "callout_unknown", callout="ids")
        self.assertEqual(self.engine.classify(L, IP_REMOTE_PORT=4444).action, "block")
        self.assertEqual(self.engine.classify(L, IP_REMOTE_PORT=80).reason, "no_decision")


if __name__ == "__main__":
    unittest.main()
