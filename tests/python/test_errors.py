"""Errors: one exception class per family of WFP result codes, every code
of core/result.def mapped to one, each exception carrying .code (the DWORD),
.name, .message and the engine's .detail."""

import unittest

import wfpsim

L = "ALE_AUTH_CONNECT_V4"

FAMILIES = [wfpsim.NotFoundError, wfpsim.AlreadyExistsError, wfpsim.InUseError, wfpsim.AccessDeniedError,
            wfpsim.SessionError, wfpsim.TransactionError, wfpsim.LockTimeoutError, wfpsim.TypeMismatchError,
            wfpsim.InvalidParameterError, wfpsim.LimitError, wfpsim.NotAvailableError, wfpsim.OutOfMemoryError]


class ResultCodes(unittest.TestCase):
    def test_every_code_has_a_family(self):
        self.assertGreater(len(wfpsim.RESULT_CODES), 70)
        for name, code in wfpsim.RESULT_CODES.items():
            cls = wfpsim.error_class(code)
            self.assertIn(cls, FAMILIES, name)
            self.assertIn(name, cls.codes)
            e = wfpsim.error_for(code)
            self.assertIsInstance(e, wfpsim.WfpError)
            self.assertEqual((e.code, e.name), (code, name))
            self.assertEqual(e.message, wfpsim.result_message(code))
            self.assertIn(name, str(e))
            self.assertEqual(wfpsim.result_name(code), name)
            self.assertEqual(wfpsim.result_code(name), code)
        covered = sorted(n for cls in FAMILIES for n in cls.codes)
        self.assertEqual(covered, sorted(wfpsim.RESULT_CODES))
        self.assertEqual(wfpsim.WfpError.codes, ())

    def test_python_bases(self):
        self.assertTrue(issubclass(wfpsim.NotFoundError, LookupError))
        self.assertTrue(issubclass(wfpsim.InvalidParameterError, ValueError))
        self.assertTrue(issubclass(wfpsim.TypeMismatchError, TypeError))
        self.assertTrue(issubclass(wfpsim.LockTimeoutError, TimeoutError))
        for cls in FAMILIES:
            self.assertTrue(issubclass(cls, wfpsim.WfpError))
        self.assertTrue(issubclass(wfpsim.PolicyError, ValueError))
        self.assertTrue(issubclass(wfpsim.ScenarioError, ValueError))
        self.assertTrue(issubclass(wfpsim.CalloutError, RuntimeError))

    def test_specific_codes(self):
        self.assertIs(wfpsim.error_class(0x80320009), wfpsim.AlreadyExistsError)
        self.assertIs(wfpsim.error_class(0x8032000A), wfpsim.InUseError)
        self.assertIs(wfpsim.error_class(0x80070005), wfpsim.AccessDeniedError)
        self.assertIs(wfpsim.error_class(0x80320012), wfpsim.LockTimeoutError)
        self.assertIs(wfpsim.error_class(0x80320027), wfpsim.TypeMismatchError)
        self.assertIs(wfpsim.error_class(0x80320035), wfpsim.InvalidParameterError)
        self.assertIs(wfpsim.error_class(0x12345678), wfpsim.WfpError)  # not a WFP code
        self.assertEqual(wfpsim.result_code("0x8032000a"), 0x8032000A)
        with self.assertRaises(ValueError):
            wfpsim.result_code("NO_SUCH_CODE")


class RaisedByTheEngine(unittest.TestCase):
    def setUp(self):
        self.engine = wfpsim.Engine()
        self.s = self.engine.session()

    def tearDown(self):
        self.engine.close()

    def check(self, cm, cls, name):
        e = cm.exception
        self.assertIsInstance(e, cls)
        self.assertEqual(e.name, name)
        self.assertEqual(e.code, wfpsim.RESULT_CODES[name])
        self.assertEqual(e.message, wfpsim.result_message(e.code))
        self.assertTrue(str(e).startswith("%s (0x%08X): " % (name, e.code)))

    def test_already_exists(self):
        self.s.add_filter("f", L, "block")
        with self.assertRaises(wfpsim.AlreadyExistsError) as cm:
            self.s.add_filter("f", L, "block")
        self.check(cm, wfpsim.AlreadyExistsError, "FWP_E_ALREADY_EXISTS")
        self.assertIsNotNone(cm.exception.detail)

    def test_not_found(self):
        with self.assertRaises(wfpsim.NotFoundError) as cm:
            self.s.delete_filter("nothing")
        self.check(cm, wfpsim.NotFoundError, "FWP_E_FILTER_NOT_FOUND")
        with self.assertRaises(LookupError):
            self.s.get_sublayer("nothing")
        with self.assertRaises(wfpsim.NotFoundError) as cm:
            self.s.add_filter("f", L, "block", sublayer="{01234567-89ab-cdef-0123-456789abcdef}")
        self.check(cm, wfpsim.NotFoundError, "FWP_E_SUBLAYER_NOT_FOUND")

    def test_in_use(self):
        self.s.add_sublayer("s")
        self.s.add_filter("f", L, "block", sublayer="s")
        with self.assertRaises(wfpsim.InUseError) as cm:
            self.s.delete_sublayer("s")
        self.check(cm, wfpsim.InUseError, "FWP_E_IN_USE")

    def test_access_denied(self):
        self.s.add_filter("f", L, "block")
        user = self.engine.session(user="S-1-5-21-1-2-3-1001", admin=False)
        with self.assertRaises(wfpsim.AccessDeniedError) as cm:
            user.delete_filter("f")
        self.check(cm, wfpsim.AccessDeniedError, "ERROR_ACCESS_DENIED")

    def test_type_and_parameter_errors(self):
        with self.assertRaises(wfpsim.TypeMismatchError) as cm:
            self.s.add_filter("t", L, "block", conditions={"IP_REMOTE_PORT": wfpsim.Typed("FWP_UINT32", 1)})
        self.check(cm, wfpsim.TypeMismatchError, "FWP_E_TYPE_MISMATCH")
        with self.assertRaises(wfpsim.InvalidParameterError) as cm:
            self.s.add_filter("w", L, "block", weight={"range": 16})
        self.check(cm, wfpsim.InvalidParameterError, "FWP_E_INVALID_WEIGHT")
        with self.assertRaises(wfpsim.TypeMismatchError) as cm:
            self.s.add_filter("m", L, "block", conditions=[("IP_REMOTE_PORT", "prefix", 1)])
        self.check(cm, wfpsim.TypeMismatchError, "FWP_E_MATCH_TYPE_MISMATCH")

    def test_session_errors(self):
        d = self.engine.session(dynamic=True)
        with self.assertRaises(wfpsim.SessionError) as cm:
            d.set_option("collect_net_events", 0)
        self.check(cm, wfpsim.SessionError, "FWP_E_DYNAMIC_SESSION_IN_PROGRESS")

    def test_policy_errors_are_not_wfp_errors(self):
        with self.assertRaises(wfpsim.PolicyError) as cm:
            self.s.add_filter("f", L, "explode")
        self.assertNotIsInstance(cm.exception, wfpsim.WfpError)
        self.assertIn("unknown action", str(cm.exception))
        self.assertEqual(len(cm.exception.messages), 1)
        with self.assertRaises(wfpsim.PolicyError):
            self.s.add_filter("f", "NO_SUCH_LAYER", "block")


if __name__ == "__main__":
    unittest.main()
