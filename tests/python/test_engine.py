"""Engines, sessions and management objects from Python: lifetimes (context
managers, idempotent close, children keeping parents alive), add/get/delete
by key, name and id, enumeration, options, security, reboot, statistics and
the dump."""

import gc
import ipaddress
import unittest
import uuid
import weakref

import wfpsim

LAYER = "ALE_AUTH_CONNECT_V4"


class EngineLifetime(unittest.TestCase):
    def test_many_engines_are_independent(self):
        engines = [wfpsim.Engine() for _ in range(5)]
        with engines[0].session() as s:
            s.add_filter("only-in-0", LAYER, "block")
        self.assertEqual(engines[0].classify(LAYER).action, "block")
        for e in engines[1:]:
            self.assertEqual(e.classify(LAYER).reason, "no_match")
        for e in engines:
            e.close()

    def test_close_is_idempotent_and_closes_sessions(self):
        e = wfpsim.Engine()
        s = e.session()
        self.assertFalse(e.closed)
        e.close()
        e.close()
        self.assertTrue(e.closed)
        self.assertTrue(s.closed)
        s.close()  # idempotent, even after the engine went
        with self.assertRaises(ValueError):
            e.classify(LAYER)
        with self.assertRaises(ValueError):
            s.add_filter("x", LAYER, "block")
        with self.assertRaises(ValueError):
            e.session()

    def test_context_managers(self):
        with wfpsim.Engine() as e:
            with e.session(name="cm") as s:
                self.assertFalse(s.closed)
                self.assertIn(s, e.sessions)
            self.assertTrue(s.closed)
            self.assertNotIn(s, e.sessions)
        self.assertTrue(e.closed)

    def test_session_keeps_engine_alive(self):
        e = wfpsim.Engine()
        ref = weakref.ref(e)
        s = e.session()
        del e
        gc.collect()
        self.assertIsNotNone(ref())
        s.add_filter("f", LAYER, "block")
        self.assertEqual(s.engine.classify(LAYER).action, "block")
        del s
        gc.collect()
        self.assertIsNone(ref())

    def test_callout_cycle_is_collected(self):
        # engine -> callout function -> engine: the GC breaks the cycle
        e = wfpsim.Engine()
        ref = weakref.ref(e)
        e.register_callout("c", lambda values, out, engine=e: None)
        del e
        gc.collect()
        self.assertIsNone(ref())

    def test_subclass_types(self):
        e = wfpsim.Engine()
        self.assertIsInstance(e, wfpsim._wfpsim.Engine)
        self.assertIsInstance(e.session(), wfpsim.Session)
        self.assertEqual(repr(e), "<wfpsim.Engine>")
        e.close()
        self.assertEqual(repr(e), "<wfpsim.Engine closed>")

    def test_or_mode(self):
        with self.assertRaises(ValueError):
            wfpsim.Engine(or_mode="sometimes")
        wfpsim.Engine(or_mode="adjacent").close()


