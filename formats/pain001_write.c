/*
 * pain001_write.c - streaming pain.001.001.03 / .09 writer; see pain001.h.
 *
 * Every value is checked against what the official XSD accepts (length in
 * characters, code lists, BIC/IBAN/currency patterns) before it is
 * written, so a file that would not validate is never produced: the first
 * violation stops the writer with a message naming the element path.
 * Codes the model keeps without saying whether they were Cd or Prtry are
 * written as Cd when the code list allows them, else as Prtry.
 */
#include "pain001.h"

#include <stdlib.h>
#include <string.h>

#include "amount.h"
#include "ident.h"

#define W_MAX_DEPTH 16

struct fmt_pain001_writer {
    FILE *out;
    struct fmt_pain001_opts o;
    struct h2h_err err;
    int failed;
    int state; /* 0 new, 1 document open, 2 group open, 3 done */
    const char *stack[W_MAX_DEPTH];
    int depth;
    long n_grp, n_tx;
};

enum { ST_NEW, ST_DOC, ST_GRP, ST_DONE };

/* ---- errors with the element path ------------------------------------- */

static int fail(struct fmt_pain001_writer *w, int code, const char *tag,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct fmt_pain001_writer *w, int code, const char *tag,
                const char *fmt, ...)
{
    if (w->failed)
        return w->err.code;
    char path[512];
    size_t n = 0;
    path[0] = '\0';
    for (int i = 2; i < w->depth && n < sizeof(path); i++) {
        const char *s = w->stack[i];
        if (!strcmp(s, "PmtInf"))
            n += snprintf(path + n, sizeof(path) - n, "%sPmtInf[%ld]",
                          n ? "/" : "", w->n_grp);
        else if (!strcmp(s, "CdtTrfTxInf"))
            n += snprintf(path + n, sizeof(path) - n, "%sCdtTrfTxInf[%ld]",
                          n ? "/" : "", w->n_tx);
        else
            n += snprintf(path + n, sizeof(path) - n, "%s%s", n ? "/" : "", s);
    }
    if (tag && n < sizeof(path))
        snprintf(path + n, sizeof(path) - n, "%s%s", n ? "/" : "", tag);
    char msg[H2H_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    w->failed = 1;
    return h2h_err_set(&w->err, code, "%s: %s", path, msg);
}

/* ---- low-level output --------------------------------------------------- */

/* Output goes through stdio in whole runs, never a character or a
 * printf format at a time: on a million transactions the per-call cost of
 * stdio was most of the writer's time. */
static void indent(struct fmt_pain001_writer *w)
{
    static const char sp[] = "                                "; /* 32 */
    size_t n = 2 * (size_t)w->depth;
    for (; n > sizeof(sp) - 1; n -= sizeof(sp) - 1)
        fwrite(sp, 1, sizeof(sp) - 1, w->out);
    fwrite(sp, 1, n, w->out);
}

/* "<tag>" or "</tag>" (close), then "\n" when nl. */
static void tag_out(FILE *f, const char *tag, int close, int nl)
{
    fputs(close ? "</" : "<", f);
    fputs(tag, f);
    fputs(nl ? ">\n" : ">", f);
}

static int open_el(struct fmt_pain001_writer *w, const char *tag)
{
    if (w->depth >= W_MAX_DEPTH)
        H2H_BUG("pain001 writer nesting");
    indent(w);
    tag_out(w->out, tag, 0, 1);
    w->stack[w->depth++] = tag;
    return 0;
}

static void close_el(struct fmt_pain001_writer *w)
{
    w->depth--;
    indent(w);
    tag_out(w->out, w->stack[w->depth], 1, 1);
}

static void put_escaped(FILE *f, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *e;
        switch (*s) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\r': e = "&#13;"; break;
        default: continue;
        }
        fwrite(run, 1, (size_t)(s - run), f);
        fputs(e, f);
        run = s + 1;
    }
    fwrite(run, 1, (size_t)(s - run), f);
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int is_sepa(const struct fmt_pain001_writer *w)
{
    return w->o.market_practice == FMT_PAIN001_MP_SEPA;
}

