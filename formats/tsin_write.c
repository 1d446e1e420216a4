/*
 * tsin_write.c - tsin.001 / .002 / .003 writers; see tsin.h.
 *
 * Each writer renders into a memory stream while it checks every value
 * against what the reconstructed XSD accepts (lengths in characters, code
 * lists, patterns, choices) and against what the reader would give back;
 * the first violation stops it with the element path, and only a complete
 * document is copied to the caller's FILE.  Documents are small (one
 * request), so the copy costs nothing worth a streaming design.
 */
#include "tsin.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"

#define W_MAX_DEPTH 24
#define NOTPROVIDED "NOTPROVIDED"

struct tw {
    FILE *f; /* the memory stream */
    char *buf;
    size_t len;
    const char *stack[W_MAX_DEPTH];
    size_t idx[W_MAX_DEPTH]; /* 1-based index of a repeated element, 0 */
    int depth;
    int failed;
    struct h2h_err err;
};

/* ---- errors with the element path -------------------------------------- */

static int fail(struct tw *w, int code, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct tw *w, int code, const char *tag, const char *fmt, ...)
{
    if (w->failed)
        return w->err.code;
    char path[512], msg[H2H_ERR_MSG_MAX];
    size_t n = 0;
    path[0] = '\0';
    /* Skip Document and the message element: every path starts below. */
    for (int i = 2; i < w->depth && n < sizeof(path); i++) {
        if (w->idx[i])
            n += snprintf(path + n, sizeof(path) - n, "%s%s[%zu]", n ? "/" : "",
                          w->stack[i], w->idx[i]);
        else
            n += snprintf(path + n, sizeof(path) - n, "%s%s", n ? "/" : "",
                          w->stack[i]);
    }
    if (tag && n < sizeof(path))
        snprintf(path + n, sizeof(path) - n, "%s%s", n ? "/" : "", tag);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    w->failed = 1;
    return h2h_err_set(&w->err, code, "%s: %s", path[0] ? path : "document",
                       msg);
}

/* ---- output ------------------------------------------------------------ */

static void indent(struct tw *w)
{
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

static void open_i(struct tw *w, const char *tag, size_t idx)
{
    if (w->depth >= W_MAX_DEPTH)
        H2H_BUG("tsin writer nesting");
    if (!w->failed) {
        indent(w);
        fprintf(w->f, "<%s>\n", tag);
    }
    w->idx[w->depth] = idx;
    w->stack[w->depth++] = tag;
}

static void open_el(struct tw *w, const char *tag)
{
    open_i(w, tag, 0);
}

static void close_el(struct tw *w)
{
    w->depth--;
    if (!w->failed) {
        indent(w);
        fprintf(w->f, "</%s>\n", w->stack[w->depth]);
    }
}

static void put_escaped(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        /* A literal CR would come back as LF: XML normalises line ends. */
        case '\r': fputs("&#13;", f); break;
        default: fputc(s[i], f);
        }
    }
}

static void raw(struct tw *w, const char *tag, const char *v)
{
    if (w->failed)
        return;
    indent(w);
    fprintf(w->f, "<%s>", tag);
    put_escaped(w->f, v, strlen(v));
    fprintf(w->f, "</%s>\n", tag);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
    return k;
}

static int empty(const char *s)
{
    return !s || !*s;
}

/* Free text of 1..maxlen characters.  Surrounding white space is not
 * significant (the reader trims), so it is dropped here rather than
 * written and lost. */
static void text(struct tw *w, const char *tag, const char *v, size_t maxlen)
{
    if (w->failed || !v)
        return;
    size_t n = strlen(v), b = 0;
    if (!fmt_utf8_valid(v, n)) {
        fail(w, H2H_ECHARSET, tag, "text is not valid UTF-8");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 && !is_space(v[i])) {
            fail(w, H2H_ECHARSET, tag,
                 "control character 0x%02x cannot be written in XML",
                 (unsigned char)v[i]);
            return;
        }
    while (b < n && is_space(v[b]))
        b++;
    while (n > b && is_space(v[n - 1]))
        n--;
    if (n == b) {
        fail(w, H2H_EINVALID, tag, "is empty");
        return;
    }
    if (utf8_chars(v + b, n - b) > maxlen) {
        fail(w, H2H_EINVALID, tag, "\"%.60s\" is longer than %zu characters",
             v + b, maxlen);
        return;
    }
    indent(w);
    fprintf(w->f, "<%s>", tag);
    put_escaped(w->f, v + b, n - b);
    fprintf(w->f, "</%s>\n", tag);
}

static void text_req(struct tw *w, const char *tag, const char *v,
                     size_t maxlen, const char *what)
{
    if (empty(v)) {
        fail(w, H2H_EINVALID, tag, "%s is missing", what);
        return;
    }
    text(w, tag, v, maxlen);
}

static int all_of(const char *s, size_t from, size_t to, const char *set)
{
    for (size_t i = from; i < to; i++)
        if (!s[i] || !strchr(set, s[i]))
            return 0;
    return 1;
}

#define UP "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define LO "abcdefghijklmnopqrstuvwxyz"
#define DIG "0123456789"

/* BICIdentifier / BEIIdentifier of the 2008 repository:
 * [A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})? */
static int bic_ok(const char *b)
{
    size_t n = strlen(b);
    return (n == 8 || n == 11) && all_of(b, 0, 6, UP) &&
           all_of(b, 6, 7, UP "23456789") &&
           all_of(b, 7, 8, "ABCDEFGHIJKLMNPQRSTUVWXYZ" DIG) &&
           all_of(b, 8, n, UP DIG);
}

static void bic(struct tw *w, const char *tag, const char *v)
{
    if (w->failed || !v)
        return;
    if (!bic_ok(v)) {
        fail(w, H2H_EINVALID, tag, "\"%.40s\" is not a valid BIC", v);
        return;
    }
    raw(w, tag, v);
}

