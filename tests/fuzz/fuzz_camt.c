/* fuzz_camt.c - libFuzzer harness for fmt_camt_read (camt.h). */
#include "camt.h"
#include "fuzz_touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_run run;
    fuzz_run_init(&run, "fmt_camt_read", data, size);
    struct fmt_stmt_sink sink = fuzz_stmt_sink(&run);
    struct fmt_src src = fuzz_src(data, size, NULL);
    struct fmt_diag diag;
    fmt_diag_init(&diag, src.name);
    struct h2h_err err = {0};
    int rc = fmt_camt_read(&src, &sink, &diag, &err);
    fuzz_run_done(&run, rc, &err, &diag);
    fmt_diag_release(&diag);
    return 0;
}