/* Free text: UTF-8, no control characters, SEPA set when asked,
 * 1..maxlen characters. */
static int leaf_text(struct fmt_pain001_writer *w, const char *tag,
                     const char *v, size_t maxlen)
{
    char *t = NULL;
    if (w->failed)
        return w->err.code;
    if (!v || !*v)
        return 0;
    if (!fmt_utf8_valid(v, strlen(v)))
        return fail(w, H2H_ECHARSET, tag, "text is not valid UTF-8");
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
            return fail(w, H2H_ECHARSET, tag,
                        "control character 0x%02x cannot be written in XML",
                        (unsigned char)*p);
    if (is_sepa(w) && !fmt_sepa_charset_ok(v)) {
        if (!w->o.transliterate)
            return fail(w, H2H_ECHARSET, tag,
                        "\"%.60s\" has characters outside the SEPA character "
                        "set (enable transliteration to convert them)",
                        v);
        t = fmt_sepa_transliterate(v);
        if (!t)
            return fail(w, H2H_ENOMEM, tag, "out of memory");
        v = t;
    }
    if (utf8_chars(v) > maxlen) {
        fail(w, H2H_EINVALID, tag, "\"%.60s\" is longer than %zu characters", v,
             maxlen);
        free(t);
        return w->err.code;
    }
    indent(w);
    tag_out(w->out, tag, 0, 0);
    put_escaped(w->out, v);
    tag_out(w->out, tag, 1, 1);
    free(t);
    return 0;
}

/* A value already checked against its pattern. */
static int leaf_raw(struct fmt_pain001_writer *w, const char *tag,
                    const char *v)
{
    if (w->failed)
        return w->err.code;
    indent(w);
    tag_out(w->out, tag, 0, 0);
    put_escaped(w->out, v);
    tag_out(w->out, tag, 1, 1);
    return 0;
}

static int in_list(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(v, *list))
            return 1;
    return 0;
}

static int all_of(const char *s, size_t from, size_t to, const char *set)
{
    for (size_t i = from; i < to; i++)
        if (!s[i] || !strchr(set, s[i]))
            return 0;
    return 1;
}

#define UP "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIG "0123456789"

/* BIC as the target XSD defines it: .03 BICIdentifier/AnyBICIdentifier
 * [A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?, .09 Dec2014
 * [A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?. */
static int bic_ok(const struct fmt_pain001_writer *w, const char *b)
{
    size_t n = strlen(b);
    if (n != 8 && n != 11)
        return 0;
    if (n == 11 && !all_of(b, 8, 11, UP DIG))
        return 0;
    if (w->o.version == 3)
        return all_of(b, 0, 6, UP) && all_of(b, 6, 7, UP "23456789") &&
               all_of(b, 7, 8, "ABCDEFGHIJKLMNPQRSTUVWXYZ" DIG);
    return all_of(b, 0, 4, UP DIG) && all_of(b, 4, 6, UP) &&
           all_of(b, 6, 8, UP DIG);
}

static int leaf_bic(struct fmt_pain001_writer *w, const char *tag,
                    const char *v)
{
    if (!v || !*v)
        return 0;
    if (!bic_ok(w, v))
        return fail(w, H2H_EINVALID, tag, "\"%.40s\" is not a valid BIC", v);
    return leaf_raw(w, tag, v);
}

static int leaf_iban(struct fmt_pain001_writer *w, const char *tag,
                     const char *v)
{
    size_t n = strlen(v);
    if (n < 5 || n > 34 || !all_of(v, 0, 2, UP) || !all_of(v, 2, 4, DIG) ||
        !all_of(v, 4, n, UP DIG "abcdefghijklmnopqrstuvwxyz"))
        return fail(w, H2H_EINVALID, tag, "\"%.40s\" is not an IBAN", v);
    return leaf_raw(w, tag, v);
}