static void country(struct tw *w, const char *tag, const char *v)
{
    if (w->failed || !v)
        return;
    if (strlen(v) != 2 || !all_of(v, 0, 2, UP)) {
        fail(w, H2H_EINVALID, tag, "\"%.20s\" is not a country code", v);
        return;
    }
    raw(w, tag, v);
}

static void ccy_code(struct tw *w, const char *tag, const char *v)
{
    if (w->failed || !v)
        return;
    if (!fmt_ccy_valid(v)) {
        fail(w, H2H_EINVALID, tag, "\"%.20s\" is not an ISO 4217 currency", v);
        return;
    }
    raw(w, tag, v);
}

static void date(struct tw *w, const char *tag, const char *v, const char *what)
{
    struct h2h_err e = {0};
    if (w->failed)
        return;
    if (!v) {
        fail(w, H2H_EINVALID, tag, "%s is missing", what);
        return;
    }
    if (fmt_date_check(v, &e) < 0) {
        fail(w, H2H_EINVALID, tag, "%s", e.msg);
        return;
    }
    raw(w, tag, v);
}

static void date_time(struct tw *w, const char *tag, const char *v,
                      const char *what)
{
    struct h2h_err e = {0};
    if (w->failed)
        return;
    if (!v) {
        fail(w, H2H_EINVALID, tag, "%s is missing", what);
        return;
    }
    if (fmt_datetime_check(v, &e) < 0) {
        fail(w, H2H_EINVALID, tag, "%s", e.msg);
        return;
    }
    raw(w, tag, v);
}

/* ActiveCurrencyAndAmount: >= 0, at most 18 digits, decimals of ccy. */
static void amount(struct tw *w, const char *tag, const struct fmt_amount *a)
{
    char num[48];
    if (w->failed)
        return;
    if (!fmt_ccy_valid(a->ccy)) {
        fail(w, H2H_EINVALID, tag, "currency \"%.8s\" is not ISO 4217", a->ccy);
        return;
    }
    if (a->minor < 0) {
        fail(w, H2H_EINVALID, tag, "amount is negative");
        return;
    }
    int n = fmt_amount_format(a->minor, a->ccy, '.', num, sizeof(num));
    size_t digits = 0;
    for (int i = 0; i < n; i++)
        digits += num[i] >= '0' && num[i] <= '9';
    if (n < 0 || digits > 18) {
        fail(w, H2H_EINVALID, tag, "amount has more than 18 digits");
        return;
    }
    indent(w);
    fprintf(w->f, "<%s Ccy=\"%s\">%s</%s>\n", tag, a->ccy, num, tag);
}

/* PercentageRate: at most 11 digits of which 10 decimals.  A rate is in
 * 1e-10 percent, so its digits once trailing zeros are gone are exactly
 * the digits of the decimal. */
static void rate(struct tw *w, const char *tag, int64_t r)
{
    char num[40];
    if (w->failed)
        return;
    if (fmt_scf_rate_format(r, num, sizeof(num)) < 0) {
        fail(w, H2H_EINVALID, tag, "rate is negative");
        return;
    }
    int64_t v = r;
    for (int k = 0; k < 10 && v != 0 && v % 10 == 0; k++)
        v /= 10;
    int digits = 0;
    for (; v; v /= 10)
        digits++;
    if (digits > 11) {
        fail(w, H2H_EINVALID, tag,
             "rate %s has more than 11 significant digits", num);
        return;
    }
    raw(w, tag, num);
}

static void number(struct tw *w, const char *tag, int64_t v)
{
    char num[32];
    snprintf(num, sizeof(num), "%lld", (long long)v);
    if (strlen(num) > 15) {
        fail(w, H2H_EINVALID, tag, "more than 15 digits");
        return;
    }
    raw(w, tag, num);
}

static int in_list(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(v, *list))
            return 1;
    return 0;
}

/* ---- 2008 components ---------------------------------------------------- */

static const char *const acct_types[] = {
    "CASH", "CHAR", "COMM", "TAXE", "CISH", "TRAS", "SACC", "CACC", "SVGS",
    "ONDP", "MGLD", "NREX", "MOMA", "LOAN", "SLRY", "ODFT", NULL};
static const char *const pmt_mtds[] = {"CHK", "TRF", "DD", "TRA", NULL};
static const char *const rsn_codes[] = {
    "CA01", "CA02", "CA03", "AC01", "AC04", "AC06", "BE08", "BE09", "BE10",
    "BE11", "DT02", "ID01", "ID02", "ID03", "MI01", "NA01", NULL};

static int has_addr(const struct fmt_postal *p)
{
    return p->dept || p->street || p->building || p->postcode || p->town ||
           p->subdivision || p->country || p->lines[0];
}

static int party_empty(const struct fmt_party *p)
{
    return !p->name && !has_addr(&p->addr) && !p->org_bic && !p->org_id &&
           !p->org_id_scheme && !p->prvt_id && !p->ctry_of_res;
}

static int account_empty(const struct fmt_account *a)
{
    return !a->iban && !a->other_id && !a->other_scheme && !a->ccy &&
           !a->name && !a->type;
}

static int agent_empty(const struct fmt_agent *a)
{
    return !a->bic && !a->clr_sys && !a->clr_mmb_id && !a->name &&
           !has_addr(&a->addr) && !a->other_id;
}

/* GenericIdentification4: both parts mandatory; a type the model does not
 * have is written NOTPROVIDED, which the reader turns back into NULL. */
static void generic_id4(struct tw *w, const char *tag, const char *id,
                        const char *tp)
{
    open_el(w, tag);
    text(w, "Id", id, 35);
    text(w, "IdTp", tp ? tp : NOTPROVIDED, 35);
    close_el(w);
}

