/* result.c — names and messages of result codes, from result.def. */
#include "wfp_types.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    uint32_t code;
    const char *message;
} results[] = {
    {"ERROR_SUCCESS", 0, "the operation completed successfully"},
#define X(name, value, text) {#name, value, text},
#include "result.def"
#undef X
};

#define NRESULTS (sizeof results / sizeof results[0])

const char *wfp_result_name(uint32_t code)
{
    for (size_t i = 0; i < NRESULTS; i++)
        if (results[i].code == code) return results[i].name;
    return NULL;
}

const char *wfp_result_message(uint32_t code)
{
    for (size_t i = 0; i < NRESULTS; i++)
        if (results[i].code == code) return results[i].message;
    return NULL;
}

static bool ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'a' && x <= 'z') x = (char)(x - 32);
        if (y >= 'a' && y <= 'z') y = (char)(y - 32);
        if (x != y) return false;
    }
    return *a == *b;
}

bool wfp_result_from_name(const char *name, uint32_t *code)
{
    if (!name) return false;
    for (size_t i = 0; i < NRESULTS; i++) {
        if (ieq(results[i].name, name)) {
            *code = results[i].code;
            return true;
        }
    }
    if (name[0] == '0' && (name[1] == 'x' || name[1] == 'X')) {
        char *end;
        unsigned long v = strtoul(name + 2, &end, 16);
        if (*end || end == name + 2 || v > 0xffffffffUL) return false;
        /* a plain Win32 code (5) means its HRESULT form, as Fwpm* return it */
        *code = (v != 0 && v <= 0xffff) ? (uint32_t)(v | 0x80070000u) : (uint32_t)v;
        return true;
    }
    return false;
}
