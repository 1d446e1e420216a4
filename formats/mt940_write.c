/*
 * mt940_write.c - MT940 / MT942 writer as a statement sink; see mt940.h.
 *
 * Text is prepared in UTF-8 (transliterated to the SWIFT X set first when
 * no charset is asked for, so that line lengths are counted in what goes
 * out), wrapped, and converted line by line on output.
 */
#include "mt940.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amount.h"
#include "charset.h"
#include "ident.h"

#define L86 65 /* characters per :86: line */
#define N86 6  /* lines of :86: */

enum { CS_X, CS_UTF8, CS_ICONV };

struct fmt_mt940_writer {
    FILE *out;
    int mt;
    int cs;
    char *charset;
    int envelope;
    int rc;
    struct h2h_err err;
    bool in_stmt;
    char ccy[4];
};

static int fail(struct fmt_mt940_writer *w, int code, const char *fmt,
                const char *arg)
{
    if (w->rc == 0)
        w->rc = h2h_err_set(&w->err, code, fmt, arg ? arg : "");
    return w->rc;
}

/* Write one line (UTF-8 in) in the output charset, with CRLF. */
static int put(struct fmt_mt940_writer *w, const char *s)
{
    if (w->rc)
        return w->rc;
    if (w->cs == CS_ICONV) {
        char *o = NULL;
        size_t ol = 0;
        struct h2h_err e;
        int rc = fmt_from_utf8(w->charset, s, strlen(s), &o, &ol, &e);
        if (rc < 0) {
            w->rc = rc;
            w->err = e;
            h2h_err_prefix(&w->err, "mt940 writer: \"%.40s\"", s);
            return w->rc;
        }
        size_t n = fwrite(o, 1, ol, w->out);
        free(o);
        if (n != ol)
            return fail(w, H2H_EIO, "mt940 writer: write error%s", NULL);
    } else if (fputs(s, w->out) == EOF)
        return fail(w, H2H_EIO, "mt940 writer: write error%s", NULL);
    if (fputs("\r\n", w->out) == EOF)
        return fail(w, H2H_EIO, "mt940 writer: write error%s", NULL);
    return 0;
}

static bool x_char(unsigned char c)
{
    return isalnum(c) || strchr("/-?:().,'+ ", c) != NULL;
}

/* Text value ready for wrapping: X set when asked, no control characters,
 * newlines kept only when keep_nl.  NULL on ENOMEM. */
static char *prep(struct fmt_mt940_writer *w, const char *s, bool keep_nl)
{
    if (!s)
        s = "";
    char *t = w->cs == CS_X ? fmt_sepa_transliterate(s) : strdup(s);
    if (!t)
        return NULL;
    for (char *p = t; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\n' && keep_nl)
            continue;
        if (c < 0x20 || c == 0x7f)
            *p = ' ';
        else if (w->cs == CS_X && !x_char(c))
            *p = '.';
    }
    return t;
}

/* Byte length of the first n code points of s (or all of s). */
static size_t cp_bytes(const char *s, size_t n)
{
    size_t i = 0, k = 0;
    while (s[i] && k < n) {
        i++;
        while ((s[i] & 0xC0) == 0x80)
            i++;
        k++;
    }
    return i;
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n && s[i] == ' ')
        i++;
    while (n > i && s[n - 1] == ' ')
        n--;
    memmove(s, s + i, n - i);
    s[n - i] = '\0';
}

/* Field ":tag:" + value cut to max characters. */
static int field(struct fmt_mt940_writer *w, const char *tag, const char *v,
                 size_t max)
{
    char *t = prep(w, v, false);
    if (!t)
        return fail(w, H2H_ENOMEM, "out of memory%s", NULL);
    trim(t);
    t[cp_bytes(t, max)] = '\0';
    size_t n = strlen(tag) + strlen(t) + 3;
    char *line = malloc(n);
    if (!line) {
        free(t);
        return fail(w, H2H_ENOMEM, "out of memory%s", NULL);
    }
    snprintf(line, n, ":%s:%s", tag, t[0] ? t : "NONREF");
    int rc = put(w, line);
    free(line);
    free(t);
    return rc;
}