/* PartyIdentification25: the financing requestor. */
static void party25(struct tw *w, const char *tag, const struct fmt_party *p)
{
    if (w->failed)
        return;
    if (has_addr(&p->addr) || p->prvt_id || p->ctry_of_res) {
        fail(w, H2H_EINVALID, tag,
             "tsin cannot carry the requestor's address, private id or "
             "country of residence (PartyIdentification25 has only name, "
             "proprietary id and BEI)");
        return;
    }
    if (p->org_id_scheme && !p->org_id) {
        fail(w, H2H_EINVALID, tag, "an id scheme without an id");
        return;
    }
    open_el(w, tag);
    text_req(w, "Nm", p->name, 70, "the requestor's name");
    if (p->org_id)
        generic_id4(w, "PrtryId", p->org_id, p->org_id_scheme);
    bic(w, "BEI", p->org_bic);
    close_el(w);
}

/* PartyIdentification8: suppliers and buyers. */
static void party8(struct tw *w, const char *tag, const struct fmt_party *p)
{
    if (w->failed)
        return;
    open_el(w, tag);
    text(w, "Nm", p->name, 70);
    if (has_addr(&p->addr)) {
        const struct fmt_postal *a = &p->addr;
        if (a->dept) {
            fail(w, H2H_EINVALID, "PstlAdr",
                 "tsin's PostalAddress1 has no department");
            return;
        }
        if (!a->country) {
            fail(w, H2H_EINVALID, "PstlAdr/Ctry",
                 "an address needs its country in tsin");
            return;
        }
        open_el(w, "PstlAdr");
        for (size_t i = 0; i < 7 && a->lines[i]; i++) {
            if (i == 5) {
                fail(w, H2H_EINVALID, "AdrLine", "more than 5 address lines");
                return;
            }
            text(w, "AdrLine", a->lines[i], 70);
        }
        text(w, "StrtNm", a->street, 70);
        text(w, "BldgNb", a->building, 16);
        text(w, "PstCd", a->postcode, 16);
        text(w, "TwnNm", a->town, 35);
        text(w, "CtrySubDvsn", a->subdivision, 35);
        country(w, "Ctry", a->country);
        close_el(w);
    }
    if (p->org_id_scheme && !p->org_id) {
        fail(w, H2H_EINVALID, "Id", "an id scheme without an id");
        return;
    }
    if ((p->org_bic || p->org_id) && p->prvt_id) {
        fail(w, H2H_EINVALID, "Id",
             "a party is either an organisation or a private person, not "
             "both");
        return;
    }
    if (p->org_bic || p->org_id) {
        const char *s = p->org_id_scheme;
        open_el(w, "Id");
        open_el(w, "OrgId");
        bic(w, "BIC", p->org_bic);
        if (p->org_id && s && !strcmp(s, "BANK"))
            text(w, "BkPtyId", p->org_id, 35);
        else if (p->org_id && s && !strcmp(s, "TXID"))
            text(w, "TaxIdNb", p->org_id, 35);
        else if (p->org_id) {
            open_el(w, "PrtryId");
            text(w, "Id", p->org_id, 35);
            text(w, "Issr", s, 35);
            close_el(w);
        }
        close_el(w);
        close_el(w);
    } else if (p->prvt_id) {
        open_el(w, "Id");
        open_el(w, "PrvtId");
        generic_id4(w, "OthrId", p->prvt_id, NULL);
        close_el(w);
        close_el(w);
    }
    country(w, "CtryOfRes", p->ctry_of_res);
    close_el(w);
}

static void account(struct tw *w, const char *tag, const struct fmt_account *a)
{
    if (w->failed || account_empty(a))
        return;
    if (!a->iban == !a->other_id) {
        fail(w, H2H_EINVALID, tag,
             a->iban ? "an account is an IBAN or another id, not both"
                     : "the account has neither an IBAN nor another id");
        return;
    }
    const char *s = a->other_scheme;
    if (a->iban && s) {
        fail(w, H2H_EINVALID, tag, "an IBAN has no scheme");
        return;
    }
    open_el(w, tag);
    open_el(w, "Id");
    if (a->iban) {
        size_t n = strlen(a->iban);
        if (n < 5 || n > 34 || !all_of(a->iban, 0, 2, UP LO) ||
            !all_of(a->iban, 2, 4, DIG) || !all_of(a->iban, 4, n, UP LO DIG))
            fail(w, H2H_EINVALID, "IBAN", "\"%.40s\" is not an IBAN", a->iban);
        raw(w, "IBAN", a->iban);
    } else if (s && !strcmp(s, "BBAN")) {
        size_t n = strlen(a->other_id);
        if (n < 1 || n > 30 || !all_of(a->other_id, 0, n, UP LO DIG))
            fail(w, H2H_EINVALID, "BBAN", "\"%.40s\" is not a BBAN",
                 a->other_id);
        raw(w, "BBAN", a->other_id);
    } else if (s && !strcmp(s, "UPIC")) {
        size_t n = strlen(a->other_id);
        if (n < 8 || n > 17 || !all_of(a->other_id, 0, n, DIG))
            fail(w, H2H_EINVALID, "UPIC", "\"%.40s\" is not a UPIC",
                 a->other_id);
        raw(w, "UPIC", a->other_id);
    } else if (s) {
        fail(w, H2H_EINVALID, NULL,
             "account id scheme \"%.35s\" cannot be written in tsin (IBAN, "
             "BBAN, UPIC or a proprietary id without scheme)",
             s);
    } else {
        open_el(w, "PrtryAcct");
        text(w, "Id", a->other_id, 34);
        close_el(w);
    }
    close_el(w);
    if (a->type) {
        open_el(w, "Tp");
        if (in_list(a->type, acct_types))
            raw(w, "Cd", a->type);
        else
            text(w, "Prtry", a->type, 35);
        close_el(w);
    }
    ccy_code(w, "Ccy", a->ccy);
    text(w, "Nm", a->name, 70);
    close_el(w);
}

