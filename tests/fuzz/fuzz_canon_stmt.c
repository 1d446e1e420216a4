/* fuzz_canon_stmt.c - libFuzzer harness for fmt_canon_read_stmt (canon.h). */
#include "canon.h"
#include "fuzz_touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fmt_canon_detect((const char *)data, size);
    struct fuzz_run run;
    fuzz_run_init(&run, "fmt_canon_read_stmt", data, size);
    struct fmt_stmt_sink sink = fuzz_stmt_sink(&run);
    struct fmt_src src = fuzz_src(data, size, NULL);
    struct fmt_diag diag;
    fmt_diag_init(&diag, src.name);
    struct h2h_err err = {0};
    int rc = fmt_canon_read_stmt(&src, &sink, &diag, &err);
    fuzz_run_done(&run, rc, &err, &diag);
    fmt_diag_release(&diag);
    return 0;
}
