"""Transactions (`with session.transaction():` commits on success and aborts
on an exception), change subscriptions delivered to Python callbacks in
order, and net events (enumeration and subscription)."""

import ipaddress
import sys
import unittest

import wfpsim

L = "ALE_AUTH_CONNECT_V4"


class Transactions(unittest.TestCase):
    def setUp(self):
        self.engine = wfpsim.Engine()
        self.s = self.engine.session(name="writer")

    def tearDown(self):
        self.engine.close()

    def test_commit_on_success(self):
        with self.s.transaction() as txn:
            self.assertIs(txn, self.s)
            self.assertTrue(self.s.in_transaction)
            self.assertTrue(self.s.holds_lock)
            self.s.add_filter("a", L, "block", conditions={"IP_REMOTE_PORT": 1})
            self.s.add_filter("b", L, "block", conditions={"IP_REMOTE_PORT": 2})
            # classification sees the old policy until the commit
            self.assertEqual(self.engine.classify(L, IP_REMOTE_PORT=1).reason, "no_match")
        self.assertFalse(self.s.in_transaction)
        self.assertEqual(self.engine.classify(L, IP_REMOTE_PORT=1).action, "block")
        self.assertEqual(self.engine.classify(L, IP_REMOTE_PORT=2).action, "block")

    def test_abort_on_exception(self):
        before = self.engine.dump()
        with self.assertRaises(ZeroDivisionError):
            with self.s.transaction():
                self.s.add_filter("a", L, "block")
                1 / 0
        self.assertFalse(self.s.in_transaction)
        self.assertEqual(self.engine.dump(), before)
        self.assertEqual(self.engine.classify(L).reason, "no_match")

    def test_failed_add_inside_aborts_everything(self):
        with self.assertRaises(wfpsim.AlreadyExistsError):
            with self.s.transaction():
                self.s.add_filter("a", L, "block")
                self.s.add_filter("a", L, "block")
        with self.assertRaises(wfpsim.NotFoundError):
            self.s.get_filter("a")

    def test_read_only_and_nesting(self):
        with self.s.transaction(read_only=True):
            with self.assertRaises(wfpsim.TransactionError) as cm:
                self.s.add_filter("a", L, "block")
            self.assertEqual(cm.exception.name, "FWP_E_INCOMPATIBLE_TXN")
            with self.assertRaises(wfpsim.TransactionError):
                self.s.begin()
        with self.assertRaises(wfpsim.TransactionError) as cm:
            self.s.commit()
        self.assertEqual(cm.exception.name, "FWP_E_NO_TXN_IN_PROGRESS")

    def test_lock_timeout(self):
        other = self.engine.session(name="other")
        with self.s.transaction():
            with self.assertRaises(wfpsim.LockTimeoutError) as cm:
                other.add_filter("x", L, "block")
            self.assertIsInstance(cm.exception, TimeoutError)
            self.assertEqual(cm.exception.code, wfpsim.RESULT_CODES["FWP_E_TIMEOUT"])
        other.add_filter("x", L, "block")

    def test_forced_abort(self):
        self.s.begin()
        self.s.add_filter("a", L, "block")
        self.s.force_abort()
        with self.assertRaises(wfpsim.TransactionError) as cm:
            self.s.add_filter("b", L, "block")
        self.assertEqual(cm.exception.name, "FWP_E_TXN_ABORTED")

    def test_closing_a_session_aborts_its_transaction(self):
        self.s.begin()
        self.s.add_filter("a", L, "block")
        self.s.close()
        self.assertEqual(self.engine.classify(L).reason, "no_match")