static void agent(struct tw *w, const char *tag, const struct fmt_agent *a)
{
    if (w->failed)
        return;
    if (a->name || has_addr(&a->addr)) {
        fail(w, H2H_EINVALID, tag,
             "tsin cannot carry an agent's name or address "
             "(FinancialInstitutionIdentification6 has only BIC, clearing "
             "and proprietary ids)");
        return;
    }
    if (a->clr_sys && !a->clr_mmb_id) {
        fail(w, H2H_EINVALID, tag, "a clearing system without a member id");
        return;
    }
    if (a->clr_sys && a->other_id) {
        fail(w, H2H_EINVALID, tag,
             "tsin has room for one proprietary id: a clearing member id "
             "with its system, or another id, not both");
        return;
    }
    open_el(w, tag);
    if (a->clr_mmb_id && !a->clr_sys) {
        open_el(w, "ClrSysMmbId");
        text(w, "OthrClrCdId", a->clr_mmb_id, 35);
        close_el(w);
    }
    if (a->clr_sys)
        generic_id4(w, "PrtryId", a->clr_mmb_id, a->clr_sys);
    else if (a->other_id)
        generic_id4(w, "PrtryId", a->other_id, NULL);
    bic(w, "BIC", a->bic);
    close_el(w);
}

/* StatusReason4Choice plus AddtlStsRsnInf lines. */
static void reason(struct tw *w, const struct fmt_reason *r)
{
    if (w->failed)
        return;
    if (r->code && r->prtry) {
        fail(w, H2H_EINVALID, "StsRsn",
             "a reason is a code or a proprietary reason, not both");
        return;
    }
    if (r->code || r->prtry) {
        open_el(w, "StsRsn");
        if (r->code && !in_list(r->code, rsn_codes))
            fail(w, H2H_EINVALID, "Cd",
                 "\"%.20s\" is not a FinancingStatusReason1Code; give it as "
                 "a proprietary reason",
                 r->code);
        else if (r->code)
            raw(w, "Cd", r->code);
        else
            text(w, "Prtry", r->prtry, 35);
        close_el(w);
    }
    /* One line, one element: splitting or joining would not read back. */
    for (const char *v = r->addtl_info; v && !w->failed;) {
        const char *e = strchr(v, '\n');
        size_t n = e ? (size_t)(e - v) : strlen(v);
        char *one = strndup(v, n);
        if (!one) {
            fail(w, H2H_ENOMEM, "AddtlStsRsnInf", "out of memory");
            break;
        }
        text(w, "AddtlStsRsnInf", one, 105);
        free(one);
        v = e ? e + 1 : NULL;
    }
}

/* ---- document frame ----------------------------------------------------- */

static void begin(struct tw *w, const char *ns, const char *root)
{
    memset(w, 0, sizeof(*w));
    w->f = open_memstream(&w->buf, &w->len);
    if (!w->f) {
        w->failed = 1;
        h2h_err_set(&w->err, H2H_ENOMEM, "out of memory");
        return;
    }
    fprintf(w->f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:%s\">\n",
            ns);
    w->stack[w->depth++] = "Document";
    open_el(w, root);
}

static int finish(struct tw *w, FILE *out, struct h2h_err *err)
{
    if (w->f) {
        if (!w->failed) {
            close_el(w);
            fputs("</Document>\n", w->f);
        }
        if (fclose(w->f) != 0 && !w->failed) {
            w->failed = 1;
            h2h_err_set(&w->err, H2H_ENOMEM, "out of memory");
        }
    }
    int rc = 0;
    if (w->failed) {
        rc = w->err.code;
        if (err)
            *err = w->err;
    } else if (fwrite(w->buf, 1, w->len, out) != w->len || fflush(out) != 0) {
        rc = h2h_err_set(err, H2H_EIO, "writing the document failed");
    }
    free(w->buf);
    return rc;
}

/* ---- tsin.001 ----------------------------------------------------------- */

static void addtl_inf(struct tw *w, const char *code, const char *v)
{
    if (!v)
        return;
    open_el(w, "AddtlInf");
    open_el(w, "InfTp");
    raw(w, "Prtry", code);
    close_el(w);
    text(w, "InfVal", v, 350);
    close_el(w);
}

