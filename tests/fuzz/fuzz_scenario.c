/* fuzz_scenario.c — scenario files are outside input: any bytes go through
 * the YAML loader and the scenario loader, and a scenario that loads is
 * checked (its policy applied to a scratch host). Nothing may crash, leak
 * or read out of bounds; a rejected input must say why. */
#include "fuzz.h"
#include "scenario.h"

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
        (void)wfp_scenario_check(sc, &cerr);
        wfp_yaml_errors_clear(&cerr);
        wfp_scenario_free(sc);
    }
    wfp_yaml_errors_clear(&err);
    return 0;
}
