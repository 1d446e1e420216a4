/*
 * cx_fam_val.c - the values the bill pool and scf families (cx_bill.c,
 * cx_scf.c) convert the same way: model values into a plan's token values
 * in the profile's units and formats, and an answer's values back into the
 * model (PROFILE.md "Bill pool and supply-chain finance").
 *
 * Pure conversions; any thread.
 */
#include "cx_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* ---- model -> plan --------------------------------------------------------
 */

void cx_fv_put(struct cx_fvals *b, struct cx_vals *v, enum cx_tok t,
               const char *s)
{
    if (s && cx_plan_set(b->pl, v, t, s) != 0)
        b->oom = 1;
}

void cx_fv_date(struct cx_fvals *b, struct cx_vals *v, enum cx_tok t,
                const char *iso)
{
    char buf[40];
    if (!iso || !*iso)
        return;
    cx_date_format(b->c->p, iso, buf, sizeof(buf));
    cx_fv_put(b, v, t, buf);
}

void cx_fv_minor(struct cx_fvals *b, struct cx_vals *v, enum cx_tok t,
                 int64_t minor)
{
    char buf[40];
    cx_amount_format(b->c->p, minor, buf, sizeof(buf));
    cx_fv_put(b, v, t, buf);
}

int cx_fv_done(const struct cx_fvals *b, struct h2h_err *err)
{
    return b->oom ? h2h_err_set(err, H2H_ENOMEM, "out of memory") : 0;
}

const char *cx_fv_acct(const struct fmt_account *a)
{
    return a->other_id ? a->other_id : a->iban;
}

const char *cx_fv_our_account(const struct cx *c)
{
    return c->s.n_accounts ? c->s.accounts[0] : NULL;
}

int cx_fv_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n < 72 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_.") == n;
}

/* ---- answer -> model ------------------------------------------------------
 */

int cx_fv_dup(char **dst, const char *s)
{
    if (!s || !*s)
        return 0;
    return (*dst = strdup(s)) ? 0 : H2H_ENOMEM;
}

int cx_fv_iso_date(const struct cx *c, const char *s, char **dst,
                   const char *what, struct h2h_err *err)
{
    char iso[11];
    if (!s || !*s)
        return 0;
    if (cx_date_to_iso(c->p, s, iso, err) != 0)
        return h2h_err_set(err, H2H_EPROTO, "%s \"%.20s\" is not a date in %s",
                           what, s, c->p->date_format);
    return cx_fv_dup(dst, iso) ? h2h_err_set(err, H2H_ENOMEM, "out of memory")
                               : 0;
}

int cx_fv_minor_of(const struct cx *c, const char *s, int64_t *m,
                   const char *what, struct h2h_err *err)
{
    *m = 0;
    if (!s || !*s)
        return 0;
    if (cx_amount_to_minor(c->p, s, m, err) != 0 || *m < 0)
        return h2h_err_set(err, H2H_EPROTO, "%s \"%.20s\" is not an amount",
                           what, s);
    return 0;
}

int cx_fv_money(const struct cx *c, const char *s, struct fmt_amount *a,
                const char *what, struct h2h_err *err)
{
    if (!s || !*s)
        return 0;
    int rc = cx_fv_minor_of(c, s, &a->minor, what, err);
    if (rc == 0)
        memcpy(a->ccy, "CNY", 4);
    return rc;
}

int cx_fv_unknown(const char *table, const char *v, struct h2h_err *err)
{
    return h2h_err_set(err, H2H_EPROTO,
                       "bank.status.unknown: \"%.30s\" is not in %s",
                       v ? v : "", table);
}

/* ---- documents ------------------------------------------------------------
 */

FILE *cx_fv_doc_open(char **doc, size_t *len, struct h2h_err *err)
{
    *doc = NULL;
    *len = 0;
    FILE *f = open_memstream(doc, len);
    if (!f)
        h2h_err_set(err, H2H_ENOMEM, "out of memory");
    return f;
}

int cx_fv_doc_close(FILE *f, int rc, char **doc, struct h2h_err *err)
{
    if (fclose(f) != 0 && rc == 0)
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
    if (rc < 0) {
        free(*doc);
        *doc = NULL;
    }
    return rc;
}
