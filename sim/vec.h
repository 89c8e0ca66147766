/* vec.h — growing an array by one element (sim/ callers that keep plain
 * pointer + count + capacity arrays). */
#ifndef WFPS_VEC_H
#define WFPS_VEC_H

#include <stdlib.h>
#include <string.h>

/* Appends one zeroed element of `elem` bytes to *v (count *n, capacity
 * *cap, doubling from 16); returns it, or NULL when memory runs out (the
 * array is then unchanged). */
static inline void *wfps_push(void **v, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        void *nv = realloc(*v, ncap * elem);
        if (!nv) return NULL;
        *v = nv;
        *cap = ncap;
    }
    void *slot = (char *)*v + (*n)++ * elem;
    memset(slot, 0, elem);
    return slot;
}

#endif