static int leaf_country(struct fmt_pain001_writer *w, const char *tag,
                        const char *v)
{
    if (!v || !*v)
        return 0;
    if (strlen(v) != 2 || !all_of(v, 0, 2, UP))
        return fail(w, H2H_EINVALID, tag, "\"%.20s\" is not a country code", v);
    return leaf_raw(w, tag, v);
}

static int leaf_ccy(struct fmt_pain001_writer *w, const char *tag,
                    const char *v)
{
    if (!v || !*v)
        return 0;
    if (strlen(v) != 3 || !all_of(v, 0, 3, UP))
        return fail(w, H2H_EINVALID, tag, "\"%.20s\" is not a currency code",
                    v);
    return leaf_raw(w, tag, v);
}

static int leaf_enum(struct fmt_pain001_writer *w, const char *tag,
                     const char *v, const char *const *list)
{
    if (!v || !*v)
        return 0;
    if (!in_list(v, list))
        return fail(w, H2H_EINVALID, tag, "\"%.20s\" is not an allowed code",
                    v);
    return leaf_raw(w, tag, v);
}

static int leaf_date(struct fmt_pain001_writer *w, const char *tag,
                     const char *v)
{
    struct h2h_err e = {0};
    if (!v || !*v)
        return 0;
    if (fmt_date_check(v, &e) < 0)
        return fail(w, H2H_EINVALID, tag, "%s", e.msg);
    return leaf_raw(w, tag, v);
}

/* <tag><Cd>v</Cd></tag> when v fits the external code list (1..maxcd
 * characters, or in list), else <tag><Prtry>v</Prtry></tag>. */
static int cd_or_prtry(struct fmt_pain001_writer *w, const char *tag,
                       const char *v, size_t maxcd, const char *const *list,
                       size_t maxprtry)
{
    if (!v || !*v || w->failed)
        return w->failed ? w->err.code : 0;
    int cd = list ? in_list(v, list) : strlen(v) <= maxcd;
    open_el(w, tag);
    if (cd)
        leaf_raw(w, "Cd", v);
    else
        leaf_text(w, "Prtry", v, maxprtry);
    close_el(w);
    return w->failed ? w->err.code : 0;
}

/* ---- building blocks ---------------------------------------------------- */

static int has_addr(const struct fmt_postal *p)
{
    return p->dept || p->street || p->building || p->postcode || p->town ||
           p->subdivision || p->country || p->lines[0];
}

static int postal(struct fmt_pain001_writer *w, const struct fmt_postal *p)
{
    if (!has_addr(p))
        return 0;
    open_el(w, "PstlAdr");
    leaf_text(w, "Dept", p->dept, 70);
    leaf_text(w, "StrtNm", p->street, 70);
    leaf_text(w, "BldgNb", p->building, 16);
    leaf_text(w, "PstCd", p->postcode, 16);
    leaf_text(w, "TwnNm", p->town, 35);
    leaf_text(w, "CtrySubDvsn", p->subdivision, 35);
    leaf_country(w, "Ctry", p->country);
    for (size_t i = 0; i < 7 && p->lines[i]; i++)
        leaf_text(w, "AdrLine", p->lines[i], 70);
    close_el(w);
    return w->failed ? w->err.code : 0;
}

static int party_empty(const struct fmt_party *p)
{
    return !p->name && !has_addr(&p->addr) && !p->org_bic && !p->org_id &&
           !p->prvt_id && !p->ctry_of_res;
}

