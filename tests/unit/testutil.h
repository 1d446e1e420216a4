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

#include <CUnit/Basic.h>

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

#endif