static void invoice(struct tw *w, const struct fmt_scf_request *r, size_t i)
{
    const struct fmt_scf_invoice *iv = &r->invoices[i];
    struct fmt_amount zero = {0};
    open_i(w, "InvcReqInf", i + 1);
    open_el(w, "InvcGnlInf");
    raw(w, "DocTp", "CINV");
    text_req(w, "DocNb", iv->number, 35, "the invoice number");
    date(w, "IsseDt", iv->issue_date, "the issue date");
    close_el(w);

    open_el(w, "InvcTtlsInf");
    if (!iv->amount.ccy[0])
        fail(w, H2H_EINVALID, "TtlInvcAmt", "the invoice amount is missing");
    else if (strcmp(iv->amount.ccy, r->ccy) != 0)
        fail(w, H2H_EINVALID, "TtlInvcAmt",
             "invoice in %s, request in %s: tsin's bulk total needs one "
             "currency",
             iv->amount.ccy, r->ccy);
    /* Mandatory in tsin, optional in the model: the defaults scf.h names
     * (the reader maps them back to "absent"). */
    memcpy(zero.ccy, iv->amount.ccy, sizeof(zero.ccy));
    amount(w, "TtlTaxblAmt", iv->taxable.ccy[0] ? &iv->taxable : &iv->amount);
    amount(w, "TtlTaxAmt", iv->tax.ccy[0] ? &iv->tax : &zero);
    amount(w, "TtlInvcAmt", &iv->amount);
    date(w, "PmtDueDt", iv->due_date, "the payment due date");
    close_el(w);

    if (iv->requested.ccy[0] && iv->requested_rate >= 0)
        fail(w, H2H_EINVALID, "ReqdAmt",
             "the financing asked is an amount or a rate, not both");
    if (iv->requested.ccy[0] || iv->requested_rate >= 0) {
        open_el(w, "ReqdAmt");
        if (iv->requested.ccy[0])
            amount(w, "Amt", &iv->requested);
        else
            rate(w, "Rate", iv->requested_rate);
        close_el(w);
    }

    open_el(w, "Spplr");
    if (!party_empty(&iv->seller)) {
        party8(w, "PtyId", &iv->seller);
    } else if (r->kind == FMT_SCF_RECEIVABLE) {
        /* The supplier is the requestor (scf.h); Spplr is mandatory. */
        struct fmt_party me = {0};
        me.name = r->requestor.name;
        me.org_bic = r->requestor.org_bic;
        me.org_id = r->requestor.org_id;
        me.org_id_scheme = r->requestor.org_id_scheme;
        party8(w, "PtyId", &me);
    } else {
        fail(w, H2H_EINVALID, "PtyId",
             "a reverse factoring invoice must name its supplier");
    }
    account(w, "AcctId", &iv->seller_acct);
    close_el(w);

    open_el(w, "Buyr");
    if (party_empty(&iv->buyer))
        fail(w, H2H_EINVALID, "PtyId", "the invoice names no buyer");
    party8(w, "PtyId", &iv->buyer);
    close_el(w);

    open_el(w, "InvcPmtInf");
    const char *pm = iv->pmt_method ? iv->pmt_method : "TRF";
    if (!in_list(pm, pmt_mtds))
        fail(w, H2H_EINVALID, "PmtMtd",
             "\"%.10s\" is not a payment method (CHK, TRF, DD, TRA)", pm);
    raw(w, "PmtMtd", pm);
    close_el(w);

    if (iv->contract_ref) {
        open_el(w, "RfrdDoc");
        open_el(w, "Tp");
        raw(w, "Cd", "CMCN");
        close_el(w);
        text(w, "DocNb", iv->contract_ref, 35);
        close_el(w);
    }
    if (iv->tax_invoice_code) {
        open_el(w, "RfrdDoc");
        open_el(w, "Tp");
        raw(w, "Prtry", "TAXCODE");
        close_el(w);
        text(w, "DocNb", iv->tax_invoice_code, 35);
        close_el(w);
    }
    close_el(w);
}

int fmt_tsin001_write(FILE *out, const struct fmt_scf_request *r,
                      struct h2h_err *err)
{
    struct tw w;
    char num[48];
    if (!out || !r)
        return h2h_err_set(err, H2H_EINVALID, "no output or request");
    begin(&w, "tsin.001.001.01", "InvcFincgReq");
    open_el(&w, "ReqGrpInf");
    text_req(&w, "GrpId", r->request_id, 35, "the request id");
    date_time(&w, "CreDtTm", r->cre_dt_tm, "the creation time");
    if (!fmt_ccy_valid(r->ccy))
        fail(&w, H2H_EINVALID, "Ccy",
             "the request's currency \"%.8s\" is "
             "not ISO 4217",
             r->ccy);
    if (r->n_invoices == 0)
        fail(&w, H2H_EINVALID, "InvcReqInf", "the request has no invoice");
    if (r->n_invoices > FMT_TSIN_MAX_INVOICES)
        fail(&w, H2H_EINVALID, "InvcReqInf", "more than %d invoices",
             FMT_TSIN_MAX_INVOICES);
    number(&w, "NbOfInvcReqs", (int64_t)r->n_invoices);
    struct fmt_amount total = {0};
    memcpy(total.ccy, r->ccy, sizeof(total.ccy));
    for (size_t i = 0; i < r->n_invoices && !w.failed; i++)
        if (__builtin_add_overflow(total.minor, r->invoices[i].amount.minor,
                                   &total.minor))
            fail(&w, H2H_EINVALID, "TtlBlkInvcAmt",
                 "the invoice amounts overflow");
    amount(&w, "TtlBlkInvcAmt", &total);
    ccy_code(&w, "Ccy", r->ccy);
    text(&w, "FincgAgrmt", r->agreement_ref, 350);
    open_el(&w, "FincgRqstr");
    party25(&w, "PtyId", &r->requestor);
    account(&w, "CdtAcct", &r->credit_acct);
    account(&w, "FincgAcct", &r->financing_acct);
    close_el(&w);
    if (!agent_empty(&r->intermediary))
        agent(&w, "IntrmyAgt", &r->intermediary);
    if (!r->bank.bic && !r->bank.clr_mmb_id && !r->bank.other_id)
        fail(&w, H2H_EINVALID, "FrstAgt", "the request names no bank");
    agent(&w, "FrstAgt", &r->bank);
    /* Model fields tsin has no element for (scf.h): H2H: codes. */
    if ((unsigned)r->kind > FMT_SCF_REVERSE_FACTORING)
        fail(&w, H2H_EINVALID, "AddtlInf", "unknown request kind %d",
             (int)r->kind);
    addtl_inf(&w, "H2H:KIND", fmt_scf_kind_name(r->kind));
    addtl_inf(&w, "H2H:PRODUCT", r->product);
    if (r->value_date) {
        struct h2h_err e = {0};
        if (fmt_date_check(r->value_date, &e) < 0)
            fail(&w, H2H_EINVALID, "AddtlInf", "value date: %s", e.msg);
        addtl_inf(&w, "H2H:VALUEDATE", r->value_date);
    }
    if (r->requested.ccy[0]) {
        if (strcmp(r->requested.ccy, r->ccy) != 0 || r->requested.minor < 0 ||
            fmt_amount_format(r->requested.minor, r->requested.ccy, '.', num,
                              sizeof(num)) < 0)
            fail(&w, H2H_EINVALID, "AddtlInf",
                 "the requested total must be a non-negative amount in the "
                 "request's currency %s",
                 r->ccy);
        else
            addtl_inf(&w, "H2H:REQAMT", num);
    }
    addtl_inf(&w, "H2H:CONTRACT", r->contract_ref);
    addtl_inf(&w, "H2H:INFO", r->addtl_info);
    close_el(&w);
    for (size_t i = 0; i < r->n_invoices && !w.failed; i++)
        invoice(&w, r, i);
    return finish(&w, out, err);
}