/* "YYYY-MM-DD..." -> "YYMMDD"; false when d is not a date. */
static bool yymmdd(const char *d, char out[7])
{
    if (!d || strlen(d) < 10 || d[4] != '-' || d[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)d[i]))
            return false;
    snprintf(out, 7, "%.2s%.2s%.2s", d + 2, d + 5, d + 8);
    return true;
}

/* Unsigned amount with ',' as MT wants it ("12,5" is fine, "12," too). */
static int amount(char *buf, size_t sz, int64_t minor, const char *ccy)
{
    uint64_t u = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    int e = fmt_ccy_exponent(ccy);
    if (e < 0)
        e = 2; /* withdrawn codes such as DEM had two decimals */
    uint64_t f = 1;
    for (int i = 0; i < e; i++)
        f *= 10;
    if (e == 0)
        return snprintf(buf, sz, "%llu,", (unsigned long long)u);
    /* ISO 4217 exponents are 0..4; the bound also keeps the compiler's
     * truncation analysis honest. */
    return snprintf(buf, sz, "%llu,%0*llu", (unsigned long long)(u / f), e & 7,
                    (unsigned long long)(u % f));
}

static int balance(struct fmt_mt940_writer *w, const char *tag,
                   const struct fmt_balance *b)
{
    char d[7], a[40], line[80];
    if (!yymmdd(b->date, d))
        return fail(w, H2H_EINVALID, "mt940 writer: balance %s without date",
                    b->type);
    const char *ccy = b->amt.ccy[0] ? b->amt.ccy : w->ccy;
    if (strlen(ccy) != 3)
        return fail(w, H2H_EINVALID,
                    "mt940 writer: balance %s without currency", b->type);
    amount(a, sizeof(a), b->amt.minor, ccy);
    snprintf(line, sizeof(line), ":%s:%c%s%s%s", tag,
             b->amt.minor < 0 ? 'D' : 'C', d, ccy, a);
    return put(w, line);
}

static const struct fmt_balance *find_bal(const struct fmt_stmt *st,
                                          const char *type)
{
    for (size_t i = 0; i < st->n_bals; i++)
        if (!strcmp(st->bals[i].type, type))
            return &st->bals[i];
    return NULL;
}

static bool intm(const struct fmt_balance *b)
{
    return b->sub_type && !strcmp(b->sub_type, "INTM");
}

/* ---- :86: ------------------------------------------------------------------
 */

static bool bad_start(const char *s)
{
    while (*s == ' ')
        s++;
    return *s == '\0' || *s == ':' || *s == '-' || *s == '{' || *s == '}';
}

/* Wrap s into at most *left lines of L86 characters after "first" (the
 * tag, for the first line); no line may start like a tag or an end
 * marker, so the break moves left when it would. */
static int wrap(struct fmt_mt940_writer *w, const char *first, const char *s,
                int *left)
{
    size_t len = strlen(s), i = 0;
    bool head = first != NULL;
    while (i<len && * left> 0) {
        size_t take = cp_bytes(s + i, L86);
        if (i + take < len && bad_start(s + i + take)) {
            size_t j = take;
            while (j > 1) {
                j--;
                while (j > 0 && (s[i + j] & 0xC0) == 0x80)
                    j--;
                if (!bad_start(s + i + j))
                    break;
            }
            if (j > 0 && !bad_start(s + i + j))
                take = j;
        }
        char line[4 * L86 + 16];
        snprintf(line, sizeof(line), "%s%.*s", head ? first : "", (int)take,
                 s + i);
        if (!head && bad_start(line))
            line[0] = '.'; /* cannot move the break: keep the line legal */
        int rc = put(w, line);
        if (rc)
            return rc;
        head = false;
        (*left)--;
        i += take;
    }
    return 0;
}