class Subscriptions(unittest.TestCase):
    def setUp(self):
        self.engine = wfpsim.Engine()
        self.writer = self.engine.session(name="writer")
        self.watcher = self.engine.session(name="watcher")

    def tearDown(self):
        self.engine.close()

    def test_notifications_in_order(self):
        got = []
        sub = self.watcher.subscribe("filter", got.append)
        self.assertIsInstance(sub, wfpsim.Subscription)
        a = self.writer.add_filter("a", L, "block", conditions={"IP_REMOTE_PORT": 1})
        b = self.writer.add_filter("b", L, "block", conditions={"IP_REMOTE_PORT": 2})
        self.writer.delete_filter("a")
        with self.writer.transaction():
            self.writer.add_filter("c", L, "permit")
            self.writer.delete_filter("b")
            self.assertEqual(len(got), 3)  # nothing before the commit
        self.assertEqual([(c.change, c.name) for c in got],
                         [("add", "a"), ("add", "b"), ("delete", "a"), ("add", "c"), ("delete", "b")])
        self.assertTrue(all(isinstance(c, wfpsim.Change) and c.object_type == "filter" for c in got))
        self.assertEqual((got[0].key, got[0].id), (a.key, a.id))
        self.assertEqual(got[4].key, b.key)
        sub.close()
        sub.close()
        self.writer.add_filter("d", L, "permit")
        self.assertEqual(len(got), 5)

    def test_own_changes_are_not_heard_and_flags_filter(self):
        own, adds, subs_ = [], [], []
        self.writer.subscribe("filter", own.append)
        self.watcher.subscribe("filters", adds.append, on="add")
        self.watcher.subscribe("sublayer", subs_.append)
        self.writer.add_filter("a", L, "block")
        self.writer.delete_filter("a")
        self.writer.add_sublayer("s")
        self.assertEqual(own, [])
        self.assertEqual([c.change for c in adds], ["add"])
        self.assertEqual([(c.object_type, c.name) for c in subs_], [("sublayer", "s")])

    def test_aborted_changes_are_not_notified(self):
        got = []
        self.watcher.subscribe("filter", got.append)
        with self.assertRaises(RuntimeError):
            with self.writer.transaction():
                self.writer.add_filter("a", L, "block")
                raise RuntimeError("changed my mind")
        self.assertEqual(got, [])

    def test_callback_may_call_the_engine_and_errors_are_unraisable(self):
        seen = []

        def callback(change):
            # runs after the call returned: the engine is usable
            seen.append(self.watcher.get_filter(change.key).name)
            raise ValueError("callback failed")

        self.watcher.subscribe("filter", callback)
        hooked = []
        old = sys.unraisablehook
        sys.unraisablehook = lambda u: hooked.append(u.exc_value)
        try:
            self.writer.add_filter("a", L, "block")
        finally:
            sys.unraisablehook = old
        self.assertEqual(seen, ["a"])
        self.assertEqual(len(hooked), 1)
        self.assertIsInstance(hooked[0], ValueError)
        # the add itself succeeded
        self.assertEqual(self.engine.classify(L).action, "block")

    def test_subscription_ends_with_its_session(self):
        got = []
        sub = self.watcher.subscribe("filter", got.append)
        self.watcher.close()
        self.assertTrue(sub.closed)
        self.writer.add_filter("a", L, "block")
        self.assertEqual(got, [])
        sub.close()

    def test_dynamic_session_close_notifies_deletes(self):
        got = []
        self.watcher.subscribe("filter", got.append)
        with self.engine.session(dynamic=True) as d:
            d.add_filter("temp", L, "block")
        self.assertEqual([(c.change, c.name) for c in got], [("add", "temp"), ("delete", "temp")])

    def test_not_inside_a_transaction(self):
        with self.watcher.transaction():
            with self.assertRaises(wfpsim.TransactionError):
                self.watcher.subscribe("filter", print)


class NetEvents(unittest.TestCase):
    def setUp(self):
        self.engine = wfpsim.Engine()
        self.s = self.engine.session()
        self.s.add_filter("block-81", L, "block", conditions={"IP_REMOTE_PORT": 81})

    def tearDown(self):
        self.engine.close()

    def classify(self, port, t):
        return self.engine.classify(L, IP_REMOTE_PORT=port, IP_PROTOCOL=6,
                                    IP_REMOTE_ADDRESS=ipaddress.ip_address("192.0.2.7"), time_ns=t)

    def test_enumerate_and_subscribe(self):
        live = []
        other = self.engine.session()
        sub = other.subscribe_net_events(live.append, conditions={"IP_REMOTE_PORT": 81})
        self.classify(80, 10)
        self.classify(81, 20)
        self.classify(81, 30)
        self.assertEqual([e.time_ns for e in live], [20, 30])
        ev = live[0]
        self.assertIsInstance(ev, wfpsim.NetEvent)
        self.assertEqual((ev.type, ev.layer, ev.filter_id, ev.remote_port, ev.ip_protocol, ev.ip_version),
                         ("classify_drop", L, self.s.get_filter("block-81").id, 81, 6, 4))
        self.assertEqual(ev.remote_address, ipaddress.ip_address("192.0.2.7"))
        self.assertEqual(ev.direction, "out")
        log = self.s.net_events()
        self.assertEqual([e.sequence for e in log], [1, 2])
        self.assertEqual(self.engine.net_event_count(), 2)
        self.assertEqual(len(self.s.net_events(start_ns=25, end_ns=100)), 1)
        self.assertEqual(len(self.s.net_events(conditions={"IP_REMOTE_ADDRESS": "192.0.2.7"})), 2)
        self.assertEqual(len(self.s.net_events(conditions={"IP_REMOTE_ADDRESS": "192.0.2.8"})), 0)
        self.assertEqual(len(self.s.net_events(conditions={"NET_EVENT_TYPE": "classify_drop"})), 2)
        with self.assertRaises(wfpsim.InvalidParameterError):
            self.s.net_events(start_ns=10, end_ns=5)
        sub.close()
        self.classify(81, 40)
        self.assertEqual(len(live), 2)

    def test_collection_off(self):
        self.s.set_option("collect_net_events", 0)
        with self.assertRaises(wfpsim.NotAvailableError) as cm:
            self.s.net_events()
        self.assertEqual(cm.exception.name, "FWP_E_NET_EVENTS_DISABLED")


if __name__ == "__main__":
    unittest.main()
