"""Scenario results beyond the packets: every host's net-event log as the
run saw it, the change notifications delivered to the scenario's
subscriptions, and one outcome (passed/failed, position, message) per item
of `expect:`."""

import gc
import ipaddress
import os
import sys
import unittest
import uuid

import wfpsim

from support import SCENARIOS

VETO = os.path.join(SCENARIOS, "net-events", "veto-logged-as-drop.yaml")
NOTES = os.path.join(SCENARIOS, "notifications", "subscriptions-per-object-type.yaml")


class NetEvents(unittest.TestCase):
    def test_log_with_packet_and_filter(self):
        r = wfpsim.Scenario.load(VETO).run()
        self.assertTrue(r.passed, r.reason)
        self.assertEqual(len(r.net_events), 1)
        e = r.net_events[0]
        self.assertIsInstance(e, wfpsim.ScenarioNetEvent)
        self.assertEqual((e.host, e.sequence, e.type, e.packet, e.layer, e.filter),
                         ("client", 1, "classify_drop", 1, "ALE_AUTH_CONNECT_V4", "irc-veto"))
        self.assertEqual((e.ip_version, e.ip_protocol, e.local_port, e.remote_port, e.direction),
                         (4, 6, 50000, 6667, "out"))
        self.assertEqual(e.local_address, ipaddress.IPv4Address("10.0.0.2"))
        self.assertEqual(e.remote_address, ipaddress.IPv4Address("192.0.2.10"))
        self.assertEqual(e.time_ns, 1_000_000)
        self.assertNotEqual(e.filter_id, 0)

    def test_log_is_kept_without_net_event_expectations(self):
        sc = wfpsim.Scenario.load(VETO)
        del sc.data["expect"]["net_events"]
        r = sc.run()
        self.assertTrue(r.passed, r.reason)
        self.assertEqual([(e.type, e.packet) for e in r.net_events], [("classify_drop", 1)])
        self.assertNotIn("net_events", {x.kind for x in r.expectations})

    def test_nothing_logged_while_collection_is_off(self):
        r = wfpsim.Scenario.load(os.path.join(SCENARIOS, "net-events", "c60-collection-switched-off.yaml")).run()
        self.assertTrue(r.passed, r.reason)
        self.assertEqual([(e.packet, e.filter) for e in r.net_events], [(1, "block-443"), (3, "block-443")])
        self.assertEqual([x.what for x in r.expectations],
                         ["packets 1-3", "net event 1", "net event 2", "net_events: no more than 2"])


class Notifications(unittest.TestCase):
    def test_in_delivery_order(self):
        r = wfpsim.Scenario.load(NOTES).run()
        self.assertTrue(r.passed, r.reason)
        got = [(n.session, n.change, n.object_type, n.name) for n in r.notifications]
        self.assertEqual(got, [
            ("prov", "add", "provider", "Vendor"),
            ("subs", "add", "sublayer", "vendor-sublayer"),
            ("calls", "add", "callout", "vendor-callout"),
            ("calls", "delete", "callout", "vendor-callout"),
            ("subs", "delete", "sublayer", "vendor-sublayer"),
            ("prov", "delete", "provider", "Vendor"),
        ])
        n = r.notifications[2]
        self.assertIsInstance(n, wfpsim.Notification)
        self.assertEqual(n.host, "client")
        self.assertIsInstance(n.key, uuid.UUID)
        self.assertNotEqual(n.id, 0)  # a callout id
        self.assertEqual(r.notifications[0].id, 0)