static void kv(struct fmt_mt940_writer *w, char **acc, size_t *n,
               const char *key, const char *v)
{
    if (!v || !*v || w->rc)
        return;
    char *t = prep(w, v, false);
    if (!t) {
        fail(w, H2H_ENOMEM, "out of memory%s", NULL);
        return;
    }
    trim(t);
    if (*t) {
        size_t add = strlen(key) + strlen(t) + 3;
        char *na = realloc(*acc, *n + add);
        if (!na) {
            free(t);
            fail(w, H2H_ENOMEM, "out of memory%s", NULL);
            return;
        }
        *acc = na;
        *n += (size_t)snprintf(na + *n, add, "/%s/%s", key, t);
    }
    free(t);
}

static int write_86(struct fmt_mt940_writer *w, const struct fmt_entry *e)
{
    const struct fmt_entry_dtl *d = e->n_dtls ? &e->dtls[0] : NULL;
    char *s = calloc(1, 1);
    size_t n = 0;
    if (!s)
        return fail(w, H2H_ENOMEM, "out of memory%s", NULL);
    if (d) {
        kv(w, &s, &n, "TRTP", d->bk_tx_cd_prtry);
        kv(w, &s, &n, "EREF", d->end_to_end_id);
        kv(w, &s, &n, "PREF", d->pmt_inf_id);
        kv(w, &s, &n, "MARF", d->mndt_id);
        kv(w, &s, &n, "RTRN", d->rtr_rsn);
        if (d->cpty_acct.iban)
            kv(w, &s, &n, "IBAN", d->cpty_acct.iban);
        else
            kv(w, &s, &n, "BBAN", d->cpty_acct.other_id);
        kv(w, &s, &n, "BIC", d->cpty_agt.bic);
        kv(w, &s, &n, "NAME", d->cpty.name);
        kv(w, &s, &n, e->credit ? "ULTD" : "ULTC", d->ult_cpty.name);
        if (d->rmt_ustrd && *d->rmt_ustrd)
            kv(w, &s, &n, "REMI", d->rmt_ustrd);
        else if (d->rmt_strd.cdtr_ref && *d->rmt_strd.cdtr_ref) {
            const char *iss = d->rmt_strd.cdtr_ref_issuer
                                  ? d->rmt_strd.cdtr_ref_issuer
                                  : "ISO";
            size_t l = strlen(iss) + strlen(d->rmt_strd.cdtr_ref) + 8;
            char *r = malloc(l);
            if (r) {
                snprintf(r, l, "STRD/%s/%s", iss, d->rmt_strd.cdtr_ref);
                kv(w, &s, &n, "REMI", r);
                free(r);
            } else
                fail(w, H2H_ENOMEM, "out of memory%s", NULL);
        }
    }
    int left = N86;
    int rc = w->rc;
    if (rc == 0 && n > 0) {
        s[cp_bytes(s, (size_t)L86 * N86)] = '\0';
        rc = wrap(w, ":86:", s, &left);
    } else if (rc == 0 && e->addtl_ntry_inf && *e->addtl_ntry_inf) {
        char *t = prep(w, e->addtl_ntry_inf, true);
        if (!t)
            rc = fail(w, H2H_ENOMEM, "out of memory%s", NULL);
        const char *first = ":86:";
        for (char *p = t; rc == 0 && p && *p && left > 0;) {
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = '\0';
            if (*p) {
                rc = wrap(w, first, p, &left);
                first = NULL;
            }
            p = nl ? nl + 1 : NULL;
        }
        free(t);
    }
    free(s);
    return rc;
}

static int write_free_86(struct fmt_mt940_writer *w, const char *text)
{
    struct fmt_entry e;
    memset(&e, 0, sizeof(e));
    e.addtl_ntry_inf = (char *)text;
    return write_86(w, &e);
}

/* ---- sink callbacks ----------------------------------------------------- */

static int cb_begin(void *ctx, const struct fmt_stmt_doc *doc)
{
    (void)ctx;
    (void)doc;
    return 0;
}

static void lt_address(const struct fmt_stmt *st, char out[13])
{
    const char *b = st->svcr.bic;
    size_t n = b ? strlen(b) : 0;
    if (n == 8 || n == 11)
        snprintf(out, 13, "%.8sA%s", b, n == 11 ? b + 8 : "XXX");
    else
        snprintf(out, 13, "XXXXXXXXXXXX");
}