static int party(struct fmt_pain001_writer *w, const char *tag,
                 const struct fmt_party *p, int mandatory)
{
    if (w->failed)
        return w->err.code;
    if (party_empty(p) && !mandatory)
        return 0;
    if (w->o.market_practice == FMT_PAIN001_MP_CGI && has_addr(&p->addr) &&
        (!p->addr.town || !p->addr.country))
        return fail(w, H2H_EINVALID, tag,
                    "CGI-MP needs a structured postal address (at least town "
                    "TwnNm and country Ctry)");
    open_el(w, tag);
    leaf_text(w, "Nm", p->name, 140);
    postal(w, &p->addr);
    if (p->org_bic || p->org_id) {
        if (p->prvt_id)
            return fail(w, H2H_EINVALID, "Id",
                        "a party is either an organisation or a private "
                        "person, not both");
        open_el(w, "Id");
        open_el(w, "OrgId");
        leaf_bic(w, w->o.version == 3 ? "BICOrBEI" : "AnyBIC", p->org_bic);
        if (p->org_id) {
            open_el(w, "Othr");
            leaf_text(w, "Id", p->org_id, 35);
            if (p->org_id_scheme) {
                open_el(w, "SchmeNm");
                if (strlen(p->org_id_scheme) <= 4)
                    leaf_text(w, "Cd", p->org_id_scheme, 4);
                else
                    leaf_text(w, "Prtry", p->org_id_scheme, 35);
                close_el(w);
            }
            close_el(w);
        }
        close_el(w);
        close_el(w);
    } else if (p->prvt_id) {
        open_el(w, "Id");
        open_el(w, "PrvtId");
        open_el(w, "Othr");
        leaf_text(w, "Id", p->prvt_id, 35);
        close_el(w);
        close_el(w);
        close_el(w);
    }
    leaf_country(w, "CtryOfRes", p->ctry_of_res);
    close_el(w);
    return w->failed ? w->err.code : 0;
}

static const char *const acct_types_03[] = {
    "CASH", "CHAR", "COMM", "TAXE", "CISH", "TRAS", "SACC", "CACC", "SVGS",
    "ONDP", "MGLD", "NREX", "MOMA", "LOAN", "SLRY", "ODFT", NULL};

static int account(struct fmt_pain001_writer *w, const char *tag,
                   const struct fmt_account *a, int mandatory)
{
    if (w->failed)
        return w->err.code;
    if (!a->iban && !a->other_id) {
        if (!mandatory && !a->ccy && !a->name && !a->type)
            return 0;
        return fail(w, H2H_EINVALID, tag,
                    "the account has neither an IBAN nor another id");
    }
    open_el(w, tag);
    open_el(w, "Id");
    if (a->iban) {
        leaf_iban(w, "IBAN", a->iban);
    } else {
        open_el(w, "Othr");
        leaf_text(w, "Id", a->other_id, 34);
        if (a->other_scheme) {
            open_el(w, "SchmeNm");
            if (strlen(a->other_scheme) <= 4)
                leaf_text(w, "Cd", a->other_scheme, 4);
            else
                leaf_text(w, "Prtry", a->other_scheme, 35);
            close_el(w);
        }
        close_el(w);
    }
    close_el(w);
    if (a->type)
        cd_or_prtry(w, "Tp", a->type, 4,
                    w->o.version == 3 ? acct_types_03 : NULL, 35);
    leaf_ccy(w, "Ccy", a->ccy);
    leaf_text(w, "Nm", a->name, 70);
    close_el(w);
    return w->failed ? w->err.code : 0;
}

static int agent(struct fmt_pain001_writer *w, const char *tag,
                 const struct fmt_agent *a, int mandatory)
{
    if (w->failed)
        return w->err.code;
    int empty = !a->bic && !a->clr_mmb_id && !a->name && !has_addr(&a->addr) &&
                !a->other_id;
    if (empty && !mandatory)
        return 0;
    open_el(w, tag);
    open_el(w, "FinInstnId");
    leaf_bic(w, w->o.version == 3 ? "BIC" : "BICFI", a->bic);
    if (a->clr_mmb_id) {
        open_el(w, "ClrSysMmbId");
        if (a->clr_sys)
            cd_or_prtry(w, "ClrSysId", a->clr_sys, 5, NULL, 35);
        leaf_text(w, "MmbId", a->clr_mmb_id, 35);
        close_el(w);
    }
    leaf_text(w, "Nm", a->name, 140);
    postal(w, &a->addr);
    if (a->other_id || empty) {
        /* an agent nobody named: the ISO convention is NOTPROVIDED */
        open_el(w, "Othr");
        leaf_text(w, "Id", a->other_id ? a->other_id : "NOTPROVIDED", 35);
        close_el(w);
    }
    close_el(w);
    close_el(w);
    return w->failed ? w->err.code : 0;
}

