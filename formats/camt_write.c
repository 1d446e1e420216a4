/*
 * camt_write.c - camt.052 / camt.053 / camt.054 writer (.001.02 and .001.08)
 * as a streaming statement sink; see camt.h for what is generated, dropped
 * or cut so that the output always validates against the ISO XSD.
 *
 * Each callback writes its part straight to the FILE*; nothing of the
 * statement is kept.  The element order below follows the XSD sequences
 * (AccountStatement2/9, ReportEntry2/10, EntryTransaction2/10, ...).
 */
#include "camt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amount.h"
#include "ident.h"

struct fmt_camt_writer {
    FILE *out;
    int msg;   /* 52, 53, 54 */
    int v8;    /* 1: .001.08, 0: .001.02 */
    int state; /* 0 new, 1 in document, 2 in statement, 3 ended */
    long n_stmt;
    char msg_id[40];
    char now[32];       /* generation time, UTC */
    char doc_cre[40];   /* GrpHdr/CreDtTm as written */
    struct h2h_err err; /* first failure */
    int rc;
};

/* ---- text -----------------------------------------------------------------
 */

/* Number of bytes of s that hold at most max characters (UTF-8). */
static size_t utf8_prefix(const char *s, size_t len, size_t max)
{
    size_t chars = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if (chars == max)
            break;
        if (i + n > len)
            break;
        i += n;
        chars++;
    }
    return i;
}

static void put_esc(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                break;
            if (c == '\n' || c == '\r' || c == '\t')
                c = ' ';
            fputc(c, f);
        }
    }
}

static void ind(struct fmt_camt_writer *w, int n)
{
    for (int i = 0; i < n; i++)
        fputs("  ", w->out);
}

static void open_el(struct fmt_camt_writer *w, int n, const char *name)
{
    ind(w, n);
    fprintf(w->out, "<%s>\n", name);
}

static void close_el(struct fmt_camt_writer *w, int n, const char *name)
{
    ind(w, n);
    fprintf(w->out, "</%s>\n", name);
}

static int blank(const char *s)
{
    if (!s)
        return 1;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

/* <name>text</name>, cut to max characters; nothing when text is blank. */
static void leaf(struct fmt_camt_writer *w, int n, const char *name,
                 const char *text, size_t max)
{
    if (blank(text))
        return;
    size_t len = strlen(text);
    if (max)
        len = utf8_prefix(text, len, max);
    ind(w, n);
    fprintf(w->out, "<%s>", name);
    put_esc(w->out, text, len);
    fprintf(w->out, "</%s>\n", name);
}

/* ---- shapes the schema insists on -----------------------------------------
 */

static int all(const char *s, size_t a, size_t b, int (*ok)(int))
{
    for (size_t i = a; i < b; i++)
        if (!ok((unsigned char)s[i]))
            return 0;
    return 1;
}

static int up(int c)
{
    return c >= 'A' && c <= 'Z';
}
static int dig(int c)
{
    return c >= '0' && c <= '9';
}
static int upd(int c)
{
    return up(c) || dig(c);
}
static int alnum(int c)
{
    return upd(c) || (c >= 'a' && c <= 'z');
}

static int iban_shape(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 5 && n <= 34 && all(s, 0, 2, up) && all(s, 2, 4, dig) &&
           all(s, 4, n, alnum);
}

/* .02 BICIdentifier / AnyBICIdentifier; .08 BICFIDec2014 / AnyBICDec2014 */
static int bic_shape(const char *s, int v8)
{
    size_t n = s ? strlen(s) : 0;
    if (n != 8 && n != 11)
        return 0;
    if (v8)
        return all(s, 0, 4, upd) && all(s, 4, 6, up) && all(s, 6, n, upd);
    return all(s, 0, 6, up) && (up(s[6]) || (s[6] >= '2' && s[6] <= '9')) &&
           upd(s[7]) && s[7] != 'O' && all(s, 8, n, upd);
}

static int ctry_shape(const char *s)
{
    return s && strlen(s) == 2 && up(s[0]) && up(s[1]);
}

static int ccy_shape(const char *s)
{
    return s && strlen(s) == 3 && all(s, 0, 3, up);
}

static int uetr_shape(const char *s)
{
    static const char pat[] = "xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx";
    if (!s || strlen(s) != sizeof(pat) - 1)
        return 0;
    for (size_t i = 0; i < sizeof(pat) - 1; i++) {
        char c = s[i];
        int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        if (pat[i] == 'x' && !hex)
            return 0;
        if (pat[i] == 'Y' && c != '8' && c != '9' && c != 'a' && c != 'b')
            return 0;
        if ((pat[i] == '-' || pat[i] == '4') && c != pat[i])
            return 0;
    }
    return 1;
}

static int number_shape(const char *s, size_t maxdig)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= maxdig && all(s, 0, n, dig);
}

