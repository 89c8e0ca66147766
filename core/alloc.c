/* alloc.c — the default allocator (malloc/realloc/free). */
#include "wfp_value.h"

#include <stdlib.h>

static void *std_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n ? n : 1); }
static void *std_realloc(void *ctx, void *p, size_t n) { (void)ctx; return realloc(p, n ? n : 1); }
static void std_free(void *ctx, void *p) { (void)ctx; free(p); }

static const wfp_allocator std_allocator = {std_alloc, std_realloc, std_free, NULL};

const wfp_allocator *wfp_allocator_default(void)
{
    return &std_allocator;
}