/* Lines joined with '\n' in the model, one element each on the wire. */
static int lines(struct fmt_pain001_writer *w, const char *tag, const char *v,
                 size_t maxlen, size_t maxn)
{
    size_t n = 0;
    while (v && *v && !w->failed) {
        const char *e = strchr(v, '\n');
        size_t len = e ? (size_t)(e - v) : strlen(v);
        char *one = strndup(v, len);
        if (!one)
            return fail(w, H2H_ENOMEM, tag, "out of memory");
        if (++n > maxn) {
            free(one);
            return fail(w, H2H_EINVALID, tag, "more than %zu lines", maxn);
        }
        leaf_text(w, tag, one, maxlen);
        free(one);
        v = e ? e + 1 : v + len;
    }
    return w->failed ? w->err.code : 0;
}

/* ---- sink callbacks ------------------------------------------------------ */

static int guard(struct fmt_pain001_writer *w, int want, const char *what)
{
    if (w->failed)
        return w->err.code;
    if (w->state != want)
        return fail(w, H2H_ESTATE, NULL, "%s called out of order", what);
    return 0;
}

static int w_begin(void *ctx, const struct fmt_pay_header *h)
{
    struct fmt_pain001_writer *w = ctx;
    struct h2h_err e = {0};
    int rc;
    if ((rc = guard(w, ST_NEW, "begin")) < 0)
        return rc;
    if (h->nb_of_txs < 0)
        return fail(w, H2H_EINVALID, "GrpHdr/NbOfTxs",
                    "the header does not declare the number of transactions, "
                    "which pain.001 requires: a totals pre-pass is needed");
    if (!h->msg_id || !*h->msg_id)
        return fail(w, H2H_EINVALID, "GrpHdr/MsgId",
                    "the message id is missing");
    if (!h->cre_dt_tm || fmt_datetime_check(h->cre_dt_tm, &e) < 0)
        return fail(w, H2H_EINVALID, "GrpHdr/CreDtTm", "%s",
                    h->cre_dt_tm ? e.msg : "the creation time is missing");
    const char *ns = w->o.version == 3 ? "pain.001.001.03" : "pain.001.001.09";
    fprintf(w->out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:%s\" "
            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n",
            ns);
    w->stack[w->depth++] = "Document";
    open_el(w, "CstmrCdtTrfInitn");
    open_el(w, "GrpHdr");
    leaf_text(w, "MsgId", h->msg_id, 35);
    leaf_raw(w, "CreDtTm", h->cre_dt_tm);
    char buf[48];
    snprintf(buf, sizeof(buf), "%lld", (long long)h->nb_of_txs);
    if (strlen(buf) > 15)
        return fail(w, H2H_EINVALID, "NbOfTxs", "more than 15 digits");
    leaf_raw(w, "NbOfTxs", buf);
    if (h->has_ctrl_sum) {
        fmt_milli_format(h->ctrl_sum_milli, buf, sizeof(buf));
        leaf_raw(w, "CtrlSum", buf);
    }
    party(w, "InitgPty", &h->initg_pty, 1);
    if (w->failed)
        return w->err.code;
    close_el(w);
    w->state = ST_DOC;
    return 0;
}

static const char *const pmt_mtds[] = {"TRF", "CHK", "TRA", NULL};
static const char *const prios[] = {"HIGH", "NORM", NULL};
static const char *const chrg_brs[] = {"DEBT", "CRED", "SHAR", "SLEV", NULL};

