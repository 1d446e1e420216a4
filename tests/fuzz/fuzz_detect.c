/* fuzz_detect.c - libFuzzer harness for fmt_detect (convert.h): the sniffer
 * that decides which reader gets a file nobody labelled. */
#include "convert.h"
#include "fuzz_touch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fmt_src src = fuzz_src(data, size, NULL);
    struct h2h_err err = {0};
    /* Out-of-range sentinels: fmt_detect must set both. */
    enum fmt_format fmt = (enum fmt_format) - 1;
    enum fmt_family fam = (enum fmt_family) - 1;
    int rc = fmt_detect(&src, &fmt, &fam, &err);
    fuzz_touch_err(rc, &err);
    if (rc == 0) {
        if ((int)fmt < FMT_UNKNOWN || fmt > FMT_CSV)
            fuzz_fail("fmt_detect", "format %d out of range", (int)fmt);
        if ((int)fam < FMT_FAM_NONE || fam > FMT_FAM_STATEMENTS)
            fuzz_fail("fmt_detect", "family %d out of range", (int)fam);
        if (!fmt_format_name(fmt))
            fuzz_fail("fmt_detect", "format %d has no name", (int)fmt);
    }
    return 0;
}
