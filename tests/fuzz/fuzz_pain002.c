/* fuzz_pain002.c - libFuzzer harness for fmt_pain002_read (pain002.h). */
#include "fuzz_touch.h"
#include "pain002.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fmt_src src = fuzz_src(data, size, NULL);
    struct fmt_diag diag;
    fmt_diag_init(&diag, src.name);
    struct h2h_err err = {0};
    struct fmt_status_report out;
    fmt_status_report_init(&out); /* the reader releases what out holds */
    int rc = fmt_pain002_read(&src, &out, &diag, &err);
    /* out is the caller's to release also after an error, so whatever the
     * reader left there must be sound. */
    fuzz_touch_status(&out);
    fuzz_touch_err(rc, &err);
    fuzz_touch_diag(&diag);
    fmt_status_report_release(&out);
    fmt_diag_release(&diag);
    return 0;
}
