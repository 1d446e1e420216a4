/* fuzz_canon_status.c - libFuzzer harness for fmt_canon_read_status
 * (canon.h). */
#include <string.h>

#include "canon.h"
#include "fuzz_touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fmt_canon_detect((const char *)data, size);
    struct fmt_src src = fuzz_src(data, size, NULL);
    struct fmt_diag diag;
    fmt_diag_init(&diag, src.name);
    struct h2h_err err = {0};
    struct fmt_status_report out;
    /* The reader initialises out itself (canon.h): garbage must not
     * matter, and ASan would see it freed if it did. */
    memset(&out, 0xA5, sizeof(out));
    int rc = fmt_canon_read_status(&src, &out, &diag, &err);
    fuzz_touch_status(&out);
    fuzz_touch_err(rc, &err);
    fuzz_touch_diag(&diag);
    fmt_status_report_release(&out);
    fmt_diag_release(&diag);
    return 0;
}