class Objects(unittest.TestCase):
    def setUp(self):
        self.engine = wfpsim.Engine()
        self.s = self.engine.session(name="test")

    def tearDown(self):
        self.engine.close()

    def test_add_returns_records(self):
        p = self.s.add_provider("Vendor", description="a vendor", service_name="svc", provider_data=b"\x01\x02")
        self.assertIsInstance(p, wfpsim.Provider)
        self.assertEqual(p.key, wfpsim.guid_from_name("provider", "Vendor"))
        self.assertEqual((p.name, p.description, p.service_name, p.provider_data),
                         ("Vendor", "a vendor", "svc", b"\x01\x02"))
        sl = self.s.add_sublayer("A", weight=0x8000, provider="Vendor")
        self.assertEqual(sl.provider_key, p.key)
        # a taken weight moves to the closest free one
        sl2 = self.s.add_sublayer("B", weight=0x8000)
        self.assertNotEqual(sl2.weight, 0x8000)
        co = self.s.add_callout("c", LAYER)
        self.assertIsInstance(co, wfpsim.Callout)
        self.assertGreater(co.id, 0)
        self.assertEqual(co.layer, LAYER)
        key = uuid.UUID("01234567-89ab-cdef-0123-456789abcdef")
        f = self.s.add_filter("f", LAYER, "permit", sublayer="A", provider="Vendor", weight=10, key=key,
                              context=7, hard=True,
                              conditions=[wfpsim.Condition("IP_REMOTE_PORT", "equal", 443),
                                          ("IP_REMOTE_ADDRESS", "equal", ipaddress.ip_network("10.0.0.0/8")),
                                          ("IP_LOCAL_PORT", "range", (1024, 65535))])
        self.assertEqual(f.key, key)
        self.assertEqual(f.sublayer_key, sl.key)
        self.assertEqual(f.weight, 10)
        self.assertEqual(f.context, 7)
        self.assertEqual(f.action, "permit")
        self.assertTrue(f.flags & wfpsim.FWPM_FILTER_FLAG_CLEAR_ACTION_RIGHT)
        self.assertEqual(f.conditions, (
            wfpsim.Condition("IP_REMOTE_PORT", "equal", 443),
            wfpsim.Condition("IP_REMOTE_ADDRESS", "equal", ipaddress.ip_network("10.0.0.0/8")),
            wfpsim.Condition("IP_LOCAL_PORT", "range", (1024, 65535))))
        self.assertGreater(f.effective_weight, 0)
        cf = self.s.add_filter("cf", LAYER, callout="c")
        self.assertEqual((cf.action, cf.callout_key), ("callout_terminating", co.key))

    def test_get_and_delete_by_key_name_and_id(self):
        f = self.s.add_filter("f", LAYER, "block")
        self.assertEqual(self.s.get_filter("f"), f)
        self.assertEqual(self.s.get_filter(f.key), f)
        self.assertEqual(self.s.get_filter(str(f.key)), f)
        self.assertEqual(self.s.get_filter("{%s}" % f.key), f)
        self.assertEqual(self.s.get_filter(f.id), f)
        self.assertEqual(self.engine.filter_by_id(f.id), f)
        self.assertEqual(self.engine.filter_id("f"), f.id)
        self.assertEqual(self.engine.filter_name(f.id), "f")
        self.s.delete_filter(f.id)
        with self.assertRaises(wfpsim.NotFoundError):
            self.s.get_filter(f.id)
        g = self.s.add_filter("g", LAYER, "block")
        self.s.delete_filter("g")
        with self.assertRaises(wfpsim.NotFoundError):
            self.s.delete_filter(g.key)
        c = self.s.add_callout("c", LAYER)
        self.assertEqual(self.s.get_callout(c.id), c)
        self.s.delete_callout(c.id)
        self.s.add_sublayer("sl")
        self.assertEqual(self.s.get_sublayer("sl").name, "sl")
        self.s.delete_sublayer("sl")
        self.s.add_provider("p")
        self.assertEqual(self.s.get_provider("p").name, "p")
        self.s.delete_provider("p")
        with self.assertRaises(wfpsim.NotFoundError):
            self.s.get_provider("p")

    def test_builtin_names(self):
        universal = self.s.get_sublayer("FWPM_SUBLAYER_UNIVERSAL")
        self.assertEqual(universal.key, wfpsim.builtin_sublayers()["UNIVERSAL"][0])
        f = self.s.add_filter("f", LAYER, "block", sublayer="UNIVERSAL")
        self.assertEqual(f.sublayer_key, universal.key)
        with self.assertRaises(wfpsim.InUseError):
            self.s.delete_sublayer("UNIVERSAL")

    def test_enumeration(self):
        self.s.add_provider("P")
        self.s.add_sublayer("S", provider="P")
        self.s.add_callout("C", LAYER, provider="P")
        self.s.add_filter("F1", LAYER, "block", provider="P", conditions={"IP_REMOTE_PORT": 80})
        self.s.add_filter("F2", LAYER, "permit", conditions={"IP_REMOTE_PORT": 443})
        self.s.add_filter("F3", "ALE_AUTH_RECV_ACCEPT_V4", "permit")
        it = self.s.filters(layer=LAYER)
        self.assertTrue(hasattr(it, "__next__"))
        self.assertEqual(sorted(f.name for f in it), ["F1", "F2"])
        self.assertEqual([f.name for f in self.s.filters(layer=LAYER, provider="P")], ["F1"])
        self.assertEqual([f.name for f in self.s.filters(layer=LAYER, conditions={"IP_REMOTE_PORT": 443})],
                         ["F2"])
        self.assertEqual([f.name for f in self.s.filters(layer=LAYER, action_mask=wfpsim.FWP_ACTION_BLOCK & 0xF)],
                         ["F1"])
        self.assertEqual([s.name for s in self.s.sublayers(provider="P")], ["S"])
        self.assertEqual([c.name for c in self.s.callouts(provider="P")], ["C"])
        self.assertIn("C", [c.name for c in self.s.callouts(layer=LAYER)])
        self.assertIn("P", [p.name for p in self.s.providers()])
        layers = list(self.s.layers())
        self.assertEqual(len(layers), len(wfpsim.layers()))
        # evaluation order, no session
        self.assertEqual([f.name for f in self.engine.filters(LAYER)][:2], ["F1", "F2"])
        with self.assertRaises(wfpsim.InvalidParameterError):
            list(self.s.filters(layer=LAYER, enum_type=7))

    def test_dynamic_session_takes_its_objects(self):
        with self.engine.session(dynamic=True) as d:
            self.assertTrue(d.dynamic)
            d.add_filter("temp", LAYER, "block")
            self.assertEqual(self.engine.classify(LAYER).action, "block")
        self.assertEqual(self.engine.classify(LAYER).reason, "no_match")

    def test_options(self):
        self.assertEqual(self.s.get_option("collect_net_events"), 1)
        self.s.set_option("collect_net_events", 0)
        self.assertEqual(self.s.get_option(0), 0)  # by number too
        with self.assertRaises(ValueError):
            self.s.get_option("no_such_option")
        with self.s.transaction():
            with self.assertRaises(wfpsim.TransactionError):
                self.s.set_option("collect_net_events", 1)

    def test_security(self):
        sddl = self.s.get_security("engine")
        self.assertTrue(sddl.startswith("O:"))
        self.s.add_filter("f", LAYER, "block")
        self.s.set_security("filter", "f", "D:(A;;GA;;;BA)", info=4)
        self.assertIn("(A;;GA;;;BA)", self.s.get_security("filter", "f"))
        user = self.engine.session(user="S-1-5-21-1-2-3-1001", admin=False)
        with self.assertRaises(wfpsim.AccessDeniedError) as cm:
            user.delete_filter("f")
        self.assertEqual(cm.exception.name, "ERROR_ACCESS_DENIED")

    def test_reboot_closes_sessions_and_keeps_persistent_objects(self):
        self.s.add_filter("static", LAYER, "block", conditions={"IP_REMOTE_PORT": 1})
        self.s.add_filter("persistent", LAYER, "block", flags=["persistent"], conditions={"IP_REMOTE_PORT": 2})
        self.engine.reboot()
        self.assertTrue(self.s.closed)
        self.assertFalse(self.engine.bfe_running)
        self.engine.bfe_start()
        self.assertTrue(self.engine.bfe_running)
        self.assertEqual(self.engine.classify(LAYER, IP_REMOTE_PORT=1).reason, "no_match")
        self.assertEqual(self.engine.classify(LAYER, IP_REMOTE_PORT=2).action, "block")
        with self.assertRaises(ValueError):
            self.s.add_filter("x", LAYER, "block")

    def test_stats_and_dump(self):
        self.s.add_filter("f", LAYER, "block", conditions={"IP_REMOTE_PORT": 1})
        self.engine.classify(LAYER, IP_REMOTE_PORT=1)
        self.engine.classify(LAYER, IP_REMOTE_PORT=2)
        st = self.engine.stats()
        self.assertEqual((st.classify_count, st.outbound_blocked_v4, st.outbound_allowed_v4), (2, 1, 1))
        ls = self.engine.layer_stats(LAYER)
        self.assertEqual((ls.classify_count, ls.block_count, ls.permit_count), (2, 1, 1))
        d1 = self.engine.dump()
        self.assertIn("name=f", d1)
        self.assertEqual(d1, self.engine.dump())  # stable
        with self.assertRaises(wfpsim.AlreadyExistsError):
            self.s.add_filter("f", LAYER, "block")
        self.assertEqual(d1, self.engine.dump())  # a failed add changed nothing


