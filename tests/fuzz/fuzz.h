/* fuzz.h — the libFuzzer entry point every target in tests/fuzz defines.
 * The same target links either with libFuzzer (-fsanitize=fuzzer) or with
 * fuzz_main.c, which replays a corpus for CTest. */
#ifndef WFP_FUZZ_H
#define WFP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message when an invariant does not hold (in both builds,
 * unlike assert(), which NDEBUG would remove). */
#define FUZZ_CHECK(cond)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

#endif
