/* fuzz_convert.c - libFuzzer harness for fmt_convert (convert.h), the whole
 * pipeline h2hd runs on a file: sniff, read, validate (payments) or check
 * (statements), and render into another format of the same family, written
 * to /dev/null.  Writers get what the readers made of garbage, which they
 * must refuse cleanly or render, never crash on. */
#include <stdio.h>
#include <string.h>

#include "convert.h"
#include "fuzz_touch.h"

static const struct fmt_target pay_to[] = {
    {FMT_UNKNOWN, 0}, {FMT_PAIN001, 3},   {FMT_PAIN001, 9},
    {FMT_MT101, 0},   {FMT_CANONICAL, 0},
};
static const struct fmt_target status_to[] = {
    {FMT_UNKNOWN, 0},
    {FMT_PAIN002, 3},
    {FMT_PAIN002, 10},
    {FMT_CANONICAL, 0},
};
static const struct fmt_target stmt_to[] = {
    {FMT_UNKNOWN, 0}, {FMT_CAMT053, 2}, {FMT_CAMT053, 8},
    {FMT_CAMT052, 8}, {FMT_CAMT054, 2}, {FMT_MT940, 0},
    {FMT_MT942, 0},   {FMT_CSV, 0},     {FMT_CANONICAL, 0},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        return 0;

    struct fmt_src src = fuzz_src(data, size, NULL);
    struct h2h_err err = {0};
    enum fmt_format fmt;
    enum fmt_family fam;
    if (fmt_detect(&src, &fmt, &fam, &err) < 0)
        return 0;

    /* The target, profile and envelope follow from the input's length, so
     * that mutations visit them all and a crash reproduces from the file
     * alone; only targets of the input's own family, since the others are
     * refused before anything is read. */
    struct fmt_convert_opts o;
    fmt_convert_opts_init(&o);
    size_t k = size;
    switch (fam) {
    case FMT_FAM_PAYMENTS:
        o.to = pay_to[k % N(pay_to)];
        k /= N(pay_to);
        break;
    case FMT_FAM_STATUS:
        o.to = status_to[k % N(status_to)];
        k /= N(status_to);
        break;
    case FMT_FAM_STATEMENTS:
        o.to = stmt_to[k % N(stmt_to)];
        k /= N(stmt_to);
        break;
    default: break;
    }
    o.profile.practice = (enum fmt_practice)(k % 3);
    o.profile.transliterate = (int)((k / 3) % 2);
    o.profile.today = "2024-06-28";
    o.mt_envelope = (int)((k / 6) % 2);

    struct fmt_diag diag;
    fmt_diag_init(&diag, src.name);
    struct fmt_convert_info info;
    memset(&info, 0, sizeof(info));
    err.code = 0;
    err.msg[0] = '\0';
    int rc = fmt_convert(&src, &o, o.to.fmt != FMT_UNKNOWN ? devnull : NULL,
                         &diag, &info, &err);
    fuzz_touch_err(rc, &err);
    fuzz_touch_diag(&diag);
    if (memchr(info.msg_id, '\0', sizeof(info.msg_id)) == NULL)
        fuzz_fail("fmt_convert", "info.msg_id not NUL-terminated");
    if (info.n_debtor_accounts && !info.debtor_accounts)
        fuzz_fail("fmt_convert", "%zu debtor accounts but no array",
                  info.n_debtor_accounts);
    volatile size_t sum = strlen(info.msg_id);
    for (size_t i = 0; i < info.n_debtor_accounts; i++)
        sum += strlen(info.debtor_accounts[i]);
    (void)sum;
    fmt_convert_info_release(&info);
    fmt_diag_release(&diag);
    return 0;
}
