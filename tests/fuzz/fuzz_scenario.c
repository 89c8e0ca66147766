/* fuzz_scenario.c — scenario files are outside input: any bytes go through
 * the YAML loader and the scenario loader, and a scenario that loads is
 * checked (its policy applied to a scratch host) and, when it is small
 * (inline traffic only, a few packets, hosts and steps), run: the hosts'
 * shims, callouts that inject or pend, flows and expectations all see
 * fuzzed policies and packets. Nothing may crash, leak or read out of
 * bounds; a rejected input must say why. */
#include "fuzz.h"
#include "scenario.h"
#include "scenario_int.h"

/* Small enough to run many times a second. */
static bool small(const wfps_scenario *sc)
{
    uint64_t packets = 0;
    if (sc->nhosts > 4 || sc->nsteps > 32) return false;
    for (size_t i = 0; i < sc->ntraffic; i++) {
        if (sc->traffic[i].is_pcap || sc->traffic[i].repeat > 16) return false;
        packets += sc->traffic[i].repeat;
    }
    return packets <= 32;
}

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wfp_yaml_errors err;
    wfp_yaml_errors_init(&err);
    /* captures named by a fuzzed file are looked up under a directory
     * that does not exist, so nothing outside is read */
    wfp_scenario *sc = wfp_scenario_load_string("/nonexistent-fuzz/scenario.yaml", (const char *)data, size, &err);
    if (!sc) {
        FUZZ_CHECK(err.count > 0);
    } else {
        wfp_yaml_errors cerr;
        wfp_yaml_errors_init(&cerr);
        if (wfp_scenario_check(sc, &cerr) && small(sc)) {
            wfp_run_options opt = {false};
            wfp_scenario_result *r = wfp_scenario_run(sc, &opt);
            FUZZ_CHECK(r != NULL);
            wfp_scenario_result_free(r);
        }
        wfp_yaml_errors_clear(&cerr);
        wfp_scenario_free(sc);
    }
    wfp_yaml_errors_clear(&err);
    return 0;
}