/* ---- tsin.002 ----------------------------------------------------------- */

static int has_terms(const struct fmt_scf_status_report *r)
{
    return r->n_invoices > 0 || r->n_financed_items >= 0 ||
           r->accepted_total.ccy[0] || r->applied_pctg >= 0 ||
           r->financed.ccy[0] || r->value_date || r->maturity_date ||
           r->book_date || !account_empty(&r->credit_acct) ||
           !account_empty(&r->financing_acct);
}

/* The status the reader will derive (scf.h, tsin.002). */
static enum fmt_scf_status derived_status(const struct fmt_scf_status_report *r)
{
    size_t ntfd = 0, fncd = 0;
    for (size_t i = 0; i < r->n_invoices; i++) {
        ntfd += r->invoices[i].result == FMT_SCF_ITEM_REJECTED;
        fncd += r->invoices[i].result == FMT_SCF_ITEM_ACCEPTED;
    }
    int rcer = r->status == FMT_SCF_REJECTED && r->n_invoices == 0;
    if (rcer || (r->n_invoices > 0 && ntfd == r->n_invoices))
        return FMT_SCF_REJECTED;
    if (r->cancel_answer == FMT_SCF_CXL_ACCEPTED)
        return FMT_SCF_CANCELLED;
    if (r->value_date)
        return FMT_SCF_FINANCED;
    if (fncd)
        return FMT_SCF_APPROVED;
    return has_terms(r) ? FMT_SCF_UNDER_REVIEW : FMT_SCF_SUBMITTED;
}

static void result(struct tw *w, const struct fmt_scf_status_report *r,
                   size_t i)
{
    const struct fmt_scf_invoice_result *x = &r->invoices[i];
    open_i(w, "InvcFincgDtls", i + 1);
    open_el(w, "OrgnlInvcInf");
    text_req(w, "DocNb", x->number, 35, "the invoice number");
    if (!x->invoice_amount.ccy[0])
        fail(w, H2H_EINVALID, "TtlInvcAmt",
             "tsin.002 repeats the invoice amount, which the report lacks "
             "(fmt_tsin002_complete fills it from the request)");
    amount(w, "TtlInvcAmt", &x->invoice_amount);
    date(w, "IsseDt", x->issue_date, "the invoice's issue date");
    date(w, "PmtDueDt", x->due_date, "the invoice's due date");
    close_el(w);
    if (!party_empty(&x->seller))
        party8(w, "Spplr", &x->seller);
    open_el(w, "InvcFincgRslt");
    if ((unsigned)x->result >= FMT_SCF_ITEM__COUNT)
        fail(w, H2H_EINVALID, "FincgReqSts", "unknown item result %d",
             (int)x->result);
    raw(w, "FincgReqSts", fmt_scf_item_iso(x->result));
    reason(w, &x->reason);
    if (x->financed.ccy[0] && x->financed_rate >= 0)
        fail(w, H2H_EINVALID, "FincdAmt",
             "the financed part is an amount or a rate, not both");
    if (x->financed.ccy[0] || x->financed_rate >= 0) {
        open_el(w, "FincdAmt");
        if (x->financed.ccy[0])
            amount(w, "Amt", &x->financed);
        else
            rate(w, "Rate", x->financed_rate);
        close_el(w);
    }
    close_el(w);
    close_el(w);
}

static void financing(struct tw *w, const struct fmt_scf_status_report *r)
{
    open_el(w, "FincgInfAndSts");
    open_el(w, "FincgAllwdSummry");
    if (r->n_invoices == 0)
        fail(w, H2H_EINVALID, "InvcFincgDtls",
             "tsin.002 gives financing terms only with invoice results "
             "(fmt_tsin002_complete derives them from the request)");
    if (r->n_financed_items < 0 || !r->accepted_total.ccy[0])
        fail(w, H2H_EINVALID,
             r->n_financed_items < 0 ? "FincdItmNb" : "TtlAccptdItmsAmt",
             "tsin.002 needs the number and total of accepted items "
             "(fmt_tsin002_complete derives them from the request)");
    if (r->n_financed_items > 999999999999999LL)
        fail(w, H2H_EINVALID, "FincdItmNb", "more than 15 digits");
    number(w, "FincdItmNb", r->n_financed_items);
    amount(w, "TtlAccptdItmsAmt", &r->accepted_total);
    if (r->applied_pctg >= 0)
        rate(w, "ApldPctg", r->applied_pctg);
    if (r->financed.ccy[0] && r->financed.minor == 0)
        fail(w, H2H_EINVALID, "TtlFincdAmt",
             "a financed amount of 0 is written as absent: leave it "
             "absent");
    /* Mandatory in tsin: nothing financed (yet) is 0, read back as
     * absent. */
    struct fmt_amount none = {0};
    memcpy(none.ccy, r->accepted_total.ccy, sizeof(none.ccy));
    amount(w, "TtlFincdAmt", r->financed.ccy[0] ? &r->financed : &none);
    if (r->value_date || r->maturity_date || r->book_date) {
        if (!r->value_date)
            fail(w, H2H_EINVALID, "FincgDtDtls/CdtDt",
                 "tsin.002 gives a maturity or booking date only with the "
                 "value date");
        open_el(w, "FincgDtDtls");
        if (r->book_date)
            date(w, "BookDt", r->book_date, "the booking date");
        date(w, "CdtDt", r->value_date, "the value date");
        if (r->maturity_date)
            date(w, "DbtDt", r->maturity_date, "the maturity date");
        close_el(w);
    }
    account(w, "CdtAcct", &r->credit_acct);
    account(w, "FincgAcct", &r->financing_acct);
    close_el(w);
    for (size_t i = 0; i < r->n_invoices && !w->failed; i++)
        result(w, r, i);
    close_el(w);
}

