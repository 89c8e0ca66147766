"""Reference counting: creating and dropping engines, sessions and verdicts
100,000 times does not grow memory (RSS from /proc/self/statm, and the
interpreter's allocated blocks), nor do the other paths that build Python
objects in C (records, callouts, subscriptions, errors, scenario runs)."""

import gc
import sys
import time
import unittest

import wfpsim

from support import SANITIZED, rss_bytes

L = "ALE_AUTH_CONNECT_V4"
# Under AddressSanitizer everything is several times slower and RSS is
# dominated by ASan's quarantine: fewer rounds, and the block count decides.
LOOPS = 10_000 if SANITIZED else 100_000


def one_round(i):
    e = wfpsim.Engine()
    s = e.session()
    v = e.classify(L, IP_REMOTE_PORT=i & 0xFFFF)
    assert v.reason == "no_match"
    s.close()
    e.close()


def churn(n):
    for i in range(n):
        one_round(i)


class Growth(unittest.TestCase):
    def measure(self, fn, n, warmup):
        fn(warmup)
        gc.collect()
        rss0, blocks0 = rss_bytes(), sys.getallocatedblocks()
        t0 = time.monotonic()
        fn(n)
        elapsed = time.monotonic() - t0
        gc.collect()
        rss1, blocks1 = rss_bytes(), sys.getallocatedblocks()
        return rss1 - rss0, blocks1 - blocks0, elapsed

    def test_engines_sessions_verdicts(self):
        drss, dblocks, elapsed = self.measure(churn, LOOPS, 2_000)
        sys.stderr.write("\n%d engine/session/verdict rounds in %.1f s: RSS %+d KiB, %+d blocks\n"
                         % (LOOPS, elapsed, drss // 1024, dblocks))
        # a leaked verdict alone would be ~100 MB over 100,000 rounds
        if not SANITIZED:
            self.assertLess(drss, 4 * 1024 * 1024)
        self.assertLess(dblocks, 1000)

    def test_other_paths(self):
        e = wfpsim.Engine()
        writer = e.session()
        watcher = e.session()
        got = []
        watcher.subscribe("filter", got.append)
        writer.add_sublayer("hi", weight=0x9000)
        writer.add_filter("hard", L, "permit", sublayer="hi", hard=True,
                          conditions={"IP_REMOTE_ADDRESS": "10.0.0.0/8"})

        def veto(values, out):
            if values["IP_REMOTE_PORT"] == 1:
                raise ValueError("boom")
            out.block()

        writer.add_callout("veto", L, classify=veto)
        writer.add_filter("veto", L, callout="veto")
        scenario = wfpsim.Scenario(name="tiny", host={"addresses": ["10.0.0.2"]},
                                   traffic=[{"at": "1ms", "packet": {"ip": {"src": "10.0.0.2", "dst": "192.0.2.1"},
                                                                      "tcp": {"sport": 5, "dport": 6}}}])
        compiled = scenario._compiled()

        def rounds(n):
            for i in range(n):
                v = e.classify(L, IP_REMOTE_PORT=2, IP_REMOTE_ADDRESS="10.1.1.1")
                assert v.vetoed
                try:
                    e.classify(L, IP_REMOTE_PORT=1)
                except wfpsim.CalloutError:
                    pass
                try:
                    writer.add_filter("hard", L, "block")
                except wfpsim.AlreadyExistsError:
                    pass
                writer.add_filter("tmp", L, "block", conditions={"IP_REMOTE_PORT": 9})
                list(writer.filters(layer=L))
                writer.get_filter("tmp")
                writer.delete_filter("tmp")
                if i % 20 == 0:
                    compiled.run(trace=True)
                got.clear()

        n = 1_000 if SANITIZED else 5_000
        drss, dblocks, elapsed = self.measure(rounds, n, 200)
        sys.stderr.write("\n%d rounds of callouts/errors/subscriptions/enumeration in %.1f s: RSS %+d KiB, "
                         "%+d blocks\n" % (n, elapsed, drss // 1024, dblocks))
        if not SANITIZED:
            self.assertLess(drss, 4 * 1024 * 1024)
        self.assertLess(dblocks, 1000)
        e.close()


if __name__ == "__main__":
    unittest.main()
