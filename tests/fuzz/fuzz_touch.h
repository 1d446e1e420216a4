/*
 * fuzz_touch.h - what every libFuzzer harness in tests/fuzz/ shares.
 *
 * A reader that hands a sink a dangling pointer, an unterminated string or
 * a half-initialised struct only crashes when someone reads it, so the
 * sinks here read every byte of every field they are given (strlen on each
 * string, each array element), and ASan reports the bug at the callback
 * that received it instead of never.
 *
 * They also check the contracts of model.h that a harness can see, and
 * abort() (a crash to libFuzzer) when one is broken:
 *   - every string is valid UTF-8 ("every char * is UTF-8"), fixed arrays
 *     (currency, balance type) are NUL-terminated within their size;
 *   - sink events come in the documented order (begin, {group_begin tx*
 *     group_end}*, end; likewise for statements), nothing after end;
 *   - a sink's negative return aborts the reader: no event after it, and
 *     the reader returns exactly that code;
 *   - a reader returning 0 after begin() has delivered end() too;
 *   - a negative return that is the reader's own comes with err filled.
 * Which event a sink aborts at is derived from the input (fuzz_input), so
 * the fuzzer explores the readers' clean-up paths as well; LeakSanitizer
 * then reports what an aborted read leaks.
 */
#ifndef H2H_FUZZ_TOUCH_H
#define H2H_FUZZ_TOUCH_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* libFuzzer's entry points.  fuzz_touch.c defines LLVMFuzzerInitialize
 * (formats_init(), once per process, as formats_init.h asks); each harness
 * defines LLVMFuzzerTestOneInput. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the sinks return to abort a read. */
#define FUZZ_ABORT_CODE H2H_ECANCELED

/* One run of a reader over one input. */
struct fuzz_run {
    int state;              /* private: position in the event grammar */
    unsigned long events;   /* events received so far */
    unsigned long abort_at; /* 1-based event to abort at, 0 = never */
    int aborted;            /* the sink returned FUZZ_ABORT_CODE */
    const char *what;       /* reader name for messages */
};

/* Start a run; the abort point is a function of the input so that a
 * crash reproduces from the file alone. */
void fuzz_run_init(struct fuzz_run *run, const char *what, const uint8_t *data,
                   size_t size);
/* Sinks whose ctx is run. */
struct fmt_pay_sink fuzz_pay_sink(struct fuzz_run *run);
struct fmt_stmt_sink fuzz_stmt_sink(struct fuzz_run *run);
/* After the reader returned rc: check the contracts above, touch err and
 * diag (which the caller then releases). */
void fuzz_run_done(struct fuzz_run *run, int rc, const struct h2h_err *err,
                   const struct fmt_diag *diag);

/* Checks without a sink (status reports are read into a struct). */
void fuzz_touch_status(const struct fmt_status_report *r);
void fuzz_touch_diag(const struct fmt_diag *d);
void fuzz_touch_err(int rc, const struct h2h_err *err);

/* Report a broken contract and abort(). */
void fuzz_fail(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* The in-memory source for data[0..size), not NUL-terminated on purpose:
 * a reader that relies on a terminator overreads and ASan says so. */
struct fmt_src fuzz_src(const uint8_t *data, size_t size, const char *charset);

#endif
