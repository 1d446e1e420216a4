/*
 * testutil.h - small helpers shared by the CUnit suites.
 *
 * Each suite is one executable:
 *
 *     static const struct tu_case cases[] = {
 *         {"iban checksum", test_iban_checksum},
 *         {NULL, NULL}
 *     };
 *     int main(void) { return tu_main("ident", cases); }
 *
 * tu_main returns non-zero when any assertion failed.
 */
#ifndef H2H_TESTUTIL_H
#define H2H_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <CUnit/Basic.h>

struct h2h_err;
struct fmt_diag;
struct fmt_amount;
struct fmt_postal;
struct fmt_party;
struct fmt_account;

struct tu_case {
    const char *name;
    void (*fn)(void);
};

int tu_main(const char *suite, const struct tu_case *cases);

/* Path of a file in the shared corpus ($H2H_CORPUS or ../shared/corpus);
 * returns a static buffer. */
const char *tu_corpus(const char *rel);
/* 1 if the corpus directory exists. */
int tu_corpus_present(void);
/* Path under the source tree ($H2H_SRC); static buffer. */
const char *tu_src(const char *rel);

/* Create a fresh temporary directory; returns a static buffer per call
 * slot (up to 8 live at once). Removed recursively by tu_rmtree. */
const char *tu_mkdtemp(void);
int tu_rmtree(const char *path);

/* Whole file into a NUL-terminated malloc'd buffer (caller frees). */
char *tu_read_file(const char *path, size_t *len);
/* The commented example between "--- begin NAME example ---" and "---
 * end NAME example ---" in etc/h2hd.conf.sample, uncommented, as
 * "bank = { ... };" ready for config_read_string; *lines receives the
 * number of lines taken.  NULL when the markers are missing.  The caller
 * frees. */
char *tu_conf_example(const char *name, int *lines);
int tu_write_file(const char *path, const void *data, size_t len);

/* Run a shell command; returns its exit status (or -1). */
int tu_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* strdup that aborts on ENOMEM; NULL stays NULL. */
char *tu_dup(const char *s);
/* Free *dst and replace it with tu_dup(s). */
void tu_set(char **dst, const char *s);
/* minor units of CNY. */
struct fmt_amount tu_cny(int64_t minor);

/* dir/name in one of 4 rotating static buffers. */
const char *tu_path(const char *dir, const char *name);
/* tests/fixtures/DIR/NAME under the source tree; static buffer. */
const char *tu_fixture(const char *dir, const char *name);
/* Size of a file in bytes, -1 when it cannot be stat'ed. */
long tu_file_size(const char *path);
/* 1 if needle occurs in hay (a NULL hay contains nothing). */
int tu_contains(const char *hay, const char *needle);

/* xmllint's exit status validating path against the schema at xsd_rel
 * (relative to the source tree): 0 when valid. */
int tu_xsd_valid(const char *xsd_rel, const char *path);
/* Write doc to path and validate it as tu_xsd_valid; -1 if not written. */
int tu_xsd_valid_doc(const char *xsd_rel, const char *path, const char *doc);

/* A format writer: obj to f, 0 or an error code with err set. */
typedef int (*tu_write_fn)(FILE *, const void *, struct h2h_err *);
/* Write obj to path with fn (asserts the file opens); fn's code. */
int tu_write_to(const char *path, tu_write_fn fn, const void *obj,
                struct h2h_err *err);

/* 1 if d holds a problem with rule, on line (0: any), at where (NULL:
 * any). */
int tu_diag_has(const struct fmt_diag *d, const char *rule, int line,
                const char *where);

/* Field-by-field comparison: each difference is printed as "mismatch
 * path.field" and counted in tu_mismatches (reset it before comparing).
 * TU_CS/TU_CI/TU_CSUB compare field fld of a and b under path. */
extern int tu_mismatches;
void tu_cmp_s(const char *path, const char *f, const char *a, const char *b);
void tu_cmp_i(const char *path, const char *f, long long a, long long b);
#define TU_CS(fld) tu_cmp_s(path, #fld, a->fld, b->fld)
#define TU_CI(fld)                                                             \
    tu_cmp_i(path, #fld, (long long)(a->fld), (long long)(b->fld))
#define TU_CSUB(fn, fld)                                                       \
    do {                                                                       \
        char p_[256];                                                          \
        snprintf(p_, sizeof(p_), "%s.%s", path, #fld);                         \
        fn(p_, &a->fld, &b->fld);                                              \
    } while (0)
/* Every field of model.h's amount, postal address, party and account. */
void tu_cmp_amount(const char *path, const struct fmt_amount *a,
                   const struct fmt_amount *b);
void tu_cmp_postal(const char *path, const struct fmt_postal *a,
                   const struct fmt_postal *b);
void tu_cmp_party(const char *path, const struct fmt_party *a,
                  const struct fmt_party *b);
void tu_cmp_account(const char *path, const struct fmt_account *a,
                    const struct fmt_account *b);

#endif