int fmt_tsin002_write(FILE *out, const struct fmt_scf_status_report *r,
                      struct h2h_err *err)
{
    struct tw w;
    if (!out || !r)
        return h2h_err_set(err, H2H_EINVALID, "no output or report");
    begin(&w, "tsin.002.001.01", "InvcFincgReqSts");
    if ((unsigned)r->status >= FMT_SCF_STATUS__COUNT)
        fail(&w, H2H_EINVALID, NULL, "unknown status %d", (int)r->status);
    enum fmt_scf_status d = derived_status(r);
    if (!w.failed && d != r->status)
        fail(&w, H2H_EINVALID, NULL,
             "status %s cannot be said in tsin.002: this report would read "
             "as %s (see tsin.h)",
             fmt_scf_status_name(r->status), fmt_scf_status_name(d));
    if (r->n_invoices > FMT_TSIN_MAX_INVOICES)
        fail(&w, H2H_EINVALID, "InvcFincgDtls", "more than %d invoices",
             FMT_TSIN_MAX_INVOICES);
    open_el(&w, "StsId");
    text_req(&w, "Id", r->status_id, 35, "the status id");
    date_time(&w, "CreDtTm", r->cre_dt_tm, "the creation time");
    close_el(&w);

    open_el(&w, "OrgnlReqInfAndSts");
    text_req(&w, "Id", r->orgnl_request_id, 35, "the original request id");
    date_time(&w, "CreDtTm", r->orgnl_cre_dt_tm,
              "the original request's creation time");
    open_el(&w, "VldtnStsInf");
    raw(&w, "Sts",
        r->status == FMT_SCF_REJECTED && r->n_invoices == 0 ? "RCER" : "RCCF");
    reason(&w, &r->reason);
    close_el(&w);
    if (r->cancel_answer != FMT_SCF_CXL_NONE) {
        open_el(&w, "CxlStsInf");
        if (r->cancel_answer == FMT_SCF_CXL_ACCEPTED)
            raw(&w, "Sts", "PACK");
        else if (r->cancel_answer == FMT_SCF_CXL_REFUSED)
            raw(&w, "Sts", "REJT");
        else
            fail(&w, H2H_EINVALID, "Sts", "unknown cancellation answer %d",
                 (int)r->cancel_answer);
        reason(&w, &r->cancel_reason);
        close_el(&w);
    } else if (r->cancel_reason.code || r->cancel_reason.prtry ||
               r->cancel_reason.addtl_info) {
        fail(&w, H2H_EINVALID, "CxlStsInf",
             "a cancellation reason without a cancellation answer");
    }
    close_el(&w);
    if (has_terms(r))
        financing(&w, r);
    return finish(&w, out, err);
}

/* ---- tsin.003 ----------------------------------------------------------- */

int fmt_tsin003_write(FILE *out, const struct fmt_scf_cancel *c,
                      struct h2h_err *err)
{
    struct tw w;
    if (!out || !c)
        return h2h_err_set(err, H2H_EINVALID, "no output or cancellation");
    begin(&w, "tsin.003.001.01", "InvcFincgCxlReq");
    open_el(&w, "CxlReqId");
    text_req(&w, "Id", c->cancel_id, 35, "the cancellation id");
    date_time(&w, "CreDtTm", c->cre_dt_tm, "the creation time");
    close_el(&w);
    open_el(&w, "CxlReqInf");
    text_req(&w, "OrgnlGrpId", c->orgnl_request_id, 35,
             "the original request id");
    date_time(&w, "OrgnlCreDtTm", c->orgnl_cre_dt_tm,
              "the original request's creation time");
    if (c->nb_of_invoices >= 0)
        number(&w, "NbOfInvcReqs", c->nb_of_invoices);
    if (c->total_invoice_amount.ccy[0])
        amount(&w, "TtlBlkInvcAmt", &c->total_invoice_amount);
    text_req(&w, "CxlRsn", c->reason, 105, "the cancellation reason");
    if (!party_empty(&c->requestor)) {
        open_el(&w, "FincgRqstr");
        party25(&w, "PtyId", &c->requestor);
        close_el(&w);
    }
    if (!agent_empty(&c->bank))
        agent(&w, "FrstAgt", &c->bank);
    close_el(&w);
    return finish(&w, out, err);
}

/* ---- fmt_tsin002_complete ----------------------------------------------- */

static int streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static int same_party(const struct fmt_party *a, const struct fmt_party *b)
{
    return streq(a->name, b->name) && streq(a->org_bic, b->org_bic) &&
           streq(a->org_id, b->org_id) &&
           streq(a->org_id_scheme, b->org_id_scheme) &&
           streq(a->prvt_id, b->prvt_id);
}

/* The invoice of req a result is about: same number, and the same seller
 * when both name one.  -1 when none. */
static long find_invoice(const struct fmt_scf_request *req,
                         const struct fmt_scf_invoice_result *x)
{
    for (size_t i = 0; i < req->n_invoices; i++) {
        const struct fmt_scf_invoice *iv = &req->invoices[i];
        if (!streq(iv->number, x->number))
            continue;
        if (!party_empty(&x->seller) && !party_empty(&iv->seller) &&
            !same_party(&x->seller, &iv->seller))
            continue;
        return (long)i;
    }
    return -1;
}

static int dup_to(char **dst, const char *src)
{
    *dst = NULL;
    return src && !(*dst = strdup(src)) ? H2H_ENOMEM : 0;
}

