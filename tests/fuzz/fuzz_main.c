/* fuzz_main.c — a plain driver for the fuzz targets: runs every file named
 * on the command line, or found in a directory named there, through
 * LLVMFuzzerTestOneInput once, in name order. CTest uses it to replay the
 * committed seed corpora (and any crash reproducer added to them) on every
 * build, with or without clang. Each input is copied into a heap block of
 * exactly its size so AddressSanitizer sees any over-read. */
#if !defined(_WIN32) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1 /* opendir/readdir under -std=c11 */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <dirent.h>
#include <sys/stat.h>
#endif

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int add_name(names *ns, const char *dir, const char *base)
{
    size_t len = (dir ? strlen(dir) + 1 : 0) + strlen(base) + 1;
    char *s = malloc(len);

    if (s == NULL)
        return -1;
    if (dir != NULL)
        snprintf(s, len, "%s/%s", dir, base);
    else
        snprintf(s, len, "%s", base);
    if (ns->n == ns->cap) {
        size_t ncap = ns->cap ? ns->cap * 2 : 64;
        char **nv = realloc(ns->v, ncap * sizeof *nv);

        if (nv == NULL) {
            free(s);
            return -1;
        }
        ns->v = nv;
        ns->cap = ncap;
    }
    ns->v[ns->n++] = s;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the regular files of dir; returns -1 if dir is not a directory. */
static int list_dir(const char *dir, names *ns)
{
#ifdef _WIN32
    char pattern[MAX_PATH];
    WIN32_FIND_DATAA fd;
    HANDLE h;

    snprintf(pattern, sizeof pattern, "%s\\*", dir);
    h = FindFirstFileA(pattern, &fd);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    do {
        if (!(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) && add_name(ns, dir, fd.cFileName) != 0)
            break;
    } while (FindNextFileA(h, &fd));
    FindClose(h);
    return 0;
#else
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && add_name(ns, dir, e->d_name) != 0)
            break;
    }
    closedir(d);
    return 0;
#endif
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (f == NULL) {
        fprintf(stderr, "fuzz_main: cannot open %s\n", path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
        fclose(f);
        return -1;
    }
    rewind(f);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        fprintf(stderr, "fuzz_main: cannot read %s\n", path);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    names ns = {NULL, 0, 0};
    size_t i;
    int errors = 0, a;

    for (a = 1; a < argc; a++) {
        if (list_dir(argv[a], &ns) != 0 && add_name(&ns, NULL, argv[a]) != 0)
            return 2; /* not a directory: a file */
    }
    if (ns.n > 1)
        qsort(ns.v, ns.n, sizeof ns.v[0], cmp_names);
    for (i = 0; i < ns.n; i++) {
        if (run_file(ns.v[i]) != 0)
            errors++;
        free(ns.v[i]);
    }
    free(ns.v);
    printf("%s: %zu inputs run, %d unreadable\n", argc > 0 ? argv[0] : "fuzz", i, errors);
    if (i == 0) {
        fprintf(stderr, "fuzz_main: no inputs\n");
        return 1;
    }
    return errors ? 1 : 0;
}
