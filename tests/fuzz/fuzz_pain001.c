/* fuzz_pain001.c - libFuzzer harness for fmt_pain001_read (pain001.h). */
#include "fuzz_touch.h"
#include "pain001.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_run run;
    fuzz_run_init(&run, "fmt_pain001_read", data, size);
    struct fmt_pay_sink sink = fuzz_pay_sink(&run);
    struct fmt_src src = fuzz_src(data, size, NULL);
    struct fmt_diag diag;
    fmt_diag_init(&diag, src.name);
    struct h2h_err err = {0};
    int rc = fmt_pain001_read(&src, &sink, &diag, &err);
    fuzz_run_done(&run, rc, &err, &diag);
    fmt_diag_release(&diag);
    return 0;
}