static int w_group_begin(void *ctx, const struct fmt_pay_group *g)
{
    struct fmt_pain001_writer *w = ctx;
    int rc;
    if ((rc = guard(w, ST_DOC, "group_begin")) < 0)
        return rc;
    w->n_grp++;
    w->n_tx = 0;
    open_el(w, "PmtInf");
    if (!g->pmt_inf_id || !*g->pmt_inf_id)
        return fail(w, H2H_EINVALID, "PmtInfId",
                    "the payment information id is missing");
    const char *svc = g->svc_lvl;
    const char *chrg = g->chrg_br;
    if (is_sepa(w)) {
        if (svc && strcmp(svc, "SEPA"))
            return fail(w, H2H_EINVALID, "PmtTpInf/SvcLvl",
                        "service level %.10s is not allowed in a SEPA credit "
                        "transfer",
                        svc);
        if (chrg && strcmp(chrg, "SLEV"))
            return fail(w, H2H_EINVALID, "ChrgBr",
                        "charge bearer %.10s is not allowed in a SEPA credit "
                        "transfer (SLEV)",
                        chrg);
        svc = "SEPA";
        chrg = "SLEV";
    }
    leaf_text(w, "PmtInfId", g->pmt_inf_id, 35);
    leaf_enum(w, "PmtMtd", g->pmt_mtd ? g->pmt_mtd : "TRF", pmt_mtds);
    if (g->batch_booking >= 0)
        leaf_raw(w, "BtchBookg", g->batch_booking ? "true" : "false");
    char buf[48];
    if (g->nb_of_txs >= 0) {
        snprintf(buf, sizeof(buf), "%lld", (long long)g->nb_of_txs);
        leaf_raw(w, "NbOfTxs", buf);
    }
    if (g->has_ctrl_sum) {
        fmt_milli_format(g->ctrl_sum_milli, buf, sizeof(buf));
        leaf_raw(w, "CtrlSum", buf);
    }
    if (g->instr_prty || svc || g->lcl_instrm || g->ctgy_purp) {
        open_el(w, "PmtTpInf");
        leaf_enum(w, "InstrPrty", g->instr_prty, prios);
        cd_or_prtry(w, "SvcLvl", svc, 4, NULL, 35);
        cd_or_prtry(w, "LclInstrm", g->lcl_instrm, 35, NULL, 35);
        cd_or_prtry(w, "CtgyPurp", g->ctgy_purp, 4, NULL, 35);
        close_el(w);
    }
    if (!g->reqd_exctn_dt)
        return fail(w, H2H_EINVALID, "ReqdExctnDt",
                    "the requested execution date is missing");
    if (w->o.version == 3) {
        leaf_date(w, "ReqdExctnDt", g->reqd_exctn_dt);
    } else {
        open_el(w, "ReqdExctnDt");
        leaf_date(w, "Dt", g->reqd_exctn_dt);
        close_el(w);
    }
    party(w, "Dbtr", &g->dbtr, 1);
    account(w, "DbtrAcct", &g->dbtr_acct, 1);
    agent(w, "DbtrAgt", &g->dbtr_agt, 1);
    party(w, "UltmtDbtr", &g->ult_dbtr, 0);
    leaf_enum(w, "ChrgBr", chrg, chrg_brs);
    if (w->failed)
        return w->err.code;
    w->state = ST_GRP;
    return 0;
}

static const char *const doc3_codes[] = {"RADM", "RPIN", "FXDR", "DISP",
                                         "PUOR", "SCOR", NULL};
static const char *const doc5_codes[] = {
    "MSIN", "CNFA", "DNFA", "CINV", "CREN", "DEBN", "HIRI", "SBIN",
    "CMCN", "SOAC", "DISP", "BOLD", "VCHR", "AROI", "TSUT", NULL};
static const char *const doc6_codes[] = {
    "MSIN", "CNFA", "DNFA", "CINV", "CREN", "DEBN", "HIRI", "SBIN", "CMCN",
    "SOAC", "DISP", "BOLD", "VCHR", "AROI", "TSUT", "PUOR", NULL};