/* A 1-4 character external code (ExternalXxx1Code). */
static int ext_code(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 4;
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

static const char *const bal_types_02[] = {"XPCD", "OPAV", "ITAV", "CLAV",
                                           "FWAV", "CLBD", "ITBD", "OPBD",
                                           "PRCD", "INFO", NULL};
static const char *const acct_types_02[] = {
    "CASH", "CHAR", "COMM", "TAXE", "CISH", "TRAS", "SACC", "CACC", "SVGS",
    "ONDP", "MGLD", "NREX", "MOMA", "LOAN", "SLRY", "ODFT", NULL};
static const char *const doc_types[] = {
    "MSIN", "CNFA", "DNFA", "CINV", "CREN", "DEBN", "HIRI", "SBIN",
    "CMCN", "SOAC", "DISP", "BOLD", "VCHR", "AROI", "TSUT", NULL};
static const char *const ref_types[] = {"RADM", "RPIN", "FXDR", "DISP",
                                        "PUOR", "SCOR", NULL};
static const char *const entry_sts_02[] = {"BOOK", "PDNG", "INFO", NULL};

/* <outer><Cd>v</Cd></outer> when v is a code the schema takes, else
 * <outer><Prtry>v</Prtry></outer>. */
static void cd_or_prtry(struct fmt_camt_writer *w, int n, const char *outer,
                        const char *v, int is_code)
{
    if (blank(v))
        return;
    open_el(w, n, outer);
    leaf(w, n + 1, is_code ? "Cd" : "Prtry", v, 35);
    close_el(w, n, outer);
}

static int valid_date(const char *d)
{
    return d && strlen(d) == 10 && fmt_date_check(d, NULL) == 0;
}

static int valid_dttm(const char *t)
{
    return t && strchr(t, 'T') && fmt_datetime_check(t, NULL) == 0;
}

/* Dt/Dt or Dt/DtTm of a DateAndDateTimeChoice; 0 when nothing valid. */
static int date_choice(struct fmt_camt_writer *w, int n, const char *outer,
                       const char *v)
{
    if (valid_date(v)) {
        open_el(w, n, outer);
        leaf(w, n + 1, "Dt", v, 0);
        close_el(w, n, outer);
        return 1;
    }
    if (valid_dttm(v)) {
        open_el(w, n, outer);
        leaf(w, n + 1, "DtTm", v, 0);
        close_el(w, n, outer);
        return 1;
    }
    return 0;
}

static int fail(struct fmt_camt_writer *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct fmt_camt_writer *w, int code, const char *fmt, ...)
{
    if (!w->rc) {
        va_list ap;
        va_start(ap, fmt);
        h2h_err_vset(&w->err, code, fmt, ap);
        va_end(ap);
        w->rc = code;
    }
    return code;
}

/* <name Ccy="EUR">12.34</name>; |minor| is written, the sign is the
 * caller's CdtDbtInd. */
static int amount(struct fmt_camt_writer *w, int n, const char *name,
                  const struct fmt_amount *a)
{
    char buf[48];
    int64_t v = a->minor < 0 ? -a->minor : a->minor;
    if (!ccy_shape(a->ccy) ||
        fmt_amount_format(v, a->ccy, '.', buf, sizeof(buf)) < 0)
        return fail(w, H2H_EINVALID,
                    "cannot write amount %lld: \"%s\" is not a known "
                    "currency",
                    (long long)a->minor, a->ccy);
    ind(w, n);
    fprintf(w->out, "<%s Ccy=\"%s\">%s</%s>\n", name, a->ccy, buf, name);
    return 0;
}

/* ---- building blocks --------------------------------------------------------
 */

static int postal_empty(const struct fmt_postal *p)
{
    if (!blank(p->dept) || !blank(p->street) || !blank(p->building) ||
        !blank(p->postcode) || !blank(p->town) || !blank(p->subdivision) ||
        ctry_shape(p->country))
        return 0;
    for (size_t i = 0; i < sizeof(p->lines) / sizeof(p->lines[0]); i++)
        if (!blank(p->lines[i]))
            return 0;
    return 1;
}

static void postal(struct fmt_camt_writer *w, int n, const struct fmt_postal *p)
{
    if (postal_empty(p))
        return;
    open_el(w, n, "PstlAdr");
    leaf(w, n + 1, "Dept", p->dept, 70);
    leaf(w, n + 1, "StrtNm", p->street, 70);
    leaf(w, n + 1, "BldgNb", p->building, 16);
    leaf(w, n + 1, "PstCd", p->postcode, 16);
    leaf(w, n + 1, "TwnNm", p->town, 35);
    leaf(w, n + 1, "CtrySubDvsn", p->subdivision, 35);
    if (ctry_shape(p->country))
        leaf(w, n + 1, "Ctry", p->country, 0);
    for (size_t i = 0; i < sizeof(p->lines) / sizeof(p->lines[0]); i++)
        leaf(w, n + 1, "AdrLine", p->lines[i], 70);
    close_el(w, n, "PstlAdr");
}

static int party_empty(const struct fmt_camt_writer *w,
                       const struct fmt_party *p)
{
    return blank(p->name) && postal_empty(&p->addr) &&
           !bic_shape(p->org_bic, w->v8) && blank(p->org_id) &&
           blank(p->prvt_id) && !ctry_shape(p->ctry_of_res);
}

/* PartyIdentification32 / 135; wrap adds the .08 Party40Choice <Pty>. */
static void party(struct fmt_camt_writer *w, int n, const char *name,
                  const struct fmt_party *p, int wrap)
{
    if (party_empty(w, p))
        return;
    open_el(w, n, name);
    if (wrap)
        open_el(w, ++n, "Pty");
    leaf(w, n + 1, "Nm", p->name, 140);
    postal(w, n + 1, &p->addr);
    int bic = bic_shape(p->org_bic, w->v8);
    if (bic || !blank(p->org_id)) {
        open_el(w, n + 1, "Id");
        open_el(w, n + 2, "OrgId");
        if (bic)
            leaf(w, n + 3, w->v8 ? "AnyBIC" : "BICOrBEI", p->org_bic, 0);
        if (!blank(p->org_id)) {
            open_el(w, n + 3, "Othr");
            leaf(w, n + 4, "Id", p->org_id, 35);
            cd_or_prtry(w, n + 4, "SchmeNm", p->org_id_scheme,
                        ext_code(p->org_id_scheme));
            close_el(w, n + 3, "Othr");
        }
        close_el(w, n + 2, "OrgId");
        close_el(w, n + 1, "Id");
    } else if (!blank(p->prvt_id)) {
        open_el(w, n + 1, "Id");
        open_el(w, n + 2, "PrvtId");
        open_el(w, n + 3, "Othr");
        leaf(w, n + 4, "Id", p->prvt_id, 35);
        close_el(w, n + 3, "Othr");
        close_el(w, n + 2, "PrvtId");
        close_el(w, n + 1, "Id");
    }
    if (ctry_shape(p->ctry_of_res))
        leaf(w, n + 1, "CtryOfRes", p->ctry_of_res, 0);
    if (wrap)
        close_el(w, n--, "Pty");
    close_el(w, n, name);
}

static int account_has_id(const struct fmt_account *a)
{
    return !blank(a->iban) || !blank(a->other_id);
}

/* Id, Tp, Ccy, Nm of a CashAccount; the caller closes the element so the
 * statement account can add Ownr and Svcr. */
static void account_body(struct fmt_camt_writer *w, int n,
                         const struct fmt_account *a)
{
    open_el(w, n, "Id");
    if (iban_shape(a->iban)) {
        leaf(w, n + 1, "IBAN", a->iban, 0);
    } else {
        const char *id = !blank(a->other_id) ? a->other_id
                         : !blank(a->iban)   ? a->iban
                                             : "NOTPROVIDED";
        open_el(w, n + 1, "Othr");
        leaf(w, n + 2, "Id", id, 34);
        if (id == a->other_id)
            cd_or_prtry(w, n + 2, "SchmeNm", a->other_scheme,
                        ext_code(a->other_scheme));
        close_el(w, n + 1, "Othr");
    }
    close_el(w, n, "Id");
    if (!blank(a->type))
        cd_or_prtry(w, n, "Tp", a->type,
                    w->v8 ? ext_code(a->type)
                          : in_list(a->type, acct_types_02));
    if (ccy_shape(a->ccy))
        leaf(w, n, "Ccy", a->ccy, 0);
    leaf(w, n, "Nm", a->name, 70);
}

static void account(struct fmt_camt_writer *w, int n, const char *name,
                    const struct fmt_account *a)
{
    if (!account_has_id(a))
        return;
    open_el(w, n, name);
    account_body(w, n + 1, a);
    close_el(w, n, name);
}

static int agent_empty(const struct fmt_camt_writer *w,
                       const struct fmt_agent *a)
{
    return !bic_shape(a->bic, w->v8) && blank(a->clr_mmb_id) &&
           blank(a->name) && postal_empty(&a->addr) && blank(a->other_id);
}

static void agent(struct fmt_camt_writer *w, int n, const char *name,
                  const struct fmt_agent *a)
{
    if (agent_empty(w, a))
        return;
    open_el(w, n, name);
    open_el(w, n + 1, "FinInstnId");
    if (bic_shape(a->bic, w->v8))
        leaf(w, n + 2, w->v8 ? "BICFI" : "BIC", a->bic, 0);
    if (!blank(a->clr_mmb_id)) {
        open_el(w, n + 2, "ClrSysMmbId");
        if (!blank(a->clr_sys))
            cd_or_prtry(w, n + 3, "ClrSysId", a->clr_sys,
                        strlen(a->clr_sys) <= 5);
        leaf(w, n + 3, "MmbId", a->clr_mmb_id, 35);
        close_el(w, n + 2, "ClrSysMmbId");
    }
    leaf(w, n + 2, "Nm", a->name, 140);
    postal(w, n + 2, &a->addr);
    if (!blank(a->other_id)) {
        open_el(w, n + 2, "Othr");
        leaf(w, n + 3, "Id", a->other_id, 35);
        close_el(w, n + 2, "Othr");
    }
    close_el(w, n + 1, "FinInstnId");
    close_el(w, n, name);
}

/* Repeated element from a "\n"-joined string, each piece cut in chunks of
 * max characters; at most limit elements (0: no limit). */
static void lines(struct fmt_camt_writer *w, int n, const char *name,
                  const char *s, size_t max, int limit)
{
    int count = 0;
    while (s && *s && (!limit || count < limit)) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        const char *p = s;
        size_t left = len;
        while (left > 0 && (!limit || count < limit)) {
            size_t k = utf8_prefix(p, left, max);
            char *piece = strndup(p, k);
            if (piece && !blank(piece)) {
                leaf(w, n, name, piece, 0);
                count++;
            }
            free(piece);
            p += k;
            left -= k;
        }
        s = nl ? nl + 1 : s + len;
    }
}