static int write_account(struct fmt_mt940_writer *w, const struct fmt_stmt *st)
{
    const struct fmt_account *a = &st->acct;
    char v[128];
    const char *id = a->iban ? a->iban : a->other_id ? a->other_id : "";
    if (!a->iban && st->svcr.bic && a->other_id)
        snprintf(v, sizeof(v), "%s/%s", st->svcr.bic, id);
    else if (!a->iban && st->svcr.clr_mmb_id && a->other_id)
        snprintf(v, sizeof(v), "%s/%s", st->svcr.clr_mmb_id, id);
    else
        snprintf(v, sizeof(v), "%s", id);
    if (a->ccy && strlen(a->ccy) == 3 && strlen(v) + 3 < sizeof(v))
        strcat(v, a->ccy);
    if (!v[0])
        return fail(w, H2H_EINVALID,
                    "mt940 writer: statement %s has no "
                    "account",
                    st->id ? st->id : "");
    return field(w, "25", v, 35);
}

/* ISO timestamp -> YYMMDDhhmm+hhmm */
static bool dt13(const char *ts, char out[16])
{
    char d[7];
    if (!yymmdd(ts, d) || strlen(ts) < 16 || ts[10] != 'T' ||
        !isdigit((unsigned char)ts[11]) || !isdigit((unsigned char)ts[14]))
        return false;
    const char *z = ts + 16;
    while (*z && *z != 'Z' && *z != '+' && *z != '-')
        z++;
    char sign = '+', off[5] = "0000";
    if ((*z == '+' || *z == '-') && strlen(z) >= 6) {
        sign = *z;
        snprintf(off, sizeof(off), "%.2s%.2s", z + 1, z + 4);
    }
    snprintf(out, 16, "%s%.2s%.2s%c%s", d, ts + 11, ts + 14, sign, off);
    return true;
}

static int cb_stmt_begin(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_mt940_writer *w = ctx;
    if (w->rc)
        return w->rc;
    w->in_stmt = true;
    const struct fmt_balance *op = find_bal(st, "OPBD");
    if (!op)
        op = find_bal(st, "PRCD");
    w->ccy[0] = '\0';
    if (op && op->amt.ccy[0])
        snprintf(w->ccy, sizeof(w->ccy), "%s", op->amt.ccy);
    else if (st->acct.ccy && strlen(st->acct.ccy) == 3)
        snprintf(w->ccy, sizeof(w->ccy), "%s", st->acct.ccy);
    else if (st->n_bals && st->bals[0].amt.ccy[0])
        snprintf(w->ccy, sizeof(w->ccy), "%s", st->bals[0].amt.ccy);

    if (w->envelope) {
        char lt[13], line[96];
        lt_address(st, lt);
        snprintf(line, sizeof(line), "{1:F01%s0000000000}{2:I%d%sN}{4:", lt,
                 w->mt, lt);
        put(w, line);
    }
    field(w, "20", st->id, 16);
    if (st->related_ref)
        field(w, "21", st->related_ref, 16);
    write_account(w, st);
    char seq[16];
    snprintf(seq, sizeof(seq), "%.5s%s%.5s",
             st->elctrnc_seq_nb ? st->elctrnc_seq_nb : "1",
             st->page_nb ? "/" : "", st->page_nb ? st->page_nb : "");
    field(w, "28C", seq, 11);
    if (w->mt == 942) {
        if (!w->ccy[0])
            return fail(w, H2H_EINVALID,
                        "mt940 writer: report %s has no "
                        "currency",
                        st->id ? st->id : "");
        char line[32], ts[16], zero[16];
        amount(zero, sizeof(zero), 0, w->ccy);
        snprintf(line, sizeof(line), ":34F:%s%s", w->ccy, zero);
        put(w, line);
        const char *src = st->cre_dt_tm ? st->cre_dt_tm : st->to_dt_tm;
        if (!src || !dt13(src, ts)) {
            time_t now = time(NULL);
            struct tm tm;
            gmtime_r(&now, &tm);
            strftime(ts, sizeof(ts), "%y%m%d%H%M+0000", &tm);
        }
        snprintf(line, sizeof(line), ":13D:%s", ts);
        put(w, line);
    } else {
        if (!op)
            return fail(w, H2H_EINVALID,
                        "mt940 writer: statement %s has no "
                        "opening balance",
                        st->id ? st->id : "");
        balance(w, intm(op) ? "60M" : "60F", op);
    }
    return w->rc;
}

