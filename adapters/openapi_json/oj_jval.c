/*
 * oj_jval.c - the small JSON values the bill pool and supply-chain
 * finance files (oj_bill.c, oj_scf.c, oj_vchr.c) write and read alike:
 * amounts as the bank's {amount, currency}, account numbers, strings.
 *
 * Threads: any (pure functions over their arguments).
 */
#include "oj_int.h"

#include <string.h>

#include "amount.h"

json_t *oj_jamount(const struct fmt_amount *a)
{
    char buf[40];
    if (fmt_amount_format(a->minor, a->ccy, '.', buf, sizeof(buf)) < 0)
        return NULL;
    return json_pack("{s:s,s:s}", "amount", buf, "currency", a->ccy);
}

const char *oj_acct_no(const struct fmt_account *a)
{
    return a->other_id ? a->other_id : a->iban;
}

int oj_dup_str(char **dst, const char *v)
{
    return v ? fmt_strset(dst, v) : 0;
}

int oj_amount_of(const json_t *a, struct fmt_amount *out)
{
    const char *v = json_string_value(json_object_get(a, "amount"));
    const char *c = json_string_value(json_object_get(a, "currency"));
    memset(out, 0, sizeof(*out));
    if (!v || !c || strlen(c) != 3)
        return 0;
    if (fmt_amount_parse(v, strlen(v), c, 0, &out->minor, NULL) != 0)
        return -1;
    memcpy(out->ccy, c, 4);
    return 0;
}