static int strd_rmt(struct fmt_pain001_writer *w, const struct fmt_strd_rmt *s)
{
    if (!s->cdtr_ref && !s->cdtr_ref_type && !s->doc_nb && !s->doc_type &&
        !s->doc_date && !s->addtl_info)
        return 0;
    open_el(w, "Strd");
    if (s->doc_nb || s->doc_type || s->doc_date) {
        open_el(w, "RfrdDocInf");
        if (s->doc_type) {
            open_el(w, "Tp");
            cd_or_prtry(w, "CdOrPrtry", s->doc_type, 0,
                        w->o.version == 3 ? doc5_codes : doc6_codes, 35);
            close_el(w);
        }
        leaf_text(w, "Nb", s->doc_nb, 35);
        leaf_date(w, "RltdDt", s->doc_date);
        close_el(w);
    }
    if (s->cdtr_ref || s->cdtr_ref_type) {
        open_el(w, "CdtrRefInf");
        if (s->cdtr_ref_type || s->cdtr_ref_issuer) {
            open_el(w, "Tp");
            if (!s->cdtr_ref_type)
                return fail(w, H2H_EINVALID, "CdOrPrtry",
                            "a creditor reference issuer needs a type");
            cd_or_prtry(w, "CdOrPrtry", s->cdtr_ref_type, 0, doc3_codes, 35);
            leaf_text(w, "Issr", s->cdtr_ref_issuer, 35);
            close_el(w);
        }
        leaf_text(w, "Ref", s->cdtr_ref, 35);
        close_el(w);
    }
    lines(w, "AddtlRmtInf", s->addtl_info, 140, 3);
    close_el(w);
    return w->failed ? w->err.code : 0;
}

static int w_tx(void *ctx, const struct fmt_pay_group *g,
                const struct fmt_pay_tx *t)
{
    struct fmt_pain001_writer *w = ctx;
    struct h2h_err e = {0};
    int rc;
    (void)g;
    if ((rc = guard(w, ST_GRP, "tx")) < 0)
        return rc;
    w->n_tx++;
    open_el(w, "CdtTrfTxInf");
    open_el(w, "PmtId");
    leaf_text(w, "InstrId", t->instr_id, 35);
    leaf_text(w, "EndToEndId",
              t->end_to_end_id && *t->end_to_end_id ? t->end_to_end_id
                                                    : "NOTPROVIDED",
              35);
    if (t->uetr && w->o.version >= 9) {
        if (fmt_uuid_check(t->uetr, &e) < 0)
            return fail(w, H2H_EINVALID, "UETR", "%s", e.msg);
        leaf_raw(w, "UETR", t->uetr);
    }
    close_el(w);

    if (!t->amt.ccy[0] || !fmt_ccy_valid(t->amt.ccy))
        return fail(w, H2H_EINVALID, "Amt/InstdAmt",
                    "the amount has no valid currency");
    if (t->amt.minor < 0)
        return fail(w, H2H_EINVALID, "Amt/InstdAmt", "negative amount");
    if (is_sepa(w) && strcmp(t->amt.ccy, "EUR"))
        return fail(w, H2H_EINVALID, "Amt/InstdAmt",
                    "currency %s is not allowed in a SEPA credit transfer "
                    "(EUR only)",
                    t->amt.ccy);
    char amt[48];
    fmt_amount_format(t->amt.minor, t->amt.ccy, '.', amt, sizeof(amt));
    open_el(w, "Amt");
    indent(w);
    fprintf(w->out, "<InstdAmt Ccy=\"%s\">%s</InstdAmt>\n", t->amt.ccy, amt);
    close_el(w);

    if (is_sepa(w) && t->chrg_br && strcmp(t->chrg_br, "SLEV"))
        return fail(w, H2H_EINVALID, "ChrgBr",
                    "charge bearer %.10s is not allowed in a SEPA credit "
                    "transfer (SLEV)",
                    t->chrg_br);
    leaf_enum(w, "ChrgBr", t->chrg_br, chrg_brs);
    if (w->o.market_practice == FMT_PAIN001_MP_CGI && !t->cdtr_agt.bic &&
        !t->cdtr_agt.clr_mmb_id)
        return fail(w, H2H_EINVALID, "CdtrAgt",
                    "CGI-MP needs the creditor agent as a BIC or a clearing "
                    "system member id");
    agent(w, "CdtrAgt", &t->cdtr_agt, 0);
    party(w, "Cdtr", &t->cdtr, 0);
    account(w, "CdtrAcct", &t->cdtr_acct, 0);
    party(w, "UltmtCdtr", &t->ult_cdtr, 0);
    leaf_text(w, "InstrForDbtrAgt", t->instr_for_dbtr_agt, 140);
    cd_or_prtry(w, "Purp", t->purp, 4, NULL, 35);
    const struct fmt_rgltry *rg = &t->rgltry;
    if (rg->code || rg->info || rg->authority_ctry) {
        open_el(w, "RgltryRptg");
        if (rg->authority_ctry) {
            open_el(w, "Authrty");
            leaf_country(w, "Ctry", rg->authority_ctry);
            close_el(w);
        }
        if (rg->code || rg->info) {
            open_el(w, "Dtls");
            leaf_text(w, "Cd", rg->code, 10);
            lines(w, "Inf", rg->info, 35, 1000);
            close_el(w);
        }
        close_el(w);
    }
    const struct fmt_strd_rmt *s = &t->rmt_strd;
    int has_strd = s->cdtr_ref || s->cdtr_ref_type || s->doc_nb ||
                   s->doc_type || s->doc_date || s->addtl_info;
    if (t->rmt_ustrd || has_strd) {
        open_el(w, "RmtInf");
        lines(w, "Ustrd", t->rmt_ustrd, 140, 1000);
        strd_rmt(w, s);
        close_el(w);
    }
    if (w->failed)
        return w->err.code;
    close_el(w);
    return 0;
}