static int cb_entry(void *ctx, const struct fmt_stmt *st,
                    const struct fmt_entry *e)
{
    struct fmt_mt940_writer *w = ctx;
    (void)st;
    if (w->rc)
        return w->rc;
    char vd[7], bd[7];
    bool hv = yymmdd(e->val_dt, vd), hb = yymmdd(e->book_dt, bd);
    if (!hv && !hb)
        return fail(w, H2H_EINVALID, "mt940 writer: entry %s has no date",
                    e->acct_svcr_ref ? e->acct_svcr_ref : "");
    const char *ccy = e->amt.ccy[0] ? e->amt.ccy : w->ccy;
    char a[40];
    amount(a, sizeof(a), e->amt.minor, ccy);
    /* N/F/S + 3 (old Dutch banks: + 2 and a space) */
    char type[5] = "NMSC";
    const char *t = e->bk_tx_prtry;
    size_t tl = t ? strlen(t) : 0;
    if (tl >= 3 && strchr("NFS", t[0]) && isalnum((unsigned char)t[1]) &&
        isalnum((unsigned char)t[2]) &&
        (tl == 3 || isalnum((unsigned char)t[3]))) {
        memcpy(type, t, 3);
        type[3] = tl == 3 ? ' ' : t[3];
    }
    char *cref = prep(w, e->cust_ref ? e->cust_ref : "NONREF", false);
    char *bref = prep(w, e->acct_svcr_ref, false);
    if (!cref || !bref) {
        free(cref);
        free(bref);
        return fail(w, H2H_ENOMEM, "out of memory%s", NULL);
    }
    trim(cref);
    trim(bref);
    /* "//" inside the customer reference would end it early */
    for (char *p = strstr(cref, "//"); p; p = strstr(p, "//"))
        p[1] = '.';
    cref[cp_bytes(cref, 16)] = '\0';
    bref[cp_bytes(bref, 16)] = '\0';
    char line[256];
    snprintf(line, sizeof(line), ":61:%s%s%s%s%s%s%s%s%s", hv ? vd : bd,
             hb ? bd + 2 : "", e->reversal ? "R" : "",
             e->reversal ? (e->credit ? "D" : "C") : (e->credit ? "C" : "D"), a,
             type, cref[0] ? cref : "NONREF", bref[0] ? "//" : "", bref);
    free(cref);
    free(bref);
    put(w, line);
    if (e->n_dtls && e->dtls[0].addtl_tx_inf && *e->dtls[0].addtl_tx_inf) {
        char *s = prep(w, e->dtls[0].addtl_tx_inf, false);
        if (!s)
            return fail(w, H2H_ENOMEM, "out of memory%s", NULL);
        trim(s);
        s[cp_bytes(s, 34)] = '\0';
        if (*s) {
            if (bad_start(s))
                s[0] = '.';
            put(w, s);
        }
        free(s);
    }
    return write_86(w, e);
}

