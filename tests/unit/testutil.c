/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int tu_main(const char *suite, const struct tu_case *cases)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    if (!s)
        return 2;
    for (const struct tu_case *c = cases; c->name; c++)
        CU_add_test(s, c->name, c->fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() +
                      CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

const char *tu_corpus(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("H2H_CORPUS");
    if (!base || !*base)
        base = "../shared/corpus";
    snprintf(buf, sizeof(buf), "%s/%s", base, rel);
    return buf;
}

int tu_corpus_present(void)
{
    struct stat st;
    return stat(tu_corpus("README.md"), &st) == 0;
}

const char *tu_src(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("H2H_SRC");
    if (!base || !*base)
        base = ".";
    snprintf(buf, sizeof(buf), "%s/%s", base, rel);
    return buf;
}

const char *tu_mkdtemp(void)
{
    static char slots[8][256];
    static int next;
    char *b = slots[next++ % 8];
    const char *tmp = getenv("TMPDIR");
    snprintf(b, 256, "%s/h2htest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(b);
}

static int rm_cb(const char *path, const struct stat *st, int flag,
                 struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int tu_rmtree(const char *path)
{
    return path ? nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS) : 0;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int tu_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    size_t w = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return (w == len && rc == 0) ? 0 : -EIO;
}

int tu_system(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

char *tu_conf_example(const char *name, int *lines)
{
    char bm[128], em[128];
    char *text = tu_read_file(tu_src("etc/h2hd.conf.sample"), NULL);
    *lines = 0;
    if (!text)
        return NULL;
    snprintf(bm, sizeof(bm), "--- begin %s example ---", name);
    snprintf(em, sizeof(em), "--- end %s example ---", name);
    const char *b = strstr(text, bm), *e = strstr(text, em);
    char *out = NULL;
    if (!b || !e || b > e || !(out = malloc((size_t)(e - b) + 64)))
        goto out;
    b = strchr(b, '\n') + 1;
    size_t o = (size_t)sprintf(out, "bank = ");
    while (b < e) {
        const char *nl = memchr(b, '\n', (size_t)(e - b));
        if (!nl)
            break;
        const char *p = b;
        while (*p == ' ')
            p++;
        if (*p == '#' && p < nl && strncmp(p, "# ---", 5) != 0) {
            p++;
            if (*p == ' ')
                p++;
            memcpy(out + o, p, (size_t)(nl - p));
            o += (size_t)(nl - p);
            out[o++] = '\n';
            (*lines)++;
        }
        b = nl + 1;
    }
    memcpy(out + o, ";\n", 3);
out:
    free(text);
    return out;
}