static int w_group_end(void *ctx, const struct fmt_pay_group *g)
{
    struct fmt_pain001_writer *w = ctx;
    int rc;
    (void)g;
    if ((rc = guard(w, ST_GRP, "group_end")) < 0)
        return rc;
    if (w->n_tx == 0)
        return fail(w, H2H_EINVALID, NULL,
                    "payment information without transactions");
    close_el(w);
    w->state = ST_DOC;
    return 0;
}

static int w_end(void *ctx, const struct fmt_pay_header *h)
{
    struct fmt_pain001_writer *w = ctx;
    int rc;
    (void)h;
    if ((rc = guard(w, ST_DOC, "end")) < 0)
        return rc;
    if (w->n_grp == 0)
        return fail(w, H2H_EINVALID, NULL,
                    "a pain.001 needs at least one payment information");
    close_el(w);
    close_el(w);
    w->state = ST_DONE;
    return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

struct fmt_pain001_writer *
fmt_pain001_writer_new(FILE *out, const struct fmt_pain001_opts *o)
{
    if (!out || !o || (o->version != 3 && o->version != 9) ||
        o->market_practice < FMT_PAIN001_MP_NONE ||
        o->market_practice > FMT_PAIN001_MP_CGI)
        return NULL;
    struct fmt_pain001_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->out = out;
    w->o = *o;
    return w;
}

struct fmt_pay_sink fmt_pain001_writer_sink(struct fmt_pain001_writer *w)
{
    struct fmt_pay_sink s = {w_begin,     w_group_begin, w_tx,
                             w_group_end, w_end,         w};
    return s;
}

int fmt_pain001_writer_finish(struct fmt_pain001_writer *w, struct h2h_err *err)
{
    if (!w)
        return h2h_err_set(err, H2H_EINVALID, "no writer");
    if (w->failed)
        return h2h_err_set(err, w->err.code, "%s", w->err.msg);
    if (w->state != ST_DONE)
        return h2h_err_set(err, H2H_ESTATE,
                           "pain.001 document was not completed");
    if (fflush(w->out) != 0 || ferror(w->out))
        return h2h_err_set(err, H2H_EIO, "writing pain.001 failed");
    return 0;
}

const struct h2h_err *
fmt_pain001_writer_error(const struct fmt_pain001_writer *w)
{
    return &w->err;
}

void fmt_pain001_writer_free(struct fmt_pain001_writer *w)
{
    free(w);
}