static int cb_stmt_end(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_mt940_writer *w = ctx;
    if (w->rc)
        return w->rc;
    if (w->mt == 940) {
        const struct fmt_balance *cl = find_bal(st, "CLBD");
        if (!cl)
            return fail(w, H2H_EINVALID,
                        "mt940 writer: statement %s has no "
                        "closing balance",
                        st->id ? st->id : "");
        balance(w, intm(cl) ? "62M" : "62F", cl);
    }
    const struct fmt_balance *av = find_bal(st, "CLAV");
    if (av)
        balance(w, "64", av);
    for (size_t i = 0; i < st->n_bals; i++)
        if (!strcmp(st->bals[i].type, "FWAV"))
            balance(w, "65", &st->bals[i]);
    if (w->mt == 942 && st->has_summary) {
        char line[64], a[40];
        const struct fmt_amount *s[2] = {&st->sum_debits, &st->sum_credits};
        int64_t c[2] = {st->n_debits, st->n_credits};
        for (int k = 0; k < 2; k++) {
            if (c[k] == 0 && s[k]->minor == 0 && !s[k]->ccy[0])
                continue; /* the source gave only the other one */
            const char *ccy = s[k]->ccy[0] ? s[k]->ccy : w->ccy;
            amount(a, sizeof(a), s[k]->minor, ccy);
            snprintf(line, sizeof(line), ":90%c:%lld%s%s", k ? 'C' : 'D',
                     (long long)c[k], ccy, a);
            put(w, line);
        }
    }
    if (st->addtl_stmt_inf && *st->addtl_stmt_inf)
        write_free_86(w, st->addtl_stmt_inf);
    put(w, w->envelope ? "-}" : "-");
    w->in_stmt = false;
    return w->rc;
}

static int cb_end(void *ctx, const struct fmt_stmt_doc *doc)
{
    struct fmt_mt940_writer *w = ctx;
    (void)doc;
    if (!w->rc && fflush(w->out) == EOF)
        fail(w, H2H_EIO, "mt940 writer: write error%s", NULL);
    return w->rc;
}

/* ---- lifecycle --------------------------------------------------------------
 */

struct fmt_mt940_writer *fmt_mt940_writer_new(FILE *out,
                                              const struct fmt_mt940_opts *opts,
                                              struct h2h_err *err)
{
    int mt = opts && opts->mt ? opts->mt : 940;
    const char *cs = opts ? opts->charset : NULL;
    if (!out) {
        h2h_err_set(err, H2H_EINVALID, "mt940 writer: no output");
        return NULL;
    }
    if (mt != 940 && mt != 942) {
        h2h_err_set(err, H2H_EINVALID,
                    "mt940 writer: mt %d is neither 940 "
                    "nor 942",
                    mt);
        return NULL;
    }
    if (cs && !fmt_charset_is_utf8(cs) && !fmt_charset_known(cs)) {
        h2h_err_set(err, H2H_ECONFIG, "mt940 writer: unknown charset %s", cs);
        return NULL;
    }
    struct fmt_mt940_writer *w = calloc(1, sizeof(*w));
    if (!w || (cs && !(w->charset = strdup(cs)))) {
        free(w);
        h2h_err_set(err, H2H_ENOMEM, "out of memory");
        return NULL;
    }
    w->out = out;
    w->mt = mt;
    w->cs = !cs ? CS_X : fmt_charset_is_utf8(cs) ? CS_UTF8 : CS_ICONV;
    w->envelope = opts ? opts->envelope : 0;
    return w;
}

struct fmt_stmt_sink fmt_mt940_writer_sink(struct fmt_mt940_writer *w)
{
    struct fmt_stmt_sink s = {
        .begin = cb_begin,
        .stmt_begin = cb_stmt_begin,
        .entry = cb_entry,
        .stmt_end = cb_stmt_end,
        .end = cb_end,
        .ctx = w,
    };
    return s;
}

int fmt_mt940_writer_finish(struct fmt_mt940_writer *w, struct h2h_err *err)
{
    if (!w)
        return h2h_err_set(err, H2H_EINVALID, "mt940 writer: none");
    if (!w->rc && w->in_stmt)
        fail(w, H2H_ESTATE, "mt940 writer: statement not ended%s", NULL);
    if (!w->rc && fflush(w->out) == EOF)
        fail(w, H2H_EIO, "mt940 writer: write error%s", NULL);
    if (w->rc && err)
        *err = w->err;
    return w->rc;
}

void fmt_mt940_writer_free(struct fmt_mt940_writer *w)
{
    if (!w)
        return;
    free(w->charset);
    free(w);
}