class Catalogue(unittest.TestCase):
    def test_layers_and_fields(self):
        ls = wfpsim.layers()
        self.assertEqual([l.id for l in ls], list(range(len(ls))))
        l = wfpsim.layer("FWPM_LAYER_ALE_AUTH_CONNECT_V4")
        self.assertEqual(l.name, LAYER)
        self.assertEqual(wfpsim.layer(l.id), l)
        self.assertEqual(wfpsim.layer(str(l.key)), l)
        names = [f.name for f in l.fields]
        self.assertIn("IP_REMOTE_PORT", names)
        port = l.fields[names.index("IP_REMOTE_PORT")]
        self.assertEqual((port.data_type, port.field_type), ("FWP_UINT16", "raw_data"))
        with self.assertRaises(wfpsim.NotFoundError):
            wfpsim.layer("NO_SUCH_LAYER")
        self.assertIn("IP_REMOTE_PORT", wfpsim.condition_fields())

    def test_parsers(self):
        sid = wfpsim.parse_sid("S-1-5-18")
        self.assertEqual(wfpsim.format_sid(sid), "S-1-5-18")
        self.assertEqual(wfpsim.format_sid(wfpsim.parse_sid("BA")), "S-1-5-32-544")
        with self.assertRaises(wfpsim.InvalidParameterError):
            wfpsim.parse_sid("not a sid")
        sd = wfpsim.parse_sddl("O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1001)")
        self.assertEqual(wfpsim.format_sd(sd), "O:LSD:(A;;CC;;;S-1-5-21-1-2-3-1001)")
        tok = wfpsim.token(["S-1-5-21-1-2-3-1001", "S-1-1-0"])
        self.assertTrue(wfpsim.access_check(sd, tok, 1))
        self.assertFalse(wfpsim.access_check(sd, wfpsim.token(["S-1-5-18"]), 1))
        blob = wfpsim.app_id(r"C:\Program Files\App\app.exe")
        self.assertEqual(blob[-2:], b"\0\0")
        self.assertEqual(wfpsim.format_app_id(blob), r"\device\harddiskvolume3\program files\app\app.exe")
        g = wfpsim.parse_guid("{01234567-89AB-CDEF-0123-456789ABCDEF}")
        self.assertEqual(g, uuid.UUID("01234567-89ab-cdef-0123-456789abcdef"))
        self.assertEqual(wfpsim.guid_from_name("filter", "x"), wfpsim.guid_from_name("filter", "x"))
        self.assertNotEqual(wfpsim.guid_from_name("filter", "x"), wfpsim.guid_from_name("sublayer", "x"))


if __name__ == "__main__":
    unittest.main()