class Expectations(unittest.TestCase):
    def test_one_outcome_per_item(self):
        r = wfpsim.Scenario.load(VETO).run()
        got = [(x.kind, x.what, x.passed, x.message) for x in r.expectations]
        self.assertEqual(got, [
            ("packets", "packet 1", True, None),
            ("packets", "packet 2", True, None),
            ("net_events", "net event 1", True, None),
            ("net_events", "net_events: no more than 1", True, None),
            ("stats", "stats.vetoes", True, None),
        ])
        x = r.expectations[0]
        self.assertIsInstance(x, wfpsim.ExpectationOutcome)
        self.assertEqual(x.file, VETO)
        with open(VETO, encoding="utf-8") as f:
            line = f.read().splitlines()[x.line - 1]
        self.assertIn("packet: 1", line[x.column - 1:])

    def test_failures_are_attributed(self):
        sc = wfpsim.Scenario.load(VETO)
        sc.data["expect"]["packets"][1]["verdict"] = "block"
        sc.data["expect"]["stats"]["vetoes"] = 2
        sc.data["expect"]["flows"] = 7
        r = sc.run()
        self.assertFalse(r.passed)
        by_what = {x.what: x for x in r.expectations}
        self.assertTrue(by_what["packet 1"].passed)
        self.assertFalse(by_what["packet 2"].passed)
        self.assertIn("expected verdict block", by_what["packet 2"].message)
        self.assertFalse(by_what["stats.vetoes"].passed)
        self.assertTrue(by_what["net event 1"].passed)
        flows = by_what["flows"]
        self.assertEqual(flows.kind, "flows")
        self.assertFalse(flows.passed)
        self.assertGreater(flows.line, 0)
        failed = [x.message for x in r.expectations if not x.passed]
        self.assertEqual(failed, list(r.failures))

    def test_notification_items(self):
        sc = wfpsim.Scenario.load(NOTES)
        notes = sc.data["expect"]["notifications"]
        notes[1]["name"] = "other"
        notes.append({"session": "prov", "change": "add", "object": "provider"})
        notes.append({"session": "prov", "change": "add", "object": "provider"})
        r = sc.run()
        self.assertFalse(r.passed)
        outcomes = [x for x in r.expectations if x.kind == "notifications"]
        self.assertEqual([x.passed for x in outcomes], [True, False, True, True, True, True, False, False, True])
        self.assertIn("notification 7", outcomes[6].message)
        self.assertIn("not compared", outcomes[7].message)
        # fewer expected than observed: the list as a whole fails
        sc = wfpsim.Scenario.load(NOTES)
        del sc.data["expect"]["notifications"][5]
        r = sc.run()
        last = r.expectations[-1]
        self.assertEqual((last.what, last.passed), ("notifications: no more than 5", False))
        self.assertIn("expected no more", last.message)

    def test_setup_error_has_no_outcomes(self):
        sc = wfpsim.Scenario.load(VETO)
        sc.data["traffic"].append({"pcap": "/nonexistent/missing.pcap"})
        r = sc.run()
        self.assertFalse(r.passed)
        self.assertEqual(r.expectations, ())


class NoGrowth(unittest.TestCase):
    def test_results_and_graphs_are_released(self):
        veto, notes = wfpsim.Scenario.load(VETO), wfpsim.Scenario.load(NOTES)

        def rounds(n):
            for i in range(n):
                r = veto.run()
                assert r.net_events[0].filter == "irc-veto" and all(x.passed for x in r.expectations)
                assert len(notes.run().notifications) == 6
                if i % 10 == 0:
                    assert "<svg" in veto.graph(layer="ALE_AUTH_CONNECT_V4")

        rounds(20)
        gc.collect()
        blocks0 = sys.getallocatedblocks()
        rounds(200)
        gc.collect()
        self.assertLess(sys.getallocatedblocks() - blocks0, 500)


class InjectedCopies(unittest.TestCase):
    def test_copies_name_their_original(self):
        r = wfpsim.Scenario.load(os.path.join(SCENARIOS, "injection", "inline-modification.yaml")).run()
        self.assertTrue(r.passed, r.reason)
        got = [(p.number, p.verdict, p.injected_from, p.layer) for p in r.packets]
        self.assertEqual(got, [(1, "block", None, "OUTBOUND_TRANSPORT_V4"),
                               (2, "permit", 1, "OUTBOUND_IPPACKET_V4"),
                               (3, "block", None, "OUTBOUND_TRANSPORT_V4"),
                               (4, "block", 3, "ALE_AUTH_CONNECT_V4")])
        self.assertTrue(r.packets[0].absorbed)


if __name__ == "__main__":
    unittest.main()
