/* fuzz_csv_pay.c - libFuzzer harness for fmt_csv_pay_read (csv_pay.h). */
#include "csv_pay.h"
#include "fuzz_touch.h"

/* Each input is read twice: as UTF-8 and as declared GB18030 (per-field
 * iconv conversion, where many byte sequences do not decode). */
static void one(const uint8_t *data, size_t size, const char *charset)
{
    struct fuzz_run run;
    fuzz_run_init(&run, "fmt_csv_pay_read", data, size);
    struct fmt_pay_sink sink = fuzz_pay_sink(&run);
    struct fmt_src src = fuzz_src(data, size, charset);
    struct fmt_diag diag;
    fmt_diag_init(&diag, src.name);
    struct h2h_err err = {0};
    int rc = fmt_csv_pay_read(&src, &sink, &diag, &err);
    fuzz_run_done(&run, rc, &err, &diag);
    fmt_diag_release(&diag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, NULL);
    one(data, size, "GB18030");
    return 0;
}
