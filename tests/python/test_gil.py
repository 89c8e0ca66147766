"""The GIL is released while a simulation runs: another Python thread keeps
running during Scenario.run (and replay, which runs a scenario)."""

import threading
import time
import unittest

import wfpsim

from support import SANITIZED


def slow_scenario(n):
    """Mostly C time with little output: n filters added one by one (each
    add recompiles the layer), then a single packet."""
    return wfpsim.Scenario(
        name="slow",
        host={"addresses": ["10.0.0.2"]},
        policy={"filters": [{"name": "f%d" % i, "layer": "ALE_AUTH_CONNECT_V4", "action": "block",
                             "conditions": {"IP_REMOTE_PORT": i + 1}} for i in range(n)]},
        traffic=[{"at": "1ms", "packet": {"ip": {"src": "10.0.0.2", "dst": "192.0.2.1"},
                                          "tcp": {"sport": 50000, "dport": 60000, "flags": "S"}}}])


class GilReleased(unittest.TestCase):
    def test_other_threads_run_during_a_scenario(self):
        compiled = slow_scenario(600 if SANITIZED else 1200)._compiled()
        span = {}

        def run():
            span["start"] = time.monotonic()
            span["result"] = compiled.run()
            span["end"] = time.monotonic()

        t = threading.Thread(target=run)
        stamps = []
        t.start()
        while t.is_alive():
            stamps.append(time.monotonic())
            sum(range(200))
        t.join()
        self.assertTrue(span["result"].passed, span["result"].reason)
        duration = span["end"] - span["start"]
        inside = [s for s in stamps if span["start"] < s < span["end"]]
        gaps = [b - a for a, b in zip(inside, inside[1:])] or [duration]
        if duration < 0.1:
            self.skipTest("the scenario ran too fast (%.3f s) to tell" % duration)
        # with the GIL held the main thread would stall for the whole run
        self.assertGreater(len(inside), 100)
        self.assertLess(max(gaps), duration / 2)


if __name__ == "__main__":
    unittest.main()