/* ---- document parts --------------------------------------------------------
 */

static const char *msg_elem(const struct fmt_camt_writer *w)
{
    return w->msg == 52   ? "BkToCstmrAcctRpt"
           : w->msg == 54 ? "BkToCstmrDbtCdtNtfctn"
                          : "BkToCstmrStmt";
}

static const char *stmt_elem(const struct fmt_camt_writer *w)
{
    return w->msg == 52 ? "Rpt" : w->msg == 54 ? "Ntfctn" : "Stmt";
}

static int begin_cb(void *ctx, const struct fmt_stmt_doc *doc)
{
    struct fmt_camt_writer *w = ctx;
    if (w->rc)
        return w->rc;
    if (w->state != 0)
        return fail(w, H2H_ESTATE, "camt writer: begin() called twice");
    w->state = 1;
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(w->now, sizeof(w->now), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (doc && !blank(doc->msg_id)) {
        snprintf(w->msg_id, sizeof(w->msg_id), "%s", doc->msg_id);
        w->msg_id[utf8_prefix(w->msg_id, strlen(w->msg_id), 35)] = '\0';
    } else {
        strftime(w->msg_id, sizeof(w->msg_id), "H2H%Y%m%d%H%M%S", &tm);
    }
    snprintf(w->doc_cre, sizeof(w->doc_cre), "%s",
             doc && valid_dttm(doc->cre_dt_tm) ? doc->cre_dt_tm : w->now);

    fprintf(w->out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.%03d.001."
            "%02d\">\n",
            w->msg, w->v8 ? 8 : 2);
    open_el(w, 1, msg_elem(w));
    open_el(w, 2, "GrpHdr");
    leaf(w, 3, "MsgId", w->msg_id, 35);
    leaf(w, 3, "CreDtTm", w->doc_cre, 0);
    if (doc && !blank(doc->msg_rcpt)) {
        open_el(w, 3, "MsgRcpt");
        leaf(w, 4, "Nm", doc->msg_rcpt, 140);
        close_el(w, 3, "MsgRcpt");
    }
    close_el(w, 2, "GrpHdr");
    return 0;
}

static void balance(struct fmt_camt_writer *w, int n, const struct fmt_stmt *st,
                    const struct fmt_balance *b)
{
    open_el(w, n, "Bal");
    open_el(w, n + 1, "Tp");
    cd_or_prtry(w, n + 2, "CdOrPrtry", b->type,
                w->v8 ? ext_code(b->type) : in_list(b->type, bal_types_02));
    if (!blank(b->sub_type))
        cd_or_prtry(w, n + 2, "SubTp", b->sub_type, ext_code(b->sub_type));
    close_el(w, n + 1, "Tp");
    amount(w, n + 1, "Amt", &b->amt);
    leaf(w, n + 1, "CdtDbtInd", b->amt.minor < 0 ? "DBIT" : "CRDT", 0);
    if (!date_choice(w, n + 1, "Dt", b->date)) {
        /* the schema wants a date; the statement's own is the best guess */
        char d[11];
        const char *src = valid_dttm(st->to_dt_tm)    ? st->to_dt_tm
                          : valid_dttm(st->cre_dt_tm) ? st->cre_dt_tm
                                                      : w->now;
        snprintf(d, sizeof(d), "%.10s", src);
        date_choice(w, n + 1, "Dt", d);
    }
    close_el(w, n, "Bal");
}

static void summary(struct fmt_camt_writer *w, int n, const struct fmt_stmt *st)
{
    char buf[48];
    open_el(w, n, "TxsSummry");
    for (int k = 0; k < 2; k++) {
        const struct fmt_amount *a = k ? &st->sum_debits : &st->sum_credits;
        int64_t cnt = k ? st->n_debits : st->n_credits;
        open_el(w, n + 1, k ? "TtlDbtNtries" : "TtlCdtNtries");
        if (cnt >= 0) {
            snprintf(buf, sizeof(buf), "%lld", (long long)cnt);
            leaf(w, n + 2, "NbOfNtries", buf, 0);
        }
        if (ccy_shape(a->ccy) &&
            fmt_amount_format(a->minor < 0 ? -a->minor : a->minor, a->ccy, '.',
                              buf, sizeof(buf)) > 0)
            leaf(w, n + 2, "Sum", buf, 0);
        close_el(w, n + 1, k ? "TtlDbtNtries" : "TtlCdtNtries");
    }
    close_el(w, n, "TxsSummry");
}

static int stmt_begin_cb(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_camt_writer *w = ctx;
    char buf[64];
    if (w->rc)
        return w->rc;
    if (w->state != 1)
        return fail(w, H2H_ESTATE,
                    "camt writer: stmt_begin() outside a document");
    if (w->msg == 53 && st->n_bals == 0)
        return fail(w, H2H_EINVALID,
                    "statement %s has no balance; camt.053 requires at least "
                    "one",
                    st->id ? st->id : "(without id)");
    for (size_t i = 0; w->msg != 54 && i < st->n_bals; i++)
        if (!ccy_shape(st->bals[i].amt.ccy) ||
            fmt_ccy_exponent(st->bals[i].amt.ccy) < 0)
            return fail(w, H2H_EINVALID,
                        "balance %s has no known currency (\"%s\")",
                        st->bals[i].type, st->bals[i].amt.ccy);
    w->state = 2;
    w->n_stmt++;
    int n = 2;
    open_el(w, n, stmt_elem(w));
    if (!blank(st->id)) {
        leaf(w, n + 1, "Id", st->id, 35);
    } else {
        snprintf(buf, sizeof(buf), "%.30s-%ld", w->msg_id, w->n_stmt);
        leaf(w, n + 1, "Id", buf, 35);
    }
    if (w->v8 && number_shape(st->page_nb, 5)) {
        const char *pg = w->msg == 52   ? "RptPgntn"
                         : w->msg == 54 ? "NtfctnPgntn"
                                        : "StmtPgntn";
        open_el(w, n + 1, pg);
        leaf(w, n + 2, "PgNb", st->page_nb, 0);
        leaf(w, n + 2, "LastPgInd", "true", 0);
        close_el(w, n + 1, pg);
    }
    if (number_shape(st->elctrnc_seq_nb, 18))
        leaf(w, n + 1, "ElctrncSeqNb", st->elctrnc_seq_nb, 0);
    if (number_shape(st->lgl_seq_nb, 18))
        leaf(w, n + 1, "LglSeqNb", st->lgl_seq_nb, 0);
    leaf(w, n + 1, "CreDtTm",
         valid_dttm(st->cre_dt_tm) ? st->cre_dt_tm : w->doc_cre, 0);
    if (valid_dttm(st->fr_dt_tm) && valid_dttm(st->to_dt_tm)) {
        open_el(w, n + 1, "FrToDt");
        leaf(w, n + 2, "FrDtTm", st->fr_dt_tm, 0);
        leaf(w, n + 2, "ToDtTm", st->to_dt_tm, 0);
        close_el(w, n + 1, "FrToDt");
    }
    open_el(w, n + 1, "Acct");
    account_body(w, n + 2, &st->acct);
    party(w, n + 2, "Ownr", &st->owner, 0);
    agent(w, n + 2, "Svcr", &st->svcr);
    close_el(w, n + 1, "Acct");
    if (w->msg != 54)
        for (size_t i = 0; i < st->n_bals; i++)
            balance(w, n + 1, st, &st->bals[i]);
    if (st->has_summary)
        summary(w, n + 1, st);
    return w->rc;
}

static void strd(struct fmt_camt_writer *w, int n, const struct fmt_strd_rmt *s)
{
    int doc =
        !blank(s->doc_nb) || !blank(s->doc_type) || valid_date(s->doc_date);
    int ref = !blank(s->cdtr_ref) || !blank(s->cdtr_ref_type);
    if (!doc && !ref && blank(s->addtl_info))
        return;
    open_el(w, n, "Strd");
    if (doc) {
        open_el(w, n + 1, "RfrdDocInf");
        if (!blank(s->doc_type)) {
            open_el(w, n + 2, "Tp");
            cd_or_prtry(w, n + 3, "CdOrPrtry", s->doc_type,
                        in_list(s->doc_type, doc_types));
            close_el(w, n + 2, "Tp");
        }
        leaf(w, n + 2, "Nb", s->doc_nb, 35);
        if (valid_date(s->doc_date))
            leaf(w, n + 2, "RltdDt", s->doc_date, 0);
        close_el(w, n + 1, "RfrdDocInf");
    }
    if (ref) {
        open_el(w, n + 1, "CdtrRefInf");
        if (!blank(s->cdtr_ref_type)) {
            open_el(w, n + 2, "Tp");
            cd_or_prtry(w, n + 3, "CdOrPrtry", s->cdtr_ref_type,
                        in_list(s->cdtr_ref_type, ref_types));
            leaf(w, n + 3, "Issr", s->cdtr_ref_issuer, 35);
            close_el(w, n + 2, "Tp");
        }
        leaf(w, n + 2, "Ref", s->cdtr_ref, 35);
        close_el(w, n + 1, "CdtrRefInf");
    }
    lines(w, n + 1, "AddtlRmtInf", s->addtl_info, 140, 3);
    close_el(w, n, "Strd");
}

static int refs_any(const struct fmt_camt_writer *w,
                    const struct fmt_entry_dtl *d)
{
    return !blank(d->msg_id) || !blank(d->acct_svcr_ref) ||
           !blank(d->pmt_inf_id) || !blank(d->instr_id) ||
           !blank(d->end_to_end_id) || (w->v8 && uetr_shape(d->uetr)) ||
           !blank(d->tx_id) || !blank(d->mndt_id) || !blank(d->chq_nb) ||
           !blank(d->clr_sys_ref);
}

static int tx_dtls(struct fmt_camt_writer *w, int n, const struct fmt_entry *e,
                   const struct fmt_entry_dtl *d)
{
    open_el(w, n, "TxDtls");
    if (refs_any(w, d)) {
        open_el(w, n + 1, "Refs");
        leaf(w, n + 2, "MsgId", d->msg_id, 35);
        leaf(w, n + 2, "AcctSvcrRef", d->acct_svcr_ref, 35);
        leaf(w, n + 2, "PmtInfId", d->pmt_inf_id, 35);
        leaf(w, n + 2, "InstrId", d->instr_id, 35);
        leaf(w, n + 2, "EndToEndId", d->end_to_end_id, 35);
        if (w->v8 && uetr_shape(d->uetr))
            leaf(w, n + 2, "UETR", d->uetr, 0);
        leaf(w, n + 2, "TxId", d->tx_id, 35);
        leaf(w, n + 2, "MndtId", d->mndt_id, 35);
        leaf(w, n + 2, "ChqNb", d->chq_nb, 35);
        leaf(w, n + 2, "ClrSysRef", d->clr_sys_ref, 35);
        close_el(w, n + 1, "Refs");
    }
    int has_amt = d->amt.ccy[0] != '\0';
    if (has_amt && w->v8) {
        if (amount(w, n + 1, "Amt", &d->amt) < 0)
            return w->rc;
        leaf(w, n + 1, "CdtDbtInd", e->credit ? "CRDT" : "DBIT", 0);
    } else if (has_amt) {
        open_el(w, n + 1, "AmtDtls");
        open_el(w, n + 2, "TxAmt");
        if (amount(w, n + 3, "Amt", &d->amt) < 0)
            return w->rc;
        close_el(w, n + 2, "TxAmt");
        close_el(w, n + 1, "AmtDtls");
    }
    if (!blank(d->bk_tx_cd_prtry)) {
        open_el(w, n + 1, "BkTxCd");
        open_el(w, n + 2, "Prtry");
        leaf(w, n + 3, "Cd", d->bk_tx_cd_prtry, 35);
        close_el(w, n + 2, "Prtry");
        close_el(w, n + 1, "BkTxCd");
    }
    /* the counterparty is the debtor of a credit, the creditor of a debit */
    int cp = !party_empty(w, &d->cpty) || account_has_id(&d->cpty_acct) ||
             !party_empty(w, &d->ult_cpty);
    if (cp) {
        open_el(w, n + 1, "RltdPties");
        if (e->credit) {
            party(w, n + 2, "Dbtr", &d->cpty, w->v8);
            account(w, n + 2, "DbtrAcct", &d->cpty_acct);
            party(w, n + 2, "UltmtDbtr", &d->ult_cpty, w->v8);
        } else {
            party(w, n + 2, "Cdtr", &d->cpty, w->v8);
            account(w, n + 2, "CdtrAcct", &d->cpty_acct);
            party(w, n + 2, "UltmtCdtr", &d->ult_cpty, w->v8);
        }
        close_el(w, n + 1, "RltdPties");
    }
    if (!agent_empty(w, &d->cpty_agt)) {
        open_el(w, n + 1, "RltdAgts");
        agent(w, n + 2, e->credit ? "DbtrAgt" : "CdtrAgt", &d->cpty_agt);
        close_el(w, n + 1, "RltdAgts");
    }
    if (!blank(d->purp))
        cd_or_prtry(w, n + 1, "Purp", d->purp, ext_code(d->purp));
    const struct fmt_strd_rmt *s = &d->rmt_strd;
    int has_strd = !blank(s->doc_nb) || !blank(s->doc_type) ||
                   valid_date(s->doc_date) || !blank(s->cdtr_ref) ||
                   !blank(s->cdtr_ref_type) || !blank(s->addtl_info);
    if (!blank(d->rmt_ustrd) || has_strd) {
        open_el(w, n + 1, "RmtInf");
        lines(w, n + 2, "Ustrd", d->rmt_ustrd, 140, 0);
        strd(w, n + 2, s);
        close_el(w, n + 1, "RmtInf");
    }
    if (!blank(d->rtr_rsn)) {
        open_el(w, n + 1, "RtrInf");
        cd_or_prtry(w, n + 2, "Rsn", d->rtr_rsn, ext_code(d->rtr_rsn));
        close_el(w, n + 1, "RtrInf");
    }
    leaf(w, n + 1, "AddtlTxInf", d->addtl_tx_inf, 500);
    close_el(w, n, "TxDtls");
    return 0;
}

static int entry_cb(void *ctx, const struct fmt_stmt *st,
                    const struct fmt_entry *e)
{
    struct fmt_camt_writer *w = ctx;
    (void)st;
    if (w->rc)
        return w->rc;
    if (w->state != 2)
        return fail(w, H2H_ESTATE, "camt writer: entry() outside a statement");
    int n = 3;
    open_el(w, n, "Ntry");
    leaf(w, n + 1, "NtryRef", e->ntry_ref, 35);
    if (amount(w, n + 1, "Amt", &e->amt) < 0)
        return w->rc;
    leaf(w, n + 1, "CdtDbtInd", e->credit ? "CRDT" : "DBIT", 0);
    if (e->reversal)
        leaf(w, n + 1, "RvslInd", "true", 0);
    const char *sts = blank(e->sts) ? "BOOK" : e->sts;
    if (w->v8) {
        cd_or_prtry(w, n + 1, "Sts", sts, ext_code(sts));
    } else {
        /* .02 has a closed list; anything else is information only */
        leaf(w, n + 1, "Sts", in_list(sts, entry_sts_02) ? sts : "INFO", 0);
    }
    date_choice(w, n + 1, "BookgDt", e->book_dt);
    date_choice(w, n + 1, "ValDt", e->val_dt);
    leaf(w, n + 1, "AcctSvcrRef", e->acct_svcr_ref, 35);
    int domn = !blank(e->bk_tx_domain) && !blank(e->bk_tx_family) &&
               !blank(e->bk_tx_subfamily);
    if (!domn && blank(e->bk_tx_prtry)) {
        ind(w, n + 1);
        fputs("<BkTxCd/>\n", w->out);
    } else {
        open_el(w, n + 1, "BkTxCd");
        if (domn) {
            open_el(w, n + 2, "Domn");
            leaf(w, n + 3, "Cd", e->bk_tx_domain, 4);
            open_el(w, n + 3, "Fmly");
            leaf(w, n + 4, "Cd", e->bk_tx_family, 4);
            leaf(w, n + 4, "SubFmlyCd", e->bk_tx_subfamily, 4);
            close_el(w, n + 3, "Fmly");
            close_el(w, n + 2, "Domn");
        }
        if (!blank(e->bk_tx_prtry)) {
            open_el(w, n + 2, "Prtry");
            leaf(w, n + 3, "Cd", e->bk_tx_prtry, 35);
            leaf(w, n + 3, "Issr", e->bk_tx_prtry_issuer, 35);
            close_el(w, n + 2, "Prtry");
        }
        close_el(w, n + 1, "BkTxCd");
    }
    if (e->n_dtls) {
        open_el(w, n + 1, "NtryDtls");
        for (size_t i = 0; i < e->n_dtls; i++)
            if (tx_dtls(w, n + 2, e, &e->dtls[i]) < 0)
                return w->rc;
        close_el(w, n + 1, "NtryDtls");
    }
    leaf(w, n + 1, "AddtlNtryInf", e->addtl_ntry_inf, 500);
    close_el(w, n, "Ntry");
    return w->rc;
}

static int stmt_end_cb(void *ctx, const struct fmt_stmt *st)
{
    struct fmt_camt_writer *w = ctx;
    if (w->rc)
        return w->rc;
    if (w->state != 2)
        return fail(w, H2H_ESTATE,
                    "camt writer: stmt_end() without "
                    "stmt_begin()");
    const char *name = w->msg == 52   ? "AddtlRptInf"
                       : w->msg == 54 ? "AddtlNtfctnInf"
                                      : "AddtlStmtInf";
    leaf(w, 3, name, st->addtl_stmt_inf, 500);
    close_el(w, 2, stmt_elem(w));
    w->state = 1;
    return 0;
}

static int end_cb(void *ctx, const struct fmt_stmt_doc *doc)
{
    struct fmt_camt_writer *w = ctx;
    (void)doc;
    if (w->rc)
        return w->rc;
    if (w->state != 1)
        return fail(w, H2H_ESTATE, "camt writer: end() in the wrong place");
    if (w->n_stmt == 0)
        return fail(w, H2H_EINVALID,
                    "no statement to write; camt.%03d requires at least one",
                    w->msg);
    close_el(w, 1, msg_elem(w));
    fputs("</Document>\n", w->out);
    w->state = 3;
    return 0;
}

/* ---- public
 * ------------------------------------------------------------------ */

struct fmt_camt_writer *fmt_camt_writer_new(FILE *out,
                                            const struct fmt_camt_opts *o)
{
    if (!out || !o || (o->msg != 52 && o->msg != 53 && o->msg != 54) ||
        (o->version != 2 && o->version != 8))
        return NULL;
    struct fmt_camt_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->out = out;
    w->msg = o->msg;
    w->v8 = o->version == 8;
    return w;
}

struct fmt_stmt_sink fmt_camt_writer_sink(struct fmt_camt_writer *w)
{
    struct fmt_stmt_sink s = {
        .begin = begin_cb,
        .stmt_begin = stmt_begin_cb,
        .entry = entry_cb,
        .stmt_end = stmt_end_cb,
        .end = end_cb,
        .ctx = w,
    };
    return s;
}

int fmt_camt_writer_finish(struct fmt_camt_writer *w, struct h2h_err *err)
{
    if (!w)
        return h2h_err_set(err, H2H_ESTATE, "no camt writer");
    if (w->rc) {
        if (err)
            *err = w->err;
        return w->rc;
    }
    if (w->state != 3)
        return h2h_err_set(err, H2H_ESTATE,
                           "camt document is incomplete (end() not seen)");
    if (fflush(w->out) != 0 || ferror(w->out)) {
        int e = errno ? errno : EIO;
        return h2h_err_set(err, -e, "writing camt output: %s", strerror(e));
    }
    return 0;
}

void fmt_camt_writer_free(struct fmt_camt_writer *w)
{
    free(w);
}