static int party_dup(struct fmt_party *d, const struct fmt_party *s)
{
    int rc = 0;
    memset(d, 0, sizeof(*d));
    rc |= dup_to(&d->name, s->name);
    rc |= dup_to(&d->org_bic, s->org_bic);
    rc |= dup_to(&d->org_id, s->org_id);
    rc |= dup_to(&d->org_id_scheme, s->org_id_scheme);
    rc |= dup_to(&d->prvt_id, s->prvt_id);
    rc |= dup_to(&d->ctry_of_res, s->ctry_of_res);
    rc |= dup_to(&d->addr.dept, s->addr.dept);
    rc |= dup_to(&d->addr.street, s->addr.street);
    rc |= dup_to(&d->addr.building, s->addr.building);
    rc |= dup_to(&d->addr.postcode, s->addr.postcode);
    rc |= dup_to(&d->addr.town, s->addr.town);
    rc |= dup_to(&d->addr.subdivision, s->addr.subdivision);
    rc |= dup_to(&d->addr.country, s->addr.country);
    for (size_t i = 0; i < 7; i++)
        rc |= dup_to(&d->addr.lines[i], s->addr.lines[i]);
    if (rc) {
        fmt_party_release(d);
        return H2H_ENOMEM;
    }
    return 0;
}

int fmt_tsin002_complete(struct fmt_scf_status_report *rep,
                         const struct fmt_scf_request *req, struct h2h_err *err)
{
    if (!rep || !req)
        return h2h_err_set(err, H2H_EINVALID, "no report or request");
    if (!streq(rep->orgnl_request_id, req->request_id))
        return h2h_err_set(
            err, H2H_EINVALID, "the report answers request %s, not %s",
            rep->orgnl_request_id ? rep->orgnl_request_id : "(none)",
            req->request_id ? req->request_id : "(none)");
    /* Work on a copy of the results array so that a failure changes
     * nothing: new strings go into `fresh`, committed at the end. */
    int synth = rep->n_invoices == 0 && has_terms(rep);
    size_t n = synth ? req->n_invoices : rep->n_invoices;
    struct fmt_scf_invoice_result *fresh = NULL;
    long *which = NULL;
    int rc = 0;
    if (n == 0)
        goto derive;
    fresh = calloc(n, sizeof(*fresh));
    which = calloc(n, sizeof(*which));
    if (!fresh || !which) {
        rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        fmt_scf_invoice_result_init(&fresh[i]);
        if (synth) {
            which[i] = (long)i;
            continue;
        }
        which[i] = find_invoice(req, &rep->invoices[i]);
        if (which[i] < 0) {
            rc = h2h_err_set(err, H2H_ENOTFOUND,
                             "invoice %s of the report is not in request %s",
                             rep->invoices[i].number ? rep->invoices[i].number
                                                     : "(no number)",
                             req->request_id);
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct fmt_scf_invoice *iv = &req->invoices[which[i]];
        const struct fmt_scf_invoice_result *x =
            synth ? NULL : &rep->invoices[i];
        if ((synth || !x->issue_date) &&
            dup_to(&fresh[i].issue_date, iv->issue_date) < 0)
            goto nomem;
        if ((synth || !x->due_date) &&
            dup_to(&fresh[i].due_date, iv->due_date) < 0)
            goto nomem;
        if (synth && (dup_to(&fresh[i].number, iv->number) < 0 ||
                      party_dup(&fresh[i].seller, &iv->seller) < 0))
            goto nomem;
    }
    /* Commit: nothing below can fail. */
    for (size_t i = 0; i < n; i++) {
        const struct fmt_scf_invoice *iv = &req->invoices[which[i]];
        if (synth) {
            enum fmt_scf_status s = rep->status;
            fresh[i].result = s == FMT_SCF_APPROVED || s == FMT_SCF_FINANCED
                                  ? FMT_SCF_ITEM_ACCEPTED
                              : s == FMT_SCF_REJECTED ? FMT_SCF_ITEM_REJECTED
                                                      : FMT_SCF_ITEM_PENDING;
            fresh[i].invoice_amount = iv->amount;
            continue;
        }
        struct fmt_scf_invoice_result *x = &rep->invoices[i];
        if (!x->invoice_amount.ccy[0])
            x->invoice_amount = iv->amount;
        if (fresh[i].issue_date) {
            x->issue_date = fresh[i].issue_date;
            fresh[i].issue_date = NULL;
        }
        if (fresh[i].due_date) {
            x->due_date = fresh[i].due_date;
            fresh[i].due_date = NULL;
        }
    }
    if (synth) {
        free(rep->invoices);
        rep->invoices = fresh;
        rep->n_invoices = n;
        fresh = NULL;
    }
derive:
    /* Only a report that has invoice results gets a summary of them:
     * inventing an empty one would turn a bare acknowledgement into one
     * with financing terms. */
    if (rep->n_invoices > 0 &&
        (rep->n_financed_items < 0 || !rep->accepted_total.ccy[0])) {
        int64_t k = 0, sum = 0;
        for (size_t i = 0; i < rep->n_invoices; i++)
            if (rep->invoices[i].result == FMT_SCF_ITEM_ACCEPTED) {
                k++;
                sum += rep->invoices[i].invoice_amount.minor;
            }
        if (rep->n_financed_items < 0)
            rep->n_financed_items = k;
        if (!rep->accepted_total.ccy[0]) {
            rep->accepted_total.minor = sum;
            memcpy(rep->accepted_total.ccy, req->ccy,
                   sizeof(rep->accepted_total.ccy));
        }
    }
    goto out;
nomem:
    rc = h2h_err_set(err, H2H_ENOMEM, "out of memory");
out:
    for (size_t i = 0; fresh && i < n; i++)
        fmt_scf_invoice_result_release(&fresh[i]);
    free(fresh);
    free(which);
    return rc;
}
