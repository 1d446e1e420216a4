/* fuzz_pain001_validate.c - libFuzzer harness for the payment validator
 * (validate.h) chained after the pain.001 reader, as h2hd runs it:
 * fmt_pain001_read -> fmt_pay_validator -> a touching sink. */
#include <string.h>

#include "fuzz_touch.h"
#include "pain001.h"
#include "validate.h"

/* "Seen in a recent file": yes, no or unknown by the id's length, so every
 * answer is explored and a crash reproduces from the file alone. */
static int seen_before(void *ctx, const char *kind, const char *id)
{
    (void)ctx;
    return (int)((strlen(kind) + strlen(id)) % 3) - 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fmt_profile prof;
    fmt_profile_init(&prof);
    /* The rules depend on the practice: pick it from the input's length so
     * that mutations visit all three. */
    prof.practice = (enum fmt_practice)(size % 3);
    prof.transliterate = (int)((size / 3) % 2);
    prof.today = "2024-06-28"; /* a fixed day: crashes must reproduce */
    prof.seen_before = seen_before;

    struct fuzz_run run;
    fuzz_run_init(&run, "fmt_pain001_read+validator", data, size);
    struct fmt_pay_sink next = fuzz_pay_sink(&run);
    struct fmt_diag diag;
    fmt_diag_init(&diag, "fuzz-input");
    struct fmt_pay_validator *v = fmt_pay_validator_new(&prof, &diag, &next);
    if (!v) {
        fmt_diag_release(&diag);
        return 0;
    }
    struct fmt_pay_sink sink = fmt_pay_validator_sink(v);
    struct fmt_src src = fuzz_src(data, size, NULL);
    struct h2h_err err = {0};
    int rc = fmt_pain001_read(&src, &sink, &diag, &err);
    int problems = fmt_pay_validator_finish(v);
    fuzz_run_done(&run, rc, &err, &diag);
    if (problems >= 0 && (size_t)problems != diag.n + diag.dropped)
        fuzz_fail("fmt_pay_validator_finish",
                  "returned %d with %zu problems recorded, %zu dropped",
                  problems, diag.n, diag.dropped);
    fmt_pay_validator_free(v);
    fmt_diag_release(&diag);
    return 0;
}
