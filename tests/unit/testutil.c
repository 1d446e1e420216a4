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

/* Only the structs: the suites that use these helpers link the formats. */
#include "model.h"

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

char *tu_dup(const char *s)
{
    char *c = s ? strdup(s) : NULL;
    if (s && !c)
        abort();
    return c;
}

void tu_set(char **dst, const char *s)
{
    free(*dst);
    *dst = tu_dup(s);
}

struct fmt_amount tu_cny(int64_t minor)
{
    struct fmt_amount a = {minor, "CNY"};
    return a;
}

const char *tu_path(const char *dir, const char *name)
{
    static char buf[4][512];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

const char *tu_fixture(const char *dir, const char *name)
{
    static char buf[4096];
    char rel[256];
    snprintf(rel, sizeof(rel), "tests/fixtures/%s/%s", dir, name);
    snprintf(buf, sizeof(buf), "%s", tu_src(rel));
    return buf;
}

long tu_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int tu_contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

int tu_xsd_valid(const char *xsd_rel, const char *path)
{
    char xsd[4096];
    snprintf(xsd, sizeof(xsd), "%s", tu_src(xsd_rel));
    return tu_system("xmllint --noout --nonet --schema '%s' '%s' "
                     ">/dev/null 2>&1",
                     xsd, path);
}

int tu_xsd_valid_doc(const char *xsd_rel, const char *path, const char *doc)
{
    if (tu_write_file(path, doc, strlen(doc)) != 0)
        return -1;
    return tu_xsd_valid(xsd_rel, path);
}

int tu_write_to(const char *path, tu_write_fn fn, const void *obj,
                struct h2h_err *err)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int rc = fn(f, obj, err);
    fclose(f);
    if (rc)
        fprintf(stderr, "  write %s: %d %s\n", path, rc, err->msg);
    return rc;
}

int tu_diag_has(const struct fmt_diag *d, const char *rule, int line,
                const char *where)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].rule && !strcmp(d->v[i].rule, rule) &&
            (line == 0 || d->v[i].line == line) &&
            (!where || (d->v[i].where && !strcmp(d->v[i].where, where))))
            return 1;
    return 0;
}

int tu_mismatches;

void tu_cmp_s(const char *path, const char *f, const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a && strcmp(a, b))) {
        fprintf(stderr, "  mismatch %s.%s: \"%s\" != \"%s\"\n", path, f,
                a ? a : "(null)", b ? b : "(null)");
        tu_mismatches++;
    }
}

void tu_cmp_i(const char *path, const char *f, long long a, long long b)
{
    if (a != b) {
        fprintf(stderr, "  mismatch %s.%s: %lld != %lld\n", path, f, a, b);
        tu_mismatches++;
    }
}

void tu_cmp_amount(const char *path, const struct fmt_amount *a,
                   const struct fmt_amount *b)
{
    TU_CI(minor);
    TU_CS(ccy);
}

void tu_cmp_postal(const char *path, const struct fmt_postal *a,
                   const struct fmt_postal *b)
{
    TU_CS(dept);
    TU_CS(street);
    TU_CS(building);
    TU_CS(postcode);
    TU_CS(town);
    TU_CS(subdivision);
    TU_CS(country);
    for (int i = 0; i < 7; i++) {
        char f[16];
        snprintf(f, sizeof(f), "lines[%d]", i);
        tu_cmp_s(path, f, a->lines[i], b->lines[i]);
    }
}

void tu_cmp_party(const char *path, const struct fmt_party *a,
                  const struct fmt_party *b)
{
    TU_CS(name);
    TU_CSUB(tu_cmp_postal, addr);
    TU_CS(org_bic);
    TU_CS(org_id);
    TU_CS(org_id_scheme);
    TU_CS(prvt_id);
    TU_CS(ctry_of_res);
}

void tu_cmp_account(const char *path, const struct fmt_account *a,
                    const struct fmt_account *b)
{
    TU_CS(iban);
    TU_CS(other_id);
    TU_CS(other_scheme);
    TU_CS(ccy);
    TU_CS(name);
    TU_CS(type);
}
