/* fuzz_mt940.c - libFuzzer harness for fmt_mt940_read (mt940.h). */
#include "fuzz_touch.h"
#include "mt940.h"

/* Each input is read twice: as UTF-8 (where bytes that do not decode are
 * problems) and as declared CP852 (every byte decodes, through iconv), the
 * two paths real bank files take. */
static void one(const uint8_t *data, size_t size, const char *charset)
{
    struct fuzz_run run;
    fuzz_run_init(&run, "fmt_mt940_read", data, size);
    struct fmt_stmt_sink sink = fuzz_stmt_sink(&run);
    struct fmt_src src = fuzz_src(data, size, charset);
    struct fmt_diag diag;
    fmt_diag_init(&diag, src.name);
    struct h2h_err err = {0};
    int rc = fmt_mt940_read(&src, &sink, &diag, &err);
    fuzz_run_done(&run, rc, &err, &diag);
    fmt_diag_release(&diag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, NULL);
    one(data, size, "CP852");
    return 0;
}
